//! Pieces every epoch plot shares: the linked epoch axis, layer bands, the selected-epoch
//! marker. The plots, the node detail and Compare draw with these.

use egui::{Color32, Id, Vec2b};
use egui_plot::{FilledArea, Line, Plot, PlotPoints, PlotUi, VLine};

use super::colors::MARKER;
use crate::app::runs::RunId;
use crate::session::{BandPoint, Session};

/// (position, value) points of a per-record quantity of `s`, placed at each record's
/// position on the epoch axis (`step / steps_per_epoch`, epochs); a non-finite value (a
/// diverged run's loss) becomes NaN, which the plot leaves out of its bounds (infinity
/// squashed it).
pub fn xy(s: &Session, f: impl Fn(&crate::session::EpochRecord) -> f64) -> Vec<[f64; 2]> {
    let spe = s.steps_per_epoch();
    s.epochs
        .iter()
        .map(|e| {
            [
                e.position(spe),
                Some(f(e)).filter(|v| v.is_finite()).unwrap_or(f64::NAN),
            ]
        })
        .collect()
}

/// Draws a layer band (q1..q3 filled) and its mean line, both named `name`.
pub fn band(plot_ui: &mut PlotUi<'_>, name: &str, points: &[BandPoint], color: Color32) {
    band_with_alpha(plot_ui, name, points, color, 0.22);
}

/// [`band`] with the fill's opacity (lower when many bands overlap).
pub fn band_with_alpha(
    plot_ui: &mut PlotUi<'_>,
    name: &str,
    points: &[BandPoint],
    color: Color32,
    alpha: f32,
) {
    if points.is_empty() {
        return;
    }
    let xs: Vec<f64> = points.iter().map(|b| b.position).collect();
    let q1: Vec<f64> = points.iter().map(|b| f64::from(b.q1)).collect();
    let q3: Vec<f64> = points.iter().map(|b| f64::from(b.q3)).collect();
    // Unnamed: the legend shows the mean line's colour (a named band would show grey).
    plot_ui.add(
        FilledArea::new("", &xs, &q1, &q3)
            .fill_color(color.gamma_multiply(alpha))
            .id(("band", name, color.to_array())),
    );
    let mean: PlotPoints<'_> = points
        .iter()
        .map(|b| [b.position, f64::from(b.mean)])
        .collect();
    plot_ui.line(Line::new(name, mean).color(color).width(1.5).id((
        "mean",
        name,
        color.to_array(),
    )));
}

/// The shared epoch axis: every linked plot gets the same id group and x range.
pub struct EpochAxis {
    /// Link group.
    pub group: Id,
    /// Right end, epochs (the preset's epoch count, or more if the run went further).
    pub x_max: f64,
}

impl EpochAxis {
    /// The axis for `session` shown as run `run`.
    pub fn new(run: RunId, s: &Session) -> Self {
        let last = s
            .record_position(s.epochs.len().saturating_sub(1))
            .unwrap_or(0.0);
        let x_max = f64::from(s.preset.epochs).max(last).max(1.0);
        Self {
            group: Id::unique(("epoch-axis", run.0, x_max.to_bits())),
            x_max,
        }
    }

    /// A plot on this axis: fixed x range, linked axis and cursor, no pan or zoom (hovering,
    /// clicking or dragging selects an epoch instead).
    pub fn plot<'a>(&self, name: &str, width: f32, height: f32) -> Plot<'a> {
        Plot::new((name, self.group))
            .width(width)
            .height(height)
            .include_x(0.0)
            .include_x(self.x_max)
            .auto_bounds(Vec2b::new(true, true))
            .allow_drag(false)
            .allow_zoom(false)
            .allow_scroll(false)
            .allow_boxed_zoom(false)
            .allow_double_click_reset(false)
            .link_axis(self.group, Vec2b::new(true, false))
            .link_cursor(self.group, Vec2b::new(true, false))
            .y_axis_min_width(28.0)
    }

    /// The position (epochs) the pointer clicks or drags on `resp`, if any. Hovering only
    /// shows the linked cursor: it never changes the selection.
    pub fn clicked_position(resp: &egui_plot::PlotResponse<()>) -> Option<f64> {
        let r = &resp.response;
        if !(r.clicked() || r.dragged()) {
            return None;
        }
        let pos = r.interact_pointer_pos()?;
        Some(resp.transform.value_from_position(pos).x.max(0.0))
    }
}

/// Step of the record of `s` nearest to `position` (epochs): what a click on a plot selects.
pub fn nearest_record_step(s: &Session, position: f64) -> Option<u64> {
    nearest_record(s, position)
        .and_then(|i| s.epochs.get(i))
        .map(|e| e.step)
}

/// Index of the record of `s` nearest to `position` (epochs).
pub fn nearest_record(s: &Session, position: f64) -> Option<usize> {
    let spe = s.steps_per_epoch();
    let i = s.epochs.partition_point(|e| e.position(spe) < position);
    let d = |k: usize| (s.epochs[k].position(spe) - position).abs();
    [i.checked_sub(1), (i < s.epochs.len()).then_some(i)]
        .into_iter()
        .flatten()
        .min_by(|&a, &b| d(a).total_cmp(&d(b)))
}

/// The selected-record marker at `position` (epochs).
pub fn epoch_marker(plot_ui: &mut PlotUi<'_>, position: f64) {
    plot_ui.vline(VLine::new("", position).color(MARKER).width(1.0));
}
