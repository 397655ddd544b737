//! The app's exports: menu labels for the shared renderer's figures, and the calls into it.

use std::path::Path;

use crate::export::figures::{FigureKind, default_file_name, write_one};
use crate::fs::{Existing, write_atomic};
use crate::session::Session;

/// Menu label of a figure.
pub fn label(kind: FigureKind) -> String {
    match kind {
        FigureKind::Loss => "Loss".into(),
        FigureKind::Accuracy => "Accuracy".into(),
        FigureKind::Metric(m) => format!("Layer bands: {}", m.label()),
        FigureKind::NodeMap(m) => format!("Node map: {}", m.label()),
        FigureKind::NodeRaster => "Node membership raster".into(),
        FigureKind::NodeComposition { fractions: false } => "Node class composition".into(),
        FigureKind::NodeComposition { fractions: true } => "Node class fractions".into(),
        FigureKind::NodeMetrics => "Node metrics".into(),
    }
}

/// The default file name: session, figure, node and epoch (e.g.
/// `mnist-5x80-ce-seed1_node-raster_L2N17.png`).
pub fn file_name(
    s: &Session,
    kind: FigureKind,
    node: Option<(usize, usize)>,
    epoch: u32,
) -> String {
    default_file_name(s, kind, node, Some(epoch), "png")
}

/// Writes figure `kind` of `s` to `out` (PNG, SVG or CSV by extension); a readable message
/// either way.
pub fn figure(
    s: &Session,
    kind: FigureKind,
    node: Option<(usize, usize)>,
    epoch: Option<u32>,
    out: &Path,
) -> String {
    // The save dialog asked before replacing a file.
    match write_one(s, kind, node, epoch, out, Existing::Replace) {
        Ok(()) => format!("wrote {}", out.display()),
        Err(e) => format!("export failed: {e}"),
    }
}

/// Writes the per-node CSV of `s` to `out`; a readable message either way.
pub fn csv(s: &Session, out: &Path) -> String {
    match write_atomic(
        out,
        crate::export::csv::nodes_csv(s).as_bytes(),
        Existing::Replace,
    ) {
        Ok(()) => format!("wrote {}", out.display()),
        Err(e) => e.to_string(),
    }
}
