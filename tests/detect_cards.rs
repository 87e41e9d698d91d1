//! Payment card numbers against an independent table: Braintree's `credit-card-type`
//! (npm 10.3.0; its networks, IIN patterns and lengths in tests/data/card_types.json,
//! written by tests/reference/card_types.py). memscan's table (src/detect/cards.rs) was
//! written from the networks' published IIN ranges; this test measures where the two
//! agree and holds the differences to the ones src/detect/cards.rs states.
//!
//! 1. Numbers of every credit-card-type network, prefix and length (Luhn-valid, after a
//!    card word): memscan finds them all, except where its table deliberately differs.
//! 2. Numbers of every memscan network: credit-card-type knows the prefix and length,
//!    except for the networks it does not carry.
//! 3. Cards in running text: beside order numbers, grouped, and the weak ranges with
//!    and without a card word.

use memscan::detect::{cards, rules, Engine};
use serde_json::Value;
use std::collections::BTreeMap;

fn engine() -> Engine {
    let all = rules::load(&[], &[]).unwrap();
    Engine::new(
        all.into_iter()
            .filter(|r| r.spec.id == "payment-card")
            .collect(),
    )
    .unwrap()
}

/// A small deterministic generator (SplitMix64).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }
    fn digit(&mut self) -> u8 {
        (self.next() % 10) as u8
    }
}

/// `prefix` completed with random digits and the check digit that makes the number pass
/// memscan's Luhn to `len` digits.
fn complete(prefix: &str, len: usize, rng: &mut Rng) -> String {
    let mut d: Vec<u8> = prefix.bytes().map(|b| b - b'0').collect();
    while d.len() < len - 1 {
        d.push(rng.digit());
    }
    d.push(0);
    let check = (0..10).find(|&c| {
        d[len - 1] = c;
        cards::luhn(&d)
    });
    d[len - 1] = check.unwrap();
    d.iter().map(|x| char::from(b'0' + x)).collect()
}

fn found(engine: &Engine, text: &str, value: &str) -> bool {
    engine
        .scan(text.as_bytes())
        .iter()
        .any(|f| f.value == value.as_bytes())
}

/// A credit-card-type network: its name, IIN ranges and lengths.
type Network = (String, Vec<(u64, u64)>, Vec<usize>);

fn reference() -> Vec<Network> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/card_types.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let pats = t["patterns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| (p[0].as_u64().unwrap(), p[1].as_u64().unwrap()))
                .collect();
            let lens = t["lengths"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l.as_u64().unwrap() as usize)
                .collect();
            (t["type"].as_str().unwrap().to_string(), pats, lens)
        })
        .collect()
}

/// Where memscan's table deliberately differs from credit-card-type (see
/// src/detect/cards.rs): 18-digit Visa (no network publishes it), UnionPay below 16
/// digits, and Maestro's catch-all
/// prefixes (credit-card-type calls any 6… or 5[0-9]… number of 12–19 digits Maestro;
/// memscan keeps to Maestro's issued BINs 5018, 5020, 5038, 5893, 6304, 6759, 676x).
fn deliberate(kind: &str, prefix: &str, len: usize) -> bool {
    match kind {
        "visa" => len == 18 && prefix.len() < len,
        "unionpay" => len < 16,
        "maestro" => true,
        _ => false,
    }
}

#[test]
fn agrees_with_credit_card_type() {
    let engine = engine();
    let mut rng = Rng(7812);
    let mut table: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let mut wrong = Vec::new();
    for (kind, patterns, lengths) in reference() {
        for &(lo, hi) in &patterns {
            for p in [lo, (lo + hi) / 2, hi] {
                let prefix = p.to_string();
                for &len in &lengths {
                    if prefix.len() >= len {
                        continue;
                    }
                    for _ in 0..4 {
                        let n = complete(&prefix, len, &mut rng);
                        let ok = found(&engine, &format!("card number: {n}\n"), &n);
                        let e = table.entry(kind.clone()).or_default();
                        e.0 += 1;
                        if ok {
                            e.1 += 1;
                        } else if deliberate(&kind, &prefix, len) {
                            e.2 += 1;
                        } else {
                            wrong.push(format!("{kind} {prefix}… {len} digits: {n}"));
                        }
                    }
                }
            }
        }
    }
    println!("| credit-card-type network | numbers | found | deliberate differences |");
    println!("|---|---|---|---|");
    for (k, (n, f, d)) in &table {
        println!("| {k} | {n} | {f} | {d} |");
    }
    assert!(table.len() >= 15, "{table:?}");
    assert!(
        wrong.is_empty(),
        "missed beyond the stated differences: {wrong:#?}"
    );
    // every network without a stated difference agrees on every number
    for (k, (n, f, _)) in &table {
        if !["maestro", "unionpay", "visa"].contains(&k.as_str()) {
            assert_eq!(f, n, "{k}");
        }
    }
}

/// credit-card-type's own classification: does any of its networks issue this number?
fn reference_knows(reference: &[Network], n: &str) -> bool {
    reference.iter().any(|(_, pats, lens)| {
        lens.contains(&n.len())
            && pats.iter().any(|&(lo, hi)| {
                let k = lo.to_string().len();
                n[..k].parse::<u64>().is_ok_and(|p| (lo..=hi).contains(&p))
            })
    })
}

#[test]
fn memscan_networks_known_to_the_reference() {
    let reference = reference();
    // networks credit-card-type does not carry (their IINs are in the published table)
    let absent = [
        "uatp",
        "borica",
        "napas",
        "uzcard",
        "humo",
        "china-t-union",
        "gpn",
        "rupay",
        "interpayment",
        "laser",
        "ukrcard",
        "nps-pridnestrovie",
        "dankort",
    ];
    let mut rng = Rng(7);
    let mut unknown = Vec::new();
    let mut checked = 0;
    for (network, lo, hi, lengths, _) in cards::table() {
        for p in [lo, hi] {
            for &len in &lengths {
                let n = complete(&p.to_string(), len, &mut rng);
                checked += 1;
                if !reference_knows(&reference, &n) && !absent.contains(&network) {
                    unknown.push(format!("{network} {p}… {len}: {n}"));
                }
            }
        }
    }
    println!("{checked} numbers of memscan's table; unknown to credit-card-type: {unknown:?}");
    // Visa 13 (published, dropped by credit-card-type), Diners 15/17/18 and JCB 15 are
    // lengths memscan accepts and credit-card-type does not list; Diners' 309 and
    // UnionPay's 81 are published IINs it lacks (it has 810–8171 only)
    for u in &unknown {
        assert!(
            u.starts_with("visa 4… 13")
                || (u.starts_with("diners")
                    && [" 15:", " 17:", " 18:"].iter().any(|l| u.contains(l)))
                || (u.starts_with("jcb") && u.contains(" 15:"))
                || u.starts_with("diners 309")
                || u.starts_with("unionpay 81")
                || u.starts_with("instapayment")
                || u.starts_with("elo"),
            "{u}"
        );
    }
}

#[test]
fn cards_in_running_text() {
    let engine = engine();
    let mut rng = Rng(42);
    let visa = complete("4", 16, &mut rng);
    let grouped = format!(
        "{} {} {} {}",
        &visa[0..4],
        &visa[4..8],
        &visa[8..12],
        &visa[12..16]
    );
    let maestro12 = complete("6759", 12, &mut rng);
    let uatp = complete("1", 15, &mut rng);
    let visa19 = complete("4", 19, &mut rng);
    let cases: Vec<(String, String, bool)> = vec![
        (
            format!("order 20231 card {visa} 4471 refunded"),
            visa.clone(),
            true,
        ),
        (format!("Ref 2023 {grouped} paid."), grouped.clone(), true),
        (format!("{grouped} 0099 on the slip"), grouped.clone(), true),
        (
            format!("Maestro card {maestro12} ok"),
            maestro12.clone(),
            true,
        ),
        (
            format!("ticket {maestro12} closed"),
            maestro12.clone(),
            false,
        ),
        (format!("UATP card: {uatp}"), uatp.clone(), true),
        (format!("row id {uatp}"), uatp.clone(), false),
        (format!("Visa {visa19}"), visa19.clone(), true),
        (format!("\"id\": {visa19},"), visa19.clone(), false),
    ];
    for (text, value, want) in cases {
        assert_eq!(found(&engine, &text, &value), want, "{text}");
    }
}
