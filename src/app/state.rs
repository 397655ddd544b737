//! What the app knows and every view reads: settings, runs, the selection, the data set, the
//! download, notices. Views get it read-only; only the command handler changes it.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use egui::util::History;

use super::command::Purpose;
use super::grid_folder::OpenGrid;
use super::runs::{RunEntry, RunId, Runs};
use super::selection::Selection;
use super::settings::Settings;
use crate::data::Dataset;
use crate::data::download::DownloadProgress;
use crate::preset::Preset;
use crate::session::Session;

/// Most notices kept (oldest dropped first).
const MAX_NOTICES: usize = 20;

/// How long an information notice stays (then it fades out over [`NOTICE_FADE`]); errors
/// stay until dismissed. Long enough to read two lines of a path.
pub const INFO_NOTICE_TIME: Duration = Duration::from_secs(6);
/// How long an information notice takes to fade out.
pub const NOTICE_FADE: Duration = Duration::from_millis(800);

/// How a notice is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeLevel {
    /// Something done (a file written): fades after [`INFO_NOTICE_TIME`].
    Info,
    /// Something that failed or needs the user: kept until dismissed.
    Error,
}

/// A message for the user, shown as a toast over the window's bottom-right corner.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// Stable id (what Dismiss names).
    pub id: u64,
    /// The message.
    pub text: String,
    /// Fades (info) or stays (error).
    pub level: NoticeLevel,
    /// When it was added.
    pub at: Instant,
    /// A folder that a click on the notice opens (where an export was written).
    pub folder: Option<PathBuf>,
    /// The queued run this notice explains: it goes when the run leaves the queue.
    pub queued_run: Option<RunId>,
}

impl Notice {
    /// How far an information notice has faded at `now`: 0 = fully shown, 1 = gone. Errors
    /// never fade.
    pub fn faded(&self, now: Instant) -> f32 {
        if self.level == NoticeLevel::Error {
            return 0.0;
        }
        let age = now.saturating_duration_since(self.at);
        match age.checked_sub(INFO_NOTICE_TIME) {
            None => 0.0,
            Some(late) => (late.as_secs_f32() / NOTICE_FADE.as_secs_f32()).min(1.0),
        }
    }
}

/// Where the data set stands.
pub enum DataState {
    /// Being read on a worker thread from this folder.
    Loading(PathBuf),
    /// Ready for training.
    Ready(Arc<Dataset>),
    /// Not found or unreadable: a message saying where the app looked.
    Missing(String),
}

/// The MNIST download.
#[derive(Default)]
pub struct DownloadState {
    /// True while a download runs.
    pub running: bool,
    /// Set to stop the running download.
    pub cancel: Arc<AtomicBool>,
    /// Bytes so far of the file being fetched.
    pub progress: Option<DownloadProgress>,
    /// The last failure, shown under the button.
    pub error: Option<String>,
}

/// Which centre view is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Plots, node map and node detail of the selected run.
    Explore,
    /// Runs marked for comparison, side by side.
    Compare,
    /// The open grid folder as small multiples, and its summary over seeds.
    Grid,
}

/// The path prompt the user was asked to fill.
#[derive(Debug, Clone, PartialEq)]
pub struct PathRequest {
    /// What the path is for.
    pub purpose: Purpose,
    /// Text the field starts with.
    pub initial: String,
    /// Shown under the field when the native dialog gave nothing.
    pub hint: Option<String>,
}

/// Everything the views read.
pub struct AppState {
    /// Persisted settings.
    pub settings: Settings,
    /// All runs.
    pub runs: Runs,
    /// What every view shows.
    pub sel: Selection,
    /// The data set.
    pub data: DataState,
    /// The MNIST download.
    pub download: DownloadState,
    /// Messages for the user, oldest first.
    pub notices: Vec<Notice>,
    /// Id of the next notice.
    next_notice: u64,
    /// The centre view.
    pub tab: Tab,
    /// The path prompt, while open.
    pub prompt: Option<PathRequest>,
    /// The embedded presets (the grid), or why they did not load.
    pub presets: Result<Vec<Preset>, String>,
    /// CPU time of the UI code of recent frames, milliseconds.
    pub frame_times: History<f32>,
    /// Runs whose files are in the sessions folder, newest first (read at start, in the
    /// background): the grid's cells show their accuracies when no listed run has one.
    pub found_runs: Vec<super::background::FoundRun>,
    /// The grid folder shown in the Grid tab, if one was opened.
    pub grid: Option<OpenGrid>,
}

impl AppState {
    /// A fresh state: no runs, no data yet, sessions written to `sessions_dir`.
    pub fn new(settings: Settings, sessions_dir: PathBuf) -> Self {
        Self {
            settings,
            runs: Runs::new(sessions_dir),
            sel: Selection::default(),
            data: DataState::Missing(String::new()),
            download: DownloadState::default(),
            notices: Vec::new(),
            next_notice: 1,
            tab: Tab::Explore,
            prompt: None,
            presets: crate::preset::builtin().map_err(|e| e.to_string()),
            frame_times: History::new(0..120, f32::INFINITY),
            found_runs: Vec::new(),
            grid: None,
        }
    }

    /// The loaded data set, if ready.
    pub fn dataset(&self) -> Option<&Arc<Dataset>> {
        match &self.data {
            DataState::Ready(d) => Some(d),
            _ => None,
        }
    }

    /// Why the data is missing (`None` while loading or ready).
    pub fn data_problem(&self) -> Option<&str> {
        match &self.data {
            DataState::Missing(m) => Some(m),
            _ => None,
        }
    }

    /// The selected run's entry.
    pub fn selected_run(&self) -> Option<&RunEntry> {
        self.runs.get(self.sel.run?)
    }

    /// The session of the selected run.
    pub fn selected_session(&self) -> Option<&Session> {
        self.selected_run()?.session.as_ref()
    }

    /// The selected run, if it has a session (what exports need).
    pub fn selected_with_session(&self) -> Option<RunId> {
        self.sel
            .run
            .filter(|id| self.runs.get(*id).is_some_and(|e| e.session.is_some()))
    }

    /// Where an export is offered: the folder of the last export while it exists, else the
    /// home folder, else the working folder (named in full, so the prompt shows where the
    /// file will go).
    pub fn export_folder(&self) -> PathBuf {
        self.settings
            .export_dir
            .clone()
            .filter(|d| d.is_dir())
            .or_else(super::ui::path_prompt::home_dir)
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_else(|| PathBuf::from("/"))
    }

    /// The embedded preset named `name`.
    pub fn preset(&self, name: &str) -> Option<&Preset> {
        self.presets.as_ref().ok()?.iter().find(|p| p.name == name)
    }

    /// Adds a notice that stays until dismissed (a failure, or something the user must do).
    pub fn notify(&mut self, m: impl Into<String>) {
        self.push_notice(m.into(), NoticeLevel::Error, None, None);
    }

    /// Adds a notice that fades after a few seconds (something done).
    pub fn inform(&mut self, m: impl Into<String>) {
        self.push_notice(m.into(), NoticeLevel::Info, None, None);
    }

    /// Adds a notice; returns its id.
    pub fn push_notice(
        &mut self,
        text: String,
        level: NoticeLevel,
        folder: Option<PathBuf>,
        queued_run: Option<RunId>,
    ) -> u64 {
        let id = self.next_notice;
        self.next_notice += 1;
        self.notices.push(Notice {
            id,
            text,
            level,
            at: Instant::now(),
            folder,
            queued_run,
        });
        if self.notices.len() > MAX_NOTICES {
            self.notices.remove(0);
        }
        id
    }

    /// Drops information notices that have faded out by `now` and notices about queued runs
    /// that have left the queue (started, cancelled or removed).
    pub fn expire_notices(&mut self, now: Instant) {
        let runs = &self.runs;
        self.notices.retain(|n| {
            let waiting = n.queued_run.is_none_or(|id| {
                runs.get(id)
                    .is_some_and(|e| e.state == super::runs::RunState::Queued)
            });
            waiting && n.faded(now) < 1.0
        });
    }
}
