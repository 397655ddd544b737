//! Training and measurement on the real MNIST.

mod common;

use sample_sets::preset;
use sample_sets::session::{RunStatus, Session};
use sample_sets::train::{Control, Run, RunEvent};

fn train(name: &str, epochs: u32, seed: u64, probe: usize) -> Session {
    let mut p = preset::find(name, &[]).unwrap();
    p.epochs = epochs;
    p.seed = seed;
    p.probe_size = probe;
    let mut run = Run::new(p, common::mnist(), 1).unwrap();
    let status = run.execute(common::mnist(), None, &Control::default(), &mut |_| {});
    assert_eq!(status, RunStatus::Completed);
    run.session
}

/// The session without wall-clock timings, which differ between any two runs.
fn without_timing(mut s: Session) -> Session {
    for e in &mut s.epochs {
        e.timing = Default::default();
    }
    s
}

#[test]
fn one_epoch_of_2x20_ce_reaches_88_percent_and_measures_every_node() {
    let s = train("mnist-2x20-ce", 1, 1, 1000);
    let steps: Vec<u64> = s.epochs.iter().map(|e| e.step).collect();
    assert_eq!(
        steps,
        [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 469],
        "before training, inside epoch 1 and at its end"
    );
    let last = s.epochs.last().unwrap();
    assert_eq!(last.epoch, 1);
    assert!(s.epochs[..10].iter().all(|e| e.epoch == 0));
    assert!(
        last.test_accuracy >= 0.88,
        "test accuracy {}",
        last.test_accuracy
    );
    assert!(last.train_loss < s.epochs[0].train_loss);
    for (i, e) in s.epochs.iter().enumerate() {
        assert_eq!(e.layers.len(), 2);
        for (l, layer) in e.layers.iter().enumerate() {
            assert_eq!(layer.counts.len(), 20 * 10);
            // Per-class counts never exceed the class size.
            for on in layer.counts.chunks_exact(10) {
                for (c, &k) in on.iter().enumerate() {
                    assert!(k <= s.dataset.train_class_counts[c]);
                }
            }
            for j in 0..20 {
                let m = s.node_metrics(i, l, j).unwrap();
                for v in [m.activation_fraction, m.predictability, m.informativeness] {
                    assert!((0.0..=1.0).contains(&v), "{v}");
                }
            }
            let f = layer.summary.activation_fraction;
            assert!(f.q1 <= f.median && f.median <= f.q3);
        }
    }
    assert!(s.epochs[0].layers[0].churn.is_empty());
    for e in &s.epochs[1..] {
        assert!(e.layers[0].churn.iter().all(|c| (0.0..=1.0).contains(c)));
    }
    // The probe is class-stratified: every class present, grouped, 1000 samples.
    assert_eq!(s.probe.len(), 1000);
    assert!(s.probe.labels.windows(2).all(|w| w[0] <= w[1]));
    let per_class = (0..10).map(|c| s.probe.labels.iter().filter(|&&l| l == c).count());
    for (c, k) in per_class.enumerate() {
        let expected = 1000.0 * f64::from(s.dataset.train_class_counts[c]) / 60_000.0;
        assert!((k as f64 - expected).abs() <= 1.0, "class {c}: {k}");
    }
}

#[test]
fn probe_membership_agrees_with_the_class_counts_when_the_probe_is_everything() {
    let s = train("mnist-2x20-ce", 1, 3, 60_000);
    let e = s.epochs.len() - 1;
    for l in 0..2 {
        for j in [0, 7, 19] {
            let mut by_class = [0u32; 10];
            for k in 0..s.probe.len() {
                if s.probe_member(e, l, j, k) {
                    by_class[usize::from(s.probe.labels[k])] += 1;
                }
            }
            assert_eq!(&by_class[..], s.node_counts(e, l, j).unwrap());
        }
    }
}

#[test]
fn same_preset_seed_and_threads_give_the_same_session_and_another_seed_does_not() {
    let a = without_timing(train("mnist-2x20-ce", 2, 7, 500));
    let b = without_timing(train("mnist-2x20-ce", 2, 7, 500));
    assert!(a == b, "two runs with seed 7 differ");
    let c = without_timing(train("mnist-2x20-ce", 2, 8, 500));
    assert_ne!(a.checkpoint, c.checkpoint);
}

#[test]
fn an_mse_preset_trains() {
    let s = train("mnist-2x20-mse", 1, 1, 200);
    let (first, last) = (&s.epochs[0], s.epochs.last().unwrap());
    assert!(last.train_loss < first.train_loss);
    assert!(
        last.test_accuracy > 0.8,
        "MSE test accuracy {}",
        last.test_accuracy
    );
}

#[test]
fn a_cancelled_run_resumes_bit_identically() {
    let full = without_timing(train("mnist-2x20-ce", 3, 11, 300));
    let mut p = preset::find("mnist-2x20-ce", &[]).unwrap();
    p.epochs = 3;
    p.seed = 11;
    p.probe_size = 300;
    let mut run = Run::new(p, common::mnist(), 1).unwrap();
    let control = Control::default();
    let status = run.execute(common::mnist(), None, &control, &mut |ev| {
        if let RunEvent::Epoch(rec) = ev
            && rec.epoch == 1
        {
            control.cancel();
        }
    });
    assert_eq!(status, RunStatus::Cancelled);
    assert_eq!(run.session.epochs_done(), 1, "completed epochs are kept");
    let mut resumed = Run::resume(run.session, common::mnist(), "test").unwrap();
    let status = resumed.execute(common::mnist(), None, &Control::default(), &mut |_| {});
    assert_eq!(status, RunStatus::Completed);
    assert!(
        without_timing(resumed.session) == full,
        "resumed run differs"
    );
}

#[test]
fn fashion_mnist_from_debian_trains_one_epoch() {
    let dir = std::path::Path::new("/usr/share/datasets/fashion-mnist");
    let data = match sample_sets::data::Dataset::load(dir) {
        Ok(d) => d,
        // `scripts/test` installs it (Debian's dataset-fashion-mnist, via setup-debian).
        Err(e) => panic!("{e}: install Debian's dataset-fashion-mnist"),
    };
    assert_eq!(data.identity.name, "fashion-mnist");
    let mut p = preset::find("mnist-2x20-ce", &[]).unwrap();
    p.epochs = 1;
    p.probe_size = 100;
    let mut run = Run::new(p, &data, 1).unwrap();
    let status = run.execute(&data, None, &Control::default(), &mut |_| {});
    assert_eq!(status, RunStatus::Completed);
    let last = run.session.epochs.last().unwrap();
    assert!(last.test_accuracy > 0.7, "{}", last.test_accuracy);
}
