//! One module per subcommand: each wires the pipeline stages together. This is
//! the only place that knows the whole pipeline.

pub mod attacks;
pub mod compare;
pub mod completions;
pub mod config;
pub mod detect;
pub mod eval;
pub mod forget;
pub mod index;
pub mod merge;
pub mod report;
pub mod scan;
pub mod score;

use crate::cli::ModelArgs;
use crate::error::{Error, Result};
use crate::model::{self, Model, ModelSpec};

/// Loads the model the flags name, telling the user what was loaded.
pub fn load_model(args: &ModelArgs, quiet: bool) -> Result<Model> {
    load_model_named(args, args.model.clone(), args.adapter.clone(), quiet)
}

/// Loads `name` (default: the embedded model) with `adapter` on top, and the device,
/// dtype and threads of `args`.
pub fn load_model_named(
    args: &ModelArgs,
    name: Option<String>,
    adapter: Option<std::path::PathBuf>,
    quiet: bool,
) -> Result<Model> {
    if let Some(n) = args.threads {
        if n < 1 {
            return Err(Error::input("--threads must be at least 1"));
        }
        tch::set_num_threads(n);
        // the quantized kernels and the detectors run on rayon's threads; a second
        // call finds the pool built and keeps it
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n as usize)
            .build_global();
    }
    let spec = ModelSpec {
        model: name.unwrap_or_else(|| model::default_model().display().to_string()),
        device: args
            .device
            .parse()
            .map_err(|e| Error::input(format!("--device {}: {e}", args.device)))?,
        dtype: args
            .dtype
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e| {
                Error::input(format!(
                    "--dtype {}: {e}",
                    args.dtype.as_deref().unwrap_or("")
                ))
            })?,
        adapter,
    };
    let t0 = std::time::Instant::now();
    let m = model::load(&spec)?;
    if !quiet {
        let i = model::LanguageModel::info(&m);
        let with = i
            .adapter
            .as_ref()
            .map(|a| format!(" with adapter {a}"))
            .unwrap_or_default();
        let shared = match i.shared {
            0 => String::new(),
            n => format!(", {n} tensors and layers shared with the model loaded before"),
        };
        eprintln!(
            "memscan: loaded {}{with} ({} {}, {} layers, {} tokenizer) on {} {} in {:.1}s{shared}",
            i.path,
            i.format,
            i.architecture,
            i.n_layers,
            i.tokenizer,
            i.device,
            i.dtype,
            t0.elapsed().as_secs_f64(),
        );
        for w in &model::LanguageModel::tokenizer(&m).warnings {
            eprintln!("memscan: warning: {w}");
        }
    }
    Ok(m)
}

/// `--batch-size` must be at least 1 (checked at the edge: the scorer's own check
/// cannot name the flag).
pub fn check_batch_size(n: usize) -> Result<()> {
    if n == 0 {
        return Err(crate::error::Error::input(
            "--batch-size must be at least 1",
        ));
    }
    Ok(())
}

/// Where a command writes: the `--output` file, else stdout (buffered either way).
pub fn output(path: Option<&std::path::Path>) -> Result<Box<dyn std::io::Write>> {
    use crate::error::IoContext;
    Ok(match path {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_file(p)?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    })
}

/// A progress bar on stderr (hidden when stderr is not a terminal or `quiet`).
pub fn progress_bar(total: u64, quiet: bool, what: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let (target, template) = if std::io::stderr().is_terminal() {
        (
            indicatif::ProgressDrawTarget::stderr(),
            format!(
                "{{elapsed_precise}} [{{bar:30}}] {{pos}}/{{len}} {what} {{msg}} (eta {{eta}})"
            ),
        )
    } else {
        (
            indicatif::ProgressDrawTarget::term_like(Box::new(LogLines::default())),
            format!("memscan: {{pos}}/{{len}} {what} ({{percent}}%), {{elapsed}} elapsed, about {{eta}} left {{msg}}"),
        )
    };
    let pb = indicatif::ProgressBar::with_draw_target(Some(total), target);
    let style = indicatif::ProgressStyle::with_template(&template)
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> ");
    pb.set_style(style);
    pb
}

/// Progress for a log (stderr not a terminal: CI, `nohup`, a pipe): one line at most
/// every `LogLines::EVERY`, instead of a bar redrawn in place.
#[derive(Debug, Default)]
struct LogLines {
    last: std::sync::Mutex<Option<std::time::Instant>>,
}

impl LogLines {
    const EVERY: std::time::Duration = std::time::Duration::from_secs(30);
}

impl indicatif::TermLike for LogLines {
    fn width(&self) -> u16 {
        200
    }
    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.write_str(s)
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        // the first draw (0 done) is skipped: a line is worth printing once work has run
        let now = std::time::Instant::now();
        let due = match *last {
            None => {
                *last = Some(now);
                false
            }
            Some(t) => now.duration_since(t) >= Self::EVERY,
        };
        if due && !s.trim().is_empty() {
            *last = Some(now);
            eprintln!("{}", s.trim_end());
        }
        Ok(())
    }
    fn clear_line(&self) -> std::io::Result<()> {
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A command's `settings` (a JSON object) with what of the model setup shapes a run's
/// numbers besides the model file added: device, dtype and the LoRA adapters (path and
/// SHA-256). Shards of one run must agree on all of them.
pub fn with_setup(
    settings: serde_json::Value,
    model: &Model,
    adapter: Option<&std::path::Path>,
    reference_adapters: &[std::path::PathBuf],
) -> Result<serde_json::Map<String, serde_json::Value>> {
    let serde_json::Value::Object(mut m) = settings else {
        return Err(Error::internal("settings are not an object"));
    };
    let id = |p: Option<&std::path::Path>| -> Result<serde_json::Value> {
        Ok(match p {
            Some(p) => {
                serde_json::json!({"path": p.display().to_string(), "sha256": model_hash(p)?})
            }
            None => serde_json::Value::Null,
        })
    };
    m.insert(
        "device".into(),
        model::LanguageModel::info(model).device.clone().into(),
    );
    m.insert(
        "dtype".into(),
        model::LanguageModel::info(model).dtype.clone().into(),
    );
    m.insert("adapter".into(), id(adapter)?);
    let refs = reference_adapters
        .iter()
        .map(|p| id(Some(p)))
        .collect::<Result<Vec<_>>>()?;
    m.insert(
        "reference_adapter".into(),
        match refs.len() {
            0 => serde_json::Value::Null,
            1 => refs.into_iter().next().unwrap_or_default(),
            _ => serde_json::Value::Array(refs),
        },
    );
    Ok(m)
}

/// SHA-256 of a model: of the file, or for a folder of its files' names and hashes
/// (config, tokenizer and weights), so a report names exactly what was scanned.
pub fn model_hash(path: &std::path::Path) -> Result<String> {
    use crate::error::IoContext;
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let file_hash = |p: &std::path::Path| -> Result<String> {
        let mut f = std::fs::File::open(p).with_file(p)?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf).with_file(p)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        Ok(hex::encode(h.finalize()))
    };
    if path.is_file() {
        return file_hash(path);
    }
    let mut names: Vec<std::path::PathBuf> = std::fs::read_dir(path)
        .with_file(path)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name().is_some_and(|n| {
                    let n = n.to_string_lossy();
                    n.ends_with(".safetensors") || n.ends_with(".json") || n.ends_with(".gguf")
                })
        })
        .collect();
    names.sort();
    let mut h = Sha256::new();
    for p in &names {
        h.update(
            p.file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default(),
        );
        h.update(b"\0");
        h.update(file_hash(p)?);
        h.update(b"\n");
    }
    Ok(hex::encode(h.finalize()))
}

/// The model a report is about.
pub fn identity(m: &Model, sha256: String) -> crate::report::schema::ModelIdentity {
    let i = model::LanguageModel::info(m);
    crate::report::schema::ModelIdentity {
        spec: i.spec.clone(),
        path: i.path.clone(),
        format: i.format.clone(),
        architecture: i.architecture.clone(),
        n_layers: i.n_layers,
        tokenizer: i.tokenizer.clone(),
        sha256,
        device: i.device.clone(),
        dtype: i.dtype.clone(),
    }
}

/// reports/<model>[-<what>]-<UTC time>.
pub fn default_out(m: &Model, what: Option<&str>) -> std::path::PathBuf {
    let (y, mo, d, h, mi, s) = crate::report::schema::civil(crate::report::schema::unix_now());
    let what = what.map(|w| format!("{w}-")).unwrap_or_default();
    std::path::Path::new("reports").join(format!(
        "{}-{what}{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z",
        model_stem(m)
    ))
}

/// The model file's or folder's name without extension.
pub fn model_stem(m: &Model) -> String {
    std::path::Path::new(&model::LanguageModel::info(m).path)
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "model".into())
}

/// "lower" or "higher": which way a signal means member.
pub fn dir_name(d: crate::signals::Direction) -> &'static str {
    match d {
        crate::signals::Direction::Lower => "lower",
        crate::signals::Direction::Higher => "higher",
    }
}

/// The reference models of repeated `--reference-model`/`--reference-adapter` flags:
/// each model alone, one adapter per model, or several adapters on one model.
pub fn reference_specs(
    models: &[String],
    adapters: &[std::path::PathBuf],
) -> Result<Vec<(String, Option<std::path::PathBuf>)>> {
    match (models.len(), adapters.len()) {
        (_, 0) => Ok(models.iter().map(|m| (m.clone(), None)).collect()),
        (1, _) => Ok(adapters
            .iter()
            .map(|a| (models[0].clone(), Some(a.clone())))
            .collect()),
        (m, a) if m == a => Ok(models
            .iter()
            .cloned()
            .zip(adapters.iter().cloned().map(Some))
            .collect()),
        (m, a) => Err(Error::input(format!(
            "{m} --reference-model and {a} --reference-adapter: give one adapter per model, or several adapters on one model"
        ))),
    }
}

/// The target model and the models it is compared with (`others`: model and adapter;
/// same device, dtype and threads, never the target's `--adapter`), loaded in one
/// sharing scope: models on the same checkpoint read each tensor once and share every
/// layer no adapter of theirs changes (`model::weights::share`).
pub fn load_with(
    args: &ModelArgs,
    others: &[(String, Option<std::path::PathBuf>)],
    quiet: bool,
) -> Result<(Model, Vec<Model>)> {
    // a model alone shares nothing: no scope, so that it holds no loading leftovers
    let _sharing = (!others.is_empty()).then(model::weights::share);
    let target = load_model(args, quiet)?;
    let others = others
        .iter()
        .map(|(m, a)| load_model_named(args, Some(m.clone()), a.clone(), quiet))
        .collect::<Result<Vec<_>>>()?;
    Ok((target, others))
}

/// The target model and every reference model of repeated
/// `--reference-model`/`--reference-adapter` flags (see `load_with`).
pub fn load_with_references(
    args: &ModelArgs,
    models: &[String],
    adapters: &[std::path::PathBuf],
    quiet: bool,
) -> Result<(Model, Vec<Model>)> {
    load_with(args, &reference_specs(models, adapters)?, quiet)
}

/// JSON of repeated reference flags for a run's settings: null, one value, or a list.
pub fn one_or_many<T: serde::Serialize>(v: &[T]) -> serde_json::Value {
    match v {
        [] => serde_json::Value::Null,
        [one] => serde_json::json!(one),
        many => serde_json::json!(many),
    }
}
