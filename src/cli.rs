//! Command-line types (clap derive). No logic here: `commands/` does the work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "memscan",
    version,
    about = "Measure how much of its training data a language model memorized"
)]
pub struct Cli {
    /// No progress bars or status lines on stderr.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// A TOML file of settings (global flags at the top, one table per command, e.g.
    /// `[scan]`); default: $MEMSCAN_CONFIG, else ./memscan.toml when it exists. The
    /// command line overrides it.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Read no config file.
    #[arg(long, global = true, conflicts_with = "config")]
    pub no_config: bool,
    /// The JSON Lines field that holds each record's text (The Stack: `content`).
    #[arg(long, global = true, value_name = "NAME", default_value = "text")]
    pub text_field: String,
    /// The JSON Lines field that holds each record's id (default: the line number).
    #[arg(long, global = true, value_name = "NAME", default_value = "id")]
    pub id_field: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Score texts for membership: every signal from one teacher-forced pass.
    Score(Box<ScoreArgs>),
    /// Find PII and secrets in files, folders, JSONL or stdin (no model).
    Detect(DetectArgs),
    /// Build or query the suffix-array index used for verbatim-match checks.
    #[command(subcommand)]
    Index(IndexCommand),
    /// Extraction scan: prompt the model, score and check every sample, write a report.
    Scan(Box<ScanArgs>),
    /// Membership evaluation on labelled texts: ROC/AUC per signal, a cross-validated
    /// combined attack, a privacy audit of a claimed ε, canary exposure.
    Eval(Box<EvalArgs>),
    /// Right-to-be-forgotten check: is each record still memorized, or extractable?
    ForgetCheck(Box<ForgetArgs>),
    /// Render a report folder's report.json again as Markdown, HTML or SARIF.
    Report(ReportArgs),
    /// Join the shards of a sharded scan, score, eval, forget-check or index build
    /// (`--shard I/N`, Slurm array tasks) into what one process would have written.
    Merge(MergeArgs),
    /// Compare two report folders of one kind (this release and the last; a model before
    /// and after unlearning): each rate's change with a test, each signal's AUC change,
    /// findings new, gone and kept, the records whose verdict changed.
    Compare(CompareArgs),
    /// The effective settings: `memscan config --show [COMMAND…]` prints each setting of
    /// the command as TOML, from memscan.toml or the default.
    Config(ConfigArgs),
    /// Print a shell completion script (e.g. `memscan completions bash >
    /// ~/.local/share/bash-completion/completions/memscan`).
    Completions(CompletionsArgs),
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// A run's --out folder (holding its shard-* folders), or shard folders.
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Report folder (default: the folder that holds the shards).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// The earlier report folder (or its report.json).
    #[arg(value_name = "A")]
    pub a: PathBuf,
    /// The later report folder, of the same kind.
    #[arg(value_name = "B")]
    pub b: PathBuf,
    /// Folder for compare.json, compare.md and compare.html (default: Markdown to
    /// stdout only).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Family-wise significance level (Holm over every test of the comparison).
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// Exit 1 when B regresses: a leakage rate or an eval AUC significantly higher, a
    /// finding at level likely_memorized or above new in B, or a forget-check record
    /// newly memorized or extractable.
    #[arg(long)]
    pub fail_on_regression: bool,
}

#[derive(Args, Debug)]
pub struct ConfigArgs {
    /// Print the effective settings (the only action).
    #[arg(long)]
    pub show: bool,
    /// The command whose settings to print (e.g. `scan`, `index build`; default: the
    /// global ones and every command the config file names).
    #[arg(value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Subcommand, Debug)]
pub enum IndexCommand {
    /// Build an index over a reference corpus (text files, JSONL `text` fields, folders).
    Build(IndexBuildArgs),
    /// The longest verbatim match of each text in the corpus.
    Query(IndexQueryArgs),
}

#[derive(Args, Debug)]
pub struct IndexBuildArgs {
    /// Corpus files or folders.
    #[arg(long, required = true, num_args = 1..)]
    pub corpus: Vec<PathBuf>,
    /// Index folder to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Also index token ids with this model's tokenizer (a model as for --model).
    #[arg(long)]
    pub tokenizer: Option<String>,
    /// Bytes of corpus per shard (each shard is built in memory: about 9× this).
    #[arg(long, default_value_t = 512)]
    pub shard_mb: usize,
    /// Build only part I of N (0-based) of the index, from every Nth corpus file, into
    /// OUT/shard-I-of-N; `memscan merge OUT` joins the parts into one index. Default: a
    /// Slurm array task's index and count, or a Kubernetes Indexed Job's
    /// JOB_COMPLETION_INDEX with MEMSCAN_SHARD_COUNT; `none` ignores them.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
}

#[derive(Args, Debug)]
pub struct IndexQueryArgs {
    /// Index folder.
    pub index: PathBuf,
    /// Texts: JSONL (`text`, optional `id`) or .txt (one per line).
    #[arg(long, short)]
    pub input: PathBuf,
    /// Where to write one JSON line per text (default: stdout).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Tokenizer for token matches (default: the one the index was built with); must match it.
    #[arg(long)]
    pub tokenizer: Option<String>,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetectFormat {
    Text,
    Json,
    Jsonl,
    Sarif,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    None,
    Secret,
    Pii,
    Any,
}

#[derive(Args, Debug)]
pub struct DetectArgs {
    /// Files, folders (recursive; binary files skipped), JSONL files (the `text` field of
    /// each record) or `-` for stdin.
    #[arg(required_unless_present = "list_rules")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: DetectFormat,
    /// Exit with code 1 when a finding of this category is found.
    #[arg(long, value_enum, default_value = "none")]
    pub fail_on: FailOn,
    /// Rule folder (*.toml) to use instead of the built-in rules; repeatable.
    #[arg(long = "patterns", value_name = "DIR")]
    pub patterns: Vec<PathBuf>,
    /// Rule folder (*.toml) to use in addition to the rules in force; repeatable.
    #[arg(long = "add-patterns", value_name = "DIR")]
    pub add_patterns: Vec<PathBuf>,
    /// Findings below this confidence are not reported.
    #[arg(long, default_value_t = 0.0)]
    pub min_confidence: f64,
    /// Write raw values into the output (they are masked otherwise).
    #[arg(long)]
    pub reveal: bool,
    /// Where to write (default: stdout).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Print the rules in force and exit.
    #[arg(long)]
    pub list_rules: bool,
}

/// Which model to run, where and how.
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// A .gguf file, a Hugging Face folder (config.json, *.safetensors, tokenizer.json)
    /// or a hub id (owner/name[@revision]) from the Hugging Face cache.
    /// Default: the embedded SmolLM2-135M-Instruct.
    #[arg(long, short = 'm')]
    pub model: Option<String>,
    /// auto, cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    pub device: String,
    /// f32, f16 or bf16 (default: f32 on CPU, bf16 on CUDA).
    #[arg(long)]
    pub dtype: Option<String>,
    /// CPU threads for libtorch (default: its own choice, one per core).
    #[arg(long)]
    pub threads: Option<i32>,
    /// A PEFT LoRA adapter folder (adapter_config.json, adapter_model.safetensors) applied
    /// on top of --model.
    #[arg(long, value_name = "DIR")]
    pub adapter: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ScoreArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Texts: JSONL (`text`, optional `id`, other fields carried through) or .txt (one per line).
    #[arg(long, short, required_unless_present = "list_signals")]
    pub input: Option<PathBuf>,
    /// Where to write one JSON line per text (default: stdout).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Score only shard I of N (0-based): --output is then the run's folder, shard I
    /// writes OUTPUT/shard-I-of-N/scores.jsonl, `memscan merge OUTPUT` joins them into
    /// OUTPUT/scores.jsonl. Default: a Slurm array task's index and count, or a
    /// Kubernetes Indexed Job's JOB_COMPLETION_INDEX with MEMSCAN_SHARD_COUNT; `none`
    /// ignores them.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Print every signal's name, direction (which way means member) and definition as
    /// JSON, and exit.
    #[arg(long)]
    pub list_signals: bool,
    /// Texts per forward pass.
    #[arg(long, default_value_t = 8)]
    pub batch_size: usize,
    /// Longest token sequence scored; longer texts are cut (default: the model's context).
    #[arg(long)]
    pub max_tokens: Option<usize>,
    /// Add `tokens`, `token_ids`, `token_logprobs` and the per-token statistics
    /// (`token_confidence`, `token_margin`, `token_entropy`) to each line.
    #[arg(long)]
    pub tokens: bool,
    /// k of Min-K% and Min-K%++, in percent.
    #[arg(long, default_value_t = 20.0)]
    pub min_k: f64,
    /// Only nll_mean, perplexity and zlib_ratio: skips the per-position statistics of the
    /// predictive distribution (the fastest pass).
    #[arg(long)]
    pub basic: bool,
    /// Also score the lowercased text (a second, batched pass) for `lowercase_ratio`.
    #[arg(long)]
    pub lowercase: bool,
    /// A reference model (any supported format, its own tokenizer) for `ref_ratio`;
    /// repeat for several (`ref_ratio` against their mean, `lira` from two, `rmia` with
    /// --population).
    #[arg(long)]
    pub reference_model: Vec<String>,
    /// A PEFT LoRA adapter on a reference model: one per --reference-model, or several on
    /// one --reference-model (each adapter a reference of its own).
    #[arg(long, value_name = "DIR", requires = "reference_model")]
    pub reference_adapter: Vec<PathBuf>,
    /// Attention entropy (`attn_entropy`, `attn_entropy_layers`); uses the explicit-softmax
    /// attention path, slower than the fused one.
    #[arg(long)]
    pub attention: bool,
    /// White-box: gradient norm of each text's mean loss (`grad_norm`, `grad_norm_layers`);
    /// one backward pass per text.
    #[arg(long)]
    pub gradients: bool,
    /// A verbatim index (`memscan index build`): adds each text's longest match in it.
    #[arg(long, value_name = "INDEX")]
    pub reference_corpus: Option<PathBuf>,
    /// Tokens of verbatim overlap that flag a text `verbatim` (bytes ÷ 4 for an index
    /// without tokens).
    #[arg(long, default_value_t = 50)]
    pub verbatim_tokens: usize,
    #[command(flatten)]
    pub attacks: AttackArgs,
}

/// The attacks that need more than the text: a non-member prefix (ReCaLL) and a
/// reference corpus's token frequencies (DC-PDD).
#[derive(Args, Debug, Clone, Default)]
pub struct AttackArgs {
    /// Known non-member texts (JSONL or .txt) for ReCaLL (`recall`): each text is scored
    /// again after them. They must not be among the texts judged.
    #[arg(long, value_name = "FILE")]
    pub recall_prefix: Option<PathBuf>,
    /// Non-member texts in the ReCaLL prefix (the file's last N; default: as many as fit
    /// the context beside an average text).
    #[arg(long, value_name = "N", requires = "recall_prefix")]
    pub recall_shots: Option<usize>,
    /// Known member texts for Con-ReCall (`con_recall`, Wang et al. 2024): each text is
    /// also scored after them, and the non-member prefix's effect is contrasted with
    /// theirs. Needs --recall-prefix; they must not be among the texts judged.
    #[arg(long, value_name = "FILE", requires = "recall_prefix")]
    pub con_recall_members: Option<PathBuf>,
    /// Con-ReCall's weight γ of the member prefix: (LL(x|P_non) − γ·LL(x|P_mem)) / LL(x).
    #[arg(long, default_value_t = 1.0, requires = "con_recall_members")]
    pub con_recall_gamma: f64,
    /// Token frequencies of a reference corpus for DC-PDD (`dc_pdd`): a `memscan index`
    /// built with --tokenizer set to this model, or a file of counts, one per line, line
    /// i for token id i.
    #[arg(long, value_name = "INDEX|FILE")]
    pub token_freq: Option<PathBuf>,
    /// The neighbourhood attack (`neighbourhood`) with N neighbours per text, each the
    /// text with one token replaced by the model's best other token there (N more passes).
    #[arg(long, value_name = "N")]
    pub neighbours: Option<usize>,
    /// Known non-member texts for RMIA (`rmia`): each text's likelihood ratio (target
    /// over the reference models) is compared with theirs. Needs --reference-model.
    #[arg(long, value_name = "FILE", requires = "reference_model")]
    pub population: Option<PathBuf>,
    /// RMIA's offline coefficient a in p(x) ≈ (1+a)/2 · p_reference(x) + (1−a)/2.
    #[arg(long, default_value_t = crate::signals::RMIA_OFFLINE_A, requires = "population")]
    pub rmia_a: f64,
}

/// TOFU's forget quality and MUSE's VerbMem (`eval`, `forget-check`).
#[derive(Args, Debug, Clone)]
pub struct UnlearningArgs {
    /// Unlearning: TOFU-style forget-set questions (JSON Lines with `question`,
    /// `paraphrased_answer` and `perturbed_answer`, as TOFU's `forget*_perturbed`
    /// files): their truth ratios and, with --retrain-model (forget-check: the first
    /// --reference-model), TOFU's forget quality (a KS test against its ratios).
    #[arg(long, value_name = "FILE")]
    pub forget_qa: Option<PathBuf>,
    /// Unlearning: MUSE's VerbMem. Each text's first --verbmem-prompt-tokens tokens are
    /// continued greedily and the continuation compared with the text's own (ROUGE-L
    /// F1), on the members (forget-check: the records), the non-members (forget-check: the
    /// --calibration records) and, given, the retrained model on the members
    /// (forget-check: the first reference model).
    #[arg(long)]
    pub verbmem: bool,
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub verbmem_prompt_tokens: usize,
    /// Most tokens generated, and compared, per text.
    #[arg(long, value_name = "N", default_value_t = 128)]
    pub verbmem_tokens: usize,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanFailOn {
    None,
    /// A secret-shaped value emitted (any level).
    Secret,
    /// A PII-shaped value emitted (any level).
    Pii,
    /// A verbatim match with the reference corpus, or an exact document suffix.
    Verbatim,
    /// A sample flagged for any reason (what `memorized` meant before report schema 3.0).
    Flagged,
    /// A sample at level `likely_memorized` or `confirmed`.
    Memorized,
    /// A sample at level `confirmed`.
    Confirmed,
}

#[derive(Args, Debug)]
pub struct ScanArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Prompt set: a built-in name (empty, pii, secrets, code, verbatim, web, divergence) or
    /// a JSONL file (`id`, `text`, `tags`); repeatable. Default: all built-in sets (none
    /// with --prefixes-from).
    #[arg(long, value_name = "NAME|FILE")]
    pub prompts: Vec<String>,
    /// Wrap each prompt in the model's chat template as a user turn.
    #[arg(long)]
    pub chat: bool,
    /// Prompts from the first --prefix-tokens tokens of each document of this JSONL/.txt
    /// corpus; the rest of the document is the truth its continuation is matched against.
    #[arg(long, value_name = "CORPUS")]
    pub prefixes_from: Option<PathBuf>,
    /// Prompt length for --prefixes-from, in tokens.
    #[arg(long, default_value_t = 32)]
    pub prefix_tokens: usize,
    /// Samples drawn per prompt.
    #[arg(long, default_value_t = 1)]
    pub samples_per_prompt: usize,
    /// New tokens per sample.
    #[arg(long, default_value_t = 64)]
    pub max_new_tokens: usize,
    /// Sampling temperature (0 = greedy).
    #[arg(long, default_value_t = 1.0)]
    pub temperature: f64,
    /// Greedy decoding (same as --temperature 0).
    #[arg(long)]
    pub greedy: bool,
    /// Top-k sampling (0 = off).
    #[arg(long, default_value_t = 40)]
    pub top_k: i64,
    /// Nucleus sampling mass (1 = off).
    #[arg(long, default_value_t = 1.0)]
    pub top_p: f64,
    /// START:TOKENS — sample the first TOKENS tokens at temperature START, decaying
    /// linearly to --temperature (e.g. 10:20).
    #[arg(long, value_name = "START:TOKENS")]
    pub temperature_decay: Option<String>,
    /// Seed: the same seed and settings give the same samples.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Samples generated together.
    #[arg(long, default_value_t = 8)]
    pub batch_size: usize,
    /// k of Min-K% and Min-K%++, in percent.
    #[arg(long, default_value_t = 20.0)]
    pub min_k: f64,
    /// A reference model that never saw the training data (for a fine-tune, its base):
    /// `ref_ratio`, and each finding's likelihood-ratio test (`likely_memorized`).
    /// Repeat for several: `ref_ratio` against their mean, `lira` (two or more) and
    /// `rmia` (with --population) as flag signals; the first tests the findings.
    #[arg(long)]
    pub reference_model: Vec<String>,
    /// A PEFT LoRA adapter on a reference model: one per --reference-model, or several on
    /// one --reference-model (each adapter a reference of its own, sharing the base).
    #[arg(long, value_name = "DIR", requires = "reference_model")]
    pub reference_adapter: Vec<PathBuf>,
    /// Attention entropy of each sample (explicit-softmax attention; slower).
    #[arg(long)]
    pub attention: bool,
    /// A verbatim index of the training data (`memscan index build`): each sample's
    /// longest match in it, and each finding confirmed (value in it) or refuted (not).
    #[arg(long, value_name = "INDEX")]
    pub reference_corpus: Option<PathBuf>,
    /// Tokens of verbatim overlap (or of exact suffix with --prefixes-from) that flag a
    /// sample.
    #[arg(long, default_value_t = 50)]
    pub verbatim_tokens: usize,
    /// Non-member texts (JSONL/.txt) to calibrate the signal threshold on (default: the
    /// built-in calibration set written for memscan).
    #[arg(long)]
    pub calibration: Option<PathBuf>,
    /// The signal whose calibrated threshold flags a sample memorized (`none` to flag on
    /// findings and verbatim matches only).
    #[arg(long, default_value = "min_k_pp")]
    pub flag_signal: String,
    /// Token frequencies of a reference corpus (a `memscan index` built with this
    /// model's tokenizer, or a counts file, one per line): `dc_pdd` for every sample,
    /// so that `--flag-signal dc_pdd` can flag on it.
    #[arg(long, value_name = "INDEX|FILE")]
    pub token_freq: Option<PathBuf>,
    /// Known non-member texts for RMIA (`--flag-signal rmia`): each sample's likelihood
    /// ratio (target over the reference models) is compared with theirs.
    #[arg(long, value_name = "FILE", requires = "reference_model")]
    pub population: Option<PathBuf>,
    /// RMIA's offline coefficient a in p(x) ≈ (1+a)/2 · p_reference(x) + (1−a)/2.
    #[arg(long, default_value_t = crate::signals::RMIA_OFFLINE_A, requires = "population")]
    pub rmia_a: f64,
    /// False-positive rate on the calibration texts at which the threshold is set.
    #[arg(long, default_value_t = 0.01)]
    pub flag_fpr: f64,
    /// Jaccard similarity (character 5-grams) at which samples count as near-duplicates.
    #[arg(long, default_value_t = 0.7)]
    pub dedup_threshold: f64,
    /// Samples listed per signal in the report.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Rule folder (*.toml) to use instead of the built-in detector rules; repeatable.
    #[arg(long = "patterns", value_name = "DIR")]
    pub patterns: Vec<PathBuf>,
    /// Rule folder (*.toml) to add to the detector rules; repeatable.
    #[arg(long = "add-patterns", value_name = "DIR")]
    pub add_patterns: Vec<PathBuf>,
    /// Report folder (default: reports/<model>-<UTC time>; an unfinished scan there with
    /// the same settings is resumed).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run only shard I of N (0-based) of this run into OUT/shard-I-of-N; `memscan merge
    /// OUT` joins the N shards. Default: a Slurm array task's index and count, or a
    /// Kubernetes Indexed Job's JOB_COMPLETION_INDEX with MEMSCAN_SHARD_COUNT; `none`
    /// ignores them.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Fingerprints of values known to be in the training data: `memscan detect
    /// --format jsonl` (or json) output over the training data, or one SHA-256 per line.
    /// A finding with one of them is `confirmed`, without sharing raw values.
    #[arg(long, value_name = "FILE")]
    pub known_findings: Option<PathBuf>,
    /// Family-wise error rate of the likelihood-ratio test (with --reference-model) over
    /// all findings of the scan (Bonferroni).
    #[arg(long, default_value_t = 0.01)]
    pub alpha: f64,
    /// Exit with code 1 when a sample has this: secret, pii (any level), verbatim,
    /// flagged (any reason), memorized (likely_memorized or confirmed), confirmed.
    #[arg(long, value_enum, default_value = "none")]
    pub fail_on: ScanFailOn,
    /// Write raw secret and PII values (masked otherwise).
    #[arg(long)]
    pub reveal: bool,
}

pub use crate::report::folder::ReportFormat;

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// A report folder (holding report.json) or a report.json file.
    pub dir: PathBuf,
    /// Formats to render; repeatable (default: all that apply).
    #[arg(long, value_enum)]
    pub format: Vec<ReportFormat>,
    /// Write to this file (`-` = stdout) instead of DIR/report.<ext>; one format only.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Texts the model was trained on (JSONL/.txt). For dataset inference: the suspect
    /// set (`--suspect`), whose use in training is in question.
    #[arg(long, visible_alias = "suspect")]
    pub members: PathBuf,
    /// Texts of the same distribution it was not trained on (JSONL/.txt). For dataset
    /// inference: the validation set (`--validation`), surely unseen.
    #[arg(long, visible_alias = "validation")]
    pub nonmembers: PathBuf,
    /// A reference model for `ref_ratio`; repeat for several (`ref_ratio` against their
    /// mean, `lira` from two, `rmia` with --population).
    #[arg(long)]
    pub reference_model: Vec<String>,
    /// A PEFT LoRA adapter on a reference model: one per --reference-model, or several on
    /// one --reference-model (each adapter a reference of its own).
    #[arg(long, value_name = "DIR", requires = "reference_model")]
    pub reference_adapter: Vec<PathBuf>,
    /// Unlearning: a model retrained without the members (the forget set). Its Min-K%
    /// AUC on the same texts is the baseline of MUSE's PrivLeak (use --min-k 40 for
    /// MUSE's setting).
    #[arg(long, value_name = "MODEL", conflicts_with = "retrain_auc")]
    pub retrain_model: Option<String>,
    /// A PEFT LoRA adapter on the retrained model.
    #[arg(long, value_name = "DIR", requires = "retrain_model")]
    pub retrain_adapter: Option<PathBuf>,
    /// Unlearning: the retrained model's Min-K% AUC on these sets when it is known but the
    /// model is not at hand (MUSE publishes its own).
    #[arg(long, value_name = "AUC")]
    pub retrain_auc: Option<f64>,
    #[command(flatten)]
    pub unlearning: UnlearningArgs,
    /// Canaries (JSONL: `id`, `text`, `format` such as "my SSN is {ddd}-{dd}-{dddd}") whose
    /// exposure to compute; `{…}` groups of d (digit), x (hex), a (a–z), A (A–Z), n (a–z0–9).
    #[arg(long)]
    pub canaries: Option<PathBuf>,
    /// Candidate spaces up to this size are enumerated (exact rank); larger ones sampled.
    #[arg(long, default_value_t = 10_000)]
    pub max_exact: u64,
    /// Candidates sampled per canary for the estimated exposure of a large space.
    #[arg(long, default_value_t = 1000)]
    pub exposure_samples: usize,
    /// ε claimed for the training (privacy audit).
    #[arg(long)]
    pub claimed_epsilon: Option<f64>,
    /// δ of the claim.
    #[arg(long, default_value_t = 1e-5)]
    pub delta: f64,
    /// Prior P(member) for the posterior.
    #[arg(long, default_value_t = 0.5)]
    pub prior: f64,
    /// False-positive rate of the Neyman–Pearson threshold.
    #[arg(long, default_value_t = 0.01)]
    pub alpha: f64,
    /// Bootstrap rounds for the AUC interval.
    #[arg(long, default_value_t = 1000)]
    pub bootstrap: usize,
    /// Seed of the bootstrap, the cross-validation folds and the candidate sampling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Texts per forward pass.
    #[arg(long, default_value_t = 8)]
    pub batch_size: usize,
    /// k of Min-K% and Min-K%++, in percent.
    #[arg(long, default_value_t = 20.0)]
    pub min_k: f64,
    /// Report folder (default: reports/<model>-eval-<UTC time>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run only shard I of N (0-based) of this run into OUT/shard-I-of-N; `memscan merge
    /// OUT` joins the N shards. Default: a Slurm array task's index and count, or a
    /// Kubernetes Indexed Job's JOB_COMPLETION_INDEX with MEMSCAN_SHARD_COUNT; `none`
    /// ignores them.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    #[command(flatten)]
    pub attacks: AttackArgs,
}

#[derive(Args, Debug)]
pub struct ForgetArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// The records to check: JSONL with `id`, `text`, optional `fields` (e.g.
    /// {"name": …, "email": …}) and optional `person` (records of one person share it).
    #[arg(long)]
    pub records: PathBuf,
    /// A reference model that never saw the records (for a LoRA fine-tune, its base
    /// model; for an unlearning check, a model of similar strength). Value tests need
    /// one that shares the target's tokenizer: a value the target prefers to its own
    /// samples counts only if the reference, tested the same way, does not (else the
    /// value is predictable from its context). Extraction must beat the reference's.
    /// Repeat for several (the first controls the value tests and the extraction): the
    /// record test can then use `ref_ratio` against their mean, `lira` (two or more)
    /// or `rmia` (with --population).
    #[arg(long)]
    pub reference_model: Vec<String>,
    /// A PEFT LoRA adapter on a reference model: one per --reference-model, or several on
    /// one --reference-model (each adapter a reference of its own, sharing the base).
    #[arg(long, value_name = "DIR", requires = "reference_model")]
    pub reference_adapter: Vec<PathBuf>,
    /// Non-member records of the same kind (e.g. written after the model was trained):
    /// adds record tests that rank each record's signals among theirs.
    #[arg(long)]
    pub calibration: Option<PathBuf>,
    /// The record test's signal (with --calibration; default `ref_ratio` with a reference
    /// model, else `min_k_pp`): any one-pass signal (see `memscan score`), `ref_ratio`,
    /// or an attack whose input is given: `recall` (--recall-prefix), `dc_pdd`
    /// (--token-freq), `neighbourhood` (--neighbours). One test per record, so that the
    /// level is not split among correlated ones.
    #[arg(long, value_name = "SIGNAL", requires = "calibration")]
    pub record_signal: Option<String>,
    #[command(flatten)]
    pub attacks: AttackArgs,
    #[command(flatten)]
    pub unlearning: UnlearningArgs,
    /// Family-wise error rate per person: every test of a person's records (records
    /// sharing `person`, else the whole file) is held to α / (their number of tests).
    #[arg(long, default_value_t = 0.01)]
    pub alpha: f64,
    /// Prompt lengths (tokens of the record) for the greedy extraction attempts.
    #[arg(long, value_delimiter = ',', default_value = "8,16,32")]
    pub prefix_tokens: Vec<usize>,
    /// Leading tokens of the true rest reproduced exactly that make a record extractable
    /// (or the whole of a shorter rest of at least 8 tokens that holds a personal value).
    #[arg(long, default_value_t = 50)]
    pub extract_tokens: usize,
    /// Most values the model samples per value test (fewer when the test level needs
    /// fewer, or when the test can no longer reject).
    #[arg(long, default_value_t = 4000)]
    pub candidates: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Texts per forward pass.
    #[arg(long, default_value_t = 8)]
    pub batch_size: usize,
    /// Report folder (default: reports/<model>-forget-<UTC time>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Check only shard I of N (0-based) of the records into OUT/shard-I-of-N; `memscan
    /// merge OUT` joins the N shards. Default: a Slurm array task's index and count, or a
    /// Kubernetes Indexed Job's JOB_COMPLETION_INDEX with MEMSCAN_SHARD_COUNT; `none`
    /// ignores them.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Write raw personal values into the report (masked otherwise).
    #[arg(long)]
    pub reveal: bool,
}
