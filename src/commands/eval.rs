//! `memscan eval`: how well each membership signal separates known members from
//! non-members — ROC, AUC with a bootstrap interval, TPR at fixed FPRs, the
//! Neyman–Pearson threshold and posterior, a cross-validated logistic-regression
//! attack over all signals, a privacy audit of a claimed ε, and canary exposure.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::canary::Format;
use crate::cli::EvalArgs;
use crate::error::{Error, IoContext, Result};
use crate::input::{read_texts, TextRecord};
use crate::model::{LanguageModel, Model};
use crate::report::schema::{
    self, Audit, CanaryExposure, EvalReport, NeymanPearson, SignalEval, TprAtFprItem,
};
use crate::scorer::{ScoreOptions, Scorer};
use crate::signals::{self, Direction, SignalSet};
use crate::stats;

/// FPR targets reported for every signal.
const FPR_TARGETS: [f64; 3] = [0.1, 0.01, 0.001];
/// Two-sided confidence of the Clopper–Pearson intervals in the audit.
const AUDIT_CONFIDENCE: f64 = 0.95;

pub fn run(args: &EvalArgs, quiet: bool) -> Result<i32> {
    check_args(args)?;
    let shard = crate::shard::Shard::resolve(args.shard.as_deref())?;
    let shard_dir = match shard {
        Some((s, _)) => Some(crate::shard::shard_dir(args.out.as_deref(), s, "eval")?),
        None => None,
    };
    let members = read_texts(&args.members)?;
    let nonmembers = read_texts(&args.nonmembers)?;
    let canaries = match &args.canaries {
        Some(p) => read_texts(p)?,
        None => Vec::new(),
    };
    let formats = canary_formats(&canaries, args)?;
    let qa = match &args.unlearning.forget_qa {
        Some(p) => crate::unlearning::read_qa(p)?,
        None => Vec::new(),
    };
    // the retrained model (often the base of the target's adapter) shares its tensors too
    let mut others = super::reference_specs(&args.reference_model, &args.reference_adapter)?;
    let n_refs = others.len();
    others.extend(
        args.retrain_model
            .iter()
            .map(|m| (m.clone(), args.retrain_adapter.clone())),
    );
    let (model, mut references) = super::load_with(&args.model, &others, quiet)?;
    let retrain = references.split_off(n_refs).pop();
    let texts: Vec<&str> = members
        .iter()
        .chain(&nonmembers)
        .map(|r| r.text.as_str())
        .collect();
    let model_hash = super::model_hash(Path::new(&model.info().path))?;
    let identity = super::identity(&model, model_hash);
    let settings = settings_of(args, &model, &members, &nonmembers, &canaries)?;
    let st = Stats::of(args);
    let passes = Passes::new(&model, &references, retrain.as_ref(), &texts, args)?;
    let mut settings = settings;
    settings.extend(
        passes
            .attacks
            .settings(&args.attacks)
            .as_object()
            .cloned()
            .unwrap_or_default(),
    );
    let plan = passes.plan()?;
    // what the run computes once (canary exposure, the unlearning sections)
    let once = OnceInputs {
        args,
        canaries: &canaries,
        formats: &formats,
        qa: &qa,
        model: &model,
        retrain: retrain.as_ref(),
        texts: &texts,
        members: members.len(),
        quiet,
    };
    if let (Some((s, from)), Some(dir)) = (shard, shard_dir) {
        std::fs::create_dir_all(&dir).with_file(&dir)?;
        let mut manifest =
            crate::shard::Manifest::resume_or_new(&dir, "eval", &settings, Some(identity), s)?;
        // the shard's batches, one JSON line per text, resumed after the last whole batch
        let owned = s.units(plan.len());
        let path = dir.join(SHARD_LINES);
        let done = crate::shard::resume_lines(&path, &owned, |b| plan[b].len())?;
        if !quiet {
            eprintln!(
                "memscan: eval shard {s} (from {from}) into {}{}",
                dir.display(),
                if done > 0 {
                    format!("; resuming: {done} of {} batches already done", owned.len())
                } else {
                    String::new()
                }
            );
        }
        manifest.unit = "batch of texts (the scoring pass's plan)".into();
        manifest.units_total = plan.len();
        manifest.units_owned = owned.len();
        manifest.units_done = done;
        manifest.complete = false;
        manifest.write(&dir)?;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_file(&path)?;
        let t0 = std::time::Instant::now();
        let n_owned: usize = owned.iter().map(|&b| plan[b].len()).sum();
        let pb = super::progress_bar(n_owned as u64, quiet, "texts");
        pb.inc(owned[..done].iter().map(|&b| plan[b].len()).sum::<usize>() as u64);
        for (j, &b) in owned.iter().enumerate().skip(done) {
            let (rows, tokens) = passes.batch(&plan[b])?;
            let mut buf = String::new();
            for (&i, signals) in plan[b].iter().zip(rows) {
                buf.push_str(
                    &serde_json::to_string(&ShardRow { i, signals })
                        .map_err(|e| Error::internal(format!("JSON: {e}")))?,
                );
                buf.push('\n');
            }
            use std::io::Write;
            file.write_all(buf.as_bytes()).with_file(&path)?;
            file.flush().with_file(&path)?;
            manifest.units_done = j + 1;
            manifest.tokens += tokens;
            manifest.write(&dir)?;
            pb.inc(plan[b].len() as u64);
        }
        pb.finish_and_clear();
        // canary exposure and the unlearning sections are one piece of work: shard 0's
        let RunOnce {
            canaries: exposures,
            unlearning,
        } = if s.index == 0 {
            once.run()?
        } else {
            RunOnce {
                canaries: Vec::new(),
                unlearning: Default::default(),
            }
        };
        let body = ShardBody {
            stats: st,
            members: members.len(),
            nonmembers: nonmembers.len(),
            canaries: exposures,
            unlearning,
        };
        let v = serde_json::to_value(&body).map_err(|e| Error::internal(format!("JSON: {e}")))?;
        crate::report::folder::write_json(&dir.join(SHARD_BODY), &v)?;
        manifest.seconds += t0.elapsed().as_secs_f64();
        manifest.complete = true;
        manifest.write(&dir)?;
        if !quiet {
            eprintln!(
                "memscan: shard {s} done ({n_owned} texts); when all {} are, `memscan merge {}` writes the report",
                s.count,
                dir.parent().unwrap_or(&dir).display()
            );
        }
        return Ok(0);
    }
    let pb = super::progress_bar(texts.len() as u64, quiet, "texts");
    let mut rows: Vec<Option<SignalSet>> = vec![None; texts.len()];
    for batch in &plan {
        for (&i, r) in batch.iter().zip(passes.batch(batch)?.0) {
            rows[i] = Some(r);
        }
        pb.inc(batch.len() as u64);
    }
    pb.finish_and_clear();
    let rows: Vec<SignalSet> = rows
        .into_iter()
        .map(|r| r.ok_or_else(|| Error::internal("a text was left unscored")))
        .collect::<Result<_>>()?;
    let once = once.run()?;
    let report = build_report(
        identity,
        settings,
        &st,
        &rows,
        members.len(),
        once,
        Some(&texts),
    );
    let out = match &args.out {
        Some(o) => o.clone(),
        None => super::default_out(&model, Some("eval")),
    };
    crate::report::folder::write_report(&out, &crate::report::folder::AnyReport::Eval(&report))?;
    if !quiet {
        say_done(&report, &out);
    }
    Ok(0)
}

/// A shard's texts' signals, one JSON line each (`ShardRow`), inside its folder.
pub const SHARD_LINES: &str = "signals.jsonl";
/// What the merge needs besides the signals to finish the report (`ShardBody`).
pub const SHARD_BODY: &str = "eval-shard.json";

#[derive(serde::Serialize, serde::Deserialize)]
pub struct ShardBody {
    pub stats: Stats,
    pub members: usize,
    pub nonmembers: usize,
    /// Canary exposures (shard 0 computes them; empty elsewhere).
    pub canaries: Vec<CanaryExposure>,
    /// Forget quality and VerbMem (shard 0 computes them).
    #[serde(default)]
    pub unlearning: crate::unlearning::Sections,
}

/// What the run-once parts of the report are computed from.
struct OnceInputs<'a> {
    args: &'a EvalArgs,
    canaries: &'a [TextRecord],
    formats: &'a [Option<Format>],
    qa: &'a [crate::unlearning::QaRecord],
    model: &'a Model,
    retrain: Option<&'a Model>,
    texts: &'a [&'a str],
    members: usize,
    quiet: bool,
}

impl OnceInputs<'_> {
    /// Canary exposure and the unlearning sections the flags ask for.
    fn run(&self) -> Result<RunOnce> {
        let a = self.args;
        let o = crate::unlearning::Options::of(
            &a.unlearning,
            a.batch_size,
            &crate::unlearning::EVAL_NAMES,
        )?;
        let (m, n) = self.texts.split_at(self.members);
        Ok(RunOnce {
            canaries: exposures(self.model, self.canaries, self.formats, a, self.quiet)?,
            unlearning: crate::unlearning::sections(
                &o,
                self.qa,
                self.model,
                self.retrain.map(|r| r as &dyn LanguageModel),
                m,
                n,
                self.quiet,
            )?,
        })
    }
}

/// One text's signals: `i` indexes members then non-members.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct ShardRow {
    pub i: usize,
    pub signals: SignalSet,
}

/// The statistics' settings: what turns the signals into the report.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    pub alpha: f64,
    pub bootstrap: usize,
    pub seed: u64,
    pub prior: f64,
    pub claimed_epsilon: Option<f64>,
    pub delta: f64,
    /// The retrained model's Min-K% AUC, when given instead of the model.
    #[serde(default)]
    pub retrain_auc: Option<f64>,
}

impl Stats {
    fn of(a: &EvalArgs) -> Stats {
        Stats {
            alpha: a.alpha,
            bootstrap: a.bootstrap,
            seed: a.seed,
            prior: a.prior,
            claimed_epsilon: a.claimed_epsilon,
            delta: a.delta,
            retrain_auc: a.retrain_auc,
        }
    }
}

/// SHA-256 of records' ids and texts (in the settings; a merge checks the files it reads
/// again against it).
pub fn records_sha256(rs: &[TextRecord]) -> String {
    let joined: String = rs
        .iter()
        .map(|r| format!("{}\u{1}{}\n", r.id, r.text))
        .collect();
    crate::scan::state::sha256_hex(joined.as_bytes())
}

/// Every setting of the run, with the inputs' hashes (shards of one run agree on them).
fn settings_of(
    args: &EvalArgs,
    model: &Model,
    members: &[TextRecord],
    nonmembers: &[TextRecord],
    canaries: &[TextRecord],
) -> Result<Map<String, Value>> {
    let digest = records_sha256;
    let settings = json!({
        "model": model.info().spec,
        "members": args.members.display().to_string(),
        "members_sha256": digest(members),
        "nonmembers": args.nonmembers.display().to_string(),
        "nonmembers_sha256": digest(nonmembers),
        "reference_model": super::one_or_many(&args.reference_model),
        "retrain_model": args.retrain_model,
        "retrain_adapter": args.retrain_adapter.as_ref().map(|p| p.display().to_string()),
        "retrain_auc": args.retrain_auc,
        "canaries": args.canaries.as_ref().map(|p| p.display().to_string()),
        "canaries_sha256": args.canaries.as_ref().map(|_| digest(canaries)),
        "claimed_epsilon": args.claimed_epsilon,
        "delta": args.delta,
        "prior": args.prior,
        "alpha": args.alpha,
        "bootstrap": args.bootstrap,
        "seed": args.seed,
        "min_k": args.min_k,
        "batch_size": args.batch_size,
        "max_exact": args.max_exact,
        "exposure_samples": args.exposure_samples,
        "cross_validation_folds": 5,
        "text_field": crate::input::text_field(),
        "id_field": crate::input::id_field(),
    });
    let mut m = super::with_setup(
        settings,
        model,
        args.model.adapter.as_deref(),
        &args.reference_adapter,
    )?;
    m.extend(crate::unlearning::settings(&args.unlearning));
    Ok(m)
}

/// The parts of an eval report computed once per run rather than per text (by shard 0
/// in a sharded run).
pub struct RunOnce {
    pub canaries: Vec<CanaryExposure>,
    pub unlearning: crate::unlearning::Sections,
}

/// The eval report from every text's signals (members first).
pub fn build_report(
    model: schema::ModelIdentity,
    settings: Map<String, Value>,
    st: &Stats,
    rows: &[SignalSet],
    members: usize,
    once: RunOnce,
    texts: Option<&[&str]>,
) -> EvalReport {
    let RunOnce {
        canaries,
        unlearning,
    } = once;
    let (m_rows, n_rows) = rows.split_at(members.min(rows.len()));
    let present: Vec<&signals::SignalDef> = signals::SIGNALS
        .iter()
        .filter(|d| rows.iter().any(|r| r.get(d.name).is_some()))
        .collect();
    let mut evals: Vec<SignalEval> = Vec::new();
    for d in &present {
        evals.push(evaluate(
            d.name,
            d.direction,
            &column(m_rows, d.name),
            &column(n_rows, d.name),
            st,
        ));
    }
    // the attacks on the target: the retrained model's column is PrivLeak's baseline
    let mut names: Vec<(&'static str, Direction)> = present
        .iter()
        .filter(|d| d.pass != signals::Pass::Retrain)
        .map(|d| (d.name, d.direction))
        .collect();
    let signal_names = names.clone();
    let privleak = privleak(&evals, st.retrain_auc);
    let combined = combined_attack(&names, rows, m_rows.len(), st.seed);
    let (cm, cn) = combined.split_at(m_rows.len());
    evals.push(evaluate("combined_lr", Direction::Higher, cm, cn, st));
    names.push(("combined_lr", Direction::Higher));

    let audit = st
        .claimed_epsilon
        .map(|eps| audit(eps, st.delta, &names, m_rows, n_rows, cm, cn, &evals));
    let blind_baseline = texts.map(|t| blind_baseline(t, m_rows.len(), st, &evals));
    let dataset_inference = Some(crate::dataset_inference::infer(
        &signal_names,
        m_rows,
        n_rows,
        st.alpha,
        st.seed,
        blind_baseline.as_ref().is_some_and(|b| b.split_biased),
    ));
    EvalReport {
        header: schema::Header::new("eval", model, settings),
        members: m_rows.len(),
        nonmembers: n_rows.len(),
        signals: evals,
        blind_baseline,
        audit,
        dataset_inference,
        privleak,
        forget_quality: unlearning.forget_quality,
        verbmem: unlearning.verbmem,
        canaries,
    }
}

/// MUSE's PrivLeak from `min_k`'s AUC and the retrained model's (its column, or the
/// AUC given). The reading weighs the gap against the target AUC's bootstrap interval:
/// a retrained AUC inside it is within sampling error, whatever the percentage.
fn privleak(evals: &[SignalEval], given: Option<f64>) -> Option<schema::PrivLeak> {
    let find = |n: &str| evals.iter().find(|e| e.name == n);
    let (retrain, source) = match (find("retrain_min_k").and_then(|e| e.auc), given) {
        (Some(a), _) => (a, "--retrain-model"),
        (None, Some(a)) => (a, "given with --retrain-auc"),
        (None, None) => return None,
    };
    let target = find("min_k")?;
    let auc = target.auc?;
    let percent = signals::privleak(auc, retrain)?;
    let ci = target.auc_ci;
    let reading = match ci {
        Some([lo, hi]) if (lo..=hi).contains(&retrain) => format!(
            "within sampling error of the retrained model: its AUC {retrain:.3} lies inside this model's 95% bootstrap interval [{lo:.3}, {hi:.3}], so these sets cannot tell the two apart"
        ),
        _ if percent.abs() <= 5.0 => {
            "within 5% of the retrained model: the members leak about as much as from a model that never saw them".into()
        }
        _ if percent > 0.0 => {
            "above the retrained model: the members are still told apart from held-out texts (under-unlearning)".into()
        }
        _ => "below the retrained model: the members now look less like training data than held-out texts do (over-unlearning, itself a signal)".into(),
    };
    let reading = match ci {
        None => format!("{reading} (no bootstrap interval: --bootstrap 0; the gap is not weighed against sampling error)"),
        Some(_) => reading,
    };
    Some(schema::PrivLeak {
        attack: "min_k".into(),
        auc,
        auc_retrain: retrain,
        retrain_source: source.into(),
        privleak_percent: percent,
        reading,
    })
}

/// The blind baseline over the same split, and the warning when it rivals the attacks.
fn blind_baseline(
    texts: &[&str],
    members: usize,
    st: &Stats,
    evals: &[SignalEval],
) -> schema::BlindBaseline {
    let s = crate::blind::scores(texts, members, 5, st.seed);
    let (m, n) = s.split_at(members.min(s.len()));
    let d = Direction::Higher;
    let auc = stats::auc(m, n, d);
    let auc_ci = stats::auc_bootstrap_ci(m, n, d, st.bootstrap, 0.95, st.seed).map(|(l, h)| [l, h]);
    let best = evals
        .iter()
        .filter(|e| e.auc.is_some())
        .max_by(|a, b| a.auc.unwrap_or(0.0).total_cmp(&b.auc.unwrap_or(0.0)));
    let split_biased = auc_ci.is_some_and(|c| c[0] > 0.5);
    // an attack that claims something (its CI above chance) and a baseline that does as well
    let claims = best.and_then(|b| b.auc_ci).is_some_and(|c| c[0] > 0.5);
    let rivals = match (auc, best.and_then(|b| b.auc)) {
        (Some(a), Some(b)) => claims && a >= b - 0.02,
        _ => false,
    };
    let fmt = |x: Option<f64>| x.map_or("n/a".into(), |v| format!("{v:.3}"));
    let mut warning = Vec::new();
    if split_biased {
        warning.push(format!(
            "the texts alone tell members from non-members (blind AUC {}, 95% CI [{}, {}]): the split differs in more than membership",
            fmt(auc),
            fmt(auc_ci.map(|c| c[0])),
            fmt(auc_ci.map(|c| c[1]))
        ));
    }
    if rivals {
        warning.push(format!(
            "the blind baseline rivals the best attack ({} AUC {}): these AUCs measure the split, not the model",
            best.map_or("", |b| b.name.as_str()),
            fmt(best.and_then(|b| b.auc))
        ));
    }
    schema::BlindBaseline {
        method: "bag of words and word pairs, Bernoulli naive Bayes, 5-fold out of fold (Das et al. 2024)".into(),
        auc,
        auc_ci,
        tpr_at_1pct_fpr: stats::tpr_at_fpr(m, n, d, 0.01).tpr,
        best_attack: best.map(|b| b.name.clone()).unwrap_or_default(),
        best_attack_auc: best.and_then(|b| b.auc),
        split_biased,
        warning: (!warning.is_empty()).then(|| {
            let mut w = warning.join("; ");
            w.push('.');
            w
        }),
    }
}

fn check_args(args: &EvalArgs) -> Result<()> {
    super::check_batch_size(args.batch_size)?;
    if !(args.prior > 0.0 && args.prior < 1.0) {
        return Err(Error::input(format!(
            "--prior {}: must be in (0, 1)",
            args.prior
        )));
    }
    if !(args.alpha > 0.0 && args.alpha < 1.0) {
        return Err(Error::input(format!(
            "--alpha {}: must be in (0, 1)",
            args.alpha
        )));
    }
    if let Some(e) = args.claimed_epsilon {
        if !(e >= 0.0 && e.is_finite()) {
            return Err(Error::input(format!("--claimed-epsilon {e}: must be ≥ 0")));
        }
    }
    if let Some(a) = args.retrain_auc {
        if !(a > 0.0 && a <= 1.0) {
            return Err(Error::input(format!(
                "--retrain-auc {a}: must be in (0, 1]"
            )));
        }
    }
    crate::unlearning::Options::of(
        &args.unlearning,
        args.batch_size,
        &crate::unlearning::EVAL_NAMES,
    )?;
    if !(0.0..1.0).contains(&args.delta) {
        return Err(Error::input(format!(
            "--delta {}: must be in [0, 1)",
            args.delta
        )));
    }
    Ok(())
}

/// Each canary's `format`, parsed and checked against its text.
fn canary_formats(canaries: &[TextRecord], args: &EvalArgs) -> Result<Vec<Option<Format>>> {
    canaries
        .iter()
        .map(|c| match c.extra.get("format").and_then(Value::as_str) {
            Some(f) => Format::parse(f)
                .and_then(|fm| fm.check(&c.text).map(|_| fm))
                .map(Some)
                .map_err(|e| {
                    Error::input(format!(
                        "{}: canary {}: {e}",
                        path_str(&args.canaries),
                        c.id
                    ))
                }),
            None => Ok(None),
        })
        .collect()
}

/// The combined attack: every signal as a feature of a cross-validated logistic
/// regression (a missing value is the column's mean); members are the first rows.
fn combined_attack(
    names: &[(&'static str, Direction)],
    rows: &[SignalSet],
    members: usize,
    seed: u64,
) -> Vec<f64> {
    let means: Vec<f64> = names
        .iter()
        .map(|(n, _)| {
            let c = column(rows, n);
            c.iter().sum::<f64>() / c.len().max(1) as f64
        })
        .collect();
    let feats: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| {
            names
                .iter()
                .zip(&means)
                .map(|((n, _), m)| r.get(n).unwrap_or(*m))
                .collect()
        })
        .collect();
    let labels: Vec<bool> = (0..rows.len()).map(|i| i < members).collect();
    stats::logistic_cv(&feats, &labels, 5, seed)
}

fn say_done(report: &EvalReport, out: &Path) {
    let best = report
        .signals
        .iter()
        .filter(|s| s.auc.is_some())
        .max_by(|a, b| a.auc.unwrap_or(0.0).total_cmp(&b.auc.unwrap_or(0.0)));
    if let Some(b) = best {
        eprintln!(
            "memscan: best signal {} (AUC {:.3}); report in {}",
            b.name,
            b.auc.unwrap_or(0.0),
            out.display()
        );
    }
    if let Some(a) = &report.audit {
        eprintln!("memscan: audit: {}", a.verdict);
    }
}

/// The values of signal `n` over the rows that have one.
fn column(rows: &[SignalSet], n: &str) -> Vec<f64> {
    rows.iter().filter_map(|r| r.get(n)).collect()
}

fn path_str(p: &Option<PathBuf>) -> String {
    p.as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

/// The three passes of eval's scoring stage over the same texts.
struct Passes<'a> {
    scorer: Scorer<'a>,
    basic: Scorer<'a>,
    references: Vec<Scorer<'a>>,
    retrain: Option<Scorer<'a>>,
    texts: &'a [&'a str],
    lower: Vec<String>,
    min_k: f64,
    attacks: super::attacks::Attacks,
}

impl<'a> Passes<'a> {
    fn new(
        model: &'a Model,
        references: &'a [Model],
        retrain: Option<&'a Model>,
        texts: &'a [&'a str],
        a: &EvalArgs,
    ) -> Result<Self> {
        let opts = |stats: bool| ScoreOptions {
            batch_size: a.batch_size,
            max_tokens: None,
            vocab_stats: stats,
            attention: false,
        };
        let basic = Scorer::new(model, opts(false))?;
        let references = references
            .iter()
            .map(|r| Scorer::new(r, opts(false)))
            .collect::<Result<Vec<_>>>()?;
        let attacks = super::attacks::Attacks::open(&a.attacks, &basic, &references, texts)?;
        Ok(Passes {
            scorer: Scorer::new(model, opts(true))?,
            basic,
            attacks,
            references,
            retrain: match retrain {
                Some(r) => Some(Scorer::new(r, opts(false))?),
                None => None,
            },
            texts,
            lower: texts.iter().map(|t| t.to_lowercase()).collect(),
            min_k: a.min_k,
        })
    }

    /// The batches of the main pass (longest first): every pass runs in them, so a text
    /// has the same neighbours in every pass and in every sharding of the run.
    fn plan(&self) -> Result<Vec<Vec<usize>>> {
        self.scorer.plan(self.texts)
    }

    /// Every signal of the texts of one batch, in the batch's order; and its tokens.
    fn batch(&self, batch: &[usize]) -> Result<(Vec<SignalSet>, usize)> {
        let texts: Vec<&str> = batch.iter().map(|&i| self.texts[i]).collect();
        let lower: Vec<&str> = batch.iter().map(|&i| self.lower[i].as_str()).collect();
        let scored = self.scorer.score_batch(&texts)?;
        let tokens = scored.iter().map(|s| s.token_ids.len()).sum();
        let lowered = self.basic.score_batch(&lower)?;
        let ref_nll: Vec<Vec<Option<f64>>> = self
            .references
            .iter()
            .map(|r| {
                Ok(r.score_batch(&texts)?
                    .iter()
                    .map(|s| signals::nll_mean(&s.token_logprobs))
                    .collect())
            })
            .collect::<Result<_>>()?;
        // per text: each reference's nll
        let per_text: Vec<Vec<Option<f64>>> = (0..batch.len())
            .map(|j| ref_nll.iter().map(|r| r[j]).collect())
            .collect();
        let prefixed = self.attacks.prefixed(&self.basic, &texts)?;
        let member = self.attacks.member_prefixed(&self.basic, &texts)?;
        let neighbours = self.attacks.neighbour_nlls(&self.basic, &texts)?;
        let retrained = match &self.retrain {
            Some(r) => Some(r.score_batch(&texts)?),
            None => None,
        };
        let rows = (0..batch.len())
            .map(|j| {
                let s = &scored[j];
                SignalSet::new(signals::Passes {
                    lowercase_nll: Some(signals::nll_mean(&lowered[j].token_logprobs)),
                    references: (!self.references.is_empty()).then(|| signals::References {
                        target: signals::nll_mean(&s.token_logprobs),
                        nll: &per_text[j],
                        population: self.attacks.population.as_ref(),
                    }),
                    prefixed_nll: prefixed.as_ref().map(|p| p[j]),
                    member_prefixed: self
                        .attacks
                        .con_recall_input(member.as_ref().and_then(|m| m[j])),
                    neighbours: neighbours.as_ref().map(|n| n[j].as_slice()),
                    frequency: self.attacks.frequency(s),
                    retrain: retrained.as_ref().map(|r| r[j].token_logprobs.as_slice()),
                    ..signals::Passes::main(s.pass_values(texts[j], self.min_k))
                })
            })
            .collect();
        Ok((rows, tokens))
    }
}

fn evaluate(name: &str, d: Direction, m: &[f64], n: &[f64], a: &Stats) -> SignalEval {
    let roc = stats::roc(m, n, d);
    let step = (roc.len() / 400).max(1);
    let thinned: Vec<[f64; 2]> = roc
        .iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0 || *i + 1 == roc.len())
        .map(|(_, p)| [p.fpr, p.tpr])
        .collect();
    let at = |alpha: f64| stats::tpr_at_fpr(m, n, d, alpha);
    let np = at(a.alpha);
    SignalEval {
        name: name.into(),
        direction: super::dir_name(d).into(),
        auc: stats::auc(m, n, d),
        auc_ci: stats::auc_bootstrap_ci(m, n, d, a.bootstrap, 0.95, a.seed).map(|(l, h)| [l, h]),
        pr_auc: stats::average_precision(m, n, d),
        fpr_at_95_tpr: stats::fpr_at_tpr(m, n, d, 0.95),
        tpr_at_fpr: FPR_TARGETS
            .iter()
            .map(|&f| {
                let t = at(f);
                TprAtFprItem {
                    fpr_target: f,
                    tpr: t.tpr,
                    fpr: t.fpr,
                    threshold: t.threshold,
                    n_nonmembers: t.n_nonmembers,
                    false_positives: t.false_positives,
                }
            })
            .collect(),
        neyman_pearson: NeymanPearson {
            alpha: a.alpha,
            threshold: np.threshold,
            tpr: np.tpr,
            fpr: np.fpr,
            prior: a.prior,
            posterior: stats::posterior(np.tpr, np.fpr, a.prior),
        },
        best_balanced_accuracy: stats::best_balanced_accuracy(m, n, d),
        roc: thinned,
    }
}

/// The largest ε lower bound any signal's threshold implies, with Clopper–Pearson
/// bounds (a lower bound on TPR, an upper bound on FPR), against the claim.
#[allow(clippy::too_many_arguments)]
fn audit(
    eps: f64,
    delta: f64,
    names: &[(&'static str, Direction)],
    m_rows: &[SignalSet],
    n_rows: &[SignalSet],
    cm: &[f64],
    cn: &[f64],
    evals: &[SignalEval],
) -> Audit {
    let mut best = (0.0f64, String::new(), f64::NAN, 0.0, 0.0, 0.0, 1.0);
    for &(name, d) in names {
        let (m, n) = if name == "combined_lr" {
            (cm.to_vec(), cn.to_vec())
        } else {
            (column(m_rows, name), column(n_rows, name))
        };
        let (nm, nn) = (m.len() as u64, n.len() as u64);
        if nm == 0 || nn == 0 {
            continue;
        }
        for p in stats::roc(&m, &n, d) {
            let tp = (p.tpr * nm as f64).round() as u64;
            let fp = (p.fpr * nn as f64).round() as u64;
            let (tpr_lo, _) = stats::clopper_pearson(tp, nm, AUDIT_CONFIDENCE);
            let (_, fpr_hi) = stats::clopper_pearson(fp, nn, AUDIT_CONFIDENCE);
            let e = stats::epsilon_lower_bound(tpr_lo, fpr_hi, delta);
            if e > best.0 {
                best = (
                    e,
                    name.to_string(),
                    p.threshold,
                    p.tpr,
                    p.fpr,
                    tpr_lo,
                    fpr_hi,
                );
            }
        }
    }
    let (elb, signal, threshold, tpr, fpr, tpr_lower, fpr_upper) = best;
    let adv = evals
        .iter()
        .map(|s| 2.0 * s.best_balanced_accuracy - 1.0)
        .fold(0.0, f64::max);
    let contradicted = elb > eps;
    let verdict = if contradicted {
        format!(
            "the claim ε = {eps} (δ = {delta}) is contradicted: the {signal} attack implies ε ≥ {elb:.3} at {:.0}% confidence (TPR ≥ {tpr_lower:.3}, FPR ≤ {fpr_upper:.3})",
            AUDIT_CONFIDENCE * 100.0
        )
    } else {
        format!(
            "no contradiction: the strongest attack ({}) implies only ε ≥ {elb:.3}, within the claimed ε = {eps} (δ = {delta}); an audit can refute a claim, never prove it",
            if signal.is_empty() { "none" } else { &signal }
        )
    };
    Audit {
        claimed_epsilon: eps,
        delta,
        confidence: AUDIT_CONFIDENCE,
        epsilon_lower_bound: elb,
        signal,
        threshold,
        tpr,
        fpr,
        tpr_lower,
        fpr_upper,
        contradicted,
        verdict,
        max_advantage_cap: stats::max_advantage(eps),
        max_accuracy_cap: stats::max_accuracy(eps),
        observed_advantage: adv,
        observed_balanced_accuracy: (adv + 1.0) / 2.0,
    }
}

/// Total NLL (nats) of each text under the model.
fn total_nll(scorer: &Scorer, texts: &[String]) -> Result<Vec<f64>> {
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    Ok(scorer
        .score(&refs, |_, _| {})?
        .iter()
        .map(|s| -s.token_logprobs.iter().map(|&x| x as f64).sum::<f64>())
        .collect())
}

/// Secret Sharer exposure of each canary with a format: exact rank among all
/// candidates for small spaces; for large ones −log2 of the fraction of candidates
/// more likely than the canary, from a normal fit to a seeded sample of candidates.
fn exposures(
    model: &Model,
    canaries: &[crate::input::TextRecord],
    formats: &[Option<Format>],
    a: &EvalArgs,
    quiet: bool,
) -> Result<Vec<CanaryExposure>> {
    let scorer = Scorer::new(
        model,
        ScoreOptions {
            batch_size: a.batch_size.max(32),
            ..Default::default()
        },
    )?;
    let mut out = Vec::new();
    let todo = formats.iter().filter(|f| f.is_some()).count();
    let pb = super::progress_bar(todo as u64, quiet, "canaries");
    for (c, f) in canaries.iter().zip(formats) {
        let Some(f) = f else { continue };
        let truth = total_nll(&scorer, std::slice::from_ref(&c.text))?[0];
        let space = f.space();
        let mut rng = stats::SplitMix(a.seed ^ 0x5eed_ca9a_0000_0000);
        let (method, scored, rank, exposure) = if space <= a.max_exact as f64 {
            let cands: Vec<String> = (0..space as u64)
                .map(|k| f.nth(k))
                .filter(|t| *t != c.text)
                .collect();
            let nll = total_nll(&scorer, &cands)?;
            let rank = 1 + nll.iter().filter(|&&x| x < truth).count() as u64;
            (
                "exact",
                cands.len(),
                Some(rank),
                stats::exposure(space, rank as f64),
            )
        } else {
            let cands: Vec<String> = (0..a.exposure_samples.max(2))
                .map(|_| f.random(&mut rng))
                .collect();
            let nll = total_nll(&scorer, &cands)?;
            let (mu, sd) = stats::normal_fit(&nll).unwrap_or((truth, 0.0));
            let frac = stats::normal_cdf((truth - mu) / sd.max(1e-12)).max(1.0 / space);
            ("estimated", cands.len(), None, -frac.log2())
        };
        let extra: Map<String, Value> = c
            .extra
            .iter()
            .filter(|(k, _)| k.as_str() != "format" && k.as_str() != "value")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        out.push(CanaryExposure {
            id: match &c.id {
                Value::String(s) => s.clone(),
                v => v.to_string(),
            },
            extra,
            format: c
                .extra
                .get("format")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .into(),
            space_size: space,
            method: method.into(),
            candidates_scored: scored,
            rank,
            exposure,
            nll: truth,
        });
        pb.inc(1);
    }
    pb.finish_and_clear();
    Ok(out)
}
