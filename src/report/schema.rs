//! The report.json types (serde, versioned by `SCHEMA_VERSION`): what a command
//! found, in the form every renderer (Markdown, HTML, SARIF) reads. `kind` says which
//! command wrote the report.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Tool {
    pub fn current() -> Self {
        Tool {
            name: "memscan".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// What every report.json opens with: the schema version, which command wrote it
/// (`kind`), the tool, when, the model and every setting.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    pub schema_version: String,
    /// `scan`, `eval` or `forget-check`.
    pub kind: String,
    pub tool: Tool,
    pub created: String,
    pub model: ModelIdentity,
    pub settings: Map<String, Value>,
}

impl Header {
    /// A header for a report of `kind` written now.
    pub fn new(kind: &str, model: ModelIdentity, settings: Map<String, Value>) -> Self {
        Header {
            schema_version: super::SCHEMA_VERSION.into(),
            kind: kind.into(),
            tool: Tool::current(),
            created: utc_now(),
            model,
            settings,
        }
    }
}

/// The model a report is about.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelIdentity {
    /// What was passed to --model (or the embedded default).
    pub spec: String,
    pub path: String,
    pub format: String,
    pub architecture: String,
    pub n_layers: i64,
    pub tokenizer: String,
    /// SHA-256 of the model file (a folder: of its files' names and hashes).
    pub sha256: String,
    pub device: String,
    pub dtype: String,
}

impl ModelIdentity {
    /// The first 16 hex digits of the hash, for prose.
    pub fn short_hash(&self) -> &str {
        self.sha256.get(..16).unwrap_or(&self.sha256)
    }
}

/// A detector finding as reports carry it (raw value only with --reveal).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FindingItem {
    pub sample_id: String,
    pub rule_id: String,
    pub category: String,
    pub description: String,
    /// Byte offsets in the sample's full text (prompt + continuation).
    pub start: usize,
    pub end: usize,
    pub masked: String,
    pub fingerprint: String,
    pub confidence: f64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub value: Option<String>,
    /// What speaks for the value being memorized rather than merely emitted.
    #[serde(default)]
    pub evidence: FindingEvidence,
    #[serde(default)]
    pub level: Level,
}

/// How far a scan finding or sample is shown to be memorized (`scan::evidence`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// The format only: no evidence of memorization.
    #[default]
    Emitted,
    /// A stated test passed: greedy decoding writes it after two different prompts (and,
    /// with a reference model, the likelihood ratio rejects at the scan's family-wise α).
    LikelyMemorized,
    /// Found in the reference corpus or among the known values (or a verbatim/exact
    /// suffix match).
    Confirmed,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Emitted => "emitted",
            Level::LikelyMemorized => "likely_memorized",
            Level::Confirmed => "confirmed",
        }
    }
}

/// The evidence of one finding; `None` where it could not be measured (e.g. a value
/// that begins in the prompt, no reference model, no reference corpus).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FindingEvidence {
    /// log p(value | text before it) under the target, nats, over `tokens` tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logp: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<usize>,
    /// Greedy decoding from the same context writes the value (every token the argmax).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greedy: Option<bool>,
    /// Mean entropy (bits) of the target's predictive distribution over the value's tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entropy_bits: Option<f64>,
    /// log p(value | text before it) under the reference model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_logp: Option<f64>,
    /// min(1, p_reference / p_target): the likelihood-ratio p-value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio_p: Option<f64>,
    /// Samples of the scan that emitted the same value (fingerprint), and their prompts.
    #[serde(default)]
    pub recurrence: usize,
    #[serde(default)]
    pub recurrence_prompts: usize,
    /// Distinct prompts after which greedy decoding writes the value.
    #[serde(default)]
    pub greedy_prompts: usize,
    /// With `--prefixes-from`: the value is one of the prompt's source document's (the
    /// model gave back a value of the document it was prompted with).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extracted: Option<bool>,
    /// Occurrences of the exact value in the reference corpus, and of the value with the
    /// text before it (up to 24 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corpus_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corpus_count_in_context: Option<u64>,
    /// The fingerprint is among `--known-findings`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known: Option<bool>,
    /// For a format with an issuer's checksum a made-up string rarely passes (GitHub
    /// tokens: CRC-32, passed by chance once in 62⁶): whether the value passes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<bool>,
}

impl FindingEvidence {
    /// The report cell for greedy reproduction: "in place" where the value is one of the
    /// prompt's source document's, else whether greedy decoding writes it.
    pub fn greedy_cell(&self) -> &'static str {
        match (self.extracted, self.greedy) {
            (Some(true), _) => "in place",
            (_, Some(true)) => "yes",
            (_, Some(false)) => "no",
            (_, None) => "–",
        }
    }
}

/// How the signal threshold that flags samples was set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Calibration {
    /// The signal, or "none".
    pub signal: String,
    pub direction: String,
    pub source: String,
    pub n_texts: usize,
    /// The false-positive rate asked for, and the one the calibration set can resolve.
    pub fpr: f64,
    pub achieved_fpr: f64,
    pub threshold: Option<f64>,
    /// The calibration continuations' values of the signal (its null distribution),
    /// drawn against the samples' in the HTML report (schema 3.4).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Histogram {
    pub edges: Vec<f64>,
    pub counts: Vec<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TopItem {
    pub sample_id: String,
    pub value: f64,
    pub group: usize,
}

/// One signal over all samples.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignalSummary {
    pub name: String,
    pub direction: String,
    pub description: String,
    pub n: usize,
    pub mean: Option<f64>,
    pub median: Option<f64>,
    pub histogram: Histogram,
    /// The most member-like samples, one per near-duplicate group.
    pub top: Vec<TopItem>,
}

/// One generated sample in the report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SampleItem {
    pub id: String,
    pub prompt_id: String,
    pub set: String,
    /// Prompt and continuation (secrets and PII masked unless --reveal), the prompt's
    /// length in bytes first.
    pub prompt_bytes: usize,
    pub text: String,
    pub n_new_tokens: usize,
    /// Flagged for a reason (a finding, a verbatim or suffix match, the signal).
    pub flagged: bool,
    /// Level `likely_memorized` or `confirmed`.
    pub memorized: bool,
    /// The highest level of its findings and matches; none when not flagged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    pub reasons: Vec<super::rows::Reason>,
    pub group: usize,
    pub signals: crate::signals::SignalSet,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub longest_match_tokens: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub longest_match_bytes: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub suffix_match_tokens: Option<usize>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ScanSummary {
    pub prompts: usize,
    pub samples: usize,
    pub generated_tokens: usize,
    pub seconds: f64,
    pub tokens_per_second: f64,
    /// Samples flagged for any reason.
    pub flagged: usize,
    /// Samples at level `likely_memorized` or `confirmed`.
    pub memorized: usize,
    /// Samples and findings (and distinct values) per level.
    pub levels: LevelCounts,
    /// The likelihood-ratio test's per-finding level (α / findings tested), when a
    /// reference model made it possible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio_test_level: Option<f64>,
    /// Samples flagged for each reason.
    pub by_reason: ReasonCounts,
    /// Findings by category, and distinct values (fingerprints) by category.
    pub findings: CategoryCounts,
    pub distinct_values: CategoryCounts,
    pub near_duplicate_groups: usize,
    /// Per prompt set: samples and memorized samples.
    pub by_set: std::collections::BTreeMap<String, SetCounts>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub exact_suffix: Option<ExactSuffix>,
}

/// Counts per level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PerLevel {
    pub emitted: usize,
    pub likely_memorized: usize,
    pub confirmed: usize,
}

impl PerLevel {
    pub fn add(&mut self, l: Level) {
        match l {
            Level::Emitted => self.emitted += 1,
            Level::LikelyMemorized => self.likely_memorized += 1,
            Level::Confirmed => self.confirmed += 1,
        }
    }
}

/// Flagged samples, findings and distinct values (per category) by level.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LevelCounts {
    pub samples: PerLevel,
    pub secret_values: PerLevel,
    pub pii_values: PerLevel,
}

/// Samples flagged for each `Reason`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ReasonCounts {
    pub secret: usize,
    pub pii: usize,
    pub verbatim: usize,
    pub suffix: usize,
    pub signal: usize,
}

/// A count per finding category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CategoryCounts {
    pub secret: usize,
    pub pii: usize,
}

impl CategoryCounts {
    /// The count of category `c` ("secret" or "pii").
    pub fn get(&self, c: &str) -> usize {
        match c {
            "secret" => self.secret,
            "pii" => self.pii,
            _ => 0,
        }
    }
}

/// Samples of one prompt set and how many were flagged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SetCounts {
    pub samples: usize,
    pub flagged: usize,
    pub memorized: usize,
}

/// Corpus-prefix samples (--prefixes-from): how many, their mean exact-suffix match,
/// and how many reproduced their document's continuation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ExactSuffix {
    pub samples: usize,
    pub mean_match_tokens: f64,
    pub extracted: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScanReport {
    /// schema_version, kind, tool, created, model, settings: first in every report.
    #[serde(flatten)]
    pub header: Header,
    pub summary: ScanSummary,
    pub calibration: Calibration,
    pub signals: Vec<SignalSummary>,
    pub findings: Vec<FindingItem>,
    pub items: Vec<SampleItem>,
}

/// TPR at one FPR target, with how many non-members back it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TprAtFprItem {
    pub fpr_target: f64,
    pub tpr: f64,
    pub fpr: f64,
    /// ±∞ (written as null) where no threshold reaches the target.
    #[serde(deserialize_with = "nan_if_null")]
    pub threshold: f64,
    pub n_nonmembers: usize,
    pub false_positives: usize,
}

/// The Neyman–Pearson test at false-positive rate α and what a hit there means.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NeymanPearson {
    pub alpha: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub threshold: f64,
    pub tpr: f64,
    pub fpr: f64,
    pub prior: f64,
    /// P(member | score beyond the threshold) under the prior.
    #[serde(deserialize_with = "nan_if_null")]
    pub posterior: f64,
}

/// How well one signal separates members from non-members.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignalEval {
    pub name: String,
    pub direction: String,
    pub auc: Option<f64>,
    pub auc_ci: Option<[f64; 2]>,
    /// Area under the precision–recall curve (average precision; chance = the members'
    /// share).
    #[serde(default)]
    pub pr_auc: Option<f64>,
    /// FPR at the first threshold where TPR reaches 95%.
    #[serde(default)]
    pub fpr_at_95_tpr: Option<f64>,
    pub tpr_at_fpr: Vec<TprAtFprItem>,
    pub neyman_pearson: NeymanPearson,
    pub best_balanced_accuracy: f64,
    /// The ROC curve as [fpr, tpr] points (thinned to at most a few hundred).
    pub roc: Vec<[f64; 2]>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Audit {
    pub claimed_epsilon: f64,
    pub delta: f64,
    pub confidence: f64,
    /// The largest ε lower bound over signals and thresholds, and where it was found.
    pub epsilon_lower_bound: f64,
    pub signal: String,
    #[serde(deserialize_with = "nan_if_null")]
    pub threshold: f64,
    pub tpr: f64,
    pub fpr: f64,
    pub tpr_lower: f64,
    pub fpr_upper: f64,
    pub contradicted: bool,
    pub verdict: String,
    pub max_advantage_cap: f64,
    pub max_accuracy_cap: f64,
    pub observed_advantage: f64,
    pub observed_balanced_accuracy: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CanaryExposure {
    pub id: String,
    /// Fields of the canary record other than id/text/format (e.g. insertions).
    pub extra: Map<String, Value>,
    pub format: String,
    pub space_size: f64,
    /// "exact" (every candidate ranked) or "estimated" (normal fit to a sample).
    pub method: String,
    pub candidates_scored: usize,
    pub rank: Option<u64>,
    pub exposure: f64,
    /// Total negative log-likelihood of the canary text (nats).
    pub nll: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EvalReport {
    /// schema_version, kind, tool, created, model, settings: first in every report.
    #[serde(flatten)]
    pub header: Header,
    pub members: usize,
    pub nonmembers: usize,
    pub signals: Vec<SignalEval>,
    /// A classifier of the texts alone, without the model (`blind`): how far the split
    /// itself separates members from non-members.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub blind_baseline: Option<BlindBaseline>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub audit: Option<Audit>,
    /// Members as the suspect set, non-members as the validation set: would dataset
    /// inference call the suspect set used?
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dataset_inference: Option<DatasetInference>,
    /// Unlearning: MUSE's PrivLeak, with a retrained model or its AUC.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub privleak: Option<PrivLeak>,
    /// Unlearning: TOFU's forget quality (`--forget-qa`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub forget_quality: Option<ForgetQuality>,
    /// Unlearning: MUSE's VerbMem (`--verbmem`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub verbmem: Option<VerbMem>,
    pub canaries: Vec<CanaryExposure>,
}

/// MUSE's PrivLeak (Shi et al. 2024): (AUC − AUC_retrain) / AUC_retrain · 100.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PrivLeak {
    /// The attack whose AUCs are compared (MUSE: Min-K% Prob at k = 40).
    pub attack: String,
    pub auc: f64,
    pub auc_retrain: f64,
    pub retrain_source: String,
    pub privleak_percent: f64,
    pub reading: String,
}

/// TOFU's forget quality (Maini et al. 2024): the KS test of the forget set's truth
/// ratios on the target against those on a model retrained without the forget set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ForgetQuality {
    pub method: String,
    /// How each question and answer were joined into one text.
    pub template: String,
    pub questions: usize,
    pub target: TruthRatios,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub retrain: Option<TruthRatios>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ks_statistic: Option<f64>,
    /// The KS test's p-value: high = indistinguishable from the retrained model.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub forget_quality: Option<f64>,
    /// "exact" or "asymptotic".
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub p_method: Option<String>,
    /// The smallest KS D these sizes can reject at 5% (the test's power limit).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub min_detectable_d: Option<f64>,
    pub reading: String,
}

/// A model's truth ratios R (perturbed over paraphrased answers' per-token
/// probability) over the forget set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TruthRatios {
    pub mean: f64,
    pub median: f64,
    /// TOFU's forget-set "Truth Ratio" figure: mean of min(R, 1/R).
    pub tofu_forget_score: f64,
}

/// MUSE's VerbMem (Shi et al. 2024): ROUGE-L between greedy continuations of each
/// text's opening and the text's true continuation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerbMem {
    pub method: String,
    pub prompt_tokens: usize,
    pub max_new_tokens: usize,
    /// The members (MUSE's forget set).
    pub members: VerbMemSet,
    /// The non-members: what continuing a text never trained on scores.
    pub nonmembers: VerbMemSet,
    /// The members on the retrained model (`--retrain-model`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub retrain_members: Option<VerbMemSet>,
    pub reading: String,
    /// What the three sets are where they are not eval's members, non-members and
    /// retrained model (forget-check: the records, the calibration records, the
    /// reference model on the records). Schema 3.5.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub set_names: Option<[String; 3]>,
}

/// VerbMem over one set of texts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerbMemSet {
    /// Texts long enough for a prompt and a continuation.
    pub texts: usize,
    /// Texts too short (at most `prompt_tokens` tokens), left out.
    pub skipped: usize,
    /// VerbMem: the mean ROUGE-L F1 (× 100 in MUSE's tables).
    pub rouge_l_f1: f64,
    pub rouge_l_recall: f64,
    /// Continuations whose tokens equal the true ones throughout.
    pub exact: usize,
}

/// Dataset inference of an eval's two sets (Maini et al. 2024).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatasetInference {
    pub method: String,
    pub features: Vec<String>,
    /// Texts the regression was fitted on: [suspect, validation].
    pub train: [usize; 2],
    /// Texts the test compared: [suspect, validation].
    pub test: [usize; 2],
    pub t: Option<f64>,
    pub df: Option<f64>,
    pub p_value: Option<f64>,
    /// The p-value on the first n texts of each test half.
    pub p_by_size: Vec<PAtSize>,
    /// The same procedure on two halves of the validation set (should not reject).
    pub null_control_p_value: Option<f64>,
    /// The standardized mean difference the test finds with 80% probability at `alpha`.
    pub min_detectable_effect: Option<f64>,
    pub alpha: f64,
    pub verdict: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PAtSize {
    pub n: usize,
    pub p_value: f64,
}

/// The blind baseline of an eval (Das et al. 2024).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BlindBaseline {
    pub method: String,
    pub auc: Option<f64>,
    pub auc_ci: Option<[f64; 2]>,
    pub tpr_at_1pct_fpr: f64,
    /// The model signal with the highest AUC, and that AUC.
    pub best_attack: String,
    pub best_attack_auc: Option<f64>,
    /// The texts alone tell members from non-members (the CI's lower end is above 0.5).
    pub split_biased: bool,
    /// What the reader should take from it, when the split is biased or the baseline
    /// rivals the attacks.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub warning: Option<String>,
}

/// One statistical test of a record: a personal value against values the model itself
/// would write in its place, or a record signal against non-member records.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ForgetTest {
    /// `value:<field>` or `record:<signal>`.
    pub name: String,
    /// What `value` measures, in words.
    pub statistic: String,
    /// The test statistic of the record (higher = more member-like).
    pub value: Option<f64>,
    /// One-sided p-value from ranks: (1 + null values at least as high) / (n + 1).
    pub p_value: Option<f64>,
    /// Null values drawn.
    pub n_null: usize,
    /// Where the null values come from.
    pub null: String,
    /// The smallest p-value the test could give (1 / (most null values + 1)).
    pub min_p: f64,
    /// The null values' 0, 5, 25, 50, 75, 95 and 100% quantiles.
    pub null_quantiles: Vec<f64>,
    /// p-value at most `level` (and, for a value test with a reference model, the
    /// reference's own p-value above it).
    pub rejected: bool,
    /// Value tests with a same-tokenizer reference model, run when the target's p-value
    /// reaches the level: the same test on the reference. At most `level` means the
    /// value is predictable from its context without the record, and the test does not
    /// reject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_p_value: Option<f64>,
    /// Value tests: sampling stopped once the test could no longer reject.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stopped_early: bool,
    /// Value tests: greedy decoding from the context writes the true value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greedy: Option<bool>,
    /// Value tests: mean entropy (bits) of the target's distribution over the value's tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entropy_bits: Option<f64>,
    /// The level this test is held to (its share of α).
    pub level: f64,
}

impl ForgetTest {
    /// Whether the row is a test: a value test without a reference model is reported
    /// with level 0 (descriptive only) and counts toward no family.
    pub fn is_test(&self) -> bool {
        self.level > 0.0
    }
}

/// Greedy decoding from the record's first `prefix_tokens` tokens, against its true rest
/// (measured teacher-forced: a token is reproduced when it is the model's argmax).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExtractionAttempt {
    pub prefix_tokens: usize,
    pub truth_tokens: usize,
    /// Leading tokens of the greedy continuation equal to the record's true rest.
    pub match_tokens: usize,
    /// The same for the reference model (same tokenizer only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_match_tokens: Option<usize>,
    /// Personal values (field names) inside the reproduced part that the prompt lacked.
    pub values_reproduced: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttributeResult {
    pub field: String,
    pub prompt: String,
    pub candidates: usize,
    pub rank: usize,
    pub exposure: f64,
}

/// What forget-check concludes about one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Prompted with its beginning, the model reproduced the rest or a personal value.
    Extractable,
    /// A value or record test rejected "not trained on" at the family-wise α.
    Memorized,
    /// The tests could have rejected at that level and did not.
    NotDetected,
    /// No test could reach that level (too few null values for the number of tests,
    /// or nothing to test): no statement either way.
    Inconclusive,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Extractable => "extractable",
            Verdict::Memorized => "memorized",
            Verdict::NotDetected => "not_detected",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordResult {
    pub id: String,
    /// The person the record belongs to (`person` in the input): the family of tests
    /// the multiple-testing correction runs over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    pub verdict: Verdict,
    /// What was tested, with what power, and what the verdict does and does not mean.
    pub statement: String,
    pub evidence: Vec<String>,
    pub n_tokens: usize,
    /// Mean negative log-likelihood per token under the target and the reference.
    pub nll_target: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nll_reference: Option<f64>,
    pub tests: Vec<ForgetTest>,
    /// The smallest p-value relative to its level, scaled to α: min over tests of
    /// p · α / level (capped at 1); below α exactly when a test rejected.
    pub p_corrected: Option<f64>,
    pub extraction: Vec<ExtractionAttempt>,
    pub attributes: Vec<AttributeResult>,
}

impl RecordResult {
    /// The longest exact reproduction over the attempts.
    pub fn best_extraction(&self) -> usize {
        self.extraction
            .iter()
            .map(|a| a.match_tokens)
            .max()
            .unwrap_or(0)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ForgetSummary {
    pub records: usize,
    pub extractable: usize,
    pub memorized: usize,
    pub not_detected: usize,
    pub inconclusive: usize,
    /// Tests run over all records.
    pub tests: usize,
    pub statement: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ForgetReport {
    /// schema_version, kind, tool, created, model, settings: first in every report.
    #[serde(flatten)]
    pub header: Header,
    pub summary: ForgetSummary,
    pub records: Vec<RecordResult>,
    /// TOFU's forget quality over `--forget-qa`, the first reference model as the
    /// retained one (schema 3.5).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub forget_quality: Option<ForgetQuality>,
    /// MUSE's VerbMem of the records, beside the calibration records and the first
    /// reference model (`--verbmem`, schema 3.5).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub verbmem: Option<VerbMem>,
}

/// Reads a number that serde_json wrote as null (a non-finite f64) back as NaN, so a
/// report with an unreachable threshold reads back (`memscan report`, `compare`).
fn nan_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Now as an RFC 3339 UTC timestamp (seconds).
pub fn utc_now() -> String {
    let (y, mo, d, h, mi, s) = civil(unix_now());
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// (year, month, day, hour, minute, second) of a Unix time (Hinnant's days-to-civil).
pub fn civil(secs: u64) -> (i64, u32, u32, u32, u32, u32) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        m,
        d,
        (rem / 3600) as u32,
        (rem % 3600 / 60) as u32,
        (rem % 60) as u32,
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates() {
        assert_eq!(super::civil(0), (1970, 1, 1, 0, 0, 0));
        // 2000-02-29T12:34:56Z
        assert_eq!(super::civil(951_827_696), (2000, 2, 29, 12, 34, 56));
        // 2026-11-24T00:00:00Z
        assert_eq!(super::civil(1_795_478_400), (2026, 11, 24, 0, 0, 0));
    }
}

/// `memscan detect --format json`: what was scanned and every finding.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DetectReport {
    pub schema_version: String,
    pub tool: Tool,
    pub rules_loaded: usize,
    pub summary: DetectSummary,
    pub findings: Vec<super::rows::DetectFinding>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DetectSummary {
    pub files_scanned: usize,
    pub bytes_scanned: u64,
    pub binary_files_skipped: Vec<String>,
    pub findings: CategoryCounts,
}
