//! ReCaLL's second pass (Xie et al. 2024): every text scored again after a fixed
//! prefix made of known non-member texts, for `signals::recall`. The shots are joined
//! each followed by a blank line; the text's tokens follow the prefix's as the text
//! alone encodes them (no second BOS), so the conditional log-likelihood covers the
//! same tokens as the main pass, each now conditioned on the prefix as well.

use crate::error::{Error, Result};
use crate::scorer::Scorer;

/// The prefix, tokenized once.
pub struct Prefix {
    /// What the tokenizer puts before any text (BOS, or nothing).
    head: Vec<u32>,
    /// The shots' tokens, without the head.
    body: Vec<u32>,
    /// Shots kept, and shots read.
    pub shots: usize,
    pub shots_read: usize,
}

impl Prefix {
    /// The prefix from the non-member texts `texts`: the last `max_shots` of them
    /// (all when `None`), fewer when the prefix and a text of `avg_tokens` would not
    /// fit the context (leading shots dropped first, as the ReCaLL code does).
    pub fn new(
        texts: &[&str],
        scorer: &Scorer,
        max_shots: Option<usize>,
        avg_tokens: usize,
    ) -> Result<Prefix> {
        let tok = scorer.tokenizer();
        let shots: Vec<String> = texts
            .iter()
            .filter(|t| !t.trim().is_empty())
            .map(|t| format!("{t}\n\n"))
            .collect();
        let read = shots.len();
        let head = tok.encode("")?;
        let room = scorer.max_tokens().saturating_sub(head.len() + avg_tokens);
        // the last `keep` shots, encoded as one string; fewer until they fit
        let mut keep = read.min(max_shots.unwrap_or(read));
        while keep > 0 {
            let body = tok.encode_plain(&shots[read - keep..].concat())?;
            if body.len() <= room {
                return Ok(Prefix {
                    head,
                    body,
                    shots: keep,
                    shots_read: read,
                });
            }
            // drop as many leading shots as the excess needs, at least one
            let over = body.len() - room;
            let mut drop = 0;
            let mut freed = 0;
            for s in &shots[read - keep..read - 1] {
                drop += 1;
                freed += tok.encode_plain(s)?.len();
                if freed >= over {
                    break;
                }
            }
            keep -= drop.max(1);
        }
        Err(Error::input(format!(
            "no ReCaLL prefix: {read} non-member texts read, none fits the context of {} tokens beside a text of {avg_tokens} tokens",
            scorer.max_tokens()
        )))
    }

    /// Tokens of the prefix (head included).
    pub fn len(&self) -> usize {
        self.head.len() + self.body.len()
    }

    /// nll_mean of each text's tokens after the prefix. A text too long to follow the
    /// whole prefix keeps the prefix's end (as much as fits); one that leaves no room
    /// for any prefix token has none (undefined).
    pub fn nll(&self, scorer: &Scorer, texts: &[&str]) -> Result<Vec<Option<f64>>> {
        let tok = scorer.tokenizer();
        let max = scorer.max_tokens();
        let mut seqs = Vec::with_capacity(texts.len());
        let mut lens = Vec::with_capacity(texts.len());
        for t in texts {
            let mut plain = tok.encode_plain(t)?;
            plain.truncate(max.saturating_sub(self.head.len()));
            let room = max.saturating_sub(self.head.len() + plain.len());
            let body = &self.body[self.body.len().saturating_sub(room)..];
            let mut s = self.head.clone();
            s.extend_from_slice(body);
            lens.push(if body.is_empty() { 0 } else { plain.len() });
            s.extend(plain);
            seqs.push(s);
        }
        let scored = scorer.score_ids(&seqs, |_, _| {})?;
        Ok(scored
            .iter()
            .zip(lens)
            .map(|(s, n)| {
                let lp = &s.token_logprobs;
                crate::signals::nll_mean(&lp[lp.len().saturating_sub(n)..])
            })
            .collect())
    }
}
