//! `sample-sets grid slurm --submit` on a real one-node Slurm cluster (`bash scripts/slurm-up`
//! starts one; `bash scripts/test` does that when run as root). Without `sbatch` this test
//! fails and says so: it never passes without having run the grid on Slurm.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use sample_sets::session::{self, RunStatus, Session};

const FILES: [&str; 4] = [
    "mnist-2x20-ce-seed1.ron",
    "mnist-2x20-ce-seed2.ron",
    "mnist-2x20-mse-seed1.ron",
    "mnist-2x20-mse-seed2.ron",
];

/// How long the array may take: 4 tasks of 2 epochs of a 2x20 network, 2 at a time.
const TIMEOUT: Duration = Duration::from_secs(900);

fn grid(sub: &str, dir: &Path, extra: &[&str]) -> Output {
    Command::new(common::bin())
        .args(["grid", sub])
        .arg(dir)
        .args(["--presets", "mnist-2x20-ce", "mnist-2x20-mse"])
        .args(["--seeds", "1,2", "--epochs", "2"])
        .arg("--data")
        .arg(common::mnist_dir())
        .args(extra)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn without_timing(mut s: Session) -> Session {
    for e in &mut s.epochs {
        e.timing = Default::default();
    }
    s
}

/// The task logs, for failure messages.
fn logs(dir: &Path) -> String {
    let mut text = String::new();
    if let Ok(entries) = std::fs::read_dir(dir.join("slurm/logs")) {
        for e in entries.flatten() {
            text.push_str(&format!("--- {}\n", e.path().display()));
            text.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
        }
    }
    text
}

/// Waits until job `id` has left the queue.
fn wait_for(id: &str, dir: &Path) {
    let start = Instant::now();
    loop {
        let o = Command::new("squeue")
            .args(["-h", "-j", id, "-o", "%i %T %R"])
            .output()
            .unwrap();
        let queue = String::from_utf8_lossy(&o.stdout).trim().to_string();
        // squeue answers with an error once the job is gone from the controller's memory.
        if queue.is_empty() {
            return;
        }
        assert!(
            start.elapsed() < TIMEOUT,
            "job {id} still queued after {TIMEOUT:?}:\n{queue}\n{}",
            logs(dir)
        );
        std::thread::sleep(Duration::from_secs(1));
    }
}

fn submit(dir: &Path) -> String {
    let o = grid("slurm", dir, &["--submit"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let id = String::from_utf8_lossy(&o.stdout).trim().to_string();
    assert!(
        !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()),
        "no job id printed: '{id}'"
    );
    id
}

#[test]
fn a_grid_submitted_to_slurm_trains_the_same_sessions_as_a_local_grid() {
    let found = Command::new("sbatch").arg("--version").output();
    assert!(
        found.as_ref().is_ok_and(|o| o.status.success()),
        "sbatch is not installed here, so the grid cannot be tested on Slurm: run \
         `bash scripts/slurm-up` as root (Debian: installs slurm-wlm and munge and starts a \
         one-node cluster), or `bash scripts/test`, which does that"
    );
    let sinfo = Command::new("sinfo")
        .args(["-h", "-o", "%T"])
        .output()
        .unwrap();
    let states = String::from_utf8_lossy(&sinfo.stdout).to_string();
    assert!(
        sinfo.status.success()
            && states
                .lines()
                .any(|s| s.starts_with("idle") || s.starts_with("mixed") || s.starts_with("alloc")),
        "sbatch is there but no Slurm node is up ({}{}): run `bash scripts/slurm-up` as root",
        states.trim(),
        String::from_utf8_lossy(&sinfo.stderr).trim()
    );

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("grid");
    let started = Instant::now();
    let id = submit(&dir);
    let script = std::fs::read_to_string(dir.join("grid.sbatch")).unwrap();
    assert!(script.contains("#SBATCH --array=0-3"), "{script}");
    wait_for(&id, &dir);
    eprintln!("Slurm job {id}: 4 tasks done in {:.1?}", started.elapsed());

    // The same grid trained here.
    let local = tmp.path().join("local");
    let o = grid("run", &local, &["--jobs", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in FILES {
        let s = session::load(&dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}\n{}", logs(&dir)));
        assert_eq!(s.status, RunStatus::Completed, "{f}");
        assert_eq!(s.epochs_done(), 2, "{f}");
        assert_eq!(s.threads, 1, "{f}: trained with one thread");
        let here = session::load(&local.join(f)).unwrap();
        assert!(
            without_timing(s) == without_timing(here),
            "{f}: the Slurm run differs from the local one"
        );
    }

    // Resubmitted, the array finds every run complete and changes nothing.
    let before: Vec<Vec<u8>> = FILES
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect();
    let again = submit(&dir);
    wait_for(&again, &dir);
    let after: Vec<Vec<u8>> = FILES
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect();
    assert!(before == after, "a resubmitted array changed finished runs");
    let log = logs(&dir);
    assert_eq!(log.matches("completed already").count(), 4, "{log}");

    let o = Command::new(common::bin())
        .args(["grid", "status"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("4 runs: 4 completed"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}
