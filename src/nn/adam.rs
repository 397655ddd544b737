//! Adam (Kingma & Ba 2015, "Adam: a method for stochastic optimization", Algorithm 1), in
//! PyTorch's arrangement: `p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)`.

use ndarray::{Array1, Array2, Zip};
use serde::{Deserialize, Serialize};

use super::mlp::Mlp;

/// Adam's hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdamConfig {
    /// Learning rate (default 1e-3).
    pub lr: f32,
    /// Decay of the first moment (default 0.9).
    pub beta1: f32,
    /// Decay of the second moment (default 0.999).
    pub beta2: f32,
    /// Added to the denominator (default 1e-8).
    pub eps: f32,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

/// Moment estimates for one layer: first and second moments of weights and biases.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerMoments {
    /// First moment of the weights, `[inputs, outputs]`.
    pub mw: Array2<f32>,
    /// Second moment of the weights, `[inputs, outputs]`.
    pub vw: Array2<f32>,
    /// First moment of the biases, `[outputs]`.
    pub mb: Array1<f32>,
    /// Second moment of the biases, `[outputs]`.
    pub vb: Array1<f32>,
}

/// Adam's state: its configuration, the step count and the moments of every layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Adam {
    /// Hyper-parameters.
    pub config: AdamConfig,
    /// Steps taken so far (minibatches).
    pub t: u64,
    /// Moments per layer, in the order of `Mlp::layers`.
    pub moments: Vec<LayerMoments>,
}

/// Fewest weights worth splitting among threads.
const PARALLEL_MIN: usize = 16 * 1024;

impl Adam {
    /// Zeroed state for `mlp`.
    pub fn new(config: AdamConfig, mlp: &Mlp) -> Self {
        let moments = mlp
            .layers
            .iter()
            .map(|l| LayerMoments {
                mw: Array2::zeros(l.w.dim()),
                vw: Array2::zeros(l.w.dim()),
                mb: Array1::zeros(l.b.dim()),
                vb: Array1::zeros(l.b.dim()),
            })
            .collect();
        Self {
            config,
            t: 0,
            moments,
        }
    }

    /// One update of every layer of `mlp` from gradients `grads` (`(dW, db)` per layer, same
    /// shapes as the layer). `parallel` spreads large weight matrices over the current rayon
    /// pool (call it inside [`crate::train::threads::pool`] so those threads flush subnormals).
    pub fn step(&mut self, mlp: &mut Mlp, grads: &[(Array2<f32>, Array1<f32>)], parallel: bool) {
        self.t += 1;
        let c = self.config;
        let t = self.t as i32;
        let bias1 = 1.0 - c.beta1.powi(t);
        let bias2_sqrt = (1.0 - c.beta2.powi(t)).sqrt();
        let step = c.lr / bias1;
        let inv_b2 = 1.0 / bias2_sqrt;
        let (b1, b2) = (c.beta1, c.beta2);
        let update = |p: &mut f32, &g: &f32, m: &mut f32, v: &mut f32| {
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            *p -= step * *m / (v.sqrt() * inv_b2 + c.eps);
        };
        for ((layer, (gw, gb)), mom) in mlp.layers.iter_mut().zip(grads).zip(&mut self.moments) {
            let large = layer.w.len() >= PARALLEL_MIN;
            let weights = Zip::from(&mut layer.w)
                .and(gw)
                .and(&mut mom.mw)
                .and(&mut mom.vw);
            // Element-wise, so splitting among threads changes no result.
            if parallel && large {
                weights.par_for_each(update);
            } else {
                weights.for_each(update);
            }
            Zip::from(&mut layer.b)
                .and(gb)
                .and(&mut mom.mb)
                .and(&mut mom.vb)
                .for_each(update);
        }
    }
}
