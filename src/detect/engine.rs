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

/// Default bytes searched before a keyword hit.
const BEFORE: usize = 64;
/// Default bytes searched after a keyword hit.
const AFTER: usize = 512;
/// Bytes added on each side of a shape region.
const SHAPE_MARGIN: usize = 40;

/// Kinds of text region that gate rules without keywords (see `RuleSpec::shape`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Digits,
    Dotted,
    HexColon,
    Alnum26,
    Iban,
    DigitBlock,
}

impl Shape {
    pub fn parse(s: &str) -> Option<Shape> {
        Some(match s {
            "digits" => Shape::Digits,
            "dotted" => Shape::Dotted,
            "hexcolon" => Shape::HexColon,
            "alnum26" => Shape::Alnum26,
            "iban" => Shape::Iban,
            "digit_block" => Shape::DigitBlock,
            _ => return None,
        })
    }

    fn index(self) -> usize {
        self as usize
    }
}

const DIGIT: u8 = 1;
const NUMSEP: u8 = 2;
const HEX: u8 = 4;
const HEXSEP: u8 = 8;
const ALNUM: u8 = 16;
const UPPER: u8 = 32;

const fn classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let mut k = 0;
        if c.is_ascii_digit() {
            k |= DIGIT | HEX | ALNUM;
        }
        if matches!(c, b' ' | b'-' | b'.' | b'(' | b')' | b'/' | b'+') {
            k |= NUMSEP;
        }
        if matches!(c, b'a'..=b'f' | b'A'..=b'F') {
            k |= HEX;
        }
        if matches!(c, b':' | b'-') {
            k |= HEXSEP;
        }
        if c.is_ascii_alphabetic() {
            k |= ALNUM;
        }
        if c.is_ascii_uppercase() {
            k |= UPPER;
        }
        t[b] = k;
        b += 1;
    }
    t
}

static CLASS: [u8; 256] = classes();

/// The regions of each shape in `text`, as (start, end) byte spans. A first pass
/// over 16-byte blocks (compares only, which the compiler vectorizes) keeps the
/// blocks that could hold a shape — 4+ digits, 2+ colons, 5+ dashes, or all
/// alphanumeric — and the exact scanner runs only around those.
pub fn shape_regions(text: &[u8]) -> [Vec<(usize, usize)>; 6] {
    const B: usize = 16;
    const PAD: usize = 48;
    let mut out: [Vec<(usize, usize)>; 6] = Default::default();
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    let mut prev = (0u8, 0u8);
    for (k, block) in text.chunks(B).enumerate() {
        let (mut digits, mut colons, mut dashes, mut alnum, mut uppers) = (0u8, 0u8, 0u8, 0u8, 0u8);
        for &b in block {
            let d = b.wrapping_sub(b'0') < 10;
            digits += d as u8;
            uppers += (b.wrapping_sub(b'A') < 26) as u8;
            colons += (b == b':') as u8;
            dashes += (b == b'-') as u8;
            alnum += (d || (b | 0x20).wrapping_sub(b'a') < 26) as u8;
        }
        // two neighbouring 16-byte blocks with 4+ digits and a capital next to a digit
        // (or one space from it): where a short mixed identifier (a NINO, PAN, NRIC/FIN,
        // NIE, codice fiscale: at most 16 bytes, so within two blocks) can sit
        let (s, e) = ((k * B).saturating_sub(B), (k * B + B).min(text.len()));
        if digits + prev.0 >= 4 && uppers + prev.1 >= 1 && capital_by_digit(&text[s..e]) {
            let v = &mut out[Shape::DigitBlock.index()];
            match v.last_mut() {
                Some(last) if s <= last.1 => last.1 = e,
                _ => v.push((s, e)),
            }
        }
        prev = (digits, uppers);
        if digits >= 4 || colons >= 2 || dashes >= 5 || alnum as usize == B {
            let (s, e) = (
                (k * B).saturating_sub(PAD),
                (k * B + B + PAD).min(text.len()),
            );
            match ranges.last_mut() {
                Some(last) if s <= last.1 => last.1 = e,
                _ => ranges.push((s, e)),
            }
        }
    }
    for (s, e) in ranges {
        // start and end on token boundaries, so no run is cut
        let mut s = s;
        while s > 0
            && CLASS[text[s - 1] as usize] & (ALNUM | NUMSEP | HEXSEP) != 0
            && s + 4 * PAD > e
        {
            s -= 1;
        }
        let part = scan_shapes(&text[s..e]);
        for (k, v) in part.into_iter().enumerate() {
            out[k].extend(v.into_iter().map(|(a, b)| (a + s, b + s)));
        }
    }
    out
}

/// A capital letter directly before or after a digit, or one space or dash before it.
fn capital_by_digit(t: &[u8]) -> bool {
    let up = |b: u8| b.wrapping_sub(b'A') < 26;
    let dig = |b: u8| b.wrapping_sub(b'0') < 10;
    t.windows(3).any(|w| {
        (up(w[0]) && (dig(w[1]) || (matches!(w[1], b' ' | b'-') && dig(w[2]))))
            || (dig(w[0]) && up(w[1]))
    }) || t.len() >= 2 && {
        let (a, b) = (t[t.len() - 2], t[t.len() - 1]);
        (up(a) && dig(b)) || (dig(a) && up(b))
    }
}

/// The exact shape scanner over a slice that starts on a token boundary.
fn scan_shapes(text: &[u8]) -> [Vec<(usize, usize)>; 6] {
    let mut out: [Vec<(usize, usize)>; 6] = Default::default();
    let n = text.len();
    let mut i = 0;
    // the end of the numeric run last measured: a run read from a later start inside it
    // is its suffix (fewer digits, a sub-region), so it is not read again — reading it
    // again made a long line of digit groups quadratic
    let mut numeric_end = 0;
    while i < n {
        let c = CLASS[text[i] as usize];
        if c & (DIGIT | UPPER) == 0 {
            if c & ALNUM == 0 {
                i += 1;
                continue;
            }
            // a lowercase token: only a hex one running into ':' or '-' matters
            let mut j = i;
            while j < n && CLASS[text[j] as usize] & HEX != 0 {
                j += 1;
            }
            let token_start = i == 0 || CLASS[text[i - 1] as usize] & ALNUM == 0;
            let hexcolon = j < n && matches!(text[j], b':' | b'-') && token_start;
            let bech32 = token_start && text[i..].starts_with(b"bc1");
            if !hexcolon && !bech32 {
                while j < n && CLASS[text[j] as usize] & ALNUM != 0 {
                    j += 1;
                }
                i = j.max(i + 1);
                continue;
            }
        }
        // an alphanumeric run starting here: long base58/bech32-like runs that open
        // like a Bitcoin address ('1', '3' or "bc1")
        if c & ALNUM != 0 && (i == 0 || CLASS[text[i - 1] as usize] & ALNUM == 0) {
            let mut j = i;
            while j < n && CLASS[text[j] as usize] & ALNUM != 0 {
                j += 1;
            }
            let base58 = || {
                !text[i..(i + 26).min(j)]
                    .iter()
                    .any(|b| matches!(b, b'0' | b'O' | b'I' | b'l'))
            };
            let opens =
                (matches!(text[i], b'1' | b'3') && base58()) || text[i..j].starts_with(b"bc1");
            if j - i >= 26 && opens {
                out[Shape::Alnum26.index()].push((i, j));
            }
            // IBAN: two capitals then two digits
            if j - i >= 4
                && CLASS[text[i] as usize] & UPPER != 0
                && CLASS[text[i + 1] as usize] & UPPER != 0
                && text[i + 2].is_ascii_digit()
                && text[i + 3].is_ascii_digit()
            {
                out[Shape::Iban.index()].push((i, (i + 48).min(n)));
            }
        }
        if c & DIGIT != 0 && i >= numeric_end {
            // numeric run: digits and separators, from here
            let (mut j, mut digits, mut dots) = (i, 0usize, 0usize);
            while j < n {
                let k = CLASS[text[j] as usize];
                if k & DIGIT != 0 {
                    digits += 1;
                } else if k & NUMSEP != 0 {
                    dots += (text[j] == b'.') as usize;
                } else {
                    break;
                }
                j += 1;
            }
            // include a leading '+' or '(' just before the run
            let s = if i > 0 && matches!(text[i - 1], b'+' | b'(') {
                i - 1
            } else {
                i
            };
            if digits >= 8 && !is_date(&text[i..j]) {
                out[Shape::Digits.index()].push((s, j));
            }
            if dots >= 3 && digits >= 4 {
                out[Shape::Dotted.index()].push((s, j));
            }
            numeric_end = j;
        }
        if c & HEX != 0 && (i == 0 || CLASS[text[i - 1] as usize] & (HEX | HEXSEP) == 0) {
            let (mut j, mut hex, mut colons, mut dashes) = (i, 0usize, 0usize, 0usize);
            while j < n {
                let k = CLASS[text[j] as usize];
                if k & HEX != 0 {
                    hex += 1;
                } else if text[j] == b':' {
                    colons += 1;
                } else if text[j] == b'-' {
                    dashes += 1;
                } else {
                    break;
                }
                j += 1;
            }
            if hex >= 6 && (colons >= 2 || dashes >= 5) {
                out[Shape::HexColon.index()].push((i, j));
            }
        }
        // skip the rest of this alphanumeric token
        let mut j = i + 1;
        while j < n && CLASS[text[j] as usize] & ALNUM != 0 {
            j += 1;
        }
        i = j;
    }
    out
}

/// A calendar date alone (yyyy-mm-dd, dd/mm/yyyy, …): no shape rule wants it.
fn is_date(run: &[u8]) -> bool {
    let t: &[u8] = run.trim_ascii();
    let d = |r: std::ops::Range<usize>| t[r].iter().all(u8::is_ascii_digit);
    let sep = |i: usize| matches!(t[i], b'-' | b'/' | b'.');
    t.len() == 10
        && ((d(0..4) && sep(4) && d(5..7) && sep(7) && d(8..10))
            || (d(0..2) && sep(2) && d(3..5) && sep(5) && d(6..10)))
}

/// Sorts windows and merges the overlapping ones.
fn merge_windows(ws: &mut Vec<(usize, usize)>) {
    ws.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(ws.len());
    for &w in ws.iter() {
        match out.last_mut() {
            Some(last) if w.0 <= last.1 => last.1 = last.1.max(w.1),
            _ => out.push(w),
        }
    }
    *ws = out;
}

/// Keywords of one case sensitivity: the automaton and, per pattern, the rules it gates.
struct Keywords {
    ac: AhoCorasick,
    rules: Vec<Vec<usize>>,
}

impl Keywords {
    fn build(patterns: Vec<(String, usize)>, case_insensitive: bool) -> Result<Option<Keywords>> {
        let mut pats: Vec<String> = Vec::new();
        let mut rules: Vec<Vec<usize>> = Vec::new();
        for (k, r) in patterns {
            let k = if case_insensitive {
                k.to_ascii_lowercase()
            } else {
                k
            };
            match pats.iter().position(|p| *p == k) {
                Some(p) => rules[p].push(r),
                None => {
                    pats.push(k);
                    rules.push(vec![r]);
                }
            }
        }
        if pats.is_empty() {
            return Ok(None);
        }
        let mut b = AhoCorasickBuilder::new();
        b.ascii_case_insensitive(case_insensitive)
            .match_kind(MatchKind::Standard);
        if case_insensitive {
            b.kind(Some(aho_corasick::AhoCorasickKind::DFA));
        }
        let ac = b
            .build(&pats)
            .map_err(|e| Error::internal(format!("keyword automaton: {e}")))?;
        Ok(Some(Keywords { ac, rules }))
    }
}

pub struct Engine {
    pub rules: Vec<Rule>,
    /// Every rule's keywords, matched in any case.
    keywords: Vec<Keywords>,
    /// Rules gated by a text shape instead of keywords.
    shaped: Vec<(usize, Shape)>,
    /// Rules with neither: run over the whole text.
    ungated: Vec<usize>,
    /// The longest window a rule needs; chunks overlap by more than this.
    pub max_window: usize,
}

impl Engine {
    pub fn new(rules: Vec<Rule>) -> Result<Self> {
        let mut all = Vec::new();
        let (mut shaped, mut ungated) = (Vec::new(), Vec::new());
        for (i, r) in rules.iter().enumerate() {
            match r.spec.shape.as_deref().and_then(Shape::parse) {
                Some(sh) => shaped.push((i, sh)),
                None if r.spec.keywords.is_empty() => ungated.push(i),
                None => {}
            }
            // keywords match in any case (one automaton over all of them measured
            // faster than an exact one for provider prefixes plus a folded one)
            all.extend(r.spec.keywords.iter().map(|k| (k.clone(), i)));
        }
        let keywords = Keywords::build(all, true)?.into_iter().collect();
        let max_window = rules
            .iter()
            .map(|r| r.spec.window.unwrap_or(AFTER) + r.spec.before.unwrap_or(BEFORE))
            .max()
            .unwrap_or(AFTER + BEFORE)
            .max(2 * SHAPE_MARGIN + 256);
        Ok(Engine {
            rules,
            keywords,
            shaped,
            ungated,
            max_window,
        })
    }

    /// All findings in `text` (offsets into it), merged and sorted by position.
    pub fn scan(&self, text: &[u8]) -> Vec<Finding> {
        self.scan_timed(text, None)
    }

    /// `scan`, recording seconds per stage ("keywords", "shapes", then each rule id)
    /// when `times` is given (for the profiling example).
    pub fn scan_timed(
        &self,
        text: &[u8],
        mut times: Option<&mut Vec<(String, f64, usize)>>,
    ) -> Vec<Finding> {
        let mut clock = std::time::Instant::now();
        let mut lap =
            |name: &str, bytes: usize, times: &mut Option<&mut Vec<(String, f64, usize)>>| {
                if let Some(t) = times.as_deref_mut() {
                    t.push((name.to_string(), clock.elapsed().as_secs_f64(), bytes));
                    clock = std::time::Instant::now();
                }
            };
        // keyword hits and shape regions → per rule, merged windows
        let mut windows: Vec<Vec<(usize, usize)>> = vec![Vec::new(); self.rules.len()];
        for kw in &self.keywords {
            for m in kw.ac.find_overlapping_iter(text) {
                for &r in &kw.rules[m.pattern().as_usize()] {
                    let spec = &self.rules[r].spec;
                    let (before, after) =
                        (spec.before.unwrap_or(BEFORE), spec.window.unwrap_or(AFTER));
                    windows[r].push((
                        m.start().saturating_sub(before),
                        (m.end() + after).min(text.len()),
                    ));
                }
            }
        }
        lap("keywords", 0, &mut times);
        if !self.shaped.is_empty() {
            let regions = shape_regions(text);
            for &(r, sh) in &self.shaped {
                for &(s, e) in &regions[sh.index()] {
                    windows[r].push((
                        s.saturating_sub(SHAPE_MARGIN),
                        (e + SHAPE_MARGIN).min(text.len()),
                    ));
                }
            }
            lap("shapes", 0, &mut times);
        }
        for &r in &self.ungated {
            windows[r] = vec![(0, text.len())];
        }
        let mut found = Vec::new();
        for (r, ws) in windows.iter_mut().enumerate() {
            merge_windows(ws);
            for &(s, e) in ws.iter() {
                self.run_rule(r, text, s, e, &mut found);
            }
            if times.is_some() {
                let covered = ws.iter().map(|w| w.1 - w.0).sum();
                lap(&self.rules[r].spec.id, covered, &mut times);
            }
        }
        merge(found)
    }

    fn run_rule(&self, r: usize, text: &[u8], ws: usize, we: usize, out: &mut Vec<Finding>) {
        let rule = &self.rules[r];
        let hay = &text[..we];
        let group = rule.spec.group;
        let mut push = |ms: usize, start: usize, end: usize| {
            let spans = match self.check(rule, text, ms, start, end) {
                Some(c) => vec![(start, end, c)],
                None => match &rule.split {
                    Some(split) => self.split_retry(rule, split, text, start, end),
                    None => Vec::new(),
                },
            };
            for (start, end, c) in spans {
                out.push(Finding {
                    rule: r,
                    category: rule.spec.category,
                    start,
                    end,
                    confidence: c,
                    value: text[start..end].to_vec(),
                });
            }
        };
        let mut at = ws;
        if group == 0 {
            while let Some(m) = rule.regex.find_at(hay, at) {
                push(m.start(), m.start(), m.end());
                at = m.end() + usize::from(m.end() == m.start()); // past an empty match
                if at > we {
                    break;
                }
            }
        } else {
            // one reusable set of capture slots per window
            let mut locs = rule.regex.capture_locations();
            while let Some(m) = rule.regex.captures_read_at(&mut locs, hay, at) {
                if let Some((s, e)) = locs.get(group) {
                    push(m.start(), s, e);
                }
                at = m.end() + usize::from(m.end() == m.start()); // past an empty match
                if at > we {
                    break;
                }
            }
        }
    }

    /// A value that failed its checks, cut at the rule's separators: the spans between
    /// separators that pass, longest first from the left, none overlapping. A card
    /// number beside an order number (`4841 4852 5388 8539 4471`) or an IBAN before a
    /// currency code is found this way.
    fn split_retry(
        &self,
        rule: &Rule,
        split: &[bool; 256],
        text: &[u8],
        start: usize,
        end: usize,
    ) -> Vec<(usize, usize, f64)> {
        let cuts: Vec<usize> = (start..end).filter(|&k| split[text[k] as usize]).collect();
        if cuts.is_empty() || cuts.len() > 12 {
            return Vec::new();
        }
        let starts: Vec<usize> = std::iter::once(start)
            .chain(cuts.iter().map(|k| k + 1))
            .collect();
        let ends: Vec<usize> = cuts.iter().copied().chain(std::iter::once(end)).collect();
        let mut found = Vec::new();
        let mut from = start;
        for &i in &starts {
            if i < from {
                continue;
            }
            for &j in ends.iter().rev() {
                if j <= i || (i == start && j == end) {
                    continue;
                }
                if let Some(c) = self.check(rule, text, i, i, j) {
                    found.push((i, j, c));
                    from = j;
                    break;
                }
            }
        }
        found
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
        // a full stop that ends the sentence is no neighbour ("… from 85.214.132.117.",
        // run into the next sentence: "… 4659.Cleo Berg", or before markup: "4659.<|endoftext|>");
        // one before a digit or a lowercase letter is (a decimal, a file or host name)
        let sentence_end = text[end..].first() == Some(&b'.')
            && text
                .get(end + 1)
                .is_none_or(|b| !b.is_ascii_digit() && !b.is_ascii_lowercase());
        if end < text.len() && rule.not_adjacent[text[end] as usize] && !sentence_end {
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
        if rule
            .spec
            .templates
            .iter()
            .any(|t| value.starts_with(t.as_bytes()))
        {
            return None;
        }
        if !rule.key_stopwords.is_empty() {
            let key = text[match_start..start].to_ascii_lowercase();
            let key = String::from_utf8_lossy(&key);
            if rule.key_stopwords.iter().any(|s| key.contains(s.as_str())) {
                return None;
            }
        }
        if rule.spec.category == Category::Secret && validate::placeholder(value) {
            return None;
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
    /// rule window; `on_finding` gets each finding once, in order, with absolute offsets
    /// and its 1-based line and column (counted on the way, so the input is read once).
    pub fn scan_stream(
        &self,
        mut reader: impl Read,
        chunk: usize,
        mut on_finding: impl FnMut(Finding, u64, u64),
    ) -> std::io::Result<u64> {
        let overlap = (2 * self.max_window).max(4096);
        let chunk = chunk.max(2 * overlap);
        let mut buf: Vec<u8> = Vec::with_capacity(chunk + overlap);
        let mut base: u64 = 0; // absolute offset of buf[0]
        let mut emitted_to: u64 = 0; // findings starting before this were emitted
        let mut total: u64 = 0;
        let mut lines = Lines {
            line: 1,
            line_start: 0,
            counted_to: 0,
        };
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
                    lines.advance(&buf, base, abs);
                    let column = abs - lines.line_start + 1;
                    f.start = abs as usize;
                    f.end = (base + f.end as u64) as usize;
                    emitted_to = f.end as u64;
                    on_finding(f, lines.line, column);
                }
            }
            if eof {
                return Ok(total);
            }
            lines.advance(&buf, base, base + chunk as u64);
            buf.drain(..chunk);
            base += chunk as u64;
        }
    }
}

/// Line counting over a stream read in chunks.
struct Lines {
    /// Line number at `counted_to`.
    line: u64,
    /// Absolute offset where that line starts.
    line_start: u64,
    /// Absolute offset up to which newlines are counted.
    counted_to: u64,
}

impl Lines {
    /// Counts the newlines of `buf` (which starts at absolute `base`) up to absolute `to`.
    fn advance(&mut self, buf: &[u8], base: u64, to: u64) {
        let from = self.counted_to.max(base);
        for (i, &b) in buf[(from - base) as usize..(to - base) as usize]
            .iter()
            .enumerate()
        {
            if b == b'\n' {
                self.line += 1;
                self.line_start = from + i as u64 + 1;
            }
        }
        self.counted_to = to.max(self.counted_to);
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
