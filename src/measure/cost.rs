//! The node-supported cost (Haasbroek & Davel, SACAIR 2020, slide "Sample Sets"): for sample
//! `s` and node `j` of hidden layer `l`,
//!
//! `φ_{l,j}^s = Σ_{p ∈ P_j^s} λ_p^s Π_k w_{p_k} = ∂L_s/∂a_{l,j}`,
//!
//! the output errors `λ` of sample `s` carried back to the node along the paths that `s`
//! switches on; that is the derivative of the sample's own loss `L_s` with respect to the
//! node's activation `a = ReLU(pre-activation)`. A sample enters a node's set when its input
//! agrees with the weights more than `η Σ_{s ∈ S} (z^t · z^s) φ^s`: the samples in the set push
//! the node's weights through their φ. The measurement pass computes φ for every training
//! sample and node in a backward pass without update and keeps, per node, sums over its sample
//! set: Σ|φ|, Σφ per class, and how many of its samples are settled.

use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use crate::data::SparseRows;

use crate::nn::Mlp;
use crate::nn::matmul::matmul_into;
use crate::nn::sparse::{Batch, masked_dots};

/// Output error (`max_k |o_k - t_k|`, see [`crate::nn::loss::sample_gradients`]) below which
/// a sample counts as **settled**: it no longer contributes to the weight updates.
///
/// Why 0.01: a settled sample's gradient at the outputs is at most 0.01 per class, a hundredth
/// of what a misclassified sample gives (up to 1 for cross-entropy), and every φ it sends back
/// is that small error times the same path weights. For cross-entropy it means the softmax
/// gives the true class at least 0.99 (a loss below 0.01); for MSE on the softmax the
/// softmax's Jacobian shrinks the gradient further, by `s(1 - s) < 0.01`. It is also well
/// above float rounding, so a sample is not settled by accident of precision.
pub const SETTLED_BELOW: f32 = 0.01;

/// Per-node sums over the sample sets of one hidden layer, over some of the training samples.
#[derive(Debug, Clone, PartialEq)]
pub struct CostSums {
    /// Σ|φ| over each node's sample set, `[nodes]`.
    pub abs_sum: Vec<f64>,
    /// Σφ over the set's samples of each class, `[classes, nodes]` (class-major while
    /// summing; the pass hands them out node-major).
    pub class_sum: Vec<f64>,
    /// Settled samples in each node's set, `[nodes]`.
    pub settled: Vec<u32>,
}

impl CostSums {
    /// Zero sums for a layer of `width` nodes and `classes` classes.
    pub fn zeros(width: usize, classes: usize) -> Self {
        Self {
            abs_sum: vec![0.0; width],
            class_sum: vec![0.0; width * classes],
            settled: vec![0; width],
        }
    }

    /// Adds `other` (same shape) to these sums.
    pub fn add(&mut self, other: &CostSums) {
        for (a, b) in self.abs_sum.iter_mut().zip(&other.abs_sum) {
            *a += b;
        }
        for (a, b) in self.class_sum.iter_mut().zip(&other.class_sum) {
            *a += b;
        }
        for (a, b) in self.settled.iter_mut().zip(&other.settled) {
            *a += b;
        }
    }
}

/// One hidden layer's activations for a chunk of samples, as the backward pass reads them.
pub struct LayerActs<'a> {
    /// Activations after ReLU, `[rows, width]`.
    pub dense: ArrayView2<'a, f32>,
    /// The same as sparse rows (row `r` of the chunk is row `r` here), when the forward pass
    /// built them.
    pub sparse: Option<&'a SparseRows>,
}

/// Scratch of [`backward_chunk`], kept between chunks so a pass allocates once.
#[derive(Debug, Default)]
pub struct BackwardScratch {
    /// `∂L/∂z` of the layer above and φ of this layer, in turn.
    grad: [Vec<f32>; 2],
    /// Chunk rows whose gradient at the logits is not all zero.
    pushing: Vec<u32>,
    /// Those rows' labels.
    labels: Vec<u8>,
    /// Those rows' dense activations, per hidden layer (only layers without sparse rows).
    dense: Vec<Array2<f32>>,
}

/// The backward pass of one chunk of samples, adding to `sums` (one per hidden layer).
///
/// `grad` holds `∂L_s/∂logits` per sample (`[rows, outputs]`, see
/// [`crate::nn::loss::sample_gradients`]); `acts` each hidden layer's activations;
/// `labels` (`[rows]`) each sample's class. (The settled counts in `sums` are the caller's:
/// it has the sample sets as bits.)
///
/// For hidden layer `l` (from the top), `φ_l = (∂L/∂z_{l+1}) · W_{l+1}ᵀ`, and
/// `∂L/∂z_l = φ_l ⊙ [a_l > 0]`: φ is only needed on the sample set (where `a_l > 0`), which is
/// where [`masked_dots`] computes it from sparse activations; otherwise a dense product and the
/// ReLU gate give the same. Summation order is fixed (samples in order), so the sums do not
/// depend on how the caller splits the training set, as long as it splits at chunk borders.
///
/// Samples whose gradient at the logits is exactly zero (a saturated softmax) send φ = 0 to
/// every node, so the products run over the other rows only: the sums are the same bit for
/// bit (they would add +0.0), and in the late epochs of the wide presets that skips most of
/// the pass (at epoch 200 of mnist-9x320-ce, 51,690 of 60,000 samples; of 9x320-mse, all but
/// one).
pub fn backward_chunk(
    mlp: &Mlp,
    grad: ArrayView2<f32>,
    acts: &[LayerActs],
    labels: &[u8],
    scratch: &mut BackwardScratch,
    sums: &mut [CostSums],
) {
    let rows = grad.nrows();
    let hidden = acts.len().min(sums.len());
    let BackwardScratch {
        grad: buffers,
        pushing,
        labels: pushing_labels,
        dense,
    } = scratch;
    pushing.clear();
    pushing_labels.clear();
    for (r, row) in grad.rows().into_iter().enumerate() {
        if row.iter().any(|&g| g != 0.0) {
            pushing.push(r as u32);
            pushing_labels.push(labels.get(r).copied().unwrap_or(0));
        }
    }
    let all = pushing.len() == rows;
    let k = pushing.len();
    if k == 0 {
        return;
    }
    // The pushing rows' activations: the chunk's own when every row pushes; else sparse rows
    // picked by index, and dense rows copied where a layer has no sparse rows.
    if dense.len() < hidden {
        dense.resize_with(hidden, || Array2::zeros((0, 0)));
    }
    for (act, d) in acts.iter().zip(dense.iter_mut()) {
        if !all && act.sparse.is_none() {
            copy_rows(act.dense, pushing, d);
        }
    }
    let labels: &[u8] = if all { labels } else { pushing_labels };
    let [mut below, mut above] = std::mem::take(buffers);
    // `above` holds ∂L/∂z of the layer above, `[k, n]`; starts as the logits' gradient.
    let outputs = grad.ncols();
    if above.len() < k * outputs {
        above.resize(k * outputs, 0.0);
    }
    for (to, &r) in above.chunks_exact_mut(outputs).zip(pushing.iter()) {
        for (d, &g) in to.iter_mut().zip(grad.row(r as usize)) {
            *d = g;
        }
    }
    let mut n_above = outputs;
    for l in (0..hidden).rev() {
        let Some(next) = mlp.layers.get(l + 1) else {
            break;
        };
        let act = &acts[l];
        let on_rows = match act.sparse {
            Some(x) if all => Some(Batch::range(x, 0..rows)),
            Some(x) => Some(Batch::picked(x, pushing)),
            None => None,
        };
        let width = act.dense.ncols();
        if below.len() < k * width {
            below.resize(k * width, 0.0);
        }
        let (Ok(dz), Ok(mut phi)) = (
            ArrayView2::from_shape((k, n_above), &above[..k * n_above]),
            ArrayViewMut2::from_shape((k, width), &mut below[..k * width]),
        ) else {
            break;
        };
        let sparse_done = on_rows.is_some_and(|x| masked_dots(x, dz, next.w.view(), &mut phi));
        if !sparse_done {
            if !all && act.sparse.is_some() {
                // The sparse kernels refused: the dense gate needs the pushing rows' copy.
                if let Some(d) = dense.get_mut(l) {
                    copy_rows(act.dense, pushing, d);
                }
            }
            matmul_into(dz, next.w.t(), &mut phi, false, 1);
        }
        let on_dense = match dense.get(l) {
            Some(d) if !all && !sparse_done => d.view(),
            _ => act.dense,
        };
        // Sum φ over the sample sets; on the dense path the ReLU gate (φ to 0 where the node
        // is off, for the layer below) goes in the same pass over the rows.
        let s = &mut sums[l];
        for (r, mut row) in phi.rows_mut().into_iter().enumerate() {
            let Some(row) = row.as_slice_mut() else {
                continue;
            };
            let class = usize::from(labels.get(r).copied().unwrap_or(0));
            let Some(class_row) = s.class_sum.get_mut(class * width..(class + 1) * width) else {
                continue;
            };
            match on_rows.filter(|_| sparse_done) {
                // Only the on-entries hold φ; the rest are already 0.
                Some(x) => {
                    for &(j, _) in x.row(r) {
                        let j = j as usize;
                        if let (Some(&v), Some(a)) = (row.get(j), s.abs_sum.get_mut(j)) {
                            *a += f64::from(v.abs());
                            class_row[j] += f64::from(v);
                        }
                    }
                }
                None => {
                    let on = on_dense.row(r);
                    let Some(on) = on.to_slice() else { continue };
                    let sums = s.abs_sum.iter_mut().zip(class_row.iter_mut());
                    for ((p, &a), (abs, c)) in row.iter_mut().zip(on).zip(sums) {
                        let v = if a > 0.0 { *p } else { 0.0 };
                        *p = v;
                        *abs += f64::from(v.abs());
                        *c += f64::from(v);
                    }
                }
            }
        }
        std::mem::swap(&mut above, &mut below);
        n_above = width;
    }
    *buffers = [below, above];
}

/// Copies rows `pick` of `from` (`[rows, width]`) into `to`, which becomes `[pick.len(), width]`.
fn copy_rows(from: ArrayView2<f32>, pick: &[u32], to: &mut Array2<f32>) {
    let shape = (pick.len(), from.ncols());
    if to.dim() != shape {
        *to = Array2::zeros(shape);
    }
    for (mut row, &r) in to.rows_mut().into_iter().zip(pick) {
        row.assign(&from.row(r as usize));
    }
}
