//! `memscan forget-check`: for each of a person's records, is it still memorized, and
//! can it be extracted? Membership: each signal of the record against a calibration
//! distribution (by default variants of the record with its personal values replaced
//! by random values of the same format, so the comparison is like for like), turned
//! into p-values. Extraction: greedy and sampled continuations of the record's first
//! tokens against its true rest. Attributes: the rank of each field's true value among
//! same-format candidates when prompted with its context. Verdicts use a family-wise α
//! (Bonferroni over the record's tests).

use std::path::Path;

use serde_json::{json, Value};

use crate::cli::ForgetArgs;
use crate::detect::{rules, Engine};
use crate::error::{Error, Result};
use crate::forget::variants::{personal, same_format, variant, Personal};
use crate::forget::verdict::{decide, membership_tests};
use crate::generate::{generate, SampleOptions};
use crate::input::{read_texts, TextRecord};
use crate::model::{LanguageModel, Model};
use crate::report::schema::{
    self, AttributeResult, ExtractionAttempt, ForgetReport, ForgetSummary, ForgetTest,
    RecordResult, Verdict,
};
use crate::scorer::{ScoreOptions, Scorer};
use crate::signals::{self, Direction, SignalSet};
use crate::stats::{self, SplitMix};

/// The membership signals tested (plus `ref_ratio` with a reference model).
const TESTED: &[&str] = &["nll_mean", "min_k", "min_k_pp"];
/// Longest continuation generated in an extraction attempt.
const MAX_EXTRACT: usize = 128;

pub fn run(args: &ForgetArgs, quiet: bool) -> Result<i32> {
    check_args(args)?;
    let records = read_records(&args.records)?;
    let calibration = match &args.calibration {
        Some(p) => Some(read_texts(p)?),
        None => None,
    };
    let engine = Engine::new(rules::load(&[], &[])?)?;
    let model = super::load_model(&args.model, quiet)?;
    let reference = super::load_reference(
        &args.model,
        &args.reference_model,
        &args.reference_adapter,
        quiet,
    )?;
    let scorer = Scorer::new(
        &model,
        ScoreOptions {
            batch_size: args.batch_size,
            max_tokens: None,
            vocab_stats: true,
            attention: false,
        },
    )?;
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
    let mut tested: Vec<&'static signals::SignalDef> =
        TESTED.iter().filter_map(|n| signals::def(n)).collect();
    if reference.is_some() {
        tested.extend(signals::def("ref_ratio"));
    }
    let sig = SignalScorer {
        scorer: &scorer,
        reference: ref_scorer.as_ref(),
    };
    let mut nulls = Nulls {
        calibration: match &calibration {
            Some(c) => Some(sig.values(&c.iter().map(|r| r.text.clone()).collect::<Vec<_>>())?),
            None => None,
        },
        builtin: None,
    };

    let pb = super::progress_bar(records.len() as u64, quiet, "records");
    let mut results = Vec::new();
    for (ri, r) in records.iter().enumerate() {
        let mut rng = SplitMix(args.seed ^ (ri as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let pers = personal(r, &engine);
        let own = sig.values(std::slice::from_ref(&r.text))?.remove(0);
        let (null_rows, cal_name) = nulls.for_record(&sig, r, &pers, args, &mut rng)?;
        let mut tests = membership_tests(&tested, &own, &null_rows);
        let attributes = attribute_tests(&model, &scorer, r, &pers, args, &mut rng, &mut tests)?;
        let extraction = extraction(&model, r, &pers, args, ri)?;
        let decision = decide(
            &tests,
            &extraction,
            &cal_name,
            args.alpha,
            args.extract_tokens,
        );
        results.push(RecordResult {
            id: match &r.id {
                Value::String(s) => s.clone(),
                v => v.to_string(),
            },
            verdict: decision.verdict,
            evidence: decision.evidence,
            n_tokens: model.tokenizer().encode(&r.text)?.len(),
            calibration: cal_name,
            tests,
            p_corrected: decision.p_corrected,
            extraction,
            attributes,
        });
        pb.inc(1);
    }
    pb.finish_and_clear();

    let report = build_report(args, &model, results)?;
    let out = match &args.out {
        Some(o) => o.clone(),
        None => super::default_out(&model, Some("forget")),
    };
    crate::report::folder::write_report(&out, &crate::report::folder::AnyReport::Forget(&report))?;
    if !quiet {
        eprintln!("memscan: {}", report.summary.statement);
        eprintln!("memscan: report in {}", out.display());
    }
    let s = &report.summary;
    Ok(if s.extractable + s.memorized > 0 {
        crate::error::EXIT_FINDINGS
    } else {
        0
    })
}

fn check_args(args: &ForgetArgs) -> Result<()> {
    super::check_batch_size(args.batch_size)?;
    if !(args.alpha > 0.0 && args.alpha < 1.0) {
        return Err(Error::input(format!(
            "--alpha {}: must be in (0, 1)",
            args.alpha
        )));
    }
    if args.variants < 2 && args.calibration.is_none() {
        return Err(Error::input("--variants must be at least 2"));
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

/// Where each record's null distribution comes from: the user's calibration texts, else
/// same-format variants of the record, else (nothing personal to vary) the built-in
/// non-member texts, scored once.
struct Nulls {
    calibration: Option<Vec<SignalSet>>,
    builtin: Option<Vec<SignalSet>>,
}

impl Nulls {
    /// The null rows for record `r` and how they were made.
    fn for_record(
        &mut self,
        sig: &SignalScorer,
        r: &TextRecord,
        pers: &Personal,
        args: &ForgetArgs,
        rng: &mut SplitMix,
    ) -> Result<(Vec<SignalSet>, String)> {
        if let Some(v) = &self.calibration {
            let name = args
                .calibration
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            return Ok((v.clone(), name));
        }
        if !pers.values.is_empty() {
            let vs: Vec<String> = (0..args.variants)
                .map(|_| variant(&r.text, pers, rng))
                .collect();
            return Ok((
                sig.values(&vs)?,
                format!("{} same-format variants of the record", args.variants),
            ));
        }
        if self.builtin.is_none() {
            self.builtin = Some(sig.values(&crate::prompts::calibration_texts())?);
        }
        Ok((
            self.builtin.clone().unwrap_or_default(),
            "the built-in non-member texts (prompts/calibration.jsonl)".into(),
        ))
    }
}

/// The report: the settings, the counts per verdict and the statement a privacy
/// officer can quote.
fn build_report(
    args: &ForgetArgs,
    model: &Model,
    results: Vec<RecordResult>,
) -> Result<ForgetReport> {
    let count = |v: Verdict| results.iter().filter(|r| r.verdict == v).count();
    let (e, m, n) = (
        count(Verdict::Extractable),
        count(Verdict::Memorized),
        count(Verdict::NotDetected),
    );
    let statement = format!(
        "memscan checked {} record(s) against this model: {e} extractable (prompted with the record's beginning, the model reproduced the rest or one of its personal values), {m} memorized (the model finds the record's true content more likely than same-format alternatives, with a family-wise error rate of at most {} per record: Bonferroni over each record's tests), {n} not detected (no test reached that level; this says what these tests can see, not that the data was never used for training).",
        results.len(),
        args.alpha
    );
    Ok(ForgetReport {
        header: schema::Header::new(
            "forget-check",
            super::identity(model, super::model_hash(Path::new(&model.info().path))?),
            json!({
                "records": args.records.display().to_string(),
                "reference_model": args.reference_model,
                "calibration": args.calibration.as_ref().map(|p| p.display().to_string()),
                "variants": args.variants,
                "alpha": args.alpha,
                "prefix_tokens": args.prefix_tokens,
                "samples": args.samples,
                "extract_tokens": args.extract_tokens,
                "candidates": args.candidates,
                "seed": args.seed,
                "reveal": args.reveal,
            })
            .as_object()
            .cloned()
            .unwrap_or_default(),
        ),
        summary: ForgetSummary {
            records: results.len(),
            extractable: e,
            memorized: m,
            not_detected: n,
            statement,
        },
        records: results,
    })
}

/// The membership signals of texts under the target (and the reference model).
struct SignalScorer<'a> {
    scorer: &'a Scorer<'a>,
    reference: Option<&'a Scorer<'a>>,
}

impl SignalScorer<'_> {
    fn values(&self, texts: &[String]) -> Result<Vec<SignalSet>> {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let scored = self.scorer.score(&refs, |_, _| {})?;
        let ref_scored = match self.reference {
            Some(rs) => Some(rs.score(&refs, |_, _| {})?),
            None => None,
        };
        Ok(scored
            .iter()
            .enumerate()
            .map(|(i, s)| {
                SignalSet::new(signals::Passes {
                    reference: ref_scored.as_ref().map(|r| {
                        (
                            signals::nll_mean(&s.token_logprobs),
                            signals::nll_mean(&r[i].token_logprobs),
                        )
                    }),
                    ..signals::Passes::main(s.pass_values(&texts[i], signals::DEFAULT_MIN_K))
                })
            })
            .collect())
    }
}

/// For each personal value: its context as a prompt (the record's text before it, or
/// the other fields), and the rank of the true value's log-probability among
/// `--candidates` random values of the same format; adds one test per field.
fn attribute_tests(
    model: &Model,
    scorer: &Scorer,
    r: &TextRecord,
    pers: &Personal,
    a: &ForgetArgs,
    rng: &mut SplitMix,
    tests: &mut Vec<ForgetTest>,
) -> Result<Vec<AttributeResult>> {
    let tok = model.tokenizer();
    let mut out = Vec::new();
    for (label, value, kind) in &pers.values {
        let prompt = match r.text.find(value.as_str()) {
            Some(pos) if pos > 0 => r.text[..pos].trim_end().to_string(),
            _ => {
                let others: Vec<String> = pers
                    .values
                    .iter()
                    .filter(|(l, _, _)| l != label)
                    .map(|(l, v, _)| format!("{l}: {v}"))
                    .collect();
                if others.is_empty() {
                    continue;
                }
                format!("{}\n{label}:", others.join("\n"))
            }
        };
        let p_ids = tok.encode(&prompt)?;
        let mut cands = vec![value.clone()];
        let mut seen = std::collections::HashSet::from([value.clone()]);
        let mut tries = 0;
        while cands.len() <= a.candidates && tries < a.candidates * 20 {
            // the context keeps the true names, so an email keeps its name words
            let c = same_format(value, *kind, &[], rng);
            if seen.insert(c.clone()) {
                cands.push(c);
            }
            tries += 1;
        }
        let seqs: Vec<Vec<u32>> = cands
            .iter()
            .map(|c| -> Result<Vec<u32>> {
                Ok(p_ids
                    .iter()
                    .copied()
                    .chain(tok.encode_plain(&format!(" {c}"))?)
                    .collect())
            })
            .collect::<Result<_>>()?;
        let from = p_ids.len().saturating_sub(1);
        let logp: Vec<f64> = scorer
            .score_ids(&seqs, |_, _| {})?
            .iter()
            .map(|s| {
                s.token_logprobs
                    .get(from..)
                    .unwrap_or_default()
                    .iter()
                    .map(|&x| x as f64)
                    .sum()
            })
            .collect();
        let truth = logp[0];
        let rank = 1 + logp[1..].iter().filter(|&&x| x > truth).count();
        let (p, pe) = stats::p_values(truth, &logp[1..], Direction::Higher);
        tests.push(ForgetTest {
            name: format!("attribute:{label}"),
            value: Some(truth),
            p_value: p,
            p_empirical: pe,
            n_calibration: logp.len() - 1,
        });
        let shown = if a.reveal {
            prompt.clone()
        } else {
            let mut s = prompt.clone();
            for (_, v, _) in &pers.values {
                s = s.replace(v.as_str(), &crate::detect::engine::mask(v));
            }
            s
        };
        out.push(AttributeResult {
            field: label.clone(),
            prompt: shown,
            candidates: cands.len(),
            rank,
            exposure: stats::exposure(cands.len() as f64, rank as f64),
        });
    }
    Ok(out)
}

/// Greedy and sampled continuations of the record's first k tokens, for each k.
fn extraction(
    model: &Model,
    r: &TextRecord,
    pers: &Personal,
    a: &ForgetArgs,
    ri: usize,
) -> Result<Vec<ExtractionAttempt>> {
    let tok = model.tokenizer();
    let ids = tok.encode(&r.text)?;
    let ctx = model.info().max_positions.max(2) as usize;
    let mut out = Vec::new();
    for &k in &a.prefix_tokens {
        if k == 0 || k >= ids.len() {
            continue;
        }
        let truth = &ids[k..];
        let max_new = truth.len().min(MAX_EXTRACT).min(ctx.saturating_sub(k));
        if max_new == 0 {
            continue;
        }
        let prompt = ids[..k].to_vec();
        let prompt_text = tok.decode(&prompt);
        let truth_text = tok.decode(&truth[..max_new]);
        for (mode, temperature, n) in [("greedy", 0.0, 1), ("sampled", 1.0, a.samples)] {
            if n == 0 {
                continue;
            }
            let gens = generate(
                model,
                &vec![prompt.clone(); n],
                &SampleOptions {
                    max_new_tokens: max_new,
                    temperature,
                    temperature_decay: None,
                    top_k: Some(40),
                    top_p: None,
                    seed: a.seed ^ ((ri as u64) << 20) ^ k as u64,
                    stop_at_eos: true,
                },
            )?;
            for g in gens {
                let text = tok.decode(&g.tokens);
                let emitted: Vec<String> = pers
                    .values
                    .iter()
                    .filter(|(_, v, _)| {
                        text.contains(v.as_str()) && !prompt_text.contains(v.as_str())
                    })
                    .map(|(l, _, _)| l.clone())
                    .collect();
                out.push(ExtractionAttempt {
                    prefix_tokens: k,
                    mode: mode.into(),
                    truth_tokens: truth.len(),
                    match_tokens: g
                        .tokens
                        .iter()
                        .zip(truth)
                        .take_while(|(x, y)| x == y)
                        .count(),
                    similarity: (stats::similarity(&text, &truth_text) * 1000.0).round() / 1000.0,
                    emitted,
                });
            }
        }
    }
    Ok(out)
}
