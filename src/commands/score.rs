//! `memscan score`: per-text membership signals from one teacher-forced pass (plus
//! the optional second passes: lowercased text, reference model, gradients), one
//! JSON line per text, in input order, streamed as windows of texts finish.

use std::io::Write;

use serde_json::{Map, Value};

use crate::cli::ScoreArgs;
use crate::error::{Error, Result};
use crate::input::{read_texts, TextRecord};
use crate::model::LanguageModel;
use crate::report::rows::{ScoreLine, TokenDetail, TokenDistribution};
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
    super::check_batch_size(args.batch_size)?;
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
    let reference = super::load_reference(
        &args.model,
        &args.reference_model,
        &args.reference_adapter,
        quiet,
    )?;
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
        let extras = Extras {
            scorer: &scorer,
            basic: &basic,
            reference: ref_scorer.as_ref(),
            params: &params,
            corpus: corpus.as_ref(),
        }
        .of(&texts, args)?;
        for ((rec, s), e) in window.iter().zip(&scored).zip(&extras) {
            let line = serde_json::to_string(&Value::Object(row(rec, s, e, &model, args)?))
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

/// The passes besides the main one, each when its flag asks for it.
struct Extras<'a> {
    scorer: &'a Scorer<'a>,
    basic: &'a Scorer<'a>,
    reference: Option<&'a Scorer<'a>>,
    params: &'a [(Option<usize>, tch::Tensor)],
    corpus: Option<&'a Reference>,
}

impl Extras<'_> {
    fn of(&self, texts: &[&str], args: &ScoreArgs) -> Result<Vec<Extra>> {
        let mut extras: Vec<Extra> = (0..texts.len()).map(|_| Extra::default()).collect();
        if args.lowercase {
            let lower: Vec<String> = texts.iter().map(|t| t.to_lowercase()).collect();
            let refs: Vec<&str> = lower.iter().map(String::as_str).collect();
            for (e, s) in extras.iter_mut().zip(self.basic.score(&refs, |_, _| {})?) {
                e.nll_lower = signals::nll_mean(&s.token_logprobs);
            }
        }
        if let Some(rs) = self.reference {
            for (e, s) in extras.iter_mut().zip(rs.score(texts, |_, _| {})?) {
                e.nll_ref = signals::nll_mean(&s.token_logprobs);
            }
        }
        if args.gradients {
            for (e, t) in extras.iter_mut().zip(texts) {
                e.grad = self.scorer.grad_norms(t, self.params)?;
            }
        }
        if let Some(c) = self.corpus {
            for (e, t) in extras.iter_mut().zip(texts) {
                let toks = match &c.tokenizer {
                    Some(tk) => Some(tk.encode_plain(t)?),
                    None => None,
                };
                e.verbatim = Some(c.index.query(t.as_bytes(), toks.as_deref()));
            }
        }
        Ok(extras)
    }
}

fn write_err(args: &ScoreArgs) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| match &args.output {
        Some(p) => Error::file(p, format!("cannot write ({e})")),
        None => Error::input(format!("cannot write to stdout ({e})")),
    }
}

/// The output line of one text: id, carried fields, then the signals. A carried
/// field with the name of one memscan writes keeps its place and takes memscan's value.
fn row(
    rec: &TextRecord,
    s: &ScoredText,
    e: &Extra,
    model: &dyn LanguageModel,
    args: &ScoreArgs,
) -> Result<Map<String, Value>> {
    let signals = signals::SignalSet::new(signals::Passes {
        main: s.pass_values(&rec.text, args.min_k),
        lowercase_nll: args.lowercase.then_some(e.nll_lower),
        reference: args
            .reference_model
            .is_some()
            .then(|| (signals::nll_mean(&s.token_logprobs), e.nll_ref)),
        attention: s.attn_entropy_layers.as_deref(),
        gradients: args.gradients.then(|| e.grad.clone()),
    });
    let tokens = args.tokens.then(|| {
        let tok = model.tokenizer();
        TokenDetail {
            token_ids: s.token_ids.clone(),
            tokens: s.token_ids.iter().map(|&id| tok.id_to_token(id)).collect(),
            token_logprobs: s.token_logprobs.clone(),
            distribution: s.stats.as_ref().map(|st| TokenDistribution {
                token_confidence: st.confidence.clone(),
                token_margin: st.margin.clone(),
                token_entropy: signals::token_entropy(&st.mean_logp),
                token_mu: st.mean_logp.clone(),
                token_sigma: st.std_logp.clone(),
            }),
        }
    });
    let v = e.verbatim.as_ref();
    let line = ScoreLine {
        n_tokens: s.token_ids.len(),
        signals,
        longest_match_bytes: v.map(|v| v.longest_match_bytes),
        longest_match_tokens: v.and_then(|v| v.longest_match_tokens),
        verbatim: v.map(|v| match v.longest_match_tokens {
            Some(t) => t >= args.verbatim_tokens,
            None => v.longest_match_bytes >= 4 * args.verbatim_tokens,
        }),
        truncated: s.truncated,
        tokens,
    };
    let mut m = Map::new();
    m.insert("id".into(), rec.id.clone());
    m.extend(rec.extra.clone());
    match serde_json::to_value(&line) {
        Ok(Value::Object(fields)) => m.extend(fields),
        other => return Err(Error::internal(format!("score line: {other:?}"))),
    }
    Ok(m)
}
