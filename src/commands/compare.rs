//! `memscan compare A B`: reads two report folders, compares them (`crate::compare`)
//! and writes compare.json, compare.md and compare.html (or Markdown to stdout).

use crate::cli::CompareArgs;
use crate::error::{Error, Result};
use crate::report::folder::{read, write_file, write_json};

pub fn run(args: &CompareArgs, quiet: bool) -> Result<i32> {
    if !(args.alpha > 0.0 && args.alpha < 1.0) {
        return Err(Error::input(format!(
            "--alpha {}: must be between 0 and 1",
            args.alpha
        )));
    }
    let (_, a) = read(&args.a)?;
    let (_, b) = read(&args.b)?;
    let c = crate::compare::compare(&args.a, &a, &args.b, &b, args.alpha)?;
    let md = crate::report::compare::markdown(&c);
    match &args.out {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::file(dir, format!("cannot create ({e})")))?;
            let v = serde_json::to_value(&c)
                .map_err(|e| Error::internal(format!("compare.json ({e})")))?;
            write_json(&dir.join("compare.json"), &v)?;
            write_file(&dir.join("compare.md"), &md)?;
            write_file(&dir.join("compare.html"), &crate::report::compare::html(&c))?;
            if !quiet {
                eprintln!(
                    "memscan: {} Wrote {}/compare.{{json,md,html}}",
                    crate::report::compare::headline(&c),
                    dir.display()
                );
            }
        }
        None => print!("{md}"),
    }
    Ok(i32::from(
        args.fail_on_regression && !c.regressions.is_empty(),
    ))
}
