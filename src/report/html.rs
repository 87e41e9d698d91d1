//! Self-contained HTML reports: one file, no external assets; tables sort on a click
//! of their header (a few lines of inline script), plots are inline SVG.

use std::fmt::Write;

use super::markdown::fmt_num;
use super::schema::{ScanReport, Verdict};

pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "*{box-sizing:border-box}body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1240px;color:#222;padding:1em 1.5em;line-height:1.4}
h1{font-size:1.6em;margin:.3em 0}h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}h3{margin:1.2em 0 .4em}
.meta{color:#666;font-size:.85em;overflow-wrap:anywhere}code{overflow-wrap:anywhere}
.verdict{font-size:1.1em;padding:.7em 1em;border-left:5px solid #4a7bb7;background:#f5f8fc;margin:.8em 0}.verdict.bad{border-color:#b00;background:#fdf3f3}
.wide{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em}th,td{border:1px solid #ccc;padding:.3em .5em;vertical-align:top}
th{background:#f3f3f3;text-align:left}table.sortable th{cursor:pointer;user-select:none}table.sortable th::after{content:' ↕';color:#aaa}
table.sortable th[aria-sort=ascending]::after{content:' ▲';color:#333}table.sortable th[aria-sort=descending]::after{content:' ▼';color:#333}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.text,div.text{font-family:ui-monospace,monospace;white-space:pre-wrap;overflow-wrap:anywhere;font-size:.95em}
table.full{width:100%;table-layout:fixed}table.full td{overflow-wrap:anywhere}table.full td.num{white-space:normal}
.prompt{color:#888}.flag{color:#b00;font-weight:bold}
.cards{display:flex;flex-wrap:wrap;gap:.6em}.card{border:1px solid #ddd;border-radius:6px;padding:.4em .8em;min-width:8em}.card b{font-size:1.3em;display:block}.card.hot{border-color:#b00;color:#b00}
.plots{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}figcaption{font-size:.85em;text-align:center;max-width:380px}
.example{border:1px solid #ddd;border-radius:6px;padding:.5em .8em;margin:.6em 0}.example h3{margin:.1em 0 .3em;font-size:1em}
.why{margin:.2em 0 .5em 1.2em;padding:0;font-size:.9em}details{margin:1em 0}summary{cursor:pointer;font-weight:bold}.muted{color:#666;font-size:.9em}";

/// Click a header to sort its table (numbers by `data-v`, empty cells last; the
/// header's `aria-sort` says the order).
const SORT_JS: &str = "document.querySelectorAll('table.sortable th').forEach(function(th){th.addEventListener('click',function(){
var t=th.closest('table'),i=Array.prototype.indexOf.call(th.parentNode.children,th),b=t.tBodies[0],rows=Array.from(b.rows),asc=th.getAttribute('aria-sort')!=='ascending';
t.querySelectorAll('th').forEach(function(h){h.removeAttribute('aria-sort')});th.setAttribute('aria-sort',asc?'ascending':'descending');
function key(r){var c=r.cells[i];return c?(c.dataset.v!==undefined?c.dataset.v:c.textContent):''}
rows.sort(function(x,y){var a=key(x),c=key(y);if(a===''||c==='')return (a==='')-(c==='');var n=Number(a),m=Number(c);
var r=(!isNaN(n)&&!isNaN(m))?n-m:a.localeCompare(c);return asc?r:-r;});rows.forEach(function(r){b.appendChild(r)});});});";

/// A whole page around `body`.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{STYLE}</style></head><body>\n{body}\n<script>{SORT_JS}</script></body></html>\n",
        esc(title)
    )
}

/// The line under a page's title: tool, time, model and its identity.
fn meta_line(h: &super::schema::Header, extra: &str) -> String {
    let m = &h.model;
    format!(
        "<p class=\"meta\">memscan {} · {} · model <code>{}</code> ({} {}) · SHA-256 <code>{}</code> · {} {}{extra}</p>",
        esc(&h.tool.version),
        esc(&h.created),
        esc(&m.path),
        esc(&m.format),
        esc(&m.architecture),
        esc(&m.sha256),
        esc(&m.device),
        esc(&m.dtype)
    )
}

/// The run's settings, folded, at the end of a page.
fn settings_details(h: &super::schema::Header) -> String {
    let mut b = String::from(
        "<details id=\"settings\"><summary>Settings</summary><div class=\"wide\"><table><tbody>",
    );
    for (k, v) in &h.settings {
        let v = match v {
            serde_json::Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        let _ = write!(b, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(&v));
    }
    b.push_str("</tbody></table></div></details>");
    b
}

/// A table cell holding a number (sorts numerically).
pub fn num_td(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => format!("<td class=\"num\" data-v=\"{x}\">{}</td>", fmt_num(x)),
        _ => "<td class=\"num\" data-v=\"\">–</td>".into(),
    }
}

/// A table cell holding a count (sorts numerically, printed without decimals).
pub fn count_td(v: Option<u64>) -> String {
    match v {
        Some(x) => format!("<td class=\"num\" data-v=\"{x}\">{x}</td>"),
        None => "<td class=\"num\" data-v=\"\">–</td>".into(),
    }
}

/// One distribution on a histogram: its name, counts per bin and colour.
pub struct Series<'a> {
    pub name: &'a str,
    pub counts: &'a [u64],
    pub color: &'a str,
}

/// An SVG histogram with axes: x ticks over the bin edges (labelled `x_label`), y as
/// the share of each series' values per bin (so series of different sizes compare),
/// the first series as bars, the others as step outlines, and an optional dashed
/// vertical marker (the threshold).
pub fn histogram_svg(
    title: &str,
    x_label: &str,
    edges: &[f64],
    series: &[Series],
    marker: Option<f64>,
) -> String {
    let (w, h) = (380.0, 220.0);
    let (left, right, top, bottom) = (46.0, 14.0, 22.0, 44.0);
    let (pw, ph) = (w - left - right, h - top - bottom);
    let bins = edges.len().saturating_sub(1);
    let shares: Vec<Vec<f64>> = series
        .iter()
        .map(|s| {
            let n = s.counts.iter().sum::<u64>().max(1) as f64;
            s.counts.iter().map(|&c| c as f64 / n).collect()
        })
        .collect();
    let ymax = shares
        .iter()
        .flatten()
        .copied()
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let mut s = String::new();
    let _ = write!(
        s,
        "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\">",
        esc(title)
    );
    let (Some(&lo), Some(&hi)) = (edges.first(), edges.last()) else {
        let _ = write!(s, "<text x=\"{left}\" y=\"{}\" font-size=\"11\">no values</text></svg><figcaption>{}</figcaption></figure>", h / 2.0, esc(title));
        return s;
    };
    let span = if hi > lo { hi - lo } else { 1.0 };
    let x = |v: f64| left + pw * ((v - lo) / span).clamp(0.0, 1.0);
    let y = |share: f64| top + ph - ph * share / ymax;
    // axes, ticks and labels
    let _ = write!(s, "<g stroke=\"#999\"><line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/><line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{}\"/></g>", top + ph, left + pw, top + ph, top + ph);
    for k in 0..=4 {
        let v = lo + span * k as f64 / 4.0;
        let _ = write!(s, "<line x1=\"{0:.1}\" y1=\"{1}\" x2=\"{0:.1}\" y2=\"{2}\" stroke=\"#999\"/><text x=\"{0:.1}\" y=\"{3}\" font-size=\"10\" text-anchor=\"middle\">{4}</text>", x(v), top + ph, top + ph + 4.0, top + ph + 15.0, fmt_tick(v));
    }
    for k in 0..=2 {
        let share = ymax * k as f64 / 2.0;
        let _ = write!(s, "<line x1=\"{}\" y1=\"{1:.1}\" x2=\"{left}\" y2=\"{1:.1}\" stroke=\"#999\"/><line x1=\"{left}\" y1=\"{1:.1}\" x2=\"{2}\" y2=\"{1:.1}\" stroke=\"#eee\"/><text x=\"{3}\" y=\"{4:.1}\" font-size=\"10\" text-anchor=\"end\">{5:.0}%</text>", left - 4.0, y(share), left + pw, left - 6.0, y(share) + 3.0, 100.0 * share);
    }
    let _ = write!(s, "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{}</text><text x=\"11\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\" transform=\"rotate(-90 11 {})\">share of texts</text>", left + pw / 2.0, h - 6.0, esc(x_label), top + ph / 2.0, top + ph / 2.0);
    let bw = pw / bins.max(1) as f64;
    for (j, (sr, sh)) in series.iter().zip(&shares).enumerate() {
        if j == 0 {
            for (i, &v) in sh.iter().enumerate() {
                let _ = write!(
                    s,
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\" fill-opacity=\"0.75\"><title>{}: {}–{}: {}</title></rect>",
                    left + bw * i as f64 + 0.5,
                    y(v),
                    (bw - 1.0).max(0.5),
                    top + ph - y(v),
                    sr.color,
                    esc(sr.name),
                    fmt_num(edges[i]),
                    fmt_num(edges[i + 1]),
                    sr.counts[i]
                );
            }
        } else {
            let mut pts = format!("{left:.1},{:.1}", top + ph);
            for (i, &v) in sh.iter().enumerate() {
                let _ = write!(
                    pts,
                    " {:.1},{:.1} {:.1},{:.1}",
                    left + bw * i as f64,
                    y(v),
                    left + bw * (i + 1) as f64,
                    y(v)
                );
            }
            let _ = write!(pts, " {:.1},{:.1}", left + pw, top + ph);
            let _ = write!(s, "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{pts}\"><title>{}</title></polyline>", sr.color, esc(sr.name));
        }
    }
    if series.len() > 1 {
        for (j, sr) in series.iter().enumerate() {
            let yy = top + 4.0 + 12.0 * j as f64;
            let _ = write!(s, "<rect x=\"{}\" y=\"{yy}\" width=\"10\" height=\"8\" fill=\"{}\"/><text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">{}</text>", left + pw - 10.0, sr.color, left + pw - 14.0, yy + 8.0, esc(sr.name));
        }
    }
    if let Some(m) = marker.filter(|m| m.is_finite()) {
        let xm = x(m);
        let _ = write!(s, "<line x1=\"{xm:.1}\" y1=\"{}\" x2=\"{xm:.1}\" y2=\"{}\" stroke=\"#b00\" stroke-width=\"1.5\" stroke-dasharray=\"4 2\"/><text x=\"{xm:.1}\" y=\"{}\" font-size=\"10\" fill=\"#b00\" text-anchor=\"middle\">threshold {}</text>", top - 2.0, top + ph, top - 6.0, fmt_num(m));
    }
    let _ = write!(s, "</svg><figcaption>{}</figcaption></figure>", esc(title));
    s
}

/// A short axis label: three significant digits.
fn fmt_tick(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{v:.1e}")
    } else {
        let digits = (2 - a.log10().floor() as i32).max(0) as usize;
        format!("{v:.digits$}")
    }
}

/// Samples shown first: flagged ones, the strongest evidence first (level, then the
/// number of reasons, then how far the flag signal lies toward "member").
fn worst_items(r: &ScanReport, n: usize) -> Vec<&crate::report::schema::SampleItem> {
    let def = crate::signals::def(&r.calibration.signal);
    let toward = |it: &crate::report::schema::SampleItem| -> f64 {
        match (def, it.signals.get(&r.calibration.signal)) {
            (Some(d), Some(v)) if v.is_finite() => match d.direction {
                crate::signals::Direction::Higher => v,
                crate::signals::Direction::Lower => -v,
            },
            _ => f64::NEG_INFINITY,
        }
    };
    let mut v: Vec<_> = r.items.iter().filter(|it| it.flagged).collect();
    v.sort_by(|a, b| {
        b.level
            .cmp(&a.level)
            .then(b.reasons.len().cmp(&a.reasons.len()))
            .then(toward(b).total_cmp(&toward(a)))
    });
    v.truncate(n);
    v
}

/// Why a sample is flagged, one line per reason, from its findings and matches.
fn why_lines(r: &ScanReport, it: &crate::report::schema::SampleItem) -> Vec<String> {
    use crate::report::rows::Reason;
    let mut out = Vec::new();
    for f in r.findings.iter().filter(|f| f.sample_id == it.id) {
        let e = &f.evidence;
        let mut parts = vec![format!(
            "{} {} <code>{}</code> ({})",
            f.category,
            esc(&f.rule_id),
            esc(f.value.as_deref().unwrap_or(&f.masked)),
            f.level.as_str()
        )];
        if let Some(p) = e.logp {
            parts.push(format!("log p {}", fmt_num(p)));
        }
        if e.greedy.is_some() || e.extracted.is_some() {
            parts.push(format!("greedy: {}", e.greedy_cell()));
        }
        if let Some(p) = e.ratio_p {
            parts.push(format!("ratio p {}", fmt_num(p)));
        }
        if e.recurrence_prompts > 1 {
            parts.push(format!("from {} prompts", e.recurrence_prompts));
        }
        if let Some(c) = e.corpus_count.filter(|&c| c > 0) {
            parts.push(format!("{c}× in the corpus"));
        }
        if e.known == Some(true) {
            parts.push("a known value".into());
        }
        match e.checksum {
            Some(true) => parts.push("passes its issuer's checksum".into()),
            Some(false) => parts.push("fails its issuer's checksum (a made-up token)".into()),
            None => {}
        }
        out.push(parts.join(" · "));
    }
    for reason in &it.reasons {
        match reason {
            Reason::Verbatim => out.push(format!(
                "verbatim: {} tokens ({} bytes) match the reference corpus",
                it.longest_match_tokens.unwrap_or(0),
                it.longest_match_bytes.unwrap_or(0)
            )),
            Reason::Suffix => out.push(format!(
                "the document's true continuation reproduced ({} tokens)",
                it.suffix_match_tokens.unwrap_or(0)
            )),
            Reason::Signal => {
                let c = &r.calibration;
                out.push(format!(
                    "signal: {} = {} beyond the threshold {} ({} = member; false-positive rate {} on {} calibration continuations)",
                    esc(&c.signal),
                    it.signals.get(&c.signal).map_or("–".into(), fmt_num),
                    c.threshold.map_or("–".into(), fmt_num),
                    esc(&c.direction),
                    fmt_num(c.achieved_fpr),
                    c.n_texts
                ))
            }
            Reason::Secret | Reason::Pii => {}
        }
    }
    out
}

/// A sample's text: the prompt in grey, the continuation in black.
fn sample_text(it: &crate::report::schema::SampleItem) -> String {
    let cut = it.prompt_bytes.min(it.text.len());
    let cut = (0..=cut)
        .rev()
        .find(|&i| it.text.is_char_boundary(i))
        .unwrap_or(0);
    let (p, cont) = it.text.split_at(cut);
    format!("<span class=\"prompt\">{}</span>{}", esc(p), esc(cont))
}

fn level_td(l: Option<crate::report::schema::Level>, flag: bool) -> String {
    format!(
        "<td class=\"{}\" data-v=\"{}\">{}</td>",
        if flag { "flag" } else { "" },
        l.map_or(0, |l| l as u8 + 1),
        l.map_or("–", |l| l.as_str())
    )
}

pub fn scan(r: &ScanReport) -> String {
    let s = &r.summary;
    let c = &r.calibration;
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>memscan extraction scan</h1>{}",
        meta_line(&r.header, "")
    );
    let evidence = s.levels.samples.likely_memorized + s.levels.samples.confirmed;
    let _ = write!(
        b,
        "<div class=\"verdict{}\" id=\"verdict\">{}.</div>",
        if evidence > 0 { " bad" } else { "" },
        esc(&crate::report::markdown::level_headline(s))
    );
    let card = |label: &str, v: usize, hot: bool| {
        format!(
            "<div class=\"card{}\"><b>{v}</b>{}</div>",
            if hot && v > 0 { " hot" } else { "" },
            esc(label)
        )
    };
    let _ = write!(
        b,
        "<div class=\"cards\">{}{}{}{}{}{}{}{}{}{}{}</div>",
        card("samples", s.samples, false),
        card("flagged", s.flagged, false),
        card("confirmed", s.levels.samples.confirmed, true),
        card("likely memorized", s.levels.samples.likely_memorized, true),
        card("emitted only", s.levels.samples.emitted, false),
        card("with secrets", s.by_reason.secret, false),
        card("with PII", s.by_reason.pii, false),
        card("verbatim", s.by_reason.verbatim, true),
        card("true suffix", s.by_reason.suffix, true),
        card("beyond signal threshold", s.by_reason.signal, false),
        card("near-duplicate groups", s.near_duplicate_groups, false)
    );
    if let Some(t) = c.threshold {
        let _ = write!(b, "<p>Signal flag: <code>{}</code> ({} = member-like) beyond {} — calibrated on {} continuations of non-member text ({}) at false-positive rate {} (achieved {}).</p>",
            esc(&c.signal), esc(&c.direction), fmt_num(t), c.n_texts, esc(&c.source), c.fpr, fmt_num(c.achieved_fpr));
    }

    let worst = worst_items(r, 10);
    let _ = write!(b, "<h2>Worst examples</h2>");
    if worst.is_empty() {
        let _ = write!(b, "<p>No sample was flagged.</p>");
    } else {
        let _ = write!(b, "<p class=\"muted\">The {} flagged samples with the strongest evidence (of {}), and why each was flagged. Prompt in grey; values masked unless --reveal.</p>", worst.len(), s.flagged);
    }
    for it in worst {
        let _ = write!(
            b,
            "<div class=\"example\"><h3>{} · <span class=\"{}\">{}</span> · {}</h3><ul class=\"why\">",
            esc(&it.id),
            if it.memorized { "flag" } else { "" },
            it.level.map_or("not flagged", |l| l.as_str()),
            esc(&it.set)
        );
        for w in why_lines(r, it) {
            let _ = write!(b, "<li>{w}</li>");
        }
        let _ = write!(
            b,
            "</ul><div class=\"text\">{}</div></div>",
            sample_text(it)
        );
    }

    let _ = write!(b, "<h2>Evidence</h2>");
    if !r.findings.is_empty() {
        let _ = write!(b, "<h3>Secrets and PII ({})</h3><p class=\"muted\">level: emitted (format only), likely_memorized (a stated test passed), confirmed (in the reference corpus or the known values). log p of the value given the text before it (nats); H: mean entropy per token (bits); ratio p: min(1, p_reference / p_target); prompts: distinct prompts that emitted it.</p><div class=\"wide\"><table class=\"sortable\" id=\"findings\"><thead><tr><th>level</th><th>rule</th><th>category</th><th>value</th><th>sample</th><th>log p</th><th>greedy</th><th>H</th><th>ratio p</th><th>prompts</th><th>in corpus</th><th>confidence</th><th>fingerprint</th></tr></thead><tbody>", r.findings.len());
        for f in &r.findings {
            let e = &f.evidence;
            let _ = write!(b, "<tr>{}<td>{}</td><td>{}</td><td class=\"text\">{}</td><td>{}</td>{}<td>{}</td>{}{}{}{}{}<td><code>{}</code></td></tr>",
                level_td(Some(f.level), f.level > crate::report::schema::Level::Emitted),
                esc(&f.rule_id), esc(&f.category), esc(f.value.as_deref().unwrap_or(&f.masked)), esc(&f.sample_id),
                num_td(e.logp),
                e.greedy_cell(),
                num_td(e.entropy_bits),
                num_td(e.ratio_p),
                count_td(Some(e.recurrence_prompts as u64)),
                count_td(e.corpus_count),
                num_td(Some(f.confidence)), esc(f.fingerprint.get(..16).unwrap_or(&f.fingerprint)));
        }
        let _ = write!(b, "</tbody></table></div>");
    }

    let _ = write!(b, "<h3>Signals</h3><p class=\"muted\">The share of samples in each bin of each signal; on the flag signal, the calibration continuations (the null: non-member text continued by the model) as an outline, and the threshold dashed.</p><div class=\"plots\">");
    for sig in &r.signals {
        let label = format!("{} ({} = member)", sig.name, sig.direction);
        if sig.name == c.signal && !c.values.is_empty() {
            let raw: Vec<f64> = r
                .items
                .iter()
                .filter_map(|it| it.signals.get(&sig.name))
                .filter(|v| v.is_finite())
                .collect();
            let all = raw
                .iter()
                .chain(&c.values)
                .copied()
                .filter(|v| v.is_finite());
            let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
                (l.min(v), h.max(v))
            });
            let (edges, counts) = crate::stats::histogram_over(&raw, lo, hi, 20);
            let (_, cal) = crate::stats::histogram_over(&c.values, lo, hi, 20);
            let title = format!(
                "{label}: {} samples against {} calibration continuations",
                raw.len(),
                c.values.len()
            );
            let _ = write!(
                b,
                "{}",
                histogram_svg(
                    &title,
                    &sig.name,
                    &edges,
                    &[
                        Series {
                            name: "samples",
                            counts: &counts,
                            color: "#4a7bb7"
                        },
                        Series {
                            name: "calibration",
                            counts: &cal,
                            color: "#e08a00"
                        },
                    ],
                    c.threshold
                )
            );
        } else {
            let marker = (sig.name == c.signal).then_some(c.threshold).flatten();
            let _ = write!(
                b,
                "{}",
                histogram_svg(
                    &label,
                    &sig.name,
                    &sig.histogram.edges,
                    &[Series {
                        name: "samples",
                        counts: &sig.histogram.counts,
                        color: "#4a7bb7"
                    }],
                    marker
                )
            );
        }
    }
    let _ = write!(b, "</div>");

    let flag_col = (c.signal != "none").then_some(c.signal.as_str());
    let _ = write!(b, "<h3>Samples ({})</h3><p class=\"muted\">Click a header to sort. Every signal of every sample is in the folded table below.</p><table class=\"sortable full\" id=\"samples\"><colgroup><col style=\"width:8.5em\"><col style=\"width:5.5em\"><col style=\"width:7.5em\"><col style=\"width:7em\">{}<col style=\"width:5em\"><col></colgroup><thead><tr><th>sample</th><th>set</th><th>level</th><th>reasons</th>{}<th>match tokens</th><th data-col=\"text\">text</th></tr></thead><tbody>",
        s.samples,
        if flag_col.is_some() { "<col style=\"width:6.5em\">" } else { "" },
        flag_col.map_or(String::new(), |n| format!("<th>{}</th>", esc(n))));
    for it in &r.items {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td>{}<td>{}</td>",
            esc(&it.id),
            esc(&it.set),
            level_td(it.level, it.memorized),
            esc(&crate::report::rows::Reason::join(&it.reasons)),
        );
        if let Some(n) = flag_col {
            let _ = write!(b, "{}", num_td(it.signals.get(n)));
        }
        let _ = write!(
            b,
            "{}<td class=\"text\">{}</td></tr>",
            count_td(it.longest_match_tokens.map(|t| t as u64)),
            sample_text(it)
        );
    }
    let _ = write!(b, "</tbody></table>");

    let names: Vec<&str> = r.signals.iter().map(|s| s.name.as_str()).collect();
    let _ = write!(b, "<details id=\"all-signals\"><summary>All signals per sample</summary><div class=\"wide\"><table class=\"sortable\"><thead><tr><th>sample</th><th>group</th>");
    for n in &names {
        let _ = write!(b, "<th>{}</th>", esc(n));
    }
    let _ = write!(b, "</tr></thead><tbody>");
    for it in &r.items {
        let _ = write!(
            b,
            "<tr><td>{}</td>{}",
            esc(&it.id),
            count_td(Some(it.group as u64))
        );
        for n in &names {
            let _ = write!(b, "{}", num_td(it.signals.get(n)));
        }
        let _ = write!(b, "</tr>");
    }
    let _ = write!(
        b,
        "</tbody></table></div></details>{}",
        settings_details(&r.header)
    );
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
    let _ = write!(
        b,
        "<h1>memscan membership evaluation</h1>{}",
        meta_line(
            &r.header,
            &format!(" · {} members, {} non-members", r.members, r.nonmembers)
        )
    );
    let best = r
        .signals
        .iter()
        .filter(|s| s.auc.is_some_and(f64::is_finite))
        .max_by(|a, b| a.auc.unwrap_or(0.0).total_cmp(&b.auc.unwrap_or(0.0)));
    let curves: Vec<(&str, &[[f64; 2]])> = r
        .signals
        .iter()
        .map(|s| (s.name.as_str(), s.roc.as_slice()))
        .collect();
    match best {
        Some(s) => {
            // the bootstrap CI, or (--bootstrap 0) Hanley & McNeil's normal interval
            let (interval, how) = match s.auc_ci {
                Some(c) => (Some(c), "bootstrap"),
                None => (
                    s.auc
                        .and_then(|a| {
                            crate::stats::auc_se(a, r.members, r.nonmembers).map(|se| (a, se))
                        })
                        .map(|(a, se)| [a - 1.96 * se, a + 1.96 * se]),
                    "Hanley–McNeil",
                ),
            };
            let ci = interval.map_or(String::new(), |c| {
                format!(" (95% CI {}–{}, {how})", fmt_num(c[0]), fmt_num(c[1]))
            });
            let tpr1 = s
                .tpr_at_fpr
                .iter()
                .find(|x| (x.fpr_target - 0.01).abs() < 1e-12);
            let chance = interval.is_none_or(|c| c[0] <= 0.5);
            let _ = write!(b, "<div class=\"verdict{}\" id=\"verdict\">The strongest of {} signals, <code>{}</code>, tells members from non-members with AUC {}{ci}{}{}. (Chosen as the highest on these texts, so its interval is optimistic; the table below has every signal.)</div>",
                if chance { "" } else { " bad" }, r.signals.len(), esc(&s.name), fmt_num(s.auc.unwrap_or(f64::NAN)),
                tpr1.map_or(String::new(), |t| format!(" and finds {} of members at 1% false positives", fmt_num(t.tpr))),
                if chance { "; its interval includes chance (0.5): no membership leak is shown at this sample size" } else { "" });
        }
        None => {
            let _ = write!(
                b,
                "<div class=\"verdict\" id=\"verdict\">No signal could be evaluated.</div>"
            );
        }
    }
    if let Some(w) = r.blind_baseline.as_ref().and_then(|bl| bl.warning.as_ref()) {
        let _ = write!(b, "<p class=\"flag\">Warning: {}</p>", esc(w));
    }
    let _ = write!(b, "<h2>ROC curves (log-log)</h2>{}", roc_svg(&curves));
    let _ = write!(b, "<h2>Signals</h2><div class=\"wide\"><table class=\"sortable\" id=\"signals\"><thead><tr><th>signal</th><th>member if</th><th>AUC</th><th>CI low</th><th>CI high</th><th>PR-AUC</th><th>FPR@95%TPR</th><th>TPR@10%</th><th>TPR@1%</th><th>TPR@0.1%</th><th>non-members</th><th>best bal. acc.</th><th>posterior at α</th></tr></thead><tbody>");
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
            count_td(s.tpr_at_fpr.first().map(|x| x.n_nonmembers as u64)),
            num_td(Some(s.best_balanced_accuracy)),
            num_td(Some(s.neyman_pearson.posterior))
        );
    }
    let _ = write!(b, "</tbody></table></div>");
    if let Some(bl) = &r.blind_baseline {
        let _ = write!(b, "<h2>Blind baseline</h2><p>A classifier of the texts alone, without the model ({}): AUC {} (95% CI {}–{}), TPR {} at 1% FPR; the best attack, <code>{}</code>, has AUC {}.</p>",
            esc(&bl.method), fmt_num(bl.auc.unwrap_or(f64::NAN)), fmt_num(bl.auc_ci.map_or(f64::NAN, |c| c[0])), fmt_num(bl.auc_ci.map_or(f64::NAN, |c| c[1])),
            fmt_num(bl.tpr_at_1pct_fpr), esc(&bl.best_attack), fmt_num(bl.best_attack_auc.unwrap_or(f64::NAN)));
    }
    if let Some(p) = &r.privleak {
        let _ = write!(b, "<h2>Unlearning: PrivLeak (MUSE)</h2><p>PrivLeak = (AUC − AUC<sub>retrain</sub>) / AUC<sub>retrain</sub> = <b>{:+.1}%</b>: <code>{}</code> AUC {} on this model, {} on the retrained model ({}); {}.</p>",
            p.privleak_percent, esc(&p.attack), fmt_num(p.auc), fmt_num(p.auc_retrain), esc(&p.retrain_source), esc(&p.reading));
    }
    unlearning(&mut b, r.forget_quality.as_ref(), r.verbmem.as_ref());
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
                count_td(c.rank),
                num_td(Some(c.exposure))
            );
        }
        let _ = write!(b, "</tbody></table>");
    }
    b.push_str(&settings_details(&r.header));
    page("memscan eval report", &b)
}

/// TOFU's forget quality and MUSE's VerbMem, where a report has them (eval,
/// forget-check).
fn unlearning(
    b: &mut String,
    forget_quality: Option<&crate::report::schema::ForgetQuality>,
    verbmem: Option<&crate::report::schema::VerbMem>,
) {
    if let Some(f) = forget_quality {
        use super::markdown::truth_ratios as tr;
        let o = |x: Option<f64>| x.map_or("n/a".to_string(), fmt_num);
        let _ = write!(b, "<h2>Unlearning: forget quality (TOFU)</h2><p><b>{}</b></p><p>{}. {} questions. Truth ratio on this model: {}{}. Forget quality (KS p) {}, D {}, {}; smallest D detectable at 5%: {}.</p>",
            esc(&f.reading), esc(&f.method), f.questions, tr(&f.target),
            f.retrain.as_ref().map_or(String::new(), |t| format!("; on the retrained model: {}", tr(t))),
            o(f.forget_quality), o(f.ks_statistic), esc(f.p_method.as_deref().unwrap_or("n/a")), o(f.min_detectable_d));
    }
    if let Some(v) = verbmem {
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
}

pub fn forget(r: &super::schema::ForgetReport) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>memscan right-to-be-forgotten check</h1>{}",
        meta_line(&r.header, "")
    );
    let bad = r
        .records
        .iter()
        .any(|x| matches!(x.verdict, Verdict::Extractable | Verdict::Memorized));
    let _ = write!(
        b,
        "<div class=\"verdict{}\" id=\"verdict\">{}</div>",
        if bad { " bad" } else { "" },
        esc(&r.summary.statement)
    );
    let _ = write!(b, "<h2>Records</h2><div class=\"wide\"><table class=\"sortable\" id=\"records\"><thead><tr><th>record</th><th>verdict</th><th>tests</th><th>corrected p</th><th>longest greedy reproduction</th><th>nll target</th><th>nll reference</th></tr></thead><tbody>");
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
            count_td(Some(rec.tests.len() as u64)),
            num_td(rec.p_corrected),
            count_td(Some(rec.best_extraction() as u64)),
            num_td(rec.nll_target),
            num_td(rec.nll_reference)
        );
    }
    let _ = write!(b, "</tbody></table></div>");
    unlearning(&mut b, r.forget_quality.as_ref(), r.verbmem.as_ref());
    let _ = write!(b, "<h2>Evidence per record</h2><p class=\"muted\">Each picture: the null values (thin line: all; thick: 5–95%; box: 25–75%; tick: median) and the record's value (red). A value far right of its null is evidence of memorization.</p>");
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
        let _ = write!(b, "<div class=\"wide\"><table><thead><tr><th>test</th><th>record</th><th>p</th><th>null n</th><th>record against its null</th></tr></thead><tbody>");
        for t in &rec.tests {
            let _ = write!(
                b,
                "<tr><td title=\"{}\">{}</td>{}{}{}<td>{}</td></tr>",
                esc(&t.statistic),
                esc(&t.name),
                num_td(t.value),
                num_td(t.p_value),
                count_td(Some(t.n_null as u64)),
                t.value
                    .map(|v| null_svg(&t.null_quantiles, v))
                    .unwrap_or_default()
            );
        }
        let _ = write!(b, "</tbody></table></div>");
    }
    b.push_str(&settings_details(&r.header));
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
