//! The desktop app driven through egui_kittest: real MNIST, real worker threads, the app's own
//! run machinery.
#![cfg(feature = "gui")]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use egui::{Event, Modifiers, PointerButton, Pos2};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use sample_sets::app::SampleSetsApp;
use sample_sets::app::command::Command;
use sample_sets::app::runs::{RunId, RunState};
use sample_sets::app::settings::{NodeLines, Setting};
use sample_sets::app::startup::StartupOptions as AppConfig;
use sample_sets::preset::{Preset, find};
use sample_sets::session::{Metric, RunStatus};

fn harness(sessions: &Path, config: AppConfig) -> Harness<'static, SampleSetsApp> {
    let config = AppConfig {
        sessions_dir: Some(sessions.to_path_buf()),
        data_dir: config.data_dir.or_else(|| Some(common::mnist_dir())),
        ..config
    };
    Harness::builder()
        .with_size([1600.0, 1000.0])
        .build_eframe(move |cc| SampleSetsApp::new(cc, config))
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
    // The default schedule: records at steps 1, 2, 4, ..., 256 inside epoch 1, then at every
    // epoch end; the views place and select them by position.
    p
}

fn state(app: &SampleSetsApp, id: RunId) -> RunState {
    app.state.runs.get(id).unwrap().state.clone()
}

/// Starts `preset` as the grid's Train button does; returns the new run.
fn start(h: &mut Harness<'static, SampleSetsApp>, preset: Preset) -> RunId {
    let app = h.state_mut();
    app.apply(Command::StartPreset(Box::new(preset)));
    app.state.runs.newest().unwrap()
}

fn click(h: &mut Harness<'static, SampleSetsApp>, pos: Pos2) {
    h.hover_at(pos);
    h.step();
    for pressed in [true, false] {
        h.event(Event::PointerButton {
            pos,
            button: PointerButton::Primary,
            pressed,
            modifiers: Modifiers::NONE,
        });
        h.step();
    }
    h.step();
}

#[test]
fn train_click_node_and_move_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path(), AppConfig::default());
    wait_for(&mut h, "MNIST", Duration::from_secs(30), |a| {
        a.state.dataset().is_some()
    });
    let id = start(&mut h, tiny(2, 200));
    // While the run trains, the epoch axis ends at its newest record (it grows with the data)
    // and the views follow that record.
    let grew = std::cell::Cell::new(Vec::new());
    wait_for(&mut h, "the run to finish", Duration::from_secs(120), |a| {
        if a.is_training_shown() {
            let mut seen = grew.take();
            seen.push((
                a.plot_axis_end(),
                a.newest_position(),
                a.state.sel.follow_latest,
            ));
            grew.set(seen);
        }
        matches!(state(a, id), RunState::Done(_))
    });
    let seen = grew.take();
    assert!(
        seen.iter()
            .any(|&(end, newest, follow)| end.is_some_and(|e| e < 2.0)
                && newest.is_some()
                && follow),
        "{seen:?}"
    );
    for &(end, newest, _) in &seen {
        if let (Some(end), Some(newest)) = (end, newest) {
            assert!(
                end >= newest - 1e-9,
                "the axis ends before the data: {seen:?}"
            );
        }
    }
    assert_eq!(state(h.state(), id), RunState::Done(RunStatus::Completed));
    for _ in 0..3 {
        h.step();
    }
    // Done: the axis spans the preset's epochs.
    assert_eq!(h.state().plot_axis_end(), Some(2.0));
    // The session file was written next to the others.
    let path = h.state().state.runs.get(id).unwrap().path.clone().unwrap();
    assert!(path.starts_with(dir.path()) && path.exists());

    // Click node 3 of layer 1 in the node map.
    let pos = h.state().node_map_cell(0, 3).expect("node map drawn");
    click(&mut h, pos);
    assert_eq!(h.state().state.sel.node, Some((0, 3)));
    h.get_by_label("layer 1 · node 3");
    let s = h.state().state.selected_session().unwrap().clone();
    let spe = s.steps_per_epoch();
    let last = s.epochs.len() - 1;
    assert_eq!(s.epochs[last].step, 2 * spe);
    assert!(
        s.epochs.iter().filter(|e| e.step < spe).count() > 2,
        "records inside epoch 1"
    );
    let shown = h.state().rendered_detail().unwrap();
    assert_eq!((shown.node, shown.step), ((0, 3), 2 * spe));
    assert_eq!(shown.counts, s.node_counts(last, 0, 3).unwrap());

    // Every linked view follows the selected record.
    assert_eq!(h.state().rendered_steps(), [Some(2 * spe); 3]);
    // Move the node map's record slider (through accessibility, as a screen reader would) to
    // the record after 256 steps, inside epoch 1.
    let inside = s.epochs.iter().position(|e| e.step == 256).unwrap();
    h.query_all_by_label("record")
        .find(|n| n.accesskit_node().role() == egui::accesskit::Role::Slider)
        .expect("record slider")
        .set_value_accesskit(inside as f64);
    h.step();
    h.step();
    h.step();
    assert_eq!(h.state().state.sel.step, 256);
    assert_eq!(h.state().rendered_steps(), [Some(256); 3]);
    h.get_by_label("Plots · epoch 0.55 (step 256)");
    h.get_by_label("Node map · epoch 0.55 (step 256) / 2");
    h.get_by_label("at epoch 0.55 (step 256)");
    let shown = h.state().rendered_detail().unwrap();
    assert_eq!(shown.counts, s.node_counts(inside, 0, 3).unwrap());

    // Back to step 0 (before training): still every view.
    h.state_mut().apply(Command::SelectStep(0));
    h.step();
    h.step();
    assert_eq!(h.state().rendered_steps(), [Some(0); 3]);

    // Node lines of the selected layer: clicking a node's line selects that node. Target the
    // layer-1 node whose activation fraction at the record after 256 steps lies furthest from
    // every other node's. With no node selected, the lines are layer 1's.
    h.state_mut().apply(Command::SelectNode(None));
    h.state_mut()
        .apply(Command::Set(Setting::NodeLines(NodeLines::Layer)));
    wait_for(&mut h, "the node lines", Duration::from_secs(30), |a| {
        a.node_lines_ready()
    });
    let fractions = &s.layer_values(inside, Metric::ActivationFraction)[0];
    let x = s.record_position(inside).unwrap();
    let gap = |j: usize| {
        (0..fractions.len())
            .filter(|&k| k != j)
            .map(|k| (fractions[k] - fractions[j]).abs())
            .fold(f32::INFINITY, f32::min)
    };
    let target = (0..fractions.len())
        .max_by(|&a, &b| gap(a).total_cmp(&gap(b)))
        .unwrap();
    let pos = h
        .state()
        .metric_plot_position(Metric::ActivationFraction, x, fractions[target])
        .expect("activation fraction plot drawn");
    click(&mut h, pos);
    assert_eq!(h.state().state.sel.node, Some((0, target)));
    h.get_by_label(&format!("layer 1 · node {target}"));
    // A click on empty plot space above every line selects nothing new.
    let top = fractions.iter().copied().fold(0.0f32, f32::max);
    if top < 0.9 {
        let pos = h
            .state()
            .metric_plot_position(Metric::ActivationFraction, x, (top + 1.0) / 2.0)
            .unwrap();
        click(&mut h, pos);
        assert_eq!(h.state().state.sel.node, Some((0, target)));
    }
}

#[test]
fn cancel_keeps_completed_epochs_and_offers_resume() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path(), AppConfig::default());
    wait_for(&mut h, "MNIST", Duration::from_secs(30), |a| {
        a.state.dataset().is_some()
    });
    let id = start(&mut h, tiny(50, 100));
    wait_for(&mut h, "epoch 1", Duration::from_secs(90), |a| {
        a.state
            .runs
            .get(id)
            .and_then(|e| e.session.as_ref())
            .is_some_and(|s| s.epochs_done() >= 1)
    });
    h.get_by_label("Cancel").click();
    wait_for(&mut h, "the cancel", Duration::from_secs(60), |a| {
        matches!(state(a, id), RunState::Done(_))
    });
    assert_eq!(state(h.state(), id), RunState::Done(RunStatus::Cancelled));
    let entry = h.state().state.runs.get(id).unwrap();
    let kept = entry.session.as_ref().unwrap().epochs.len();
    assert!(kept >= 2, "epoch 0 and 1 are kept, got {kept}");
    let path = entry.path.clone().unwrap();
    h.step();
    h.get_by_label("Resume");

    // The file holds the same epochs; opening it (as from the command line) shows them.
    let on_disk = sample_sets::session::load(&path).unwrap();
    assert_eq!(on_disk.epochs.len(), kept);
    assert_eq!(on_disk.status, RunStatus::Cancelled);
    let dir2 = tempfile::tempdir().unwrap();
    let mut h2 = harness(
        dir2.path(),
        AppConfig {
            files: vec![path.clone()],
            ..AppConfig::default()
        },
    );
    wait_for(&mut h2, "the file", Duration::from_secs(30), |a| {
        a.state.selected_session().is_some()
    });
    assert_eq!(
        h2.state().state.selected_session().unwrap().epochs.len(),
        kept
    );
    h2.step();
    h2.get_by_label("Resume");
}

#[test]
fn bad_files_and_missing_data_are_messages() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.ron");
    std::fs::write(&bad, "(format: \"nope\"").unwrap();
    let empty = tempfile::tempdir().unwrap();
    let mut h = harness(
        dir.path(),
        AppConfig {
            files: vec![bad.clone()],
            data_dir: Some(empty.path().to_path_buf()),
            ..AppConfig::default()
        },
    );
    wait_for(&mut h, "the bad file", Duration::from_secs(10), |a| {
        a.state
            .runs
            .entries
            .iter()
            .any(|e| matches!(e.state, RunState::Error(_)))
    });
    h.step();
    assert!(
        h.state()
            .state
            .notices
            .iter()
            .any(|m| m.contains("broken.ron"))
    );
    assert!(h.state().state.data_problem().is_some());
    h.get_by_label("MNIST not found");
    h.get_by_label("Use this folder");
    // Training without data queues the run and says why.
    let id = start(&mut h, tiny(1, 10));
    for _ in 0..5 {
        h.step();
    }
    assert_eq!(state(h.state(), id), RunState::Queued);
}

#[test]
fn first_run_without_data_opens_the_example_session_with_one_click() {
    let dir = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let mut h = harness(
        dir.path(),
        AppConfig {
            data_dir: Some(empty.path().to_path_buf()),
            ..AppConfig::default()
        },
    );
    h.step();
    h.get_by_label("Download MNIST (about 11 MB)");
    h.get_by_label("Open the example session").click();
    wait_for(
        &mut h,
        "the example session",
        Duration::from_secs(20),
        |a| {
            a.state.runs.entries.iter().any(|e| {
                e.session
                    .as_ref()
                    .is_some_and(|s| s.preset.name == "mnist-2x80-ce" && s.epochs_done() == 20)
            })
        },
    );
    // The example is explorable at once: select a node, the detail shows its counts.
    h.state_mut().apply(Command::SelectNode(Some((0, 5))));
    h.step();
    h.step();
    h.get_by_label("layer 1 · node 5");
}

#[test]
fn two_runs_in_parallel_then_compare() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = Harness::builder()
        .with_size([1600.0, 1000.0])
        .wgpu()
        .build_eframe({
            let config = AppConfig {
                sessions_dir: Some(dir.path().to_path_buf()),
                data_dir: Some(common::mnist_dir()),
                ..AppConfig::default()
            };
            move |cc| SampleSetsApp::new(cc, config)
        });
    wait_for(&mut h, "MNIST", Duration::from_secs(30), |a| {
        a.state.dataset().is_some()
    });
    let a = start(&mut h, tiny(1, 50));
    let mut other = tiny(1, 50);
    other.seed = 2;
    other.name = "mnist-2x20-ce-seed2".into();
    let b = start(&mut h, other);
    h.step();
    // Default parallel limit 2: both train at once.
    assert_eq!(h.state().state.runs.training(), 2);
    wait_for(&mut h, "both runs", Duration::from_secs(120), |app| {
        [a, b]
            .iter()
            .all(|&id| state(app, id) == RunState::Done(RunStatus::Completed))
    });
    for id in [a, b] {
        h.state_mut().apply(Command::SetCompare(id, true));
    }
    h.get_by_label("Compare").click();
    for _ in 0..4 {
        h.step();
    }
    h.get_by_label("best test accuracy");
    h.get_by_label("final test accuracy");
    h.get_by_label("Node maps at epoch 1");
    // A picture to look at (lavapipe renders headless).
    if let Ok(img) = h.render() {
        let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        let _ = std::fs::create_dir_all(&out);
        let _ = img.save(out.join("5-compare.png"));
    }
}

/// The app at `size` with the embedded example session open and node "layer 1 · node 5"
/// selected, drawn with wgpu (lavapipe) so it can be rendered.
fn example_at(size: [f32; 2], dir: &Path) -> Harness<'static, SampleSetsApp> {
    // A fixed path: the first-run panel names the folder it looked in, and a random temporary
    // name would differ from the snapshot in every run.
    let empty = std::env::temp_dir().join("sample-sets-snapshot-no-data");
    std::fs::create_dir_all(&empty).unwrap();
    let config = AppConfig {
        sessions_dir: Some(dir.to_path_buf()),
        data_dir: Some(empty),
        ..AppConfig::default()
    };
    let mut h = Harness::builder()
        .with_size(size)
        // The node map's metric box has no accessible name yet (the node map's own work).
        .with_accessibility_check(false)
        // 60 frames a second, so that two clicks a frame or two apart make a double-click.
        .with_step_dt(1.0 / 60.0)
        .wgpu()
        .build_eframe(move |cc| SampleSetsApp::new(cc, config));
    h.state_mut().apply(Command::OpenExample);
    wait_for(
        &mut h,
        "the example session",
        Duration::from_secs(20),
        |a| a.state.selected_session().is_some(),
    );
    h.state_mut().apply(Command::SelectNode(Some((0, 5))));
    for _ in 0..6 {
        h.step();
    }
    h
}

/// Saves what `h` shows as `target/screenshots/NAME.png` (to look at) and checks it, below
/// the menu bar (whose frame-time readout changes from run to run), against the snapshot
/// `tests/snapshots/NAME.png` pixel for pixel: a tick label missing or a panel cut shows.
fn picture(h: &mut Harness<'static, SampleSetsApp>, name: &str) {
    let img = h.render().expect("render");
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&out).unwrap();
    img.save(out.join(format!("{name}.png"))).unwrap();
    let menu = 32;
    let below = image::imageops::crop_imm(&img, 0, menu, img.width(), img.height() - menu);
    egui_kittest::image_snapshot(&below.to_image(), name);
}

#[test]
fn explore_with_a_node_selected_at_both_sizes() {
    for (size, name) in [
        ([1024.0, 700.0], "explore-1024x700"),
        ([1600.0, 1000.0], "explore-1600x1000"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut h = example_at(size, dir.path());
        h.get_by_label("layer 1 · node 5");
        picture(&mut h, name);
        // The log epoch axis: the first epochs get room, ticks still read as epochs.
        h.get_by_label("log").click();
        for _ in 0..4 {
            h.step();
        }
        picture(&mut h, &format!("{name}-log"));
    }
}

#[test]
fn hovering_a_plot_shows_values_and_selects_nothing_a_click_selects() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = example_at([1600.0, 1000.0], dir.path());
    let s = h.state().state.selected_session().unwrap().clone();
    let spe = s.steps_per_epoch();
    let before = h.state().state.sel.clone();
    assert_eq!(before.step, 20 * spe, "the newest record is shown");
    // Layer 1's mean activation fraction after epoch 5, where the plot drew it.
    let band = s.layer_band(0, Metric::ActivationFraction);
    let p5 = *band.iter().find(|b| b.step == 5 * spe).unwrap();
    let pos = h
        .state()
        .metric_plot_position(Metric::ActivationFraction, p5.position, p5.mean)
        .expect("activation fraction plot drawn");
    h.hover_at(pos);
    h.step();
    h.step();
    let tip = SampleSetsApp::last_plot_tooltip(&h.ctx).expect("a tooltip while hovering");
    assert!(tip.starts_with("epoch 5\n"), "{tip}");
    assert!(
        tip.contains(&format!("layer 1: {:.3}", f64::from(p5.mean))),
        "{tip}"
    );
    assert!(tip.contains("layer 2: "), "{tip}");
    // Hovering moved nothing: the selection and every view stay on the newest record.
    assert_eq!(h.state().state.sel, before);
    assert_eq!(h.state().rendered_steps(), [Some(20 * spe); 3]);
    // A click selects the record under the pointer in every view.
    click(&mut h, pos);
    assert_eq!(h.state().state.sel.step, 5 * spe);
    assert!(!h.state().state.sel.follow_latest);
    assert_eq!(h.state().rendered_steps(), [Some(5 * spe); 3]);
    h.get_by_label("Plots · epoch 5");
    // "follow latest" brings every view back to the newest record.
    h.get_by_label("follow latest").click();
    h.step();
    h.step();
    assert!(h.state().state.sel.follow_latest);
    assert_eq!(h.state().rendered_steps(), [Some(20 * spe); 3]);
    click(&mut h, pos);
    assert_eq!(h.state().state.sel.step, 5 * spe);

    // A click on a legend entry hides that layer in every plot; a double-click on another
    // shows only that one; a double-click again shows all.
    let tip_at = |h: &mut Harness<'static, SampleSetsApp>| {
        h.hover_at(pos);
        h.step();
        h.step();
        SampleSetsApp::last_plot_tooltip(&h.ctx).unwrap()
    };
    h.get_by_label("legend layer 1").click();
    h.step();
    let tip = tip_at(&mut h);
    assert!(
        !tip.contains("layer 1:") && tip.contains("layer 2:"),
        "{tip}"
    );
    h.get_by_label("legend layer 1").click();
    h.step();
    let tip = tip_at(&mut h);
    assert!(
        tip.contains("layer 1:") && tip.contains("layer 2:"),
        "{tip}"
    );
}

#[test]
fn compare_two_runs_at_both_sizes() {
    for (size, name) in [
        ([1024.0, 700.0], "compare-1024x700"),
        ([1600.0, 1000.0], "compare-1600x1000"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut h = example_at(size, dir.path());
        let a = h.state().state.sel.run.unwrap();
        // A second run: the example under another name.
        let copy = dir.path().join("copy.ron");
        std::fs::write(&copy, sample_sets::app::example::EXAMPLE_SESSION).unwrap();
        h.state_mut().apply(Command::Open(copy));
        let b = h.state().state.runs.newest().unwrap();
        wait_for(&mut h, "the copy", Duration::from_secs(20), |app| {
            app.state.runs.get(b).is_some_and(|e| e.session.is_some())
        });
        for id in [a, b] {
            h.state_mut().apply(Command::SetCompare(id, true));
        }
        h.state_mut()
            .apply(Command::ShowTab(sample_sets::app::state::Tab::Compare));
        for _ in 0..6 {
            h.step();
        }
        h.get_by_label("Node maps at epoch 20");
        // Side by side: each run has its loss and overlap plots.
        assert_eq!(h.query_all_by_label("test loss").count(), 2);
        assert_eq!(h.query_all_by_label("set overlap").count(), 2);
        picture(&mut h, name);
        // Overlaid: one plot per quantity, runs told apart by line style.
        h.get_by_label("overlaid").click();
        for _ in 0..4 {
            h.step();
        }
        assert_eq!(h.query_all_by_label("test loss").count(), 1);
        picture(&mut h, &format!("{name}-overlaid"));
    }
}

#[test]
fn dragging_across_a_plot_zooms_every_plot_and_a_double_click_resets() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = example_at([1600.0, 1000.0], dir.path());
    let s = h.state().state.selected_session().unwrap().clone();
    let before = h.state().state.sel.clone();
    let value = s.layer_band(0, Metric::ActivationFraction)[5].mean;
    let at = |h: &Harness<'static, SampleSetsApp>, x: f64| {
        h.state()
            .metric_plot_position(Metric::ActivationFraction, x, value)
            .unwrap()
    };
    // Where epochs 4 and 8 sit before the zoom, and the loss plot's x range.
    let (from, to) = (at(&h, 4.0), at(&h, 8.0));
    let whole = h.state().plot_x_range().unwrap();
    h.hover_at(from);
    h.step();
    h.event(Event::PointerButton {
        pos: from,
        button: PointerButton::Primary,
        pressed: true,
        modifiers: Modifiers::NONE,
    });
    h.step();
    for k in 1..=8 {
        h.hover_at(from + (to - from) * (k as f32 / 8.0));
        h.step();
    }
    h.event(Event::PointerButton {
        pos: to,
        button: PointerButton::Primary,
        pressed: false,
        modifiers: Modifiers::NONE,
    });
    for _ in 0..3 {
        h.step();
    }
    // Every plot now shows epochs 4..8 (the zoom is shared), and nothing was selected.
    let (a, b) = h.state().plot_x_range().unwrap();
    assert!((a - 4.0).abs() < 0.2 && (b - 8.0).abs() < 0.2, "{a}..{b}");
    assert!(b - a < (whole.1 - whole.0) / 3.0);
    assert_eq!(h.state().state.sel, before, "a drag selects nothing");
    h.get_by_label_contains("zoom 4");
    // Epoch 6 is now drawn where the middle of the old 4..8 span is wider.
    let x6 = at(&h, 6.0);
    assert!(
        at(&h, 8.0).x - at(&h, 4.0).x > (to.x - from.x) * 2.0,
        "{x6:?}"
    );
    // A double-click shows the whole run again.
    h.hover_at(x6);
    h.step();
    for _ in 0..2 {
        for pressed in [true, false] {
            h.event(Event::PointerButton {
                pos: x6,
                button: PointerButton::Primary,
                pressed,
                modifiers: Modifiers::NONE,
            });
        }
    }
    h.step();
    h.step();
    let (a, b) = h.state().plot_x_range().unwrap();
    assert!(a <= 0.0 && b >= 20.0, "{a}..{b}");
}
