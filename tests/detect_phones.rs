//! Phone numbers against an independent reference: Python `phonenumbers` (libphonenumber
//! ported with its own metadata build, the same metadata version as the Rust crate
//! memscan uses), on numbers of 30 regions written as each country writes them, written
//! internationally, and random digit strings (tests/reference/phones.py).
//!
//! 1. The validators: an international number is held valid (full confidence) when the
//!    reference holds it valid for its country code; a national number next to a phone
//!    word when it is valid in one of the regions; the two ports disagree on ≤ 1%.
//! 2. `memscan detect` finds the valid numbers in sentences with a phone word, per region.

mod common;
use common::*;
use memscan::detect::validate::{Validator, PHONE_REGIONS};
use serde_json::Value;
use std::collections::BTreeMap;

fn cases() -> (Vec<String>, Vec<Value>) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("phones.jsonl");
    let st = std::process::Command::new(python())
        .arg(root().join("tests/reference/phones.py"))
        .arg(&out)
        .status()
        .unwrap();
    assert!(
        st.success(),
        "tests/reference/phones.py failed (phonenumbers is installed by scripts/setup.sh)"
    );
    let mut rows = read_jsonl(&out);
    let head = rows.remove(0);
    let regions = head["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    (regions, rows)
}

#[test]
fn validators_agree_with_libphonenumber_in_python() {
    let (regions, rows) = cases();
    assert_eq!(
        regions, PHONE_REGIONS,
        "the reference tries the same regions"
    );
    let (intl, national) = (Validator::Phone, Validator::PhoneNational);
    let mut wrong = Vec::new();
    let mut n = [0usize; 4]; // intl valid, intl invalid, national valid, national invalid
    for r in &rows {
        let text = r["text"].as_str().unwrap();
        let valid = r["valid"].as_bool().unwrap();
        let is_intl = r["intl"].as_bool().unwrap();
        let ours = if is_intl {
            intl.check(text.as_bytes(), b"") == Some(1.0)
        } else {
            national.check(text.as_bytes(), b"").is_some()
        };
        n[2 * (!is_intl) as usize + (!valid) as usize] += 1;
        if ours != valid {
            wrong.push(format!(
                "{} {text:?}: memscan {ours}, reference {valid}",
                r["region"]
            ));
        }
    }
    println!(
        "international: {} valid, {} invalid; national: {} valid, {} invalid; {} disagreements",
        n[0],
        n[1],
        n[2],
        n[3],
        wrong.len()
    );
    assert!(n.iter().all(|&k| k > 0));
    // two ports of libphonenumber: the Rust crate and the Python package disagree on a
    // few numbers (seen: 17 of 3,600, on +7, +60, +63, +66, +685 and other numbering
    // plans); more than 1% would be a fault of memscan's use of the crate
    let total: usize = n.iter().sum();
    println!("disagreements:\n{}", wrong.join("\n"));
    assert!(
        wrong.len() * 100 <= total,
        "{} of {total} disagree",
        wrong.len()
    );
}

#[test]
fn detect_finds_numbers_of_every_region_next_to_a_phone_word() {
    let (_, rows) = cases();
    let dir = tempfile::tempdir().unwrap();
    let templates = [
        "Contact: Dana Reyes\nTel: {}\nEmail: on request\n",
        "If anything changes, call me on {} after six.\n",
        "Mobile {} (personal)\n",
        "{\"name\": \"K. Sato\", \"phone\": \"{}\"}\n",
    ];
    let mut planted = Vec::new();
    for (i, r) in rows.iter().filter(|r| r["valid"] == true).enumerate() {
        let text = r["text"].as_str().unwrap();
        let name = format!("p{i}.txt");
        std::fs::write(
            dir.path().join(&name),
            templates[i % templates.len()].replace("{}", text),
        )
        .unwrap();
        planted.push((
            name,
            r["region"].as_str().unwrap().to_string(),
            text.to_string(),
            r["intl"] == true,
        ));
    }
    let found: Vec<(String, String)> = detect_revealed(dir.path())
        .into_iter()
        .filter(|(_, rule, _)| rule.starts_with("phone-"))
        .map(|(file, _, value)| (file, value))
        .collect();
    // region -> (national planted, found; international planted, found)
    let mut table: BTreeMap<String, [usize; 4]> = BTreeMap::new();
    let mut missed = Vec::new();
    for (file, region, text, intl) in &planted {
        let hit = found
            .iter()
            .any(|(f, v)| f == file && v.trim() == text.trim());
        let row = table.entry(region.clone()).or_default();
        let k = 2 * (*intl as usize);
        row[k] += 1;
        row[k + 1] += hit as usize;
        if !hit {
            missed.push(format!("{region} {text}"));
        }
    }
    println!("region  national found/planted  international found/planted");
    for (r, c) in &table {
        println!("{r:<7} {:>3}/{:<3}  {:>3}/{:<3}", c[1], c[0], c[3], c[2]);
    }
    let total: usize = table.values().map(|c| c[0] + c[2]).sum();
    let hits: usize = table.values().map(|c| c[1] + c[3]).sum();
    println!("found {hits} of {total}; missed: {missed:?}");
    assert!(total > 1000);
    assert!(hits * 100 >= total * 95, "found {hits} of {total}");
}
