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
        let step = self.begin_step();
        for (l, (layer, (gw, gb))) in mlp.layers.iter_mut().zip(grads).enumerate() {
            self.update_weights(&step, l, &mut layer.w, gw, parallel);
            self.update_biases(&step, l, &mut layer.b, gb);
        }
    }

    /// Starts a step: counts it and returns its constants, for updating the layers one by one
    /// ([`Adam::update_weights`], [`Adam::update_biases`]) while their gradients are in
    /// cache. Each layer's update reads only its own gradient and state, so the order changes
    /// no result.
    pub fn begin_step(&mut self) -> AdamStep {
        self.t += 1;
        let c = self.config;
        let t = self.t as i32;
        let bias1 = 1.0 - c.beta1.powi(t);
        let bias2_sqrt = (1.0 - c.beta2.powi(t)).sqrt();
        AdamStep {
            b1: c.beta1,
            b2: c.beta2,
            step: c.lr / bias1,
            inv_b2: 1.0 / bias2_sqrt,
            eps: c.eps,
        }
    }

    /// Updates layer `l`'s weights `w` (`[inputs, outputs]`) from their gradient `gw` (same
    /// shape). Does nothing when `l` has no moments or the shapes disagree.
    pub fn update_weights(
        &mut self,
        step: &AdamStep,
        l: usize,
        w: &mut Array2<f32>,
        gw: &Array2<f32>,
        parallel: bool,
    ) {
        let Some(mom) = self.moments.get_mut(l) else {
            return;
        };
        if w.dim() != gw.dim() || mom.mw.dim() != w.dim() || mom.vw.dim() != w.dim() {
            return;
        }
        let large = w.len() >= PARALLEL_MIN;
        let slices = (
            w.as_slice_mut(),
            gw.as_slice(),
            mom.mw.as_slice_mut(),
            mom.vw.as_slice_mut(),
        );
        match slices {
            // Element-wise, so splitting among threads changes no result.
            (Some(p), Some(g), Some(m), Some(v)) if parallel && large => {
                use rayon::prelude::*;
                p.par_chunks_mut(PARALLEL_MIN)
                    .zip(g.par_chunks(PARALLEL_MIN))
                    .zip(m.par_chunks_mut(PARALLEL_MIN))
                    .zip(v.par_chunks_mut(PARALLEL_MIN))
                    .for_each(|(((p, g), m), v)| step.update_slices(p, g, m, v));
            }
            (Some(p), Some(g), Some(m), Some(v)) => step.update_slices(p, g, m, v),
            // Arrays built by `Mlp` and `Adam::new` are contiguous; any other layout takes
            // the element-wise route.
            _ => Zip::from(w)
                .and(gw)
                .and(&mut mom.mw)
                .and(&mut mom.vw)
                .for_each(|p, &g, m, v| step.update(p, g, m, v)),
        }
    }

    /// Updates layer `l`'s biases `b` (`[outputs]`) from their gradient `gb` (same shape).
    /// Does nothing when `l` has no moments or the shapes disagree.
    pub fn update_biases(
        &mut self,
        step: &AdamStep,
        l: usize,
        b: &mut Array1<f32>,
        gb: &Array1<f32>,
    ) {
        let Some(mom) = self.moments.get_mut(l) else {
            return;
        };
        if b.dim() != gb.dim() || mom.mb.dim() != b.dim() || mom.vb.dim() != b.dim() {
            return;
        }
        Zip::from(b)
            .and(gb)
            .and(&mut mom.mb)
            .and(&mut mom.vb)
            .for_each(|p, &g, m, v| step.update(p, g, m, v));
    }
}

/// The constants of one Adam step (from [`Adam::begin_step`]).
#[derive(Debug, Clone, Copy)]
pub struct AdamStep {
    b1: f32,
    b2: f32,
    /// `lr / (1 - b1^t)`.
    step: f32,
    /// `1 / sqrt(1 - b2^t)`.
    inv_b2: f32,
    eps: f32,
}

impl AdamStep {
    /// One parameter's update (Kingma & Ba 2015, Algorithm 1, PyTorch's arrangement):
    /// parameter `p`, its gradient `g`, its first and second moments `m` and `v`.
    #[inline(always)]
    fn update(&self, p: &mut f32, g: f32, m: &mut f32, v: &mut f32) {
        *m = self.b1 * *m + (1.0 - self.b1) * g;
        *v = self.b2 * *v + (1.0 - self.b2) * g * g;
        *p -= self.step * *m / (v.sqrt() * self.inv_b2 + self.eps);
    }

    /// [`Self::update`] over equally long slices, eight lanes wide where the CPU has AVX2.
    /// Square root and division are exact IEEE operations at any width and no multiply-add
    /// is fused, so every width gives the same bits.
    fn update_slices(&self, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2, the only feature `update_slices_avx2` is compiled for, was just
            // detected on this CPU.
            unsafe { self.update_slices_avx2(p, g, m, v) };
            return;
        }
        self.update_slices_plain(p, g, m, v);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn update_slices_avx2(&self, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
        self.update_slices_plain(p, g, m, v);
    }

    /// [`Self::update`] over equally long slices (the shortest sets the length), at whatever
    /// width the caller is compiled for.
    #[inline(always)]
    fn update_slices_plain(&self, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
        for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
            self.update(p, g, m, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wide_update_gives_the_same_bits_as_one_parameter_at_a_time() {
        let mut adam = Adam {
            config: AdamConfig::default(),
            t: 6,
            moments: Vec::new(),
        };
        let step = adam.begin_step();
        assert_eq!(adam.t, 7);
        // 1003 values: 125 full 8-lane steps and a tail; gradients over many magnitudes.
        let g: Vec<f32> = (0..1003)
            .map(|i| ((i * 7919) % 2003) as f32 * 1e-3 - 1.0)
            .map(|v| v * 10f32.powi((v * 7.0) as i32))
            .collect();
        let p0: Vec<f32> = (0..1003).map(|i| (i as f32 * 0.37).sin()).collect();
        let m0: Vec<f32> = g.iter().map(|v| v * 0.3).collect();
        let v0: Vec<f32> = g.iter().map(|v| v * v * 0.7).collect();
        let (mut p, mut m, mut v) = (p0.clone(), m0.clone(), v0.clone());
        step.update_slices(&mut p, &g, &mut m, &mut v);
        for i in 0..g.len() {
            let (mut pi, mut mi, mut vi) = (p0[i], m0[i], v0[i]);
            step.update(&mut pi, g[i], &mut mi, &mut vi);
            assert_eq!(p[i].to_bits(), pi.to_bits(), "parameter {i}");
            assert_eq!(m[i].to_bits(), mi.to_bits(), "first moment {i}");
            assert_eq!(v[i].to_bits(), vi.to_bits(), "second moment {i}");
        }
        let moved = p.iter().zip(&p0).filter(|(a, b)| a != b).count();
        assert!(moved > 900, "only {moved} of 1003 parameters moved");
    }

    #[test]
    fn parameters_with_zero_gradient_and_first_moment_decay_only_their_second_moment() {
        let mut adam = Adam {
            config: AdamConfig::default(),
            t: 40,
            moments: Vec::new(),
        };
        let step = adam.begin_step();
        // 100 parameters: the first 64 quiet (two whole runs of 32, one with a -0.0 weight),
        // then a run with one nonzero first moment, then a tail.
        let n = 100;
        let mut g = vec![0f32; n];
        let mut m0 = vec![0f32; n];
        m0[70] = 1e-6;
        g[90] = 0.25;
        let mut p0: Vec<f32> = (0..n).map(|i| (i as f32 * 0.61).cos()).collect();
        p0[3] = -0.0;
        let v0: Vec<f32> = (0..n).map(|i| 1e-7 * (i + 1) as f32).collect();
        let (mut p, mut m, mut v) = (p0.clone(), m0.clone(), v0.clone());
        step.update_slices(&mut p, &g, &mut m, &mut v);
        for i in 0..n {
            let (mut pi, mut mi, mut vi) = (p0[i], m0[i], v0[i]);
            step.update(&mut pi, g[i], &mut mi, &mut vi);
            assert_eq!(p[i].to_bits(), pi.to_bits(), "parameter {i}");
            assert_eq!(m[i].to_bits(), mi.to_bits(), "first moment {i}");
            assert_eq!(v[i].to_bits(), vi.to_bits(), "second moment {i}");
        }
        assert!(v[0] < v0[0], "the second moment did not decay");
        assert!(
            p[70] != p0[70] && p[90] != p0[90],
            "live parameters did not move"
        );
    }
}
