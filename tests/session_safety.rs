//! Session files that once crashed, hung or were silently accepted: each test was written to
//! fail on the code before its fix (issue 15, faults 1 to 3), on real runs on the real MNIST.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sample_sets::preset::{self, Preset};
use sample_sets::session::{self, RunStatus, Session, SessionError};
use sample_sets::train::{Control, Run};

use common::{run as run_bin, stderr};

fn small_preset(epochs: u32) -> Preset {
    let mut p = preset::find("mnist-2x20-ce", &[]).unwrap();
    p.epochs = epochs;
    p.probe_size = 200;
    // One record per epoch: the contradictions below edit records by epoch.
    p.schedule = sample_sets::measure::Schedule::PerEpoch;
    p
}

/// mnist-2x20-ce, 2 epochs of 3 planned (resumable), probe 200, saved to a file once per
/// test binary; tests edit copies of its text.
fn saved_session() -> &'static (Session, String) {
    static S: OnceLock<(Session, String)> = OnceLock::new();
    S.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.ron");
        let mut run = Run::new(small_preset(2), common::mnist(), 1).unwrap();
        let status = run.execute(
            common::mnist(),
            Some(&path),
            &Control::default(),
            &mut |_| {},
        );
        assert_eq!(status, RunStatus::Completed);
        // Planned for 3 epochs: `train --resume` continues it.
        let mut s = run.session;
        s.preset.epochs = 3;
        s.status = RunStatus::Cancelled;
        session::save(&s, &path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        (s, text)
    })
}

/// The error loading `path` gives; a test failure (without printing the whole session) when
/// it loads.
fn load_err(path: &Path) -> SessionError {
    match session::load(path) {
        Ok(_) => panic!("{} loaded", path.display()),
        Err(e) => e,
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn a_preset_name_of_multibyte_characters_across_byte_4096_trains_saves_and_loads() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = small_preset(1);
    p.name = format!("a{}", "数".repeat(1400));
    // The name the CLI and the app give the file (it once exceeded 255 bytes for this name).
    let path = dir.path().join(format!("{}.ron", p.file_stem()));
    let mut run = Run::new(p.clone(), common::mnist(), 1).unwrap();
    let status = run.execute(
        common::mnist(),
        Some(&path),
        &Control::default(),
        &mut |_| {},
    );
    assert_eq!(status, RunStatus::Completed);
    let text = std::fs::read_to_string(&path).unwrap();
    // The case that crashed: byte 4096 falls inside a character of the name.
    assert!(
        !text.is_char_boundary(4096),
        "the name no longer covers byte 4096"
    );
    let back = session::load(&path).unwrap();
    assert!(back == run.session, "round trip changed the session");
    assert_eq!(back.preset.name, p.name);
    // Every loading command works on it.
    let o = run_bin(&["inspect", path.to_str().unwrap()]);
    assert!(o.status.success(), "inspect: {}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains(&p.name));
    let csv = dir.path().join("nodes.csv");
    let o = run_bin(&[
        "export",
        path.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "export: {}", stderr(&o));
    let figures = dir.path().join("figures");
    let o = run_bin(&[
        "export",
        path.to_str().unwrap(),
        "--all",
        "--out",
        figures.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "export --all: {}", stderr(&o));
}

/// Saves `s` (the saver does not check) and returns the path and its bytes.
fn save_edited(dir: &Path, name: &str, s: &Session) -> (PathBuf, Vec<u8>) {
    let path = dir.join(name);
    session::save(s, &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

/// `train --resume path` (optionally with more arguments) must refuse with exit `code`, a
/// message holding every one of `words`, and leave the file as it was.
fn resume_refused(path: &Path, before: &[u8], extra: &[&str], code: i32, words: &[&str]) {
    let data = common::mnist_dir();
    let mut args = vec![
        "train",
        "--resume",
        path.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--threads",
        "1",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    let o = run_bin(&args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
    for w in words {
        assert!(err.contains(w), "{args:?}: '{w}' missing from: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        std::fs::read(path).unwrap() == before,
        "{path:?} was rewritten"
    );
}

#[test]
fn resuming_refuses_epoch_counters_beyond_the_preset_and_leaves_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (good, _) = saved_session();
    for (name, last) in [("wrap.ron", u32::MAX), ("far.ron", 100_001)] {
        let mut s = good.clone();
        // A hostile but self-consistent record: its step says the same epoch.
        let spe = s.steps_per_epoch();
        if let Some(e) = s.epochs.last_mut() {
            e.epoch = last;
            e.step = u64::from(last) * spe;
        }
        if let Some(c) = s.checkpoint.as_mut() {
            c.epoch = last;
        }
        let (path, before) = save_edited(dir.path(), name, &s);
        let err = load_err(&path);
        assert!(
            matches!(&err, SessionError::Invalid { record, field, .. }
                if record == &format!("epoch {last}") && field == "epoch"),
            "{name}: {err}"
        );
        assert!(err.to_string().contains(name), "{err}");
        resume_refused(&path, &before, &[], 5, &[name, &format!("epoch {last}")]);
    }
}

#[test]
fn resuming_with_more_epochs_than_a_preset_may_have_is_refused_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let (_, text) = saved_session();
    let path = write(dir.path(), "run.ron", text);
    for epochs in ["100001", "4294967295"] {
        resume_refused(
            &path,
            text.as_bytes(),
            &["--epochs", epochs],
            2,
            &["epochs", epochs, "100000"],
        );
    }
}

#[test]
fn probe_indices_outside_the_training_set_are_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let (good, _) = saved_session();
    let mut s = good.clone();
    // The last probe sample (class 9, the largest index): one past the end of MNIST's 60,000.
    if let Some(i) = s.probe.indices.last_mut() {
        *i = 60_000;
    }
    let (path, before) = save_edited(dir.path(), "probe.ron", &s);
    let err = load_err(&path);
    assert!(
        matches!(&err, SessionError::Invalid { record, field, .. }
            if record == "probe" && field == "indices"),
        "{err}"
    );
    assert!(err.to_string().contains("60000"), "{err}");
    resume_refused(&path, &before, &[], 5, &["probe.ron", "60000"]);
}

/// One contradiction a session's own numbers can hold, made by editing a real session.
struct Contradiction {
    name: &'static str,
    edit: fn(&mut Session),
    record: &'static str,
    field: &'static str,
}

fn layer(s: &mut Session, epoch: usize, l: usize) -> &mut sample_sets::session::LayerRecord {
    &mut s.epochs[epoch].layers[l]
}

const CONTRADICTIONS: &[Contradiction] = &[
    Contradiction {
        name: "on-count-above-class-size",
        // Node 0 of layer 1 on for 700 more samples of class 0 than the class has (the CSV
        // then showed activation fractions above 1).
        edit: |s| layer(s, 1, 0).counts[0] = s.dataset.train_class_counts[0] + 700,
        record: "epoch 1, layer 1, node 0",
        field: "counts",
    },
    Contradiction {
        name: "class-counts-sum",
        edit: |s| s.dataset.train_class_counts[3] += 1,
        record: "dataset",
        field: "train_class_counts",
    },
    Contradiction {
        name: "dead-above-width",
        edit: |s| layer(s, 2, 1).summary.dead = 21,
        record: "epoch 2, layer 2",
        field: "summary.dead",
    },
    Contradiction {
        name: "always-on-above-width",
        edit: |s| layer(s, 0, 0).summary.always_on = 500,
        record: "epoch 0, layer 1",
        field: "summary.always_on",
    },
    Contradiction {
        name: "dead-against-counts",
        // The counts hold no dead node in this run: a summary saying 3 contradicts them.
        edit: |s| layer(s, 1, 1).summary.dead = 3,
        record: "epoch 1, layer 2",
        field: "summary.dead",
    },
    Contradiction {
        name: "accuracy-150",
        edit: |s| s.epochs[1].test_accuracy = 1.5,
        record: "epoch 1",
        field: "test_accuracy",
    },
    Contradiction {
        name: "accuracy-negative",
        edit: |s| s.epochs[2].train_accuracy = -0.25,
        record: "epoch 2",
        field: "train_accuracy",
    },
    Contradiction {
        name: "quartile-above-1",
        edit: |s| layer(s, 1, 0).summary.predictability.q3 = 1.5,
        record: "epoch 1, layer 1",
        field: "summary.predictability",
    },
    Contradiction {
        name: "quartiles-out-of-order",
        edit: |s| {
            let q = &mut layer(s, 2, 0).summary.activation_fraction;
            q.q1 = q.q3 + 0.01;
        },
        record: "epoch 2, layer 1",
        field: "summary.activation_fraction",
    },
    Contradiction {
        name: "nan-quartile",
        edit: |s| layer(s, 0, 1).summary.informativeness.median = f32::NAN,
        record: "epoch 0, layer 2",
        field: "summary.informativeness",
    },
    Contradiction {
        name: "nan-loss-completed",
        edit: |s| s.epochs[2].train_loss = f64::NAN,
        record: "epoch 2",
        field: "train_loss",
    },
    Contradiction {
        name: "inf-loss-cancelled",
        edit: |s| s.epochs[1].test_loss = f64::INFINITY,
        record: "epoch 1",
        field: "test_loss",
    },
    Contradiction {
        name: "negative-loss",
        edit: |s| s.epochs[1].minibatch_loss = Some(-1.0),
        record: "epoch 1",
        field: "minibatch_loss",
    },
    Contradiction {
        name: "negative-time",
        edit: |s| s.epochs[2].timing.train_s = -3.0,
        record: "epoch 2",
        field: "timing.train_s",
    },
    Contradiction {
        // Schema 2 keeps no churn: it follows from `added` and the set sizes, which must
        // agree (|S_now| - |S_prev| = added - removed, added <= |S_now|).
        name: "added-above-set-size",
        edit: |s| layer(s, 2, 1).added[4] = 60_001,
        record: "epoch 2",
        field: "layer 2 added",
    },
    Contradiction {
        name: "epochs-not-increasing",
        // Epoch 1's record (step 469) claiming no epoch done.
        edit: |s| s.epochs[1].epoch = 0,
        record: "epoch 1",
        field: "epoch",
    },
    Contradiction {
        name: "probe-labels-out-of-order",
        // Labels are grouped by class (class 0 first): a 9 among the 0s disagrees.
        edit: |s| s.probe.labels[0] = 9,
        record: "probe",
        field: "labels",
    },
    Contradiction {
        name: "probe-member-not-counted",
        // Probe sample 0 (class 0) switched on a node whose counts say no class-0 sample does.
        edit: |s| {
            let c = s.dataset.train_class_counts.len();
            let words = s.probe.words();
            let rec = layer(s, 1, 0);
            rec.counts[0] = 0;
            rec.probe_bits[0] |= 1;
            let _ = (c, words);
        },
        record: "epoch 1, layer 1, node 0",
        field: "probe membership",
    },
    Contradiction {
        name: "adam-config",
        edit: |s| {
            if let Some(c) = s.checkpoint.as_mut() {
                c.adam.config.lr = 0.5;
            }
        },
        record: "checkpoint",
        field: "adam",
    },
    Contradiction {
        name: "nan-weight",
        edit: |s| {
            if let Some(c) = s.checkpoint.as_mut() {
                c.mlp.layers[1].w[[3, 4]] = f32::NAN;
            }
        },
        record: "checkpoint",
        field: "params",
    },
];

#[test]
fn every_contradiction_in_a_sessions_own_numbers_is_one_error_naming_file_record_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let (good, _) = saved_session();
    for c in CONTRADICTIONS {
        let mut s = good.clone();
        (c.edit)(&mut s);
        let name = format!("{}.ron", c.name);
        let (path, before) = save_edited(dir.path(), &name, &s);
        let err = load_err(&path);
        let msg = err.to_string();
        match &err {
            SessionError::Invalid { record, field, .. } => {
                assert_eq!(
                    (record.as_str(), field.as_str()),
                    (c.record, c.field),
                    "{msg}"
                );
            }
            other => panic!("{}: not a validation error: {other}", c.name),
        }
        assert!(msg.contains(&name), "{msg}");
        assert_eq!(msg.lines().count(), 1, "{msg}");
        // The command line says the same and exits 5; nothing is written.
        let csv = dir.path().join(format!("{}.csv", c.name));
        let o = run_bin(&[
            "export",
            path.to_str().unwrap(),
            "--csv",
            csv.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(5), "{}: {}", c.name, stderr(&o));
        assert!(stderr(&o).contains(c.field), "{}", stderr(&o));
        assert!(!csv.exists());
        assert!(std::fs::read(&path).unwrap() == before);
    }
    // The unedited session still loads.
    let (path, _) = save_edited(dir.path(), "good.ron", good);
    assert!(session::load(&path).unwrap() == *good);
}

#[test]
fn a_diverged_run_may_hold_nan_and_infinite_losses() {
    let dir = tempfile::tempdir().unwrap();
    let (good, _) = saved_session();
    let mut s = good.clone();
    s.status = RunStatus::Diverged { epoch: 2 };
    s.epochs[2].train_loss = f64::NAN;
    s.epochs[2].test_loss = f64::INFINITY;
    s.epochs[2].minibatch_loss = Some(f64::NAN);
    let (path, _) = save_edited(dir.path(), "diverged.ron", &s);
    let back = session::load(&path).unwrap();
    assert!(back.epochs[2].train_loss.is_nan());
    assert_eq!(back.epochs[2].test_loss, f64::INFINITY);
    // Accuracies are still fractions, even in a diverged run.
    s.epochs[2].test_accuracy = f64::NAN;
    let (path, _) = save_edited(dir.path(), "diverged-accuracy.ron", &s);
    let err = load_err(&path);
    assert!(err.to_string().contains("test_accuracy"), "{err}");
}

#[test]
fn text_nested_too_deeply_is_called_that_without_rons_advice_to_programmers() {
    let dir = tempfile::tempdir().unwrap();
    let (_, text) = saved_session();
    // A field this version does not know (one from a newer version, say) holding 400 nested
    // lists: RON skips unknown fields by parsing them, up to its nesting limit.
    let deep = format!("extra: {}{},", "[".repeat(400), "]".repeat(400));
    let path = write(
        dir.path(),
        "deep.ron",
        &text.replacen(
            &format!("schema: {},", session::SCHEMA),
            &format!("schema: {}, {deep}", session::SCHEMA),
            1,
        ),
    );
    let preset = preset::EMBEDDED[0].1.replacen(
        "hidden_layers: 2,",
        &format!("hidden_layers: 2, {deep}"),
        1,
    );
    for msg in [
        load_err(&path).to_string(),
        Preset::from_ron(&preset, "deep-preset.ron")
            .unwrap_err()
            .to_string(),
    ] {
        assert!(msg.contains("nested too deeply"), "{msg}");
        assert!(
            !msg.contains("serde_stacker") && !msg.contains("recursion_limit"),
            "{msg}"
        );
    }
}

/// Files from a review that fed about 190 broken sessions to every command: each gave an error
/// that named the wrong problem, or none. Now each names the number at fault.
#[test]
fn edited_header_numbers_are_refused_naming_the_field_and_a_byte_order_mark_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let (good, text) = saved_session();
    let name = format!("name: \"{}\"", good.preset.name);
    let cases: [(&str, String, &[&str]); 6] = [
        // Once: "checkpoint is at epoch 2 but the last record is at epoch Some(2)".
        (
            "train-samples.ron",
            text.replacen("train_samples: 60000", "train_samples: 1", 1),
            &[
                "train_class_counts",
                "add up to 60000",
                "train_samples is 1",
            ],
        ),
        (
            "test-samples.ron",
            text.replacen("test_samples: 10000", "test_samples: 1000000000", 1),
            &["test_samples", "1000000000"],
        ),
        (
            "settled-nan.ron",
            text.replacen("settled_below: Some(0.01)", "settled_below: Some(NaN)", 1),
            &["settled_below", "NaN"],
        ),
        // Once loaded, and a megabyte name took the app to 1.3 GB.
        (
            "long-name.ron",
            text.replacen(&name, &format!("name: \"{}\"", "A".repeat(100_000)), 1),
            &["name", "100000 characters", "more than 2000"],
        ),
        // Once: "hidden widths [4294967295, 20]", no limit named.
        (
            "width.ron",
            text.replacen("widths: [20, 20]", "widths: [4294967295, 20]", 1),
            &["4294967295", "1 to 4096 nodes"],
        ),
        // Once a blob error ("holds 0 bytes, expected ...") or a class count out of range.
        (
            "reversed.ron",
            reversed_records(text),
            &["out of order or repeated"],
        ),
    ];
    for (file, edited, words) in cases {
        assert_ne!(&edited, text, "{file}: the edit did not apply");
        let path = write(dir.path(), file, &edited);
        let msg = load_err(&path).to_string();
        assert!(msg.contains(file), "{msg}");
        for w in words {
            assert!(msg.contains(w), "{file}: '{w}' not in: {msg}");
        }
        assert_eq!(msg.lines().count(), 1, "{msg}");
    }
    // A name with a terminal escape and a new line loads (earlier versions wrote such names),
    // and the command line prints it escaped: it once recoloured the terminal and started a
    // line of its own.
    let path = write(
        dir.path(),
        "escape-name.ron",
        &text.replacen(&name, "name: \"evil\\u{1b}[31mRED\\nx\"", 1),
    );
    let o = run_bin(&["inspect", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!out.contains('\u{1b}'), "{out}");
    assert!(out.contains("evil\\u{1b}[31mRED\\nx (seed"), "{out}");
    // Some editors start a file with a byte-order mark; the session is the same.
    let path = write(dir.path(), "bom.ron", &format!("\u{feff}{text}"));
    assert!(session::load(&path).unwrap() == *good);
}

/// The session's records in reverse order: the list `epochs: [(step: ..), (step: ..)]`, which
/// the writer puts before the checkpoint.
fn reversed_records(text: &str) -> String {
    const OPEN: &str = "(\n    step:";
    let start = text.find("epochs: [").unwrap() + "epochs: [".len();
    let end = text.find("],\n    checkpoint:").unwrap();
    let body = &text[start..end];
    let inner = body.strip_prefix(OPEN).unwrap().strip_suffix(')').unwrap();
    let mut records: Vec<&str> = inner.split(&format!("), {OPEN}")).collect();
    assert!(records.len() >= 3, "{} records", records.len());
    records.reverse();
    let records: Vec<String> = records.iter().map(|r| format!("{OPEN}{r})")).collect();
    format!("{}{}{}", &text[..start], records.join(", "), &text[end..])
}

/// A device that never ends is refused at its first bytes, not read until memory runs out.
#[cfg(unix)]
#[test]
fn an_endless_device_is_refused_as_not_a_session() {
    let msg = load_err(Path::new("/dev/zero")).to_string();
    assert!(
        msg.contains("/dev/zero") && msg.contains("not a Sample Sets session"),
        "{msg}"
    );
}

/// Resuming on other data names how it differs: it once printed both class-count lists, equal,
/// when only a file's digest differed.
#[test]
fn resuming_on_other_data_names_the_difference_and_leaves_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (good, _) = saved_session();
    let mut s = good.clone();
    s.dataset.sha256[0] = "0".repeat(64);
    let (path, before) = save_edited(dir.path(), "other-images.ron", &s);
    resume_refused(
        &path,
        &before,
        &[],
        7,
        &["training images file's SHA-256 differs"],
    );
    let mut s = good.clone();
    s.dataset.test_samples = 9999;
    let (path, before) = save_edited(dir.path(), "other-test.ron", &s);
    resume_refused(&path, &before, &[], 7, &["9999 test samples against 10000"]);
}
