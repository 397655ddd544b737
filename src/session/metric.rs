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
    /// Jaccard similarity of the sample set with the previous epoch's.
    Churn,
}

/// Everything the views and exports say about a metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricInfo {
    /// Name in plot titles and tables ("predictability").
    pub name: &'static str,
    /// Name with its definition where the name alone is unclear, for menus, figure titles and
    /// legends ("churn (Jaccard with previous epoch)").
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

const CHURN: MetricInfo = MetricInfo {
    name: "churn",
    label: "churn (Jaccard with previous epoch)",
    short: "churn",
    slug: "churn",
    column: "churn",
    node_map_figure: "node-map-churn",
    range: (0.0, 1.0),
    high_means: "the sample set stayed the same since the previous epoch",
    unit: "Jaccard similarity |S ∩ S'| / |S ∪ S'| with the previous epoch's sample set S'",
    undefined: Some("no value at epoch 0"),
    headline: false,
};

impl Metric {
    /// All metrics, in display order (also the order of CSV columns and figure lists).
    pub const ALL: [Metric; 4] = [
        Metric::ActivationFraction,
        Metric::Predictability,
        Metric::Informativeness,
        Metric::Churn,
    ];

    /// Names, range and meaning.
    pub fn info(self) -> &'static MetricInfo {
        match self {
            Metric::ActivationFraction => &ACTIVATION_FRACTION,
            Metric::Predictability => &PREDICTABILITY,
            Metric::Informativeness => &INFORMATIVENESS,
            Metric::Churn => &CHURN,
        }
    }

    /// The layer summary's quartiles for this metric (`None` for churn at epoch 0).
    pub fn of_summary(self, s: &LayerSummary) -> Option<Quartiles> {
        match self {
            Metric::ActivationFraction => Some(s.activation_fraction),
            Metric::Predictability => Some(s.predictability),
            Metric::Informativeness => Some(s.informativeness),
            Metric::Churn => s.churn,
        }
    }

    /// The value from a node's metrics and churn, at full precision (CSV export).
    pub fn value(self, m: &NodeMetrics, churn: Option<f32>) -> Option<f64> {
        match self {
            Metric::ActivationFraction => Some(m.activation_fraction),
            Metric::Predictability => Some(m.predictability),
            Metric::Informativeness => Some(m.informativeness),
            Metric::Churn => churn.map(f64::from),
        }
    }

    /// The value from a node's metrics and churn, as stored and drawn.
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
