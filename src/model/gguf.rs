//! GGUF reader: header, metadata and tensor directory parsed from a memory map,
//! and dequantization of the common ggml tensor types to f32.
//!
//! Formats follow the GGUF specification (ggml's docs/gguf.md) and ggml's block
//! layouts (ggml-common.h). Every read is bounds-checked: a truncated or corrupt
//! file is an input error, never a panic.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use half::{bf16, f16};
use memmap2::Mmap;

use crate::error::{Error, IoContext, Result};

const MAGIC: &[u8; 4] = b"GGUF";
const DEFAULT_ALIGNMENT: u64 = 32;

/// A metadata value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    String(String),
    Array(Vec<Value>),
    U64(u64),
    I64(i64),
    F64(f64),
}

impl Value {
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::U8(v) => Some(v as u64),
            Value::U16(v) => Some(v as u64),
            Value::U32(v) => Some(v as u64),
            Value::U64(v) => Some(v),
            Value::I8(v) if v >= 0 => Some(v as u64),
            Value::I16(v) if v >= 0 => Some(v as u64),
            Value::I32(v) if v >= 0 => Some(v as u64),
            Value::I64(v) if v >= 0 => Some(v as u64),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::F32(v) => Some(v as f64),
            Value::F64(v) => Some(v),
            _ => self.as_u64().map(|v| v as f64),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }
}

/// The ggml tensor types memscan can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GgmlType {
    F32,
    F16,
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q8_0,
    Q4K,
    Q5K,
    Q6K,
    BF16,
    /// Any other type id: reported by name when a tensor of it is loaded.
    Other(u32),
}

impl GgmlType {
    fn from_id(id: u32) -> Self {
        match id {
            0 => GgmlType::F32,
            1 => GgmlType::F16,
            2 => GgmlType::Q4_0,
            3 => GgmlType::Q4_1,
            6 => GgmlType::Q5_0,
            7 => GgmlType::Q5_1,
            8 => GgmlType::Q8_0,
            12 => GgmlType::Q4K,
            13 => GgmlType::Q5K,
            14 => GgmlType::Q6K,
            30 => GgmlType::BF16,
            other => GgmlType::Other(other),
        }
    }

    /// (elements per block, bytes per block)
    pub(crate) fn block(self) -> Option<(usize, usize)> {
        Some(match self {
            GgmlType::F32 => (1, 4),
            GgmlType::F16 | GgmlType::BF16 => (1, 2),
            GgmlType::Q4_0 => (32, 18),
            GgmlType::Q4_1 => (32, 20),
            GgmlType::Q5_0 => (32, 22),
            GgmlType::Q5_1 => (32, 24),
            GgmlType::Q8_0 => (32, 34),
            GgmlType::Q4K => (256, 144),
            GgmlType::Q5K => (256, 176),
            GgmlType::Q6K => (256, 210),
            GgmlType::Other(_) => return None,
        })
    }

    pub fn name(self) -> String {
        match self {
            GgmlType::F32 => "F32".into(),
            GgmlType::F16 => "F16".into(),
            GgmlType::Q4_0 => "Q4_0".into(),
            GgmlType::Q4_1 => "Q4_1".into(),
            GgmlType::Q5_0 => "Q5_0".into(),
            GgmlType::Q5_1 => "Q5_1".into(),
            GgmlType::Q8_0 => "Q8_0".into(),
            GgmlType::Q4K => "Q4_K".into(),
            GgmlType::Q5K => "Q5_K".into(),
            GgmlType::Q6K => "Q6_K".into(),
            GgmlType::BF16 => "BF16".into(),
            GgmlType::Other(id) => {
                let known = [
                    (9, "Q8_1"),
                    (10, "Q2_K"),
                    (11, "Q3_K"),
                    (15, "Q8_K"),
                    (16, "IQ2_XXS"),
                    (17, "IQ2_XS"),
                    (18, "IQ3_XXS"),
                    (19, "IQ1_S"),
                    (20, "IQ4_NL"),
                    (21, "IQ3_S"),
                    (22, "IQ2_S"),
                    (23, "IQ4_XS"),
                    (24, "I8"),
                    (25, "I16"),
                    (26, "I32"),
                    (27, "I64"),
                    (28, "F64"),
                    (29, "IQ1_M"),
                ];
                match known.iter().find(|(k, _)| *k == id) {
                    Some((_, n)) => (*n).to_string(),
                    None => format!("type {id}"),
                }
            }
        }
    }
}

/// One entry of the tensor directory.
#[derive(Debug, Clone)]
pub struct TensorInfo {
    pub name: String,
    /// Shape in PyTorch order (outermost first): GGUF's `ne` reversed.
    pub shape: Vec<i64>,
    pub dtype: GgmlType,
    /// Absolute byte offset of the data in the file.
    offset: usize,
    n_bytes: usize,
}

/// A parsed GGUF file, memory-mapped.
pub struct Gguf {
    pub path: PathBuf,
    pub version: u32,
    pub metadata: BTreeMap<String, Value>,
    pub tensors: BTreeMap<String, TensorInfo>,
    mmap: Mmap,
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

fn corrupt(msg: impl std::fmt::Display) -> Error {
    Error::input(format!("corrupt or truncated GGUF file ({msg})"))
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| corrupt(format!("unexpected end of file at byte {}", self.pos)))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn arr<const N: usize>(&mut self) -> Result<[u8; N]> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.arr()?))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.arr()?))
    }
    /// A length that must fit in what is left of the file (each item at least `min_item` bytes).
    fn len(&mut self, min_item: usize) -> Result<usize> {
        let n = self.u64()?;
        let left = (self.buf.len() - self.pos) as u64;
        if n.saturating_mul(min_item as u64) > left {
            return Err(corrupt(format!(
                "length {n} at byte {} exceeds the file",
                self.pos - 8
            )));
        }
        Ok(n as usize)
    }
    fn string(&mut self) -> Result<String> {
        let n = self.len(1)?;
        let bytes = self.take(n)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| corrupt("a string is not valid UTF-8"))
    }
    fn value(&mut self, ty: u32, depth: u32) -> Result<Value> {
        Ok(match ty {
            0 => Value::U8(self.arr::<1>()?[0]),
            1 => Value::I8(self.arr::<1>()?[0] as i8),
            2 => Value::U16(u16::from_le_bytes(self.arr()?)),
            3 => Value::I16(i16::from_le_bytes(self.arr()?)),
            4 => Value::U32(self.u32()?),
            5 => Value::I32(i32::from_le_bytes(self.arr()?)),
            6 => Value::F32(f32::from_le_bytes(self.arr()?)),
            7 => Value::Bool(self.arr::<1>()?[0] != 0),
            8 => Value::String(self.string()?),
            9 => {
                if depth > 4 {
                    return Err(corrupt("arrays nested too deeply"));
                }
                let item_ty = self.u32()?;
                let n = self.len(1)?;
                let mut v = Vec::with_capacity(n.min(1 << 20));
                for _ in 0..n {
                    v.push(self.value(item_ty, depth + 1)?);
                }
                Value::Array(v)
            }
            10 => Value::U64(self.u64()?),
            11 => Value::I64(i64::from_le_bytes(self.arr()?)),
            12 => Value::F64(f64::from_le_bytes(self.arr()?)),
            t => return Err(corrupt(format!("unknown metadata value type {t}"))),
        })
    }
}

impl Gguf {
    /// Opens and parses `path`; errors name the file.
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).with_file(path)?;
        // SAFETY: the map is read-only and the file is not modified while memscan runs;
        // a concurrent truncation by another process is outside what we can guard.
        let mmap = unsafe { Mmap::map(&file) }.with_file(path)?;
        Self::parse(path, mmap).map_err(|e| e.in_file(path))
    }

    fn parse(path: &Path, mmap: Mmap) -> Result<Self> {
        let mut r = Reader { buf: &mmap, pos: 0 };
        if r.take(4).map_err(|_| corrupt("file too short"))? != MAGIC {
            return Err(Error::input("not a GGUF file (bad magic)"));
        }
        let version = r.u32()?;
        if !(2..=3).contains(&version) {
            return Err(Error::input(format!(
                "unsupported GGUF version {version} (2 and 3 are supported)"
            )));
        }
        let n_tensors = r.len(24)?;
        let n_kv = r.len(12)?;
        let mut metadata = BTreeMap::new();
        for _ in 0..n_kv {
            let key = r.string()?;
            let ty = r.u32()?;
            let v = r.value(ty, 0)?;
            metadata.insert(key, v);
        }
        let mut infos = Vec::with_capacity(n_tensors);
        for _ in 0..n_tensors {
            let name = r.string()?;
            let n_dims = r.u32()? as usize;
            if n_dims == 0 || n_dims > 4 {
                return Err(corrupt(format!("tensor {name} has {n_dims} dimensions")));
            }
            let mut ne = Vec::with_capacity(n_dims);
            for _ in 0..n_dims {
                ne.push(r.u64()?);
            }
            let dtype = GgmlType::from_id(r.u32()?);
            let offset = r.u64()?;
            infos.push((name, ne, dtype, offset));
        }
        let alignment = metadata
            .get("general.alignment")
            .and_then(Value::as_u64)
            .unwrap_or(DEFAULT_ALIGNMENT)
            .max(1);
        let file_len = mmap.len() as u64;
        let data_start = (r.pos as u64)
            .div_ceil(alignment)
            .checked_mul(alignment)
            .ok_or_else(|| corrupt(format!("alignment {alignment} is impossible")))?;
        let mut tensors = BTreeMap::new();
        for (name, ne, dtype, offset) in infos {
            // Each dimension is bounded too: with a zero elsewhere the product stays
            // small while a huge dimension would turn negative as an i64 shape.
            let n_elem = ne
                .iter()
                .try_fold(1u64, |a, &d| a.checked_mul(d).filter(|_| d < (1u64 << 40)))
                .filter(|&n| n < (1u64 << 40))
                .ok_or_else(|| corrupt(format!("tensor {name} has an impossible shape {ne:?}")))?;
            let n_bytes = match dtype.block() {
                Some((per_block, bytes)) => {
                    if ne[0] % per_block as u64 != 0 {
                        return Err(corrupt(format!(
                            "tensor {name}: row length {} is not a multiple of the {} block size {per_block}",
                            ne[0],
                            dtype.name()
                        )));
                    }
                    n_elem / per_block as u64 * bytes as u64
                }
                None => 0,
            };
            // Offsets and sizes come from the file: every sum is checked, so a crafted
            // value can neither wrap past the bound below nor panic.
            let start = data_start.checked_add(offset);
            let end = start.and_then(|s| s.checked_add(n_bytes));
            let (Some(start), Some(_)) = (start, end.filter(|&e| e <= file_len)) else {
                return Err(corrupt(format!(
                    "tensor {name} (offset {offset}, {n_bytes} bytes) lies beyond the end of the file (truncated?)"
                )));
            };
            let shape = ne.iter().rev().map(|&d| d as i64).collect();
            tensors.insert(
                name.clone(),
                TensorInfo {
                    name,
                    shape,
                    dtype,
                    offset: start as usize,
                    n_bytes: n_bytes as usize,
                },
            );
        }
        Ok(Gguf {
            path: path.to_path_buf(),
            version,
            metadata,
            tensors,
            mmap,
        })
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.metadata.get(key)
    }

    pub fn u64(&self, key: &str) -> Result<u64> {
        self.get(key)
            .and_then(Value::as_u64)
            .ok_or_else(|| self.missing(key))
    }

    pub fn f64(&self, key: &str) -> Result<f64> {
        self.get(key)
            .and_then(Value::as_f64)
            .ok_or_else(|| self.missing(key))
    }

    pub fn str(&self, key: &str) -> Result<&str> {
        self.get(key)
            .and_then(Value::as_str)
            .ok_or_else(|| self.missing(key))
    }

    fn missing(&self, key: &str) -> Error {
        Error::file(
            &self.path,
            format!("GGUF metadata key {key} is missing or has the wrong type"),
        )
    }

    /// The architecture named in `general.architecture`.
    pub fn architecture(&self) -> Result<&str> {
        self.str("general.architecture")
    }

    /// The stored bytes of tensor `name` with its directory entry.
    pub fn raw(&self, name: &str) -> Option<(&TensorInfo, &[u8])> {
        let info = self.tensors.get(name)?;
        Some((
            info,
            self.mmap.get(info.offset..info.offset + info.n_bytes)?,
        ))
    }

    /// Dequantizes tensor `name` to f32 values, in PyTorch (row-major) order.
    pub fn dequantize(&self, name: &str) -> Result<(Vec<f32>, Vec<i64>)> {
        let info = self.tensors.get(name).ok_or_else(|| {
            Error::file(
                &self.path,
                format!("tensor {name} is missing from the GGUF file"),
            )
        })?;
        if info.dtype.block().is_none() {
            return Err(Error::file(
                &self.path,
                format!(
                    "tensor {name} has ggml type {}, which memscan cannot dequantize \
                     (supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K)",
                    info.dtype.name()
                ),
            ));
        }
        let bytes = &self.mmap[info.offset..info.offset + info.n_bytes];
        Ok((dequantize(info.dtype, bytes), info.shape.clone()))
    }
}

/// Dequantizes whole blocks of `dtype` to f32. `bytes` must hold whole blocks.
pub fn dequantize(dtype: GgmlType, bytes: &[u8]) -> Vec<f32> {
    let Some((per_block, block_bytes)) = dtype.block() else {
        return Vec::new();
    };
    let n_blocks = bytes.len() / block_bytes;
    let mut out = vec![0f32; n_blocks * per_block];
    for (b, y) in bytes
        .chunks_exact(block_bytes)
        .zip(out.chunks_exact_mut(per_block))
    {
        match dtype {
            GgmlType::F32 => y[0] = f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            GgmlType::F16 => y[0] = h(b, 0),
            GgmlType::BF16 => y[0] = bf16::from_bits(u16::from_le_bytes([b[0], b[1]])).to_f32(),
            GgmlType::Q4_0 => block_q4_0(b, y),
            GgmlType::Q4_1 => block_q4_1(b, y),
            GgmlType::Q5_0 => block_q5_0(b, y),
            GgmlType::Q5_1 => block_q5_1(b, y),
            GgmlType::Q8_0 => block_q8_0(b, y),
            GgmlType::Q4K => block_q4_k(b, y),
            GgmlType::Q5K => block_q5_k(b, y),
            GgmlType::Q6K => block_q6_k(b, y),
            GgmlType::Other(_) => {}
        }
    }
    out
}

/// The f16 at byte `i` of `b`, as f32.
fn h(b: &[u8], i: usize) -> f32 {
    f16::from_bits(u16::from_le_bytes([b[i], b[i + 1]])).to_f32()
}

fn block_q4_0(b: &[u8], y: &mut [f32]) {
    let d = h(b, 0);
    let qs = &b[2..18];
    for j in 0..16 {
        y[j] = ((qs[j] & 0x0F) as i32 - 8) as f32 * d;
        y[j + 16] = ((qs[j] >> 4) as i32 - 8) as f32 * d;
    }
}

fn block_q4_1(b: &[u8], y: &mut [f32]) {
    let (d, m) = (h(b, 0), h(b, 2));
    let qs = &b[4..20];
    for j in 0..16 {
        y[j] = (qs[j] & 0x0F) as f32 * d + m;
        y[j + 16] = (qs[j] >> 4) as f32 * d + m;
    }
}

fn block_q5_0(b: &[u8], y: &mut [f32]) {
    let d = h(b, 0);
    let qh = u32::from_le_bytes([b[2], b[3], b[4], b[5]]);
    let qs = &b[6..22];
    for j in 0..16 {
        let xh0 = (((qh >> j) << 4) & 0x10) as i32;
        let xh1 = ((qh >> (j + 12)) & 0x10) as i32;
        y[j] = (((qs[j] & 0x0F) as i32 | xh0) - 16) as f32 * d;
        y[j + 16] = (((qs[j] >> 4) as i32 | xh1) - 16) as f32 * d;
    }
}

fn block_q5_1(b: &[u8], y: &mut [f32]) {
    let (d, m) = (h(b, 0), h(b, 2));
    let qh = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
    let qs = &b[8..24];
    for j in 0..16 {
        let xh0 = ((qh >> j) << 4) & 0x10;
        let xh1 = (qh >> (j + 12)) & 0x10;
        y[j] = ((qs[j] & 0x0F) as u32 | xh0) as f32 * d + m;
        y[j + 16] = ((qs[j] >> 4) as u32 | xh1) as f32 * d + m;
    }
}

fn block_q8_0(b: &[u8], y: &mut [f32]) {
    let d = h(b, 0);
    for j in 0..32 {
        y[j] = (b[2 + j] as i8) as f32 * d;
    }
}

/// Scale and min number `j` of the 6-bit packed K-quant scales.
fn scale_min_k4(j: usize, q: &[u8]) -> (f32, f32) {
    if j < 4 {
        ((q[j] & 63) as f32, (q[j + 4] & 63) as f32)
    } else {
        (
            ((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4)) as f32,
            ((q[j + 4] >> 4) | ((q[j] >> 6) << 4)) as f32,
        )
    }
}

fn block_q4_k(b: &[u8], y: &mut [f32]) {
    let (d, dmin) = (h(b, 0), h(b, 2));
    let scales = &b[4..16];
    let qs = &b[16..144];
    for (g, chunk) in y.chunks_exact_mut(64).enumerate() {
        let (sc1, m1) = scale_min_k4(2 * g, scales);
        let (sc2, m2) = scale_min_k4(2 * g + 1, scales);
        let (d1, m1, d2, m2) = (d * sc1, dmin * m1, d * sc2, dmin * m2);
        let q = &qs[32 * g..32 * g + 32];
        for l in 0..32 {
            chunk[l] = d1 * (q[l] & 0x0F) as f32 - m1;
            chunk[l + 32] = d2 * (q[l] >> 4) as f32 - m2;
        }
    }
}

fn block_q5_k(b: &[u8], y: &mut [f32]) {
    let (d, dmin) = (h(b, 0), h(b, 2));
    let scales = &b[4..16];
    let qh = &b[16..48];
    let qs = &b[48..176];
    for (g, chunk) in y.chunks_exact_mut(64).enumerate() {
        let (sc1, m1) = scale_min_k4(2 * g, scales);
        let (sc2, m2) = scale_min_k4(2 * g + 1, scales);
        let (d1, m1, d2, m2) = (d * sc1, dmin * m1, d * sc2, dmin * m2);
        let (u1, u2) = (1u8 << (2 * g), 2u8 << (2 * g));
        let ql = &qs[32 * g..32 * g + 32];
        for l in 0..32 {
            let hi1 = if qh[l] & u1 != 0 { 16 } else { 0 };
            let hi2 = if qh[l] & u2 != 0 { 16 } else { 0 };
            chunk[l] = d1 * ((ql[l] & 0x0F) + hi1) as f32 - m1;
            chunk[l + 32] = d2 * ((ql[l] >> 4) + hi2) as f32 - m2;
        }
    }
}

fn block_q6_k(b: &[u8], y: &mut [f32]) {
    let ql_all = &b[0..128];
    let qh_all = &b[128..192];
    let sc_all = &b[192..208];
    let d = h(b, 208);
    for (n, chunk) in y.chunks_exact_mut(128).enumerate() {
        let ql = &ql_all[64 * n..64 * n + 64];
        let qh = &qh_all[32 * n..32 * n + 32];
        let sc = &sc_all[8 * n..8 * n + 8];
        for l in 0..32 {
            let is = l / 16;
            let q1 = ((ql[l] & 0x0F) | ((qh[l] & 3) << 4)) as i32 - 32;
            let q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) as i32 - 32;
            let q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) as i32 - 32;
            let q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) as i32 - 32;
            chunk[l] = d * (sc[is] as i8) as f32 * q1 as f32;
            chunk[l + 32] = d * (sc[is + 2] as i8) as f32 * q2 as f32;
            chunk[l + 64] = d * (sc[is + 4] as i8) as f32 * q3 as f32;
            chunk[l + 96] = d * (sc[is + 6] as i8) as f32 * q4 as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f16b(x: f32) -> [u8; 2] {
        f16::from_f32(x).to_bits().to_le_bytes()
    }

    #[test]
    fn q8_0_by_hand() {
        let mut b = f16b(0.5).to_vec();
        b.extend((0..32).map(|i| (i as i8 - 16) as u8));
        let y = dequantize(GgmlType::Q8_0, &b);
        assert_eq!(y.len(), 32);
        assert_eq!(y[0], -8.0);
        assert_eq!(y[31], 7.5);
    }

    #[test]
    fn q4_1_by_hand() {
        let mut b = f16b(2.0).to_vec();
        b.extend(f16b(-1.0));
        b.extend([0x21u8; 16]); // low nibble 1, high nibble 2
        let y = dequantize(GgmlType::Q4_1, &b);
        assert_eq!(y[0], 1.0); // 2*1 - 1
        assert_eq!(y[16], 3.0); // 2*2 - 1
    }

    #[test]
    fn q4_0_by_hand() {
        let mut b = f16b(1.0).to_vec();
        b.extend([0xF0u8; 16]); // low 0 → -8, high 15 → 7
        let y = dequantize(GgmlType::Q4_0, &b);
        assert_eq!(y[3], -8.0);
        assert_eq!(y[20], 7.0);
    }

    /// A GGUF v3 file with no metadata and one F32 tensor of `n` elements at `offset`,
    /// followed by `data` (starting at the aligned data section).
    fn one_tensor_file(dims: &[u64], offset: u64, data: &[u8]) -> Vec<u8> {
        let mut b = b"GGUF".to_vec();
        b.extend(3u32.to_le_bytes());
        b.extend(1u64.to_le_bytes()); // tensors
        b.extend(0u64.to_le_bytes()); // metadata pairs
        b.extend(1u64.to_le_bytes());
        b.push(b'w');
        b.extend((dims.len() as u32).to_le_bytes());
        for d in dims {
            b.extend(d.to_le_bytes());
        }
        b.extend(0u32.to_le_bytes()); // F32
        b.extend(offset.to_le_bytes());
        while !b.len().is_multiple_of(32) {
            b.push(0);
        }
        b.extend(data);
        b
    }

    fn open_bytes(bytes: &[u8]) -> Result<Gguf> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.gguf");
        std::fs::write(&p, bytes).unwrap();
        Gguf::open(&p)
    }

    #[test]
    fn valid_tensor_reads_back() {
        let data: Vec<u8> = [1.5f32, -2.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let g = open_bytes(&one_tensor_file(&[2], 0, &data)).unwrap();
        assert_eq!(g.dequantize("w").unwrap(), (vec![1.5, -2.0], vec![2]));
    }

    /// Regression: `data_start + offset` wrapped in release builds (and panicked in
    /// debug ones), so an offset near 2^64 passed the bounds check.
    #[test]
    fn offset_that_wraps_is_an_input_error() {
        let data = [0u8; 8];
        let bytes = one_tensor_file(&[2], u64::MAX - 31, &data);
        let err = open_bytes(&bytes)
            .err()
            .expect("a wrapping offset must be rejected");
        assert!(matches!(err, Error::Input(_)), "{err}");
        assert!(err.to_string().contains("tensor w"), "{err}");
        assert!(err.to_string().contains("t.gguf"), "{err}");
        // just past the end, without wrapping, is rejected too
        let err = open_bytes(&one_tensor_file(&[2], 4, &data)).err().unwrap();
        assert!(err.to_string().contains("beyond the end"), "{err}");
    }

    /// Regression: a zero dimension kept the element count small while another
    /// dimension (2^64 - 1) became a negative i64 shape.
    #[test]
    fn huge_dimension_beside_a_zero_is_rejected() {
        let err = open_bytes(&one_tensor_file(&[0, u64::MAX], 0, &[]))
            .err()
            .expect("an impossible shape must be rejected");
        assert!(err.to_string().contains("impossible shape"), "{err}");
    }

    #[test]
    fn rejects_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.gguf");
        std::fs::write(&p, b"GGUF\x03\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff").unwrap();
        let err = Gguf::open(&p).err().unwrap();
        assert!(matches!(err, Error::Input(_)));
        assert!(err.to_string().contains("x.gguf"), "{err}");
        std::fs::write(&p, b"GGML").unwrap();
        assert!(matches!(Gguf::open(&p), Err(Error::Input(_))));
    }
}
