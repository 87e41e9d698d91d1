//! `memscan score`: per-text membership signals from one teacher-forced pass (plus
//! the optional second passes: lowercased text, reference model, gradients), one
//! JSON line per text, in input order, streamed as windows of texts finish.

use std::io::Write;

use serde_json::{Map, Value};

use crate::cli::ScoreArgs;
use crate::error::{Error, Result};
use crate::input::{read_texts, TextRecord};
use crate::model::LanguageModel;
use crate::scorer::{self, ScoreOptions, ScoredText, Scorer};
use crate::signals;

/// Texts sorted and batched together; output is written after each window.
const WINDOW_BATCHES: usize = 32;

/// What the optional passes add to one text.
#[derive(Default)]
struct Extra {
    nll_lower: Option<f64>,
    nll_ref: Option<f64>,
    grad: Option<(f64, Vec<f64>)>,
    verbatim: Option<crate::verbatim::Match>,
}

/// The reference corpus index and the tokenizer its token ids came from.
struct Reference {
    index: crate::verbatim::Index,
    tokenizer: Option<crate::model::tokenizer::Tokenizer>,
}

fn open_reference(path: &std::path::Path) -> Result<Reference> {
    let index = crate::verbatim::Index::open(path)?;
    let tokenizer = index.tokenizer(None)?;
    Ok(Reference { index, tokenizer })
}

pub fn run(args: &ScoreArgs, quiet: bool) -> Result<i32> {
    if !(args.min_k > 0.0 && args.min_k <= 100.0) {
        return Err(Error::input(format!(
            "--min-k {}: must be in (0, 100]",
            args.min_k
        )));
    }
    if args.list_signals {
        let json = serde_json::to_string_pretty(signals::SIGNALS)
            .map_err(|e| Error::internal(format!("JSON: {e}")))?;
        let mut out = super::output(args.output.as_deref())?;
        writeln!(out, "{json}")
            .and_then(|()| out.flush())
            .map_err(write_err(args))?;
        return Ok(0);
    }
    let input = args
        .input
        .as_ref()
        .ok_or_else(|| Error::input("--input is required"))?;
    let records = read_texts(input)?;
    let mut out = super::output(args.output.as_deref())?;
    let model = super::load_model(&args.model, quiet)?;
    let reference = super::load_reference(&args.model, &args.reference_model, quiet)?;
    let opts = |stats: bool, attention: bool| ScoreOptions {
        batch_size: args.batch_size,
        max_tokens: args.max_tokens,
        vocab_stats: stats,
        attention,
    };
    let scorer = Scorer::new(&model, opts(!args.basic, args.attention))?;
    let basic = Scorer::new(&model, opts(false, false))?;
    let ref_scorer = match &reference {
        Some(r) => Some(Scorer::new(r, opts(false, false))?),
        None => None,
    };
    let params = if args.gradients {
        scorer::prepare_gradients(&model)
    } else {
        Vec::new()
    };
    let corpus = match &args.reference_corpus {
        Some(p) => Some(open_reference(p)?),
        None => None,
    };

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
        let mut extras: Vec<Extra> = (0..window.len()).map(|_| Extra::default()).collect();
        if args.lowercase {
            let lower: Vec<String> = texts.iter().map(|t| t.to_lowercase()).collect();
            let refs: Vec<&str> = lower.iter().map(String::as_str).collect();
            for (e, s) in extras.iter_mut().zip(basic.score(&refs, |_, _| {})?) {
                e.nll_lower = signals::nll_mean(&s.token_logprobs);
            }
        }
        if let Some(rs) = &ref_scorer {
            for (e, s) in extras.iter_mut().zip(rs.score(&texts, |_, _| {})?) {
                e.nll_ref = signals::nll_mean(&s.token_logprobs);
            }
        }
        if args.gradients {
            for (e, t) in extras.iter_mut().zip(&texts) {
                e.grad = scorer.grad_norms(t, &params)?;
            }
        }
        if let Some(c) = &corpus {
            for (e, t) in extras.iter_mut().zip(&texts) {
                let toks = match &c.tokenizer {
                    Some(tk) => Some(tk.encode_plain(t)?),
                    None => None,
                };
                e.verbatim = Some(c.index.query(t.as_bytes(), toks.as_deref()));
            }
        }
        for ((rec, s), e) in window.iter().zip(&scored).zip(&extras) {
            let line = serde_json::to_string(&Value::Object(row(rec, s, e, &model, args)))
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

fn num(v: Option<f64>) -> Value {
    v.filter(|x| x.is_finite())
        .map(Value::from)
        .unwrap_or(Value::Null)
}

/// The output line of one text: id, carried fields, then the signals.
fn row(
    rec: &TextRecord,
    s: &ScoredText,
    e: &Extra,
    model: &dyn LanguageModel,
    args: &ScoreArgs,
) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), rec.id.clone());
    for (k, v) in &rec.extra {
        m.insert(k.clone(), v.clone());
    }
    let nll = signals::nll_mean(&s.token_logprobs);
    m.insert("n_tokens".into(), Value::from(s.token_ids.len()));
    let stats = s.stats.as_ref().map(|st| st.view());
    for (name, v) in signals::one_pass(&signals::PassValues {
        logprobs: &s.token_logprobs,
        stats,
        text: &rec.text,
        min_k_percent: args.min_k,
    }) {
        m.insert(name.into(), num(v));
    }
    if args.lowercase {
        m.insert(
            "lowercase_ratio".into(),
            num(e
                .nll_lower
                .zip(nll)
                .map(|(l, n)| signals::lowercase_ratio(l, n))),
        );
    }
    if args.reference_model.is_some() {
        m.insert(
            "ref_ratio".into(),
            num(nll.zip(e.nll_ref).map(|(n, r)| signals::ref_ratio(n, r))),
        );
    }
    if let Some(layers) = &s.attn_entropy_layers {
        m.insert("attn_entropy".into(), num(signals::attn_entropy(layers)));
        m.insert("attn_entropy_layers".into(), Value::from(layers.clone()));
    }
    if args.gradients {
        m.insert("grad_norm".into(), num(e.grad.as_ref().map(|g| g.0)));
        m.insert(
            "grad_norm_layers".into(),
            e.grad
                .as_ref()
                .map(|g| Value::from(g.1.clone()))
                .unwrap_or(Value::Null),
        );
    }
    if let Some(v) = &e.verbatim {
        m.insert(
            "longest_match_bytes".into(),
            Value::from(v.longest_match_bytes),
        );
        if let Some(t) = v.longest_match_tokens {
            m.insert("longest_match_tokens".into(), Value::from(t));
        }
        let flagged = match v.longest_match_tokens {
            Some(t) => t >= args.verbatim_tokens,
            None => v.longest_match_bytes >= 4 * args.verbatim_tokens,
        };
        m.insert("verbatim".into(), Value::Bool(flagged));
    }
    if s.truncated {
        m.insert("truncated".into(), Value::Bool(true));
    }
    if args.tokens {
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
        if let Some(st) = &s.stats {
            let ent: Vec<f32> = st.mean_logp.iter().map(|m| -m).collect();
            m.insert(
                "token_confidence".into(),
                Value::from(st.confidence.clone()),
            );
            m.insert("token_margin".into(), Value::from(st.margin.clone()));
            m.insert("token_entropy".into(), Value::from(ent));
            m.insert("token_mu".into(), Value::from(st.mean_logp.clone()));
            m.insert("token_sigma".into(), Value::from(st.std_logp.clone()));
        }
    }
    m
}
