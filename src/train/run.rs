//! One run from a preset (or a checkpoint) to its last epoch.

use std::path::Path;
use std::time::Instant;

use crate::data::Dataset;
use crate::data::dataset::CLASSES;
use crate::measure::pass::evaluate;
use crate::measure::probe::stratified_probe;
use crate::measure::{LayerSummary, Measurement, Measurer};
use crate::nn::ftz::flush_subnormals_on_this_thread;
use crate::nn::rng::{Stream, rng_for};
use crate::nn::trainer::Interrupted;
use crate::nn::{Adam, Mlp, Trainer};
use crate::preset::Preset;
use crate::session::{
    Checkpoint, EpochRecord, LayerRecord, ProbeSet, RunStatus, Session, SessionError,
    SessionWriter, Timing,
};

use super::Control;

/// What a run reports while it goes.
#[derive(Debug, Clone)]
pub enum RunEvent {
    /// Minibatch progress within an epoch (sent at most about ten times a second).
    Progress {
        /// Epoch being trained (1-based).
        epoch: u32,
        /// Samples done in this epoch.
        samples_done: usize,
        /// Samples per epoch.
        samples_total: usize,
        /// Running mean minibatch loss.
        running_loss: f64,
        /// Training throughput so far in this epoch.
        samples_per_s: f64,
    },
    /// An epoch was measured (epoch 0 before training).
    Epoch(Box<EpochRecord>),
    /// Saving the session failed; the run goes on and tries again next epoch.
    SaveFailed(String),
    /// The run ended.
    Finished(RunStatus),
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The session has no checkpoint to resume from.
    #[error("{0}: no checkpoint to resume from")]
    NoCheckpoint(String),
    /// The data differs from the data the session was trained on.
    #[error(
        "session was trained on '{expected}' but the data given is '{found}' (different files)"
    )]
    DataMismatch {
        /// Data set in the session.
        expected: String,
        /// Data set given.
        found: String,
    },
    /// The preset is invalid.
    #[error(transparent)]
    Preset(#[from] crate::preset::PresetError),
    /// Saving failed at the start.
    #[error(transparent)]
    Session(#[from] SessionError),
}

/// A run ready to execute: session so far, network, optimiser and measurement state.
pub struct Run {
    /// Everything recorded so far.
    pub session: Session,
    trainer: Trainer,
    measurer: Measurer,
    needs_epoch0: bool,
}

/// Grey levels of a stored image row (values are `p / 255`, so this is exact).
fn to_grey(v: f32) -> u8 {
    (v * 255.0).round().clamp(0.0, 255.0) as u8
}

impl Run {
    /// A fresh run of `preset` on `data` with `threads` matrix threads.
    ///
    /// # Errors
    /// [`RunError::Preset`] when the preset fails validation.
    pub fn new(preset: Preset, data: &Dataset, threads: usize) -> Result<Self, RunError> {
        preset.validate(&preset.name)?;
        let widths = vec![preset.width; preset.hidden_layers];
        let mlp = Mlp::new(
            crate::data::dataset::PIXELS,
            &widths,
            CLASSES,
            preset.init,
            &mut rng_for(preset.seed, Stream::Init),
        );
        let adam = Adam::new(preset.adam, &mlp);
        let indices = stratified_probe(&data.train.labels, CLASSES, preset.probe_size, preset.seed);
        let probe = ProbeSet {
            labels: indices
                .iter()
                .map(|&i| data.train.labels[i as usize])
                .collect(),
            pixels: indices
                .iter()
                .flat_map(|&i| data.train.images.row(i as usize).to_vec())
                .map(to_grey)
                .collect(),
            indices,
        };
        let measurer = Measurer::new(&data.train, CLASSES, &probe.indices);
        let trainer = Trainer::new(mlp, adam, preset.loss, preset.batch_size);
        let session = Session {
            app_version: env!("CARGO_PKG_VERSION").to_string(),
            preset,
            dataset: data.identity.clone(),
            threads,
            widths,
            probe,
            epochs: Vec::new(),
            status: RunStatus::Running,
            checkpoint: None,
        };
        Ok(Self {
            session,
            trainer,
            measurer,
            needs_epoch0: true,
        })
    }

    /// Continues `session` from its checkpoint, dropping records after it. `extra_epochs`
    /// raises the preset's epoch count (0 keeps it).
    ///
    /// # Errors
    /// [`RunError::NoCheckpoint`], or [`RunError::DataMismatch`] when `data` is not the data
    /// the session was trained on.
    pub fn resume(mut session: Session, data: &Dataset, origin: &str) -> Result<Self, RunError> {
        let Some(cp) = session.checkpoint.clone() else {
            return Err(RunError::NoCheckpoint(origin.to_string()));
        };
        if !session.dataset.same_data(&data.identity) {
            return Err(RunError::DataMismatch {
                expected: session.dataset.name.clone(),
                found: data.identity.name.clone(),
            });
        }
        session.epochs.retain(|e| e.epoch <= cp.epoch);
        session.status = RunStatus::Running;
        let mut measurer = Measurer::new(&data.train, CLASSES, &session.probe.indices);
        // Rebuild the previous epoch's sample sets (for churn): the same weights give the same sets.
        flush_subnormals_on_this_thread();
        measurer.measure(&cp.mlp, &data.train, session.preset.loss);
        let trainer = Trainer::new(
            cp.mlp,
            cp.adam,
            session.preset.loss,
            session.preset.batch_size,
        );
        Ok(Self {
            session,
            trainer,
            measurer,
            needs_epoch0: false,
        })
    }

    /// The network as it stands.
    pub fn mlp(&self) -> &Mlp {
        &self.trainer.mlp
    }

    fn record(
        &self,
        epoch: u32,
        m: Measurement,
        data: &Dataset,
        timing: Timing,
        mb: Option<f64>,
    ) -> EpochRecord {
        let eval_start = Instant::now();
        let (test_loss, test_accuracy) =
            evaluate(&self.trainer.mlp, &data.test, self.session.preset.loss);
        let totals = &self.session.dataset.train_class_counts;
        let layers = m
            .layers
            .into_iter()
            .map(|l| LayerRecord {
                summary: LayerSummary::from_counts(&l.counts, totals, &l.churn),
                counts: l.counts,
                churn: l.churn,
                probe_bits: l.probe_bits,
            })
            .collect();
        EpochRecord {
            epoch,
            train_loss: m.train_loss,
            train_accuracy: m.train_accuracy,
            test_loss,
            test_accuracy,
            minibatch_loss: mb,
            timing: Timing {
                measure_s: m.seconds,
                evaluate_s: eval_start.elapsed().as_secs_f64(),
                ..timing
            },
            layers,
        }
    }

    fn commit(
        &mut self,
        rec: EpochRecord,
        writer: &mut Option<SessionWriter>,
        on_event: &mut dyn FnMut(RunEvent),
    ) {
        let cp = Checkpoint {
            epoch: rec.epoch,
            mlp: self.trainer.mlp.clone(),
            adam: self.trainer.adam.clone(),
        };
        if let Some(w) = writer.as_mut() {
            w.push_epoch(&rec);
            w.set_checkpoint(&cp);
            w.set_status(RunStatus::Running);
            if let Err(e) = w.save() {
                on_event(RunEvent::SaveFailed(e.to_string()));
            }
        }
        self.session.checkpoint = Some(cp);
        self.session.epochs.push(rec.clone());
        on_event(RunEvent::Epoch(Box::new(rec)));
    }

    fn finish(
        &mut self,
        status: RunStatus,
        writer: &mut Option<SessionWriter>,
        on_event: &mut dyn FnMut(RunEvent),
    ) -> RunStatus {
        self.session.status = status.clone();
        if let Some(w) = writer.as_mut() {
            w.set_status(status.clone());
            if let Err(e) = w.save() {
                on_event(RunEvent::SaveFailed(e.to_string()));
            }
        }
        on_event(RunEvent::Finished(status.clone()));
        status
    }

    /// Runs to the preset's last epoch (or until cancelled or diverged), saving to `out`
    /// after every epoch when given. Call on the thread that should do the work: it sets
    /// flush-to-zero there.
    pub fn execute(
        &mut self,
        data: &Dataset,
        out: Option<&Path>,
        control: &Control,
        on_event: &mut dyn FnMut(RunEvent),
    ) -> RunStatus {
        flush_subnormals_on_this_thread();
        let mut writer = out.map(|p| SessionWriter::new(p, &self.session));
        let loss = self.session.preset.loss;
        if self.needs_epoch0 {
            self.measurer.reset();
            let m = self.measurer.measure(&self.trainer.mlp, &data.train, loss);
            let rec = self.record(0, m, data, Timing::default(), None);
            self.commit(rec, &mut writer, on_event);
            self.needs_epoch0 = false;
        }
        let first = self.session.epochs_done() + 1;
        let seed = self.session.preset.seed;
        for epoch in first..=self.session.preset.epochs {
            if control.is_cancelled() {
                return self.finish(RunStatus::Cancelled, &mut writer, on_event);
            }
            let started = Instant::now();
            let mut last_report = Instant::now();
            let total = data.train.len();
            let result = self
                .trainer
                .train_epoch(&data.train, epoch, seed, |done, running| {
                    while control.is_paused() && !control.is_cancelled() {
                        std::thread::sleep(std::time::Duration::from_millis(50));
                    }
                    if last_report.elapsed().as_millis() >= 100 || done == total {
                        last_report = Instant::now();
                        on_event(RunEvent::Progress {
                            epoch,
                            samples_done: done,
                            samples_total: total,
                            running_loss: running,
                            samples_per_s: done as f64 / started.elapsed().as_secs_f64().max(1e-9),
                        });
                    }
                    !control.is_cancelled()
                });
            let stats = match result {
                Ok(s) => s,
                Err(Interrupted::Stopped) => {
                    // Discard the partial epoch: back to the last checkpoint's weights.
                    if let Some(cp) = &self.session.checkpoint {
                        self.trainer.mlp = cp.mlp.clone();
                        self.trainer.adam = cp.adam.clone();
                    }
                    return self.finish(RunStatus::Cancelled, &mut writer, on_event);
                }
                Err(Interrupted::Diverged) => {
                    return self.finish(RunStatus::Diverged { epoch }, &mut writer, on_event);
                }
                Err(Interrupted::Shapes(e)) => {
                    let message = format!("epoch {epoch}: {e}");
                    return self.finish(RunStatus::Failed { message }, &mut writer, on_event);
                }
            };
            let m = self.measurer.measure(&self.trainer.mlp, &data.train, loss);
            if !m.train_loss.is_finite() || !self.trainer.mlp.is_finite() {
                return self.finish(RunStatus::Diverged { epoch }, &mut writer, on_event);
            }
            let timing = Timing {
                train_s: stats.seconds,
                ..Timing::default()
            };
            let rec = self.record(epoch, m, data, timing, Some(stats.loss));
            self.commit(rec, &mut writer, on_event);
        }
        self.finish(RunStatus::Completed, &mut writer, on_event)
    }
}
