//! Errors from loading dialplans and using their contacts.

use std::io;
use std::path::PathBuf;

use crate::config::Location;

/// Why a dialplan could not be loaded or used. Displays as `file:line:col: message`
/// when there is a position.
#[derive(Debug, thiserror::Error)]
pub enum DialplanError {
    /// A file or directory could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The file name is not a valid dialplan id.
    #[error("{}: file name is not a valid dialplan id (use [a-z0-9][a-z0-9_-]*.toml)", path.display())]
    BadId {
        /// The file.
        path: PathBuf,
    },
    /// Bad TOML syntax, an unknown key, a missing key or a bad value.
    #[error("{at}: {message}")]
    Invalid {
        /// Where the problem is.
        at: Location,
        /// What is wrong.
        message: String,
    },
    /// `contacts` is an empty list.
    #[error("{at}: contacts must not be empty")]
    NoContacts {
        /// The `contacts` value.
        at: Location,
    },
    /// Two contacts share an id, in one file or across files.
    #[error("{at}: duplicate contact id \"{id}\" (first defined at {first})")]
    DuplicateContact {
        /// The second definition.
        at: Location,
        /// The id.
        id: String,
        /// The first definition.
        first: Location,
    },
    /// A menu step follows `hangup`.
    #[error("{at}: step after hangup is never reached")]
    AfterHangup {
        /// The unreachable step.
        at: Location,
    },
    /// A menu step plays a WAV file that does not exist.
    #[error("{at}: wav file not found: {}", path.display())]
    MissingWav {
        /// The step.
        at: Location,
        /// The resolved path.
        path: PathBuf,
    },
    /// An E.164 number was dialled without a trunk to route it.
    #[error("cannot dial {number}: no sip trunk configured (set sip.proxy or sip.domain)")]
    NoTrunk {
        /// The number.
        number: String,
    },
}
