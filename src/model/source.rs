//! Resolves what `--model` names into files on disk: a GGUF file, a Hugging Face
//! folder, or a hub id looked up in the Hugging Face cache (HF_HUB_CACHE, HF_HOME)
//! and downloaded unless HF_HUB_OFFLINE is set. Pickled checkpoints are refused.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub enum ModelSource {
    Gguf(PathBuf),
    /// A folder holding config.json, *.safetensors and tokenizer.json.
    HfDir(PathBuf),
}

impl ModelSource {
    pub fn path(&self) -> &Path {
        match self {
            ModelSource::Gguf(p) | ModelSource::HfDir(p) => p,
        }
    }
}

const PICKLE_EXTS: [&str; 5] = ["bin", "pt", "pth", "ckpt", "pkl"];

fn pickle_error(path: &Path) -> Error {
    Error::file(
        path,
        "PyTorch pickle checkpoints are never loaded (unpickling can run arbitrary code); convert it \
         to safetensors first, e.g. `python -c \"from transformers import AutoModelForCausalLM as M; \
         M.from_pretrained('DIR').save_pretrained('OUT', safe_serialization=True)\"`",
    )
}

fn is_gguf_file(path: &Path) -> bool {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gguf"))
    {
        return true;
    }
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .map(|_| &magic == b"GGUF")
        .unwrap_or(false)
}

/// Resolves a `--model` argument.
pub fn resolve(spec: &str) -> Result<ModelSource> {
    let path = Path::new(spec);
    if path.is_file() {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        if PICKLE_EXTS.contains(&ext.as_str()) {
            return Err(pickle_error(path));
        }
        if is_gguf_file(path) {
            return Ok(ModelSource::Gguf(path.to_path_buf()));
        }
        if ext == "safetensors" {
            let dir = path.parent().unwrap_or(Path::new("."));
            if dir.join("config.json").is_file() {
                return Ok(ModelSource::HfDir(dir.to_path_buf()));
            }
            return Err(Error::file(
                path,
                "a safetensors file needs config.json and tokenizer.json beside it",
            ));
        }
        return Err(Error::file(
            path,
            "not a model: expected a .gguf file or a Hugging Face folder",
        ));
    }
    if path.is_dir() {
        return classify_dir(path);
    }
    if path.exists() {
        return Err(Error::file(path, "not a regular file or folder"));
    }
    if looks_like_hub_id(spec) && !spec.starts_with('.') && !spec.starts_with('/') {
        return resolve_hub(spec);
    }
    Err(Error::file(path, "no such file or directory"))
}

fn classify_dir(dir: &Path) -> Result<ModelSource> {
    if dir.join("config.json").is_file() {
        let has_st = std::fs::read_dir(dir)
            .map(|rd| {
                rd.flatten()
                    .any(|e| e.path().extension().is_some_and(|x| x == "safetensors"))
            })
            .unwrap_or(false);
        if !has_st {
            let pickled = [
                "pytorch_model.bin",
                "model.pt",
                "pytorch_model.bin.index.json",
            ]
            .iter()
            .map(|n| dir.join(n))
            .find(|p| p.exists());
            if let Some(p) = pickled {
                return Err(pickle_error(&p));
            }
            return Err(Error::file(dir, "no *.safetensors weights in this folder"));
        }
        return Ok(ModelSource::HfDir(dir.to_path_buf()));
    }
    let ggufs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "gguf"))
                .collect()
        })
        .unwrap_or_default();
    match ggufs.len() {
        1 => Ok(ModelSource::Gguf(ggufs[0].clone())),
        0 => Err(Error::file(
            dir,
            "not a model folder: no config.json and no .gguf file",
        )),
        _ => Err(Error::file(
            dir,
            "several .gguf files in this folder; name one",
        )),
    }
}

fn looks_like_hub_id(s: &str) -> bool {
    let id = s.split('@').next().unwrap_or(s);
    let parts: Vec<&str> = id.split('/').collect();
    (1..=2).contains(&parts.len())
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        })
}

/// True when HF_HUB_OFFLINE is set to a truthy value.
pub fn hub_offline() -> bool {
    std::env::var("HF_HUB_OFFLINE")
        .map(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "1" | "true" | "yes" | "on"
            )
        })
        .unwrap_or(false)
}

/// The hub cache folder: HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub.
pub fn hub_cache_dir() -> PathBuf {
    if let Ok(p) = std::env::var("HF_HUB_CACHE") {
        return PathBuf::from(p);
    }
    if let Ok(p) = std::env::var("HF_HOME") {
        return PathBuf::from(p).join("hub");
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| ".".into());
    PathBuf::from(home)
        .join(".cache")
        .join("huggingface")
        .join("hub")
}

/// Files a hub model needs, beyond the weights.
const HUB_FILES: [&str; 2] = ["config.json", "tokenizer.json"];

fn resolve_hub(spec: &str) -> Result<ModelSource> {
    let (id, revision) = match spec.split_once('@') {
        Some((i, r)) => (i.to_string(), r.to_string()),
        None => (spec.to_string(), "main".to_string()),
    };
    let cache = hf_hub::Cache::new(hub_cache_dir());
    let repo = hf_hub::Repo::with_revision(id.clone(), hf_hub::RepoType::Model, revision.clone());
    let cached = cache.repo(repo.clone());
    let offline = hub_offline();
    let fetch = |name: &str| -> Result<Option<PathBuf>> {
        if let Some(p) = cached.get(name) {
            return Ok(Some(p));
        }
        if offline {
            return Ok(None);
        }
        let api = hf_hub::api::sync::ApiBuilder::from_cache(cache.clone())
            .with_progress(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .build()
            .map_err(|e| {
                Error::input(format!(
                    "model {spec}: cannot reach the Hugging Face hub ({e})"
                ))
            })?;
        match api.repo(repo.clone()).get(name) {
            Ok(p) => Ok(Some(p)),
            Err(e) => {
                let msg = e.to_string();
                if msg.contains("404") {
                    Ok(None)
                } else {
                    Err(Error::input(format!(
                        "model {spec}: download of {name} failed ({msg})"
                    )))
                }
            }
        }
    };
    let not_cached = |what: &str| {
        if offline {
            Error::input(format!(
                "model {spec}: {what} is not in the Hugging Face cache ({}) and HF_HUB_OFFLINE is set; \
                 download it on a connected machine or pass a local folder",
                hub_cache_dir().display()
            ))
        } else {
            Error::input(format!(
                "model {spec}: the hub has no {what} for this model"
            ))
        }
    };
    for f in HUB_FILES {
        fetch(f)?.ok_or_else(|| not_cached(f))?;
    }
    // Weights: one file, or an index and its shards.
    let weights = match fetch("model.safetensors")? {
        Some(p) => p,
        None => {
            let index = fetch("model.safetensors.index.json")?
                .ok_or_else(|| not_cached("model.safetensors (or a sharded index)"))?;
            let text = std::fs::read_to_string(&index).map_err(|e| Error::file(&index, e))?;
            let v: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| Error::file(&index, format!("invalid JSON ({e})")))?;
            let mut shards: Vec<String> = v
                .get("weight_map")
                .and_then(|m| m.as_object())
                .map(|m| {
                    m.values()
                        .filter_map(|s| s.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            shards.sort();
            shards.dedup();
            for s in &shards {
                fetch(s)?.ok_or_else(|| not_cached(s))?;
            }
            index
        }
    };
    let _ = fetch("tokenizer_config.json");
    let dir = weights.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok(ModelSource::HfDir(dir))
}
