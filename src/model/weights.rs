//! Named access to a checkpoint's tensors, whatever the file format: each
//! architecture asks for tensors by their Hugging Face names and expected shapes,
//! and gets them on the target device in the target dtype. For GGUF files the
//! architecture supplies the mapping from those names to GGUF's.
//!
//! While a [`share`] guard lives, models built from the same checkpoint on the same
//! device and dtype (a target and its reference adapters on one base) share the
//! tensors they read: each is read, dequantized and placed once, and only the layers
//! an adapter changes are copied.

use std::path::{Path, PathBuf};

use tch::{Device, Kind, Tensor};

use super::adapter::Adapter;
use super::gguf::Gguf;
use super::nn::{Linear, LinearWeight, LowRank};
use super::quant::{self, QuantMatrix};
use super::safetensors::SafetensorsFiles;
use crate::error::{Error, Result};

/// Maps a Hugging Face tensor name to the GGUF name of the same tensor.
pub type GgufNames = fn(&str) -> Option<String>;

pub enum Backend {
    Safetensors(SafetensorsFiles),
    Gguf {
        file: Gguf,
        names: GgufNames,
    },
    /// Tensors already in memory, by Hugging Face name (f32, CPU): the fixture trainer
    /// builds a model around its trainable variables this way, so gradients reach them.
    Memory(std::collections::HashMap<String, Tensor>),
}

/// Tensors already loaded from one checkpoint (device, dtype): placed tensors (`get`),
/// quantized blocks (`get_quant`), and whole linear layers without an adapter's update
/// (`layer`). Raw reads (`get_cpu`) are not kept: a layer an adapter changes reads its
/// base weight again rather than hold a copy no model keeps.
#[derive(Default)]
pub struct SharedTensors {
    tensors: std::cell::RefCell<std::collections::HashMap<String, Tensor>>,
    blocks: std::cell::RefCell<std::collections::HashMap<String, Option<QuantMatrix>>>,
    layers: std::cell::RefCell<std::collections::HashMap<String, Linear>>,
    /// How many lookups found a tensor an earlier model loaded.
    hits: std::cell::Cell<usize>,
}

impl SharedTensors {
    fn tensor(&self, name: &str, load: impl FnOnce() -> Result<Tensor>) -> Result<Tensor> {
        if let Some(t) = self.tensors.borrow().get(name) {
            self.hit();
            return Ok(t.shallow_clone());
        }
        let t = load()?;
        self.tensors
            .borrow_mut()
            .insert(name.to_string(), t.shallow_clone());
        Ok(t)
    }

    fn hit(&self) {
        self.hits.set(self.hits.get() + 1);
    }
}

type SharedKey = (PathBuf, String, String);

thread_local! {
    /// The open sharing scopes (a count) and their tensors per checkpoint.
    static SHARED: std::cell::RefCell<(usize, std::collections::HashMap<SharedKey, std::rc::Rc<SharedTensors>>)> =
        std::cell::RefCell::new((0, std::collections::HashMap::new()));
}

/// While the guard lives, models loaded on this thread from the same checkpoint,
/// device and dtype share their tensors; the last guard dropped lets them go (the
/// models keep what they hold).
pub struct Sharing(());

pub fn share() -> Sharing {
    SHARED.with(|s| s.borrow_mut().0 += 1);
    Sharing(())
}

impl Drop for Sharing {
    fn drop(&mut self) {
        SHARED.with(|s| {
            let mut s = s.borrow_mut();
            s.0 -= 1;
            if s.0 == 0 {
                s.1.clear();
            }
        });
    }
}

/// The shared tensors of checkpoint `path` on `device` in `kind`, inside a sharing
/// scope.
fn shared_for(path: &Path, device: Device, kind: Kind) -> Option<std::rc::Rc<SharedTensors>> {
    SHARED.with(|s| {
        let mut s = s.borrow_mut();
        if s.0 == 0 {
            return None;
        }
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let key = (path, format!("{device:?}"), format!("{kind:?}"));
        Some(s.1.entry(key).or_default().clone())
    })
}

pub struct Weights {
    pub backend: Backend,
    pub device: Device,
    pub kind: Kind,
    path: PathBuf,
    /// How many tensors `get_quant` handed out in quantized blocks.
    quantized: std::cell::Cell<usize>,
    /// A LoRA adapter applied on top (`--adapter`).
    adapter: Option<Adapter>,
    /// Tensors shared with other models of the same checkpoint (see [`share`]), and
    /// how many lookups had found one before these weights were made.
    shared: Option<std::rc::Rc<SharedTensors>>,
    hits_before: usize,
}

impl Weights {
    pub fn new(backend: Backend, device: Device, kind: Kind, path: &Path) -> Self {
        let shared = match backend {
            // the fixture trainer's variables are its own
            Backend::Memory(_) => None,
            _ => shared_for(path, device, kind),
        };
        let hits_before = shared.as_ref().map_or(0, |s| s.hits.get());
        Weights {
            shared,
            hits_before,
            backend,
            device,
            kind,
            path: path.to_path_buf(),
            quantized: std::cell::Cell::new(0),
            adapter: None,
        }
    }

    /// These weights with an adapter's updates applied as layers are loaded.
    pub fn with_adapter(mut self, adapter: Option<Adapter>) -> Self {
        self.adapter = adapter;
        self
    }

    /// How many tensors, block matrices and layers these weights took from a model
    /// built before them (0 outside a sharing scope).
    pub fn shared_hits(&self) -> usize {
        self.shared
            .as_ref()
            .map_or(0, |s| s.hits.get() - self.hits_before)
    }

    /// The linear layer `key` that `build` makes from `modules` (their Hugging Face
    /// names): inside a sharing scope, and when the adapter changes none of them, the
    /// layer an earlier model of this checkpoint built, shared.
    pub fn layer(
        &self,
        key: &str,
        modules: &[&str],
        build: impl FnOnce() -> Result<Linear>,
    ) -> Result<Linear> {
        let adapted = self
            .adapter
            .as_ref()
            .is_some_and(|a| modules.iter().any(|m| a.touches(m)));
        let Some(shared) = self.shared.as_ref().filter(|_| !adapted) else {
            return build();
        };
        if let Some(l) = shared.layers.borrow().get(key) {
            shared.hit();
            return Ok(l.share());
        }
        let l = build()?;
        shared
            .layers
            .borrow_mut()
            .insert(key.to_string(), l.share());
        Ok(l)
    }

    /// Fails when part of the adapter matched nothing the model loaded.
    pub fn check_adapter_used(&self) -> Result<()> {
        self.adapter
            .as_ref()
            .map_or(Ok(()), Adapter::check_all_used)
    }

    /// The GGUF file behind these weights, for the architectures' metadata.
    pub fn gguf(&self) -> Result<&Gguf> {
        match &self.backend {
            Backend::Gguf { file, .. } => Ok(file),
            _ => Err(Error::file(&self.path, "not a GGUF file")),
        }
    }

    /// A linear layer from its CPU f32 weight [out, in] (in Hugging Face row order),
    /// optional bias and quantized blocks: the adapter's update for `module` merged in
    /// (and kept as a side path beside the blocks), placed on the model's device.
    pub fn linear(
        &self,
        module: &str,
        weight: Tensor,
        bias: Option<Tensor>,
        blocks: Option<QuantMatrix>,
    ) -> Result<Linear> {
        let (out_dim, in_dim) = match weight.size()[..] {
            [o, i] => (o, i),
            ref other => {
                return Err(Error::file(
                    &self.path,
                    format!("{module}.weight has shape {other:?}, expected a matrix"),
                ))
            }
        };
        let update = match &self.adapter {
            Some(a) => a.update(module, out_dim, in_dim)?,
            None => None,
        };
        let (weight, side) = match update {
            None => (weight, None),
            Some(u) => {
                let side = match &blocks {
                    Some(_) => Some(LowRank {
                        a: self.place(u.a.shallow_clone())?,
                        b: self.place(u.b.shallow_clone())?,
                    }),
                    None => None,
                };
                (weight.f_add(&u.delta()?)?, side)
            }
        };
        let dense = self.place(weight)?;
        let weight = match blocks {
            Some(blocks) => LinearWeight::Quantized {
                dense,
                blocks,
                side,
            },
            None => LinearWeight::Dense(dense),
        };
        Ok(Linear {
            weight,
            bias: bias.map(|b| self.place(b)).transpose()?,
        })
    }

    /// Whether any layer weight was handed out in quantized blocks.
    pub fn any_quantized(&self) -> bool {
        self.quantized.get() > 0
    }

    pub fn is_gguf(&self) -> bool {
        matches!(self.backend, Backend::Gguf { .. })
    }

    /// Whether a tensor of this (Hugging Face) name exists.
    pub fn contains(&self, name: &str) -> bool {
        match &self.backend {
            Backend::Safetensors(st) => st.contains(name),
            Backend::Gguf { file, names } => {
                names(name).is_some_and(|g| file.tensors.contains_key(&g))
            }
            Backend::Memory(m) => m.contains_key(name),
        }
    }

    /// The first of `candidates` that exists (checkpoints differ in prefixes).
    pub fn first_of<'a>(&self, candidates: &[&'a str]) -> Option<&'a str> {
        candidates.iter().copied().find(|n| self.contains(n))
    }

    fn file_of(&self, name: &str) -> &Path {
        match &self.backend {
            Backend::Safetensors(st) => st.path_of(name).unwrap_or(&self.path),
            Backend::Gguf { .. } | Backend::Memory(_) => &self.path,
        }
    }

    /// Loads a tensor on the CPU in f32, checking its shape (the adapter's
    /// replacement where it carries one).
    pub fn get_cpu(&self, name: &str, shape: &[i64]) -> Result<Tensor> {
        if let Some(t) = self
            .adapter
            .as_ref()
            .map(|a| a.replacement(name, shape))
            .transpose()?
            .flatten()
        {
            return Ok(t);
        }
        let t = match &self.backend {
            Backend::Safetensors(st) => {
                if !st.contains(name) {
                    return Err(Error::file(&self.path, format!("tensor {name} is missing")));
                }
                st.load(name)
                    .map_err(|e| e.in_file(self.file_of(name)))?
                    .to_kind(Kind::Float)
            }
            Backend::Gguf { file, names } => {
                let g = names(name).ok_or_else(|| {
                    Error::file(&self.path, format!("no GGUF tensor corresponds to {name}"))
                })?;
                let (data, dims) = file.dequantize(&g)?;
                Tensor::f_from_slice(&data)?.f_reshape(&dims)?
            }
            Backend::Memory(m) => m
                .get(name)
                .ok_or_else(|| Error::file(&self.path, format!("tensor {name} is missing")))?
                .shallow_clone(),
        };
        let got = t.size();
        if got != shape {
            return Err(Error::file(
                self.file_of(name),
                format!("tensor {name} has shape {got:?}, expected {shape:?}"),
            ));
        }
        Ok(t)
    }

    /// Moves a CPU f32 tensor to the model's device and dtype.
    pub fn place(&self, t: Tensor) -> Result<Tensor> {
        Ok(t.f_to_kind(self.kind)?.f_to_device(self.device)?)
    }

    /// Loads a tensor on the model's device in its dtype, checking its shape.
    pub fn get(&self, name: &str, shape: &[i64]) -> Result<Tensor> {
        let replaced = self.adapter.as_ref().is_some_and(|a| a.replaces(name));
        match self.shared.as_ref().filter(|_| !replaced) {
            Some(s) => {
                let t = s.tensor(name, || self.place(self.get_cpu(name, shape)?))?;
                if t.size() != shape {
                    return Err(Error::file(
                        self.file_of(name),
                        format!("tensor {name} has shape {:?}, expected {shape:?}", t.size()),
                    ));
                }
                Ok(t)
            }
            None => self.place(self.get_cpu(name, shape)?),
        }
    }

    /// Tensor `name` ([rows, cols]) in its quantized blocks, for the few-row kernels of
    /// `quant`: only for GGUF tensors of a type they cover, on a CPU f32 model whose
    /// CPU runs them.
    pub fn get_quant(&self, name: &str, rows: i64, cols: i64) -> Option<QuantMatrix> {
        let Backend::Gguf { file, names } = &self.backend else {
            return None;
        };
        if self.adapter.as_ref().is_some_and(|a| a.replaces(name)) {
            return None;
        }
        let read = || quant::from_gguf(file, &names(name)?, self.device, self.kind);
        let q = match &self.shared {
            Some(s) => {
                let known = s.blocks.borrow().get(name).cloned();
                match known {
                    Some(q) => {
                        s.hit();
                        q
                    }
                    None => {
                        let q = read();
                        s.blocks.borrow_mut().insert(name.to_string(), q.clone());
                        q
                    }
                }
            }
            None => read(),
        }?;
        if [q.rows(), q.cols()] != [rows as usize, cols as usize] {
            return None;
        }
        self.quantized.set(self.quantized.get() + 1);
        Some(q)
    }

    /// Like `get`, but `None` where the checkpoint lacks the tensor.
    pub fn get_opt(&self, name: &str, shape: &[i64]) -> Result<Option<Tensor>> {
        if self.contains(name) {
            self.get(name, shape).map(Some)
        } else {
            Ok(None)
        }
    }
}
