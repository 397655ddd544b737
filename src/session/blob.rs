//! Compact encoding of bulk arrays inside the RON text: little-endian element bytes,
//! DEFLATE-compressed (RFC 1951), then standard base64 (RFC 4648). Decoding is bounded by the
//! length the caller expects, so a hostile blob cannot inflate into more memory than the
//! session's own shapes allow.

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;

/// Why a blob did not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobError {
    /// Not base64.
    #[error("not base64: {0}")]
    Base64(String),
    /// Not a DEFLATE stream.
    #[error("corrupt compressed data: {0}")]
    Deflate(String),
    /// Decoded to a different number of elements than the shapes say.
    #[error("holds {found} bytes, expected {expected}")]
    Length {
        /// Bytes expected.
        expected: usize,
        /// Bytes found (at most expected + 1: decoding stops there).
        found: usize,
    },
}

/// Encodes raw bytes.
pub fn encode_bytes(bytes: &[u8]) -> String {
    encode_at(bytes, Compression::new(4))
}

/// Encodes raw bytes at a DEFLATE `level` (`Compression::none()` writes stored blocks).
fn encode_at(bytes: &[u8], level: Compression) -> String {
    let mut enc = DeflateEncoder::new(Vec::new(), level);
    // Writing into a Vec cannot fail.
    let compressed = enc
        .write_all(bytes)
        .and_then(|()| enc.finish())
        .unwrap_or_default();
    STANDARD.encode(compressed)
}

/// Decodes a blob that must hold exactly `expected` bytes.
///
/// # Errors
/// [`BlobError`] for bad base64, bad DEFLATE data or a wrong length.
pub fn decode_bytes(text: &str, expected: usize) -> Result<Vec<u8>, BlobError> {
    let compressed = STANDARD
        .decode(text)
        .map_err(|e| BlobError::Base64(e.to_string()))?;
    let mut out = Vec::with_capacity(expected.min(compressed.len().saturating_mul(1032)));
    DeflateDecoder::new(compressed.as_slice())
        .take(expected as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| BlobError::Deflate(e.to_string()))?;
    if out.len() != expected {
        return Err(BlobError::Length {
            expected,
            found: out.len(),
        });
    }
    Ok(out)
}

/// Encodes u32 values (e.g. class counts).
pub fn encode_u32(v: &[u32]) -> String {
    encode_bytes(&v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<_>>())
}

/// Decodes exactly `n` u32 values.
///
/// # Errors
/// As [`decode_bytes`].
pub fn decode_u32(text: &str, n: usize) -> Result<Vec<u32>, BlobError> {
    let b = decode_bytes(text, n.saturating_mul(4))?;
    Ok(b.chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

/// Encodes f32 values bit-exactly.
pub fn encode_f32(v: &[f32]) -> String {
    encode_bytes(&v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<_>>())
}

/// Encodes f32 values bit-exactly in DEFLATE's stored (uncompressed) blocks: the same
/// format, read by [`decode_f32`]. For checkpoints, which every epoch rewrites: compressing
/// a 9x320 network's weights and Adam moments (12.4 MB) saved only 27 % of their size and cost
/// about 0.1 s per save, while storing costs a copy.
pub fn encode_f32_stored(v: &[f32]) -> String {
    encode_at(
        &v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<_>>(),
        Compression::none(),
    )
}

/// Decodes exactly `n` f32 values.
///
/// # Errors
/// As [`decode_bytes`].
pub fn decode_f32(text: &str, n: usize) -> Result<Vec<f32>, BlobError> {
    let b = decode_bytes(text, n.saturating_mul(4))?;
    Ok(b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

/// Encodes u64 words (bitsets).
pub fn encode_u64(v: &[u64]) -> String {
    encode_bytes(&v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<_>>())
}

/// Decodes exactly `n` u64 words.
///
/// # Errors
/// As [`decode_bytes`].
pub fn decode_u64(text: &str, n: usize) -> Result<Vec<u64>, BlobError> {
    let b = decode_bytes(text, n.saturating_mul(8))?;
    Ok(b.chunks_exact(8)
        .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect())
}
