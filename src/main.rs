//! Thin entry point: parse the command line, run the command, map errors to exit codes.

use clap::Parser;

fn main() {
    // A panic is a bug: one line on stderr and exit code 3, never a backtrace dump.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("unknown panic");
        let first = msg.lines().next().unwrap_or("");
        eprintln!("memscan: internal error: {first}");
        std::process::exit(memscan::error::EXIT_INTERNAL);
    }));
    restore_sigpipe();
    tune_allocator();
    // memscan.toml's settings go in as flags before the command line's own
    let argv = match memscan::config::expand(std::env::args_os().collect()) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("memscan: error: {e}");
            std::process::exit(e.exit_code());
        }
    };
    let cli = memscan::cli::Cli::parse_from(argv);
    let code = match memscan::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("memscan: error: {e}");
            e.exit_code()
        }
    };
    std::process::exit(code);
}

/// Keeps freed memory in the process instead of returning it to the kernel: a
/// forward pass allocates and frees the same large buffers (logits are ~200 MB at
/// batch 8×128), and getting fresh pages from mmap each time costs page faults.
fn tune_allocator() {
    // SAFETY: mallopt only changes glibc allocator parameters; called before any thread starts.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    unsafe {
        libc::mallopt(libc::M_MMAP_MAX, 0);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}

/// Lets a closed pipe end the process quietly, as it ends `cat` or `grep`
/// (`memscan detect … | head -1`). Rust ignores SIGPIPE, which turns every later
/// write to stdout into an error (and `print!` into a panic). Files are unaffected,
/// and sockets (hub downloads) are written with MSG_NOSIGNAL by the standard library.
fn restore_sigpipe() {
    // SAFETY: resetting a signal disposition before any thread starts.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
