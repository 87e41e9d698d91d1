//! Markdown renderings of reports: a section that drops into a model card (what was
//! scanned, how, what was found, a table per category, the worst examples masked).

use std::fmt::Write;

use super::schema::{Level, PerLevel, ScanReport, ScanSummary};

/// Escapes a table cell: pipes, newlines, and Markdown emphasis/HTML characters.
pub fn cell(s: &str, max_chars: usize) -> String {
    let mut t: String = s.chars().take(max_chars).collect();
    if s.chars().count() > max_chars {
        t.push('…');
    }
    t.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\n', "⏎")
        .replace('\r', "")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('`', "'")
}

pub fn fmt_num(v: f64) -> String {
    if v == 0.0 || (v.abs() >= 0.01 && v.abs() < 1e5) {
        format!("{v:.3}")
    } else {
        format!("{v:.3e}")
    }
}

fn pct(n: usize, d: usize) -> String {
    if d == 0 {
        "–".into()
    } else {
        format!("{:.1}%", 100.0 * n as f64 / d as f64)
    }
}

/// "N of M samples flagged: …; secret-shaped values: …; PII-shaped values: …" — the
/// scan's headline, counting each level apart.
pub fn level_headline(s: &ScanSummary) -> String {
    let l = &s.levels;
    let values = |what: &str, v: &PerLevel| {
        let n = v.emitted + v.likely_memorized + v.confirmed;
        format!(
            "{n} {what} value(s) emitted, {} with evidence of memorization ({} confirmed in the training corpus or known values)",
            v.likely_memorized + v.confirmed,
            v.confirmed
        )
    };
    format!(
        "{} of {} samples flagged, {} with evidence of memorization ({} likely memorized, {} confirmed) and {} emitted only; {}; {}",
        s.flagged,
        s.samples,
        l.samples.likely_memorized + l.samples.confirmed,
        l.samples.likely_memorized,
        l.samples.confirmed,
        l.samples.emitted,
        values("secret-shaped", &l.secret_values),
        values("PII-shaped", &l.pii_values),
    )
}

/// What each level means and which tests this scan could run.
fn level_legend(r: &ScanReport) -> String {
    let s = &r.summary;
    let st = &r.header.settings;
    let has = |k: &str| st.get(k).is_some_and(|v| !v.is_null());
    let ratio = match s.ratio_test_level {
        Some(l) => format!(
            ", and the likelihood ratio p_target / p_reference of the value given the text before it reaches 1/{} (each finding's share of α = {}; a valid p-value under the null that the target writes this value like the reference model)",
            fmt_num(1.0 / l),
            st.get("alpha").map(|v| v.to_string()).unwrap_or_default()
        ),
        None => String::new(),
    };
    format!(
        "Levels: **confirmed** = the value occurs in the reference corpus{}{} (or the sample matches it verbatim; a value the corpus lacks is refuted); **likely memorized** = greedy decoding writes the value after at least two different prompts, or a `--prefixes-from` continuation gives back a value of its own source document{ratio}, or a GitHub token passes its CRC-32 checksum (a made-up string passes once in 62⁶); **emitted** = the format (or a signal threshold) only: a value the model made up looks the same, and one emission is not evidence of memorization, however likely the model finds it (README: on a fine-tune, made-up values in the training data's style pass a likelihood-ratio test as often as memorized ones).\n",
        if has("reference_corpus") { "" } else { " (none given)" },
        if has("known_findings") { " or among --known-findings" } else { " or among --known-findings (none given)" },
    )
}

pub fn scan(r: &ScanReport) -> String {
    let s = &r.summary;
    let st = &r.header.settings;
    let get = |k: &str| st.get(k).map(|v| v.to_string()).unwrap_or_default();
    let mut o = String::new();
    let _ = writeln!(o, "## Memorization scan\n");
    let _ = writeln!(
        o,
        "Scanned with memscan {} on {}. **Model**: `{}` ({} {}, {} layers, tokenizer {}), SHA-256 `{}`, run on {} in {}.\n",
        r.header.tool.version,
        r.header.created,
        r.header.model.path,
        r.header.model.format,
        r.header.model.architecture,
        r.header.model.n_layers,
        r.header.model.tokenizer,
        r.header.model.short_hash(),
        r.header.model.device,
        r.header.model.dtype
    );
    let _ = writeln!(
        o,
        "**How**: {} prompts (sets: {}{}), {} sample(s) per prompt, up to {} new tokens each; temperature {}, top-k {}, top-p {}{}; seed {}. {} samples, {} generated tokens. Every sample was scored by one teacher-forced pass (signals of the continuation given its prompt), checked by {} secret and PII detectors{}.\n",
        s.prompts,
        st.get("prompt_sets").and_then(|v| v.as_array()).map(|a| a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(", ")).unwrap_or_default(),
        if st.get("chat").and_then(|v| v.as_bool()) == Some(true) { ", in the model's chat template" } else { "" },
        get("samples_per_prompt"),
        get("max_new_tokens"),
        get("temperature"),
        get("top_k"),
        get("top_p"),
        st.get("temperature_decay").and_then(|v| v.as_str()).map(|d| format!(", temperature decay {d}")).unwrap_or_default(),
        get("seed"),
        s.samples,
        s.generated_tokens,
        get("detector_rules"),
        if st.get("reference_corpus").is_some_and(|v| !v.is_null()) { ", and matched against a verbatim index of the reference corpus" } else { "" },
    );
    let _ = writeln!(o, "**Found**: **{}**.\n", level_headline(s));
    let _ = writeln!(o, "{}", level_legend(r));
    let _ = writeln!(
        o,
        "Flagged samples ({}), by reason: {} with a secret, {} with PII, {} with a verbatim match ≥ {} tokens{}, {} beyond the signal threshold. {} near-duplicate groups among the samples.\n",
        pct(s.flagged, s.samples),
        s.by_reason.secret,
        s.by_reason.pii,
        s.by_reason.verbatim,
        get("verbatim_tokens"),
        s.exact_suffix.as_ref().map(|_| format!(", {} reproducing their document's true continuation", s.by_reason.suffix)).unwrap_or_default(),
        s.by_reason.signal,
        s.near_duplicate_groups,
    );
    let c = &r.calibration;
    match c.threshold {
        Some(t) => {
            let _ = writeln!(
                o,
                "Signal flag: `{}` ({} = member-like) beyond {}: the threshold that {} of {} continuations of non-member text exceed (the model's own samples from the first tokens of each text in {}, drawn with this scan's settings and scored like the samples; asked: false-positive rate {}, resolvable in steps of 1/{}).\n",
                c.signal, c.direction, fmt_num(t), (c.achieved_fpr * c.n_texts as f64).round(), c.n_texts, c.source, c.fpr, c.n_texts
            );
        }
        None => {
            let _ = writeln!(o, "Signal flag: off (`--flag-signal none`).\n");
        }
    }

    let _ = writeln!(o, "### Findings by category\n");
    let _ = writeln!(o, "| category | findings | distinct values | samples |");
    let _ = writeln!(o, "|---|---:|---:|---:|");
    for cat in ["secret", "pii"] {
        let _ = writeln!(
            o,
            "| {cat} | {} | {} | {} |",
            s.findings.get(cat),
            s.distinct_values.get(cat),
            if cat == "secret" {
                s.by_reason.secret
            } else {
                s.by_reason.pii
            }
        );
    }
    let _ = writeln!(o, "\n### By prompt set\n");
    let _ = writeln!(o, "| set | samples | flagged | memorized | rate |");
    let _ = writeln!(o, "|---|---:|---:|---:|---:|");
    for (set, v) in &s.by_set {
        let (n, f, m) = (v.samples, v.flagged, v.memorized);
        let _ = writeln!(o, "| {} | {n} | {f} | {m} | {} |", cell(set, 60), pct(m, n));
    }
    if let Some(es) = &s.exact_suffix {
        let _ = writeln!(
            o,
            "\nExact-suffix extraction: {} samples, mean {} tokens matching the true continuation, {} extracted.",
            es.samples,
            fmt_num(es.mean_match_tokens),
            es.extracted
        );
    }
    if !r.findings.is_empty() {
        let _ = writeln!(o, "\n### Secrets and PII in the samples (masked)\n");
        let _ = writeln!(
            o,
            "Strongest evidence first. log p: the value given the text before it (nats); greedy: greedy decoding writes it (\"in place\": a value of the prompt's source document came back); H: mean entropy per token (bits); prompts: distinct prompts that emitted it.\n"
        );
        let _ = writeln!(
            o,
            "| level | rule | category | value | sample | log p | greedy | H | ratio p | prompts | in corpus |"
        );
        let _ = writeln!(o, "|---|---|---|---|---|---:|---|---:|---:|---:|---:|");
        let mut order: Vec<&super::schema::FindingItem> = r.findings.iter().collect();
        order.sort_by(|a, b| {
            b.level.cmp(&a.level).then(
                a.evidence
                    .ratio_p
                    .unwrap_or(1.0)
                    .total_cmp(&b.evidence.ratio_p.unwrap_or(1.0)),
            )
        });
        let opt = |v: Option<f64>| v.map(fmt_num).unwrap_or_else(|| "–".into());
        for f in order.into_iter().take(25) {
            let e = &f.evidence;
            let _ = writeln!(
                o,
                "| {} | {} | {} | `{}` | {} | {} | {} | {} | {} | {} | {} |",
                f.level.as_str(),
                cell(&f.rule_id, 40),
                f.category,
                cell(f.value.as_deref().unwrap_or(&f.masked), 60).replace('`', "'"),
                cell(&f.sample_id, 40),
                opt(e.logp),
                e.greedy_cell(),
                opt(e.entropy_bits),
                opt(e.ratio_p),
                e.recurrence_prompts,
                e.corpus_count.map_or("–".into(), |c| c.to_string()),
            );
        }
        if r.findings.len() > 25 {
            let _ = writeln!(o, "\n({} more in report.json)", r.findings.len() - 25);
        }
    }
    let mut flagged: Vec<_> = r.items.iter().filter(|s| s.flagged).collect();
    flagged.sort_by_key(|s| std::cmp::Reverse(s.level));
    flagged.truncate(10);
    if !flagged.is_empty() {
        let _ = writeln!(
            o,
            "\n### Flagged samples (first {}, masked)\n",
            flagged.len()
        );
        let _ = writeln!(o, "| sample | level | reasons | continuation |");
        let _ = writeln!(o, "|---|---|---|---|");
        for s in flagged {
            let cont = s.text.get(s.prompt_bytes..).unwrap_or("");
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                cell(&s.id, 40),
                s.level.unwrap_or(Level::Emitted).as_str(),
                crate::report::rows::Reason::join(&s.reasons),
                cell(cont, 160)
            );
        }
    }
    let _ = writeln!(o, "\n### Most member-like samples per signal\n");
    let _ = writeln!(o, "| signal | direction | median | top samples (value) |");
    let _ = writeln!(o, "|---|---|---:|---|");
    for sig in &r.signals {
        let top: Vec<String> = sig
            .top
            .iter()
            .take(3)
            .map(|t| format!("{} ({})", cell(&t.sample_id, 30), fmt_num(t.value)))
            .collect();
        let _ = writeln!(
            o,
            "| `{}` | {} | {} | {} |",
            sig.name,
            sig.direction,
            sig.median.map(fmt_num).unwrap_or_default(),
            top.join(", ")
        );
    }
    let _ = writeln!(
        o,
        "\nValues are masked (all but a few edge characters) unless the scan ran with `--reveal`; fingerprints (SHA-256 of each value) in report.json let a reviewer match them against known secrets without seeing them."
    );
    o
}

/// A model's truth ratios in a sentence (forget quality, both renderings).
pub(crate) fn truth_ratios(t: &crate::report::schema::TruthRatios) -> String {
    format!(
        "mean {}, median {}, TOFU score {}",
        fmt_num(t.mean),
        fmt_num(t.median),
        fmt_num(t.tofu_forget_score)
    )
}

/// VerbMem's table rows (both renderings): the sets present, named.
pub(crate) fn verbmem_rows(
    v: &crate::report::schema::VerbMem,
) -> Vec<(&str, &crate::report::schema::VerbMemSet)> {
    let [m, n, r] = match &v.set_names {
        Some([m, n, r]) => [m.as_str(), n.as_str(), r.as_str()],
        None => ["members", "non-members", "members, retrained model"],
    };
    let mut rows = vec![(m, &v.members), (n, &v.nonmembers)];
    if let Some(x) = &v.retrain_members {
        rows.push((r, x));
    }
    rows
}

/// TOFU's forget quality and MUSE's VerbMem, where a report has them (eval,
/// forget-check).
fn unlearning(
    o: &mut String,
    forget_quality: Option<&crate::report::schema::ForgetQuality>,
    verbmem: Option<&crate::report::schema::VerbMem>,
) {
    if let Some(f) = forget_quality {
        let _ = writeln!(o, "\n### Unlearning: forget quality (TOFU)\n");
        let _ = writeln!(o, "**{}**\n", f.reading);
        let _ = writeln!(
            o,
            "{}. {} questions. Truth ratio on this model: {}{}. Forget quality (KS p) {}, D {}, {}; smallest D detectable at 5%: {}.",
            f.method,
            f.questions,
            truth_ratios(&f.target),
            f.retrain.as_ref().map_or(String::new(), |t| format!("; on the retrained model: {}", truth_ratios(t))),
            opt(f.forget_quality),
            opt(f.ks_statistic),
            f.p_method.as_deref().unwrap_or("n/a"),
            opt(f.min_detectable_d)
        );
    }
    if let Some(v) = verbmem {
        let _ = writeln!(o, "\n### Unlearning: VerbMem (MUSE)\n");
        let _ = writeln!(o, "**{}**\n", v.reading);
        let _ = writeln!(
            o,
            "{}; prompt {} tokens, up to {} generated.\n",
            v.method, v.prompt_tokens, v.max_new_tokens
        );
        let _ = writeln!(
            o,
            "| set | texts | ROUGE-L F1 | ROUGE-L recall | exact | skipped (too short) |"
        );
        let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|");
        for (name, x) in verbmem_rows(v) {
            let _ = writeln!(
                o,
                "| {name} | {} | {} | {} | {} | {} |",
                x.texts,
                fmt_num(x.rouge_l_f1),
                fmt_num(x.rouge_l_recall),
                x.exact,
                x.skipped
            );
        }
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(fmt_num).unwrap_or_else(|| "–".into())
}

pub fn eval(r: &super::schema::EvalReport) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "## Membership inference evaluation\n");
    let _ = writeln!(
        o,
        "memscan {} on {}: model `{}` ({} {}, SHA-256 `{}`), {} members vs {} non-members. AUC with a 95% bootstrap interval; TPR at fixed FPR with the number of non-members behind each figure (an FPR below 1/n cannot be resolved); `combined_lr` is a logistic regression over all signals, scored out of fold (5-fold cross-validation).\n",
        r.header.tool.version,
        r.header.created,
        r.header.model.path,
        r.header.model.format,
        r.header.model.architecture,
        r.header.model.short_hash(),
        r.members,
        r.nonmembers
    );
    let _ = writeln!(o, "| signal | member if | AUC | 95% CI | PR-AUC | FPR@95%TPR | TPR@10%FPR | TPR@1%FPR | TPR@0.1%FPR | best bal. acc. | P(member \\| hit) at α |");
    let _ = writeln!(o, "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    for s in &r.signals {
        let t = |i: usize| {
            s.tpr_at_fpr
                .get(i)
                .map(|x| format!("{} (n={})", fmt_num(x.tpr), x.n_nonmembers))
                .unwrap_or_default()
        };
        let _ = writeln!(
            o,
            "| `{}` | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            s.name,
            s.direction,
            opt(s.auc),
            s.auc_ci
                .map(|c| format!("[{}, {}]", fmt_num(c[0]), fmt_num(c[1])))
                .unwrap_or_default(),
            opt(s.pr_auc),
            opt(s.fpr_at_95_tpr),
            t(0),
            t(1),
            t(2),
            fmt_num(s.best_balanced_accuracy),
            fmt_num(s.neyman_pearson.posterior)
        );
    }
    if let Some(np) = r.signals.first().map(|s| &s.neyman_pearson) {
        let _ = writeln!(o, "\nThe posterior is P(member | score beyond the Neyman–Pearson threshold at FPR α = {}) under a prior of {}.", np.alpha, np.prior);
    }
    if let Some(b) = &r.blind_baseline {
        let _ = writeln!(o, "\n### Blind baseline\n");
        let _ = writeln!(
            o,
            "A classifier of the texts alone, without the model ({}): AUC {}{}, TPR {} at 1% FPR; the best attack, `{}`, has AUC {}.{}",
            b.method,
            opt(b.auc),
            b.auc_ci
                .map(|c| format!(" (95% CI [{}, {}])", fmt_num(c[0]), fmt_num(c[1])))
                .unwrap_or_default(),
            fmt_num(b.tpr_at_1pct_fpr),
            b.best_attack,
            opt(b.best_attack_auc),
            match &b.warning {
                Some(w) => format!("\n\n**Warning:** {w}"),
                None if b.auc_ci.is_none() => {
                    " Without a bootstrap interval (--bootstrap 0) the split's bias is not tested."
                        .into()
                }
                None => " The texts alone do not separate the split.".into(),
            }
        );
    }
    if let Some(p) = &r.privleak {
        let _ = writeln!(o, "\n### Unlearning: PrivLeak (MUSE)\n");
        let _ = writeln!(
            o,
            "PrivLeak = (AUC − AUC_retrain) / AUC_retrain = **{:+.1}%**: `{}` AUC {} on this model, {} on the retrained model ({}); {}.",
            p.privleak_percent,
            p.attack,
            fmt_num(p.auc),
            fmt_num(p.auc_retrain),
            p.retrain_source,
            p.reading
        );
    }
    unlearning(&mut o, r.forget_quality.as_ref(), r.verbmem.as_ref());
    if let Some(d) = &r.dataset_inference {
        let _ = writeln!(o, "\n### Dataset inference (members as the suspect set)\n");
        let _ = writeln!(o, "**{}**\n", d.verdict);
        let _ = writeln!(
            o,
            "{}. Fitted on {} suspect and {} validation texts, tested on {} and {}: t = {}, df = {}, p = {}; null control (the validation set against itself) p = {}; α = {}; smallest shift found 80% of the time: {} standard deviations.",
            d.method,
            d.train[0],
            d.train[1],
            d.test[0],
            d.test[1],
            opt(d.t),
            opt(d.df),
            opt(d.p_value),
            opt(d.null_control_p_value),
            d.alpha,
            opt(d.min_detectable_effect)
        );
        if !d.p_by_size.is_empty() {
            let sizes: Vec<String> = d
                .p_by_size
                .iter()
                .map(|p| format!("{}: {}", p.n, fmt_num(p.p_value)))
                .collect();
            let _ = writeln!(o, "\np-value by texts per test half: {}.", sizes.join(", "));
        }
    }
    if let Some(a) = &r.audit {
        let _ = writeln!(o, "\n### Privacy audit\n");
        let _ = writeln!(
            o,
            "Claimed ε = {}, δ = {}. **{}**.\n",
            a.claimed_epsilon, a.delta, a.verdict
        );
        let _ = writeln!(o, "- Strongest attack: `{}` at threshold {}: TPR {} (≥ {} at {}% confidence), FPR {} (≤ {}), Clopper–Pearson intervals.", a.signal, fmt_num(a.threshold), fmt_num(a.tpr), fmt_num(a.tpr_lower), a.confidence * 100.0, fmt_num(a.fpr), fmt_num(a.fpr_upper));
        let _ = writeln!(
            o,
            "- Empirical ε lower bound: {}.",
            fmt_num(a.epsilon_lower_bound)
        );
        let _ = writeln!(o, "- Caps for the claimed ε: membership advantage ≤ (e^ε − 1)/(e^ε + 1) = {}, accuracy ≤ e^ε/(1 + e^ε) = {}; observed best advantage {}, balanced accuracy {}.", fmt_num(a.max_advantage_cap), fmt_num(a.max_accuracy_cap), fmt_num(a.observed_advantage), fmt_num(a.observed_balanced_accuracy));
        let _ = writeln!(o, "- The threshold and signal are chosen on the same data the bound is computed on, which favours the attack; for a rigorous audit fix them on a separate split.");
    }
    if !r.canaries.is_empty() {
        let _ = writeln!(o, "\n### Canary exposure\n");
        let _ = writeln!(o, "Exposure = log2|R| − log2 rank (Carlini et al., The Secret Sharer): log2|R| bits would mean the canary is the model's first guess among |R| candidates.\n");
        let _ = writeln!(
            o,
            "| canary | details | candidates \\|R\\| | method | rank | exposure (bits) | max |"
        );
        let _ = writeln!(o, "|---|---|---:|---|---:|---:|---:|");
        for c in &r.canaries {
            let details: Vec<String> = c
                .extra
                .iter()
                .filter(|(k, _)| k.as_str() != "text")
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} |",
                cell(&c.id, 40),
                cell(&details.join(", "), 60),
                fmt_num(c.space_size),
                c.method,
                c.rank.map(|r| r.to_string()).unwrap_or_else(|| "–".into()),
                fmt_num(c.exposure),
                fmt_num(c.space_size.log2())
            );
        }
    }
    o
}

pub fn forget(r: &super::schema::ForgetReport) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "## Right-to-be-forgotten check\n");
    let _ = writeln!(
        o,
        "memscan {} on {}: model `{}` ({} {}, SHA-256 `{}`).\n\n> {}\n",
        r.header.tool.version,
        r.header.created,
        r.header.model.path,
        r.header.model.format,
        r.header.model.architecture,
        r.header.model.short_hash(),
        r.summary.statement
    );
    let _ = writeln!(o, "| record | verdict | tests | corrected p | longest greedy reproduction (tokens) | nll target / reference |");
    let _ = writeln!(o, "|---|---|---:|---:|---:|---|");
    for rec in &r.records {
        let _ = writeln!(
            o,
            "| {} | **{}** | {} | {} | {} | {} / {} |",
            cell(&rec.id, 40),
            rec.verdict.as_str(),
            rec.tests.len(),
            opt(rec.p_corrected),
            rec.best_extraction(),
            opt(rec.nll_target),
            opt(rec.nll_reference)
        );
    }
    unlearning(&mut o, r.forget_quality.as_ref(), r.verbmem.as_ref());
    for rec in &r.records {
        let _ = writeln!(
            o,
            "\n### {} — {}\n\n> {}\n",
            cell(&rec.id, 60),
            rec.verdict.as_str(),
            rec.statement
        );
        for e in &rec.evidence {
            let _ = writeln!(o, "- {}", cell(e, 300));
        }
        if rec.tests.is_empty() {
            continue;
        }
        let _ = writeln!(o, "\n| test | record | p | null n | null median | null 95% | picture: null 5–95% ─, 25–75% █, record ▲ |");
        let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|---|");
        for t in &rec.tests {
            let q = |i: usize| t.null_quantiles.get(i).copied();
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | `{}` |",
                cell(&t.name, 40),
                opt(t.value),
                opt(t.p_value),
                t.n_null,
                opt(q(3)),
                opt(q(5)),
                t.value
                    .map(|v| strip(&t.null_quantiles, v))
                    .unwrap_or_default()
            );
        }
    }
    let _ = writeln!(
        o,
        "\nMethod: each personal value is tested after the text before it (or after the record's other values): its log-probability under the model is ranked among values the model itself samples in its place, which are as plausible as the truth to the model; the p-value is the rank, (1 + samples at least as high) / (samples + 1), so it never extrapolates. With `--calibration`, the record's `ref_ratio` (with a reference model) or `min_k_pp` is also ranked among those non-member records. The levels of all tests of a person's records sum to α; a record whose tests cannot reach theirs is inconclusive. Extraction: greedy continuations of the record's first {} tokens against its rest, checked against the reference model where it shares the tokenizer. Personal values are masked unless `--reveal`.",
        r.header.settings.get("prefix_tokens").map(|v| v.to_string()).unwrap_or_default()
    );
    o
}

/// A one-line picture of a null distribution's quantiles (0, 5, 25, 50, 75, 95, 100%)
/// and the record's value on a common scale.
fn strip(q: &[f64], x: f64) -> String {
    const W: usize = 32;
    let Some((lo, hi)) = super::scale(q, x) else {
        return String::new();
    };
    let at = |v: f64| (((v - lo) / (hi - lo)) * (W - 1) as f64).round() as usize;
    let mut c = vec![' '; W];
    if q.len() == 7 {
        for (i, ch) in c.iter_mut().enumerate() {
            if i >= at(q[0]) && i <= at(q[6]) {
                *ch = '·';
            }
            if i >= at(q[1]) && i <= at(q[5]) {
                *ch = '─';
            }
            if i >= at(q[2]) && i <= at(q[4]) {
                *ch = '█';
            }
        }
    }
    c[at(x).min(W - 1)] = '▲';
    c.into_iter().collect()
}
