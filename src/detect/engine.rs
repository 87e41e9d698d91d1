//! The detection engine: one Aho-Corasick pass over every rule keyword decides which
//! rules run on which region (a window around each keyword hit); each rule is one
//! ASCII `regex::bytes` regex; matches then pass the rule's checks (adjacency,
//! entropy, stopwords, allowlist, validator). Overlapping findings are merged.
//! Long inputs are scanned in overlapping chunks (`scan_stream`) so that no match
//! is lost at an edge and memory stays bounded.

use std::io::Read;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use sha2::{Digest, Sha256};

use super::rules::{Category, Rule};
use super::validate;
use crate::error::{Error, Result};

/// One detected value. `value` holds the raw bytes: never written anywhere unless
/// the user asked with `--reveal`.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: usize,
    pub category: Category,
    /// Byte offsets of the value in the scanned text.
    pub start: usize,
    pub end: usize,
    pub confidence: f64,
    pub value: Vec<u8>,
}

impl Finding {
    /// SHA-256 of the raw value, hex.
    pub fn fingerprint(&self) -> String {
        hex::encode(Sha256::digest(&self.value))
    }

    /// The value with all but a few edge characters replaced by `*`.
    pub fn masked(&self) -> String {
        mask(&String::from_utf8_lossy(&self.value))
    }
}

/// Keeps about a fifth of the value at the start (at most 4 characters) and a tenth
/// at the end (at most 2); everything else becomes `*`.
pub fn mask(v: &str) -> String {
    let chars: Vec<char> = v.chars().collect();
    let n = chars.len();
    let head = (n / 5).clamp(if n >= 4 { 1 } else { 0 }, 4);
    let tail = (n / 10).min(2);
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            if i < head || i + tail >= n || c == '\n' {
                c
            } else {
                '*'
            }
        })
        .collect()
}

/// Bytes searched before a keyword hit.
const BEFORE: usize = 256;
/// Default bytes searched after a keyword hit.
const AFTER: usize = 1024;

pub struct Engine {
    pub rules: Vec<Rule>,
    ac: AhoCorasick,
    /// For each keyword pattern: the rules it gates.
    pattern_rules: Vec<Vec<usize>>,
    /// Rules without keywords: run over the whole text.
    ungated: Vec<usize>,
    /// The longest window a rule needs; chunks overlap by more than this.
    pub max_window: usize,
}

impl Engine {
    pub fn new(rules: Vec<Rule>) -> Result<Self> {
        let mut patterns: Vec<String> = Vec::new();
        let mut pattern_rules: Vec<Vec<usize>> = Vec::new();
        let mut ungated = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            if r.spec.keywords.is_empty() {
                ungated.push(i);
            }
            for k in &r.spec.keywords {
                let k = k.to_ascii_lowercase();
                match patterns.iter().position(|p| *p == k) {
                    Some(p) => pattern_rules[p].push(i),
                    None => {
                        patterns.push(k);
                        pattern_rules.push(vec![i]);
                    }
                }
            }
        }
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .map_err(|e| Error::internal(format!("keyword automaton: {e}")))?;
        let max_window = rules
            .iter()
            .map(|r| r.spec.window.unwrap_or(AFTER))
            .max()
            .unwrap_or(AFTER)
            + BEFORE;
        Ok(Engine {
            rules,
            ac,
            pattern_rules,
            ungated,
            max_window,
        })
    }

    /// All findings in `text` (offsets into it), merged and sorted by position.
    pub fn scan(&self, text: &[u8]) -> Vec<Finding> {
        // keyword hits → per rule, merged windows
        let mut windows: Vec<Vec<(usize, usize)>> = vec![Vec::new(); self.rules.len()];
        for m in self.ac.find_overlapping_iter(text) {
            for &r in &self.pattern_rules[m.pattern().as_usize()] {
                let after = self.rules[r].spec.window.unwrap_or(AFTER);
                let w = (
                    m.start().saturating_sub(BEFORE),
                    (m.end() + after).min(text.len()),
                );
                let ws = &mut windows[r];
                match ws.last_mut() {
                    Some(last) if w.0 <= last.1 => last.1 = last.1.max(w.1),
                    _ => ws.push(w),
                }
            }
        }
        for &r in &self.ungated {
            windows[r] = vec![(0, text.len())];
        }
        let mut found = Vec::new();
        for (r, ws) in windows.iter().enumerate() {
            for &(s, e) in ws {
                self.run_rule(r, text, s, e, &mut found);
            }
        }
        merge(found)
    }

    fn run_rule(&self, r: usize, text: &[u8], ws: usize, we: usize, out: &mut Vec<Finding>) {
        let rule = &self.rules[r];
        let hay = &text[ws..we];
        let group = rule.spec.group;
        for caps in rule.regex.captures_iter(hay) {
            let Some(m) = caps.get(group) else { continue };
            let (start, end) = (ws + m.start(), ws + m.end());
            let match_start = caps.get(0).map_or(start, |m0| ws + m0.start());
            if let Some(c) = self.check(rule, text, match_start, start, end) {
                out.push(Finding {
                    rule: r,
                    category: rule.spec.category,
                    start,
                    end,
                    confidence: c,
                    value: text[start..end].to_vec(),
                });
            }
        }
    }

    /// The rule's checks on the value text[start..end]; the confidence when it passes.
    /// The left neighbour is checked only when the value opens the match (otherwise
    /// the regex itself vetted what precedes it).
    fn check(
        &self,
        rule: &Rule,
        text: &[u8],
        match_start: usize,
        start: usize,
        end: usize,
    ) -> Option<f64> {
        let value = &text[start..end];
        if value.is_empty() {
            return None;
        }
        if start > 0 && start == match_start && rule.not_adjacent[text[start - 1] as usize] {
            return None;
        }
        if end < text.len() && rule.not_adjacent[text[end] as usize] {
            return None;
        }
        if let Some(min) = rule.spec.min_entropy {
            if validate::entropy(value) < min {
                return None;
            }
        }
        if !rule.stopwords.is_empty() {
            let lower = String::from_utf8_lossy(value).to_lowercase();
            if rule.stopwords.iter().any(|s| lower.contains(s.as_str())) {
                return None;
            }
        }
        if rule.allowlist.iter().any(|a| a.is_match(value)) {
            return None;
        }
        let factor = match rule.validator {
            Some(v) => v.check(value, &text[start.saturating_sub(32)..start])?,
            None => 1.0,
        };
        Some(rule.spec.confidence * factor)
    }

    /// Scans a stream in chunks of `chunk` bytes overlapping by more than the longest
    /// rule window; `on_finding` gets findings with absolute offsets, in order.
    pub fn scan_stream(
        &self,
        mut reader: impl Read,
        chunk: usize,
        mut on_finding: impl FnMut(Finding),
    ) -> std::io::Result<u64> {
        let overlap = (2 * self.max_window).max(4096);
        let chunk = chunk.max(2 * overlap);
        let mut buf: Vec<u8> = Vec::with_capacity(chunk + overlap);
        let mut base: u64 = 0; // absolute offset of buf[0]
        let mut emitted_to: u64 = 0; // findings starting before this were emitted
        let mut total: u64 = 0;
        loop {
            let want = chunk + overlap - buf.len();
            let n = (&mut reader).take(want as u64).read_to_end(&mut buf)?;
            total += n as u64;
            let eof = buf.len() < chunk + overlap;
            let limit = if eof { buf.len() } else { chunk };
            for mut f in self.scan(&buf) {
                let abs = base + f.start as u64;
                // findings in the tail are found again, whole, in the next chunk
                if (f.start < limit || eof) && abs >= emitted_to {
                    f.start = abs as usize;
                    f.end = (base + f.end as u64) as usize;
                    emitted_to = f.end as u64;
                    on_finding(f);
                }
            }
            if eof {
                return Ok(total);
            }
            buf.drain(..chunk);
            base += chunk as u64;
        }
    }
}

/// Merges overlapping findings: of each overlapping group the most confident (then
/// the longest) stays.
pub fn merge(mut v: Vec<Finding>) -> Vec<Finding> {
    v.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut out: Vec<Finding> = Vec::with_capacity(v.len());
    for f in v {
        match out.last_mut() {
            Some(last) if f.start < last.end => {
                let better = f.confidence > last.confidence
                    || (f.confidence == last.confidence && f.end - f.start > last.end - last.start);
                if better {
                    *last = f;
                }
            }
            _ => out.push(f),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_edges_only() {
        assert_eq!(
            mask("ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
            "ghp_**********************************89"
        );
        assert_eq!(mask("abc"), "***");
        assert_eq!(mask("123-45-6789"), "12********9");
    }
}
