//! Self-contained HTML reports: one file, no external assets; tables sort on a click
//! of their header (a few lines of inline script), plots are inline SVG.

use std::fmt::Write;

use super::markdown::fmt_num;
use super::schema::{Histogram, ScanReport, Verdict};

pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}th,td{border:1px solid #ccc;padding:.3em .5em;vertical-align:top}
th{background:#f3f3f3;cursor:pointer;user-select:none}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.text{font-family:monospace;white-space:pre-wrap;max-width:40em;word-break:break-all}.flag{color:#b00;font-weight:bold}
.cards{display:flex;flex-wrap:wrap;gap:1em}.card{border:1px solid #ddd;border-radius:6px;padding:.6em 1em}.card b{font-size:1.4em;display:block}
.plots{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}figcaption{font-size:.85em;text-align:center}.muted{color:#666;font-size:.9em}";

const SORT_JS: &str = "document.querySelectorAll('table.sortable th').forEach(function(th,i){th.addEventListener('click',function(){
var t=th.closest('table'),b=t.tBodies[0],rows=Array.from(b.rows),asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';
rows.sort(function(x,y){var a=x.cells[i].dataset.v||x.cells[i].textContent,c=y.cells[i].dataset.v||y.cells[i].textContent,
n=parseFloat(a),m=parseFloat(c);var r=(!isNaN(n)&&!isNaN(m))?n-m:a.localeCompare(c);return asc?r:-r;});rows.forEach(function(r){b.appendChild(r)});});});";

/// A whole page around `body`.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>\n{body}\n<script>{SORT_JS}</script></body></html>\n",
        esc(title)
    )
}

/// A table cell holding a number (sorts numerically).
pub fn num_td(v: Option<f64>) -> String {
    match v {
        Some(x) => format!("<td class=\"num\" data-v=\"{x}\">{}</td>", fmt_num(x)),
        None => "<td class=\"num\" data-v=\"\">–</td>".into(),
    }
}

/// An SVG bar chart of a histogram, with an optional vertical marker (a threshold).
pub fn histogram_svg(title: &str, h: &Histogram, marker: Option<f64>) -> String {
    let (w, hgt, pad) = (320.0, 160.0, 28.0);
    let max = h.counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let n = h.counts.len().max(1) as f64;
    let bw = (w - 2.0 * pad) / n;
    let mut s = String::new();
    let _ = write!(
        s,
        "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{hgt}\" viewBox=\"0 0 {w} {hgt}\" role=\"img\" aria-label=\"{}\">",
        esc(title)
    );
    let _ = write!(
        s,
        "<line x1=\"{pad}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#999\"/>",
        hgt - pad,
        w - pad,
        hgt - pad
    );
    for (i, &c) in h.counts.iter().enumerate() {
        let bh = (hgt - 2.0 * pad) * c as f64 / max;
        let _ = write!(
            s,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#4a7bb7\"><title>{}–{}: {c}</title></rect>",
            pad + bw * i as f64 + 0.5,
            hgt - pad - bh,
            (bw - 1.0).max(0.5),
            bh,
            fmt_num(h.edges.get(i).copied().unwrap_or(0.0)),
            fmt_num(h.edges.get(i + 1).copied().unwrap_or(0.0))
        );
    }
    if let (Some(lo), Some(hi)) = (h.edges.first(), h.edges.last()) {
        let _ = write!(
            s,
            "<text x=\"{pad}\" y=\"{}\" font-size=\"10\">{}</text>",
            hgt - 10.0,
            fmt_num(*lo)
        );
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">{}</text>",
            w - pad,
            hgt - 10.0,
            fmt_num(*hi)
        );
        if let Some(m) = marker.filter(|m| hi > lo && m.is_finite()) {
            let x = pad + (w - 2.0 * pad) * ((m - lo) / (hi - lo)).clamp(0.0, 1.0);
            let _ = write!(s, "<line x1=\"{x:.1}\" y1=\"{}\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"#b00\" stroke-dasharray=\"4 2\"><title>threshold {}</title></line>", pad / 2.0, hgt - pad, fmt_num(m));
        }
    }
    let _ = write!(s, "</svg><figcaption>{}</figcaption></figure>", esc(title));
    s
}

pub fn scan(r: &ScanReport) -> String {
    let s = &r.summary;
    let mut b = String::new();
    let _ = write!(b, "<h1>memscan extraction scan</h1><p class=\"muted\">memscan {} · {} · model <code>{}</code> ({} {}) · SHA-256 <code>{}</code> · {} {}</p>",
        esc(&r.header.tool.version), esc(&r.header.created), esc(&r.header.model.path), esc(&r.header.model.format), esc(&r.header.model.architecture), esc(&r.header.model.sha256), esc(&r.header.model.device), esc(&r.header.model.dtype));
    let card = |label: &str, v: String| {
        format!("<div class=\"card\"><b>{}</b>{}</div>", esc(&v), esc(label))
    };
    let _ = write!(
        b,
        "<p><b>{}</b>.</p><div class=\"cards\">{}{}{}{}{}{}{}{}{}{}</div>",
        esc(&crate::report::markdown::level_headline(s)),
        card("samples", s.samples.to_string()),
        card("flagged", s.flagged.to_string()),
        card("confirmed", s.levels.samples.confirmed.to_string()),
        card(
            "likely memorized",
            s.levels.samples.likely_memorized.to_string()
        ),
        card("emitted only", s.levels.samples.emitted.to_string()),
        card("with secrets", s.by_reason.secret.to_string()),
        card("with PII", s.by_reason.pii.to_string()),
        card("verbatim", s.by_reason.verbatim.to_string()),
        card("beyond signal threshold", s.by_reason.signal.to_string()),
        card("near-duplicate groups", s.near_duplicate_groups.to_string())
    );
    let c = &r.calibration;
    if let Some(t) = c.threshold {
        let _ = write!(b, "<p>Signal flag: <code>{}</code> ({} = member-like) beyond {} — calibrated on {} non-member texts ({}) at false-positive rate {} (achieved {}).</p>",
            esc(&c.signal), esc(&c.direction), fmt_num(t), c.n_texts, esc(&c.source), c.fpr, fmt_num(c.achieved_fpr));
    }
    let _ = write!(b, "<h2>Settings</h2><table><tbody>");
    for (k, v) in &r.header.settings {
        let _ = write!(
            b,
            "<tr><th>{}</th><td>{}</td></tr>",
            esc(k),
            esc(&v.to_string())
        );
    }
    let _ = write!(b, "</tbody></table>");

    let _ = write!(b, "<h2>Signals</h2><p class=\"muted\">Distribution of each signal over the samples; the dashed line is the calibrated threshold.</p><div class=\"plots\">");
    for sig in &r.signals {
        let marker = (sig.name == c.signal).then_some(c.threshold).flatten();
        let _ = write!(
            b,
            "{}",
            histogram_svg(
                &format!("{} ({} = member)", sig.name, sig.direction),
                &sig.histogram,
                marker
            )
        );
    }
    let _ = write!(b, "</div>");

    if !r.findings.is_empty() {
        let _ = write!(b, "<h2>Secrets and PII ({})</h2><p class=\"muted\">level: emitted (format only), likely_memorized (a stated test passed), confirmed (in the reference corpus or the known values). log p of the value given the text before it (nats); H: mean entropy per token (bits); ratio p: min(1, p_reference / p_target); prompts: distinct prompts that emitted it.</p><table class=\"sortable\"><thead><tr><th>level</th><th>rule</th><th>category</th><th>value</th><th>sample</th><th>log p</th><th>greedy</th><th>H</th><th>ratio p</th><th>prompts</th><th>in corpus</th><th>confidence</th><th>fingerprint</th></tr></thead><tbody>", r.findings.len());
        for f in &r.findings {
            let e = &f.evidence;
            let _ = write!(b, "<tr><td class=\"{}\">{}</td><td>{}</td><td>{}</td><td class=\"text\">{}</td><td>{}</td>{}<td>{}</td>{}{}{}{}{}<td><code>{}</code></td></tr>",
                if f.level > crate::report::schema::Level::Emitted { "flag" } else { "" },
                f.level.as_str(),
                esc(&f.rule_id), esc(&f.category), esc(f.value.as_deref().unwrap_or(&f.masked)), esc(&f.sample_id),
                num_td(e.logp),
                e.greedy_cell(),
                num_td(e.entropy_bits),
                num_td(e.ratio_p),
                num_td(Some(e.recurrence_prompts as f64)),
                num_td(e.corpus_count.map(|c| c as f64)),
                num_td(Some(f.confidence)), esc(f.fingerprint.get(..16).unwrap_or(&f.fingerprint)));
        }
        let _ = write!(b, "</tbody></table>");
    }

    let names: Vec<&str> = r.signals.iter().map(|s| s.name.as_str()).collect();
    let _ = write!(b, "<h2>Samples ({})</h2><p class=\"muted\">Click a header to sort. Prompt in grey, continuation in black; values masked unless --reveal.</p><table class=\"sortable\"><thead><tr><th>sample</th><th>set</th><th>level</th><th>reasons</th><th>group</th>", s.samples);
    for n in &names {
        let _ = write!(b, "<th>{}</th>", esc(n));
    }
    let _ = write!(b, "<th>text</th></tr></thead><tbody>");
    for it in &r.items {
        let (p, cont) = it.text.split_at(it.prompt_bytes.min(it.text.len()));
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td>{}",
            esc(&it.id),
            esc(&it.set),
            if it.memorized { "flag" } else { "" },
            it.level.map_or("–", |l| l.as_str()),
            esc(&crate::report::rows::Reason::join(&it.reasons)),
            num_td(Some(it.group as f64))
        );
        for n in &names {
            let _ = write!(b, "{}", num_td(it.signals.get(n)));
        }
        let _ = write!(
            b,
            "<td class=\"text\"><span style=\"color:#888\">{}</span>{}</td></tr>",
            esc(p),
            esc(cont)
        );
    }
    let _ = write!(b, "</tbody></table>");
    page("memscan scan report", &b)
}

/// Log-log ROC curves (FPR and TPR from 1e-3 to 1), one polyline per signal.
pub fn roc_svg(curves: &[(&str, &[[f64; 2]])]) -> String {
    let (w, h, pad) = (520.0, 420.0, 48.0);
    let lo = 1e-3f64;
    let pos = |v: f64| ((v.max(lo).log10() - lo.log10()) / -lo.log10()).clamp(0.0, 1.0);
    let x = |f: f64| pad + (w - 2.0 * pad) * pos(f);
    let y = |t: f64| h - pad - (h - 2.0 * pad) * pos(t);
    const COLORS: [&str; 10] = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
        "#bcbd22", "#17becf",
    ];
    let mut s = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"ROC curves, log-log\">");
    for k in 0..=3 {
        let v = 10f64.powi(-k);
        let _ = write!(s, "<line x1=\"{:.1}\" y1=\"{pad}\" x2=\"{:.1}\" y2=\"{}\" stroke=\"#eee\"/><text x=\"{:.1}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">{v}</text>", x(v), x(v), h - pad, x(v), h - pad + 14.0);
        let _ = write!(s, "<line x1=\"{pad}\" y1=\"{:.1}\" x2=\"{}\" y2=\"{:.1}\" stroke=\"#eee\"/><text x=\"{}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\">{v}</text>", y(v), w - pad, y(v), pad - 4.0, y(v) + 3.0);
    }
    let _ = write!(s, "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#aaa\" stroke-dasharray=\"3 3\"/>", x(lo), y(lo), x(1.0), y(1.0));
    let _ = write!(s, "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">false-positive rate</text><text x=\"12\" y=\"{}\" font-size=\"11\" transform=\"rotate(-90 12 {})\" text-anchor=\"middle\">true-positive rate</text>", w / 2.0, h - 8.0, h / 2.0, h / 2.0);
    for (i, (name, pts)) in curves.iter().enumerate() {
        let c = COLORS[i % COLORS.len()];
        let path: Vec<String> = pts
            .iter()
            .map(|p| format!("{:.1},{:.1}", x(p[0]), y(p[1])))
            .collect();
        let _ = write!(s, "<polyline fill=\"none\" stroke=\"{c}\" stroke-width=\"1.5\" points=\"{}\"><title>{}</title></polyline>", path.join(" "), esc(name));
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"{c}\">{}</text>",
            w - pad - 110.0,
            h - pad - 10.0 - 12.0 * (curves.len() - 1 - i) as f64,
            esc(name)
        );
    }
    s.push_str("</svg>");
    s
}

pub fn eval(r: &super::schema::EvalReport) -> String {
    let mut b = String::new();
    let _ = write!(b, "<h1>memscan membership evaluation</h1><p class=\"muted\">memscan {} · {} · model <code>{}</code> · SHA-256 <code>{}</code> · {} members, {} non-members</p>",
        esc(&r.header.tool.version), esc(&r.header.created), esc(&r.header.model.path), esc(&r.header.model.sha256), r.members, r.nonmembers);
    let curves: Vec<(&str, &[[f64; 2]])> = r
        .signals
        .iter()
        .map(|s| (s.name.as_str(), s.roc.as_slice()))
        .collect();
    let _ = write!(b, "<h2>ROC curves (log-log)</h2>{}", roc_svg(&curves));
    let _ = write!(b, "<h2>Signals</h2><table class=\"sortable\"><thead><tr><th>signal</th><th>member if</th><th>AUC</th><th>CI low</th><th>CI high</th><th>PR-AUC</th><th>FPR@95%TPR</th><th>TPR@10%</th><th>TPR@1%</th><th>TPR@0.1%</th><th>non-members</th><th>best bal. acc.</th><th>posterior at α</th></tr></thead><tbody>");
    for s in &r.signals {
        let t = |i: usize| s.tpr_at_fpr.get(i).map(|x| x.tpr);
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td>{}{}{}{}{}{}{}{}{}{}{}</tr>",
            esc(&s.name),
            esc(&s.direction),
            num_td(s.auc),
            num_td(s.auc_ci.map(|c| c[0])),
            num_td(s.auc_ci.map(|c| c[1])),
            num_td(s.pr_auc),
            num_td(s.fpr_at_95_tpr),
            num_td(t(0)),
            num_td(t(1)),
            num_td(t(2)),
            num_td(s.tpr_at_fpr.first().map(|x| x.n_nonmembers as f64)),
            num_td(Some(s.best_balanced_accuracy)),
            num_td(Some(s.neyman_pearson.posterior))
        );
    }
    let _ = write!(b, "</tbody></table>");
    if let Some(bl) = &r.blind_baseline {
        let _ = write!(b, "<h2>Blind baseline</h2><p>A classifier of the texts alone, without the model ({}): AUC {} (95% CI {}–{}), TPR {} at 1% FPR; the best attack, <code>{}</code>, has AUC {}.</p>",
            esc(&bl.method), fmt_num(bl.auc.unwrap_or(f64::NAN)), fmt_num(bl.auc_ci.map_or(f64::NAN, |c| c[0])), fmt_num(bl.auc_ci.map_or(f64::NAN, |c| c[1])),
            fmt_num(bl.tpr_at_1pct_fpr), esc(&bl.best_attack), fmt_num(bl.best_attack_auc.unwrap_or(f64::NAN)));
        if let Some(w) = &bl.warning {
            let _ = write!(b, "<p class=\"flag\">Warning: {}</p>", esc(w));
        }
    }
    if let Some(p) = &r.privleak {
        let _ = write!(b, "<h2>Unlearning: PrivLeak (MUSE)</h2><p>PrivLeak = (AUC − AUC<sub>retrain</sub>) / AUC<sub>retrain</sub> = <b>{:+.1}%</b>: <code>{}</code> AUC {} on this model, {} on the retrained model ({}); {}.</p>",
            p.privleak_percent, esc(&p.attack), fmt_num(p.auc), fmt_num(p.auc_retrain), esc(&p.retrain_source), esc(&p.reading));
    }
    if let Some(f) = &r.forget_quality {
        use super::markdown::truth_ratios as tr;
        let o = |x: Option<f64>| x.map_or("n/a".to_string(), fmt_num);
        let _ = write!(b, "<h2>Unlearning: forget quality (TOFU)</h2><p><b>{}</b></p><p>{}. {} questions. Truth ratio on this model: {}{}. Forget quality (KS p) {}, D {}, {}; smallest D detectable at 5%: {}.</p>",
            esc(&f.reading), esc(&f.method), f.questions, tr(&f.target),
            f.retrain.as_ref().map_or(String::new(), |t| format!("; on the retrained model: {}", tr(t))),
            o(f.forget_quality), o(f.ks_statistic), esc(f.p_method.as_deref().unwrap_or("n/a")), o(f.min_detectable_d));
    }
    if let Some(v) = &r.verbmem {
        let _ = write!(b, "<h2>Unlearning: VerbMem (MUSE)</h2><p><b>{}</b></p><p>{}; prompt {} tokens, up to {} generated.</p><table><thead><tr><th>set</th><th>texts</th><th>ROUGE-L F1</th><th>ROUGE-L recall</th><th>exact</th><th>skipped (too short)</th></tr></thead><tbody>",
            esc(&v.reading), esc(&v.method), v.prompt_tokens, v.max_new_tokens);
        for (name, x) in super::markdown::verbmem_rows(v) {
            let _ = write!(
                b,
                "<tr><td>{name}</td><td>{}</td>{}{}<td>{}</td><td>{}</td></tr>",
                x.texts,
                num_td(Some(x.rouge_l_f1)),
                num_td(Some(x.rouge_l_recall)),
                x.exact,
                x.skipped
            );
        }
        let _ = write!(b, "</tbody></table>");
    }
    if let Some(d) = &r.dataset_inference {
        let sizes: Vec<String> = d
            .p_by_size
            .iter()
            .map(|p| format!("{}: {}", p.n, fmt_num(p.p_value)))
            .collect();
        let _ = write!(b, "<h2>Dataset inference (members as the suspect set)</h2><p class=\"{}\">{}</p><p>{}. Tested on {} suspect and {} validation texts: t = {}, p = {}; null control p = {}; α = {}; smallest shift found 80% of the time: {} SD.</p><p class=\"muted\">p by texts per test half: {}</p>",
            if d.verdict.starts_with("used") { "flag" } else { "" }, esc(&d.verdict), esc(&d.method), d.test[0], d.test[1],
            fmt_num(d.t.unwrap_or(f64::NAN)), fmt_num(d.p_value.unwrap_or(f64::NAN)), fmt_num(d.null_control_p_value.unwrap_or(f64::NAN)), d.alpha,
            fmt_num(d.min_detectable_effect.unwrap_or(f64::NAN)), esc(&sizes.join(", ")));
    }
    if let Some(a) = &r.audit {
        let _ = write!(b, "<h2>Privacy audit</h2><p class=\"{}\">{}</p><p>ε lower bound {} from <code>{}</code> (TPR ≥ {}, FPR ≤ {} at {}% confidence). Caps for the claimed ε: advantage ≤ {}, accuracy ≤ {}; observed advantage {}.</p>",
            if a.contradicted { "flag" } else { "" }, esc(&a.verdict), fmt_num(a.epsilon_lower_bound), esc(&a.signal), fmt_num(a.tpr_lower), fmt_num(a.fpr_upper), a.confidence * 100.0,
            fmt_num(a.max_advantage_cap), fmt_num(a.max_accuracy_cap), fmt_num(a.observed_advantage));
    }
    if !r.canaries.is_empty() {
        let _ = write!(b, "<h2>Canary exposure</h2><table class=\"sortable\"><thead><tr><th>canary</th><th>details</th><th>|R|</th><th>method</th><th>rank</th><th>exposure (bits)</th></tr></thead><tbody>");
        for c in &r.canaries {
            let details: Vec<String> = c
                .extra
                .iter()
                .filter(|(k, _)| k.as_str() != "text")
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td>{}<td>{}</td>{}{}</tr>",
                esc(&c.id),
                esc(&details.join(", ")),
                num_td(Some(c.space_size)),
                esc(&c.method),
                num_td(c.rank.map(|r| r as f64)),
                num_td(Some(c.exposure))
            );
        }
        let _ = write!(b, "</tbody></table>");
    }
    page("memscan eval report", &b)
}

pub fn forget(r: &super::schema::ForgetReport) -> String {
    let mut b = String::new();
    let _ = write!(b, "<h1>memscan right-to-be-forgotten check</h1><p class=\"muted\">memscan {} · {} · model <code>{}</code> · SHA-256 <code>{}</code></p><blockquote>{}</blockquote>",
        esc(&r.header.tool.version), esc(&r.header.created), esc(&r.header.model.path), esc(&r.header.model.sha256), esc(&r.summary.statement));
    let _ = write!(b, "<table class=\"sortable\"><thead><tr><th>record</th><th>verdict</th><th>tests</th><th>corrected p</th><th>longest greedy reproduction</th><th>nll target</th><th>nll reference</th></tr></thead><tbody>");
    for rec in &r.records {
        let _ = write!(
            b,
            "<tr><td>{}</td><td class=\"{}\">{}</td>{}{}{}{}{}</tr>",
            esc(&rec.id),
            if matches!(rec.verdict, Verdict::Extractable | Verdict::Memorized) {
                "flag"
            } else {
                ""
            },
            rec.verdict.as_str(),
            num_td(Some(rec.tests.len() as f64)),
            num_td(rec.p_corrected),
            num_td(Some(rec.best_extraction() as f64)),
            num_td(rec.nll_target),
            num_td(rec.nll_reference)
        );
    }
    let _ = write!(b, "</tbody></table><h2>Evidence per record</h2><p class=\"muted\">Each picture: the null values (thin line: all; thick: 5–95%; box: 25–75%; tick: median) and the record's value (red). A value far right of its null is evidence of memorization.</p>");
    for rec in &r.records {
        let _ = write!(
            b,
            "<h3>{} — {}</h3><blockquote>{}</blockquote>",
            esc(&rec.id),
            rec.verdict.as_str(),
            esc(&rec.statement)
        );
        if !rec.evidence.is_empty() {
            let _ = write!(b, "<ul>");
            for e in &rec.evidence {
                let _ = write!(b, "<li>{}</li>", esc(e));
            }
            let _ = write!(b, "</ul>");
        }
        if rec.tests.is_empty() {
            continue;
        }
        let _ = write!(b, "<table><thead><tr><th>test</th><th>record</th><th>p</th><th>null n</th><th>record against its null</th></tr></thead><tbody>");
        for t in &rec.tests {
            let _ = write!(
                b,
                "<tr><td title=\"{}\">{}</td>{}{}{}<td>{}</td></tr>",
                esc(&t.statistic),
                esc(&t.name),
                num_td(t.value),
                num_td(t.p_value),
                num_td(Some(t.n_null as f64)),
                t.value
                    .map(|v| null_svg(&t.null_quantiles, v))
                    .unwrap_or_default()
            );
        }
        let _ = write!(b, "</tbody></table>");
    }
    page("memscan forget-check report", &b)
}

/// A box plot of a null distribution's quantiles (0, 5, 25, 50, 75, 95, 100%) with the
/// record's value marked, as inline SVG.
fn null_svg(q: &[f64], x: f64) -> String {
    let (w, h) = (260.0, 22.0);
    let Some((lo, hi)) = super::scale(q, x) else {
        return String::new();
    };
    let at = |v: f64| 6.0 + (v - lo) / (hi - lo) * (w - 12.0);
    let mut s =
        format!("<svg width=\"{w}\" height=\"{h}\" role=\"img\"><title>record {x:.3}</title>");
    if q.len() == 7 {
        let _ = write!(
            s,
            "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"11\" y2=\"11\" stroke=\"#999\"/><line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"11\" y2=\"11\" stroke=\"#555\" stroke-width=\"3\"/><rect x=\"{:.1}\" y=\"5\" width=\"{:.1}\" height=\"12\" fill=\"#cfd8e3\" stroke=\"#555\"/><line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"5\" y2=\"17\" stroke=\"#222\"/>",
            at(q[0]), at(q[6]), at(q[1]), at(q[5]), at(q[2]), (at(q[4]) - at(q[2])).max(1.0), at(q[3]), at(q[3])
        );
    }
    let _ = write!(
        s,
        "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"1\" y2=\"21\" stroke=\"#c0392b\" stroke-width=\"3\"/></svg>",
        at(x)
    );
    s
}
