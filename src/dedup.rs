//! Near-duplicate grouping of generated samples: character 5-gram shingles of the
//! normalized text (lowercased, whitespace collapsed), MinHash signatures with LSH
//! banding to find candidate pairs, the exact Jaccard similarity to confirm them, and
//! union–find to form groups. Linear in the number of samples for dissimilar samples.

use std::collections::{HashMap, HashSet};

const SHINGLE: usize = 5;
const BANDS: usize = 16;
const ROWS: usize = 4;

fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

fn shingles(text: &str) -> HashSet<u64> {
    let norm: Vec<char> = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        .chars()
        .collect();
    let mut set = HashSet::new();
    if norm.len() < SHINGLE {
        if !norm.is_empty() {
            set.insert(hash_chars(&norm));
        }
        return set;
    }
    for w in norm.windows(SHINGLE) {
        set.insert(hash_chars(w));
    }
    set
}

fn hash_chars(cs: &[char]) -> u64 {
    cs.iter()
        .fold(0x9e37_79b9_7f4a_7c15u64, |h, &c| mix(h ^ c as u64))
}

fn jaccard(a: &HashSet<u64>, b: &HashSet<u64>) -> f64 {
    let inter = a.intersection(b).count();
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

/// A group id per text: texts whose shingle sets have Jaccard similarity ≥ `threshold`
/// (directly or through a chain) share the id of the group's first text. Empty texts
/// form one group.
pub fn group(texts: &[&str], threshold: f64) -> Vec<usize> {
    let sets: Vec<HashSet<u64>> = texts.iter().map(|t| shingles(t)).collect();
    let mut parent: Vec<usize> = (0..texts.len()).collect();
    let mut buckets: HashMap<(usize, u64), Vec<usize>> = HashMap::new();
    for (i, s) in sets.iter().enumerate() {
        let mut sig = [u64::MAX; BANDS * ROWS];
        for &h in s {
            for (j, m) in sig.iter_mut().enumerate() {
                *m = (*m).min(mix(h ^ (j as u64).wrapping_mul(0x2545_f491_4f6c_dd1d)));
            }
        }
        for b in 0..BANDS {
            let key = sig[b * ROWS..(b + 1) * ROWS]
                .iter()
                .fold(b as u64, |acc, &v| mix(acc ^ v));
            buckets.entry((b, key)).or_default().push(i);
        }
    }
    let mut checked = HashSet::new();
    for members in buckets.values() {
        for (x, &i) in members.iter().enumerate() {
            for &j in &members[x + 1..] {
                if !checked.insert((i, j)) {
                    continue;
                }
                let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
                if ri != rj && jaccard(&sets[i], &sets[j]) >= threshold {
                    let (lo, hi) = (ri.min(rj), ri.max(rj));
                    parent[hi] = lo;
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
}
