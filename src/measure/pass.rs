//! The measurement pass: all training samples forward (no update), every hidden node's
//! sample set as a bitset, its per-class on-counts, its churn against the previous pass and
//! the membership of the probe samples.
//!
//! Samples are visited in class order (a stable sort of the training set by label), so a
//! node's on-count for class `c` is the popcount of one contiguous bit range. That order is
//! internal: everything stored refers to sample indices or probe positions.

use std::time::Instant;

use ndarray::{Array2, linalg::general_mat_mul, s};

use super::bits::{count_range, jaccard, words_for};
use crate::data::Split;
use crate::nn::Mlp;
use crate::nn::loss::{Loss, loss_and_correct};

/// Samples per forward chunk; a multiple of 64 so each chunk fills whole bitset words.
const CHUNK: usize = 1024;

/// One hidden layer's measurement at one epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerMeasurement {
    /// On-counts, `[nodes, classes]` row-major: samples of class `c` that switch node `j` on.
    pub counts: Vec<u32>,
    /// Jaccard similarity of each node's sample set with the previous pass's, `[nodes]`;
    /// empty on the first pass.
    pub churn: Vec<f32>,
    /// Probe membership, `[nodes, probe_words]` row-major bitsets; bit `k` of node `j` is
    /// set when probe sample `k` switches node `j` on.
    pub probe_bits: Vec<u64>,
}

/// One measurement pass over the training set.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// Per hidden layer.
    pub layers: Vec<LayerMeasurement>,
    /// Mean loss over the training set with the current weights.
    pub train_loss: f64,
    /// Accuracy over the training set with the current weights.
    pub train_accuracy: f64,
    /// Wall time, seconds.
    pub seconds: f64,
}

/// State kept between passes: the class order, the probe positions and the previous sample
/// sets (for churn).
#[derive(Debug, Clone)]
pub struct Measurer {
    order: Vec<u32>,
    class_ranges: Vec<(usize, usize)>,
    probe_positions: Vec<usize>,
    words: usize,
    current: Vec<Vec<u64>>,
    previous: Option<Vec<Vec<u64>>>,
    labels_in_order: Vec<u8>,
}

impl Measurer {
    /// Prepares passes over `train` with `classes` classes, keeping membership of the samples
    /// `probe` (indices into `train`).
    pub fn new(train: &Split, classes: usize, probe: &[u32]) -> Self {
        let mut order: Vec<u32> = (0..train.len() as u32).collect();
        order.sort_by_key(|&i| train.labels[i as usize]);
        let mut class_ranges = vec![(0, 0); classes];
        let mut start = 0;
        for (c, range) in class_ranges.iter_mut().enumerate() {
            let len = train
                .labels
                .iter()
                .filter(|&&l| usize::from(l) == c)
                .count();
            *range = (start, start + len);
            start += len;
        }
        let mut position = vec![0usize; train.len()];
        for (pos, &i) in order.iter().enumerate() {
            position[i as usize] = pos;
        }
        let probe_positions = probe
            .iter()
            .filter_map(|&i| position.get(i as usize).copied())
            .collect();
        let labels_in_order = order.iter().map(|&i| train.labels[i as usize]).collect();
        Self {
            order,
            class_ranges,
            probe_positions,
            words: words_for(train.len()),
            current: Vec::new(),
            previous: None,
            labels_in_order,
        }
    }

    /// Forgets the previous pass, so the next pass reports no churn.
    pub fn reset(&mut self) {
        self.previous = None;
    }

    /// Runs the pass for `mlp` over `train` (the split given to [`Measurer::new`]).
    pub fn measure(&mut self, mlp: &Mlp, train: &Split, loss: Loss) -> Measurement {
        let start = Instant::now();
        let hidden = mlp.hidden_layers();
        let widths = mlp.hidden_widths();
        let classes = self.class_ranges.len();
        // Reuse the bitsets of two passes ago as this pass's buffers.
        let mut current = std::mem::take(&mut self.current);
        current.resize_with(hidden, Vec::new);
        for (bits, &w) in current.iter_mut().zip(&widths) {
            bits.clear();
            bits.resize(w * self.words, 0);
        }
        let inputs = mlp.layers.first().map_or(0, |l| l.inputs());
        let mut x = Array2::<f32>::zeros((CHUNK, inputs));
        let mut z: Vec<Array2<f32>> = mlp
            .layers
            .iter()
            .map(|l| Array2::zeros((CHUNK, l.outputs())))
            .collect();
        let max_w = widths.iter().copied().max().unwrap_or(0);
        let mut word_buf = vec![0u64; max_w];
        let (mut loss_sum, mut correct) = (0f64, 0usize);
        let n = self.order.len();
        for chunk_start in (0..n).step_by(CHUNK) {
            let rows = CHUNK.min(n - chunk_start);
            for r in 0..rows {
                let i = self.order[chunk_start + r] as usize;
                x.row_mut(r).assign(&train.images.row(i));
            }
            for (l, layer) in mlp.layers.iter().enumerate() {
                let (before, after) = z.split_at_mut(l);
                let input = if l == 0 {
                    x.slice(s![..rows, ..])
                } else {
                    before[l - 1].slice(s![..rows, ..])
                };
                let mut out = after[0].slice_mut(s![..rows, ..]);
                out.assign(&layer.b.view().insert_axis(ndarray::Axis(0)));
                general_mat_mul(1.0, &input, &layer.w, 1.0, &mut out);
                if l < hidden {
                    let w = layer.outputs();
                    let bits = &mut current[l];
                    // Pack 64 samples at a time: bit r of node j's word is "sample r on".
                    for block in 0..rows.div_ceil(64) {
                        let words = &mut word_buf[..w];
                        words.fill(0);
                        for r in block * 64..((block + 1) * 64).min(rows) {
                            let row = out.row(r);
                            let shift = r % 64;
                            for (word, &v) in words.iter_mut().zip(row.iter()) {
                                *word |= u64::from(v > 0.0) << shift;
                            }
                        }
                        let word_index = chunk_start / 64 + block;
                        for (j, &word) in words.iter().enumerate() {
                            bits[j * self.words + word_index] = word;
                        }
                    }
                    out.mapv_inplace(|v| v.max(0.0));
                }
            }
            let (l, c) = loss_and_correct(
                loss,
                z[hidden].slice(s![..rows, ..]),
                &self.labels_in_order[chunk_start..chunk_start + rows],
            );
            loss_sum += l;
            correct += c;
        }
        let probe_words = words_for(self.probe_positions.len());
        let layers = current
            .iter()
            .enumerate()
            .map(|(l, bits)| {
                let w = widths[l];
                let mut counts = vec![0u32; w * classes];
                let mut probe_bits = vec![0u64; w * probe_words];
                let mut churn = Vec::new();
                for j in 0..w {
                    let node = &bits[j * self.words..(j + 1) * self.words];
                    for (c, &(a, b)) in self.class_ranges.iter().enumerate() {
                        counts[j * classes + c] = count_range(node, a, b);
                    }
                    let probe = &mut probe_bits[j * probe_words..(j + 1) * probe_words];
                    for (k, &pos) in self.probe_positions.iter().enumerate() {
                        if node[pos / 64] >> (pos % 64) & 1 == 1 {
                            probe[k / 64] |= 1 << (k % 64);
                        }
                    }
                    if let Some(prev) = &self.previous {
                        let before = &prev[l][j * self.words..(j + 1) * self.words];
                        churn.push(jaccard(node, before));
                    }
                }
                LayerMeasurement {
                    counts,
                    churn,
                    probe_bits,
                }
            })
            .collect();
        // This pass becomes the previous one; the old previous buffers are reused next time.
        self.current = self.previous.take().unwrap_or_default();
        self.previous = Some(current);
        Measurement {
            layers,
            train_loss: loss_sum / n.max(1) as f64,
            train_accuracy: correct as f64 / n.max(1) as f64,
            seconds: start.elapsed().as_secs_f64(),
        }
    }
}

/// Mean loss and accuracy of `mlp` over `split`, in chunks (no update).
pub fn evaluate(mlp: &Mlp, split: &Split, loss: Loss) -> (f64, f64) {
    let (mut loss_sum, mut correct) = (0f64, 0usize);
    let n = split.len();
    for start in (0..n).step_by(CHUNK * 2) {
        let end = (start + CHUNK * 2).min(n);
        let logits = mlp.logits(split.images.slice(s![start..end, ..]));
        let (l, c) = loss_and_correct(loss, logits.view(), &split.labels[start..end]);
        loss_sum += l;
        correct += c;
    }
    (loss_sum / n.max(1) as f64, correct as f64 / n.max(1) as f64)
}
