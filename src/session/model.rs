//! In-memory session: what a run produced, decoded and ready for views and exports.

use serde::{Deserialize, Serialize};

use crate::data::DatasetIdentity;
use crate::measure::{LayerSummary, NodeMetrics, node_metrics};
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

/// One hidden layer at one epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerRecord {
    /// Layer summary (plain text in the file).
    pub summary: LayerSummary,
    /// On-counts `[nodes, classes]`: samples of class `c` that switch node `j` on.
    pub counts: Vec<u32>,
    /// Jaccard similarity with the previous epoch's sample set, `[nodes]`; empty at epoch 0.
    pub churn: Vec<f32>,
    /// Probe membership bitsets `[nodes, probe_words]`.
    pub probe_bits: Vec<u64>,
}

/// Everything measured after one epoch (epoch 0: before training).
#[derive(Debug, Clone, PartialEq)]
pub struct EpochRecord {
    /// Epoch number, 0 = before training.
    pub epoch: u32,
    /// Mean loss over the training set after the epoch.
    pub train_loss: f64,
    /// Accuracy over the training set after the epoch.
    pub train_accuracy: f64,
    /// Mean loss over the test set after the epoch.
    pub test_loss: f64,
    /// Accuracy over the test set after the epoch.
    pub test_accuracy: f64,
    /// Mean minibatch loss during the epoch (`None` at epoch 0).
    pub minibatch_loss: Option<f64>,
    /// Phase wall times.
    pub timing: Timing,
    /// Per hidden layer.
    pub layers: Vec<LayerRecord>,
}

/// What resuming needs: the weights and Adam state after the last completed epoch.
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
    /// Per-epoch records, epoch 0 first.
    pub epochs: Vec<EpochRecord>,
    /// How the run stands.
    pub status: RunStatus,
    /// Resume point, when saved.
    pub checkpoint: Option<Checkpoint>,
}

impl Session {
    /// Number of classes (length of the data set's class counts).
    pub fn classes(&self) -> usize {
        self.dataset.train_class_counts.len()
    }

    /// Epochs trained so far (the last record's epoch number).
    pub fn epochs_done(&self) -> u32 {
        self.epochs.last().map_or(0, |e| e.epoch)
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
