//! Series over record positions for the views: the node-supported cost, settled shares, set
//! turnover and the training set's loss, per node, per layer and per record.
//!
//! Every point carries its record's `step` and its position on the epoch axis (`step /
//! steps_per_epoch`, in epochs), so plots can place records inside epoch 1 where they belong.
//! Per-layer bands are the mean and quartiles over the layer's nodes of a per-node value
//! (nodes where the value is undefined, such as a dead node's settled share, are left out).

use super::Session;
use super::model::LayerRecord;
use crate::measure::Quartiles;

/// One record's value of a layer: mean and quartiles over its nodes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerPoint {
    /// The record's step.
    pub step: u64,
    /// The record's position, epochs.
    pub position: f64,
    /// Mean and quartiles over the layer's nodes.
    pub nodes: Quartiles,
}

/// One record's set turnover of a layer, summed over its nodes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TurnoverPoint {
    /// The record's step.
    pub step: u64,
    /// The record's position, epochs.
    pub position: f64,
    /// Samples that entered a node's set since the previous record, summed over nodes.
    pub added: u64,
    /// Samples that left a node's set since the previous record, summed over nodes.
    pub removed: u64,
    /// Set memberships at the previous record (Σ |S_prev| over nodes), the scale of the two.
    pub before: u64,
}

/// One record's figures over the whole training set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainingSetPoint {
    /// The record's step.
    pub step: u64,
    /// The record's position, epochs.
    pub position: f64,
    /// Share of settled training samples.
    pub settled_share: f64,
    /// Mean and quartiles of the per-sample loss.
    pub loss: Quartiles,
}

/// A per-node value at one record, from the layer's record and the node index.
pub type NodeValue = fn(&Session, &LayerRecord, usize) -> Option<f32>;

impl LayerRecord {
    /// Size of node `node`'s sample set (its class counts summed), given `classes`.
    pub fn set_size(&self, node: usize, classes: usize) -> Option<u64> {
        let on = self.counts.get(node * classes..(node + 1) * classes)?;
        Some(on.iter().map(|&c| u64::from(c)).sum())
    }

    /// Node `node`'s mean |φ| over its sample set; `None` without cost data or for an empty
    /// set.
    pub fn cost_mean_abs(&self, node: usize) -> Option<f32> {
        let v = *self.cost.as_ref()?.mean_abs.get(node)?;
        (!v.is_nan()).then_some(v)
    }

    /// Share of node `node`'s sample set that is settled; `None` without cost data or for an
    /// empty set.
    pub fn settled_share(&self, node: usize, classes: usize) -> Option<f32> {
        let settled = *self.cost.as_ref()?.settled.get(node)?;
        let size = self.set_size(node, classes)?;
        (size > 0).then(|| (f64::from(settled) / size as f64) as f32)
    }
}

impl Session {
    /// Each record's position on the epoch axis, in record order.
    pub fn positions(&self) -> Vec<f64> {
        let spe = self.steps_per_epoch();
        self.epochs.iter().map(|e| e.position(spe)).collect()
    }

    /// Index of the record at `step`, or of the last record before it.
    pub fn record_index_at(&self, step: u64) -> Option<usize> {
        self.epochs
            .partition_point(|e| e.step <= step)
            .checked_sub(1)
    }

    /// Node `(layer, node)`'s mean |φ| over its sample set at record `index`.
    pub fn node_cost_mean_abs(&self, index: usize, layer: usize, node: usize) -> Option<f32> {
        self.epochs
            .get(index)?
            .layers
            .get(layer)?
            .cost_mean_abs(node)
    }

    /// Node `(layer, node)`'s settled share at record `index`.
    pub fn node_settled_share(&self, index: usize, layer: usize, node: usize) -> Option<f32> {
        let classes = self.classes();
        self.epochs
            .get(index)?
            .layers
            .get(layer)?
            .settled_share(node, classes)
    }

    /// Node `(layer, node)`'s (added, removed) at record `index`; `None` at the first record
    /// and in records written before schema 2.
    pub fn node_turnover(&self, index: usize, layer: usize, node: usize) -> Option<(u32, u32)> {
        let l = self.epochs.get(index)?.layers.get(layer)?;
        Some((*l.added.get(node)?, *l.removed.get(node)?))
    }

    /// Node `(layer, node)`'s mean signed φ per class at record `index` (`None` for a class
    /// with no sample in the set), length [`Session::classes`]; `None` without cost data.
    pub fn node_class_push(
        &self,
        index: usize,
        layer: usize,
        node: usize,
    ) -> Option<Vec<Option<f32>>> {
        let classes = self.classes();
        let cost = self.epochs.get(index)?.layers.get(layer)?.cost.as_ref()?;
        (node < cost.mean_abs.len()).then(|| {
            (0..classes)
                .map(|c| cost.class_mean(node, c, classes))
                .collect()
        })
    }

    /// Node `(layer, node)`'s push by class over the records that have it: (step, position,
    /// mean signed φ per class).
    pub fn node_class_push_series(
        &self,
        layer: usize,
        node: usize,
    ) -> Vec<(u64, f64, Vec<Option<f32>>)> {
        let spe = self.steps_per_epoch();
        (0..self.epochs.len())
            .filter_map(|i| {
                let e = &self.epochs[i];
                Some((
                    e.step,
                    e.position(spe),
                    self.node_class_push(i, layer, node)?,
                ))
            })
            .collect()
    }

    /// Layer `layer`'s band of a per-node `value` over the records where some node has it.
    pub fn layer_series(&self, layer: usize, value: NodeValue) -> Vec<LayerPoint> {
        let spe = self.steps_per_epoch();
        self.epochs
            .iter()
            .filter_map(|e| {
                let l = e.layers.get(layer)?;
                let nodes = l.counts.len() / self.classes().max(1);
                let q = Quartiles::of((0..nodes).filter_map(|j| value(self, l, j)))?;
                Some(LayerPoint {
                    step: e.step,
                    position: e.position(spe),
                    nodes: q,
                })
            })
            .collect()
    }

    /// Layer `layer`'s band of mean |φ| (how hard each node's set pushes).
    pub fn cost_series(&self, layer: usize) -> Vec<LayerPoint> {
        self.layer_series(layer, |_, l, j| l.cost_mean_abs(j))
    }

    /// Layer `layer`'s band of settled share (nodes with an empty set left out).
    pub fn settled_series(&self, layer: usize) -> Vec<LayerPoint> {
        self.layer_series(layer, |s, l, j| l.settled_share(j, s.classes()))
    }

    /// Layer `layer`'s band of activation fraction, by position (from the layer summaries).
    pub fn fraction_series(&self, layer: usize) -> Vec<LayerPoint> {
        let spe = self.steps_per_epoch();
        self.epochs
            .iter()
            .filter_map(|e| {
                Some(LayerPoint {
                    step: e.step,
                    position: e.position(spe),
                    nodes: e.layers.get(layer)?.summary.activation_fraction,
                })
            })
            .collect()
    }

    /// Layer `layer`'s set turnover, summed over its nodes, at every record that has it.
    pub fn turnover_series(&self, layer: usize) -> Vec<TurnoverPoint> {
        let spe = self.steps_per_epoch();
        self.epochs
            .windows(2)
            .filter_map(|pair| {
                let (prev, now) = (pair[0].layers.get(layer)?, &pair[1]);
                let l = now.layers.get(layer)?;
                if l.added.is_empty() {
                    return None;
                }
                Some(TurnoverPoint {
                    step: now.step,
                    position: now.position(spe),
                    added: l.added.iter().map(|&a| u64::from(a)).sum(),
                    removed: l.removed.iter().map(|&r| u64::from(r)).sum(),
                    before: prev.counts.iter().map(|&c| u64::from(c)).sum(),
                })
            })
            .collect()
    }

    /// The training set's settled share and per-sample loss at every record that has them.
    pub fn training_set_series(&self) -> Vec<TrainingSetPoint> {
        let spe = self.steps_per_epoch();
        self.epochs
            .iter()
            .filter_map(|e| {
                Some(TrainingSetPoint {
                    step: e.step,
                    position: e.position(spe),
                    settled_share: e.settled_share?,
                    loss: e.sample_loss?,
                })
            })
            .collect()
    }
}
