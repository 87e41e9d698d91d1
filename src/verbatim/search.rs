//! Suffix-array searches over any symbol type: the range of suffixes that start with
//! a pattern, and the longest substring of a query that occurs in the text.

/// A suffix array entry (u32 or u64 positions).
pub trait Pos: Copy {
    fn at(self) -> usize;
}

impl Pos for u32 {
    fn at(self) -> usize {
        self as usize
    }
}

impl Pos for u64 {
    fn at(self) -> usize {
        self as usize
    }
}

/// Compares the suffix of `text` at `p` with `pat`, on `pat`'s length only.
fn cmp_prefix<T: Ord>(text: &[T], p: usize, pat: &[T]) -> std::cmp::Ordering {
    let suf = &text[p.min(text.len())..];
    let n = suf.len().min(pat.len());
    match suf[..n].cmp(&pat[..n]) {
        std::cmp::Ordering::Equal if suf.len() < pat.len() => std::cmp::Ordering::Less,
        o => o,
    }
}

/// [lo, hi): the suffix array ranks whose suffixes start with `pat`.
pub fn range<T: Ord, P: Pos>(text: &[T], sa: &[P], pat: &[T]) -> (usize, usize) {
    let lo = sa.partition_point(|&p| cmp_prefix(text, p.at(), pat) == std::cmp::Ordering::Less);
    let hi = lo
        + sa[lo..].partition_point(|&p| cmp_prefix(text, p.at(), pat) == std::cmp::Ordering::Equal);
    (lo, hi)
}

/// The longest substring of `query` occurring in `text`, if longer than `at_least`:
/// (length, start in the query, a suffix-array rank where it occurs). The answer can
/// only grow, so each query position costs one search for one more symbol.
pub fn longest<T: Ord, P: Pos>(
    text: &[T],
    sa: &[P],
    query: &[T],
    at_least: usize,
) -> Option<(usize, usize, u64)> {
    let mut best = at_least;
    let mut found = None;
    for i in 0..query.len() {
        while i + best < query.len() {
            let (lo, hi) = range(text, sa, &query[i..i + best + 1]);
            if lo < hi {
                best += 1;
                found = Some((best, i, lo as u64));
            } else {
                break;
            }
        }
    }
    found
}
