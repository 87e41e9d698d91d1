//! The signal flag's threshold. Its null distribution is the model's own
//! continuations of non-member text (the first tokens of each calibration text as a
//! prompt, sampled with the scan's settings), scored exactly like the scan's samples.

use crate::error::{Error, Result};
use crate::generate::SampleOptions;
use crate::model::LanguageModel;
use crate::prompts::{self, Prompt};
use crate::report::schema::Calibration;
use crate::signals;
use crate::stats;

use super::batch::BatchContext;
use super::state::batch_seed;
use super::ScanConfig;

/// The flag threshold: the calibration texts' scores on the flag signal, and the
/// value that at most ⌊α·n⌋ of them are strictly beyond (toward "member").
pub struct Cal {
    pub report: Calibration,
    pub def: Option<&'static signals::SignalDef>,
}

impl Cal {
    pub fn flags(&self, v: Option<f64>) -> bool {
        match (self.def, self.report.threshold, v) {
            (Some(d), Some(t), Some(v)) => stats::is_beyond(d.direction, v, t),
            _ => false,
        }
    }
}

/// Tokens of each calibration text used as a prompt.
const CALIBRATION_PREFIX: usize = 8;
/// Continuations drawn per calibration text.
const CALIBRATION_SAMPLES: usize = 2;

/// The null distribution for the signal flag: the model's own continuations of
/// non-member text (the first tokens of each calibration text as a prompt, sampled with
/// the scan's settings), scored exactly like the scan's samples. Generated text is far
/// more likely under the model than human text, so thresholds from scoring human text
/// would flag nearly every sample; continuations of non-member prompts are like for like.
pub fn calibrate(cfg: &ScanConfig, ctx: &BatchContext, opts: &SampleOptions) -> Result<Cal> {
    let def = cfg.flag;
    let (records, source) = match &cfg.calibration {
        Some(p) => (
            crate::input::read_texts(p)?
                .into_iter()
                .map(|r| r.text)
                .collect::<Vec<_>>(),
            p.display().to_string(),
        ),
        None => (
            prompts::calibration_texts(),
            "built-in (prompts/calibration.jsonl)".to_string(),
        ),
    };
    let off = Cal {
        report: Calibration {
            signal: "none".into(),
            direction: String::new(),
            source: source.clone(),
            n_texts: 0,
            fpr: cfg.flag_fpr,
            achieved_fpr: 0.0,
            threshold: None,
            values: Vec::new(),
        },
        def: None,
    };
    let Some(d) = def else { return Ok(off) };
    let tok = ctx.model.tokenizer();
    let mut prompt_ids = Vec::new();
    for t in &records {
        let ids = tok.encode(t)?;
        if ids.len() > CALIBRATION_PREFIX {
            prompt_ids.push(ids[..CALIBRATION_PREFIX].to_vec());
        }
    }
    if prompt_ids.is_empty() {
        return Err(Error::input(format!(
            "calibration set {source}: no text is longer than {CALIBRATION_PREFIX} tokens"
        )));
    }
    let cal_prompts: Vec<Prompt> = (0..prompt_ids.len())
        .map(|i| Prompt {
            id: format!("calibration/{i}"),
            set: "calibration".into(),
            text: String::new(),
            tags: Vec::new(),
            ids: None,
            truth: None,
        })
        .collect();
    let units: Vec<(usize, usize)> = (0..prompt_ids.len())
        .flat_map(|i| (0..CALIBRATION_SAMPLES).map(move |k| (i, k)))
        .collect();
    let cctx = BatchContext {
        prompts: &cal_prompts,
        encoded: &prompt_ids,
        corpus: None,
        ..*ctx
    };
    let mut values: Vec<f64> = Vec::new();
    for (b, batch) in units.chunks(cfg.batch_size).enumerate() {
        let o = SampleOptions {
            seed: batch_seed(cfg.seed ^ 0xca11_b4a7_e000_0000, b),
            ..opts.clone()
        };
        for row in cctx.run_batch(b, batch, &o, &off)? {
            if let Some(v) = row.signals.get(d.name) {
                values.push(v);
            }
        }
    }
    let Some((t, achieved_fpr)) = stats::threshold_at_fpr(&values, d.direction, cfg.flag_fpr)
    else {
        return Err(Error::input(format!(
            "calibration set {source}: no continuation gave a value of {}",
            d.name
        )));
    };
    Ok(Cal {
        report: Calibration {
            signal: d.name.into(),
            direction: crate::commands::dir_name(d.direction).into(),
            source,
            n_texts: values.len(),
            fpr: cfg.flag_fpr,
            achieved_fpr,
            threshold: Some(t),
            values,
        },
        def: Some(d),
    })
}
