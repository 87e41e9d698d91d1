//! samples.jsonl rows → the scan report: near-duplicate groups, per-signal summaries
//! (histogram, top samples one per group), counts by reason, category and prompt set.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::Result;
use crate::report::rows::{Reason, SampleRow};
use crate::report::schema::Histogram;
use crate::report::schema::{self, FindingItem, SampleItem, ScanReport, SignalSummary, TopItem};
use crate::signals::{self, Direction};
use crate::stats;

use super::ReportOptions;

pub struct BuildInputs<'a> {
    pub opts: &'a ReportOptions,
    pub settings: Map<String, Value>,
    pub model: schema::ModelIdentity,
    pub prompts: usize,
    /// Every sample row of the run, in batch order.
    pub lines: Vec<SampleRow>,
    pub calibration: schema::Calibration,
    /// Seconds spent sampling (summed over a sharded run's shards).
    pub seconds: f64,
    /// Tokens generated in those seconds.
    pub new_tokens_this_run: usize,
}

pub fn build_report(i: BuildInputs) -> Result<ScanReport> {
    use crate::report::schema::{
        CategoryCounts, ExactSuffix, Level, LevelCounts, ReasonCounts, ScanSummary, SetCounts,
    };
    let a = i.opts;
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
            flagged: l.flagged,
            memorized: false,
            level: None,
            reasons: l.reasons,
            group: 0,
            signals: l.signals,
            longest_match_tokens: l.longest_match_tokens,
            longest_match_bytes: l.longest_match_bytes,
            suffix_match_tokens: l.suffix_match_tokens,
        });
    }
    let ratio_test_level =
        super::evidence::assign(&mut findings, &mut items, a.known.as_ref(), a.alpha);
    let mut levels = LevelCounts::default();
    for l in items.iter().filter_map(|s| s.level) {
        levels.samples.add(l);
    }
    // distinct values: a value's level is the highest any of its findings reached
    let mut by_value: BTreeMap<(&str, &str), Level> = BTreeMap::new();
    for f in &findings {
        let l = by_value
            .entry((f.category.as_str(), f.fingerprint.as_str()))
            .or_insert(f.level);
        *l = (*l).max(f.level);
    }
    for ((cat, _), l) in by_value {
        match cat {
            "secret" => levels.secret_values.add(l),
            "pii" => levels.pii_values.add(l),
            _ => {}
        }
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

    let signals_out = signal_summaries(&items, a.top);

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
        e.flagged += usize::from(s.flagged);
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
        flagged: items.iter().filter(|s| s.flagged).count(),
        memorized: items.iter().filter(|s| s.memorized).count(),
        levels,
        ratio_test_level,
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
        header: schema::Header::new("scan", i.model, i.settings),
        summary,
        calibration: i.calibration,
        signals: signals_out,
        findings,
        items,
    })
}

/// Per signal present in the samples: count, mean, median, a 20-bin histogram and the
/// `top` most member-like samples, one per near-duplicate group.
fn signal_summaries(items: &[SampleItem], top: usize) -> Vec<SignalSummary> {
    let mut sig_names: Vec<&'static signals::SignalDef> = Vec::new();
    for d in signals::SIGNALS {
        if items.iter().any(|s| !s.signals.slot(d.name).not_run()) {
            sig_names.push(d);
        }
    }
    sig_names
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
                .take(top)
                .map(|&(v, k)| TopItem {
                    sample_id: items[k].id.clone(),
                    value: v,
                    group: items[k].group,
                })
                .collect();
            let (edges, counts) = stats::histogram(&raw, 20);
            SignalSummary {
                name: d.name.into(),
                direction: crate::commands::dir_name(d.direction).into(),
                description: d.description.into(),
                n: raw.len(),
                mean: (!raw.is_empty()).then(|| raw.iter().sum::<f64>() / raw.len() as f64),
                median: stats::median(&raw),
                histogram: Histogram { edges, counts },
                top,
            }
        })
        .collect()
}
