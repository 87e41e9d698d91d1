//! `memscan scan`: prompts → batched sampling → one teacher-forced pass per sample
//! (signals of the continuation given its prompt) → detectors, verbatim index, exact
//! suffix → flags → samples.jsonl (streamed, resumable) → report.json/md/html/sarif.
//! This file turns the flags into a `scan::ScanConfig` and wires the stages of
//! `crate::scan` together.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::cli::{ScanArgs, ScanFailOn};
use crate::detect::{rules, Engine};
use crate::error::{Error, IoContext, Result};
use crate::generate::SampleOptions;
use crate::model::{chat, LanguageModel, Model};
use crate::prompts::{self, Prompt};
use crate::report::rows::{Reason, SampleRow};
use crate::report::schema::{Calibration, ScanReport};
use crate::scan::batch::BatchContext;
use crate::scan::calibrate::{self, Cal};
use crate::scan::state::{self, sha256_hex};
use crate::scan::summary::{self, BuildInputs};
use crate::scan::{ReportOptions, ScanConfig};
use crate::scorer::{ScoreOptions, Scorer};
use crate::signals::{self, Pass};

pub fn run(args: &ScanArgs, quiet: bool) -> Result<i32> {
    check_args(args)?;
    let decay = parse_decay(args.temperature_decay.as_deref())?;
    let engine = Engine::new(rules::load(&args.patterns, &args.add_patterns)?)?;
    let cfg = ScanConfig {
        min_k: args.min_k,
        verbatim_tokens: args.verbatim_tokens,
        max_new_tokens: args.max_new_tokens,
        batch_size: args.batch_size,
        seed: args.seed,
        reveal: args.reveal,
        flag: flag_signal(args)?,
        flag_fpr: args.flag_fpr,
        calibration: args.calibration.clone(),
    };
    let report_opts = ReportOptions {
        dedup_threshold: args.dedup_threshold,
        top: args.top,
        alpha: args.alpha,
        known: match &args.known_findings {
            Some(p) => Some(crate::scan::evidence::read_known(p)?),
            None => None,
        },
    };
    let shard = crate::shard::Shard::resolve(args.shard.as_deref())?;
    let shard_dir = match shard {
        Some((s, _)) => Some(crate::shard::shard_dir(args.out.as_deref(), s, "scan")?),
        None => None,
    };
    let (model, references) = super::load_with_references(
        &args.model,
        &args.reference_model,
        &args.reference_adapter,
        quiet,
    )?;
    let (prompts_list, sets) = gather_prompts(args, &model)?;
    let encoded: Vec<Vec<u32>> = prompts_list
        .iter()
        .map(|p| encode_prompt(p, &model, args))
        .collect::<Result<_>>()?;

    let model_hash = super::model_hash(Path::new(&model.info().path))?;
    let settings = settings(args, &sets, &prompts_list, &model, &model_hash, &engine)?;
    let fingerprint = state::fingerprint(&settings);
    let out_dir = match shard_dir {
        Some(d) => d,
        None => state::resolve_out(args.out.as_deref(), &model, &fingerprint)?,
    };
    std::fs::create_dir_all(&out_dir).with_file(&out_dir)?;
    state::claim(&out_dir, &fingerprint, &settings)?;
    let identity = super::identity(&model, model_hash);

    let sample_opts = sample_options(args, decay);
    let scorer = Scorer::new(
        &model,
        ScoreOptions {
            batch_size: args.batch_size,
            max_tokens: None,
            vocab_stats: true,
            attention: args.attention,
        },
    )?;
    let reference = references.first();
    let ref_scorers = references
        .iter()
        .map(|r| {
            Scorer::new(
                r,
                ScoreOptions {
                    batch_size: args.batch_size,
                    ..Default::default()
                },
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let population = match &args.population {
        Some(p) => Some(super::attacks::rmia_population(
            p,
            args.rmia_a,
            &scorer,
            &ref_scorers,
            &[],
        )?),
        None => None,
    };
    let freq = match &args.token_freq {
        Some(p) => Some(crate::token_freq::TokenFreq::open(p, model.tokenizer())?),
        None => None,
    };
    let corpus = match &args.reference_corpus {
        Some(p) => {
            let index = crate::verbatim::Index::open(p)?;
            let t = index.tokenizer(None)?;
            Some((index, t))
        }
        None => None,
    };
    let ctx = BatchContext {
        cfg: &cfg,
        model: &model,
        prompts: &prompts_list,
        encoded: &encoded,
        scorer: &scorer,
        ref_scorers: &ref_scorers,
        population: population.as_ref(),
        ref_tokenizer: reference.map(|r| r.tokenizer()),
        corpus: corpus.as_ref(),
        freq: freq.as_ref(),
        engine: &engine,
    };
    // a shard's calibration is shared with the run's other shards through the run folder
    let shared = shard.as_ref().and_then(|_| {
        let run_dir = out_dir.parent()?;
        Some(run_dir.join(format!("calibration-{}.json", &fingerprint[..16])))
    });
    let calibration = calibration_of(&out_dir, shared.as_deref(), args, &ctx, &sample_opts, quiet)?;
    if let Some((s, from)) = shard {
        let mut manifest =
            crate::shard::Manifest::resume_or_new(&out_dir, "scan", &settings, Some(identity), s)?;
        if !quiet {
            eprintln!(
                "memscan: scan shard {s} (from {from}) into {}",
                out_dir.display()
            );
        }
        let sampled = sample_all(
            &out_dir,
            args,
            &ctx,
            &sample_opts,
            &calibration,
            Some((s, &mut manifest)),
            quiet,
        )?;
        manifest.seconds += sampled.seconds;
        manifest.tokens += sampled.new_tokens;
        manifest.complete = true;
        manifest.write(&out_dir)?;
        if !quiet {
            eprintln!(
                "memscan: shard {s} done ({} samples); when all {} are, `memscan merge {}` writes the report",
                sampled.rows.len(),
                s.count,
                out_dir.parent().unwrap_or(&out_dir).display()
            );
        }
        return Ok(0);
    }
    let sampled = sample_all(
        &out_dir,
        args,
        &ctx,
        &sample_opts,
        &calibration,
        None,
        quiet,
    )?;

    let report = summary::build_report(BuildInputs {
        opts: &report_opts,
        settings,
        model: identity,
        prompts: prompts_list.len(),
        lines: sampled.rows,
        calibration: calibration.report,
        seconds: sampled.seconds,
        new_tokens_this_run: sampled.new_tokens,
    })?;
    crate::report::folder::write_report(
        &out_dir,
        &crate::report::folder::AnyReport::Scan(&report),
    )?;
    if !quiet {
        let s = &report.summary;
        eprintln!(
            "memscan: {} samples from {} prompts: {}; report in {}",
            s.samples,
            s.prompts,
            crate::report::markdown::level_headline(s),
            out_dir.display()
        );
    }
    Ok(exit_code(&report, args.fail_on))
}

/// The prompts of the run: prefixes of `--prefixes-from` documents, then the named sets
/// (every built-in set when neither is given); and the names of those sets.
fn gather_prompts(args: &ScanArgs, model: &Model) -> Result<(Vec<Prompt>, Vec<String>)> {
    let mut list: Vec<Prompt> = Vec::new();
    if let Some(p) = &args.prefixes_from {
        let docs = crate::input::read_texts(p)?;
        list.extend(prompts::prefixes(
            &docs,
            model.tokenizer(),
            args.prefix_tokens,
            p,
        )?);
    }
    let sets: Vec<String> = if args.prompts.is_empty() && args.prefixes_from.is_none() {
        prompts::BUILTIN
            .iter()
            .map(|(n, _)| n.to_string())
            .collect()
    } else {
        args.prompts.clone()
    };
    for s in &sets {
        list.extend(prompts::load(s)?);
    }
    Ok((list, sets))
}

fn sample_options(args: &ScanArgs, decay: Option<(f64, usize)>) -> SampleOptions {
    SampleOptions {
        max_new_tokens: args.max_new_tokens,
        temperature: if args.greedy { 0.0 } else { args.temperature },
        temperature_decay: decay,
        top_k: (args.top_k > 0).then_some(args.top_k),
        top_p: (args.top_p < 1.0).then_some(args.top_p),
        seed: args.seed,
        stop_at_eos: true,
    }
}

/// The flag threshold's calibration: computed once per report folder (deterministic
/// from the settings) and kept in calibration.json, so a resumed run reuses it. A shard
/// also looks in `shared`, the run folder's copy for its settings: only shards that start
/// together compute it, and the first to finish publishes it for all.
fn calibration_of(
    out_dir: &Path,
    shared: Option<&Path>,
    args: &ScanArgs,
    ctx: &BatchContext,
    sample_opts: &SampleOptions,
    quiet: bool,
) -> Result<Cal> {
    let cal_path = out_dir.join("calibration.json");
    let read = |p: &Path| -> Option<Calibration> {
        serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()
    };
    if let Some(report) = read(&cal_path).or_else(|| shared.and_then(read)) {
        crate::report::folder::write_json(
            &cal_path,
            &serde_json::to_value(&report).map_err(json_err)?,
        )?;
        return Ok(Cal {
            report,
            def: ctx.cfg.flag,
        });
    }
    if !quiet && ctx.cfg.flag.is_some() {
        eprintln!(
            "memscan: calibrating the {} threshold on continuations of non-member text",
            args.flag_signal
        );
    }
    let mut c = calibrate::calibrate(ctx.cfg, ctx, sample_opts)?;
    if let Some(p) = shared {
        // the first shard to finish calibrating publishes; the others adopt its thresholds
        // before they sample, so every shard of the run flags alike (on any hardware)
        let body = serde_json::to_string_pretty(&c.report).map_err(json_err)? + "\n";
        if !crate::report::folder::write_file_first(p, &body)? {
            c.report = read(p).ok_or_else(|| Error::file(p, "not a calibration"))?;
        }
    }
    let v = serde_json::to_value(&c.report).map_err(json_err)?;
    crate::report::folder::write_json(&cal_path, &v)?;
    Ok(c)
}

/// Every sample row of the run, and what this run itself did.
struct Sampled {
    rows: Vec<SampleRow>,
    seconds: f64,
    new_tokens: usize,
}

/// Samples every (prompt, sample) pair in batches (a shard: its batches), appending each
/// batch's rows to samples.jsonl as it finishes; the batches a previous run of the same
/// folder finished are read back, not redone. A shard's manifest is written before the
/// first new batch (incomplete) and says how many batches are done.
fn sample_all(
    out_dir: &Path,
    args: &ScanArgs,
    ctx: &BatchContext,
    sample_opts: &SampleOptions,
    calibration: &Cal,
    mut shard: Option<(crate::shard::Shard, &mut crate::shard::Manifest)>,
    quiet: bool,
) -> Result<Sampled> {
    let units: Vec<(usize, usize)> = (0..ctx.prompts.len())
        .flat_map(|i| (0..args.samples_per_prompt).map(move |k| (i, k)))
        .collect();
    let bs = args.batch_size;
    let n_batches = units.len().div_ceil(bs);
    let owned: Vec<usize> = match &shard {
        Some((s, _)) => s.units(n_batches),
        None => (0..n_batches).collect(),
    };
    let batch_len = |b: usize| units.len().saturating_sub(b * bs).min(bs);
    let samples_path = out_dir.join("samples.jsonl");
    let (mut rows, done) = state::resume(&samples_path, &owned, batch_len)?;
    if let Some((_, m)) = shard.as_mut() {
        m.unit = "batch of prompt × sample pairs".into();
        m.units_total = n_batches;
        m.units_owned = owned.len();
        m.units_done = done;
        m.complete = false;
        m.write(out_dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&samples_path)
        .with_file(&samples_path)?;
    if !quiet && done > 0 {
        eprintln!(
            "memscan: resuming {}: {done} of {} batches already done",
            out_dir.display(),
            owned.len()
        );
    }
    let owned_samples: usize = owned.iter().map(|&b| batch_len(b)).sum();
    let pb = super::progress_bar(owned_samples as u64, quiet, "samples");
    pb.inc(owned[..done].iter().map(|&b| batch_len(b)).sum::<usize>() as u64);
    let t0 = std::time::Instant::now();
    let mut new_tokens = 0usize;
    for (j, &b) in owned.iter().enumerate().skip(done) {
        let batch = &units[b * bs..(b * bs + batch_len(b))];
        let opts = SampleOptions {
            seed: state::batch_seed(args.seed, b),
            ..sample_opts.clone()
        };
        let batch_rows = ctx.run_batch(b, batch, &opts, calibration)?;
        let mut buf = Vec::new();
        for r in &batch_rows {
            new_tokens += r.n_new_tokens;
            serde_json::to_writer(&mut buf, r).map_err(json_err)?;
            buf.push(b'\n');
        }
        file.write_all(&buf).with_file(&samples_path)?;
        file.flush().with_file(&samples_path)?;
        if let Some((_, m)) = shard.as_mut() {
            m.units_done = j + 1;
            m.write(out_dir)?;
        }
        rows.extend(batch_rows);
        pb.inc(batch.len() as u64);
        pb.set_message(format!(
            "{:.0} new tok/s",
            new_tokens as f64 / t0.elapsed().as_secs_f64().max(1e-9)
        ));
    }
    pb.finish_and_clear();
    Ok(Sampled {
        rows,
        seconds: t0.elapsed().as_secs_f64(),
        new_tokens,
    })
}

fn json_err(e: serde_json::Error) -> Error {
    Error::internal(format!("JSON: {e}"))
}

fn check_args(a: &ScanArgs) -> Result<()> {
    let bad = |m: String| Err(Error::input(m));
    if a.batch_size == 0 {
        return bad("--batch-size must be at least 1".into());
    }
    if a.samples_per_prompt == 0 {
        return bad("--samples-per-prompt must be at least 1".into());
    }
    if a.max_new_tokens == 0 {
        return bad("--max-new-tokens must be at least 1".into());
    }
    if !(a.temperature >= 0.0 && a.temperature.is_finite()) {
        return bad(format!("--temperature {}: must be ≥ 0", a.temperature));
    }
    if !(a.top_p > 0.0 && a.top_p <= 1.0) {
        return bad(format!("--top-p {}: must be in (0, 1]", a.top_p));
    }
    if !(a.min_k > 0.0 && a.min_k <= 100.0) {
        return bad(format!("--min-k {}: must be in (0, 100]", a.min_k));
    }
    if !(a.flag_fpr > 0.0 && a.flag_fpr < 1.0) {
        return bad(format!("--flag-fpr {}: must be in (0, 1)", a.flag_fpr));
    }
    if !(a.alpha > 0.0 && a.alpha < 1.0) {
        return bad(format!("--alpha {}: must be in (0, 1)", a.alpha));
    }
    if !(a.dedup_threshold > 0.0 && a.dedup_threshold <= 1.0) {
        return bad(format!(
            "--dedup-threshold {}: must be in (0, 1]",
            a.dedup_threshold
        ));
    }
    Ok(())
}

/// "START:TOKENS" → (start temperature, tokens).
fn parse_decay(s: Option<&str>) -> Result<Option<(f64, usize)>> {
    let Some(s) = s else { return Ok(None) };
    let bad = || {
        Error::input(format!(
            "--temperature-decay {s}: expected START:TOKENS, e.g. 10:20"
        ))
    };
    let (a, b) = s.split_once(':').ok_or_else(bad)?;
    let start: f64 = a.trim().parse().map_err(|_| bad())?;
    let n: usize = b.trim().parse().map_err(|_| bad())?;
    if !(start > 0.0 && start.is_finite()) || n == 0 {
        return Err(bad());
    }
    Ok(Some((start, n)))
}

fn flag_signal(a: &ScanArgs) -> Result<Option<&'static signals::SignalDef>> {
    if a.flag_signal == "none" {
        return Ok(None);
    }
    let n_references = super::reference_specs(&a.reference_model, &a.reference_adapter)?.len();
    // what a scan computes: every sample's pass with the distribution statistics,
    // plus the reference model's pass and the attention path when asked for
    let computed = |d: &signals::SignalDef| match d.pass {
        Pass::Main | Pass::Distribution => true,
        Pass::Reference => match d.name {
            "ref_ratio" => !a.reference_model.is_empty(),
            "lira" => n_references >= 2,
            "rmia" => a.population.is_some(),
            _ => false,
        },
        Pass::Attention => a.attention,
        Pass::Frequency => a.token_freq.is_some(),
        Pass::Lowercase | Pass::Gradients | Pass::Prefixed | Pass::Neighbours | Pass::Retrain => {
            false
        }
    };
    let always: Vec<&str> = signals::SIGNALS
        .iter()
        .filter(|d| matches!(d.pass, Pass::Main | Pass::Distribution))
        .map(|d| d.name)
        .collect();
    match signals::def(&a.flag_signal) {
        Some(d) if computed(d) => Ok(Some(d)),
        _ => Err(Error::input(format!(
            "--flag-signal {}: not a signal this scan computes (one of {}, ref_ratio with --reference-model, lira with two or more, rmia with --population, attn_entropy with --attention, dc_pdd with --token-freq, or none)",
            a.flag_signal,
            always.join(", ")
        ))),
    }
}

/// A prompt's token ids: corpus prefixes as they are; text through the chat template
/// with --chat; an empty text is the BOS token (untargeted sampling).
fn encode_prompt(p: &Prompt, model: &Model, a: &ScanArgs) -> Result<Vec<u32>> {
    let tok = model.tokenizer();
    let ids = match &p.ids {
        Some(ids) => ids.clone(),
        None if a.chat => tok.encode_plain(&chat::wrap(tok, &p.text)?)?,
        None => tok.encode(&p.text)?,
    };
    let ids = if ids.is_empty() {
        match tok.bos_id.or(tok.eos_id) {
            Some(b) => vec![b],
            None => {
                return Err(Error::input(format!(
                    "prompt {}: empty, and the tokenizer has no BOS token to start from",
                    p.id
                )))
            }
        }
    } else {
        ids
    };
    let ctx = model.info().max_positions.max(1) as usize;
    if ids.len() + a.max_new_tokens > ctx {
        return Err(Error::input(format!(
            "prompt {} ({} tokens) + --max-new-tokens {} exceeds the model's context of {ctx} tokens",
            p.id,
            ids.len(),
            a.max_new_tokens
        )));
    }
    Ok(ids)
}

/// Every setting that shapes the samples or the flags (and the render-only ones).
fn settings(
    a: &ScanArgs,
    sets: &[String],
    prompts: &[Prompt],
    model: &Model,
    model_hash: &str,
    engine: &Engine,
) -> Result<Map<String, Value>> {
    let prompt_text: String = prompts
        .iter()
        .map(|p| format!("{}\u{1}{}\u{1}{:?}\n", p.id, p.text, p.ids))
        .collect();
    let rule_ids: Vec<&str> = engine.rules.iter().map(|r| r.spec.id.as_str()).collect();
    let file_hash = |p: &Option<PathBuf>| -> Result<Value> {
        Ok(match p {
            Some(p) => {
                json!({"path": p.display().to_string(), "sha256": sha256_hex(&std::fs::read(p).with_file(p)?)})
            }
            None => Value::Null,
        })
    };
    let v = json!({
        "model": model.info().spec,
        "model_sha256": model_hash,
        "device": model.info().device,
        "dtype": model.info().dtype,
        "prompt_sets": sets,
        "prompts_sha256": sha256_hex(prompt_text.as_bytes()),
        "chat": a.chat,
        "prefixes_from": file_hash(&a.prefixes_from)?,
        "prefix_tokens": a.prefixes_from.as_ref().map(|_| a.prefix_tokens),
        "samples_per_prompt": a.samples_per_prompt,
        "max_new_tokens": a.max_new_tokens,
        "temperature": if a.greedy { 0.0 } else { a.temperature },
        "top_k": a.top_k,
        "top_p": a.top_p,
        "temperature_decay": a.temperature_decay,
        "seed": a.seed,
        "batch_size": a.batch_size,
        "min_k": a.min_k,
        "reference_model": super::one_or_many(&a.reference_model),
        "attention": a.attention,
        "reference_corpus": a.reference_corpus.as_ref().map(|p| p.display().to_string()),
        "verbatim_tokens": a.verbatim_tokens,
        "calibration": file_hash(&a.calibration)?,
        // which field of the calibration and prefix records is the text
        "text_field": crate::input::text_field(),
        "id_field": crate::input::id_field(),
        "flag_signal": a.flag_signal,
        "flag_fpr": a.flag_fpr,
        "token_freq": a.token_freq.as_ref().map(|p| p.display().to_string()),
        "population": file_hash(&a.population)?,
        "rmia_a": a.population.as_ref().map(|_| a.rmia_a),
        "detector_rules": rule_ids.len(),
        "detector_rules_sha256": sha256_hex(rule_ids.join("\n").as_bytes()),
        "reveal": a.reveal,
        "alpha": a.alpha,
        "known_findings": file_hash(&a.known_findings)?,
        "dedup_threshold": a.dedup_threshold,
        "top": a.top,
        "fail_on": format!("{:?}", a.fail_on).to_lowercase(),
        "out": a.out.as_ref().map(|p| p.display().to_string()),
    });
    super::with_setup(
        v,
        model,
        a.model.adapter.as_deref(),
        a.reference_adapter.as_slice(),
    )
}

/// 1 when a sample has what --fail-on names.
pub fn exit_code(r: &ScanReport, fail_on: ScanFailOn) -> i32 {
    let has = |reason: Reason| r.items.iter().any(|s| s.reasons.contains(&reason));
    let hit = match fail_on {
        ScanFailOn::None => false,
        ScanFailOn::Secret => has(Reason::Secret),
        ScanFailOn::Pii => has(Reason::Pii),
        ScanFailOn::Verbatim => has(Reason::Verbatim) || has(Reason::Suffix),
        ScanFailOn::Flagged => r.items.iter().any(|s| s.flagged),
        ScanFailOn::Memorized => r.items.iter().any(|s| s.memorized),
        ScanFailOn::Confirmed => r
            .items
            .iter()
            .any(|s| s.level == Some(crate::report::schema::Level::Confirmed)),
    };
    if hit {
        crate::error::EXIT_FINDINGS
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decay_parses_start_and_tokens() {
        assert_eq!(parse_decay(Some("10:20")).ok().flatten(), Some((10.0, 20)));
        assert!(parse_decay(Some("10")).is_err());
        assert!(parse_decay(Some("0:20")).is_err());
        assert!(parse_decay(Some("5:0")).is_err());
        assert_eq!(parse_decay(None).ok().flatten(), None);
    }
}
