//! Membership signals: pure functions from per-token log-probabilities (and the
//! text) to the scores the literature uses. Every formula lives here once, with
//! the direction that means "member".

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

/// Every signal memscan computes, in output order.
pub const SIGNALS: &[SignalDef] = &[
    SignalDef {
        name: "nll_mean",
        direction: Direction::Lower,
        description: "mean negative log-likelihood over tokens 2..n (nats/token)",
    },
    SignalDef {
        name: "perplexity",
        direction: Direction::Lower,
        description: "exp(nll_mean)",
    },
];

/// The definition of signal `name`.
pub fn def(name: &str) -> Option<&'static SignalDef> {
    SIGNALS.iter().find(|s| s.name == name)
}

/// Mean negative log-likelihood of the scored tokens; `None` when there are none.
pub fn nll_mean(token_logprobs: &[f32]) -> Option<f64> {
    if token_logprobs.is_empty() {
        return None;
    }
    let sum: f64 = token_logprobs.iter().map(|&l| l as f64).sum();
    Some(-sum / token_logprobs.len() as f64)
}

/// exp(nll_mean).
pub fn perplexity(nll_mean: f64) -> f64 {
    nll_mean.exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nll_and_perplexity_by_hand() {
        let lp = [(0.5f32).ln(), (0.25f32).ln()];
        let nll = nll_mean(&lp).unwrap();
        // -(ln 0.5 + ln 0.25)/2 = 1.5 ln 2
        assert!((nll - 1.5 * std::f64::consts::LN_2).abs() < 1e-7);
        // perplexity = 2^1.5
        assert!((perplexity(nll) - 2f64.powf(1.5)).abs() < 1e-6);
        assert_eq!(nll_mean(&[]), None);
    }

    #[test]
    fn every_signal_has_a_direction() {
        assert_eq!(def("nll_mean").unwrap().direction, Direction::Lower);
        assert!(def("nope").is_none());
    }
}
