//! The app: what it owns, and what one frame does.
//!
//! A frame takes what the background jobs reported, starts work that became possible (queued
//! runs, the start-up preset), keeps the selection valid, lets the views draw from the state
//! and send commands, then applies those commands (`handler.rs`). Nothing here waits.

use std::path::PathBuf;
use std::time::Instant;

use crossbeam_channel::Receiver;
use egui::Ui;

use super::background::Background;
use super::command::{self, Command, CommandSender};
use super::runs::default_sessions_dir;
use super::settings::Settings;
use super::startup::{Autostart, NodeRef, StartupOptions};
use super::state::AppState;
use super::ui::Views;

/// The desktop app.
pub struct SampleSetsApp {
    /// What the views read.
    pub state: AppState,
    pub(super) background: Background,
    pub(super) views: Views,
    tx: CommandSender,
    rx: Receiver<Command>,
    /// Start-up requests still waiting for the data or an epoch.
    autostart: Option<Autostart>,
    select_node: Option<NodeRef>,
    frame_log: bool,
    pub(super) ctx: egui::Context,
    /// The runs list as last written to storage: (file, has records) per run, and the run
    /// shown.
    saved_runs: RunsListKey,
}

/// What of the runs list is persisted: each run's file and whether it has records yet (its
/// file exists from the first record on), and the file of the run shown.
type RunsListKey = (Vec<(PathBuf, bool)>, Option<PathBuf>);

impl SampleSetsApp {
    /// Builds the app from eframe's creation context (restores settings from storage).
    pub fn new(cc: &eframe::CreationContext<'_>, options: StartupOptions) -> Self {
        let settings = cc
            .storage
            .and_then(|s| eframe::get_value::<Settings>(s, super::SETTINGS_KEY))
            .unwrap_or_default();
        Self::with_context(&cc.egui_ctx, settings, options)
    }

    /// Builds the app on an egui context with the given settings (no window needed): starts
    /// looking for the data and reading the files to open.
    pub fn with_context(ctx: &egui::Context, settings: Settings, options: StartupOptions) -> Self {
        let sessions_dir = options
            .sessions_dir
            .clone()
            .unwrap_or_else(default_sessions_dir);
        let state = AppState::new(settings, sessions_dir);
        let (tx, rx) = command::channel();
        let mut app = Self {
            views: Views::new(&state),
            state,
            background: Background::new(ctx),
            tx,
            rx,
            autostart: options.autostart,
            select_node: options.select_node,
            frame_log: options.frame_log,
            ctx: ctx.clone(),
            saved_runs: (Vec::new(), None),
        };
        app.apply(Command::FindData(options.data_dir));
        app.restore_runs();
        app.background
            .scan_sessions(app.state.runs.sessions_dir.clone());
        for f in options.files {
            app.apply(Command::Open(f));
        }
        app
    }

    /// The settings to persist, with the runs list as it is now: the session files of the
    /// runs that have one on disk (queued runs that never started have none), and the one
    /// shown.
    pub fn settings_to_save(&mut self) -> &Settings {
        let state = &mut self.state;
        let listed = state
            .runs
            .entries
            .iter()
            .filter(|e| !matches!(e.state, super::runs::RunState::Error(_)))
            .filter_map(|e| e.path.clone())
            .filter(|p| p.is_file());
        let mut open_runs: Vec<std::path::PathBuf> = Vec::new();
        for p in listed {
            if !open_runs.contains(&p) {
                open_runs.push(p);
            }
        }
        state.settings.open_runs = open_runs;
        state.settings.shown_run = state.selected_run().and_then(|e| e.path.clone());
        &state.settings
    }

    /// True (once) when the runs list changed since it was last persisted: a run added,
    /// removed, given its first record, or another run shown.
    pub fn runs_list_changed(&mut self) -> bool {
        let runs: Vec<(PathBuf, bool)> = self
            .state
            .runs
            .entries
            .iter()
            .filter_map(|e| {
                let recorded = e.session.as_ref().is_some_and(|s| !s.epochs.is_empty());
                Some((e.path.clone()?, recorded))
            })
            .collect();
        let shown = self.state.selected_run().and_then(|e| e.path.clone());
        let key = (runs, shown);
        if key == self.saved_runs {
            return false;
        }
        self.saved_runs = key;
        true
    }

    /// The views' end of the command channel (what a test or a script sends through).
    pub fn commands(&self) -> CommandSender {
        self.tx.clone()
    }

    /// Applies every queued command; true when any changed what is shown.
    pub fn apply_queued(&mut self) -> bool {
        let mut changed = false;
        while let Ok(cmd) = self.rx.try_recv() {
            changed |= self.apply(cmd);
        }
        changed
    }

    /// The whole frame (called by eframe, and by tests through the harness).
    pub fn frame(&mut self, ui: &mut Ui) {
        let t0 = Instant::now();
        self.ctx = ui.ctx().clone();
        for p in dropped_files(&self.ctx) {
            self.apply(Command::Open(p));
        }
        self.pump();
        self.views.show(ui, &self.state, &self.tx);
        if self.apply_queued() {
            self.ctx.request_repaint();
        }
        let ms = t0.elapsed().as_secs_f32() * 1000.0;
        let now = self.ctx.input(|i| i.time);
        self.state.frame_times.add(now, ms);
        if self.frame_log {
            eprintln!("frame {ms:.2} ms");
        }
    }

    /// Takes what the background jobs reported and starts what became possible. Never waits.
    pub(super) fn pump(&mut self) {
        for done in self.background.poll() {
            self.on_done(done);
        }
        self.start_work();
        self.state.expire_notices(Instant::now());
    }

    /// Starts what can start now: the start-up preset once the data is ready, queued runs
    /// while slots are free; then keeps the selection valid for the selected run.
    fn start_work(&mut self) {
        if self.state.dataset().is_some()
            && let Some(a) = self.autostart.take()
        {
            match self.state.preset(&a.preset).cloned() {
                Some(mut p) => {
                    if let Some(e) = a.epochs {
                        p.epochs = e;
                    }
                    if let Some(k) = a.probe {
                        p.probe_size = k;
                    }
                    self.apply(Command::StartPreset(Box::new(p)));
                }
                None => self.state.notify(format!(
                    "SAMPLE_SETS_AUTOSTART: unknown preset '{}'",
                    a.preset
                )),
            }
        }
        if let Some(data) = self.state.dataset().cloned() {
            let parallel = self.state.settings.parallel;
            let mut starts = Vec::new();
            while let Some(start) = self.state.runs.next_to_start(parallel) {
                starts.push(start);
            }
            self.set_training_threads();
            for start in starts {
                let dir = self.state.runs.sessions_dir.clone();
                self.background.train(start, data.clone(), dir);
            }
        }
        self.set_training_threads();
        let AppState { runs, sel, .. } = &mut self.state;
        if sel.run.is_none_or(|id| runs.get(id).is_none())
            && let Some(id) = runs.newest()
        {
            sel.select_run(id);
        }
        if let Some(s) = sel
            .run
            .and_then(|id| runs.get(id))
            .and_then(|e| e.session.as_ref())
        {
            sel.clamp_to(s);
            if let Some(n) = self.select_node
                && !s.epochs.is_empty()
                && s.widths.get(n.layer).is_some_and(|&w| n.node < w)
            {
                sel.select_node(Some((n.layer, n.node)));
                self.select_node = None;
            }
        }
    }
}

impl SampleSetsApp {
    /// A lone run trains on every core, several on one each: the count is read per matrix
    /// product, so runs already training follow at their next step.
    fn set_training_threads(&self) {
        let threads = crate::train::threads::for_concurrent_runs(self.state.runs.training());
        if threads != crate::train::threads::current() {
            crate::train::threads::configure(threads);
        }
    }
}

/// Files dropped on the window this frame.
fn dropped_files(ctx: &egui::Context) -> Vec<PathBuf> {
    ctx.input(|i| {
        i.raw
            .dropped_files
            .iter()
            .map(|f| f.path().to_path_buf())
            .collect()
    })
}

impl Drop for SampleSetsApp {
    fn drop(&mut self) {
        // Workers stop at their next minibatch; completed epochs are already on disk.
        for e in &self.state.runs.entries {
            e.control.cancel();
        }
        self.state
            .download
            .cancel
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
}
