//! What views ask the app to do. A view reads the app's state and sends [`Command`]s; the
//! handler (`handler.rs`) applies them after the frame's views are drawn, in the order sent.
//! A new user action is a new variant here and one arm in the handler.

use std::path::PathBuf;

use crossbeam_channel::{Receiver, Sender, unbounded};

use super::node_lines::NodeLinesJob;
use super::runs::RunId;
use super::settings::Setting;
use super::state::Tab;
use crate::export::figures::FigureKind;
use crate::preset::Preset;
use crate::session::Metric;

/// One user action (or a view's request for background work).
pub enum Command {
    /// Show run `id` in every view.
    SelectRun(RunId),
    /// Select a node (0-based layer, node) everywhere, or none.
    SelectNode(Option<(usize, usize)>),
    /// Select the selected run's record at or before this step.
    SelectStep(u64),
    /// Select a position on the epoch axis (epochs): each run shows its record at or before
    /// it (Compare's shared axis; the selected run snaps to its record).
    SelectPosition(f64),
    /// Keep every view on the newest record while the run trains (true), or stay put.
    FollowLatest(bool),
    /// Colour the node map by this metric.
    SelectMetric(Metric),
    /// Show Explore's plots as the mean over the shown run's seed group (true), or the shown
    /// run alone.
    SeedsAsGroup(bool),
    /// Show this probe sample (index into the probe) large in the node detail.
    SelectProbeRow(Option<usize>),
    /// Switch the centre view.
    ShowTab(Tab),
    /// Open a session file (read by a worker) and select it; a folder is opened as a grid.
    Open(PathBuf),
    /// Open a grid folder in the Grid tab and watch it for changes.
    OpenGrid(PathBuf),
    /// Open these session files (a grid cell's runs), select the first, show Explore.
    OpenRuns(Vec<PathBuf>),
    /// Write the embedded example session into the sessions folder and open it.
    OpenExample,
    /// Queue a run of this preset and select it.
    StartPreset(Box<Preset>),
    /// Pause (true) or continue (false) a training run.
    PauseRun(RunId, bool),
    /// Cancel a run (a queued one leaves the queue); completed epochs stay.
    CancelRun(RunId),
    /// Queue resuming a run from its checkpoint.
    ResumeRun(RunId),
    /// Remove a run from the list (its file stays).
    RemoveRun(RunId),
    /// Mark a run for comparison (or not).
    SetCompare(RunId, bool),
    /// Change a setting.
    Set(Setting),
    /// Look for MNIST in this folder (or, with `None`, in the usual places).
    FindData(Option<PathBuf>),
    /// Download MNIST into the platform data folder.
    StartDownload,
    /// Stop the download (no partial file is left).
    CancelDownload,
    /// Ask the user for a path (the in-app prompt), starting with this text.
    AskPath(Purpose, String),
    /// Show the native file dialog for the prompt, starting at this path (its folder, and
    /// its file name when saving).
    NativeDialog(Purpose, PathBuf),
    /// The user chose a path for this purpose.
    PathChosen(Purpose, PathBuf),
    /// Close the path prompt.
    ClosePrompt,
    /// Draw node-line textures on a worker.
    DrawNodeLines(Box<NodeLinesJob>),
    /// Tell the user something.
    Notify(String),
    /// Forget the notice with this id.
    DismissNotice(u64),
    /// Forget every notice.
    DismissAllNotices,
    /// Open a folder in the platform's file manager (where an export was written).
    OpenFolder(PathBuf),
}

/// What a chosen path is for.
#[derive(Debug, Clone, PartialEq)]
pub enum Purpose {
    /// Open a session file.
    Open,
    /// Save a copy of a run's session.
    SaveAs(RunId),
    /// Use this folder as the data folder.
    DataFolder,
    /// Open a grid folder.
    OpenGrid,
    /// Export a figure of a run.
    ExportFigure(RunId, FigureKind),
    /// Export the per-node CSV of a run.
    ExportCsv(RunId),
}

impl Purpose {
    /// Title of the prompt and the dialog.
    pub fn title(&self) -> &'static str {
        match self {
            Purpose::Open => "Open session",
            Purpose::SaveAs(_) => "Save session as",
            Purpose::DataFolder => "Choose data folder",
            Purpose::OpenGrid => "Open grid folder",
            Purpose::ExportFigure(..) => "Export figure",
            Purpose::ExportCsv(_) => "Export CSV",
        }
    }

    /// True when the path is a file to write.
    pub fn is_save(&self) -> bool {
        matches!(
            self,
            Purpose::SaveAs(_) | Purpose::ExportFigure(..) | Purpose::ExportCsv(_)
        )
    }
}

/// The views' end of the command channel.
#[derive(Clone)]
pub struct CommandSender(Sender<Command>);

impl CommandSender {
    /// Queues `cmd` for the handler.
    pub fn send(&self, cmd: Command) {
        // The receiver lives as long as the app, which outlives every view.
        let _ = self.0.send(cmd);
    }
}

/// A new command channel: the views' sender and the handler's receiver.
pub fn channel() -> (CommandSender, Receiver<Command>) {
    let (tx, rx) = unbounded();
    (CommandSender(tx), rx)
}
