//! The one place that changes the app's state: [`SampleSetsApp::apply`] for the commands
//! views send, [`SampleSetsApp::on_done`] for what background jobs report.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::background::{Done, FoundRun, save_session};
use super::command::{Command, Purpose};
use super::example::example_session_path;
use super::frame::SampleSetsApp;
use super::runs::RunMsg;
use super::state::{AppState, DataState, NoticeLevel, PathRequest};
use crate::data::locate;

/// What an export's notice says it did (and what makes the app remember its folder).
const EXPORTED: &str = "wrote";

impl SampleSetsApp {
    /// Applies one command. Returns false when it changed nothing that is drawn (e.g. hovering
    /// the epoch that is already selected), so the shell does not repaint for it.
    pub fn apply(&mut self, cmd: Command) -> bool {
        let selection_only = matches!(
            cmd,
            Command::SelectRun(_)
                | Command::SelectNode(_)
                | Command::SelectStep(_)
                | Command::SelectPosition(_)
                | Command::SelectMetric(_)
                | Command::SeedsAsGroup(_)
                | Command::FollowLatest(_)
                | Command::SelectProbeRow(_)
        );
        let before = self.state.sel.clone();
        let AppState {
            runs,
            sel,
            settings,
            ..
        } = &mut self.state;
        match cmd {
            Command::SelectRun(id) => sel.select_run(id),
            Command::SelectNode(node) => sel.select_node(node),
            Command::SelectStep(step) => {
                if let Some(s) = sel
                    .run
                    .and_then(|id| runs.get(id))
                    .and_then(|e| e.session.as_ref())
                {
                    sel.set_step(s, step);
                }
            }
            Command::SelectPosition(position) => {
                // Not snapped (Compare's shared axis): each run shows its own record at or
                // before the position; the step is counted in the selected run's minibatches.
                let session = sel
                    .run
                    .and_then(|id| runs.get(id))
                    .and_then(|e| e.session.as_ref())
                    .or_else(|| runs.entries.iter().find_map(|e| e.session.as_ref()));
                if let Some(s) = session {
                    sel.step = super::selection::step_at(s, position);
                    sel.follow_latest = false;
                }
            }
            Command::FollowLatest(on) => {
                sel.follow_latest = on;
                if on
                    && let Some(s) = sel
                        .run
                        .and_then(|id| runs.get(id))
                        .and_then(|e| e.session.as_ref())
                {
                    sel.step = s.epochs.last().map_or(0, |e| e.step);
                }
            }
            Command::SelectMetric(m) => sel.metric = m,
            Command::SeedsAsGroup(on) => sel.seeds_as_group = on,
            Command::SelectProbeRow(k) => sel.probe_row = k,
            Command::ShowTab(tab) => self.state.tab = tab,
            Command::Open(path) => self.open(&path),
            Command::OpenGrid(dir) => self.open_grid(dir),
            Command::OpenRuns(paths) => {
                for p in paths.iter().rev() {
                    self.open(p);
                }
                self.state.tab = super::state::Tab::Explore;
            }
            Command::OpenExample => match example_session_path(&runs.sessions_dir) {
                Ok(p) => self.open(&p),
                Err(e) => self.state.notify(e),
            },
            Command::StartPreset(preset) => {
                let id = self.state.runs.queue(*preset);
                if self.state.dataset().is_none() && self.state.data_problem().is_some() {
                    // Goes away once the run leaves the queue.
                    self.state.push_notice(
                        "The run is queued: it starts once the MNIST folder is chosen.".into(),
                        NoticeLevel::Error,
                        None,
                        Some(id),
                    );
                }
                self.state.sel.select_run(id);
            }
            Command::PauseRun(id, paused) => {
                if let Some(e) = runs.get(id) {
                    e.control.set_paused(paused);
                }
            }
            Command::CancelRun(id) => runs.cancel(id),
            Command::ResumeRun(id) => {
                if self.state.dataset().is_none() {
                    self.state
                        .notify("Resuming needs the data set: choose the MNIST folder first.");
                }
                self.state.runs.queue_resume(id);
            }
            Command::RemoveRun(id) => {
                // Its file stays, and so does its accuracy in the grid.
                let found = runs.get(id).and_then(|e| {
                    let s = e.session.as_ref()?;
                    let last = s.epochs.last().filter(|_| s.epochs_done() > 0)?;
                    Some(FoundRun {
                        path: e.path.clone().filter(|p| p.is_file())?,
                        preset: s.preset.name.clone(),
                        epochs_done: s.epochs_done(),
                        test_accuracy: last.test_accuracy,
                    })
                });
                runs.remove(id);
                if sel.run == Some(id) {
                    sel.run = None;
                }
                if let Some(f) = found {
                    self.state.found_runs.retain(|x| x.path != f.path);
                    self.state.found_runs.insert(0, f);
                }
            }
            Command::SetCompare(id, on) => {
                if let Some(e) = runs.get_mut(id) {
                    e.compare = on;
                }
            }
            Command::Set(change) => settings.set(change),
            Command::FindData(dir) => self.find_data(dir.as_deref()),
            Command::StartDownload => self.start_download(),
            Command::CancelDownload => self.state.download.cancel.store(true, Ordering::Relaxed),
            Command::AskPath(purpose, initial) => {
                self.state.prompt = Some(PathRequest {
                    purpose,
                    initial,
                    hint: None,
                });
            }
            Command::NativeDialog(purpose, start) => {
                self.background.native_dialog(purpose, start);
            }
            Command::PathChosen(purpose, path) => {
                self.state.prompt = None;
                self.path_chosen(purpose, path);
            }
            Command::ClosePrompt => self.state.prompt = None,
            Command::DrawNodeLines(job) => {
                self.background.node_lines(*job);
                return false;
            }
            Command::Notify(m) => self.state.notify(m),
            Command::DismissNotice(id) => self.state.notices.retain(|n| n.id != id),
            Command::DismissAllNotices => self.state.notices.clear(),
            Command::OpenFolder(dir) => self.background.open_folder(dir),
        }
        !selection_only || self.state.sel != before
    }

    /// Applies what a background job reported.
    pub(super) fn on_done(&mut self, done: Done) {
        let state = &mut self.state;
        match done {
            Done::Data(dir, loaded) => {
                if !matches!(&state.data, DataState::Loading(d) if *d == dir) {
                    // A folder chosen since then replaced this one.
                    return;
                }
                state.data = match loaded {
                    Ok(d) => DataState::Ready(d),
                    Err(e) => {
                        state.notify(format!("could not read the data: {e}"));
                        DataState::Missing(e)
                    }
                };
            }
            Done::SessionLoaded(id, loaded) => match state.runs.loaded(id, loaded) {
                Ok(Some(path)) => state.settings.push_recent(path),
                Ok(None) => {}
                Err(m) => state.notify(m),
            },
            // Restored runs keep the recent list's order (they were opened before).
            Done::SessionRestored(id, loaded) => {
                if let Err(m) = state.runs.loaded(id, loaded) {
                    state.notify(format!("a run of the last session could not be read: {m}"));
                }
            }
            Done::Run(id, msg) => {
                let started = matches!(msg, RunMsg::Started(_));
                if let Some(m) = state.runs.apply(id, msg) {
                    state.notify(m);
                }
                // A trained run's file is written after every record: File > Recent offers it.
                if started && let Some(path) = state.runs.get(id).and_then(|e| e.path.clone()) {
                    state.settings.push_recent(path);
                }
            }
            Done::DownloadProgress(p) => state.download.progress = Some(p),
            Done::DownloadFinished(Ok(dir)) => {
                state.download.running = false;
                state.inform(format!("MNIST downloaded into {}", dir.display()));
                self.find_data(Some(&dir));
            }
            Done::DownloadFinished(Err(e)) => {
                state.download.running = false;
                state.download.error = Some(e);
            }
            Done::NodeLines(result) => {
                let current = state
                    .selected_run()
                    .and_then(|e| Some((e.id, e.session.as_ref()?)));
                self.views.plots.density.accept(&self.ctx, *result, current);
            }
            Done::Dialog(purpose, Some(path)) => {
                self.apply(Command::PathChosen(purpose, path));
            }
            Done::Dialog(_, None) => {
                if let Some(request) = state.prompt.as_mut() {
                    request.hint = Some(
                        "No file chosen (the native dialog is unavailable or was closed): \
                         type a path instead."
                            .into(),
                    );
                }
            }
            Done::SessionsFound(found) => state.found_runs = found,
            Done::Notice(m) => state.notify(m),
            Done::Written(verb, Ok(path)) => {
                let folder = path.parent().map(Path::to_path_buf);
                if verb == EXPORTED
                    && let Some(dir) = &folder
                {
                    state.settings.export_dir = Some(dir.clone());
                }
                state.push_notice(
                    format!("{verb} {}", path.display()),
                    NoticeLevel::Info,
                    folder,
                    None,
                );
            }
            Done::Written(_, Err(m)) => state.notify(m),
            Done::Grid(generation, update) => {
                if let Some(g) = state.grid.as_mut().filter(|g| g.generation == generation) {
                    g.update(update);
                }
            }
        }
    }

    /// Lists again the runs of the last time the app was closed ([`Settings::open_runs`]):
    /// their files are read one after the other in the background, the run shown then first;
    /// files gone since are named in one notice.
    ///
    /// [`Settings::open_runs`]: super::settings::Settings::open_runs
    pub(super) fn restore_runs(&mut self) {
        let files = self.state.settings.open_runs.clone();
        let shown = self.state.settings.shown_run.clone();
        let mut missing = Vec::new();
        let mut to_read = Vec::new();
        for path in files {
            if !path.is_file() {
                missing.push(path.display().to_string());
                continue;
            }
            let (id, read) = self.state.runs.open(&path);
            if read {
                to_read.push((id, path.clone()));
            }
            if shown.as_ref() == Some(&path) {
                self.state.sel.select_run(id);
            }
        }
        // The shown run first: its plots appear while the others load.
        if let Some(i) = to_read
            .iter()
            .position(|(id, _)| Some(*id) == self.state.sel.run)
        {
            let first = to_read.remove(i);
            to_read.insert(0, first);
        }
        if !to_read.is_empty() {
            self.background.restore_sessions(to_read);
        }
        if !missing.is_empty() {
            self.state.notify(format!(
                "{} session file(s) of the last session are gone: {}",
                missing.len(),
                missing.join(", ")
            ));
        }
    }

    /// Shows grid folder `dir` in the Grid tab and starts watching it (the folder shown before
    /// stops being watched).
    fn open_grid(&mut self, dir: PathBuf) {
        if !dir.is_dir() {
            self.state
                .notify(format!("{}: not a folder, so not a grid", dir.display()));
            return;
        }
        let generation = self.state.grid.as_ref().map_or(1, |g| g.generation + 1);
        let grid = super::grid_folder::OpenGrid::new(dir.clone(), generation);
        self.background
            .watch_grid(dir.clone(), generation, std::sync::Arc::clone(&grid.stop));
        self.state.grid = Some(grid);
        self.state.tab = super::state::Tab::Grid;
        self.state.settings.push_recent(dir);
    }

    /// Opens a session file (read on a worker) and selects it; a folder opens as a grid.
    fn open(&mut self, path: &Path) {
        if path.is_dir() {
            self.open_grid(path.to_path_buf());
            return;
        }
        let (id, read) = self.state.runs.open(path);
        if read {
            self.background.load_session(id, path.to_path_buf());
        }
        self.state.sel.select_run(id);
    }

    /// Looks for MNIST (in `explicit`, or the usual places and then the saved folder) and
    /// starts reading it on a worker.
    fn find_data(&mut self, explicit: Option<&Path>) {
        let state = &mut self.state;
        let found = match explicit {
            Some(d) => locate(Some(d), "mnist"),
            None => locate(None, "mnist").or_else(|e| match &state.settings.data_dir {
                Some(d) => locate(Some(d), "mnist"),
                None => Err(e),
            }),
        };
        match found {
            Ok((dir, _)) => {
                if explicit.is_some() {
                    state.settings.data_dir = Some(dir.clone());
                }
                state.data = DataState::Loading(dir.clone());
                self.background.load_data(dir);
            }
            Err(e) => state.data = DataState::Missing(e.to_string()),
        }
    }

    /// Starts downloading MNIST into `<platform data>/datasets/mnist`.
    fn start_download(&mut self) {
        let d = &mut self.state.download;
        if d.running {
            return;
        }
        let Some(dest) = crate::data::locate::platform_datasets_dir().map(|p| p.join("mnist"))
        else {
            d.error = Some("this platform has no data folder; choose a folder instead".into());
            return;
        };
        d.cancel = Arc::new(AtomicBool::new(false));
        d.running = true;
        d.error = None;
        d.progress = None;
        self.background.download_mnist(dest, Arc::clone(&d.cancel));
    }

    /// Does what the chosen path was asked for. A relative path (which the prompt and the
    /// native dialog do not send) is taken from the working folder and named in full.
    fn path_chosen(&mut self, purpose: Purpose, path: PathBuf) {
        let path = std::path::absolute(&path).unwrap_or(path);
        let session_of = |app: &Self, id| app.state.runs.get(id).and_then(|e| e.session.clone());
        match purpose {
            Purpose::Open => self.open(&path),
            Purpose::DataFolder => self.find_data(Some(&path)),
            Purpose::OpenGrid => self.open_grid(path),
            Purpose::SaveAs(id) => {
                let Some(e) = self.state.runs.get(id) else {
                    return;
                };
                let Some(s) = e.session.clone() else { return };
                // The run's own file has the checkpoint (the live copy does not): copy it
                // when it is complete on disk.
                let source = e
                    .path
                    .clone()
                    .filter(|p| !e.is_training() && p.exists() && *p != path);
                self.state.settings.push_recent(path.clone());
                self.background
                    .write_file("saved", move || save_session(source.as_deref(), &s, &path));
            }
            Purpose::ExportFigure(id, kind) => {
                let Some(s) = session_of(self, id) else {
                    return;
                };
                let node = self.state.sel.node;
                let step = Some(self.state.sel.step);
                self.background.write_file(
                    EXPORTED,
                    // The save dialog asked before replacing.
                    move || {
                        crate::export::figures::write_one_at(
                            &s,
                            kind,
                            node,
                            step,
                            &path,
                            crate::fs::Existing::Replace,
                        )
                        .map(|()| path)
                        .map_err(|e| format!("export failed: {e}"))
                    },
                );
            }
            Purpose::ExportCsv(id) => {
                let Some(s) = session_of(self, id) else {
                    return;
                };
                self.background.write_file(EXPORTED, move || {
                    let csv = crate::export::csv::nodes_csv(&s);
                    crate::fs::write_atomic(&path, csv.as_bytes(), crate::fs::Existing::Replace)
                        .map(|()| path)
                        .map_err(|e| e.to_string())
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::app::runs::RunId;
    use crate::app::settings::Settings;
    use crate::app::startup::StartupOptions;
    use crate::session::Metric;

    /// The app with no window and no data, writing into `dir`.
    fn app(dir: &Path) -> SampleSetsApp {
        let empty = dir.join("no-data");
        std::fs::create_dir_all(&empty).unwrap();
        SampleSetsApp::with_context(
            &egui::Context::default(),
            Settings::default(),
            StartupOptions {
                sessions_dir: Some(dir.to_path_buf()),
                data_dir: Some(empty),
                ..StartupOptions::default()
            },
        )
    }

    /// Pumps the background until run `id` has its session.
    fn wait_loaded(app: &mut SampleSetsApp, id: RunId) {
        let start = Instant::now();
        while app
            .state
            .runs
            .get(id)
            .and_then(|e| e.session.as_ref())
            .is_none()
        {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "session not loaded"
            );
            std::thread::sleep(Duration::from_millis(10));
            app.pump();
        }
        app.pump();
    }

    #[test]
    fn a_command_sequence_moves_the_selection_as_the_views_would() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = app(dir.path());
        assert!(
            app.state.data_problem().is_some(),
            "no data in an empty folder"
        );
        // Two runs: the embedded example session and a copy of it under another name.
        app.apply(Command::OpenExample);
        let a = app.state.runs.newest().unwrap();
        wait_loaded(&mut app, a);
        let copy = dir.path().join("copy.ron");
        std::fs::write(&copy, crate::app::example::EXAMPLE_SESSION).unwrap();
        app.apply(Command::Open(copy.clone()));
        let b = app.state.runs.newest().unwrap();
        assert_ne!(a, b);
        assert_eq!(app.state.sel.run, Some(b), "an opened file is selected");
        wait_loaded(&mut app, b);
        assert_eq!(app.state.settings.recent.first(), Some(&copy));
        let spe = app.state.selected_session().unwrap().steps_per_epoch();
        assert_eq!(app.state.selected_session().unwrap().epochs_done(), 20);
        let last = 20 * spe;
        assert_eq!(
            app.state.sel.step, last,
            "a new run shows its newest record"
        );

        // Node, then epoch, then probe sample in run a.
        assert!(app.apply(Command::SelectRun(a)));
        assert!(app.apply(Command::SelectNode(Some((1, 7)))));
        assert!(app.apply(Command::SelectStep(5 * spe)));
        assert!(!app.apply(Command::SelectStep(5 * spe)), "nothing changed");
        assert!(app.apply(Command::SelectProbeRow(Some(3))));
        assert!(app.apply(Command::SelectMetric(Metric::Informativeness)));
        let sel = &app.state.sel;
        assert_eq!(
            (
                sel.run,
                sel.node,
                sel.step,
                sel.follow_latest,
                sel.probe_row
            ),
            (Some(a), Some((1, 7)), 5 * spe, false, Some(3))
        );
        // Another node drops the probe sample, keeps the epoch.
        app.apply(Command::SelectNode(Some((0, 2))));
        assert_eq!(
            (
                app.state.sel.node,
                app.state.sel.probe_row,
                app.state.sel.step
            ),
            (Some((0, 2)), None, 5 * spe)
        );
        // Switching runs keeps node and metric, follows the newest epoch again.
        app.apply(Command::SelectProbeRow(Some(1)));
        app.apply(Command::SelectRun(b));
        app.pump();
        let sel = &app.state.sel;
        assert_eq!(
            (
                sel.run,
                sel.node,
                sel.metric,
                sel.probe_row,
                sel.follow_latest
            ),
            (Some(b), Some((0, 2)), Metric::Informativeness, None, true)
        );
        assert_eq!(sel.step, last);
        // Past the last record snaps to it; a step between records snaps to the one before.
        app.apply(Command::SelectStep(10_000_000));
        assert_eq!(
            (app.state.sel.step, app.state.sel.follow_latest),
            (last, true)
        );
        app.apply(Command::SelectStep(7 * spe + 100));
        assert_eq!(
            (app.state.sel.step, app.state.sel.follow_latest),
            (7 * spe, false)
        );
        // Compare's shared axis: a position, not snapped (each run snaps when it draws).
        app.apply(Command::SelectPosition(3.5));
        assert_eq!(
            (app.state.sel.step, app.state.sel.follow_latest),
            (3 * spe + spe / 2 + 1, false)
        );
        // The record shown is epoch 3's (index 12: the example has ten records inside epoch 1).
        let s = app.state.selected_session().unwrap();
        let epoch3 = s.epochs.iter().position(|e| e.step == 3 * spe);
        assert_eq!(epoch3, Some(12));
        assert_eq!(app.state.sel.record_index(s), epoch3);
        // Removing the selected run selects the remaining one.
        app.apply(Command::RemoveRun(b));
        app.pump();
        assert_eq!(app.state.sel.run, Some(a));
        assert_eq!(app.state.runs.entries.len(), 1);
        // A node outside the session's shape is dropped when the selection is kept valid.
        app.apply(Command::SelectNode(Some((5, 0))));
        app.pump();
        assert_eq!(app.state.sel.node, None);
    }
}
