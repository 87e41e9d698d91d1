//! Tables: a CSV or TSV cell is read with its column's header as context. Customer and
//! payroll exports write `phone`, `ssn` or `card_number` once, in the header; the rules
//! that need a context word (national phone numbers, spaced SSNs, weak card ranges,
//! national identifiers) find the cells below it when each cell is scanned as
//! `header: cell`. The plain scan of the file runs as well; this pass only adds.

use super::engine::{Engine, Finding};

/// The field separator of a header line: tab, semicolon or comma, whichever occurs most
/// (comma on a tie); `None` when the line has none of them.
pub fn delimiter(header: &str) -> Option<u8> {
    let count = |c: char| header.matches(c).count();
    let (tab, semi, comma) = (count('\t'), count(';'), count(','));
    if tab == 0 && semi == 0 && comma == 0 {
        return None;
    }
    Some(if tab > semi && tab > comma {
        b'\t'
    } else if semi > comma {
        b';'
    } else {
        b','
    })
}

/// The byte ranges of a line's cells (quotes excluded: `"a,b"` gives `a,b`).
pub fn cells(line: &[u8], delim: u8) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i <= line.len() {
        if line.get(i) == Some(&b'"') {
            // a quoted cell: up to the quote not doubled
            let start = i + 1;
            let mut j = start;
            while j < line.len() {
                if line[j] == b'"' {
                    if line.get(j + 1) == Some(&b'"') {
                        j += 2;
                        continue;
                    }
                    break;
                }
                j += 1;
            }
            out.push((start, j.min(line.len())));
            // past the closing quote to the next delimiter
            i = line[j.min(line.len())..]
                .iter()
                .position(|&b| b == delim)
                .map_or(line.len() + 1, |p| j + p + 1);
        } else {
            let end = line[i..]
                .iter()
                .position(|&b| b == delim)
                .map_or(line.len(), |p| i + p);
            out.push((i, end));
            i = end + 1;
        }
    }
    out
}

/// Findings in the cells of one data `line` read under `header`'s column names, with
/// offsets into the line. The row is scanned once, as one `name: cell` line per
/// non-empty cell under a named column; a finding must lie inside one cell.
pub fn findings(engine: &Engine, header: &[u8], line: &[u8], delim: u8) -> Vec<Finding> {
    let names: Vec<&[u8]> = cells(header, delim)
        .into_iter()
        .map(|(s, e)| header[s..e].trim_ascii())
        .collect();
    let mut snippet = Vec::new();
    // (offset of the cell in the snippet, its start in the line, its length)
    let mut segments: Vec<(usize, usize, usize)> = Vec::new();
    for (k, (s, e)) in cells(line, delim).into_iter().enumerate() {
        let Some(name) = names.get(k).filter(|n| !n.is_empty()) else {
            continue;
        };
        if s >= e {
            continue;
        }
        // `phone_number` → `phone number`, so that word-bounded context words match
        snippet.extend(name.iter().map(|&b| if b == b'_' { b' ' } else { b }));
        snippet.extend_from_slice(b": ");
        segments.push((snippet.len(), s, e - s));
        snippet.extend_from_slice(&line[s..e]);
        snippet.push(b'\n');
    }
    let mut out = Vec::new();
    for mut f in engine.scan(&snippet) {
        let k = segments.partition_point(|&(at, _, _)| at <= f.start);
        let Some(&(at, start, len)) = k.checked_sub(1).and_then(|k| segments.get(k)) else {
            continue; // in a header name
        };
        if f.end > at + len {
            continue; // across cells
        }
        f.start = f.start - at + start;
        f.end = f.end - at + start;
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_quoted_cells() {
        let line = br#"a,"b, c","d ""e""",,f"#;
        let got: Vec<&[u8]> = cells(line, b',')
            .into_iter()
            .map(|(s, e)| &line[s..e])
            .collect();
        assert_eq!(got, vec![&b"a"[..], b"b, c", br#"d ""e"""#, b"", b"f"]);
        assert_eq!(delimiter("a;b;c,d"), Some(b';'));
        assert_eq!(delimiter("a\tb"), Some(b'\t'));
        assert_eq!(delimiter("just words"), None);
    }
}
