//! Prompt sets for extraction scans: the built-in sets in prompts/ (embedded in the
//! binary), a user's JSONL file (`id`, `text`, optional `tags`), or prefixes of a
//! corpus's documents with their true continuations (exact-suffix extraction).

use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, IoContext, Result};
use crate::model::tokenizer::Tokenizer;

/// The built-in sets, by name.
pub const BUILTIN: &[(&str, &str)] = &[
    ("empty", include_str!("../prompts/empty.jsonl")),
    ("pii", include_str!("../prompts/pii.jsonl")),
    ("secrets", include_str!("../prompts/secrets.jsonl")),
    ("code", include_str!("../prompts/code.jsonl")),
    ("verbatim", include_str!("../prompts/verbatim.jsonl")),
    ("web", include_str!("../prompts/web.jsonl")),
    ("divergence", include_str!("../prompts/divergence.jsonl")),
];

/// Texts written for this project (so no model was trained on them): the non-member
/// distribution that flag thresholds are calibrated on by default.
pub const CALIBRATION: &str = include_str!("../prompts/calibration.jsonl");

#[derive(Debug, Clone)]
pub struct Prompt {
    pub id: String,
    /// The set's name, or the file it came from.
    pub set: String,
    pub text: String,
    pub tags: Vec<String>,
    /// Token ids to use as they are (corpus prefixes); otherwise `text` is encoded.
    pub ids: Option<Vec<u32>>,
    /// The document's true continuation (corpus prefixes).
    pub truth: Option<Vec<u32>>,
}

#[derive(Deserialize)]
struct Line {
    id: Option<serde_json::Value>,
    text: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
}

fn parse(body: &str, set: &str, origin: &str) -> Result<Vec<Prompt>> {
    let mut out = Vec::new();
    for (i, line) in body.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |why: String| Error::input(format!("{origin}: line {}: {why}", i + 1));
        let l: Line = serde_json::from_str(line).map_err(|e| bad(format!("invalid JSON ({e})")))?;
        let text = l.text.ok_or_else(|| bad("no \"text\" field".into()))?;
        let id = match l.id {
            Some(serde_json::Value::String(s)) => s,
            Some(v) => v.to_string(),
            None => format!("{set}/{}", i + 1),
        };
        out.push(Prompt {
            id,
            set: set.to_string(),
            text,
            tags: l.tags,
            ids: None,
            truth: None,
        });
    }
    if out.is_empty() {
        return Err(Error::input(format!("{origin}: no prompts")));
    }
    Ok(out)
}

/// A built-in set by name, or a JSONL file.
pub fn load(spec: &str) -> Result<Vec<Prompt>> {
    if let Some((name, body)) = BUILTIN.iter().find(|(n, _)| *n == spec) {
        return parse(body, name, &format!("built-in prompt set {name}"));
    }
    let path = Path::new(spec);
    if !path.exists() {
        let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
        return Err(Error::input(format!(
            "--prompts {spec}: neither a built-in set ({}) nor a file",
            names.join(", ")
        )));
    }
    let body = std::fs::read_to_string(path).with_file(path)?;
    let set = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "prompts".into());
    parse(&body, &set, &path.display().to_string())
}

/// The calibration texts shipped with memscan.
pub fn calibration_texts() -> Vec<String> {
    parse(CALIBRATION, "calibration", "built-in calibration set")
        .map(|v| v.into_iter().map(|p| p.text).collect())
        .unwrap_or_default()
}

/// The first `n` tokens of each document (BOS included where the tokenizer adds one)
/// as prompts, with the rest of the document as the truth. Documents of `n` tokens or
/// fewer have no continuation to extract and are skipped.
pub fn prefixes(
    records: &[crate::input::TextRecord],
    tok: &Tokenizer,
    n: usize,
    origin: &Path,
) -> Result<Vec<Prompt>> {
    if n == 0 {
        return Err(Error::input("--prefix-tokens must be at least 1"));
    }
    let mut out = Vec::new();
    for r in records {
        let ids = tok.encode(&r.text)?;
        if ids.len() <= n {
            continue;
        }
        let id = match &r.id {
            serde_json::Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        out.push(Prompt {
            id,
            set: origin.display().to_string(),
            text: tok.decode(&ids[..n]),
            tags: vec!["prefix".into()],
            ids: Some(ids[..n].to_vec()),
            truth: Some(ids[n..].to_vec()),
        });
    }
    if out.is_empty() {
        return Err(Error::file(
            origin,
            format!("no document is longer than --prefix-tokens {n}"),
        ));
    }
    Ok(out)
}
