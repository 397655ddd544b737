//! Writing files so that nothing already saved is lost: a file is written whole or not at all
//! (temporary file in the same folder, flushed, then renamed into place), and an existing file
//! is only replaced when the caller says so ([`Existing::Replace`]: the user gave `--force`,
//! confirmed a save dialog, or the file is the run's own session being updated).

use std::io::Write;
use std::path::{Path, PathBuf};

/// What to do when the target file already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Leave it as it is and fail with [`WriteError::Exists`].
    Keep,
    /// Replace it (atomically).
    Replace,
}

impl Existing {
    /// [`Existing::Replace`] when `force` (the command line's `--force`), else
    /// [`Existing::Keep`].
    pub fn from_force(force: bool) -> Self {
        if force { Self::Replace } else { Self::Keep }
    }
}

/// Why a file was not written. The target is unchanged in every case.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The target exists and [`Existing::Keep`] was asked for.
    #[error("{path}: already exists (left unchanged)")]
    Exists {
        /// Target file.
        path: PathBuf,
    },
    /// The target is a folder (or another non-file), so no file can take its place.
    #[error("{path}: is a folder, not a file")]
    NotAFile {
        /// Target path.
        path: PathBuf,
    },
    /// The operating system refused.
    #[error("{path}: {action}: {source}")]
    Io {
        /// Target file.
        path: PathBuf,
        /// What was being done ("cannot create a file in its folder", "cannot write", ...).
        action: &'static str,
        /// I/O error.
        source: std::io::Error,
    },
}

impl WriteError {
    /// The path the error is about.
    pub fn path(&self) -> &Path {
        match self {
            Self::Exists { path } | Self::NotAFile { path } | Self::Io { path, .. } => path,
        }
    }
}

/// The folder a file at `path` goes into (`.` for a bare file name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// A temporary file in `path`'s folder, readable like any document the user saves.
fn temp_beside(path: &Path) -> Result<tempfile::NamedTempFile, WriteError> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".sample-sets-").suffix(".tmp");
    // Sessions and figures are documents, not secrets.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    builder
        .tempfile_in(folder_of(path))
        .map_err(|e| WriteError::Io {
            path: path.to_path_buf(),
            action: "cannot create a file in its folder",
            source: without_temp_name(e),
        })
}

/// The operating system's error without the name of the temporary file, which tempfile's
/// errors end with (`... at path "/dir/.sample-sets-Xy12.tmp"`): a name the user never chose.
fn without_temp_name(e: std::io::Error) -> std::io::Error {
    let text = e.to_string();
    match text.rfind(" at path ") {
        Some(at) => std::io::Error::new(e.kind(), text.get(..at).unwrap_or_default()),
        None => e,
    }
}

/// Checks, before any work is spent, that a file can be written at `path`: it is not a
/// folder, it does not exist unless `existing` is [`Existing::Replace`], and its folder takes a
/// new file (a temporary file is created there and removed).
///
/// # Errors
/// [`WriteError::NotAFile`], [`WriteError::Exists`] or [`WriteError::Io`] naming `path`.
pub fn check_writable(path: &Path, existing: Existing) -> Result<(), WriteError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => {
            return Err(WriteError::NotAFile {
                path: path.to_path_buf(),
            });
        }
        Ok(_) if existing == Existing::Keep => {
            return Err(WriteError::Exists {
                path: path.to_path_buf(),
            });
        }
        _ => {}
    }
    temp_beside(path).map(drop)
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, flushed to disk,
/// then renamed to `path`, so a crash leaves either the old file or the new one, whole. With
/// [`Existing::Keep`] the rename refuses to replace a file that exists (checked by the rename
/// itself, so a file created meanwhile is not lost either).
///
/// # Errors
/// [`WriteError`] naming `path`: it exists (with [`Existing::Keep`]), it is a folder, its
/// folder is not writable, or the disk is full. `path` is unchanged then.
pub fn write_atomic(path: &Path, bytes: &[u8], existing: Existing) -> Result<(), WriteError> {
    if path.is_dir() {
        return Err(WriteError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    let io = |action| {
        move |source| WriteError::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    };
    let mut tmp = temp_beside(path)?;
    tmp.write_all(bytes).map_err(io("cannot write"))?;
    tmp.as_file().sync_all().map_err(io("cannot flush"))?;
    match existing {
        Existing::Replace => tmp
            .persist(path)
            .map(drop)
            .map_err(|e| io("cannot replace")(e.error)),
        Existing::Keep => tmp.persist_noclobber(path).map(drop).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                WriteError::Exists {
                    path: path.to_path_buf(),
                }
            } else {
                io("cannot create")(e.error)
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_never_replaces_and_replace_does() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        write_atomic(&path, b"first", Existing::Keep).unwrap();
        let err = write_atomic(&path, b"second", Existing::Keep).unwrap_err();
        assert!(matches!(err, WriteError::Exists { .. }), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        assert!(matches!(
            check_writable(&path, Existing::Keep),
            Err(WriteError::Exists { .. })
        ));
        check_writable(&path, Existing::Replace).unwrap();
        write_atomic(&path, b"second", Existing::Replace).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        // No temporary files are left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_folder_is_never_a_target() {
        let dir = tempfile::tempdir().unwrap();
        for existing in [Existing::Keep, Existing::Replace] {
            let err = write_atomic(dir.path(), b"x", existing).unwrap_err();
            assert!(matches!(err, WriteError::NotAFile { .. }), "{err}");
            let err = check_writable(dir.path(), existing).unwrap_err();
            assert!(matches!(err, WriteError::NotAFile { .. }), "{err}");
        }
        let missing = dir.path().join("no-such-folder").join("x.ron");
        let err = check_writable(&missing, Existing::Keep).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("no-such-folder") && !msg.contains(".sample-sets-"),
            "{msg}"
        );
    }
}
