//! Node lines drawn as one density image per metric plot: the worker side.
//!
//! Drawing 2,880 node lines of a 9x320 run as egui shapes costs far more than a frame, so each
//! line is thinned per pixel column to the span between its lowest and highest value in that
//! column (the min/max aggregation rerun uses), and the spans of all lines are counted into
//! one image. [`NodeLinesJob::run`] does that on a worker thread started by
//! [`super::background`]; the plots keep the textures and ask for a new job when the session,
//! the scope or the plot's pixel size changes (see `ui/node_lines.rs`).

use std::sync::Arc;

use egui::{Color32, ColorImage, Vec2};
use egui_plot::{PlotPoint, PlotTransform};

use super::runs::RunId;
use super::settings::NodeLines;
use super::ui::colors::layer_color;
use crate::measure::metrics::node_metrics;
use crate::session::{Metric, Session};

/// Per-pixel line counts of one plot, `[height, width]` row-major, row 0 at value 1.
#[derive(Debug, Clone, PartialEq)]
pub struct Raster {
    /// Columns (pixels across the epoch extent).
    pub width: usize,
    /// Rows (pixels across values 0..1).
    pub height: usize,
    /// Lines through each pixel; a line counts once per pixel.
    pub count: Vec<u32>,
    /// Sum of the colours (linear 0..1 RGB) of the lines through each pixel.
    rgb: Vec<[f32; 3]>,
}

impl Raster {
    /// An empty `width` x `height` raster (both at least 1).
    pub fn new(width: usize, height: usize) -> Self {
        let (width, height) = (width.max(1), height.max(1));
        Self {
            width,
            height,
            count: vec![0; width * height],
            rgb: vec![[0.0; 3]; width * height],
        }
    }

    /// Adds one line: `points` are (x in 0..1 of the width, value in 0..1), in increasing x.
    /// Non-finite values break the line. Each column the line crosses gets the span between
    /// its lowest and highest value there, so a pixel counts this line at most once.
    pub fn add_line(&mut self, points: impl IntoIterator<Item = (f64, f32)>, color: Color32) {
        let (w, h) = (self.width as f64, self.height as f64);
        let mut lo = vec![f64::INFINITY; self.width];
        let mut hi = vec![f64::NEG_INFINITY; self.width];
        let mut prev: Option<(f64, f64)> = None;
        let mut span = (usize::MAX, 0usize);
        let to_px = |x: f64, v: f32| {
            let px = (x * w).clamp(0.0, w - 1e-6);
            let py = ((1.0 - f64::from(v)) * h).clamp(0.0, h - 1e-6);
            (px, py)
        };
        for (x, v) in points {
            if !v.is_finite() || !x.is_finite() {
                prev = None;
                continue;
            }
            let b = to_px(x, v);
            let a = prev.unwrap_or(b);
            prev = Some(b);
            let (ca, cb) = (a.0 as usize, b.0 as usize);
            span = (span.0.min(ca.min(cb)), span.1.max(ca.max(cb)));
            for c in ca.min(cb)..=ca.max(cb) {
                // The part of segment a-b inside column c.
                let (xa, xb) = (
                    (c as f64).max(a.0.min(b.0)),
                    (c as f64 + 1.0).min(a.0.max(b.0)),
                );
                let y_at = |x: f64| {
                    if (b.0 - a.0).abs() < 1e-12 {
                        None
                    } else {
                        Some(a.1 + (b.1 - a.1) * (x - a.0) / (b.0 - a.0))
                    }
                };
                let (ya, yb) = match (y_at(xa), y_at(xb)) {
                    (Some(ya), Some(yb)) => (ya, yb),
                    _ => (a.1, b.1),
                };
                lo[c] = lo[c].min(ya.min(yb));
                hi[c] = hi[c].max(ya.max(yb));
            }
        }
        if span.0 == usize::MAX {
            return;
        }
        let rgb = {
            let [r, g, b, _] = color.to_array();
            [
                f32::from(r) / 255.0,
                f32::from(g) / 255.0,
                f32::from(b) / 255.0,
            ]
        };
        for c in span.0..=span.1.min(self.width - 1) {
            if lo[c] > hi[c] {
                continue;
            }
            let (r0, r1) = (lo[c] as usize, (hi[c] as usize).min(self.height - 1));
            for r in r0..=r1 {
                let i = r * self.width + c;
                self.count[i] += 1;
                for (sum, c) in self.rgb[i].iter_mut().zip(rgb) {
                    *sum += c;
                }
            }
        }
    }

    /// The raster as an image: each pixel takes the mean colour of its lines, with an opacity
    /// that grows with the logarithm of their number (one line stays visible, a thousand do
    /// not saturate everything).
    pub fn image(&self) -> ColorImage {
        let max = self.count.iter().copied().max().unwrap_or(0);
        let scale = (1.0 + max as f32).ln().max(f32::EPSILON);
        let pixels = self
            .count
            .iter()
            .zip(&self.rgb)
            .map(|(&n, rgb)| {
                if n == 0 {
                    return Color32::TRANSPARENT;
                }
                let t = (1.0 + n as f32).ln() / scale;
                let alpha = 0.18 + 0.72 * t;
                let c = |k: usize| (rgb[k] / n as f32 * 255.0).round().clamp(0.0, 255.0) as u8;
                Color32::from_rgba_unmultiplied(c(0), c(1), c(2), (alpha * 255.0) as u8)
            })
            .collect();
        ColorImage::new([self.width, self.height], pixels)
    }
}

/// Identity of a set of textures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodeLinesKey {
    /// Run drawn.
    pub run: RunId,
    /// Its session's version.
    pub version: u64,
    /// Which lines.
    pub lines: NodeLines,
    /// The selected node's layer (for [`NodeLines::Layer`]).
    pub layer: usize,
    /// Texture size in pixels per metric plot.
    pub size: [usize; 2],
    /// Epoch extent the textures span.
    pub x_range: (f64, f64),
}

/// `[metric][layer][node]` values of one epoch record (`Metric::ALL` order, `NaN` where
/// undefined). Records never change once written, so they are computed once per run.
pub type EpochValues = Vec<Vec<Vec<f32>>>;

/// One layer of one record as the job needs it: counts `[nodes, classes]`, churn `[nodes]`.
pub type LayerCounts = (Vec<u32>, Vec<f32>);

/// What a rasterising job needs: copies of the new records' counts, the values already known.
pub struct NodeLinesJob {
    /// What the textures will show.
    pub key: NodeLinesKey,
    /// Epochs mapped to 0..1 of the texture width, one per record.
    pub xs: Vec<f64>,
    /// Values of the first records, computed by earlier jobs.
    pub known: Vec<Arc<EpochValues>>,
    /// `[epoch][layer]` of the records after `known`.
    pub missing: Vec<Vec<LayerCounts>>,
    /// The training set's class sizes.
    pub totals: Vec<u32>,
}

/// What a job sends back: the values it computed and one image per metric.
pub struct NodeLinesResult {
    /// What the textures show.
    pub key: NodeLinesKey,
    /// Values of the job's `missing` records, in order.
    pub new_values: Vec<Arc<EpochValues>>,
    /// One image per metric, [`Metric::ALL`] order.
    pub images: Vec<ColorImage>,
}

/// Pixel size for a plot whose data extent covered `screen` points last frame.
pub fn texture_size(screen: Vec2, pixels_per_point: f32) -> [usize; 2] {
    // Rounded to 16 px so a small layout wobble does not rebuild the textures.
    let px = |v: f32| ((v * pixels_per_point / 16.0).round().clamp(1.0, 256.0) as usize) * 16;
    [px(screen.x), px(screen.y)]
}

/// The screen size of epochs `x_range` x values 0..1 under `t`.
pub fn extent_on_screen(t: &PlotTransform, x_range: (f64, f64)) -> Vec2 {
    t.rect_from_values(
        &PlotPoint::new(x_range.0, 0.0),
        &PlotPoint::new(x_range.1, 1.0),
    )
    .size()
}

/// Positions (epochs) of the first and last record of `s`, if it has at least two records.
pub fn epoch_range(s: &Session) -> Option<(f64, f64)> {
    let spe = s.steps_per_epoch();
    let first = s.epochs.first()?.position(spe);
    let last = s.epochs.last()?.position(spe);
    (last > first).then_some((first, last))
}

/// Every node's metrics from its counts: `layers` holds (counts `[nodes, classes]`, churn
/// `[nodes]`) per layer, `totals` the training set's class counts.
pub fn epoch_values(layers: &[(Vec<u32>, Vec<f32>)], totals: &[u32]) -> EpochValues {
    let classes = totals.len().max(1);
    let mut out = vec![Vec::with_capacity(layers.len()); Metric::ALL.len()];
    for (counts, churn) in layers {
        let mut per_metric = vec![Vec::with_capacity(counts.len() / classes); Metric::ALL.len()];
        for (j, on) in counts.chunks_exact(classes).enumerate() {
            let m = node_metrics(on, totals);
            let churn = churn.get(j).copied();
            for (k, metric) in Metric::ALL.iter().enumerate() {
                per_metric[k].push(metric.pick(&m, churn).unwrap_or(f32::NAN));
            }
        }
        for (k, v) in per_metric.into_iter().enumerate() {
            out[k].push(v);
        }
    }
    out
}

/// Rasterises metric `metric_index`'s lines of `layers` from `values` (one per record, at
/// `xs` in 0..1) into a `size` raster.
pub fn rasterize(
    xs: &[f64],
    values: &[Arc<EpochValues>],
    metric_index: usize,
    layers: std::ops::Range<usize>,
    colour_by_layer: bool,
    size: [usize; 2],
) -> Raster {
    let mut raster = Raster::new(size[0], size[1]);
    let width = |l: usize| {
        values
            .first()
            .and_then(|v| v.get(metric_index)?.get(l))
            .map_or(0, Vec::len)
    };
    let count = values
        .first()
        .and_then(|v| v.get(metric_index))
        .map_or(0, Vec::len);
    for l in layers {
        let color = if colour_by_layer {
            layer_color(l, count)
        } else {
            Color32::from_gray(205)
        };
        for j in 0..width(l) {
            let points = xs.iter().zip(values).map(|(&x, v)| {
                let value = v.get(metric_index).and_then(|m| m.get(l)?.get(j)).copied();
                (x, value.unwrap_or(f32::NAN))
            });
            raster.add_line(points, color);
        }
    }
    raster
}

impl NodeLinesJob {
    /// Computes the missing values and draws every metric's image (on a worker thread).
    pub fn run(self) -> NodeLinesResult {
        let mut values = self.known;
        let new: Vec<Arc<EpochValues>> = self
            .missing
            .iter()
            .map(|layers| Arc::new(epoch_values(layers, &self.totals)))
            .collect();
        values.extend(new.iter().cloned());
        let layers = self.key.lines.layers(self.key.layer, {
            values.first().and_then(|v| v.first()).map_or(0, Vec::len)
        });
        let images = (0..Metric::ALL.len())
            .map(|k| {
                let colour = self.key.lines == NodeLines::All;
                rasterize(&self.xs, &values, k, layers.clone(), colour, self.key.size).image()
            })
            .collect();
        NodeLinesResult {
            key: self.key,
            new_values: new,
            images,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flat_line_lights_one_row_once_per_column() {
        let mut r = Raster::new(10, 4);
        // Many points per column (more epochs than pixels): still one count per pixel.
        let pts = (0..=100).map(|i| (f64::from(i) / 100.0, 0.6));
        r.add_line(pts, Color32::WHITE);
        // Value 0.6 is row floor(0.4 * 4) = 1.
        for c in 0..10 {
            assert_eq!(r.count[r.width + c], 1, "column {c}");
        }
        assert_eq!(r.count.iter().sum::<u32>(), 10);
    }

    #[test]
    fn a_steep_segment_fills_its_column_span_and_nan_breaks_the_line() {
        let mut r = Raster::new(4, 10);
        // From 0 to 1 inside column 0, then a gap (NaN), then a point in column 3.
        r.add_line(
            [(0.0, 0.0), (0.2, 1.0), (0.5, f32::NAN), (0.9, 0.5)],
            Color32::WHITE,
        );
        let col = |c: usize| (0..10).map(|row| r.count[row * 4 + c]).sum::<u32>();
        assert_eq!(col(0), 10, "the rise covers the whole column");
        assert_eq!(col(1) + col(2), 0, "nothing is drawn across the gap");
        assert_eq!(col(3), 1);
    }

    #[test]
    fn overlapping_lines_add_up_and_mix_colours() {
        let mut r = Raster::new(3, 3);
        r.add_line([(0.0, 0.5), (1.0, 0.5)], Color32::from_rgb(255, 0, 0));
        r.add_line([(0.0, 0.5), (1.0, 0.5)], Color32::from_rgb(0, 0, 255));
        assert_eq!(r.count[3..6], [2, 2, 2]);
        let img = r.image();
        let px = img.pixels[4].to_srgba_unmultiplied();
        assert!(px[0] > 100 && px[2] > 100 && px[1] == 0, "{px:?}");
        assert_eq!(img.pixels[0], Color32::TRANSPARENT);
    }
}
