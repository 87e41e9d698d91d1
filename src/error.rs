//! The error type every command returns, and how each kind maps to an exit code.
//!
//! `Input` covers everything the user controls (files, flags, checkpoints): exit 2
//! with one line that names the file and the cause. `Internal` is a bug or an
//! environment failure: exit 3.

use std::fmt;
use std::path::Path;

/// Exit code when findings reach `--fail-on`.
pub const EXIT_FINDINGS: i32 = 1;
/// Exit code for bad input or usage.
pub const EXIT_INPUT: i32 = 2;
/// Exit code for internal errors.
pub const EXIT_INTERNAL: i32 = 3;

#[derive(Debug)]
pub enum Error {
    /// Bad input or usage; the message names the file (where there is one) and the cause.
    Input(String),
    /// Anything that is not the user's fault.
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An input error about `path`: "`path`: cause".
    pub fn file(path: &Path, cause: impl fmt::Display) -> Self {
        Error::Input(format!("{}: {}", path.display(), cause))
    }

    pub fn input(msg: impl fmt::Display) -> Self {
        Error::Input(msg.to_string())
    }

    pub fn internal(msg: impl fmt::Display) -> Self {
        Error::Internal(msg.to_string())
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) => EXIT_INPUT,
            Error::Internal(_) => EXIT_INTERNAL,
        }
    }

    /// Prefixes the message with the file it concerns, keeping the kind.
    pub fn in_file(self, path: &Path) -> Self {
        match self {
            Error::Input(m) => Error::Input(format!("{}: {}", path.display(), m)),
            Error::Internal(m) => Error::Internal(format!("{}: {}", path.display(), m)),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Input(m) | Error::Internal(m) => {
                // One line, always: a message that spans lines is folded.
                let one_line = m.split_whitespace().collect::<Vec<_>>().join(" ");
                f.write_str(&one_line)
            }
        }
    }
}

impl std::error::Error for Error {}

impl From<tch::TchError> for Error {
    fn from(e: tch::TchError) -> Self {
        let msg = e.to_string();
        // libtorch appends a C++ backtrace; keep the first line only.
        Error::Internal(format!("libtorch: {}", msg.lines().next().unwrap_or("")))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Internal(format!("I/O: {e}"))
    }
}

/// Attaches a file to I/O errors, which are then input errors (the user named the file).
pub trait IoContext<T> {
    fn with_file(self, path: &Path) -> Result<T>;
}

impl<T> IoContext<T> for std::result::Result<T, std::io::Error> {
    fn with_file(self, path: &Path) -> Result<T> {
        self.map_err(|e| {
            let cause = match e.kind() {
                std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
                std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
                _ => e.to_string(),
            };
            Error::file(path, cause)
        })
    }
}
