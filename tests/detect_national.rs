//! National identifiers against an independent reference.
//!
//! 1. Every validator against python-stdnum's `is_valid` (or, for the four identifiers
//!    stdnum lacks, Presidio's formula or the issuer's algorithm), on valid numbers,
//!    one-character corruptions of them and random strings of the shape, written by
//!    tests/reference/national_ids.py. memscan may be stricter only where
//!    src/detect/national.rs says so; it may never accept what the reference rejects.
//! 2. `memscan detect` over documents written for this test (forms, letters, JSON,
//!    CSV, chat, logs) holding valid and corrupted numbers: every valid one found by its
//!    rule, no corrupted one reported.

mod common;
use common::*;
use memscan::detect::validate::Validator;
use std::collections::{BTreeMap, HashSet};

/// Where memscan is deliberately stricter than the reference (src/detect/national.rs).
fn stricter(kind: &str, v: &str) -> bool {
    let d: Vec<u8> = v.bytes().filter(u8::is_ascii_digit).collect();
    let repeated = d.iter().all(|&x| x == d[0]);
    match kind {
        "nhs" | "ca_sin" | "au_tfn" => repeated,
        "aba_routing" => {
            let p = (d[0] - b'0') as u32 * 10 + (d[1] - b'0') as u32;
            repeated || !(p <= 12 || (21..=32).contains(&p) || (61..=72).contains(&p) || p == 80)
        }
        _ => false,
    }
}

fn reference_cases(n: usize) -> Vec<(String, String, bool)> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ids.jsonl");
    let st = std::process::Command::new(python())
        .arg(root().join("tests/reference/national_ids.py"))
        .arg(&out)
        .args(["--n", &n.to_string()])
        .status()
        .unwrap();
    assert!(
        st.success(),
        "tests/reference/national_ids.py failed (python-stdnum is installed by scripts/setup.sh)"
    );
    read_jsonl(&out)
        .into_iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_string(),
                r["value"].as_str().unwrap().to_string(),
                r["valid"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[test]
fn validators_agree_with_the_reference() {
    let cases = reference_cases(400);
    // kind -> (reference valid, agreed, memscan stricter by policy)
    let mut table: BTreeMap<String, (usize, usize, usize, usize)> = BTreeMap::new();
    let mut wrong = Vec::new();
    for (kind, value, valid) in &cases {
        let v = Validator::parse(kind).unwrap_or_else(|| panic!("no validator {kind}"));
        let ours = v.check(value.as_bytes(), b"").is_some();
        let expected = *valid && !stricter(kind, value);
        let row = table.entry(kind.clone()).or_default();
        row.0 += 1;
        row.1 += *valid as usize;
        row.2 += (ours == *valid) as usize;
        row.3 += (*valid && !ours && stricter(kind, value)) as usize;
        if ours != expected {
            wrong.push(format!("{kind} {value}: memscan {ours}, reference {valid}"));
        }
    }
    println!("kind                 cases  ref-valid  agree  stricter-by-policy");
    for (k, (n, valid, agree, strict)) in &table {
        println!("{k:<20} {n:>5}  {valid:>9}  {agree:>5}  {strict:>5}");
    }
    assert_eq!(table.len(), 21, "every national identifier is compared");
    assert!(
        wrong.is_empty(),
        "{} disagreements:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Groups digits as people write them: `groups` = sizes, joined by `sep`.
fn group(v: &str, groups: &[usize], sep: &str) -> String {
    let mut out = Vec::new();
    let mut i = 0;
    for &g in groups {
        out.push(&v[i..i + g]);
        i += g;
    }
    out.join(sep)
}

/// Documents per identifier: (rule id, kind, how it is written, templates).
#[allow(clippy::type_complexity)]
fn documents() -> Vec<(
    &'static str,
    &'static str,
    fn(&str) -> String,
    Vec<&'static str>,
)> {
    vec![
        ("uk-nhs-number", "nhs", |v| group(v, &[3, 3, 4], " "), vec![
            "Patient: Margaret Holt\nDate of birth: 12/03/1948\nNHS Number: {}\nGP: Dr R. Patel, Leyton Practice\n",
            "Dear Mr Okafor,\nPlease quote your NHS no. {} when you call the booking line.\n",
            "{\"patient\": {\"name\": \"A. Begum\", \"nhs_number\": \"{}\", \"ward\": \"7B\"}}\n",
        ]),
        ("uk-nino", "uk_nino", |v| format!("{} {} {} {} {}", &v[..2], &v[2..4], &v[4..6], &v[6..8], &v[8..]), vec![
            "Employee record\nName: Ian Frost\nNational Insurance number: {}\nTax code: 1257L\n",
            "hi, my NI is {} if payroll needs it\n",
        ]),
        ("us-itin", "us_itin", |v| group(v, &[3, 2, 4], "-"), vec![
            "Form 1040 attachment: taxpayer ITIN {} (issued 2019).\n",
            "name,itin,state\nLuis Ortega,{},TX\n",
        ]),
        ("us-aba-routing", "aba_routing", |v| v.to_string(), vec![
            "Direct deposit form\nBank: First Federal\nRouting number: {}\nAccount: 004471929\n",
            "wire instructions -> ABA {} , acct ending 3321\n",
            "{\"routing_number\": \"{}\", \"account_type\": \"checking\"}\n",
        ]),
        ("us-npi", "us_npi", |v| v.to_string(), vec![
            "Referring provider: Dr. Hannah Cole, NPI {}, Cardiology\n",
            "provider_name|npi|taxonomy\nCole Hannah|{}|207RC0000X\n",
        ]),
        ("ca-sin", "ca_sin", |v| group(v, &[3, 3, 3], " "), vec![
            "Employee onboarding - Toronto\nSocial Insurance Number: {}\nStart date: 2024-05-06\n",
            "Pouvez-vous confirmer votre NAS {} avant vendredi?\n",
        ]),
        ("au-tfn", "au_tfn", |v| group(v, &[3, 3, 3], " "), vec![
            "TFN declaration\nTax file number: {}\nAre you an Australian resident? Yes\n",
            "my tfn is {} cheers\n",
        ]),
        ("au-abn", "au_abn", |v| group(v, &[2, 3, 3, 3], " "), vec![
            "TAX INVOICE\nHarbour Joinery Pty Ltd  ABN {}\nInvoice #4411\n",
        ]),
        ("au-medicare", "au_medicare", |v| format!("{} {} {}", &v[..4], &v[4..9], &v[9..]), vec![
            "Patient registration\nMedicare card number: {}  IRN 2\n",
            "medicare no. {} exp 08/27\n",
        ]),
        ("in-aadhaar", "in_aadhaar", |v| group(v, &[4, 4, 4], " "), vec![
            "KYC details\nName: Priya Raman\nAadhaar No: {}\nPAN: pending\n",
            "{\"aadhaar_number\": \"{}\", \"verified\": true}\n",
        ]),
        ("in-pan", "in_pan", |v| v.to_string(), vec![
            "Form 16 - Employee PAN: {}  Assessment year 2024-25\n",
            "name,pan,city\nR. Iyer,{},Chennai\n",
        ]),
        ("de-steuer-id", "de_idnr", |v| group(v, &[2, 3, 3, 3], " "), vec![
            "Lohnsteuerbescheinigung\nSteuerliche Identifikationsnummer: {}\nSteuerklasse: 1\n",
            "Meine Steuer-ID lautet {}.\n",
        ]),
        ("es-dni", "es_dni", |v| v.to_string(), vec![
            "Solicitante: Lucía Fernández García\nDNI: {}\nDomicilio: C/ Mayor 12, Madrid\n",
            "nombre;dni;telefono\nPablo Ruiz;{};600123123\n",
        ]),
        ("es-nie", "es_nie", |v| v.to_string(), vec![
            "Titular: Andrei Popescu, NIE {}, residente en Valencia.\n",
        ]),
        ("it-codice-fiscale", "it_codice_fiscale", |v| v.to_string(), vec![
            "Spett.le Ufficio, il sottoscritto (codice fiscale {}) chiede il rimborso.\n",
            "<contribuente><cf>{}</cf></contribuente>\n",
        ]),
        ("pl-pesel", "pl_pesel", |v| v.to_string(), vec![
            "Wniosek o wydanie dowodu\nImię i nazwisko: Anna Nowak\nPESEL: {}\n",
        ]),
        ("se-personnummer", "se_personnummer", |v| v.to_string(), vec![
            "Kund: Erik Lindqvist, personnummer {}, Göteborg\n",
            "2024-03-01 12:00:01 INFO lookup pnr={} ok\n",
        ]),
        ("kr-rrn", "kr_rrn", |v| format!("{}-{}", &v[..6], &v[6..]), vec![
            "성명: 김민준\n주민등록번호: {}\n주소: 서울특별시\n",
        ]),
        ("sg-nric", "sg_nric", |v| v.to_string(), vec![
            "Applicant NRIC: {} / Mobile: 9123 4567\n",
            "FIN {} (work pass holder)\n",
        ]),
        ("tr-kimlik", "tr_kimlik", |v| v.to_string(), vec![
            "Başvuru sahibi: Ayşe Yılmaz\nT.C. Kimlik No: {}\n",
            "tckn={} dogrulandi\n",
        ]),
        ("za-id-number", "za_id", |v| v.to_string(), vec![
            "Applicant: Thabo Mokoena\nID number: {}\nAddress: 14 Long St, Cape Town\n",
        ]),
    ]
}

#[test]
fn detect_finds_valid_numbers_in_documents_and_no_corrupted_ones() {
    let cases = reference_cases(12);
    let dir = tempfile::tempdir().unwrap();
    let mut expected_found = Vec::new();
    let mut expected_absent = Vec::new();
    for (rule, kind, fmt, templates) in documents() {
        let values: Vec<&(String, String, bool)> = cases
            .iter()
            .filter(|(k, v, valid)| k == kind && !(*valid && stricter(k, v)))
            .collect();
        let mut k = 0;
        for (vi, (_, v, valid)) in values.iter().enumerate() {
            if v.len() < 8 || (kind == "se_personnummer" && !v.contains('-')) {
                continue;
            }
            let written = fmt(v);
            let t = templates[vi % templates.len()];
            let name = format!("{rule}-{k}.txt");
            k += 1;
            std::fs::write(dir.path().join(&name), t.replace("{}", &written)).unwrap();
            if *valid {
                expected_found.push((name, rule.to_string(), written));
            } else {
                expected_absent.push((name, rule.to_string(), written));
            }
        }
    }
    let found: HashSet<(String, String, String)> =
        detect_revealed(dir.path()).into_iter().collect();
    let missed: Vec<_> = expected_found
        .iter()
        .filter(|e| !found.contains(*e))
        .collect();
    // a corrupted number of one kind may be a valid one of another (a Singapore FIN
    // with its first letter changed to Y can be a Spanish NIE): only its own rule counts
    let false_hits: Vec<_> = expected_absent
        .iter()
        .filter(|e| found.contains(*e))
        .collect();
    println!(
        "documents: {} valid numbers, {} found; {} corrupted or random, {} reported",
        expected_found.len(),
        expected_found.len() - missed.len(),
        expected_absent.len(),
        false_hits.len()
    );
    assert!(expected_found.len() >= 21 * 8, "too few planted values");
    assert!(missed.is_empty(), "missed: {missed:?}");
    assert!(
        false_hits.is_empty(),
        "reported invalid numbers: {false_hits:?}"
    );
}

/// Machine-readable zones written and judged by the `mrz` package (an independent ICAO
/// Doc 9303 implementation, tests/reference/mrz_codes.py): in a scanned-document text,
/// memscan finds every valid TD1, TD2 and TD3 zone and none that the package rejects.
#[test]
fn machine_readable_zones_against_the_mrz_package() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mrz.jsonl");
    let st = std::process::Command::new(python())
        .arg(root().join("tests/reference/mrz_codes.py"))
        .arg(&out)
        .status()
        .unwrap();
    assert!(
        st.success(),
        "tests/reference/mrz_codes.py failed (mrz is installed by scripts/setup.sh)"
    );
    let rows = read_jsonl(&out);
    let docs = dir.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    let mut expected = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        let name = format!("scan{i:03}.txt");
        std::fs::write(
            docs.join(&name),
            format!(
                "OCR of the uploaded document, page 1:\n{}\n-- end --\n",
                r["text"].as_str().unwrap()
            ),
        )
        .unwrap();
        expected.insert(
            name,
            (
                r["kind"].as_str().unwrap().to_string(),
                r["valid"].as_bool().unwrap(),
            ),
        );
    }
    let found: HashSet<String> = detect_revealed(&docs)
        .into_iter()
        .filter(|(_, rule, _)| rule.ends_with("-mrz"))
        .map(|(file, _, _)| file)
        .collect();
    let mut table: BTreeMap<String, [usize; 4]> = BTreeMap::new();
    let mut wrong = Vec::new();
    for (name, (kind, valid)) in &expected {
        let hit = found.contains(name);
        let row = table.entry(kind.clone()).or_default();
        row[if *valid { 0 } else { 2 }] += 1;
        row[if *valid { 1 } else { 3 }] += hit as usize;
        if hit != *valid {
            wrong.push(format!("{kind} {name} valid={valid}"));
        }
    }
    println!("kind  valid found/planted  invalid reported/planted");
    for (k, c) in &table {
        println!("{k}   {}/{}  {}/{}", c[1], c[0], c[3], c[2]);
    }
    assert_eq!(table.len(), 3);
    assert!(wrong.is_empty(), "{wrong:#?}");
}
