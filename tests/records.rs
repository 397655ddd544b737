//! Records inside epoch 1 and their newer quantities on real MNIST runs: the schedule does not
//! change training, turnover is exact, a run interrupted after a record inside an epoch
//! resumes to the same bits, and sessions of schema 1 still open, save and resume.

mod common;

use std::path::Path;

use sample_sets::measure::Schedule;
use sample_sets::preset;
use sample_sets::session::{self, RunStatus, Session};
use sample_sets::train::{Control, Run, RunEvent};

fn preset(epochs: u32, seed: u64, probe: usize, schedule: Schedule) -> preset::Preset {
    let mut p = preset::find("mnist-2x20-ce", &[]).unwrap();
    p.epochs = epochs;
    p.seed = seed;
    p.probe_size = probe;
    p.schedule = schedule;
    p
}

fn train(p: preset::Preset) -> Session {
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
fn measuring_inside_epoch_one_does_not_change_training() {
    let dense = train(preset(2, 4, 200, Schedule::Doubling { per_doubling: 2 }));
    let sparse = train(preset(2, 4, 200, Schedule::PerEpoch));
    assert_eq!(dense.epochs.len(), 3 + 17, "17 steps inside epoch 1");
    assert_eq!(sparse.epochs.len(), 3);
    assert!(dense.checkpoint == sparse.checkpoint, "weights differ");
    for e in &sparse.epochs {
        let d = dense.epochs.iter().find(|d| d.step == e.step).unwrap();
        assert_eq!(d.epoch, e.epoch);
        // Everything but what is relative to the previous record.
        for (a, b) in [
            (d.train_loss, e.train_loss),
            (d.test_loss, e.test_loss),
            (d.test_accuracy, e.test_accuracy),
            (d.settled_share.unwrap(), e.settled_share.unwrap()),
        ] {
            assert_eq!(a.to_bits(), b.to_bits(), "step {}", e.step);
        }
        assert_eq!(d.minibatch_loss, e.minibatch_loss);
        for (a, b) in d.layers.iter().zip(&e.layers) {
            assert_eq!(a.counts, b.counts);
            assert_eq!(a.probe_bits, b.probe_bits);
            assert!(a.cost == b.cost, "step {}: cost differs", e.step);
        }
    }
    // Positions: the records inside epoch 1 sit at step / 469.
    assert_eq!(dense.steps_per_epoch(), 469);
    assert_eq!(dense.record_position(3), Some(3.0 / 469.0));
    assert_eq!(dense.epochs_done(), 2);
}

#[test]
fn turnover_is_exact_over_all_samples() {
    // The probe is the whole training set, so its bitsets are the sample sets.
    let s = train(preset(1, 2, 60_000, Schedule::default()));
    let words = s.probe.words();
    let mut moved = 0u64;
    for pair in s.epochs.windows(2) {
        let (prev, now) = (&pair[0], &pair[1]);
        for (l, (a, b)) in now.layers.iter().zip(&prev.layers).enumerate() {
            assert_eq!(a.added.len(), 20);
            for j in 0..20 {
                let size = |r: &sample_sets::session::LayerRecord| -> i64 {
                    r.counts[j * 10..(j + 1) * 10]
                        .iter()
                        .map(|&c| i64::from(c))
                        .sum()
                };
                assert_eq!(
                    size(a) - size(b),
                    i64::from(a.added[j]) - i64::from(a.removed[j]),
                    "step {} layer {l} node {j}",
                    now.step
                );
                let (x, y) = (
                    &a.probe_bits[j * words..(j + 1) * words],
                    &b.probe_bits[j * words..(j + 1) * words],
                );
                let added: u32 = x.iter().zip(y).map(|(x, y)| (x & !y).count_ones()).sum();
                let removed: u32 = x.iter().zip(y).map(|(x, y)| (y & !x).count_ones()).sum();
                assert_eq!((a.added[j], a.removed[j]), (added, removed));
                moved += u64::from(added + removed);
            }
        }
    }
    assert!(moved > 0, "no sample ever changed set");
    assert!(s.epochs[0].layers[0].added.is_empty());
}

/// Trains `p`, cancelling once the record at `cancel_at` is in; returns the session on disk.
fn interrupted(p: preset::Preset, cancel_at: u64, path: &Path) -> Session {
    let mut run = Run::new(p, common::mnist(), 1).unwrap();
    let control = Control::default();
    let status = run.execute(common::mnist(), Some(path), &control, &mut |ev| {
        if let RunEvent::Epoch(rec) = ev
            && rec.step == cancel_at
        {
            control.cancel();
        }
    });
    assert_eq!(status, RunStatus::Cancelled);
    session::load(path).unwrap()
}

#[test]
fn a_run_interrupted_inside_an_epoch_or_at_its_end_resumes_bit_identically() {
    let dir = tempfile::tempdir().unwrap();
    let p = preset(2, 9, 300, Schedule::default());
    let full = without_timing(train(p.clone()));
    // After the record at step 8, inside epoch 1 (the checkpoint is still at epoch 0), and at
    // the end of epoch 1.
    for cancel_at in [8, 469] {
        let path = dir.path().join(format!("cut-{cancel_at}.ron"));
        let cut = interrupted(p.clone(), cancel_at, &path);
        assert_eq!(cut.epochs.last().unwrap().step, cancel_at);
        let cp = cut.checkpoint.as_ref().unwrap().epoch;
        assert_eq!(cp, if cancel_at == 8 { 0 } else { 1 });
        let mut run = Run::resume(cut, common::mnist(), "test").unwrap();
        let status = run.execute(
            common::mnist(),
            Some(&path),
            &Control::default(),
            &mut |_| {},
        );
        assert_eq!(status, RunStatus::Completed);
        assert!(
            without_timing(run.session) == full,
            "resumed after step {cancel_at} differs"
        );
        assert!(without_timing(session::load(&path).unwrap()) == full);
    }
}

fn example() -> Session {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/example-schema1-2x80-ce.ron"
    );
    session::load(Path::new(path)).unwrap()
}

#[test]
fn a_schema_one_session_opens_saves_and_resumes_with_nothing_lost() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/example-schema1-2x80-ce.ron"
    ))
    .unwrap();
    assert!(
        text.contains("schema: 1,"),
        "the example is no longer schema 1"
    );
    let old = example();
    assert_eq!(old.preset.schedule, Schedule::PerEpoch);
    assert_eq!(old.epochs.len(), 21);
    for (i, e) in old.epochs.iter().enumerate() {
        assert_eq!(e.step, i as u64 * 469);
        assert_eq!(e.epoch as usize, i);
        assert!(e.settled_share.is_none() && e.sample_loss.is_none());
        for l in &e.layers {
            assert!(l.cost.is_none() && l.added.is_empty());
            assert_eq!(l.churn.len(), if i == 0 { 0 } else { 80 });
        }
    }
    // Saved again (in the current schema) it reads back the same.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("again.ron");
    session::save(&old, &path).unwrap();
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains(&format!("schema: {},", session::SCHEMA))
    );
    assert!(
        session::load(&path).unwrap() == old,
        "round trip changed it"
    );
    // One more epoch: the new record has turnover and cost; the old records are unchanged.
    let mut run = Run::resume(old.clone(), common::mnist(), "example").unwrap();
    run.session.preset.epochs = 21;
    let status = run.execute(
        common::mnist(),
        Some(&path),
        &Control::default(),
        &mut |_| {},
    );
    assert_eq!(status, RunStatus::Completed);
    let new = session::load(&path).unwrap();
    assert!(new == run.session);
    assert!(new.epochs[..21] == old.epochs[..], "old records changed");
    let last = &new.epochs[21];
    assert_eq!((last.step, last.epoch), (21 * 469, 21));
    assert!(last.settled_share.is_some());
    for l in &last.layers {
        assert!(l.cost.is_some() && l.added.len() == 80 && l.churn.len() == 80);
    }
}
