//! What each view drew in the last frame, for the GUI tests (`cargo test` turns on the
//! `testing` feature through the crate's dev-dependency on itself). Not public API.

use egui::{Pos2, Rect};
use egui_plot::PlotPoint;

use super::frame::SampleSetsApp;
use crate::session::Metric;

/// What the node detail showed in the last frame.
#[derive(Debug, Clone, PartialEq)]
pub struct DetailShown {
    /// Node (0-based layer, node).
    pub node: (usize, usize),
    /// Step of the record shown.
    pub step: u64,
    /// Per-class on-counts displayed.
    pub counts: Vec<u32>,
}

/// One point of a series as Explore's plots drew it last frame.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotValue {
    /// Position, epochs.
    pub position: f64,
    /// The line's value.
    pub value: f64,
    /// The band behind it there (q1..q3, or min..max over seeds).
    pub band: Option<(f64, f64)>,
    /// For a mean over seeds: seeds that reached this record.
    pub seeds: Option<usize>,
}

impl SampleSetsApp {
    /// Seeds averaged in Explore's plots last frame (`None`: the shown run alone).
    pub fn plots_seed_group(&self) -> Option<usize> {
        self.views.plots.drawn_group
    }

    /// The point at `position` (epochs, within 1e-9) of series `series` in Explore's plot
    /// titled `plot` ("loss", "accuracy", a metric's name), as drawn last frame.
    pub fn plot_value(&self, plot: &str, series: &str, position: f64) -> Option<PlotValue> {
        let s = self
            .views
            .plots
            .drawn_series(plot)?
            .iter()
            .find(|s| s.name == series)?;
        let k = s
            .points
            .iter()
            .position(|p| (p[0] - position).abs() <= 1e-9)?;
        Some(PlotValue {
            position: s.points[k][0],
            value: s.points[k][1],
            band: s.band.as_ref().and_then(|b| b.get(k).copied()),
            seeds: s.over_seeds.as_ref().and_then(|o| o.counts.get(k).copied()),
        })
    }

    /// Steps of the records the plots, node map and node detail drew in the last frame.
    pub fn rendered_steps(&self) -> [Option<u64>; 3] {
        [
            self.views.plots.rendered_step,
            self.views.map.rendered_step,
            self.views.detail.rendered.map(|r| r.1),
        ]
    }

    /// What the node detail drew last frame.
    pub fn rendered_detail(&self) -> Option<DetailShown> {
        let (node, step) = self.views.detail.rendered?;
        Some(DetailShown {
            node,
            step,
            counts: self.views.detail.rendered_counts.clone()?,
        })
    }

    /// Where the node map drew node (`layer`, `node`) last frame.
    pub fn node_map_cell(&self, layer: usize, node: usize) -> Option<Pos2> {
        self.views.map.cell_center(layer, node)
    }

    /// Where `metric` = `value` at `position` (epochs) was drawn in its plot in the last frame.
    pub fn metric_plot_position(&self, metric: Metric, position: f64, value: f32) -> Option<Pos2> {
        let t = self
            .views
            .plots
            .metric_transforms
            .get(metric.index())
            .copied()
            .flatten()?;
        let x = self.views.plots.axis.as_ref()?.x(position);
        Some(t.position_from_point(&PlotPoint::new(x, f64::from(value))))
    }

    /// The x range (positions, epochs) the metric plots showed in the last frame.
    pub fn plot_x_range(&self) -> Option<(f64, f64)> {
        let t = self
            .views
            .plots
            .metric_transforms
            .first()
            .copied()
            .flatten()?;
        let axis = self.views.plots.axis.as_ref()?;
        let r = t.bounds().range_x();
        Some((axis.position(*r.start()), axis.position(*r.end())))
    }

    /// Where the plots' epoch axis ended (epochs) in the last frame.
    pub fn plot_axis_end(&self) -> Option<f64> {
        self.views.plots.axis.as_ref().map(|a| a.x_max)
    }

    /// Position (epochs) of the selected run's newest record.
    pub fn newest_position(&self) -> Option<f64> {
        let s = self.state.selected_session()?;
        s.record_position(s.epochs.len().checked_sub(1)?)
    }

    /// Whether the selected run is training and its plots are drawn.
    pub fn is_training_shown(&self) -> bool {
        self.views.plots.axis.is_some()
            && self.state.selected_run().is_some_and(|e| e.is_training())
            && self
                .state
                .selected_session()
                .is_some_and(|s| s.epochs.len() > 1)
    }

    /// The text of the last hover tooltip a plot on the epoch axis showed.
    pub fn last_plot_tooltip(ctx: &egui::Context) -> Option<String> {
        crate::app::ui::epoch_axis::last_tooltip(ctx)
    }

    /// Forgets the last tooltip, so a new hover must write one.
    pub fn clear_last_plot_tooltip(ctx: &egui::Context) {
        crate::app::ui::epoch_axis::clear_last_tooltip(ctx);
    }

    /// Whether the plots' node lines are drawn for the current run and scope.
    pub fn node_lines_ready(&self) -> bool {
        !self.views.plots.density.building()
    }

    /// The node detail's thumbnails last frame: (probe rows shown, training samples in the
    /// set).
    pub fn rendered_set_sample(&self) -> Option<(Vec<usize>, u64)> {
        self.views.detail.rendered_thumbs.clone()
    }

    /// Classes with a line in the node detail's push-by-class plot last frame.
    pub fn rendered_push_classes(&self) -> Vec<usize> {
        self.views.detail.rendered_push_classes.clone()
    }

    /// Where mean φ = `value` at `position` (epochs) was drawn in the node detail's
    /// push-by-class plot last frame.
    pub fn push_plot_position(&self, position: f64, value: f32) -> Option<Pos2> {
        let (t, axis) = self.views.detail.push_plot.as_ref()?;
        Some(t.position_from_point(&PlotPoint::new(axis.x(position), f64::from(value))))
    }

    /// Where the Grid tab drew the plot of the cell of preset `name` last frame.
    pub fn grid_cell_rect(&self, name: &str) -> Option<Rect> {
        self.views
            .grid_tab
            .cells
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, r)| *r)
    }

    /// The corner text (final test accuracy) the Grid tab drew for preset `name` last frame.
    pub fn grid_corner_text(&self, name: &str) -> Option<String> {
        self.views
            .grid_tab
            .corners
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.clone())
    }
}

/// The window's layout, for the layout tests (shell).
impl SampleSetsApp {
    /// Where the centre panel (plots, node map) was drawn last frame.
    pub fn centre_rect(&self) -> Option<egui::Rect> {
        self.views.centre
    }
}
