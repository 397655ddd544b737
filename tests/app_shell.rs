//! The app's shell driven through egui_kittest: runs that come back after a restart, exports
//! that land where the prompt shows, notices as toasts, the layout at 1024 x 700.
#![cfg(feature = "gui")]

mod common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use sample_sets::app::SampleSetsApp;
use sample_sets::app::command::Command;
use sample_sets::app::runs::{RunId, RunState};
use sample_sets::app::settings::Setting;
use sample_sets::app::settings::Settings;
use sample_sets::app::startup::{NodeRef, StartupOptions as AppConfig};
use sample_sets::preset::{Preset, find};
use sample_sets::session::RunStatus;

/// eframe storage kept in memory and shared between the app instances of one test (what
/// eframe keeps in the platform's config folder between launches).
#[derive(Clone, Default)]
struct MemStorage(Arc<Mutex<HashMap<String, String>>>);

impl eframe::Storage for MemStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.lock().unwrap().get(key).cloned()
    }
    fn set_string(&mut self, key: &str, value: String) {
        self.0.lock().unwrap().insert(key.to_string(), value);
    }
    fn remove_string(&mut self, key: &str) {
        self.0.lock().unwrap().remove(key);
    }
    fn flush(&mut self) {}
}

/// The app as eframe starts it, on `storage`, at `size`.
fn launch(
    storage: &MemStorage,
    config: AppConfig,
    size: [f32; 2],
) -> Harness<'static, SampleSetsApp> {
    // The creation context borrows the storage for the harness's lifetime.
    let store: &'static MemStorage = Box::leak(Box::new(storage.clone()));
    Harness::builder()
        .with_size(size)
        .wgpu()
        .build_eframe(move |cc| {
            cc.storage = Some(store);
            SampleSetsApp::new(cc, config)
        })
}

/// What eframe does when the window closes: save the app's state into `storage`.
fn close(mut h: Harness<'static, SampleSetsApp>, storage: &MemStorage) {
    let mut s = storage.clone();
    eframe::App::save(h.state_mut(), &mut s);
    drop(h);
}

/// Steps frames until `done` holds; fails after `timeout`.
fn wait_for(
    h: &mut Harness<'static, SampleSetsApp>,
    what: &str,
    timeout: Duration,
    done: impl Fn(&SampleSetsApp) -> bool,
) {
    let start = Instant::now();
    loop {
        h.step();
        if done(h.state()) {
            return;
        }
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn tiny(epochs: u32, probe: usize) -> Preset {
    let mut p = find("mnist-2x20-ce", &[]).unwrap();
    p.epochs = epochs;
    p.probe_size = probe;
    p
}

/// Runs listed with a loaded session, by file.
fn loaded_files(app: &SampleSetsApp) -> Vec<PathBuf> {
    app.state
        .runs
        .entries
        .iter()
        .filter(|e| e.session.is_some())
        .filter_map(|e| e.path.clone())
        .collect()
}

fn state(app: &SampleSetsApp, id: RunId) -> RunState {
    app.state.runs.get(id).unwrap().state.clone()
}

/// Opens File > Recent and returns the labels of its entries.
fn recent_menu(h: &mut Harness<'static, SampleSetsApp>) -> Vec<String> {
    h.get_by_label("File").click();
    h.run_steps(2);
    h.get_by_label("Recent").hover();
    h.run_steps(3);
    let listed: Vec<String> = h
        .state()
        .state
        .settings
        .recent
        .iter()
        .map(|p| p.display().to_string())
        .filter(|p| h.query_by_label(p).is_some())
        .collect();
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    listed
}

#[test]
fn runs_come_back_after_the_app_is_closed_and_opened_again() {
    let sessions = tempfile::tempdir().unwrap();
    let storage = MemStorage::default();
    let config = AppConfig {
        sessions_dir: Some(sessions.path().to_path_buf()),
        data_dir: Some(common::mnist_dir()),
        ..AppConfig::default()
    };

    // First launch: train a grid cell briefly, open the example from the File menu and a
    // copy of it that will be gone by the next launch.
    let mut h = launch(&storage, config.clone(), [1600.0, 1000.0]);
    wait_for(&mut h, "MNIST", Duration::from_secs(30), |a| {
        a.state.dataset().is_some()
    });
    h.state_mut()
        .apply(Command::StartPreset(Box::new(tiny(1, 50))));
    let trained = h.state().state.runs.newest().unwrap();
    wait_for(&mut h, "the run", Duration::from_secs(120), |a| {
        state(a, trained) == RunState::Done(RunStatus::Completed)
    });
    let trained_file = h
        .state()
        .state
        .runs
        .get(trained)
        .unwrap()
        .path
        .clone()
        .unwrap();
    h.get_by_label("File").click();
    h.run_steps(2);
    h.get_by_label("Open example session").click();
    wait_for(&mut h, "the example", Duration::from_secs(30), |a| {
        loaded_files(a).len() == 2
    });
    let copy = sessions.path().join("copy-of-example.ron");
    std::fs::write(&copy, sample_sets::app::example::EXAMPLE_SESSION).unwrap();
    h.state_mut().apply(Command::Open(copy.clone()));
    wait_for(&mut h, "the copy", Duration::from_secs(30), |a| {
        loaded_files(a).len() == 3
    });
    let example_file = loaded_files(h.state())
        .into_iter()
        .find(|p| p.file_name().is_some_and(|n| n != "copy-of-example.ron") && *p != trained_file)
        .unwrap();
    // The example is shown when the app closes.
    let example_id = h
        .state()
        .state
        .runs
        .entries
        .iter()
        .find(|e| e.path.as_ref() == Some(&example_file))
        .unwrap()
        .id;
    h.state_mut().apply(Command::SelectRun(example_id));
    h.step();
    let recent = recent_menu(&mut h);
    for f in [&trained_file, &example_file, &copy] {
        assert!(
            recent.contains(&f.display().to_string()),
            "File > Recent lists {} (it lists {recent:?})",
            f.display()
        );
    }
    close(h, &storage);
    std::fs::remove_file(&copy).unwrap();

    // Second launch on the same storage: the runs list comes back, read in the background.
    let mut h = launch(&storage, config, [1600.0, 1000.0]);
    wait_for(
        &mut h,
        "the runs of last time",
        Duration::from_secs(30),
        |a| loaded_files(a).len() == 2,
    );
    let files = loaded_files(h.state());
    assert!(files.contains(&trained_file) && files.contains(&example_file));
    assert_eq!(
        h.state().state.selected_run().and_then(|e| e.path.clone()),
        Some(example_file.clone()),
        "the run shown at closing is shown again"
    );
    h.run_steps(3);
    // The runs list shows them, the gone copy is named in a notice.
    h.get_by_label("mnist-2x80-ce (seed 1, 20 / 20 epochs)");
    let gone = h.get_by_label_contains("copy-of-example.ron");
    assert!(gone.rect().right() <= 1600.0);
    // The grid cell of the trained preset shows its accuracy.
    let acc = h
        .state()
        .state
        .runs
        .get(
            h.state()
                .state
                .runs
                .entries
                .iter()
                .find(|e| e.path.as_ref() == Some(&trained_file))
                .unwrap()
                .id,
        )
        .and_then(|e| e.session.as_ref())
        .and_then(|s| s.epochs.last())
        .unwrap()
        .test_accuracy;
    h.get_by_label(&format!("2x20\n{:.1}%", acc * 100.0));
    // The example stays in the File menu with data present.
    h.get_by_label("File").click();
    h.run_steps(2);
    h.get_by_label("Open example session");
}

#[test]
fn an_export_lands_at_the_path_the_prompt_shows() {
    let sessions = tempfile::tempdir().unwrap();
    let exports = tempfile::tempdir().unwrap();
    let storage = MemStorage::default();
    // The folder of an earlier export, as a user's saved settings would hold it.
    let mut settings = Settings {
        export_dir: Some(exports.path().to_path_buf()),
        ..Settings::default()
    };
    settings.recent.clear();
    eframe::set_value(&mut storage.clone(), "sample-sets-settings", &settings);
    let empty = tempfile::tempdir().unwrap();
    let mut h = launch(
        &storage,
        AppConfig {
            sessions_dir: Some(sessions.path().to_path_buf()),
            data_dir: Some(empty.path().to_path_buf()),
            ..AppConfig::default()
        },
        [1024.0, 700.0],
    );
    h.step();
    h.get_by_label("Open the example session").click();
    wait_for(&mut h, "the example", Duration::from_secs(30), |a| {
        a.state.selected_session().is_some()
    });
    h.get_by_label("Export").click();
    h.run_steps(2);
    h.get_by_label("Nodes CSV…").click();
    h.run_steps(3);
    let field = h.get_by_role_and_label(Role::TextInput, "File to write:");
    let shown = PathBuf::from(field.value().expect("the prompt shows a path"));
    assert!(shown.is_absolute(), "shown in full: {}", shown.display());
    assert_eq!(shown.parent(), Some(exports.path()));
    // The folder listing under the field names the same folder.
    h.get_by_label(&exports.path().display().to_string());
    h.get_by_label("OK").click();
    wait_for(&mut h, "the export", Duration::from_secs(30), |a| {
        a.state.notices.iter().any(|n| n.text.starts_with("wrote"))
    });
    assert!(shown.is_file(), "written where shown: {}", shown.display());
    let csv = std::fs::read_to_string(&shown).unwrap();
    assert!(csv.lines().count() > 160, "a row per node and record");
    h.run_steps(2);
    // The notice names the full path and offers the folder.
    let notice = format!("wrote {}", shown.display());
    h.get_by_label(&notice);
    let n = h
        .state()
        .state
        .notices
        .iter()
        .find(|n| n.text == notice)
        .unwrap();
    assert_eq!(n.folder.as_deref(), Some(exports.path()));
    h.get_by_label("Open folder");
    // The next export is offered in the same folder (remembered in the settings).
    assert_eq!(
        h.state().state.settings.export_dir.as_deref(),
        Some(exports.path())
    );
    let cwd_copy = std::env::current_dir()
        .unwrap()
        .join(shown.file_name().unwrap());
    assert!(
        !cwd_copy.exists(),
        "nothing written into the working folder"
    );
}

#[test]
fn notices_are_toasts_errors_stay_and_a_queued_notice_goes_with_its_run() {
    let sessions = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let storage = MemStorage::default();
    let mut h = launch(
        &storage,
        AppConfig {
            sessions_dir: Some(sessions.path().to_path_buf()),
            data_dir: Some(empty.path().to_path_buf()),
            ..AppConfig::default()
        },
        [1024.0, 700.0],
    );
    h.step();
    let before = h.state().centre_rect().expect("centre drawn");
    // A long error wraps inside the window instead of running off its edge.
    let long = format!(
        "could not read /a/very/long/folder/{}/session.ron: the file ends early",
        "nested/".repeat(30)
    );
    h.state_mut().apply(Command::Notify(long.clone()));
    // Training without data queues the run and says so until it leaves the queue.
    h.state_mut()
        .apply(Command::StartPreset(Box::new(tiny(1, 10))));
    let id = h.state().state.runs.newest().unwrap();
    h.run_steps(3);
    let error = h.get_by_label(&long).rect();
    assert!(
        error.right() <= 1024.0 && error.left() >= 0.0,
        "inside the window: {error:?}"
    );
    assert!(error.height() > 40.0, "wrapped over several lines");
    h.get_by_label_contains("The run is queued");
    picture(&mut h, "shell-notices-1024x700");
    // Toasts float: the centre keeps its whole height (a bottom panel of notices shrank it).
    assert_eq!(h.state().centre_rect(), Some(before));

    h.state_mut().apply(Command::CancelRun(id));
    h.run_steps(3);
    assert!(
        h.query_by_label_contains("The run is queued").is_none(),
        "the queued notice went with the run"
    );
    // An information notice fades; the error stays until dismissed.
    h.state_mut().apply(Command::OpenExample);
    wait_for(&mut h, "the example", Duration::from_secs(30), |a| {
        a.state.selected_session().is_some()
    });
    // A save reports with an information notice.
    let saved = sessions.path().join("saved.ron");
    let run = h.state().state.sel.run.unwrap();
    h.state_mut().apply(Command::PathChosen(
        sample_sets::app::command::Purpose::SaveAs(run),
        saved.clone(),
    ));
    let info = format!("saved {}", saved.display());
    wait_for(&mut h, "the save", Duration::from_secs(30), |a| {
        a.state.notices.iter().any(|n| n.text == info)
    });
    h.run_steps(2);
    h.get_by_label(&info);
    wait_for(&mut h, "the info to fade", Duration::from_secs(20), |a| {
        a.state.notices.iter().all(|n| n.text != info)
    });
    h.run_steps(2);
    assert!(h.query_by_label(&info).is_none());
    h.get_by_label(&long);
    // Dismissed with its close button.
    let close = h
        .get_all_by_label("×")
        .next()
        .expect("the error's close button");
    close.click();
    h.run_steps(3);
    assert!(h.query_by_label(&long).is_none());
}

/// Saves what the harness draws now under `target/screenshots/NAME.png` (to look at).
fn picture(h: &mut Harness<'static, SampleSetsApp>, name: &str) {
    let img = h.render().expect("lavapipe renders headless");
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&out).unwrap();
    img.save(out.join(format!("{name}.png"))).unwrap();
}

#[test]
fn at_1024_by_700_the_centre_keeps_its_room_and_nothing_is_cut() {
    let sessions = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    for (size, data) in [
        ([1024.0, 700.0], None),
        ([1024.0, 700.0], Some(common::mnist_dir())),
        ([1600.0, 1000.0], Some(common::mnist_dir())),
    ] {
        let with_data = data.is_some();
        let mut h = launch(
            &MemStorage::default(),
            AppConfig {
                sessions_dir: Some(sessions.path().to_path_buf()),
                data_dir: Some(data.unwrap_or_else(|| empty.path().to_path_buf())),
                select_node: Some(NodeRef { layer: 0, node: 3 }),
                ..AppConfig::default()
            },
            size,
        );
        if with_data {
            wait_for(&mut h, "the data", Duration::from_secs(30), |a| {
                a.state.dataset().is_some()
            });
        }
        // The form starts on a grid cell measured inside epoch 1: its schedule rows fit.
        h.run_steps(2);
        let first = h.state().centre_rect().expect("centre drawn");
        for label in [
            "per doubling",
            "Records: epoch 0, 9 inside epoch 1, then every epoch.",
        ] {
            let r = h.get_by_label(label).rect();
            assert!(
                r.right() <= first.left() + 0.5,
                "'{label}' at {r:?} runs into the centre {first:?}"
            );
        }
        h.state_mut().apply(Command::OpenExample);
        wait_for(&mut h, "the example", Duration::from_secs(30), |a| {
            a.state.sel.node == Some((0, 3))
        });
        h.run_steps(4);
        let centre = h.state().centre_rect().expect("centre drawn");
        let detail = h.get_by_label("layer 1 · node 3").rect();
        let name = format!(
            "shell-example-{}x{}{}",
            size[0],
            size[1],
            if with_data { "" } else { "-no-data" }
        );
        picture(&mut h, &name);
        // The centre keeps at least 42 % of the window, the detail panel sits right of it.
        assert!(
            centre.width() >= 0.42 * size[0] - 20.0,
            "{name}: centre {centre:?}"
        );
        assert!(
            detail.left() >= centre.right() - 1.0,
            "{name}: detail {detail:?}, centre {centre:?}"
        );
        // The form fits the left panel (its schedule row ran past the edge); the example's
        // schedule is the default (doubling).
        for label in [
            "doubling",
            "Train",
            "Records: epoch 0, 9 inside epoch 1, then every epoch.",
        ] {
            let r = h.get_by_label(label).rect();
            assert!(
                r.right() <= centre.left() + 0.5,
                "{name}: '{label}' at {r:?} runs into the centre {centre:?}"
            );
        }
        if !with_data {
            // The data panel's texts fit the centre (the download button was cut here); with
            // a run open it is one wrapped row.
            for label in [
                "MNIST not found",
                "Download MNIST (about 11 MB)",
                "Use this folder",
                "Browse…",
            ] {
                let r = h.get_by_label(label).rect();
                assert!(
                    r.right() <= centre.right() + 0.5 && r.left() >= centre.left() - 0.5,
                    "{name}: '{label}' at {r:?} is cut by the centre {centre:?}"
                );
            }
        }
        // Closing the node detail gives its room to the centre.
        h.state_mut()
            .apply(Command::Set(Setting::DetailPanel(false)));
        h.run_steps(20);
        let wider = h.state().centre_rect().unwrap();
        assert!(wider.width() > centre.width() + 200.0, "{name}: {wider:?}");
        assert!(h.query_by_label("layer 1 · node 3").is_none());
    }
}

/// The value the form shows for the field labelled `label`.
fn field(h: &Harness<'static, SampleSetsApp>, role: Role, label: &str) -> String {
    h.get_by_role_and_label(role, label)
        .value()
        .unwrap_or_default()
}

#[test]
fn the_grid_agrees_with_the_form_and_the_shown_run() {
    let sessions = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let mut h = launch(
        &MemStorage::default(),
        AppConfig {
            sessions_dir: Some(sessions.path().to_path_buf()),
            data_dir: Some(empty.path().to_path_buf()),
            ..AppConfig::default()
        },
        [1600.0, 1000.0],
    );
    h.run_steps(2);
    assert_eq!(field(&h, Role::TextInput, "name"), "mnist-2x20-ce");
    // The developer's frame time is not in the menu bar unless asked for.
    assert!(h.query_by_label_contains("UI frame").is_none());
    h.get_by_role_and_label(Role::SpinButton, "epochs")
        .set_value_accesskit(7.0);
    h.run_steps(2);
    assert_eq!(field(&h, Role::SpinButton, "epochs"), "7");
    // A grid cell loads its preset but keeps the epochs typed.
    h.get_by_label("5x80\n–").click();
    h.run_steps(3);
    assert_eq!(field(&h, Role::TextInput, "name"), "mnist-5x80-ce");
    assert_eq!(field(&h, Role::SpinButton, "hidden layers"), "5");
    assert_eq!(field(&h, Role::SpinButton, "epochs"), "7");
    // The grid's loss switch is the form's loss.
    // (The first "MSE" is the grid's switch, the second the form's.)
    h.get_all_by_label("MSE").next().unwrap().click();
    h.run_steps(3);
    assert_eq!(field(&h, Role::TextInput, "name"), "mnist-5x80-mse");
    // The shown run puts its preset into the form: highlight and switch follow it.
    h.state_mut().apply(Command::OpenExample);
    wait_for(&mut h, "the example", Duration::from_secs(30), |a| {
        a.state.selected_session().is_some()
    });
    h.run_steps(3);
    assert_eq!(field(&h, Role::TextInput, "name"), "mnist-2x80-ce");
    let acc = h
        .state()
        .state
        .selected_session()
        .and_then(|s| s.epochs.last())
        .unwrap()
        .test_accuracy;
    assert!(
        h.get_by_label(&format!("2x80\n{:.1}%", acc * 100.0))
            .accesskit_node()
            .toggled()
            == Some(egui::accesskit::Toggled::True),
        "the shown run's cell is highlighted"
    );
    // View > Debug shows the frame time.
    h.state_mut()
        .apply(Command::Set(Setting::ShowFrameTime(true)));
    h.run_steps(2);
    h.get_by_label_contains("UI frame");
}

#[test]
fn grid_cells_show_runs_found_in_the_sessions_folder() {
    let sessions = tempfile::tempdir().unwrap();
    let old = sessions.path().join("trained-long-ago.ron");
    std::fs::write(&old, sample_sets::app::example::EXAMPLE_SESSION).unwrap();
    let example = sample_sets::session::load(&old).unwrap();
    let acc = example.epochs.last().unwrap().test_accuracy;
    let cell = format!("2x80\n{:.1}%", acc * 100.0);
    let empty = tempfile::tempdir().unwrap();
    let mut h = launch(
        &MemStorage::default(),
        AppConfig {
            sessions_dir: Some(sessions.path().to_path_buf()),
            data_dir: Some(empty.path().to_path_buf()),
            ..AppConfig::default()
        },
        [1600.0, 1000.0],
    );
    wait_for(
        &mut h,
        "the sessions folder",
        Duration::from_secs(30),
        |a| !a.state.found_runs.is_empty(),
    );
    h.run_steps(2);
    // Not listed, yet its grid cell shows its accuracy.
    assert!(h.state().state.runs.entries.is_empty());
    h.get_by_label(&cell);
    assert!(
        h.query_by_label("2x20\n–").is_some(),
        "other cells stay empty"
    );
    // Opened and removed from the list again: the cell keeps showing it.
    h.state_mut().apply(Command::Open(old.clone()));
    wait_for(&mut h, "the file", Duration::from_secs(30), |a| {
        a.state.selected_session().is_some()
    });
    let id = h.state().state.sel.run.unwrap();
    h.state_mut().apply(Command::RemoveRun(id));
    h.run_steps(3);
    assert!(h.state().state.runs.entries.is_empty());
    h.get_by_label(&cell);
}
