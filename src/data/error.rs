//! Errors from reading data sets; every variant names the file it is about.

use std::path::PathBuf;

/// What went wrong while reading an IDX file or assembling a data set.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// File that failed.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// The file starts like gzip but does not decompress.
    #[error("{path}: corrupt gzip stream: {source}")]
    Gzip {
        /// File that failed.
        path: PathBuf,
        /// Decoder error.
        source: std::io::Error,
    },
    /// The first two bytes of an IDX file must be zero.
    #[error("{path}: not an IDX file (bad magic number {found:02x?})")]
    BadMagic {
        /// File that failed.
        path: PathBuf,
        /// The four magic bytes found.
        found: [u8; 4],
    },
    /// Only unsigned-byte IDX files (type code 0x08) are used by MNIST-like sets.
    #[error("{path}: unsupported IDX element type 0x{code:02x} (expected 0x08, unsigned byte)")]
    UnsupportedType {
        /// File that failed.
        path: PathBuf,
        /// Type code found in the header.
        code: u8,
    },
    /// The number of dimensions does not fit what the file is used for.
    #[error("{path}: IDX rank {found}, expected {expected}")]
    BadRank {
        /// File that failed.
        path: PathBuf,
        /// Rank in the header.
        found: usize,
        /// Rank needed (3 for images, 1 for labels).
        expected: usize,
    },
    /// The file ends before the header or the data it declares.
    #[error("{path}: truncated: header declares {expected} bytes, file has {actual}")]
    Truncated {
        /// File that failed.
        path: PathBuf,
        /// Bytes the header needs (header plus data).
        expected: u64,
        /// Bytes present.
        actual: u64,
    },
    /// The file is longer than its header says.
    #[error("{path}: {extra} unexpected bytes after the data the header declares")]
    TrailingBytes {
        /// File that failed.
        path: PathBuf,
        /// Extra bytes (at least this many).
        extra: u64,
    },
    /// The header declares more data than this program accepts.
    #[error("{path}: header declares {bytes} bytes, more than the {limit}-byte limit")]
    TooLarge {
        /// File that failed.
        path: PathBuf,
        /// Declared size (saturated on overflow).
        bytes: u64,
        /// Limit.
        limit: u64,
    },
    /// Images are not 28 x 28.
    #[error("{path}: images are {rows}x{cols}, expected 28x28")]
    WrongImageSize {
        /// File that failed.
        path: PathBuf,
        /// Rows per image.
        rows: usize,
        /// Columns per image.
        cols: usize,
    },
    /// An image file and its label file disagree on the number of samples.
    #[error("{images} has {n_images} images but {labels} has {n_labels} labels")]
    CountMismatch {
        /// Image file.
        images: PathBuf,
        /// Label file.
        labels: PathBuf,
        /// Images in the image file.
        n_images: usize,
        /// Labels in the label file.
        n_labels: usize,
    },
    /// A label outside 0..=9.
    #[error("{path}: label {label} at index {index} is outside 0..=9")]
    BadLabel {
        /// File that failed.
        path: PathBuf,
        /// Sample index.
        index: usize,
        /// Label value.
        label: u8,
    },
    /// A split is empty.
    #[error("{path}: holds no samples")]
    Empty {
        /// File that failed.
        path: PathBuf,
    },
    /// No folder with the four IDX files was found.
    #[error("data set '{name}' not found; looked in: {}", .searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    NotFound {
        /// Data set name.
        name: String,
        /// Folders searched, in order.
        searched: Vec<PathBuf>,
    },
    /// A folder was chosen but one of the four files is missing.
    #[error("{dir}: no file of the {role}; looked for {}", .names.join(", "))]
    MissingFile {
        /// Folder searched.
        dir: PathBuf,
        /// What the file holds ("training images", "test labels", ...).
        role: String,
        /// Every name looked for.
        names: Vec<String>,
    },
    /// The file is a web page (a server's error page saved under the file's name), not data.
    #[error(
        "{path}: is a web page ({kind}), not an IDX file: the download probably saved a \
         server's error page; download the file again"
    )]
    WebPage {
        /// File that failed.
        path: PathBuf,
        /// "HTML" or "XML".
        kind: &'static str,
    },
}
