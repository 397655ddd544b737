//! The command line never replaces a file without `--force`, checks its output before the
//! first epoch, reports a failed save at once, and refuses presets it cannot run (issue 15,
//! faults 4 to 6). Each test was written to fail on the code before its fix; all run the real
//! binary on the real MNIST.

mod common;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use common::{run, stderr};

fn data() -> String {
    common::mnist_dir().display().to_string()
}

/// A 1-epoch mnist-2x20-ce session made by `train` once per test binary (bytes).
fn session_bytes() -> &'static [u8] {
    static S: OnceLock<Vec<u8>> = OnceLock::new();
    S.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run.ron");
        let o = run(&[
            "train",
            "--preset",
            "mnist-2x20-ce",
            "--epochs",
            "1",
            "--probe",
            "100",
            "--threads",
            "1",
            "--quiet",
            "--data",
            &data(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        std::fs::read(&out).unwrap()
    })
}

fn put(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Runs `args`, expects exit `code`, a message naming `path` and `path` unchanged.
fn refused(args: &[&str], code: i32, path: &Path, before: &[u8]) -> String {
    let o = run(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
    assert!(err.contains(&path.display().to_string()), "{args:?}: {err}");
    assert!(
        std::fs::read(path).unwrap() == before,
        "{args:?}: {} changed",
        path.display()
    );
    err
}

#[test]
fn no_command_replaces_an_existing_file_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let session = put(dir.path(), "run.ron", session_bytes());
    let s = session.to_str().unwrap();
    let data = data();
    let precious = b"precious notes";

    // train --out EXISTING.
    let existing = put(dir.path(), "existing.ron", precious);
    let e = existing.to_str().unwrap();
    let base = ["--threads", "1", "--quiet", "--data", &data];
    let mut args = vec![
        "train",
        "--preset",
        "mnist-2x20-ce",
        "--epochs",
        "1",
        "--out",
        e,
    ];
    args.extend(base);
    let err = refused(&args, 6, &existing, precious);
    assert!(err.contains("--force"), "{err}");

    // train --resume X --out EXISTING: neither file changes.
    let mut args = vec!["train", "--resume", s, "--epochs", "2", "--out", e];
    args.extend(base);
    refused(&args, 6, &existing, precious);
    assert!(std::fs::read(&session).unwrap() == session_bytes());
    // ... with --force it is replaced by the resumed run, and X still does not change.
    args.push("--force");
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let resumed = sample_sets::session::load(&existing).unwrap();
    assert_eq!(resumed.epochs_done(), 2);
    assert!(std::fs::read(&session).unwrap() == session_bytes());

    // export --csv EXISTING, --plot --out EXISTING.
    let csv = put(dir.path(), "nodes.csv", precious);
    refused(
        &["export", s, "--csv", csv.to_str().unwrap()],
        6,
        &csv,
        precious,
    );
    let png = put(dir.path(), "loss.png", precious);
    refused(
        &[
            "export",
            s,
            "--plot",
            "loss",
            "--out",
            png.to_str().unwrap(),
        ],
        6,
        &png,
        precious,
    );
    let o = run(&["export", s, "--csv", csv.to_str().unwrap(), "--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        std::fs::read_to_string(&csv)
            .unwrap()
            .starts_with("step,epoch,layer,node")
    );

    // export --all --out DIR holding one of the set's files: nothing at all is written.
    let figures = dir.path().join("figures");
    std::fs::create_dir(&figures).unwrap();
    let taken = put(&figures, "mnist-2x20-ce-seed1_loss.png", precious);
    refused(
        &["export", s, "--all", "--out", figures.to_str().unwrap()],
        6,
        &taken,
        precious,
    );
    assert_eq!(std::fs::read_dir(&figures).unwrap().count(), 1);
    let o = run(&[
        "export",
        s,
        "--all",
        "--out",
        figures.to_str().unwrap(),
        "--force",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read_dir(&figures).unwrap().count() > 5);

    // download-mnist --dest DIR holding a different file under one of MNIST's names: refused
    // before anything is fetched.
    let dest = dir.path().join("mnist");
    std::fs::create_dir(&dest).unwrap();
    let gz = put(&dest, "train-labels-idx1-ubyte.gz", precious);
    let err = refused(
        &["download-mnist", "--dest", dest.to_str().unwrap()],
        6,
        &gz,
        precious,
    );
    assert!(err.contains("--force"), "{err}");
}

#[test]
fn resuming_onto_its_own_file_is_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let session = put(dir.path(), "run.ron", session_bytes());
    let s = session.to_str().unwrap();
    let data = data();
    let base = ["--threads", "1", "--quiet", "--data", &data];
    for (epochs, out) in [("2", None), ("3", Some(s))] {
        let mut args = vec!["train", "--resume", s, "--epochs", epochs];
        if let Some(o) = out {
            args.extend(["--out", o]);
        }
        args.extend(base);
        let o = run(&args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        let back = sample_sets::session::load(&session).unwrap();
        assert_eq!(back.epochs_done().to_string(), epochs);
    }
}

#[test]
fn an_output_that_cannot_be_written_fails_before_the_first_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let data = data();
    // A folder where the session file should go (even with --force: a folder is never
    // replaced); a path no one may create a file in (as root too: /proc takes no new files).
    let folder = dir.path().join("a-folder.ron");
    std::fs::create_dir(&folder).unwrap();
    let f = folder.to_str().unwrap();
    let session = put(dir.path(), "run.ron", session_bytes());
    let s = session.to_str().unwrap();
    let fresh = [
        "train",
        "--preset",
        "mnist-2x20-ce",
        "--epochs",
        "1",
        "--probe",
        "100",
    ];
    let resume = ["train", "--resume", s, "--epochs", "2"];
    for (start, out, force) in [
        (&fresh[..], f, true),
        (&resume[..], f, false),
        (&resume[..], f, true),
        (&fresh[..], "/proc/sample-sets-run.ron", false),
        (&resume[..], "/proc/sample-sets-run.ron", false),
    ] {
        let mut args = start.to_vec();
        args.extend(["--threads", "1", "--quiet", "--data", &data, "--out", out]);
        if force {
            args.push("--force");
        }
        let o = run(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(6), "{args:?}: {err}");
        assert!(err.contains(out), "{args:?}: {err}");
        assert!(
            !err.contains("epoch "),
            "{args:?}: trained before failing: {err}"
        );
    }
    assert!(std::fs::read(&session).unwrap() == session_bytes());
    assert!(folder.is_dir());
}

#[test]
fn a_save_failing_mid_run_is_reported_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run.ron");
    // 2x80: an epoch takes long enough (seconds) that the file can be taken away between saves.
    let mut child = Command::new(common::bin())
        .args([
            "train",
            "--preset",
            "mnist-2x80-ce",
            "--epochs",
            "2",
            "--probe",
            "100",
            "--threads",
            "1",
            "--quiet",
            "--data",
            &data(),
            "--out",
            out.to_str().unwrap(),
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    let reader = std::io::BufReader::new(child.stderr.take().unwrap());
    for line in reader.lines() {
        let line = line.unwrap();
        if line.starts_with("epoch    0/2") {
            // Put a folder where the file is: no later save can replace it (root included,
            // unlike permission bits).
            put_folder_over(&out);
            std::fs::write(out.join("keep"), "x").unwrap();
        }
        lines.push(line);
    }
    let status = child.wait().unwrap();
    let text = lines.join("\n");
    assert_eq!(status.code(), Some(6), "{text}");
    let warning = lines
        .iter()
        .position(|l| l.starts_with("warning") && l.contains(&out.display().to_string()));
    let epoch1 = lines.iter().position(|l| l.starts_with("epoch    1/2"));
    match (warning, epoch1) {
        (Some(w), Some(e)) => assert!(w < e, "the warning came after epoch 1: {text}"),
        _ => panic!("no warning naming the file before epoch 1's line: {text}"),
    }
}

/// Replaces the file at `path` by an empty folder once the file is there. Saves are written
/// in the background, so the first may still be on its way, and a later one may land between
/// removing the file and creating the folder: then again.
fn put_folder_over(path: &Path) {
    for _ in 0..1000 {
        if std::fs::remove_file(path).is_ok() && std::fs::create_dir(path).is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!(
        "{}: no save to replace by a folder within 10 s",
        path.display()
    );
}

/// The embedded mnist-2x20-ce preset's text with `field: old` replaced by `field: new`.
fn preset_text_with(replacements: &[(&str, &str)]) -> String {
    let (_, text) = sample_sets::preset::EMBEDDED
        .iter()
        .find(|(n, _)| *n == "mnist-2x20-ce")
        .unwrap();
    let mut text = text.to_string();
    for (old, new) in replacements {
        assert!(text.contains(old), "{old}");
        text = text.replacen(old, new, 1);
    }
    text
}

/// Runs `train --preset-file` with at most 4 GB of address space: a run that tries to
/// allocate a preset's memory aborts instead of filling the machine.
fn train_preset_file(file: &Path) -> Output {
    let script = "ulimit -v 4000000; exec \"$0\" train --preset-file \"$1\" --data \"$2\" \
                  --out \"$3\" --threads 1 --quiet";
    let out = file.with_extension("session.ron");
    Command::new("sh")
        .args(["-c", script])
        .arg(common::bin())
        .args([
            file.as_os_str(),
            common::mnist_dir().as_os_str(),
            out.as_os_str(),
        ])
        .env_remove("SAMPLE_SETS_DATA")
        .output()
        .unwrap()
}

#[test]
fn presets_a_run_cannot_use_are_refused_up_front_naming_the_field_and_limit() {
    let dir = tempfile::tempdir().unwrap();
    /// File name, edits of the preset text, words the message must hold.
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [&'a str]);
    let cases: [Case<'_>; 4] = [
        // A subnormal eps is flushed to zero in training: the run then "diverged".
        (
            "subnormal-eps.ron",
            &[("eps: 1e-8", "eps: 1e-40")],
            &["adam.eps", "1e-40", "1.1754944e-38"],
        ),
        ("zero-eps.ron", &[("eps: 1e-8", "eps: 0.0")], &["adam.eps"]),
        // The largest sizes the field ranges allow: about 100 GB of weights and moments.
        (
            "64x4096.ron",
            &[
                ("hidden_layers: 2", "hidden_layers: 64"),
                ("width: 20", "width: 4096"),
            ],
            &["width", "GiB", "8.0 GiB"],
        ),
        // A modest network whose session (100,000 epochs, full-set probe) cannot fit.
        (
            "long-session.ron",
            &[
                ("epochs: 200", "epochs: 100000"),
                ("probe_size: 1000", "probe_size: 60000"),
            ],
            &["epochs", "GiB"],
        ),
    ];
    for (name, edits, words) in cases {
        let file = put(dir.path(), name, preset_text_with(edits).as_bytes());
        let o = train_preset_file(&file);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(4), "{name}: {err}");
        assert!(err.contains(name), "{name}: {err}");
        for w in words {
            assert!(err.contains(w), "{name}: '{w}' missing: {err}");
        }
        assert!(!err.contains("epoch "), "{name}: trained: {err}");
    }
}
