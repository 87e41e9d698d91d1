//! Verbatim index: suffix arrays over a reference corpus's bytes (and, with a
//! tokenizer, its token ids), built in shards, persisted beside a manifest, and
//! memory-mapped to answer "what is the longest substring of this text that occurs
//! in the corpus, where, and how often?".
//!
//! Layout of an index folder: `manifest.json`; per shard `shard-NNNN.bytes` (the
//! documents, each followed by the separator byte 0xFF, which UTF-8 text never
//! contains), `shard-NNNN.sa` (suffix array, u32 or u64 little-endian: the pointer
//! width is chosen by the shard's size), `shard-NNNN.docs` (per document: start in
//! the shard, corpus file index, offset in the file, as u64 triples) and, with a
//! tokenizer, `shard-NNNN.tok` / `shard-NNNN.tsa` (token ids as u32, the separator
//! being the vocabulary size; and their suffix array).

pub mod search;

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, IoContext, Result};
use crate::model::tokenizer::Tokenizer;

pub const FORMAT_VERSION: u32 = 1;
/// Separates documents in a byte shard (never part of UTF-8 text).
pub const SEP: u8 = 0xFF;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CorpusFile {
    pub path: String,
    /// Bytes and SHA-256 of the file as stored (compressed where it is).
    pub bytes: u64,
    pub sha256: String,
    /// How it was read: "jsonl" (each record's text field), "parquet" (each row's text
    /// column) or "text" (the whole file).
    #[serde(default)]
    pub format: String,
    /// "none", "gzip", "zstd" or "xz" (by its magic bytes).
    #[serde(default)]
    pub compression: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardInfo {
    pub name: String,
    /// Bytes in the shard's text (documents and separators).
    pub bytes: u64,
    /// Width of the byte suffix array entries: 4 or 8.
    pub pointer_bytes: u32,
    pub documents: u64,
    /// Tokens in the token text (with separators), when tokenized.
    pub tokens: Option<u64>,
    /// Added to the corpus file index in the shard's docs table: an index merged from
    /// separately built ones (`memscan merge`) lists every part's files in one manifest.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub file_offset: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenizerInfo {
    /// What was passed as --tokenizer (a model), to load it again for queries.
    pub model: String,
    pub identity: String,
    /// SHA-256 over the vocabulary (id order), to detect a different tokenizer.
    pub vocab_sha256: String,
    pub vocab_size: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    pub tool_version: String,
    pub files: Vec<CorpusFile>,
    pub shards: Vec<ShardInfo>,
    pub tokenizer: Option<TokenizerInfo>,
}

/// A hash of a tokenizer's vocabulary that identifies it.
pub fn vocab_hash(tok: &Tokenizer) -> (String, u32) {
    let n = tok.vocab_size() as u32;
    let mut h = Sha256::new();
    for id in 0..n {
        h.update(tok.id_to_token(id).as_bytes());
        h.update([0u8]);
    }
    (hex::encode(h.finalize()), n)
}

/// One corpus document: its text and where it came from.
struct Doc {
    file: usize,
    offset: u64,
    text: Vec<u8>,
}

/// Streams the documents of the corpus files: JSONL → each record's `text`; other
/// files → the whole file (read in pieces of at most `max` bytes).
fn documents(files: &[PathBuf], max: usize, mut each: impl FnMut(Doc) -> Result<()>) -> Result<()> {
    for (fi, path) in files.iter().enumerate() {
        let format = crate::input::Format::of(path)?;
        if format == crate::input::Format::Parquet {
            let mut offset = 0u64;
            crate::input::read_parquet(path, |r| {
                let text = r.text.into_bytes();
                let start = offset;
                offset += text.len() as u64;
                each(Doc {
                    file: fi,
                    offset: start,
                    text,
                })
            })?;
            continue;
        }
        let jsonl = format == crate::input::Format::Jsonl;
        let (f, _) = crate::input::open(path)?;
        if jsonl {
            let mut offset = 0u64;
            for (i, line) in BufReader::new(f).split(b'\n').enumerate() {
                let line = line.map_err(|e| Error::file(path, format!("line {}: {e}", i + 1)))?;
                let start = offset;
                offset += line.len() as u64 + 1;
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let v: serde_json::Value = serde_json::from_slice(&line).map_err(|e| {
                    Error::file(path, format!("line {}: invalid JSON ({e})", i + 1))
                })?;
                let field = crate::input::text_field();
                let text = v.get(field).and_then(|t| t.as_str()).ok_or_else(|| {
                    Error::file(path, format!("line {}: no \"{field}\" string field", i + 1))
                })?;
                each(Doc {
                    file: fi,
                    offset: start,
                    text: text.as_bytes().to_vec(),
                })?;
            }
        } else {
            let mut r = BufReader::new(f);
            let mut offset = 0u64;
            loop {
                let mut buf = Vec::new();
                let n = (&mut r)
                    .take(max as u64)
                    .read_to_end(&mut buf)
                    .with_file(path)?;
                if n == 0 {
                    break;
                }
                each(Doc {
                    file: fi,
                    offset,
                    text: buf,
                })?;
                offset += n as u64;
            }
        }
    }
    Ok(())
}

/// Expands folders into their files (sorted, recursively); `hf://datasets/…` into the
/// data files of the dataset's cached snapshot.
pub fn corpus_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in inputs {
        let resolved = crate::input::resolve_dataset(p)?;
        if resolved != *p {
            out.extend(crate::input::data_files(&resolved)?);
        } else if p.is_dir() {
            for e in walkdir::WalkDir::new(p).sort_by_file_name() {
                let e = e.map_err(|e| Error::file(p, format!("cannot read folder ({e})")))?;
                if e.file_type().is_file() {
                    out.push(e.into_path());
                }
            }
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(Error::file(p, "no such file or directory"));
        }
    }
    if out.is_empty() {
        return Err(Error::input("the corpus has no files"));
    }
    Ok(out)
}

/// SHA-256 and size of a file as stored, and its compression (by its first bytes).
fn sha256_file(path: &Path) -> Result<(String, u64, crate::input::Compression)> {
    let mut f = File::open(path).with_file(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    let mut compression = crate::input::Compression::None;
    loop {
        let k = f.read(&mut buf).with_file(path)?;
        if k == 0 {
            break;
        }
        if n == 0 {
            compression = crate::input::Compression::sniff(&buf[..k]);
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((hex::encode(h.finalize()), n, compression))
}

/// Writes a slice of plain integers as little-endian bytes, in one write. `Pod`
/// admits only types without padding or pointers, so the bytes are the values
/// (little-endian: the compile_error below keeps the host so).
fn write_le<T: bytemuck::Pod>(path: &Path, v: &[T]) -> Result<()> {
    std::fs::write(path, bytemuck::cast_slice::<T, u8>(v)).with_file(path)
}

/// Shards at least this long get 8-byte suffix-array entries (libsais' 32-bit output
/// is signed).
pub const WIDE_FROM: usize = (1 << 31) - 1;

/// Builds the byte suffix array of `text` and writes it to `path`: u32 entries when
/// the text is shorter than `wide_from`, else u64. Returns the pointer width.
fn write_byte_suffix_array(text: &[u8], path: &Path, wide_from: usize) -> Result<u32> {
    use libsais::SuffixArrayConstruction;
    let err =
        |e: libsais::LibsaisError| Error::internal(format!("suffix array construction: {e:?}"));
    if text.len() < wide_from {
        let sa = SuffixArrayConstruction::for_text(text)
            .in_owned_buffer32()
            .single_threaded()
            .run()
            .map_err(err)?;
        write_le(path, sa.suffix_array())?;
        Ok(4)
    } else {
        let sa = SuffixArrayConstruction::for_text(text)
            .in_owned_buffer64()
            .single_threaded()
            .run()
            .map_err(err)?;
        write_le(path, sa.suffix_array())?;
        Ok(8)
    }
}

/// Suffix array of a token text (ids < `alphabet`).
fn token_suffix_array(tokens: &[u32], alphabet: u32) -> Result<Vec<u32>> {
    use libsais::SuffixArrayConstruction;
    let mut text: Vec<i32> = tokens.iter().map(|&t| t as i32).collect();
    let alpha = libsais::suffix_array::AlphabetSize::new(alphabet as i32);
    // SAFETY: every value of `text` is in [0, alphabet) (ids < vocab, separator = vocab).
    let sa = unsafe {
        SuffixArrayConstruction::for_text_mut(&mut text)
            .in_owned_buffer32()
            .single_threaded()
            .with_alphabet_size(alpha)
            .run()
    }
    .map_err(|e| Error::internal(format!("token suffix array construction: {e:?}")))?;
    Ok(sa.into_vec().into_iter().map(|x| x as u32).collect())
}

/// Builds an index of `inputs` in `out`, in shards of about `shard_bytes`.
pub fn build(
    inputs: &[PathBuf],
    out: &Path,
    shard_bytes: usize,
    tokenizer: Option<(&Tokenizer, String)>,
    progress: impl FnMut(u64),
) -> Result<Manifest> {
    build_with(inputs, out, shard_bytes, tokenizer, progress, WIDE_FROM)
}

/// `build`, with 8-byte suffix-array entries from `wide_from` bytes per shard (tests
/// lower it to exercise the wide format on small corpora).
pub fn build_with(
    inputs: &[PathBuf],
    out: &Path,
    shard_bytes: usize,
    tokenizer: Option<(&Tokenizer, String)>,
    progress: impl FnMut(u64),
    wide_from: usize,
) -> Result<Manifest> {
    let files = corpus_files(inputs)?;
    build_files(&files, out, shard_bytes, tokenizer, progress, wide_from)
}

/// `build_with` over corpus files already listed (a sharded build: its part of them).
pub fn build_files(
    files: &[PathBuf],
    out: &Path,
    shard_bytes: usize,
    tokenizer: Option<(&Tokenizer, String)>,
    mut progress: impl FnMut(u64),
    wide_from: usize,
) -> Result<Manifest> {
    std::fs::create_dir_all(out).with_file(out)?;
    let mut manifest_files = Vec::new();
    for f in files {
        let (sha, bytes, compression) = sha256_file(f)?;
        let format = crate::input::Format::of(f)?.as_str();
        manifest_files.push(CorpusFile {
            path: f.display().to_string(),
            bytes,
            sha256: sha,
            format: format.into(),
            compression: compression.as_str().into(),
        });
    }
    let tok_info = tokenizer.as_ref().map(|(t, model)| {
        let (vocab_sha256, vocab_size) = vocab_hash(t);
        TokenizerInfo {
            model: model.clone(),
            identity: t.identity.clone(),
            vocab_sha256,
            vocab_size,
        }
    });
    let mut shards = Vec::new();
    let mut text: Vec<u8> = Vec::new();
    let mut docs: Vec<u64> = Vec::new();
    let flush =
        |text: &mut Vec<u8>, docs: &mut Vec<u64>, shards: &mut Vec<ShardInfo>| -> Result<()> {
            if text.is_empty() {
                return Ok(());
            }
            let name = format!("shard-{:04}", shards.len());
            let base = out.join(&name);
            std::fs::write(base.with_extension("bytes"), &text)
                .with_file(&base.with_extension("bytes"))?;
            let width = write_byte_suffix_array(text, &base.with_extension("sa"), wide_from)?;
            write_le(&base.with_extension("docs"), docs)?;
            let mut tokens_len = None;
            if let Some((t, _)) = &tokenizer {
                use rayon::prelude::*;
                let sep = t.vocab_size() as u32;
                // documents tokenized in parallel, concatenated in order
                let per_doc: Vec<Vec<u32>> = docs
                    .par_chunks_exact(3)
                    .map(|d| {
                        let start = d[0] as usize;
                        let end = text[start..]
                            .iter()
                            .position(|&b| b == SEP)
                            .map_or(text.len(), |p| start + p);
                        let mut v = t.encode_plain(&String::from_utf8_lossy(&text[start..end]))?;
                        v.push(sep);
                        Ok(v)
                    })
                    .collect::<Result<_>>()?;
                let toks: Vec<u32> = per_doc.concat();
                let tsa = token_suffix_array(&toks, sep + 1)?;
                write_le(&base.with_extension("tok"), &toks)?;
                write_le(&base.with_extension("tsa"), &tsa)?;
                tokens_len = Some(toks.len() as u64);
            }
            shards.push(ShardInfo {
                name,
                bytes: text.len() as u64,
                pointer_bytes: width,
                documents: (docs.len() / 3) as u64,
                tokens: tokens_len,
                file_offset: 0,
            });
            text.clear();
            docs.clear();
            Ok(())
        };
    documents(files, shard_bytes.max(1), |d| {
        if !text.is_empty() && text.len() + d.text.len() + 1 > shard_bytes {
            flush(&mut text, &mut docs, &mut shards)?;
        }
        docs.extend([text.len() as u64, d.file as u64, d.offset]);
        progress(d.text.len() as u64);
        text.extend_from_slice(&d.text);
        text.push(SEP);
        Ok(())
    })?;
    flush(&mut text, &mut docs, &mut shards)?;
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        files: manifest_files,
        shards,
        tokenizer: tok_info,
    };
    let mpath = out.join("manifest.json");
    let json = serde_json::to_string_pretty(&manifest)
        .map_err(|e| Error::internal(format!("manifest: {e}")))?;
    std::fs::write(&mpath, json).with_file(&mpath)?;
    Ok(manifest)
}

/// A shard, memory-mapped.
pub struct Shard {
    pub info: ShardInfo,
    text: Mmap,
    sa: Mmap,
    docs: Mmap,
    tok: Option<(Mmap, Mmap)>,
}

impl Shard {
    /// Checks the docs table against the shard, so that queries can trust it: one
    /// entry per document, the first at 0, starts strictly increasing and inside the
    /// text, each document preceded by a separator, file indexes in range.
    fn check_docs(&self, n_files: usize) -> std::result::Result<(), String> {
        let docs = as_u64s(&self.docs);
        let text = &self.text[..];
        if docs.is_empty() != text.is_empty() {
            return Err(format!(
                "{} documents for {} bytes of text",
                docs.len() / 3,
                text.len()
            ));
        }
        let mut prev: Option<u64> = None;
        for (i, d) in docs.chunks_exact(3).enumerate() {
            let (start, file) = (d[0], d[1].saturating_add(self.info.file_offset));
            let ok_start = match prev {
                None => start == 0,
                Some(p) => start > p && text.get(start as usize - 1) == Some(&SEP),
            };
            if !ok_start || start >= text.len() as u64 {
                return Err(format!(
                    "document {i} starts at {start}, out of order or outside the text"
                ));
            }
            if file >= n_files as u64 {
                return Err(format!(
                    "document {i} names corpus file {file}, but the manifest lists {n_files}"
                ));
            }
            prev = Some(start);
        }
        if text.last().is_some_and(|&b| b != SEP) {
            return Err("the text does not end with a document separator".into());
        }
        Ok(())
    }
}

/// An opened index.
pub struct Index {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub shards: Vec<Shard>,
}

fn map(path: &Path, expect: u64) -> Result<Mmap> {
    let f = File::open(path).with_file(path)?;
    let len = f.metadata().with_file(path)?.len();
    if len != expect {
        return Err(Error::file(
            path,
            format!("corrupt index: {len} bytes, the manifest says {expect} (truncated?)"),
        ));
    }
    // SAFETY: read-only map of an index file memscan does not modify while mapped.
    unsafe { Mmap::map(&f) }.with_file(path)
}

/// Reinterprets a mapped little-endian array (the map is page-aligned).
fn as_u32s(m: &[u8]) -> &[u32] {
    // SAFETY: u32 has no invalid bit patterns; align_to only yields the aligned middle.
    let (pre, mid, _) = unsafe { m.align_to::<u32>() };
    debug_assert!(pre.is_empty());
    mid
}

fn as_u64s(m: &[u8]) -> &[u64] {
    // SAFETY: as above.
    let (pre, mid, _) = unsafe { m.align_to::<u64>() };
    debug_assert!(pre.is_empty());
    mid
}

#[cfg(not(target_endian = "little"))]
compile_error!("the index format is little-endian");

impl Index {
    pub fn open(dir: &Path) -> Result<Index> {
        let mpath = dir.join("manifest.json");
        if !mpath.exists()
            && std::fs::read_dir(dir).is_ok_and(|mut it| {
                it.any(|e| e.is_ok_and(|e| e.path().join(crate::shard::MANIFEST).is_file()))
            })
        {
            return Err(Error::file(
                dir,
                "holds the shards of a sharded index build, not yet joined: run `memscan merge` on it",
            ));
        }
        let text = std::fs::read_to_string(&mpath).with_file(&mpath)?;
        let manifest: Manifest = serde_json::from_str(&text)
            .map_err(|e| Error::file(&mpath, format!("corrupt index manifest ({e})")))?;
        if manifest.format_version != FORMAT_VERSION {
            return Err(Error::file(
                &mpath,
                format!(
                    "index format {} (this memscan reads {FORMAT_VERSION}); rebuild it",
                    manifest.format_version
                ),
            ));
        }
        let mut shards = Vec::new();
        for s in &manifest.shards {
            let base = dir.join(&s.name);
            if s.pointer_bytes != 4 && s.pointer_bytes != 8 {
                return Err(Error::file(
                    &mpath,
                    format!("corrupt index: pointer width {}", s.pointer_bytes),
                ));
            }
            // sizes come from the manifest: products are checked, not wrapped
            let size = |n: u64, width: u64, what: &str| {
                n.checked_mul(width).ok_or_else(|| {
                    Error::file(
                        &mpath,
                        format!(
                            "corrupt index: shard {} has an impossible {what} count {n}",
                            s.name
                        ),
                    )
                })
            };
            let text = map(&base.with_extension("bytes"), s.bytes)?;
            let sa = map(
                &base.with_extension("sa"),
                size(s.bytes, s.pointer_bytes as u64, "byte")?,
            )?;
            let docs = map(
                &base.with_extension("docs"),
                size(s.documents, 24, "document")?,
            )?;
            let tok = match s.tokens {
                Some(n) => Some((
                    map(&base.with_extension("tok"), size(n, 4, "token")?)?,
                    map(&base.with_extension("tsa"), size(n, 4, "token")?)?,
                )),
                None => None,
            };
            let shard = Shard {
                info: s.clone(),
                text,
                sa,
                docs,
                tok,
            };
            shard.check_docs(manifest.files.len()).map_err(|why| {
                Error::file(
                    &base.with_extension("docs"),
                    format!("corrupt index: {why}"),
                )
            })?;
            shards.push(shard);
        }
        Ok(Index {
            dir: dir.to_path_buf(),
            manifest,
            shards,
        })
    }

    /// The tokenizer for token matches: `model` if given, else the one recorded in the
    /// manifest; checked against the index's vocabulary. `None` for a byte-only index
    /// queried without a model.
    pub fn tokenizer(&self, model: Option<&str>) -> Result<Option<Tokenizer>> {
        let spec = match (model, &self.manifest.tokenizer) {
            (Some(m), _) => m.to_string(),
            (None, Some(info)) => info.model.clone(),
            (None, None) => return Ok(None),
        };
        let t = crate::model::load_tokenizer(&spec)?;
        self.check_tokenizer(&t)?;
        Ok(Some(t))
    }

    /// Checks that `tok` is the tokenizer the index was built with.
    pub fn check_tokenizer(&self, tok: &Tokenizer) -> Result<()> {
        let Some(info) = &self.manifest.tokenizer else {
            return Ok(());
        };
        let (sha, _) = vocab_hash(tok);
        if sha != info.vocab_sha256 {
            return Err(Error::file(
                &self.dir.join("manifest.json"),
                format!("the index was built with another tokenizer ({}); rebuild it or query with that model", info.model),
            ));
        }
        Ok(())
    }
}

/// The answer for one query text.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Match {
    pub longest_match_bytes: usize,
    /// Where the longest byte match occurs (one occurrence): corpus file and byte offset.
    pub file: Option<String>,
    pub offset: Option<u64>,
    /// How many times the matched bytes occur in the corpus.
    pub count: u64,
    /// Byte range of the match in the query.
    pub query_start: usize,
    pub longest_match_tokens: Option<usize>,
    pub token_count: Option<u64>,
}

impl Index {
    /// The longest substring of `query` (bytes, and tokens when the index has them)
    /// found in the corpus.
    pub fn query(&self, query: &[u8], query_tokens: Option<&[u32]>) -> Match {
        // longest over shards, then its count across all shards
        let mut best: Option<(usize, usize, usize, u64)> = None; // (len, query start, shard, sa rank)
        for (si, s) in self.shards.iter().enumerate() {
            let text = &s.text[..];
            let r = if s.info.pointer_bytes == 4 {
                search::longest(text, as_u32s(&s.sa), query, best.map_or(0, |b| b.0))
            } else {
                search::longest(text, as_u64s(&s.sa), query, best.map_or(0, |b| b.0))
            };
            if let Some((len, qs, rank)) = r {
                if best.is_none_or(|b| len > b.0) {
                    best = Some((len, qs, si, rank));
                }
            }
        }
        let mut m = Match {
            longest_match_bytes: 0,
            file: None,
            offset: None,
            count: 0,
            query_start: 0,
            longest_match_tokens: None,
            token_count: None,
        };
        if let Some((len, qs, si, rank)) = best {
            let pat = &query[qs..qs + len];
            m.longest_match_bytes = len;
            m.query_start = qs;
            m.count = self.shards.iter().map(|s| self.count_bytes(s, pat)).sum();
            let s = &self.shards[si];
            let pos = if s.info.pointer_bytes == 4 {
                as_u32s(&s.sa)[rank as usize] as u64
            } else {
                as_u64s(&s.sa)[rank as usize]
            };
            let docs = as_u64s(&s.docs);
            // check_docs on open: the first document starts at 0, so one is found
            let (mut lo, mut hi) = (0, docs.len() / 3); // starts are increasing (check_docs)
            while lo < hi {
                let mid = (lo + hi) / 2;
                if docs[3 * mid] <= pos {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            if let Some(d) = lo.checked_sub(1).map(|i| &docs[3 * i..3 * i + 3]) {
                m.file = self
                    .manifest
                    .files
                    .get(d[1].saturating_add(s.info.file_offset) as usize)
                    .map(|f| f.path.clone());
                m.offset = Some(d[2].saturating_add(pos - d[0]));
            }
        }
        if let Some(q) = query_tokens {
            let mut best_t = 0usize;
            let mut best_pat: Option<(usize, usize)> = None;
            for s in &self.shards {
                if let Some((tok, tsa)) = &s.tok {
                    if let Some((len, qs, _)) =
                        search::longest(as_u32s(tok), as_u32s(tsa), q, best_t)
                    {
                        if len > best_t {
                            best_t = len;
                            best_pat = Some((qs, len));
                        }
                    }
                }
            }
            m.longest_match_tokens = Some(best_t);
            m.token_count = Some(match best_pat {
                Some((qs, len)) => self
                    .shards
                    .iter()
                    .filter_map(|s| s.tok.as_ref())
                    .map(|(tok, tsa)| {
                        let (lo, hi) = search::range(as_u32s(tok), as_u32s(tsa), &q[qs..qs + len]);
                        (hi - lo) as u64
                    })
                    .sum(),
                None => 0,
            });
        }
        m
    }

    /// Occurrences of each token id below `vocab` in the token text (separators and
    /// any other id past the vocabulary are not counted); empty without a token text.
    pub fn token_counts(&self, vocab: usize) -> Vec<u64> {
        let mut counts = vec![0u64; vocab];
        for (tok, _) in self.shards.iter().filter_map(|s| s.tok.as_ref()) {
            for &t in as_u32s(tok) {
                if let Some(c) = counts.get_mut(t as usize) {
                    *c += 1;
                }
            }
        }
        counts
    }

    /// Occurrences of `pat` (bytes) in the corpus; 0 for an empty pattern.
    pub fn count(&self, pat: &[u8]) -> u64 {
        if pat.is_empty() {
            return 0;
        }
        self.shards.iter().map(|s| self.count_bytes(s, pat)).sum()
    }

    fn count_bytes(&self, s: &Shard, pat: &[u8]) -> u64 {
        let (lo, hi) = if s.info.pointer_bytes == 4 {
            search::range(&s.text[..], as_u32s(&s.sa), pat)
        } else {
            search::range(&s.text[..], as_u64s(&s.sa), pat)
        };
        (hi - lo) as u64
    }
}
