//! The null hypothesis of forget-check, made concrete: a record's personal values
//! (its fields and what the detectors find in its text) and same-format variants of
//! the record in which every personal value is replaced by a plausible other value
//! (names from lists, emails rebuilt on the replacement name at common domains,
//! digits redrawn), so that a record and its variants are compared like for like.

use serde_json::Value;

use crate::detect::Engine;
use crate::input::TextRecord;
use crate::stats::SplitMix;

const FIRST_NAMES: &[&str] = &[
    "Alma", "Bruno", "Carmen", "Dmitri", "Edith", "Felix", "Gloria", "Hamid", "Irene", "Jonah",
    "Keiko", "Lars", "Maren", "Nadia", "Oscar", "Priya", "Ruben", "Selma", "Tomas", "Ulla",
];
const LAST_NAMES: &[&str] = &[
    "Abbott",
    "Brandt",
    "Castillo",
    "Dorsey",
    "Eklund",
    "Fischer",
    "Garner",
    "Holm",
    "Iqbal",
    "Jovanovic",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Pereira",
    "Quint",
];

/// Common mail domains: variants and candidates take theirs from here, so a rare true
/// domain makes the test conservative rather than a made-up one making it lenient.
const DOMAINS: &[&str] = &[
    "gmail.com",
    "outlook.com",
    "yahoo.com",
    "hotmail.com",
    "icloud.com",
    "proton.me",
    "gmx.net",
    "web.de",
    "aol.com",
    "mail.com",
    "fastmail.com",
    "yandex.com",
];

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Name,
    Email,
    Other,
}

/// A record's personal values: its fields, and what the detectors find in its text.
pub struct Personal {
    /// (label, value, kind)
    pub values: Vec<(String, String, Kind)>,
}

fn kind_of(label: &str, value: &str) -> Kind {
    if label.to_lowercase().contains("name") {
        Kind::Name
    } else if value.contains('@') && !value.contains(char::is_whitespace) {
        Kind::Email
    } else {
        Kind::Other
    }
}

pub fn personal(r: &TextRecord, engine: &Engine) -> Personal {
    let mut values: Vec<(String, String, Kind)> = Vec::new();
    if let Some(Value::Object(f)) = r.extra.get("fields") {
        for (k, v) in f {
            let v = match v {
                Value::String(s) => s.clone(),
                Value::Null => continue,
                other => other.to_string(),
            };
            if !v.is_empty() {
                values.push((k.clone(), v.clone(), kind_of(k, &v)));
            }
        }
    }
    for f in engine.scan(r.text.as_bytes()) {
        let v = String::from_utf8_lossy(&f.value).to_string();
        if !values.iter().any(|(_, x, _)| *x == v) {
            let label = engine.rules[f.rule].spec.id.clone();
            let k = kind_of(&label, &v);
            values.push((label, v, k));
        }
    }
    Personal { values }
}

fn random_name(words: usize, rng: &mut SplitMix) -> String {
    (0..words.max(1))
        .map(|i| {
            let list = if i + 1 == words && words > 1 {
                LAST_NAMES
            } else {
                FIRST_NAMES
            };
            list[rng.below(list.len())]
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn random_digits(v: &str, rng: &mut SplitMix) -> String {
    v.chars()
        .map(|c| {
            if c.is_ascii_digit() {
                char::from(b'0' + rng.below(10) as u8)
            } else {
                c
            }
        })
        .collect()
}

/// A plausible value of the same format: a name from a list; an email whose local part
/// keeps its shape (name words mapped through `names`, digits random) at a common
/// domain; anything else with its digits random (letters too when it has no digits).
pub fn same_format(v: &str, kind: Kind, names: &[(String, String)], rng: &mut SplitMix) -> String {
    match kind {
        Kind::Name => random_name(v.split_whitespace().count(), rng),
        Kind::Email => {
            let local = v.split('@').next().unwrap_or(v);
            let mut local = local.to_string();
            for (from, to) in names {
                local = local.replace(from.as_str(), to);
            }
            format!(
                "{}@{}",
                random_digits(&local, rng),
                DOMAINS[rng.below(DOMAINS.len())]
            )
        }
        Kind::Other if v.chars().any(|c| c.is_ascii_digit()) => random_digits(v, rng),
        Kind::Other => v
            .chars()
            .map(|c| {
                if c.is_ascii_lowercase() {
                    char::from(b'a' + rng.below(26) as u8)
                } else if c.is_ascii_uppercase() {
                    char::from(b'A' + rng.below(26) as u8)
                } else {
                    c
                }
            })
            .collect(),
    }
}

/// The lowercased words of each name value mapped to those of its replacement.
fn name_map(p: &Personal, repl: &[(usize, String)]) -> Vec<(String, String)> {
    let mut m = Vec::new();
    for (i, r) in repl {
        let from: Vec<String> = p.values[*i]
            .1
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        let to: Vec<String> = r.split_whitespace().map(str::to_lowercase).collect();
        m.extend(from.into_iter().zip(to).filter(|(f, _)| f.len() > 1));
    }
    m
}

/// The record with its names replaced by random names and every other personal value
/// by a same-format value consistent with them (an email built on the name follows it).
pub fn variant(text: &str, p: &Personal, rng: &mut SplitMix) -> String {
    let repl: Vec<(usize, String)> = p
        .values
        .iter()
        .enumerate()
        .filter(|(_, v)| v.2 == Kind::Name)
        .map(|(i, v)| (i, random_name(v.1.split_whitespace().count(), rng)))
        .collect();
    let names = name_map(p, &repl);
    let mut t = text.to_string();
    for (i, (_, v, kind)) in p.values.iter().enumerate() {
        let r = match repl.iter().find(|(j, _)| *j == i) {
            Some((_, r)) => r.clone(),
            None => same_format(v, *kind, &names, rng),
        };
        t = t.replace(v.as_str(), &r);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_are_plausible_and_consistent() {
        let mut rng = SplitMix(1);
        let p = Personal {
            values: vec![
                ("name".into(), "Jane Doe".into(), Kind::Name),
                ("email".into(), "jane.doe42@example.org".into(), Kind::Email),
                ("phone".into(), "555-0143".into(), Kind::Other),
            ],
        };
        let v = variant("Jane Doe: jane.doe42@example.org, 555-0143", &p, &mut rng);
        let (name, rest) = v.split_once(": ").unwrap();
        assert!(!v.contains("Jane") && !v.contains("doe42"), "{v}");
        let first = name.split(' ').next().unwrap().to_lowercase();
        assert!(rest.starts_with(&format!("{first}.")), "{v}");
        assert!(DOMAINS.iter().any(|d| rest.contains(d)), "{v}");
        assert_eq!(rest.len() - rest.find(", ").unwrap(), ", 555-0143".len());
        assert_eq!(
            same_format("Jane Doe", Kind::Name, &[], &mut rng)
                .split(' ')
                .count(),
            2
        );
    }
}
