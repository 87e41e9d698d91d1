//! `memscan score`: per-text membership signals from one teacher-forced pass,
//! one JSON line per text, in input order, streamed as windows of texts finish.

use std::io::Write;

use serde_json::{Map, Value};

use crate::cli::ScoreArgs;
use crate::error::{Error, IoContext, Result};
use crate::input::{read_texts, TextRecord};
use crate::model::LanguageModel;
use crate::scorer::{ScoredText, Scorer};
use crate::signals;

/// Texts sorted and batched together; output is written after each window.
const WINDOW_BATCHES: usize = 32;

pub fn run(args: &ScoreArgs, quiet: bool) -> Result<i32> {
    let records = read_texts(&args.input)?;
    let mut out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_file(p)?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let model = super::load_model(&args.model, quiet)?;
    let scorer = Scorer::new(&model, args.batch_size, args.max_tokens)?;
    let pb = super::progress_bar(records.len() as u64, quiet, "texts");
    let t0 = std::time::Instant::now();
    let mut tokens_total = 0usize;
    for window in records.chunks(args.batch_size * WINDOW_BATCHES) {
        let texts: Vec<&str> = window.iter().map(|r| r.text.as_str()).collect();
        let scored = scorer.score(&texts, |n, toks| {
            tokens_total += toks;
            pb.inc(n as u64);
            pb.set_message(format!(
                "{:.0} tok/s",
                tokens_total as f64 / t0.elapsed().as_secs_f64().max(1e-9)
            ));
        })?;
        for (rec, s) in window.iter().zip(&scored) {
            let line = serde_json::to_string(&Value::Object(row(rec, s, &model, args.tokens)))
                .map_err(|e| Error::internal(format!("JSON: {e}")))?;
            writeln!(out, "{line}").map_err(write_err(args))?;
        }
        out.flush().map_err(write_err(args))?;
    }
    pb.finish_and_clear();
    if !quiet {
        let secs = t0.elapsed().as_secs_f64();
        eprintln!(
            "memscan: scored {} texts, {} tokens in {:.1}s ({:.0} tokens/s)",
            records.len(),
            tokens_total,
            secs,
            tokens_total as f64 / secs.max(1e-9)
        );
    }
    Ok(0)
}

fn write_err(args: &ScoreArgs) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| match &args.output {
        Some(p) => Error::file(p, format!("cannot write ({e})")),
        None => Error::input(format!("cannot write to stdout ({e})")),
    }
}

/// The output line of one text: id, carried fields, then the signals.
fn row(
    rec: &TextRecord,
    s: &ScoredText,
    model: &dyn LanguageModel,
    with_tokens: bool,
) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), rec.id.clone());
    for (k, v) in &rec.extra {
        m.insert(k.clone(), v.clone());
    }
    let nll = signals::nll_mean(&s.token_logprobs);
    m.insert("n_tokens".into(), Value::from(s.token_ids.len()));
    m.insert(
        "nll_mean".into(),
        nll.map(Value::from).unwrap_or(Value::Null),
    );
    m.insert(
        "perplexity".into(),
        nll.map(|n| Value::from(signals::perplexity(n)))
            .unwrap_or(Value::Null),
    );
    if s.truncated {
        m.insert("truncated".into(), Value::Bool(true));
    }
    if with_tokens {
        let tok = model.tokenizer();
        let toks: Vec<Value> = s
            .token_ids
            .iter()
            .map(|&id| Value::from(tok.id_to_token(id)))
            .collect();
        m.insert("token_ids".into(), Value::from(s.token_ids.clone()));
        m.insert("tokens".into(), Value::Array(toks));
        m.insert(
            "token_logprobs".into(),
            Value::from(s.token_logprobs.clone()),
        );
    }
    m
}
