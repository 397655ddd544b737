//! The desktop app: an eframe window with the experiment grid and runs list on the left, linked
//! plots and the node map in the centre, and the selected node's detail on the right.
//!
//! Training and file reading happen on worker threads that send results over channels; the UI
//! thread only drains them with `try_recv`, so a frame never waits on work.
//!
//! Environment variables read at start (useful for scripted screenshots and demos):
//! - `SAMPLE_SETS_AUTOSTART=<preset>[:<epochs>[:<probe>]]` trains that preset once the data
//!   is loaded, e.g. `mnist-2x20-ce:3`.
//! - `SAMPLE_SETS_SELECT=<layer>:<node>` (1-based layer, 0-based node) selects that node once
//!   the selected run has an epoch.
//! - `SAMPLE_SETS_SESSIONS=<dir>` writes new sessions there instead of the platform data dir.
//! - `SAMPLE_SETS_DATA=<dir>` is where MNIST is looked for first (as on the command line).
//! - `SAMPLE_SETS_FRAME_LOG=1` prints the UI CPU time of every frame to stderr.

pub mod colormap;
pub mod compare;
pub mod download;
pub mod export;
pub mod files;
pub mod grid;
pub mod node_density;
pub mod node_detail;
pub mod node_map;
pub mod plots;
pub mod runs;
pub mod state;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender, unbounded};
use egui::{RichText, Ui};

use crate::data::{Dataset, locate};
use crate::preset::Preset;
use crate::session::Session;
use files::{PathPrompt, Purpose};
use node_density::NodeLines;
use runs::{RunState, Runs};
use state::{RunId, Selection, Settings};

/// Key of the settings in eframe storage.
const SETTINGS_KEY: &str = "sample-sets-settings";

/// How the app is started: files to open and overrides (from the command line, the
/// environment, or a test).
#[derive(Debug, Clone, Default)]
pub struct AppConfig {
    /// Session files to open at start.
    pub files: Vec<PathBuf>,
    /// Folder for new sessions (default: platform data dir `/sessions`).
    pub sessions_dir: Option<PathBuf>,
    /// Data folder to use (default: the usual search, then the folder chosen earlier).
    pub data_dir: Option<PathBuf>,
    /// Preset name, epochs and probe size to train at start.
    pub autostart: Option<(String, Option<u32>, Option<usize>)>,
    /// Node (0-based layer, node) to select once there is an epoch.
    pub select_node: Option<(usize, usize)>,
}

impl AppConfig {
    /// `files` plus the `SAMPLE_SETS_*` environment variables described in the module docs.
    pub fn from_env(files: Vec<PathBuf>) -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let autostart = var("SAMPLE_SETS_AUTOSTART").map(|v| {
            let mut it = v.split(':');
            let name = it.next().unwrap_or_default().trim().to_string();
            let epochs = it.next().and_then(|e| e.trim().parse().ok());
            let probe = it.next().and_then(|e| e.trim().parse().ok());
            (name, epochs, probe)
        });
        let select_node = var("SAMPLE_SETS_SELECT").and_then(|v| {
            let (l, j) = v.split_once(':')?;
            let l: usize = l.trim().parse().ok()?;
            Some((l.checked_sub(1)?, j.trim().parse().ok()?))
        });
        Self {
            files,
            sessions_dir: var("SAMPLE_SETS_SESSIONS").map(PathBuf::from),
            data_dir: None,
            autostart,
            select_node,
        }
    }
}

/// What the node detail showed in the last frame.
#[derive(Debug, Clone, PartialEq)]
pub struct DetailShown {
    /// Node (0-based layer, node).
    pub node: (usize, usize),
    /// Epoch.
    pub epoch: u32,
    /// Per-class on-counts displayed.
    pub counts: Vec<u32>,
}

/// Where the data set stands.
enum DataState {
    /// Being read on a worker thread from this folder.
    Loading(PathBuf),
    /// Ready for training.
    Ready(Arc<Dataset>),
    /// Not found or unreadable: a message saying where the app looked.
    Missing(String),
}

/// Which centre view is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Explore,
    Compare,
}

/// The app.
pub struct SampleSetsApp {
    /// Persisted settings.
    pub settings: Settings,
    /// All runs.
    pub runs: Runs,
    /// What every view shows.
    pub sel: Selection,
    grid: grid::GridView,
    plots: plots::PlotsView,
    map: node_map::NodeMapView,
    detail: node_detail::NodeDetailView,
    compare: compare::CompareView,
    prompt: PathPrompt,
    data: DataState,
    data_tx: Sender<Result<Arc<Dataset>, String>>,
    data_rx: Receiver<Result<Arc<Dataset>, String>>,
    msg_tx: Sender<String>,
    msg_rx: Receiver<String>,
    /// Messages shown to the user, oldest first.
    pub messages: Vec<String>,
    tab: Tab,
    autostart: Option<(String, Option<u32>, Option<usize>)>,
    select_node: Option<(usize, usize)>,
    data_path_text: String,
    downloader: download::Downloader,
    /// CPU time of the last frames' UI code, milliseconds (smoothed).
    pub frame_ms: f32,
    /// CPU time of the last frame, milliseconds.
    pub last_frame_ms: f32,
    /// CPU time of the recent frames (newest last), milliseconds.
    recent_frames: std::collections::VecDeque<f32>,
    ctx: egui::Context,
}

impl SampleSetsApp {
    /// Builds the app from eframe's creation context (restores settings from storage).
    pub fn new(cc: &eframe::CreationContext<'_>, config: AppConfig) -> Self {
        let settings = cc
            .storage
            .and_then(|s| eframe::get_value::<Settings>(s, SETTINGS_KEY))
            .unwrap_or_default();
        Self::with_context(&cc.egui_ctx, settings, config)
    }

    /// Builds the app on an egui context with the given settings (no window needed).
    pub fn with_context(ctx: &egui::Context, settings: Settings, config: AppConfig) -> Self {
        let (data_tx, data_rx) = unbounded();
        let (msg_tx, msg_rx) = unbounded();
        let sessions_dir = config
            .sessions_dir
            .clone()
            .unwrap_or_else(runs::default_sessions_dir);
        let mut app = Self {
            runs: Runs::new(sessions_dir, settings.parallel),
            settings,
            sel: Selection::default(),
            grid: grid::GridView::new(),
            plots: plots::PlotsView::default(),
            map: node_map::NodeMapView::default(),
            detail: node_detail::NodeDetailView::default(),
            compare: compare::CompareView::default(),
            prompt: PathPrompt::default(),
            data: DataState::Missing(String::new()),
            data_tx,
            data_rx,
            msg_tx,
            msg_rx,
            messages: Vec::new(),
            tab: Tab::Explore,
            autostart: config.autostart.clone(),
            select_node: config.select_node,
            data_path_text: String::new(),
            downloader: download::Downloader::default(),
            frame_ms: 0.0,
            last_frame_ms: 0.0,
            recent_frames: std::collections::VecDeque::new(),
            ctx: ctx.clone(),
        };
        let explicit = config.data_dir.clone();
        app.find_data(explicit.as_deref());
        for f in &config.files {
            app.open(f);
        }
        app
    }

    /// Looks for MNIST (in `explicit`, or the usual places and then the saved folder) and
    /// starts reading it on a worker thread.
    pub fn find_data(&mut self, explicit: Option<&Path>) {
        let found = match explicit {
            Some(d) => locate(Some(d), "mnist"),
            None => locate(None, "mnist").or_else(|e| match &self.settings.data_dir {
                Some(d) => locate(Some(d), "mnist"),
                None => Err(e),
            }),
        };
        match found {
            Ok((dir, _)) => {
                if explicit.is_some() {
                    self.settings.data_dir = Some(dir.clone());
                }
                self.data = DataState::Loading(dir.clone());
                let tx = self.data_tx.clone();
                let ctx = self.ctx.clone();
                let spawned =
                    std::thread::Builder::new()
                        .name("load-data".into())
                        .spawn(move || {
                            let r = Dataset::load(&dir).map(Arc::new).map_err(|e| e.to_string());
                            let _ = tx.send(r);
                            ctx.request_repaint();
                        });
                if let Err(e) = spawned {
                    self.data = DataState::Missing(format!("cannot start a loader thread: {e}"));
                }
            }
            Err(e) => self.data = DataState::Missing(e.to_string()),
        }
    }

    /// The loaded data set, if ready.
    pub fn dataset(&self) -> Option<&Arc<Dataset>> {
        match &self.data {
            DataState::Ready(d) => Some(d),
            _ => None,
        }
    }

    /// Why the data is missing (empty while loading or ready).
    pub fn data_problem(&self) -> Option<&str> {
        match &self.data {
            DataState::Missing(m) => Some(m),
            _ => None,
        }
    }

    /// Queues a run of `preset` and selects it.
    pub fn start_preset(&mut self, preset: Preset) -> RunId {
        let id = self.runs.queue(preset);
        self.select_run(id);
        id
    }

    /// Opens a session file (read on a worker thread) and selects it.
    pub fn open(&mut self, path: &Path) -> RunId {
        let id = self.runs.open(path, &self.ctx);
        self.select_run(id);
        id
    }

    /// Shows run `id` in every view.
    pub fn select_run(&mut self, id: RunId) {
        if self.sel.run != Some(id) {
            self.sel.run = Some(id);
            self.sel.follow_latest = true;
            self.sel.probe_row = None;
        }
    }

    /// Selects node (`layer`, `node`) (0-based) everywhere: what a node map click does.
    pub fn select_node(&mut self, layer: usize, node: usize) {
        self.sel.node = Some((layer, node));
        self.sel.probe_row = None;
    }

    /// Selects epoch `epoch` everywhere: what the slider and plot clicks do.
    pub fn set_epoch(&mut self, epoch: u32) {
        if let Some(s) = self.selected_session() {
            let mut sel = self.sel.clone();
            sel.set_epoch(s, epoch);
            self.sel = sel;
        }
    }

    /// The session of the selected run.
    pub fn selected_session(&self) -> Option<&Session> {
        self.runs.get(self.sel.run?)?.session.as_ref()
    }

    /// Epochs the plots, node map and node detail drew in the last frame.
    pub fn rendered_epochs(&self) -> [Option<u32>; 3] {
        [
            self.plots.rendered_epoch,
            self.map.rendered_epoch,
            self.detail.rendered.map(|r| r.1),
        ]
    }

    /// What the node detail drew last frame.
    pub fn rendered_detail(&self) -> Option<DetailShown> {
        let (node, epoch) = self.detail.rendered?;
        Some(DetailShown {
            node,
            epoch,
            counts: self.detail.rendered_counts.clone()?,
        })
    }

    /// Where the node map drew node (`layer`, `node`) last frame.
    pub fn node_map_cell(&self, layer: usize, node: usize) -> Option<egui::Pos2> {
        self.map.cell_center(layer, node)
    }

    /// Where `metric` = `value` at `epoch` was drawn in its plot in the last frame.
    pub fn metric_plot_position(
        &self,
        metric: crate::session::Metric,
        epoch: u32,
        value: f32,
    ) -> Option<egui::Pos2> {
        let k = crate::session::Metric::ALL
            .iter()
            .position(|&m| m == metric)?;
        let t = self.plots.metric_transforms.get(k).copied().flatten()?;
        Some(t.position_from_point(&egui_plot::PlotPoint::new(
            f64::from(epoch),
            f64::from(value),
        )))
    }

    /// Whether the plots' node lines are drawn for the current run and scope.
    pub fn node_lines_ready(&self) -> bool {
        self.plots.node_lines_ready()
    }

    fn say(&mut self, m: impl Into<String>) {
        self.messages.push(m.into());
        if self.messages.len() > 20 {
            self.messages.remove(0);
        }
    }

    /// Applies what workers sent; starts queued runs. Never blocks.
    fn pump(&mut self) {
        if let Some(dir) = self.downloader.poll() {
            self.say(format!("MNIST downloaded into {}", dir.display()));
            self.find_data(Some(&dir));
        }
        while let Ok(r) = self.data_rx.try_recv() {
            self.data = match r {
                Ok(d) => DataState::Ready(d),
                Err(e) => {
                    self.say(format!("could not read the data: {e}"));
                    DataState::Missing(e)
                }
            };
        }
        while let Ok(m) = self.msg_rx.try_recv() {
            self.say(m);
        }
        let drained = self.runs.drain();
        for m in drained.messages {
            self.say(m);
        }
        for (_, p) in drained.loaded {
            self.settings.push_recent(p);
        }
        if let Some((name, epochs, probe)) = self.autostart.clone()
            && self.dataset().is_some()
        {
            self.autostart = None;
            match self.grid.preset(&name).cloned() {
                Some(mut p) => {
                    if let Some(e) = epochs {
                        p.epochs = e;
                    }
                    if let Some(k) = probe {
                        p.probe_size = k;
                    }
                    self.start_preset(p);
                }
                None => self.say(format!("SAMPLE_SETS_AUTOSTART: unknown preset '{name}'")),
            }
        }
        self.runs.parallel = self.settings.parallel.max(1);
        let data = self.dataset().cloned();
        self.runs.start_queued(data.as_ref(), &self.ctx);
        if self.sel.run.is_none_or(|id| self.runs.get(id).is_none())
            && let Some(e) = self.runs.entries.last()
        {
            let id = e.id;
            self.select_run(id);
        }
        let sel_run = self.sel.run;
        if let Some(s) = sel_run
            .and_then(|id| self.runs.get(id))
            .and_then(|e| e.session.as_ref())
        {
            let mut sel = self.sel.clone();
            sel.clamp_to(s);
            if let Some((l, j)) = self.select_node
                && !s.epochs.is_empty()
                && s.widths.get(l).is_some_and(|&w| j < w)
            {
                sel.node = Some((l, j));
                self.select_node = None;
            }
            self.sel = sel;
        }
    }

    fn handle_path(&mut self, purpose: Purpose, path: PathBuf) {
        match purpose {
            Purpose::Open => {
                self.open(&path);
            }
            Purpose::DataFolder => {
                self.data_path_text = path.display().to_string();
                self.find_data(Some(&path));
            }
            Purpose::SaveAs(id) => {
                let Some(e) = self.runs.get(id) else { return };
                let Some(s) = e.session.clone() else { return };
                // The run's own file has the checkpoint (the live copy does not): copy it
                // when it is complete on disk.
                let source = e
                    .path
                    .clone()
                    .filter(|p| !e.is_training() && p.exists() && *p != path);
                self.settings.push_recent(path.clone());
                files::in_background("save", &self.msg_tx, &self.ctx, move || {
                    let copied = source.map(|src| std::fs::copy(&src, &path));
                    match copied {
                        Some(Ok(_)) => format!("saved {}", path.display()),
                        _ => match crate::session::save(&s, &path) {
                            Ok(()) => format!("saved {}", path.display()),
                            Err(e) => e.to_string(),
                        },
                    }
                });
            }
            Purpose::ExportFigure(id, fig) => {
                let Some(s) = self.runs.get(id).and_then(|e| e.session.clone()) else {
                    return;
                };
                let node = self.sel.node;
                let epoch = Some(self.sel.epoch);
                files::in_background("export", &self.msg_tx, &self.ctx, move || {
                    export::figure(&s, fig, node, epoch, &path)
                });
            }
            Purpose::ExportCsv(id) => {
                let Some(s) = self.runs.get(id).and_then(|e| e.session.clone()) else {
                    return;
                };
                files::in_background("export", &self.msg_tx, &self.ctx, move || {
                    export::csv(&s, &path)
                });
            }
        }
    }

    fn menu(&mut self, ui: &mut Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Open…").clicked() {
                    let dir = self.runs.sessions_dir.display().to_string();
                    self.prompt.ask(Purpose::Open, format!("{dir}/"));
                }
                ui.menu_button("Recent", |ui| {
                    if self.settings.recent.is_empty() {
                        ui.label("(none)");
                    }
                    for p in self.settings.recent.clone() {
                        if ui.button(p.display().to_string()).clicked() {
                            self.open(&p);
                        }
                    }
                });
                let sel = self
                    .sel
                    .run
                    .filter(|id| self.runs.get(*id).is_some_and(|e| e.session.is_some()));
                if ui
                    .add_enabled(sel.is_some(), egui::Button::new("Save As…"))
                    .clicked()
                    && let Some(id) = sel
                {
                    let name = self
                        .runs
                        .get(id)
                        .and_then(|e| e.session.as_ref())
                        .map(|s| runs::session_file_name(&s.preset))
                        .unwrap_or_default();
                    self.prompt.ask(Purpose::SaveAs(id), name);
                }
                ui.separator();
                if ui.button("Choose data folder…").clicked() {
                    self.prompt
                        .ask(Purpose::DataFolder, self.data_path_text.clone());
                }
            });
            ui.menu_button("Export", |ui| {
                let Some(id) = self
                    .sel
                    .run
                    .filter(|id| self.runs.get(*id).is_some_and(|e| e.session.is_some()))
                else {
                    ui.label("Select a run first");
                    return;
                };
                for f in crate::export::figures::FigureKind::all() {
                    let enabled = !f.needs_node() || self.sel.node.is_some();
                    if ui
                        .add_enabled(
                            enabled,
                            egui::Button::new(format!("{} (PNG/SVG/CSV)…", export::label(f))),
                        )
                        .clicked()
                    {
                        let name = self
                            .runs
                            .get(id)
                            .and_then(|e| e.session.as_ref())
                            .map_or_else(
                                || format!("{}.png", f.name()),
                                |s| export::file_name(s, f, self.sel.node, self.sel.epoch),
                            );
                        self.prompt.ask(Purpose::ExportFigure(id, f), name);
                    }
                }
                ui.separator();
                if ui.button("Nodes CSV…").clicked() {
                    self.prompt.ask(Purpose::ExportCsv(id), "nodes.csv".into());
                }
            });
            ui.menu_button("View", |ui| {
                ui.label("Node lines in plots:");
                for choice in [NodeLines::Off, NodeLines::Layer, NodeLines::All] {
                    ui.radio_value(&mut self.settings.node_line_scope, choice, choice.label());
                }
                ui.checkbox(
                    &mut self.settings.composition_fractions,
                    "Composition as class fractions",
                );
            });
            ui.separator();
            ui.selectable_value(&mut self.tab, Tab::Explore, "Explore");
            ui.selectable_value(&mut self.tab, Tab::Compare, "Compare");
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let max = self.recent_frames.iter().copied().fold(0.0, f32::max);
                ui.label(
                    RichText::new(format!(
                        "UI frame {:.1} ms (max {max:.1} ms over the last {} frames)",
                        self.frame_ms,
                        self.recent_frames.len()
                    ))
                    .small()
                    .weak(),
                )
                .on_hover_text("CPU time of the app's UI code per frame (excludes painting)");
                match &self.data {
                    DataState::Loading(d) => {
                        ui.spinner();
                        ui.label(format!("loading {}", d.display()));
                    }
                    DataState::Ready(d) => {
                        ui.label(
                            RichText::new(format!("data: {}", d.dir.display()))
                                .small()
                                .weak(),
                        );
                    }
                    DataState::Missing(_) => {
                        ui.colored_label(ui.visuals().warn_fg_color, "no data");
                    }
                }
            });
        });
    }

    fn runs_ui(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            ui.heading("Runs");
            ui.label("parallel:");
            ui.add(egui::DragValue::new(&mut self.settings.parallel).range(1..=8))
                .on_hover_text(
                    "How many runs train at the same time; the others wait in the queue",
                );
        });
        if self.runs.entries.is_empty() {
            ui.label(
                RichText::new("No runs yet: pick a cell and press Train, or File > Open.").weak(),
            );
        }
        let mut select = None;
        let mut cancel = None;
        let mut resume = None;
        let mut remove = None;
        for e in &mut self.runs.entries {
            let selected = self.sel.run == Some(e.id);
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.set_width(ui.available_width());
                ui.horizontal(|ui| {
                    if ui.selectable_label(selected, e.title()).clicked() {
                        select = Some(e.id);
                    }
                });
                ui.horizontal(|ui| {
                    if e.state == RunState::Loading {
                        ui.spinner();
                    }
                    let text = e.status_text();
                    if matches!(e.state, RunState::Error(_))
                        || matches!(
                            e.state,
                            RunState::Done(crate::session::RunStatus::Diverged { .. })
                                | RunState::Done(crate::session::RunStatus::Failed { .. })
                        )
                    {
                        ui.colored_label(ui.visuals().error_fg_color, text);
                    } else {
                        ui.label(RichText::new(text).small());
                    }
                    if let Some(s) = &e.session
                        && let Some(last) = s.epochs.last()
                        && last.epoch > 0
                    {
                        ui.label(
                            RichText::new(format!("test acc {:.1}%", last.test_accuracy * 100.0))
                                .small(),
                        );
                    }
                });
                if e.is_training()
                    && let Some(s) = &e.session
                {
                    let n = s.preset.epochs.max(1);
                    let (frac, text) = match e.progress {
                        Some(p) => {
                            let f = (f64::from(p.epoch - 1)
                                + p.samples_done as f64 / p.samples_total.max(1) as f64)
                                / f64::from(n);
                            let eta = e
                                .eta_s()
                                .map_or(String::new(), |t| format!(" · ETA {}", fmt_duration(t)));
                            (
                                f as f32,
                                format!(
                                    "epoch {}/{n} · {:.0} samples/s{eta}",
                                    p.epoch, p.samples_per_s
                                ),
                            )
                        }
                        None => (0.0, "measuring epoch 0…".into()),
                    };
                    ui.add(egui::ProgressBar::new(frac).text(text));
                }
                ui.horizontal(|ui| {
                    if e.is_training() {
                        let paused = e.control.is_paused();
                        if ui
                            .small_button(if paused { "Continue" } else { "Pause" })
                            .clicked()
                        {
                            e.control.set_paused(!paused);
                        }
                    }
                    if (e.is_training() || e.state == RunState::Queued)
                        && ui.small_button("Cancel").clicked()
                    {
                        cancel = Some(e.id);
                    }
                    if e.can_resume() && ui.small_button("Resume").clicked() {
                        resume = Some(e.id);
                    }
                    ui.checkbox(&mut e.compare, "compare");
                    if !e.is_training()
                        && ui
                            .small_button("Remove")
                            .on_hover_text("Remove from the list (the file stays)")
                            .clicked()
                    {
                        remove = Some(e.id);
                    }
                });
                if let Some(n) = &e.note {
                    ui.colored_label(ui.visuals().warn_fg_color, n);
                }
            });
        }
        if let Some(id) = select {
            self.select_run(id);
        }
        if let Some(id) = cancel {
            self.runs.cancel(id);
        }
        if let Some(id) = resume {
            if self.dataset().is_none() {
                self.say("Resuming needs the data set: choose the MNIST folder first.");
            }
            self.runs.queue_resume(id);
        }
        if let Some(id) = remove {
            self.runs.remove(id);
            if self.sel.run == Some(id) {
                self.sel.run = None;
            }
        }
    }

    fn data_panel(&mut self, ui: &mut Ui) {
        let Some(problem) = self.data_problem().map(str::to_owned) else {
            return;
        };
        egui::Frame::group(ui.style())
            .fill(ui.visuals().faint_bg_color)
            .show(ui, |ui| {
                ui.heading("MNIST not found");
                ui.label("Training needs the four MNIST files (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, optionally .gz).");
                if !problem.is_empty() {
                    ui.label(RichText::new(problem).small());
                }
                ui.horizontal(|ui| {
                    ui.label("Data folder:");
                    ui.add(
                        egui::TextEdit::singleline(&mut self.data_path_text)
                            .desired_width(320.0)
                            .hint_text("/path/to/mnist"),
                    );
                    if ui.button("Use this folder").clicked() {
                        let p = files::expand_home(self.data_path_text.trim());
                        self.find_data(Some(&p));
                    }
                    if ui.button("Browse…").clicked() {
                        self.prompt.ask(Purpose::DataFolder, self.data_path_text.clone());
                    }
                });
                ui.horizontal(|ui| {
                    if self.downloader.running() {
                        self.downloader.ui(ui);
                        if ui.button("Cancel download").clicked() {
                            self.downloader.cancel();
                        }
                    } else if ui
                        .button("Download MNIST (about 11 MB)")
                        .on_hover_text("From public mirrors into the platform data folder; every file's SHA-256 is checked")
                        .clicked()
                    {
                        self.downloader.start(&self.ctx);
                    }
                });
                if let Some(e) = &self.downloader.error {
                    ui.colored_label(ui.visuals().error_fg_color, e.clone());
                }
                ui.horizontal(|ui| {
                    ui.label("No data needed to explore:");
                    if ui.button("Open the example session").clicked() {
                        match download::example_session_path(&self.runs.sessions_dir) {
                            Ok(p) => {
                                self.open(&p);
                            }
                            Err(e) => self.say(e),
                        }
                    }
                });
            });
    }

    fn explore_ui(&mut self, ui: &mut Ui) {
        let Some(id) = self.sel.run else { return };
        let Some(entry) = self.runs.get(id) else {
            return;
        };
        let version = entry.version;
        let Some(s) = entry.session.as_ref() else {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!("{} — {}", entry.title(), entry.status_text()));
            });
            return;
        };
        if s.epochs.is_empty() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!("{}: measuring epoch 0…", s.title()));
            });
            return;
        }
        ui.label(RichText::new(format!("{} · {}", s.title(), entry.status_text())).strong());
        let avail = ui.available_height();
        let plots_h = (avail * 0.58).max(240.0);
        let mut sel = self.sel.clone();
        let pa = self.plots.ui(
            ui,
            (id, version),
            s,
            &sel,
            &mut self.settings.node_line_scope,
            plots_h,
        );
        ui.separator();
        let map_h = ui.available_height() - 70.0;
        let ma = self.map.ui(ui, id, version, s, &sel, map_h.max(80.0));
        if let Some(e) = pa.epoch.or(ma.epoch) {
            sel.set_epoch(s, e);
        }
        if let Some(n) = pa.node.or(ma.node) {
            sel.node = Some(n);
            sel.probe_row = None;
        }
        if let Some(m) = ma.metric {
            sel.metric = m;
        }
        self.sel = sel;
    }

    fn detail_ui(&mut self, ui: &mut Ui) {
        let Some(id) = self.sel.run else {
            ui.heading("Node detail");
            ui.label("Select or train a run.");
            return;
        };
        let Some(entry) = self.runs.get(id) else {
            return;
        };
        let version = entry.version;
        let Some(s) = entry.session.as_ref() else {
            return;
        };
        let mut sel = self.sel.clone();
        let a = self.detail.ui(
            ui,
            id,
            version,
            s,
            &sel,
            &mut self.settings.composition_fractions,
        );
        if let Some(e) = a.epoch {
            sel.set_epoch(s, e);
        }
        if let Some(k) = a.probe_row {
            sel.probe_row = Some(k);
        }
        self.sel = sel;
    }

    fn messages_ui(&mut self, ui: &mut Ui) {
        let mut dismiss = None;
        for (i, m) in self.messages.iter().enumerate().rev().take(4) {
            ui.horizontal(|ui| {
                if ui.small_button("Dismiss").clicked() {
                    dismiss = Some(i);
                }
                ui.label(m);
            });
        }
        if let Some(i) = dismiss {
            self.messages.remove(i);
        }
    }

    /// The whole frame (called by eframe, and by tests through the harness).
    pub fn frame(&mut self, ui: &mut Ui) {
        let t0 = Instant::now();
        let ctx = ui.ctx().clone();
        self.ctx = ctx.clone();
        for p in files::dropped_files(&ctx) {
            self.open(&p);
        }
        self.pump();
        if let Some((purpose, path)) = self.prompt.ui(&ctx) {
            self.handle_path(purpose, path);
        }
        egui::Panel::top("menu").show(ui, |ui| self.menu(ui));
        if !self.messages.is_empty() {
            egui::Panel::bottom("messages").show(ui, |ui| self.messages_ui(ui));
        }
        egui::Panel::left("left")
            .resizable(true)
            .default_size(310.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    if let Some(p) = self.grid.ui(ui, &mut self.settings, &self.runs) {
                        if self.dataset().is_none() && self.data_problem().is_some() {
                            self.say(
                                "The run is queued: it starts once the MNIST folder is chosen.",
                            );
                        }
                        self.start_preset(p);
                    }
                    ui.separator();
                    self.runs_ui(ui);
                });
            });
        let has_session = self
            .selected_session()
            .is_some_and(|s| !s.epochs.is_empty());
        if self.tab == Tab::Explore && has_session {
            egui::Panel::right("detail")
                .resizable(true)
                .default_size(440.0)
                .show(ui, |ui| {
                    egui::ScrollArea::vertical().show(ui, |ui| self.detail_ui(ui));
                });
        }
        egui::CentralPanel::default().show(ui, |ui| {
            self.data_panel(ui);
            if self.runs.entries.is_empty() {
                ui.add_space(8.0);
                ui.heading("Sample Sets");
                ui.label("Train small ReLU networks on MNIST and watch, epoch by epoch, which training samples switch each hidden node on (its sample set).");
                ui.label("Pick a cell of the grid on the left and press Train, or open a session file (File > Open, or drop a .ron file here).");
                return;
            }
            match self.tab {
                Tab::Explore => self.explore_ui(ui),
                Tab::Compare => {
                    let a = self.compare.ui(ui, &self.runs, &self.sel);
                    if let Some((l, j)) = a.node {
                        self.select_node(l, j);
                    }
                    if let Some(e) = a.epoch {
                        // Epochs are compared by number, not snapped to the selected run.
                        self.sel.epoch = e;
                        self.sel.follow_latest = false;
                    }
                    if let Some(m) = a.metric {
                        self.sel.metric = m;
                    }
                }
            }
        });
        let ms = t0.elapsed().as_secs_f32() * 1000.0;
        self.last_frame_ms = ms;
        self.recent_frames.push_back(ms);
        if self.recent_frames.len() > 120 {
            self.recent_frames.pop_front();
        }
        if std::env::var_os("SAMPLE_SETS_FRAME_LOG").is_some() {
            eprintln!("frame {ms:.2} ms");
        }
        self.frame_ms = if self.frame_ms == 0.0 {
            ms
        } else {
            self.frame_ms * 0.9 + ms * 0.1
        };
    }
}

/// "1 h 02 min", "3 min 20 s", "12 s".
fn fmt_duration(s: f64) -> String {
    let s = s.max(0.0) as u64;
    if s >= 3600 {
        format!("{} h {:02} min", s / 3600, s % 3600 / 60)
    } else if s >= 60 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        format!("{s} s")
    }
}

impl eframe::App for SampleSetsApp {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.frame(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, SETTINGS_KEY, &self.settings);
    }
}

impl Drop for SampleSetsApp {
    fn drop(&mut self) {
        // Workers stop at their next minibatch; completed epochs are already on disk.
        for e in &self.runs.entries {
            e.control.cancel();
        }
    }
}

/// The window icon, decoded from the 256 px PNG in `assets/icons` (embedded).
fn window_icon() -> Option<egui::IconData> {
    let png = include_bytes!("../../assets/icons/sample-sets-256.png");
    let img = image::load_from_memory_with_format(png, image::ImageFormat::Png).ok()?;
    let rgba = img.to_rgba8();
    Some(egui::IconData {
        width: rgba.width(),
        height: rgba.height(),
        rgba: rgba.into_raw(),
    })
}

/// Window options: title, app id, icon, size, persisted position and size, drag and drop.
pub fn native_options() -> eframe::NativeOptions {
    let mut viewport = egui::ViewportBuilder::default();
    if let Some(icon) = window_icon() {
        viewport = viewport.with_icon(icon);
    }
    eframe::NativeOptions {
        viewport: viewport
            .with_title("Sample Sets")
            .with_app_id("sample-sets")
            .with_inner_size([1500.0, 950.0])
            .with_min_inner_size([900.0, 600.0])
            .with_drag_and_drop(true),
        persist_window: true,
        ..Default::default()
    }
}

/// Opens the window with `files` loaded; returns when it is closed.
///
/// # Errors
/// When no graphics context can be created.
pub fn run_app(files: Vec<PathBuf>) -> eframe::Result<()> {
    let config = AppConfig::from_env(files);
    eframe::run_native(
        "sample-sets",
        native_options(),
        Box::new(move |cc| Ok(Box::new(SampleSetsApp::new(cc, config)))),
    )
}
