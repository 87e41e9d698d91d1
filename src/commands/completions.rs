//! `memscan completions SHELL`: the shell completion script for every subcommand and
//! flag, generated from the same clap definitions that parse the command line.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::error::Result;

pub fn run(args: &CompletionsArgs) -> Result<i32> {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "memscan", &mut std::io::stdout());
    Ok(0)
}
