//! Near-duplicate grouping of generated samples: character 5-gram shingles of the
//! normalized text (lowercased, whitespace collapsed), MinHash signatures with LSH
//! banding to find candidate pairs, the exact Jaccard similarity to confirm them, and
//! union–find to form groups. Linear in the number of samples for dissimilar samples.

use std::collections::HashMap;

const SHINGLE: usize = 5;
const BANDS: usize = 16;
const ROWS: usize = 4;
/// Texts of one run of equal band keys compared with each other, at most (see `group`).
const MAX_RUN: usize = 256;

fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// The sorted, distinct shingle hashes of a text.
fn shingles(text: &str) -> Vec<u64> {
    let norm: Vec<char> = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        .chars()
        .collect();
    let mut set: Vec<u64> = if norm.len() < SHINGLE {
        if norm.is_empty() {
            Vec::new()
        } else {
            vec![hash_chars(&norm)]
        }
    } else {
        norm.windows(SHINGLE).map(hash_chars).collect()
    };
    set.sort_unstable();
    set.dedup();
    set
}

fn hash_chars(cs: &[char]) -> u64 {
    cs.iter()
        .fold(0x9e37_79b9_7f4a_7c15u64, |h, &c| mix(h ^ c as u64))
}

/// Jaccard similarity of two sorted, distinct sets.
fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    let (mut i, mut j, mut inter) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                inter += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - inter;
    if union == 0 {
        1.0
    } else {
        inter as f64 / union as f64
    }
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

fn union(parent: &mut [usize], i: usize, j: usize) {
    let (ri, rj) = (find(parent, i), find(parent, j));
    let (lo, hi) = (ri.min(rj), ri.max(rj));
    parent[hi] = lo;
}

/// A group id per text: texts whose shingle sets have Jaccard similarity ≥ `threshold`
/// (directly or through a chain) share the id of the group's first text. Empty texts
/// form one group.
///
/// Texts with equal shingle sets are joined first and only one of them goes on. The
/// candidate pairs are those that agree on one of `BANDS` bands of `ROWS` MinHash values,
/// found band by band by sorting the band keys, so memory stays at one key per text and
/// band. Within a run of equal keys every pair is compared, except in a run of more than
/// `MAX_RUN` texts, where each text is compared with the `MAX_RUN` before it (bounding
/// the work on degenerate inputs; such a run only arises when thousands of distinct texts
/// share most of their shingles).
pub fn group(texts: &[&str], threshold: f64) -> Vec<usize> {
    let mut parent: Vec<usize> = (0..texts.len()).collect();
    // texts with the same shingle set (duplicates, whitespace or case variants)
    let mut first: HashMap<Vec<u64>, usize> = HashMap::new();
    let mut sets: Vec<(usize, Vec<u64>)> = Vec::new();
    for (i, t) in texts.iter().enumerate() {
        let s = shingles(t);
        match first.get(&s) {
            Some(&f) => parent[i] = f,
            None => {
                first.insert(s.clone(), i);
                sets.push((i, s));
            }
        }
    }
    drop(first);
    // each distinct set's band keys
    let keys: Vec<[u64; BANDS]> = sets
        .iter()
        .map(|(_, s)| {
            let mut sig = [u64::MAX; BANDS * ROWS];
            for &h in s {
                for (j, m) in sig.iter_mut().enumerate() {
                    *m = (*m).min(mix(h ^ (j as u64).wrapping_mul(0x2545_f491_4f6c_dd1d)));
                }
            }
            std::array::from_fn(|b| {
                sig[b * ROWS..(b + 1) * ROWS]
                    .iter()
                    .fold(b as u64, |acc, &v| mix(acc ^ v))
            })
        })
        .collect();
    let mut order: Vec<(u64, u32)> = Vec::with_capacity(sets.len());
    for b in 0..BANDS {
        order.clear();
        order.extend(keys.iter().enumerate().map(|(k, key)| (key[b], k as u32)));
        order.sort_unstable();
        for run in order.chunk_by(|x, y| x.0 == y.0) {
            for (x, &(_, kj)) in run.iter().enumerate() {
                for &(_, ki) in &run[x.saturating_sub(MAX_RUN)..x] {
                    let (i, j) = (sets[ki as usize].0, sets[kj as usize].0);
                    if find(&mut parent, i) != find(&mut parent, j)
                        && jaccard(&sets[ki as usize].1, &sets[kj as usize].1) >= threshold
                    {
                        union(&mut parent, i, j);
                    }
                }
            }
        }
    }
    (0..texts.len()).map(|i| find(&mut parent, i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_near_duplicates_only() {
        let a = "Permission is hereby granted, free of charge, to any person obtaining a copy of this software";
        let b = "Permission is hereby granted, free of charge, to any person obtaining a copy of this software!";
        let c = "The ferry to Ormsby Island now leaves at ten past seven, twenty minutes later";
        let d = "permission  is hereby granted, FREE of charge, to any person obtaining a copy of this software";
        let g = group(&[a, c, b, d, ""], 0.7);
        assert_eq!(g[0], 0);
        assert_eq!(g[2], 0);
        assert_eq!(g[3], 0);
        assert_eq!(g[1], 1);
        assert_eq!(g[4], 4);
    }

    #[test]
    fn threshold_one_groups_only_equal_shingle_sets() {
        let g = group(&["abcdefgh", "abcdefgh", "abcdefgx"], 1.0);
        assert_eq!(g, vec![0, 0, 2]);
    }

    /// Against every pair compared exhaustively: LSH finds (nearly) all of the groups,
    /// and never joins texts that no chain of similar pairs joins.
    #[test]
    fn matches_exhaustive_pairs_on_edited_copies() {
        let base = [
            "Permission is hereby granted, free of charge, to any person obtaining a copy",
            "The ferry to Ormsby Island now leaves at ten past seven, twenty minutes later",
            "Volunteers logged three hundred hedgehog sightings in the town last spring",
            "Please find attached the minutes of the meeting held on Tuesday afternoon",
            "def main():\n    args = parse_args()\n    run(args.input, args.output)",
        ];
        let mut rng = crate::stats::SplitMix(5);
        let mut texts: Vec<String> = Vec::new();
        for _ in 0..300 {
            let b = base[(rng.next_u64() % base.len() as u64) as usize];
            let mut t: Vec<char> = b.chars().collect();
            // a few random character edits: most copies stay above the threshold
            for _ in 0..(rng.next_u64() % 12) {
                let i = (rng.next_u64() % t.len() as u64) as usize;
                t[i] = (b'a' + (rng.next_u64() % 26) as u8) as char;
            }
            texts.push(t.into_iter().collect());
        }
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let got = group(&refs, 0.7);
        let sets: Vec<Vec<u64>> = refs.iter().map(|t| shingles(t)).collect();
        let mut parent: Vec<usize> = (0..refs.len()).collect();
        for i in 0..refs.len() {
            for j in i + 1..refs.len() {
                if jaccard(&sets[i], &sets[j]) >= 0.7 {
                    union(&mut parent, i, j);
                }
            }
        }
        let want: Vec<usize> = (0..refs.len()).map(|i| find(&mut parent, i)).collect();
        for i in 0..refs.len() {
            for j in 0..refs.len() {
                if got[i] == got[j] {
                    assert_eq!(want[i], want[j], "joined without a chain: {i} {j}");
                }
            }
        }
        let count = |g: &[usize]| {
            let mut v = g.to_vec();
            v.sort_unstable();
            v.dedup();
            v.len()
        };
        let (n_got, n_want) = (count(&got), count(&want));
        assert!(
            n_got >= n_want && n_got <= n_want + 3,
            "{n_got} groups vs {n_want}"
        );
    }
}
