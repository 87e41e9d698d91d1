//! `memscan detect`: PII and secrets in files, folders, JSONL records or stdin,
//! reported masked (raw values only with `--reveal`) as text, JSON, JSONL or SARIF.

use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_json::Value;

use crate::cli::{DetectArgs, DetectFormat, FailOn};
use crate::detect::{rules, Category, Engine, Finding};
use crate::error::{Error, IoContext, Result, EXIT_FINDINGS};
use crate::input::{Format, JsonlRecords, TextRecord};
use crate::report::rows::DetectFinding;
use crate::report::schema::{CategoryCounts, DetectReport, DetectSummary, Tool};
use crate::report::{sarif, SCHEMA_VERSION};

/// Bytes per chunk when streaming a file.
const CHUNK: usize = 8 << 20;
/// Records scanned together (in parallel).
const BATCH: usize = 4096;
/// A file with a NUL byte in its first bytes is binary and skipped.
const SNIFF: usize = 8192;

/// A finding and where it is.
struct Located {
    finding: Finding,
    path: String,
    line: u64,
    column: u64,
    /// The JSONL record's id.
    record: Option<Value>,
}

#[derive(Default)]
struct Scanned {
    found: Vec<Located>,
    bytes: u64,
    binary: bool,
}

pub fn run(args: &DetectArgs, quiet: bool) -> Result<i32> {
    if !(0.0..=1.0).contains(&args.min_confidence) {
        return Err(Error::input("--min-confidence must be between 0 and 1"));
    }
    let engine = Engine::new(rules::load(&args.patterns, &args.add_patterns)?)?;
    let mut out = super::output(args.output.as_deref())?;
    if args.list_rules {
        for r in &engine.rules {
            writeln!(
                out,
                "{}\t{}\t{}",
                r.spec.id,
                r.spec.category.as_str(),
                r.spec.description
            )?;
        }
        return Ok(0);
    }
    let files = collect_inputs(&args.paths)?;
    let t0 = std::time::Instant::now();
    let pb = super::progress_bar(files.len() as u64, quiet, "files");
    let results: Vec<Result<Scanned>> = files
        .par_iter()
        .map(|f| {
            let r = scan_input(&engine, &f.0, f.1);
            pb.inc(1);
            r
        })
        .collect();
    pb.finish_and_clear();
    let mut found = Vec::new();
    let (mut bytes, mut n_files, mut skipped) = (0u64, 0usize, Vec::new());
    for ((f, _), r) in files.iter().zip(results) {
        let s = r?;
        if s.binary {
            skipped.push(f.display().to_string());
            continue;
        }
        n_files += 1;
        bytes += s.bytes;
        found.extend(
            s.found
                .into_iter()
                .filter(|l| l.finding.confidence >= args.min_confidence),
        );
    }
    found.sort_by(|a, b| {
        a.path
            .cmp(&b.path)
            .then(a.finding.start.cmp(&b.finding.start))
    });
    let secs = t0.elapsed().as_secs_f64();
    write_output(&mut out, args, &engine, &found, n_files, bytes, &skipped)?;
    out.flush()
        .map_err(|e| Error::input(format!("cannot write output ({e})")))?;
    if !quiet {
        let count = |c: Category| found.iter().filter(|l| l.finding.category == c).count();
        eprintln!(
            "memscan: {} secret and {} PII findings in {n_files} files ({:.1} MB, {:.1} MB/s){}",
            count(Category::Secret),
            count(Category::Pii),
            bytes as f64 / 1e6,
            bytes as f64 / 1e6 / secs.max(1e-9),
            if skipped.is_empty() {
                String::new()
            } else {
                format!("; {} binary files skipped", skipped.len())
            }
        );
    }
    let fail = found.iter().any(|l| match args.fail_on {
        FailOn::None => false,
        FailOn::Any => true,
        FailOn::Secret => l.finding.category == Category::Secret,
        FailOn::Pii => l.finding.category == Category::Pii,
    });
    Ok(if fail { EXIT_FINDINGS } else { 0 })
}

/// Expands folders (recursively, skipping .git) into files; `-` is stdin;
/// `hf://datasets/…` into the data files of the dataset's cached snapshot. Each file
/// comes with whether it was found in a folder (rather than named).
fn collect_inputs(paths: &[PathBuf]) -> Result<Vec<(PathBuf, bool)>> {
    let mut files = Vec::new();
    for p in paths {
        let resolved = crate::input::resolve_dataset(p)?;
        if resolved != *p {
            files.extend(
                crate::input::data_files(&resolved)?
                    .into_iter()
                    .map(|f| (f, false)),
            );
        } else if p.as_os_str() == "-" {
            files.push((p.clone(), false));
        } else if p.is_dir() {
            let walker = walkdir::WalkDir::new(p)
                .follow_links(false)
                .sort_by_file_name();
            for e in walker.into_iter().filter_entry(|e| e.file_name() != ".git") {
                let e = e.map_err(|e| Error::file(p, format!("cannot read folder ({e})")))?;
                if e.file_type().is_file() {
                    files.push((e.into_path(), true));
                }
            }
        } else if p.is_file() {
            files.push((p.clone(), false));
        } else if p.exists() {
            return Err(Error::file(p, "not a regular file or folder"));
        } else {
            return Err(Error::file(p, "no such file or directory"));
        }
    }
    Ok(files)
}

/// A named JSONL file is records (a line without the text field is an error); one found
/// in a folder is records only when its first line is a record with the text field, and
/// otherwise plain text (a repository's `labels.jsonl` is scanned like its other files).
/// A Parquet file found in a folder without a readable text column is skipped as binary.
fn scan_input(engine: &Engine, path: &Path, in_folder: bool) -> Result<Scanned> {
    if path.as_os_str() == "-" {
        let stdin = std::io::stdin().lock();
        return scan_reader(engine, stdin, "-").map_err(|e| Error::input(format!("stdin: {e}")));
    }
    if Format::of(path)? == Format::Parquet {
        // one found in a folder without a text column (or unreadable) is a binary file
        if in_folder && !crate::input::parquet_has_text(path) {
            return Ok(Scanned {
                binary: true,
                ..Default::default()
            });
        }
        return scan_parquet(engine, path);
    }
    let (mut file, _) = crate::input::open(path)?;
    let mut head = Vec::with_capacity(SNIFF);
    if let Err(e) = (&mut file).take(SNIFF as u64).read_to_end(&mut head) {
        // a damaged compressed stream: the line the reading stopped in
        let line = head.iter().filter(|&&b| b == b'\n').count() + 1;
        return Err(Error::file(path, format!("line {line}: {e}")));
    }
    if head.contains(&0) {
        return Ok(Scanned {
            binary: true,
            ..Default::default()
        });
    }
    let whole = std::io::Cursor::new(head).chain(file);
    let records = !in_folder || first_line_is_record(whole.get_ref().0.get_ref());
    if records && Format::of(path)? == Format::Jsonl {
        return scan_jsonl(engine, path, whole);
    }
    let mut scanned = scan_reader(engine, whole, &path.display().to_string()).with_file(path)?;
    if crate::input::is_table(path) {
        scan_columns(engine, path, &mut scanned.found)?;
    }
    Ok(scanned)
}

/// Rows longer than this are left to the plain scan in the table pass.
const MAX_ROW: usize = 1 << 20;

/// The table pass (`detect::columns`): every cell read again under its column's header;
/// findings the plain scan did not make are added, in file order.
fn scan_columns(engine: &Engine, path: &Path, found: &mut Vec<Located>) -> Result<()> {
    use std::io::BufRead;
    let (file, _) = crate::input::open(path)?;
    let mut reader = BufReader::new(file);
    let (mut header, mut delim) = (Vec::new(), None);
    let (mut line, mut offset, mut number) = (Vec::new(), 0usize, 0u64);
    let name = path.display().to_string();
    let mut added = Vec::new();
    // a quoted cell open across lines: its continuation lines are not rows
    let mut open_quote = false;
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::file(path, format!("line {}: {e}", number + 1)))?;
        if n == 0 {
            break;
        }
        number += 1;
        let start = offset;
        offset += n;
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        let continued = open_quote;
        open_quote ^= text.iter().filter(|&&b| b == b'"').count() % 2 == 1;
        if continued || text.len() > MAX_ROW {
            continue;
        }
        match delim {
            None if !text.trim_ascii().is_empty() && !text.starts_with(b"#") => {
                let Some(d) = crate::detect::columns::delimiter(&String::from_utf8_lossy(text))
                else {
                    return Ok(()); // no separator in the first line: not a table
                };
                header = text.to_vec();
                delim = Some(d);
            }
            None => {}
            Some(d) => {
                for mut f in crate::detect::columns::findings(engine, &header, text, d) {
                    let column = f.start as u64 + 1;
                    f.start += start;
                    f.end += start;
                    // the plain scan's findings are in order and do not overlap
                    let (a, b) = (f.start, f.end);
                    let k = found.partition_point(|l| l.finding.end <= a);
                    if found.get(k).is_some_and(|l| l.finding.start < b) {
                        continue;
                    }
                    added.push(Located {
                        finding: f,
                        path: name.clone(),
                        line: number,
                        column,
                        record: None,
                    });
                }
            }
        }
    }
    found.extend(added);
    found.sort_by_key(|l| l.finding.start);
    Ok(())
}

/// Whether the first non-empty line of `head` is a JSON object with the text field.
fn first_line_is_record(head: &[u8]) -> bool {
    let Some(line) = head
        .split(|&b| b == b'\n')
        .find(|l| !l.iter().all(u8::is_ascii_whitespace))
    else {
        return true; // an empty file: nothing to tell
    };
    if line.len() == head.len() && head.len() >= SNIFF {
        return true; // a first line longer than the sniffed head: records, as named
    }
    serde_json::from_slice::<serde_json::Value>(line)
        .ok()
        .and_then(|v| v.get(crate::input::text_field()).map(|t| t.is_string()))
        .unwrap_or(false)
}

/// Streams `reader` through the engine; findings come with their line and column.
fn scan_reader(engine: &Engine, reader: impl Read, name: &str) -> std::io::Result<Scanned> {
    let mut found = Vec::new();
    let bytes = engine.scan_stream(reader, CHUNK, |finding, line, column| {
        found.push(Located {
            finding,
            path: name.to_string(),
            line,
            column,
            record: None,
        })
    })?;
    Ok(Scanned {
        found,
        bytes,
        binary: false,
    })
}

/// Each record's `text`; findings carry the record's id (default: its line number),
/// offsets into the text and the JSONL line. Records stream through in batches that
/// the engine scans in parallel.
fn scan_jsonl(engine: &Engine, path: &Path, reader: impl Read) -> Result<Scanned> {
    let mut records = JsonlRecords::new(BufReader::new(reader), path);
    let mut found = Vec::new();
    loop {
        let batch = records
            .by_ref()
            .take(BATCH)
            .collect::<Result<Vec<(u64, TextRecord)>>>()?;
        if batch.is_empty() {
            break;
        }
        scan_batch(engine, path, &batch, &mut found);
    }
    Ok(Scanned {
        found,
        bytes: records.bytes,
        binary: false,
    })
}

/// Each Parquet row's text, like a JSONL record's (the row number stands for the line),
/// in batches as the row groups stream.
fn scan_parquet(engine: &Engine, path: &Path) -> Result<Scanned> {
    let (mut found, mut batch, mut bytes) = (Vec::new(), Vec::with_capacity(BATCH), 0u64);
    let mut row = 0u64;
    crate::input::read_parquet(path, |r| {
        row += 1;
        bytes += r.text.len() as u64;
        batch.push((row, r));
        if batch.len() == BATCH {
            scan_batch(engine, path, &batch, &mut found);
            batch.clear();
        }
        Ok(())
    })?;
    scan_batch(engine, path, &batch, &mut found);
    Ok(Scanned {
        found,
        bytes,
        binary: false,
    })
}

/// Records scanned in parallel; findings carry the record's id and its line (or row).
fn scan_batch(engine: &Engine, path: &Path, batch: &[(u64, TextRecord)], found: &mut Vec<Located>) {
    let name = path.display().to_string();
    found.par_extend(batch.par_iter().flat_map_iter(|(line, r)| {
        let name = &name;
        let text = &r.text;
        engine.scan(text.as_bytes()).into_iter().map(move |f| {
            let column = text.as_bytes()[..f.start]
                .iter()
                .rev()
                .take_while(|&&b| b != b'\n')
                .count() as u64
                + 1;
            Located {
                finding: f,
                path: name.clone(),
                line: *line,
                column,
                record: Some(r.id.clone()),
            }
        })
    }));
}

fn finding_row(l: &Located, engine: &Engine, reveal: bool) -> DetectFinding {
    let f = &l.finding;
    DetectFinding {
        rule_id: engine.rules[f.rule].spec.id.clone(),
        category: f.category.as_str().into(),
        path: l.path.clone(),
        id: l.record.clone(),
        line: l.line,
        column: l.column,
        start: f.start,
        end: f.end,
        masked: f.masked(),
        fingerprint: f.fingerprint(),
        confidence: (f.confidence * 1000.0).round() / 1000.0,
        value: reveal.then(|| String::from_utf8_lossy(&f.value).to_string()),
    }
}

fn write_output(
    out: &mut dyn Write,
    args: &DetectArgs,
    engine: &Engine,
    found: &[Located],
    n_files: usize,
    bytes: u64,
    skipped: &[String],
) -> Result<()> {
    let w = |e: std::io::Error| Error::input(format!("cannot write output ({e})"));
    match args.format {
        DetectFormat::Text => {
            for l in found {
                let f = &l.finding;
                let value = if args.reveal {
                    String::from_utf8_lossy(&f.value).to_string()
                } else {
                    f.masked()
                };
                let rec = l
                    .record
                    .as_ref()
                    .map(|id| format!(" [id {id}]"))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "{}:{}:{}:{rec} {} {} {} (confidence {:.2})",
                    l.path,
                    l.line,
                    l.column,
                    f.category.as_str(),
                    engine.rules[f.rule].spec.id,
                    value.replace('\n', "\\n"),
                    f.confidence
                )
                .map_err(w)?;
            }
        }
        DetectFormat::Jsonl => {
            for l in found {
                serde_json::to_writer(&mut *out, &finding_row(l, engine, args.reveal))
                    .map_err(|e| Error::input(format!("cannot write output ({e})")))?;
                writeln!(out).map_err(w)?;
            }
        }
        DetectFormat::Json => {
            let count = |c: Category| found.iter().filter(|l| l.finding.category == c).count();
            let doc = DetectReport {
                schema_version: SCHEMA_VERSION.into(),
                tool: Tool::current(),
                rules_loaded: engine.rules.len(),
                summary: DetectSummary {
                    files_scanned: n_files,
                    bytes_scanned: bytes,
                    binary_files_skipped: skipped.to_vec(),
                    findings: CategoryCounts {
                        secret: count(Category::Secret),
                        pii: count(Category::Pii),
                    },
                },
                findings: found
                    .iter()
                    .map(|l| finding_row(l, engine, args.reveal))
                    .collect(),
            };
            serde_json::to_writer_pretty(&mut *out, &doc)
                .map_err(|e| Error::input(format!("cannot write output ({e})")))?;
            writeln!(out).map_err(w)?;
        }
        DetectFormat::Sarif => {
            let mut fired: Vec<usize> = found.iter().map(|l| l.finding.rule).collect();
            fired.sort();
            fired.dedup();
            let rules: Vec<sarif::SarifRule> = fired
                .iter()
                .map(|&r| {
                    let s = &engine.rules[r].spec;
                    sarif::SarifRule {
                        id: &s.id,
                        description: &s.description,
                        category: s.category.as_str(),
                    }
                })
                .collect();
            let results: Vec<sarif::SarifResult> = found
                .iter()
                .map(|l| {
                    let f = &l.finding;
                    let spec = &engine.rules[f.rule].spec;
                    let value = if args.reveal {
                        String::from_utf8_lossy(&f.value).to_string()
                    } else {
                        f.masked()
                    };
                    let (offset, length) = match l.record {
                        Some(_) => (0, 0),
                        None => (f.start as u64, (f.end - f.start) as u64),
                    };
                    sarif::SarifResult {
                        rule_id: &spec.id,
                        rule_index: fired.iter().position(|&r| r == f.rule).unwrap_or(0),
                        category: spec.category.as_str(),
                        message: format!("{}: {value}", spec.description),
                        uri: l.path.trim_start_matches("./").to_string(),
                        start_line: l.line,
                        start_column: l.column,
                        byte_offset: offset,
                        byte_length: length,
                        fingerprint: f.fingerprint(),
                        confidence: f.confidence,
                        level: sarif::category_level(spec.category.as_str()),
                    }
                })
                .collect();
            serde_json::to_writer_pretty(&mut *out, &sarif::render(&rules, &results))
                .map_err(|e| Error::input(format!("cannot write output ({e})")))?;
            writeln!(out).map_err(w)?;
        }
    }
    Ok(())
}
