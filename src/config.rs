//! memscan.toml: any command's flags from a file, the command line overriding it.
//!
//! ```toml
//! quiet = true                 # global flags at the top
//! text_field = "content"
//! [scan]                       # one table per command: keys are its long flags
//! samples_per_prompt = 4       # (`-` or `_`), values TOML strings, numbers, booleans
//! fail_on = "confirmed"        # or arrays (a repeatable flag)
//! [index.build]                # a subcommand's subcommand
//! shard_mb = 256
//! [forget-check]
//! reference_model = "models/base.gguf"
//! ```
//!
//! The file is `--config FILE`, else `$MEMSCAN_CONFIG`, else `./memscan.toml` when it
//! exists; `--no-config` reads none. Its settings become flags placed before the
//! command line's, and a flag the command line gives (long or short) replaces the file's.
//! Every key is checked against the commands' flags: a typo is an error naming the file,
//! the table and the key (exit 2), never a silently ignored setting.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::{Error, Result};

/// The config file this command line reads, if any.
pub fn locate(argv: &[OsString]) -> Option<PathBuf> {
    let mut it = argv.iter().skip(1).map(|a| a.to_string_lossy());
    let mut named = None;
    while let Some(a) = it.next() {
        if a == "--" {
            break;
        }
        if a == "--no-config" {
            return None;
        }
        if a == "--config" {
            named = it.next().map(|v| PathBuf::from(v.as_ref()));
        } else if let Some(v) = a.strip_prefix("--config=") {
            named = Some(PathBuf::from(v));
        }
    }
    named
        .or_else(|| {
            std::env::var_os("MEMSCAN_CONFIG")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .or_else(|| {
            let p = PathBuf::from("memscan.toml");
            p.is_file().then_some(p)
        })
}

/// Reads and parses a config file.
pub fn read(path: &Path) -> Result<toml::Table> {
    let body = std::fs::read_to_string(path)
        .map_err(|e| Error::file(path, format!("cannot read the config file ({e})")))?;
    body.parse::<toml::Table>().map_err(|e| {
        Error::file(
            path,
            format!(
                "not a valid TOML config ({})",
                e.to_string().lines().next().unwrap_or("")
            ),
        )
    })
}

/// The command line with the config file's settings put in: global settings after the
/// program name, a command's settings after its name; a flag the command line already
/// gives is not taken from the file.
pub fn expand(argv: Vec<OsString>) -> Result<Vec<OsString>> {
    let Some(path) = locate(&argv) else {
        return Ok(argv);
    };
    let table = read(&path)?;
    let root = Cli::command();
    validate(&path, &root, &table, &[])?;
    let (names, at) = command_path(&root, &argv);
    let given = given_flags(&argv);
    let mut globals = Vec::new();
    for (k, v) in table.iter().filter(|(_, v)| !v.is_table()) {
        let arg = find_arg(&root, k).expect("validated");
        if !given.iter().any(|g| flag_matches(g, arg)) {
            globals.extend(to_flags(&path, "", arg, v)?);
        }
    }
    let mut section_flags = Vec::new();
    if let Some((cmd, sec)) = section(&root, &table, &names) {
        for (k, v) in sec.iter().filter(|(_, v)| !v.is_table()) {
            let arg = find_arg(cmd, k).expect("validated");
            if !given.iter().any(|g| flag_matches(g, arg)) {
                section_flags.extend(to_flags(&path, &names.join("."), arg, v)?);
            }
        }
    }
    let mut out: Vec<OsString> =
        Vec::with_capacity(argv.len() + globals.len() + section_flags.len());
    out.push(argv.first().cloned().unwrap_or_else(|| "memscan".into()));
    out.extend(globals.into_iter().map(OsString::from));
    let split = at.map_or(argv.len(), |i| i + 1);
    out.extend(argv.iter().skip(1).take(split.saturating_sub(1)).cloned());
    out.extend(section_flags.into_iter().map(OsString::from));
    out.extend(argv.iter().skip(split).cloned());
    Ok(out)
}

/// The subcommand names on the command line and the index of the last one.
pub fn command_path(root: &clap::Command, argv: &[OsString]) -> (Vec<String>, Option<usize>) {
    let mut cur = root;
    let mut names = Vec::new();
    let mut at = None;
    let mut i = 1;
    while i < argv.len() {
        let t = argv[i].to_string_lossy();
        if t == "--" {
            break;
        }
        if let Some(long) = t.strip_prefix("--") {
            if !long.contains('=') {
                let takes = cur
                    .get_arguments()
                    .chain(root.get_arguments())
                    .find(|a| a.get_long() == Some(long))
                    .is_some_and(|a| a.get_action().takes_values());
                if takes {
                    i += 1;
                }
            }
        } else if t.starts_with('-') && t.len() == 2 {
            let c = t.chars().nth(1);
            let takes = cur
                .get_arguments()
                .chain(root.get_arguments())
                .find(|a| a.get_short() == c)
                .is_some_and(|a| a.get_action().takes_values());
            if takes {
                i += 1;
            }
        } else if let Some(sub) = cur.find_subcommand(t.as_ref()) {
            names.push(sub.get_name().to_string());
            at = Some(i);
            cur = sub;
        }
        i += 1;
    }
    (names, at)
}

/// The flags the command line names: `--long`, `--long=…` and `-s` (also `-sVALUE`).
fn given_flags(argv: &[OsString]) -> Vec<String> {
    argv.iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .take_while(|a| a != "--")
        .filter(|a| a.starts_with('-'))
        .collect()
}

fn flag_matches(given: &str, arg: &clap::Arg) -> bool {
    if let Some(long) = given.strip_prefix("--") {
        let name = long.split('=').next().unwrap_or("");
        arg.get_long() == Some(name)
    } else {
        arg.get_short()
            .is_some_and(|s| given.chars().nth(1) == Some(s))
    }
}

/// The flag a config key names (`max_new_tokens` or `max-new-tokens`).
fn find_arg<'a>(cmd: &'a clap::Command, key: &str) -> Option<&'a clap::Arg> {
    let long = key.replace('_', "-");
    cmd.get_arguments().find(|a| {
        a.get_long() == Some(long.as_str()) && !matches!(long.as_str(), "help" | "version")
    })
}

/// The command (and its config table) that `names` leads to.
fn section<'a>(
    root: &'a clap::Command,
    table: &'a toml::Table,
    names: &[String],
) -> Option<(&'a clap::Command, &'a toml::Table)> {
    let mut cmd = root;
    let mut t = table;
    for n in names {
        cmd = cmd.find_subcommand(n)?;
        t = t
            .get(n)
            .or_else(|| t.get(&n.replace('-', "_")))?
            .as_table()?;
    }
    (!names.is_empty()).then_some((cmd, t))
}

/// Every key of the file names a command or one of its flags.
fn validate(path: &Path, cmd: &clap::Command, t: &toml::Table, at: &[String]) -> Result<()> {
    let where_ = if at.is_empty() {
        "at the top".to_string()
    } else {
        format!("in [{}]", at.join("."))
    };
    for (k, v) in t {
        if let Some(sub) = v.as_table() {
            let Some(c) = cmd
                .find_subcommand(k.as_str())
                .or_else(|| cmd.find_subcommand(k.replace('_', "-")))
            else {
                return Err(Error::file(
                    path,
                    format!(
                        "[{}] {where_}: memscan {} has no such command",
                        k,
                        at.join(" ")
                    ),
                ));
            };
            let mut next = at.to_vec();
            next.push(c.get_name().to_string());
            validate(path, c, sub, &next)?;
        } else if find_arg(cmd, k).is_none() {
            return Err(Error::file(
                path,
                format!(
                    "unknown setting `{k}` {where_}: memscan{}{} has no --{}",
                    if at.is_empty() { "" } else { " " },
                    at.join(" "),
                    k.replace('_', "-")
                ),
            ));
        }
    }
    Ok(())
}

/// A setting as command-line flags.
fn to_flags(path: &Path, at: &str, arg: &clap::Arg, v: &toml::Value) -> Result<Vec<String>> {
    let long = arg.get_long().unwrap_or_default();
    let takes = arg.get_action().takes_values();
    let bad = |why: &str| {
        Error::file(
            path,
            format!(
                "`{}`{}: {why}",
                long.replace('-', "_"),
                if at.is_empty() {
                    String::new()
                } else {
                    format!(" in [{at}]")
                }
            ),
        )
    };
    let scalar = |v: &toml::Value| -> Result<String> {
        Ok(match v {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            _ => return Err(bad("takes a string, a number or a boolean")),
        })
    };
    match v {
        toml::Value::Boolean(b) if !takes => Ok(if *b {
            vec![format!("--{long}")]
        } else {
            Vec::new()
        }),
        _ if !takes => Err(bad("is a switch: write true or false")),
        toml::Value::Array(items) => items
            .iter()
            .map(|x| Ok(format!("--{long}={}", scalar(x)?)))
            .collect(),
        v => Ok(vec![format!("--{long}={}", scalar(v)?)]),
    }
}

/// `memscan config --show [COMMAND…]`: every setting of the command (or the global ones
/// and those of each command the file names) as TOML, each with where its value comes
/// from: the config file, or memscan's default.
pub fn show(path: Option<&Path>, command: &[String]) -> Result<String> {
    let table = match path {
        Some(p) => {
            let t = read(p)?;
            validate(p, &Cli::command(), &t, &[])?;
            t
        }
        None => toml::Table::new(),
    };
    let root = Cli::command();
    let mut out = format!(
        "# memscan {}: effective settings ({}); the command line overrides them\n",
        env!("CARGO_PKG_VERSION"),
        path.map_or("no config file".to_string(), |p| format!(
            "config file {}",
            p.display()
        ))
    );
    let globals: Vec<&clap::Arg> = root
        .get_arguments()
        .filter(|a| {
            a.is_global_set()
                && a.get_long()
                    .is_some_and(|l| !matches!(l, "help" | "version" | "config" | "no-config"))
        })
        .collect();
    for a in globals {
        out.push_str(&line(a, setting(&table, a)));
    }
    let mut wanted: Vec<Vec<String>> = Vec::new();
    if command.is_empty() {
        collect_sections(&root, &table, &mut Vec::new(), &mut wanted);
    } else {
        let mut cmd = &root;
        for n in command {
            cmd = cmd.find_subcommand(n).ok_or_else(|| {
                Error::input(format!(
                    "config --show: memscan has no command `{}`",
                    command.join(" ")
                ))
            })?;
        }
        wanted.push(command.to_vec());
    }
    for names in wanted {
        let mut cmd = &root;
        for n in &names {
            cmd = cmd.find_subcommand(n).expect("checked");
        }
        let sec = section(&root, &table, &names).map(|(_, t)| t);
        out.push_str(&format!("\n[{}]\n", names.join(".")));
        for a in cmd.get_arguments().filter(|a| {
            !a.is_global_set()
                && a.get_long()
                    .is_some_and(|l| !matches!(l, "help" | "version"))
        }) {
            out.push_str(&line(a, sec.and_then(|t| setting(t, a))));
        }
    }
    Ok(out)
}

fn collect_sections(
    cmd: &clap::Command,
    t: &toml::Table,
    at: &mut Vec<String>,
    out: &mut Vec<Vec<String>>,
) {
    for (k, v) in t {
        if let (Some(sub), Some(c)) = (v.as_table(), cmd.find_subcommand(k.as_str())) {
            at.push(c.get_name().to_string());
            if c.get_arguments()
                .any(|a| a.get_long().is_some() && !a.is_global_set())
            {
                out.push(at.clone());
            }
            collect_sections(c, sub, at, out);
            at.pop();
        }
    }
}

/// A flag's value in a config table, under `snake_case` or its `kebab-case` long name.
fn setting<'a>(t: &'a toml::Table, a: &clap::Arg) -> Option<&'a toml::Value> {
    t.get(&key(a))
        .or_else(|| t.get(a.get_long().unwrap_or_default()))
}

fn key(a: &clap::Arg) -> String {
    a.get_long().unwrap_or_default().replace('-', "_")
}

/// `key = value  # source`.
fn line(a: &clap::Arg, from_file: Option<&toml::Value>) -> String {
    if let Some(v) = from_file {
        return format!("{} = {v}  # config file\n", key(a));
    }
    let defaults: Vec<String> = a
        .get_default_values()
        .iter()
        .map(|d| d.to_string_lossy().into_owned())
        .collect();
    if !a.get_action().takes_values() {
        return format!("{} = false  # default\n", key(a));
    }
    match defaults.as_slice() {
        [] => format!("# {} = …  (not set)\n", key(a)),
        [d] => format!("{} = {}  # default\n", key(a), toml_scalar(d)),
        many => format!(
            "{} = [{}]  # default\n",
            key(a),
            many.iter()
                .map(|d| toml_scalar(d))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn toml_scalar(s: &str) -> String {
    if s.parse::<i64>().is_ok()
        || (s.parse::<f64>().is_ok_and(f64::is_finite) && s.contains('.'))
        || s == "true"
        || s == "false"
    {
        s.to_string()
    } else {
        toml::Value::String(s.to_string()).to_string()
    }
}
