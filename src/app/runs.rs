//! The runs list: runs queued up to a parallel limit, training, finished, or opened from
//! files. This is the model only: the threads that train and read files are started by
//! [`super::background`], which brings their messages back here.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::data::Dataset;
use crate::preset::Preset;
use crate::session::{RunStatus, Session};
use crate::train::{Control, Run, RunEvent};

/// Identifies one entry of the runs list for the lifetime of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(pub u64);

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
pub enum RunJob {
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
    job: Option<RunJob>,
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
            // A queued run is named by its preset before it has a session.
            (None, None) => match &self.job {
                Some(RunJob::Fresh(p)) => p.name.clone(),
                _ => format!("run {}", self.id.0),
            },
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

/// What a training worker sends to the UI thread.
pub enum RunMsg {
    /// The run was built: its session header (no epochs yet, or the resumed ones).
    Started(Box<Session>),
    /// An event of the run.
    Event(RunEvent),
    /// The run could not start.
    Failed(String),
}

/// A queued run that got a slot: what its worker needs.
pub struct StartRun {
    /// The entry.
    pub id: RunId,
    /// Train or resume.
    pub job: RunJob,
    /// Session file the run writes after every epoch.
    pub out: PathBuf,
    /// Pause / cancel flags shared with the entry.
    pub control: Arc<Control>,
}

/// All runs.
pub struct Runs {
    /// Runs in the order they were added.
    pub entries: Vec<RunEntry>,
    /// Folder new sessions are written to.
    pub sessions_dir: PathBuf,
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

impl Runs {
    /// An empty list writing sessions to `sessions_dir`.
    pub fn new(sessions_dir: PathBuf) -> Self {
        Self {
            entries: Vec::new(),
            sessions_dir,
            next: 1,
        }
    }

    /// The run added last.
    pub fn newest(&self) -> Option<RunId> {
        self.entries.last().map(|e| e.id)
    }

    fn push(&mut self, state: RunState, job: Option<RunJob>, session: Option<Session>) -> RunId {
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
        self.push(
            RunState::Queued,
            Some(RunJob::Fresh(Box::new(preset))),
            None,
        )
    }

    /// Queues resuming run `id` from its checkpoint, in place.
    pub fn queue_resume(&mut self, id: RunId) {
        if let Some(e) = self.get_mut(id) {
            let job = match (&e.session, &e.path) {
                (Some(s), _) if s.checkpoint.is_some() => RunJob::Resume(Box::new(s.clone())),
                (_, Some(p)) => RunJob::ResumeFile(p.clone()),
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

    /// An entry for the session file `path`: the existing one when that file is listed and
    /// not training, else a new entry in the loading state. The flag is true when the file
    /// must be read (by a worker; see [`Runs::loaded`]).
    pub fn open(&mut self, path: &Path) -> (RunId, bool) {
        if let Some(e) = self
            .entries
            .iter()
            .find(|e| e.path.as_deref() == Some(path) && !e.is_training())
        {
            return (e.id, false);
        }
        let id = self.push(RunState::Loading, None, None);
        if let Some(e) = self.get_mut(id) {
            e.path = Some(path.to_path_buf());
        }
        (id, true)
    }

    /// A session file was read for entry `id`; returns the path that loaded (for the recent
    /// list) or the message to show.
    pub fn loaded(
        &mut self,
        id: RunId,
        result: Result<Box<Session>, String>,
    ) -> Result<Option<PathBuf>, String> {
        let Some(e) = self.get_mut(id) else {
            return Ok(None);
        };
        match result {
            Ok(s) => {
                e.state = RunState::Done(s.status.clone());
                e.session = Some(*s);
                e.version += 1;
                Ok(e.path.clone())
            }
            Err(m) => {
                e.state = RunState::Error(m.clone());
                Err(m)
            }
        }
    }

    /// A worker could not be started for entry `id`.
    pub fn not_started(&mut self, id: RunId, message: String) {
        if let Some(e) = self.get_mut(id) {
            e.state = RunState::Error(message);
        }
    }

    /// Number of runs training now.
    pub fn training(&self) -> usize {
        self.entries.iter().filter(|e| e.is_training()).count()
    }

    /// The next queued run, when fewer than `parallel` train: marks it training and returns
    /// what its worker needs.
    pub fn next_to_start(&mut self, parallel: usize) -> Option<StartRun> {
        if self.training() >= parallel.max(1) {
            return None;
        }
        let sessions_dir = self.sessions_dir.clone();
        let e = self
            .entries
            .iter_mut()
            .find(|e| e.state == RunState::Queued && e.job.is_some())?;
        let job = e.job.take()?;
        e.state = RunState::Training;
        e.started = Some(Instant::now());
        let out = match &job {
            RunJob::Fresh(p) => sessions_dir.join(session_file_name(p)),
            RunJob::Resume(_) | RunJob::ResumeFile(_) => e
                .path
                .clone()
                .unwrap_or_else(|| sessions_dir.join(format!("resumed-{}.ron", e.id.0))),
        };
        e.path = Some(out.clone());
        Some(StartRun {
            id: e.id,
            job,
            out,
            control: Arc::clone(&e.control),
        })
    }

    /// Applies one message of run `id`'s worker; returns what the user should be told.
    pub fn apply(&mut self, id: RunId, msg: RunMsg) -> Option<String> {
        let e = self.get_mut(id)?;
        match msg {
            RunMsg::Started(s) => {
                e.session = Some(*s);
                e.version += 1;
                None
            }
            RunMsg::Event(RunEvent::Progress {
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
                None
            }
            RunMsg::Event(RunEvent::Epoch(rec)) => {
                if let Some(s) = e.session.as_mut() {
                    // By step: records inside epoch 1 share epoch 0.
                    s.epochs.retain(|x| x.step < rec.step);
                    s.epochs.push(*rec);
                }
                e.version += 1;
                None
            }
            RunMsg::Event(RunEvent::SaveFailed(m)) => {
                e.note = Some(format!("not saved: {m}"));
                Some(format!("{}: could not save: {m}", e.title()))
            }
            RunMsg::Event(RunEvent::Finished(status)) => {
                if let Some(s) = e.session.as_mut() {
                    s.status = status.clone();
                }
                let say = matches!(
                    status,
                    RunStatus::Diverged { .. } | RunStatus::Failed { .. }
                )
                .then(|| format!("{}: {}", e.title(), status_sentence(&status)));
                e.state = RunState::Done(status);
                e.progress = None;
                e.version += 1;
                say
            }
            RunMsg::Failed(m) => {
                let say = format!("{}: could not start: {m}", e.title());
                e.state = RunState::Error(m);
                Some(say)
            }
        }
    }
}

/// A training worker's body: builds the run, sends its session header, executes it (on the
/// thread [`super::background`] started for it).
pub fn train_worker(start: StartRun, data: &Dataset, dir: &Path, send: &dyn Fn(RunMsg)) {
    let StartRun {
        job, out, control, ..
    } = start;
    if let Err(e) = std::fs::create_dir_all(dir) {
        send(RunMsg::Event(RunEvent::SaveFailed(format!(
            "cannot create {}: {e}",
            dir.display()
        ))));
    }
    let built = match job {
        RunJob::Fresh(p) => Run::new(*p, data, crate::train::threads::current()),
        RunJob::Resume(s) => Run::resume(*s, data, &out.display().to_string()),
        RunJob::ResumeFile(p) => match crate::session::load(&p) {
            Ok(s) => Run::resume(s, data, &p.display().to_string()),
            Err(e) => {
                send(RunMsg::Failed(e.to_string()));
                return;
            }
        },
    };
    let mut run = match built {
        Ok(r) => r,
        Err(e) => {
            send(RunMsg::Failed(e.to_string()));
            return;
        }
    };
    send(RunMsg::Started(Box::new(run.session.clone())));
    run.execute(data, Some(&out), &control, &mut |ev| {
        send(RunMsg::Event(ev))
    });
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
