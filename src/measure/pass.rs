//! The measurement pass: all training samples forward (no update), every hidden node's
//! sample set as a bitset over sample indices, its per-class on-counts, its churn against the
//! previous pass and the membership of the probe samples.
//!
//! The samples are split into contiguous ranges handled by scoped worker threads (each range
//! starts on a 64-sample boundary so workers own whole bitset words). Counts are integers and
//! the loss is summed per range in range order, so the result does not depend on the number
//! of workers.

use std::time::Instant;

use ndarray::{Array2, ArrayView2, s};

use super::bits::{jaccard, words_for};
use crate::data::{SparseRows, Split};
use crate::nn::Mlp;
use crate::nn::loss::{Loss, loss_and_correct};
use crate::nn::sparse::{Batch, MAX_ACTIVATION_DENSITY, refill_if_sparse, worth_it};

/// Samples per forward chunk; a multiple of 64 so each chunk fills whole bitset words.
const CHUNK: usize = 256;

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

/// State kept between passes: the probe, the worker count and the previous sample sets.
#[derive(Debug, Clone)]
pub struct Measurer {
    classes: usize,
    probe: Vec<usize>,
    workers: usize,
    previous: Option<Vec<Vec<u64>>>,
}

/// What one worker produces for its range of samples.
struct RangeResult {
    /// Per layer, node-major bitsets over the range's words: `[nodes, range_words]`.
    bits: Vec<Vec<u64>>,
    /// Per layer, on-counts `[classes, nodes]`.
    counts: Vec<Vec<u32>>,
    /// Loss sum of each chunk, in order (summed later in one fixed order).
    chunk_losses: Vec<f64>,
    correct: usize,
}

impl Measurer {
    /// Prepares passes over `train` with `classes` classes, keeping membership of the samples
    /// `probe` (indices into `train`; out-of-range indices are ignored).
    ///
    /// Workers: one per core (each handles a contiguous range of samples).
    pub fn new(train: &Split, classes: usize, probe: &[u32]) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let workers = cores.max(1);
        Self {
            classes,
            probe: probe
                .iter()
                .map(|&i| i as usize)
                .filter(|&i| i < train.len())
                .collect(),
            workers,
            previous: None,
        }
    }

    /// Forgets the previous pass, so the next pass reports no churn.
    pub fn reset(&mut self) {
        self.previous = None;
    }

    /// Runs the pass for `mlp` over `train` (the split given to [`Measurer::new`]).
    pub fn measure(&mut self, mlp: &Mlp, train: &Split, loss: Loss) -> Measurement {
        let start = Instant::now();
        let n = train.len();
        let words = words_for(n);
        let widths = mlp.hidden_widths();
        let classes = self.classes;
        // Contiguous ranges of whole chunks, one per worker.
        let chunks = n.div_ceil(CHUNK);
        let per_worker = chunks.div_ceil(self.workers.max(1)).max(1);
        let ranges: Vec<(usize, usize)> = (0..chunks)
            .step_by(per_worker)
            .map(|c| (c * CHUNK, ((c + per_worker) * CHUNK).min(n)))
            .collect();
        let results: Vec<RangeResult> = std::thread::scope(|scope| {
            let handles: Vec<_> = ranges
                .iter()
                .map(|&(a, b)| {
                    scope.spawn(move || {
                        crate::nn::ftz::flush_subnormals_on_this_thread();
                        measure_range(mlp, train, loss, classes, (a, b))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| match h.join() {
                    Ok(r) => r,
                    Err(panic) => std::panic::resume_unwind(panic),
                })
                .collect()
        });
        // Assemble node-major bitsets over all samples, and total counts.
        let mut current: Vec<Vec<u64>> = widths.iter().map(|&w| vec![0u64; w * words]).collect();
        let mut totals: Vec<Vec<u32>> = widths.iter().map(|&w| vec![0u32; w * classes]).collect();
        let (mut loss_sum, mut correct) = (0f64, 0usize);
        for (&(a, b), r) in ranges.iter().zip(&results) {
            let (w0, wn) = (a / 64, words_for(b - a));
            for (l, &w) in widths.iter().enumerate() {
                for j in 0..w {
                    current[l][j * words + w0..j * words + w0 + wn]
                        .copy_from_slice(&r.bits[l][j * wn..(j + 1) * wn]);
                    for c in 0..classes {
                        totals[l][j * classes + c] += r.counts[l][c * w + j];
                    }
                }
            }
            for l in &r.chunk_losses {
                loss_sum += l;
            }
            correct += r.correct;
        }
        let probe_words = words_for(self.probe.len());
        let layers = current
            .iter()
            .enumerate()
            .map(|(l, bits)| {
                let w = widths[l];
                let mut probe_bits = vec![0u64; w * probe_words];
                let mut churn = Vec::new();
                for j in 0..w {
                    let node = &bits[j * words..(j + 1) * words];
                    let probe = &mut probe_bits[j * probe_words..(j + 1) * probe_words];
                    for (k, &i) in self.probe.iter().enumerate() {
                        if node[i / 64] >> (i % 64) & 1 == 1 {
                            probe[k / 64] |= 1 << (k % 64);
                        }
                    }
                    if let Some(prev) = &self.previous {
                        churn.push(jaccard(node, &prev[l][j * words..(j + 1) * words]));
                    }
                }
                LayerMeasurement {
                    counts: std::mem::take(&mut totals[l]),
                    churn,
                    probe_bits,
                }
            })
            .collect();
        self.previous = Some(current);
        Measurement {
            layers,
            train_loss: loss_sum / n.max(1) as f64,
            train_accuracy: correct as f64 / n.max(1) as f64,
            seconds: start.elapsed().as_secs_f64(),
        }
    }
}

/// Forward pass over samples `a..b` (`a` a multiple of 64): bitsets, counts, loss.
fn measure_range(
    mlp: &Mlp,
    train: &Split,
    loss: Loss,
    classes: usize,
    (a, b): (usize, usize),
) -> RangeResult {
    let hidden = mlp.hidden_layers();
    let widths = mlp.hidden_widths();
    let range_words = words_for(b - a);
    let mut bits: Vec<Vec<u64>> = widths
        .iter()
        .map(|&w| vec![0u64; w * range_words])
        .collect();
    let mut counts: Vec<Vec<u32>> = widths.iter().map(|&w| vec![0u32; classes * w]).collect();
    // Two buffers in turn (layer `l` writes `z[l % 2]` and reads `z[(l - 1) % 2]`) instead of
    // one per layer: they stay in cache from chunk to chunk.
    let widest = mlp.layers.iter().map(|l| l.outputs()).max().unwrap_or(0);
    let mut z = [
        Array2::zeros((CHUNK, widest)),
        Array2::zeros((CHUNK, widest)),
    ];
    let max_w = widths.iter().copied().max().unwrap_or(0);
    let mut word_buf = vec![0u64; max_w];
    let (mut chunk_losses, mut correct) = (Vec::new(), 0usize);
    let width = mlp.layers.first().map_or(0, |l| l.outputs());
    let images = train.sparse().filter(|_| worth_it(width));
    // The previous layer's output as sparse rows, and whether the current layer reads it so.
    let (mut acts, mut acts_sparse) = (SparseRows::default(), false);
    for chunk_start in (a..b).step_by(CHUNK) {
        let rows = CHUNK.min(b - chunk_start);
        let x: ArrayView2<f32> = train.images.slice(s![chunk_start..chunk_start + rows, ..]);
        let labels = &train.labels[chunk_start..chunk_start + rows];
        for (l, layer) in mlp.layers.iter().enumerate() {
            let [even, odd] = &mut z;
            let (here, before) = if l % 2 == 0 { (even, odd) } else { (odd, even) };
            let mut out = here.slice_mut(s![..rows, ..layer.outputs()]);
            let sparse_rows = match (l, images) {
                (0, Some(sx)) => Some(Batch::range(sx, chunk_start..chunk_start + rows)),
                (0, None) => None,
                _ => acts_sparse.then(|| Batch::range(&acts, 0..rows)),
            };
            let input = if l == 0 {
                x
            } else {
                before.slice(s![..rows, ..layer.inputs()])
            };
            // Workers already split the samples: one whole product each.
            layer.forward_chunk_into(input, sparse_rows, &mut out);
            if l < hidden {
                let w = layer.outputs();
                let layer_bits = &mut bits[l];
                let layer_counts = &mut counts[l];
                let mut unfused = false;
                // Samples x nodes switched on in this chunk: decides the next layer's path.
                let mut on = 0usize;
                // Pack 64 samples at a time: bit r of node j's word is "sample r on"; count
                // the on-samples per class on the way.
                for block in 0..rows.div_ceil(64) {
                    let words = &mut word_buf[..w];
                    words.fill(0);
                    let (r0, r1) = (block * 64, ((block + 1) * 64).min(rows));
                    for (r, &label) in labels.iter().enumerate().take(r1).skip(r0) {
                        let mut row = out.row_mut(r);
                        let Some(row) = row.as_slice_mut() else {
                            unfused = true;
                            continue;
                        };
                        let c = usize::from(label).min(classes - 1);
                        let cnt = &mut layer_counts[c * w..(c + 1) * w];
                        pack_row(row, words, cnt, (r % 64) as u32);
                    }
                    on += words.iter().map(|w| w.count_ones() as usize).sum::<usize>();
                    let word_index = (chunk_start - a) / 64 + block;
                    for (j, &word) in words.iter().enumerate() {
                        layer_bits[j * range_words + word_index] = word;
                    }
                }
                if unfused {
                    // Rows of a chunk are contiguous, so this is only a safety net.
                    out.mapv_inplace(|v| v.max(0.0));
                }
                // As in training: the next layer skips the zeros of a sparse enough output.
                acts_sparse = mlp
                    .layers
                    .get(l + 1)
                    .is_some_and(|next| worth_it(next.outputs()))
                    && !unfused
                    && on as f64 <= MAX_ACTIVATION_DENSITY * (rows * w) as f64;
                if acts_sparse {
                    acts.refill(out.view());
                }
            }
        }
        let logits = z[hidden % 2].slice(s![..rows, ..mlp.outputs()]);
        let (l, c) = loss_and_correct(loss, logits, labels);
        chunk_losses.push(l);
        correct += c;
    }
    RangeResult {
        bits,
        counts,
        chunk_losses,
        correct,
    }
}

/// One sample's row of pre-activations `row` (`[nodes]`): sets bit `shift` of node `j`'s
/// word where it is on (pre-activation > 0), adds its on-nodes to its class's `counts`
/// (`[nodes]`), and applies ReLU in place while the row is in cache.
fn pack_row(row: &mut [f32], words: &mut [u64], counts: &mut [u32], shift: u32) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2, the only feature `pack_row_avx2` is compiled for, was just detected.
        unsafe { pack_row_avx2(row, words, counts, shift) };
        return;
    }
    pack_row_plain(row, words, counts, shift);
}

/// [`pack_row`] compiled for AVX2: the compiler then packs four words and eight counts per
/// instruction (this loop took 5 % of a trained 9x320 epoch at SSE2 width).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn pack_row_avx2(row: &mut [f32], words: &mut [u64], counts: &mut [u32], shift: u32) {
    pack_row_plain(row, words, counts, shift);
}

#[inline(always)]
fn pack_row_plain(row: &mut [f32], words: &mut [u64], counts: &mut [u32], shift: u32) {
    for ((word, n), v) in words.iter_mut().zip(counts.iter_mut()).zip(row) {
        let on = *v > 0.0;
        *word |= u64::from(on) << shift;
        *n += u32::from(on);
        *v = v.max(0.0);
    }
}

/// Mean loss and accuracy of `mlp` over `split`, in chunks (no update), skipping the zeros
/// of sparse enough layer inputs as the measurement pass does.
pub fn evaluate(mlp: &Mlp, split: &Split, loss: Loss) -> (f64, f64) {
    let (mut loss_sum, mut correct) = (0f64, 0usize);
    let n = split.len();
    let hidden = mlp.hidden_layers();
    let width = mlp.layers.first().map_or(0, |l| l.outputs());
    let images = split.sparse().filter(|_| worth_it(width));
    // Two buffers in turn, as in `measure_range`.
    let widest = mlp.layers.iter().map(|l| l.outputs()).max().unwrap_or(0);
    let mut z = [
        Array2::zeros((CHUNK, widest)),
        Array2::zeros((CHUNK, widest)),
    ];
    let mut acts = SparseRows::default();
    for start in (0..n).step_by(CHUNK) {
        let rows = CHUNK.min(n - start);
        let x = split.images.slice(s![start..start + rows, ..]);
        let mut acts_sparse = false;
        for (l, layer) in mlp.layers.iter().enumerate() {
            let [even, odd] = &mut z;
            let (here, before) = if l % 2 == 0 { (even, odd) } else { (odd, even) };
            let mut out = here.slice_mut(s![..rows, ..layer.outputs()]);
            let (input, sparse_rows) = if l == 0 {
                (x, images.map(|sx| Batch::range(sx, start..start + rows)))
            } else {
                let sparse = acts_sparse.then(|| Batch::range(&acts, 0..rows));
                (before.slice(s![..rows, ..layer.inputs()]), sparse)
            };
            layer.forward_chunk_into(input, sparse_rows, &mut out);
            if l < hidden {
                out.mapv_inplace(|v| v.max(0.0));
                let next = mlp.layers.get(l + 1).map_or(0, |n| n.outputs());
                acts_sparse = refill_if_sparse(&mut acts, out.view(), next);
            }
        }
        let labels = &split.labels[start..start + rows];
        let logits = z[hidden % 2].slice(s![..rows, ..mlp.outputs()]);
        let (l, c) = loss_and_correct(loss, logits, labels);
        loss_sum += l;
        correct += c;
    }
    (loss_sum / n.max(1) as f64, correct as f64 / n.max(1) as f64)
}
