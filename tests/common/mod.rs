//! Shared test helpers: the real MNIST from ../shared/datasets/mnist (or SAMPLE_SETS_DATA).
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use sample_sets::data::Dataset;

/// The folder holding the real MNIST files.
pub fn mnist_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("SAMPLE_SETS_DATA").filter(|v| !v.is_empty()) {
        return PathBuf::from(d);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets/mnist")
}

/// MNIST, loaded once per test binary.
pub fn mnist() -> &'static Dataset {
    static DATA: OnceLock<Dataset> = OnceLock::new();
    DATA.get_or_init(|| match Dataset::load(&mnist_dir()) {
        Ok(d) => d,
        Err(e) => panic!("the real MNIST is needed for tests: {e}"),
    })
}

/// The path of the built `sample-sets` binary.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sample-sets"))
}

/// Runs the binary with `args` as a user would (without `SAMPLE_SETS_DATA`, so that only
/// `--data` finds data), failing the test instead of hanging it when the command is still
/// running after five minutes (a run that trains for ever).
pub fn run(args: &[&str]) -> std::process::Output {
    use std::process::{Command, Stdio};
    let mut child = Command::new(bin())
        .args(args)
        .env_remove("SAMPLE_SETS_DATA")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read the pipes while waiting, so that a chatty command cannot fill them and stall.
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out, &mut v);
        v
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut err, &mut v);
        v
    });
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > std::time::Duration::from_secs(300) {
            let _ = child.kill();
            let _ = child.wait();
            let err = String::from_utf8_lossy(&err.join().unwrap()).into_owned();
            panic!("{args:?} still running after 300 s: {err}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    std::process::Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// A command's standard error as text.
pub fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
