//! `memscan compare` rendered: a Markdown section for a model card and a self-contained
//! HTML page (the same rows; sortable tables).

use std::fmt::Write;

use super::html::{esc, num_td, page};
use super::markdown::fmt_num;
use crate::compare::{Comparison, FindingChange, VerdictChange};

/// Rows of a changed-verdict list shown in Markdown and HTML (compare.json has all).
const SHOWN: usize = 50;

fn opt(v: Option<f64>) -> String {
    v.map_or("–".into(), fmt_num)
}

fn pct(v: Option<f64>) -> String {
    v.map_or("–".into(), |x| format!("{:.1}%", 100.0 * x))
}

fn signed_pct(v: Option<f64>) -> String {
    v.map_or("–".into(), |x| format!("{:+.1} pp", 100.0 * x))
}

fn level(l: Option<crate::report::schema::Level>) -> &'static str {
    l.map_or("–", |l| l.as_str())
}

/// One line: what was compared and the outcome.
pub fn headline(c: &Comparison) -> String {
    if c.regressions.is_empty() {
        format!(
            "No regression from A to B at α = {} ({} rates, {} signals compared).",
            c.alpha,
            c.rates.len(),
            c.signals.len()
        )
    } else {
        format!(
            "{} regression(s) from A to B at α = {}.",
            c.regressions.len(),
            c.alpha
        )
    }
}

pub fn markdown(c: &Comparison) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "## Memorization: comparison of two {} reports\n",
        c.compared
    );
    let _ = writeln!(
        s,
        "- A: `{}` (model `{}`, SHA-256 `{}`, {})",
        c.a.report,
        c.a.model,
        c.a.model_sha256.get(..12).unwrap_or(""),
        c.a.created
    );
    let _ = writeln!(
        s,
        "- B: `{}` (model `{}`, SHA-256 `{}`, {})\n",
        c.b.report,
        c.b.model,
        c.b.model_sha256.get(..12).unwrap_or(""),
        c.b.created
    );
    let _ = writeln!(s, "**{}**\n", headline(c));
    for r in &c.regressions {
        let _ = writeln!(s, "- {r}");
    }
    if !c.regressions.is_empty() {
        s.push('\n');
    }
    if !c.rates.is_empty() {
        let _ = writeln!(
            s,
            "| rate | A | B | change | test | p | Holm p |\n|---|---|---|---|---|---|---|"
        );
        for r in &c.rates {
            let _ = writeln!(
                s,
                "| {} | {} ({}/{}) | {} ({}/{}) | {} | {} | {} | {}{} |",
                r.name,
                pct(r.a.rate),
                r.a.k,
                r.a.n,
                pct(r.b.rate),
                r.b.k,
                r.b.n,
                signed_pct(r.change),
                r.test.as_deref().unwrap_or("–"),
                opt(r.p_value),
                opt(r.p_adjusted),
                if r.significant { " ▲" } else { "" }
            );
        }
        s.push('\n');
    }
    if !c.signals.is_empty() {
        let what = if c.compared == "eval" {
            "AUC"
        } else {
            "median"
        };
        let _ = writeln!(
            s,
            "| signal | member if | {what} A | {what} B | change | test | p | Holm p |\n|---|---|---|---|---|---|---|---|"
        );
        for x in &c.signals {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {}{} |",
                x.name,
                x.direction,
                opt(x.a),
                opt(x.b),
                opt(x.change),
                x.test.as_deref().unwrap_or("–"),
                opt(x.p_value),
                opt(x.p_adjusted),
                if x.significant { " ▲" } else { "" }
            );
        }
        s.push('\n');
    }
    if let Some(f) = &c.findings {
        let _ = writeln!(
            s,
            "Findings by value fingerprint: {} new in B, {} gone from B, {} in both.\n",
            f.new_in_b.len(),
            f.gone_from_b.len(),
            f.in_both.len()
        );
        for (title, list) in [("New in B", &f.new_in_b), ("Gone from B", &f.gone_from_b)] {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(s, "{title}:\n\n| level A | level B | category | rule | value |\n|---|---|---|---|---|");
            for x in list.iter().take(SHOWN) {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | `{}` |",
                    level(x.level_a),
                    level(x.level_b),
                    x.category,
                    x.rule_id,
                    x.masked
                );
            }
            s.push('\n');
        }
    }
    if !c.figures.is_empty() {
        let _ = writeln!(s, "| figure (no test) | A | B |\n|---|---|---|");
        for f in &c.figures {
            let _ = writeln!(s, "| {} | {} | {} |", f.name, opt(f.a), opt(f.b));
        }
        s.push('\n');
    }
    let what = if c.compared == "scan" {
        "samples"
    } else {
        "records"
    };
    let _ = writeln!(
        s,
        "{} {what} changed verdict ({} only in A, {} only in B).\n",
        c.changed.len(),
        c.only_in_a,
        c.only_in_b
    );
    if !c.changed.is_empty() {
        let _ = writeln!(s, "| id | A | B |\n|---|---|---|");
        for v in c.changed.iter().take(SHOWN) {
            let _ = writeln!(
                s,
                "| {} | {} | {}{} |",
                v.id,
                v.a,
                v.b,
                if v.regression { " ▲" } else { "" }
            );
        }
        if c.changed.len() > SHOWN {
            let _ = writeln!(s, "\n({} more in compare.json)", c.changed.len() - SHOWN);
        }
        s.push('\n');
    }
    let _ = writeln!(
        s,
        "Tests: {}. ▲: significant after adjustment (rates, signals) or a regression (records).",
        c.method
    );
    s
}

fn finding_rows(b: &mut String, id: &str, title: &str, list: &[FindingChange]) {
    let _ = write!(b, "<h3>{title} ({})</h3>", list.len());
    if list.is_empty() {
        return;
    }
    let _ = write!(b, "<div class=\"wide\"><table class=\"sortable\" id=\"{id}\"><thead><tr><th>level A</th><th>level B</th><th>category</th><th>rule</th><th>value</th><th>fingerprint</th></tr></thead><tbody>");
    for x in list {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"text\">{}</td><td><code>{}</code></td></tr>",
            level(x.level_a),
            level(x.level_b),
            esc(&x.category),
            esc(&x.rule_id),
            esc(&x.masked),
            esc(x.fingerprint.get(..16).unwrap_or(&x.fingerprint))
        );
    }
    b.push_str("</tbody></table></div>");
}

fn changed_rows(b: &mut String, list: &[VerdictChange]) {
    let _ = write!(b, "<div class=\"wide\"><table class=\"sortable\" id=\"changed\"><thead><tr><th>id</th><th>A</th><th>B</th></tr></thead><tbody>");
    for v in list {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
            esc(&v.id),
            esc(&v.a),
            if v.regression { "flag" } else { "" },
            esc(&v.b)
        );
    }
    b.push_str("</tbody></table></div>");
}

pub fn html(c: &Comparison) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>memscan comparison of two {} reports</h1><p class=\"meta\">A: <code>{}</code> · model <code>{}</code> · {}<br>B: <code>{}</code> · model <code>{}</code> · {}</p>",
        esc(&c.compared),
        esc(&c.a.report),
        esc(&c.a.model),
        esc(&c.a.created),
        esc(&c.b.report),
        esc(&c.b.model),
        esc(&c.b.created)
    );
    let _ = write!(
        b,
        "<div class=\"verdict{}\" id=\"verdict\">{}",
        if c.regressions.is_empty() { "" } else { " bad" },
        esc(&headline(c))
    );
    if !c.regressions.is_empty() {
        b.push_str("<ul>");
        for r in &c.regressions {
            let _ = write!(b, "<li>{}</li>", esc(r));
        }
        b.push_str("</ul>");
    }
    b.push_str("</div>");
    if !c.rates.is_empty() {
        let _ = write!(b, "<h2>Rates</h2><div class=\"wide\"><table class=\"sortable\" id=\"rates\"><thead><tr><th>rate</th><th>A</th><th>k/n A</th><th>B</th><th>k/n B</th><th>change</th><th>test</th><th>p</th><th>Holm p</th></tr></thead><tbody>");
        for r in &c.rates {
            let _ = write!(
                b,
                "<tr><td>{}</td>{}<td>{}/{}</td>{}<td>{}/{}</td>{}<td>{}</td>{}<td class=\"num{}\" data-v=\"{}\">{}</td></tr>",
                esc(&r.name),
                num_td(r.a.rate),
                r.a.k,
                r.a.n,
                num_td(r.b.rate),
                r.b.k,
                r.b.n,
                num_td(r.change),
                esc(r.test.as_deref().unwrap_or("–")),
                num_td(r.p_value),
                if r.significant { " flag" } else { "" },
                r.p_adjusted.map_or(String::new(), |p| p.to_string()),
                opt(r.p_adjusted)
            );
        }
        b.push_str("</tbody></table></div>");
    }
    if !c.signals.is_empty() {
        let what = if c.compared == "eval" {
            "AUC"
        } else {
            "median"
        };
        let _ = write!(b, "<h2>Signals</h2><div class=\"wide\"><table class=\"sortable\" id=\"signals\"><thead><tr><th>signal</th><th>member if</th><th>{what} A</th><th>{what} B</th><th>change</th><th>test</th><th>p</th><th>Holm p</th></tr></thead><tbody>");
        for x in &c.signals {
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td>{}{}{}<td>{}</td>{}<td class=\"num{}\" data-v=\"{}\">{}</td></tr>",
                esc(&x.name),
                esc(&x.direction),
                num_td(x.a),
                num_td(x.b),
                num_td(x.change),
                esc(x.test.as_deref().unwrap_or("–")),
                num_td(x.p_value),
                if x.significant { " flag" } else { "" },
                x.p_adjusted.map_or(String::new(), |p| p.to_string()),
                opt(x.p_adjusted)
            );
        }
        b.push_str("</tbody></table></div>");
    }
    if let Some(f) = &c.findings {
        b.push_str("<h2>Findings by value fingerprint</h2>");
        finding_rows(&mut b, "new", "New in B", &f.new_in_b);
        finding_rows(&mut b, "gone", "Gone from B", &f.gone_from_b);
        finding_rows(&mut b, "both", "In both", &f.in_both);
    }
    if !c.figures.is_empty() {
        b.push_str("<h2>Other figures (no test)</h2><table><thead><tr><th>figure</th><th>A</th><th>B</th></tr></thead><tbody>");
        for f in &c.figures {
            let _ = write!(
                b,
                "<tr><td>{}</td>{}{}</tr>",
                esc(&f.name),
                num_td(f.a),
                num_td(f.b)
            );
        }
        b.push_str("</tbody></table>");
    }
    let what = if c.compared == "scan" {
        "Samples"
    } else {
        "Records"
    };
    let _ = write!(
        b,
        "<h2>{what} whose verdict changed ({})</h2><p class=\"muted\">{} only in A, {} only in B (not compared).</p>",
        c.changed.len(),
        c.only_in_a,
        c.only_in_b
    );
    if !c.changed.is_empty() {
        changed_rows(&mut b, &c.changed);
    }
    let _ = write!(
        b,
        "<p class=\"muted\">Tests: {}; α = {}.</p>",
        esc(&c.method),
        c.alpha
    );
    page("memscan comparison", &b)
}
