//! The HTML reports in a real browser. Headless Chromium (Debian's
//! `chromium-headless-shell` or `chromium`; `MEMSCAN_CHROMIUM` names another) loads each
//! page at 1280 px with tests/browser/check.js appended, which measures the layout and
//! clicks through every sortable table. Asserted for the scan, eval, forget-check and
//! compare pages: no horizontal overflow, the scan's text column at least 450 px wide, every
//! numeric column sorting both ways with empty cells last, no script or console error.
//! Skipped, with a message, where no Chromium is installed (`MEMSCAN_CHROMIUM=1
//! scripts/setup.sh` installs it as root; scripts/test.sh asks for it).

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The browser binary, or None (the test prints why it is skipped).
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MEMSCAN_CHROMIUM").filter(|p| !p.is_empty() && p != "1") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in [
        "chromium-headless-shell",
        "chromium",
        "chromium-browser",
        "google-chrome",
    ] {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    eprintln!("SKIP: no Chromium (chromium-headless-shell, chromium) on PATH; MEMSCAN_CHROMIUM=1 scripts/setup.sh installs it");
    None
}

/// Catches script errors and console.error calls from the first line of the page on.
const CATCH: &str = "<script>window.__memscanErrors=[];window.addEventListener('error',function(e){__memscanErrors.push(String(e.message))});(function(){var f=console.error;console.error=function(){__memscanErrors.push(Array.prototype.join.call(arguments,' '));f.apply(console,arguments)}})();</script>";

/// Renders `html` in Chromium at 1280 px and returns what check.js measured.
fn render(chrome: &Path, html: &Path, tmp: &Path) -> serde_json::Value {
    let page = std::fs::read_to_string(html).unwrap();
    let check = std::fs::read_to_string(root().join("tests/browser/check.js")).unwrap();
    let head = page.find("<head>").expect("page has a <head>") + "<head>".len();
    let body_end = page.rfind("</body>").expect("page has a </body>");
    let probed = format!(
        "{}{CATCH}{}<script>{check}</script>{}",
        &page[..head],
        &page[head..body_end],
        &page[body_end..]
    );
    let copy = tmp.join(format!(
        "probe-{}",
        html.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&copy, probed).unwrap();
    let o = Command::new("timeout")
        .arg("120")
        .arg(chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1280,900",
            "--dump-dom",
        ])
        .arg(format!("file://{}", copy.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "chromium failed: {err}");
    let at = dom
        .rfind("<pre id=\"memscan-browser-test\">")
        .unwrap_or_else(|| panic!("check.js did not run on {}: {err}", html.display()));
    let rest = &dom[at + "<pre id=\"memscan-browser-test\">".len()..];
    let json = rest[..rest.find("</pre>").unwrap()]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    // Chromium logs uncaught errors as console lines on stderr as well
    assert!(!err.contains("Uncaught"), "{}: {err}", html.display());
    v
}

/// The assertions every page must pass; `tables`: sortable tables it must have.
fn assert_page(v: &serde_json::Value, tables: usize, what: &str) {
    assert_eq!(v["errors"], serde_json::json!([]), "{what}: {v}");
    assert_eq!(v["innerWidth"], 1280, "{what}: {v}");
    let (sw, iw) = (
        v["scrollWidth"].as_f64().unwrap(),
        v["innerWidth"].as_f64().unwrap(),
    );
    assert!(
        sw <= iw,
        "{what}: the page scrolls sideways ({sw} > {iw} px)"
    );
    assert!(
        v["tables"].as_u64().unwrap() >= tables as u64,
        "{what}: {v}"
    );
    let sorts = v["sorts"].as_array().unwrap();
    let mut sorted_tables: Vec<&str> = Vec::new();
    for s in sorts {
        assert_eq!(s["ascending"], true, "{what}: {s}");
        assert_eq!(s["descending"], true, "{what}: {s}");
        assert_eq!(s["kept"], true, "{what}: {s}");
        let t = s["table"].as_str().unwrap();
        if !sorted_tables.contains(&t) {
            sorted_tables.push(t);
        }
    }
    assert!(
        sorted_tables.len() >= tables,
        "{what}: sorted {sorted_tables:?}"
    );
}

#[test]
fn scan_page_in_a_browser() {
    let Some(chrome) = chromium() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let prompts = tmp.path().join("prompts.jsonl");
    let blob = "QmFzZTY0IGJsb2Igd2l0aCBubyBzcGFjZXM".repeat(12);
    std::fs::write(
        &prompts,
        format!(
            concat!(
                "{{\"id\": \"p/key\", \"text\": \"export AWS_SECRET_ACCESS_KEY=\"}}\n",
                "{{\"id\": \"p/mail\", \"text\": \"For questions, write to our support team at\"}}\n",
                "{{\"id\": \"p/phone\", \"text\": \"Call our office on\"}}\n",
                "{{\"id\": \"p/blob\", \"text\": \"token={}\"}}\n",
                "{{\"id\": \"p/a-rather-long-prompt-identifier-without-breaks\", \"text\": \"The committee met on Tuesday to review the harbour plans, the budget for the coming year, and the schedule for the new ferry terminal; after a long discussion\"}}\n",
            ),
            blob
        ),
    )
    .unwrap();
    let cal = tmp.path().join("cal.jsonl");
    std::fs::write(
        &cal,
        concat!(
            "{\"text\": \"The ferry to Ormsby Island now leaves at ten past seven, twenty minutes later than last winter.\"}\n",
            "{\"text\": \"Volunteers logged three hundred hedgehog sightings in the town during the survey last spring.\"}\n",
            "{\"text\": \"A burst pipe closed the swimming baths on Carver Street for most of the week before half term.\"}\n",
        ),
    )
    .unwrap();
    let out = tmp.path().join("scan");
    let o = memscan(&[
        "scan",
        "--device",
        "cpu",
        "--threads",
        "2",
        "--prompts",
        prompts.to_str().unwrap(),
        "--calibration",
        cal.to_str().unwrap(),
        "--samples-per-prompt",
        "2",
        "--max-new-tokens",
        "32",
        "--seed",
        "3",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = render(&chrome, &out.join("report.html"), tmp.path());
    // findings (when the model wrote any), samples, all signals
    let r = report_json(&out);
    let tables = if r["findings"].as_array().unwrap().is_empty() {
        2
    } else {
        3
    };
    assert_page(&v, tables, "scan");
    let text = v["textWidth"]
        .as_f64()
        .expect("the samples table has a text column");
    assert!(text >= 450.0, "text column {text} px wide: {v}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    // the verdict before the evidence, the settings last and folded
    let (verdict, evidence, settings) = (
        html.find("id=\"verdict\"").unwrap(),
        html.find("<h2>Evidence</h2>").unwrap(),
        html.find("<details id=\"settings\">").unwrap(),
    );
    assert!(verdict < evidence && evidence < settings, "page order");
    // the flag signal's plot draws the calibration continuations against the samples
    assert!(
        html.contains("calibration continuations</figcaption>"),
        "no null drawn"
    );
}

#[test]
fn eval_page_in_a_browser() {
    let Some(chrome) = chromium() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let fix = root().join("tests/fixture");
    let out = tmp.path().join("eval");
    let o = memscan(&[
        "eval",
        "--device",
        "cpu",
        "--threads",
        "2",
        "-m",
        fix.join("model").to_str().unwrap(),
        "--members",
        fix.join("members.jsonl").to_str().unwrap(),
        "--nonmembers",
        fix.join("nonmembers.jsonl").to_str().unwrap(),
        "--canaries",
        fix.join("canaries.jsonl").to_str().unwrap(),
        "--bootstrap",
        "100",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = render(&chrome, &out.join("report.html"), tmp.path());
    assert_page(&v, 2, "eval"); // signals, canaries
                                // `memscan compare` of the run with itself: its page too
    let cmp = tmp.path().join("compare");
    let o = memscan(&[
        "compare",
        out.to_str().unwrap(),
        out.to_str().unwrap(),
        "--out",
        cmp.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = render(&chrome, &cmp.join("compare.html"), tmp.path());
    assert_page(&v, 2, "compare"); // rates, signals
}

#[test]
fn forget_page_in_a_browser() {
    let Some(chrome) = chromium() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let recs = tmp.path().join("records.jsonl");
    std::fs::write(
        &recs,
        concat!(
            "{\"id\": \"fresh\", \"person\": \"marit\", \"text\": \"Marit Oyelaran moved to 14 Quillfeather Row in Dunmere last spring; you can reach her at marit.oyelaran@quillmail.net or on 0161 496 0742.\", \"fields\": {\"name\": \"Marit Oyelaran\", \"email\": \"marit.oyelaran@quillmail.net\", \"phone\": \"0161 496 0742\"}}\n",
            "{\"id\": \"mit\", \"text\": \"Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files (the \\\"Software\\\"), to deal in the Software without restriction.\"}\n",
        ),
    )
    .unwrap();
    let out = tmp.path().join("forget");
    let model = default_model();
    let o = memscan(&[
        "forget-check",
        "--device",
        "cpu",
        "--threads",
        "2",
        "--records",
        recs.to_str().unwrap(),
        "--reference-model",
        model.to_str().unwrap(),
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = render(&chrome, &out.join("report.html"), tmp.path());
    assert_page(&v, 1, "forget-check");
}
