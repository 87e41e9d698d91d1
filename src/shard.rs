//! Runs split over machines: which shard this process is (`--shard I/N`, a Slurm array
//! task, or a Kubernetes Indexed Job), which work units it owns, the manifest each shard
//! writes next to its rows, and the checks `memscan merge` makes before it joins them.
//!
//! A unit is a batch of the unsharded run's own plan (a scan's batch of prompt × sample
//! pairs, a batch of eval's scoring pass), dealt round-robin: shard I owns batches
//! I, I + N, I + 2N, …. Splitting on the unsharded run's batch boundaries keeps every
//! tensor the model sees, and every seed, what they are in one process, so a merged run
//! equals the unsharded one sample for sample and digit for digit.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, IoContext, Result};
use crate::report::schema::ModelIdentity;

/// The manifest's file name inside a shard's folder.
pub const MANIFEST: &str = "shard.json";
/// Version of the manifest's layout.
const MANIFEST_VERSION: u32 = 1;

/// This process's part of a sharded run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 0-based.
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// The shard from `--shard` ("I/N", or "none" to ignore the environment); without the
    /// flag, from a Slurm array task (`SLURM_ARRAY_TASK_ID`, `_MIN`, `_STEP`, `_COUNT`) or
    /// a Kubernetes Indexed Job (`JOB_COMPLETION_INDEX` with `MEMSCAN_SHARD_COUNT`).
    /// `None`: one process does the whole run.
    pub fn resolve(flag: Option<&str>) -> Result<Option<(Shard, String)>> {
        Self::resolve_with(flag, |k| std::env::var(k).ok())
    }

    fn resolve_with(
        flag: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<(Shard, String)>> {
        match flag {
            Some("none") => return Ok(None),
            Some(s) => return Ok(Some((Self::parse(s)?, "--shard".into()))),
            None => {}
        }
        let num = |k: &str| -> Result<Option<usize>> {
            match env(k) {
                None => Ok(None),
                Some(v) => v.trim().parse().map(Some).map_err(|_| {
                    Error::input(format!("{k}={v}: not a whole number (or pass --shard)"))
                }),
            }
        };
        if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
            let count = num("SLURM_ARRAY_TASK_COUNT")?.ok_or_else(|| {
                Error::input(
                    "SLURM_ARRAY_TASK_ID is set without SLURM_ARRAY_TASK_COUNT; pass --shard I/N",
                )
            })?;
            let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let step = num("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1).max(1);
            let off = id.checked_sub(min).filter(|o| o % step == 0);
            let shard = off.map(|o| Shard {
                index: o / step,
                count,
            });
            return match shard {
                Some(s) if s.index < s.count => Ok(Some((s, "SLURM_ARRAY_TASK_ID".into()))),
                _ => Err(Error::input(format!(
                    "Slurm array task {id} (min {min}, step {step}, count {count}) is not one of an evenly spaced array; submit --array=0-{} or pass --shard I/N",
                    count.saturating_sub(1)
                ))),
            };
        }
        if let Some(index) = num("JOB_COMPLETION_INDEX")? {
            let count = num("MEMSCAN_SHARD_COUNT")?.ok_or_else(|| {
                Error::input("JOB_COMPLETION_INDEX is set: also set MEMSCAN_SHARD_COUNT to the Job's completions, or pass --shard I/N (--shard none: the whole run)")
            })?;
            let s = Shard { index, count };
            s.check()?;
            return Ok(Some((s, "JOB_COMPLETION_INDEX".into())));
        }
        Ok(None)
    }

    /// "I/N" with 0 ≤ I < N.
    pub fn parse(s: &str) -> Result<Shard> {
        let bad = || {
            Error::input(format!(
                "--shard {s}: expected I/N with 0 ≤ I < N, e.g. 0/4"
            ))
        };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let shard = Shard {
            index: i.trim().parse().map_err(|_| bad())?,
            count: n.trim().parse().map_err(|_| bad())?,
        };
        shard.check().map_err(|_| bad())?;
        Ok(shard)
    }

    fn check(&self) -> Result<()> {
        if self.count == 0 || self.index >= self.count {
            return Err(Error::input(format!(
                "shard {}/{}: the index must be below the count",
                self.index, self.count
            )));
        }
        Ok(())
    }

    /// The units of `0..total` this shard owns, in order.
    pub fn units(&self, total: usize) -> Vec<usize> {
        (self.index..total).step_by(self.count).collect()
    }

    /// `shard-0003-of-0016`: the shard's folder inside the run's `--out`.
    pub fn folder(&self) -> String {
        format!("shard-{:04}-of-{:04}", self.index, self.count)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// What a shard's folder holds: which run it belongs to, which part it did, and whether
/// that part is finished. Written when the shard starts (`complete: false`) and again
/// when it ends.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub manifest_version: u32,
    /// `scan` or `eval`.
    pub kind: String,
    /// memscan's version that wrote the shard.
    pub tool_version: String,
    /// SHA-256 of the run's settings (the same in every shard of a run).
    pub fingerprint: String,
    /// The run's settings (what the fingerprint is of; the merge names those that differ).
    pub settings: Map<String, Value>,
    /// The model the run scored with (none for an index build).
    pub model: Option<ModelIdentity>,
    pub shard: Shard,
    /// What a unit is (`batch of prompt × sample`, `batch of texts`).
    pub unit: String,
    /// Units in the whole run.
    pub units_total: usize,
    /// The units this shard owns.
    pub units_owned: usize,
    /// Of those, the ones finished.
    pub units_done: usize,
    pub complete: bool,
    /// Seconds this shard's processes spent on its units, summed over resumes.
    pub seconds: f64,
    /// Tokens generated (scan) or scored (eval) by this shard.
    pub tokens: usize,
}

impl Manifest {
    fn new(
        kind: &str,
        fingerprint: &str,
        settings: &Map<String, Value>,
        model: Option<ModelIdentity>,
        shard: Shard,
    ) -> Self {
        Manifest {
            manifest_version: MANIFEST_VERSION,
            kind: kind.into(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            fingerprint: fingerprint.into(),
            settings: settings.clone(),
            model,
            shard,
            unit: String::new(),
            units_total: 0,
            units_owned: 0,
            units_done: 0,
            complete: false,
            seconds: 0.0,
            tokens: 0,
        }
    }

    /// The manifest of shard folder `dir` for a `kind` run with these settings: the one
    /// there (a resumed shard: it keeps its seconds and tokens), else a new one. A folder
    /// that holds a shard of another run is refused.
    pub fn resume_or_new(
        dir: &Path,
        kind: &str,
        settings: &Map<String, Value>,
        model: Option<ModelIdentity>,
        shard: Shard,
    ) -> Result<Manifest> {
        let fp = fingerprint(kind, settings);
        match Manifest::read(dir)? {
            Some(m) if m.fingerprint == fp && m.kind == kind && m.shard == shard => Ok(m),
            Some(m) => Err(Error::file(
                dir,
                format!(
                    "holds shard {} of a {} run with other settings; choose another --out or remove it",
                    m.shard, m.kind
                ),
            )),
            None => Ok(Manifest::new(kind, &fp, settings, model, shard)),
        }
    }

    /// The manifest in `dir`, if there is one.
    pub fn read(dir: &Path) -> Result<Option<Manifest>> {
        let path = dir.join(MANIFEST);
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(None);
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| Error::file(&path, format!("not a memscan shard manifest ({e})")))
    }

    pub fn write(&self, dir: &Path) -> Result<()> {
        let v = serde_json::to_value(self).map_err(|e| Error::internal(format!("JSON: {e}")))?;
        crate::report::folder::write_json(&dir.join(MANIFEST), &v)
    }
}

/// The settings' fingerprint for a run of `kind`: a scan leaves out its render-only
/// settings (the merge re-renders with shard 0's); every other kind hashes them all (a
/// forget-check's α sets its verdicts).
pub fn fingerprint(kind: &str, settings: &Map<String, Value>) -> String {
    if kind == "scan" {
        crate::scan::state::fingerprint(settings)
    } else {
        crate::scan::state::sha256_hex(Value::Object(settings.clone()).to_string().as_bytes())
    }
}

/// The folder a sharded run's shard writes in: `OUT/shard-I-of-N`. A sharded run needs
/// `--out`: every shard of the run is given the same one.
pub fn shard_dir(out: Option<&Path>, shard: Shard, command: &str) -> Result<PathBuf> {
    match out {
        Some(o) => Ok(o.join(shard.folder())),
        None => Err(Error::input(format!(
            "{command} as shard {shard}: give --out DIR, the same for every shard; each writes DIR/{} and `memscan merge DIR` joins them",
            shard.folder()
        ))),
    }
}

/// How many of `owned` units (in the order the shard runs them) the JSON Lines file
/// `path` already holds whole, unit `u` being `unit_lines(u)` lines; the file is cut back
/// to exactly their lines (a torn line or a partial unit after them is dropped).
pub fn resume_lines(
    path: &Path,
    owned: &[usize],
    unit_lines: impl Fn(usize) -> usize,
) -> Result<usize> {
    let Ok(body) = std::fs::read(path) else {
        return Ok(0);
    };
    let mut ends = Vec::new(); // byte offset after each whole JSON line
    let mut at = 0;
    for line in body.split_inclusive(|&b| b == b'\n') {
        if !line.ends_with(b"\n") || serde_json::from_slice::<Value>(line).is_err() {
            break;
        }
        at += line.len();
        ends.push(at);
    }
    let (mut done, mut lines) = (0, 0);
    for &w in owned {
        let n = unit_lines(w);
        if lines + n > ends.len() {
            break;
        }
        lines += n;
        done += 1;
    }
    let keep = if lines == 0 { 0 } else { ends[lines - 1] };
    if keep != body.len() {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .with_file(path)?;
        f.set_len(keep as u64).with_file(path)?;
    }
    Ok(done)
}

/// One shard found by `memscan merge`.
pub struct Found {
    pub dir: PathBuf,
    pub manifest: Manifest,
}

impl Found {
    /// The model of a shard of a run that loads one.
    pub fn model(&self) -> Result<ModelIdentity> {
        self.manifest
            .model
            .clone()
            .ok_or_else(|| Error::file(&self.dir.join(MANIFEST), "names no model"))
    }
}

/// The shard folders named by `dirs`: each is a shard's folder (it holds shard.json) or
/// a run's `--out` holding `shard-*` folders. Checks that they are the N shards of one
/// run, each complete, written by this memscan version; the message names what differs.
pub fn collect(dirs: &[PathBuf]) -> Result<Vec<Found>> {
    let mut found: Vec<Found> = Vec::new();
    for d in dirs {
        if !d.is_dir() {
            return Err(Error::file(d, "not a folder"));
        }
        if let Some(m) = Manifest::read(d)? {
            found.push(Found {
                dir: d.clone(),
                manifest: m,
            });
            continue;
        }
        let mut inner: Vec<PathBuf> = std::fs::read_dir(d)
            .with_file(d)?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join(MANIFEST).is_file())
            .collect();
        if inner.is_empty() {
            return Err(Error::file(
                d,
                format!("holds no shard ({MANIFEST}, or shard-* folders with one)"),
            ));
        }
        inner.sort();
        for p in inner {
            if let Some(m) = Manifest::read(&p)? {
                found.push(Found {
                    dir: p,
                    manifest: m,
                });
            }
        }
    }
    check(&found)?;
    found.sort_by_key(|f| f.manifest.shard.index);
    Ok(found)
}

fn check(found: &[Found]) -> Result<()> {
    let Some(first) = found.first() else {
        return Err(Error::input("merge: no shards given"));
    };
    let f0 = &first.manifest;
    for f in found {
        let m = &f.manifest;
        let differs = |what: &str, a: &str, b: &str| {
            Err(Error::file(
                &f.dir,
                format!(
                    "{what} differs from {}'s ({b} here, {a} there): not a shard of the same run",
                    first.dir.display()
                ),
            ))
        };
        if m.manifest_version != MANIFEST_VERSION || m.tool_version != env!("CARGO_PKG_VERSION") {
            return Err(Error::file(
                &f.dir,
                format!(
                    "written by memscan {} (manifest v{}); this is memscan {}: rerun the shard with this version",
                    m.tool_version,
                    m.manifest_version,
                    env!("CARGO_PKG_VERSION")
                ),
            ));
        }
        if m.kind != f0.kind {
            return differs("the kind of run", &f0.kind, &m.kind);
        }
        let sha = |m: &Manifest| {
            m.model
                .as_ref()
                .map(|i| i.sha256.clone())
                .unwrap_or_default()
        };
        if sha(m) != sha(f0) {
            return differs("the model (SHA-256)", &sha(f0), &sha(m));
        }
        if m.fingerprint != f0.fingerprint {
            let keys: Vec<String> = f0
                .settings
                .keys()
                .chain(m.settings.keys())
                .filter(|k| !crate::scan::state::RENDER_ONLY.contains(&k.as_str()))
                .filter(|k| f0.settings.get(*k) != m.settings.get(*k))
                .map(|k| {
                    let show = |v: Option<&Value>| v.map_or("unset".into(), Value::to_string);
                    format!(
                        "{k} {} here, {} there",
                        show(m.settings.get(k)),
                        show(f0.settings.get(k))
                    )
                })
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .take(4)
                .collect();
            return Err(Error::file(
                &f.dir,
                format!(
                    "a shard of another run than {} (settings differ: {})",
                    first.dir.display(),
                    if keys.is_empty() {
                        "see run.json".into()
                    } else {
                        keys.join("; ")
                    }
                ),
            ));
        }
        if m.shard.count != f0.shard.count {
            return differs(
                "the shard count",
                &f0.shard.count.to_string(),
                &m.shard.count.to_string(),
            );
        }
        if m.shard.index >= m.shard.count {
            return Err(Error::file(
                &f.dir,
                format!(
                    "shard index {} is out of range (count {})",
                    m.shard.index, m.shard.count
                ),
            ));
        }
        if m.units_owned != m.shard.units(m.units_total).len() {
            return Err(Error::file(
                &f.dir,
                format!(
                    "shard {} claims {} of {} units; it owns {}: the manifest was changed",
                    m.shard,
                    m.units_owned,
                    m.units_total,
                    m.shard.units(m.units_total).len()
                ),
            ));
        }
        if m.units_total != f0.units_total {
            return differs(
                "the number of units",
                &f0.units_total.to_string(),
                &m.units_total.to_string(),
            );
        }
        if !m.complete || m.units_done != m.units_owned {
            return Err(Error::file(
                &f.dir,
                format!(
                    "shard {} is partial ({} of {} units done): rerun it with the same command line (it resumes)",
                    m.shard, m.units_done, m.units_owned
                ),
            ));
        }
    }
    let n = f0.shard.count;
    let mut seen: Vec<Option<&Path>> = vec![None; n];
    for f in found {
        let i = f.manifest.shard.index;
        if let Some(prev) = seen[i] {
            return Err(Error::file(
                &f.dir,
                format!(
                    "shard {i}/{n} is also in {}: give each shard once",
                    prev.display()
                ),
            ));
        }
        seen[i] = Some(&f.dir);
    }
    let missing: Vec<String> = (0..n)
        .filter(|&i| seen[i].is_none())
        .map(|i| format!("{i}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(Error::input(format!(
            "merge: shard{} {} missing ({} of the {n} shards of the run in {} found)",
            if missing.len() > 1 { "s" } else { "" },
            missing.join(", "),
            found.len(),
            first.dir.parent().unwrap_or(&first.dir).display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn flag_parses_and_checks_range() {
        assert_eq!(Shard::parse("2/4").ok(), Some(Shard { index: 2, count: 4 }));
        assert!(Shard::parse("4/4").is_err());
        assert!(Shard::parse("0/0").is_err());
        assert!(Shard::parse("1").is_err());
        assert!(Shard::parse("a/b").is_err());
    }

    #[test]
    fn slurm_array_is_read_relative_to_its_first_task_and_step() {
        let vars = [
            ("SLURM_ARRAY_TASK_ID", "7"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_STEP", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ];
        let got = Shard::resolve_with(None, env(&vars)).ok().flatten();
        assert_eq!(got.map(|g| g.0), Some(Shard { index: 3, count: 4 }));
        // --shard none ignores the environment; a flag wins over it
        assert!(Shard::resolve_with(Some("none"), env(&vars))
            .ok()
            .flatten()
            .is_none());
        let flag = Shard::resolve_with(Some("0/2"), env(&vars)).ok().flatten();
        assert_eq!(flag.map(|g| g.0), Some(Shard { index: 0, count: 2 }));
        // an index past the count (a sparse array) is refused
        let sparse = [
            ("SLURM_ARRAY_TASK_ID", "9"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ];
        assert!(Shard::resolve_with(None, env(&sparse)).is_err());
    }

    #[test]
    fn indexed_job_needs_a_count() {
        let without = [("JOB_COMPLETION_INDEX", "1")];
        assert!(Shard::resolve_with(None, env(&without)).is_err());
        let with = [("JOB_COMPLETION_INDEX", "1"), ("MEMSCAN_SHARD_COUNT", "3")];
        let got = Shard::resolve_with(None, env(&with)).ok().flatten();
        assert_eq!(got.map(|g| g.0), Some(Shard { index: 1, count: 3 }));
        assert!(Shard::resolve_with(None, env(&[])).ok().flatten().is_none());
    }

    #[test]
    fn units_are_dealt_round_robin() {
        let s = Shard { index: 1, count: 3 };
        assert_eq!(s.units(8), vec![1, 4, 7]);
        let all: usize = (0..3)
            .map(|i| Shard { index: i, count: 3 }.units(8).len())
            .sum();
        assert_eq!(all, 8);
    }
}
