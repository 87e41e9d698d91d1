//! Matrix products read straight from ggml's 32-element quantized blocks (Q4_0, Q4_1,
//! Q8_0) for inputs of a few rows: the generation steps on the CPU. A step of a small
//! model multiplies 8 rows by every weight once, so it is bound by memory traffic:
//! streaming the 4.5–8.5-bit blocks instead of their f32 expansion moves 4–7× fewer
//! bytes. Each block is expanded once into registers and multiplied with every input
//! row (AVX2 + FMA, chosen at run time); the expanded weights are bit-identical to
//! `gguf::dequantize`'s, so only the summation order differs from the f32 GEMM.
//! Scoring and prompt prefill (many rows) keep the f32 GEMM, which is compute-bound
//! and faster there. `MEMSCAN_QUANT_KERNELS=0` turns the kernels off.

use rayon::prelude::*;
use tch::{Device, Kind, Tensor};

use super::gguf::{self, GgmlType, Gguf};

const BLOCK: usize = 32;
/// Inputs with more rows than this use the f32 GEMM.
pub const MAX_ROWS: usize = 16;
/// Output rows per parallel task.
const TASK_ROWS: usize = 32;

/// Whether this CPU runs the kernels (x86-64 with AVX2 and FMA) and they are not
/// turned off.
pub fn available() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| {
        std::env::var("MEMSCAN_QUANT_KERNELS").map_or(true, |v| v != "0") && simd::supported()
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QType {
    Q4_0,
    Q4_1,
    Q8_0,
}

impl QType {
    fn of(t: GgmlType) -> Option<Self> {
        match t {
            GgmlType::Q4_0 => Some(QType::Q4_0),
            GgmlType::Q4_1 => Some(QType::Q4_1),
            GgmlType::Q8_0 => Some(QType::Q8_0),
            _ => None,
        }
    }

    fn ggml(self) -> GgmlType {
        match self {
            QType::Q4_0 => GgmlType::Q4_0,
            QType::Q4_1 => GgmlType::Q4_1,
            QType::Q8_0 => GgmlType::Q8_0,
        }
    }

    /// Bytes of quants per block (the f16 scale and min are kept apart, as f32).
    fn quant_bytes(self) -> usize {
        match self {
            QType::Q4_0 | QType::Q4_1 => 16,
            QType::Q8_0 => 32,
        }
    }
}

/// Rows of one quantization type, repacked: per block its quants, its scale and (Q4_1)
/// its min as f32.
struct Part {
    qtype: QType,
    rows: usize,
    quants: Vec<u8>,
    scales: Vec<f32>,
    mins: Vec<f32>,
}

impl Part {
    /// Output rows `n0..n0 + count` · each of the `m` input rows of `x` ([m, cols])
    /// into `out` ([count, m]).
    fn dot_rows(&self, n0: usize, count: usize, cols: usize, x: &[f32], m: usize, out: &mut [f32]) {
        let nb = cols / BLOCK;
        let qb = self.qtype.quant_bytes();
        let rows = Rows {
            qtype: self.qtype,
            q: &self.quants[n0 * nb * qb..(n0 + count) * nb * qb],
            d: &self.scales[n0 * nb..(n0 + count) * nb],
            mn: if self.qtype == QType::Q4_1 {
                &self.mins[n0 * nb..(n0 + count) * nb]
            } else {
                &[]
            },
            count,
            cols,
        };
        let mut r = 0;
        while r < m {
            let take = (m - r).min(8);
            simd::dot(
                &rows,
                &x[r * cols..(r + take) * cols],
                take,
                &mut out[r..],
                m,
            );
            r += take;
        }
    }
}

/// `count` consecutive output rows of a part: their quants, scales and (Q4_1) mins.
struct Rows<'a> {
    qtype: QType,
    q: &'a [u8],
    d: &'a [f32],
    mn: &'a [f32],
    count: usize,
    cols: usize,
}

/// GGUF tensor `name` in quantized blocks where the kernels can run it: a CPU f32 model,
/// a CPU that runs them, a 2-D tensor of a type they cover.
pub fn from_gguf(g: &Gguf, name: &str, device: Device, kind: Kind) -> Option<QuantMatrix> {
    if device != Device::Cpu || kind != Kind::Float || !available() {
        return None;
    }
    let (info, bytes) = g.raw(name)?;
    let [rows, cols] = info.shape[..] else {
        return None;
    };
    QuantMatrix::new(info.dtype, rows as usize, cols as usize, bytes)
}

/// A weight matrix [rows, cols] (`torch.nn.Linear` layout) kept in quantized blocks.
#[derive(Clone)]
pub struct QuantMatrix {
    /// Shared, so that models built on the same checkpoint in one run share blocks.
    parts: Vec<std::sync::Arc<Part>>,
    rows: usize,
    cols: usize,
}

impl QuantMatrix {
    /// The matrix of `bytes` (ggml blocks of `dtype`, `rows` × `cols`), or `None` for a
    /// type the kernels do not cover or a width that is not whole blocks.
    pub fn new(dtype: GgmlType, rows: usize, cols: usize, bytes: &[u8]) -> Option<Self> {
        let qtype = QType::of(dtype)?;
        let block_bytes = block_size(qtype);
        if cols == 0
            || !cols.is_multiple_of(BLOCK)
            || bytes.len() != rows * cols / BLOCK * block_bytes
        {
            return None;
        }
        let n_blocks = rows * cols / BLOCK;
        let qb = qtype.quant_bytes();
        let mut part = Part {
            qtype,
            rows,
            quants: Vec::with_capacity(n_blocks * qb),
            scales: Vec::with_capacity(n_blocks),
            mins: Vec::new(),
        };
        let half = |b: &[u8], i: usize| half::f16::from_le_bytes([b[i], b[i + 1]]).to_f32();
        for b in bytes.chunks_exact(block_bytes) {
            part.scales.push(half(b, 0));
            if qtype == QType::Q4_1 {
                part.mins.push(half(b, 2));
            }
            part.quants.extend_from_slice(&b[block_bytes - qb..]);
        }
        Some(QuantMatrix {
            parts: vec![std::sync::Arc::new(part)],
            rows,
            cols,
        })
    }

    /// The rows reordered: row `i` of the result is row `order[i]` of `self`.
    pub fn permute_rows(&self, order: &[usize]) -> Option<Self> {
        if order.len() != self.rows || self.parts.len() != 1 {
            return None;
        }
        let p = &self.parts[0];
        let nb = self.cols / BLOCK;
        let qb = p.qtype.quant_bytes();
        let mut out = Part {
            qtype: p.qtype,
            rows: p.rows,
            quants: Vec::with_capacity(p.quants.len()),
            scales: Vec::with_capacity(p.scales.len()),
            mins: Vec::with_capacity(p.mins.len()),
        };
        for &r in order {
            if r >= self.rows {
                return None;
            }
            out.quants
                .extend_from_slice(&p.quants[r * nb * qb..(r + 1) * nb * qb]);
            out.scales
                .extend_from_slice(&p.scales[r * nb..(r + 1) * nb]);
            if p.qtype == QType::Q4_1 {
                out.mins.extend_from_slice(&p.mins[r * nb..(r + 1) * nb]);
            }
        }
        Some(QuantMatrix {
            parts: vec![std::sync::Arc::new(out)],
            rows: self.rows,
            cols: self.cols,
        })
    }

    /// Matrices of the same width stacked by rows (as `Linear::fuse` stacks weights).
    pub fn stack(mats: Vec<QuantMatrix>) -> Option<Self> {
        let cols = mats.first()?.cols;
        if mats.iter().any(|m| m.cols != cols) {
            return None;
        }
        let rows = mats.iter().map(|m| m.rows).sum();
        let parts = mats.into_iter().flat_map(|m| m.parts).collect();
        Some(QuantMatrix { parts, rows, cols })
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// y = x · Wᵀ for `x` [m, cols] (row-major) into `y` [m, rows].
    pub fn matmul(&self, x: &[f32], m: usize, y: &mut [f32]) {
        assert!(x.len() == m * self.cols && y.len() == m * self.rows);
        // [rows, m] first, so that parallel tasks own contiguous output; one parallel
        // loop over the rows of every part
        let mut yt = vec![0f32; self.rows * m];
        let starts: Vec<usize> = self
            .parts
            .iter()
            .scan(0, |s, p| {
                let at = *s;
                *s += p.rows;
                Some(at)
            })
            .collect();
        yt.par_chunks_mut(TASK_ROWS * m)
            .enumerate()
            .for_each(|(t, out)| {
                // the task's rows, part by part
                let (mut n, end) = (t * TASK_ROWS, t * TASK_ROWS + out.len() / m);
                while n < end {
                    let k = starts.partition_point(|&s| s <= n) - 1;
                    let count = (starts[k] + self.parts[k].rows).min(end) - n;
                    let o = &mut out[(n - t * TASK_ROWS) * m..(n - t * TASK_ROWS + count) * m];
                    self.parts[k].dot_rows(n - starts[k], count, self.cols, x, m, o);
                    n += count;
                }
            });
        for (n, row) in yt.chunks_exact(m).enumerate() {
            for (r, v) in row.iter().enumerate() {
                y[r * self.rows + n] = *v;
            }
        }
    }

    /// x · Wᵀ for `x` [.., cols] when the kernels apply (CPU f32, at most `MAX_ROWS`
    /// rows); `None` means: use the f32 weights. Only generation steps call it
    /// (`nn::Products::QuantBlocks`): elsewhere a text must get the same numbers alone
    /// as in a batch, so scoring always takes the f32 GEMM.
    pub fn forward(&self, x: &Tensor) -> Option<Tensor> {
        if x.device() != Device::Cpu || x.kind() != Kind::Float {
            return None;
        }
        let mut shape = x.size();
        let cols = *shape.last()?;
        if cols as usize != self.cols {
            return None;
        }
        let m = x.numel() / self.cols;
        if m == 0 || m > MAX_ROWS {
            return None;
        }
        let x = x.contiguous();
        let mut xs = vec![0f32; m * self.cols];
        x.f_copy_data(&mut xs, m * self.cols).ok()?;
        let mut y = vec![0f32; m * self.rows];
        self.matmul(&xs, m, &mut y);
        *shape.last_mut()? = self.rows as i64;
        Tensor::f_from_slice(&y).ok()?.f_view(shape.as_slice()).ok()
    }
}

/// Bytes of one ggml block of `q` (scale, min, quants), as the GGUF file stores it.
fn block_size(q: QType) -> usize {
    q.ggml().block().map_or(0, |(_, bytes)| bytes)
}

/// The 32 weights of block `b` of a part's row, through the reference dequantizer.
fn dequant_block(qtype: QType, q: &[u8], d: f32, m: f32) -> [f32; BLOCK] {
    // rebuild the ggml block (f16 scale/min round-trip exactly: they came from f16)
    let mut raw = Vec::with_capacity(block_size(qtype));
    raw.extend_from_slice(&half::f16::from_f32(d).to_le_bytes());
    if qtype == QType::Q4_1 {
        raw.extend_from_slice(&half::f16::from_f32(m).to_le_bytes());
    }
    raw.extend_from_slice(q);
    let v = gguf::dequantize(qtype.ggml(), &raw);
    let mut out = [0f32; BLOCK];
    out.copy_from_slice(&v);
    out
}

/// Portable kernel, the reference the SIMD kernel is tested against: for each of the
/// rows, `out[n·ld + r]` = row n · row r of `x` ([m, cols], m ≤ 8), accumulated in 8
/// lanes with fused multiply-adds and reduced as `hsum8` does.
fn dot_scalar(rows: &Rows, x: &[f32], m: usize, out: &mut [f32], ld: usize) {
    let (cols, qb) = (rows.cols, rows.qtype.quant_bytes());
    let nb = cols / BLOCK;
    for n in 0..rows.count {
        let mut acc = [[0f32; 8]; 8];
        for b in n * nb..(n + 1) * nb {
            let w = dequant_block(
                rows.qtype,
                &rows.q[b * qb..(b + 1) * qb],
                rows.d[b],
                rows.mn.get(b).copied().unwrap_or(0.0),
            );
            let k = (b - n * nb) * BLOCK;
            for (r, a) in acc.iter_mut().enumerate().take(m) {
                let xs = &x[r * cols + k..r * cols + k + BLOCK];
                for (j, (wj, xj)) in w.iter().zip(xs).enumerate() {
                    a[j % 8] = wj.mul_add(*xj, a[j % 8]);
                }
            }
        }
        for (r, a) in acc.iter().enumerate().take(m) {
            out[n * ld + r] = hsum8(a);
        }
    }
}

/// The sum of 8 lanes in the order the AVX2 reduction adds them:
/// ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)).
fn hsum8(a: &[f32; 8]) -> f32 {
    ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use super::{dot_scalar, QType, Rows, BLOCK};
    use std::arch::x86_64::*;

    pub fn supported() -> bool {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }

    /// See `dot_scalar`. Safe to call with any arguments: the row count and every
    /// length the kernel reads or writes are checked here (a violated bound panics).
    pub fn dot(rows: &Rows, x: &[f32], m: usize, out: &mut [f32], ld: usize) {
        let nb = rows.cols / BLOCK;
        if m == 0 || rows.count == 0 {
            return; // no products; the kernels below are instantiated for 1..=8 rows
        }
        assert!(
            m <= 8
                && ld >= m
                && x.len() >= m * rows.cols
                && rows.q.len() >= rows.count * nb * rows.qtype.quant_bytes()
                && rows.d.len() >= rows.count * nb
                && (rows.qtype != QType::Q4_1 || rows.mn.len() >= rows.count * nb)
                && out.len() >= (rows.count - 1) * ld + m
        );
        if !super::available() {
            return dot_scalar(rows, x, m, out, ld);
        }
        // SAFETY: AVX2 and FMA were detected; the lengths checked above bound every
        // load and store of the kernel.
        unsafe {
            match m {
                1 => kernel::<1>(rows, x, out, ld),
                2 => kernel::<2>(rows, x, out, ld),
                3 => kernel::<3>(rows, x, out, ld),
                4 => kernel::<4>(rows, x, out, ld),
                5 => kernel::<5>(rows, x, out, ld),
                6 => kernel::<6>(rows, x, out, ld),
                7 => kernel::<7>(rows, x, out, ld),
                8 => kernel::<8>(rows, x, out, ld),
                _ => unreachable!("m is checked to be 1..=8"),
            }
        }
    }

    /// Eight f32 from the eight u8 in the low half of `v`, times `s`, plus `m`.
    #[inline(always)]
    unsafe fn u4(v: __m128i, s: __m256, m: __m256) -> __m256 {
        _mm256_add_ps(
            _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v)), s),
            m,
        )
    }

    /// Eight f32 from the eight u8 in the low half of `v`, minus 8, times `s`.
    #[inline(always)]
    unsafe fn u4_centered(v: __m128i, s: __m256) -> __m256 {
        let i = _mm256_sub_epi32(_mm256_cvtepu8_epi32(v), _mm256_set1_epi32(8));
        _mm256_mul_ps(_mm256_cvtepi32_ps(i), s)
    }

    /// Eight f32 from the eight i8 in the low half of `v`, times `s`.
    #[inline(always)]
    unsafe fn i8s(v: __m128i, s: __m256) -> __m256 {
        _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v)), s)
    }

    /// Sums the 8 lanes of each of 8 vectors in `hsum8`'s order; lane i of the
    /// result is the sum of `a[i]`.
    #[inline(always)]
    unsafe fn reduce8(a: [__m256; 8]) -> __m256 {
        // hadd adds neighbouring lanes: (a0+a1, a2+a3) per 128-bit half, twice
        let h01 = _mm256_hadd_ps(a[0], a[1]);
        let h23 = _mm256_hadd_ps(a[2], a[3]);
        let h45 = _mm256_hadd_ps(a[4], a[5]);
        let h67 = _mm256_hadd_ps(a[6], a[7]);
        let lo = _mm256_hadd_ps(h01, h23); // per half: sums of lanes 0-3 / 4-7 of a0..a3
        let hi = _mm256_hadd_ps(h45, h67);
        let first = _mm256_permute2f128_ps(lo, hi, 0x20);
        let second = _mm256_permute2f128_ps(lo, hi, 0x31);
        _mm256_add_ps(first, second)
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn kernel<const M: usize>(rows: &Rows, x: &[f32], out: &mut [f32], ld: usize) {
        let nib = _mm_set1_epi8(0x0F);
        let (qtype, cols) = (rows.qtype, rows.cols);
        let (qb, nb) = (qtype.quant_bytes(), cols / BLOCK);
        for n in 0..rows.count {
            let mut acc = [_mm256_setzero_ps(); M];
            for b in n * nb..(n + 1) * nb {
                let qp = rows.q.as_ptr().add(b * qb);
                let s = _mm256_set1_ps(*rows.d.get_unchecked(b));
                // w = q·d (+ min): mul then add, as the reference dequantizer rounds
                let (w0, w1, w2, w3);
                if qtype == QType::Q8_0 {
                    let v0 = _mm_loadu_si128(qp as *const __m128i);
                    let v1 = _mm_loadu_si128(qp.add(16) as *const __m128i);
                    w0 = i8s(v0, s);
                    w1 = i8s(_mm_srli_si128(v0, 8), s);
                    w2 = i8s(v1, s);
                    w3 = i8s(_mm_srli_si128(v1, 8), s);
                } else {
                    let v = _mm_loadu_si128(qp as *const __m128i);
                    let lo = _mm_and_si128(v, nib);
                    let hi = _mm_and_si128(_mm_srli_epi16(v, 4), nib);
                    if qtype == QType::Q4_1 {
                        let m = _mm256_set1_ps(*rows.mn.get_unchecked(b));
                        w0 = u4(lo, s, m);
                        w1 = u4(_mm_srli_si128(lo, 8), s, m);
                        w2 = u4(hi, s, m);
                        w3 = u4(_mm_srli_si128(hi, 8), s, m);
                    } else {
                        w0 = u4_centered(lo, s);
                        w1 = u4_centered(_mm_srli_si128(lo, 8), s);
                        w2 = u4_centered(hi, s);
                        w3 = u4_centered(_mm_srli_si128(hi, 8), s);
                    }
                }
                let xb = x.as_ptr().add((b - n * nb) * BLOCK);
                for (r, a) in acc.iter_mut().enumerate() {
                    let xp = xb.add(r * cols);
                    *a = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xp), *a);
                    *a = _mm256_fmadd_ps(w1, _mm256_loadu_ps(xp.add(8)), *a);
                    *a = _mm256_fmadd_ps(w2, _mm256_loadu_ps(xp.add(16)), *a);
                    *a = _mm256_fmadd_ps(w3, _mm256_loadu_ps(xp.add(24)), *a);
                }
            }
            let mut all = [_mm256_setzero_ps(); 8];
            all[..M].copy_from_slice(&acc);
            let mut sums = [0f32; 8];
            _mm256_storeu_ps(sums.as_mut_ptr(), reduce8(all));
            out[n * ld..n * ld + M].copy_from_slice(&sums[..M]);
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod simd {
    pub fn supported() -> bool {
        false
    }
    pub use super::dot_scalar as dot;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random ggml blocks of `dtype` with f16 scales (and mins) in a realistic range.
    fn blocks(dtype: GgmlType, rows: usize, cols: usize, seed: u64) -> Vec<u8> {
        let mut rng = crate::stats::SplitMix(seed);
        let bs = block_size(QType::of(dtype).unwrap());
        let mut out = Vec::new();
        for _ in 0..rows * cols / BLOCK {
            let mut b = vec![0u8; bs];
            for v in b.iter_mut() {
                *v = rng.below(256) as u8;
            }
            let scale = half::f16::from_f32((rng.below(1000) as f32 + 1.0) * 1e-4);
            b[..2].copy_from_slice(&scale.to_le_bytes());
            if dtype == GgmlType::Q4_1 {
                let min = half::f16::from_f32(-(rng.below(1000) as f32) * 1e-4);
                b[2..4].copy_from_slice(&min.to_le_bytes());
            }
            out.extend(b);
        }
        out
    }

    /// Every row of a one-part matrix, as the kernels take them.
    fn all_rows(qm: &QuantMatrix, rows: usize, cols: usize) -> Rows<'_> {
        let p = &qm.parts[0];
        Rows {
            qtype: p.qtype,
            q: &p.quants,
            d: &p.scales,
            mn: &p.mins,
            count: rows,
            cols,
        }
    }

    fn input(m: usize, cols: usize, seed: u64) -> Vec<f32> {
        let mut rng = crate::stats::SplitMix(seed);
        (0..m * cols)
            .map(|_| rng.below(20001) as f32 / 10000.0 - 1.0)
            .collect()
    }

    /// Every row count 1..=16 and each type: the kernel equals the dequantized f32
    /// product (f64 reference) to rounding, and the portable kernel bit for bit.
    #[test]
    fn kernels_match_dequantized_product() {
        let (rows, cols) = (70, 96);
        for dtype in [GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q8_0] {
            let bytes = blocks(dtype, rows, cols, 7);
            let w = gguf::dequantize(dtype, &bytes);
            let qm = QuantMatrix::new(dtype, rows, cols, &bytes).unwrap();
            for m in 1..=MAX_ROWS {
                let x = input(m, cols, m as u64);
                let mut y = vec![0f32; m * rows];
                qm.matmul(&x, m, &mut y);
                for r in 0..m {
                    for n in 0..rows {
                        let want: f64 = (0..cols)
                            .map(|k| w[n * cols + k] as f64 * x[r * cols + k] as f64)
                            .sum();
                        let got = y[r * rows + n] as f64;
                        assert!(
                            (got - want).abs() <= 1e-5 * (1.0 + want.abs()),
                            "{dtype:?} m={m} [{r},{n}]: {got} vs {want}"
                        );
                    }
                }
                // the portable kernel adds in the same order: identical bits
                let all = all_rows(&qm, rows, cols);
                let mut o = vec![0f32; rows * m];
                for r0 in (0..m).step_by(8) {
                    let take = (m - r0).min(8);
                    dot_scalar(
                        &all,
                        &x[r0 * cols..(r0 + take) * cols],
                        take,
                        &mut o[r0..],
                        m,
                    );
                }
                for n in 0..rows {
                    for r in 0..m {
                        assert_eq!(o[n * m + r].to_bits(), y[r * rows + n].to_bits());
                    }
                }
            }
        }
    }

    /// Regression: `simd::dot` took `m == 0` to its 8-row kernel, which then read 8
    /// rows of an empty input (undefined behaviour from a safe function).
    #[test]
    fn dot_with_no_rows_reads_and_writes_nothing() {
        let (rows, cols) = (3, 64);
        let bytes = blocks(GgmlType::Q8_0, rows, cols, 5);
        let qm = QuantMatrix::new(GgmlType::Q8_0, rows, cols, &bytes).unwrap();
        let all = all_rows(&qm, rows, cols);
        let mut out = vec![7f32; 4];
        simd::dot(&all, &[], 0, &mut out, 1);
        assert_eq!(out, vec![7f32; 4]);
        // nine rows, or an input shorter than the rows it names, is refused
        let short = vec![0f32; cols];
        let r = std::panic::catch_unwind(|| {
            let mut o = vec![0f32; rows * 2];
            simd::dot(&all, &short, 2, &mut o, 2)
        });
        assert!(r.is_err(), "an input of 1 row passed as 2 must be refused");
    }

    #[test]
    fn permute_and_stack_move_whole_rows() {
        let (rows, cols) = (6, 64);
        let bytes = blocks(GgmlType::Q4_1, rows, cols, 3);
        let w = gguf::dequantize(GgmlType::Q4_1, &bytes);
        let a = QuantMatrix::new(GgmlType::Q4_1, rows, cols, &bytes).unwrap();
        let order = [5, 0, 3, 1, 4, 2];
        let p = a.permute_rows(&order).unwrap();
        let b8 = blocks(GgmlType::Q8_0, 2, cols, 4);
        let w8 = gguf::dequantize(GgmlType::Q8_0, &b8);
        let s = QuantMatrix::stack(vec![
            p,
            QuantMatrix::new(GgmlType::Q8_0, 2, cols, &b8).unwrap(),
        ])
        .unwrap();
        assert_eq!((s.rows(), s.cols()), (8, cols));
        // one-hot inputs read single weights back
        for k in [0, 17, 63] {
            let mut x = vec![0f32; cols];
            x[k] = 1.0;
            let mut y = vec![0f32; 8];
            s.matmul(&x, 1, &mut y);
            for (i, &r) in order.iter().enumerate() {
                assert_eq!(y[i], w[r * cols + k]);
            }
            assert_eq!(y[6], w8[k]);
            assert_eq!(y[7], w8[cols + k]);
        }
        assert!(QuantMatrix::new(GgmlType::F32, 1, 32, &[0; 128]).is_none());
        assert!(QuantMatrix::new(GgmlType::Q8_0, 1, 48, &[0; 51]).is_none());
    }
}
