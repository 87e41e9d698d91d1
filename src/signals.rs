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

/// The pass over a text that a signal needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Pass {
    /// The teacher-forced pass: token log-probs.
    Main,
    /// The same pass with the statistics of the predictive distribution.
    Distribution,
    /// A second pass over the lowercased text.
    Lowercase,
    /// A pass of the reference model.
    Reference,
    /// The explicit-softmax attention path.
    Attention,
    /// A backward pass.
    Gradients,
    /// The main pass of the text after a prefix of known non-members.
    Prefixed,
    /// The main pass, calibrated by token frequencies of a reference corpus.
    Frequency,
    /// Passes over neighbours of the text (one token substituted each).
    Neighbours,
    /// A pass of a model retrained without the members (unlearning's gold standard):
    /// not an attack on the target, the baseline of MUSE's PrivLeak.
    Retrain,
}

/// A signal's name (its JSON field), direction, definition and the pass it needs.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SignalDef {
    pub name: &'static str,
    pub direction: Direction,
    pub description: &'static str,
    pub pass: Pass,
}

const fn def_(
    name: &'static str,
    direction: Direction,
    description: &'static str,
    pass: Pass,
) -> SignalDef {
    SignalDef {
        name,
        direction,
        description,
        pass,
    }
}

/// Every signal memscan computes, in output order.
pub const SIGNALS: &[SignalDef] = &[
    def_(
        "nll_mean",
        Direction::Lower,
        "mean negative log-likelihood of tokens 2..n (nats/token)",
        Pass::Main,
    ),
    def_("perplexity", Direction::Lower, "exp(nll_mean)", Pass::Main),
    def_(
        "zlib_ratio",
        Direction::Lower,
        "nll_mean / bytes of the zlib-compressed (level 6) UTF-8 text",
        Pass::Main,
    ),
    def_(
        "min_k",
        Direction::Higher,
        "mean of the lowest k% token log-probs (Min-K% Prob)",
        Pass::Main,
    ),
    def_(
        "min_k_pp",
        Direction::Higher,
        "mean of the lowest k% of (log p − μ)/σ per token (Min-K%++)",
        Pass::Distribution,
    ),
    def_(
        "window_ppl",
        Direction::Lower,
        "lowest perplexity over any 50-token window",
        Pass::Main,
    ),
    def_(
        "confidence",
        Direction::Higher,
        "mean over tokens of the largest next-token probability",
        Pass::Distribution,
    ),
    def_(
        "margin",
        Direction::Higher,
        "mean over tokens of p(true token) − largest other p",
        Pass::Distribution,
    ),
    def_(
        "entropy",
        Direction::Lower,
        "mean over tokens of the predictive entropy (nats)",
        Pass::Distribution,
    ),
    def_(
        "lowercase_ratio",
        Direction::Higher,
        "nll_mean of the lowercased text / nll_mean",
        Pass::Lowercase,
    ),
    def_(
        "ref_ratio",
        Direction::Lower,
        "nll_mean / nll_mean under the reference model",
        Pass::Reference,
    ),
    def_(
        "lira",
        Direction::Higher,
        "offline LiRA (Carlini et al. 2022): (φ − μ)/σ, φ = logit of exp(−nll_mean) under the target, μ and σ (population sd) of φ over the reference models (≥ 2)",
        Pass::Reference,
    ),
    def_(
        "rmia",
        Direction::Higher,
        "offline RMIA (Zarifzadeh et al. 2024): share of population texts z with LR(x)/LR(z) > 1, LR = p_target / ((1+a)/2 · mean p_reference + (1−a)/2), p = exp(−nll_mean), a = 0.3",
        Pass::Reference,
    ),
    def_(
        "neighbourhood",
        Direction::Lower,
        "neighbourhood attack (Mattern et al. 2023): nll_mean − the mean nll_mean of N neighbours, each the text with one token replaced by the model's best other token there",
        Pass::Neighbours,
    ),
    def_(
        "recall",
        Direction::Higher,
        "ReCaLL: nll_mean of the text after a prefix of non-member texts / nll_mean (Xie et al. 2024)",
        Pass::Prefixed,
    ),
    def_(
        "con_recall",
        Direction::Higher,
        "Con-ReCall: (nll_mean after a non-member prefix − γ · nll_mean after a member prefix) / nll_mean (Wang et al. 2024)",
        Pass::Prefixed,
    ),
    def_(
        "dc_pdd",
        Direction::Higher,
        "DC-PDD: mean over each token id's first occurrence of min(p · ln(1/f), a), f its Laplace-smoothed frequency in a reference corpus, a = 0.01 (Zhang et al. 2024)",
        Pass::Frequency,
    ),
    def_(
        "retrain_min_k",
        Direction::Higher,
        "min_k under the model retrained without the members (the baseline of PrivLeak, not an attack on the target)",
        Pass::Retrain,
    ),
    def_(
        "attn_entropy",
        Direction::Lower,
        "mean attention entropy over heads, layers and positions (nats)",
        Pass::Attention,
    ),
    def_(
        "grad_norm",
        Direction::Lower,
        "L2 norm of the gradient of the mean loss w.r.t. all parameters",
        Pass::Gradients,
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

/// Per-token predictive entropy, from μ = E_p[log p] at each position.
pub fn token_entropy(mean_logp: &[f32]) -> Vec<f32> {
    mean_logp.iter().map(|m| -m).collect()
}

/// MUSE's PrivLeak (Shi et al. 2024), in percent: (AUC − AUC_retrain) / AUC_retrain ·
/// 100, the AUCs of the same attack telling members (the forget set) from held-out
/// texts on the target and on a model retrained without the members. Near 0: the
/// target leaks as much as a model that never saw the members; positive: more.
pub fn privleak(auc: f64, auc_retrain: f64) -> Option<f64> {
    (auc_retrain > 0.0).then(|| (auc - auc_retrain) / auc_retrain * 100.0)
}

/// nll of the lowercased text / nll of the text.
pub fn lowercase_ratio(nll_lower: f64, nll_mean: f64) -> f64 {
    nll_lower / nll_mean
}

/// nll under the target / nll under the reference model.
pub fn ref_ratio(nll_mean: f64, nll_ref: f64) -> f64 {
    nll_mean / nll_ref
}

/// The mean of the defined values, `None` unless every value is defined.
fn mean_all(v: &[Option<f64>]) -> Option<f64> {
    let all: Option<Vec<f64>> = v.iter().copied().collect();
    all.and_then(|a| mean(a.into_iter()))
}

/// logit(exp(−nll)) = −nll − ln(1 − e^{−nll}): LiRA's logit-scaled confidence of a text
/// whose geometric-mean token probability is e^{−nll}.
pub fn logit_confidence(nll: f64) -> f64 {
    -nll - (-(-nll).exp_m1()).ln()
}

/// Offline LiRA (Carlini et al. 2022): the target's logit-scaled confidence against a
/// Gaussian fitted to the reference (OUT) models' confidences on the same text,
/// standardized: (φ_T − μ)/σ with σ the population standard deviation (LiRA's
/// `np.std`). Λ = Φ(z) in the paper ranks the same; z does not saturate. `None` with
/// fewer than two references or σ = 0.
pub fn lira(nll_target: f64, nll_refs: &[f64]) -> Option<f64> {
    if nll_refs.len() < 2 {
        return None;
    }
    let phi: Vec<f64> = nll_refs.iter().map(|&n| logit_confidence(n)).collect();
    let n = phi.len() as f64;
    let mu = phi.iter().sum::<f64>() / n;
    let sd = (phi.iter().map(|p| (p - mu).powi(2)).sum::<f64>() / n).sqrt();
    (sd > 1e-12).then(|| (logit_confidence(nll_target) - mu) / sd)
}

/// RMIA's offline coefficient a: p(x) ≈ (1+a)/2 · p_OUT(x) + (1−a)/2 (ml_privacy_meter's default).
pub const RMIA_OFFLINE_A: f64 = 0.3;

/// ln of RMIA's ratio p(x | θ) / p(x) with p = exp(−nll_mean): the target's over the
/// offline estimate of p(x) from the reference (OUT) models.
pub fn rmia_log_ratio(nll_target: f64, nll_refs: &[f64], a: f64) -> Option<f64> {
    let out = mean(nll_refs.iter().map(|n| (-n).exp()))?;
    Some(-nll_target - ((1.0 + a) / 2.0 * out + (1.0 - a) / 2.0).ln())
}

/// RMIA's population: the log ratios of known non-member texts, sorted.
#[derive(Debug, Clone)]
pub struct Population {
    log_ratios: Vec<f64>,
}

impl Population {
    pub fn new(mut log_ratios: Vec<f64>) -> Population {
        log_ratios.retain(|v| v.is_finite());
        log_ratios.sort_by(f64::total_cmp);
        Population { log_ratios }
    }

    pub fn len(&self) -> usize {
        self.log_ratios.len()
    }

    pub fn is_empty(&self) -> bool {
        self.log_ratios.is_empty()
    }
}

/// Offline RMIA (Zarifzadeh et al. 2024) with γ = 1: the share of population texts z
/// whose likelihood ratio x beats, LR(x)/LR(z) > 1.
pub fn rmia(log_ratio: f64, population: &Population) -> Option<f64> {
    let z = &population.log_ratios;
    if z.is_empty() || !log_ratio.is_finite() {
        return None;
    }
    Some(z.partition_point(|&v| v < log_ratio) as f64 / z.len() as f64)
}

/// The neighbourhood attack's score (Mattern et al. 2023): the text's loss minus the
/// mean loss of its neighbours. A member sits in a dip: lower is member.
pub fn neighbourhood(nll: f64, neighbours_mean: f64) -> f64 {
    nll - neighbours_mean
}

/// Which tokens the neighbourhood attack substitutes, one per neighbour: up to `n`
/// positions spread evenly over 1..len (position 0 has no context), p_j = 1 + ⌊j·(len−1)/n⌋.
pub fn neighbour_positions(len: usize, n: usize) -> Vec<usize> {
    if len < 2 || n == 0 {
        return Vec::new();
    }
    let k = n.min(len - 1);
    (0..k).map(|j| 1 + j * (len - 1) / k).collect()
}

/// ReCaLL (Xie et al. 2024): LL(x | P) / LL(x) for a prefix P of non-member texts,
/// LL the mean log-likelihood of x's tokens; as a ratio of mean NLLs (the signs
/// cancel). A member's likelihood drops more when P comes first: higher is member.
pub fn recall(nll_prefixed: f64, nll_mean: f64) -> f64 {
    nll_prefixed / nll_mean
}

/// Con-ReCall (Wang et al. 2024): (LL(x | P_non) − γ·LL(x | P_mem)) / LL(x), P_non a
/// prefix of non-members, P_mem one of members; in mean NLLs (LL = −nll):
/// (nll_non − γ·nll_mem) / nll. Members lose more to the non-member prefix and gain
/// from the member one: higher is member. γ = 0 is ReCaLL.
pub fn con_recall(
    nll_nonmember_prefixed: f64,
    nll_member_prefixed: f64,
    nll_mean: f64,
    gamma: f64,
) -> f64 {
    (nll_nonmember_prefixed - gamma * nll_member_prefixed) / nll_mean
}

/// DC-PDD's cap `a` on each token's term (the paper's and its code's default).
pub const DC_PDD_CAP: f64 = 0.01;

/// DC-PDD (Zhang et al. 2024): for each token id at its first occurrence among the
/// scored tokens, α = p(x_i) · ln(1 / f(x_i)) with f the token's smoothed frequency in
/// a reference corpus, capped at `cap`; the mean of the α. `ids[i]` is the token
/// whose log-probability is `logprobs[i]`.
pub fn dc_pdd(
    ids: &[u32],
    logprobs: &[f32],
    freq: &crate::token_freq::TokenFreq,
    cap: f64,
) -> Option<f64> {
    let mut seen = std::collections::HashSet::new();
    let alphas: Vec<f64> = ids
        .iter()
        .zip(logprobs)
        .filter(|(id, _)| seen.insert(**id))
        .map(|(&id, &lp)| ((lp as f64).exp() * -freq.smoothed(id).ln()).min(cap))
        .collect();
    mean(alphas.into_iter())
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

/// One signal of one text. `NotRun`: its pass was not asked for (the field is left
/// out of JSON); `Undefined`: the pass ran but gave no finite value (JSON null).
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Measured<T = f64> {
    #[default]
    NotRun,
    Undefined,
    Value(T),
}

impl<T> Measured<T> {
    /// A pass's result: `None` is undefined.
    pub fn from_opt(v: Option<T>) -> Self {
        v.map_or(Measured::Undefined, Measured::Value)
    }

    pub fn not_run(&self) -> bool {
        matches!(self, Measured::NotRun)
    }

    pub fn value(&self) -> Option<&T> {
        match self {
            Measured::Value(v) => Some(v),
            _ => None,
        }
    }
}

impl Measured<f64> {
    /// The number, when there is a finite one.
    pub fn get(&self) -> Option<f64> {
        self.value().copied().filter(|v| v.is_finite())
    }
}

impl Serialize for Measured<f64> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.get() {
            Some(v) => s.serialize_f64(v),
            None => s.serialize_none(),
        }
    }
}

impl Serialize for Measured<Vec<f64>> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.value() {
            Some(v) => v.serialize(s),
            None => s.serialize_none(),
        }
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Measured<T> {
    /// A field that is present reads as a value or (null) as undefined; a missing
    /// field is `NotRun` through `#[serde(default)]`.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(d).map(Measured::from_opt)
    }
}

/// Every membership signal of one text, in `SIGNALS` order: the JSON object that
/// `score` lines, scan samples and reports carry. Made by `SignalSet::new` from the
/// passes over the text; formulas stay in the functions above.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SignalSet {
    #[serde(skip_serializing_if = "Measured::not_run")]
    pub nll_mean: Measured,
    #[serde(skip_serializing_if = "Measured::not_run")]
    pub perplexity: Measured,
    #[serde(skip_serializing_if = "Measured::not_run")]
    pub zlib_ratio: Measured,
    #[serde(skip_serializing_if = "Measured::not_run")]
    pub min_k: Measured,
    #[serde(skip_serializing_if = "Measured::not_run")]
    pub min_k_pp: Measured,
    #[serde(skip_serializing_if = "Measured::not_run")]
    pub window_ppl: Measured,
    #[serde(skip_serializing_if = "Measured::not_run")]
    pub confidence: Measured,
    #[serde(skip_serializing_if = "Measured::not_run")]
    pub margin: Measured,
    #[serde(skip_serializing_if = "Measured::not_run")]
    pub entropy: Measured,
    #[serde(skip_serializing_if = "Measured::not_run")]
    pub lowercase_ratio: Measured,
    #[serde(skip_serializing_if = "Measured::not_run")]
    pub ref_ratio: Measured,
    #[serde(skip_serializing_if = "Measured::not_run")]
    pub lira: Measured,
    #[serde(skip_serializing_if = "Measured::not_run")]
    pub rmia: Measured,
    #[serde(skip_serializing_if = "Measured::not_run")]
    pub neighbourhood: Measured,
    #[serde(skip_serializing_if = "Measured::not_run")]
    pub recall: Measured,
    #[serde(skip_serializing_if = "Measured::not_run")]
    pub con_recall: Measured,
    #[serde(skip_serializing_if = "Measured::not_run")]
    pub dc_pdd: Measured,
    #[serde(skip_serializing_if = "Measured::not_run")]
    pub retrain_min_k: Measured,
    #[serde(skip_serializing_if = "Measured::not_run")]
    pub attn_entropy: Measured,
    /// Per layer: the mean attention entropy (`score --attention`).
    #[serde(skip_serializing_if = "Measured::not_run")]
    pub attn_entropy_layers: Measured<Vec<f64>>,
    #[serde(skip_serializing_if = "Measured::not_run")]
    pub grad_norm: Measured,
    /// Per layer: the gradient norm (`score --gradients`).
    #[serde(skip_serializing_if = "Measured::not_run")]
    pub grad_norm_layers: Measured<Vec<f64>>,
}

/// The reference models' passes over one text, for `ref_ratio`, `lira` and `rmia`.
#[derive(Clone, Copy)]
pub struct References<'a> {
    /// nll_mean under the target over the same text as the references'.
    pub target: Option<f64>,
    /// nll_mean under each reference model.
    pub nll: &'a [Option<f64>],
    /// RMIA's population and its coefficient a, when given.
    pub population: Option<&'a RmiaPopulation>,
}

/// RMIA's population with the offline coefficient its ratios were computed with.
#[derive(Debug, Clone)]
pub struct RmiaPopulation {
    pub population: Population,
    pub a: f64,
}

/// The passes over one text that its signals come from: the main teacher-forced
/// pass, and each optional pass when it ran.
pub struct Passes<'a> {
    pub main: PassValues<'a>,
    /// nll_mean of the lowercased text (`lowercase_ratio`).
    pub lowercase_nll: Option<Option<f64>>,
    /// (nll_mean under the target, nll_mean under the reference model) of the same
    /// text (`ref_ratio`); the target's may cover more than `main` (a scan sample's
    /// prompt and continuation).
    pub reference: Option<(Option<f64>, Option<f64>)>,
    /// Several reference models (`ref_ratio` against their mean, `lira`, `rmia`); takes
    /// the place of `reference`.
    pub references: Option<References<'a>>,
    /// nll_mean of each neighbour of the text (`neighbourhood`).
    pub neighbours: Option<&'a [Option<f64>]>,
    /// nll_mean of the text's tokens after the non-member prefix (`recall`).
    pub prefixed_nll: Option<Option<f64>>,
    /// nll_mean of the text's tokens after the member prefix, and γ (`con_recall`,
    /// with `prefixed_nll`).
    pub member_prefixed: Option<(Option<f64>, f64)>,
    /// The scored tokens' ids (tokens 2..n, one per log-prob of `main`) and the
    /// reference corpus's token frequencies (`dc_pdd`).
    pub frequency: Option<(&'a [u32], &'a crate::token_freq::TokenFreq)>,
    /// The text's token log-probs under the retrained model (`retrain_min_k`).
    pub retrain: Option<&'a [f32]>,
    /// Per-layer attention entropies (`attn_entropy`).
    pub attention: Option<&'a [f64]>,
    /// The gradient norm and its per-layer norms (`grad_norm`).
    pub gradients: Option<Option<(f64, Vec<f64>)>>,
}

impl<'a> Passes<'a> {
    /// Only the main pass.
    pub fn main(main: PassValues<'a>) -> Self {
        Passes {
            main,
            lowercase_nll: None,
            reference: None,
            references: None,
            neighbours: None,
            prefixed_nll: None,
            member_prefixed: None,
            frequency: None,
            retrain: None,
            attention: None,
            gradients: None,
        }
    }
}

impl SignalSet {
    /// The signals of one text from its passes.
    pub fn new(p: Passes) -> SignalSet {
        let v = &p.main;
        let lp = v.logprobs;
        let nll = nll_mean(lp);
        let m = Measured::from_opt;
        let mut s = SignalSet {
            nll_mean: m(nll),
            perplexity: m(nll.map(perplexity)),
            zlib_ratio: m(nll.map(|n| zlib_ratio(n, v.text))),
            min_k: m(min_k(lp, v.min_k_percent)),
            window_ppl: m(window_ppl(lp, WINDOW)),
            ..SignalSet::default()
        };
        if let Some(st) = v.stats {
            s.min_k_pp = m(min_k_pp(lp, st.mu, st.sigma, v.min_k_percent));
            s.confidence = m(token_mean(st.confidence));
            s.margin = m(token_mean(st.margin));
            s.entropy = m(entropy(st.mu));
        }
        if let Some(lower) = p.lowercase_nll {
            s.lowercase_ratio = m(lower.zip(nll).map(|(l, n)| lowercase_ratio(l, n)));
        }
        if let Some((target, reference)) = p.reference {
            s.ref_ratio = m(target.zip(reference).map(|(t, r)| ref_ratio(t, r)));
        }
        if let Some(r) = p.references {
            let refs = mean_all(r.nll);
            s.ref_ratio = m(r.target.zip(refs).map(|(t, m)| ref_ratio(t, m)));
            let all: Option<Vec<f64>> = r.nll.iter().copied().collect();
            let both = r.target.zip(all);
            if r.nll.len() >= 2 {
                s.lira = m(both.as_ref().and_then(|(t, a)| lira(*t, a)));
            }
            if let Some(pop) = r.population {
                s.rmia = m(both
                    .as_ref()
                    .and_then(|(t, a)| rmia_log_ratio(*t, a, pop.a))
                    .and_then(|lr| rmia(lr, &pop.population)));
            }
        }
        if let Some(nb) = p.neighbours {
            s.neighbourhood = m(nll.zip(mean_all(nb)).map(|(n, b)| neighbourhood(n, b)));
        }
        if let Some(prefixed) = p.prefixed_nll {
            s.recall = m(prefixed.zip(nll).map(|(c, n)| recall(c, n)));
            if let Some((member, gamma)) = p.member_prefixed {
                s.con_recall = m(prefixed
                    .zip(member)
                    .zip(nll)
                    .map(|((c, mem), n)| con_recall(c, mem, n, gamma)));
            }
        }
        if let Some((ids, freq)) = p.frequency {
            s.dc_pdd = m(dc_pdd(ids, lp, freq, DC_PDD_CAP));
        }
        if let Some(lp) = p.retrain {
            s.retrain_min_k = m(min_k(lp, v.min_k_percent));
        }
        if let Some(layers) = p.attention {
            s.attn_entropy = m(attn_entropy(layers));
            s.attn_entropy_layers = Measured::Value(layers.to_vec());
        }
        if let Some(g) = p.gradients {
            s.grad_norm = m(g.as_ref().map(|g| g.0));
            s.grad_norm_layers = Measured::from_opt(g.map(|g| g.1));
        }
        s
    }

    /// Signal `name` (a `SIGNALS` name); `NotRun` for an unknown name.
    pub fn slot(&self, name: &str) -> &Measured {
        const NOT_RUN: &Measured = &Measured::NotRun;
        match name {
            "nll_mean" => &self.nll_mean,
            "perplexity" => &self.perplexity,
            "zlib_ratio" => &self.zlib_ratio,
            "min_k" => &self.min_k,
            "min_k_pp" => &self.min_k_pp,
            "window_ppl" => &self.window_ppl,
            "confidence" => &self.confidence,
            "margin" => &self.margin,
            "entropy" => &self.entropy,
            "lowercase_ratio" => &self.lowercase_ratio,
            "ref_ratio" => &self.ref_ratio,
            "lira" => &self.lira,
            "rmia" => &self.rmia,
            "neighbourhood" => &self.neighbourhood,
            "recall" => &self.recall,
            "con_recall" => &self.con_recall,
            "dc_pdd" => &self.dc_pdd,
            "retrain_min_k" => &self.retrain_min_k,
            "attn_entropy" => &self.attn_entropy,
            "grad_norm" => &self.grad_norm,
            _ => NOT_RUN,
        }
    }

    /// The finite value of signal `name`, if any.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.slot(name).get()
    }
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
        assert!(close(recall(3.0, 2.0), 1.5));
        assert!(close(con_recall(3.0, 1.0, 2.0, 1.0), 1.0));
        assert!(close(con_recall(3.0, 1.0, 2.0, 0.0), recall(3.0, 2.0)));
        assert!(close(neighbourhood(2.0, 2.5), -0.5));
        assert_eq!(neighbour_positions(5, 10), vec![1, 2, 3, 4]);
        assert_eq!(neighbour_positions(11, 2), vec![1, 6]);
        assert!(neighbour_positions(1, 3).is_empty());
        // MUSE: (0.9 − 0.5) / 0.5 · 100
        assert!(close(privleak(0.9, 0.5).unwrap(), 80.0));
        assert_eq!(privleak(0.9, 0.0), None);
    }

    #[test]
    fn lira_and_rmia_by_hand() {
        // φ(nll) = logit(e^{−nll}); at nll = ln 2, p = 1/2 and φ = 0
        assert!(close(logit_confidence(std::f64::consts::LN_2), 0.0));
        let phi = |n: f64| {
            let p = (-n).exp();
            (p / (1.0 - p)).ln()
        };
        let (t, r) = (0.5, [1.0, 2.0]);
        let (a, b) = (phi(r[0]), phi(r[1]));
        let want = (phi(t) - (a + b) / 2.0) / ((a - b).abs() / 2.0);
        assert!(close(lira(t, &r).unwrap(), want));
        assert_eq!(lira(t, &[1.0]), None);
        assert_eq!(lira(t, &[1.0, 1.0]), None);
        // RMIA: ln p_T − ln((1+a)/2 · mean p_R + (1−a)/2)
        let lr = rmia_log_ratio(t, &r, 0.3).unwrap();
        let pr = ((-1.0f64).exp() + (-2.0f64).exp()) / 2.0;
        assert!(close(lr, -0.5 - (0.65 * pr + 0.35).ln()));
        let pop = Population::new(vec![lr - 1.0, lr, lr + 1.0, f64::NAN]);
        assert_eq!(pop.len(), 3);
        // beats only the lower one: a tie is not a win (LR(x)/LR(z) > 1)
        assert!(close(rmia(lr, &pop).unwrap(), 1.0 / 3.0));
        assert_eq!(rmia(lr, &Population::new(vec![])), None);
    }

    #[test]
    fn dc_pdd_by_hand() {
        // counts 1, 2, 5 (total 8, V 3): f = 2/11, 3/11, 6/11 after add-one smoothing
        let freq = crate::token_freq::TokenFreq::from_counts(vec![1, 2, 5]);
        let (p0, p2) = (0.5f64, 0.001f64);
        let a0 = p0 * (11.0f64 / 2.0).ln(); // 0.85: capped at a
        let a2 = p2 * (11.0f64 / 6.0).ln(); // 6.1e-4: under the cap
        assert!(a0 > DC_PDD_CAP && a2 < DC_PDD_CAP);
        // token 0 occurs twice: only its first occurrence counts
        let lp = [p0.ln() as f32, p2.ln() as f32, -0.1];
        let got = dc_pdd(&[0, 2, 0], &lp, &freq, DC_PDD_CAP).unwrap();
        assert!((got - (DC_PDD_CAP + a2) / 2.0).abs() < 1e-9, "{got}");
        // without the cap: the plain mean of the first-occurrence terms
        let got = dc_pdd(&[0, 2, 0], &lp, &freq, f64::INFINITY).unwrap();
        assert!((got - (a0 + a2) / 2.0).abs() < 1e-7, "{got}");
        assert_eq!(dc_pdd(&[], &[], &freq, DC_PDD_CAP), None);
    }

    /// Every named field of `SignalSet` is a `SIGNALS` entry reachable by `slot`,
    /// and JSON keeps `SIGNALS` order, null for undefined, nothing for not run.
    #[test]
    fn signal_set_fields_follow_signals() {
        let lp = [-1.0f32, -2.0, -0.5];
        let st = DistStats {
            mu: &[-1.5, -1.5, -1.5],
            sigma: &[1.0, 1.0, 0.0],
            confidence: &[0.5, 0.4, 0.9],
            margin: &[0.1, -0.2, 0.3],
        };
        let layers = [1.0, 3.0];
        let freq = crate::token_freq::TokenFreq::from_counts(vec![1, 2, 3]);
        let pop = RmiaPopulation {
            population: Population::new(vec![0.1, -0.2]),
            a: RMIA_OFFLINE_A,
        };
        let set = SignalSet::new(Passes {
            main: PassValues {
                logprobs: &lp,
                stats: Some(st),
                text: "abc",
                min_k_percent: 20.0,
            },
            lowercase_nll: Some(None),
            reference: None,
            references: Some(References {
                target: Some(2.0),
                nll: &[Some(3.0), Some(5.0)],
                population: Some(&pop),
            }),
            neighbours: Some(&[Some(1.0), Some(3.0)]),
            prefixed_nll: Some(Some(1.5)),
            member_prefixed: Some((Some(1.2), 1.0)),
            frequency: Some((&[0, 1, 0], &freq)),
            retrain: Some(&lp),
            attention: Some(&layers),
            gradients: Some(Some((0.5, vec![0.25]))),
        });
        let v = serde_json::to_value(&set).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        let mut want: Vec<String> = SIGNALS.iter().map(|d| d.name.to_string()).collect();
        want.insert(
            want.iter().position(|n| n == "attn_entropy").unwrap() + 1,
            "attn_entropy_layers".into(),
        );
        want.push("grad_norm_layers".into());
        assert_eq!(keys, want.iter().collect::<Vec<_>>());
        for d in SIGNALS {
            assert!(!set.slot(d.name).not_run(), "{}", d.name);
        }
        assert_eq!(v["lowercase_ratio"], serde_json::Value::Null);
        assert_eq!(set.get("ref_ratio"), Some(0.5));
        assert_eq!(set.get("attn_entropy"), Some(2.0));
        let back: SignalSet = serde_json::from_value(v).unwrap();
        assert_eq!(back, set);
        // only the main pass without statistics: the optional fields are absent
        let basic = SignalSet::new(Passes::main(PassValues {
            logprobs: &lp,
            stats: None,
            text: "abc",
            min_k_percent: 20.0,
        }));
        let v = serde_json::to_value(&basic).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "nll_mean",
                "perplexity",
                "zlib_ratio",
                "min_k",
                "window_ppl"
            ]
        );
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
