//! Every built-in rule's own examples: each positive example yields a finding of
//! that rule, no negative example does; and rule-file errors are reported well.

mod common;
use common::*;
use memscan::detect::{rules, Engine};

#[test]
fn every_rule_example() {
    let all = rules::load(&[], &[]).unwrap();
    assert!(
        all.iter()
            .filter(|r| r.spec.category == rules::Category::Secret)
            .count()
            >= 40
    );
    let mut failures = Vec::new();
    for (name, text) in rules::BUILTIN {
        for rule in rules::parse_file(text, name).unwrap() {
            let id = rule.spec.id.clone();
            let (pos, neg) = (
                rule.spec.examples.positive.clone(),
                rule.spec.examples.negative.clone(),
            );
            assert!(
                !pos.is_empty() && !neg.is_empty(),
                "rule {id} needs positive and negative examples"
            );
            let engine = Engine::new(vec![rule]).unwrap();
            for p in &pos {
                if engine.scan(p.as_bytes()).is_empty() {
                    failures.push(format!("{id}: missed positive {p:?}"));
                }
            }
            for n in &neg {
                let found = engine.scan(n.as_bytes());
                if !found.is_empty() {
                    failures.push(format!("{id}: flagged negative {n:?}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} example failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn bad_rule_files_name_rule_and_cause() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("bad.toml"),
        "[[rules]]\nid = \"broken-rule\"\ndescription = \"x\"\ncategory = \"secret\"\nregex = '''(unclosed'''\n",
    )
    .unwrap();
    let input = d.path().join("in.txt");
    std::fs::write(&input, "hello").unwrap();
    let o = memscan(&[
        "detect",
        "--patterns",
        d.path().to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert_input_error(&o, "bad.toml: rule broken-rule: invalid regex");
    std::fs::write(
        d.path().join("bad.toml"),
        "[[rules]]\nid = \"x\"\nnonsense = 1\n",
    )
    .unwrap();
    let o = memscan(&[
        "detect",
        "--patterns",
        d.path().to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert_input_error(&o, "bad.toml: invalid rule file");
}
