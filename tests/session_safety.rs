//! Session files that once crashed, hung or were silently accepted: each test was written to
//! fail on the code before its fix (issue 15, faults 1 to 3), on real runs on the real MNIST.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use sample_sets::preset::{self, Preset};
use sample_sets::session::{self, RunStatus, Session, SessionError};
use sample_sets::train::{Control, Run};

fn run_bin(args: &[&str]) -> Output {
    Command::new(common::bin())
        .args(args)
        .env_remove("SAMPLE_SETS_DATA")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn small_preset(epochs: u32) -> Preset {
    let mut p = preset::find("mnist-2x20-ce", &[]).unwrap();
    p.epochs = epochs;
    p.probe_size = 200;
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
