//! A seeded mutator for the file readers' fuzz tests: byte flips, interesting bytes,
//! truncations, insertions (random bytes or multi-byte characters), deletions, duplications,
//! splices from other seed files and, for text, numbers replaced by edge values. The same seed
//! gives the same cases.
#![allow(dead_code)]

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Bytes that often matter to parsers (zero, all ones, sign bits, RON's punctuation, digits).
const INTERESTING_BYTES: &[u8] = b"\x00\xff\x7f\x80\x01\x08\x1f\x8b0123456789-.,:;()[]{}\"'#/\\ \n";

/// Numbers that often matter to checks (limits, overflows, non-finite values).
const INTERESTING_NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "255",
    "256",
    "60000",
    "60001",
    "100000",
    "100001",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "99999999999999999999999",
    "-2147483648",
    "1e309",
    "-1e309",
    "1e-40",
    "NaN",
    "inf",
    "-inf",
    "0.0",
    "-0.0",
    "1.5",
    "0.5",
];

/// A stream of mutated copies of seed files.
pub struct Mutator {
    rng: ChaCha8Rng,
}

impl Mutator {
    /// A mutator whose cases follow from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// A random index below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            self.rng.random_range(0..n)
        }
    }

    /// A copy of one of `seeds` with 1 to 4 mutations stacked; the index of the seed used.
    pub fn case(&mut self, seeds: &[Vec<u8>]) -> (usize, Vec<u8>) {
        let which = self.below(seeds.len());
        let mut data = seeds[which].clone();
        let rounds = 1 + self.below(4);
        for _ in 0..rounds {
            self.mutate(&mut data, seeds);
        }
        (which, data)
    }

    /// Applies one mutation to `data`; `seeds` are the splice donors.
    pub fn mutate(&mut self, data: &mut Vec<u8>, seeds: &[Vec<u8>]) {
        let len = data.len();
        match self.below(10) {
            // Flip one bit.
            0 if len > 0 => {
                let at = self.below(len);
                data[at] ^= 1 << self.below(8);
            }
            // Set one byte to an interesting or random value.
            1 if len > 0 => {
                let at = self.below(len);
                data[at] = if self.rng.random_bool(0.5) {
                    INTERESTING_BYTES[self.below(INTERESTING_BYTES.len())]
                } else {
                    self.rng.random()
                };
            }
            // Truncate.
            2 => {
                let at = self.below(len + 1);
                data.truncate(at);
            }
            // Insert a few random bytes, or a multi-byte character (text stays UTF-8).
            3 => {
                let at = self.below(len + 1);
                let bytes: Vec<u8> = if self.rng.random_bool(0.5) {
                    let n = 1 + self.below(16);
                    (0..n).map(|_| self.rng.random()).collect()
                } else {
                    let c = ["é", "数", "😀", "\u{feff}"][self.below(4)];
                    c.repeat(1 + self.below(4)).into_bytes()
                };
                data.splice(at..at, bytes);
            }
            // Delete a range.
            4 if len > 0 => {
                let at = self.below(len);
                let n = 1 + self.below((len - at).min(256));
                data.drain(at..at + n);
            }
            // Duplicate a range somewhere else.
            5 if len > 0 => {
                let at = self.below(len);
                let n = 1 + self.below((len - at).min(512));
                let copy = data[at..at + n].to_vec();
                let to = self.below(len + 1);
                data.splice(to..to, copy);
            }
            // Splice a range of another seed file over or into this one.
            6 => {
                let donor = &seeds[self.below(seeds.len())];
                if donor.is_empty() {
                    return;
                }
                let from = self.below(donor.len());
                let n = 1 + self.below((donor.len() - from).min(1024));
                let piece = donor[from..from + n].to_vec();
                let at = self.below(len + 1);
                let end = if self.rng.random_bool(0.5) {
                    (at + n).min(len)
                } else {
                    at
                };
                data.splice(at..end, piece);
            }
            // Replace a number (a run of ASCII digits) by an interesting one.
            7..=9 => {
                if let Some((start, end)) = self.digit_run(data) {
                    let n = INTERESTING_NUMBERS[self.below(INTERESTING_NUMBERS.len())];
                    data.splice(start..end, n.bytes());
                } else if len > 0 {
                    let at = self.below(len);
                    data[at] = self.rng.random();
                }
            }
            _ => {}
        }
    }

    /// A random run of ASCII digits in `data`, as `start..end`.
    fn digit_run(&mut self, data: &[u8]) -> Option<(usize, usize)> {
        if data.is_empty() {
            return None;
        }
        // Look from a random place onwards, wrapping once.
        let from = self.below(data.len());
        let found = (from..data.len())
            .chain(0..from)
            .find(|&i| data[i].is_ascii_digit())?;
        let mut start = found;
        while start > 0 && data[start - 1].is_ascii_digit() {
            start -= 1;
        }
        let mut end = found;
        while end < data.len() && data[end].is_ascii_digit() {
            end += 1;
        }
        Some((start, end))
    }
}
