//! Bitsets as `u64` words, bit `i` of the set in word `i / 64`, position `i % 64`.

/// Words needed for `n` bits.
pub fn words_for(n: usize) -> usize {
    n.div_ceil(64)
}

/// Number of set bits in positions `start..end` of `words`. Always inlined, so that callers
/// compiled for POPCNT count with it.
#[inline(always)]
pub fn count_range(words: &[u64], start: usize, end: usize) -> u32 {
    if start >= end {
        return 0;
    }
    let (w0, w1) = (start / 64, (end - 1) / 64);
    let lo_mask = u64::MAX << (start % 64);
    let hi_mask = u64::MAX >> (63 - (end - 1) % 64);
    if w0 == w1 {
        return (words[w0] & lo_mask & hi_mask).count_ones();
    }
    let mut n = (words[w0] & lo_mask).count_ones() + (words[w1] & hi_mask).count_ones();
    for w in &words[w0 + 1..w1] {
        n += w.count_ones();
    }
    n
}

/// True when bit `i` is set.
pub fn get(words: &[u64], i: usize) -> bool {
    words[i / 64] >> (i % 64) & 1 == 1
}

/// Sets bit `i`.
pub fn set(words: &mut [u64], i: usize) {
    words[i / 64] |= 1 << (i % 64);
}

/// Jaccard similarity |A ∩ B| / |A ∪ B| of two equally long bitsets; 1 when both are empty
/// (two empty sets are the same set).
pub fn jaccard(a: &[u64], b: &[u64]) -> f32 {
    let (mut inter, mut union) = (0u64, 0u64);
    for (x, y) in a.iter().zip(b) {
        inter += u64::from((x & y).count_ones());
        union += u64::from((x | y).count_ones());
    }
    if union == 0 {
        1.0
    } else {
        (inter as f64 / union as f64) as f32
    }
}
