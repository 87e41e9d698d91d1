//! Reads the text inputs of `score`, `eval`, `forget-check`, `index` and `detect`:
//! JSONL (one object per line with `text`, optional `id` (a string or a number), other
//! fields carried through) or plain text (one text per line), told apart by one rule
//! (`Format::of`) and streamed by one reader (`JsonlRecords`); gzip, zstd and xz files
//! (told by their magic bytes, as corpora are shipped: The Pile's `.jsonl.zst`, Dolma's
//! `.json.gz`) are decompressed as they stream (`open`); Parquet files stream their rows
//! by row group (`read_parquet`). The record fields are `--text-field`/`--id-field`.
//! Errors name the file and line (or row group and row).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

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

/// The JSON Lines fields of a record's text and id (`--text-field`, `--id-field`), set
/// once from the command line before any input is read.
static FIELDS: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();

/// Sets the record fields every reader uses; an empty name is a usage error.
pub fn set_fields(text: &str, id: &str) -> Result<()> {
    if text.is_empty() || id.is_empty() {
        return Err(Error::input(
            "--text-field and --id-field must name a field",
        ));
    }
    // a second call (tests running commands in one process) keeps the first
    let _ = FIELDS.set((text.to_string(), id.to_string()));
    Ok(())
}

/// The text field's name (`text` unless `--text-field` says otherwise).
pub fn text_field() -> &'static str {
    FIELDS.get().map_or("text", |f| f.0.as_str())
}

/// The id field's name (`id` unless `--id-field` says otherwise).
pub fn id_field() -> &'static str {
    FIELDS.get().map_or("id", |f| f.1.as_str())
}

/// How a file is compressed, by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
    Xz,
}

impl Compression {
    /// By magic bytes: gzip `1f 8b`, zstd `28 b5 2f fd`, xz `fd 37 7a 58 5a 00`.
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
            Compression::Xz
        } else {
            Compression::None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Xz => "xz",
        }
    }
}

/// Opens `path` for streaming, decompressing gzip (every member), zstd and xz (every
/// stream) by the file's magic bytes. A corrupt or truncated archive fails on the read
/// that reaches the damage, with the decoder's cause (callers name the file).
pub fn open(path: &Path) -> Result<(Box<dyn Read + Send>, Compression)> {
    if path.is_dir() {
        return Err(Error::file(
            path,
            "is a folder; expected a .jsonl or .txt file",
        ));
    }
    let file = std::fs::File::open(path).with_file(path)?;
    let mut r = BufReader::with_capacity(1 << 16, file);
    let kind = Compression::sniff(r.fill_buf().with_file(path)?);
    let reader: Box<dyn Read + Send> = match kind {
        Compression::None => Box::new(r),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(r)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(r).with_file(path)?),
        Compression::Xz => Box::new(xz2::bufread::XzDecoder::new_multi_decoder(r)),
    };
    Ok((reader, kind))
}

/// `path` without a compression extension (`.gz`, `.zst`, `.zstd`, `.xz`), whose
/// remaining extension names the format.
fn inner_name(path: &Path) -> std::path::PathBuf {
    let compressed = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .is_some_and(|e| matches!(e.as_str(), "gz" | "zst" | "zstd" | "xz"));
    if compressed {
        path.with_extension("")
    } else {
        path.to_path_buf()
    }
}

/// A CSV or TSV file, compressed or not, by its name (detect reads its cells under
/// their headers as well).
pub fn is_table(path: &Path) -> bool {
    inner_name(path)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("csv") || e.eq_ignore_ascii_case("tsv"))
}

/// How a file's lines are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON Lines: one object with `text` per line.
    Jsonl,
    /// One text per line.
    Text,
    /// Apache Parquet: each row's text column (`--text-field`), by row group.
    Parquet,
}

impl Format {
    /// The name an index manifest records.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Text => "text",
            Format::Parquet => "parquet",
        }
    }

    /// By extension (any case; after a compression extension, `.jsonl.zst` is JSON
    /// Lines): `.jsonl` and `.ndjson` are JSON Lines; `.json` is JSON Lines when its
    /// first non-blank line is a JSON object on its own (a pretty-printed or
    /// single-document `.json` file is not); anything else is text. Every command reads
    /// a file by this one rule.
    pub fn of(path: &Path) -> Result<Format> {
        let ext = inner_name(path)
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        Ok(match ext.as_deref() {
            Some("parquet") => Format::Parquet,
            Some("jsonl" | "ndjson") => Format::Jsonl,
            Some("json") => {
                let (file, _) = open(path)?;
                let first = BufReader::new(file)
                    .split(b'\n')
                    .map_while(std::result::Result::ok)
                    .find(|l| !l.iter().all(u8::is_ascii_whitespace));
                match first {
                    Some(l) if serde_json::from_slice::<Map<String, Value>>(&l).is_ok() => {
                        Format::Jsonl
                    }
                    _ => Format::Text,
                }
            }
            _ => Format::Text,
        })
    }
}

/// Streams the records of a JSON Lines reader: each item is a record and its 1-based
/// line; blank lines are skipped. Errors name the file and the line.
pub struct JsonlRecords<'a, R> {
    reader: R,
    path: &'a Path,
    lineno: u64,
    buf: Vec<u8>,
    /// Bytes read so far.
    pub bytes: u64,
}

impl<'a, R: BufRead> JsonlRecords<'a, R> {
    pub fn new(reader: R, path: &'a Path) -> Self {
        JsonlRecords {
            reader,
            path,
            lineno: 0,
            buf: Vec::new(),
            bytes: 0,
        }
    }
}

impl<R: BufRead> Iterator for JsonlRecords<'_, R> {
    type Item = Result<(u64, TextRecord)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.buf.clear();
            // a read error (a damaged compressed stream) names the line it stopped in
            let n = match self
                .reader
                .read_until(b'\n', &mut self.buf)
                .map_err(|e| Error::file(self.path, format!("line {}: {e}", self.lineno + 1)))
            {
                Ok(n) => n,
                Err(e) => return Some(Err(e)),
            };
            if n == 0 {
                return None;
            }
            self.bytes += n as u64;
            self.lineno += 1;
            let line = match line_str(self.path, self.lineno, &mut self.buf) {
                Ok(l) => l,
                Err(e) => return Some(Err(e)),
            };
            if line.trim().is_empty() {
                continue;
            }
            return Some(parse_json_line(self.path, self.lineno, line).map(|r| (self.lineno, r)));
        }
    }
}

/// A line without its line ending, as UTF-8.
fn line_str<'b>(path: &Path, lineno: u64, buf: &'b mut Vec<u8>) -> Result<&'b str> {
    while buf.last().is_some_and(|&b| b == b'\n' || b == b'\r') {
        buf.pop();
    }
    std::str::from_utf8(buf)
        .map_err(|e| Error::file(path, format!("line {lineno}: invalid UTF-8 ({e})")))
}

/// Reads every record of `path`: a file, a folder of data files (a dataset as stored:
/// Parquet shards, compressed JSONL, …) or `hf://datasets/OWNER/NAME[@REV][/SUBDIR]` in
/// the Hugging Face cache. An empty input is an error.
pub fn read_texts(path: &Path) -> Result<Vec<TextRecord>> {
    let resolved = resolve_dataset(path)?;
    let path = resolved.as_path();
    if path.is_dir() {
        return read_folder(path);
    }
    read_file(path)
}

/// The files of a dataset folder that hold records, in path order: Parquet, JSON Lines
/// (`.jsonl`, `.ndjson`, `.json`) and text (`.txt`), each possibly gzip/zstd/xz
/// compressed; hidden entries (`.cache`, `.git`, lock files) and everything else
/// (README.md, dataset_info.json's siblings that are not records) are passed over.
pub fn data_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for e in walker {
        let e = e.map_err(|e| Error::file(dir, format!("cannot read folder ({e})")))?;
        if !e.file_type().is_file() {
            continue;
        }
        let inner = inner_name(e.path());
        let ext = inner
            .extension()
            .and_then(|x| x.to_str())
            .map(str::to_ascii_lowercase);
        let name = inner.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let data = matches!(ext.as_deref(), Some("parquet" | "jsonl" | "ndjson" | "txt"))
            || (ext.as_deref() == Some("json")
                && name != "dataset_info.json"
                && name != "dataset_infos.json"
                && name != "state.json");
        if data {
            files.push(e.into_path());
        }
    }
    if files.is_empty() {
        return Err(Error::file(
            dir,
            "no data files in the folder (Parquet, JSON Lines or text, optionally .gz/.zst/.xz)",
        ));
    }
    Ok(files)
}

/// Every record of every data file under `dir`. Ids stay as the files give them
/// unless two files give the same one; then each id is prefixed by its file's path
/// under `dir` ("data/train-00001.parquet:17"), so records stay distinguishable.
fn read_folder(dir: &Path) -> Result<Vec<TextRecord>> {
    let mut per_file = Vec::new();
    for f in data_files(dir)? {
        let recs = read_file(&f)?;
        per_file.push((f, recs));
    }
    let mut seen = std::collections::HashSet::new();
    let unique = per_file
        .iter()
        .flat_map(|(_, r)| r.iter())
        .all(|r| seen.insert(r.id.to_string()));
    let mut out = Vec::new();
    for (f, recs) in per_file {
        let rel = f.strip_prefix(dir).unwrap_or(&f).display().to_string();
        for mut r in recs {
            if !unique {
                let id = match &r.id {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                r.id = Value::from(format!("{rel}:{id}"));
            }
            out.push(r);
        }
    }
    Ok(out)
}

/// `hf://datasets/OWNER/NAME[@REV][/SUBDIR]` → its snapshot folder in the Hugging Face
/// cache (HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub); any other
/// path as it is. Datasets are read offline only: one that is not cached is an input
/// error saying how to fetch it.
pub fn resolve_dataset(path: &Path) -> Result<PathBuf> {
    let Some(spec) = path.to_str().and_then(|s| s.strip_prefix("hf://datasets/")) else {
        return Ok(path.to_path_buf());
    };
    let mut parts = spec.splitn(3, '/');
    let (owner, name_rev) = match (parts.next(), parts.next()) {
        (Some(o), Some(n)) if !o.is_empty() && !n.is_empty() => (o, n),
        _ => {
            return Err(Error::input(format!(
                "{}: expected hf://datasets/OWNER/NAME[@REVISION][/FOLDER]",
                path.display()
            )))
        }
    };
    let sub = parts.next().unwrap_or("");
    let (name, rev) = name_rev.split_once('@').unwrap_or((name_rev, "main"));
    let repo = crate::model::source::hub_cache_dir().join(format!("datasets--{owner}--{name}"));
    let commit = if rev.len() == 40 && rev.chars().all(|c| c.is_ascii_hexdigit()) {
        rev.to_string()
    } else {
        match std::fs::read_to_string(repo.join("refs").join(rev)) {
            Ok(c) => c.trim().to_string(),
            Err(_) => {
                return Err(Error::input(format!(
                    "dataset {owner}/{name}@{rev} is not in the Hugging Face cache ({}); memscan \
                     reads datasets offline: fetch it with `huggingface-cli download --repo-type \
                     dataset {owner}/{name}` (or pass its folder)",
                    crate::model::source::hub_cache_dir().display()
                )))
            }
        }
    };
    let snapshot = repo.join("snapshots").join(&commit).join(sub);
    if !snapshot.exists() {
        return Err(Error::file(
            &snapshot,
            format!("dataset {owner}/{name}@{rev}: no such folder in the cached snapshot"),
        ));
    }
    Ok(snapshot)
}

/// Every record of one file.
fn read_file(path: &Path) -> Result<Vec<TextRecord>> {
    let mut out = Vec::new();
    match Format::of(path)? {
        Format::Parquet => {
            read_parquet(path, |r| {
                out.push(r);
                Ok(())
            })?;
        }
        Format::Jsonl => {
            let reader = BufReader::new(open(path)?.0);
            for r in JsonlRecords::new(reader, path) {
                out.push(r?.1);
            }
        }
        Format::Text if has_ext(path, "json") => {
            return Err(Error::file(
                path,
                "not JSON Lines: expected one JSON object with a \"text\" field per line",
            ))
        }
        Format::Text => {
            let mut reader = BufReader::new(open(path)?.0);
            let mut buf = Vec::new();
            let mut lineno = 0u64;
            loop {
                buf.clear();
                let n = reader
                    .read_until(b'\n', &mut buf)
                    .map_err(|e| Error::file(path, format!("line {}: {e}", lineno + 1)))?;
                if n == 0 {
                    break;
                }
                lineno += 1;
                let line = line_str(path, lineno, &mut buf)?;
                if !line.trim().is_empty() {
                    out.push(TextRecord {
                        id: Value::from(lineno),
                        text: line.to_string(),
                        extra: Map::new(),
                    });
                }
            }
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

/// Streams the rows of a Parquet file, row group by row group: each row's
/// `--text-field` column (a UTF-8 byte-array column) and `--id-field` column (a string
/// or an integer; else the 1-based row number). A missing or non-text column, a null
/// text, or a damaged file is an error naming the file (and the row group and row).
/// Returns the rows read.
/// Whether `path` is a readable Parquet file with a text column named `--text-field`.
pub fn parquet_has_text(path: &Path) -> bool {
    use parquet::basic::Type as Physical;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let Ok(reader) = SerializedFileReader::new(file) else {
        return false;
    };
    let tf = text_field();
    reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .any(|c| c.path().string() == tf && c.physical_type() == Physical::BYTE_ARRAY)
}

pub fn read_parquet(path: &Path, mut each: impl FnMut(TextRecord) -> Result<()>) -> Result<u64> {
    use parquet::basic::Type as Physical;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;
    if path.is_dir() {
        return Err(Error::file(
            path,
            "is a folder; expected a .jsonl or .txt file",
        ));
    }
    let file = std::fs::File::open(path).with_file(path)?;
    let reader = SerializedFileReader::new(file)
        .map_err(|e| Error::file(path, format!("not a readable Parquet file ({e})")))?;
    let (tf, idf) = (text_field(), id_field());
    let schema = reader.metadata().file_metadata().schema_descr();
    let columns: Vec<String> = schema.columns().iter().map(|c| c.path().string()).collect();
    let text_col = schema
        .columns()
        .iter()
        .find(|c| c.path().string() == tf)
        .ok_or_else(|| {
            Error::file(
                path,
                format!(
                    "no column \"{tf}\" (columns: {}); choose one with --text-field",
                    columns.join(", ")
                ),
            )
        })?;
    if text_col.physical_type() != Physical::BYTE_ARRAY {
        return Err(Error::file(
            path,
            format!("column \"{tf}\" is not text ({})", text_col.physical_type()),
        ));
    }
    let mut n = 0u64;
    for g in 0..reader.num_row_groups() {
        let at =
            |e: parquet::errors::ParquetError| Error::file(path, format!("row group {g}: {e}"));
        let group = reader.get_row_group(g).map_err(at)?;
        let rows = group.get_row_iter(None).map_err(at)?;
        for row in rows {
            let row = row.map_err(at)?;
            n += 1;
            let (mut text, mut id) = (None, None);
            for (name, field) in row.get_column_iter() {
                if name == tf {
                    text = match field {
                        Field::Str(s) => Some(s.clone()),
                        Field::Bytes(b) => Some(
                            std::str::from_utf8(b.data())
                                .map_err(|e| {
                                    Error::file(
                                        path,
                                        format!(
                                            "row group {g}, row {n}: \"{tf}\" is not UTF-8 ({e})"
                                        ),
                                    )
                                })?
                                .to_string(),
                        ),
                        _ => None,
                    };
                } else if name == idf {
                    id = match field {
                        Field::Str(s) => Some(Value::from(s.clone())),
                        Field::Int(v) => Some(Value::from(*v)),
                        Field::Long(v) => Some(Value::from(*v)),
                        Field::UInt(v) => Some(Value::from(*v)),
                        Field::ULong(v) => Some(Value::from(*v)),
                        _ => None,
                    };
                }
            }
            let text = text.ok_or_else(|| {
                Error::file(path, format!("row group {g}, row {n}: \"{tf}\" is null"))
            })?;
            each(TextRecord {
                id: id.unwrap_or_else(|| Value::from(n)),
                text,
                extra: Map::new(),
            })?;
        }
    }
    Ok(n)
}

fn has_ext(path: &Path, ext: &str) -> bool {
    inner_name(path)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
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
    let (tf, idf) = (text_field(), id_field());
    let text = match obj.remove(tf) {
        Some(Value::String(s)) => s,
        Some(_) => {
            return Err(Error::file(
                path,
                format!("line {lineno}: \"{tf}\" is not a string"),
            ))
        }
        None => {
            return Err(Error::file(
                path,
                format!("line {lineno}: no \"{tf}\" field"),
            ))
        }
    };
    let id = match obj.remove(idf) {
        Some(v @ (Value::String(_) | Value::Number(_))) => v,
        Some(Value::Null) | None => Value::from(lineno),
        Some(_) => {
            return Err(Error::file(
                path,
                format!("line {lineno}: \"{idf}\" must be a string or a number"),
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

    #[test]
    fn one_rule_for_what_is_jsonl() {
        // any case of .jsonl / .ndjson
        let (_d, p) = write("A.JSONL", b"{\"text\":\"x\"}\n");
        assert_eq!(Format::of(&p).unwrap(), Format::Jsonl);
        // a .json file of one object per line is JSON Lines ...
        let (_d, p) = write("b.json", b"\n{\"text\":\"x\"}\n{\"text\":\"y\"}\n");
        assert_eq!(Format::of(&p).unwrap(), Format::Jsonl);
        assert_eq!(read_texts(&p).unwrap().len(), 2);
        // ... a pretty-printed document is not: text to detect, an error to score
        let (_d, p) = write("c.json", b"{\n  \"a\": 1\n}\n");
        assert_eq!(Format::of(&p).unwrap(), Format::Text);
        let e = read_texts(&p).unwrap_err().to_string();
        assert!(e.contains("c.json") && e.contains("not JSON Lines"), "{e}");
        let (_d, p) = write("d.txt", b"{\"text\":\"x\"}\n");
        assert_eq!(Format::of(&p).unwrap(), Format::Text);
    }

    #[test]
    fn streamed_records_keep_lines_and_bytes() {
        let data = b"{\"text\":\"a\"}\r\n\n{\"id\":7,\"text\":\"b\"}";
        let p = Path::new("mem.jsonl");
        let mut it = JsonlRecords::new(&data[..], p);
        let got: Vec<(u64, TextRecord)> = it.by_ref().collect::<Result<_>>().unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].0, got[1].0), (1, 3));
        assert_eq!(got[1].1.id, Value::from(7));
        assert_eq!(it.bytes, data.len() as u64);
        // an id that is neither a string nor a number is refused, naming the line
        let bad = b"{\"id\":{\"x\":1},\"text\":\"a\"}\n";
        let e = JsonlRecords::new(&bad[..], p)
            .next()
            .unwrap()
            .unwrap_err()
            .to_string();
        assert!(e.contains("mem.jsonl") && e.contains("line 1"), "{e}");
    }
}
