//! File exports shared by the desktop app and the CLI: CSV of the numbers and figures
//! (PNG/SVG) from one renderer, so the same figure comes out of both, and the trained
//! weights as safetensors.

pub mod csv;
pub mod figures;
pub mod weights;

use std::path::PathBuf;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The output could not be written.
    #[error("{path}: cannot write: {message}")]
    Write {
        /// Output path.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A file could not be written, or exists and may not be replaced.
    #[error(transparent)]
    File(#[from] crate::fs::WriteError),
    /// The request does not fit the session (no such node, epoch, figure or format).
    #[error("{0}")]
    Request(String),
}
