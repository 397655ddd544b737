//! Why a grid operation failed; each names the file, run or option at fault.

use std::path::PathBuf;

/// A grid that cannot be planned, read, run or submitted.
#[derive(Debug, thiserror::Error)]
pub enum GridError {
    /// A file of the grid (manifest, Slurm script, run preset) could not be written.
    #[error(transparent)]
    Write(#[from] crate::fs::WriteError),
    /// A file or folder of the grid could not be read or written.
    #[error("{path}: {action}: {source}")]
    Io {
        /// File or folder.
        path: PathBuf,
        /// What was being done ("cannot read", "cannot create the folder", ...).
        action: &'static str,
        /// I/O error.
        source: std::io::Error,
    },
    /// The manifest is not a grid manifest, is newer, or does not parse.
    #[error("{path}: not a usable grid manifest: {problem}")]
    Manifest {
        /// Manifest file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The selection asks for a run that the folder already holds with another definition.
    #[error(
        "{file}: already in the grid with {differences}; a grid keeps one definition per run: \
         use another folder, or the grid's own settings"
    )]
    Changed {
        /// Session file name in the grid folder.
        file: String,
        /// What differs, e.g. "epochs 200 (asked: 2)".
        differences: String,
    },
    /// The selection is empty or malformed (bad pattern, seeds, option value).
    #[error("{0}")]
    Selection(String),
    /// A preset could not be found or is invalid.
    #[error(transparent)]
    Preset(#[from] crate::preset::PresetError),
    /// A session file of the grid is unusable.
    #[error(transparent)]
    Session(#[from] crate::session::SessionError),
    /// `sbatch` could not be run or refused the script.
    #[error("sbatch: {0}")]
    Submit(String),
}
