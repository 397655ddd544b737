//! Node lines drawn as one density texture per metric plot.
//!
//! Drawing 2,880 node lines of a 9x320 run as egui shapes costs far more than a frame, so each
//! line is thinned per pixel column to the span between its lowest and highest value in that
//! column (the min/max aggregation rerun uses), and the spans of all lines are counted into
//! one image. The image is rebuilt only when the session, the scope or the plot's pixel size
//! changes; picking a node under the pointer reads the session directly.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, TryRecvError};
use egui::{Color32, ColorImage, Context, TextureHandle, TextureOptions, Vec2};
use egui_plot::{PlotImage, PlotPoint, PlotTransform, PlotUi};
use serde::{Deserialize, Serialize};

use super::colormap::layer_color;
use super::state::RunId;
use crate::measure::metrics::node_metrics;
use crate::session::{Metric, Session};

/// Which node lines the metric plots draw.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeLines {
    /// None: layer bands and the selected node only (the cheap default).
    #[default]
    Off,
    /// Every node of the selected node's layer (layer 1 when no node is selected).
    Layer,
    /// Every hidden node of the run, coloured by layer.
    All,
}

impl NodeLines {
    /// Label in menus.
    pub fn label(self) -> &'static str {
        match self {
            NodeLines::Off => "off",
            NodeLines::Layer => "selected layer",
            NodeLines::All => "all layers",
        }
    }

    /// The layers drawn when the selected node is in `layer`, of `layers` in all.
    pub fn layers(self, layer: usize, layers: usize) -> std::ops::Range<usize> {
        match self {
            NodeLines::Off => 0..0,
            NodeLines::Layer => layer.min(layers)..(layer + 1).min(layers),
            NodeLines::All => 0..layers,
        }
    }
}

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

/// UI time per frame spent copying records for the worker.
const COPY_BUDGET: Duration = Duration::from_millis(3);

/// Identity of a set of textures.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Key {
    run: RunId,
    version: u64,
    lines: NodeLines,
    layer: usize,
    /// Texture size in pixels per metric plot.
    size: [usize; 2],
    /// Epoch extent the textures span.
    x_range: (f64, f64),
}

/// `[metric][layer][node]` values of one epoch record (`Metric::ALL` order, `NaN` where
/// undefined). Records never change once written, so they are computed once per run.
pub type EpochValues = Vec<Vec<Vec<f32>>>;

/// What a rasterising job needs: copies of the new records' counts, the values already known.
struct Job {
    key: Key,
    /// Epochs mapped to 0..1 of the texture width, one per record.
    xs: Vec<f64>,
    known: Vec<Arc<EpochValues>>,
    /// `[epoch][layer]` (counts `[nodes, classes]`, churn `[nodes]`) of records not yet known.
    missing: Vec<Vec<(Vec<u32>, Vec<f32>)>>,
    totals: Vec<u32>,
}

/// What a job sends back: the values it computed and one image per metric.
type JobResult = (Key, Vec<Arc<EpochValues>>, Vec<ColorImage>);

/// Density textures of the node lines, one per metric (`Metric::ALL` order), built on a
/// worker thread so the UI never waits for 2,880 lines x 200 epochs.
#[derive(Default)]
pub struct NodeDensity {
    /// Run whose values are cached, and the epoch numbers they belong to.
    run: Option<RunId>,
    epochs: Vec<u32>,
    values: Vec<Arc<EpochValues>>,
    /// Records after `values` copied for the next job, `[epoch][layer]` (counts, churn).
    pending: Vec<Vec<(Vec<u32>, Vec<f32>)>>,
    shown: Option<Key>,
    textures: Vec<TextureHandle>,
    job: Option<(Key, Receiver<JobResult>)>,
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

/// First and last recorded epoch of `s`, if it has at least two records.
pub fn epoch_range(s: &Session) -> Option<(f64, f64)> {
    let first = f64::from(s.epochs.first()?.epoch);
    let last = f64::from(s.epochs.last()?.epoch);
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
    for l in layers {
        let color = if colour_by_layer {
            layer_color(l)
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

impl Job {
    fn run(self) -> JobResult {
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
        (self.key, new, images)
    }
}

impl NodeDensity {
    /// Keeps the textures up to date with the run, its version, the scope and the size:
    /// starts a worker when they changed and takes its result when it is done. Never waits.
    /// `screen` is the data extent's size on screen in the last frame (or the plot's size).
    pub fn refresh(
        &mut self,
        ctx: &Context,
        (run, version): (RunId, u64),
        s: &Session,
        lines: NodeLines,
        layer: usize,
        screen: Vec2,
    ) {
        self.take_result(ctx, run, s);
        let Some(x_range) = epoch_range(s) else {
            return;
        };
        let key = Key {
            run,
            version,
            lines,
            layer,
            size: texture_size(screen, ctx.pixels_per_point()),
            x_range,
        };
        if self.shown == Some(key) || self.job.as_ref().is_some_and(|j| j.0 == key) {
            return;
        }
        if self.job.is_some() {
            // One job at a time; the next frame after it lands starts the newer one.
            return;
        }
        self.sync_run(run, s);
        // Copy the records the worker needs a few at a time: copying all of a 200-epoch 9x320
        // session at once (25 MB, mostly page faults) would hold one frame for ~25 ms.
        let started = Instant::now();
        let first = self.values.len() + self.pending.len();
        for e in s.epochs.iter().skip(first) {
            if started.elapsed() > COPY_BUDGET {
                ctx.request_repaint();
                return;
            }
            let layers = e
                .layers
                .iter()
                .map(|l| (l.counts.clone(), l.churn.clone()))
                .collect();
            self.pending.push(layers);
        }
        let job = Job {
            key,
            xs: s
                .epochs
                .iter()
                .map(|e| (f64::from(e.epoch) - x_range.0) / (x_range.1 - x_range.0))
                .collect(),
            known: self.values.clone(),
            missing: std::mem::take(&mut self.pending),
            totals: s.dataset.train_class_counts.clone(),
        };
        let (tx, rx) = crossbeam_channel::bounded(1);
        let repaint = ctx.clone();
        std::thread::spawn(move || {
            // The receiver may be gone (view closed); then the result is simply dropped.
            let _ = tx.send(job.run());
            repaint.request_repaint();
        });
        self.job = Some((key, rx));
    }

    /// Forgets cached values that do not belong to the records of `s` shown as `run`.
    fn sync_run(&mut self, run: RunId, s: &Session) {
        let same = self.run == Some(run)
            && self.epochs.len() <= s.epochs.len()
            && self
                .epochs
                .iter()
                .zip(&s.epochs)
                .all(|(a, b)| *a == b.epoch);
        let pending_fits = self.values.len() + self.pending.len() <= s.epochs.len();
        if !same || !pending_fits {
            self.run = Some(run);
            self.epochs.clear();
            self.values.clear();
            self.pending.clear();
        }
    }

    /// Loads a finished job's textures and keeps its values.
    fn take_result(&mut self, ctx: &Context, run: RunId, s: &Session) {
        let Some((_, rx)) = &self.job else {
            return;
        };
        let (key, new, images) = match rx.try_recv() {
            Ok(result) => result,
            Err(TryRecvError::Empty) => return,
            Err(TryRecvError::Disconnected) => {
                self.job = None;
                return;
            }
        };
        self.job = None;
        if key.run != run {
            return;
        }
        self.sync_run(run, s);
        let start = self.values.len();
        for (i, v) in new.into_iter().enumerate() {
            // Only records that follow on from the cache and still match the session.
            if let Some(e) = s.epochs.get(start + i)
                && self.values.len() == start + i
            {
                self.epochs.push(e.epoch);
                self.values.push(v);
            }
        }
        self.textures = images
            .into_iter()
            .zip(Metric::ALL)
            .map(|(image, m)| {
                ctx.load_texture(
                    format!("node-lines-{}", m.label()),
                    image,
                    TextureOptions::LINEAR,
                )
            })
            .collect();
        self.shown = Some(key);
    }

    /// Whether textures for the current state are still being built.
    pub fn building(&self) -> bool {
        self.job.is_some() || !self.pending.is_empty()
    }

    /// Values of record `epoch_index` if already computed.
    pub fn values(&self, epoch_index: usize) -> Option<&Arc<EpochValues>> {
        self.values.get(epoch_index)
    }

    /// Draws metric `index`'s texture behind the plot's other items.
    pub fn draw(&self, p: &mut PlotUi<'_>, index: usize) {
        let (Some(tex), Some(key)) = (self.textures.get(index), self.shown) else {
            return;
        };
        let (x0, x1) = key.x_range;
        p.image(
            PlotImage::new(
                "",
                tex.id(),
                PlotPoint::new((x0 + x1) / 2.0, 0.5),
                Vec2::new((x1 - x0) as f32, 1.0),
            )
            .allow_hover(false),
        );
    }
}

/// The node of `layers` whose `metric` line passes closest to `at` (within `tolerance` in value
/// units) at the epoch nearest `at.x`; reads `density`'s cached values where it has them.
pub fn node_at(
    s: &Session,
    density: &NodeDensity,
    metric: Metric,
    layers: std::ops::Range<usize>,
    at: PlotPoint,
    tolerance: f64,
) -> Option<(usize, usize)> {
    let i = nearest_epoch_index(s, at.x)?;
    let k = Metric::ALL.iter().position(|&m| m == metric)?;
    let computed;
    let values = match density.values(i).and_then(|v| v.get(k)) {
        Some(v) => v,
        None => {
            computed = s.layer_values(i, metric);
            &computed
        }
    };
    let mut best: Option<((usize, usize), f64)> = None;
    for l in layers {
        for (j, &v) in values.get(l)?.iter().enumerate() {
            let d = (f64::from(v) - at.y).abs();
            if d.is_finite() && d <= tolerance && best.is_none_or(|b| d < b.1) {
                best = Some(((l, j), d));
            }
        }
    }
    best.map(|b| b.0)
}

/// Index of the epoch record nearest to epoch `x`.
fn nearest_epoch_index(s: &Session, x: f64) -> Option<usize> {
    let i = s.epochs.partition_point(|e| f64::from(e.epoch) < x);
    let candidates = [i.checked_sub(1), (i < s.epochs.len()).then_some(i)];
    candidates.into_iter().flatten().min_by(|&a, &b| {
        let d = |k: usize| (f64::from(s.epochs[k].epoch) - x).abs();
        d(a).total_cmp(&d(b))
    })
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
