//! `memscan forget-check` on the default model: a famous license paragraph is flagged,
//! a freshly written record with personal details is not; bad records exit 2.

mod common;
use common::*;

#[test]
fn famous_passage_flagged_fresh_record_not() {
    let tmp = tempfile::tempdir().unwrap();
    let recs = tmp.path().join("records.jsonl");
    std::fs::write(
        &recs,
        concat!(
            "{\"id\": \"mit\", \"text\": \"Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files (the \\\"Software\\\"), to deal in the Software without restriction, including without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software.\"}\n",
            "{\"id\": \"fresh\", \"text\": \"Marit Oyelaran moved to 14 Quillfeather Row in Dunmere last spring; you can reach her at marit.oyelaran@quillmail.net or on 0161 496 0742.\", \"fields\": {\"name\": \"Marit Oyelaran\", \"email\": \"marit.oyelaran@quillmail.net\", \"phone\": \"0161 496 0742\"}}\n",
        ),
    )
    .unwrap();
    let out = tmp.path().join("fc");
    let o = memscan(&[
        "forget-check",
        "--device",
        "cpu",
        "--threads",
        "2",
        "--records",
        recs.to_str().unwrap(),
        "--prefix-tokens",
        "16",
        "--samples",
        "1",
        "--variants",
        "30",
        "--candidates",
        "30",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let rec = |id: &str| {
        r["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == id)
            .unwrap()
            .clone()
    };
    let mit = rec("mit");
    assert!(
        mit["verdict"] == "memorized" || mit["verdict"] == "extractable",
        "{mit}"
    );
    let fresh = rec("fresh");
    assert_eq!(fresh["verdict"], "not_detected", "{fresh}");
    assert_eq!(r["summary"]["records"], 2);
    let json = std::fs::read_to_string(out.join("report.json")).unwrap();
    assert!(
        !json.contains("marit.oyelaran@quillmail.net"),
        "raw email in the report"
    );
    assert!(out.join("report.md").is_file() && out.join("report.html").is_file());
}

#[test]
fn bad_records_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let recs = tmp.path().join("bad.jsonl");
    std::fs::write(&recs, "{\"id\": 1, \"text\": \"x\", \"fields\": [1, 2]}\n").unwrap();
    assert_input_error(
        &memscan(&["forget-check", "--records", recs.to_str().unwrap()]),
        "bad.jsonl",
    );
    assert_input_error(
        &memscan(&["forget-check", "--records", "/nonexistent/r.jsonl"]),
        "/nonexistent/r.jsonl",
    );
}
