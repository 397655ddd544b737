//! Whether a run shows what Haasbroek & Davel (SACAIR 2020) observed, with the numbers behind
//! each verdict: sample sets grow at first and then shrink ("sample sets grow until loss starts
//! decreasing; sample sets shrink as loss decreases"), how fast each layer's sets shrink, how
//! informativeness ranks by depth at the end, and the most informative single node.

use serde::Serialize;

use super::Session;
use crate::measure::node_metrics;

/// Smallest drop from the peak, as a share of the peak, that counts as shrinking: the layer
/// mean of a trained network's fraction moves by a percent or two from epoch to epoch once it
/// has settled, so 5 % is a drop, not noise.
pub const SHRINK_AT_LEAST: f32 = 0.05;

/// One hidden layer's mean activation fraction over the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerFinding {
    /// Hidden layer, 1-based.
    pub layer: usize,
    /// Mean activation fraction at the first record (before training).
    pub first: f32,
    /// Its largest value.
    pub peak: f32,
    /// Step of the peak (the first record with the largest value).
    pub peak_step: u64,
    /// Position of the peak, epochs.
    pub peak_position: f64,
    /// Mean activation fraction at the last record.
    pub last: f32,
    /// `(peak - last) / peak`.
    pub relative_drop: f32,
    /// Mean relative shrinking per epoch from the peak to the last record,
    /// `ln(peak / last) / (last position - peak position)`; NaN when the peak is the last
    /// record, infinite when the layer ends dead.
    pub shrink_rate: f32,
    /// Sets grow, then shrink: the peak comes after the first record and the last value lies
    /// at least [`SHRINK_AT_LEAST`] of the peak below it.
    pub grows_then_shrinks: bool,
    /// Mean informativeness of the layer's nodes at the last record.
    pub informativeness_last: f32,
}

/// The most informative node at the last record.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TopNode {
    /// Hidden layer, 1-based.
    pub layer: usize,
    /// Node, 0-based.
    pub node: usize,
    /// Its informativeness.
    pub informativeness: f32,
    /// Its activation fraction.
    pub activation_fraction: f32,
}

/// One run's findings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Findings {
    /// Preset name.
    pub preset: String,
    /// Seed.
    pub seed: u64,
    /// Epochs trained.
    pub epochs_done: u32,
    /// Test accuracy at the last record.
    pub final_test_accuracy: f64,
    /// Per hidden layer, first layer first.
    pub layers: Vec<LayerFinding>,
    /// Whether every layer grows, then shrinks.
    pub all_grow_then_shrink: bool,
    /// The layer (1-based) with the largest shrink rate; `None` when no layer shrinks.
    pub fastest_shrinking_layer: Option<usize>,
    /// Whether the layer means of informativeness at the end never fall from one layer to
    /// the next deeper one.
    pub informativeness_rises_with_depth: bool,
    /// Pairs of adjacent layers where the deeper one is less informative at the end.
    pub informativeness_inversions: usize,
    /// The most informative node at the end.
    pub top_node: Option<TopNode>,
}

/// The findings of `s`; `None` for a session without records.
pub fn findings(s: &Session) -> Option<Findings> {
    let first = s.epochs.first()?;
    let last = s.epochs.last()?;
    let spe = s.steps_per_epoch();
    let last_position = last.position(spe);
    let layers: Vec<LayerFinding> = (0..s.widths.len())
        .map(|l| {
            let fraction = |i: usize| {
                s.epochs[i]
                    .layers
                    .get(l)
                    .map_or(f32::NAN, |x| x.summary.activation_fraction.mean)
            };
            let (peak_index, peak) = (0..s.epochs.len())
                .map(|i| (i, fraction(i)))
                .fold((0, f32::NEG_INFINITY), |b, p| if p.1 > b.1 { p } else { b });
            let peak_record = &s.epochs[peak_index];
            let (first_value, last_value) = (fraction(0), fraction(s.epochs.len() - 1));
            let relative_drop = (peak - last_value) / peak;
            let span = last_position - peak_record.position(spe);
            let shrink_rate = if span > 0.0 {
                ((f64::from(peak) / f64::from(last_value)).ln() / span) as f32
            } else {
                f32::NAN
            };
            LayerFinding {
                layer: l + 1,
                first: first_value,
                peak,
                peak_step: peak_record.step,
                peak_position: peak_record.position(spe),
                last: last_value,
                relative_drop,
                shrink_rate,
                grows_then_shrinks: peak_record.step > first.step
                    && relative_drop >= SHRINK_AT_LEAST,
                informativeness_last: last
                    .layers
                    .get(l)
                    .map_or(f32::NAN, |x| x.summary.informativeness.mean),
            }
        })
        .collect();
    let fastest_shrinking_layer = layers
        .iter()
        .filter(|f| f.relative_drop > 0.0 && !f.shrink_rate.is_nan())
        .fold(None, |best: Option<&LayerFinding>, f| match best {
            Some(b) if b.shrink_rate >= f.shrink_rate => Some(b),
            _ => Some(f),
        })
        .map(|f| f.layer);
    let informativeness_inversions = layers
        .windows(2)
        .filter(|w| w[1].informativeness_last < w[0].informativeness_last)
        .count();
    let classes = s.classes();
    let mut top_node: Option<TopNode> = None;
    for (l, layer) in last.layers.iter().enumerate() {
        for (j, on) in layer.counts.chunks_exact(classes.max(1)).enumerate() {
            let m = node_metrics(on, &s.dataset.train_class_counts);
            let u = m.informativeness as f32;
            if top_node.is_none_or(|t| u > t.informativeness) {
                top_node = Some(TopNode {
                    layer: l + 1,
                    node: j,
                    informativeness: u,
                    activation_fraction: m.activation_fraction as f32,
                });
            }
        }
    }
    Some(Findings {
        preset: s.preset.name.clone(),
        seed: s.preset.seed,
        epochs_done: s.epochs_done(),
        final_test_accuracy: last.test_accuracy,
        all_grow_then_shrink: layers.iter().all(|f| f.grows_then_shrinks),
        layers,
        fastest_shrinking_layer,
        informativeness_rises_with_depth: informativeness_inversions == 0,
        informativeness_inversions,
        top_node,
    })
}
