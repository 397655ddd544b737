//! Comparing runs of different shapes, and resuming a CLI run killed with SIGKILL.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use sample_sets::preset;
use sample_sets::session::{self, Session, compare};
use sample_sets::train::{Control, Run};

fn run(name: &str, epochs: u32, seed: u64) -> Session {
    let mut p = preset::find(name, &[]).unwrap();
    p.epochs = epochs;
    p.seed = seed;
    p.probe_size = 100;
    let mut r = Run::new(p, common::mnist(), 1).unwrap();
    r.execute(common::mnist(), None, &Control::default(), &mut |_| {});
    r.session
}

#[test]
fn comparing_two_runs_of_different_shapes() {
    let a = run("mnist-2x20-ce", 2, 1);
    let b = run("mnist-5x20-mse", 2, 2);
    let c = compare::compare(&[&a, &b]);
    let names: Vec<&str> = c.differing_fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, vec!["hidden layers", "loss", "seed"]);
    assert_eq!(c.runs.len(), 2);
    assert_eq!(c.runs[0].peak_fraction.len(), 2);
    assert_eq!(c.runs[1].peak_fraction.len(), 5);
    assert!(c.runs[0].final_test_accuracy > 0.85);
    let (epoch, value) = c.runs[1].peak_fraction[4];
    let band = b.layer_band(4, sample_sets::session::Metric::ActivationFraction);
    assert!(band.iter().all(|p| p.mean <= value));
    assert!(band.iter().any(|p| p.epoch == epoch && p.mean == value));
    // Node positions map where the shapes allow.
    assert_eq!(compare::same_position(&a, 1, 19), Some((1, 19)));
    assert_eq!(compare::same_position(&a, 4, 0), None);
}

fn without_timing(mut s: Session) -> Session {
    for e in &mut s.epochs {
        e.timing = Default::default();
    }
    s
}

#[test]
fn a_cli_run_killed_with_sigkill_resumes_to_the_uninterrupted_result() {
    let dir = tempfile::tempdir().unwrap();
    let data = common::mnist_dir();
    let train = |out: &std::path::Path| {
        let mut c = Command::new(common::bin());
        c.args([
            "train",
            "--preset",
            "mnist-2x20-ce",
            "--epochs",
            "4",
            "--probe",
            "100",
            "--seed",
            "5",
            "--threads",
            "1",
            "--quiet",
        ])
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(out);
        c
    };
    let full = dir.path().join("full.ron");
    assert!(train(&full).status().unwrap().success());

    let killed = dir.path().join("killed.ron");
    let mut child = train(&killed).spawn().unwrap();
    let start = Instant::now();
    // Wait until at least epoch 1 is on disk, then kill without warning.
    loop {
        if let Ok(s) = session::load(&killed)
            && s.epochs_done() >= 1
        {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "no epoch saved");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    let partial = session::load(&killed).unwrap();
    assert!(
        partial.epochs_done() < 4,
        "killed too late to test anything"
    );

    let o = Command::new(common::bin())
        .args(["train", "--resume"])
        .arg(&killed)
        .arg("--data")
        .arg(&data)
        .args(["--quiet"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let resumed = without_timing(session::load(&killed).unwrap());
    let full = without_timing(session::load(&full).unwrap());
    assert_eq!(resumed.epochs_done(), 4);
    assert!(
        resumed == full,
        "resumed run differs from the uninterrupted one"
    );
}
