//! Downloading MNIST when it is not found: the four standard files from known public mirrors,
//! each checked against the SHA-256 of its decompressed bytes (the values listed with the data
//! set's standard originals) before it is written, atomically, into the destination folder.
//! A failed, cut or wrong download leaves no file behind.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

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

/// Why fetching a file from one mirror failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchFailure {
    /// No connection, no answer or no data within the timeouts of [`DownloadOptions`].
    #[error("timed out: {0}")]
    TimedOut(String),
    /// The request failed (no such host, refused, an HTTP error status).
    #[error("{0}")]
    Request(String),
    /// The connection broke while the body came.
    #[error("connection broke: {0}")]
    Broken(String),
    /// The body was larger than any MNIST file.
    #[error("larger than {0} bytes")]
    TooLarge(u64),
    /// The body ended before the length the server announced.
    #[error("received {received} of {announced} bytes")]
    Short {
        /// Bytes received.
        received: u64,
        /// Bytes announced.
        announced: u64,
    },
    /// Not gzip data.
    #[error("not a valid gzip file: {0}")]
    NotGzip(String),
    /// Decompressed to other bytes than MNIST's file.
    #[error("checksum mismatch (SHA-256 {found}, expected {expected})")]
    Checksum {
        /// SHA-256 of the bytes received, decompressed.
        found: String,
        /// SHA-256 of the real file.
        expected: String,
    },
}

/// One mirror's failure for one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorFailure {
    /// The address tried.
    pub url: String,
    /// What went wrong.
    pub failure: FetchFailure,
}

impl std::fmt::Display for MirrorFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.url, self.failure)
    }
}

/// Why a download failed. Nothing was written for the file named.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// Every mirror failed for a file; one failure per mirror.
    #[error("could not download {file}: {}", .attempts.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    AllMirrorsFailed {
        /// File.
        file: String,
        /// What each mirror gave.
        attempts: Vec<MirrorFailure>,
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

/// How [`download_mnist_with`] treats the destination and a slow mirror.
#[derive(Debug, Clone, PartialEq)]
pub struct DownloadOptions {
    /// What to do with a file of the same name that is not already the right file (files
    /// that already are the right MNIST file are kept and not fetched again).
    pub existing: Existing,
    /// Longest wait for a connection (name lookup included) and for the answer's headers.
    pub connect_timeout: Duration,
    /// Longest wait for the next bytes of the body: a mirror that stalls this long fails
    /// with [`FetchFailure::TimedOut`] and the next mirror is tried.
    pub read_timeout: Duration,
}

impl Default for DownloadOptions {
    /// Keep every existing file; 15 s to connect, 30 s without data.
    fn default() -> Self {
        Self {
            existing: Existing::Keep,
            connect_timeout: Duration::from_secs(15),
            read_timeout: Duration::from_secs(30),
        }
    }
}

/// How often a waiting download looks at the cancel flag.
const CANCEL_POLL: Duration = Duration::from_millis(50);

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
/// within a twentieth of a second, also while a mirror is silent; a mirror that does not
/// connect or goes silent for longer than the timeouts in `options` fails and the next one
/// is tried.
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
                options,
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
                Err(Some(failure)) => attempts.push(MirrorFailure { url, failure }),
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

/// What the thread fetching a body sends.
enum Fetched {
    /// The answer's headers came, with the length announced, if any.
    Started(Option<u64>),
    /// The next bytes of the body.
    Bytes(Vec<u8>),
    /// The body is complete.
    Done,
    /// The fetch failed.
    Failed(FetchFailure),
}

/// A timeout inside ureq (it wraps its own errors in an I/O error of kind `Other`).
fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
    ) || e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<ureq::Error>())
        .is_some_and(|u| matches!(u, ureq::Error::Timeout(_)))
}

/// Fetches `url` on a thread of its own, sending what arrives to `tx`; ends when the body
/// is done, fails, times out (the agent's timeouts) or the receiver is gone (cancelled).
fn fetch_into(url: &str, options: &DownloadOptions, tx: &crossbeam_channel::Sender<Fetched>) {
    let agent = ureq::Agent::config_builder()
        .timeout_resolve(Some(options.connect_timeout))
        .timeout_connect(Some(options.connect_timeout))
        .timeout_recv_response(Some(options.connect_timeout))
        .timeout_per_read(Some(options.read_timeout))
        .build()
        .new_agent();
    let response = match agent.get(url).call() {
        Ok(r) => r,
        Err(ureq::Error::Timeout(t)) => {
            let _ = tx.send(Fetched::Failed(FetchFailure::TimedOut(t.to_string())));
            return;
        }
        Err(e) => {
            let _ = tx.send(Fetched::Failed(FetchFailure::Request(e.to_string())));
            return;
        }
    };
    let total = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if tx.send(Fetched::Started(total)).is_err() {
        return;
    }
    let mut reader = response
        .into_body()
        .into_with_config()
        .limit(MAX_ARCHIVE + 1)
        .reader();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let message = match reader.read(&mut buf) {
            Ok(0) => Fetched::Done,
            Ok(n) => Fetched::Bytes(buf.get(..n).unwrap_or_default().to_vec()),
            Err(e) if is_timeout(&e) => Fetched::Failed(FetchFailure::TimedOut(format!(
                "no data for {} s",
                options.read_timeout.as_secs_f64()
            ))),
            Err(e) => Fetched::Failed(FetchFailure::Broken(e.to_string())),
        };
        let last = !matches!(message, Fetched::Bytes(_));
        if tx.send(message).is_err() || last {
            return;
        }
    }
}

/// Fetches `url` into memory and checks the SHA-256 of its decompressed bytes. The network
/// waits happen on a thread of their own, so `cancel` is seen within [`CANCEL_POLL`] even
/// while a mirror is silent; that thread ends by itself at its next read or timeout.
/// `Err(None)` means cancelled.
fn fetch_verified(
    url: &str,
    sha: &str,
    options: &DownloadOptions,
    progress: &mut dyn FnMut(u64, Option<u64>),
    cancel: &AtomicBool,
) -> Result<Vec<u8>, Option<FetchFailure>> {
    let (tx, rx) = crossbeam_channel::bounded(16);
    let (url_owned, opts) = (url.to_string(), options.clone());
    std::thread::Builder::new()
        .name("download".into())
        .spawn(move || fetch_into(&url_owned, &opts, &tx))
        .map_err(|e| Some(FetchFailure::Request(format!("cannot start a thread: {e}"))))?;
    let mut total = None;
    let mut archive = Vec::new();
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(None);
        }
        match rx.recv_timeout(CANCEL_POLL) {
            Ok(Fetched::Started(t)) => total = t,
            Ok(Fetched::Bytes(bytes)) => {
                archive.extend_from_slice(&bytes);
                if archive.len() as u64 > MAX_ARCHIVE {
                    return Err(Some(FetchFailure::TooLarge(MAX_ARCHIVE)));
                }
                progress(archive.len() as u64, total);
            }
            Ok(Fetched::Done) => break,
            Ok(Fetched::Failed(f)) => return Err(Some(f)),
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                return Err(Some(FetchFailure::Broken(
                    "the download thread ended".into(),
                )));
            }
        }
    }
    if let Some(t) = total
        && t != archive.len() as u64
    {
        return Err(Some(FetchFailure::Short {
            received: archive.len() as u64,
            announced: t,
        }));
    }
    let mut raw = Vec::new();
    MultiGzDecoder::new(archive.as_slice())
        .take(MAX_FILE + 1)
        .read_to_end(&mut raw)
        .map_err(|e| Some(FetchFailure::NotGzip(e.to_string())))?;
    let found = super::to_hex(&Sha256::digest(&raw));
    if found != sha {
        return Err(Some(FetchFailure::Checksum {
            found,
            expected: sha.to_string(),
        }));
    }
    Ok(archive)
}
