//! Reads the text inputs of `score`, `eval`, `forget-check` and `detect`: JSONL
//! (one object per line with `text`, optional `id`, other fields carried through)
//! or plain text (one text per line). Errors name the file and line.

use std::io::{BufRead, BufReader};
use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{Error, IoContext, Result};

/// One input text.
#[derive(Debug, Clone)]
pub struct TextRecord {
    /// The record's `id`, or its 1-based line number.
    pub id: Value,
    pub text: String,
    /// Every other field of the JSONL object, in order.
    pub extra: Map<String, Value>,
}

fn is_jsonl(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "jsonl" | "json" | "ndjson"))
}

/// Reads every record of `path`; an empty input is an error.
pub fn read_texts(path: &Path) -> Result<Vec<TextRecord>> {
    let file = std::fs::File::open(path).with_file(path)?;
    if path.is_dir() {
        return Err(Error::file(
            path,
            "is a folder; expected a .jsonl or .txt file",
        ));
    }
    let jsonl = is_jsonl(path);
    let mut reader = BufReader::new(file);
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let mut lineno = 0u64;
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf).with_file(path)?;
        if n == 0 {
            break;
        }
        lineno += 1;
        while buf.last().is_some_and(|&b| b == b'\n' || b == b'\r') {
            buf.pop();
        }
        let line = std::str::from_utf8(&buf)
            .map_err(|e| Error::file(path, format!("line {lineno}: invalid UTF-8 ({e})")))?;
        if line.trim().is_empty() {
            continue;
        }
        if jsonl {
            out.push(parse_json_line(path, lineno, line)?);
        } else {
            out.push(TextRecord {
                id: Value::from(lineno),
                text: line.to_string(),
                extra: Map::new(),
            });
        }
    }
    if out.is_empty() {
        return Err(Error::file(
            path,
            "no texts in the input (the file is empty)",
        ));
    }
    Ok(out)
}

fn parse_json_line(path: &Path, lineno: u64, line: &str) -> Result<TextRecord> {
    let v: Value = serde_json::from_str(line)
        .map_err(|e| Error::file(path, format!("line {lineno}: invalid JSON ({e})")))?;
    let Value::Object(mut obj) = v else {
        return Err(Error::file(
            path,
            format!("line {lineno}: expected a JSON object"),
        ));
    };
    let text = match obj.remove("text") {
        Some(Value::String(s)) => s,
        Some(_) => {
            return Err(Error::file(
                path,
                format!("line {lineno}: \"text\" is not a string"),
            ))
        }
        None => {
            return Err(Error::file(
                path,
                format!("line {lineno}: no \"text\" field"),
            ))
        }
    };
    let id = match obj.remove("id") {
        Some(v @ (Value::String(_) | Value::Number(_))) => v,
        Some(Value::Null) | None => Value::from(lineno),
        Some(_) => {
            return Err(Error::file(
                path,
                format!("line {lineno}: \"id\" must be a string or a number"),
            ))
        }
    };
    Ok(TextRecord {
        id,
        text,
        extra: obj,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        (d, p)
    }

    #[test]
    fn jsonl_ids_and_extras() {
        let (_d, p) = write(
            "a.jsonl",
            b"{\"text\":\"hi\",\"src\":\"x\"}\n\n{\"id\":\"k\",\"text\":\"yo\"}\n",
        );
        let r = read_texts(&p).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].id, Value::from(1));
        assert_eq!(r[0].extra["src"], "x");
        assert_eq!(r[1].id, "k");
    }

    #[test]
    fn errors_name_file_and_line() {
        let (_d, p) = write("b.jsonl", b"{\"text\":\"ok\"}\n{not json}\n");
        let e = read_texts(&p).unwrap_err().to_string();
        assert!(e.contains("b.jsonl") && e.contains("line 2"), "{e}");
        let (_d, p) = write("c.txt", b"fine\n\xff\xfe\n");
        let e = read_texts(&p).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("UTF-8"), "{e}");
        let (_d, p) = write("d.txt", b"\n\n");
        assert!(read_texts(&p).is_err());
    }
}
