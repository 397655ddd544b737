//! Every worker thread of the app and the one channel that brings their results back.
//!
//! The app owns one [`Background`]. Anything slow (reading MNIST or a session file, training,
//! downloading, drawing node lines into textures, a native file dialog, saving and
//! exporting) runs on a thread started here; the thread sends a [`Done`] and asks egui for a
//! repaint. The shell calls [`Background::poll`] once per frame, which never waits, and hands
//! each [`Done`] to the command handler. Views never start threads: they emit commands.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crossbeam_channel::{Receiver, Sender, unbounded};

use super::command::Purpose;
use super::node_lines::{NodeLinesJob, NodeLinesResult};
use super::runs::{RunId, RunMsg, StartRun, train_worker};
use crate::data::Dataset;
use crate::data::download::{DownloadProgress, MNIST_MIRRORS, download_mnist};
use crate::session::Session;

/// What a finished (or progressing) background job reports.
pub enum Done {
    /// The data set in this folder was read (or not).
    Data(PathBuf, Result<Arc<Dataset>, String>),
    /// Run `id`'s session file was read (or not).
    SessionLoaded(RunId, Result<Box<Session>, String>),
    /// Run `id`'s session file, listed when the app was last closed, was read again (or not).
    SessionRestored(RunId, Result<Box<Session>, String>),
    /// A message from run `id`'s training worker.
    Run(RunId, RunMsg),
    /// Bytes of the MNIST download so far.
    DownloadProgress(DownloadProgress),
    /// The MNIST download ended: the data folder, or why not.
    DownloadFinished(Result<PathBuf, String>),
    /// Node-line textures were drawn.
    NodeLines(Box<NodeLinesResult>),
    /// The native file dialog closed: the chosen path, if any.
    Dialog(Purpose, Option<PathBuf>),
    /// The sessions folder was looked through: its runs with records, newest file first.
    SessionsFound(Vec<FoundRun>),
    /// A job failed: what to tell the user.
    Notice(String),
    /// A save or export finished: what was done ("saved", "wrote") and the absolute path
    /// written, or why not.
    Written(&'static str, Result<PathBuf, String>),
    /// The watcher of grid folder number `.0` read it anew (or could not).
    Grid(u64, super::grid_folder::GridUpdate),
}

/// A run whose session file is in the sessions folder (listed or not): what the grid's cells
/// show of it.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundRun {
    /// The session file.
    pub path: PathBuf,
    /// Its preset's name (a grid cell's name for grid runs).
    pub preset: String,
    /// Epochs trained.
    pub epochs_done: u32,
    /// Test accuracy after the last epoch, in [0, 1].
    pub test_accuracy: f64,
}

/// Most session files looked at in the sessions folder (the newest).
const MAX_FOUND: usize = 1000;

/// Longest wait before a frame shows a worker's progress report.
const PROGRESS_REPAINT: std::time::Duration = std::time::Duration::from_millis(1000);

/// The runs with at least one trained epoch in `dir`'s session files, newest file first.
/// Files are read without their bulk arrays ([`crate::grid::summary::RunSummary::read`]);
/// unreadable ones are skipped (opening them names the problem).
pub fn found_runs(dir: &Path) -> Vec<FoundRun> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron") && p.is_file())
        .map(|p| {
            let t = std::fs::metadata(&p)
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            (t, p)
        })
        .collect();
    files.sort_by_key(|f| std::cmp::Reverse(f.0));
    files
        .into_iter()
        .take(MAX_FOUND)
        .filter_map(|(_, path)| {
            let s = crate::grid::summary::RunSummary::read(&path).ok()?;
            let test_accuracy = s.final_test_accuracy().filter(|_| s.epochs_done() > 0)?;
            Some(FoundRun {
                preset: s.preset.name.clone(),
                epochs_done: s.epochs_done(),
                test_accuracy,
                path,
            })
        })
        .collect()
}

/// The owner of every worker thread's channel.
pub struct Background {
    tx: Sender<Done>,
    rx: Receiver<Done>,
    ctx: egui::Context,
}

/// A worker's way back: sends a [`Done`] and wakes the UI.
#[derive(Clone)]
struct Reply {
    tx: Sender<Done>,
    ctx: egui::Context,
}

impl Reply {
    fn send(&self, done: Done) {
        let progress_only = matches!(
            done,
            Done::Run(_, RunMsg::Event(crate::train::RunEvent::Progress { .. }))
                | Done::DownloadProgress(_)
        );
        // The receiver is gone only when the app is closing; the result is then not needed.
        let _ = self.tx.send(done);
        if progress_only {
            // A training worker reports progress every 100 ms; a frame for each took a
            // lone 9x320 run in the app from the CLI's 10,500 to 7,700 samples/s (under
            // Xvfb). Even one frame per 400 ms left a lone 9x320 run at 3.45-3.54 s per epoch
            // against the CLI's 2.06-2.19 under Xvfb, where the software rasteriser
            // (llvmpipe) took 45 % of the two cores for 2.7 frames a second; one per second
            // made it 2.69-2.79 s. Records still repaint at once.
            self.ctx.request_repaint_after(PROGRESS_REPAINT);
        } else {
            self.ctx.request_repaint();
        }
    }
}

impl Background {
    /// No jobs yet; workers wake `ctx` when they report.
    pub fn new(ctx: &egui::Context) -> Self {
        let (tx, rx) = unbounded();
        Self {
            tx,
            rx,
            ctx: ctx.clone(),
        }
    }

    /// Everything reported since the last call, oldest first. Never waits.
    pub fn poll(&self) -> Vec<Done> {
        self.rx.try_iter().collect()
    }

    /// Starts thread `name` running `job`; a thread that cannot start is reported with
    /// `failed` (through the same channel, so the handler sees it like any other result).
    fn spawn(
        &self,
        name: &str,
        job: impl FnOnce(&Reply) + Send + 'static,
        failed: impl FnOnce(String) -> Done,
    ) {
        let reply = Reply {
            tx: self.tx.clone(),
            ctx: self.ctx.clone(),
        };
        let spawned = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || job(&reply));
        if let Err(e) = spawned {
            let _ = self
                .tx
                .send(failed(format!("cannot start a {name} thread: {e}")));
        }
    }

    /// Reads the data set in `dir`.
    pub fn load_data(&self, dir: PathBuf) {
        let d = dir.clone();
        self.spawn(
            "load-data",
            move |r| {
                let loaded = Dataset::load(&d).map(Arc::new).map_err(|e| e.to_string());
                r.send(Done::Data(d, loaded));
            },
            |m| Done::Data(dir, Err(m)),
        );
    }

    /// Reads the session file `path` for run `id`.
    pub fn load_session(&self, id: RunId, path: PathBuf) {
        self.spawn(
            "load-session",
            move |r| {
                let loaded = crate::session::load(&path)
                    .map(Box::new)
                    .map_err(|e| e.to_string());
                r.send(Done::SessionLoaded(id, loaded));
            },
            move |m| Done::SessionLoaded(id, Err(m)),
        );
    }

    /// Reads the session files of the runs restored from the last time the app was closed,
    /// one after the other on one thread (the first is shown first; a long list does not
    /// start a thread per file or hold every file's text at once).
    pub fn restore_sessions(&self, files: Vec<(RunId, PathBuf)>) {
        let ids: Vec<RunId> = files.iter().map(|f| f.0).collect();
        let reply = Reply {
            tx: self.tx.clone(),
            ctx: self.ctx.clone(),
        };
        let spawned = std::thread::Builder::new()
            .name("restore-sessions".into())
            .spawn(move || {
                for (id, path) in files {
                    let loaded = crate::session::load(&path)
                        .map(Box::new)
                        .map_err(|e| e.to_string());
                    reply.send(Done::SessionRestored(id, loaded));
                }
            });
        if let Err(e) = spawned {
            // Every entry says why, instead of loading forever.
            for id in ids {
                let m = format!("cannot start a restore-sessions thread: {e}");
                let _ = self.tx.send(Done::SessionRestored(id, Err(m)));
            }
        }
    }

    /// Looks through the session files in `dir` (see [`found_runs`]).
    pub fn scan_sessions(&self, dir: PathBuf) {
        self.spawn(
            "scan-sessions",
            move |r| r.send(Done::SessionsFound(found_runs(&dir))),
            |_| Done::SessionsFound(Vec::new()),
        );
    }

    /// Trains (or resumes) a run on `data`, writing into `sessions_dir`.
    pub fn train(&self, start: StartRun, data: Arc<Dataset>, sessions_dir: PathBuf) {
        let id = start.id;
        self.spawn(
            &format!("run-{}", id.0),
            move |r| {
                train_worker(start, &data, &sessions_dir, &|m| r.send(Done::Run(id, m)));
            },
            move |m| Done::Run(id, RunMsg::Failed(m)),
        );
    }

    /// Downloads MNIST into `dest` from the public mirrors until done or `cancel` is set.
    pub fn download_mnist(&self, dest: PathBuf, cancel: Arc<AtomicBool>) {
        self.spawn(
            "download-mnist",
            move |r| {
                let mirrors: Vec<String> = MNIST_MIRRORS.iter().map(|m| (*m).to_string()).collect();
                let result = download_mnist(
                    &dest,
                    &mirrors,
                    &mut |p| r.send(Done::DownloadProgress(p)),
                    &cancel,
                )
                .map(|()| dest.clone())
                .map_err(|e| e.to_string());
                r.send(Done::DownloadFinished(result));
            },
            |m| Done::DownloadFinished(Err(m)),
        );
    }

    /// Draws node-line textures.
    pub fn node_lines(&self, job: NodeLinesJob) {
        self.spawn(
            "node-lines",
            move |r| r.send(Done::NodeLines(Box::new(job.run()))),
            Done::Notice,
        );
    }

    /// Shows the native file dialog for `purpose`, suggesting `file_name` when saving.
    pub fn native_dialog(&self, purpose: Purpose, start: PathBuf) {
        let p = purpose.clone();
        self.spawn(
            "file-dialog",
            move |r| {
                let chosen = native_dialog(&p, &start);
                r.send(Done::Dialog(p, chosen));
            },
            move |_| Done::Dialog(purpose, None),
        );
    }

    /// Watches grid folder `dir` (number `generation`) until `stop` is set: reports a new
    /// snapshot whenever its files change (see [`super::grid_folder::watch_worker`]).
    pub fn watch_grid(&self, dir: PathBuf, generation: u64, stop: Arc<AtomicBool>) {
        self.spawn(
            "grid-watch",
            move |r| {
                super::grid_folder::watch_worker(&dir, &stop, &|u| {
                    r.send(Done::Grid(generation, u));
                });
            },
            move |m| Done::Grid(generation, Err(m)),
        );
    }

    /// Runs a save or export `job` that writes one file: `verb` says what it did ("saved",
    /// "wrote"), the job returns the path written or why not.
    pub fn write_file(
        &self,
        verb: &'static str,
        job: impl FnOnce() -> Result<PathBuf, String> + Send + 'static,
    ) {
        self.spawn(
            verb,
            move |r| r.send(Done::Written(verb, job())),
            move |m| Done::Written(verb, Err(m)),
        );
    }

    /// Opens `dir` in the platform's file manager (`xdg-open` and its fallbacks, `open`,
    /// Explorer); a failure comes back as a notice.
    pub fn open_folder(&self, dir: PathBuf) {
        self.spawn(
            "open-folder",
            move |r| {
                if let Err(e) = open::that_detached(&dir) {
                    r.send(Done::Notice(format!(
                        "could not open {}: {e}",
                        dir.display()
                    )));
                }
            },
            Done::Notice,
        );
    }
}

/// The platform's file dialog (rfd); `None` when closed or unavailable (rfd returns nothing
/// without a desktop portal).
/// The dialog starts in `start`'s folder (or `start` itself when it is a folder) and, when
/// saving, suggests its file name.
fn native_dialog(purpose: &Purpose, start: &Path) -> Option<PathBuf> {
    let mut d = rfd::FileDialog::new().set_title(purpose.title());
    let folder = if start.is_dir() {
        Some(start)
    } else {
        start.parent().filter(|p| p.is_dir())
    };
    if let Some(dir) = folder {
        d = d.set_directory(dir);
    }
    match purpose {
        Purpose::Open => d.add_filter("session", &["ron"]).pick_file(),
        Purpose::DataFolder | Purpose::OpenGrid => d.pick_folder(),
        _ => {
            let name = start
                .file_name()
                .filter(|_| !start.is_dir())
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            d.set_file_name(name).save_file()
        }
    }
}

/// Copies a run's session file to `to` (it holds the checkpoint, which the live copy in the
/// app does not) or, when there is no complete file, saves the live copy. The copy is atomic
/// (a crash leaves the old `to` whole); the save dialog asked before replacing.
///
/// # Errors
/// The save's message (naming the file) when neither worked.
pub fn save_session(
    source: Option<&Path>,
    session: &Session,
    to: &Path,
) -> Result<PathBuf, String> {
    let copied = source
        .and_then(|src| std::fs::read(src).ok())
        .map(|bytes| crate::fs::write_atomic(to, &bytes, crate::fs::Existing::Replace));
    match copied {
        Some(Ok(())) => Ok(to.to_path_buf()),
        _ => crate::session::save(session, to)
            .map(|()| to.to_path_buf())
            .map_err(|e| e.to_string()),
    }
}
