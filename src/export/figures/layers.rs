//! Per-layer metric over epochs: the interquartile band and the mean, one colour a layer.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{self, Drawn, Mark};
use crate::session::{Metric, Session};

/// Layer bands of `metric` on [0, 1].
pub(super) fn metric_bands<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Session,
    metric: Metric,
) -> Drawn {
    let (plot, legend) = style::page(
        root,
        &style::title(s, &format!("{} per layer", metric.label())),
    )?;
    let y_desc = metric.label();
    let mut chart = style::epoch_chart(
        &plot,
        style::epoch_range(s),
        {
            let (lo, hi) = metric.info().range;
            f64::from(lo)..f64::from(hi)
        },
        y_desc,
        &style::number,
    )?;
    let dots = style::mark_points(s);
    let mut entries = Vec::new();
    // Many overlapping bands turn muddy: thinner the more layers there are.
    let alpha = if s.widths.len() <= 3 {
        style::BAND_ALPHA
    } else {
        style::BAND_ALPHA * 0.6
    };
    // Bands first, so that no band covers another layer's mean line.
    let bands: Vec<_> = (0..s.widths.len())
        .map(|l| s.layer_band(l, metric))
        .collect();
    for (l, b) in bands.iter().enumerate() {
        let xs: Vec<f64> = b.iter().map(|p| p.position).collect();
        let q1: Vec<f64> = b.iter().map(|p| f64::from(p.q1)).collect();
        let q3: Vec<f64> = b.iter().map(|p| f64::from(p.q3)).collect();
        style::band(
            &mut chart,
            &xs,
            &q1,
            &q3,
            style::layer_color(l, s.widths.len()),
            alpha,
        )?;
    }
    for (l, b) in bands.iter().enumerate() {
        let c = style::layer_color(l, s.widths.len());
        let mean: Vec<(f64, f64)> = b.iter().map(|p| (p.position, f64::from(p.mean))).collect();
        style::line(&mut chart, &mean, c, 3, dots)?;
        entries.push((
            Mark::LineOnBand(c),
            format!("layer {} ({} nodes)", l + 1, s.widths[l]),
        ));
    }
    entries.push((Mark::Note, String::new()));
    entries.push((Mark::Note, "line: layer mean".into()));
    entries.push((Mark::Note, "band: interquartile range".into()));
    if let Some(undefined) = metric.info().undefined {
        entries.push((Mark::Note, undefined.into()));
    }
    style::legend(&legend, &entries)
}
