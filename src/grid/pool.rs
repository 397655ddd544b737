//! The local pool: a grid's runs trained on this machine, a few at a time, each on one
//! training thread, resuming any run that an earlier pool (or a cluster job) left unfinished.
//!
//! Runs train in this process (not as `sample-sets train` child processes): MNIST is loaded
//! once for all of them, and stopping is a flag each run checks after every minibatch. A
//! stopped run throws away only its epoch in progress and saves its status as cancelled;
//! running the pool again continues it bit-identically (see [`Run::resume`]).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::plan::PlannedRun;
use crate::data::Dataset;
use crate::session::{self, RunStatus};
use crate::train::{Control, Run, RunEvent};

/// What a pool reports while it works; `run` is an index into the slice of runs given.
#[derive(Debug, Clone)]
pub enum PoolEvent {
    /// A run was loaded (or created) and starts training at epoch `epochs_done + 1`.
    Started {
        /// Which run.
        run: usize,
        /// Epochs already saved.
        epochs_done: u32,
    },
    /// Minibatch progress within an epoch (at most about ten a second per run).
    Progress {
        /// Which run.
        run: usize,
        /// Epoch being trained (1-based).
        epoch: u32,
        /// Samples done in this epoch.
        samples_done: usize,
        /// Samples per epoch.
        samples_total: usize,
    },
    /// An epoch was measured and saved (epoch 0: before training).
    Epoch {
        /// Which run.
        run: usize,
        /// Epoch number.
        epoch: u32,
        /// Test accuracy after it, in [0, 1].
        test_accuracy: f64,
    },
    /// A run ended.
    Finished {
        /// Which run.
        run: usize,
        /// How.
        outcome: Outcome,
    },
}

/// How one run of the pool ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// All planned epochs are saved (now or by an earlier pool).
    Completed,
    /// Stopped on request after `epochs_done` saved epochs; the next pool resumes it.
    Stopped {
        /// Epochs saved.
        epochs_done: u32,
    },
    /// The loss stopped being finite in `epoch` (a rerun would do the same: not retried).
    Diverged {
        /// Epoch (1-based).
        epoch: u32,
    },
    /// The run could not start, or stopped on an error (a rerun tries it again).
    Failed {
        /// What happened, naming the file.
        message: String,
    },
}

impl Outcome {
    /// True for completed runs.
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Completed)
    }
}

/// What a pool did.
#[derive(Debug, Clone, Default)]
pub struct PoolReport {
    /// Each run's outcome, in the order given; `None`: not started (stopped first, or no
    /// worker thread could start).
    pub outcomes: Vec<Option<Outcome>>,
    /// Problems of the pool itself (a worker thread the system refused).
    pub problems: Vec<String>,
}

/// Loads (to resume) or creates the run for `job`; `Err` ends the job with that outcome.
fn prepare(job: &PlannedRun, data: &Dataset) -> Result<Run, Outcome> {
    let fail = |message: String| Outcome::Failed { message };
    let exists = match std::fs::symlink_metadata(&job.path) {
        Ok(_) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(fail(format!("{}: cannot examine: {e}", job.path.display()))),
    };
    if !exists {
        return Run::new(job.run.preset.clone(), data, 1).map_err(|e| fail(e.to_string()));
    }
    // A file that does not load is left alone (never overwritten by a fresh run).
    let s = session::load(&job.path).map_err(|e| fail(e.to_string()))?;
    if s.preset != job.run.preset {
        return Err(fail(format!(
            "{}: its preset differs from the grid's: {}",
            job.path.display(),
            super::manifest::preset_differences(&job.run.preset, &s.preset)
        )));
    }
    match s.status {
        RunStatus::Completed if s.epochs_done() >= s.preset.epochs => {
            return Err(Outcome::Completed);
        }
        RunStatus::Diverged { epoch } => return Err(Outcome::Diverged { epoch }),
        _ => {}
    }
    Run::resume(s, data, &job.path.display().to_string()).map_err(|e| fail(e.to_string()))
}

/// Trains one job to its end, stop or failure.
fn train_one(
    index: usize,
    job: &PlannedRun,
    data: &Dataset,
    control: &Control,
    send: &dyn Fn(PoolEvent),
) -> Outcome {
    let mut run = match prepare(job, data) {
        Ok(r) => r,
        Err(outcome) => return outcome,
    };
    send(PoolEvent::Started {
        run: index,
        epochs_done: run.session.epochs_done(),
    });
    let mut save_error: Option<String> = None;
    let status = run.execute(data, Some(&job.path), control, &mut |ev| match ev {
        RunEvent::Progress {
            epoch,
            samples_done,
            samples_total,
            ..
        } => send(PoolEvent::Progress {
            run: index,
            epoch,
            samples_done,
            samples_total,
        }),
        RunEvent::Epoch(rec) => {
            save_error = None;
            send(PoolEvent::Epoch {
                run: index,
                epoch: rec.epoch,
                test_accuracy: rec.test_accuracy,
            });
        }
        RunEvent::SaveFailed(e) => save_error = Some(e),
        RunEvent::Finished(_) => {}
    });
    if let Some(message) = save_error {
        return Outcome::Failed { message };
    }
    match status {
        RunStatus::Completed => Outcome::Completed,
        RunStatus::Cancelled => Outcome::Stopped {
            epochs_done: run.session.epochs_done(),
        },
        RunStatus::Diverged { epoch } => Outcome::Diverged { epoch },
        RunStatus::Failed { message } => Outcome::Failed { message },
        RunStatus::Running => Outcome::Failed {
            message: format!("{}: ended while running", job.path.display()),
        },
    }
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Trains `runs` in the given order (the caller sorts them, e.g. longest first with
/// [`super::Plan::to_train`]), `workers` at a time, each on one training thread, saving
/// each to its `path` after every epoch. `datasets` maps each preset's data set name to its
/// loaded data. `on_event` is called on the calling thread.
///
/// Once `stop` is set, active runs stop after their current minibatch (dropping only that
/// epoch's progress) and no further run starts. Sets the process-wide training thread count
/// to 1 ([`crate::train::threads::configure`]).
pub fn run_pool(
    runs: &[PlannedRun],
    datasets: &HashMap<String, Dataset>,
    workers: usize,
    stop: &AtomicBool,
    on_event: &mut dyn FnMut(PoolEvent),
) -> PoolReport {
    crate::train::threads::configure(1);
    let queue: Mutex<VecDeque<usize>> = Mutex::new((0..runs.len()).collect());
    let active: Mutex<HashMap<usize, Arc<Control>>> = Mutex::new(HashMap::new());
    let mut report = PoolReport {
        outcomes: vec![None; runs.len()],
        problems: Vec::new(),
    };
    let (tx, rx) = crossbeam_channel::unbounded::<PoolEvent>();
    std::thread::scope(|scope| {
        for w in 0..workers.clamp(1, runs.len().max(1)) {
            let tx = tx.clone();
            let (queue, active) = (&queue, &active);
            let spawned = std::thread::Builder::new()
                .name(format!("grid-worker-{w}"))
                .spawn_scoped(scope, move || {
                    loop {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let next = queue.lock().map(|mut q| q.pop_front()).ok().flatten();
                        let Some(i) = next else { break };
                        let job = &runs[i];
                        let control = Arc::new(Control::default());
                        if let Ok(mut a) = active.lock() {
                            a.insert(i, Arc::clone(&control));
                        }
                        // A stop that came between the check above and the registration.
                        if stop.load(Ordering::Relaxed) {
                            control.cancel();
                        }
                        let send = |ev: PoolEvent| {
                            let _ = tx.send(ev);
                        };
                        let outcome = match datasets.get(&job.run.preset.dataset) {
                            None => Outcome::Failed {
                                message: format!(
                                    "{}: data set '{}' was not loaded",
                                    job.run.file, job.run.preset.dataset
                                ),
                            },
                            Some(data) => {
                                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                    train_one(i, job, data, &control, &send)
                                }))
                                .unwrap_or_else(|p| {
                                    Outcome::Failed {
                                        message: format!(
                                            "{}: training stopped on an internal error: {}",
                                            job.path.display(),
                                            panic_text(p.as_ref())
                                        ),
                                    }
                                })
                            }
                        };
                        if let Ok(mut a) = active.lock() {
                            a.remove(&i);
                        }
                        send(PoolEvent::Finished { run: i, outcome });
                    }
                });
            if let Err(e) = spawned {
                // Fewer workers than asked: the others take the whole queue.
                report
                    .problems
                    .push(format!("cannot start worker thread {w}: {e}"));
            }
        }
        drop(tx);
        let mut stopping = false;
        loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(ev) => {
                    if let PoolEvent::Finished { run, outcome } = &ev
                        && let Some(slot) = report.outcomes.get_mut(*run)
                    {
                        *slot = Some(outcome.clone());
                    }
                    on_event(ev);
                }
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
            }
            if stop.load(Ordering::Relaxed) && !stopping {
                stopping = true;
                if let Ok(a) = active.lock() {
                    for c in a.values() {
                        c.cancel();
                    }
                }
            }
        }
    });
    report
}
