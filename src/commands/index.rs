//! `memscan index build|query`: the verbatim index over a reference corpus.

use std::io::Write;

use serde_json::{json, Value};

use crate::cli::{IndexBuildArgs, IndexCommand, IndexQueryArgs};
use crate::error::{Error, IoContext, Result};
use crate::input::read_texts;
use crate::model;
use crate::verbatim::{self, Index};

pub fn run(cmd: &IndexCommand, quiet: bool) -> Result<i32> {
    match cmd {
        IndexCommand::Build(a) => build(a, quiet),
        IndexCommand::Query(a) => query(a, quiet),
    }
}

fn build(a: &IndexBuildArgs, quiet: bool) -> Result<i32> {
    if a.shard_mb == 0 {
        return Err(Error::input("--shard-mb must be at least 1"));
    }
    let shard = crate::shard::Shard::resolve(a.shard.as_deref())?;
    let all = verbatim::corpus_files(&a.corpus)?;
    // a sharded build: corpus files dealt round-robin, each shard a whole index of its
    // files in OUT/shard-I-of-N, joined by `memscan merge OUT`
    let (files, out, mut manifest) = match &shard {
        Some((s, from)) => {
            let dir = a.out.join(s.folder());
            let settings = settings(a, &all)?;
            let mut m = crate::shard::Manifest::resume_or_new(&dir, "index", &settings, None, *s)?;
            if m.complete {
                if !quiet {
                    eprintln!(
                        "memscan: index shard {s} in {} is already built",
                        dir.display()
                    );
                }
                return Ok(0);
            }
            let owned = s.units(all.len());
            if !quiet {
                eprintln!(
                    "memscan: index shard {s} (from {from}): {} of {} corpus files into {}",
                    owned.len(),
                    all.len(),
                    dir.display()
                );
            }
            m.unit = "corpus file".into();
            m.units_total = all.len();
            m.units_owned = owned.len();
            std::fs::create_dir_all(&dir).with_file(&dir)?;
            m.write(&dir)?;
            let files: Vec<std::path::PathBuf> = owned.iter().map(|&i| all[i].clone()).collect();
            (files, dir, Some(m))
        }
        None => (all, a.out.clone(), None),
    };
    let total: u64 = files
        .iter()
        .filter_map(|f| f.metadata().ok())
        .map(|m| m.len())
        .sum();
    let tok = match &a.tokenizer {
        Some(m) => Some((model::load_tokenizer(m)?, m.clone())),
        None => None,
    };
    let pb = super::progress_bar(total, quiet, "bytes");
    let t0 = std::time::Instant::now();
    let m = verbatim::build_files(
        &files,
        &out,
        a.shard_mb << 20,
        tok.as_ref().map(|(t, m)| (t, m.clone())),
        |n| pb.inc(n),
        verbatim::WIDE_FROM,
    )?;
    pb.finish_and_clear();
    if let Some(sm) = manifest.as_mut() {
        sm.units_done = sm.units_owned;
        sm.seconds = t0.elapsed().as_secs_f64();
        sm.complete = true;
        sm.write(&out)?;
    }
    if !quiet {
        let secs = t0.elapsed().as_secs_f64();
        eprintln!(
            "memscan: indexed {} files, {:.1} MB in {} shard(s){} in {:.1}s ({:.1} MB/s) → {}",
            m.files.len(),
            total as f64 / 1e6,
            m.shards.len(),
            if m.tokenizer.is_some() {
                " with tokens"
            } else {
                ""
            },
            secs,
            total as f64 / 1e6 / secs.max(1e-9),
            out.display()
        );
    }
    Ok(0)
}

/// What makes two index shards parts of one build: the corpus (every file's path and
/// size, in order), the tokenizer and the shard size.
fn settings(
    a: &IndexBuildArgs,
    all: &[std::path::PathBuf],
) -> Result<serde_json::Map<String, Value>> {
    let mut listing = String::new();
    for f in all {
        let len = std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
        listing.push_str(&format!("{}\u{1}{len}\n", f.display()));
    }
    match json!({
        "corpus": a.corpus.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "corpus_files": all.len(),
        "corpus_listing_sha256": crate::scan::state::sha256_hex(listing.as_bytes()),
        "tokenizer": a.tokenizer,
        "shard_mb": a.shard_mb,
        "text_field": crate::input::text_field(),
        "id_field": crate::input::id_field(),
    }) {
        Value::Object(m) => Ok(m),
        _ => Err(Error::internal("settings are not an object")),
    }
}

fn query(a: &IndexQueryArgs, quiet: bool) -> Result<i32> {
    let index = Index::open(&a.index)?;
    let records = read_texts(&a.input)?;
    let tok = index.tokenizer(a.tokenizer.as_deref())?;
    let mut out = super::output(a.output.as_deref())?;
    let t0 = std::time::Instant::now();
    for r in &records {
        let toks = match (&tok, &index.manifest.tokenizer) {
            (Some(t), Some(_)) => Some(t.encode_plain(&r.text)?),
            _ => None,
        };
        let m = index.query(r.text.as_bytes(), toks.as_deref());
        let mut v = json!({ "id": r.id });
        if let (Value::Object(o), Ok(Value::Object(mo))) = (&mut v, serde_json::to_value(&m)) {
            o.extend(mo);
        }
        writeln!(out, "{v}").map_err(|e| Error::input(format!("cannot write output ({e})")))?;
    }
    out.flush()
        .map_err(|e| Error::input(format!("cannot write output ({e})")))?;
    if !quiet {
        eprintln!(
            "memscan: {} texts queried in {:.3}s ({:.2} ms each)",
            records.len(),
            t0.elapsed().as_secs_f64(),
            t0.elapsed().as_secs_f64() * 1e3 / records.len() as f64
        );
    }
    Ok(0)
}
