//! Node lines in the metric plots: the textures the worker drew, when to ask for new ones,
//! drawing them, and finding the node whose line is under the pointer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::{Context, TextureHandle, TextureOptions, Vec2};
use egui_plot::{PlotImage, PlotPoint, PlotUi};

use crate::app::node_lines::{
    EpochValues, LayerCounts, NodeLinesJob, NodeLinesKey, NodeLinesResult, epoch_range,
    texture_size,
};
use crate::app::runs::RunId;
use crate::app::settings::NodeLines;
use crate::session::{Metric, Session};

/// UI time per frame spent copying records for the worker.
const COPY_BUDGET: Duration = Duration::from_millis(3);

/// Density textures of the node lines, one per metric ([`Metric::ALL`] order), and the
/// values behind them (records never change once written, so they are computed once per run).
#[derive(Default)]
pub struct NodeDensity {
    /// Run whose values are cached, and the steps of the records they belong to.
    run: Option<RunId>,
    steps: Vec<u64>,
    values: Vec<Arc<EpochValues>>,
    /// Records after `values` copied for the next job, `[epoch][layer]`.
    pending: Vec<Vec<LayerCounts>>,
    shown: Option<NodeLinesKey>,
    textures: Vec<TextureHandle>,
    /// The job asked for and not yet back.
    asked: Option<NodeLinesKey>,
}

impl NodeDensity {
    /// Checks the textures against the run, its version, the scope, the size and the axis;
    /// returns a job to start when they are out of date and none is out. Never waits.
    /// `screen` is the data extent's size on screen in the last frame (or the plot's size);
    /// `to_x` maps a position (epochs) to the plot's x (the linear or log axis).
    #[allow(clippy::too_many_arguments)]
    pub fn refresh(
        &mut self,
        ctx: &Context,
        (run, version): (RunId, u64),
        s: &Session,
        lines: NodeLines,
        layer: usize,
        screen: Vec2,
        to_x: &dyn Fn(f64) -> f64,
    ) -> Option<NodeLinesJob> {
        let (first, last) = epoch_range(s)?;
        // The image spans the records in plot coordinates, so a log axis gets its own image.
        let x_range = (to_x(first), to_x(last));
        if x_range.1 <= x_range.0 {
            return None;
        }
        let key = NodeLinesKey {
            run,
            version,
            lines,
            layer,
            size: texture_size(screen, ctx.pixels_per_point()),
            x_range,
        };
        if self.shown == Some(key) || self.asked.is_some() {
            // One job at a time; the frame after it lands asks for a newer one.
            return None;
        }
        self.sync_run(run, s);
        // Copy the records the worker needs a few at a time: copying all of a 200-epoch 9x320
        // session at once (25 MB, mostly page faults) would hold one frame for ~25 ms.
        let started = Instant::now();
        let first = self.values.len() + self.pending.len();
        for e in s.epochs.iter().skip(first) {
            if started.elapsed() > COPY_BUDGET {
                ctx.request_repaint();
                return None;
            }
            let layers = e
                .layers
                .iter()
                .map(|l| (l.counts.clone(), l.churn.clone()))
                .collect();
            self.pending.push(layers);
        }
        self.asked = Some(key);
        let spe = s.steps_per_epoch();
        Some(NodeLinesJob {
            key,
            xs: s
                .epochs
                .iter()
                .map(|e| (to_x(e.position(spe)) - x_range.0) / (x_range.1 - x_range.0))
                .collect(),
            known: self.values.clone(),
            missing: std::mem::take(&mut self.pending),
            totals: s.dataset.train_class_counts.clone(),
        })
    }

    /// Forgets everything (node lines switched off).
    pub fn clear(&mut self) {
        let asked = self.asked;
        *self = Self::default();
        // A job still out comes back to a cleared cache and is dropped there.
        self.asked = asked;
    }

    /// Forgets cached values that do not belong to the records of `s` shown as `run`.
    fn sync_run(&mut self, run: RunId, s: &Session) {
        let same = self.run == Some(run)
            && self.steps.len() <= s.epochs.len()
            && self.steps.iter().zip(&s.epochs).all(|(a, b)| *a == b.step);
        let pending_fits = self.values.len() + self.pending.len() <= s.epochs.len();
        if !same || !pending_fits {
            self.run = Some(run);
            self.steps.clear();
            self.values.clear();
            self.pending.clear();
        }
    }

    /// Takes a finished job's images as textures and keeps its values, if it was drawn for
    /// `s` shown as `run` (the run shown now).
    pub fn accept(
        &mut self,
        ctx: &Context,
        result: NodeLinesResult,
        current: Option<(RunId, &Session)>,
    ) {
        if self.asked == Some(result.key) {
            self.asked = None;
        }
        let Some((run, s)) = current.filter(|(run, _)| *run == result.key.run) else {
            return;
        };
        self.sync_run(run, s);
        let start = self.values.len();
        for (i, v) in result.new_values.into_iter().enumerate() {
            // Only records that follow on from the cache and still match the session.
            if let Some(e) = s.epochs.get(start + i)
                && self.values.len() == start + i
            {
                self.steps.push(e.step);
                self.values.push(v);
            }
        }
        self.textures = result
            .images
            .into_iter()
            .zip(Metric::ALL)
            .map(|(image, m)| {
                ctx.load_texture(
                    format!("node-lines-{}", m.slug()),
                    image,
                    TextureOptions::LINEAR,
                )
            })
            .collect();
        self.shown = Some(result.key);
    }

    /// Whether textures for the current state are still being built.
    pub fn building(&self) -> bool {
        self.asked.is_some() || !self.pending.is_empty()
    }

    /// Values of record `epoch_index` if already computed.
    pub fn values(&self, epoch_index: usize) -> Option<&Arc<EpochValues>> {
        self.values.get(epoch_index)
    }

    /// Draws `metric`'s texture behind the plot's other items.
    pub fn draw(&self, p: &mut PlotUi<'_>, metric: Metric) {
        let (Some(tex), Some(key)) = (self.textures.get(metric.index()), self.shown) else {
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
/// units) at the record nearest `at.x` (epochs); reads `density`'s cached values where it has them.
pub fn node_at(
    s: &Session,
    density: &NodeDensity,
    metric: Metric,
    layers: std::ops::Range<usize>,
    at: PlotPoint,
    tolerance: f64,
) -> Option<(usize, usize)> {
    let i = super::epoch_axis::nearest_record(s, at.x)?;
    let computed;
    let values = match density.values(i).and_then(|v| v.get(metric.index())) {
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
