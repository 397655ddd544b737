//! Losses on the output layer, with their gradients with respect to the logits.

use ndarray::{ArrayView2, ArrayViewMut2};
use serde::{Deserialize, Serialize};

/// Training loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Loss {
    /// Cross-entropy of the softmax of the logits against the class.
    CrossEntropy,
    /// Mean squared error against the one-hot target, averaged over batch and classes as
    /// PyTorch's `MSELoss` does. `on_softmax: true` compares the softmax probabilities (our
    /// default, so both losses see outputs in [0, 1]); `false` compares the raw linear outputs.
    Mse {
        /// Compare softmax probabilities (true) or the linear outputs (false).
        on_softmax: bool,
    },
}

impl Loss {
    /// Short name used in preset names: `ce` or `mse`.
    pub fn short_name(self) -> &'static str {
        match self {
            Loss::CrossEntropy => "ce",
            Loss::Mse { .. } => "mse",
        }
    }
}

/// Softmax of one row of logits into `out` (numerically stable).
pub fn softmax_row(logits: &[f32], out: &mut [f32]) {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0f32;
    for (o, &z) in out.iter_mut().zip(logits) {
        *o = (z - max).exp();
        sum += *o;
    }
    for o in out.iter_mut() {
        *o /= sum;
    }
}

/// Per-sample loss values and correctness for logits `[batch, classes]` and `labels`.
///
/// Returns (sum of per-sample losses, number of correct argmax predictions).
pub fn loss_and_correct(loss: Loss, logits: ArrayView2<f32>, labels: &[u8]) -> (f64, usize) {
    let classes = logits.ncols();
    let mut probs = vec![0f32; classes];
    let mut z = vec![0f32; classes];
    let mut total = 0f64;
    let mut correct = 0usize;
    for (row, &y) in logits.rows().into_iter().zip(labels) {
        let y = usize::from(y).min(classes.saturating_sub(1));
        for (d, &v) in z.iter_mut().zip(row.iter()) {
            *d = v;
        }
        softmax_row(&z, &mut probs);
        correct += usize::from(argmax(&z) == y);
        total += match loss {
            Loss::CrossEntropy => -(f64::from(probs[y]).max(1e-30)).ln(),
            Loss::Mse { on_softmax } => {
                let out = if on_softmax { &probs } else { &z };
                out.iter()
                    .enumerate()
                    .map(|(k, &o)| {
                        let t = if k == y { 1.0 } else { 0.0 };
                        f64::from(o - t).powi(2)
                    })
                    .sum::<f64>()
                    / classes as f64
            }
        };
    }
    (total, correct)
}

/// Per-sample gradients: replaces `logits` (`[batch, classes]`) by `∂L_s/∂logits` of each
/// sample's own loss `L_s` (not divided by the batch size, unlike [`backprop_logits`]), writes
/// each sample's loss into `losses` and its output error `max_k |o_k - t_k|` into `errors`
/// (`o` the softmax for cross-entropy and MSE on softmax, the raw outputs for MSE on them;
/// `t` the one-hot target), both `[batch]`. Returns the number of correct predictions.
///
/// `L_s` is the cross-entropy of the softmax, `-ln s_y`, with gradient `s - t`; or the mean
/// over classes of the squared errors, `Σ_k (o_k - t_k)² / C`, with gradient
/// `g = 2 (o - t) / C` for raw outputs and `s_k (g_k - Σ_j g_j s_j)` through the softmax. The
/// loss values are those of [`loss_and_correct`], bit for bit.
///
/// The softmax's error at the true class, `s_y - 1`, is taken as `-Σ_{k≠y} s_k`: computed as
/// a difference it would lose everything below f32's resolution at 1 (6e-8), which is the
/// whole error of a settled sample (its φ came out wrong by 1 % and more before this).
pub fn sample_gradients(
    loss: Loss,
    mut logits: ArrayViewMut2<f32>,
    labels: &[u8],
    losses: &mut [f64],
    errors: &mut [f32],
) -> usize {
    let classes = logits.ncols();
    let inv_c = 1.0 / classes as f32;
    let mut s = vec![0f32; classes];
    let mut z = vec![0f32; classes];
    // The output errors o - t, and the MSE gradient 2 (o - t) / C.
    let mut diff = vec![0f32; classes];
    let mut g = vec![0f32; classes];
    let mut correct = 0usize;
    let rows = logits.rows_mut().into_iter().zip(labels);
    for ((mut row, &y), (loss_out, error_out)) in rows.zip(losses.iter_mut().zip(errors)) {
        let y = usize::from(y).min(classes.saturating_sub(1));
        for (d, &v) in z.iter_mut().zip(row.iter()) {
            *d = v;
        }
        correct += usize::from(argmax(&z) == y);
        softmax_row(&z, &mut s);
        let raw = loss == Loss::Mse { on_softmax: false };
        let out = if raw { &z } else { &s };
        for (k, (d, &o)) in diff.iter_mut().zip(out.iter()).enumerate() {
            *d = if k == y { o - 1.0 } else { o };
        }
        if !raw && let Some(dy) = diff.get_mut(y) {
            *dy = -s
                .iter()
                .enumerate()
                .filter(|&(k, _)| k != y)
                .map(|(_, &v)| v)
                .sum::<f32>();
        }
        *error_out = diff.iter().fold(0.0, |m, d| m.max(d.abs()));
        match loss {
            Loss::CrossEntropy => {
                *loss_out = -(f64::from(s[y]).max(1e-30)).ln();
                for (d, &e) in row.iter_mut().zip(&diff) {
                    *d = e;
                }
            }
            Loss::Mse { on_softmax } => {
                // The loss as `loss_and_correct` sums it; the gradient from the exact errors.
                let mut total = 0f64;
                for (k, &o) in out.iter().enumerate() {
                    let t = if k == y { 1.0 } else { 0.0 };
                    total += f64::from(o - t).powi(2);
                }
                *loss_out = total / classes as f64;
                for (gk, &e) in g.iter_mut().zip(&diff) {
                    *gk = 2.0 * e * inv_c;
                }
                if on_softmax {
                    let dot: f32 = g.iter().zip(&s).map(|(g, s)| g * s).sum();
                    for (k, d) in row.iter_mut().enumerate() {
                        *d = s[k] * (g[k] - dot);
                    }
                } else {
                    for (d, &gk) in row.iter_mut().zip(&g) {
                        *d = gk;
                    }
                }
            }
        }
    }
    correct
}

/// Index of the largest value (first on ties).
pub fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// Replaces `logits` (`[batch, classes]`) by dLoss/dlogits of the batch-mean loss and returns
/// the batch-mean loss and the number of correct predictions.
///
/// Cross-entropy: `(softmax - onehot) / batch`. MSE on softmax: with `g = 2 (s - t) / (batch C)`,
/// `dz_k = s_k (g_k - sum_j g_j s_j)` (the softmax Jacobian). MSE on linear outputs: `g` itself.
pub fn backprop_logits(loss: Loss, mut logits: ArrayViewMut2<f32>, labels: &[u8]) -> (f64, usize) {
    let (batch, classes) = logits.dim();
    let inv_b = 1.0 / batch as f32;
    let inv_bc = 1.0 / (batch * classes) as f32;
    let mut s = vec![0f32; classes];
    let mut z = vec![0f32; classes];
    let mut total = 0f64;
    let mut correct = 0usize;
    for (mut row, &y) in logits.rows_mut().into_iter().zip(labels) {
        let y = usize::from(y).min(classes.saturating_sub(1));
        for (d, &v) in z.iter_mut().zip(row.iter()) {
            *d = v;
        }
        correct += usize::from(argmax(&z) == y);
        softmax_row(&z, &mut s);
        match loss {
            Loss::CrossEntropy => {
                total -= f64::from(s[y].max(1e-30)).ln();
                for (k, d) in row.iter_mut().enumerate() {
                    *d = (s[k] - f32::from(u8::from(k == y))) * inv_b;
                }
            }
            Loss::Mse { on_softmax: true } => {
                let mut dot = 0f32;
                let mut g = [0f32; 64];
                let g = &mut g[..classes.min(64)];
                for k in 0..g.len() {
                    let diff = s[k] - f32::from(u8::from(k == y));
                    total += f64::from(diff * diff) / classes as f64;
                    g[k] = 2.0 * diff * inv_bc;
                    dot += g[k] * s[k];
                }
                for (k, d) in row.iter_mut().enumerate().take(g.len()) {
                    *d = s[k] * (g[k] - dot);
                }
            }
            Loss::Mse { on_softmax: false } => {
                for (k, d) in row.iter_mut().enumerate() {
                    let diff = z[k] - f32::from(u8::from(k == y));
                    total += f64::from(diff * diff) / classes as f64;
                    *d = 2.0 * diff * inv_bc;
                }
            }
        }
    }
    (total / batch as f64, correct)
}
