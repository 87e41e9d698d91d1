//! A report folder: report.json and its renderings (report.md, report.html and, for a
//! scan's findings, report.sarif), each written through a temporary file so a reader
//! never sees half a report; and report.json read back for `memscan report`.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::schema::{EvalReport, ForgetReport, Level, ScanReport};
use super::{html, markdown, sarif};
use crate::error::{Error, IoContext, Result};

/// The renderings of a report.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Md,
    Html,
    Sarif,
}

/// Writes pretty JSON through a temporary file, so a reader never sees half a report.
pub fn write_json(path: &Path, v: &Value) -> Result<()> {
    let body =
        serde_json::to_string_pretty(v).map_err(|e| Error::internal(format!("JSON: {e}")))?;
    write_file(path, &(body + "\n"))
}

/// Writes `body` to `path` atomically: a temporary file of this call beside it, then a
/// rename (so a reader, or another shard writing the same file, never sees a part).
pub fn write_file(path: &Path, body: &str) -> Result<()> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    // unique per process and call: shards in containers often share a PID
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("{ext}.{}-{nanos}-{n}.tmp", std::process::id()));
    std::fs::write(&tmp, body).with_file(&tmp)?;
    std::fs::rename(&tmp, path).with_file(path)
}

/// Writes `body` to `path` only if no file is there yet, atomically (a temporary file
/// hard-linked into place). `false`: another writer was first, its file stays.
pub fn write_file_first(path: &Path, body: &str) -> Result<bool> {
    let tmp = path.with_extension(format!(
        "first.{}-{}.tmp",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    std::fs::write(&tmp, body).with_file(&tmp)?;
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(Error::file(path, format!("cannot write ({e})"))),
    }
}

/// A report of any kind memscan writes.
pub enum AnyReport<'a> {
    Scan(&'a ScanReport),
    Eval(&'a EvalReport),
    Forget(&'a ForgetReport),
}

/// A report read back from report.json.
pub enum OwnedReport {
    Scan(Box<ScanReport>),
    Eval(Box<EvalReport>),
    Forget(Box<ForgetReport>),
}

impl OwnedReport {
    pub fn as_any(&self) -> AnyReport<'_> {
        match self {
            OwnedReport::Scan(r) => AnyReport::Scan(r),
            OwnedReport::Eval(r) => AnyReport::Eval(r),
            OwnedReport::Forget(r) => AnyReport::Forget(r),
        }
    }
}

impl AnyReport<'_> {
    pub fn formats(&self) -> &'static [ReportFormat] {
        match self {
            AnyReport::Scan(_) => &[ReportFormat::Md, ReportFormat::Html, ReportFormat::Sarif],
            AnyReport::Eval(_) | AnyReport::Forget(_) => &[ReportFormat::Md, ReportFormat::Html],
        }
    }

    /// The report in format `f`; `None` when this kind of report has no such rendering.
    pub fn render(&self, f: ReportFormat) -> Result<Option<String>> {
        Ok(match (self, f) {
            (AnyReport::Scan(r), ReportFormat::Md) => Some(markdown::scan(r)),
            (AnyReport::Scan(r), ReportFormat::Html) => Some(html::scan(r)),
            (AnyReport::Eval(r), ReportFormat::Md) => Some(markdown::eval(r)),
            (AnyReport::Eval(r), ReportFormat::Html) => Some(html::eval(r)),
            (AnyReport::Forget(r), ReportFormat::Md) => Some(markdown::forget(r)),
            (AnyReport::Forget(r), ReportFormat::Html) => Some(html::forget(r)),
            (AnyReport::Eval(_) | AnyReport::Forget(_), ReportFormat::Sarif) => None,
            (AnyReport::Scan(r), ReportFormat::Sarif) => Some(
                serde_json::to_string_pretty(&scan_sarif(r))
                    .map_err(|e| Error::internal(format!("SARIF rendering failed ({e})")))?
                    + "\n",
            ),
        })
    }
}

pub fn ext(f: ReportFormat) -> &'static str {
    match f {
        ReportFormat::Md => "md",
        ReportFormat::Html => "html",
        ReportFormat::Sarif => "sarif",
    }
}

/// Writes report.md, report.html and (for a scan's findings) report.sarif beside report.json.
pub fn render_all(dir: &Path, any: &AnyReport) -> Result<()> {
    for &f in any.formats() {
        if let Some(body) = any.render(f)? {
            write_file(&dir.join(format!("report.{}", ext(f))), &body)?;
        }
    }
    Ok(())
}

/// Findings of a scan as SARIF: the artifact is samples.jsonl, the line the sample's.
fn scan_sarif(r: &ScanReport) -> Value {
    let mut fired: Vec<(&str, &str, &str)> = r
        .findings
        .iter()
        .map(|f| {
            (
                f.rule_id.as_str(),
                f.description.as_str(),
                f.category.as_str(),
            )
        })
        .collect();
    fired.sort();
    fired.dedup_by_key(|x| x.0);
    let rules: Vec<sarif::SarifRule> = fired
        .iter()
        .map(|&(id, description, category)| sarif::SarifRule {
            id,
            description,
            category,
        })
        .collect();
    let line_of: std::collections::HashMap<&str, u64> = r
        .items
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i as u64 + 1))
        .collect();
    let results: Vec<sarif::SarifResult> = r
        .findings
        .iter()
        .map(|f| sarif::SarifResult {
            rule_id: &f.rule_id,
            rule_index: fired.iter().position(|x| x.0 == f.rule_id).unwrap_or(0),
            category: &f.category,
            message: format!(
                "{} in model sample {} ({}): {}",
                f.description,
                f.sample_id,
                f.level.as_str(),
                f.value.as_deref().unwrap_or(&f.masked)
            ),
            uri: "samples.jsonl".into(),
            start_line: line_of.get(f.sample_id.as_str()).copied().unwrap_or(1),
            start_column: 1,
            byte_offset: 0,
            byte_length: 0,
            fingerprint: f.fingerprint.clone(),
            confidence: f.confidence,
            // a value the model merely emitted is a note, not an alert
            level: match f.level {
                Level::Confirmed => "error",
                Level::LikelyMemorized => "warning",
                Level::Emitted => "note",
            },
        })
        .collect();
    sarif::render(&rules, &results)
}

/// Writes a report folder: report.json and every rendering of it.
pub fn write_report(dir: &Path, report: &AnyReport) -> Result<()> {
    std::fs::create_dir_all(dir).with_file(dir)?;
    // straight from the typed report (no JSON tree in between: a scan report holds
    // every sample)
    let body = match report {
        AnyReport::Scan(r) => serde_json::to_string_pretty(r),
        AnyReport::Eval(r) => serde_json::to_string_pretty(r),
        AnyReport::Forget(r) => serde_json::to_string_pretty(r),
    }
    .map_err(|e| Error::internal(format!("JSON: {e}")))?;
    write_file(&dir.join("report.json"), &(body + "\n"))?;
    render_all(dir, report)
}

/// Reads report.json (a folder holding one, or the file).
pub fn read(path: &Path) -> Result<(PathBuf, OwnedReport)> {
    let file = if path.is_dir() {
        path.join("report.json")
    } else {
        path.to_path_buf()
    };
    let body = std::fs::read_to_string(&file).with_file(&file)?;
    let v: Value = serde_json::from_str(&body)
        .map_err(|e| Error::file(&file, format!("invalid JSON ({e})")))?;
    let major = v["schema_version"]
        .as_str()
        .and_then(|s| s.split('.').next())
        .unwrap_or("");
    if major
        != crate::report::SCHEMA_VERSION
            .split('.')
            .next()
            .unwrap_or("")
    {
        return Err(Error::file(
            &file,
            format!(
                "schema version {} is not supported (this memscan writes {})",
                v["schema_version"],
                crate::report::SCHEMA_VERSION
            ),
        ));
    }
    let any = match v["kind"].as_str() {
        Some("forget-check") => {
            OwnedReport::Forget(Box::new(serde_json::from_value(v).map_err(|e| {
                Error::file(&file, format!("not a forget-check report ({e})"))
            })?))
        }
        Some("eval") => OwnedReport::Eval(Box::new(
            serde_json::from_value(v)
                .map_err(|e| Error::file(&file, format!("not an eval report ({e})")))?,
        )),
        Some("scan") => OwnedReport::Scan(Box::new(
            serde_json::from_value(v)
                .map_err(|e| Error::file(&file, format!("not a scan report ({e})")))?,
        )),
        other => {
            return Err(Error::file(&file, format!("unknown report kind {other:?}")));
        }
    };
    let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok((dir, any))
}
