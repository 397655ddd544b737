//! Downloading MNIST when it is not found: the four standard files from known public mirrors,
//! each checked against the SHA-256 of its decompressed bytes (the values listed with the data
//! set's standard originals) before it is written, atomically, into the destination folder.
//! A failed, cut or wrong download leaves no file behind.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};

use crate::fs::Existing;

/// Public mirrors serving `<name>.gz` under these base URLs, tried in order.
pub const MNIST_MIRRORS: &[&str] = &[
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
];

/// The four files and the SHA-256 of their decompressed bytes.
pub const MNIST_FILES: [(&str, &str); 4] = [
    (
        "train-images-idx3-ubyte",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    (
        "train-labels-idx1-ubyte",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    (
        "t10k-images-idx3-ubyte",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    (
        "t10k-labels-idx1-ubyte",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
];

/// Largest archive accepted (MNIST's largest is under 10 MB).
const MAX_ARCHIVE: u64 = 64 << 20;
/// Largest decompressed file accepted (MNIST's largest is 47 MB).
const MAX_FILE: u64 = 128 << 20;

/// Progress of a download.
#[derive(Debug, Clone, PartialEq)]
pub struct DownloadProgress {
    /// File being fetched (base name).
    pub file: String,
    /// Index of that file, 0..4.
    pub index: usize,
    /// Bytes received of this file.
    pub bytes: u64,
    /// Size announced by the server, if any.
    pub total: Option<u64>,
}

/// Why a download failed. Nothing was written for the file named.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// Every mirror failed for a file; one message per mirror.
    #[error("could not download {file}: {}", .attempts.join("; "))]
    AllMirrorsFailed {
        /// File.
        file: String,
        /// What each mirror gave.
        attempts: Vec<String>,
    },
    /// Cancelled by the user.
    #[error("download cancelled")]
    Cancelled,
    /// The destination holds a file of that name that is not the right MNIST file, and
    /// [`DownloadOptions::existing`] does not allow replacing it. Nothing was fetched.
    #[error("{path}: already exists and is not the MNIST file (left unchanged)")]
    Exists {
        /// The file found.
        path: PathBuf,
    },
    /// Could not write into the destination.
    #[error("{path}: cannot write: {message}")]
    Write {
        /// Destination file.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

/// How [`download_mnist_with`] treats the destination.
#[derive(Debug, Clone, PartialEq)]
pub struct DownloadOptions {
    /// What to do with a file of the same name that is not already the right file (files
    /// that already are the right MNIST file are kept and not fetched again).
    pub existing: Existing,
}

impl Default for DownloadOptions {
    /// Keep every existing file.
    fn default() -> Self {
        Self {
            existing: Existing::Keep,
        }
    }
}

/// Downloads the four MNIST files from `mirrors` (base URLs ending in `/`) into `dest`, with
/// the default [`DownloadOptions`].
///
/// # Errors
/// As [`download_mnist_with`].
pub fn download_mnist(
    dest: &Path,
    mirrors: &[String],
    progress: &mut dyn FnMut(DownloadProgress),
    cancel: &AtomicBool,
) -> Result<(), DownloadError> {
    download_mnist_with(dest, mirrors, &DownloadOptions::default(), progress, cancel)
}

/// Whether `path` holds the archive of an MNIST file whose decompressed SHA-256 is `sha`.
fn already_there(path: &Path, sha: &str) -> bool {
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let mut raw = Vec::new();
    let read = MultiGzDecoder::new(std::io::BufReader::new(file).take(MAX_ARCHIVE))
        .take(MAX_FILE + 1)
        .read_to_end(&mut raw);
    read.is_ok() && super::to_hex(&Sha256::digest(&raw)) == sha
}

/// Downloads the four MNIST files from `mirrors` (base URLs ending in `/`) into `dest`.
///
/// Files already in `dest` that are the right ones are kept; any other file of the same name
/// stops the download before anything is fetched, unless `options.existing` is
/// [`Existing::Replace`]. `progress` is called as bytes arrive; `cancel` stops the download
/// between reads.
///
/// # Errors
/// [`DownloadError`]; files already verified and written stay, a failing file leaves nothing.
pub fn download_mnist_with(
    dest: &Path,
    mirrors: &[String],
    options: &DownloadOptions,
    progress: &mut dyn FnMut(DownloadProgress),
    cancel: &AtomicBool,
) -> Result<(), DownloadError> {
    std::fs::create_dir_all(dest).map_err(|e| DownloadError::Write {
        path: dest.to_path_buf(),
        message: e.to_string(),
    })?;
    // Decide for every file before fetching any, so that a refusal costs no download.
    let mut todo = Vec::new();
    for (index, (name, sha)) in MNIST_FILES.iter().enumerate() {
        let target = dest.join(format!("{name}.gz"));
        let existing = if !target.exists() {
            Existing::Keep
        } else if already_there(&target, sha) {
            continue;
        } else if options.existing == Existing::Replace {
            Existing::Replace
        } else {
            return Err(DownloadError::Exists { path: target });
        };
        todo.push((index, *name, *sha, target, existing));
    }
    for (index, name, sha, target, existing) in todo {
        let mut attempts = Vec::new();
        let mut done = false;
        for base in mirrors {
            let url = format!("{base}{name}.gz");
            match fetch_verified(
                &url,
                sha,
                &mut |bytes, total| {
                    progress(DownloadProgress {
                        file: name.to_string(),
                        index,
                        bytes,
                        total,
                    })
                },
                cancel,
            ) {
                Ok(archive) => {
                    crate::fs::write_atomic(&target, &archive, existing).map_err(|e| {
                        DownloadError::Write {
                            path: target.clone(),
                            message: e.to_string(),
                        }
                    })?;
                    done = true;
                    break;
                }
                Err(None) => return Err(DownloadError::Cancelled),
                Err(Some(msg)) => attempts.push(format!("{url}: {msg}")),
            }
        }
        if !done {
            return Err(DownloadError::AllMirrorsFailed {
                file: name.to_string(),
                attempts,
            });
        }
    }
    Ok(())
}

/// Fetches `url` into memory and checks the SHA-256 of its decompressed bytes.
/// `Err(None)` means cancelled.
fn fetch_verified(
    url: &str,
    sha: &str,
    progress: &mut dyn FnMut(u64, Option<u64>),
    cancel: &AtomicBool,
) -> Result<Vec<u8>, Option<String>> {
    let response = ureq::get(url).call().map_err(|e| Some(e.to_string()))?;
    let total = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut reader = response.into_body().into_reader().take(MAX_ARCHIVE + 1);
    let mut archive = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(None);
        }
        let n = reader
            .read(&mut buf)
            .map_err(|e| Some(format!("connection broke: {e}")))?;
        if n == 0 {
            break;
        }
        archive.extend_from_slice(&buf[..n]);
        progress(archive.len() as u64, total);
    }
    if archive.len() as u64 > MAX_ARCHIVE {
        return Err(Some(format!("larger than {MAX_ARCHIVE} bytes")));
    }
    if let Some(t) = total
        && t != archive.len() as u64
    {
        return Err(Some(format!("received {} of {t} bytes", archive.len())));
    }
    let mut raw = Vec::new();
    MultiGzDecoder::new(archive.as_slice())
        .take(MAX_FILE + 1)
        .read_to_end(&mut raw)
        .map_err(|e| Some(format!("not a valid gzip file: {e}")))?;
    let got: String = Sha256::digest(&raw)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if got != sha {
        return Err(Some(format!(
            "checksum mismatch (SHA-256 {got}, expected {sha})"
        )));
    }
    Ok(archive)
}
