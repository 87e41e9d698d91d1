//! Token frequencies of a reference corpus, for DC-PDD: read from a `memscan index`
//! built with the target's tokenizer (its token text), or from a counts file (one
//! count per line, line i for token id i, as `numpy.savetxt(path, counts, fmt="%d")`
//! writes; lines opening with `#` are comments). Smoothed add-one, as DC-PDD does.

use std::path::Path;

use crate::error::{Error, IoContext, Result};
use crate::model::tokenizer::Tokenizer;

/// Occurrences of each token id in a reference corpus.
#[derive(Debug, Clone)]
pub struct TokenFreq {
    counts: Vec<u64>,
    total: u64,
}

impl TokenFreq {
    pub fn from_counts(counts: Vec<u64>) -> TokenFreq {
        let total = counts.iter().sum();
        TokenFreq { counts, total }
    }

    /// (count + 1) / (total + V), V the number of token ids counted (Laplace).
    pub fn smoothed(&self, id: u32) -> f64 {
        let c = self.counts.get(id as usize).copied().unwrap_or(0);
        (c as f64 + 1.0) / (self.total as f64 + self.counts.len() as f64)
    }

    /// Tokens counted in all.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Reads `path` (an index folder or a counts file) for the target's tokenizer.
    pub fn open(path: &Path, tok: &Tokenizer) -> Result<TokenFreq> {
        let counts = if path.is_dir() {
            let index = crate::verbatim::Index::open(path)?;
            if index.manifest.tokenizer.is_none() {
                return Err(Error::file(
                    path,
                    "the index has no token text: build it with --tokenizer set to the target model",
                ));
            }
            index.check_tokenizer(tok)?;
            index.token_counts(tok.vocab_size())
        } else {
            read_counts(path)?
        };
        if counts.len() < tok.vocab_size() {
            return Err(Error::file(
                path,
                format!(
                    "{} token counts, but the model's tokenizer has {} tokens",
                    counts.len(),
                    tok.vocab_size()
                ),
            ));
        }
        let f = TokenFreq::from_counts(counts);
        if f.total == 0 {
            return Err(Error::file(path, "no tokens counted"));
        }
        Ok(f)
    }
}

fn read_counts(path: &Path) -> Result<Vec<u64>> {
    let text = std::fs::read_to_string(path).with_file(path)?;
    let mut counts = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.starts_with('#') {
            continue;
        }
        // numpy writes integers; a float with no fraction (savetxt's default format) is one too
        let v = l
            .parse::<u64>()
            .ok()
            .or_else(|| {
                l.parse::<f64>()
                    .ok()
                    .filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f < 2f64.powi(63))
                    .map(|f| f as u64)
            })
            .ok_or_else(|| {
                Error::file(
                    path,
                    format!(
                        "line {}: {l:?} is not a token count (one non-negative integer per line, line i for token id i)",
                        i + 1
                    ),
                )
            })?;
        counts.push(v);
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoothing_by_hand() {
        let f = TokenFreq::from_counts(vec![3, 0, 1]);
        assert_eq!(f.total(), 4);
        assert!((f.smoothed(0) - 4.0 / 7.0).abs() < 1e-12);
        assert!((f.smoothed(1) - 1.0 / 7.0).abs() < 1e-12);
        // an id past the counts is an unseen token
        assert!((f.smoothed(9) - 1.0 / 7.0).abs() < 1e-12);
    }

    #[test]
    fn counts_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.txt");
        std::fs::write(&p, "# counts\n5\n0\n2.000000000000000000e+00\n").unwrap();
        assert_eq!(read_counts(&p).unwrap(), vec![5, 0, 2]);
        std::fs::write(&p, "5\n-1\n").unwrap();
        let e = read_counts(&p).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("c.txt"), "{e}");
    }
}
