//! `memscan compare A B`: two report folders of the same kind (this release and the
//! last; a model before and after unlearning) compared as a reviewer would: every rate's
//! change with a test of significance, every signal's AUC change, findings new in B, gone
//! from B and in both (by fingerprint), and the records or samples whose verdict changed.
//!
//! The tests: a rate k/n by the pooled two-proportion z-test, or Fisher's exact test
//! where an expected cell count is under 5 (`stats::compare_rates`); an eval AUC by the
//! z-test of two independent AUCs with Hanley & McNeil's standard errors (conservative
//! when both runs scored the same texts); a scan signal's shift by the Mann–Whitney test
//! on the two runs' sample values. All p-values of one comparison are adjusted together
//! by Holm's method, and a change is called significant when its adjusted p < α.
//!
//! A regression is a change toward more leakage that a person should act on: a leakage
//! rate or an eval AUC significantly higher in B, a finding at level likely_memorized or
//! above that is new in B, or a forget-check record newly memorized or extractable.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::report::folder::OwnedReport;
use crate::report::schema::{EvalReport, ForgetReport, Level, ScanReport, Tool, Verdict};
use crate::stats;

/// One report's identity in a comparison.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Side {
    pub report: String,
    pub created: String,
    pub model: String,
    pub model_sha256: String,
}

/// A count out of a total.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Count {
    pub k: u64,
    pub n: u64,
    pub rate: Option<f64>,
}

impl Count {
    fn new(k: usize, n: usize) -> Self {
        Count {
            k: k as u64,
            n: n as u64,
            rate: (n > 0).then(|| k as f64 / n as f64),
        }
    }
}

/// One rate in A and in B, the change and its test.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RateChange {
    pub name: String,
    pub a: Count,
    pub b: Count,
    /// B's rate minus A's.
    pub change: Option<f64>,
    pub test: Option<String>,
    pub p_value: Option<f64>,
    /// Holm-adjusted over every test of this comparison.
    pub p_adjusted: Option<f64>,
    pub significant: bool,
    /// Higher in B means more leakage (a significant rise is a regression).
    pub higher_is_worse: bool,
}

/// One signal in A and in B.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignalChange {
    pub name: String,
    pub direction: String,
    /// eval: the AUC; scan: the median sample value.
    pub a: Option<f64>,
    pub b: Option<f64>,
    pub change: Option<f64>,
    /// scan: P(a B sample is more member-like than an A sample); 0.5 = no shift.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shift_auc: Option<f64>,
    pub test: Option<String>,
    pub p_value: Option<f64>,
    pub p_adjusted: Option<f64>,
    pub significant: bool,
    /// eval: a significantly higher AUC is a regression; scan: informational.
    pub counts_as_regression: bool,
}

/// A finding (by value fingerprint) and its highest level in each report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FindingChange {
    pub fingerprint: String,
    pub rule_id: String,
    pub category: String,
    pub masked: String,
    pub level_a: Option<Level>,
    pub level_b: Option<Level>,
}

/// Findings new in B, gone from B, and in both.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FindingsDiff {
    pub new_in_b: Vec<FindingChange>,
    pub gone_from_b: Vec<FindingChange>,
    pub in_both: Vec<FindingChange>,
}

/// A record (forget-check) or sample (scan) whose verdict differs, by id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerdictChange {
    pub id: String,
    pub a: String,
    pub b: String,
    pub regression: bool,
}

/// A headline figure without a test (PrivLeak, forget quality, VerbMem).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Figure {
    pub name: String,
    pub a: Option<f64>,
    pub b: Option<f64>,
}

/// compare.json.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comparison {
    pub schema_version: String,
    pub kind: String,
    pub tool: Tool,
    pub created: String,
    /// The kind of both reports: scan, eval or forget-check.
    pub compared: String,
    pub a: Side,
    pub b: Side,
    pub alpha: f64,
    pub method: String,
    pub rates: Vec<RateChange>,
    pub signals: Vec<SignalChange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub findings: Option<FindingsDiff>,
    pub changed: Vec<VerdictChange>,
    /// Ids in only one report (not compared).
    pub only_in_a: usize,
    pub only_in_b: usize,
    pub figures: Vec<Figure>,
    /// Each regression found, in words; empty when none.
    pub regressions: Vec<String>,
}

pub const METHOD: &str = "rates: pooled two-proportion z-test, or Fisher's exact test where an expected count is under 5; eval AUCs: z-test of two independent AUCs with Hanley-McNeil standard errors (conservative when both runs scored the same texts); scan signals: Mann-Whitney test of the two runs' sample values; all p-values adjusted together by Holm's method";

fn side(path: &std::path::Path, h: &crate::report::schema::Header) -> Side {
    Side {
        report: path.display().to_string(),
        created: h.created.clone(),
        model: h.model.path.clone(),
        model_sha256: h.model.sha256.clone(),
    }
}

/// Compares two reports read from `pa` and `pb`.
pub fn compare(
    pa: &std::path::Path,
    a: &OwnedReport,
    pb: &std::path::Path,
    b: &OwnedReport,
    alpha: f64,
) -> Result<Comparison> {
    let start = |compared: &str| empty(compared, side(pa, header(a)), side(pb, header(b)), alpha);
    let mut c = match (a, b) {
        (OwnedReport::Scan(x), OwnedReport::Scan(y)) => scan(x, y, start("scan")),
        (OwnedReport::Eval(x), OwnedReport::Eval(y)) => eval(x, y, start("eval")),
        (OwnedReport::Forget(x), OwnedReport::Forget(y)) => forget(x, y, start("forget-check")),
        _ => {
            return Err(Error::file(
                pb,
                format!(
                    "is a {} report and {} is a {} report: compare reports of one kind",
                    kind(b),
                    pa.display(),
                    kind(a)
                ),
            ))
        }
    };
    adjust(&mut c);
    c.regressions = regressions(&c);
    Ok(c)
}

fn kind(r: &OwnedReport) -> &'static str {
    match r {
        OwnedReport::Scan(_) => "scan",
        OwnedReport::Eval(_) => "eval",
        OwnedReport::Forget(_) => "forget-check",
    }
}

fn header(r: &OwnedReport) -> &crate::report::schema::Header {
    match r {
        OwnedReport::Scan(x) => &x.header,
        OwnedReport::Eval(x) => &x.header,
        OwnedReport::Forget(x) => &x.header,
    }
}

/// A comparison of `a` and `b` with nothing compared yet.
fn empty(compared: &str, a: Side, b: Side, alpha: f64) -> Comparison {
    Comparison {
        schema_version: crate::report::SCHEMA_VERSION.into(),
        kind: "compare".into(),
        tool: Tool::current(),
        created: crate::report::schema::utc_now(),
        compared: compared.into(),
        a,
        b,
        alpha,
        method: METHOD.into(),
        rates: Vec::new(),
        signals: Vec::new(),
        findings: None,
        changed: Vec::new(),
        only_in_a: 0,
        only_in_b: 0,
        figures: Vec::new(),
        regressions: Vec::new(),
    }
}

fn rate(name: &str, a: Count, b: Count, higher_is_worse: bool) -> RateChange {
    let t = stats::compare_rates(a.k, a.n, b.k, b.n);
    RateChange {
        name: name.into(),
        a,
        b,
        change: t.map(|t| t.0),
        test: t.map(|t| t.2.to_string()),
        p_value: t.map(|t| t.1),
        p_adjusted: None,
        significant: false,
        higher_is_worse,
    }
}

fn scan(a: &ScanReport, b: &ScanReport, mut c: Comparison) -> Comparison {
    let rates = |r: &ScanReport| {
        let s = &r.summary;
        let n = s.samples;
        vec![
            ("flagged samples", Count::new(s.flagged, n)),
            (
                "samples with evidence of memorization (likely_memorized or confirmed)",
                Count::new(
                    s.levels.samples.likely_memorized + s.levels.samples.confirmed,
                    n,
                ),
            ),
            (
                "confirmed samples",
                Count::new(s.levels.samples.confirmed, n),
            ),
            ("samples with a secret", Count::new(s.by_reason.secret, n)),
            ("samples with PII", Count::new(s.by_reason.pii, n)),
            ("verbatim samples", Count::new(s.by_reason.verbatim, n)),
            ("true-suffix samples", Count::new(s.by_reason.suffix, n)),
            (
                "samples beyond the signal threshold",
                Count::new(s.by_reason.signal, n),
            ),
        ]
    };
    for ((name, ra), (_, rb)) in rates(a).into_iter().zip(rates(b)) {
        c.rates.push(rate(name, ra, rb, true));
    }
    for sa in &a.signals {
        let Some(sb) = b.signals.iter().find(|s| s.name == sa.name) else {
            continue;
        };
        let values = |r: &ScanReport| -> Vec<f64> {
            r.items
                .iter()
                .filter_map(|it| it.signals.get(&sa.name))
                .filter(|v| v.is_finite())
                .collect()
        };
        let (va, vb) = (values(a), values(b));
        let dir = crate::signals::def(&sa.name).map(|d| d.direction);
        let shift = dir.and_then(|d| stats::auc(&vb, &va, d));
        c.signals.push(SignalChange {
            name: sa.name.clone(),
            direction: sa.direction.clone(),
            a: sa.median,
            b: sb.median,
            change: sa.median.zip(sb.median).map(|(x, y)| y - x),
            shift_auc: shift,
            test: shift.map(|_| "Mann-Whitney".to_string()),
            p_value: shift.and_then(|s| stats::mann_whitney_p(s, vb.len(), va.len())),
            p_adjusted: None,
            significant: false,
            counts_as_regression: false,
        });
    }
    // findings by value fingerprint, each at its highest level
    let by_fp = |r: &ScanReport| {
        let mut m: BTreeMap<String, FindingChange> = BTreeMap::new();
        for f in &r.findings {
            let e = m
                .entry(f.fingerprint.clone())
                .or_insert_with(|| FindingChange {
                    fingerprint: f.fingerprint.clone(),
                    rule_id: f.rule_id.clone(),
                    category: f.category.clone(),
                    masked: f.masked.clone(),
                    level_a: None,
                    level_b: None,
                });
            e.level_a = e.level_a.max(Some(f.level));
        }
        m
    };
    let (fa, fb) = (by_fp(a), by_fp(b));
    let mut d = FindingsDiff::default();
    for (fp, x) in &fa {
        match fb.get(fp) {
            Some(y) => d.in_both.push(FindingChange {
                level_b: y.level_a,
                ..x.clone()
            }),
            None => d.gone_from_b.push(x.clone()),
        }
    }
    for (fp, y) in &fb {
        if !fa.contains_key(fp) {
            d.new_in_b.push(FindingChange {
                level_a: None,
                level_b: y.level_a,
                ..y.clone()
            });
        }
    }
    for list in [&mut d.new_in_b, &mut d.gone_from_b, &mut d.in_both] {
        list.sort_by(|x, y| {
            y.level_b
                .max(y.level_a)
                .cmp(&x.level_b.max(x.level_a))
                .then(x.fingerprint.cmp(&y.fingerprint))
        });
    }
    c.findings = Some(d);
    // samples by id (the same prompts and seed give the same ids)
    let level = |l: Option<Level>| l.map_or("not flagged", |l| l.as_str()).to_string();
    let ids = |r: &ScanReport| -> BTreeMap<String, Option<Level>> {
        r.items.iter().map(|i| (i.id.clone(), i.level)).collect()
    };
    changed_by_id(&mut c, &ids(a), &ids(b), |x| level(*x), |_, _| false);
    c
}

fn eval(a: &EvalReport, b: &EvalReport, mut c: Comparison) -> Comparison {
    for sa in &a.signals {
        let Some(sb) = b.signals.iter().find(|s| s.name == sa.name) else {
            continue;
        };
        let se = |r: &EvalReport, auc: Option<f64>| {
            auc.and_then(|x| stats::auc_se(x, r.members, r.nonmembers))
        };
        let p = match (sa.auc, se(a, sa.auc), sb.auc, se(b, sb.auc)) {
            (Some(x), Some(sx), Some(y), Some(sy)) => stats::z_difference_p(x, sx, y, sy),
            _ => None,
        };
        c.signals.push(SignalChange {
            name: sa.name.clone(),
            direction: sa.direction.clone(),
            a: sa.auc,
            b: sb.auc,
            change: sa.auc.zip(sb.auc).map(|(x, y)| y - x),
            shift_auc: None,
            test: p.map(|_| "AUC z-test (Hanley-McNeil)".to_string()),
            p_value: p,
            p_adjusted: None,
            significant: false,
            counts_as_regression: true,
        });
        // the members found at 1% false positives
        let at1 = |r: &EvalReport, s: &crate::report::schema::SignalEval| {
            s.tpr_at_fpr
                .iter()
                .find(|t| (t.fpr_target - 0.01).abs() < 1e-12)
                .map(|t| Count::new((t.tpr * r.members as f64).round() as usize, r.members))
        };
        if let (Some(ka), Some(kb)) = (at1(a, sa), at1(b, sb)) {
            c.rates.push(rate(
                &format!("{}: members found at 1% FPR", sa.name),
                ka,
                kb,
                true,
            ));
        }
    }
    let fig = |name: &str, f: &dyn Fn(&EvalReport) -> Option<f64>| Figure {
        name: name.into(),
        a: f(a),
        b: f(b),
    };
    c.figures = vec![
        fig("PrivLeak (%)", &|r| {
            r.privleak.as_ref().map(|p| p.privleak_percent)
        }),
        fig("forget quality (KS p)", &|r| {
            r.forget_quality.as_ref().and_then(|f| f.forget_quality)
        }),
        fig("VerbMem ROUGE-L F1, members", &|r| {
            r.verbmem.as_ref().map(|v| v.members.rouge_l_f1)
        }),
        fig("dataset inference p", &|r| {
            r.dataset_inference.as_ref().and_then(|d| d.p_value)
        }),
        fig("canaries' mean exposure (bits)", &|r| {
            (!r.canaries.is_empty()).then(|| {
                r.canaries.iter().map(|c| c.exposure).sum::<f64>() / r.canaries.len() as f64
            })
        }),
    ]
    .into_iter()
    .filter(|f| f.a.is_some() || f.b.is_some())
    .collect();
    c
}

fn forget(a: &ForgetReport, b: &ForgetReport, mut c: Comparison) -> Comparison {
    let bad = |v: Verdict| matches!(v, Verdict::Extractable | Verdict::Memorized);
    let count = |r: &ForgetReport, f: &dyn Fn(Verdict) -> bool| {
        Count::new(
            r.records.iter().filter(|x| f(x.verdict)).count(),
            r.records.len(),
        )
    };
    c.rates.push(rate(
        "records memorized or extractable",
        count(a, &bad),
        count(b, &bad),
        true,
    ));
    for v in [
        Verdict::Extractable,
        Verdict::Memorized,
        Verdict::Inconclusive,
        Verdict::NotDetected,
    ] {
        c.rates.push(rate(
            &format!("records {}", v.as_str()),
            count(a, &|x| x == v),
            count(b, &|x| x == v),
            bad(v),
        ));
    }
    let ids = |r: &ForgetReport| -> BTreeMap<String, Verdict> {
        r.records
            .iter()
            .map(|x| (x.id.clone(), x.verdict))
            .collect()
    };
    changed_by_id(
        &mut c,
        &ids(a),
        &ids(b),
        |v| v.as_str().to_string(),
        |va, vb| bad(*vb) && !bad(*va),
    );
    c
}

/// The ids whose verdict differs between `a` and `b` (named by `name`; `regression`
/// tells whether the change from the first to the second is one), and the ids in one
/// report only.
fn changed_by_id<T: PartialEq>(
    c: &mut Comparison,
    a: &BTreeMap<String, T>,
    b: &BTreeMap<String, T>,
    name: impl Fn(&T) -> String,
    regression: impl Fn(&T, &T) -> bool,
) {
    for (id, va) in a {
        match b.get(id) {
            Some(vb) if vb != va => c.changed.push(VerdictChange {
                id: id.clone(),
                a: name(va),
                b: name(vb),
                regression: regression(va, vb),
            }),
            Some(_) => {}
            None => c.only_in_a += 1,
        }
    }
    c.only_in_b = b.keys().filter(|k| !a.contains_key(*k)).count();
}

/// Holm over every p-value of the comparison; significance at α.
fn adjust(c: &mut Comparison) {
    let mut ps: Vec<f64> = Vec::new();
    ps.extend(c.rates.iter().filter_map(|r| r.p_value));
    ps.extend(c.signals.iter().filter_map(|s| s.p_value));
    let adj = stats::holm(&ps);
    let mut it = adj.into_iter();
    for r in &mut c.rates {
        if r.p_value.is_some() {
            r.p_adjusted = it.next();
            r.significant = r.p_adjusted.is_some_and(|p| p < c.alpha);
        }
    }
    for s in &mut c.signals {
        if s.p_value.is_some() {
            s.p_adjusted = it.next();
            s.significant = s.p_adjusted.is_some_and(|p| p < c.alpha);
        }
    }
}

fn regressions(c: &Comparison) -> Vec<String> {
    let mut out = Vec::new();
    let pct = |x: Option<f64>| x.map_or("–".into(), |v| format!("{:.1}%", 100.0 * v));
    for r in &c.rates {
        if r.higher_is_worse && r.significant && r.change.is_some_and(|d| d > 0.0) {
            out.push(format!(
                "{}: {} → {} ({}/{} → {}/{}; adjusted p {:.2e})",
                r.name,
                pct(r.a.rate),
                pct(r.b.rate),
                r.a.k,
                r.a.n,
                r.b.k,
                r.b.n,
                r.p_adjusted.unwrap_or(f64::NAN)
            ));
        }
    }
    for s in &c.signals {
        if s.counts_as_regression && s.significant && s.change.is_some_and(|d| d > 0.0) {
            out.push(format!(
                "{} AUC {:.3} → {:.3} (adjusted p {:.2e})",
                s.name,
                s.a.unwrap_or(f64::NAN),
                s.b.unwrap_or(f64::NAN),
                s.p_adjusted.unwrap_or(f64::NAN)
            ));
        }
    }
    if let Some(f) = &c.findings {
        for x in f
            .new_in_b
            .iter()
            .filter(|x| x.level_b >= Some(Level::LikelyMemorized))
        {
            out.push(format!(
                "new {} finding {} ({}) at level {}",
                x.category,
                x.masked,
                x.rule_id,
                x.level_b.map_or("–", |l| l.as_str())
            ));
        }
        for x in f
            .in_both
            .iter()
            .filter(|x| x.level_b > x.level_a && x.level_b >= Some(Level::LikelyMemorized))
        {
            out.push(format!(
                "{} finding {} ({}) rose from {} to {}",
                x.category,
                x.masked,
                x.rule_id,
                x.level_a.map_or("–", |l| l.as_str()),
                x.level_b.map_or("–", |l| l.as_str())
            ));
        }
    }
    for v in c.changed.iter().filter(|v| v.regression) {
        out.push(format!("record {}: {} → {}", v.id, v.a, v.b));
    }
    out
}
