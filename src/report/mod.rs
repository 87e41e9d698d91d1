//! Report rendering: versioned serde types and the formats people and tools read.
//! The report code never computes a signal or a finding; it only renders them.

pub mod compare;
pub mod folder;
pub mod html;
pub mod markdown;
pub mod rows;
pub mod sarif;
pub mod schema;

/// Version of memscan's JSON output schemas (detect output, reports).
pub const SCHEMA_VERSION: &str = "3.5";

/// The common scale (low, high) of a null distribution's quantiles and a record's
/// value, for the forget-check pictures; None when nothing is finite.
pub(crate) fn scale(q: &[f64], x: f64) -> Option<(f64, f64)> {
    let (lo, hi) = q
        .iter()
        .chain(std::iter::once(&x))
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    if !lo.is_finite() {
        return None;
    }
    Some(if hi > lo {
        (lo, hi)
    } else {
        (lo - 1.0, hi + 1.0)
    })
}
