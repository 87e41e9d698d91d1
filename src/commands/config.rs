//! `memscan config --show [COMMAND…]`: the effective settings, from memscan.toml or the
//! defaults (`crate::config`).

use crate::cli::ConfigArgs;
use crate::error::{Error, Result};

pub fn run(args: &ConfigArgs) -> Result<i32> {
    if !args.show {
        return Err(Error::input(
            "config: say what to do: `memscan config --show [COMMAND]`",
        ));
    }
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let path = crate::config::locate(&argv);
    print!("{}", crate::config::show(path.as_deref(), &args.command)?);
    Ok(0)
}
