//! The per-node metrics, each defined once: its names, range, what high values mean and how
//! its value is read from a node's measurement. Menus, plots, figure lists, CSV columns and
//! file names all derive from [`Metric::ALL`] and [`Metric::info`], so adding a metric means a
//! variant, its [`MetricInfo`] and its two value arms here, plus the measurement itself.

use crate::measure::{LayerSummary, NodeMetrics, Quartiles};

/// A per-node quantity that can colour a node map or draw a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Metric {
    /// |sample set| / N.
    ActivationFraction,
    /// 1 - H(Z|Y)/ln 2.
    Predictability,
    /// 1 - H(Y|Z)/ln |C|.
    Informativeness,
    /// Set overlap: Jaccard similarity |S ∩ S'| / |S ∪ S'| of the sample set with the previous
    /// record's (high = the set stayed the same). Called "churn" before, which says the
    /// opposite of what a high value means; settings written then still read as this.
    #[serde(alias = "Churn")]
    Overlap,
}

/// Everything the views and exports say about a metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricInfo {
    /// Name in plot titles and tables ("predictability").
    pub name: &'static str,
    /// Name with its definition where the name alone is unclear, for menus, figure titles and
    /// legends ("set overlap with previous record").
    pub label: &'static str,
    /// The shortest name readers of the paper know, for dense lines ("p").
    pub short: &'static str,
    /// File-name and command-line name ("activation-fraction").
    pub slug: &'static str,
    /// CSV column name ("activation_fraction").
    pub column: &'static str,
    /// Command-line name of the metric's node-map figure.
    pub node_map_figure: &'static str,
    /// Lowest and highest possible value.
    pub range: (f32, f32),
    /// What a high value says about the node.
    pub high_means: &'static str,
    /// What the value counts, and where the formula comes from.
    pub unit: &'static str,
    /// When the value is undefined, if ever.
    pub undefined: Option<&'static str>,
    /// One of the paper's three node metrics, drawn together for one node and in Compare.
    pub headline: bool,
}

const ACTIVATION_FRACTION: MetricInfo = MetricInfo {
    name: "activation fraction",
    label: "activation fraction",
    short: "activation fraction",
    slug: "activation-fraction",
    column: "activation_fraction",
    node_map_figure: "node-map",
    range: (0.0, 1.0),
    high_means: "the node is on for more of the training samples",
    unit: "fraction of the training set in the sample set, |S| / N (Haasbroek & Davel 2020)",
    undefined: None,
    headline: true,
};

const PREDICTABILITY: MetricInfo = MetricInfo {
    name: "predictability",
    label: "predictability",
    short: "p",
    slug: "predictability",
    column: "predictability",
    node_map_figure: "node-map-predictability",
    range: (0.0, 1.0),
    high_means: "the class tells whether the node is on",
    unit: "p = 1 - H(Z|Y) / ln 2 (Haasbroek & Davel 2020, appendix)",
    undefined: None,
    headline: true,
};

const INFORMATIVENESS: MetricInfo = MetricInfo {
    name: "informativeness",
    label: "informativeness",
    short: "u",
    slug: "informativeness",
    column: "informativeness",
    node_map_figure: "node-map-informativeness",
    range: (0.0, 1.0),
    high_means: "whether the node is on tells the class",
    unit: "u = 1 - H(Y|Z) / ln |C| (Haasbroek & Davel 2020, appendix)",
    undefined: None,
    headline: true,
};

const OVERLAP: MetricInfo = MetricInfo {
    name: "set overlap",
    label: "set overlap with previous record",
    short: "overlap",
    slug: "overlap",
    column: "overlap",
    node_map_figure: "node-map-overlap",
    range: (0.0, 1.0),
    high_means: "the sample set stayed the same since the previous record",
    unit: "Jaccard similarity |S ∩ S'| / |S ∪ S'| with the previous record's sample set S'",
    undefined: Some("no value at the first record"),
    headline: false,
};

impl Metric {
    /// All metrics, in display order (also the order of CSV columns and figure lists).
    pub const ALL: [Metric; 4] = [
        Metric::ActivationFraction,
        Metric::Predictability,
        Metric::Informativeness,
        Metric::Overlap,
    ];

    /// Names, range and meaning.
    pub fn info(self) -> &'static MetricInfo {
        match self {
            Metric::ActivationFraction => &ACTIVATION_FRACTION,
            Metric::Predictability => &PREDICTABILITY,
            Metric::Informativeness => &INFORMATIVENESS,
            Metric::Overlap => &OVERLAP,
        }
    }

    /// The layer summary's quartiles for this metric (`None` for the overlap at the first
    /// record).
    pub fn of_summary(self, s: &LayerSummary) -> Option<Quartiles> {
        match self {
            Metric::ActivationFraction => Some(s.activation_fraction),
            Metric::Predictability => Some(s.predictability),
            Metric::Informativeness => Some(s.informativeness),
            Metric::Overlap => s.churn,
        }
    }

    /// The value from a node's metrics and set overlap (stored as `churn`), at full precision
    /// (CSV export).
    pub fn value(self, m: &NodeMetrics, churn: Option<f32>) -> Option<f64> {
        match self {
            Metric::ActivationFraction => Some(m.activation_fraction),
            Metric::Predictability => Some(m.predictability),
            Metric::Informativeness => Some(m.informativeness),
            Metric::Overlap => churn.map(f64::from),
        }
    }

    /// The value from a node's metrics and set overlap, as stored and drawn.
    pub fn pick(self, m: &NodeMetrics, churn: Option<f32>) -> Option<f32> {
        self.value(m, churn).map(|v| v as f32)
    }

    /// Menu and legend name ([`MetricInfo::label`]).
    pub fn label(self) -> &'static str {
        self.info().label
    }

    /// File-name friendly name ([`MetricInfo::slug`]).
    pub fn slug(self) -> &'static str {
        self.info().slug
    }

    /// Position in [`Metric::ALL`] (per-metric arrays are kept in that order).
    pub fn index(self) -> usize {
        Metric::ALL.iter().position(|&m| m == self).unwrap_or(0)
    }

    /// The metrics with [`MetricInfo::headline`] set, in display order.
    pub fn headline() -> impl Iterator<Item = Metric> {
        Metric::ALL.into_iter().filter(|m| m.info().headline)
    }
}

/// A per-layer quantity of the backward pass or of set turnover, drawn over records as a layer
/// band next to the activation fraction (sessions of schema 2 have them; older ones do not).
/// Unlike [`Metric`] these are not per-node values of the node map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LayerQuantity {
    /// Mean |φ| over each node's sample set (node-supported cost: how hard the set pushes).
    CostMeanAbs,
    /// Share of each node's sample set that is settled.
    SettledShare,
    /// Samples that entered the layer's sets since the previous record, as a share of the
    /// previous set sizes (summed over the layer's nodes).
    Added,
    /// Samples that left the layer's sets since the previous record, as a share of the
    /// previous set sizes (summed over the layer's nodes).
    Removed,
}

/// Everything the views say about a [`LayerQuantity`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerQuantityInfo {
    /// Name in plot titles ("settled share of the set").
    pub name: &'static str,
    /// Y axis title with its unit.
    pub axis: &'static str,
    /// File-name and command-line name.
    pub slug: &'static str,
    /// What the value is, and where the formula comes from.
    pub unit: &'static str,
    /// What a high value says.
    pub high_means: &'static str,
    /// Whether the band is the quartiles over nodes (false: one layer total, no band).
    pub over_nodes: bool,
}

const COST_MEAN_ABS: LayerQuantityInfo = LayerQuantityInfo {
    name: "mean |φ| (node-supported cost)",
    axis: "mean |φ| over the set",
    slug: "cost-mean-abs",
    unit: "mean over the node's sample set of |φ|, φ = ∂L_s/∂a (the sample's loss carried back \
           to the node's activation along its active paths; Haasbroek & Davel)",
    high_means: "the samples in the set push the node's weights harder",
    over_nodes: true,
};

const SETTLED_SHARE: LayerQuantityInfo = LayerQuantityInfo {
    name: "settled share of the set",
    axis: "settled share of the set",
    slug: "settled-share",
    unit: "share of the node's sample set whose output error is below the session's settled \
           threshold (they no longer push the weights)",
    high_means: "more of the set no longer contributes to the weight updates",
    over_nodes: true,
};

const ADDED: LayerQuantityInfo = LayerQuantityInfo {
    name: "added to the sets",
    axis: "added (share of previous sets)",
    slug: "added",
    unit: "samples that entered the layer's sample sets since the previous record, summed over \
           nodes, over the summed set sizes at the previous record",
    high_means: "the sets are growing or being replaced",
    over_nodes: false,
};

const REMOVED: LayerQuantityInfo = LayerQuantityInfo {
    name: "removed from the sets",
    axis: "removed (share of previous sets)",
    slug: "removed",
    unit: "samples that left the layer's sample sets since the previous record, summed over \
           nodes, over the summed set sizes at the previous record",
    high_means: "the sets are shrinking or being replaced",
    over_nodes: false,
};

impl LayerQuantity {
    /// All, in display order.
    pub const ALL: [LayerQuantity; 4] = [
        LayerQuantity::CostMeanAbs,
        LayerQuantity::SettledShare,
        LayerQuantity::Added,
        LayerQuantity::Removed,
    ];

    /// Names and meaning.
    pub fn info(self) -> &'static LayerQuantityInfo {
        match self {
            LayerQuantity::CostMeanAbs => &COST_MEAN_ABS,
            LayerQuantity::SettledShare => &SETTLED_SHARE,
            LayerQuantity::Added => &ADDED,
            LayerQuantity::Removed => &REMOVED,
        }
    }

    /// Layer `layer`'s values over the records that have them, as band points (mean and
    /// quartiles over nodes; a layer total has q1 = q3 = mean).
    pub fn series(self, s: &super::Session, layer: usize) -> Vec<super::BandPoint> {
        let spe = s.steps_per_epoch().max(1);
        let from_layer = |v: Vec<super::timeline::LayerPoint>| {
            v.into_iter()
                .map(|p| super::BandPoint {
                    step: p.step,
                    position: p.position,
                    epoch: u32::try_from(p.step / spe).unwrap_or(u32::MAX),
                    mean: p.nodes.mean,
                    q1: p.nodes.q1,
                    q3: p.nodes.q3,
                })
                .collect()
        };
        let share = |pick: fn(&super::timeline::TurnoverPoint) -> u64| {
            s.turnover_series(layer)
                .into_iter()
                .map(|p| {
                    let v = if p.before == 0 {
                        f32::NAN
                    } else {
                        (pick(&p) as f64 / p.before as f64) as f32
                    };
                    super::BandPoint {
                        step: p.step,
                        position: p.position,
                        epoch: u32::try_from(p.step / spe).unwrap_or(u32::MAX),
                        mean: v,
                        q1: v,
                        q3: v,
                    }
                })
                .collect()
        };
        match self {
            LayerQuantity::CostMeanAbs => from_layer(s.cost_series(layer)),
            LayerQuantity::SettledShare => from_layer(s.settled_series(layer)),
            LayerQuantity::Added => share(|p| p.added),
            LayerQuantity::Removed => share(|p| p.removed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_has_its_own_names() {
        for (i, a) in Metric::ALL.iter().enumerate() {
            assert_eq!(a.index(), i);
            for b in &Metric::ALL[i + 1..] {
                let (x, y) = (a.info(), b.info());
                assert_ne!(x.slug, y.slug);
                assert_ne!(x.column, y.column);
                assert_ne!(x.node_map_figure, y.node_map_figure);
                assert_ne!(x.name, y.name);
            }
        }
    }
}
