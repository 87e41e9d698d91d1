//! The run's folder: the settings fingerprint that run.json records, the claim on the
//! folder, the resume of samples.jsonl, and the seed of each batch.
//!
//! Resuming: every batch is generated from its own seed (the run's seed mixed with the
//! batch number), so a batch's samples do not depend on which batches ran before. A
//! batch is appended to samples.jsonl in one write once it is complete; on start, the
//! complete batches already there are kept (a torn last line or batch is dropped) and
//! the scan continues with the next batch.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::error::{Error, IoContext, Result};
use crate::model::Model;
use crate::report::rows::SampleRow;

/// Settings that only change how the report is rendered (not the samples).
pub const RENDER_ONLY: &[&str] = &[
    "dedup_threshold",
    "top",
    "fail_on",
    "out",
    "alpha",
    "known_findings",
];

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

pub fn fingerprint(settings: &Map<String, Value>) -> String {
    let mut m = settings.clone();
    for k in RENDER_ONLY {
        m.remove(*k);
    }
    sha256_hex(Value::Object(m).to_string().as_bytes())
}

/// --out, or the newest unfinished reports/<model>-* folder of a scan with the same
/// settings, or a new reports/<model>-<UTC time>.
pub fn resolve_out(out: Option<&Path>, model: &Model, fp: &str) -> Result<PathBuf> {
    if let Some(o) = out {
        return Ok(o.to_path_buf());
    }
    let prefix = format!("{}-", crate::commands::model_stem(model));
    let mut unfinished: Vec<PathBuf> = std::fs::read_dir("reports")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
                && !p.join("report.json").exists()
                && read_run(p).is_some_and(|(f, _)| f == fp)
        })
        .collect();
    unfinished.sort();
    if let Some(p) = unfinished.pop() {
        return Ok(p);
    }
    Ok(crate::commands::default_out(model, None))
}

fn read_run(dir: &Path) -> Option<(String, Value)> {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).ok()?).ok()?;
    Some((v["fingerprint"].as_str()?.to_string(), v))
}

/// Takes the folder for this scan: writes run.json, or checks that the one there is
/// of a scan with the same settings.
pub fn claim(dir: &Path, fp: &str, settings: &Map<String, Value>) -> Result<()> {
    let path = dir.join("run.json");
    if path.exists() {
        return match read_run(dir) {
            Some((f, _)) if f == fp => Ok(()),
            Some(_) => Err(Error::file(
                dir,
                "holds a scan with other settings (run.json); choose another --out or remove it",
            )),
            None => Err(Error::file(
                &path,
                "unreadable; remove the folder or choose another --out",
            )),
        };
    }
    if dir.join("samples.jsonl").exists() {
        return Err(Error::file(
            dir,
            "holds samples.jsonl without run.json; choose another --out",
        ));
    }
    let body = serde_json::to_string_pretty(&json!({"fingerprint": fp, "settings": settings}))
        .map_err(super::json_err)?;
    std::fs::write(&path, body + "\n").with_file(&path)
}

pub fn batch_seed(seed: u64, batch: usize) -> u64 {
    let mut r = crate::stats::SplitMix(seed ^ (batch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    r.next_u64()
}

/// The complete batches already in samples.jsonl (rewriting the file without a torn
/// tail), and how many of `owned` (the batches this process runs, in the order it runs
/// them: all of them, or a shard's) they are. `batch_len(b)`: the rows batch `b` has. A
/// line that is not JSON ends what is kept (a torn write); a JSON line that is not a
/// sample row is an error: the file was changed.
pub fn resume(
    path: &Path,
    owned: &[usize],
    batch_len: impl Fn(usize) -> usize,
) -> Result<(Vec<SampleRow>, usize)> {
    let Ok(body) = std::fs::read(path) else {
        return Ok((Vec::new(), 0));
    };
    let mut by_batch: BTreeMap<usize, Vec<(SampleRow, &[u8])>> = BTreeMap::new();
    for (i, line) in body.split(|&b| b == b'\n').enumerate() {
        let Ok(v) = serde_json::from_slice::<Value>(line) else {
            break; // a torn last line (or anything after it) is dropped
        };
        let row: SampleRow = serde_json::from_value(v)
            .map_err(|e| Error::file(path, format!("line {}: not a sample row ({e})", i + 1)))?;
        by_batch.entry(row.batch).or_default().push((row, line));
    }
    let mut kept = Vec::new();
    // the kept lines byte for byte (not re-serialized)
    let mut clean = Vec::new();
    let mut done = 0;
    for &b in owned {
        let Some(rows) = by_batch.remove(&b) else {
            break;
        };
        let want = batch_len(b);
        if rows.len() != want || want == 0 {
            break;
        }
        for (v, raw) in rows {
            clean.extend_from_slice(raw);
            clean.push(b'\n');
            kept.push(v);
        }
        done += 1;
    }
    if clean != body {
        let tmp = path.with_extension("jsonl.tmp");
        std::fs::write(&tmp, &clean).with_file(&tmp)?;
        std::fs::rename(&tmp, path).with_file(path)?;
    }
    Ok((kept, done))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_seeds_differ_and_repeat() {
        assert_eq!(batch_seed(7, 3), batch_seed(7, 3));
        assert_ne!(batch_seed(7, 3), batch_seed(7, 4));
        assert_ne!(batch_seed(7, 3), batch_seed(8, 3));
    }
}
