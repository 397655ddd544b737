//! Images as sparse rows: the nonzero pixels of each sample, for the first layer's products
//! (see [`crate::nn::sparse`]).

use ndarray::{ArrayView2, Axis};

/// Densest images worth the sparse path (fraction of nonzero pixels). MNIST has about 19 %;
/// denser sets (Fashion-MNIST has about 50 %) use the dense products.
pub const MAX_DENSITY: f64 = 0.35;

/// The rows of a `[samples, inputs]` matrix as (column, value) pairs of their nonzero entries.
#[derive(Debug, Clone, PartialEq)]
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
        let mut offsets = Vec::with_capacity(x.nrows() + 1);
        let mut entries = Vec::new();
        offsets.push(0);
        for row in x.axis_iter(Axis(0)) {
            for (c, &v) in row.iter().enumerate() {
                if v != 0.0 {
                    entries.push((c as u32, v));
                }
            }
            offsets.push(entries.len());
        }
        Self {
            offsets,
            entries,
            inputs: x.ncols(),
        }
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
