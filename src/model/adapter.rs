//! PEFT LoRA adapters (`--adapter DIR`): `adapter_config.json` and
//! `adapter_model.safetensors` as `peft`'s `save_pretrained` writes them. Each adapted
//! linear layer W [out, in] becomes W + s·B A with A = `lora_A` [r, in], B = `lora_B`
//! [out, r] and s = α/r (α/√r with `use_rslora`), α and r per module from
//! `alpha_pattern` / `rank_pattern`. Other tensors in the file (trained biases with
//! `bias: "all"` or `"lora_only"`, `modules_to_save`) replace the base model's tensor of
//! the same name. Every tensor of the adapter must land in the model, or loading fails.
//!
//! The update is merged into the dense weight at load, so scoring costs nothing extra;
//! where a layer also keeps GGUF quantized blocks for generation steps, the update runs
//! beside them as a low-rank side path (`nn::LowRank`), so both paths read the adapted
//! weight.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use tch::{Kind, Tensor};

use super::safetensors::SafetensorsFiles;
use crate::error::{Error, IoContext, Result};

/// PEFT types memscan applies.
pub const SUPPORTED: &str = "LORA";

/// One adapted layer's update, on the CPU in f32.
pub struct Update {
    /// A [r, in].
    pub a: Tensor,
    /// s·B [out, r] (the scale folded in).
    pub b: Tensor,
}

impl Update {
    /// s·B A [out, in].
    pub fn delta(&self) -> Result<Tensor> {
        Ok(self.b.f_matmul(&self.a)?)
    }
}

/// An adapter folder, read and checked.
pub struct Adapter {
    config_path: PathBuf,
    weights_path: PathBuf,
    /// Adapted layer (Hugging Face module name, e.g. `model.layers.0.self_attn.q_proj`)
    /// → its update.
    updates: BTreeMap<String, Update>,
    /// Tensor name → replacement (trained biases, modules_to_save).
    replacements: BTreeMap<String, Tensor>,
    /// Names applied so far (modules and replaced tensors).
    used: RefCell<BTreeSet<String>>,
}

/// The LoRA settings of adapter_config.json.
struct LoraConfig {
    r: f64,
    alpha: f64,
    rslora: bool,
    rank_pattern: Vec<(String, f64)>,
    alpha_pattern: Vec<(String, f64)>,
}

/// Whether module `name` matches a pattern key as peft matches them: the whole name,
/// or its end after a dot, as a regular expression.
fn pattern_matches(key: &str, name: &str) -> bool {
    match regex::Regex::new(&format!(r"^(?:.*\.)?(?:{key})$")) {
        Ok(re) => re.is_match(name),
        Err(_) => name == key || name.ends_with(&format!(".{key}")),
    }
}

impl LoraConfig {
    fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_file(path)?;
        let j: Json = serde_json::from_str(&text)
            .map_err(|e| Error::file(path, format!("invalid JSON ({e})")))?;
        let bad = |msg: String| Error::file(path, msg);
        let peft_type = j.get("peft_type").and_then(Json::as_str).unwrap_or("");
        if peft_type != "LORA" {
            return Err(bad(format!(
                "peft_type \"{peft_type}\" is not supported (supported: {SUPPORTED})"
            )));
        }
        let flag = |k: &str| j.get(k).and_then(Json::as_bool).unwrap_or(false);
        if flag("use_dora") {
            return Err(bad(
                "use_dora: DoRA adapters are not supported (plain LoRA is)".into(),
            ));
        }
        if flag("lora_bias") {
            return Err(bad("lora_bias: a bias on lora_B is not supported".into()));
        }
        let r = j
            .get("r")
            .and_then(Json::as_f64)
            .filter(|r| *r >= 1.0)
            .ok_or_else(|| bad("r must be a positive integer".into()))?;
        let alpha = j
            .get("lora_alpha")
            .and_then(Json::as_f64)
            .ok_or_else(|| bad("lora_alpha is missing or not a number".into()))?;
        let bias = j.get("bias").and_then(Json::as_str).unwrap_or("none");
        if !matches!(bias, "none" | "all" | "lora_only") {
            return Err(bad(format!(
                "bias \"{bias}\" is not one of none, all, lora_only"
            )));
        }
        let pattern = |k: &str| -> Result<Vec<(String, f64)>> {
            match j.get(k) {
                None | Some(Json::Null) => Ok(Vec::new()),
                Some(Json::Object(m)) => m
                    .iter()
                    .map(|(key, v)| match v.as_f64() {
                        Some(x) if x > 0.0 => Ok((key.clone(), x)),
                        _ => Err(bad(format!("{k}.{key} must be a positive number"))),
                    })
                    .collect(),
                Some(_) => Err(bad(format!("{k} must be an object"))),
            }
        };
        Ok(LoraConfig {
            r,
            alpha,
            rslora: flag("use_rslora"),
            rank_pattern: pattern("rank_pattern")?,
            alpha_pattern: pattern("alpha_pattern")?,
        })
    }

    /// (rank, scale) of module `name`.
    fn rank_scale(&self, name: &str) -> (f64, f64) {
        let find = |p: &[(String, f64)], default: f64| {
            p.iter()
                .find(|(k, _)| pattern_matches(k, name))
                .map_or(default, |(_, v)| *v)
        };
        let r = find(&self.rank_pattern, self.r);
        let alpha = find(&self.alpha_pattern, self.alpha);
        let scale = if self.rslora {
            alpha / r.sqrt()
        } else {
            alpha / r
        };
        (r, scale)
    }
}

/// `lora_A` / `lora_B` and the module of a tensor name (without `base_model.model.`),
/// with or without an adapter name (`lora_A.default.weight`).
fn lora_part(name: &str) -> Option<(&str, &'static str)> {
    for part in ["lora_A", "lora_B", "lora_embedding_A", "lora_embedding_B"] {
        if let Some(i) = name.find(&format!(".{part}.")) {
            let kind = match part {
                "lora_A" => "A",
                "lora_B" => "B",
                _ => "embedding",
            };
            return Some((&name[..i], kind));
        }
    }
    None
}

impl Adapter {
    /// Reads `dir/adapter_config.json` and `dir/adapter_model.safetensors`.
    pub fn open(dir: &Path) -> Result<Self> {
        if !dir.is_dir() {
            return Err(Error::file(dir, "no such adapter folder"));
        }
        let config_path = dir.join("adapter_config.json");
        if !config_path.is_file() {
            return Err(Error::file(
                &config_path,
                "no such file (a PEFT adapter folder holds adapter_config.json)",
            ));
        }
        let cfg = LoraConfig::read(&config_path)?;
        let weights_path = dir.join("adapter_model.safetensors");
        if !weights_path.is_file() {
            let why = if dir.join("adapter_model.bin").is_file() {
                "no such file (adapter_model.bin is a pickle, which memscan does not load: \
                 save the adapter with safe_serialization=True)"
            } else {
                "no such file (a PEFT adapter folder holds adapter_model.safetensors)"
            };
            return Err(Error::file(&weights_path, why));
        }
        let file = SafetensorsFiles::open(std::slice::from_ref(&weights_path))?;
        let bad = |msg: String| Error::file(&weights_path, msg);
        let mut halves: BTreeMap<String, (Option<Tensor>, Option<Tensor>)> = BTreeMap::new();
        let mut replacements = BTreeMap::new();
        for full in file.names() {
            let name = full
                .strip_prefix("base_model.model.")
                .unwrap_or(&full)
                .to_string();
            let t = file.load(&full)?.f_to_kind(Kind::Float)?;
            match lora_part(&name) {
                Some((_, "embedding")) => {
                    return Err(bad(format!(
                        "{full}: LoRA on embedding layers is not supported (only on linear layers)"
                    )))
                }
                Some((module, half)) => {
                    if t.dim() != 2 {
                        return Err(bad(format!(
                            "{full} is not a matrix (shape {:?})",
                            t.size()
                        )));
                    }
                    let slot = halves.entry(module.to_string()).or_default();
                    if half == "A" {
                        slot.0 = Some(t);
                    } else {
                        slot.1 = Some(t);
                    }
                }
                None => {
                    // a trained bias of an adapted layer is saved under its base layer
                    let name = name
                        .replace(".base_layer.", ".")
                        .replace(".modules_to_save.default.", ".");
                    replacements.insert(name, t);
                }
            }
        }
        let mut updates = BTreeMap::new();
        for (module, (a, b)) in halves {
            let (Some(a), Some(b)) = (a, b) else {
                return Err(bad(format!("{module} has only one of lora_A and lora_B")));
            };
            let (r, scale) = cfg.rank_scale(&module);
            let (ra, rb) = (a.size()[0], b.size()[1]);
            if ra != rb || ra as f64 != r {
                return Err(bad(format!(
                    "{module}: lora_A has rank {ra} and lora_B rank {rb}, but the config says r = {r}"
                )));
            }
            updates.insert(
                module,
                Update {
                    a,
                    b: b.f_mul_scalar(scale)?,
                },
            );
        }
        if updates.is_empty() {
            return Err(bad("holds no lora_A/lora_B tensors".into()));
        }
        Ok(Adapter {
            config_path,
            weights_path,
            updates,
            replacements,
            used: RefCell::new(BTreeSet::new()),
        })
    }

    /// The update of linear layer `module` (Hugging Face name) [out, in], checked
    /// against the layer's shape; `None` when the adapter leaves it alone.
    pub fn update(&self, module: &str, out_dim: i64, in_dim: i64) -> Result<Option<&Update>> {
        let Some(u) = self.updates.get(module) else {
            return Ok(None);
        };
        let (a_in, b_out) = (u.a.size()[1], u.b.size()[0]);
        if a_in != in_dim || b_out != out_dim {
            return Err(Error::file(
                &self.weights_path,
                format!(
                    "{module}: the update is [{b_out}, {a_in}] but the base layer is [{out_dim}, {in_dim}] \
                     (an adapter for another model?)"
                ),
            ));
        }
        self.used.borrow_mut().insert(module.to_string());
        Ok(Some(u))
    }

    /// The adapter's replacement of tensor `name`, checked against `shape`.
    pub fn replacement(&self, name: &str, shape: &[i64]) -> Result<Option<Tensor>> {
        let Some(t) = self.replacements.get(name) else {
            return Ok(None);
        };
        if t.size() != shape {
            return Err(Error::file(
                &self.weights_path,
                format!(
                    "{name} has shape {:?} but the base model's is {shape:?}",
                    t.size()
                ),
            ));
        }
        self.used.borrow_mut().insert(name.to_string());
        Ok(Some(t.shallow_clone()))
    }

    /// Whether the adapter changes linear layer `module`: an update, or a replacement
    /// of its weight or bias.
    pub fn touches(&self, module: &str) -> bool {
        self.updates.contains_key(module)
            || self.replaces(&format!("{module}.weight"))
            || self.replaces(&format!("{module}.bias"))
    }

    /// Whether the adapter replaces tensor `name` (its quantized blocks are then stale).
    pub fn replaces(&self, name: &str) -> bool {
        self.replacements.contains_key(name)
    }

    /// Fails when a tensor of the adapter matched nothing in the model: an adapter
    /// for another architecture, or a layer memscan does not adapt.
    pub fn check_all_used(&self) -> Result<()> {
        let used = self.used.borrow();
        let unused: Vec<&String> = self
            .updates
            .keys()
            .chain(self.replacements.keys())
            .filter(|n| !used.contains(*n))
            .collect();
        match unused.first() {
            None => Ok(()),
            Some(first) => Err(Error::file(
                &self.weights_path,
                format!(
                    "{} of its tensors match no layer of the base model (first: {first}); \
                     is it an adapter for another model?",
                    unused.len()
                ),
            )),
        }
    }

    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// Adapted layers.
    pub fn n_updates(&self) -> usize {
        self.updates.len()
    }
}
