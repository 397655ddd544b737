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

use std::cell::RefCell;
use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use flate2::write::DeflateEncoder;
use flate2::{Compression, Decompress, FlushDecompress, Status};

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

/// What one thread reuses from blob to blob: the inflater and the buffers of the blob being
/// decoded. A 9x320 session of 211 records holds 13,300 blobs; a new inflater (its state and
/// window), a read buffer and the base64 bytes for each, and the copies between them, were a
/// fifth of opening it (page faults, memset, malloc and memmove in a profile).
struct Scratch {
    inflater: Decompress,
    /// The blob's compressed bytes (its base64 decoded).
    compressed: Vec<u8>,
    /// The blob's bytes, when the caller turns them into other elements.
    bytes: Vec<u8>,
}

/// Buffers larger than this (bytes) are freed after use instead of kept for the next blob: a
/// checkpoint's blobs are megabytes, which a thread should not hold on to.
const KEEP_BYTES: usize = 1 << 20;

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch {
        inflater: Decompress::new(false),
        compressed: Vec::new(),
        bytes: Vec::new(),
    });
}

/// Frees `v` when it has grown past [`KEEP_BYTES`].
fn trim(v: &mut Vec<u8>) {
    if v.capacity() > KEEP_BYTES {
        *v = Vec::new();
    }
}

/// Inflates the base64 blob `text` into `out` (cleared first), which then holds `expected`
/// bytes.
///
/// The output is written once, into reserved capacity (never zero-filled first), by one call
/// of the inflater in the common case: it is given room for `expected + 1` bytes (so a blob
/// holding more shows as one byte too many) but never more than the most that the compressed
/// bytes can inflate to, so a hostile blob with a huge `expected` allocates little.
fn inflate(
    inflater: &mut Decompress,
    compressed: &mut Vec<u8>,
    text: &str,
    expected: usize,
    out: &mut Vec<u8>,
) -> Result<(), BlobError> {
    compressed.clear();
    STANDARD
        .decode_vec(text, compressed)
        .map_err(|e| BlobError::Base64(e.to_string()))?;
    out.clear();
    let room = expected.saturating_add(1);
    // DEFLATE inflates by at most 1032:1.
    let most = compressed.len().saturating_mul(1032).saturating_add(1);
    out.reserve(room.min(most));
    inflater.reset(false);
    loop {
        let input = usize::try_from(inflater.total_in())
            .ok()
            .and_then(|at| compressed.get(at..))
            .unwrap_or_default();
        let status = inflater
            .decompress_vec(input, out, FlushDecompress::Finish)
            .map_err(|e| BlobError::Deflate(e.to_string()))?;
        // Done, too long, or stopped with room left (the compressed bytes ran out).
        if status == Status::StreamEnd || out.len() >= room || out.len() < out.capacity() {
            break;
        }
        out.reserve((room - out.len()).min(out.len().max(4096)));
    }
    out.truncate(room);
    if out.len() != expected {
        return Err(BlobError::Length {
            expected,
            found: out.len(),
        });
    }
    Ok(())
}

/// Decodes a blob that must hold exactly `expected` bytes.
///
/// # Errors
/// [`BlobError`] for bad base64, bad DEFLATE data or a wrong length.
pub fn decode_bytes(text: &str, expected: usize) -> Result<Vec<u8>, BlobError> {
    let mut out = Vec::new();
    SCRATCH.with_borrow_mut(|s| {
        let r = inflate(&mut s.inflater, &mut s.compressed, text, expected, &mut out);
        trim(&mut s.compressed);
        r
    })?;
    Ok(out)
}

/// Decodes a blob that must hold exactly `expected` bytes and turns them into `f(bytes)`,
/// inflating into this thread's reused buffer.
///
/// # Errors
/// As [`decode_bytes`].
fn decode_with<T>(text: &str, expected: usize, f: impl FnOnce(&[u8]) -> T) -> Result<T, BlobError> {
    SCRATCH.with_borrow_mut(|s| {
        let r = inflate(
            &mut s.inflater,
            &mut s.compressed,
            text,
            expected,
            &mut s.bytes,
        )
        .map(|()| f(&s.bytes));
        trim(&mut s.compressed);
        trim(&mut s.bytes);
        r
    })
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
    decode_with(text, n.saturating_mul(4), |b| {
        b.chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    })
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
    decode_with(text, n.saturating_mul(4), |b| {
        b.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    })
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
    decode_with(text, n.saturating_mul(8), |b| {
        b.chunks_exact(8)
            .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect()
    })
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
    decode_with(text, n.saturating_mul(4), |b| {
        from_planes(b).map(u32::from_le_bytes).collect()
    })
}

/// [`decode_f32_planes`] of `sizes.iter().sum()` values, returned as consecutive parts of
/// `sizes[k]` values each (a checkpoint's weight matrices and bias vectors, layer by layer),
/// without the whole array in between.
///
/// # Errors
/// As [`decode_bytes`].
pub fn decode_f32_planes_parts(text: &str, sizes: &[usize]) -> Result<Vec<Vec<f32>>, BlobError> {
    let n = sizes.iter().fold(0usize, |a, &k| a.saturating_add(k));
    decode_with(text, n.saturating_mul(4), |b| {
        let mut values = from_planes(b).map(f32::from_le_bytes);
        sizes
            .iter()
            .map(|&k| values.by_ref().take(k).collect())
            .collect()
    })
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
    decode_with(text, n.saturating_mul(4), |b| {
        from_planes(b).map(f32::from_le_bytes).collect()
    })
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
    let mut v = codes.to_vec();
    undelta_zigzag_in_place(&mut v, before);
    v
}

/// [`undelta_zigzag`] in place: `codes` become the values.
pub fn undelta_zigzag_in_place(codes: &mut [u32], before: &[u32]) {
    let undelta = |z: u32, b: u32| {
        let d = (z >> 1).cast_signed() ^ -((z & 1).cast_signed());
        b.wrapping_add(d.cast_unsigned())
    };
    let (with_before, rest) = codes.split_at_mut(before.len().min(codes.len()));
    for (z, &b) in with_before.iter_mut().zip(before) {
        *z = undelta(*z, b);
    }
    for z in rest {
        *z = undelta(*z, 0);
    }
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
