//! `memscan scan`: prompts → batched sampling → one teacher-forced pass per sample
//! (signals of the continuation given its prompt) → detectors, verbatim index, exact
//! suffix → flags → samples.jsonl (streamed, resumable) → report.json/md/html/sarif.
//!
//! Resuming: every batch is generated from its own seed (the run's seed mixed with the
//! batch number), so a batch's samples do not depend on which batches ran before. A
//! batch is appended to samples.jsonl in one write once it is complete; on start, the
//! complete batches already there are kept (a torn last line or batch is dropped) and
//! the scan continues with the next batch.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::cli::{ScanArgs, ScanFailOn};
use crate::detect::{rules, Category, Engine};
use crate::error::{Error, IoContext, Result};
use crate::generate::{generate, SampleOptions};
use crate::model::{chat, LanguageModel, Model};
use crate::prompts::{self, Prompt};
use crate::report::rows::{Reason, SampleRow};
use crate::report::schema::{self, Calibration, FindingItem, ScanReport};
use crate::scorer::{ScoreOptions, Scorer};
use crate::signals::{self, Direction, SignalSet};
use crate::stats;

/// Signals a scan can flag on, besides those needing --reference-model/--attention.
const FLAGGABLE: &[&str] = &[
    "nll_mean",
    "perplexity",
    "zlib_ratio",
    "min_k",
    "min_k_pp",
    "window_ppl",
    "confidence",
    "margin",
    "entropy",
];

/// Settings that only change how the report is rendered (not the samples).
const RENDER_ONLY: &[&str] = &["dedup_threshold", "top", "fail_on", "out"];

pub fn run(args: &ScanArgs, quiet: bool) -> Result<i32> {
    check_args(args)?;
    let decay = parse_decay(args.temperature_decay.as_deref())?;
    let engine = Engine::new(rules::load(&args.patterns, &args.add_patterns)?)?;
    let flag = flag_signal(args)?;
    let model = super::load_model(&args.model, quiet)?;
    let tok = model.tokenizer();

    let mut prompts_list: Vec<Prompt> = Vec::new();
    if let Some(p) = &args.prefixes_from {
        let docs = crate::input::read_texts(p)?;
        prompts_list.extend(prompts::prefixes(&docs, tok, args.prefix_tokens, p)?);
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
        prompts_list.extend(prompts::load(s)?);
    }
    let encoded: Vec<Vec<u32>> = prompts_list
        .iter()
        .map(|p| encode_prompt(p, &model, args))
        .collect::<Result<_>>()?;

    let model_hash = super::model_hash(Path::new(&model.info().path))?;
    let settings = settings(args, &sets, &prompts_list, &model, &model_hash, &engine)?;
    let fingerprint = fingerprint(&settings);
    let out_dir = resolve_out(args, &model, &fingerprint)?;
    std::fs::create_dir_all(&out_dir).with_file(&out_dir)?;
    claim(&out_dir, &fingerprint, &settings)?;

    let temperature = if args.greedy { 0.0 } else { args.temperature };
    let sample_opts = SampleOptions {
        max_new_tokens: args.max_new_tokens,
        temperature,
        temperature_decay: decay,
        top_k: (args.top_k > 0).then_some(args.top_k),
        top_p: (args.top_p < 1.0).then_some(args.top_p),
        seed: args.seed,
        stop_at_eos: true,
    };
    let scorer = Scorer::new(
        &model,
        ScoreOptions {
            batch_size: args.batch_size,
            max_tokens: None,
            vocab_stats: true,
            attention: args.attention,
        },
    )?;
    let reference = super::load_reference(&args.model, &args.reference_model, quiet)?;
    let ref_scorer = match &reference {
        Some(r) => Some(Scorer::new(
            r,
            ScoreOptions {
                batch_size: args.batch_size,
                ..Default::default()
            },
        )?),
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

    // the work: (prompt, sample) pairs in order, cut into batches
    let units: Vec<(usize, usize)> = (0..prompts_list.len())
        .flat_map(|i| (0..args.samples_per_prompt).map(move |k| (i, k)))
        .collect();
    let n_batches = units.len().div_ceil(args.batch_size);
    let samples_path = out_dir.join("samples.jsonl");
    let (mut lines, done) = resume(&samples_path, &units, args.batch_size)?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&samples_path)
        .with_file(&samples_path)?;
    if !quiet && done > 0 {
        eprintln!(
            "memscan: resuming {}: {done} of {n_batches} batches already done",
            out_dir.display()
        );
    }

    let ctx = BatchContext {
        args,
        model: &model,
        prompts: &prompts_list,
        encoded: &encoded,
        scorer: &scorer,
        ref_scorer: ref_scorer.as_ref(),
        corpus: corpus.as_ref(),
        engine: &engine,
    };
    // computed once per folder (deterministic from the settings), so a resume reuses it
    let cal_path = out_dir.join("calibration.json");
    let cached: Option<Calibration> = std::fs::read_to_string(&cal_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let calibration = match cached {
        Some(report) => Cal { report, def: flag },
        None => {
            if !quiet && flag.is_some() {
                eprintln!(
                    "memscan: calibrating the {} threshold on continuations of non-member text",
                    args.flag_signal
                );
            }
            let c = calibrate(args, flag, &ctx, &sample_opts)?;
            super::report::write_json(
                &cal_path,
                &serde_json::to_value(&c.report).map_err(json_err)?,
            )?;
            c
        }
    };
    let pb = super::progress_bar(units.len() as u64, quiet, "samples");
    pb.inc((done * args.batch_size).min(units.len()) as u64);
    let t0 = std::time::Instant::now();
    let mut new_tokens = 0usize;
    for b in done..n_batches {
        let batch = &units[b * args.batch_size..((b + 1) * args.batch_size).min(units.len())];
        let opts = SampleOptions {
            seed: batch_seed(args.seed, b),
            ..sample_opts.clone()
        };
        let rows = ctx.run_batch(b, batch, &opts, &calibration)?;
        let mut buf = Vec::new();
        for r in &rows {
            new_tokens += r.n_new_tokens;
            serde_json::to_writer(&mut buf, r)
                .map_err(|e| Error::internal(format!("JSON: {e}")))?;
            buf.push(b'\n');
        }
        file.write_all(&buf).with_file(&samples_path)?;
        file.flush().with_file(&samples_path)?;
        lines.extend(rows);
        pb.inc(batch.len() as u64);
        pb.set_message(format!(
            "{:.0} new tok/s",
            new_tokens as f64 / t0.elapsed().as_secs_f64().max(1e-9)
        ));
    }
    pb.finish_and_clear();
    let secs = t0.elapsed().as_secs_f64();

    let report = build_report(BuildInputs {
        args,
        settings,
        model: &model,
        model_hash,
        prompts: prompts_list.len(),
        lines,
        calibration,
        seconds: secs,
        new_tokens_this_run: new_tokens,
    })?;
    super::report::write_report(
        &out_dir,
        &super::report::AnyReport::Scan(Box::new(report.clone())),
    )?;
    if !quiet {
        let s = &report.summary;
        eprintln!(
            "memscan: {} samples from {} prompts, {} flagged memorized ({} secret, {} pii findings); report in {}",
            s.samples,
            s.prompts,
            s.memorized,
            s.findings.secret,
            s.findings.pii,
            out_dir.display()
        );
    }
    Ok(exit_code(&report, args.fail_on))
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
    let ok = FLAGGABLE.contains(&a.flag_signal.as_str())
        || (a.flag_signal == "ref_ratio" && a.reference_model.is_some())
        || (a.flag_signal == "attn_entropy" && a.attention);
    match signals::def(&a.flag_signal) {
        Some(d) if ok => Ok(Some(d)),
        _ => Err(Error::input(format!(
            "--flag-signal {}: not a signal this scan computes (one of {}, ref_ratio with --reference-model, attn_entropy with --attention, or none)",
            a.flag_signal,
            FLAGGABLE.join(", ")
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

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
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
        "reference_model": a.reference_model,
        "attention": a.attention,
        "reference_corpus": a.reference_corpus.as_ref().map(|p| p.display().to_string()),
        "verbatim_tokens": a.verbatim_tokens,
        "calibration": file_hash(&a.calibration)?,
        "flag_signal": a.flag_signal,
        "flag_fpr": a.flag_fpr,
        "detector_rules": rule_ids.len(),
        "detector_rules_sha256": sha256_hex(rule_ids.join("\n").as_bytes()),
        "reveal": a.reveal,
        "dedup_threshold": a.dedup_threshold,
        "top": a.top,
        "fail_on": format!("{:?}", a.fail_on).to_lowercase(),
        "out": a.out.as_ref().map(|p| p.display().to_string()),
    });
    match v {
        Value::Object(m) => Ok(m),
        _ => Err(Error::internal("settings are not an object")),
    }
}

fn fingerprint(settings: &Map<String, Value>) -> String {
    let mut m = settings.clone();
    for k in RENDER_ONLY {
        m.remove(*k);
    }
    sha256_hex(Value::Object(m).to_string().as_bytes())
}

/// --out, or the newest unfinished reports/<model>-* folder of a scan with the same
/// settings, or a new reports/<model>-<UTC time>.
fn resolve_out(a: &ScanArgs, model: &Model, fp: &str) -> Result<PathBuf> {
    if let Some(o) = &a.out {
        return Ok(o.clone());
    }
    let prefix = format!("{}-", super::model_stem(model));
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
    Ok(super::default_out(model, None))
}

fn read_run(dir: &Path) -> Option<(String, Value)> {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).ok()?).ok()?;
    Some((v["fingerprint"].as_str()?.to_string(), v))
}

/// Takes the folder for this scan: writes run.json, or checks that the one there is
/// of a scan with the same settings.
fn claim(dir: &Path, fp: &str, settings: &Map<String, Value>) -> Result<()> {
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
        .map_err(json_err)?;
    std::fs::write(&path, body + "\n").with_file(&path)
}

fn batch_seed(seed: u64, batch: usize) -> u64 {
    let mut r = crate::stats::SplitMix(seed ^ (batch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    r.next_u64()
}

/// The complete batches already in samples.jsonl (rewriting the file without a torn
/// tail), and how many there are. A line that is not JSON ends what is kept (a torn
/// write); a JSON line that is not a sample row is an error: the file was changed.
fn resume(
    path: &Path,
    units: &[(usize, usize)],
    batch_size: usize,
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
    while let Some(rows) = by_batch.remove(&done) {
        let want = units
            .len()
            .saturating_sub(done * batch_size)
            .min(batch_size);
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

/// The flag threshold: the calibration texts' scores on the flag signal, and the
/// value that at most ⌊α·n⌋ of them are strictly beyond (toward "member").
struct Cal {
    report: Calibration,
    def: Option<&'static signals::SignalDef>,
}

impl Cal {
    fn flags(&self, v: Option<f64>) -> bool {
        match (self.def, self.report.threshold, v) {
            (Some(d), Some(t), Some(v)) => stats::is_beyond(d.direction, v, t),
            _ => false,
        }
    }
}

/// Tokens of each calibration text used as a prompt.
const CALIBRATION_PREFIX: usize = 8;
/// Continuations drawn per calibration text.
const CALIBRATION_SAMPLES: usize = 2;

/// The null distribution for the signal flag: the model's own continuations of
/// non-member text (the first tokens of each calibration text as a prompt, sampled with
/// the scan's settings), scored exactly like the scan's samples. Generated text is far
/// more likely under the model than human text, so thresholds from scoring human text
/// would flag nearly every sample; continuations of non-member prompts are like for like.
fn calibrate(
    a: &ScanArgs,
    def: Option<&'static signals::SignalDef>,
    ctx: &BatchContext,
    opts: &SampleOptions,
) -> Result<Cal> {
    let (records, source) = match &a.calibration {
        Some(p) => (
            crate::input::read_texts(p)?
                .into_iter()
                .map(|r| r.text)
                .collect::<Vec<_>>(),
            p.display().to_string(),
        ),
        None => (
            prompts::calibration_texts(),
            "built-in (prompts/calibration.jsonl)".to_string(),
        ),
    };
    let off = Cal {
        report: Calibration {
            signal: "none".into(),
            direction: String::new(),
            source: source.clone(),
            n_texts: 0,
            fpr: a.flag_fpr,
            achieved_fpr: 0.0,
            threshold: None,
        },
        def: None,
    };
    let Some(d) = def else { return Ok(off) };
    let tok = ctx.model.tokenizer();
    let mut prompt_ids = Vec::new();
    for t in &records {
        let ids = tok.encode(t)?;
        if ids.len() > CALIBRATION_PREFIX {
            prompt_ids.push(ids[..CALIBRATION_PREFIX].to_vec());
        }
    }
    if prompt_ids.is_empty() {
        return Err(Error::input(format!(
            "calibration set {source}: no text is longer than {CALIBRATION_PREFIX} tokens"
        )));
    }
    let cal_prompts: Vec<Prompt> = (0..prompt_ids.len())
        .map(|i| Prompt {
            id: format!("calibration/{i}"),
            set: "calibration".into(),
            text: String::new(),
            tags: Vec::new(),
            ids: None,
            truth: None,
        })
        .collect();
    let units: Vec<(usize, usize)> = (0..prompt_ids.len())
        .flat_map(|i| (0..CALIBRATION_SAMPLES).map(move |k| (i, k)))
        .collect();
    let cctx = BatchContext {
        prompts: &cal_prompts,
        encoded: &prompt_ids,
        corpus: None,
        ..*ctx
    };
    let mut values: Vec<f64> = Vec::new();
    for (b, batch) in units.chunks(a.batch_size).enumerate() {
        let o = SampleOptions {
            seed: batch_seed(a.seed ^ 0xca11_b4a7_e000_0000, b),
            ..opts.clone()
        };
        for row in cctx.run_batch(b, batch, &o, &off)? {
            if let Some(v) = row.signals.get(d.name) {
                values.push(v);
            }
        }
    }
    let Some((t, achieved_fpr)) = stats::threshold_at_fpr(&values, d.direction, a.flag_fpr) else {
        return Err(Error::input(format!(
            "calibration set {source}: no continuation gave a value of {}",
            d.name
        )));
    };
    Ok(Cal {
        report: Calibration {
            signal: d.name.into(),
            direction: super::dir_name(d.direction).into(),
            source,
            n_texts: values.len(),
            fpr: a.flag_fpr,
            achieved_fpr,
            threshold: Some(t),
        },
        def: Some(d),
    })
}

/// Everything a batch needs.
#[derive(Clone, Copy)]
struct BatchContext<'a> {
    args: &'a ScanArgs,
    model: &'a Model,
    prompts: &'a [Prompt],
    encoded: &'a [Vec<u32>],
    scorer: &'a Scorer<'a>,
    ref_scorer: Option<&'a Scorer<'a>>,
    corpus: Option<&'a (
        crate::verbatim::Index,
        Option<crate::model::tokenizer::Tokenizer>,
    )>,
    engine: &'a Engine,
}

impl BatchContext<'_> {
    /// Generates, scores and checks one batch; its samples.jsonl rows.
    fn run_batch(
        &self,
        b: usize,
        batch: &[(usize, usize)],
        opts: &SampleOptions,
        cal: &Cal,
    ) -> Result<Vec<SampleRow>> {
        let a = self.args;
        let tok = self.model.tokenizer();
        let prompt_ids: Vec<Vec<u32>> = batch
            .iter()
            .map(|&(i, _)| self.encoded[i].clone())
            .collect();
        let gens = generate(self.model, &prompt_ids, opts)?;
        let full: Vec<Vec<u32>> = prompt_ids
            .iter()
            .zip(&gens)
            .map(|(p, g)| p.iter().chain(&g.tokens).copied().collect())
            .collect();
        let scored = self.scorer.score_ids(&full, |_, _| {})?;
        let texts: Vec<(String, String)> = prompt_ids
            .iter()
            .zip(&gens)
            .map(|(p, g)| (tok.decode(p), tok.decode(&g.tokens)))
            .collect();
        let ref_nll: Option<Vec<Option<f64>>> = match self.ref_scorer {
            Some(rs) => {
                let fulls: Vec<String> = texts.iter().map(|(p, c)| format!("{p}{c}")).collect();
                let refs: Vec<&str> = fulls.iter().map(String::as_str).collect();
                Some(
                    rs.score(&refs, |_, _| {})?
                        .iter()
                        .map(|s| signals::nll_mean(&s.token_logprobs))
                        .collect(),
                )
            }
            None => None,
        };
        let mut rows = Vec::with_capacity(batch.len());
        for (j, &(pi, k)) in batch.iter().enumerate() {
            let p = &self.prompts[pi];
            let (ptext, ctext) = &texts[j];
            let s = &scored[j];
            let plen = prompt_ids[j].len();
            // the continuation's tokens given the prompt: log-probs from position plen
            let from = plen.saturating_sub(1).min(s.token_logprobs.len());
            let lp = &s.token_logprobs[from..];
            let stats = s.stats.as_ref().map(|st| {
                fn tail(v: &[f32], from: usize) -> &[f32] {
                    v.get(from..).unwrap_or_default()
                }
                signals::DistStats {
                    mu: tail(&st.mean_logp, from),
                    sigma: tail(&st.std_logp, from),
                    confidence: tail(&st.confidence, from),
                    margin: tail(&st.margin, from),
                }
            });
            let sig = SignalSet::new(signals::Passes {
                reference: ref_nll
                    .as_ref()
                    .map(|r| (signals::nll_mean(&s.token_logprobs), r[j])),
                attention: s.attn_entropy_layers.as_deref(),
                ..signals::Passes::main(signals::PassValues {
                    logprobs: lp,
                    stats,
                    text: ctext,
                    min_k_percent: a.min_k,
                })
            });
            let id = format!("{}#{k}", p.id);
            let full_text = format!("{ptext}{ctext}");
            let pbytes = ptext.len();
            let found: Vec<crate::detect::Finding> = self
                .engine
                .scan(full_text.as_bytes())
                .into_iter()
                .filter(|f| f.end > pbytes)
                .collect();
            let mut reasons: Vec<Reason> = Vec::new();
            for (cat, reason) in [
                (Category::Secret, Reason::Secret),
                (Category::Pii, Reason::Pii),
            ] {
                if found.iter().any(|f| f.category == cat) {
                    reasons.push(reason);
                }
            }
            let mut verbatim = None;
            if let Some((index, itok)) = self.corpus {
                let toks = match itok {
                    Some(t) => Some(t.encode_plain(ctext)?),
                    None => None,
                };
                let m = index.query(ctext.as_bytes(), toks.as_deref());
                let hit = match m.longest_match_tokens {
                    Some(t) => t >= a.verbatim_tokens,
                    None => m.longest_match_bytes >= 4 * a.verbatim_tokens,
                };
                if hit {
                    reasons.push(Reason::Verbatim);
                }
                verbatim = Some(m);
            }
            let mut suffix = None;
            if let Some(truth) = &p.truth {
                let n = gens[j]
                    .tokens
                    .iter()
                    .zip(truth)
                    .take_while(|(x, y)| x == y)
                    .count();
                let need = a.verbatim_tokens.min(truth.len()).min(a.max_new_tokens);
                if n >= need {
                    reasons.push(Reason::Suffix);
                }
                suffix = Some((n, truth.len()));
            }
            if cal.flags(sig.get(&a.flag_signal)) {
                reasons.push(Reason::Signal);
            }
            let findings: Vec<FindingItem> = found
                .iter()
                .map(|f| {
                    let spec = &self.engine.rules[f.rule].spec;
                    FindingItem {
                        sample_id: id.clone(),
                        rule_id: spec.id.clone(),
                        category: f.category.as_str().into(),
                        description: spec.description.clone(),
                        start: f.start,
                        end: f.end,
                        masked: f.masked(),
                        fingerprint: f.fingerprint(),
                        confidence: (f.confidence * 1000.0).round() / 1000.0,
                        value: a
                            .reveal
                            .then(|| String::from_utf8_lossy(&f.value).to_string()),
                    }
                })
                .collect();
            let shown = if a.reveal {
                full_text.clone()
            } else {
                masked_text(&full_text, &found)
            };
            rows.push(SampleRow {
                batch: b,
                id,
                prompt_id: p.id.clone(),
                set: p.set.clone(),
                tags: p.tags.clone(),
                sample: k,
                longest_match_bytes: verbatim.as_ref().map(|m| m.longest_match_bytes),
                longest_match_tokens: verbatim.as_ref().and_then(|m| m.longest_match_tokens),
                suffix_match_tokens: suffix.map(|s| s.0),
                truth_tokens: suffix.map(|s| s.1),
                prompt_bytes: pbytes,
                text: shown,
                n_new_tokens: gens[j].tokens.len(),
                stopped: gens[j].stopped,
                signals: sig,
                findings,
                memorized: !reasons.is_empty(),
                reasons,
            });
        }
        Ok(rows)
    }
}

/// The text with every finding's value replaced by its masked form.
fn masked_text(text: &str, found: &[crate::detect::Finding]) -> String {
    let mut spans: Vec<(usize, usize, String)> =
        found.iter().map(|f| (f.start, f.end, f.masked())).collect();
    spans.sort_by_key(|s| s.0);
    let mut out = String::new();
    let mut at = 0;
    for (s, e, m) in spans {
        if s < at || e > text.len() || !text.is_char_boundary(s) || !text.is_char_boundary(e) {
            continue;
        }
        out.push_str(&text[at..s]);
        out.push_str(&m);
        at = e;
    }
    out.push_str(&text[at..]);
    out
}

struct BuildInputs<'a> {
    args: &'a ScanArgs,
    settings: Map<String, Value>,
    model: &'a Model,
    model_hash: String,
    prompts: usize,
    lines: Vec<SampleRow>,
    calibration: Cal,
    seconds: f64,
    new_tokens_this_run: usize,
}

fn build_report(i: BuildInputs) -> Result<ScanReport> {
    use crate::report::schema::{
        CategoryCounts, ExactSuffix, Histogram, ReasonCounts, SampleItem, ScanSummary, SetCounts,
        SignalSummary, TopItem,
    };
    let a = i.args;
    let mut items: Vec<SampleItem> = Vec::with_capacity(i.lines.len());
    let mut findings: Vec<FindingItem> = Vec::new();
    for l in i.lines {
        findings.extend(l.findings);
        items.push(SampleItem {
            id: l.id,
            prompt_id: l.prompt_id,
            set: l.set,
            prompt_bytes: l.prompt_bytes,
            text: l.text,
            n_new_tokens: l.n_new_tokens,
            memorized: l.memorized,
            reasons: l.reasons,
            group: 0,
            signals: l.signals,
            longest_match_tokens: l.longest_match_tokens,
            longest_match_bytes: l.longest_match_bytes,
            suffix_match_tokens: l.suffix_match_tokens,
        });
    }
    let conts: Vec<&str> = items
        .iter()
        .map(|s| s.text.get(s.prompt_bytes..).unwrap_or(""))
        .collect();
    let groups = crate::dedup::group(&conts, a.dedup_threshold);
    for (s, g) in items.iter_mut().zip(&groups) {
        s.group = *g;
    }
    let n_groups = {
        let mut g = groups.clone();
        g.sort_unstable();
        g.dedup();
        g.len()
    };

    let mut sig_names: Vec<&'static signals::SignalDef> = Vec::new();
    for d in signals::SIGNALS {
        if items.iter().any(|s| !s.signals.slot(d.name).not_run()) {
            sig_names.push(d);
        }
    }
    let signals_out: Vec<SignalSummary> = sig_names
        .iter()
        .map(|d| {
            let mut vals: Vec<(f64, usize)> = items
                .iter()
                .enumerate()
                .filter_map(|(k, s)| s.signals.get(d.name).map(|v| (v, k)))
                .collect();
            let raw: Vec<f64> = vals.iter().map(|v| v.0).collect();
            vals.sort_by(|x, y| match d.direction {
                Direction::Lower => x.0.total_cmp(&y.0),
                Direction::Higher => y.0.total_cmp(&x.0),
            });
            let mut seen = std::collections::HashSet::new();
            let top: Vec<TopItem> = vals
                .iter()
                .filter(|(_, k)| seen.insert(items[*k].group))
                .take(a.top)
                .map(|&(v, k)| TopItem {
                    sample_id: items[k].id.clone(),
                    value: v,
                    group: items[k].group,
                })
                .collect();
            let (edges, counts) = stats::histogram(&raw, 20);
            SignalSummary {
                name: d.name.into(),
                direction: super::dir_name(d.direction).into(),
                description: d.description.into(),
                n: raw.len(),
                mean: (!raw.is_empty()).then(|| raw.iter().sum::<f64>() / raw.len() as f64),
                median: stats::median(&raw),
                histogram: Histogram { edges, counts },
                top,
            }
        })
        .collect();

    let count_reason = |r: Reason| items.iter().filter(|s| s.reasons.contains(&r)).count();
    let by_reason = ReasonCounts {
        secret: count_reason(Reason::Secret),
        pii: count_reason(Reason::Pii),
        verbatim: count_reason(Reason::Verbatim),
        suffix: count_reason(Reason::Suffix),
        signal: count_reason(Reason::Signal),
    };
    let counts = |c: &str| {
        let fs: Vec<&FindingItem> = findings.iter().filter(|f| f.category == c).collect();
        let mut fp: Vec<&str> = fs.iter().map(|f| f.fingerprint.as_str()).collect();
        fp.sort_unstable();
        fp.dedup();
        (fs.len(), fp.len())
    };
    let ((secret, secret_distinct), (pii, pii_distinct)) = (counts("secret"), counts("pii"));
    let mut by_set: BTreeMap<String, SetCounts> = BTreeMap::new();
    for s in &items {
        let e = by_set.entry(s.set.clone()).or_default();
        e.samples += 1;
        e.memorized += usize::from(s.memorized);
    }
    let suffix_matches: Vec<usize> = items.iter().filter_map(|s| s.suffix_match_tokens).collect();
    let exact_suffix = (!suffix_matches.is_empty()).then(|| ExactSuffix {
        samples: suffix_matches.len(),
        mean_match_tokens: suffix_matches.iter().sum::<usize>() as f64
            / suffix_matches.len() as f64,
        extracted: count_reason(Reason::Suffix),
    });
    let generated: usize = items.iter().map(|s| s.n_new_tokens).sum();
    let summary = ScanSummary {
        prompts: i.prompts,
        samples: items.len(),
        generated_tokens: generated,
        seconds: (i.seconds * 100.0).round() / 100.0,
        tokens_per_second: (i.new_tokens_this_run as f64 / i.seconds.max(1e-9) * 10.0).round()
            / 10.0,
        memorized: items.iter().filter(|s| s.memorized).count(),
        by_reason,
        findings: CategoryCounts { secret, pii },
        distinct_values: CategoryCounts {
            secret: secret_distinct,
            pii: pii_distinct,
        },
        near_duplicate_groups: n_groups,
        by_set,
        exact_suffix,
    };
    Ok(ScanReport {
        schema_version: crate::report::SCHEMA_VERSION.into(),
        kind: "scan".into(),
        tool: schema::Tool::current(),
        created: schema::utc_now(),
        model: super::identity(i.model, i.model_hash),
        settings: i.settings,
        summary,
        calibration: i.calibration.report,
        signals: signals_out,
        findings,
        items,
    })
}

/// 1 when a sample has what --fail-on names.
fn exit_code(r: &ScanReport, fail_on: ScanFailOn) -> i32 {
    let has = |reason: Reason| r.items.iter().any(|s| s.reasons.contains(&reason));
    let hit = match fail_on {
        ScanFailOn::None => false,
        ScanFailOn::Secret => has(Reason::Secret),
        ScanFailOn::Pii => has(Reason::Pii),
        ScanFailOn::Verbatim => has(Reason::Verbatim) || has(Reason::Suffix),
        ScanFailOn::Memorized => r.items.iter().any(|s| s.memorized),
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

    #[test]
    fn batch_seeds_differ_and_repeat() {
        assert_eq!(batch_seed(7, 3), batch_seed(7, 3));
        assert_ne!(batch_seed(7, 3), batch_seed(7, 4));
        assert_ne!(batch_seed(7, 3), batch_seed(8, 3));
    }
}
