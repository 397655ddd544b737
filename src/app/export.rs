//! The app's exports: one place that maps the app's figure choices onto the export module,
//! so new figure kinds need one change here.

use std::path::Path;

use crate::export::figures::{FigureKind, write_one};
use crate::session::{Metric, Session};

/// A figure the app can export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    /// Train and test loss.
    Loss,
    /// Train and test accuracy.
    Accuracy,
    /// Per-layer bands of a metric.
    Metric(Metric),
    /// Node map coloured by a metric at an epoch.
    NodeMap(Metric),
    /// Membership raster of a node.
    NodeRaster,
    /// Class composition of a node.
    NodeComposition,
    /// A node's metrics with its layer's band.
    NodeMetrics,
}

impl Figure {
    /// Every figure, in menu order.
    pub fn all() -> Vec<Figure> {
        let mut v = vec![Figure::Loss, Figure::Accuracy];
        v.extend(Metric::ALL.iter().map(|&m| Figure::Metric(m)));
        v.extend(Metric::ALL.iter().map(|&m| Figure::NodeMap(m)));
        v.extend([
            Figure::NodeRaster,
            Figure::NodeComposition,
            Figure::NodeMetrics,
        ]);
        v
    }

    /// Menu label.
    pub fn label(self) -> String {
        match self {
            Figure::Loss => "Loss".into(),
            Figure::Accuracy => "Accuracy".into(),
            Figure::Metric(m) => format!("Layer bands: {}", m.label()),
            Figure::NodeMap(m) => format!("Node map: {}", m.label()),
            Figure::NodeRaster => "Node membership raster".into(),
            Figure::NodeComposition => "Node class composition".into(),
            Figure::NodeMetrics => "Node metrics".into(),
        }
    }

    /// Default file name stem.
    pub fn slug(self) -> String {
        match self {
            Figure::Loss => "loss".into(),
            Figure::Accuracy => "accuracy".into(),
            Figure::Metric(m) => m.slug().into(),
            Figure::NodeMap(m) => format!("node-map-{}", m.slug()),
            Figure::NodeRaster => "node-raster".into(),
            Figure::NodeComposition => "node-composition".into(),
            Figure::NodeMetrics => "node-metrics".into(),
        }
    }

    /// True when the figure is about one node.
    pub fn needs_node(self) -> bool {
        matches!(
            self,
            Figure::NodeRaster | Figure::NodeComposition | Figure::NodeMetrics
        )
    }

    /// The default file name: session, figure, node and epoch (e.g.
    /// `mnist-5x80-ce-seed1_node-raster_L2N17.png`).
    pub fn file_name(self, s: &Session, node: Option<(usize, usize)>, epoch: u32) -> String {
        match self.kind() {
            Some(kind) => {
                crate::export::figures::default_file_name(s, kind, node, Some(epoch), "png")
            }
            None => format!("{}.png", self.slug()),
        }
    }

    /// The export module's kind, when it has one yet.
    fn kind(self) -> Option<FigureKind> {
        Some(match self {
            Figure::Loss => FigureKind::Loss,
            Figure::Accuracy => FigureKind::Accuracy,
            Figure::Metric(m) => FigureKind::Metric(m),
            Figure::NodeMap(m) => FigureKind::NodeMap(m),
            Figure::NodeRaster => FigureKind::NodeRaster,
            Figure::NodeComposition => FigureKind::NodeComposition { fractions: false },
            Figure::NodeMetrics => FigureKind::NodeMetrics,
        })
    }
}

/// Writes `figure` of `s` to `out` (PNG or SVG by extension); a readable message either way.
pub fn figure(
    s: &Session,
    figure: Figure,
    node: Option<(usize, usize)>,
    epoch: Option<u32>,
    out: &Path,
) -> String {
    let Some(kind) = figure.kind() else {
        return format!("{}: this figure cannot be exported yet", figure.label());
    };
    match write_one(s, kind, node, epoch, out) {
        Ok(()) => format!("wrote {}", out.display()),
        Err(e) => format!("export failed: {e}"),
    }
}

/// Writes the per-node CSV of `s` to `out`; a readable message either way.
pub fn csv(s: &Session, out: &Path) -> String {
    match crate::session::io::write_atomic(out, crate::export::csv::nodes_csv(s).as_bytes()) {
        Ok(()) => format!("wrote {}", out.display()),
        Err(e) => e.to_string(),
    }
}
