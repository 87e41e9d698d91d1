//! Memory-mapped safetensors checkpoints (single file or sharded with an index):
//! each tensor is copied straight from the map into a libtorch tensor on request,
//! so the file is never read whole into memory.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use safetensors::tensor::{Dtype, Metadata};
use safetensors::SafeTensors;
use tch::{Kind, Tensor};

use crate::error::{Error, IoContext, Result};

struct Shard {
    path: PathBuf,
    mmap: Mmap,
    /// Byte offset of the data section (8 + header length).
    data_start: usize,
    meta: Metadata,
}

/// All safetensors files of a checkpoint, mapped.
pub struct SafetensorsFiles {
    shards: Vec<Shard>,
    /// tensor name → shard index
    index: HashMap<String, usize>,
}

impl SafetensorsFiles {
    /// Maps the given files; errors name the offending file.
    pub fn open(paths: &[PathBuf]) -> Result<Self> {
        let mut shards = Vec::new();
        let mut index = HashMap::new();
        for path in paths {
            let file = File::open(path).with_file(path)?;
            // SAFETY: read-only map of a checkpoint that memscan does not modify.
            let mmap = unsafe { Mmap::map(&file) }.with_file(path)?;
            let (header_len, meta) = SafeTensors::read_metadata(&mmap).map_err(|e| {
                Error::file(path, format!("corrupt or truncated safetensors file ({e})"))
            })?;
            for name in meta.tensors().keys() {
                index.insert(name.clone(), shards.len());
            }
            shards.push(Shard {
                path: path.clone(),
                mmap,
                data_start: 8 + header_len,
                meta,
            });
        }
        Ok(SafetensorsFiles { shards, index })
    }

    /// The files of a Hugging Face folder: those named by `model.safetensors.index.json`,
    /// else every `*.safetensors` file in it.
    pub fn open_dir(dir: &Path) -> Result<Self> {
        let index_path = dir.join("model.safetensors.index.json");
        let mut files: Vec<PathBuf> = if index_path.exists() {
            let text = std::fs::read_to_string(&index_path).with_file(&index_path)?;
            let v: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| Error::file(&index_path, format!("invalid JSON ({e})")))?;
            let map = v
                .get("weight_map")
                .and_then(|m| m.as_object())
                .ok_or_else(|| {
                    Error::file(&index_path, "no \"weight_map\" object in the shard index")
                })?;
            let mut names: Vec<String> = map
                .values()
                .filter_map(|f| f.as_str().map(str::to_string))
                .collect();
            names.sort();
            names.dedup();
            names.iter().map(|n| dir.join(n)).collect()
        } else {
            let mut v = Vec::new();
            for entry in std::fs::read_dir(dir).with_file(dir)? {
                let p = entry.with_file(dir)?.path();
                if p.extension().is_some_and(|e| e == "safetensors") {
                    v.push(p);
                }
            }
            v
        };
        files.sort();
        if files.is_empty() {
            return Err(Error::file(dir, "no *.safetensors weights in this folder"));
        }
        Self::open(&files)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.index.keys().cloned().collect();
        v.sort();
        v
    }

    /// The file a tensor lives in (for error messages).
    pub fn path_of(&self, name: &str) -> Option<&Path> {
        self.index.get(name).map(|&i| self.shards[i].path.as_path())
    }

    pub fn first_path(&self) -> &Path {
        &self.shards[0].path
    }

    /// Shape of a tensor without loading it.
    pub fn shape(&self, name: &str) -> Option<Vec<i64>> {
        let shard = &self.shards[*self.index.get(name)?];
        let info = shard.meta.info(name)?;
        Some(info.shape.iter().map(|&d| d as i64).collect())
    }

    /// Copies one tensor out of the map, in its stored dtype, on the CPU.
    pub fn load(&self, name: &str) -> Result<Tensor> {
        let &i = self
            .index
            .get(name)
            .ok_or_else(|| Error::input(format!("tensor {name} is missing from the checkpoint")))?;
        let shard = &self.shards[i];
        let info = shard
            .meta
            .info(name)
            .ok_or_else(|| Error::file(&shard.path, format!("tensor {name} is missing")))?;
        let kind = match info.dtype {
            Dtype::F32 => Kind::Float,
            Dtype::F16 => Kind::Half,
            Dtype::BF16 => Kind::BFloat16,
            Dtype::F64 => Kind::Double,
            Dtype::I64 => Kind::Int64,
            Dtype::I32 => Kind::Int,
            Dtype::U8 => Kind::Uint8,
            Dtype::I8 => Kind::Int8,
            Dtype::BOOL => Kind::Bool,
            other => {
                return Err(Error::file(
                    &shard.path,
                    format!("tensor {name} has dtype {other:?}, which memscan cannot load"),
                ))
            }
        };
        let (s, e) = info.data_offsets;
        let bytes = &shard.mmap[shard.data_start + s..shard.data_start + e];
        let shape: Vec<i64> = info.shape.iter().map(|&d| d as i64).collect();
        Ok(Tensor::f_from_data_size(bytes, &shape, kind)?)
    }
}
