//! SARIF 2.1.0 output for findings, in the shape GitHub code scanning accepts:
//! one run, the rules that fired under `tool.driver.rules`, one result per finding
//! with a physical location and a partial fingerprint (SHA-256 of the value).

use serde_json::{json, Value};

/// What SARIF needs of one finding.
pub struct SarifResult<'a> {
    pub rule_id: &'a str,
    pub rule_index: usize,
    pub category: &'a str,
    pub message: String,
    /// Path relative to the scan root where possible (a URI reference).
    pub uri: String,
    pub start_line: u64,
    pub start_column: u64,
    pub byte_offset: u64,
    pub byte_length: u64,
    pub fingerprint: String,
    pub confidence: f64,
    /// SARIF `level` (error, warning, note).
    pub level: &'static str,
}

/// The SARIF level of a detector finding in a file: a secret is an error, PII a warning.
pub fn category_level(category: &str) -> &'static str {
    if category == "secret" {
        "error"
    } else {
        "warning"
    }
}

/// A rule that fired.
pub struct SarifRule<'a> {
    pub id: &'a str,
    pub description: &'a str,
    pub category: &'a str,
}

pub fn render(rules: &[SarifRule], results: &[SarifResult]) -> Value {
    let rules: Vec<Value> = rules
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.id,
                "shortDescription": { "text": r.description },
                "fullDescription": { "text": r.description },
                "defaultConfiguration": { "level": category_level(r.category) },
                "properties": { "category": r.category, "tags": ["security", r.category] }
            })
        })
        .collect();
    let results: Vec<Value> = results
        .iter()
        .map(|f| {
            json!({
                "ruleId": f.rule_id,
                "ruleIndex": f.rule_index,
                "level": f.level,
                "message": { "text": f.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": f.uri },
                        "region": {
                            "startLine": f.start_line,
                            "startColumn": f.start_column,
                            "byteOffset": f.byte_offset,
                            "byteLength": f.byte_length
                        }
                    }
                }],
                "partialFingerprints": { "memscanValueSha256/v1": f.fingerprint },
                "properties": { "confidence": f.confidence, "category": f.category }
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "memscan",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules
                }
            },
            "results": results
        }]
    })
}
