//! memscan: measures how much of its training data a causal language model
//! memorized and will give back. See docs/ARCHITECTURE.md for the map.

pub(crate) mod blind;
pub(crate) mod canary;
pub mod cli;
pub(crate) mod commands;
pub(crate) mod compare;
pub mod config;
pub(crate) mod dataset_inference;
pub(crate) mod dedup;
pub mod detect;
pub mod error;
pub(crate) mod forget;
pub mod generate;
pub mod input;
pub mod model;
pub(crate) mod porter;
pub mod prompts;
pub(crate) mod recall;
pub(crate) mod report;
pub(crate) mod scan;
pub mod scorer;
pub(crate) mod shard;
pub(crate) mod signals;
pub mod stats;
pub(crate) mod token_freq;
pub mod unlearning;
pub mod verbatim;

use cli::{Cli, Command};

/// Runs a parsed command line; returns the exit code.
pub fn run(cli: Cli) -> error::Result<i32> {
    input::set_fields(&cli.text_field, &cli.id_field)?;
    match &cli.command {
        Command::Score(args) => commands::score::run(args, cli.quiet),
        Command::Detect(args) => commands::detect::run(args, cli.quiet),
        Command::Index(cmd) => commands::index::run(cmd, cli.quiet),
        Command::Scan(args) => commands::scan::run(args, cli.quiet),
        Command::Eval(args) => commands::eval::run(args, cli.quiet),
        Command::ForgetCheck(args) => commands::forget::run(args, cli.quiet),
        Command::Report(args) => commands::report::run(args, cli.quiet),
        Command::Merge(args) => commands::merge::run(args, cli.quiet),
        Command::Compare(args) => commands::compare::run(args, cli.quiet),
        Command::Completions(args) => commands::completions::run(args),
        Command::Config(args) => commands::config::run(args),
    }
}
