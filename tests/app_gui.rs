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
    // Paused, the line under the progress bar gives the last speed and no time left, and the
    // button offers to continue; continued, the time left is back.
    h.get_by_label("Pause").click();
    let paused = |a: &SampleSetsApp| a.state.runs.get(id).is_some_and(|e| e.control.is_paused());
    wait_for(&mut h, "the pause", Duration::from_secs(30), paused);
    h.step();
    h.get_by_label("paused");
    h.get_by_label_contains("last ");
    assert!(
        h.query_by_label_contains("ETA").is_none(),
        "an ETA while paused"
    );
    h.get_by_label("Continue").click();
    wait_for(
        &mut h,
        "the run to continue",
        Duration::from_secs(30),
        |a| !paused(a),
    );
    let start = Instant::now();
    while h.query_by_label_contains("ETA").is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no ETA after continuing"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
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
            .any(|m| m.text.contains("broken.ron"))
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
/// Two real runs of one preset that differ only in seed (2x20, 1 epoch, default schedule,
/// seeds 1 and 2, trained by the app on the real MNIST): Explore offers them as a group, and
/// with it on its plots draw, per series, the mean over the two seeds with their min..max as
/// the band; the legend and the tooltip say so. The node views stay the shown run's.
#[test]
fn explore_shows_two_seeds_as_their_mean_with_the_min_max_band() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = Harness::builder()
        .with_size([1600.0, 1000.0])
        .with_step_dt(1.0 / 60.0)
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
    let b = start(&mut h, other);
    wait_for(&mut h, "both runs", Duration::from_secs(300), |app| {
        [a, b]
            .iter()
            .all(|&id| state(app, id) == RunState::Done(RunStatus::Completed))
    });
    h.state_mut().apply(Command::SelectRun(a));
    h.state_mut().apply(Command::SelectNode(Some((0, 3))));
    for _ in 0..4 {
        h.step();
    }
    let session = |h: &Harness<'static, SampleSetsApp>, id: RunId| {
        h.state()
            .state
            .runs
            .get(id)
            .unwrap()
            .session
            .clone()
            .unwrap()
    };
    let (sa, sb) = (session(&h, a), session(&h, b));
    assert_eq!((sa.preset.seed, sb.preset.seed), (1, 2));
    let spe = sa.steps_per_epoch();
    assert_eq!(h.state().plots_seed_group(), None, "off until switched on");
    h.get_by_label("seeds as group (2 seeds)").click();
    for _ in 0..3 {
        h.step();
    }
    assert!(h.state().state.sel.seeds_as_group);
    assert_eq!(h.state().plots_seed_group(), Some(2));
    // The legend says what the lines are.
    h.get_by_label("mean of 2 seeds, band min..max:");

    // Layer 1's activation fraction at the record after 256 steps (inside epoch 1): the
    // line is the mean of the two runs' layer means there, the band spans them.
    let at = |s: &sample_sets::session::Session, step: u64| {
        let b = s.layer_band(0, Metric::ActivationFraction);
        f64::from(b.iter().find(|p| p.step == step).unwrap().mean)
    };
    let (va, vb) = (at(&sa, 256), at(&sb, 256));
    assert_ne!(va, vb, "two seeds, two different runs");
    let position = 256.0 / spe as f64;
    let shown = h
        .state()
        .plot_value("activation fraction", "layer 1", position)
        .expect("layer 1 drawn at step 256");
    assert!((shown.value - (va + vb) / 2.0).abs() < 1e-12, "{shown:?}");
    assert_eq!(shown.band, Some((va.min(vb), va.max(vb))));
    assert_eq!(shown.seeds, Some(2));
    // Hovering there names the mean, the seeds and the band's range.
    SampleSetsApp::clear_last_plot_tooltip(&h.ctx);
    let pos = h
        .state()
        .metric_plot_position(Metric::ActivationFraction, position, shown.value as f32)
        .expect("activation fraction plot drawn");
    h.hover_at(pos);
    h.step();
    h.step();
    let tip = SampleSetsApp::last_plot_tooltip(&h.ctx).expect("a tooltip while hovering");
    assert!(tip.starts_with("epoch 0.55 (step 256)\n"), "{tip}");
    let want = format!(
        "layer 1: {:.3} (mean of 2 seeds, min..max {:.3}..{:.3})",
        (va + vb) / 2.0,
        va.min(vb),
        va.max(vb)
    );
    assert!(tip.contains(&want), "{want} not in:\n{tip}");
    assert!(tip.contains("layer 2: "), "{tip}");
    // The selected node's line is the shown run's own.
    assert!(tip.contains("layer 1 · node 3 (seed 1): "), "{tip}");
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&out).unwrap();
    h.render()
        .unwrap()
        .save(out.join("explore-seeds-tooltip.png"))
        .unwrap();

    // Loss and accuracy after epoch 1: the same, per series (train and test).
    let (ea, eb) = [&sa, &sb]
        .map(|s| s.epochs.iter().find(|e| e.step == spe).unwrap())
        .into();
    for (plot, series, va, vb) in [
        ("loss", "train", ea.train_loss, eb.train_loss),
        ("loss", "test", ea.test_loss, eb.test_loss),
        (
            "accuracy",
            "test",
            ea.test_accuracy * 100.0,
            eb.test_accuracy * 100.0,
        ),
    ] {
        let shown = h
            .state()
            .plot_value(plot, series, 1.0)
            .unwrap_or_else(|| panic!("{plot} {series} drawn at epoch 1"));
        assert!(
            (shown.value - (va + vb) / 2.0).abs() < 1e-9,
            "{plot} {series}: {shown:?} vs {va}, {vb}"
        );
        assert_eq!(
            shown.band,
            Some((va.min(vb), va.max(vb))),
            "{plot} {series}"
        );
        assert_eq!(shown.seeds, Some(2));
    }
    // The node views stay the shown run's (seed 1).
    let last = sa.epochs.len() - 1;
    let detail = h.state().rendered_detail().unwrap();
    assert_eq!(detail.counts, sa.node_counts(last, 0, 3).unwrap());

    // Pictures to look at.
    h.hover_at(Pos2::new(1.0, 500.0));
    for (w, ht) in [(1600.0, 1000.0), (1024.0, 700.0)] {
        h.set_size(egui::vec2(w, ht));
        for _ in 0..4 {
            h.step();
        }
        h.render()
            .unwrap()
            .save(out.join(format!("explore-seeds-{w}x{ht}.png")))
            .unwrap();
    }
    h.set_size(egui::vec2(1600.0, 1000.0));
    for _ in 0..4 {
        h.step();
    }

    // Off again: the shown run alone, its own q1..q3 band.
    h.get_by_label("seeds as group (2 seeds)").click();
    for _ in 0..3 {
        h.step();
    }
    assert_eq!(h.state().plots_seed_group(), None);
    let own = h
        .state()
        .plot_value("activation fraction", "layer 1", position)
        .unwrap();
    assert_eq!((own.value, own.seeds), (va, None));
}

/// The shown run without another seed open: the switch is there but greyed out, and its
/// hover says why; a copy of the same file (the same seed) is no second seed.
#[test]
fn a_run_without_other_seeds_open_offers_no_seed_group() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = example_at([1600.0, 1000.0], dir.path());
    let disabled = |h: &Harness<'static, SampleSetsApp>| {
        h.get_by_label("seeds as group")
            .accesskit_node()
            .is_disabled()
    };
    assert!(disabled(&h));
    let copy = dir.path().join("copy.ron");
    std::fs::write(&copy, sample_sets::app::example::EXAMPLE_SESSION).unwrap();
    h.state_mut().apply(Command::Open(copy));
    let b = h.state().state.runs.newest().unwrap();
    wait_for(&mut h, "the copy", Duration::from_secs(20), |app| {
        app.state.runs.get(b).is_some_and(|e| e.session.is_some())
    });
    for _ in 0..3 {
        h.step();
    }
    assert_eq!(h.state().state.runs.entries.len(), 2);
    assert!(disabled(&h));
    // Switched on anyway (a command from elsewhere): the plots still show the run alone.
    h.state_mut().apply(Command::SeedsAsGroup(true));
    for _ in 0..3 {
        h.step();
    }
    assert_eq!(h.state().plots_seed_group(), None);
    assert!(h.query_by_label_contains("seeds as group (").is_none());
    h.get_by_label("seeds as group").hover();
    let mut said = false;
    for _ in 0..120 {
        h.step();
        if h.query_by_label_contains("No other open run differs from this one only in seed")
            .is_some()
        {
            said = true;
            break;
        }
    }
    assert!(said, "the greyed-out switch says why");
}

/// A tiny run with the default schedule: records inside epoch 1, then per epoch.
fn tiny_scheduled(epochs: u32, probe: usize) -> Preset {
    let mut p = find("mnist-2x20-ce", &[]).unwrap();
    p.epochs = epochs;
    p.probe_size = probe;
    p
}

#[test]
fn node_detail_shows_push_by_class_and_a_proportional_sample_of_the_set() {
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
    let id = start(&mut h, tiny_scheduled(2, 500));
    wait_for(&mut h, "the run to finish", Duration::from_secs(180), |a| {
        matches!(state(a, id), RunState::Done(_))
    });
    let s = h.state().state.selected_session().unwrap().clone();
    let last = s.epochs.len() - 1;
    // The most informative node of layer 1 at the end (its set is neither empty nor all).
    let size = |j: usize| s.node_counts(last, 0, j).unwrap().iter().sum::<u32>();
    let j = (0..s.widths[0])
        .filter(|&j| size(j) > 0)
        .max_by(|&a, &b| {
            let u = |j| {
                s.node_value(last, 0, j, Metric::Informativeness)
                    .unwrap_or(0.0)
            };
            u(a).total_cmp(&u(b))
        })
        .unwrap();
    h.state_mut().apply(Command::SelectNode(Some((0, j))));
    for _ in 0..4 {
        h.step();
    }
    h.get_by_label(&format!("layer 1 · node {j}"));

    // Push by class: one line per class that has samples in the set at some record.
    h.get_by_label("Push by class: mean φ of the set's samples of each class");
    let expected: Vec<usize> = (0..s.classes())
        .filter(|&c| {
            s.node_class_push_series(0, j)
                .iter()
                .any(|(_, _, v)| v.get(c).copied().flatten().is_some())
        })
        .collect();
    assert!(!expected.is_empty(), "the run recorded the backward pass");
    assert_eq!(h.state().rendered_push_classes(), expected);

    // The sample: members of the set at the selected record, counted against the whole set.
    let (shown, set_size) = h.state().rendered_set_sample().expect("thumbnails drawn");
    assert_eq!(set_size, u64::from(size(j)));
    let members: Vec<usize> = (0..s.probe.len())
        .filter(|&k| s.probe_member(last, 0, j, k))
        .collect();
    assert_eq!(shown.len(), members.len().min(60));
    assert!(shown.iter().all(|k| members.contains(k)));
    // Each class in proportion to its share of the set (within one sample), where the probe
    // holds enough of the class.
    let on = s.node_counts(last, 0, j).unwrap();
    let total = f64::from(size(j));
    for (c, &on_c) in on.iter().enumerate() {
        let of_class = |rows: &[usize]| {
            rows.iter()
                .filter(|&&k| usize::from(s.probe.labels[k]) == c)
                .count()
        };
        let quota = shown.len() as f64 * f64::from(on_c) / total;
        if (of_class(&members) as f64) >= quota.ceil() + 1.0 {
            assert!(
                (of_class(&shown) as f64 - quota).abs() <= 1.0 + 1e-9,
                "class {c}: {} shown, quota {quota:.2}",
                of_class(&shown)
            );
        }
    }
    let thousands = |n: u64| {
        let d = n.to_string();
        d.chars()
            .enumerate()
            .flat_map(|(i, ch)| {
                let sep = i > 0 && (d.len() - i).is_multiple_of(3);
                sep.then_some(',').into_iter().chain([ch])
            })
            .collect::<String>()
    };
    h.get_by_label(&format!(
        "showing {} of {}",
        shown.len(),
        thousands(set_size)
    ));

    // Hovering a class's line names the class, its mean φ and what the sign means, and
    // leaves the selected record alone. Hover the class whose last value stands furthest from
    // the others' (so no other line's point is nearer).
    let series = s.node_class_push_series(0, j);
    let (_, x_last, by_class) = series.last().unwrap();
    let value = |c: usize| by_class[c];
    let gap = |c: usize| {
        expected
            .iter()
            .filter(|&&o| o != c)
            .filter_map(|&o| Some((value(o)? - value(c)?).abs()))
            .fold(f32::INFINITY, f32::min)
    };
    let c = *expected
        .iter()
        .filter(|&&c| value(c).is_some())
        .max_by(|&&a, &&b| gap(a).total_cmp(&gap(b)))
        .unwrap();
    let phi = value(c).unwrap();
    h.get_by_label("Push by class: mean φ of the set's samples of each class")
        .scroll_to_me();
    for _ in 0..3 {
        h.step();
    }
    let step_before = h.state().state.sel.step;
    // A little inside the last point, so the pointer stays on the plot.
    let pos = h.state().push_plot_position(*x_last, phi).unwrap() - egui::vec2(2.0, 0.0);
    SampleSetsApp::clear_last_plot_tooltip(&h.ctx);
    h.hover_at(pos);
    for _ in 0..3 {
        h.step();
    }
    let tip = SampleSetsApp::last_plot_tooltip(&h.ctx).expect("a tooltip while hovering");
    // The record, then the class's mean φ as drawn, and what its sign means.
    let record = sample_sets::app::selection::position_label(
        s.epochs.last().unwrap().step,
        s.steps_per_epoch(),
    );
    assert!(tip.starts_with(&format!("{record}\n")), "{tip}");
    let meaning = if phi < 0.0 {
        "loss falls as the node's output grows"
    } else {
        "loss rises as the node's output grows"
    };
    let line = tip
        .lines()
        .find(|line| line.starts_with(&format!("class {c}: ")))
        .unwrap_or_else(|| panic!("no line for class {c}: {tip}"));
    let drawn: f64 = line
        .trim_start_matches(&format!("class {c}: "))
        .split(',')
        .next()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no value in {line}"));
    // Three significant digits of the value drawn.
    assert!(
        (drawn - f64::from(phi)).abs() <= f64::from(phi).abs() * 5e-3,
        "{line} vs {phi}"
    );
    assert!(line.ends_with(meaning), "{line}");
    assert_eq!(h.state().state.sel.step, step_before);
    if let Ok(img) = h.render() {
        let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        let _ = std::fs::create_dir_all(&out);
        let _ = img.save(out.join("node-detail-1600x1000-push-hover.png"));
    }

    // Pictures to look at, at both window sizes, with a probe sample enlarged.
    h.state_mut()
        .apply(Command::SelectProbeRow(shown.first().copied()));
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    let _ = std::fs::create_dir_all(&out);
    for (w, hh) in [(1600.0, 1000.0), (1024.0, 700.0)] {
        h.set_size(egui::vec2(w, hh));
        for _ in 0..4 {
            h.step();
        }
        if let Ok(img) = h.render() {
            let _ = img.save(out.join(format!("node-detail-{w}x{hh}.png")));
        }
        // The lower part of the detail panel.
        for (label, part) in [
            (
                "Turnover since the previous record (solid: added, dashed: removed)",
                "turnover",
            ),
            ("sample thumbnails", "thumbnails"),
        ] {
            if let Some(n) = h.query_by_label(label) {
                n.scroll_to_me();
            }
            for _ in 0..4 {
                h.step();
            }
            if let Ok(img) = h.render() {
                let _ = img.save(out.join(format!("node-detail-{w}x{hh}-{part}.png")));
            }
        }
        h.get_by_label("membership raster").scroll_to_me();
    }

    // The raster with equal column widths.
    h.set_size(egui::vec2(1600.0, 1000.0));
    for _ in 0..4 {
        h.step();
    }
    h.get_by_label("equal").click();
    for _ in 0..4 {
        h.step();
    }
    if let Ok(img) = h.render() {
        let _ = img.save(out.join("node-detail-1600x1000-equal-widths.png"));
    }
}

#[test]
fn findings_panel_shows_the_cli_table_and_selects_the_top_node() {
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
    let id = start(&mut h, tiny_scheduled(2, 100));
    wait_for(&mut h, "the run to finish", Duration::from_secs(180), |a| {
        matches!(state(a, id), RunState::Done(_))
    });
    let s = h.state().state.selected_session().unwrap().clone();
    let f = sample_sets::session::findings::findings(&s).unwrap();
    h.step();
    h.get_by_label("Findings: the paper's observations").click();
    for _ in 0..3 {
        h.step();
    }
    // Each layer's peak, as the CLI prints it, is a link to its record.
    for l in &f.layers {
        h.get_by_label(&format!("{:.4} ({})", l.peak_position, l.peak_step));
    }
    h.get_by_label("Copy as CSV");
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    let _ = std::fs::create_dir_all(&out);
    if let Ok(img) = h.render() {
        let _ = img.save(out.join("findings-1600x1000.png"));
    }
    // The most informative node's link selects it.
    let top = f.top_node.unwrap();
    h.get_by_label(&format!("layer {} · node {}", top.layer, top.node))
        .click();
    for _ in 0..3 {
        h.step();
    }
    assert_eq!(h.state().state.sel.node, Some((top.layer - 1, top.node)));
    // The first layer's peak selects the peak's record.
    let peak = &f.layers[0];
    h.get_by_label(&format!("{:.4} ({})", peak.peak_position, peak.peak_step))
        .click();
    for _ in 0..3 {
        h.step();
    }
    assert_eq!(h.state().state.sel.step, peak.peak_step);
    assert_eq!(h.state().rendered_steps()[2], Some(peak.peak_step));
}

/// A folder dropped on the window, as the windowing layer hands it to egui.
#[derive(Debug)]
struct DroppedFolder(std::path::PathBuf);

impl egui::DroppedFile for DroppedFolder {
    fn path(&self) -> &Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        Err("a folder".into())
    }
}

/// "test 91.23% (90.8–91.6)": the corner text of a cell, from the runs' final accuracies.
fn corner_text(accuracies: &[f64]) -> String {
    let mean = accuracies.iter().sum::<f64>() / accuracies.len() as f64;
    let min = accuracies.iter().copied().fold(f64::INFINITY, f64::min);
    let max = accuracies.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!(
        "test {:.2}% ({:.1}–{:.1})",
        mean * 100.0,
        min * 100.0,
        max * 100.0
    )
}

/// A live grid (`sample-sets grid run`, 2x20 with both losses, seeds 1 and 2, 2 epochs, on
/// the real MNIST) dropped on the window while it trains: the Grid tab fills in as the runs
/// save epochs, each cell ends with its seeds' final accuracies in the corner and the summary
/// over seeds, and clicking a cell opens its two runs in Explore.
#[test]
fn a_live_grid_folder_fills_in_and_a_cell_opens_its_runs() {
    let dir = tempfile::tempdir().unwrap();
    let grid = dir.path().join("grid");
    let mut child = std::process::Command::new(common::bin())
        .args(["grid", "run"])
        .arg(&grid)
        .args([
            "--presets",
            "mnist-2x20-*",
            "--seeds",
            "1,2",
            "--epochs",
            "2",
        ])
        .args(["--jobs", "2"])
        .env("SAMPLE_SETS_DATA", common::mnist_dir())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let sessions = dir.path().join("sessions");
    let mut h = harness(&sessions, AppConfig::default());
    // The folder exists once `grid run` wrote its manifest.
    let start = Instant::now();
    while !grid.join("grid.ron").exists() {
        assert!(start.elapsed() < Duration::from_secs(60), "no grid.ron");
        std::thread::sleep(Duration::from_millis(20));
    }
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(DroppedFolder(grid.clone())));
    h.step();
    h.step();
    assert_eq!(h.state().state.tab, sample_sets::app::state::Tab::Grid);
    // Complete runs counted in each snapshot the tab received, in order.
    let complete = |a: &SampleSetsApp| -> Option<usize> {
        let snap = a.state.grid.as_ref()?.snapshot.as_ref()?;
        Some(snap.cells.iter().map(|c| c.complete).sum())
    };
    let mut seen: Vec<usize> = Vec::new();
    let start = Instant::now();
    loop {
        h.step();
        if let Some(n) = complete(h.state())
            && seen.last() != Some(&n)
        {
            seen.push(n);
            if n > 0 && n < 4 {
                // A picture of a grid half done.
                let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
                if let (Ok(img), Ok(())) = (h.render(), std::fs::create_dir_all(&out)) {
                    let _ = img.save(out.join("6-grid-live.png"));
                }
            }
        }
        if seen.last() == Some(&4) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(400),
            "the grid did not complete in the tab: {seen:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(child.wait().unwrap().success());
    assert!(
        seen.len() > 1 && seen[0] < 4,
        "the tab saw the grid only when it was done ({seen:?}): it did not fill in"
    );
    for _ in 0..3 {
        h.step();
    }
    h.get_by_label("cross-entropy loss");
    h.get_by_label("MSE loss");
    // The summary panel holds the numbers of `grid status --json`.
    let o = common::run(&["grid", "status", "--json", grid.to_str().unwrap()]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let snap = h
        .state()
        .state
        .grid
        .as_ref()
        .unwrap()
        .snapshot
        .clone()
        .unwrap();
    // Both through JSON text (serde_json reads some floats one ulp off, both alike).
    let shown: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&snap.table).unwrap()).unwrap();
    assert_eq!(shown, json["presets"]);
    // Opened again from the File menu (the path prompt starts in the open grid's folder),
    // finished: the same table (read file by file, then watched).
    h.get_by_label("File").click();
    for _ in 0..3 {
        h.step();
    }
    h.get_by_label("Open grid folder…").click();
    for _ in 0..3 {
        h.step();
    }
    h.get_by_label("Grid folder (grid.ron and the runs' session files):");
    h.get_by_label("OK").click();
    h.step();
    wait_for(
        &mut h,
        "the grid read again",
        Duration::from_secs(60),
        |a| {
            a.state.grid.as_ref().is_some_and(|g| {
                g.generation == 2 && g.snapshot.as_ref().is_some_and(|s| s.table == snap.table)
            })
        },
    );
    for preset in ["mnist-2x20-ce", "mnist-2x20-mse"] {
        let runs: Vec<sample_sets::session::Session> = [1, 2]
            .iter()
            .map(|s| {
                sample_sets::session::load(&grid.join(format!("{preset}-seed{s}.ron"))).unwrap()
            })
            .collect();
        let acc: Vec<f64> = runs
            .iter()
            .map(|s| s.epochs.last().unwrap().test_accuracy)
            .collect();
        // The corner and the summary table show the seeds' accuracies.
        let corner = corner_text(&acc);
        assert_eq!(h.state().grid_corner_text(preset), Some(corner.clone()));
        h.get_by_label(&corner);
        let mean = (acc[0] + acc[1]) / 2.0;
        let sd = ((acc[0] - mean).powi(2) + (acc[1] - mean).powi(2)).sqrt();
        h.get_by_label(&format!("{:.2} ± {:.2}", mean * 100.0, sd * 100.0));
        // The cell's line for layer 1 is the mean over seeds of the layer's mean activation
        // fraction, at every epoch.
        let snap = h
            .state()
            .state
            .grid
            .as_ref()
            .unwrap()
            .snapshot
            .clone()
            .unwrap();
        let cell = snap.cells.iter().find(|c| c.preset.name == preset).unwrap();
        let line = &cell.bands(Metric::ActivationFraction)[0].mean;
        assert_eq!(line.len(), 3, "epochs 0, 1 and 2");
        for (e, p) in line.iter().enumerate() {
            // The record at the end of epoch e (records inside epoch 1 carry epoch 0).
            let of = |s: &sample_sets::session::Session| {
                let step = e as u64 * s.steps_per_epoch();
                let r = s.epochs.iter().find(|r| r.step == step).unwrap();
                f64::from(r.layers[0].summary.activation_fraction.mean)
            };
            let want = (of(&runs[0]) + of(&runs[1])) / 2.0;
            assert!(
                (p.y - want).abs() < 1e-6,
                "{preset} epoch {e}: {} vs {want}",
                p.y
            );
        }
    }
    if let Ok(img) = h.render() {
        let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        let _ = std::fs::create_dir_all(&out);
        let _ = img.save(out.join("6-grid.png"));
    }
    // Clicking the MSE cell opens both its runs and shows the first seed in Explore.
    let rect = h
        .state()
        .grid_cell_rect("mnist-2x20-mse")
        .expect("MSE cell drawn");
    click(&mut h, rect.center());
    wait_for(&mut h, "the cell's runs", Duration::from_secs(60), |a| {
        a.state.selected_session().is_some()
    });
    let app = h.state();
    assert_eq!(app.state.tab, sample_sets::app::state::Tab::Explore);
    let selected = app.state.selected_run().unwrap().path.clone().unwrap();
    assert_eq!(selected, grid.join("mnist-2x20-mse-seed1.ron"));
    let mut opened: Vec<_> = app
        .state
        .runs
        .entries
        .iter()
        .filter_map(|e| e.path.clone())
        .collect();
    opened.sort();
    assert_eq!(
        opened,
        vec![
            grid.join("mnist-2x20-mse-seed1.ron"),
            grid.join("mnist-2x20-mse-seed2.ron")
        ]
    );
    // Compare shows the two seeds as one group: mean with the min..max band.
    wait_for(&mut h, "both runs read", Duration::from_secs(60), |a| {
        a.state.runs.entries.iter().all(|e| e.session.is_some())
    });
    let ids: Vec<RunId> = h.state().state.runs.entries.iter().map(|e| e.id).collect();
    for id in ids {
        h.state_mut().apply(Command::SetCompare(id, true));
    }
    h.get_by_label("Compare").click();
    for _ in 0..3 {
        h.step();
    }
    h.get_by_label("seeds as groups").click();
    for _ in 0..3 {
        h.step();
    }
    h.get_by_label("mnist-2x20-mse · seeds 1,2");
    if let Ok(img) = h.render() {
        let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        let _ = img.save(out.join("5-compare-seed-groups.png"));
    }
}

/// Screenshots of the Grid tab at 1024x700 and 1600x1000 for the grid folder in `GRID_DIR`
/// (e.g. `sample-sets grid run DIR --presets 'mnist-2x20-*' 'mnist-2x80-*' --seeds 1,2
/// --epochs 3`), opened as `sample-sets DIR` opens it; written to
/// target/screenshots/grid-WIDTHxHEIGHT.png.
#[test]
#[ignore = "needs a grid folder in GRID_DIR; writes screenshots to look at"]
fn grid_tab_screenshots() {
    let grid = std::path::PathBuf::from(std::env::var_os("GRID_DIR").expect("GRID_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let config = AppConfig {
        files: vec![grid],
        ..AppConfig::default()
    };
    let mut h = harness(dir.path(), config);
    wait_for(&mut h, "the grid", Duration::from_secs(60), |a| {
        a.state.grid.as_ref().is_some_and(|g| g.snapshot.is_some())
    });
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&out).unwrap();
    for (w, ht) in [(1600.0, 1000.0), (1024.0, 700.0)] {
        h.set_size(egui::vec2(w, ht));
        for _ in 0..4 {
            h.step();
        }
        h.render()
            .unwrap()
            .save(out.join(format!("grid-{w}x{ht}.png")))
            .unwrap();
    }
    h.state_mut()
        .apply(Command::SelectMetric(Metric::Predictability));
    for _ in 0..4 {
        h.step();
    }
    h.render()
        .unwrap()
        .save(out.join("grid-1024x700-predictability.png"))
        .unwrap();
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
