//! Errors from loading `hotline.toml`.

use std::io;
use std::path::PathBuf;

use super::Location;

/// Why `hotline.toml` could not be loaded. Displays as `file:line:col: message`.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Bad TOML syntax, an unknown key, a missing key or a bad value.
    #[error("{at}: {message}")]
    Invalid {
        /// Where the problem is.
        at: Location,
        /// What is wrong.
        message: String,
    },
}
