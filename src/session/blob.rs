//! Compact encoding of bulk arrays inside the RON text: little-endian element bytes,
//! DEFLATE-compressed (RFC 1951), then standard base64 (RFC 4648). Decoding is bounded by the
//! length the caller expects, so a hostile blob cannot inflate into more memory than the
//! session's own shapes allow.
//!
//! Schema 3 writes multi-byte numbers as byte planes (the "shuffle" of HDF5 and Blosc): byte 0
//! of every element, then byte 1 of every element, and so on. Neighbouring elements share their
//! high bytes (small counts: zeros; floats: sign and exponent), which DEFLATE then sees as long
//! runs instead of every fourth byte: on a 9x320 run this made the class-count deltas 8 %, the
//! turnover counts 20 % and the checkpoint's weights 15 % smaller than plain bytes.

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

/// DEFLATE level of the arrays of schema-3 records. A record is encoded once, when it is
/// measured (and again only when a whole session is saved), and read at every open, whose time
/// does not depend on the level: on a 9x320 run level 9 made the probe deltas 11 % smaller
/// than level 4.
pub const RECORD_LEVEL: u32 = 9;

/// Encodes raw bytes at DEFLATE `level` (0 = stored blocks, 1 fastest .. 9 smallest).
pub fn encode_bytes_at(bytes: &[u8], level: u32) -> String {
    encode_at(bytes, Compression::new(level.min(9)))
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

/// The byte planes of 4-byte elements given as their little-endian bytes (a multiple of 4
/// long): byte 0 of every element, then byte 1 of every element, ...
fn to_planes(bytes: &[u8]) -> Vec<u8> {
    let n = bytes.len() / 4;
    let mut out = vec![0u8; n * 4];
    let (p0, rest) = out.split_at_mut(n);
    let (p1, rest) = rest.split_at_mut(n);
    let (p2, p3) = rest.split_at_mut(n);
    for ((((e, a), b), c), d) in bytes.chunks_exact(4).zip(p0).zip(p1).zip(p2).zip(p3) {
        (*a, *b, *c, *d) = (e[0], e[1], e[2], e[3]);
    }
    out
}

/// The elements' little-endian bytes back from their byte planes (inverse of [`to_planes`]).
fn from_planes(planes: &[u8]) -> impl Iterator<Item = [u8; 4]> + '_ {
    let n = planes.len() / 4;
    let (p0, rest) = planes.split_at(n);
    let (p1, rest) = rest.split_at(n);
    let (p2, p3) = rest.split_at(n);
    p0.iter()
        .zip(p1)
        .zip(p2)
        .zip(p3)
        .map(|(((&a, &b), &c), &d)| [a, b, c, d])
}

/// Encodes u32 values as byte planes at DEFLATE `level`.
pub fn encode_u32_planes(v: &[u32], level: u32) -> String {
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    encode_bytes_at(&to_planes(&bytes), level)
}

/// Decodes exactly `n` u32 values written by [`encode_u32_planes`].
///
/// # Errors
/// As [`decode_bytes`].
pub fn decode_u32_planes(text: &str, n: usize) -> Result<Vec<u32>, BlobError> {
    let b = decode_bytes(text, n.saturating_mul(4))?;
    Ok(from_planes(&b).map(u32::from_le_bytes).collect())
}

/// Encodes f32 values bit-exactly as byte planes at DEFLATE `level` (0: stored blocks).
pub fn encode_f32_planes(v: &[f32], level: u32) -> String {
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    encode_bytes_at(&to_planes(&bytes), level)
}

/// Decodes exactly `n` f32 values written by [`encode_f32_planes`].
///
/// # Errors
/// As [`decode_bytes`].
pub fn decode_f32_planes(text: &str, n: usize) -> Result<Vec<f32>, BlobError> {
    let b = decode_bytes(text, n.saturating_mul(4))?;
    Ok(from_planes(&b).map(f32::from_le_bytes).collect())
}

/// `now - before` per element as zigzag codes (0, -1, 1, -2, ... as 0, 1, 2, 3, ...), so that
/// small changes of either sign are small numbers; wrapping, so any two u32 arrays round-trip
/// through [`undelta_zigzag`]. `before` shorter than `now` (no previous record) counts as zeros.
pub fn delta_zigzag(now: &[u32], before: &[u32]) -> Vec<u32> {
    now.iter()
        .enumerate()
        .map(|(i, &x)| {
            let d = x
                .wrapping_sub(before.get(i).copied().unwrap_or(0))
                .cast_signed();
            ((d << 1) ^ (d >> 31)).cast_unsigned()
        })
        .collect()
}

/// Inverse of [`delta_zigzag`]: the values from their zigzag deltas against `before`.
pub fn undelta_zigzag(codes: &[u32], before: &[u32]) -> Vec<u32> {
    codes
        .iter()
        .enumerate()
        .map(|(i, &z)| {
            let d = (z >> 1).cast_signed() ^ -((z & 1).cast_signed());
            before
                .get(i)
                .copied()
                .unwrap_or(0)
                .wrapping_add(d.cast_unsigned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planes_and_zigzag_deltas_round_trip_every_bit() {
        let v: Vec<u32> = vec![0, 1, 7, 65_535, u32::MAX, 1 << 31, 123_456_789, 42];
        let back = decode_u32_planes(&encode_u32_planes(&v, 9), v.len()).unwrap();
        assert_eq!(back, v);
        let f = [
            0.0f32,
            -0.0,
            1.5e-38,
            -3.25,
            f32::INFINITY,
            f32::MIN_POSITIVE / 4.0,
        ];
        for level in [0, 4] {
            let back = decode_f32_planes(&encode_f32_planes(&f, level), f.len()).unwrap();
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&back), bits(&f));
        }
        let before: Vec<u32> = v.iter().rev().copied().collect();
        let d = delta_zigzag(&v, &before);
        assert_eq!(undelta_zigzag(&d, &before), v);
        assert_eq!(undelta_zigzag(&delta_zigzag(&v, &[]), &[]), v);
        // Small changes either way are small codes.
        assert_eq!(delta_zigzag(&[10, 9, 11], &[10, 10, 10]), vec![0, 1, 2]);
        // A blob of planes is still bounded by the length asked for.
        assert!(decode_u32_planes(&encode_u32_planes(&v, 9), v.len() - 1).is_err());
    }
}
