//! The scan stage: batches of (prompt, sample) units → samples → report. Built from a
//! validated `ScanConfig` (commands/scan.rs turns the flags into it); nothing here
//! reads a flag.
//!
//! - `state`: the run's folder: settings fingerprint, run.json claim, resume of
//!   samples.jsonl, per-batch seeds;
//! - `calibrate`: the null distribution and threshold of the signal flag;
//! - `batch`: one batch generated, scored, checked and flagged → `SampleRow`s;
//! - `evidence`: per finding, what speaks for memorization; levels over the scan;
//! - `summary`: samples.jsonl rows → the scan report.

pub mod batch;
pub mod calibrate;
pub mod evidence;
pub mod state;
pub mod summary;

use std::path::PathBuf;

use crate::signals::SignalDef;

/// What the scan stages need to know of the settings, validated.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    /// k of Min-K% and Min-K%++, in percent (0, 100].
    pub min_k: f64,
    /// Tokens of verbatim overlap (or exact suffix) that flag a sample.
    pub verbatim_tokens: usize,
    pub max_new_tokens: usize,
    /// Samples generated together (≥ 1).
    pub batch_size: usize,
    pub seed: u64,
    /// Keep raw secret and PII values in samples and reports.
    pub reveal: bool,
    /// The signal whose calibrated threshold flags a sample; `None`: no signal flag.
    pub flag: Option<&'static SignalDef>,
    /// False-positive rate of the flag threshold on the calibration set, (0, 1).
    pub flag_fpr: f64,
    /// Non-member texts for the calibration (default: the built-in set).
    pub calibration: Option<PathBuf>,
}

/// What the report is made with from the samples (none of it changes a sample, so a
/// resumed or merged run may differ in these): `summary` reads only these.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Jaccard similarity at which samples are near-duplicates, (0, 1].
    pub dedup_threshold: f64,
    /// Top samples listed per signal.
    pub top: usize,
    /// Family-wise error rate of the likelihood-ratio test over the scan's findings.
    pub alpha: f64,
    /// Fingerprints of values known to be in the training data (`--known-findings`).
    pub known: Option<std::collections::HashSet<String>>,
}

fn json_err(e: serde_json::Error) -> crate::error::Error {
    crate::error::Error::internal(format!("JSON: {e}"))
}
