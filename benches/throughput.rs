//! Training and measurement throughput on the real MNIST (a benchmark, not a test).
//!
//! `cargo bench --bench throughput [-- --threads T --repeats R --configs 2x20,5x80,9x320]`
//! prints, per configuration (cross-entropy, minibatch 128), the median over R repeats of one
//! training epoch and one measurement pass, in seconds and samples/s. Data: $SAMPLE_SETS_DATA,
//! else ../shared/datasets/mnist.

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
        let probe = stratified_probe(&data.train.labels, CLASSES, 1000, 1);
        let mut measurer = Measurer::new(&data.train, CLASSES, &probe);
        // Warm-up epoch (not counted): first-touch of buffers, thread pool start.
        let _ = trainer.train_epoch(&data.train, 1, 1, |_, _| true);
        measurer.measure(&trainer.mlp, &data.train, Loss::CrossEntropy);
        let (mut train, mut measure) = (Vec::new(), Vec::new());
        for r in 0..repeats {
            let t = Instant::now();
            let _ = trainer.train_epoch(&data.train, 2 + r as u32, 1, |_, _| true);
            train.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            measurer.measure(&trainer.mlp, &data.train, Loss::CrossEntropy);
            measure.push(t.elapsed().as_secs_f64());
        }
        let (t, m) = (median(train), median(measure));
        let n = data.train.len() as f64;
        println!(
            "{cfg:<7} {t:>10.3} {:>14.0} {m:>12.3} {:>14.0} {:>8.0}%",
            n / t,
            n / m,
            100.0 * m / t
        );
    }
}
