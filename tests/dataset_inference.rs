//! Dataset inference in `memscan eval` (`--suspect`/`--validation`) on the
//! planted-canary fixture: the trained-on set is called used; two halves of the
//! held-out set, one posing as the suspect, are not (the error the test must not make);
//! a set too small for a verdict is inconclusive.

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;

fn eval(suspect: &Path, validation: &Path, out: &Path) -> Value {
    let fix = root().join("tests/fixture");
    let o = memscan(&[
        "-q",
        "eval",
        "--device",
        "cpu",
        "-m",
        fix.join("model").to_str().unwrap(),
        "--suspect",
        suspect.to_str().unwrap(),
        "--validation",
        validation.to_str().unwrap(),
        "--bootstrap",
        "100",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("### Dataset inference"), "{md}");
    report_json(out)["dataset_inference"].clone()
}

fn write(path: &Path, rows: &[Value]) {
    std::fs::write(
        path,
        rows.iter().map(|r| format!("{r}\n")).collect::<String>(),
    )
    .unwrap();
}

#[test]
fn members_are_found_and_held_out_halves_are_not() {
    let fix = root().join("tests/fixture");
    let dir = tempfile::tempdir().unwrap();
    let di = eval(
        &fix.join("members.jsonl"),
        &fix.join("nonmembers.jsonl"),
        &dir.path().join("a"),
    );
    let p = di["p_value"].as_f64().unwrap();
    assert!(di["verdict"].as_str().unwrap().starts_with("used"), "{di}");
    assert!(p < 1e-6, "{di}");
    assert_eq!(di["test"], serde_json::json!([150, 150]));
    assert!(di["null_control_p_value"].as_f64().unwrap() >= 0.01, "{di}");

    // no member anywhere: the held-out set split in two, line by line (the file's first
    // and second halves differ in text: the blind baseline tells them apart, and the
    // verdict is then inconclusive, which is checked below)
    let non = read_jsonl(&fix.join("nonmembers.jsonl"));
    let (s, v) = (dir.path().join("s.jsonl"), dir.path().join("v.jsonl"));
    let (even, odd): (Vec<_>, Vec<_>) = non
        .iter()
        .cloned()
        .enumerate()
        .partition(|(i, _)| i % 2 == 0);
    let even: Vec<Value> = even.into_iter().map(|x| x.1).collect();
    let odd: Vec<Value> = odd.into_iter().map(|x| x.1).collect();
    write(&s, &even);
    write(&v, &odd);
    let di = eval(&s, &v, &dir.path().join("b"));
    assert!(
        di["verdict"].as_str().unwrap().starts_with("not detected"),
        "{di}"
    );
    assert!(di["p_value"].as_f64().unwrap() >= 0.01, "{di}");

    // the file's two halves: told apart by their text, so no verdict
    write(&s, &non[..150]);
    write(&v, &non[150..]);
    let di = eval(&s, &v, &dir.path().join("c"));
    assert!(
        di["verdict"].as_str().unwrap().contains("blind baseline"),
        "{di}"
    );

    // too few texts for a verdict
    write(&s, &even[..12]);
    write(&v, &odd);
    let di = eval(&s, &v, &dir.path().join("d"));
    assert!(
        di["verdict"].as_str().unwrap().starts_with("inconclusive"),
        "{di}"
    );
}
