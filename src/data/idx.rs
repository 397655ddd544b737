//! Reader for the IDX format (LeCun et al., the format MNIST ships in), gzipped or raw.
//!
//! Layout: two zero bytes, a type code, the rank `r`, then `r` big-endian u32 dimensions,
//! then the elements. Only unsigned bytes (type 0x08) are accepted. The data is read
//! incrementally and never pre-allocated from the header: a hostile header cannot make us
//! allocate more than the file really holds.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};

use super::DataError;

/// Largest element payload accepted (1 GiB): far above MNIST's 47 MB, far below memory.
pub const MAX_PAYLOAD: u64 = 1 << 30;

/// One IDX array of unsigned bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// Dimensions, outermost first (e.g. `[60000, 28, 28]`).
    pub dims: Vec<usize>,
    /// Elements in row-major order; `data.len()` is the product of `dims`.
    pub data: Vec<u8>,
    /// SHA-256 of the decompressed file (header and elements), lower-case hex.
    pub sha256: String,
}

/// Reads an IDX file, decompressing it if it starts with the gzip magic.
///
/// `expected_rank` is checked before any payload is read.
///
/// # Errors
/// [`DataError`] naming `path`: unreadable, a web page rather than data, corrupt gzip, bad
/// magic, wrong type or rank, truncated, trailing bytes, or a declared size above
/// [`MAX_PAYLOAD`].
pub fn read_idx(path: &Path, expected_rank: usize) -> Result<IdxArray, DataError> {
    let io = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = BufReader::new(File::open(path).map_err(io)?);
    read_idx_from(file, path, expected_rank)
}

/// [`read_idx`] from any reader; `path` names it in errors.
///
/// # Errors
/// As [`read_idx`].
pub fn read_idx_from(
    mut reader: impl Read,
    path: &Path,
    expected_rank: usize,
) -> Result<IdxArray, DataError> {
    let mut head = [0u8; HEAD];
    let n = read_up_to(&mut reader, &mut head).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let head = head.get(..n).unwrap_or_default();
    if let Some(kind) = web_page(head) {
        return Err(DataError::WebPage {
            path: path.to_path_buf(),
            kind,
        });
    }
    let gzipped = head.starts_with(&[0x1f, 0x8b]);
    let reader = std::io::Cursor::new(head.to_vec()).chain(reader);
    if gzipped {
        parse(MultiGzDecoder::new(reader), path, expected_rank, true)
    } else {
        parse(reader, path, expected_rank, false)
    }
}

/// Bytes read first: enough to tell gzip from raw IDX and to recognise a web page.
const HEAD: usize = 1024;

/// "HTML" or "XML" when `head` (a file's first bytes) starts like a web page or a server's
/// XML error message (S3 sends those), which mirrors serve instead of a missing file.
fn web_page(head: &[u8]) -> Option<&'static str> {
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if !text.starts_with('<') {
        return None;
    }
    if ["<!doctype html", "<html", "<head", "<body", "<title"]
        .iter()
        .any(|tag| text.contains(tag))
    {
        Some("HTML")
    } else if text.starts_with("<?xml") {
        Some("XML")
    } else {
        None
    }
}

/// Reads as many bytes as are available into `buf`, returning how many were read.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(k) => filled += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn parse(
    mut r: impl Read,
    path: &Path,
    expected_rank: usize,
    gzipped: bool,
) -> Result<IdxArray, DataError> {
    let err = |source: std::io::Error| {
        if gzipped {
            DataError::Gzip {
                path: path.to_path_buf(),
                source,
            }
        } else {
            DataError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    };
    let mut magic = [0u8; 4];
    let got = read_up_to(&mut r, &mut magic).map_err(err)?;
    if got < 4 {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            expected: 4,
            actual: got as u64,
        });
    }
    if magic[0] != 0 || magic[1] != 0 {
        return Err(DataError::BadMagic {
            path: path.to_path_buf(),
            found: magic,
        });
    }
    if magic[2] != 0x08 {
        return Err(DataError::UnsupportedType {
            path: path.to_path_buf(),
            code: magic[2],
        });
    }
    let rank = usize::from(magic[3]);
    if rank != expected_rank {
        return Err(DataError::BadRank {
            path: path.to_path_buf(),
            found: rank,
            expected: expected_rank,
        });
    }
    let mut dim_bytes = vec![0u8; 4 * rank];
    let got = read_up_to(&mut r, &mut dim_bytes).map_err(err)?;
    let header_len = 4 + 4 * rank as u64;
    if got < dim_bytes.len() {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            expected: header_len,
            actual: 4 + got as u64,
        });
    }
    let dims: Vec<usize> = dim_bytes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let payload = dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
        .unwrap_or(u64::MAX);
    if payload > MAX_PAYLOAD {
        return Err(DataError::TooLarge {
            path: path.to_path_buf(),
            bytes: payload,
            limit: MAX_PAYLOAD,
        });
    }
    // Read at most one byte more than declared: enough to detect trailing data without
    // trusting the header for the allocation size.
    let mut data = Vec::new();
    r.take(payload + 1).read_to_end(&mut data).map_err(err)?;
    let actual = data.len() as u64;
    if actual < payload {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            expected: header_len + payload,
            actual: header_len + actual,
        });
    }
    if actual > payload {
        return Err(DataError::TrailingBytes {
            path: path.to_path_buf(),
            extra: actual - payload,
        });
    }
    let mut hasher = Sha256::new();
    hasher.update(magic);
    hasher.update(&dim_bytes);
    hasher.update(&data);
    let sha256 = super::to_hex(&hasher.finalize());
    Ok(IdxArray { dims, data, sha256 })
}
