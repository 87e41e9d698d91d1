//! Loading and running causal language models with libtorch: resolve what
//! `--model` names, read its config and weights (safetensors or GGUF), build its
//! tokenizer, and run teacher-forced forward passes.

pub mod adapter;
pub mod chat;
pub mod gemma;
pub mod gguf;
pub mod gpt2;
pub mod llama;
pub mod neox;
pub mod nn;
pub mod quant;
pub mod safetensors;
pub mod source;
pub mod spm;
pub mod tokenizer;
pub mod weights;

use std::path::{Path, PathBuf};

use serde::Serialize;
use tch::{Device, Kind, Tensor};

use crate::error::{Error, IoContext, Result};
use source::ModelSource;
use tokenizer::Tokenizer;
use weights::{Backend, Weights};

/// File name of the embedded default model (SmolLM2-135M-Instruct, Q4_1 GGUF).
pub const DEFAULT_MODEL_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// The default `--model`: $MEMSCAN_DEFAULT_MODEL, else the copy that
/// scripts/setup.sh installs into the project's `models/` folder.
pub fn default_model() -> PathBuf {
    if let Ok(p) = std::env::var("MEMSCAN_DEFAULT_MODEL") {
        return PathBuf::from(p);
    }
    Path::new(env!("MEMSCAN_PROJECT_DIR"))
        .join("models")
        .join(DEFAULT_MODEL_FILE)
}

/// What to load and where.
#[derive(Debug, Clone)]
pub struct ModelSpec {
    pub model: String,
    pub device: DeviceChoice,
    /// `None` = f32 on CPU, bf16 on CUDA.
    pub dtype: Option<Precision>,
    /// A PEFT LoRA adapter folder applied on top of the model (`adapter`).
    pub adapter: Option<PathBuf>,
}

/// A required size from config.json: present, and a positive integer (a zero or
/// negative head count or width would only fail deep inside a tensor op).
pub(crate) fn positive(key: &str, v: Option<i64>) -> Result<i64> {
    match v {
        None => Err(Error::input(format!(
            "config.json lacks the integer field {key}"
        ))),
        Some(v) if v <= 0 => Err(Error::input(format!(
            "config.json: {key} = {v} must be a positive integer"
        ))),
        Some(v) => Ok(v),
    }
}

/// Query heads, key/value heads and head width that attention can use: both counts
/// positive, the query heads a multiple of the key/value heads, an even head width.
pub(crate) fn check_heads(heads: i64, kv_heads: i64, head_dim: i64) -> Result<()> {
    if heads <= 0 || kv_heads <= 0 || heads % kv_heads != 0 || head_dim <= 0 || head_dim % 2 != 0 {
        return Err(Error::input(format!(
            "inconsistent attention config: {heads} heads, {kv_heads} key/value heads, head_dim {head_dim}"
        )));
    }
    Ok(())
}

/// Where to run a model. Parsed from text (`auto`, `cpu`, `cuda`, `cuda:N`) at the edge;
/// `resolve` checks it against this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceChoice {
    /// The first CUDA device when there is one, else the CPU.
    Auto,
    Cpu,
    Cuda(usize),
}

impl std::str::FromStr for DeviceChoice {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "auto" => Ok(DeviceChoice::Auto),
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" | "gpu" => Ok(DeviceChoice::Cuda(0)),
            _ => match s.strip_prefix("cuda:").map(str::parse::<usize>) {
                Some(Ok(i)) => Ok(DeviceChoice::Cuda(i)),
                _ => Err("expected auto, cpu, cuda or cuda:N".into()),
            },
        }
    }
}

impl DeviceChoice {
    /// The libtorch device on this machine; an input error when it has no such device.
    pub fn resolve(self) -> Result<Device> {
        match self {
            DeviceChoice::Auto => Ok(if tch::Cuda::is_available() {
                Device::Cuda(0)
            } else {
                Device::Cpu
            }),
            DeviceChoice::Cpu => Ok(Device::Cpu),
            DeviceChoice::Cuda(i) => {
                if !tch::Cuda::is_available() {
                    return Err(Error::input(format!(
                        "device cuda:{i}: CUDA is not available on this machine"
                    )));
                }
                let n = tch::Cuda::device_count() as usize;
                if i >= n {
                    return Err(Error::input(format!(
                        "device cuda:{i}: only {n} CUDA device(s) present"
                    )));
                }
                Ok(Device::Cuda(i))
            }
        }
    }
}

/// The floating-point type a model runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    F32,
    F16,
    BF16,
}

impl std::str::FromStr for Precision {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "f32" | "float32" | "fp32" => Ok(Precision::F32),
            "f16" | "float16" | "fp16" => Ok(Precision::F16),
            "bf16" | "bfloat16" => Ok(Precision::BF16),
            _ => Err("expected f32, f16 or bf16".into()),
        }
    }
}

impl Precision {
    /// The libtorch kind; `None` picks f32 on the CPU and bf16 on CUDA.
    pub fn kind_for(p: Option<Precision>, device: Device) -> Kind {
        match p {
            None if device.is_cuda() => Kind::BFloat16,
            None | Some(Precision::F32) => Kind::Float,
            Some(Precision::F16) => Kind::Half,
            Some(Precision::BF16) => Kind::BFloat16,
        }
    }
}

pub fn dtype_name(k: Kind) -> &'static str {
    match k {
        Kind::Float => "f32",
        Kind::Half => "f16",
        Kind::BFloat16 => "bf16",
        _ => "other",
    }
}

/// What a report says about the model.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    /// What the user passed to --model.
    pub spec: String,
    /// The resolved file or folder.
    pub path: String,
    pub format: String,
    pub architecture: String,
    pub n_layers: i64,
    pub n_heads: i64,
    pub vocab_size: i64,
    pub max_positions: i64,
    pub tokenizer: String,
    pub device: String,
    pub dtype: String,
    /// The LoRA adapter folder applied on top, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adapter: Option<String>,
    /// Tensors, block matrices and layers taken from a model loaded before it from the
    /// same checkpoint (see `weights::share`).
    #[serde(skip)]
    pub shared: usize,
}

/// One transformer family, built from its checkpoint: the forward pass and what a
/// report says of its shape. Each architecture file implements it; `Model` runs
/// whichever was loaded.
pub trait Architecture: Send {
    /// Final hidden states [B, T, D] (after the last norm) for token ids [B, T], and
    /// each layer's attention entropy ([B, T] per layer) when the context asks for it.
    fn forward(
        &self,
        ids: &Tensor,
        ctx: &nn::Context,
        cache: Option<&mut nn::KvCache>,
    ) -> Result<(Tensor, Vec<Tensor>)>;
    /// The output projection [V, D].
    fn lm_head(&self) -> &Tensor;
    /// c where logits are soft-capped to c·tanh(l / c) (Gemma 2).
    fn final_logit_softcap(&self) -> Option<f64> {
        None
    }
    /// LongRoPE's pretraining context: a sequence longer than this is rotated with
    /// other frequencies (Phi-3), so a cache built below it is stale above it.
    fn rope_switch(&self) -> Option<i64> {
        None
    }
    /// Every parameter tensor once (tied weights once), with its transformer layer.
    fn parameters(&self) -> Vec<(Option<usize>, Tensor)>;
    fn shape(&self) -> Shape;
}

/// c·tanh(l / c): Gemma 2's soft cap of its logits, where the model has one.
pub fn softcap(logits: Tensor, cap: Option<f64>) -> Result<Tensor> {
    match cap {
        None => Ok(logits),
        Some(c) => Ok(logits.f_div_scalar(c)?.f_tanh()?.f_mul_scalar(c)?),
    }
}

/// The sizes of a loaded architecture.
pub struct Shape {
    pub name: &'static str,
    pub n_layers: i64,
    pub n_heads: i64,
    pub vocab_size: i64,
    pub max_positions: i64,
    /// Keys each query may see (Mistral's sliding window).
    pub sliding_window: Option<i64>,
}

/// How to recognise a family's checkpoints and build it from them.
struct Family {
    /// `model_type` values of config.json.
    hf_types: &'static [&'static str],
    /// `general.architecture` values of GGUF files.
    gguf_archs: &'static [&'static str],
    /// Hugging Face tensor name → GGUF tensor name.
    gguf_names: weights::GgufNames,
    /// From config.json (its path named in config errors) and the weights.
    from_hf: fn(&serde_json::Value, &Path, &Weights) -> Result<Box<dyn Architecture>>,
    /// From a GGUF file's metadata (`Weights::gguf`) and tensors.
    from_gguf: fn(&Weights) -> Result<Box<dyn Architecture>>,
}

const FAMILIES: &[Family] = &[
    Family {
        hf_types: &["llama", "mistral", "qwen2", "qwen3"],
        gguf_archs: &["llama", "qwen2", "mistral", "qwen3"],
        gguf_names: llama::gguf_name,
        from_hf: llama::Llama::from_hf,
        from_gguf: llama::Llama::from_gguf,
    },
    Family {
        hf_types: &["olmo2"],
        gguf_archs: &["olmo2"],
        gguf_names: llama::gguf_name_olmo2,
        from_hf: llama::Llama::from_hf,
        from_gguf: llama::Llama::from_gguf,
    },
    Family {
        hf_types: &["phi3"],
        gguf_archs: &["phi3"],
        gguf_names: llama::gguf_name_phi3,
        from_hf: llama::Llama::from_hf,
        from_gguf: llama::Llama::from_gguf,
    },
    Family {
        hf_types: &["gemma2", "gemma3_text"],
        gguf_archs: &["gemma2", "gemma3"],
        gguf_names: gemma::gguf_name,
        from_hf: gemma::Gemma::from_hf,
        from_gguf: gemma::Gemma::from_gguf,
    },
    Family {
        hf_types: &["gpt2"],
        gguf_archs: &["gpt2"],
        gguf_names: gpt2::gguf_name,
        from_hf: gpt2::Gpt2::from_hf,
        from_gguf: gpt2::Gpt2::from_gguf,
    },
    Family {
        hf_types: &["gpt_neox"],
        gguf_archs: &["gptneox"],
        gguf_names: neox::gguf_name,
        from_hf: neox::GptNeox::from_hf,
        from_gguf: neox::GptNeox::from_gguf,
    },
];

/// The output of one forward pass.
pub struct Output {
    /// [B, T, D] final hidden states; `LanguageModel::logits` turns them into logits.
    pub hidden: Tensor,
    /// Per layer, when asked for: attention entropy of each query position,
    /// averaged over heads, [B, T] (f32).
    pub attn_entropy: Vec<Tensor>,
}

/// A causal language model that memscan can score and sample from.
pub trait LanguageModel {
    fn info(&self) -> &ModelInfo;
    fn tokenizer(&self) -> &Tokenizer;
    fn device(&self) -> Device;
    /// Teacher-forced pass over ids [B, T]. `padding_mask` [B, T] (1 = token, 0 = pad)
    /// is needed only for left padding: right padding never changes real positions.
    fn forward(
        &self,
        ids: &Tensor,
        padding_mask: Option<&Tensor>,
        want_attention: bool,
    ) -> Result<Output>;
    /// The output projection [V, D]: logits = hidden · lm_headᵀ. Kept apart from
    /// `forward` so callers project only the positions they need, in vocabulary chunks.
    fn lm_head(&self) -> &Tensor;
    /// Next-token logits [.., V] from hidden states [.., D].
    fn logits(&self, hidden: &Tensor) -> Result<Tensor> {
        softcap(
            hidden.f_linear::<Tensor>(self.lm_head(), None)?,
            self.logit_softcap(),
        )
    }
    /// c where the logits are soft-capped (`softcap`); callers that project through
    /// `lm_head` themselves apply it.
    fn logit_softcap(&self) -> Option<f64> {
        None
    }
    /// See `Architecture::rope_switch`: generation recomputes its cache there.
    fn rope_switch(&self) -> Option<i64> {
        None
    }
    /// Every parameter tensor once (tied weights once), with its transformer layer.
    fn parameters(&self) -> Vec<(Option<usize>, Tensor)>;
    /// An empty key/value cache for `forward_cached`.
    fn new_cache(&self) -> nn::KvCache;
    /// Hidden states [B, T, D] of `ids` [B, T] that follow the cached positions;
    /// `full_mask` [B, cached + T] marks real tokens (1) and left padding (0). The
    /// products are the GEMM's, as in `forward` (prompt prefill).
    fn forward_cached(
        &self,
        ids: &Tensor,
        full_mask: &Tensor,
        cache: &mut nn::KvCache,
    ) -> Result<Tensor>;
    /// `forward_cached` for a generation step of a few rows: where the model has
    /// quantized blocks (GGUF on a CPU that runs `quant`'s kernels) its products stream them.
    fn step(&self, ids: &Tensor, full_mask: &Tensor, cache: &mut nn::KvCache) -> Result<Tensor> {
        self.forward_cached(ids, full_mask, cache)
    }
    /// `logits` for a generation step (through the output projection's blocks, where
    /// it has them).
    fn step_logits(&self, hidden: &Tensor) -> Result<Tensor> {
        self.logits(hidden)
    }
    /// Whether `step` runs quantized kernels (generation then keeps libtorch to one
    /// thread, see `generate`).
    fn quantized_steps(&self) -> bool {
        false
    }
}

pub struct Model {
    arch: Box<dyn Architecture>,
    tokenizer: Tokenizer,
    info: ModelInfo,
    device: Device,
    sliding_window: Option<i64>,
    /// The output projection in its quantized blocks (GGUF, CPU f32): generation
    /// steps project through it.
    head_quant: Option<quant::QuantMatrix>,
    /// Whether the layers' weights run the quantized kernels in few-row steps.
    quantized: bool,
}

impl Model {
    fn cached(
        &self,
        ids: &Tensor,
        full_mask: &Tensor,
        cache: &mut nn::KvCache,
        products: nn::Products,
    ) -> Result<Tensor> {
        let ctx =
            nn::Context::with_cache(ids, full_mask, cache.len(), self.sliding_window, products)?;
        let (hidden, _) = self.arch.forward(ids, &ctx, Some(cache))?;
        Ok(hidden)
    }
}

impl LanguageModel for Model {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    fn device(&self) -> Device {
        self.device
    }

    fn forward(
        &self,
        ids: &Tensor,
        padding_mask: Option<&Tensor>,
        want_attention: bool,
    ) -> Result<Output> {
        let mut ctx = nn::Context::new(ids, padding_mask, self.sliding_window)?;
        ctx.want_attention = want_attention;
        let (hidden, attn_entropy) = self.arch.forward(ids, &ctx, None)?;
        Ok(Output {
            hidden,
            attn_entropy,
        })
    }

    fn new_cache(&self) -> nn::KvCache {
        nn::KvCache::new(self.info.n_layers as usize)
    }

    fn forward_cached(
        &self,
        ids: &Tensor,
        full_mask: &Tensor,
        cache: &mut nn::KvCache,
    ) -> Result<Tensor> {
        self.cached(ids, full_mask, cache, nn::Products::Gemm)
    }

    fn step(&self, ids: &Tensor, full_mask: &Tensor, cache: &mut nn::KvCache) -> Result<Tensor> {
        self.cached(ids, full_mask, cache, nn::Products::QuantBlocks)
    }

    fn step_logits(&self, hidden: &Tensor) -> Result<Tensor> {
        match self.head_quant.as_ref().and_then(|q| q.forward(hidden)) {
            Some(l) => softcap(l, self.logit_softcap()),
            None => self.logits(hidden),
        }
    }

    fn logit_softcap(&self) -> Option<f64> {
        self.arch.final_logit_softcap()
    }

    fn rope_switch(&self) -> Option<i64> {
        self.arch.rope_switch()
    }

    fn quantized_steps(&self) -> bool {
        self.quantized
    }

    fn lm_head(&self) -> &Tensor {
        self.arch.lm_head()
    }

    fn parameters(&self) -> Vec<(Option<usize>, Tensor)> {
        self.arch.parameters()
    }
}

/// Only the tokenizer of the model `spec` names (no weights are read).
pub fn load_tokenizer(spec: &str) -> Result<Tokenizer> {
    match source::resolve(spec)? {
        ModelSource::Gguf(path) => {
            let g = gguf::Gguf::open(&path)?;
            Tokenizer::from_gguf(&g).map_err(|e| in_file_once(e, &path))
        }
        ModelSource::HfDir(dir) => Tokenizer::from_file(&dir.join("tokenizer.json")),
    }
}

/// Loads the model `spec` names, ready for inference (no gradients).
pub fn load(spec: &ModelSpec) -> Result<Model> {
    let device = spec.device.resolve()?;
    let kind = Precision::kind_for(spec.dtype, device);
    let source = source::resolve(&spec.model)?;
    let adapter = spec
        .adapter
        .as_deref()
        .map(adapter::Adapter::open)
        .transpose()?;
    let _guard = tch::no_grad_guard();
    let (arch, tokenizer, format, path, head_quant, quantized, shared) = match &source {
        ModelSource::Gguf(path) => {
            let g = gguf::Gguf::open(path)?;
            let head = head_quant(&g, device, kind);
            let (arch, tok, quantized, shared) =
                load_gguf(g, device, kind, adapter).map_err(|e| {
                    // an adapter's errors name the adapter's file already
                    let of_adapter = spec
                        .adapter
                        .as_ref()
                        .is_some_and(|d| e.to_string().contains(&d.display().to_string()));
                    if of_adapter {
                        e
                    } else {
                        in_file_once(e, path)
                    }
                })?;
            (arch, tok, "gguf", path.clone(), head, quantized, shared)
        }
        ModelSource::HfDir(dir) => {
            let (arch, tok, shared) = load_hf(dir, device, kind, adapter)?;
            (arch, tok, "safetensors", dir.clone(), None, false, shared)
        }
    };
    let Shape {
        name: architecture,
        n_layers,
        n_heads,
        vocab_size,
        max_positions,
        sliding_window,
    } = arch.shape();
    let tok_max = tokenizer.vocab_size() as i64;
    if tok_max > vocab_size {
        return Err(Error::file(
            &path,
            format!("the tokenizer has {tok_max} tokens but the model's vocabulary has only {vocab_size}"),
        ));
    }
    let info = ModelInfo {
        spec: spec.model.clone(),
        path: path.display().to_string(),
        format: format.into(),
        architecture: architecture.into(),
        n_layers,
        n_heads,
        vocab_size,
        max_positions,
        tokenizer: tokenizer.identity.clone(),
        device: format!("{device:?}").to_lowercase(),
        dtype: dtype_name(kind).into(),
        adapter: spec.adapter.as_ref().map(|a| a.display().to_string()),
        shared,
    };
    Ok(Model {
        arch,
        tokenizer,
        info,
        device,
        sliding_window,
        head_quant,
        quantized,
    })
}

/// The output projection of a GGUF file (`output.weight`, else the tied
/// `token_embd.weight`) in quantized blocks, where the few-row kernels apply.
fn head_quant(g: &gguf::Gguf, device: Device, kind: Kind) -> Option<quant::QuantMatrix> {
    let name = ["output.weight", "token_embd.weight"]
        .into_iter()
        .find(|n| g.tensors.contains_key(*n))?;
    quant::from_gguf(g, name, device, kind)
}

/// The vocabulary size of a GGUF model: the rows of its token embedding.
fn gguf_vocab(g: &gguf::Gguf) -> Result<i64> {
    g.tensors
        .get("token_embd.weight")
        .and_then(|t| t.shape.first().copied())
        .ok_or_else(|| Error::input("tensor token_embd.weight is missing"))
}

/// Adds the file name to an error that does not name it yet.
pub(crate) fn in_file_once(e: Error, path: &Path) -> Error {
    let shown = path.display().to_string();
    let msg = e.to_string();
    if msg.contains(&shown) {
        e
    } else {
        e.in_file(path)
    }
}

/// The architecture, its tokenizer, whether its layers run the quantized kernels, and
/// how many tensors it shares with a model loaded before.
fn load_gguf(
    g: gguf::Gguf,
    device: Device,
    kind: Kind,
    adapter: Option<adapter::Adapter>,
) -> Result<(Box<dyn Architecture>, Tokenizer, bool, usize)> {
    let tokenizer = Tokenizer::from_gguf(&g)?;
    let arch_name = g.architecture()?.to_string();
    let family = FAMILIES
        .iter()
        .find(|f| f.gguf_archs.contains(&arch_name.as_str()))
        .ok_or_else(|| {
            Error::input(format!(
                "unknown architecture {arch_name} (supported: {})",
                FAMILIES
                    .iter()
                    .flat_map(|f| f.gguf_archs.iter().copied())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
    let path = g.path.clone();
    let w = Weights::new(
        Backend::Gguf {
            file: g,
            names: family.gguf_names,
        },
        device,
        kind,
        &path,
    )
    .with_adapter(adapter);
    let arch = (family.from_gguf)(&w)?;
    w.check_adapter_used()?;
    Ok((arch, tokenizer, w.any_quantized(), w.shared_hits()))
}

fn load_hf(
    dir: &Path,
    device: Device,
    kind: Kind,
    adapter: Option<adapter::Adapter>,
) -> Result<(Box<dyn Architecture>, Tokenizer, usize)> {
    let cfg_path = dir.join("config.json");
    let text = std::fs::read_to_string(&cfg_path).with_file(&cfg_path)?;
    let cfg: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::file(&cfg_path, format!("invalid JSON ({e})")))?;
    let model_type = cfg
        .get("model_type")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    let tok_path = dir.join("tokenizer.json");
    if !tok_path.is_file() {
        return Err(Error::file(
            &tok_path,
            "no such file (the model folder needs tokenizer.json)",
        ));
    }
    let tokenizer = Tokenizer::from_file(&tok_path)?;
    let family = FAMILIES
        .iter()
        .find(|f| f.hf_types.contains(&model_type.as_str()))
        .ok_or_else(|| {
            Error::file(
                &cfg_path,
                format!(
                    "unknown architecture (model_type \"{model_type}\"; supported: {})",
                    FAMILIES
                        .iter()
                        .flat_map(|f| f.hf_types.iter().copied())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
    let files = safetensors::SafetensorsFiles::open_dir(dir)?;
    let first = files.first_path().to_path_buf();
    let w = Weights::new(Backend::Safetensors(files), device, kind, &first).with_adapter(adapter);
    let arch = (family.from_hf)(&cfg, &cfg_path, &w)?;
    w.check_adapter_used()?;
    Ok((arch, tokenizer, w.shared_hits()))
}
