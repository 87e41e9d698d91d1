//! Precision and recall of `memscan detect` on the labelled corpus that
//! tests/reference/make_detect_corpus.py writes from a seed: every rule family's
//! format in prose, code, config files and logs, beside hard negatives.
//! Asserts precision ≥ 0.95 and recall ≥ 0.95 per category.

mod common;
use common::*;
use serde_json::Value;
use std::collections::{HashMap, HashSet};

#[test]
fn precision_and_recall_per_category() {
    let dir = tempfile::tempdir().unwrap();
    let st = std::process::Command::new(python())
        .arg(root().join("tests/reference/make_detect_corpus.py"))
        .arg(dir.path())
        .args(["--docs", "350", "--seed", "11"])
        .current_dir(root().join("tests/reference"))
        .status()
        .unwrap();
    assert!(st.success());
    let files = dir.path().join("files");
    let o = memscan(&["-q", "detect", "--format", "jsonl", files.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let found: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let labels = read_jsonl(&dir.path().join("labels.jsonl"));
    let mut by_file: HashMap<String, Vec<(usize, &Value)>> = HashMap::new();
    for (i, l) in labels.iter().enumerate() {
        by_file
            .entry(l["file"].as_str().unwrap().to_string())
            .or_default()
            .push((i, l));
    }
    let mut hit = HashSet::new();
    let (mut tp, mut fp) = (HashMap::new(), HashMap::new());
    for f in &found {
        let name = std::path::Path::new(f["path"].as_str().unwrap())
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let cat = f["category"].as_str().unwrap().to_string();
        let (s, e) = (f["start"].as_u64().unwrap(), f["end"].as_u64().unwrap());
        // raw values never appear without --reveal
        assert!(f.get("value").is_none());
        let m = by_file.get(&name).and_then(|ls| {
            ls.iter().find(|(_, l)| {
                l["category"] == cat
                    && s < l["end"].as_u64().unwrap()
                    && l["start"].as_u64().unwrap() < e
            })
        });
        match m {
            Some((i, _)) => {
                if hit.insert(*i) {
                    *tp.entry(cat).or_insert(0usize) += 1;
                }
            }
            None => *fp.entry(cat).or_insert(0usize) += 1,
        }
    }
    for cat in ["secret", "pii"] {
        let planted = labels.iter().filter(|l| l["category"] == cat).count();
        let t = *tp.get(cat).unwrap_or(&0);
        let f = *fp.get(cat).unwrap_or(&0);
        let precision = t as f64 / (t + f).max(1) as f64;
        let recall = t as f64 / planted as f64;
        eprintln!("{cat}: precision {precision:.3}, recall {recall:.3} ({t} found of {planted}, {f} false)");
        assert!(planted > 500, "{cat}: only {planted} planted values");
        assert!(precision >= 0.95, "{cat}: precision {precision}");
        assert!(recall >= 0.95, "{cat}: recall {recall}");
    }
}
