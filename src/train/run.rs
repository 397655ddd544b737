//! One run from a preset (or a checkpoint) to its last epoch.

use std::path::Path;
use std::time::Instant;

use crate::data::Dataset;
use crate::data::dataset::CLASSES;
use crate::measure::cost::SETTLED_BELOW;
use crate::measure::pass::evaluate;
use crate::measure::probe::stratified_probe;
use crate::measure::{LayerSummary, Measurement, Measurer};
use crate::nn::ftz::flush_subnormals_on_this_thread;
use crate::nn::rng::{Stream, rng_for};
use crate::nn::trainer::Interrupted;
use crate::nn::{Adam, Mlp, Trainer};
use crate::preset::Preset;
use crate::session::records;
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
    /// A record was measured (step 0 before training, steps inside epoch 1, epoch ends).
    Epoch(Box<EpochRecord>),
    /// Saving the session failed; the run goes on and tries again at the next record.
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
    #[error("session was trained on '{expected}' but the data given is '{found}' ({difference})")]
    DataMismatch {
        /// Data set in the session.
        expected: String,
        /// Data set given.
        found: String,
        /// How they differ ([`crate::data::dataset::DatasetIdentity::difference`]).
        difference: String,
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
            settled_below: Some(measurer.settled_below()),
        };
        Ok(Self {
            session,
            trainer,
            measurer,
            needs_epoch0: true,
        })
    }

    /// Continues `session` from its checkpoint, dropping records after it (they are measured
    /// again on the way).
    ///
    /// # Errors
    /// [`RunError::NoCheckpoint`], or [`RunError::DataMismatch`] when `data` is not the data
    /// the session was trained on.
    pub fn resume(mut session: Session, data: &Dataset, origin: &str) -> Result<Self, RunError> {
        let Some(cp) = session.checkpoint.clone() else {
            return Err(RunError::NoCheckpoint(origin.to_string()));
        };
        if let Some(difference) = session.dataset.difference(&data.identity) {
            return Err(RunError::DataMismatch {
                expected: session.dataset.name.clone(),
                found: data.identity.name.clone(),
                difference,
            });
        }
        // Checkpoints are taken at epoch ends: records after it, inside the next epoch, are
        // measured again on the way (training is deterministic, so they come out the same).
        let cp_step = u64::from(cp.epoch) * session.steps_per_epoch();
        session.epochs.retain(|e| e.step <= cp_step);
        session.status = RunStatus::Running;
        let mut measurer = Measurer::new(&data.train, CLASSES, &session.probe.indices)
            .with_settled_below(session.settled_below.unwrap_or(SETTLED_BELOW));
        // A session from before schema 2 gains the node-supported cost from here on.
        session.settled_below = Some(measurer.settled_below());
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

    /// The record of measurement `m` taken after `step` minibatch steps.
    fn record(
        &self,
        step: u64,
        m: Measurement,
        data: &Dataset,
        timing: Timing,
        mb: Option<f64>,
    ) -> EpochRecord {
        let eval_start = Instant::now();
        let (test_loss, test_accuracy) =
            evaluate(&self.trainer.mlp, &data.test, self.session.preset.loss);
        let totals = &self.session.dataset.train_class_counts;
        let classes = self.session.classes();
        let samples = data.train.len().max(1) as f64;
        let layers = m
            .layers
            .into_iter()
            .map(|l| LayerRecord {
                summary: LayerSummary::from_counts(&l.counts, totals, &l.churn),
                cost: Some(records::layer_cost(&l, classes)),
                counts: l.counts,
                churn: l.churn,
                probe_bits: l.probe_bits,
                added: l.added,
                removed: l.removed,
            })
            .collect();
        let epoch = step / self.session.steps_per_epoch();
        EpochRecord {
            step,
            epoch: u32::try_from(epoch).unwrap_or(u32::MAX),
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
            settled_share: Some(m.settled as f64 / samples),
            sample_loss: m.sample_loss,
        }
    }

    /// Keeps a record (and saves), with a checkpoint when it ends an epoch.
    fn commit(
        &mut self,
        rec: EpochRecord,
        epoch_end: bool,
        writer: &mut Option<SessionWriter>,
        on_event: &mut dyn FnMut(RunEvent),
    ) {
        let cp = epoch_end.then(|| Checkpoint {
            epoch: rec.epoch,
            mlp: self.trainer.mlp.clone(),
            adam: self.trainer.adam.clone(),
        });
        if let Some(w) = writer.as_mut() {
            w.push_epoch(&rec);
            if let Some(cp) = &cp {
                w.set_checkpoint(cp);
            }
            w.set_status(RunStatus::Running);
            if let Err(e) = w.save_in_background() {
                on_event(RunEvent::SaveFailed(e.to_string()));
            }
        }
        if cp.is_some() {
            self.session.checkpoint = cp;
        }
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

    /// Runs to the preset's last epoch (or until cancelled or diverged), measuring at the
    /// steps of the preset's schedule and saving to `out` after every record when given (in
    /// the background, see [`SessionWriter::save_in_background`]; the last save before it returns).
    /// Call on the thread that should do the work: it sets flush-to-zero there.
    pub fn execute(
        &mut self,
        data: &Dataset,
        out: Option<&Path>,
        control: &Control,
        on_event: &mut dyn FnMut(RunEvent),
    ) -> RunStatus {
        flush_subnormals_on_this_thread();
        let spe = self.session.steps_per_epoch();
        // Training goes on from the checkpoint: records after it are measured again.
        if let Some(cp) = &self.session.checkpoint {
            let cp_step = u64::from(cp.epoch) * spe;
            self.session.epochs.retain(|e| e.step <= cp_step);
        }
        let mut writer = out.map(|p| SessionWriter::new(p, &self.session));
        let loss = self.session.preset.loss;
        if self.needs_epoch0 {
            self.measurer.reset();
            let m = self.measurer.measure(&self.trainer.mlp, &data.train, loss);
            let rec = self.record(0, m, data, Timing::default(), None);
            self.commit(rec, true, &mut writer, on_event);
            self.needs_epoch0 = false;
        }
        let first = self
            .session
            .checkpoint
            .as_ref()
            .map_or_else(|| self.session.epochs_done(), |cp| cp.epoch)
            + 1;
        let seed = self.session.preset.seed;
        let schedule = self.session.preset.schedule;
        let total = data.train.len();
        for epoch in first..=self.session.preset.epochs {
            if control.is_cancelled() {
                return self.finish(RunStatus::Cancelled, &mut writer, on_event);
            }
            let started = Instant::now();
            let mut last_report = Instant::now();
            let mut progress = self.trainer.start_epoch(&data.train, epoch, seed);
            let epoch_start = u64::from(epoch - 1) * spe;
            let mut trained_before = 0.0;
            for step in schedule.steps_in_epoch(epoch, spe) {
                let within = usize::try_from(step - epoch_start).unwrap_or(usize::MAX);
                let result = self.trainer.train_until(
                    &data.train,
                    &mut progress,
                    within,
                    |done, running| {
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
                                samples_per_s: done as f64
                                    / started.elapsed().as_secs_f64().max(1e-9),
                            });
                        }
                        !control.is_cancelled()
                    },
                );
                match result {
                    Ok(()) => {}
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
                }
                let m = self.measurer.measure(&self.trainer.mlp, &data.train, loss);
                if !m.is_finite() || !self.trainer.mlp.is_finite() {
                    return self.finish(RunStatus::Diverged { epoch }, &mut writer, on_event);
                }
                let timing = Timing {
                    train_s: progress.seconds() - trained_before,
                    ..Timing::default()
                };
                trained_before = progress.seconds();
                let minibatch_loss = progress.stats().loss;
                let rec = self.record(step, m, data, timing, Some(minibatch_loss));
                let epoch_end = step == epoch_start + spe;
                self.commit(rec, epoch_end, &mut writer, on_event);
            }
        }
        self.finish(RunStatus::Completed, &mut writer, on_event)
    }
}
