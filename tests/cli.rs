//! The `sample-sets` binary, run as a user would from a shell.

mod common;

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(common::bin())
        .args(args)
        .env_remove("SAMPLE_SETS_DATA")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn presets_lists_the_eighteen_grid_presets() {
    let o = run(&["presets"]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    for h in [2, 5, 9] {
        for w in [20, 80, 320] {
            for l in ["ce", "mse"] {
                assert!(text.contains(&format!("mnist-{h}x{w}-{l}")), "{text}");
            }
        }
    }
}

#[test]
fn train_inspect_and_export_csv_on_real_mnist() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run.ron");
    let data = common::mnist_dir();
    let o = run(&[
        "train",
        "--preset",
        "mnist-2x20-ce",
        "--epochs",
        "1",
        "--probe",
        "200",
        "--threads",
        "1",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("epoch    1/1"), "{}", stderr(&o));

    let o = run(&["inspect", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("mnist-2x20-ce") && text.contains("1 of 1"),
        "{text}"
    );

    let o = run(&["inspect", out.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["epochs_done"], 1);
    assert_eq!(v["layers"].as_array().unwrap().len(), 2);
    assert!(v["test_accuracy"].as_f64().unwrap() > 0.85);

    let csv = dir.path().join("nodes.csv");
    let o = run(&[
        "export",
        out.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("step,epoch,layer,node,on_class_0"));
    assert!(header.contains(
        "activation_fraction,predictability,informativeness,overlap,added,removed,phi_mean_abs,phi_class_0,"
    ));
    assert!(header.ends_with("phi_class_9,settled_share"));
    // 11 records (before training, steps 1, 2, 4, ..., 256 and the end of epoch 1) x 2 layers
    // x 20 nodes.
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 11 * 2 * 20);
    // Row 45: the record at step 1 (position 1/469), layer 1, node 5.
    let cols: Vec<&str> = rows[45].split(',').collect();
    assert_eq!(cols.len(), 4 + 10 + 4 + 3 + 10 + 1);
    assert_eq!(&cols[..4], ["1", "0.002132", "1", "5"]);
    let frac: f64 = cols[14].parse().unwrap();
    let on: u32 = cols[4..14].iter().map(|c| c.parse::<u32>().unwrap()).sum();
    assert!((frac - f64::from(on) / 60_000.0).abs() < 1e-5);
    // Turnover and cost are there from the second record on.
    let (added, removed): (i64, i64) = (cols[18].parse().unwrap(), cols[19].parse().unwrap());
    let before: Vec<&str> = rows[5].split(',').collect();
    let on_before: u32 = before[4..14]
        .iter()
        .map(|c| c.parse::<u32>().unwrap())
        .sum();
    assert_eq!(i64::from(on) - i64::from(on_before), added - removed);
    let phi: f64 = cols[20].parse().unwrap();
    assert!(phi > 0.0, "mean |phi| {phi}");
    let share: f64 = cols[31].parse().unwrap();
    assert!((0.0..=1.0).contains(&share));
}

#[test]
fn failures_give_one_line_and_distinct_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().to_str().unwrap();
    let data = common::mnist_dir();
    // Missing data: 3 (an output path of its own: a file left in /tmp must not decide this).
    let out = dir.path().join("x.ron");
    let o = run(&[
        "train",
        "--preset",
        "mnist-2x20-ce",
        "--data",
        empty,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("not found"), "{}", stderr(&o));
    // Unknown preset: 4.
    let o = run(&[
        "train",
        "--preset",
        "mnist-4x4-ce",
        "--data",
        data.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("unknown preset"));
    // Malformed preset file: 4.
    let bad = dir.path().join("bad-preset.ron");
    std::fs::write(&bad, "(name: \"x\", hidden_layers: ").unwrap();
    let o = run(&[
        "train",
        "--preset-file",
        bad.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("bad-preset.ron"));
    // Unreadable session: 5.
    let o = run(&["inspect", dir.path().join("nope.ron").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert!(stderr(&o).contains("nope.ron"));
    let garbage = dir.path().join("garbage.ron");
    std::fs::write(&garbage, [0xffu8, 0, 1, 2]).unwrap();
    let o = run(&["inspect", garbage.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(5));
    // An existing output is not replaced without --force, and an export never overwrites
    // the session it reads.
    let existing = dir.path().join("notes.txt");
    std::fs::write(&existing, "precious").unwrap();
    let o = run(&[
        "train",
        "--preset",
        "mnist-2x20-ce",
        "--data",
        data.to_str().unwrap(),
        "--out",
        existing.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    assert!(stderr(&o).contains("--force"));
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "precious");
    let example = dir.path().join("example.ron");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/example-schema1-2x80-ce.ron"
        ),
        &example,
    )
    .unwrap();
    let before = std::fs::read(&example).unwrap();
    let o = run(&[
        "export",
        example.to_str().unwrap(),
        "--csv",
        example.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(std::fs::read(&example).unwrap(), before);
    // Out-of-range values on the command line are usage errors: 2.
    let o = run(&[
        "train",
        "--preset",
        "mnist-2x20-ce",
        "--epochs",
        "0",
        "--data",
        data.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // A folder missing one of the four files names it.
    let partial = dir.path().join("partial");
    std::fs::create_dir(&partial).unwrap();
    std::fs::copy(
        data.join("train-images-idx3-ubyte.gz"),
        partial.join("train-images-idx3-ubyte.gz"),
    )
    .unwrap();
    let o = run(&[
        "train",
        "--preset",
        "mnist-2x20-ce",
        "--data",
        partial.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("train-labels-idx1-ubyte"),
        "{}",
        stderr(&o)
    );
    // A mistyped command does not open a window.
    let o = run(&["trian"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("neither a command nor an existing session file"));
    // Unwritable output: 6 (a folder that does not exist).
    let o = run(&[
        "train",
        "--preset",
        "mnist-2x20-ce",
        "--epochs",
        "1",
        "--data",
        data.to_str().unwrap(),
        "--out",
        "/nonexistent-folder/run.ron",
    ]);
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(
        err.trim()
            .lines()
            .filter(|l| l.starts_with("error"))
            .count(),
        1,
        "{err}"
    );
    assert!(!err.contains("panicked"));
}

#[test]
fn one_and_two_matrix_threads_give_the_same_session() {
    // 2x20 takes the dense first layer, 2x80 the sparse one (see nn::sparse).
    for preset in ["mnist-2x20-ce", "mnist-2x80-ce"] {
        same_session_for_one_and_two_threads(preset);
    }
}

fn same_session_for_one_and_two_threads(preset: &str) {
    let dir = tempfile::tempdir().unwrap();
    let data = common::mnist_dir();
    let mut sessions = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.path().join(format!("t{threads}.ron"));
        let o = run(&[
            "train",
            "--preset",
            preset,
            "--epochs",
            "1",
            "--probe",
            "100",
            "--threads",
            threads,
            "--data",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let mut s = sample_sets::session::load(&out).unwrap();
        assert_eq!(s.threads.to_string(), threads);
        s.threads = 0;
        for e in &mut s.epochs {
            e.timing = Default::default();
        }
        sessions.push(s);
    }
    assert!(
        sessions[0] == sessions[1],
        "thread count changed the results of {preset}"
    );
}

#[test]
fn every_figure_exports_the_numbers_behind_it_as_csv() {
    let dir = tempfile::tempdir().unwrap();
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/example-schema1-2x80-ce.ron"
    );
    let out = dir.path().join("composition.csv");
    let o = run(&[
        "export",
        example,
        "--plot",
        "node-composition",
        "--node",
        "2:7",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    let s = sample_sets::session::load(std::path::Path::new(example)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Records are named by step and position (epochs), as the figure places them.
    assert!(lines[0].starts_with("step,epoch,on_class_0"));
    assert_eq!(lines.len(), 1 + s.epochs.len());
    let spe = s.steps_per_epoch();
    assert!(lines[lines.len() - 1].starts_with(&format!("{},{},", 20 * spe, 20)));
    // The last row is the node's per-class counts at the last epoch.
    let last: Vec<u32> = lines[lines.len() - 1]
        .split(',')
        .skip(2)
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(&last[..], s.node_counts(s.epochs.len() - 1, 1, 7).unwrap());
    let out = dir.path().join("fraction.csv");
    let o = run(&[
        "export",
        example,
        "--plot",
        "activation-fraction",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 1 + s.epochs.len() * s.widths.len());
}
