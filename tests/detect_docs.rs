//! The detectors on documents nobody on the rules' side wrote: tests/data/detect_docs
//! holds 46 realistic files (code in ten languages, configs, CI files, logs, chat, mail,
//! CSV exports, forms) written by hand for issue 18 from the providers' published token
//! formats and the standards' check digits, without reading memscan's rules; labels.jsonl
//! lists every planted true value and negatives.jsonl every planted hard negative
//! (placeholders, documentation values, test cards, Maven coordinates, CSRF tokens,
//! hashes, malformed tokens). `benches/detect_docs.py` prints the same figures per family.
//!
//! A label is found when a finding of its category overlaps its value on its line; a
//! finding that overlaps no true label of its category is a false positive. The floors
//! below sit under the measured figures (README) so that a regression fails.

mod common;
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;

const DOCS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/detect_docs");
const TOOLING: &[&str] = &[
    "labels.jsonl",
    "negatives.jsonl",
    "make_values.py",
    "check_labels.py",
];

struct Label {
    file: String,
    line: u64,
    category: String,
    family: String,
    value: String,
}

fn labels(name: &str) -> Vec<Label> {
    std::fs::read_to_string(format!("{DOCS}/{name}"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            Label {
                file: v["file"].as_str().unwrap().into(),
                line: v["line"].as_u64().unwrap(),
                category: v["category"].as_str().unwrap().into(),
                family: v["family"].as_str().unwrap().into(),
                value: v["value"].as_str().unwrap().into(),
            }
        })
        .collect()
}

/// Byte spans (within the line) of every occurrence of `value` on the 1-based `line`.
fn spans(lines: &[&[u8]], line: u64, value: &str) -> Vec<(usize, usize)> {
    let raw = lines[line as usize - 1];
    let v = value.as_bytes();
    (0..=raw.len().saturating_sub(v.len()))
        .filter(|&i| raw[i..].starts_with(v))
        .map(|i| (i, i + v.len()))
        .collect()
}

#[test]
fn independent_documents() {
    let mut files: Vec<String> = std::fs::read_dir(DOCS)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !TOOLING.contains(&n.as_str()))
        .collect();
    files.sort();
    assert!(files.len() >= 40, "{files:?}");
    let mut args = vec!["detect", "--format", "jsonl", "--reveal", "-q"];
    let paths: Vec<String> = files.iter().map(|f| format!("{DOCS}/{f}")).collect();
    args.extend(paths.iter().map(String::as_str));
    let o = memscan(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let findings: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let texts: BTreeMap<String, Vec<u8>> = files
        .iter()
        .map(|f| (f.clone(), std::fs::read(format!("{DOCS}/{f}")).unwrap()))
        .collect();
    // each finding as (file, line, span within the line, category)
    let located: Vec<(String, u64, (usize, usize), String)> = findings
        .iter()
        .map(|f| {
            let file = std::path::Path::new(f["path"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let col = f["column"].as_u64().unwrap() as usize - 1;
            let len = (f["end"].as_u64().unwrap() - f["start"].as_u64().unwrap()) as usize;
            (
                file,
                f["line"].as_u64().unwrap(),
                (col, col + len),
                f["category"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let overlaps = |a: (usize, usize), b: (usize, usize)| a.0 < b.1 && b.0 < a.1;
    let truth = labels("labels.jsonl");
    let negatives = labels("negatives.jsonl");
    // recall per category and family
    let mut recall: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    for l in &truth {
        let text = &texts[&l.file];
        let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
        let sp = spans(&lines, l.line, &l.value);
        assert!(
            !sp.is_empty(),
            "label not on its line: {}:{}",
            l.file,
            l.line
        );
        let hit = located.iter().any(|(f, line, s, c)| {
            *f == l.file
                && *line == l.line
                && *c == l.category
                && sp.iter().any(|&x| overlaps(x, *s))
        });
        let e = recall
            .entry((l.category.clone(), l.family.clone()))
            .or_default();
        e.0 += 1;
        if hit {
            e.1 += 1;
        } else {
            misses.push(format!("{} {}:{} {}", l.family, l.file, l.line, l.category));
        }
    }
    // precision per category; false positives on planted negatives counted apart
    let mut precision: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    for (f, line, s, c) in &located {
        let text = &texts[f];
        let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
        let on = |set: &[Label], cat: Option<&str>| {
            set.iter().any(|l| {
                l.file == *f
                    && l.line == *line
                    && cat.is_none_or(|c| l.category == c)
                    && spans(&lines, l.line, &l.value)
                        .iter()
                        .any(|&x| overlaps(x, *s))
            })
        };
        let e = precision.entry(c.clone()).or_default();
        e.0 += 1;
        if on(&truth, Some(c)) {
            e.1 += 1;
        } else if on(&negatives, None) {
            e.2 += 1;
        }
    }
    println!("| category | planted | found | recall | findings | true | precision |");
    println!("|---|---|---|---|---|---|---|");
    let mut by_cat: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for ((c, _), (n, h)) in &recall {
        let e = by_cat.entry(c.clone()).or_default();
        e.0 += n;
        e.1 += h;
    }
    for (c, (n, h)) in &by_cat {
        let (k, t, _) = precision.get(c).copied().unwrap_or_default();
        println!(
            "| {c} | {n} | {h} | {:.3} | {k} | {t} | {:.3} |",
            *h as f64 / *n as f64,
            t as f64 / k.max(1) as f64
        );
    }
    for ((c, fam), (n, h)) in &recall {
        if h < n {
            println!("  {c} {fam}: {h}/{n}");
        }
    }
    println!("misses: {misses:#?}");
    let rate = |c: &str| {
        let (n, h) = by_cat[c];
        h as f64 / n as f64
    };
    let prec = |c: &str| {
        let (k, t, _) = precision[c];
        t as f64 / k as f64
    };
    assert!(rate("secret") >= 0.83, "secret recall {}", rate("secret"));
    assert!(rate("pii") >= 0.85, "pii recall {}", rate("pii"));
    assert!(
        prec("secret") >= 0.95,
        "secret precision {}",
        prec("secret")
    );
    assert!(prec("pii") >= 0.95, "pii precision {}", prec("pii"));
}
