//! The line formats that commands stream: one `score` output line per text, and one
//! scan sample per line of samples.jsonl. These types are the formats: commands
//! write them and read them back (scan resume, the scan report) through serde, so a
//! renamed field is a compile error, not a silent zero.

use serde::{Deserialize, Serialize};

use super::schema::FindingItem;
use crate::signals::SignalSet;

/// Why a scan sample is flagged memorized, in the order reports count them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reason {
    /// A secret among the detector findings of the continuation.
    Secret,
    /// PII among the detector findings of the continuation.
    Pii,
    /// A verbatim match with the reference corpus of at least --verbatim-tokens.
    Verbatim,
    /// The document's true continuation reproduced (--prefixes-from).
    Suffix,
    /// The flag signal beyond its calibrated threshold.
    Signal,
}

impl Reason {
    /// "secret, pii", as reports print a sample's reasons.
    pub fn join(reasons: &[Reason]) -> String {
        reasons
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Secret => "secret",
            Reason::Pii => "pii",
            Reason::Verbatim => "verbatim",
            Reason::Suffix => "suffix",
            Reason::Signal => "signal",
        }
    }
}

/// One line of a scan's samples.jsonl.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SampleRow {
    /// The batch the sample was generated in (its seed derives from it).
    pub batch: usize,
    /// `<prompt id>#<sample number>`.
    pub id: String,
    pub prompt_id: String,
    pub set: String,
    pub tags: Vec<String>,
    pub sample: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longest_match_bytes: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longest_match_tokens: Option<usize>,
    /// Leading tokens of the continuation equal to the document's (--prefixes-from).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix_match_tokens: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truth_tokens: Option<usize>,
    /// Bytes of `text` that are the prompt.
    pub prompt_bytes: usize,
    /// Prompt and continuation, findings masked unless --reveal.
    pub text: String,
    pub n_new_tokens: usize,
    /// Generation ended at the end-of-sequence token.
    pub stopped: bool,
    /// The continuation's signals given the prompt.
    pub signals: SignalSet,
    /// Each with the evidence measurable within the sample (recurrence, known values
    /// and levels are set over the whole scan, in report.json).
    pub findings: Vec<FindingItem>,
    /// Flagged for a reason (earlier versions called this `memorized`).
    #[serde(alias = "memorized")]
    pub flagged: bool,
    pub reasons: Vec<Reason>,
}

/// Per-token detail of a `score --tokens` line.
#[derive(Debug, Clone, Serialize)]
pub struct TokenDetail {
    pub token_ids: Vec<u32>,
    pub tokens: Vec<String>,
    pub token_logprobs: Vec<f32>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<TokenDistribution>,
}

/// Per-token statistics of the predictive distribution.
#[derive(Debug, Clone, Serialize)]
pub struct TokenDistribution {
    pub token_confidence: Vec<f32>,
    pub token_margin: Vec<f32>,
    pub token_entropy: Vec<f32>,
    pub token_mu: Vec<f32>,
    pub token_sigma: Vec<f32>,
}

/// What `score` writes for one text after its id and carried fields.
#[derive(Debug, Clone, Serialize)]
pub struct ScoreLine {
    pub n_tokens: usize,
    #[serde(flatten)]
    pub signals: SignalSet,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longest_match_bytes: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longest_match_tokens: Option<usize>,
    /// The longest match reaches --verbatim-tokens (with --reference-corpus).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verbatim: Option<bool>,
    /// The text was cut to the model's context.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<TokenDetail>,
}

/// One finding of `memscan detect` (a `--format jsonl` line; `--format json` lists them).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DetectFinding {
    pub rule_id: String,
    pub category: String,
    pub path: String,
    /// The JSONL record's id, for findings in a record's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<serde_json::Value>,
    pub line: u64,
    pub column: u64,
    /// Byte offsets in the file (in the record's text for JSONL input).
    pub start: usize,
    pub end: usize,
    pub masked: String,
    /// SHA-256 of the raw value.
    pub fingerprint: String,
    pub confidence: f64,
    /// The raw value, with --reveal only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}
