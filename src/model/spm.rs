//! SentencePiece tokenizers from GGUF metadata (`tokenizer.ggml.model` = `llama`:
//! Llama 2, Gemma, Mistral v0.1, …), encoding as llama.cpp does, which defines what a
//! GGUF vocabulary means: control, unknown and user-defined tokens are cut out of the
//! text first (longest token first); each remaining piece gets its spaces written as
//! ▁ (after a space prefix where the file asks for one) and is split into characters
//! that are merged pairwise, always the adjacent pair whose merged text is the
//! highest-scoring vocabulary entry (the leftmost on ties); characters left outside the
//! vocabulary become their UTF-8 bytes' `<0xXX>` tokens (byte fallback).

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use aho_corasick::AhoCorasick;

use crate::error::{Error, Result};

/// Token types of GGUF's `tokenizer.ggml.token_type` (SentencePiece's piece types).
#[cfg(test)]
const NORMAL: u8 = 1;
const UNKNOWN: u8 = 2;
const CONTROL: u8 = 3;
const USER_DEFINED: u8 = 4;
const BYTE: u8 = 6;

pub struct Spm {
    pieces: Vec<String>,
    scores: Vec<f32>,
    types: Vec<u8>,
    to_id: HashMap<String, u32>,
    /// The `<0xXX>` token of each byte value.
    bytes: [Option<u32>; 256],
    /// Control, unknown and user-defined tokens, in the order they are cut out of a
    /// text (longest first), and a matcher that finds which of them a text holds.
    specials: Vec<u32>,
    matcher: Option<AhoCorasick>,
    /// Whitespace after these special tokens is dropped (llama.cpp's RSTRIP attribute,
    /// which it sets for Phi-3's special tokens).
    rstrip: Vec<bool>,
    add_space_prefix: bool,
    unk: Option<u32>,
}

/// A merge candidate: symbols `left` and `right` whose joined text is a token.
struct Bigram {
    score: f32,
    left: usize,
    right: usize,
    size: usize,
}

impl PartialEq for Bigram {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Bigram {}
impl PartialOrd for Bigram {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Bigram {
    /// The higher score first; on a tie the leftmost.
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then_with(|| other.left.cmp(&self.left))
    }
}

struct Symbol {
    start: usize,
    len: usize,
    prev: Option<usize>,
    next: Option<usize>,
}

impl Spm {
    /// From the vocabulary's pieces, scores and types (all of one length).
    pub fn new(
        pieces: Vec<String>,
        scores: Vec<f32>,
        types: Vec<u8>,
        add_space_prefix: bool,
        unk: Option<u32>,
    ) -> Result<Self> {
        if scores.len() != pieces.len() || types.len() != pieces.len() {
            return Err(Error::input(format!(
                "the SentencePiece vocabulary has {} tokens, {} scores and {} token types",
                pieces.len(),
                scores.len(),
                types.len()
            )));
        }
        let mut to_id = HashMap::with_capacity(pieces.len());
        let mut bytes = [None; 256];
        for (i, p) in pieces.iter().enumerate() {
            to_id.insert(p.clone(), i as u32);
            if types[i] == BYTE {
                let hex = p.strip_prefix("<0x").and_then(|h| h.strip_suffix('>'));
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => bytes[b as usize] = Some(i as u32),
                    None => {
                        return Err(Error::input(format!("byte token {i} is {p:?}, not <0xXX>")))
                    }
                }
            }
        }
        let mut specials: Vec<u32> = (0..pieces.len() as u32)
            .filter(|&i| {
                matches!(types[i as usize], CONTROL | UNKNOWN | USER_DEFINED)
                    && !pieces[i as usize].is_empty()
            })
            .collect();
        specials.sort_by(|&a, &b| {
            pieces[b as usize]
                .len()
                .cmp(&pieces[a as usize].len())
                .then(a.cmp(&b))
        });
        let matcher = if specials.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::new(specials.iter().map(|&i| pieces[i as usize].as_str()))
                    .map_err(|e| Error::input(format!("special tokens: {e}")))?,
            )
        };
        let rstrip = vec![false; pieces.len()];
        Ok(Spm {
            pieces,
            scores,
            types,
            to_id,
            bytes,
            specials,
            matcher,
            rstrip,
            add_space_prefix,
            unk,
        })
    }

    /// llama.cpp's rule for a model named Phi-3: whitespace after a special token is
    /// dropped, except after `<unk>`, `<s>` and `<|endoftext|>`; `</s>` drops it too.
    pub fn with_phi3_strip(mut self) -> Self {
        for &id in &self.specials {
            self.rstrip[id as usize] = true;
        }
        for (piece, on) in [
            ("</s>", true),
            ("<unk>", false),
            ("<s>", false),
            ("<|endoftext|>", false),
        ] {
            if let Some(&id) = self.to_id.get(piece) {
                self.rstrip[id as usize] = on;
            }
        }
        self
    }

    pub fn len(&self) -> usize {
        self.pieces.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    pub fn piece(&self, id: u32) -> Option<&str> {
        self.pieces.get(id as usize).map(String::as_str)
    }

    /// Token ids of `text` (special tokens in it recognised), without BOS.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let mut out = Vec::new();
        let mut prev_special = true;
        for frag in self.partition(text) {
            match frag {
                Fragment::Token(id) => {
                    out.push(id);
                    prev_special = true;
                }
                Fragment::Text(a, b) => {
                    let mut s = String::with_capacity(b - a + 4);
                    if self.add_space_prefix && prev_special {
                        s.push(' ');
                    }
                    s.push_str(&text[a..b]);
                    self.merge(&s.replace(' ', "\u{2581}"), &mut out)?;
                    prev_special = false;
                }
            }
        }
        Ok(out)
    }

    /// Cuts the special tokens out of `text` as llama.cpp does: one token at a time,
    /// longest first, every occurrence in the pieces of text still left.
    fn partition(&self, text: &str) -> Vec<Fragment> {
        let mut frags = vec![Fragment::Text(0, text.len())];
        let Some(matcher) = &self.matcher else {
            return frags;
        };
        // which special tokens occur at all (their order in `specials`)
        let mut present: Vec<usize> = matcher
            .find_overlapping_iter(text)
            .map(|m| m.pattern().as_usize())
            .collect();
        if present.is_empty() {
            return frags;
        }
        present.sort_unstable();
        present.dedup();
        for k in present {
            let id = self.specials[k];
            let tok = self.pieces[id as usize].as_str();
            let mut next = Vec::with_capacity(frags.len() + 2);
            for f in frags {
                let Fragment::Text(mut a, b) = f else {
                    next.push(f);
                    continue;
                };
                while let Some(pos) = text[a..b].find(tok) {
                    if pos > 0 {
                        next.push(Fragment::Text(a, a + pos));
                    }
                    next.push(Fragment::Token(id));
                    a += pos + tok.len();
                    if self.rstrip[id as usize] {
                        // C's isspace: space, \t, \n, \v, \f, \r
                        while a < b && matches!(text.as_bytes()[a], b' ' | b'\t'..=b'\r') {
                            a += 1;
                        }
                    }
                }
                if a < b {
                    next.push(Fragment::Text(a, b));
                }
            }
            frags = next;
        }
        frags
    }

    /// The merge loop over one escaped piece of text.
    fn merge(&self, s: &str, out: &mut Vec<u32>) -> Result<()> {
        let mut syms: Vec<Symbol> = Vec::with_capacity(s.len());
        for (start, c) in s.char_indices() {
            let i = syms.len();
            syms.push(Symbol {
                start,
                len: c.len_utf8(),
                prev: i.checked_sub(1),
                next: None,
            });
            if i > 0 {
                syms[i - 1].next = Some(i);
            }
        }
        if syms.is_empty() {
            return Ok(());
        }
        let mut queue = BinaryHeap::new();
        let add = |syms: &[Symbol],
                   queue: &mut BinaryHeap<Bigram>,
                   l: Option<usize>,
                   r: Option<usize>| {
            let (Some(l), Some(r)) = (l, r) else {
                return;
            };
            let (start, size) = (syms[l].start, syms[l].len + syms[r].len);
            if let Some(&id) = self.to_id.get(&s[start..start + size]) {
                queue.push(Bigram {
                    score: self.scores[id as usize],
                    left: l,
                    right: r,
                    size,
                });
            }
        };
        for i in 1..syms.len() {
            add(&syms, &mut queue, Some(i - 1), Some(i));
        }
        while let Some(b) = queue.pop() {
            let (l, r) = (b.left, b.right);
            // stale: one side merged away or grown since
            if syms[l].len == 0 || syms[r].len == 0 || syms[l].len + syms[r].len != b.size {
                continue;
            }
            syms[l].len += syms[r].len;
            syms[r].len = 0;
            syms[l].next = syms[r].next;
            if let Some(n) = syms[r].next {
                syms[n].prev = Some(l);
            }
            add(&syms, &mut queue, syms[l].prev, Some(l));
            add(&syms, &mut queue, Some(l), syms[l].next);
        }
        let mut i = Some(0);
        while let Some(k) = i {
            let piece = &s[syms[k].start..syms[k].start + syms[k].len];
            match self.to_id.get(piece) {
                Some(&id) => out.push(id),
                None => {
                    for &byte in piece.as_bytes() {
                        match self.bytes[byte as usize].or(self.unk) {
                            Some(id) => out.push(id),
                            None => {
                                return Err(Error::input(format!(
                                    "the vocabulary has neither a token for {piece:?} nor a byte \
                                     token <0x{byte:02X}> nor an unknown token"
                                )))
                            }
                        }
                    }
                }
            }
            i = syms[k].next;
        }
        Ok(())
    }

    /// The text of `ids`: ▁ back to spaces, byte tokens as their bytes (invalid UTF-8
    /// replaced), control and user-defined tokens as written.
    pub fn decode(&self, ids: &[u32]) -> String {
        let mut buf: Vec<u8> = Vec::new();
        for &id in ids {
            let Some(p) = self.pieces.get(id as usize) else {
                continue;
            };
            match self.types[id as usize] {
                BYTE => {
                    if let Some(b) = self.bytes.iter().position(|&t| t == Some(id)) {
                        buf.push(b as u8);
                    }
                }
                CONTROL | USER_DEFINED => buf.extend_from_slice(p.as_bytes()),
                _ => buf.extend_from_slice(p.replace('\u{2581}', " ").as_bytes()),
            }
        }
        String::from_utf8_lossy(&buf).into_owned()
    }
}

enum Fragment {
    Text(usize, usize),
    Token(u32),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> Spm {
        // pieces with scores: merges prefer the higher score
        let mut pieces = vec!["<unk>".to_string(), "<s>".into(), "<ctl>".into()];
        let mut types = vec![UNKNOWN, CONTROL, CONTROL];
        let mut scores = vec![0.0, 0.0, 0.0];
        for b in 0..=255u8 {
            pieces.push(format!("<0x{b:02X}>"));
            types.push(BYTE);
            scores.push(0.0);
        }
        for (p, s) in [
            ("\u{2581}", -1.0),
            ("a", -2.0),
            ("b", -2.0),
            ("c", -2.0),
            ("ab", -3.0),
            ("bc", -1.5),
            ("\u{2581}a", -4.0),
            ("abc", -5.0),
        ] {
            pieces.push(p.into());
            types.push(NORMAL);
            scores.push(s);
        }
        Spm::new(pieces, scores, types, false, Some(0)).unwrap()
    }

    fn ids(s: &Spm, text: &str) -> Vec<String> {
        s.encode(text)
            .unwrap()
            .into_iter()
            .map(|i| s.piece(i).unwrap().to_string())
            .collect()
    }

    #[test]
    fn merges_follow_scores_not_position() {
        let s = toy();
        // "bc" (-1.5) beats "ab" (-3); then "a"+"bc" = "abc" is a token
        assert_eq!(ids(&s, "abc"), ["abc"]);
        // "ab" alone
        assert_eq!(ids(&s, "ab"), ["ab"]);
        // spaces become ▁; "▁a" merges; no space prefix asked for
        assert_eq!(ids(&s, " a"), ["\u{2581}a"]);
    }

    #[test]
    fn unknown_characters_fall_back_to_bytes_and_decode_back() {
        let s = toy();
        assert_eq!(ids(&s, "é"), ["<0xC3>", "<0xA9>"]);
        let text = "ab é<ctl>c";
        assert_eq!(s.decode(&s.encode(text).unwrap()), text);
    }

    #[test]
    fn special_tokens_are_cut_out_first() {
        let s = toy();
        assert_eq!(ids(&s, "a<ctl>b"), ["a", "<ctl>", "b"]);
        // without the strip rule the space after the token stays; with it, it goes
        assert_eq!(ids(&s, "a<ctl> b"), ["a", "<ctl>", "\u{2581}", "b"]);
        let s = toy().with_phi3_strip();
        assert_eq!(ids(&s, "a<ctl> \n b"), ["a", "<ctl>", "b"]);
        // <s> keeps what follows it
        assert_eq!(ids(&s, "<s> a"), ["<s>", "\u{2581}a"]);
    }
}
