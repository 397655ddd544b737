//! Command-line failures and their exit codes.

/// A failure the CLI reports as one line and an exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The data set was not found or did not load (exit 3).
    #[error("{0}")]
    Data(#[from] crate::data::DataError),
    /// Unknown or malformed preset (exit 4).
    #[error("{0}")]
    Preset(#[from] crate::preset::PresetError),
    /// A session file could not be read or is not valid (exit 5).
    #[error("{0}")]
    Session(#[from] crate::session::SessionError),
    /// An output file could not be written (exit 6).
    #[error("{path}: cannot write: {message}")]
    Write {
        /// Output path.
        path: std::path::PathBuf,
        /// Why.
        message: String,
    },
    /// Saving the run's session failed and the last save did not succeed (exit 6); the text
    /// names the file.
    #[error("{0}")]
    Save(String),
    /// The run could not start or did not finish well (exit 7).
    #[error("{0}")]
    Run(String),
    /// Bad option values (exit 2).
    #[error("{0}")]
    Usage(String),
    /// A grid could not be planned, read or submitted (exit: 2 for a selection or a changed
    /// definition, 4 preset, 5 unreadable manifest or session, 6 unwritable, 7 sbatch).
    #[error("{0}")]
    Grid(#[from] crate::grid::GridError),
    /// Stopped by Ctrl-C or SIGTERM (exit 130, as a shell reports SIGINT).
    #[error("{0}")]
    Interrupted(String),
}

/// 6 when a session error is about writing, else 5.
fn session_exit_code(e: &crate::session::SessionError) -> u8 {
    match e {
        crate::session::SessionError::Write(_) => 6,
        crate::session::SessionError::Io { action, .. }
            if action.starts_with("cannot write")
                || action.starts_with("cannot create")
                || action.starts_with("cannot replace")
                || action.starts_with("cannot flush") =>
        {
            6
        }
        _ => 5,
    }
}

impl From<crate::fs::WriteError> for CliError {
    fn from(e: crate::fs::WriteError) -> Self {
        use crate::fs::WriteError;
        let message = match &e {
            WriteError::Exists { .. } => "already exists; give --force to replace it".into(),
            WriteError::NotAFile { .. } => "it is a folder, not a file".into(),
            WriteError::Io { action, source, .. } => format!("{action}: {source}"),
        };
        CliError::Write {
            path: e.path().to_path_buf(),
            message,
        }
    }
}

impl CliError {
    /// Process exit code: 2 usage, 3 missing or bad data, 4 preset, 5 unreadable or invalid
    /// session, 6 unwritable output, 7 run failed or diverged, 130 interrupted.
    pub fn exit_code(&self) -> u8 {
        use crate::grid::GridError as G;
        match self {
            CliError::Usage(_) => 2,
            CliError::Data(_) => 3,
            CliError::Preset(_) => 4,
            CliError::Session(e) => session_exit_code(e),
            CliError::Write { .. } | CliError::Save(_) => 6,
            CliError::Run(_) => 7,
            CliError::Grid(g) => match g {
                G::Selection(_) | G::Changed { .. } => 2,
                G::Preset(_) => 4,
                G::Manifest { .. } => 5,
                G::Session(e) => session_exit_code(e),
                G::Io { .. } | G::Write(_) => 6,
                G::Submit(_) => 7,
            },
            CliError::Interrupted(_) => 130,
        }
    }
}
