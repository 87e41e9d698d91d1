//! `memscan report`: renders a report folder's report.json again (Markdown, HTML,
//! SARIF).

use crate::cli::{ReportArgs, ReportFormat};
use crate::error::{Error, Result};
use crate::report::folder::{ext, read, write_file};

pub fn run(args: &ReportArgs, quiet: bool) -> Result<i32> {
    let (dir, owned) = read(&args.dir)?;
    let any = owned.as_any();
    let formats: Vec<ReportFormat> = if args.format.is_empty() {
        any.formats().to_vec()
    } else {
        args.format.clone()
    };
    if args.output.is_some() && formats.len() != 1 {
        return Err(Error::input("--output takes one --format"));
    }
    for f in formats {
        let body = any
            .render(f)?
            .ok_or_else(|| Error::input(format!("this report has no {} rendering", ext(f))))?;
        match &args.output {
            Some(p) if p.as_os_str() == "-" => {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                out.write_all(body.as_bytes())
                    .and_then(|()| out.flush())
                    .map_err(|e| Error::input(format!("cannot write to stdout ({e})")))?;
            }
            Some(p) => write_file(p, &body)?,
            None => {
                let p = dir.join(format!("report.{}", ext(f)));
                write_file(&p, &body)?;
                if !quiet {
                    eprintln!("memscan: wrote {}", p.display());
                }
            }
        }
    }
    Ok(0)
}
