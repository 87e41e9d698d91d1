//! `memscan merge DIR…`: the shards of a sharded scan or eval (`--shard I/N`, Slurm
//! array tasks) → the report one process would have written. The shards are checked to
//! be the N complete parts of one run (`shard::collect`); then every statistic is
//! recomputed over all units — near-duplicate groups, levels and their multiple-testing
//! correction, top samples, ROC/AUC and bootstrap intervals, the combined attack —
//! never averaged across shards.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::cli::MergeArgs;
use crate::error::{Error, IoContext, Result};
use crate::report::folder::{write_report, AnyReport};
use crate::report::rows::SampleRow;
use crate::report::schema::Calibration;
use crate::scan::summary::{build_report, BuildInputs};
use crate::scan::ReportOptions;
use crate::shard::{collect, Found};
use crate::signals::SignalSet;

use super::eval::{ShardBody, ShardRow, SHARD_BODY, SHARD_LINES};

pub fn run(args: &MergeArgs, quiet: bool) -> Result<i32> {
    let t0 = std::time::Instant::now();
    let shards = collect(&args.dirs)?;
    let out = match &args.out {
        Some(o) => o.clone(),
        None => common_parent(&shards)?,
    };
    let kind = shards[0].manifest.kind.clone();
    let code = match kind.as_str() {
        "scan" => merge_scan(&shards, &out, quiet)?,
        "eval" => {
            merge_eval(&shards, &out)?;
            0
        }
        "score" => {
            merge_score(&shards, &out)?;
            0
        }
        "forget-check" => merge_forget(&shards, &out)?,
        "index" => {
            merge_index(&shards, &out)?;
            0
        }
        k => {
            return Err(Error::file(
                &shards[0].dir,
                format!(
                    "a shard of a `{k}` run; merge joins scan, eval, score and forget-check shards"
                ),
            ))
        }
    };
    if !quiet {
        eprintln!(
            "memscan: merged {} {kind} shards in {:.1} s into {}",
            shards.len(),
            t0.elapsed().as_secs_f64(),
            out.display()
        );
    }
    Ok(code)
}

/// The folder every shard is in (a run's `--out`); without one, --out is needed.
fn common_parent(shards: &[Found]) -> Result<PathBuf> {
    let parents: BTreeSet<PathBuf> = shards
        .iter()
        .map(|f| f.dir.parent().unwrap_or(Path::new(".")).to_path_buf())
        .collect();
    match parents.into_iter().collect::<Vec<_>>().as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(Error::input(
            "merge: the shards are in different folders; give --out for the report",
        )),
    }
}

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).with_file(path)?;
    serde_json::from_str(&text).map_err(|e| Error::file(path, format!("not JSON ({e})")))
}

/// The merged scan's report; the exit code the scan's `--fail-on` asks for.
fn merge_scan(shards: &[Found], out: &Path, quiet: bool) -> Result<i32> {
    let mut settings = shards[0].manifest.settings.clone();
    let cal_path = shards[0].dir.join("calibration.json");
    let cal_value = read_json(&cal_path)?;
    let mut rows: Vec<SampleRow> = Vec::new();
    // every line of every shard's samples.jsonl: (batch, shard, byte range), to write
    // the joined file in batch order without parsing it again
    let mut bodies: Vec<String> = Vec::new();
    let mut order: Vec<(usize, usize, usize, usize)> = Vec::new();
    let (mut seconds, mut tokens) = (0.0, 0);
    for (k, f) in shards.iter().enumerate() {
        // run-wide state is computed in every shard from the settings: it must agree
        let c = read_json(&f.dir.join("calibration.json"))?;
        if c != cal_value {
            return Err(Error::file(
                &f.dir.join("calibration.json"),
                format!(
                    "differs from {}: the shards flagged with different thresholds; remove this shard's folder and run it again (it adopts the run's calibration)",
                    cal_path.display()
                ),
            ));
        }
        let path = f.dir.join("samples.jsonl");
        let body = std::fs::read_to_string(&path).with_file(&path)?;
        let mut batches = BTreeSet::new();
        for (i, line) in body.lines().enumerate() {
            let row: SampleRow = serde_json::from_str(line).map_err(|e| {
                Error::file(&path, format!("line {}: not a sample row ({e})", i + 1))
            })?;
            batches.insert(row.batch);
            let start = line.as_ptr() as usize - body.as_ptr() as usize;
            order.push((row.batch, k, start, start + line.len()));
            rows.push(row);
        }
        let want: BTreeSet<usize> = f
            .manifest
            .shard
            .units(f.manifest.units_total)
            .into_iter()
            .collect();
        if batches != want {
            return Err(Error::file(
                &path,
                format!(
                    "holds batches other than shard {}'s {} (the file was changed, or copied from another shard)",
                    f.manifest.shard,
                    want.len()
                ),
            ));
        }
        seconds += f.manifest.seconds;
        tokens += f.manifest.tokens;
        bodies.push(body);
    }
    let run_path = shards[0].dir.join(crate::shard::MANIFEST);
    let num = |k: &str| {
        settings
            .get(k)
            .and_then(Value::as_f64)
            .ok_or_else(|| Error::file(&run_path, format!("settings lack a number `{k}`")))
    };
    rows.sort_by_key(|r| r.batch); // stable: a batch's rows keep their order
                                   // every batch whole and once: batch_size rows each, the last at most that; each
                                   // (prompt, sample) once (two processes in one shard folder would append twice)
    let bs = num("batch_size")? as usize;
    let mut per_batch: std::collections::BTreeMap<usize, usize> = Default::default();
    let mut seen = std::collections::HashSet::new();
    for r in &rows {
        *per_batch.entry(r.batch).or_default() += 1;
        if !seen.insert((r.prompt_id.as_str(), r.sample)) {
            return Err(Error::input(format!(
                "merge: sample {} is in the shards twice (two processes wrote one shard?); remove that shard's folder and run it again",
                r.id
            )));
        }
    }
    let last = per_batch.keys().next_back().copied();
    for (&b, &n) in &per_batch {
        if n > bs || (n < bs && Some(b) != last) || n == 0 {
            return Err(Error::input(format!(
                "merge: batch {b} has {n} samples, not {bs}: a shard's samples.jsonl was changed"
            )));
        }
    }
    let spp = (num("samples_per_prompt")? as usize).max(1);
    let known = match settings
        .get("known_findings")
        .and_then(|k| k["path"].as_str())
    {
        Some(p) => Some(crate::scan::evidence::read_known(Path::new(p))?),
        None => None,
    };
    let opts = ReportOptions {
        dedup_threshold: num("dedup_threshold")?,
        top: num("top")? as usize,
        alpha: num("alpha")?,
        known,
    };
    settings.insert("merged_shards".into(), shards.len().into());
    let fail_on = settings
        .get("fail_on")
        .and_then(Value::as_str)
        .and_then(|f| <crate::cli::ScanFailOn as clap::ValueEnum>::from_str(f, true).ok())
        .ok_or_else(|| Error::file(&run_path, "settings lack a known `fail_on`"))?;
    let calibration: Calibration = serde_json::from_value(cal_value)
        .map_err(|e| Error::file(&cal_path, format!("not a calibration ({e})")))?;
    let report = build_report(BuildInputs {
        opts: &opts,
        prompts: rows.len() / spp,
        settings,
        model: shards[0].model()?,
        lines: rows,
        calibration,
        seconds,
        new_tokens_this_run: tokens,
    })?;
    std::fs::create_dir_all(out).with_file(out)?;
    write_report(out, &AnyReport::Scan(&report))?;
    // the joined samples, so that `memscan report` and a reader find them as after one run
    order.sort_unstable(); // by batch; a batch's lines in their order
    let mut merged = String::with_capacity(bodies.iter().map(String::len).sum());
    for &(_, k, from, to) in &order {
        merged.push_str(&bodies[k][from..to]);
        merged.push('\n');
    }
    drop(bodies);
    crate::report::folder::write_file(&out.join("samples.jsonl"), &merged)?;
    if !quiet {
        let s = &report.summary;
        eprintln!(
            "memscan: {} samples from {} prompts: {}",
            s.samples,
            s.prompts,
            crate::report::markdown::level_headline(s)
        );
    }
    Ok(super::scan::exit_code(&report, fail_on))
}

fn merge_eval(shards: &[Found], out: &Path) -> Result<()> {
    let mut bodies: Vec<ShardBody> = Vec::new();
    for f in shards {
        let path = f.dir.join(SHARD_BODY);
        let v = read_json(&path)?;
        let b: ShardBody = serde_json::from_value(v)
            .map_err(|e| Error::file(&path, format!("not an eval shard ({e})")))?;
        bodies.push(b);
    }
    let first = &bodies[0];
    let n = first.members + first.nonmembers;
    let mut rows: Vec<Option<SignalSet>> = vec![None; n];
    let mut canaries = Vec::new();
    let mut unlearning = crate::unlearning::Sections::default();
    for (f, b) in shards.iter().zip(&mut bodies) {
        let path = f.dir.join(SHARD_LINES);
        let text = std::fs::read_to_string(&path).with_file(&path)?;
        for (k, line) in text.lines().enumerate() {
            let r: ShardRow = serde_json::from_str(line).map_err(|e| {
                Error::file(&path, format!("line {}: not a text's signals ({e})", k + 1))
            })?;
            let slot = rows.get_mut(r.i).ok_or_else(|| {
                Error::file(&path, format!("text {} is past the run's {n} texts", r.i))
            })?;
            if slot.is_some() {
                return Err(Error::file(
                    &path,
                    format!("text {} is also in another shard: the shards overlap", r.i),
                ));
            }
            *slot = Some(r.signals);
        }
        canaries.append(&mut b.canaries);
        if b.unlearning.forget_quality.is_some() || b.unlearning.verbmem.is_some() {
            unlearning = std::mem::take(&mut b.unlearning);
        }
    }
    let missing = rows.iter().filter(|r| r.is_none()).count();
    if missing > 0 {
        return Err(Error::input(format!(
            "merge: {missing} of {n} texts are in no shard: the shards are not of one run"
        )));
    }
    let rows: Vec<SignalSet> = rows.into_iter().flatten().collect();
    let first = &bodies[0];
    let mut settings = shards[0].manifest.settings.clone();
    settings.insert("merged_shards".into(), shards.len().into());
    // the blind baseline needs the texts: read again, and checked against the settings
    let texts = eval_texts(&settings);
    let refs: Option<Vec<&str>> = texts
        .as_ref()
        .map(|t| t.iter().map(String::as_str).collect());
    let report = super::eval::build_report(
        shards[0].model()?,
        settings,
        &first.stats,
        &rows,
        first.members,
        super::eval::RunOnce {
            canaries,
            unlearning,
        },
        refs.as_deref(),
    );
    std::fs::create_dir_all(out).with_file(out)?;
    write_report(out, &AnyReport::Eval(&report))
}

/// The shards' score lines in input order: window w is shard (w mod N)'s, and holds
/// `window` texts (the last one fewer).
fn merge_score(shards: &[Found], out: &Path) -> Result<()> {
    use super::score::SHARD_LINES;
    let m0 = &shards[0].manifest;
    let run_path = shards[0].dir.join(crate::shard::MANIFEST);
    let num = |k: &str| {
        m0.settings
            .get(k)
            .and_then(Value::as_u64)
            .map(|v| v as usize)
            .ok_or_else(|| Error::file(&run_path, format!("settings lack a number `{k}`")))
    };
    let (texts, window) = (num("texts")?, num("window")?.max(1));
    let window_len = |w: usize| texts.saturating_sub(w * window).min(window);
    let mut bodies: Vec<String> = Vec::new();
    for f in shards {
        let path = f.dir.join(SHARD_LINES);
        let body = std::fs::read_to_string(&path).with_file(&path)?;
        let want: usize = f
            .manifest
            .shard
            .units(f.manifest.units_total)
            .into_iter()
            .map(window_len)
            .sum();
        let got = body.lines().count();
        if got != want || !(body.is_empty() || body.ends_with('\n')) {
            return Err(Error::file(
                &path,
                format!(
                    "holds {got} lines, shard {} scores {want} texts (the file was changed, or copied from another shard)",
                    f.manifest.shard
                ),
            ));
        }
        bodies.push(body);
    }
    let mut iters: Vec<std::str::Lines> = bodies.iter().map(|b| b.lines()).collect();
    let n = shards.len();
    let mut merged = String::new();
    for w in 0..m0.units_total {
        for _ in 0..window_len(w) {
            let line = iters[w % n]
                .next()
                .ok_or_else(|| Error::internal("a score shard ran out of lines"))?;
            merged.push_str(line);
            merged.push('\n');
        }
    }
    std::fs::create_dir_all(out).with_file(out)?;
    crate::report::folder::write_file(&out.join(SHARD_LINES), &merged)
}

/// The shards' record results in --records order → the forget-check report; its exit
/// code.
fn merge_forget(shards: &[Found], out: &Path) -> Result<i32> {
    use super::forget::{ShardRecord, SHARD_RECORDS};
    let mut results: Vec<(usize, crate::report::schema::RecordResult)> = Vec::new();
    for f in shards {
        let path = f.dir.join(SHARD_RECORDS);
        let body = std::fs::read_to_string(&path).with_file(&path)?;
        let mut got = Vec::new();
        for (n, line) in body.lines().enumerate() {
            let r: ShardRecord = serde_json::from_str(line).map_err(|e| {
                Error::file(&path, format!("line {}: not a record result ({e})", n + 1))
            })?;
            got.push(r.i);
            results.push((r.i, r.result));
        }
        let want = f.manifest.shard.units(f.manifest.units_total);
        if got != want {
            return Err(Error::file(
                &path,
                format!(
                    "holds records other than shard {}'s {} (the file was changed, or copied from another shard)",
                    f.manifest.shard,
                    want.len()
                ),
            ));
        }
    }
    results.sort_by_key(|r| r.0);
    let m0 = &shards[0].manifest;
    let alpha = m0
        .settings
        .get("alpha")
        .and_then(Value::as_f64)
        .ok_or_else(|| {
            Error::file(
                &shards[0].dir.join(crate::shard::MANIFEST),
                "settings lack `alpha`",
            )
        })?;
    let mut settings = m0.settings.clone();
    settings.insert("merged_shards".into(), shards.len().into());
    let mut report = super::forget::build_report(
        settings,
        alpha,
        shards[0].model()?,
        results.into_iter().map(|r| r.1).collect(),
    );
    // shard 0 computed the unlearning figures, when asked for
    for f in shards {
        let path = f.dir.join(super::forget::SHARD_UNLEARNING);
        if path.is_file() {
            let body = std::fs::read_to_string(&path).with_file(&path)?;
            let u: crate::unlearning::Sections = serde_json::from_str(&body)
                .map_err(|e| Error::file(&path, format!("not the unlearning figures ({e})")))?;
            report.forget_quality = u.forget_quality;
            report.verbmem = u.verbmem;
        }
    }
    std::fs::create_dir_all(out).with_file(out)?;
    write_report(out, &AnyReport::Forget(&report))?;
    Ok(super::forget::exit_code(&report))
}

/// The index parts → one index in `out`: one manifest listing every part's corpus files
/// (in the parts' order) and every part's shards, which stay in their folders (named
/// `shard-I-of-N/shard-NNNN`, their file numbers offset past the earlier parts' files).
fn merge_index(shards: &[Found], out: &Path) -> Result<()> {
    use crate::verbatim::{Index, Manifest};
    let mut merged: Option<Manifest> = None;
    for f in shards {
        let mpath = f.dir.join("manifest.json");
        let text = std::fs::read_to_string(&mpath).with_file(&mpath)?;
        let part: Manifest = serde_json::from_str(&text)
            .map_err(|e| Error::file(&mpath, format!("corrupt index manifest ({e})")))?;
        let rel = f
            .dir
            .strip_prefix(out)
            .map_err(|_| {
                Error::file(
                    &f.dir,
                    format!("is not inside {}: the joined index refers to its parts by relative path; merge into the folder that holds them", out.display()),
                )
            })?
            .to_path_buf();
        let m = merged.get_or_insert_with(|| Manifest {
            format_version: part.format_version,
            tool_version: part.tool_version.clone(),
            files: Vec::new(),
            shards: Vec::new(),
            tokenizer: part.tokenizer.clone(),
        });
        let same_tok = match (&m.tokenizer, &part.tokenizer) {
            (None, None) => true,
            (Some(a), Some(b)) => a.vocab_sha256 == b.vocab_sha256,
            _ => false,
        };
        if part.format_version != m.format_version || !same_tok {
            return Err(Error::file(
                &mpath,
                "another index format or tokenizer than the first part's: not a part of the same build",
            ));
        }
        let offset = m.files.len() as u64;
        for mut sh in part.shards {
            sh.name = rel.join(&sh.name).to_string_lossy().into_owned();
            sh.file_offset += offset;
            m.shards.push(sh);
        }
        m.files.extend(part.files);
    }
    let m = merged.ok_or_else(|| Error::input("merge: no shards given"))?;
    let body =
        serde_json::to_string_pretty(&m).map_err(|e| Error::internal(format!("JSON: {e}")))?;
    crate::report::folder::write_file(&out.join("manifest.json"), &(body + "\n"))?;
    // the joined index opens (sizes and docs tables checked) before it is announced
    Index::open(out).map(|_| ())
}

/// The member then non-member texts an eval's settings name, when the files are there and
/// still hold what the shards scored (their SHA-256 in the settings); else `None`, and the
/// merged report has no blind baseline.
fn eval_texts(settings: &serde_json::Map<String, Value>) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for (file, sha) in [
        ("members", "members_sha256"),
        ("nonmembers", "nonmembers_sha256"),
    ] {
        let path = settings.get(file).and_then(Value::as_str).unwrap_or("");
        let why = match crate::input::read_texts(Path::new(path)) {
            Ok(records)
                if Some(super::eval::records_sha256(&records).as_str())
                    == settings.get(sha).and_then(Value::as_str) =>
            {
                out.extend(records.into_iter().map(|r| r.text));
                continue;
            }
            Ok(_) => "changed since the shards read it".to_string(),
            Err(e) => format!("cannot be read here ({e})"),
        };
        eprintln!("memscan: --{file} {path} {why}: the merged report has no blind baseline");
        return None;
    }
    Some(out)
}
