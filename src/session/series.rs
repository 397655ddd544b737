//! Series over epochs drawn from a session: what plots, node maps and exports show.

use crate::measure::node_metrics;

use super::Session;
pub use super::metric::Metric;

/// One point of a layer band: the record's step and position, mean, first and third
/// quartile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandPoint {
    /// Minibatch steps trained before the record.
    pub step: u64,
    /// Position on the epoch axis, `step / steps_per_epoch`, in epochs (where plots place it).
    pub position: f64,
    /// Completed epochs at the record (records inside epoch 1 all have 0).
    pub epoch: u32,
    /// Layer mean.
    pub mean: f32,
    /// First quartile.
    pub q1: f32,
    /// Third quartile.
    pub q3: f32,
}

impl Session {
    /// Layer `layer`'s band of `metric` over records (records without a value are skipped).
    pub fn layer_band(&self, layer: usize, metric: Metric) -> Vec<BandPoint> {
        let spe = self.steps_per_epoch();
        self.epochs
            .iter()
            .filter_map(|e| {
                let q = metric.of_summary(&e.layers.get(layer)?.summary)?;
                Some(BandPoint {
                    step: e.step,
                    position: e.position(spe),
                    epoch: e.epoch,
                    mean: q.mean,
                    q1: q.q1,
                    q3: q.q3,
                })
            })
            .collect()
    }

    /// A node's `metric` over records as (position in epochs, value).
    pub fn node_series(&self, layer: usize, node: usize, metric: Metric) -> Vec<(f64, f32)> {
        let spe = self.steps_per_epoch();
        (0..self.epochs.len())
            .filter_map(|i| {
                Some((
                    self.epochs[i].position(spe),
                    self.node_value(i, layer, node, metric)?,
                ))
            })
            .collect()
    }

    /// A node's `metric` at epoch record `epoch_index`.
    pub fn node_value(
        &self,
        epoch_index: usize,
        layer: usize,
        node: usize,
        metric: Metric,
    ) -> Option<f32> {
        let e = self.epochs.get(epoch_index)?;
        let churn = e.layers.get(layer)?.churn.get(node).copied();
        if metric == Metric::Overlap {
            return churn;
        }
        let m = self.node_metrics(epoch_index, layer, node)?;
        metric.pick(&m, churn)
    }

    /// Every node's `metric` at epoch record `epoch_index`, per layer (`NaN` where undefined).
    pub fn layer_values(&self, epoch_index: usize, metric: Metric) -> Vec<Vec<f32>> {
        let Some(e) = self.epochs.get(epoch_index) else {
            return Vec::new();
        };
        let classes = self.classes();
        e.layers
            .iter()
            .map(|layer| {
                layer
                    .counts
                    .chunks_exact(classes)
                    .enumerate()
                    .map(|(j, on)| {
                        let m = node_metrics(on, &self.dataset.train_class_counts);
                        metric
                            .pick(&m, layer.churn.get(j).copied())
                            .unwrap_or(f32::NAN)
                    })
                    .collect()
            })
            .collect()
    }

    /// Index of the record at the end of `epoch` (or the last record before it). Records
    /// inside epoch 1 share `epoch` 0, so this goes by step.
    pub fn epoch_index(&self, epoch: u32) -> Option<usize> {
        self.record_index_at(u64::from(epoch) * self.steps_per_epoch())
    }

    /// Whether probe sample `k` is in node (`layer`, `node`)'s sample set at record `epoch_index`.
    pub fn probe_member(&self, epoch_index: usize, layer: usize, node: usize, k: usize) -> bool {
        let words = self.probe.words();
        self.epochs
            .get(epoch_index)
            .and_then(|e| e.layers.get(layer))
            .and_then(|l| l.probe_bits.get(node * words + k / 64))
            .is_some_and(|w| w >> (k % 64) & 1 == 1)
    }

    /// Index of the record with the largest layer-mean activation fraction for `layer`.
    pub fn peak_fraction_epoch(&self, layer: usize) -> Option<(u32, f32)> {
        self.layer_band(layer, Metric::ActivationFraction)
            .into_iter()
            .map(|b| (b.epoch, b.mean))
            .fold(None, |best: Option<(u32, f32)>, p| match best {
                Some(b) if b.1 >= p.1 => Some(b),
                _ => Some(p),
            })
    }
}
