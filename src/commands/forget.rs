//! `memscan forget-check`: for each of a person's records, does the model still hold
//! it? Value tests: each personal value, given the text before it, ranked against
//! values the model itself writes in its place, as rank p-values (`forget::values`).
//! Record test, with `--calibration`: the record's `ref_ratio` (with a reference model)
//! or `min_k_pp` (or the `--record-signal` chosen) ranked among non-member records. Extraction: greedy continuations of
//! the record's first tokens against its rest, checked against the reference model.
//! The levels of all tests of one person's records sum to α, and a record whose tests
//! cannot reach theirs is `inconclusive` (`forget::verdict`).

use std::collections::HashMap;
use std::path::Path;

use serde_json::{json, Value};

use crate::cli::ForgetArgs;
use crate::detect::{engine::mask, rules, Engine};
use crate::error::{Error, IoContext, Result};
use crate::forget::personal::personal;
use crate::forget::values::{locate, rank_p, value_test, NullDraws, ValueOutcome};
use crate::forget::verdict::{decide, levels, value_rejects};
use crate::input::{read_texts, TextRecord};
use crate::model::{LanguageModel, Model};
use crate::report::schema::{
    self, AttributeResult, ExtractionAttempt, ForgetReport, ForgetSummary, ForgetTest,
    RecordResult, Verdict,
};
use crate::scorer::{ScoreOptions, ScoredText, Scorer};
use crate::signals::{self, Direction, SignalSet};
use crate::stats::{self, SplitMix};

/// The record signal tested against `--calibration`: the likelihood ratio with a
/// reference model, else Min-K%++ (the strongest of each kind on the real-model
/// fixture, README); one test, so that the level is not split among correlated ones.
const RECORD_SIGNAL: &str = "min_k_pp";
const RECORD_SIGNAL_WITH_REFERENCE: &str = "ref_ratio";
/// Characters of a value's context shown in the report.
const SHOWN_CONTEXT: usize = 160;
/// Draws for a value's rank and exposure when there is no reference model to make its
/// value test valid (it is then reported, not tested).
const DESCRIPTIVE_DRAWS: usize = 63;

pub fn run(args: &ForgetArgs, quiet: bool) -> Result<i32> {
    check_args(args)?;
    let shard = crate::shard::Shard::resolve(args.shard.as_deref())?;
    let shard_dir = match shard {
        Some((s, _)) => Some(crate::shard::shard_dir(
            args.out.as_deref(),
            s,
            "forget-check",
        )?),
        None => None,
    };
    let records = read_records(&args.records)?;
    let unlearning_opts = crate::unlearning::Options::of(
        &args.unlearning,
        args.batch_size,
        &crate::unlearning::FORGET_NAMES,
    )?;
    // read (and checked) before any model is loaded
    let qa = match &args.unlearning.forget_qa {
        Some(p) => crate::unlearning::read_qa(p)?,
        None => Vec::new(),
    };
    let engine = Engine::new(rules::load(&[], &[])?)?;
    let (model, references) = super::load_with_references(
        &args.model,
        &args.reference_model,
        &args.reference_adapter,
        quiet,
    )?;
    // the first reference controls the value tests and the extraction
    let reference = references.first();
    let same_tokenizer = match &reference {
        Some(r) => shares_tokenizer(&model, r, &records)?,
        None => false,
    };
    let opts = |vocab_stats| ScoreOptions {
        batch_size: args.batch_size,
        max_tokens: None,
        vocab_stats,
        attention: false,
    };
    let scorer = Scorer::new(&model, opts(true))?;
    // the first reference's token statistics serve the extraction control
    let ref_scorers = references
        .iter()
        .enumerate()
        .map(|(i, r)| Scorer::new(r, opts(i == 0 && same_tokenizer)))
        .collect::<Result<Vec<_>>>()?;
    let texts: Vec<&str> = records.iter().map(|r| r.text.as_str()).collect();
    let scored = scorer.score(&texts, |_, _| {})?;
    let all_ref_scored = ref_scorers
        .iter()
        .map(|s| s.score(&texts, |_, _| {}))
        .collect::<Result<Vec<_>>>()?;
    let ref_nll = reference_nlls(&all_ref_scored, texts.len());
    let ref_scored = all_ref_scored.first();
    let plans = records
        .iter()
        .zip(&scored)
        .map(|(r, s)| plan(&model, r, s, &engine))
        .collect::<Result<Vec<_>>>()?;
    let basic = Scorer::new(&model, opts(false))?;
    let (calibration, extras, attacks) = match &args.calibration {
        Some(p) => {
            let signal = record_signal(args, references.len())?;
            let cal = read_texts(p)?;
            if cal.is_empty() {
                return Err(Error::file(p, "no calibration records"));
            }
            let cal_texts: Vec<&str> = cal.iter().map(|r| r.text.as_str()).collect();
            let judged: Vec<&str> = texts.iter().chain(&cal_texts).copied().collect();
            let attacks =
                super::attacks::Attacks::open(&args.attacks, &basic, &ref_scorers, &judged)?;
            let extras = Extras::compute(&attacks, &basic, &texts)?;
            let c = Calibration::new(p, &cal, signal, &scorer, &ref_scorers, &attacks, &basic)?;
            (Some(c), extras, Some(attacks))
        }
        None => (None, Extras::default(), None),
    };
    let record_tests = usize::from(calibration.is_some());
    // value tests are tests only against a reference that tokenizes like the target
    let controlled = reference.is_some() && same_tokenizer;
    // per person: (value tests, record tests)
    let mut family: HashMap<Option<String>, (usize, usize)> = HashMap::new();
    for p in &plans {
        let f = family.entry(p.person.clone()).or_default();
        f.0 += if controlled { p.values.len() } else { 0 };
        f.1 += record_tests;
    }

    let mut settings = settings_of(args, &model, &records)?;
    if let Some(a) = &attacks {
        if let Value::Object(m) = a.settings(&args.attacks) {
            settings.extend(m);
        }
    }
    let identity = super::identity(&model, super::model_hash(Path::new(&model.info().path))?);
    // a shard: its records (round-robin), one JSON line each, resumed after the last whole one
    let owned: Vec<usize> = match shard {
        Some((s, _)) => s.units(records.len()),
        None => (0..records.len()).collect(),
    };
    let mut sink: Option<(std::fs::File, crate::shard::Manifest, &Path)> = None;
    let mut done = 0;
    if let (Some((s, from)), Some(dir)) = (shard.clone(), shard_dir.as_deref()) {
        std::fs::create_dir_all(dir).with_file(dir)?;
        let mut m = crate::shard::Manifest::resume_or_new(
            dir,
            "forget-check",
            &settings,
            Some(identity.clone()),
            s,
        )?;
        let path = dir.join(SHARD_RECORDS);
        done = crate::shard::resume_lines(&path, &owned, |_| 1)?;
        if !quiet {
            eprintln!(
                "memscan: forget-check shard {s} (from {from}) into {}{}",
                dir.display(),
                if done > 0 {
                    format!("; resuming: {done} of {} records already done", owned.len())
                } else {
                    String::new()
                }
            );
        }
        m.unit = "record".into();
        m.units_total = records.len();
        m.units_owned = owned.len();
        m.units_done = done;
        m.complete = false;
        m.write(dir)?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_file(&path)?;
        sink = Some((file, m, dir));
    }
    let t0 = std::time::Instant::now();
    let pb = super::progress_bar(owned.len() as u64, quiet, "records");
    pb.inc(done as u64);
    let mut results = Vec::new();
    for (j, &ri) in owned.iter().enumerate().skip(done) {
        let (r, p) = (&records[ri], &plans[ri]);
        let (fv, fr) = family.get(&p.person).copied().unwrap_or_default();
        let (level, record_level) = levels(args.alpha, fv, fr);
        // enough draws that a value ranked first (or tied with one draw) reaches the level
        let n_max = args
            .candidates
            .min((2.0 / level.max(1e-9_f64)).ceil() as usize)
            .max(1);
        let mut tests = Vec::new();
        let mut attributes = Vec::new();
        for (vi, v) in p.values.iter().enumerate() {
            let mut rng = SplitMix(
                args.seed ^ (ri as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (vi as u64) << 48,
            );
            let null = if controlled {
                NullDraws { n_max, level }
            } else {
                // descriptive only: one round of draws for the value's rank and exposure
                NullDraws {
                    n_max: DESCRIPTIVE_DRAWS,
                    level: 1.0,
                }
            };
            let o = value_test(&model, &v.ctx, &v.truth, &null, &mut rng)?;
            // a value the reference prefers as strongly is predictable from its context
            let control = match reference.filter(|_| controlled) {
                Some(r) if o.p_value() <= level => {
                    Some(value_test(r, &v.ctx, &v.truth, &null, &mut rng)?.p_value())
                }
                _ => None,
            };
            let (test, attribute) = value_result(
                v,
                &o,
                control,
                controlled.then_some(null),
                &model,
                p,
                args.reveal,
            );
            tests.push(test);
            attributes.push(attribute);
        }
        if let (Some(c), Some(a)) = (&calibration, &attacks) {
            let own = signal_set(r, &scored[ri], &ref_nll[ri], &extras, ri, a);
            tests.push(c.test(&own, record_level));
        }
        let extraction = extraction(
            p,
            &scored[ri],
            ref_scored.filter(|_| same_tokenizer).map(|s| &s[ri]),
            &args.prefix_tokens,
            model.tokenizer(),
        );
        let d = decide(
            &tests,
            &extraction,
            fv + fr,
            args.alpha,
            args.extract_tokens,
        );
        results.push(RecordResult {
            id: match &r.id {
                Value::String(s) => s.clone(),
                v => v.to_string(),
            },
            person: p.person.clone(),
            verdict: d.verdict,
            statement: d.statement,
            evidence: d.evidence,
            n_tokens: scored[ri].token_ids.len(),
            nll_target: signals::nll_mean(&scored[ri].token_logprobs),
            nll_reference: ref_nll[ri].first().copied().flatten(),
            tests,
            p_corrected: d.p_corrected,
            extraction,
            attributes,
        });
        if let Some((file, m, dir)) = sink.as_mut() {
            use std::io::Write;
            let row = ShardRecord {
                i: ri,
                result: results
                    .pop()
                    .ok_or_else(|| Error::internal("no record result"))?,
            };
            let mut line =
                serde_json::to_string(&row).map_err(|e| Error::internal(format!("JSON: {e}")))?;
            line.push('\n');
            let path = dir.join(SHARD_RECORDS);
            file.write_all(line.as_bytes()).with_file(&path)?;
            file.flush().with_file(&path)?;
            m.units_done = j + 1;
            m.write(dir)?;
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    // the unlearning figures cover all records: the whole run, or shard 0 for merge
    let unlearning = if shard.as_ref().is_none_or(|(s, _)| s.index == 0) {
        let cal = match &args.calibration {
            Some(p) => read_texts(p)?,
            None => Vec::new(),
        };
        let cal_texts: Vec<&str> = cal.iter().map(|r| r.text.as_str()).collect();
        Some(crate::unlearning::sections(
            &unlearning_opts,
            &qa,
            &model,
            reference.map(|r| r as &dyn LanguageModel),
            &texts,
            &cal_texts,
            quiet,
        )?)
    } else {
        None
    };
    if let (Some((s, _)), Some((_, mut m, dir))) = (shard, sink) {
        if let Some(u) = unlearning.filter(|u| u.forget_quality.is_some() || u.verbmem.is_some()) {
            let path = dir.join(SHARD_UNLEARNING);
            let body =
                serde_json::to_string(&u).map_err(|e| Error::internal(format!("JSON: {e}")))?;
            std::fs::write(&path, body).with_file(&path)?;
        }
        m.seconds += t0.elapsed().as_secs_f64();
        m.complete = true;
        m.write(dir)?;
        if !quiet {
            eprintln!(
                "memscan: shard {s} done; when all {} are, `memscan merge {}` writes the report",
                s.count,
                dir.parent().unwrap_or(dir).display()
            );
        }
        return Ok(0);
    }

    let mut report = build_report(settings, args.alpha, identity, results);
    if let Some(u) = unlearning {
        report.forget_quality = u.forget_quality;
        report.verbmem = u.verbmem;
    }
    let out = match &args.out {
        Some(o) => o.clone(),
        None => super::default_out(&model, Some("forget")),
    };
    crate::report::folder::write_report(&out, &crate::report::folder::AnyReport::Forget(&report))?;
    if !quiet {
        eprintln!("memscan: {}", report.summary.statement);
        eprintln!("memscan: report in {}", out.display());
    }
    Ok(exit_code(&report))
}

/// 1 when a record is extractable or memorized.
pub fn exit_code(report: &ForgetReport) -> i32 {
    let s = &report.summary;
    if s.extractable + s.memorized > 0 {
        crate::error::EXIT_FINDINGS
    } else {
        0
    }
}

/// A forget-check shard's results, one JSON line per record, inside its folder.
pub const SHARD_RECORDS: &str = "records.jsonl";
/// Shard 0's forget quality and VerbMem (`crate::unlearning::Sections`), for merge.
pub const SHARD_UNLEARNING: &str = "unlearning.json";

/// One line of a shard's records.jsonl: the record's index in --records and its result.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct ShardRecord {
    pub i: usize,
    pub result: RecordResult,
}

/// The run's settings (shards of one run agree on them).
fn settings_of(
    args: &ForgetArgs,
    model: &Model,
    records: &[TextRecord],
) -> Result<serde_json::Map<String, Value>> {
    let joined: String = records
        .iter()
        .map(|r| format!("{}\u{1}{}\u{1}{:?}\n", r.id, r.text, r.extra))
        .collect();
    let settings = json!({
        "model": model.info().spec,
        "records": args.records.display().to_string(),
        "records_sha256": crate::scan::state::sha256_hex(joined.as_bytes()),
        "reference_model": super::one_or_many(&args.reference_model),
        "calibration": args.calibration.as_ref().map(|p| p.display().to_string()),
        "record_signal": args.record_signal,
        "alpha": args.alpha,
        "prefix_tokens": args.prefix_tokens,
        "extract_tokens": args.extract_tokens,
        "candidates": args.candidates,
        "seed": args.seed,
        "batch_size": args.batch_size,
        "reveal": args.reveal,
        "text_field": crate::input::text_field(),
        "id_field": crate::input::id_field(),
    });
    let mut m = super::with_setup(
        settings,
        model,
        args.model.adapter.as_deref(),
        args.reference_adapter.as_slice(),
    )?;
    m.extend(crate::unlearning::settings(&args.unlearning));
    Ok(m)
}

fn check_args(args: &ForgetArgs) -> Result<()> {
    super::check_batch_size(args.batch_size)?;
    if !(args.alpha > 0.0 && args.alpha < 1.0) {
        return Err(Error::input(format!(
            "--alpha {}: must be in (0, 1)",
            args.alpha
        )));
    }
    if args.candidates < 1 {
        return Err(Error::input("--candidates must be at least 1"));
    }
    let a = &args.attacks;
    if args.calibration.is_none()
        && (a.recall_prefix.is_some() || a.token_freq.is_some() || a.neighbours.is_some())
    {
        return Err(Error::input(
            "--recall-prefix, --token-freq and --neighbours feed the record test, which needs --calibration",
        ));
    }
    Ok(())
}

/// The person's records; `fields`, where given, must be an object.
fn read_records(path: &Path) -> Result<Vec<TextRecord>> {
    let records = read_texts(path)?;
    for r in &records {
        if let Some(f) = r.extra.get("fields") {
            if !f.is_object() {
                return Err(Error::file(
                    path,
                    format!("record {}: \"fields\" must be an object", r.id),
                ));
            }
        }
    }
    Ok(records)
}

/// Whether the reference tokenizes like the target (same vocabulary size and the same
/// tokens for every record): value tests and extraction then compare token for token.
fn shares_tokenizer(model: &Model, reference: &Model, records: &[TextRecord]) -> Result<bool> {
    let (a, b) = (model.tokenizer(), reference.tokenizer());
    if a.vocab_size() != b.vocab_size() {
        return Ok(false);
    }
    for r in records {
        if a.encode(&r.text)? != b.encode(&r.text)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A personal value and the tokens of its test: the context before it and its own.
struct ValueSpan {
    label: String,
    ctx: Vec<u32>,
    truth: Vec<u32>,
}

/// What is tested in one record.
struct Plan {
    person: Option<String>,
    /// (label, value) of every personal value, for masking and extraction.
    personal: Vec<(String, String)>,
    /// The values with a context to test them in.
    values: Vec<ValueSpan>,
    /// Token span of each value found in the record's tokens: (label, start, end).
    spans: Vec<(String, usize, usize)>,
}

/// The record's personal values and where each is tested: after the text before it
/// when it occurs there, else after the record's other values as `label: value` lines.
fn plan(model: &Model, r: &TextRecord, scored: &ScoredText, engine: &Engine) -> Result<Plan> {
    let tok = model.tokenizer();
    let encode = |s: &str| tok.encode(s);
    let ids = &scored.token_ids;
    let max = model.info().max_positions.max(2) as usize;
    let pers = personal(r, engine);
    let mut values = Vec::new();
    let mut spans = Vec::new();
    for (label, value) in &pers {
        let in_text = match r.text.find(value.as_str()) {
            Some(pos) => locate(encode, &r.text, pos, pos + value.len(), ids)?,
            None => None,
        };
        let (ctx, truth) = match in_text {
            Some((a, b)) => {
                spans.push((label.clone(), a, b));
                (ids[..a].to_vec(), ids[a..b].to_vec())
            }
            None => {
                let others: Vec<String> = pers
                    .iter()
                    .filter(|(l, _)| l != label)
                    .map(|(l, v)| format!("{l}: {v}"))
                    .collect();
                if others.is_empty() {
                    continue;
                }
                let prompt = format!("{}\n{label}:", others.join("\n"));
                let text = format!("{prompt} {value}");
                let ids = tok.encode(&text)?;
                match locate(encode, &text, prompt.len() + 1, text.len(), &ids)? {
                    Some((a, b)) => (ids[..a].to_vec(), ids[a..b].to_vec()),
                    None => continue,
                }
            }
        };
        // keep the value whole and as much context as the model's window allows
        let keep = max.saturating_sub(truth.len()).min(ctx.len());
        if keep == 0 {
            continue;
        }
        values.push(ValueSpan {
            label: label.clone(),
            ctx: ctx[ctx.len() - keep..].to_vec(),
            truth,
        });
    }
    Ok(Plan {
        person: r.extra.get("person").and_then(|p| match p {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            v => Some(v.to_string()),
        }),
        personal: pers,
        values,
        spans,
    })
}

/// A value test as a report row, and the value's rank among the draws.
fn value_result(
    v: &ValueSpan,
    o: &ValueOutcome,
    reference_p: Option<f64>,
    test: Option<NullDraws>,
    model: &Model,
    plan: &Plan,
    reveal: bool,
) -> (ForgetTest, AttributeResult) {
    let p = o.p_value();
    let tok = model.tokenizer();
    let mut prompt = tok.decode(&v.ctx);
    if prompt.len() > SHOWN_CONTEXT {
        let mut cut = prompt.len() - SHOWN_CONTEXT;
        while !prompt.is_char_boundary(cut) {
            cut += 1;
        }
        prompt = format!("…{}", &prompt[cut..]);
    }
    if !reveal {
        for (_, value) in &plan.personal {
            prompt = prompt.replace(value.as_str(), &mask(value));
        }
    }
    let rank = 1 + o.at_least;
    let test = ForgetTest {
        name: format!("value:{}", v.label),
        statistic: "log p(value | text before it) under the model".into(),
        value: Some(o.statistic),
        p_value: Some(p),
        n_null: o.null.len(),
        null: match test {
            Some(_) => "values the target samples (temperature 1) after the same text",
            None => "values the target samples (temperature 1) after the same text; not a test without a reference model that shares the target's tokenizer (a value a person wrote is often likelier than the model's own samples whether or not it was trained on)",
        }
        .into(),
        min_p: rank_p(0, test.map_or(o.null.len(), |t| t.n_max)),
        null_quantiles: quantiles(&o.null),
        rejected: value_rejects(p, test.map(|t| t.level), reference_p),
        reference_p_value: reference_p,
        stopped_early: o.stopped_early,
        greedy: Some(o.greedy),
        entropy_bits: Some(o.entropy_bits),
        level: test.map_or(0.0, |t| t.level),
    };
    let attribute = AttributeResult {
        field: v.label.clone(),
        prompt,
        candidates: o.null.len() + 1,
        rank,
        exposure: stats::exposure((o.null.len() + 1) as f64, rank as f64),
    };
    (test, attribute)
}

/// The 0, 5, 25, 50, 75, 95 and 100% quantiles (nearest rank).
fn quantiles(v: &[f64]) -> Vec<f64> {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return Vec::new();
    }
    s.sort_by(f64::total_cmp);
    [0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0]
        .iter()
        .map(|q| s[((s.len() - 1) as f64 * q).round() as usize])
        .collect()
}

/// The record signal: `--record-signal`, checked against what this run computes, or
/// the default.
fn record_signal(args: &ForgetArgs, references: usize) -> Result<&'static signals::SignalDef> {
    use signals::Pass;
    let a = &args.attacks;
    let name = match &args.record_signal {
        Some(n) => n.as_str(),
        None if references > 0 => RECORD_SIGNAL_WITH_REFERENCE,
        None => RECORD_SIGNAL,
    };
    if a.population.is_some() && name != "rmia" {
        return Err(Error::input(format!(
            "--population serves the record signal rmia only (the record signal is {name})"
        )));
    }
    let computed = |d: &signals::SignalDef| match d.pass {
        Pass::Main | Pass::Distribution => true,
        Pass::Reference => match d.name {
            "ref_ratio" => references > 0,
            "lira" => references >= 2,
            "rmia" => references > 0 && a.population.is_some(),
            _ => false,
        },
        Pass::Prefixed => {
            a.recall_prefix.is_some() && (d.name != "con_recall" || a.con_recall_members.is_some())
        }
        Pass::Frequency => a.token_freq.is_some(),
        Pass::Neighbours => a.neighbours.is_some(),
        Pass::Lowercase | Pass::Gradients | Pass::Attention | Pass::Retrain => false,
    };
    match signals::def(name) {
        Some(d) if computed(d) => Ok(d),
        _ => Err(Error::input(format!(
            "--record-signal {name}: not a signal forget-check computes here (a one-pass signal; ref_ratio with --reference-model; lira with two or more; rmia with --reference-model and --population; recall with --recall-prefix; dc_pdd with --token-freq; neighbourhood with --neighbours)"
        ))),
    }
}

/// The attack passes of the record test's texts (ReCaLL's prefixed pass, the
/// neighbours' passes), where their flags ask for them.
#[derive(Default)]
struct Extras {
    prefixed: Option<Vec<Option<f64>>>,
    member_prefixed: Option<Vec<Option<f64>>>,
    neighbours: Option<Vec<Vec<Option<f64>>>>,
}

impl Extras {
    fn compute(a: &super::attacks::Attacks, basic: &Scorer, texts: &[&str]) -> Result<Self> {
        Ok(Extras {
            prefixed: a.prefixed(basic, texts)?,
            member_prefixed: a.member_prefixed(basic, texts)?,
            neighbours: a.neighbour_nlls(basic, texts)?,
        })
    }
}

/// Per text, its nll_mean under each reference model.
fn reference_nlls(scored: &[Vec<ScoredText>], n: usize) -> Vec<Vec<Option<f64>>> {
    (0..n)
        .map(|i| {
            scored
                .iter()
                .map(|s| signals::nll_mean(&s[i].token_logprobs))
                .collect()
        })
        .collect()
}

/// The membership signals of a scored text (with `ref_ratio`, `lira` and `rmia` from
/// its nll_mean under each reference, `ref_nll`, and the attacks `extras` holds for
/// text `i`).
fn signal_set(
    r: &TextRecord,
    s: &ScoredText,
    ref_nll: &[Option<f64>],
    extras: &Extras,
    i: usize,
    attacks: &super::attacks::Attacks,
) -> SignalSet {
    SignalSet::new(signals::Passes {
        references: (!ref_nll.is_empty()).then(|| signals::References {
            target: signals::nll_mean(&s.token_logprobs),
            nll: ref_nll,
            population: attacks.population.as_ref(),
        }),
        prefixed_nll: extras.prefixed.as_ref().map(|v| v[i]),
        member_prefixed: attacks
            .con_recall_input(extras.member_prefixed.as_ref().and_then(|v| v[i])),
        neighbours: extras.neighbours.as_ref().map(|v| v[i].as_slice()),
        frequency: attacks.frequency(s),
        ..signals::Passes::main(s.pass_values(&r.text, signals::DEFAULT_MIN_K))
    })
}

/// `--calibration`: non-member records of the same kind, scored once; the record signal
/// of a checked record is ranked among theirs.
struct Calibration {
    name: String,
    signal: &'static signals::SignalDef,
    rows: Vec<SignalSet>,
}

impl Calibration {
    fn new(
        path: &Path,
        recs: &[TextRecord],
        signal: &'static signals::SignalDef,
        scorer: &Scorer,
        references: &[Scorer],
        attacks: &super::attacks::Attacks,
        basic: &Scorer,
    ) -> Result<Self> {
        let texts: Vec<&str> = recs.iter().map(|r| r.text.as_str()).collect();
        let scored = scorer.score(&texts, |_, _| {})?;
        let ref_scored = references
            .iter()
            .map(|s| s.score(&texts, |_, _| {}))
            .collect::<Result<Vec<_>>>()?;
        let ref_nll = reference_nlls(&ref_scored, texts.len());
        let extras = Extras::compute(attacks, basic, &texts)?;
        let rows = recs
            .iter()
            .enumerate()
            .map(|(i, r)| signal_set(r, &scored[i], &ref_nll[i], &extras, i, attacks))
            .collect();
        Ok(Calibration {
            name: format!("records of {}", path.display()),
            signal,
            rows,
        })
    }

    /// The rank test of the record signal, held to `level`.
    fn test(&self, own: &SignalSet, level: f64) -> ForgetTest {
        let d = self.signal;
        // oriented so that higher is more member-like
        let o = |x: f64| match d.direction {
            Direction::Higher => x,
            Direction::Lower => -x,
        };
        let null: Vec<f64> = self.rows.iter().filter_map(|m| m.get(d.name)).collect();
        let x = own.get(d.name);
        let p = x.map(|x| rank_p(null.iter().filter(|&&v| o(v) >= o(x)).count(), null.len()));
        ForgetTest {
            name: format!("record:{}", d.name),
            statistic: format!("{} of the whole record ({})", d.name, d.description),
            value: x,
            p_value: p,
            n_null: null.len(),
            null: self.name.clone(),
            min_p: rank_p(0, null.len()),
            null_quantiles: quantiles(&null),
            rejected: p.is_some_and(|p| p <= level),
            reference_p_value: None,
            stopped_early: false,
            greedy: None,
            entropy_bits: None,
            level,
        }
    }
}

/// Greedy decoding from each prefix length, measured teacher-forced on the record's
/// own pass: token i is reproduced when it is the model's argmax (positive margin).
fn extraction(
    p: &Plan,
    s: &ScoredText,
    reference: Option<&ScoredText>,
    prefix_tokens: &[usize],
    tok: &crate::model::tokenizer::Tokenizer,
) -> Vec<ExtractionAttempt> {
    let n = s.token_ids.len();
    let run = |sc: &ScoredText, k: usize| -> usize {
        sc.stats.as_ref().map_or(0, |st| {
            st.margin[k - 1..].iter().take_while(|&&m| m > 0.0).count()
        })
    };
    let mut out = Vec::new();
    for &k in prefix_tokens {
        if k == 0 || k >= n {
            continue;
        }
        let matched = run(s, k);
        let ref_run = reference
            .filter(|r| r.token_ids.len() == n)
            .map(|r| run(r, k));
        let prompt = tok.decode(&s.token_ids[..k]);
        // values the target's run writes, the prompt lacks, and the reference's run does not write
        let values_reproduced = p
            .spans
            .iter()
            .filter(|(label, a, b)| {
                *a >= k
                    && *b <= k + matched
                    && ref_run.is_none_or(|r| *b > k + r)
                    && p.personal
                        .iter()
                        .any(|(l, v)| l == label && !prompt.contains(v.as_str()))
            })
            .map(|(l, _, _)| l.clone())
            .collect();
        out.push(ExtractionAttempt {
            prefix_tokens: k,
            truth_tokens: n - k,
            match_tokens: matched,
            reference_match_tokens: ref_run,
            values_reproduced,
        });
    }
    out
}

/// The report: the settings, the counts per verdict and the statement a privacy
/// officer can quote.
pub fn build_report(
    settings: serde_json::Map<String, Value>,
    alpha: f64,
    model: schema::ModelIdentity,
    results: Vec<RecordResult>,
) -> ForgetReport {
    let count = |v: Verdict| results.iter().filter(|r| r.verdict == v).count();
    let (e, m, n, i) = (
        count(Verdict::Extractable),
        count(Verdict::Memorized),
        count(Verdict::NotDetected),
        count(Verdict::Inconclusive),
    );
    let tests: usize = results
        .iter()
        .map(|r| r.tests.iter().filter(|t| t.is_test()).count())
        .sum();
    let statement = format!(
        "memscan checked {} record(s) against this model with {tests} test(s): {e} extractable (prompted with the record's beginning, the model writes its rest), {m} memorized (a test rejected \"this record was not trained on\"; the chance that any record of a person the model never saw is called memorized is at most α = {}), {n} not detected (the tests could have rejected and did not: no evidence of memorization, which is not proof that the record was never trained on), {i} inconclusive (the tests could not reach the level: nothing is concluded). Each record's statement says what was tested.",
        results.len(),
        alpha
    );
    ForgetReport {
        header: schema::Header::new("forget-check", model, settings),
        summary: ForgetSummary {
            records: results.len(),
            extractable: e,
            memorized: m,
            not_detected: n,
            inconclusive: i,
            tests,
            statement,
        },
        records: results,
        forget_quality: None,
        verbmem: None,
    }
}
