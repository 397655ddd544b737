//! `sample-sets grid run / status` and the grid figure, run as a user would: a 2-preset x
//! 2-seed x 2-epoch grid on the real MNIST, stopped with SIGINT partway and run again.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use sample_sets::grid::RunSummary;
use sample_sets::session::{self, RunStatus, Session};

const FILES: [&str; 4] = [
    "mnist-2x20-ce-seed1.ron",
    "mnist-2x20-ce-seed2.ron",
    "mnist-2x20-mse-seed1.ron",
    "mnist-2x20-mse-seed2.ron",
];

fn grid_run(dir: &Path, epochs: &str) -> Command {
    let mut c = Command::new(common::bin());
    c.args(["grid", "run"])
        .arg(dir)
        .args(["--presets", "mnist-2x20-ce", "mnist-2x20-mse"])
        .args(["--seeds", "1,2", "--epochs", epochs, "--jobs", "2"])
        .arg("--data")
        .arg(common::mnist_dir());
    c
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The grid run once without interruption (shared by the tests of this file).
fn uninterrupted() -> &'static Path {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let grid = dir.path().join("grid");
        let o = grid_run(&grid, "2").output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        (dir, grid)
    })
    .1
}

fn without_timing(mut s: Session) -> Session {
    for e in &mut s.epochs {
        e.timing = Default::default();
    }
    s
}

#[test]
fn a_grid_stopped_with_sigint_resumes_to_the_uninterrupted_result() {
    let full = uninterrupted();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("grid");
    let child = grid_run(&dir, "2")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Stop it as Ctrl-C would, once some run has an epoch on disk.
    let start = Instant::now();
    while !FILES
        .iter()
        .any(|f| RunSummary::read(&dir.join(f)).is_ok_and(|s| s.epochs_done() >= 1))
    {
        assert!(start.elapsed() < Duration::from_secs(300), "no epoch saved");
        std::thread::sleep(Duration::from_millis(20));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("run the same command again"),
        "{}",
        stderr(&o)
    );
    // A clean stop: the active runs saved themselves as cancelled, the others never started.
    let states: Vec<Option<RunStatus>> = FILES
        .iter()
        .map(|f| RunSummary::read(&dir.join(f)).ok().map(|s| s.status))
        .collect();
    assert!(
        states.contains(&Some(RunStatus::Cancelled)),
        "no run saved as cancelled: {states:?}"
    );
    assert!(
        !states.iter().all(|s| *s == Some(RunStatus::Completed)),
        "stopped too late to test anything"
    );
    assert!(!states.contains(&Some(RunStatus::Running)), "{states:?}");

    let o = grid_run(&dir, "2").output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    for f in FILES {
        let resumed = without_timing(session::load(&dir.join(f)).unwrap());
        let uninterrupted = without_timing(session::load(&full.join(f)).unwrap());
        assert_eq!(resumed.epochs_done(), 2, "{f}");
        assert!(
            resumed == uninterrupted,
            "{f}: resumed run differs from the uninterrupted one"
        );
    }
    // Nothing left to do: a third run says so and changes nothing.
    let before: Vec<Vec<u8>> = FILES
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect();
    let o = grid_run(&dir, "2").output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("all 4 runs completed already"),
        "{}",
        stderr(&o)
    );
    let after: Vec<Vec<u8>> = FILES
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect();
    assert!(before == after);
}

#[test]
fn status_lists_every_run_and_the_summary_per_preset() {
    let dir = uninterrupted();
    let o = Command::new(common::bin())
        .args(["grid", "status"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    for (preset, seed) in [
        ("mnist-2x20-ce", 1),
        ("mnist-2x20-ce", 2),
        ("mnist-2x20-mse", 1),
        ("mnist-2x20-mse", 2),
    ] {
        assert!(
            text.lines().any(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                w.len() >= 5
                    && w[0] == preset
                    && w[1] == seed.to_string()
                    && w[2] == "2/2"
                    && w[3] == "completed"
                    && w[4].ends_with('%')
            }),
            "no row for {preset} seed {seed}:\n{text}"
        );
    }

    let o = Command::new(common::bin())
        .args(["grid", "status", "--json"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 4);
    for r in runs {
        assert_eq!(r["state"], "completed");
        assert_eq!(r["epochs_done"], 2);
        assert!(r["final_test_accuracy"].as_f64().unwrap() > 0.85, "{r}");
    }
    let presets = v["presets"].as_array().unwrap();
    assert_eq!(presets.len(), 2);
    assert_eq!(presets[0]["preset"], "mnist-2x20-ce");
    assert_eq!(presets[0]["seeds"], serde_json::json!([1, 2]));
    let acc = &presets[0]["final_test_accuracy"];
    assert_eq!(acc["n"], 2);
    assert!(acc["min"].as_f64().unwrap() <= acc["mean"].as_f64().unwrap());
    assert!(acc["mean"].as_f64().unwrap() <= acc["max"].as_f64().unwrap());
    let peak = presets[0]["peak_epoch_layer1"]["mean"].as_f64().unwrap();
    assert!((0.0..=2.0).contains(&peak));
    assert_eq!(
        presets[0]["last_activation_fraction"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn other_epochs_for_existing_runs_are_refused_and_nothing_changes() {
    let dir = uninterrupted();
    let before: Vec<Vec<u8>> = FILES
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect();
    let manifest = std::fs::read(dir.join("grid.ron")).unwrap();
    let o = grid_run(dir, "3").output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("epochs 2 (asked: 3)"), "{}", stderr(&o));
    let after: Vec<Vec<u8>> = FILES
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect();
    assert!(before == after);
    assert_eq!(std::fs::read(dir.join("grid.ron")).unwrap(), manifest);
}

#[test]
fn the_grid_figure_and_its_numbers() {
    let dir = uninterrupted();
    let out = tempfile::tempdir().unwrap();
    for ext in ["png", "svg", "csv"] {
        let file = out.path().join(format!("grid.{ext}"));
        let o = Command::new(common::bin())
            .arg("export")
            .arg(dir)
            .args(["--grid-figure", "activation-fraction", "--out"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(o.status.success(), "{ext}: {}", stderr(&o));
    }
    let png = image::open(out.path().join("grid.png")).unwrap();
    assert_eq!(
        (png.width(), png.height()),
        sample_sets::export::figures::grid::GRID_FIGURE_SIZE
    );
    let svg = std::fs::read_to_string(out.path().join("grid.svg")).unwrap();
    for label in [
        "cross-entropy loss",
        "MSE loss",
        "20 nodes",
        "2 layers",
        "layer 2",
        "test ",
    ] {
        assert!(svg.contains(label), "the SVG has no '{label}'");
    }
    // 2 presets x 2 layers x epochs 0..=2, each the mean of 2 seeds within their min..max.
    let csv = std::fs::read_to_string(out.path().join("grid.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), 12, "{csv}");
    for r in &rows {
        let num = |i: usize| r[i].parse::<f64>().unwrap();
        assert_eq!(r[4], "1;2");
        assert_eq!(r[10], "2");
        assert!(num(8) <= num(7) && num(7) <= num(9), "{r:?}");
    }
    // The means are those of the two runs' layer means.
    let a = session::load(&dir.join(FILES[0])).unwrap();
    let b = session::load(&dir.join(FILES[1])).unwrap();
    // Epoch 2's record (after the records inside epoch 1).
    let epoch2 = |s: &session::Session| {
        s.epochs
            .iter()
            .find(|e| e.step == 2 * s.steps_per_epoch())
            .map(|e| e.layers[0].summary.activation_fraction.mean)
            .unwrap()
    };
    let want = (epoch2(&a) + epoch2(&b)) / 2.0;
    let row = rows
        .iter()
        .find(|r| r[0] == "mnist-2x20-ce" && r[5] == "1" && r[6] == "2")
        .unwrap();
    assert!((row[7].parse::<f32>().unwrap() - want).abs() < 1e-5);

    let o = Command::new(common::bin())
        .arg("export")
        .arg(dir)
        .args(["--grid-figure", "sparkle", "--out"])
        .arg(out.path().join("x.png"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("activation-fraction"), "{}", stderr(&o));
}
