//! A layer's metrics condensed to mean and quartiles, plus counts of dead and always-on nodes.

use serde::{Deserialize, Serialize};

/// Mean and quartiles of one metric over a layer's nodes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quartiles {
    /// Arithmetic mean.
    pub mean: f32,
    /// First quartile (25th percentile, linear interpolation between order statistics).
    pub q1: f32,
    /// Median.
    pub median: f32,
    /// Third quartile.
    pub q3: f32,
}

impl Quartiles {
    /// Summary of `values`; `None` when empty. NaN values are ignored.
    pub fn of(values: impl IntoIterator<Item = f32>) -> Option<Self> {
        let mut v: Vec<f32> = values.into_iter().filter(|x| !x.is_nan()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f32::total_cmp);
        let q = |p: f64| {
            let pos = p * (v.len() - 1) as f64;
            let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
            let frac = (pos - lo as f64) as f32;
            v[lo] + (v[hi] - v[lo]) * frac
        };
        let mean = (v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64) as f32;
        Some(Self {
            mean,
            q1: q(0.25),
            median: q(0.5),
            q3: q(0.75),
        })
    }
}

/// One hidden layer at one epoch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LayerSummary {
    /// Activation fraction over the layer's nodes.
    pub activation_fraction: Quartiles,
    /// Predictability over the layer's nodes.
    pub predictability: Quartiles,
    /// Informativeness over the layer's nodes.
    pub informativeness: Quartiles,
    /// Jaccard similarity of each node's sample set with the previous epoch's; `None` at
    /// epoch 0, which has no previous epoch.
    pub churn: Option<Quartiles>,
    /// Nodes on for no training sample.
    pub dead: u32,
    /// Nodes on for every training sample.
    pub always_on: u32,
}

impl LayerSummary {
    /// Summarises a layer from its on-counts `[nodes, classes]`, the class sizes `totals`
    /// (`[classes]`) and the churn values `[nodes]` (empty at epoch 0).
    pub fn from_counts(counts: &[u32], totals: &[u32], churn: &[f32]) -> Self {
        let classes = totals.len().max(1);
        let n: u64 = totals.iter().map(|&t| u64::from(t)).sum();
        let metrics: Vec<_> = counts
            .chunks_exact(classes)
            .map(|on| super::node_metrics(on, totals))
            .collect();
        let q = |f: fn(&super::NodeMetrics) -> f64| {
            Quartiles::of(metrics.iter().map(|m| f(m) as f32)).unwrap_or(Quartiles {
                mean: f32::NAN,
                q1: f32::NAN,
                median: f32::NAN,
                q3: f32::NAN,
            })
        };
        let on_totals = counts
            .chunks_exact(classes)
            .map(|on| on.iter().map(|&c| u64::from(c)).sum::<u64>());
        let (mut dead, mut always_on) = (0, 0);
        for t in on_totals {
            dead += u32::from(t == 0);
            always_on += u32::from(t == n && n > 0);
        }
        Self {
            activation_fraction: q(|m| m.activation_fraction),
            predictability: q(|m| m.predictability),
            informativeness: q(|m| m.informativeness),
            churn: Quartiles::of(churn.iter().copied()),
            dead,
            always_on,
        }
    }
}
