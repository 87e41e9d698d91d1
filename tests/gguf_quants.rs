//! Dequantization of every supported ggml type against gguf-py's reference
//! implementation, on random blocks written by tests/reference/hf_reference.py.

mod common;
use common::*;
use memscan::model::gguf::Gguf;

/// Dequantized values against gguf-py's, relative to the tensor's largest |value|.
const DEQUANT_REL: f64 = 1e-6;

#[test]
fn dequantization_matches_gguf_py() {
    let data = reference_data();
    let g = Gguf::open(&data.join("quants.gguf")).unwrap();
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("quants.json")).unwrap()).unwrap();
    let shape: Vec<i64> = expected["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let tensors = expected["tensors"].as_object().unwrap();
    assert_eq!(
        tensors.len(),
        11,
        "F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q4_K Q5_K Q6_K"
    );
    for (name, want) in tensors {
        let (got, dims) = g.dequantize(name).unwrap();
        assert_eq!(dims, shape, "{name}");
        let want: Vec<f64> = want
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(got.len(), want.len(), "{name}");
        let max = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (*a as f64 - b).abs())
            .fold(0.0, f64::max);
        // relative to the tensor's largest value (floored so an all-zero tensor still
        // compares): both sides compute d·q (+ m) in IEEE f32, elementwise with no
        // reduction, so the result does not depend on the CPU; they differ at most by a
        // few roundings where they group the scale products differently (~2⁻²² ≈ 2.4e-7
        // of the scale). A layout slip (nibble order, scale or min index, sign, Q5 high
        // bit) errs by whole quantization steps in every block (1/127 of a Q8_0 block's
        // range at the finest), ~1e-2 of the scale: 10⁴× the bound.
        let scale = want.iter().map(|v| v.abs()).fold(0.0, f64::max).max(1e-6);
        assert!(
            max <= DEQUANT_REL * scale,
            "{name}: max |Δ| = {max} (scale {scale})"
        );
    }
}
