//! Session files: round trip, atomic saves and bad files.

mod common;

use std::path::Path;
use std::sync::OnceLock;

use sample_sets::preset;
use sample_sets::session::{self, Session, SessionError};
use sample_sets::train::{Control, Run};

fn small_session() -> &'static Session {
    static S: OnceLock<Session> = OnceLock::new();
    S.get_or_init(|| {
        let mut p = preset::find("mnist-2x20-ce", &[]).unwrap();
        p.epochs = 2;
        p.probe_size = 500;
        let mut run = Run::new(p, common::mnist(), 1).unwrap();
        run.execute(common::mnist(), None, &Control::default(), &mut |_| {});
        run.session
    })
}

#[test]
fn load_of_save_is_the_same_session() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.ron");
    let s = small_session();
    session::save(s, &path).unwrap();
    let back = session::load(&path).unwrap();
    assert!(&back == s, "round trip changed the session");
    // Scalars read as plain text.
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("name: \"mnist-2x20-ce\""));
    assert!(text.contains("test_accuracy:"));
    assert!(text.contains("format: \"sample-sets session\""));
    // Strings are written unescaped (raw when they must be): awkward names still read back.
    let mut odd = s.clone();
    odd.preset.name = "quote \" backslash \\ hash #\" newline \n tab \t é".into();
    session::save(&odd, &path).unwrap();
    assert!(session::load(&path).unwrap() == odd, "awkward name changed");
}

#[test]
fn a_run_saves_after_every_record_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.ron");
    let mut p = preset::find("mnist-2x20-ce", &[]).unwrap();
    p.epochs = 3;
    p.probe_size = 100;
    let mut run = Run::new(p, common::mnist(), 1).unwrap();
    let mut seen = Vec::new();
    let mut on_disk_steps = Vec::new();
    run.execute(
        common::mnist(),
        Some(&path),
        &Control::default(),
        &mut |ev| {
            if let sample_sets::train::RunEvent::Epoch(rec) = ev {
                seen.push(rec.step);
                // Saves are written in the background: the file may still be an earlier
                // save, but it is always whole (read once, as one save).
                let Ok(bytes) = std::fs::read(&path) else {
                    // Only the very first save can still be on its way.
                    assert_eq!(rec.step, 0, "no file on disk after step {}", rec.step);
                    return;
                };
                let text = String::from_utf8(bytes.clone()).unwrap();
                let on_disk = session::load_bytes(bytes, &path).unwrap();
                on_disk_steps.push(on_disk.epochs.iter().map(|e| e.step).collect::<Vec<_>>());
                // Saves after the first extend the previous text: it must be exactly the
                // text of writing the same session whole.
                // (A writer for another path: one for this path would take the file's texts.)
                let elsewhere = dir.path().join("elsewhere.ron");
                let whole = session::SessionWriter::new(&elsewhere, &on_disk).to_ron();
                assert!(text == whole, "step {}: extended save differs", rec.step);
            }
        },
    );
    // The default schedule: before training, steps 1, 2, 4, ..., 256 of epoch 1 (469 steps
    // of 128 samples), then every epoch.
    let steps = [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 469, 938, 1407];
    assert_eq!(seen, steps.to_vec());
    // Each file seen was a save of the run: its records a prefix of the run's.
    for on_disk in &on_disk_steps {
        assert!(
            steps.starts_with(on_disk),
            "{on_disk:?} is not a save of the run"
        );
    }
    // When the run returns, the file holds all of it.
    assert!(session::load(&path).unwrap() == run.session);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "no temporary files left: {names:?}");
}

#[test]
fn a_writer_takes_records_from_its_file_only_when_they_are_the_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.ron");
    let s = small_session();
    session::save(s, &path).unwrap();
    let whole =
        |x: &Session| session::SessionWriter::new(&dir.path().join("nowhere.ron"), x).to_ron();
    // Resumed from its own file (the records are taken from it): the same text.
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(session::SessionWriter::new(&path, s).to_ron() == text);
    assert!(whole(s) == text);
    // Records that differ from the file's from the second on are encoded, not taken.
    let mut changed = s.clone();
    changed.epochs[1].train_loss += 1.0;
    let written = session::SessionWriter::new(&path, &changed).to_ron();
    assert!(written != text && written == whole(&changed));
    // Another run at that path (another seed): nothing is taken.
    let mut other = s.clone();
    other.preset.seed += 1;
    assert!(session::SessionWriter::new(&path, &other).to_ron() == whole(&other));
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn truncated_garbage_and_foreign_files_give_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.ron");
    session::save(small_session(), &good).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let mut cases = Vec::new();
    for frac in [0.001, 0.1, 0.5, 0.9, 0.999] {
        let cut = (bytes.len() as f64 * frac) as usize;
        cases.push((format!("cut-{frac}.ron"), bytes[..cut].to_vec()));
    }
    cases.push(("empty.ron".into(), Vec::new()));
    cases.push((
        "garbage.ron".into(),
        (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect(),
    ));
    cases.push((
        "preset.ron".into(),
        preset::EMBEDDED[0].1.as_bytes().to_vec(),
    ));
    let text = String::from_utf8(bytes.clone()).unwrap();
    cases.push((
        "newer.ron".into(),
        text.replacen(&format!("schema: {}", session::SCHEMA), "schema: 99", 1)
            .into_bytes(),
    ));
    // A counts blob replaced by one from a larger layer: lengths disagree with widths.
    let start = text.find("counts: \"").unwrap() + 9;
    let end = start + text[start..].find('"').unwrap();
    let big = sample_sets::session::blob::encode_u32(&vec![7u32; 1_000_000]);
    cases.push((
        "long-blob.ron".into(),
        format!("{}{}{}", &text[..start], big, &text[end..]).into_bytes(),
    ));
    cases.push((
        "bad-base64.ron".into(),
        format!("{}!!!{}", &text[..start], &text[end..]).into_bytes(),
    ));
    // Epoch records removed but the checkpoint kept: resuming would write an unreadable file.
    let e0 = text.find("    epochs: [").unwrap();
    let cp = text.find("    checkpoint:").unwrap();
    cases.push((
        "no-epochs.ron".into(),
        format!("{}    epochs: [],\n{}", &text[..e0], &text[cp..]).into_bytes(),
    ));
    cases.push((
        "preset-mismatch.ron".into(),
        text.replacen("hidden_layers: 2", "hidden_layers: 3", 1)
            .into_bytes(),
    ));
    cases.push((
        "widths.ron".into(),
        text.replacen("widths: [20, 20]", "widths: [4000000000, 20]", 1)
            .into_bytes(),
    ));
    for (name, data) in cases {
        let p = write(dir.path(), &name, &data);
        let err = session::load(&p).expect_err(&name);
        let msg = err.to_string();
        assert!(msg.contains(&name), "{name}: {msg}");
        if name == "newer.ron" {
            assert!(
                matches!(err, SessionError::NewerSchema { found: 99, .. }),
                "{msg}"
            );
        }
    }
    // Nothing already saved changed.
    assert_eq!(std::fs::read(&good).unwrap(), bytes);
}

#[test]
fn extended_saves_survive_names_that_look_like_the_file_layout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("odd.ron");
    let mut odd = small_session().clone();
    // Saves after the first extend the previous text, found by markers in the layout; names
    // are written unescaped, so this one holds those markers.
    odd.preset.name = "x\n    epochs: [(\n    ), (],\n    checkpoint: None\n\"#".into();
    let mut first = odd.clone();
    first.epochs.truncate(1);
    let mut writer = session::SessionWriter::new(&path, &first);
    writer.save().unwrap();
    for rec in &odd.epochs[1..] {
        writer.push_epoch(rec);
        writer.save().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text == writer.to_ron(),
            "epoch {}: extended save differs from a whole one",
            rec.epoch
        );
    }
    assert!(session::load(&path).unwrap() == odd, "odd session changed");
}

/// `session::load` as it was before records were parsed in pieces: the whole text at once.
fn load_whole(path: &Path) -> Session {
    let text = std::fs::read_to_string(path).unwrap();
    let file: session::file::SessionFile = ron::from_str(&text).unwrap();
    session::file::decode(file, path).unwrap()
}

#[test]
fn a_file_read_in_pieces_is_the_session_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.ron");
    let s = small_session();
    session::save(s, &path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let parts = session::parts::split(&text).expect("a saved file is cut into pieces");
    assert_eq!(parts.records.len(), s.epochs.len());
    assert!(parts.checkpoint.starts_with("Some("));
    let back = session::load(&path).unwrap();
    assert!(back == load_whole(&path) && &back == s);
    // A name holding the markers the pieces are found by: the text cannot be cut there (the
    // part before the records would end inside the name), so it is read whole.
    let mut odd = s.clone();
    odd.preset.name = "x\n    epochs: [(\n    ), (],\n    checkpoint: None,\n)\"#".into();
    session::save(&odd, &path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(session::parts::split(&text).is_none());
    assert!(session::load(&path).unwrap() == odd);
    // Schema 2 as an earlier version wrote it.
    let old = schema_two_fixture();
    assert!(session::load(&old).unwrap() == load_whole(&old));
}

/// Schema 2 as the program wrote it before schema 3: a 2x20 run of 2 epochs with a 100-sample
/// probe (`train --preset mnist-2x20-ce --epochs 2 --probe 100 --threads 1`).
fn schema_two_fixture() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/session-schema2.ron")
}

#[test]
fn a_schema_two_session_reads_back_the_same_after_a_save_in_the_current_schema() {
    let old_path = schema_two_fixture();
    let old_bytes = std::fs::read(&old_path).unwrap();
    let old_text = String::from_utf8(old_bytes.clone()).unwrap();
    assert!(
        old_text.contains("schema: 2,"),
        "the fixture is no longer schema 2"
    );
    let old = session::load(&old_path).unwrap();
    let steps: Vec<u64> = old.epochs.iter().map(|e| e.step).collect();
    assert_eq!(steps, [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 469, 938]);
    for e in &old.epochs[1..] {
        for l in &e.layers {
            assert!(l.cost.is_some() && l.added.len() == 20 && l.removed.len() == 20);
        }
    }
    assert!(old.checkpoint.is_some() && old.status == session::RunStatus::Completed);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("again.ron");
    session::save(&old, &path).unwrap();
    let new_bytes = std::fs::read(&path).unwrap();
    let new_text = String::from_utf8(new_bytes.clone()).unwrap();
    assert!(new_text.contains(&format!("schema: {},", session::SCHEMA)));
    assert!(
        session::load(&path).unwrap() == old,
        "round trip changed it"
    );
    assert!(
        new_bytes.len() < old_bytes.len() * 9 / 10,
        "{} bytes in schema 2, {} now",
        old_bytes.len(),
        new_bytes.len()
    );
    // While it runs its checkpoint is stored (rewritten after every epoch): a larger file that
    // reads back the same.
    let mut running = old.clone();
    running.status = session::RunStatus::Running;
    let running_path = dir.path().join("running.ron");
    session::save(&running, &running_path).unwrap();
    assert!(session::load(&running_path).unwrap() == running);
    assert!(std::fs::metadata(&running_path).unwrap().len() > new_bytes.len() as u64);
}

/// `load(save(x)) == x` on a real long session (a 9x320 run of 100 or 200 epochs, tens of MB,
/// not in the repository):
/// `SAMPLE_SETS_REAL_SESSION=FILE cargo test --release --test sessions -- --ignored real_long`.
#[test]
#[ignore = "needs a real 9x320 session file (tens of MB, not in the repository): set SAMPLE_SETS_REAL_SESSION"]
fn a_real_long_session_reads_back_the_same_after_a_save_in_the_current_schema() {
    let from = std::env::var_os("SAMPLE_SETS_REAL_SESSION")
        .expect("set SAMPLE_SETS_REAL_SESSION to a session file");
    let from = Path::new(&from);
    let s = session::load(from).unwrap();
    // Read in pieces on all cores, as the whole text on one.
    assert!(s == load_whole(from), "reading in pieces changed it");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("again.ron");
    session::save(&s, &path).unwrap();
    assert!(session::load(&path).unwrap() == s, "round trip changed it");
    let size = |p: &Path| std::fs::metadata(p).unwrap().len();
    eprintln!(
        "{}: {} bytes, saved again in schema {}: {} bytes",
        from.display(),
        size(from),
        session::SCHEMA,
        size(&path)
    );
}
