//! In-memory session: what a run produced, decoded and ready for views and exports.

use serde::{Deserialize, Serialize};

use crate::data::DatasetIdentity;
use crate::measure::{LayerSummary, NodeMetrics, Quartiles, node_metrics};
use crate::nn::{Adam, Mlp};
use crate::preset::Preset;

/// How a run stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunStatus {
    /// Training (or stopped by a crash or kill while training: resumable).
    Running,
    /// All epochs done.
    Completed,
    /// Stopped by the user; the completed epochs are kept and it can be resumed.
    Cancelled,
    /// Stopped because the loss became NaN or infinite during this epoch.
    Diverged {
        /// Epoch (1-based) in which the loss stopped being finite.
        epoch: u32,
    },
    /// Stopped by an error.
    Failed {
        /// What happened.
        message: String,
    },
}

impl RunStatus {
    /// A short word for lists.
    pub fn label(&self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Diverged { .. } => "diverged",
            RunStatus::Failed { .. } => "failed",
        }
    }
}

/// The probe subset: which training samples have their membership recorded, with their
/// labels and pixels so a session can be explored without the data set at hand.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProbeSet {
    /// Training-set indices, grouped by class (class 0 first), `[probe]`.
    pub indices: Vec<u32>,
    /// Class of each probe sample, `[probe]`.
    pub labels: Vec<u8>,
    /// Grey levels 0..=255, `[probe, 784]` row-major.
    pub pixels: Vec<u8>,
}

impl ProbeSet {
    /// Number of probe samples.
    pub fn len(&self) -> usize {
        self.indices.len()
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }
    /// `u64` words per node bitset.
    pub fn words(&self) -> usize {
        crate::measure::bits::words_for(self.len())
    }
}

/// Wall time of one epoch's phases, seconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Timing {
    /// Minibatch training (0 at epoch 0).
    pub train_s: f64,
    /// Measurement pass over the training set.
    pub measure_s: f64,
    /// Test-set evaluation.
    pub evaluate_s: f64,
}

/// One hidden layer at one record.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerRecord {
    /// Layer summary (plain text in the file).
    pub summary: LayerSummary,
    /// On-counts `[nodes, classes]`: samples of class `c` that switch node `j` on.
    pub counts: Vec<u32>,
    /// Jaccard similarity with the previous record's sample set, `[nodes]`; empty at the
    /// first record.
    pub churn: Vec<f32>,
    /// Probe membership bitsets `[nodes, probe_words]`.
    pub probe_bits: Vec<u64>,
    /// Samples that entered each node's sample set since the previous record, exact over the
    /// whole training set, `[nodes]`; empty at the first record and in records written before
    /// schema 2.
    pub added: Vec<u32>,
    /// Samples that left each node's sample set since the previous record, `[nodes]`; empty
    /// where `added` is. `|S_now| - |S_prev| = added - removed`.
    pub removed: Vec<u32>,
    /// The node-supported cost of the layer's nodes; `None` in records written before
    /// schema 2.
    pub cost: Option<LayerCost>,
}

/// A layer's node-supported cost at one record, in compact form (see
/// [`crate::session::records`] for the encodings and why they suffice).
///
/// For sample `s` and node `j`, the node-supported cost is `φ_j^s = ∂L_s/∂a_j`: the derivative
/// of sample `s`'s own loss with respect to the node's activation `a_j = ReLU(pre-activation)`,
/// through the ReLUs that `s` switches on (Haasbroek & Davel, SACAIR 2020, the slide "Sample
/// Sets": `φ = Σ_p λ_p Π_k w_{p_k}`, the output errors carried back along the active paths).
/// Negative φ: the sample's loss falls as the node's output grows.
///
/// Equality compares the floats bit for bit, so that a record with the NaN of an empty set
/// equals itself (as a session read back equals the one saved).
#[derive(Debug, Clone)]
pub struct LayerCost {
    /// Mean |φ| over each node's sample set (how hard the set pushes), `[nodes]`, loss units
    /// per unit of activation, rounded to bfloat16 (8 significant bits); NaN for an empty set.
    pub mean_abs: Vec<f32>,
    /// Per node, the largest |mean signed φ| over the classes, `[nodes]`, bfloat16 rounded
    /// away from zero: the unit of `class_push`.
    pub class_scale: Vec<f32>,
    /// Mean signed φ over the set's samples of each class, in 127ths of the node's
    /// `class_scale`, `[nodes, classes]`; [`LayerCost::NO_SAMPLES`] where the set holds no
    /// sample of the class.
    pub class_push: Vec<i8>,
    /// Samples of each node's set that are settled (output error below the session's
    /// `settled_below`), `[nodes]`.
    pub settled: Vec<u32>,
}

impl PartialEq for LayerCost {
    fn eq(&self, other: &Self) -> bool {
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        bits(&self.mean_abs) == bits(&other.mean_abs)
            && bits(&self.class_scale) == bits(&other.class_scale)
            && self.class_push == other.class_push
            && self.settled == other.settled
    }
}

impl LayerCost {
    /// The `class_push` value of a class with no sample in the set.
    pub const NO_SAMPLES: i8 = i8::MIN;

    /// Mean signed φ over node `node`'s set samples of class `class`; `None` when the set has
    /// none of them (or the node or class does not exist).
    pub fn class_mean(&self, node: usize, class: usize, classes: usize) -> Option<f32> {
        if class >= classes {
            return None;
        }
        let q = *self.class_push.get(node * classes + class)?;
        let scale = *self.class_scale.get(node)?;
        (q != Self::NO_SAMPLES).then(|| scale * f32::from(q) / 127.0)
    }
}

/// Everything measured at one record: before training (step 0), after chosen minibatch steps
/// inside epoch 1, and after every epoch (see [`crate::measure::Schedule`]).
#[derive(Debug, Clone, PartialEq)]
pub struct EpochRecord {
    /// Minibatch steps trained before this record (0 = before training). The record's
    /// position on the epoch axis is `step / steps_per_epoch` ([`Session::position`]).
    pub step: u64,
    /// Epochs completed at this record: `floor(step / steps_per_epoch)` (records inside
    /// epoch 1 have 0).
    pub epoch: u32,
    /// Mean loss over the training set after the epoch.
    pub train_loss: f64,
    /// Accuracy over the training set after the epoch.
    pub train_accuracy: f64,
    /// Mean loss over the test set after the epoch.
    pub test_loss: f64,
    /// Accuracy over the test set after the epoch.
    pub test_accuracy: f64,
    /// Mean minibatch loss of the epoch so far, from its first minibatch to this record
    /// (`None` at step 0).
    pub minibatch_loss: Option<f64>,
    /// Phase wall times (training: since the previous record).
    pub timing: Timing,
    /// Per hidden layer.
    pub layers: Vec<LayerRecord>,
    /// Share of the training samples that are settled (output error below the session's
    /// `settled_below`); `None` in records written before schema 2.
    pub settled_share: Option<f64>,
    /// Mean and quartiles of the per-sample loss over the training set; `None` in records
    /// written before schema 2.
    pub sample_loss: Option<Quartiles>,
}

impl EpochRecord {
    /// Position on the epoch axis, `step / steps_per_epoch`, in epochs.
    pub fn position(&self, steps_per_epoch: u64) -> f64 {
        self.step as f64 / steps_per_epoch.max(1) as f64
    }
}

/// What resuming needs: the weights and Adam state after the last completed epoch (taken at
/// epoch ends only; records inside the next epoch are measured again on resume).
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// Last completed epoch.
    pub epoch: u32,
    /// Weights.
    pub mlp: Mlp,
    /// Optimiser state.
    pub adam: Adam,
}

/// A whole run.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// Program version that wrote it.
    pub app_version: String,
    /// What was run.
    pub preset: Preset,
    /// Which data.
    pub dataset: DatasetIdentity,
    /// Matrix-multiplication threads used (part of the determinism key).
    pub threads: usize,
    /// Width of each hidden layer.
    pub widths: Vec<usize>,
    /// The probe subset.
    pub probe: ProbeSet,
    /// Records in step order, step 0 first.
    pub epochs: Vec<EpochRecord>,
    /// How the run stands.
    pub status: RunStatus,
    /// Resume point, when saved.
    pub checkpoint: Option<Checkpoint>,
    /// Output error below which a sample counts as settled (see
    /// [`crate::measure::cost::SETTLED_BELOW`]); `None` for sessions written before schema 2,
    /// which hold no node-supported cost.
    pub settled_below: Option<f32>,
}

impl Session {
    /// Number of classes (length of the data set's class counts).
    pub fn classes(&self) -> usize {
        self.dataset.train_class_counts.len()
    }

    /// Epochs trained so far (the last record's completed epochs).
    pub fn epochs_done(&self) -> u32 {
        self.epochs.last().map_or(0, |e| e.epoch)
    }

    /// Minibatch steps per epoch: `ceil(training samples / minibatch)` (469 for MNIST at
    /// 128; see [`crate::measure::schedule::steps_per_epoch`]).
    pub fn steps_per_epoch(&self) -> u64 {
        crate::measure::schedule::steps_per_epoch(
            self.dataset.train_samples,
            self.preset.batch_size,
        )
    }

    /// Position on the epoch axis of `step`: `step / steps_per_epoch`, in epochs.
    pub fn position(&self, step: u64) -> f64 {
        step as f64 / self.steps_per_epoch() as f64
    }

    /// Position on the epoch axis of record `index`, in epochs.
    pub fn record_position(&self, index: usize) -> Option<f64> {
        self.epochs.get(index).map(|e| self.position(e.step))
    }

    /// Training samples seen before `step`: whole epochs plus the minibatches of the epoch in
    /// progress (the last one of an epoch holds the remainder).
    pub fn samples_at(&self, step: u64) -> u64 {
        let spe = self.steps_per_epoch();
        let n = self.dataset.train_samples as u64;
        let batch = self.preset.batch_size as u64;
        (step / spe) * n + ((step % spe) * batch).min(n)
    }

    /// Total hidden nodes.
    pub fn nodes(&self) -> usize {
        self.widths.iter().sum()
    }

    /// A node's class counts at an epoch record: `on[c]`, length [`Session::classes`].
    pub fn node_counts(&self, epoch_index: usize, layer: usize, node: usize) -> Option<&[u32]> {
        let c = self.classes();
        self.epochs
            .get(epoch_index)?
            .layers
            .get(layer)?
            .counts
            .get(node * c..(node + 1) * c)
    }

    /// A node's metrics at an epoch record (Haasbroek & Davel, appendix).
    pub fn node_metrics(
        &self,
        epoch_index: usize,
        layer: usize,
        node: usize,
    ) -> Option<NodeMetrics> {
        let on = self.node_counts(epoch_index, layer, node)?;
        Some(node_metrics(on, &self.dataset.train_class_counts))
    }

    /// A short title: preset name, seed, and epochs done.
    pub fn title(&self) -> String {
        format!(
            "{} (seed {}, {} / {} epochs)",
            self.preset.name,
            self.preset.seed,
            self.epochs_done(),
            self.preset.epochs
        )
    }
}
