//! Membership signals: pure functions from per-token log-probabilities (and the
//! statistics of the predictive distribution, and the text) to the scores the
//! literature uses. Every formula lives here once, with the direction that means
//! "member"; outputs and reports read directions from `SIGNALS`.

use std::io::Write;

use serde::Serialize;

/// Which way a signal points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Lower values mean more member-like.
    Lower,
    /// Higher values mean more member-like.
    Higher,
}

/// A signal's name (its JSON field) and direction.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SignalDef {
    pub name: &'static str,
    pub direction: Direction,
    pub description: &'static str,
}

const fn def_(name: &'static str, direction: Direction, description: &'static str) -> SignalDef {
    SignalDef {
        name,
        direction,
        description,
    }
}

/// Every signal memscan computes, in output order.
pub const SIGNALS: &[SignalDef] = &[
    def_(
        "nll_mean",
        Direction::Lower,
        "mean negative log-likelihood of tokens 2..n (nats/token)",
    ),
    def_("perplexity", Direction::Lower, "exp(nll_mean)"),
    def_(
        "zlib_ratio",
        Direction::Lower,
        "nll_mean / bytes of the zlib-compressed (level 6) UTF-8 text",
    ),
    def_(
        "min_k",
        Direction::Higher,
        "mean of the lowest k% token log-probs (Min-K% Prob)",
    ),
    def_(
        "min_k_pp",
        Direction::Higher,
        "mean of the lowest k% of (log p − μ)/σ per token (Min-K%++)",
    ),
    def_(
        "window_ppl",
        Direction::Lower,
        "lowest perplexity over any 50-token window",
    ),
    def_(
        "confidence",
        Direction::Higher,
        "mean over tokens of the largest next-token probability",
    ),
    def_(
        "margin",
        Direction::Higher,
        "mean over tokens of p(true token) − largest other p",
    ),
    def_(
        "entropy",
        Direction::Lower,
        "mean over tokens of the predictive entropy (nats)",
    ),
    def_(
        "lowercase_ratio",
        Direction::Higher,
        "nll_mean of the lowercased text / nll_mean",
    ),
    def_(
        "ref_ratio",
        Direction::Lower,
        "nll_mean / nll_mean under the reference model",
    ),
    def_(
        "attn_entropy",
        Direction::Lower,
        "mean attention entropy over heads, layers and positions (nats)",
    ),
    def_(
        "grad_norm",
        Direction::Lower,
        "L2 norm of the gradient of the mean loss w.r.t. all parameters",
    ),
];

/// The definition of signal `name`.
pub fn def(name: &str) -> Option<&'static SignalDef> {
    SIGNALS.iter().find(|s| s.name == name)
}

/// Default k of Min-K% and Min-K%++ (percent).
pub const DEFAULT_MIN_K: f64 = 20.0;
/// Window length of `window_ppl` (tokens).
pub const WINDOW: usize = 50;

fn mean(v: impl ExactSizeIterator<Item = f64>) -> Option<f64> {
    let n = v.len();
    if n == 0 {
        return None;
    }
    Some(v.sum::<f64>() / n as f64)
}

/// Mean negative log-likelihood of the scored tokens; `None` when there are none.
pub fn nll_mean(token_logprobs: &[f32]) -> Option<f64> {
    mean(token_logprobs.iter().map(|&l| l as f64)).map(|m| -m)
}

/// exp(nll_mean).
pub fn perplexity(nll_mean: f64) -> f64 {
    nll_mean.exp()
}

/// Bytes of `text` (UTF-8) compressed with zlib at level 6, as Python's `zlib.compress`.
pub fn zlib_len(text: &str) -> usize {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(text.as_bytes());
    enc.finish().map(|v| v.len()).unwrap_or(0)
}

/// nll_mean / zlib-compressed length in bytes (Carlini et al. 2021).
pub fn zlib_ratio(nll_mean: f64, text: &str) -> f64 {
    nll_mean / zlib_len(text).max(1) as f64
}

/// How many of `n` tokens Min-K% keeps: max(1, ⌊k/100 · n⌋).
pub fn min_k_count(n: usize, k: f64) -> usize {
    ((k / 100.0 * n as f64).floor() as usize).max(1).min(n)
}

/// Mean of the lowest `k`% of `values` (Min-K% Prob, Shi et al. 2024, on log-probs).
pub fn min_k(values: &[f32], k: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v: Vec<f64> = values.iter().map(|&x| x as f64).collect();
    v.sort_by(|a, b| a.total_cmp(b));
    let c = min_k_count(v.len(), k);
    mean(v[..c].iter().copied())
}

/// Min-K%++ (Zhang et al. 2024): per token z = (log p(x_i) − μ_i)/σ_i with μ_i, σ_i the
/// mean and standard deviation of log p over the vocabulary under the model's own
/// distribution at that position; the mean of the lowest k% of z. Positions with σ = 0
/// (a one-hot prediction) contribute z = 0.
pub fn min_k_pp(logprobs: &[f32], mu: &[f32], sigma: &[f32], k: f64) -> Option<f64> {
    let z: Vec<f32> = logprobs
        .iter()
        .zip(mu)
        .zip(sigma)
        .map(|((&lp, &m), &s)| {
            if s > 0.0 {
                ((lp as f64 - m as f64) / s as f64) as f32
            } else {
                0.0
            }
        })
        .collect();
    min_k(&z, k)
}

/// Lowest perplexity over any `w`-token window of the scored tokens; the whole
/// text's perplexity when it has fewer than `w`.
pub fn window_ppl(logprobs: &[f32], w: usize) -> Option<f64> {
    if logprobs.is_empty() {
        return None;
    }
    if logprobs.len() <= w {
        return nll_mean(logprobs).map(perplexity);
    }
    let mut sum: f64 = logprobs[..w].iter().map(|&l| l as f64).sum();
    let mut best = sum;
    for i in w..logprobs.len() {
        sum += logprobs[i] as f64 - logprobs[i - w] as f64;
        best = best.max(sum);
    }
    Some(perplexity(-best / w as f64))
}

/// Mean of per-token values (confidence, margin).
pub fn token_mean(values: &[f32]) -> Option<f64> {
    mean(values.iter().map(|&x| x as f64))
}

/// Mean predictive entropy, from μ = E_p[log p] (entropy = −μ).
pub fn entropy(mean_logp: &[f32]) -> Option<f64> {
    mean(mean_logp.iter().map(|&m| -(m as f64)))
}

/// nll of the lowercased text / nll of the text.
pub fn lowercase_ratio(nll_lower: f64, nll_mean: f64) -> f64 {
    nll_lower / nll_mean
}

/// nll under the target / nll under the reference model.
pub fn ref_ratio(nll_mean: f64, nll_ref: f64) -> f64 {
    nll_mean / nll_ref
}

/// Mean of per-layer attention entropies.
pub fn attn_entropy(layers: &[f64]) -> Option<f64> {
    mean(layers.iter().copied())
}

/// Per scored position: μ and σ of log p under the predictive distribution, the top
/// probability, and the margin of the true token.
#[derive(Clone, Copy)]
pub struct DistStats<'a> {
    pub mu: &'a [f32],
    pub sigma: &'a [f32],
    pub confidence: &'a [f32],
    pub margin: &'a [f32],
}

/// What the one-pass signals are computed from: a text's token log-probs, the
/// per-position statistics of the predictive distribution (when computed), the text.
pub struct PassValues<'a> {
    pub logprobs: &'a [f32],
    pub stats: Option<DistStats<'a>>,
    pub text: &'a str,
    pub min_k_percent: f64,
}

/// The signals of one teacher-forced pass, by name, in `SIGNALS` order (those that
/// need the distribution statistics only when they were computed).
pub fn one_pass(v: &PassValues) -> Vec<(&'static str, Option<f64>)> {
    let lp = v.logprobs;
    let nll = nll_mean(lp);
    let mut out = vec![
        ("nll_mean", nll),
        ("perplexity", nll.map(perplexity)),
        ("zlib_ratio", nll.map(|n| zlib_ratio(n, v.text))),
        ("min_k", min_k(lp, v.min_k_percent)),
    ];
    if let Some(st) = v.stats {
        out.push(("min_k_pp", min_k_pp(lp, st.mu, st.sigma, v.min_k_percent)));
    }
    out.push(("window_ppl", window_ppl(lp, WINDOW)));
    if let Some(st) = v.stats {
        out.push(("confidence", token_mean(st.confidence)));
        out.push(("margin", token_mean(st.margin)));
        out.push(("entropy", entropy(st.mu)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn nll_and_perplexity_by_hand() {
        let lp = [(0.5f32).ln(), (0.25f32).ln()];
        let nll = nll_mean(&lp).unwrap();
        // -(ln 0.5 + ln 0.25)/2 = 1.5 ln 2
        assert!(close(nll, 1.5 * std::f64::consts::LN_2));
        assert!((perplexity(nll) - 2f64.powf(1.5)).abs() < 1e-6);
        assert_eq!(nll_mean(&[]), None);
    }

    #[test]
    fn min_k_by_hand() {
        let v = [
            -1.0f32, -5.0, -2.0, -0.5, -3.0, -4.0, -0.1, -0.2, -0.3, -0.4,
        ];
        // 20% of 10 = 2 lowest: -5, -4
        assert!(close(min_k(&v, 20.0).unwrap(), -4.5));
        // 5% of 10 = 0.5 → at least 1: -5
        assert!(close(min_k(&v, 5.0).unwrap(), -5.0));
        assert!(close(
            min_k(&v, 100.0).unwrap(),
            v.iter().map(|&x| x as f64).sum::<f64>() / 10.0
        ));
        assert_eq!(min_k_count(3, 20.0), 1);
        assert_eq!(min_k_count(14, 20.0), 2);
    }

    #[test]
    fn min_k_pp_by_hand() {
        // z = (lp − μ)/σ: (−1−(−2))/1 = 1, (−3−(−2))/2 = −0.5, (−2−(−1))/0.5 = −2
        let z = min_k_pp(
            &[-1.0, -3.0, -2.0],
            &[-2.0, -2.0, -1.0],
            &[1.0, 2.0, 0.5],
            50.0,
        )
        .unwrap();
        assert!(close(z, -2.0)); // 50% of 3 → 1 lowest
        let z = min_k_pp(
            &[-1.0, -3.0, -2.0],
            &[-2.0, -2.0, -1.0],
            &[1.0, 2.0, 0.5],
            100.0,
        )
        .unwrap();
        assert!(close(z, (1.0 - 0.5 - 2.0) / 3.0));
    }

    #[test]
    fn window_ppl_by_hand() {
        let mut lp = vec![-2.0f32; 60];
        for x in lp.iter_mut().skip(5).take(50) {
            *x = -0.5;
        }
        // the best 50-window is exactly the −0.5 run
        assert!(close(window_ppl(&lp, 50).unwrap(), (0.5f64).exp()));
        // shorter than the window: whole-text perplexity
        assert!(close(window_ppl(&[-1.0, -3.0], 50).unwrap(), 2f64.exp()));
    }

    #[test]
    fn zlib_matches_python() {
        // python3 -c "import zlib; print(len(zlib.compress(b'hello hello hello hello')))" → 16
        assert_eq!(zlib_len("hello hello hello hello"), 16);
        // len(zlib.compress(b'')) → 8
        assert_eq!(zlib_len(""), 8);
        assert!(close(zlib_ratio(3.2, "hello hello hello hello"), 0.2));
    }

    #[test]
    fn means_and_ratios() {
        assert!(close(entropy(&[-1.0, -3.0]).unwrap(), 2.0));
        assert!(close(token_mean(&[0.25, 0.75]).unwrap(), 0.5));
        assert!(close(lowercase_ratio(3.0, 2.0), 1.5));
        assert!(close(ref_ratio(1.0, 4.0), 0.25));
        assert!(close(attn_entropy(&[1.0, 2.0, 3.0]).unwrap(), 2.0));
    }

    #[test]
    fn every_signal_has_a_direction() {
        assert_eq!(def("nll_mean").unwrap().direction, Direction::Lower);
        assert_eq!(def("min_k_pp").unwrap().direction, Direction::Higher);
        assert!(def("nope").is_none());
        let mut names: Vec<_> = SIGNALS.iter().map(|s| s.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), SIGNALS.len());
    }
}
