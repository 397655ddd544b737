//! Matrices as sparse rows: the nonzero pixels of each image, for the first layer's products,
//! and the nonzero activations of a minibatch, for the layers above (see [`crate::nn::sparse`]).

use ndarray::{ArrayView2, Axis};

/// Densest images worth the sparse path (fraction of nonzero pixels). MNIST has about 19 %;
/// denser sets (Fashion-MNIST has about 50 %) use the dense products.
pub const MAX_DENSITY: f64 = 0.35;

/// The rows of a `[samples, inputs]` matrix as (column, value) pairs of their nonzero entries.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SparseRows {
    /// Row `r`'s entries are `offsets[r]..offsets[r + 1]`.
    offsets: Vec<usize>,
    /// (column, value) of every nonzero entry, row after row.
    entries: Vec<(u32, f32)>,
    /// Columns of the dense matrix.
    inputs: usize,
}

impl SparseRows {
    /// The nonzero entries of `x` (`[samples, inputs]`), row by row, columns increasing.
    pub fn from_dense(x: ArrayView2<f32>) -> Self {
        let mut rows = Self::default();
        rows.refill(x);
        rows
    }

    /// Replaces the contents with the nonzero entries of `x` (`[rows, inputs]`), reusing the
    /// buffers (no allocation once they are large enough), and returns the density: the
    /// fraction of entries that are nonzero. For a minibatch's activations after ReLU.
    pub fn refill(&mut self, x: ArrayView2<f32>) -> f64 {
        self.refill_with::<false>(x)
    }

    /// [`SparseRows::refill`] with the ReLU of `x` (`[rows, inputs]` pre-activations): keeps
    /// the entries above 0 (NaN is not), so a layer's sparse output is built straight from
    /// its pre-activations without writing the dense activations first.
    pub fn refill_relu(&mut self, x: ArrayView2<f32>) -> f64 {
        self.refill_with::<true>(x)
    }

    fn refill_with<const RELU: bool>(&mut self, x: ArrayView2<f32>) -> f64 {
        self.offsets.clear();
        self.entries.clear();
        self.offsets.push(0);
        let mut copy = Vec::new();
        for row in x.axis_iter(Axis(0)) {
            let row = match row.as_slice() {
                Some(row) => row,
                // Only a strided view (say, a transposed one) lands here.
                None => {
                    copy.clear();
                    copy.extend(row.iter().copied());
                    &copy
                }
            };
            push_nonzero::<RELU>(&mut self.entries, row);
            self.offsets.push(self.entries.len());
        }
        self.inputs = x.ncols();
        self.density()
    }

    /// Number of rows (samples).
    pub fn rows(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Fraction of entries that are nonzero (0 for an empty matrix).
    pub fn density(&self) -> f64 {
        let all = self.rows() * self.inputs;
        if all == 0 {
            0.0
        } else {
            self.entries.len() as f64 / all as f64
        }
    }

    /// Columns of the dense matrix.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// Row `r`'s (column, value) pairs, columns increasing; empty past the end.
    pub fn row(&self, r: usize) -> &[(u32, f32)] {
        match (self.offsets.get(r), self.offsets.get(r + 1)) {
            (Some(&a), Some(&b)) => self.entries.get(a..b).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// Appends (column, value) for every nonzero entry of `row` (with `RELU`, every entry above
/// 0), columns increasing: a mask of the entries kept, then one step per set bit. A branch per
/// entry would be mispredicted on activations that are on or off at random.
fn push_nonzero<const RELU: bool>(entries: &mut Vec<(u32, f32)>, row: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2, the only feature `push_nonzero_avx2` is compiled for, was just
        // detected on this CPU.
        unsafe { push_nonzero_avx2::<RELU>(entries, row) };
        return;
    }
    push_masked(entries, row, 0, mask_plain::<RELU>);
}

/// Bit `k` set where `chunk[k]` is kept (nonzero, or with `RELU` above 0).
#[inline(always)]
fn mask_plain<const RELU: bool>(chunk: &[f32]) -> u32 {
    chunk.iter().enumerate().fold(0u32, |m, (k, &v)| {
        let keep = if RELU { v > 0.0 } else { v != 0.0 };
        m | u32::from(keep) << k
    })
}

/// [`push_nonzero`] with each block's mask from two AVX2 compares.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn push_nonzero_avx2<const RELU: bool>(entries: &mut Vec<(u32, f32)>, row: &[f32]) {
    use std::arch::x86_64::{
        _CMP_GT_OQ, _CMP_NEQ_UQ, _mm256_cmp_ps, _mm256_loadu_ps, _mm256_movemask_ps,
        _mm256_setzero_ps,
    };
    let whole = row.len() / 16 * 16;
    push_masked(entries, &row[..whole], 0, |chunk| {
        let mut mask = 0u32;
        for (h, half) in chunk.chunks_exact(8).enumerate() {
            // SAFETY: `half` holds exactly 8 floats, the load reads those; unaligned loads
            // have no alignment requirement.
            let v = unsafe { _mm256_loadu_ps(half.as_ptr()) };
            let keep = if RELU {
                _mm256_cmp_ps::<_CMP_GT_OQ>(v, _mm256_setzero_ps())
            } else {
                _mm256_cmp_ps::<_CMP_NEQ_UQ>(v, _mm256_setzero_ps())
            };
            mask |= (_mm256_movemask_ps(keep) as u32) << (8 * h);
        }
        mask
    });
    push_masked(entries, &row[whole..], whole, mask_plain::<RELU>);
}

/// Appends the entries of `row` (its columns offset by `first`) that `mask_of` marks, in
/// blocks of 16: bit `k` of a block's mask says entry `k` is nonzero.
#[inline(always)]
fn push_masked(
    entries: &mut Vec<(u32, f32)>,
    row: &[f32],
    first: usize,
    mask_of: impl Fn(&[f32]) -> u32,
) {
    for (block, chunk) in row.chunks(16).enumerate() {
        let mut mask = mask_of(chunk);
        while mask != 0 {
            let k = mask.trailing_zeros() as usize;
            if let Some(&v) = chunk.get(k) {
                entries.push(((first + block * 16 + k) as u32, v));
            }
            mask &= mask - 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn refill_relu_keeps_what_relu_then_refill_keeps() {
        // 37 columns: two 16-wide blocks and a tail; negatives, -0, NaN and positives.
        let z = Array2::from_shape_fn((4, 37), |(i, k)| match (i * 37 + k) % 7 {
            0 => -1.5,
            1 => -0.0,
            2 => f32::NAN,
            3 => 0.0,
            n => n as f32 * 0.25 - 0.5,
        });
        let relu = z.mapv(|v| v.max(0.0));
        let (mut direct, mut dense) = (SparseRows::default(), SparseRows::default());
        let d = direct.refill_relu(z.view());
        assert_eq!(d, dense.refill(relu.view()));
        assert_eq!(direct, dense);
        assert!(d > 0.2 && d < 0.6, "density {d}");
        for r in 0..4 {
            assert!(direct.row(r).iter().all(|&(_, v)| v > 0.0));
        }
    }
}
