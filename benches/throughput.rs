//! Training and measurement throughput on the real MNIST (a benchmark, not a test).
//!
//! `cargo bench --bench throughput [-- --threads T --repeats R --configs 2x20,5x80,9x320]`
//! prints, per configuration (cross-entropy, minibatch 128), the median over R repeats of one
//! training epoch and one measurement pass, in seconds and samples/s, and the fastest of each
//! (this machine's neighbours only ever slow a run down, so A/B comparisons use the fastest).
//! Data: $SAMPLE_SETS_DATA, else ../shared/datasets/mnist.
//!
//! `-- --from SESSION` times epochs from a session's checkpoint instead of a fresh network:
//! trained layers are sparser than fresh ones (a fresh ReLU node is on for half the samples),
//! and the sparse kernels (`nn::sparse`) make those epochs cheaper.

use std::path::PathBuf;
use std::time::Instant;

use sample_sets::data::Dataset;
use sample_sets::data::dataset::{CLASSES, PIXELS};
use sample_sets::measure::Measurer;
use sample_sets::measure::probe::stratified_probe;
use sample_sets::nn::ftz::flush_subnormals_on_this_thread;
use sample_sets::nn::rng::{Stream, rng_for};
use sample_sets::nn::{Adam, AdamConfig, Init, Loss, Mlp, Trainer};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let threads: usize = arg("--threads").and_then(|t| t.parse().ok()).unwrap_or(1);
    sample_sets::train::threads::configure(threads);
    let repeats: usize = arg("--repeats").and_then(|t| t.parse().ok()).unwrap_or(3);
    let configs = arg("--configs").unwrap_or_else(|| "2x20,5x80,9x320".into());
    let dir = std::env::var_os("SAMPLE_SETS_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets/mnist")
        });
    let data = match Dataset::load(&dir) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("benchmark needs MNIST: {e}");
            std::process::exit(3);
        }
    };
    let ftz = flush_subnormals_on_this_thread();
    println!(
        "threads {threads}  kernel {}  ftz {ftz}  repeats {repeats} (median)",
        sample_sets::train::threads::kernel()
    );
    println!(
        "{:<7} {:>10} {:>14} {:>12} {:>14} {:>9}",
        "config", "train s", "train smp/s", "measure s", "measure smp/s", "meas/train"
    );
    if std::env::args().any(|a| a == "--adam") {
        // Cost of the optimiser alone: 469 Adam steps (one epoch) on a 9x320 network.
        let widths = vec![320; 9];
        let mut mlp = Mlp::new(
            PIXELS,
            &widths,
            CLASSES,
            Init::HeUniform,
            &mut rng_for(1, Stream::Init),
        );
        let mut adam = Adam::new(AdamConfig::default(), &mlp);
        let grads: Vec<_> = mlp
            .layers
            .iter()
            .map(|l| (l.w.mapv(|v| v * 1e-3), l.b.mapv(|v| v + 1e-3)))
            .collect();
        let t = Instant::now();
        let parallel = threads > 1;
        let mut steps = || {
            for _ in 0..469 {
                adam.step(&mut mlp, &grads, parallel);
            }
        };
        match sample_sets::train::threads::pool() {
            Some(pool) if parallel => pool.install(steps),
            _ => steps(),
        }
        println!(
            "adam: 469 steps on 9x320 in {:.3} s",
            t.elapsed().as_secs_f64()
        );
        return;
    }
    if let Some(path) = arg("--save") {
        // What a run pays after every epoch to keep its session on disk: the last `repeats`
        // epochs of `path` arrive one by one after a first whole save of the earlier ones;
        // each is encoded with the checkpoint and the file written atomically.
        let (session, cp) = checkpoint(&path);
        let out = std::env::temp_dir().join("sample-sets-bench-save.ron");
        let keep = session.epochs.len().saturating_sub(repeats);
        let mut head = session.clone();
        head.epochs.truncate(keep);
        let mut writer = sample_sets::session::SessionWriter::new(&out, &head);
        let t = Instant::now();
        let save = |writer: &mut sample_sets::session::SessionWriter| {
            if let Err(e) = writer.save() {
                eprintln!("{e}");
                std::process::exit(2);
            }
            std::fs::metadata(&out).map_or(0.0, |m| m.len() as f64 / 1e6)
        };
        let mb = save(&mut writer);
        println!(
            "whole save of {keep} epochs: {:.3} s ({mb:.1} MB)",
            t.elapsed().as_secs_f64()
        );
        for rec in &session.epochs[keep..] {
            let t = Instant::now();
            writer.push_epoch(rec);
            writer.set_checkpoint(&cp);
            let encoded = t.elapsed().as_secs_f64();
            let mb = save(&mut writer);
            println!(
                "save after epoch {}: encoding the epoch and checkpoint {encoded:.3} s, whole save {:.3} s ({mb:.1} MB)",
                rec.epoch,
                t.elapsed().as_secs_f64()
            );
        }
        let _ = std::fs::remove_file(&out);
        return;
    }
    if let Some(path) = arg("--kernels") {
        kernels(&path, &data);
        return;
    }
    if let Some(path) = arg("--from") {
        let (session, cp) = checkpoint(&path);
        let label = format!("{}@{}", session.preset.name, cp.epoch);
        let loss = session.preset.loss;
        let trainer = Trainer::new(cp.mlp, cp.adam, loss, session.preset.batch_size);
        time_epochs(&label, trainer, &data, repeats, cp.epoch + 1);
        return;
    }
    for cfg in configs.split(',') {
        let Some((h, w)) = cfg.split_once('x') else {
            continue;
        };
        let (Ok(h), Ok(w)) = (h.parse::<usize>(), w.parse::<usize>()) else {
            continue;
        };
        let widths = vec![w; h];
        let mlp = Mlp::new(
            PIXELS,
            &widths,
            CLASSES,
            Init::HeUniform,
            &mut rng_for(1, Stream::Init),
        );
        let adam = Adam::new(AdamConfig::default(), &mlp);
        let mut trainer = Trainer::new(mlp, adam, Loss::CrossEntropy, 128);
        // Warm-up epoch (not counted): first-touch of buffers, thread pool start.
        let _ = trainer.train_epoch(&data.train, 1, 1, |_, _| true);
        time_epochs(cfg, trainer, &data, repeats, 2);
    }
}

/// Prints the median training epoch (epochs `first..`) and measurement pass over `repeats`.
fn time_epochs(label: &str, mut trainer: Trainer, data: &Dataset, repeats: usize, first: u32) {
    let loss = trainer.loss;
    let probe = stratified_probe(&data.train.labels, CLASSES, 1000, 1);
    let mut measurer = Measurer::new(&data.train, CLASSES, &probe);
    measurer.measure(&trainer.mlp, &data.train, loss);
    let (mut train, mut measure) = (Vec::new(), Vec::new());
    for r in 0..repeats {
        let t = Instant::now();
        let _ = trainer.train_epoch(&data.train, first + r as u32, 1, |_, _| true);
        train.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        measurer.measure(&trainer.mlp, &data.train, loss);
        measure.push(t.elapsed().as_secs_f64());
    }
    let fastest = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let (t_min, m_min) = (fastest(&train), fastest(&measure));
    let (t, m) = (median(train), median(measure));
    let n = data.train.len() as f64;
    println!(
        "{label:<7} {t:>10.3} {:>14.0} {m:>12.3} {:>14.0} {:>8.0}%  (fastest: train {t_min:.3} s, measure {m_min:.3} s)",
        n / t,
        n / m,
        100.0 * m / t
    );
}

/// Fastest of `reps` runs of `f`, in microseconds (the minimum: interference only adds).
fn best_us(reps: usize, mut f: impl FnMut()) -> f64 {
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e6
        })
        .fold(f64::INFINITY, f64::min)
}

/// Per layer of a session's checkpoint: the density of its input over one minibatch of real
/// MNIST, and gemm vs the sparse kernels on the three products of a training step (forward,
/// weight gradient, input gradient). Shows where the sparse kernels start to pay.
fn kernels(path: &str, data: &Dataset) {
    use ndarray::{Array2, Axis, s};
    use sample_sets::data::SparseRows;
    use sample_sets::nn::matmul::matmul_into;
    use sample_sets::nn::sparse::{Batch, masked_dots, rows_t_times, rows_times};
    let (_, cp) = checkpoint(path);
    let mlp = cp.mlp;
    let b = 128;
    let mut a: Array2<f32> = data.train.images.slice(s![..b, ..]).to_owned();
    let reps = 30;
    println!(
        "{:<6} {:>8} {:>8} {:>22} {:>22} {:>22}",
        "layer", "density", "rows", "forward gemm/sparse", "dW gemm/sparse", "dA gemm/sparse"
    );
    // Layer 0 reads the images (their own sparse rows in training); the sparse columns time
    // the kernels alone, "rows" the building of the sparse rows they read.
    for (l, layer) in mlp.layers.iter().enumerate() {
        let mut z = Array2::<f32>::zeros((b, layer.outputs()));
        matmul_into(a.view(), layer.w.view(), &mut z.view_mut(), false, 1);
        z += &layer.b.view().insert_axis(Axis(0));
        {
            let mut sx = SparseRows::default();
            let rows = best_us(reps, || {
                sx.refill(a.view());
            });
            let x = Batch::range(&sx, 0..b);
            let dz = z.mapv(|v| if v > 0.0 { v } else { 0.0 });
            let mut out = Array2::<f32>::zeros(z.dim());
            let mut gw = Array2::<f32>::zeros(layer.w.dim());
            let mut da = Array2::<f32>::zeros(a.dim());
            let fd = best_us(reps, || {
                matmul_into(a.view(), layer.w.view(), &mut out.view_mut(), false, 1)
            });
            let fs = best_us(reps, || {
                rows_times(x, layer.w.view(), None, &mut out.view_mut());
            });
            let wd = best_us(reps, || {
                matmul_into(a.t(), dz.view(), &mut gw.view_mut(), false, 1)
            });
            let ws = best_us(reps, || {
                rows_t_times(x, 0..a.ncols(), dz.view(), &mut gw.view_mut());
            });
            let ad = best_us(reps, || {
                matmul_into(dz.view(), layer.w.t(), &mut da.view_mut(), false, 1);
                ndarray::Zip::from(&mut da).and(&a).for_each(|d, &v| {
                    if v <= 0.0 {
                        *d = 0.0;
                    }
                });
            });
            let as_ = best_us(reps, || {
                masked_dots(x, dz.view(), layer.w.view(), &mut da.view_mut());
            });
            println!(
                "{l:<6} {:>8.3} {rows:>8.0} {:>10.0} / {:>9.0} {:>10.0} / {:>9.0} {:>10.0} / {:>9.0}",
                sx.density(),
                fd,
                fs,
                wd,
                ws,
                ad,
                as_
            );
        }
        if l + 1 < mlp.layers.len() {
            z.mapv_inplace(|v| v.max(0.0));
        }
        a = z;
    }
}

/// The session at `path` and its checkpoint; exits with a message when it has none.
fn checkpoint(
    path: &str,
) -> (
    sample_sets::session::Session,
    sample_sets::session::Checkpoint,
) {
    let mut session = match sample_sets::session::load(std::path::Path::new(path)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let Some(cp) = session.checkpoint.take() else {
        eprintln!("{path}: no checkpoint");
        std::process::exit(2);
    };
    (session, cp)
}
