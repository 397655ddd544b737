//! The runs list: training on worker threads (queued up to a parallel limit), sessions loaded
//! from files, and the channel that brings their results to the UI thread.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, Sender, unbounded};

use super::state::RunId;
use crate::data::Dataset;
use crate::preset::Preset;
use crate::session::{RunStatus, Session};
use crate::train::{Control, Run, RunEvent};

/// Where a run stands, as the runs list shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    /// Waiting for a free slot (or for the data).
    Queued,
    /// A session file is being read.
    Loading,
    /// Training on a worker thread.
    Training,
    /// Ended (completed, cancelled, diverged or failed), or opened from a file.
    Done(RunStatus),
    /// Could not start or could not be read.
    Error(String),
}

/// Latest minibatch progress of a training run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Epoch being trained (1-based).
    pub epoch: u32,
    /// Samples done in this epoch.
    pub samples_done: usize,
    /// Samples per epoch.
    pub samples_total: usize,
    /// Training throughput.
    pub samples_per_s: f64,
}

/// What a queued run will do once it gets a slot.
enum Job {
    /// Train a preset from scratch.
    Fresh(Box<Preset>),
    /// Continue a session from its checkpoint.
    Resume(Box<Session>),
    /// Continue the session in this file (live copies in the UI carry no checkpoint; the
    /// file written after every epoch does).
    ResumeFile(PathBuf),
}

/// One entry of the runs list.
pub struct RunEntry {
    /// Stable id.
    pub id: RunId,
    /// Session so far (header and the epochs received); `None` until known.
    pub session: Option<Session>,
    /// Session file (written by the run, or opened).
    pub path: Option<PathBuf>,
    /// State.
    pub state: RunState,
    /// Pause / cancel flags shared with the worker.
    pub control: Arc<Control>,
    /// Latest progress while training.
    pub progress: Option<Progress>,
    /// Last problem worth showing next to the run (e.g. a failed save).
    pub note: Option<String>,
    /// Bumped on every change of `session`, so views can cache derived data.
    pub version: u64,
    /// Compare this run with the other checked ones.
    pub compare: bool,
    job: Option<Job>,
    started: Option<Instant>,
}

impl RunEntry {
    /// A short title for lists.
    pub fn title(&self) -> String {
        match (&self.session, &self.path) {
            (Some(s), _) => s.title(),
            (None, Some(p)) => p
                .file_name()
                .map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into()),
            (None, None) => format!("run {}", self.id.0),
        }
    }

    /// True while a worker thread owns the run.
    pub fn is_training(&self) -> bool {
        self.state == RunState::Training
    }

    /// True when the run could be resumed (it has a checkpoint and did not complete).
    pub fn can_resume(&self) -> bool {
        let resumable = matches!(
            self.state,
            RunState::Done(RunStatus::Cancelled | RunStatus::Running | RunStatus::Failed { .. })
        );
        let has_checkpoint =
            |s: &Session| s.checkpoint.is_some() || self.path.as_ref().is_some_and(|p| p.exists());
        resumable
            && self
                .session
                .as_ref()
                .is_some_and(|s| has_checkpoint(s) && s.epochs_done() < s.preset.epochs)
    }

    /// Seconds left, from the measured rate of whole epochs so far.
    pub fn eta_s(&self) -> Option<f64> {
        let s = self.session.as_ref()?;
        let p = self.progress?;
        let per_epoch = p.samples_total as f64 / p.samples_per_s.max(1e-9);
        let left_in_epoch = (p.samples_total - p.samples_done.min(p.samples_total)) as f64
            / p.samples_per_s.max(1e-9);
        let epochs_after = s.preset.epochs.saturating_sub(p.epoch) as f64;
        Some(left_in_epoch + epochs_after * per_epoch * 1.15)
    }

    /// A readable line about how the run ended, if it did.
    pub fn status_text(&self) -> String {
        match &self.state {
            RunState::Queued => "queued".into(),
            RunState::Loading => "loading…".into(),
            RunState::Training if self.control.is_paused() => "paused".into(),
            RunState::Training => "training".into(),
            RunState::Done(s) => status_sentence(s),
            RunState::Error(e) => format!("error: {e}"),
        }
    }
}

/// A run status as a sentence ("diverged in epoch 4 (loss NaN)").
pub fn status_sentence(s: &RunStatus) -> String {
    match s {
        RunStatus::Running => "interrupted (resumable)".into(),
        RunStatus::Completed => "completed".into(),
        RunStatus::Cancelled => "cancelled".into(),
        RunStatus::Diverged { epoch } => format!("diverged in epoch {epoch} (loss NaN)"),
        RunStatus::Failed { message } => format!("failed: {message}"),
    }
}

/// What workers send to the UI thread.
enum Msg {
    /// The run was built: its session header (no epochs yet, or the resumed ones).
    Started(Box<Session>),
    /// An event of the run.
    Event(RunEvent),
    /// The run could not start.
    Failed(String),
    /// A session file was read.
    Loaded(Result<Box<Session>, String>),
}

/// All runs plus the channel from their workers.
pub struct Runs {
    /// Runs in the order they were added.
    pub entries: Vec<RunEntry>,
    /// How many may train at the same time.
    pub parallel: usize,
    /// Folder new sessions are written to.
    pub sessions_dir: PathBuf,
    tx: Sender<(RunId, Msg)>,
    rx: Receiver<(RunId, Msg)>,
    next: u64,
}

/// The default folder for sessions: `<platform data dir>/sessions`.
pub fn default_sessions_dir() -> PathBuf {
    directories::ProjectDirs::from("org", "sample-sets", "sample-sets").map_or_else(
        || PathBuf::from("sessions"),
        |d| d.data_dir().join("sessions"),
    )
}

/// The file name for a new session of `preset`.
pub fn session_file_name(preset: &Preset) -> String {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!("{}-{t}.ron", preset.file_stem())
}

/// What happened while draining the channel that the app may want to tell the user.
#[derive(Debug, Default)]
pub struct Drained {
    /// Readable messages (failures, saved files).
    pub messages: Vec<String>,
    /// Files that loaded fine (for the recent list).
    pub loaded: Vec<(RunId, PathBuf)>,
    /// True if any session changed.
    pub changed: bool,
}

impl Runs {
    /// An empty list writing sessions to `sessions_dir`.
    pub fn new(sessions_dir: PathBuf, parallel: usize) -> Self {
        let (tx, rx) = unbounded();
        Self {
            entries: Vec::new(),
            parallel: parallel.max(1),
            sessions_dir,
            tx,
            rx,
            next: 1,
        }
    }

    fn push(&mut self, state: RunState, job: Option<Job>, session: Option<Session>) -> RunId {
        let id = RunId(self.next);
        self.next += 1;
        self.entries.push(RunEntry {
            id,
            session,
            path: None,
            state,
            control: Arc::new(Control::default()),
            progress: None,
            note: None,
            version: 0,
            compare: false,
            job,
            started: None,
        });
        id
    }

    /// The entry with `id`.
    pub fn get(&self, id: RunId) -> Option<&RunEntry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// The entry with `id`, mutable.
    pub fn get_mut(&mut self, id: RunId) -> Option<&mut RunEntry> {
        self.entries.iter_mut().find(|e| e.id == id)
    }

    /// Queues a fresh run of `preset`; it starts once data is loaded and a slot is free.
    pub fn queue(&mut self, preset: Preset) -> RunId {
        self.push(RunState::Queued, Some(Job::Fresh(Box::new(preset))), None)
    }

    /// Queues resuming run `id` from its checkpoint, in place.
    pub fn queue_resume(&mut self, id: RunId) {
        if let Some(e) = self.get_mut(id) {
            let job = match (&e.session, &e.path) {
                (Some(s), _) if s.checkpoint.is_some() => Job::Resume(Box::new(s.clone())),
                (_, Some(p)) => Job::ResumeFile(p.clone()),
                _ => return,
            };
            e.job = Some(job);
            e.state = RunState::Queued;
            e.control = Arc::new(Control::default());
            e.note = None;
        }
    }

    /// Cancels run `id` (a queued one is dropped from the queue); completed epochs stay.
    pub fn cancel(&mut self, id: RunId) {
        if let Some(e) = self.get_mut(id) {
            e.control.cancel();
            if e.state == RunState::Queued {
                e.job = None;
                e.state = if e.session.is_some() {
                    RunState::Done(RunStatus::Cancelled)
                } else {
                    RunState::Error("cancelled before it started".into())
                };
            }
        }
    }

    /// Removes run `id` from the list (a training run is cancelled first).
    pub fn remove(&mut self, id: RunId) {
        if let Some(e) = self.get(id) {
            e.control.cancel();
        }
        self.entries.retain(|e| e.id != id);
    }

    /// Reads a session file on a worker thread; the entry shows a spinner meanwhile.
    pub fn open(&mut self, path: &Path, ctx: &egui::Context) -> RunId {
        if let Some(e) = self
            .entries
            .iter()
            .find(|e| e.path.as_deref() == Some(path) && !e.is_training())
        {
            return e.id;
        }
        let id = self.push(RunState::Loading, None, None);
        if let Some(e) = self.get_mut(id) {
            e.path = Some(path.to_path_buf());
        }
        let tx = self.tx.clone();
        let ctx = ctx.clone();
        let path = path.to_path_buf();
        let spawned = std::thread::Builder::new()
            .name("load-session".into())
            .spawn(move || {
                let r = crate::session::load(&path)
                    .map(Box::new)
                    .map_err(|e| e.to_string());
                let _ = tx.send((id, Msg::Loaded(r)));
                ctx.request_repaint();
            });
        if let Err(e) = spawned
            && let Some(entry) = self.get_mut(id)
        {
            entry.state = RunState::Error(format!("cannot start a loader thread: {e}"));
        }
        id
    }

    /// Number of runs training now.
    pub fn training(&self) -> usize {
        self.entries.iter().filter(|e| e.is_training()).count()
    }

    /// Starts queued runs while slots are free (needs the data).
    pub fn start_queued(&mut self, data: Option<&Arc<Dataset>>, ctx: &egui::Context) {
        let Some(data) = data else { return };
        while self.training() < self.parallel {
            let Some(e) = self
                .entries
                .iter_mut()
                .find(|e| e.state == RunState::Queued && e.job.is_some())
            else {
                return;
            };
            let Some(job) = e.job.take() else { return };
            e.state = RunState::Training;
            e.started = Some(Instant::now());
            let id = e.id;
            let control = Arc::clone(&e.control);
            let out = match &job {
                Job::Fresh(p) => self.sessions_dir.join(session_file_name(p)),
                Job::Resume(_) | Job::ResumeFile(_) => e
                    .path
                    .clone()
                    .unwrap_or_else(|| self.sessions_dir.join(format!("resumed-{}.ron", id.0))),
            };
            e.path = Some(out.clone());
            let tx = self.tx.clone();
            let ctx = ctx.clone();
            let data = Arc::clone(data);
            let dir = self.sessions_dir.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("run-{}", id.0))
                .spawn(move || work(id, job, &data, &dir, &out, &control, &tx, &ctx));
            if let Err(err) = spawned
                && let Some(e) = self.get_mut(id)
            {
                e.state = RunState::Error(format!("cannot start a worker thread: {err}"));
            }
        }
    }

    /// Applies everything the workers sent since the last call. Never blocks.
    pub fn drain(&mut self) -> Drained {
        let mut out = Drained::default();
        while let Ok((id, msg)) = self.rx.try_recv() {
            let Some(e) = self.get_mut(id) else { continue };
            match msg {
                Msg::Started(s) => {
                    e.session = Some(*s);
                    e.version += 1;
                    out.changed = true;
                }
                Msg::Event(RunEvent::Progress {
                    epoch,
                    samples_done,
                    samples_total,
                    samples_per_s,
                    ..
                }) => {
                    e.progress = Some(Progress {
                        epoch,
                        samples_done,
                        samples_total,
                        samples_per_s,
                    });
                }
                Msg::Event(RunEvent::Epoch(rec)) => {
                    if let Some(s) = e.session.as_mut() {
                        s.epochs.retain(|x| x.step < rec.step);
                        s.epochs.push(*rec);
                    }
                    e.version += 1;
                    out.changed = true;
                }
                Msg::Event(RunEvent::SaveFailed(m)) => {
                    out.messages
                        .push(format!("{}: could not save: {m}", e.title()));
                    e.note = Some(format!("not saved: {m}"));
                }
                Msg::Event(RunEvent::Finished(status)) => {
                    if let Some(s) = e.session.as_mut() {
                        s.status = status.clone();
                    }
                    if matches!(
                        status,
                        RunStatus::Diverged { .. } | RunStatus::Failed { .. }
                    ) {
                        out.messages
                            .push(format!("{}: {}", e.title(), status_sentence(&status)));
                    }
                    e.state = RunState::Done(status);
                    e.progress = None;
                    e.version += 1;
                    out.changed = true;
                }
                Msg::Failed(m) => {
                    out.messages
                        .push(format!("{}: could not start: {m}", e.title()));
                    e.state = RunState::Error(m);
                }
                Msg::Loaded(Ok(s)) => {
                    e.state = RunState::Done(s.status.clone());
                    e.session = Some(*s);
                    e.version += 1;
                    out.changed = true;
                    if let Some(p) = &e.path {
                        out.loaded.push((id, p.clone()));
                    }
                }
                Msg::Loaded(Err(m)) => {
                    out.messages.push(m.clone());
                    e.state = RunState::Error(m);
                }
            }
        }
        out
    }
}

/// The worker: builds the run, sends its session header, executes it.
#[allow(clippy::too_many_arguments)]
fn work(
    id: RunId,
    job: Job,
    data: &Dataset,
    dir: &Path,
    out: &Path,
    control: &Control,
    tx: &Sender<(RunId, Msg)>,
    ctx: &egui::Context,
) {
    let send = |m: Msg| {
        let _ = tx.send((id, m));
        ctx.request_repaint();
    };
    if let Err(e) = std::fs::create_dir_all(dir) {
        send(Msg::Event(RunEvent::SaveFailed(format!(
            "cannot create {}: {e}",
            dir.display()
        ))));
    }
    let built = match job {
        Job::Fresh(p) => Run::new(*p, data, 1),
        Job::Resume(s) => Run::resume(*s, data, &out.display().to_string()),
        Job::ResumeFile(p) => match crate::session::load(&p) {
            Ok(s) => Run::resume(s, data, &p.display().to_string()),
            Err(e) => {
                send(Msg::Failed(e.to_string()));
                return;
            }
        },
    };
    let mut run = match built {
        Ok(r) => r,
        Err(e) => {
            send(Msg::Failed(e.to_string()));
            return;
        }
    };
    send(Msg::Started(Box::new(run.session.clone())));
    run.execute(data, Some(out), control, &mut |ev| send(Msg::Event(ev)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_as_sentences() {
        assert_eq!(
            status_sentence(&RunStatus::Diverged { epoch: 4 }),
            "diverged in epoch 4 (loss NaN)"
        );
        assert_eq!(status_sentence(&RunStatus::Completed), "completed");
    }
}
