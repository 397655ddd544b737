//! Errors from reading and writing sessions; each names the file.

use std::path::PathBuf;

/// What went wrong with a session file.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Could not read the file.
    #[error("{path}: {action}: {source}")]
    Io {
        /// Session file.
        path: PathBuf,
        /// What was being done ("cannot read").
        action: &'static str,
        /// I/O error.
        source: std::io::Error,
    },
    /// Could not write the file (the file on disk is unchanged).
    #[error(transparent)]
    Write(#[from] crate::fs::WriteError),
    /// Larger than any session this program writes.
    #[error("{path}: {bytes} bytes is larger than the {limit}-byte limit for a session")]
    TooLarge {
        /// Session file.
        path: PathBuf,
        /// File size.
        bytes: u64,
        /// Limit.
        limit: u64,
    },
    /// Not a session file at all (or cut off before its header).
    #[error("{path}: not a Sample Sets session ({reason})")]
    NotASession {
        /// File.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Written by a newer version of the program.
    #[error(
        "{path}: session schema {found} is newer than this program understands ({supported}); update Sample Sets"
    )]
    NewerSchema {
        /// File.
        path: PathBuf,
        /// Schema in the file.
        found: u32,
        /// Newest schema this build reads.
        supported: u32,
    },
    /// RON syntax error or missing field (also how truncation shows).
    #[error("{path}: corrupt or truncated session: {message}")]
    Corrupt {
        /// File.
        path: PathBuf,
        /// Parser message with line and column.
        message: String,
    },
    /// A bulk array that does not decode or has the wrong length.
    #[error("{path}: {what}: {problem}")]
    BadBlob {
        /// File.
        path: PathBuf,
        /// Which array (e.g. "epoch 3 layer 2 counts").
        what: String,
        /// What is wrong.
        problem: String,
    },
    /// A value that the session's own numbers contradict, or one that cannot occur (see
    /// [`super::validate`]).
    #[error("{path}: {record}: {field} {problem}")]
    Invalid {
        /// File.
        path: PathBuf,
        /// Which record: `dataset`, `probe`, `epoch 3`, `epoch 3, layer 2`,
        /// `epoch 3, layer 2, node 17`, `checkpoint`, `status`.
        record: String,
        /// Which field, as written in the file (`test_accuracy`, `summary.dead`, ...).
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// Fields that contradict each other (e.g. widths against array lengths).
    #[error("{path}: inconsistent session: {problem}")]
    Inconsistent {
        /// File.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
}
