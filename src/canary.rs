//! Canary formats for exposure (Carlini et al., "The Secret Sharer"): literal text
//! with `{…}` groups of character classes (`d` digit, `x` hex, `a` lower, `A` upper,
//! `n` lower-or-digit), the size of the candidate space, the k-th candidate in
//! enumeration order, and seeded random candidates.

/// A canary format: literal text and `{…}` groups of character classes.
#[derive(Debug, Clone)]
pub struct Format {
    parts: Vec<Part>,
}

#[derive(Debug, Clone)]
enum Part {
    Lit(String),
    Class(&'static [u8]),
}

const DIGITS: &[u8] = b"0123456789";
const HEX: &[u8] = b"0123456789abcdef";
const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

impl Format {
    pub fn parse(f: &str) -> std::result::Result<Format, String> {
        let mut parts = Vec::new();
        let mut rest = f;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Lit(rest[..open].to_string()));
            }
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| format!("format {f:?}: unclosed {{"))?;
            for c in rest[open + 1..open + close].chars() {
                parts.push(Part::Class(match c {
                    'd' => DIGITS,
                    'x' => HEX,
                    'a' => LOWER,
                    'A' => UPPER,
                    'n' => ALNUM,
                    other => return Err(format!("format {f:?}: unknown class {other:?}")),
                }));
            }
            rest = &rest[open + close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Lit(rest.to_string()));
        }
        if !parts.iter().any(|p| matches!(p, Part::Class(_))) {
            return Err(format!("format {f:?}: no {{…}} secret part"));
        }
        Ok(Format { parts })
    }

    /// Number of candidates.
    pub fn space(&self) -> f64 {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Class(c) => c.len() as f64,
                Part::Lit(_) => 1.0,
            })
            .product()
    }

    /// Checks that `text` is an instance of the format.
    pub fn check(&self, text: &str) -> std::result::Result<(), String> {
        let b = text.as_bytes();
        let mut i = 0;
        for p in &self.parts {
            match p {
                Part::Lit(l) => {
                    if !b[i.min(b.len())..].starts_with(l.as_bytes()) {
                        return Err(format!("text {text:?} does not match its format"));
                    }
                    i += l.len();
                }
                Part::Class(c) => {
                    if i >= b.len() || !c.contains(&b[i]) {
                        return Err(format!("text {text:?} does not match its format"));
                    }
                    i += 1;
                }
            }
        }
        if i != b.len() {
            return Err(format!("text {text:?} is longer than its format"));
        }
        Ok(())
    }

    /// The candidate with index `k` in mixed radix (k < space).
    pub fn nth(&self, mut k: u64) -> String {
        let mut slots: Vec<char> = Vec::new();
        let classes: Vec<&[u8]> = self
            .parts
            .iter()
            .filter_map(|p| match p {
                Part::Class(c) => Some(*c),
                Part::Lit(_) => None,
            })
            .collect();
        for c in classes.iter().rev() {
            slots.push(c[(k % c.len() as u64) as usize] as char);
            k /= c.len() as u64;
        }
        slots.reverse();
        let mut it = slots.into_iter();
        self.parts
            .iter()
            .map(|p| match p {
                Part::Lit(l) => l.clone(),
                Part::Class(_) => it.next().map(String::from).unwrap_or_default(),
            })
            .collect()
    }

    /// A uniformly random candidate.
    pub fn random(&self, rng: &mut crate::stats::SplitMix) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Lit(l) => l.clone(),
                Part::Class(c) => (c[rng.below(c.len())] as char).to_string(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_count_and_enumerate() {
        let f = Format::parse("my SSN is {ddd}-{dd}-{dddd}").unwrap();
        assert_eq!(f.space(), 1e9);
        assert!(f.check("my SSN is 123-45-6789").is_ok());
        assert!(f.check("my SSN is 123-45-678").is_err());
        assert!(f.check("my SSN is 123-45-67890").is_err());
        let p = Format::parse("pin {dd}").unwrap();
        assert_eq!(p.nth(0), "pin 00");
        assert_eq!(p.nth(42), "pin 42");
        assert_eq!(p.nth(99), "pin 99");
        assert!(Format::parse("no secret").is_err());
        assert!(Format::parse("bad {q}").is_err());
        assert_eq!(Format::parse("{xA}").unwrap().space(), 16.0 * 26.0);
    }
}
