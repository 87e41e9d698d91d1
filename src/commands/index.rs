//! `memscan index build|query`: the verbatim index over a reference corpus.

use std::io::Write;

use serde_json::{json, Value};

use crate::cli::{IndexBuildArgs, IndexCommand, IndexQueryArgs};
use crate::error::{Error, Result};
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
    let files = verbatim::corpus_files(&a.corpus)?;
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
    let m = verbatim::build(
        &files,
        &a.out,
        a.shard_mb << 20,
        tok.as_ref().map(|(t, m)| (t, m.clone())),
        |n| pb.inc(n),
    )?;
    pb.finish_and_clear();
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
            a.out.display()
        );
    }
    Ok(0)
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
