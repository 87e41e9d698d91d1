//! A record's personal values: its `fields`, and what the detectors find in its text.

use serde_json::Value;

use crate::detect::Engine;
use crate::input::TextRecord;

/// A record's personal values as (label, value): fields first, then detector findings
/// (labelled by rule) that no field already holds.
pub fn personal(r: &TextRecord, engine: &Engine) -> Vec<(String, String)> {
    let mut values: Vec<(String, String)> = Vec::new();
    if let Some(Value::Object(f)) = r.extra.get("fields") {
        for (k, v) in f {
            let v = match v {
                Value::String(s) => s.clone(),
                Value::Null => continue,
                other => other.to_string(),
            };
            if !v.is_empty() {
                values.push((k.clone(), v));
            }
        }
    }
    for f in engine.scan(r.text.as_bytes()) {
        let v = String::from_utf8_lossy(&f.value).to_string();
        if !values.iter().any(|(_, x)| *x == v) {
            values.push((engine.rules[f.rule].spec.id.clone(), v));
        }
    }
    values
}
