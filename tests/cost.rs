//! The node-supported cost φ = ∂L_s/∂a of the measurement pass against an independent dense
//! f64 computation on small networks over real MNIST samples, for all three losses.

mod common;

use ndarray::{Array2, s};
use sample_sets::data::Split;
use sample_sets::measure::Measurer;
use sample_sets::measure::cost::SETTLED_BELOW;
use sample_sets::measure::pass::Measurement;
use sample_sets::nn::loss::sample_gradients;
use sample_sets::nn::rng::{Stream, rng_for};
use sample_sets::nn::{Adam, AdamConfig, Init, Loss, Mlp, Trainer};

/// The first `n` training samples of the real MNIST.
fn subset(n: usize) -> Split {
    let train = &common::mnist().train;
    Split::new(
        train.images.slice(s![..n, ..]).to_owned(),
        train.labels[..n].to_vec(),
    )
}

/// A network of `widths` trained for sixteen passes over `data` (learning rate 3e-3), so that
/// φ is not that of a fresh network and some samples are settled. With `sparse`, each hidden
/// node's bias is then lowered until the node is on for 15 % of `data` (as a trained network's
/// nodes are): such layers, at least 64 wide, read each other (and the images) through the
/// sparse kernels, and the backward pass takes the masked products.
fn network(widths: &[usize], loss: Loss, data: &Split, sparse: bool) -> Mlp {
    let mlp = Mlp::new(
        784,
        widths,
        10,
        Init::HeUniform,
        &mut rng_for(3, Stream::Init),
    );
    let config = AdamConfig {
        lr: 3e-3,
        ..AdamConfig::default()
    };
    let adam = Adam::new(config, &mlp);
    let mut trainer = Trainer::new(mlp, adam, loss, 64);
    for epoch in 1..=16 {
        trainer.train_epoch(data, epoch, 3, |_, _| true).unwrap();
    }
    if !sparse {
        return trainer.mlp;
    }
    let mut mlp = trainer.mlp;
    let hidden = mlp.hidden_layers();
    let mut a = data.images.clone();
    for layer in &mut mlp.layers[..hidden] {
        let z = a.dot(&layer.w) + &layer.b;
        for (j, b) in layer.b.iter_mut().enumerate() {
            let mut col = z.column(j).to_vec();
            col.sort_by(f32::total_cmp);
            // Halfway between two samples, so that no sample sits on the threshold.
            let k = col.len() * 85 / 100;
            *b -= (col[k] + col[k + 1]) / 2.0;
        }
        a = (a.dot(&layer.w) + &layer.b).mapv(|v| v.max(0.0));
    }
    mlp
}

/// Per hidden layer: for each sample, its pre-activations and φ (`[samples, width]`), all in
/// f64 with dense loops, written without the library's products; and per sample its loss and
/// output error.
struct Reference {
    pre: Vec<Array2<f64>>,
    phi: Vec<Array2<f64>>,
    loss: Vec<f64>,
    error: Vec<f64>,
}

fn reference(mlp: &Mlp, data: &Split, loss: Loss) -> Reference {
    let n = data.len();
    let hidden = mlp.hidden_layers();
    let mut pre: Vec<Array2<f64>> = Vec::new();
    let mut acts: Vec<Array2<f64>> = vec![data.images.mapv(f64::from)];
    for (l, layer) in mlp.layers.iter().enumerate() {
        let (inputs, outputs) = (layer.inputs(), layer.outputs());
        let input = &acts[l];
        let mut z = Array2::<f64>::zeros((n, outputs));
        for r in 0..n {
            for j in 0..outputs {
                let mut v = f64::from(layer.b[j]);
                for k in 0..inputs {
                    v += input[[r, k]] * f64::from(layer.w[[k, j]]);
                }
                z[[r, j]] = v;
            }
        }
        if l < hidden {
            acts.push(z.mapv(|v| v.max(0.0)));
        } else {
            acts.push(z.clone());
        }
        pre.push(z);
    }
    let logits = pre.pop().unwrap();
    let classes = logits.ncols();
    let c = classes as f64;
    let mut grad = Array2::<f64>::zeros((n, classes));
    let (mut losses, mut errors) = (Vec::new(), Vec::new());
    for r in 0..n {
        let y = usize::from(data.labels[r]);
        let row: Vec<f64> = logits.row(r).to_vec();
        let max = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = row.iter().map(|v| (v - max).exp()).collect();
        let sum: f64 = e.iter().sum();
        let sm: Vec<f64> = e.iter().map(|v| v / sum).collect();
        let t = |k: usize| if k == y { 1.0 } else { 0.0 };
        let out = if loss == (Loss::Mse { on_softmax: false }) {
            row.clone()
        } else {
            sm.clone()
        };
        errors.push(
            (0..classes)
                .map(|k| (out[k] - t(k)).abs())
                .fold(0.0, f64::max),
        );
        match loss {
            Loss::CrossEntropy => {
                losses.push(-sm[y].ln());
                for k in 0..classes {
                    grad[[r, k]] = sm[k] - t(k);
                }
            }
            Loss::Mse { on_softmax } => {
                losses.push((0..classes).map(|k| (out[k] - t(k)).powi(2)).sum::<f64>() / c);
                let g: Vec<f64> = (0..classes).map(|k| 2.0 * (out[k] - t(k)) / c).collect();
                for k in 0..classes {
                    grad[[r, k]] = if on_softmax {
                        // d/dz_k of Σ_i g_i s_i(z): Σ_i g_i s_i (δ_ik - s_k).
                        (0..classes)
                            .map(|i| {
                                let delta = if i == k { 1.0 } else { 0.0 };
                                g[i] * sm[i] * (delta - sm[k])
                            })
                            .sum()
                    } else {
                        g[k]
                    };
                }
            }
        }
    }
    // φ_l = (∂L/∂z_{l+1}) W_{l+1}ᵀ; ∂L/∂z_l = φ_l where the node is on, 0 elsewhere.
    let mut phi: Vec<Array2<f64>> = vec![Array2::zeros((0, 0)); hidden];
    let mut dz = grad;
    for l in (0..hidden).rev() {
        let w = &mlp.layers[l + 1].w;
        let (width, above) = w.dim();
        let mut p = Array2::<f64>::zeros((n, width));
        for r in 0..n {
            for j in 0..width {
                let mut v = 0.0;
                for k in 0..above {
                    v += dz[[r, k]] * f64::from(w[[j, k]]);
                }
                p[[r, j]] = v;
            }
        }
        let mut gated = p.clone();
        gated.zip_mut_with(&pre[l], |d, &z| {
            if z <= 0.0 {
                *d = 0.0;
            }
        });
        phi[l] = p;
        dz = gated;
    }
    Reference {
        pre,
        phi,
        loss: losses,
        error: errors,
    }
}

/// Checks the pass's per-node cost sums, settled counts, per-sample loss quartiles and settled
/// share against the reference. A node's mean |φ| agrees to 1e-4 relative. A class's signed
/// mean is held to 1e-4 of the node's mean |φ|: a settled class's φ, a million times smaller
/// than the set's unsettled ones, is a sum of path terms that cancel, which f32 resolves only
/// to about 1e-3 of itself (and the session keeps class means to 1/127 of the node's largest).
fn check(m: &Measurement, r: &Reference, data: &Split) -> f64 {
    let classes = 10;
    let mut worst = 0f64;
    for (l, layer) in m.layers.iter().enumerate() {
        let width = r.phi[l].ncols();
        for j in 0..width {
            let (mut abs, mut n) = (0f64, 0u32);
            let mut by_class = vec![(0f64, 0u32); classes];
            let mut settled = 0u32;
            for s in 0..data.len() {
                if r.pre[l][[s, j]] > 0.0 {
                    let v = r.phi[l][[s, j]];
                    let c = usize::from(data.labels[s]);
                    abs += v.abs();
                    n += 1;
                    by_class[c].0 += v;
                    by_class[c].1 += 1;
                    settled += u32::from(r.error[s] < f64::from(SETTLED_BELOW));
                }
            }
            let on: u32 = layer.counts[j * classes..(j + 1) * classes].iter().sum();
            assert_eq!(on, n, "layer {l} node {j}: sample set size");
            assert_eq!(layer.settled[j], settled, "layer {l} node {j}: settled");
            if n == 0 {
                assert_eq!(layer.cost_abs_sum[j], 0.0);
                continue;
            }
            let (got, want) = (layer.cost_abs_sum[j] / f64::from(n), abs / f64::from(n));
            let rel = (got - want).abs() / want.max(1e-30);
            worst = worst.max(rel);
            assert!(rel < 1e-4, "layer {l} node {j}: mean |φ| {got} vs {want}");
            for (c, &(sum, k)) in by_class.iter().enumerate() {
                assert_eq!(layer.counts[j * classes + c], k);
                if k == 0 {
                    continue;
                }
                let got = layer.cost_class_sum[j * classes + c] / f64::from(k);
                let want = sum / f64::from(k);
                let rel = (got - want).abs() / (abs / f64::from(n)).max(1e-30);
                worst = worst.max(rel);
                assert!(
                    rel < 1e-4,
                    "layer {l} node {j} class {c}: mean φ {got} vs {want}"
                );
            }
        }
    }
    let settled = r
        .error
        .iter()
        .filter(|&&e| e < f64::from(SETTLED_BELOW))
        .count();
    assert_eq!(m.settled, settled, "settled training samples");
    let mut sorted = r.loss.clone();
    sorted.sort_by(f64::total_cmp);
    let q = m.sample_loss.unwrap();
    let at = |p: f64| {
        let pos = p * (sorted.len() - 1) as f64;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
    };
    // The library's f32 softmax resolves a probability near 1 to 6e-8, so a settled sample's
    // loss, -ln s_y, is known to about that much.
    for (got, want) in [(q.q1, at(0.25)), (q.median, at(0.5)), (q.q3, at(0.75))] {
        assert!(
            (f64::from(got) - want).abs() <= 1e-4 * want.abs() + 2e-7,
            "loss quartile {got} vs {want}"
        );
    }
    let mean = r.loss.iter().sum::<f64>() / r.loss.len() as f64;
    assert!(
        (m.train_loss - mean).abs() <= 1e-4 * mean,
        "{} vs {mean}",
        m.train_loss
    );
    worst
}

fn compare(widths: &[usize], sparse: bool, loss: Loss) {
    let data = subset(600);
    let mlp = network(widths, loss, &data, sparse);
    let m = Measurer::new(&data, 10, &[]).measure(&mlp, &data, loss);
    let r = reference(&mlp, &data, loss);
    let worst = check(&m, &r, &data);
    let fraction: Vec<f64> = m
        .layers
        .iter()
        .map(|l| f64::from(l.counts.iter().sum::<u32>()) / (600.0 * l.settled.len() as f64))
        .collect();
    eprintln!(
        "{widths:?} {loss:?}: activation fractions {fraction:.3?}, {} settled, worst relative error {worst:.2e}",
        m.settled
    );
    assert!(m.settled < 600, "settled samples {}", m.settled);
    // Raw outputs seldom come within 0.01 of the target after so little training.
    if !sparse && loss != (Loss::Mse { on_softmax: false }) {
        assert!(m.settled > 0, "no settled samples to check");
    }
    if sparse {
        assert!(
            fraction.iter().all(|&f| f < 0.2),
            "not sparse: {fraction:?}"
        );
    }
}

#[test]
fn cost_matches_a_dense_f64_reference_for_cross_entropy() {
    compare(&[16, 12, 11], false, Loss::CrossEntropy);
}

#[test]
fn cost_matches_a_dense_f64_reference_for_mse_on_softmax() {
    compare(&[16, 12, 11], false, Loss::Mse { on_softmax: true });
}

#[test]
fn cost_matches_a_dense_f64_reference_for_mse_on_raw_outputs() {
    compare(&[16, 12, 11], false, Loss::Mse { on_softmax: false });
}

#[test]
fn cost_through_the_sparse_kernels_matches_the_reference() {
    for loss in [Loss::CrossEntropy, Loss::Mse { on_softmax: true }] {
        compare(&[96, 80, 72], true, loss);
    }
}

#[test]
fn the_cost_sums_do_not_depend_on_the_number_of_workers() {
    // 10,000 samples: three groups of 4,096, split 3 / 1+2 / 1+1+1 among 1, 2 and 3 workers.
    let data = subset(10_000);
    let mlp = network(&[96, 80], Loss::CrossEntropy, &data, false);
    let probe: Vec<u32> = (0..10_000).step_by(97).collect();
    let later = network(&[96, 80], Loss::CrossEntropy, &data, true);
    let run = |workers: usize| {
        let mut measurer = Measurer::new(&data, 10, &probe).with_workers(workers);
        measurer.measure(&mlp, &data, Loss::CrossEntropy);
        let mut m = measurer.measure(&later, &data, Loss::CrossEntropy);
        m.seconds = 0.0;
        m
    };
    let one = run(1);
    assert!(one.layers[0].added.iter().any(|&a| a > 0));
    assert!(run(2) == one, "2 workers differ from 1");
    assert!(run(3) == one, "3 workers differ from 1");
}

/// The output layer of `mlp` scaled by `factor`: the softmax saturates, and confidently
/// classified samples get a gradient at the logits that is exactly zero in f32.
fn saturated(mut mlp: Mlp, factor: f32) -> Mlp {
    if let Some(out) = mlp.layers.last_mut() {
        out.w.mapv_inplace(|v| v * factor);
        out.b.mapv_inplace(|v| v * factor);
    }
    mlp
}

/// The samples of `data` whose gradient at the logits is not exactly zero, as the pass
/// computes that gradient.
fn pushing_samples(mlp: &Mlp, data: &Split, loss: Loss) -> Vec<usize> {
    let mut a = data.images.clone();
    for (l, layer) in mlp.layers.iter().enumerate() {
        let z = a.dot(&layer.w) + &layer.b;
        a = if l + 1 < mlp.layers.len() {
            z.mapv(|v| v.max(0.0))
        } else {
            z
        };
    }
    let (mut losses, mut errors) = (vec![0f64; data.len()], vec![0f32; data.len()]);
    sample_gradients(loss, a.view_mut(), &data.labels, &mut losses, &mut errors);
    (0..data.len())
        .filter(|&i| a.row(i).iter().any(|&g| g != 0.0))
        .collect()
}

#[test]
fn samples_with_a_zero_gradient_are_skipped_without_changing_any_cost_sum() {
    // The pass skips the backward products of samples whose gradient at the logits is exactly
    // zero (most samples late in a wide run). Over one group of samples (< 4,096) the sums are
    // sequential in sample order, so the sums over all samples must equal, bit for bit, those
    // over only the samples with a nonzero gradient: every skipped sample would add +0.0.
    for (loss, sparse) in [
        (Loss::CrossEntropy, false),
        (Loss::CrossEntropy, true),
        (Loss::Mse { on_softmax: true }, true),
    ] {
        let data = subset(3_000);
        let trained = network(&[96, 80, 72], loss, &data, sparse);
        // The least scaling (of a few) at which at least 300 samples stop pushing.
        let (mlp, pushing) = [
            2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0, 48.0, 64.0, 96.0, 128.0,
        ]
        .into_iter()
        .map(|factor| {
            let mlp = saturated(trained.clone(), factor);
            let pushing = pushing_samples(&mlp, &data, loss);
            (mlp, pushing)
        })
        .find(|(_, pushing)| pushing.len() + 300 < data.len())
        .unwrap_or_else(|| panic!("{loss:?}: no scaling saturated the softmax"));
        let zero = data.len() - pushing.len();
        assert!(
            zero > 300 && pushing.len() > 300,
            "{loss:?}: {zero} samples with a zero gradient, {} without: not a test of the skip",
            pushing.len()
        );
        let only_pushing = Split::new(
            data.images.select(ndarray::Axis(0), &pushing),
            pushing.iter().map(|&i| data.labels[i]).collect(),
        );
        let all = Measurer::new(&data, 10, &[]).measure(&mlp, &data, loss);
        let part = Measurer::new(&only_pushing, 10, &[]).measure(&mlp, &only_pushing, loss);
        for (l, (a, p)) in all.layers.iter().zip(&part.layers).enumerate() {
            assert!(
                a.cost_abs_sum.iter().any(|&v| v > 0.0),
                "{loss:?} layer {l}: no cost at all"
            );
            assert_eq!(a.cost_abs_sum, p.cost_abs_sum, "{loss:?} layer {l}: Σ|φ|");
            assert_eq!(
                a.cost_class_sum, p.cost_class_sum,
                "{loss:?} layer {l}: Σφ by class"
            );
            // The skipped samples are settled (error 0) and still count in their nodes.
            let skipped_on: u32 = a.settled.iter().sum::<u32>() - p.settled.iter().sum::<u32>();
            assert!(
                skipped_on > 0,
                "{loss:?} layer {l}: skipped samples not counted as settled"
            );
        }
        eprintln!(
            "{loss:?} sparse {sparse}: {zero} of {} samples skipped",
            data.len()
        );
    }
}
