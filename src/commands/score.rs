//! `memscan score`: per-text membership signals from one teacher-forced pass (plus
//! the optional second passes: lowercased text, reference model, gradients), one
//! JSON line per text, in input order, streamed as windows of texts finish.

use std::io::Write;

use serde_json::{Map, Value};

use crate::cli::ScoreArgs;
use crate::error::{Error, IoContext, Result};
use crate::input::{read_texts, TextRecord};
use crate::model::LanguageModel;
use crate::report::rows::{ScoreLine, TokenDetail, TokenDistribution};
use crate::scorer::{self, ScoreOptions, ScoredText, Scorer};
use crate::signals;

use super::attacks::Attacks;

/// Texts sorted and batched together; output is written after each window.
const WINDOW_BATCHES: usize = 32;

/// A score shard's lines (and the merged run's), inside its folder.
pub const SHARD_LINES: &str = "scores.jsonl";

/// Every setting that shapes the lines (shards of one run agree on them).
fn settings(
    args: &ScoreArgs,
    input: &std::path::Path,
    records: &[TextRecord],
    model: &crate::model::Model,
    window_len: usize,
    attacks: &Attacks,
) -> Result<Map<String, Value>> {
    let joined: String = records
        .iter()
        .map(|r| format!("{}\u{1}{}\n", r.id, r.text))
        .collect();
    let mut v = serde_json::json!({
        "model": model.info().spec,
        "device": model.info().device,
        "dtype": model.info().dtype,
        "input": input.display().to_string(),
        "input_sha256": crate::scan::state::sha256_hex(joined.as_bytes()),
        "texts": records.len(),
        "window": window_len,
        "batch_size": args.batch_size,
        "max_tokens": args.max_tokens,
        "tokens": args.tokens,
        "min_k": args.min_k,
        "basic": args.basic,
        "lowercase": args.lowercase,
        "reference_model": super::one_or_many(&args.reference_model),
        "reference_adapter": super::one_or_many(&args.reference_adapter),
        "attention": args.attention,
        "gradients": args.gradients,
        "reference_corpus": args.reference_corpus.as_ref().map(|p| p.display().to_string()),
        "verbatim_tokens": args.verbatim_tokens,
        "text_field": crate::input::text_field(),
        "id_field": crate::input::id_field(),
    });
    if let (Value::Object(m), Value::Object(a)) = (&mut v, attacks.settings(&args.attacks)) {
        m.extend(a);
    }
    super::with_setup(
        v,
        model,
        args.model.adapter.as_deref(),
        &args.reference_adapter,
    )
}

/// What the optional passes add to one text.
#[derive(Default)]
struct Extra {
    nll_lower: Option<f64>,
    nll_ref: Vec<Option<f64>>,
    nll_prefixed: Option<f64>,
    nll_member_prefixed: Option<f64>,
    nll_neighbours: Option<Vec<Option<f64>>>,
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
    let shard = crate::shard::Shard::resolve(args.shard.as_deref())?;
    let shard_dir = match shard {
        Some((s, _)) => Some(crate::shard::shard_dir(args.output.as_deref(), s, "score")?),
        None => None,
    };
    let records = read_texts(input)?;
    let window_len = args.batch_size * WINDOW_BATCHES;
    let windows: Vec<&[TextRecord]> = records.chunks(window_len).collect();
    // the windows this process scores (a shard: its own, round-robin)
    let owned: Vec<usize> = match shard {
        Some((s, _)) => s.units(windows.len()),
        None => (0..windows.len()).collect(),
    };
    let mut out: Box<dyn Write> = match &shard_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_file(dir)?;
            Box::new(std::io::sink())
        }
        None => super::output(args.output.as_deref())?,
    };
    let (model, references) = super::load_with_references(
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
    let ref_scorers = references
        .iter()
        .map(|r| Scorer::new(r, opts(false, false)))
        .collect::<Result<Vec<_>>>()?;
    let params = if args.gradients {
        scorer::prepare_gradients(&model)
    } else {
        Vec::new()
    };
    let corpus = match &args.reference_corpus {
        Some(p) => Some(open_reference(p)?),
        None => None,
    };
    let all_texts: Vec<&str> = records.iter().map(|r| r.text.as_str()).collect();
    let attacks = Attacks::open(&args.attacks, &basic, &ref_scorers, &all_texts)?;
    drop(all_texts);

    // a shard: its manifest, and a resume after the whole windows its file holds
    let mut manifest: Option<(crate::shard::Shard, crate::shard::Manifest)> = None;
    let mut done = 0;
    if let (Some((s, from)), Some(dir)) = (shard, &shard_dir) {
        let settings = settings(args, input, &records, &model, window_len, &attacks)?;
        let hash = super::model_hash(std::path::Path::new(&model.info().path))?;
        let identity = Some(super::identity(&model, hash));
        let mut m = crate::shard::Manifest::resume_or_new(dir, "score", &settings, identity, s)?;
        let path = dir.join(SHARD_LINES);
        done = crate::shard::resume_lines(&path, &owned, |w| windows[w].len())?;
        if !quiet {
            eprintln!(
                "memscan: score shard {s} (from {from}) into {}{}",
                dir.display(),
                if done > 0 {
                    format!("; resuming: {done} of {} windows already done", owned.len())
                } else {
                    String::new()
                }
            );
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_file(&path)?;
        out = Box::new(std::io::BufWriter::new(file));
        m.unit = format!("window of {window_len} texts");
        m.units_total = windows.len();
        m.units_owned = owned.len();
        m.units_done = done;
        m.complete = false;
        m.write(dir)?;
        manifest = Some((s, m));
    }
    let n_owned: usize = owned.iter().map(|&w| windows[w].len()).sum();
    let pb = super::progress_bar(n_owned as u64, quiet, "texts");
    pb.inc(
        owned[..done]
            .iter()
            .map(|&w| windows[w].len())
            .sum::<usize>() as u64,
    );
    let t0 = std::time::Instant::now();
    let mut tokens_total = 0usize;
    let mut scored_texts = 0usize;
    for (j, &w) in owned.iter().enumerate().skip(done) {
        let window = windows[w];
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
            references: &ref_scorers,
            params: &params,
            corpus: corpus.as_ref(),
            attacks: &attacks,
        }
        .of(&texts, args)?;
        // a window's lines in one write: a killed shard leaves whole windows
        let mut buf = String::new();
        for ((rec, s), e) in window.iter().zip(&scored).zip(&extras) {
            let line =
                serde_json::to_string(&Value::Object(row(rec, s, e, &model, args, &attacks)?))
                    .map_err(|e| Error::internal(format!("JSON: {e}")))?;
            buf.push_str(&line);
            buf.push('\n');
        }
        out.write_all(buf.as_bytes()).map_err(write_err(args))?;
        out.flush().map_err(write_err(args))?;
        scored_texts += window.len();
        if let (Some((_, m)), Some(dir)) = (manifest.as_mut(), &shard_dir) {
            m.units_done = j + 1;
            m.write(dir)?;
        }
    }
    pb.finish_and_clear();
    if let (Some((s, m)), Some(dir)) = (manifest.as_mut(), &shard_dir) {
        m.seconds += t0.elapsed().as_secs_f64();
        m.tokens += tokens_total;
        m.complete = true;
        m.write(dir)?;
        if !quiet {
            eprintln!(
                "memscan: shard {s} done; when all {} are, `memscan merge {}` writes {}",
                s.count,
                dir.parent().unwrap_or(dir).display(),
                SHARD_LINES
            );
        }
    }
    if !quiet {
        let secs = t0.elapsed().as_secs_f64();
        eprintln!(
            "memscan: scored {} texts, {} tokens in {:.1}s ({:.0} tokens/s)",
            scored_texts,
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
    references: &'a [Scorer<'a>],
    params: &'a [(Option<usize>, tch::Tensor)],
    corpus: Option<&'a Reference>,
    attacks: &'a Attacks,
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
        for rs in self.references {
            for (e, s) in extras.iter_mut().zip(rs.score(texts, |_, _| {})?) {
                e.nll_ref.push(signals::nll_mean(&s.token_logprobs));
            }
        }
        if let Some(nlls) = self.attacks.prefixed(self.basic, texts)? {
            for (e, n) in extras.iter_mut().zip(nlls) {
                e.nll_prefixed = n;
            }
        }
        if let Some(nlls) = self.attacks.member_prefixed(self.basic, texts)? {
            for (e, n) in extras.iter_mut().zip(nlls) {
                e.nll_member_prefixed = n;
            }
        }
        if let Some(nb) = self.attacks.neighbour_nlls(self.basic, texts)? {
            for (e, n) in extras.iter_mut().zip(nb) {
                e.nll_neighbours = Some(n);
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
    attacks: &Attacks,
) -> Result<Map<String, Value>> {
    let signals = signals::SignalSet::new(signals::Passes {
        main: s.pass_values(&rec.text, args.min_k),
        lowercase_nll: args.lowercase.then_some(e.nll_lower),
        reference: None,
        references: (!e.nll_ref.is_empty()).then(|| signals::References {
            target: signals::nll_mean(&s.token_logprobs),
            nll: &e.nll_ref,
            population: attacks.population.as_ref(),
        }),
        prefixed_nll: attacks.prefix.is_some().then_some(e.nll_prefixed),
        member_prefixed: attacks.con_recall_input(e.nll_member_prefixed),
        neighbours: e.nll_neighbours.as_deref(),
        frequency: attacks.frequency(s),
        retrain: None,
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
