//! eval's blind baseline (a classifier of the texts alone) on splits nobody tuned it to:
//! the real-model fixture's members against held-out records drawn by the same generator
//! (no bias expected), and against held-out records written by hand (a different process:
//! the texts alone tell them apart, and the report says so).

mod common;
use common::*;

fn blind(nonmembers: &str, out: &std::path::Path) -> serde_json::Value {
    let l = root().join("fixtures/smollm2-lora");
    let o = memscan(&[
        "-q",
        "eval",
        "-m",
        root().join("tests/fixture/model").to_str().unwrap(),
        "--device",
        "cpu",
        "--threads",
        "2",
        "--members",
        l.join("members.jsonl").to_str().unwrap(),
        "--nonmembers",
        l.join(nonmembers).to_str().unwrap(),
        "--bootstrap",
        "500",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    report_json(out)["blind_baseline"].clone()
}

#[test]
fn blind_baseline_finds_the_hand_written_split_and_not_the_generated_one() {
    let tmp = tempfile::tempdir().unwrap();
    // measured 0.520 [0.461, 0.582]
    let same = blind("heldout.jsonl", &tmp.path().join("same"));
    let auc = same["auc"].as_f64().unwrap();
    assert!((0.4..0.62).contains(&auc), "{same}");
    assert_eq!(same["split_biased"], false, "{same}");
    assert!(same.get("warning").is_none(), "{same}");
    // measured 0.872 [0.822, 0.917]
    let hand = blind("heldout_handwritten.jsonl", &tmp.path().join("hand"));
    assert!(hand["auc"].as_f64().unwrap() > 0.75, "{hand}");
    assert_eq!(hand["split_biased"], true, "{hand}");
    assert!(hand["warning"]
        .as_str()
        .unwrap()
        .contains("more than membership"));
    let md = std::fs::read_to_string(tmp.path().join("hand/report.md")).unwrap();
    assert!(
        md.contains("### Blind baseline") && md.contains("**Warning:**"),
        "{md}"
    );
    let html = std::fs::read_to_string(tmp.path().join("hand/report.html")).unwrap();
    assert!(html.contains("<h2>Blind baseline</h2>"));
}
