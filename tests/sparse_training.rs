//! Training through the sparse kernels (hidden layers whose ReLU outputs are mostly 0, as in
//! a trained network) on the real MNIST. Its own test binary: the matrix-thread setting is
//! process-wide.

mod common;

use ndarray::{Array2, Axis, s};
use sample_sets::data::dataset::{CLASSES, PIXELS};
use sample_sets::nn::rng::{Stream, rng_for};
use sample_sets::nn::{Adam, AdamConfig, Init, Loss, Mlp, Trainer};

/// A 2x80 network whose hidden biases are shifted so that about 12 % of the activations are
/// on over the first 1000 training images, as in a network trained for a few dozen epochs.
fn sparse_network() -> Mlp {
    let data = common::mnist();
    let mut mlp = Mlp::new(
        PIXELS,
        &[80, 80],
        CLASSES,
        Init::HeUniform,
        &mut rng_for(7, Stream::Init),
    );
    let mut a: Array2<f32> = data.train.images.slice(s![..1000, ..]).to_owned();
    for l in 0..mlp.hidden_layers() {
        let layer = &mut mlp.layers[l];
        let z = a.dot(&layer.w) + layer.b.view().insert_axis(Axis(0));
        let mut all: Vec<f32> = z.iter().copied().collect();
        all.sort_by(f32::total_cmp);
        let cut = all[all.len() * 88 / 100];
        layer.b -= cut;
        a = z.mapv(|v| (v - cut).max(0.0));
        let on = a.iter().filter(|&&v| v > 0.0).count() as f64 / a.len() as f64;
        assert!((0.08..0.16).contains(&on), "layer {l} density {on}");
    }
    mlp
}

/// Trains `minibatches` minibatches of epoch 1 with `threads` matrix threads, through the
/// sparse kernels or not. One at a time: the thread count is process-wide and tests run side
/// by side.
/// Held while a test sets the process-wide thread count and trains with it.
static THREADS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn train(mlp: &Mlp, threads: usize, minibatches: usize, sparse_kernels: bool) -> Trainer {
    let _alone = THREADS.lock().unwrap_or_else(|e| e.into_inner());
    sample_sets::train::threads::configure(threads);
    let adam = Adam::new(AdamConfig::default(), mlp);
    let mut trainer = Trainer::new(mlp.clone(), adam, Loss::CrossEntropy, 128);
    trainer.sparse_kernels = sparse_kernels;
    // Small networks train on one thread by default: these tests compare the thread counts.
    trainer.max_parameters_on_one_thread = 0;
    // Every step on the threads asked for, not on whichever the step times favour.
    trainer.threads_by_step_time = false;
    let _ = trainer.train_epoch(&common::mnist().train, 1, 3, |seen, _| {
        seen < minibatches * 128
    });
    trainer
}

/// The weights trained through the sparse kernels (`sparse`) equal those trained through the
/// dense products (`dense`) up to rounding (1e-5), and both moved far more than that from
/// `start`.
fn assert_close_and_moved(sparse: &Mlp, dense: &Mlp, start: &Mlp) {
    let layers = sparse.layers.iter().zip(&dense.layers).zip(&start.layers);
    for (l, ((s, d), start)) in layers.enumerate() {
        let gap = (&s.w - &d.w).mapv(f32::abs).fold(0f32, |m, &v| m.max(v));
        let moved = (&s.w - &start.w)
            .mapv(f32::abs)
            .fold(0f32, |m, &v| m.max(v));
        assert!(
            gap < 1e-5,
            "layer {l}: sparse and dense weights differ by {gap}"
        );
        assert!(moved > 1e-3, "layer {l}: weights moved only {moved}");
    }
}

#[test]
fn sparse_hidden_layers_train_like_gemm_and_the_same_with_one_and_two_threads() {
    let mlp = sparse_network();
    // Few minibatches: while the loss is large the sample sets grow, and past a density of
    // 0.25 the hidden layers go back to gemm.
    let one = train(&mlp, 1, 6, true);
    if sample_sets::nn::sparse::available() {
        // The images and both 80-wide layers' inputs went through the sparse kernels; the
        // 10-wide output layer's did not (gemm is faster there).
        assert_eq!(one.sparse_inputs(), &[true, true, false]);
    }
    let two = train(&mlp, 2, 6, true);
    assert!(
        one.mlp == two.mlp && one.adam == two.adam,
        "thread count changed the weights"
    );
    // The same steps through gemm only: the same weights up to rounding, and both moved
    // far more than that from where they started.
    let dense = train(&mlp, 1, 6, false);
    assert_eq!(dense.sparse_inputs(), &[false, false, false]);
    assert_close_and_moved(&one.mlp, &dense.mlp, &mlp);
}

#[test]
fn measurement_through_the_sparse_kernels_counts_what_a_dense_forward_pass_counts() {
    let data = common::mnist();
    let mlp = sparse_network();
    let probe: Vec<u32> = (0..100).collect();
    let mut measurer = sample_sets::measure::Measurer::new(&data.train, CLASSES, &probe);
    let m = measurer.measure(&mlp, &data.train, Loss::CrossEntropy);
    // Reference: plain ndarray products over all 60,000 samples.
    let mut a = data.train.images.clone();
    let (mut differ, mut total) = (0u64, 0u64);
    for (l, layer) in mlp.layers[..mlp.hidden_layers()].iter().enumerate() {
        let z = a.dot(&layer.w) + layer.b.view().insert_axis(Axis(0));
        let mut counts = vec![0u32; layer.outputs() * CLASSES];
        for (row, &label) in z.axis_iter(Axis(0)).zip(&data.train.labels) {
            for (j, &v) in row.iter().enumerate() {
                counts[j * CLASSES + usize::from(label)] += u32::from(v > 0.0);
            }
        }
        for (got, want) in m.layers[l].counts.iter().zip(&counts) {
            differ += u64::from(got.abs_diff(*want));
            total += u64::from(*want);
        }
        a = z.mapv(|v| v.max(0.0));
    }
    // Summation order differs, so a pre-activation within rounding of 0 may land on the
    // other side; anything more is a wrong product.
    assert!(total > 100_000, "only {total} activations on");
    assert!(
        differ * 10_000 <= total,
        "{differ} of {total} on-counts differ from the dense pass"
    );
}

#[test]
fn minibatches_of_mostly_settled_samples_train_the_same_with_one_and_two_threads() {
    // As on every training thread (the pool's threads flush already).
    sample_sets::nn::ftz::flush_subnormals_on_this_thread();
    // Trained for an epoch, then with output weights 300 times too large: the softmax of
    // every sample classified right by a wide margin saturates and its logits gradient is
    // exactly 0, as for most samples late in a wide preset's training; only the other rows
    // go through the backward pass.
    let mut mlp = train(&sparse_network(), 1, 469, true).mlp;
    mlp.layers[2].w *= 300.0;
    for sparse_kernels in [true, false] {
        let one = train(&mlp, 1, 6, sparse_kernels);
        let rows = one.rows_with_gradient();
        assert!(
            (1..128).contains(&rows),
            "{rows} of the last minibatch's 128 rows have a gradient"
        );
        let two = train(&mlp, 2, 6, sparse_kernels);
        assert_eq!(two.rows_with_gradient(), rows);
        assert!(
            one.mlp == two.mlp && one.adam == two.adam,
            "sparse kernels {sparse_kernels}: thread count changed the weights"
        );
        assert!(one.mlp != mlp, "the weights did not move");
    }
}

#[test]
fn a_2x20_network_reads_the_images_sparsely_and_trains_the_same_with_one_and_two_threads() {
    // The 2x20 presets' first layer is narrower than the hidden layers' sparse threshold;
    // the narrow kernels read its images (81 % zeros) sparsely all the same.
    let mlp = Mlp::new(
        PIXELS,
        &[20, 20],
        CLASSES,
        Init::HeUniform,
        &mut rng_for(5, Stream::Init),
    );
    let one = train(&mlp, 1, 6, true);
    if sample_sets::nn::sparse::available() {
        assert_eq!(one.sparse_inputs(), &[true, false, false]);
    }
    // By default a 2x20 network trains on one thread whatever the configured count (two
    // gained nothing on these products); `train` lifts that to compare the thread counts.
    let adam = Adam::new(AdamConfig::default(), &mlp);
    let default = Trainer::new(mlp.clone(), adam, Loss::CrossEntropy, 128);
    {
        let _alone = THREADS.lock().unwrap_or_else(|e| e.into_inner());
        sample_sets::train::threads::configure(2);
        assert_eq!(default.step_threads(), 1, "two threads configured");
    }
    let two = train(&mlp, 2, 6, true);
    assert!(
        one.mlp == two.mlp && one.adam == two.adam,
        "thread count changed the weights"
    );
    let dense = train(&mlp, 1, 6, false);
    assert_eq!(dense.sparse_inputs(), &[false, false, false]);
    assert_close_and_moved(&one.mlp, &dense.mlp, &mlp);
}
