//! The network: hidden ReLU layers of equal width and a linear output layer.

use ndarray::{Array1, Array2, ArrayView2, Axis};

use super::matmul::{matmul_bias_into, matmul_into};
use super::sparse::{Batch, rows_times};
use rand_chacha::ChaCha8Rng;

use super::init::Init;

/// One fully connected layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Dense {
    /// Weights, `[inputs, outputs]`.
    pub w: Array2<f32>,
    /// Biases, `[outputs]`.
    pub b: Array1<f32>,
}

impl Dense {
    /// Number of inputs.
    pub fn inputs(&self) -> usize {
        self.w.nrows()
    }
    /// Number of outputs (nodes).
    pub fn outputs(&self) -> usize {
        self.w.ncols()
    }
    /// Writes the pre-activations `x · W + b` into `z` (`[batch, outputs]`), splitting the
    /// batch among `threads` threads of the current rayon pool.
    pub fn forward_into(
        &self,
        x: ArrayView2<f32>,
        z: &mut ndarray::ArrayViewMut2<f32>,
        threads: usize,
    ) {
        matmul_bias_into(x, self.w.view(), self.b.view(), z, threads);
    }

    /// [`Dense::forward_into`] as one product on this thread, for callers that split the
    /// samples among threads themselves (the measurement pass). With our own kernels it
    /// gives `forward_into`'s bits; on gemm (CPUs without AVX2 and FMA) it may differ in the
    /// last bits (gemm's summation order depends on the shape).
    pub fn forward_whole_into(&self, x: ArrayView2<f32>, z: &mut ndarray::ArrayViewMut2<f32>) {
        z.assign(&self.b.view().insert_axis(Axis(0)));
        matmul_into(x, self.w.view(), z, true, 1);
    }

    /// [`Dense::forward_whole_into`], through the sparse kernels when `sparse` holds the same
    /// input `x` as sparse rows (see [`super::sparse`]); gemm if those refuse it.
    pub fn forward_chunk_into(
        &self,
        x: ArrayView2<f32>,
        sparse: Option<Batch>,
        z: &mut ndarray::ArrayViewMut2<f32>,
    ) {
        if let Some(rows) = sparse {
            let bias = self.b.as_slice();
            if bias.is_none() {
                z.assign(&self.b.view().insert_axis(Axis(0)));
            }
            if rows_times(rows, self.w.view(), bias, z) {
                return;
            }
        }
        self.forward_whole_into(x, z);
    }
}

/// A ReLU multi-layer perceptron: `layers[..hidden]` are hidden ReLU layers, the last is the
/// linear output layer whose softmax gives class probabilities.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    /// Hidden layers then the output layer.
    pub layers: Vec<Dense>,
}

impl Mlp {
    /// A new network `inputs -> widths... -> outputs` initialised by `init` from `rng`.
    pub fn new(
        inputs: usize,
        widths: &[usize],
        outputs: usize,
        init: Init,
        rng: &mut ChaCha8Rng,
    ) -> Self {
        let mut sizes = vec![inputs];
        sizes.extend_from_slice(widths);
        sizes.push(outputs);
        let layers = sizes
            .windows(2)
            .map(|p| {
                let (w, b) = init.layer(p[0], p[1], rng);
                Dense { w, b }
            })
            .collect();
        Self { layers }
    }

    /// Number of hidden layers.
    pub fn hidden_layers(&self) -> usize {
        self.layers.len().saturating_sub(1)
    }

    /// Width of each hidden layer.
    pub fn hidden_widths(&self) -> Vec<usize> {
        self.layers[..self.hidden_layers()]
            .iter()
            .map(Dense::outputs)
            .collect()
    }

    /// Total number of parameters (weights and biases).
    pub fn parameter_count(&self) -> usize {
        self.layers.iter().map(|l| l.w.len() + l.b.len()).sum()
    }

    /// Number of outputs (classes).
    pub fn outputs(&self) -> usize {
        self.layers.last().map_or(0, Dense::outputs)
    }

    /// True when every parameter is finite.
    pub fn is_finite(&self) -> bool {
        self.layers
            .iter()
            .all(|l| l.w.iter().chain(l.b.iter()).all(|v| v.is_finite()))
    }
}
