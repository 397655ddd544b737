//! Minibatch training of an [`Mlp`] with [`Adam`], on preallocated buffers so an epoch makes
//! no allocation per minibatch.

use std::time::Instant;

use ndarray::{Array1, Array2, ArrayViewMut2, Axis, s};
use rand::seq::SliceRandom;

use super::adam::Adam;
use super::loss::{Loss, backprop_logits};
use super::matmul::{SplitAlong, matmul_gated_into, matmul_into, matmul_split_into};
use super::mlp::Mlp;
use super::rng::{Stream, rng_for};
use super::sparse::{
    Batch, images_worth_it, masked_dots, par_rows_t_times, par_rows_times, relu_for_next,
    rows_t_times,
};
use crate::data::{SparseRows, Split};
use crate::train::thread_choice::ThreadChoice;

/// Largest network (weights and biases) whose minibatch steps run on one thread whatever the
/// configured thread count: the x20 presets (16,330 to 19,270 parameters); the x80 ones
/// (70,090 to 115,450) and x320 ones (over 350,000) may use every configured thread. A step of
/// a 2x20 network takes 200-300 µs, its products 10-30 µs each, and with two threads each
/// product hands half its work to the other thread and waits for it: with both cores quiet
/// that gained nothing (epochs of mnist-2x20-mse 0.10-0.13 s on one thread and on two,
/// paired runs). Since the steps keep their helper threads awake, the x80 presets gain from
/// two (median epoch, paired, quiet: 5x80-ce 0.252 -> 0.222 s, 9x80-ce 0.360 -> 0.312 s,
/// 2x80-mse 0.174 -> 0.157 s); when another process keeps the other core busy, steps go
/// back to one thread ([`ThreadChoice`]).
pub const MAX_PARAMETERS_ON_ONE_THREAD: usize = 65_536;

/// Figures from one training epoch, averaged over its minibatches as they went by.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochStats {
    /// Mean minibatch loss.
    pub loss: f64,
    /// Fraction of samples classified correctly before their update.
    pub accuracy: f64,
    /// Samples seen.
    pub samples: usize,
    /// Wall time, seconds.
    pub seconds: f64,
}

/// An epoch being trained in pieces (see [`Trainer::start_epoch`]): its minibatch order and
/// the running sums behind [`EpochStats`].
#[derive(Debug, Clone)]
pub struct EpochProgress {
    order: Vec<u32>,
    batch: usize,
    steps_done: usize,
    loss_sum: f64,
    correct: usize,
    seen: usize,
    seconds: f64,
}

impl EpochProgress {
    /// Minibatches in the epoch: `ceil(samples / batch)` (the last holds the remainder).
    pub fn steps_in_epoch(&self) -> usize {
        self.order.len().div_ceil(self.batch.max(1))
    }

    /// Minibatches trained so far in this epoch.
    pub fn steps_done(&self) -> usize {
        self.steps_done
    }

    /// Training wall time so far in this epoch, seconds (time between pieces not counted).
    pub fn seconds(&self) -> f64 {
        self.seconds
    }

    /// The epoch's figures so far, averaged over the minibatches done.
    pub fn stats(&self) -> EpochStats {
        EpochStats {
            loss: self.loss_sum / self.seen.max(1) as f64,
            accuracy: self.correct as f64 / self.seen.max(1) as f64,
            samples: self.seen,
            seconds: self.seconds,
        }
    }
}

/// Why an epoch stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interrupted {
    /// The caller asked to stop (cancel or pause).
    Stopped,
    /// A minibatch loss was not finite.
    Diverged,
    /// The network, the optimiser's moments, the buffers or the data do not fit together
    /// (checked before every epoch and at every product, in every build); nothing changed.
    Shapes(ShapeMismatch),
}

/// Part of the trainer whose shape does not fit the parts around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeMismatch {
    /// Layer (1-based; the output layer is the last), or 0 for the trainer as a whole.
    pub layer: usize,
    /// Which part ("weights", "Adam second moments of the weights", ...).
    pub what: &'static str,
    /// The shape it must have.
    pub expected: Vec<usize>,
    /// The shape it has.
    pub found: Vec<usize>,
}

impl std::fmt::Display for ShapeMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.layer > 0 {
            write!(f, "layer {}: ", self.layer)?;
        }
        write!(
            f,
            "{} has shape {:?}, expected {:?}",
            self.what, self.found, self.expected
        )
    }
}

impl std::error::Error for ShapeMismatch {}

impl ShapeMismatch {
    /// The mismatch of `what` in layer `l` (0-based): `found` where `expected` is needed.
    fn at(l: usize, what: &'static str, expected: &[usize], found: &[usize]) -> Self {
        Self {
            layer: l + 1,
            what,
            expected: expected.to_vec(),
            found: found.to_vec(),
        }
    }
}

/// `Ok` when `found == expected`, else their [`ShapeMismatch::at`] layer `l` (0-based).
fn same(
    l: usize,
    what: &'static str,
    expected: &[usize],
    found: &[usize],
) -> Result<(), ShapeMismatch> {
    if expected == found {
        Ok(())
    } else {
        Err(ShapeMismatch::at(l, what, expected, found))
    }
}

/// `Ok` when a sparse kernel accepted its shapes (`ok`), else the product of layer `l`
/// (0-based) it refused, with `found` where `expected` was needed.
fn refused(
    ok: bool,
    l: usize,
    what: &'static str,
    expected: &[usize],
    found: &[usize],
) -> Result<(), ShapeMismatch> {
    if ok {
        Ok(())
    } else {
        Err(ShapeMismatch::at(l, what, expected, found))
    }
}

/// Network, optimiser, loss and the buffers for one minibatch.
#[derive(Debug, Clone)]
pub struct Trainer {
    /// The network being trained.
    pub mlp: Mlp,
    /// Optimiser state.
    pub adam: Adam,
    /// Loss.
    pub loss: Loss,
    /// Minibatch size.
    pub batch: usize,
    /// Whether sparse inputs go through the sparse kernels where they pay (the default);
    /// false sends every product to gemm, for comparisons. Results agree to rounding.
    pub sparse_kernels: bool,
    /// Networks of at most this many parameters train on one thread whatever the configured
    /// count ([`MAX_PARAMETERS_ON_ONE_THREAD`], the default); 0 always uses the configured
    /// count (tests that compare thread counts on a small network). Results do not depend
    /// on it.
    pub max_parameters_on_one_thread: usize,
    /// Whether the steps of a network above that size pick one thread or the configured
    /// count by their measured time ([`ThreadChoice`], the default); false always uses the
    /// configured count (tests that compare thread counts). Results do not depend on it.
    pub threads_by_step_time: bool,
    /// One thread or the configured count, by the steps' times.
    thread_choice: ThreadChoice,
    x: Array2<f32>,
    /// Gradients at two consecutive layers' pre-activations, `[batch, width]` (the widest
    /// layer), used in turn: layer `l`'s is in `grad[l % 2]`, computed from layer `l + 1`'s in
    /// the other. Two buffers instead of one per layer stay in cache.
    grad: [Vec<f32>; 2],
    a: Vec<Array2<f32>>,
    grads: Vec<(Array2<f32>, Array1<f32>)>,
    labels: Vec<u8>,
    /// Per hidden layer: its minibatch activations as sparse rows (filled when it is wide
    /// enough for the sparse kernels).
    acts: Vec<SparseRows>,
    /// Per layer: whether this minibatch's input to it goes through the sparse kernels
    /// (entry 0, the images, is decided separately).
    sparse_in: Vec<bool>,
    /// Pre-activations of the hidden layers in the forward pass, `[batch, width]` for the
    /// widest hidden layer; see [`Trainer::step`].
    scratch: Vec<f32>,
    /// This minibatch's rows whose logits gradient has a nonzero entry, increasing; the
    /// backward pass runs on these alone (see [`Trainer::keep_rows_with_gradient`]).
    rows: Vec<u32>,
    /// The samples (indices into the data) of `rows`, for the first layer's sparse images.
    samples: Vec<u32>,
    /// Whether the backward pass skips the rows whose logits gradient is zero (always, but
    /// for the test that shows skipping them changes nothing).
    skip_zero_rows: bool,
}

impl Trainer {
    /// A trainer for `mlp` with minibatches of `batch` samples (at least 1).
    pub fn new(mlp: Mlp, adam: Adam, loss: Loss, batch: usize) -> Self {
        let batch = batch.max(1);
        let inputs = mlp.layers.first().map_or(0, |l| l.inputs());
        let widest = mlp.layers.iter().map(|l| l.outputs()).max().unwrap_or(0);
        let grad = [vec![0.0; batch * widest], vec![0.0; batch * widest]];
        let a = mlp.layers[..mlp.hidden_layers()]
            .iter()
            .map(|l| Array2::zeros((batch, l.outputs())))
            .collect();
        let grads = mlp
            .layers
            .iter()
            .map(|l| (Array2::zeros(l.w.dim()), Array1::zeros(l.b.dim())))
            .collect();
        let (mlp_hidden, mlp_layers) = (mlp.hidden_layers(), mlp.layers.len());
        let scratch_width = mlp.hidden_widths().into_iter().max().unwrap_or(0);
        Self {
            mlp,
            adam,
            loss,
            batch,
            sparse_kernels: true,
            max_parameters_on_one_thread: MAX_PARAMETERS_ON_ONE_THREAD,
            threads_by_step_time: true,
            thread_choice: ThreadChoice::new(),
            x: Array2::zeros((batch, inputs)),
            grad,
            a,
            grads,
            labels: Vec::with_capacity(batch),
            acts: vec![SparseRows::default(); mlp_hidden],
            sparse_in: vec![false; mlp_layers],
            scratch: vec![0.0; batch * scratch_width],
            rows: Vec::with_capacity(batch),
            samples: Vec::with_capacity(batch),
            skip_zero_rows: true,
        }
    }

    /// Rows of the last minibatch that went through the backward pass: those whose logits
    /// gradient has a nonzero entry (the others add nothing to any gradient; see
    /// [`Trainer::keep_rows_with_gradient`]).
    pub fn rows_with_gradient(&self) -> usize {
        self.rows.len()
    }

    /// Per layer, whether the last minibatch's input to it went through the sparse kernels
    /// (see [`super::sparse`]): entry 0 for the images, entry `l` for hidden layer `l`'s
    /// activations feeding layer `l + 1`.
    pub fn sparse_inputs(&self) -> &[bool] {
        &self.sparse_in
    }

    /// Trains one epoch (1-based `epoch`) over `data` in an order shuffled from `seed`.
    ///
    /// `keep_going(samples_done, running_loss)` is called after every minibatch; returning
    /// false stops the epoch (the weights then hold a partial epoch; callers discard them).
    ///
    /// # Errors
    /// [`Interrupted::Diverged`] when a minibatch loss is NaN or infinite,
    /// [`Interrupted::Stopped`] when `keep_going` returned false, [`Interrupted::Shapes`]
    /// (before any update) when the parts do not fit together ([`Trainer::check_shapes`]).
    pub fn train_epoch(
        &mut self,
        data: &Split,
        epoch: u32,
        seed: u64,
        keep_going: impl FnMut(usize, f64) -> bool,
    ) -> Result<EpochStats, Interrupted> {
        let mut progress = self.start_epoch(data, epoch, seed);
        let all = progress.steps_in_epoch();
        self.train_until(data, &mut progress, all, keep_going)?;
        Ok(progress.stats())
    }

    /// Begins epoch `epoch` (1-based) over `data`: its minibatch order, shuffled from `seed`
    /// (the same order whoever asks, so an epoch trained in pieces by
    /// [`Trainer::train_until`] equals one trained whole).
    pub fn start_epoch(&self, data: &Split, epoch: u32, seed: u64) -> EpochProgress {
        let mut order: Vec<u32> = (0..data.len() as u32).collect();
        order.shuffle(&mut rng_for(seed, Stream::Shuffle(epoch)));
        EpochProgress {
            order,
            batch: self.batch,
            steps_done: 0,
            loss_sum: 0.0,
            correct: 0,
            seen: 0,
            seconds: 0.0,
        }
    }

    /// Trains the minibatches of `progress` up to and including its `steps`-th (1-based,
    /// within the epoch; at most [`EpochProgress::steps_in_epoch`]).
    ///
    /// `keep_going(samples_done, running_loss)` is called after every minibatch, with the
    /// samples and mean minibatch loss since the start of the epoch.
    ///
    /// # Errors
    /// As [`Trainer::train_epoch`] (shapes are checked before any update); `progress` then
    /// holds the minibatches done before.
    pub fn train_until(
        &mut self,
        data: &Split,
        progress: &mut EpochProgress,
        steps: usize,
        mut keep_going: impl FnMut(usize, f64) -> bool,
    ) -> Result<(), Interrupted> {
        self.check_shapes(data).map_err(Interrupted::Shapes)?;
        let start = Instant::now();
        let steps = steps.min(progress.steps_in_epoch());
        let batch = progress.batch.max(1);
        let result = loop {
            if progress.steps_done >= steps {
                break Ok(());
            }
            let from = progress.steps_done * batch;
            let to = (from + batch).min(progress.order.len());
            let chunk = &progress.order[from..to];
            // Decided once per step and handed to it: the configured count may change while
            // the step runs (the app sets it as runs start and end), and a step that split its
            // products outside the training pool would run them on threads that do not flush
            // subnormals.
            let pool = crate::train::threads::pool();
            let (threads, timed) = match pool {
                Some(_) => self.step_plan(),
                None => (1, false),
            };
            let step_start = Instant::now();
            let (l, c) = match pool {
                Some(pool) if threads > 1 => {
                    // More helpers than the pool's other threads would only queue.
                    let helpers = (threads - 1).min(pool.current_num_threads() - 1);
                    pool.install(|| {
                        crate::train::threads::with_helpers_awake(helpers, || {
                            self.step(data, chunk, threads)
                        })
                    })
                }
                _ => self.step(data, chunk, threads),
            }
            .map_err(Interrupted::Shapes)?;
            if timed {
                self.thread_choice
                    .record(step_start.elapsed().as_secs_f64());
            }
            if !l.is_finite() {
                break Err(Interrupted::Diverged);
            }
            progress.loss_sum += l * chunk.len() as f64;
            progress.correct += c;
            progress.seen += chunk.len();
            progress.steps_done += 1;
            if !keep_going(progress.seen, progress.loss_sum / progress.seen as f64) {
                break Err(Interrupted::Stopped);
            }
        };
        progress.seconds += start.elapsed().as_secs_f64();
        result
    }

    /// Checks that every part fits the parts around it: each layer's weights take the layer
    /// below's outputs (the first layer `data`'s pixels), biases, gradients and Adam's moments
    /// have their layer's shapes, the minibatch buffers hold a minibatch of the widest layer,
    /// and the output layer has a node for every label in `data`. Independent of debug
    /// assertions: a release build that went on would train on stale buffers.
    ///
    /// # Errors
    /// The first [`ShapeMismatch`] found.
    pub fn check_shapes(&self, data: &Split) -> Result<(), ShapeMismatch> {
        let layers = &self.mlp.layers;
        let (n, hidden, batch) = (layers.len(), self.mlp.hidden_layers(), self.batch);
        let whole = |what, expected: usize, found: usize| {
            if expected == found {
                Ok(())
            } else {
                Err(ShapeMismatch {
                    layer: 0,
                    what,
                    expected: vec![expected],
                    found: vec![found],
                })
            }
        };
        whole("layers with gradients", n, self.grads.len())?;
        whole("layers with Adam moments", n, self.adam.moments.len())?;
        whole("layers with a sparse-input flag", n, self.sparse_in.len())?;
        whole("hidden layers with activations", hidden, self.a.len())?;
        whole("hidden layers with sparse rows", hidden, self.acts.len())?;
        let mut inputs = data.images.ncols();
        same(0, "input buffer", &[batch, inputs], self.x.shape())?;
        for (l, layer) in layers.iter().enumerate() {
            let (w, b) = (layer.w.shape(), layer.b.shape());
            let outputs = layer.outputs();
            same(l, "weights", &[inputs, outputs], w)?;
            same(l, "biases", &[outputs], b)?;
            let (gw, gb) = &self.grads[l];
            same(l, "weight gradients", w, gw.shape())?;
            same(l, "bias gradients", b, gb.shape())?;
            let m = &self.adam.moments[l];
            same(l, "Adam first moments of the weights", w, m.mw.shape())?;
            same(l, "Adam second moments of the weights", w, m.vw.shape())?;
            same(l, "Adam first moments of the biases", b, m.mb.shape())?;
            same(l, "Adam second moments of the biases", b, m.vb.shape())?;
            if l < hidden {
                same(l, "activations", &[batch, outputs], self.a[l].shape())?;
                // The pre-activations of a hidden layer go to the scratch buffer.
                let room = self.scratch.len().max(batch * outputs);
                same(l, "pre-activation buffer", &[room], &[self.scratch.len()])?;
            }
            // Gradients at a layer's pre-activations (and the logits) use `grad`.
            for g in &self.grad {
                let room = g.len().max(batch * outputs);
                same(l, "gradient buffer", &[room], &[g.len()])?;
            }
            inputs = outputs;
        }
        let labels = data.labels.iter().max().map_or(0, |&l| usize::from(l) + 1);
        let outputs = self.mlp.outputs();
        if labels > outputs {
            return Err(ShapeMismatch {
                layer: n,
                what: "output nodes (one per class)",
                expected: vec![labels],
                found: vec![outputs],
            });
        }
        Ok(())
    }

    /// Threads the next minibatch step uses: one for a network of at most
    /// [`Trainer::max_parameters_on_one_thread`] parameters; otherwise the configured count
    /// ([`crate::train::threads::current`]) or one, whichever its recent steps found faster
    /// ([`ThreadChoice`]; always the configured count without
    /// [`Trainer::threads_by_step_time`]). Results do not depend on it.
    pub fn step_threads(&self) -> usize {
        self.step_plan().0
    }

    /// The next step's threads ([`Trainer::step_threads`]) and whether its time goes to the
    /// [`ThreadChoice`] (it chose them).
    fn step_plan(&self) -> (usize, bool) {
        let configured = crate::train::threads::current();
        if configured <= 1 || self.mlp.parameter_count() <= self.max_parameters_on_one_thread {
            (1, false)
        } else if self.threads_by_step_time {
            (self.thread_choice.threads(configured), true)
        } else {
            (configured, false)
        }
    }

    /// One minibatch: forward, backward, Adam update, its products split for `threads`
    /// threads of the training pool (the caller has installed it when `threads` > 1).
    /// Returns (mean loss, correct count).
    ///
    /// # Errors
    /// A [`ShapeMismatch`] when a buffer or kernel refuses the shapes; [`Self::check_shapes`]
    /// has ruled that out before the epoch, so this is a bug if it happens.
    fn step(
        &mut self,
        data: &Split,
        idx: &[u32],
        threads: usize,
    ) -> Result<(f64, usize), ShapeMismatch> {
        let b = idx.len();
        // The first layer reads the sparse rows directly when the images are sparse enough.
        let width = self.mlp.layers.first().map_or(0, |l| l.outputs());
        let sparse = data
            .sparse()
            .filter(|_| self.sparse_kernels && images_worth_it(width));
        if let Some(first) = self.sparse_in.first_mut() {
            *first = sparse.is_some();
        }
        self.labels.clear();
        for (r, &i) in idx.iter().enumerate() {
            let i = i as usize;
            if sparse.is_none() {
                self.x.row_mut(r).assign(&data.images.row(i));
            }
            self.labels.push(data.labels[i]);
        }
        let hidden = self.mlp.hidden_layers();
        // Forward: z[l] = a[l-1] W + b ; a[l] = relu(z[l]).
        for l in 0..self.mlp.layers.len() {
            let layer = &self.mlp.layers[l];
            // A hidden layer's pre-activations are dead once ReLU has made them this
            // minibatch's activations (sparse rows or `a`), so every hidden layer writes them
            // into one scratch buffer, which stays in cache; the logits stay for the loss.
            let scratch = self
                .scratch
                .get_mut(..b * layer.outputs())
                .filter(|_| l < hidden)
                .and_then(|buf| ArrayViewMut2::from_shape((b, layer.outputs()), buf).ok());
            // The logits go where the backward pass expects the output layer's gradient.
            let logits = self.grad[hidden % 2]
                .get_mut(..b * layer.outputs())
                .and_then(|buf| ArrayViewMut2::from_shape((b, layer.outputs()), buf).ok());
            let Some(mut z) = scratch.or(logits) else {
                let expected = [b, layer.outputs()];
                let found = [self.scratch.len()];
                return Err(ShapeMismatch::at(
                    l,
                    "pre-activation buffer",
                    &expected,
                    &found,
                ));
            };
            let sparse_rows = match l {
                0 => sparse.map(|sx| Batch::picked(sx, idx)),
                _ if self.sparse_in[l] => Some(Batch::range(&self.acts[l - 1], 0..b)),
                _ => None,
            };
            match sparse_rows {
                Some(x) => {
                    let bias = layer.b.as_slice();
                    if bias.is_none() {
                        z.assign(&layer.b.view().insert_axis(Axis(0)));
                    }
                    let ok = par_rows_times(x, layer.w.view(), bias, &mut z, threads);
                    refused(
                        ok,
                        l,
                        "sparse forward product",
                        &[b, layer.outputs()],
                        z.shape(),
                    )?;
                }
                None => {
                    let input = if l == 0 {
                        self.x.slice(s![..b, ..])
                    } else {
                        self.a[l - 1].slice(s![..b, ..])
                    };
                    layer.forward_into(input, &mut z, threads);
                }
            }
            if l < hidden {
                // Trained layers switch on a small share of samples: the next layer then
                // skips the zeros of this one's output, built straight from `z` (the dense
                // activations are only written for the dense path, the only one reading them).
                let next = self.mlp.layers[l + 1].outputs();
                let sparse_next = relu_for_next(
                    (&mut self.acts[l], self.a[l].slice_mut(s![..b, ..])),
                    z.view(),
                    next,
                    (self.sparse_kernels, self.sparse_in[l + 1]),
                    threads,
                );
                self.sparse_in[l + 1] = sparse_next;
            }
        }
        // The logits buffer becomes dLoss/dlogits.
        let outputs = self.mlp.outputs();
        let logits = self.grad[hidden % 2]
            .get_mut(..b * outputs)
            .and_then(|buf| ArrayViewMut2::from_shape((b, outputs), buf).ok());
        let Some(logits) = logits else {
            let found = [self.grad[hidden % 2].len()];
            return Err(ShapeMismatch::at(
                hidden,
                "logits buffer",
                &[b, outputs],
                &found,
            ));
        };
        let (loss, correct) = backprop_logits(self.loss, logits, &self.labels);
        // `k` rows go through the backward pass; when some were dropped, `self.rows` (and
        // `self.samples`) say which, and every input of the backward pass below holds (or is
        // read through) just those rows.
        let k = self.keep_rows_with_gradient(idx, sparse.is_some());
        let compacted = k < b;
        // Backward: grad[l % 2] holds dLoss/dz[l]. Each layer's Adam update follows its
        // gradients while they are still in cache (a layer's update reads only its own
        // gradient and state, so the order changes no result). On a trained 9x320 network
        // this made the epoch about 10 % faster than one update of all layers at the end.
        let adam_step = self.adam.begin_step();
        for l in (0..self.mlp.layers.len()).rev() {
            let (gw, gb) = &mut self.grads[l];
            let [even, odd] = &mut self.grad;
            let (here, below) = if l % 2 == 0 { (even, odd) } else { (odd, even) };
            let n = self.mlp.layers[l].outputs();
            let Some(dz) = here
                .get(..k * n)
                .and_then(|buf| ndarray::ArrayView2::from_shape((k, n), buf).ok())
            else {
                let found = [here.len()];
                return Err(ShapeMismatch::at(l, "gradient buffer", &[k, n], &found));
            };
            // The bias gradient, summed over the samples in order (on the weight-gradient
            // thread for the layers above the first, in parallel with the input gradient).
            // Plain slice loops: ndarray's `+=` on a 20-wide row cost more than the sums.
            let bias_grad = |gb: &mut Array1<f32>| {
                gb.fill(0.0);
                if let (Some(g), Some(d)) = (gb.as_slice_mut(), dz.as_slice()) {
                    for row in d.chunks_exact(n) {
                        for (g, &d) in g.iter_mut().zip(row) {
                            *g += d;
                        }
                    }
                } else {
                    for row in dz.axis_iter(Axis(0)) {
                        *gb += &row;
                    }
                }
            };
            if l == 0 {
                bias_grad(gb);
            }
            let layer = &mut self.mlp.layers[l];
            if k == 0 {
                // No sample has a gradient: neither has any weight or bias (Adam still
                // steps).
                gw.fill(0.0);
                gb.fill(0.0);
            } else if l == 0 {
                match sparse {
                    Some(sx) => {
                        let samples = if compacted { &self.samples[..] } else { idx };
                        let x = Batch::picked(sx, samples);
                        let ok = par_rows_t_times(x, dz, &mut gw.view_mut(), threads);
                        refused(
                            ok,
                            l,
                            "sparse weight gradient",
                            &[x.inputs(), n],
                            gw.shape(),
                        )?;
                    }
                    None => {
                        let input = self.x.slice(s![..k, ..]);
                        matmul_split_into(
                            input.t(),
                            dz,
                            &mut gw.view_mut(),
                            false,
                            (SplitAlong::Rows, threads),
                        );
                    }
                }
            } else {
                let input = self.a[l - 1].slice(s![..k, ..]);
                let w = &layer.w;
                let n_below = layer.inputs();
                let below_len = below.len();
                let Some(mut dprev) = below
                    .get_mut(..k * n_below)
                    .and_then(|buf| ArrayViewMut2::from_shape((k, n_below), buf).ok())
                else {
                    let found = [below_len];
                    return Err(ShapeMismatch::at(
                        l - 1,
                        "gradient buffer",
                        &[k, n_below],
                        &found,
                    ));
                };
                let acts = &self.acts[l - 1];
                let sparse_input = self.sparse_in[l].then(|| match compacted {
                    true => Batch::picked(acts, &self.rows),
                    false => Batch::range(acts, 0..b),
                });
                // The weight gradient and the gradient into the layer below are independent
                // products of the same size: one thread each beats splitting both.
                let gw_shape = [gw.nrows(), gw.ncols()];
                let mut weight_grad = || {
                    bias_grad(gb);
                    match sparse_input {
                        Some(x) => rows_t_times(x, 0..x.inputs(), dz, &mut gw.view_mut()),
                        None => {
                            matmul_into(input.t(), dz, &mut gw.view_mut(), false, 1);
                            true
                        }
                    }
                };
                let mut input_grad = || match sparse_input {
                    // Only where the node was on: the ReLU gate zeroes the rest.
                    Some(x) => masked_dots(x, dz, w.view(), &mut dprev),
                    None => {
                        // ReLU gate: the gradient passes where the node was on.
                        matmul_gated_into(dz, w.t(), &mut dprev, input);
                        true
                    }
                };
                let (weights_ok, inputs_ok) = if threads > 1 {
                    rayon::join(weight_grad, input_grad)
                } else {
                    (weight_grad(), input_grad())
                };
                refused(
                    weights_ok,
                    l,
                    "sparse weight gradient",
                    &gw_shape,
                    &gw_shape,
                )?;
                refused(
                    inputs_ok,
                    l,
                    "sparse input gradient",
                    &[k, n_below],
                    &[k, n_below],
                )?;
            }
            self.adam
                .update_weights(&adam_step, l, &mut layer.w, gw, threads > 1);
            self.adam.update_biases(&adam_step, l, &mut layer.b, gb);
        }
        Ok((loss, correct))
    }

    /// Finds the rows of this minibatch's logits gradient (`[idx.len(), outputs]`, in
    /// `grad[hidden % 2]`) that have a nonzero entry, into `self.rows`, and returns how many
    /// there are, `k`. When that is fewer than all, moves the backward pass's inputs down to
    /// those rows: the logits gradient's rows, and the dense activations of every layer and
    /// the dense images (`sparse_images` false) that the backward pass reads; the samples of
    /// the rows go to `self.samples` (for the sparse images, read through [`Batch::picked`],
    /// as are the sparse activations with `self.rows`).
    ///
    /// A row whose logits gradient is exactly zero adds exactly nothing to any weight or bias
    /// gradient nor to the gradient into a lower layer (every term it adds is `x · 0`), so
    /// dropping it changes no sum, only the number of zeros added: bit for bit in the sparse
    /// kernels and the bias sums, which add the rows in order; gemm may take another kernel
    /// for very few rows and round a dense product differently in the last bit (see the
    /// tests). Results stay independent of the thread count. Late in training most rows
    /// are such: their softmax saturates in f32. At epoch 200 of the grid's wide runs, rows
    /// with an all-zero logits gradient were 52,894 of 60,000 in mnist-9x320-ce, 42,272 in
    /// 5x320-ce, 7,286 in 2x320-ce, and 58,837 to 59,999 in the three x320 MSE runs, while
    /// the backward products took about 70 % of a training step. Skipping them, an epoch from
    /// those sessions' epoch-200 checkpoints (`cargo bench --bench throughput -- --threads 1
    /// --from SESSION`, fastest, interleaved with the build before, on a busy machine) took
    /// 1.8 s instead of 3.6 s (9x320-ce), 1.3 s instead of 3.9 s (9x320-mse), 0.94 s instead
    /// of 1.17 s (2x320-ce).
    fn keep_rows_with_gradient(&mut self, idx: &[u32], sparse_images: bool) -> usize {
        let b = idx.len();
        let outputs = self.mlp.outputs();
        let logits = &mut self.grad[self.mlp.hidden_layers() % 2];
        let dz = logits
            .get_mut(..b * outputs)
            .and_then(|buf| ArrayViewMut2::from_shape((b, outputs), buf).ok());
        self.rows.clear();
        let Some(dz) = dz.filter(|_| self.skip_zero_rows) else {
            // (A logits buffer of the wrong shape was reported by `step` already.)
            self.rows.extend(0..b as u32);
            return b;
        };
        let nonzero = dz.rows().into_iter().enumerate();
        let nonzero = nonzero.filter(|(_, row)| row.iter().any(|&d| d != 0.0));
        self.rows.extend(nonzero.map(|(r, _)| r as u32));
        let k = self.rows.len();
        if k == b {
            return b;
        }
        move_rows_down(dz, &self.rows);
        // Layer `l` (above the first) reads hidden layer `l - 1`'s dense activations when its
        // input is not sparse.
        for l in 1..self.mlp.layers.len() {
            if !self.sparse_in[l] {
                move_rows_down(self.a[l - 1].view_mut(), &self.rows);
            }
        }
        if sparse_images {
            self.samples.clear();
            let samples = self.rows.iter().map(|&r| idx[r as usize]);
            self.samples.extend(samples);
        } else {
            move_rows_down(self.x.view_mut(), &self.rows);
        }
        k
    }
}

/// Moves row `rows[j]` of `m` to row `j`, for every `j`: `rows` increases, so `rows[j] >= j`
/// and, going in increasing order, no row is overwritten before it has moved.
fn move_rows_down(mut m: ArrayViewMut2<f32>, rows: &[u32]) {
    let width = m.ncols();
    for (j, &r) in rows.iter().enumerate() {
        let r = r as usize;
        if r == j {
            continue;
        }
        match m.as_slice_mut() {
            Some(all) => all.copy_within(r * width..(r + 1) * width, j * width),
            None => {
                for c in 0..width {
                    m[[j, c]] = m[[r, c]];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::*;
    use crate::data::idx::read_idx;
    use crate::nn::{AdamConfig, Init};

    /// The first 512 images of MNIST's real test set (the test split: a small file to read).
    fn mnist_sample() -> Split {
        let dir = std::env::var_os("SAMPLE_SETS_DATA")
            .filter(|v| !v.is_empty())
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets/mnist")
            });
        let images = read_idx(&dir.join("t10k-images-idx3-ubyte.gz"), 3).unwrap();
        let labels = read_idx(&dir.join("t10k-labels-idx1-ubyte.gz"), 1).unwrap();
        let n = 512;
        let pixels = images.data[..n * 784].iter().map(|&p| f32::from(p) / 255.0);
        let x = Array2::from_shape_vec((n, 784), pixels.collect()).unwrap();
        Split::new(x, labels.data[..n].to_vec())
    }

    fn trainer(width: usize) -> Trainer {
        let mlp = Mlp::new(
            784,
            &[width, width],
            10,
            Init::HeUniform,
            &mut rng_for(1, Stream::Init),
        );
        let adam = Adam::new(AdamConfig::default(), &mlp);
        Trainer::new(mlp, adam, Loss::CrossEntropy, 128)
    }

    #[test]
    fn shapes_that_do_not_fit_stop_the_epoch_with_an_error_in_every_build() {
        let data = mnist_sample();
        // The check does not depend on debug assertions: release builds used to skip the
        // product (and Adam's update) and train on stale buffers.
        for width in [20, 80] {
            // Layer 2 given one input too many; then Adam moments of the wrong shape.
            let mut t = trainer(width);
            t.mlp.layers[1].w = Array2::zeros((width + 1, width));
            let before = t.mlp.clone();
            let r = t.train_epoch(&data, 1, 1, |_, _| true);
            match r {
                Err(Interrupted::Shapes(e)) => {
                    assert!(e.to_string().contains("layer 2"), "{e}")
                }
                other => panic!("width {width}: expected a shape error, got {other:?}"),
            }
            assert!(t.mlp == before, "width {width}: weights changed");

            let mut t = trainer(width);
            t.adam.moments[2].vw = Array2::zeros((3, 3));
            let r = t.train_epoch(&data, 1, 1, |_, _| true);
            assert!(
                matches!(r, Err(Interrupted::Shapes(_))),
                "width {width}: {r:?}"
            );
        }
        // A trainer left as built trains.
        let mut t = trainer(20);
        assert!(t.train_epoch(&data, 1, 1, |_, _| true).is_ok());
    }

    /// `trainer(80)` with `loss` trained for 10 epochs on `data`, then made to look like a
    /// late epoch of a wide preset: the first layer's biases lowered by `shift` (fewer nodes
    /// on, so its output goes through the sparse kernels) and the output layer's weights
    /// scaled by `scale` (the softmax of the samples it classifies right by a wide margin
    /// saturates: their logits gradient is exactly 0 in f32).
    fn settled(data: &Split, loss: Loss, sparse_kernels: bool, shift: f32, scale: f32) -> Trainer {
        let mut t = trainer(80);
        t.loss = loss;
        t.sparse_kernels = sparse_kernels;
        for epoch in 1..=10 {
            t.train_epoch(data, epoch, 1, |_, _| true).unwrap();
        }
        t.mlp.layers[0].b += shift;
        t.mlp.layers[2].w *= scale;
        t
    }

    /// Every bit of the weights, biases and Adam moments.
    fn state_bits(t: &Trainer) -> Vec<u32> {
        let layers = t.mlp.layers.iter().zip(&t.adam.moments);
        layers
            .flat_map(|(l, m)| {
                let w = l.w.iter().chain(&l.b);
                w.chain(&m.mw).chain(&m.vw).chain(&m.mb).chain(&m.vb)
            })
            .map(|v| v.to_bits())
            .collect()
    }

    /// The samples of minibatch `idx` whose logits gradient is zero at `t`'s weights, and
    /// those whose is not, largest gradient first.
    fn split_by_gradient(t: &Trainer, data: &Split, idx: &[u32]) -> (Vec<u32>, Vec<u32>) {
        let mut probe = t.clone();
        probe.step(data, idx, 1).unwrap();
        // The compacted logits gradient: row `j` is sample `idx[rows[j]]`'s.
        let dz = &probe.grad[probe.mlp.hidden_layers() % 2];
        let largest = |j: usize| {
            let row = &dz[j * 10..(j + 1) * 10];
            row.iter().fold(0f32, |m, v| m.max(v.abs()))
        };
        let mut with: Vec<(u32, f32)> = (probe.rows.iter().enumerate())
            .map(|(j, &r)| (idx[r as usize], largest(j)))
            .collect();
        with.sort_by(|a, b| b.1.total_cmp(&a.1));
        let with: Vec<u32> = with.into_iter().map(|(i, _)| i).collect();
        let without = idx.iter().copied().filter(|i| !with.contains(i)).collect();
        (without, with)
    }

    #[test]
    fn skipping_the_rows_without_gradient_changes_no_gradient_and_no_weight() {
        let data = mnist_sample();
        let mse = Loss::Mse { on_softmax: true };
        // (loss, sparse kernels, shift, scale, which inputs go through the sparse kernels)
        let cases = [
            (Loss::CrossEntropy, true, -1.5, 300.0, [true, true, false]),
            (mse, true, -1.5, 300.0, [true, true, false]),
            (Loss::CrossEntropy, false, 0.0, 100.0, [false; 3]),
        ];
        for (loss, sparse_kernels, shift, scale, sparse_inputs) in cases {
            let case = format!("{loss:?}, sparse kernels {sparse_kernels}");
            let mut skip = settled(&data, loss, sparse_kernels, shift, scale);
            let mut full = skip.clone();
            full.skip_zero_rows = false;
            for step in 0..4u32 {
                let idx: Vec<u32> = (step * 128..(step + 1) * 128).collect();
                let figures = skip.step(&data, &idx, 1).unwrap();
                assert_eq!(figures, full.step(&data, &idx, 1).unwrap(), "{case}");
                let k = skip.rows_with_gradient();
                assert!(0 < k && k < 128, "{case}: {k} of 128 rows have a gradient");
                assert_eq!(full.rows_with_gradient(), 128);
                assert_eq!(skip.sparse_inputs(), sparse_inputs, "{case}");
                // Each gradient is the same sum without its zero terms: the sparse kernels and
                // the bias sums add the rows in order, and gemm's main kernel (these products
                // have 27 to 128 rows) gives the same bits too. `==` as a zero's sign may
                // differ (-0 + 0 is 0), which Adam does not see (the weights are compared
                // bit for bit below).
                for (l, (s, f)) in skip.grads.iter().zip(&full.grads).enumerate() {
                    assert!(
                        s.0 == f.0,
                        "{case}, step {step}: layer {l}'s weight gradient"
                    );
                    assert!(s.1 == f.1, "{case}, step {step}: layer {l}'s bias gradient");
                }
            }
            assert!(
                state_bits(&skip) == state_bits(&full),
                "{case}: weights differ"
            );
        }
    }

    #[test]
    fn a_minibatch_without_gradient_still_steps_adam_and_one_with_a_single_row_matches() {
        let data = mnist_sample();
        let first: Vec<u32> = (0..128).collect();
        for sparse_kernels in [true, false] {
            let mut skip = settled(&data, Loss::CrossEntropy, sparse_kernels, 0.0, 300.0);
            let mut full = skip.clone();
            full.skip_zero_rows = false;
            // Only samples without gradient: no product runs, the gradients are 0 and Adam's
            // moments decay and move the weights as without the skip.
            let (without, _) = split_by_gradient(&skip, &data, &first);
            assert!(without.len() > 10, "{} settled samples", without.len());
            let before = state_bits(&skip);
            skip.step(&data, &without, 1).unwrap();
            full.step(&data, &without, 1).unwrap();
            assert_eq!(skip.rows_with_gradient(), 0);
            assert!(
                skip.grads
                    .iter()
                    .all(|(w, b)| w.iter().chain(b).all(|&v| v == 0.0))
            );
            assert!(state_bits(&skip) == state_bits(&full));
            assert!(state_bits(&skip) != before, "Adam did not step");
            // The settled samples and the one with the largest gradient: one row goes through
            // the backward pass. gemm takes a matrix-vector kernel for a product with one row
            // (and others for at most 2 rows' depth or 16 x 16 outputs; gemm-common 0.19,
            // `gemm.rs`), which sums a dot product in another order: the gradient into a
            // layer below a dense input may then differ in its last bits.
            let (without, with) = split_by_gradient(&skip, &data, &first);
            let idx: Vec<u32> = with[..1].iter().chain(&without).copied().collect();
            skip.step(&data, &idx, 1).unwrap();
            full.step(&data, &idx, 1).unwrap();
            assert_eq!(skip.rows_with_gradient(), 1);
            for (l, (s, f)) in skip.grads.iter().zip(&full.grads).enumerate() {
                let (s, f) = (s.0.iter().chain(&s.1), f.0.iter().chain(&f.1));
                let largest = f.clone().fold(0f32, |m, v| m.max(v.abs()));
                let worst = s.zip(f).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
                assert!(largest > 0.0, "layer {l} has no gradient");
                assert!(
                    worst <= 1e-6 * largest,
                    "sparse kernels {sparse_kernels}, layer {l}: gradients differ by {worst} \
                     (largest {largest})"
                );
            }
        }
    }
}
