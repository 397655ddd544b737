//! Events on a session's time line: where each layer's sample sets were largest, where nodes
//! and whole layers die, and where test accuracy falls to chance.

use serde::Serialize;

use super::Session;
use super::records::set_sizes;

/// Test accuracy at most this far above `1 / classes` counts as chance: a network that gives
/// every sample the same class scores between 8.9 % and 11.4 % on MNIST's test set (the
/// smallest and largest class), so 1/10 + 0.02 separates it from any network that learnt.
pub const CHANCE_MARGIN: f64 = 0.02;

/// Largest mean |φ| (loss units per unit of activation) at which the backward pass counts as
/// stopped. One sample at the settled threshold (an output error of 0.01) already gives a
/// node-supported cost of order 1e-4 to 1e-3 through weights of order 0.1 along a few active
/// paths; a softmax saturated in float32 gives ~1e-38. 1e-9 lies far from both.
pub const STOPPED_PUSH: f32 = 1e-9;

/// Share of settled training samples below which a stopped backward pass is a stall rather
/// than a finished fit: when most samples still have a large output error, nothing pushes
/// although the network is wrong.
pub const STALL_SETTLED_BELOW: f64 = 0.5;

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// The layer's mean activation fraction is at its largest (the first such record).
    FractionPeak {
        /// Hidden layer, 0-based.
        layer: usize,
        /// The peak mean activation fraction.
        fraction: f32,
    },
    /// Nodes of the layer that are on for no training sample from this record to the last
    /// (at the first record: dead from the start).
    NodesDie {
        /// Hidden layer, 0-based.
        layer: usize,
        /// The nodes, 0-based.
        nodes: Vec<usize>,
    },
    /// The layer's last live node dies: no node of the layer is on for any training sample
    /// from this record to the last, so nothing above it depends on the input any more.
    LayerDies {
        /// Hidden layer, 0-based.
        layer: usize,
    },
    /// The backward pass stops while the network is still wrong: every node's mean |φ| is
    /// below [`STOPPED_PUSH`] although fewer than [`STALL_SETTLED_BELOW`] of the training
    /// samples are settled, so no sample pushes any weight any more (the first record of each
    /// such stretch). This is how a saturated softmax under MSE freezes a run.
    TrainingStalls {
        /// The largest mean |φ| over every layer's nodes at this record.
        largest_push: f32,
        /// Share of settled training samples at this record.
        settled_share: f64,
    },
    /// Test accuracy falls to chance (at most `1 / classes` + [`CHANCE_MARGIN`]) from above.
    ChanceAccuracy {
        /// Test accuracy at this record.
        test_accuracy: f64,
        /// The chance level used.
        chance: f64,
    },
}

/// One event at one record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// Index of the record.
    pub record: usize,
    /// The record's step.
    pub step: u64,
    /// The record's position, epochs.
    pub position: f64,
    /// What happened.
    pub kind: EventKind,
}

impl Event {
    /// One line for people: where, and what, with 1-based layers.
    pub fn describe(&self) -> String {
        let what = match &self.kind {
            EventKind::FractionPeak { layer, fraction } => format!(
                "layer {}: mean activation fraction peaks at {fraction:.4}",
                layer + 1
            ),
            EventKind::NodesDie { layer, nodes } => {
                let list: Vec<String> = nodes.iter().take(12).map(|n| n.to_string()).collect();
                let more = if nodes.len() > 12 { ", ..." } else { "" };
                let one = nodes.len() == 1;
                let verb = match (self.record, one) {
                    (0, _) => "dead from the start",
                    (_, true) => "dies",
                    _ => "die",
                };
                format!(
                    "layer {}: {} node{} {verb} ({}{more})",
                    layer + 1,
                    nodes.len(),
                    if one { "" } else { "s" },
                    list.join(", ")
                )
            }
            EventKind::LayerDies { layer } => {
                format!("layer {}: its last live node dies", layer + 1)
            }
            EventKind::TrainingStalls {
                largest_push,
                settled_share,
            } => format!(
                "training stalls: no sample pushes (largest mean |φ| {largest_push:.1e}) \
                 while only {:.1}% of training samples are settled",
                settled_share * 100.0
            ),
            EventKind::ChanceAccuracy {
                test_accuracy,
                chance,
            } => format!(
                "test accuracy falls to chance: {:.2}% (chance level {:.0}%)",
                test_accuracy * 100.0,
                chance * 100.0
            ),
        };
        format!(
            "epoch {:>9.4} (step {:>6})  {what}",
            self.position, self.step
        )
    }
}

/// The events of `s`, in record order (within a record: peaks, node deaths, layer deaths,
/// accuracy).
pub fn events(s: &Session) -> Vec<Event> {
    let classes = s.classes().max(1);
    let spe = s.steps_per_epoch();
    let at = |record: usize, kind: EventKind| Event {
        record,
        step: s.epochs[record].step,
        position: s.epochs[record].position(spe),
        kind,
    };
    let mut out = Vec::new();
    for layer in 0..s.widths.len() {
        let peak = s
            .epochs
            .iter()
            .enumerate()
            .filter_map(|(i, e)| Some((i, e.layers.get(layer)?.summary.activation_fraction.mean)))
            .fold(None, |best: Option<(usize, f32)>, (i, f)| match best {
                Some((_, b)) if b >= f || f.is_nan() => best,
                _ => Some((i, f)),
            });
        if let Some((i, fraction)) = peak {
            out.push(at(i, EventKind::FractionPeak { layer, fraction }));
        }
        // The first record from which each node stays dead to the end.
        let sizes: Vec<Vec<u64>> = s
            .epochs
            .iter()
            .map(|e| {
                e.layers
                    .get(layer)
                    .map_or_else(Vec::new, |l| set_sizes(&l.counts, classes))
            })
            .collect();
        let width = s.widths[layer];
        let mut dies_at: Vec<Option<usize>> = vec![None; width];
        for (j, slot) in dies_at.iter_mut().enumerate() {
            let alive_last = sizes
                .iter()
                .rposition(|sz| sz.get(j).copied().unwrap_or(0) > 0);
            *slot = match alive_last {
                None if !sizes.is_empty() => Some(0),
                Some(r) if r + 1 < sizes.len() => Some(r + 1),
                _ => None,
            };
        }
        let mut by_record: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
        for (j, d) in dies_at.iter().enumerate() {
            if let Some(r) = d {
                by_record.entry(*r).or_default().push(j);
            }
        }
        for (&r, nodes) in &by_record {
            out.push(at(
                r,
                EventKind::NodesDie {
                    layer,
                    nodes: nodes.clone(),
                },
            ));
        }
        if dies_at.iter().all(Option::is_some)
            && let Some(r) = dies_at.iter().flatten().max()
        {
            out.push(at(*r, EventKind::LayerDies { layer }));
        }
    }
    let chance = 1.0 / classes as f64 + CHANCE_MARGIN;
    for (i, pair) in s.epochs.windows(2).enumerate() {
        if pair[0].test_accuracy > chance && pair[1].test_accuracy <= chance {
            out.push(at(
                i + 1,
                EventKind::ChanceAccuracy {
                    test_accuracy: pair[1].test_accuracy,
                    chance,
                },
            ));
        }
    }
    let mut stalled_before = false;
    for (i, e) in s.epochs.iter().enumerate() {
        let stall = stall_at(e);
        if let Some((largest_push, settled_share)) = stall
            && !stalled_before
        {
            out.push(at(
                i,
                EventKind::TrainingStalls {
                    largest_push,
                    settled_share,
                },
            ));
        }
        stalled_before = stall.is_some();
    }
    let order = |k: &EventKind| match k {
        EventKind::FractionPeak { .. } => 0,
        EventKind::NodesDie { .. } => 1,
        EventKind::LayerDies { .. } => 2,
        EventKind::TrainingStalls { .. } => 3,
        EventKind::ChanceAccuracy { .. } => 4,
    };
    out.sort_by_key(|e| (e.record, order(&e.kind)));
    out
}

/// (largest mean |φ|, settled share) of record `e` when its backward pass has stopped while
/// the network is still wrong (see [`EventKind::TrainingStalls`]); `None` otherwise or
/// without cost data (schema-1 sessions).
fn stall_at(e: &super::EpochRecord) -> Option<(f32, f64)> {
    let settled = e.settled_share?;
    let mut largest = 0.0f32;
    for l in &e.layers {
        let cost = l.cost.as_ref()?;
        for &v in cost.mean_abs.iter().filter(|v| !v.is_nan()) {
            largest = largest.max(v);
        }
    }
    (largest < STOPPED_PUSH && settled < STALL_SETTLED_BELOW && !e.layers.is_empty())
        .then_some((largest, settled))
}
