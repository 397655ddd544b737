//! Pieces every plot over the epoch axis shares: the axis itself (linear or log, zoomed or
//! whole, growing with a live run), tick marks and axis titles, series drawn as lines and
//! layer bands, the hover tooltip, the selected-record marker, drag-to-zoom and click-to-
//! select. The plots, the node detail and Compare draw with these.
//!
//! Records sit at their position on the epoch axis, `step / steps_per_epoch` (epochs, a
//! decimal inside epoch 1). The plot's own x coordinate is that position on the linear axis
//! and `log10(1 + position * steps_per_epoch)` (log10 of 1 + the step) on the log axis, whose
//! tick labels are still epochs.
//!
//! What the user did to the axis (scale, zoom, hidden legend entries) is view state shared by
//! every plot; it lives in egui's memory under one id ([`AxisState::load`]), as egui keeps a
//! plot's own bounds.

use std::cell::RefCell;
use std::collections::BTreeSet;

use egui::{Color32, Id, Sense, Stroke, Ui, Vec2b, pos2, vec2};
use egui_plot::{
    AxisHints, FilledArea, GridInput, GridMark, HoverPosition, Line, LineStyle, Plot, PlotPoints,
    PlotTransform, PlotUi, Span, VLine,
};

use super::colors::SELECTED_RECORD;
use crate::app::runs::RunId;
use crate::app::selection::position_label;
use crate::session::{BandPoint, Session};

/// How positions map to the plot's x coordinate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AxisScale {
    /// x = position (epochs).
    #[default]
    Linear,
    /// x = log10(1 + step): the records inside epoch 1 get room.
    Log,
}

/// What the user did to the epoch axis, shared by every plot on it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AxisState {
    /// Linear or log.
    pub scale: AxisScale,
    /// The zoomed range (positions, epochs), or `None` for the whole run.
    pub zoom: Option<(f64, f64)>,
    /// Legend entries switched off ("layer 3", "test"), hidden in every plot.
    pub hidden: BTreeSet<String>,
    /// Where a drag-to-zoom started (position), while the button is held.
    drag_from: Option<f64>,
}

impl AxisState {
    fn id() -> Id {
        Id::unique("sample-sets-epoch-axis")
    }

    /// The shared state from `ctx`'s memory.
    pub fn load(ctx: &egui::Context) -> Self {
        ctx.data(|d| d.get_temp::<Self>(Self::id()))
            .unwrap_or_default()
    }

    /// Stores `self` as the shared state.
    pub fn store(self, ctx: &egui::Context) {
        ctx.data_mut(|d| d.insert_temp(Self::id(), self));
    }

    /// Changes the shared state in `ctx`'s memory.
    pub fn update(ctx: &egui::Context, f: impl FnOnce(&mut Self)) {
        let mut s = Self::load(ctx);
        f(&mut s);
        s.store(ctx);
    }

    /// Whether legend entry `name` is shown.
    pub fn shows(&self, name: &str) -> bool {
        !self.hidden.contains(name)
    }
}

/// One series on a plot: a line at record positions, optionally with a band behind it.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend and tooltip name ("layer 2", "train", "mnist-2x20-ce · layer 1").
    pub name: String,
    /// Legend entry that hides it (usually the name; "layer 2" for every layer-2 line).
    pub key: String,
    /// Line colour.
    pub color: Color32,
    /// Line style (train solid, test dashed; runs in Compare's overlay).
    pub style: LineStyle,
    /// Line width, points.
    pub width: f32,
    /// (position, value) per record; NaN leaves a gap.
    pub points: Vec<[f64; 2]>,
    /// Band behind the line: (q1, q3) per point of `points`.
    pub band: Option<Vec<(f64, f64)>>,
    /// Fill opacity of the band.
    pub band_alpha: f32,
    /// Number format of the tooltip value.
    pub format: ValueFormat,
    /// Values the tooltip gives instead of the drawn ones (a stacked area's own counts), one
    /// per point.
    pub shown_values: Option<Vec<f64>>,
    /// What a value means, added after it in the tooltip (the sign of a push: "loss falls as
    /// the node's output grows").
    pub note: Option<fn(f64) -> &'static str>,
    /// Set when the line is a mean over seeds and `band` their min..max: the tooltip says
    /// over how many seeds, and the band's range.
    pub over_seeds: Option<OverSeeds>,
}

/// How a series that is a mean over a group's seeds reads in the tooltip.
#[derive(Debug, Clone, PartialEq)]
pub struct OverSeeds {
    /// Seeds in the group.
    pub group: usize,
    /// Per point of the series: seeds that reached that record (the mean and band are over
    /// them).
    pub counts: Vec<usize>,
}

/// How a value reads in the tooltip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueFormat {
    /// Three significant digits (0.512, 0.000123, 2.31).
    Plain,
    /// Percent with two decimals (97.12 %), for values already multiplied by 100.
    Percent,
    /// A count (no decimals).
    Count,
}

impl ValueFormat {
    fn text(self, v: f64) -> String {
        if !v.is_finite() {
            return "–".into();
        }
        match self {
            ValueFormat::Percent => format!("{v:.2} %"),
            ValueFormat::Count => format!("{v:.0}"),
            ValueFormat::Plain => {
                let a = v.abs();
                if a == 0.0 {
                    "0".into()
                } else if a >= 100.0 {
                    format!("{v:.1}")
                } else if a >= 0.01 {
                    format!("{v:.3}")
                } else {
                    format!("{v:.3e}")
                }
            }
        }
    }
}

impl Series {
    /// A plain line named `name` (also its legend key).
    pub fn line(name: impl Into<String>, color: Color32, points: Vec<[f64; 2]>) -> Self {
        let name = name.into();
        Self {
            key: name.clone(),
            name,
            color,
            style: LineStyle::Solid,
            width: 1.5,
            points,
            band: None,
            band_alpha: 0.2,
            format: ValueFormat::Plain,
            shown_values: None,
            note: None,
            over_seeds: None,
        }
    }

    /// A layer band's mean line with its q1..q3 band.
    pub fn band(name: impl Into<String>, color: Color32, points: &[BandPoint]) -> Self {
        let mut s = Self::line(
            name,
            color,
            points
                .iter()
                .map(|b| [b.position, f64::from(b.mean)])
                .collect(),
        );
        s.band = Some(
            points
                .iter()
                .map(|b| (f64::from(b.q1), f64::from(b.q3)))
                .collect(),
        );
        s
    }

    /// The same with legend key `key`.
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }

    /// The same drawn with `style`.
    pub fn style(mut self, style: LineStyle) -> Self {
        self.style = style;
        self
    }

    /// The same drawn `width` points wide.
    pub fn width(mut self, width: f32) -> Self {
        self.width = width;
        self
    }

    /// The same with band opacity `alpha`.
    pub fn band_alpha(mut self, alpha: f32) -> Self {
        self.band_alpha = alpha;
        self
    }

    /// The same with values shown as `format`.
    pub fn format(mut self, format: ValueFormat) -> Self {
        self.format = format;
        self
    }

    /// The same with `note` saying what each value means in the tooltip.
    pub fn note(mut self, note: fn(f64) -> &'static str) -> Self {
        self.note = Some(note);
        self
    }

    /// Index of the point nearest `position` (within `tolerance` epochs), if any.
    fn index_near(&self, position: f64, tolerance: f64) -> Option<usize> {
        let i = self.points.partition_point(|p| p[0] < position);
        [i.checked_sub(1), (i < self.points.len()).then_some(i)]
            .into_iter()
            .flatten()
            .filter(|&k| (self.points[k][0] - position).abs() <= tolerance)
            .min_by(|&a, &b| {
                (self.points[a][0] - position)
                    .abs()
                    .total_cmp(&(self.points[b][0] - position).abs())
            })
    }

    /// The value at point `k` as the tooltip gives it.
    fn value_at(&self, k: usize) -> Option<f64> {
        match &self.shown_values {
            Some(v) => v.get(k).copied(),
            None => self.points.get(k).map(|p| p[1]),
        }
    }

    /// The tooltip's line for point `k`: "layer 1: 0.512", with the note, or for a mean over
    /// seeds "layer 1: 0.512 (mean of 2 seeds, min..max 0.501..0.523)".
    fn tooltip_line(&self, k: usize) -> Option<String> {
        let v = self.value_at(k)?;
        let mut line = format!("{}: {}", self.name, self.format.text(v));
        if let Some(note) = self.note.filter(|_| v.is_finite()) {
            line.push_str(", ");
            line.push_str(note(v));
        }
        if let Some(o) = &self.over_seeds {
            let n = o.counts.get(k).copied().unwrap_or(0);
            let (lo, hi) = self
                .band
                .as_ref()
                .and_then(|b| b.get(k))
                .copied()
                .unwrap_or((f64::NAN, f64::NAN));
            let of = if n == o.group {
                format!("{n} seeds")
            } else {
                // A seed that has not reached this record is left out.
                format!("{n} of {} seeds", o.group)
            };
            if n == 1 {
                line.push_str(&format!(" ({of}: only one run reached this record)"));
            } else {
                line.push_str(&format!(
                    " (mean of {of}, min..max {}..{})",
                    self.format.text(lo),
                    self.format.text(hi)
                ));
            }
        }
        Some(line)
    }
}

/// A mark on the time line (an event): a short vertical tick at the top of the plot, named in
/// the tooltip when the pointer is near it.
#[derive(Debug, Clone)]
pub struct EventMark {
    /// Position, epochs.
    pub position: f64,
    /// What happened ("layer 2: mean activation fraction peaks").
    pub text: String,
    /// Colour of the tick.
    pub color: Color32,
}

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

/// The shared epoch axis of one frame: every plot on it gets the same x range and link group.
#[derive(Debug, Clone)]
pub struct EpochAxis {
    /// Cursor link group.
    pub group: Id,
    /// Right end of the whole axis, epochs: the preset's epoch count (or more if the run went
    /// further); the last record while the run is live, so the axis grows with the data.
    pub x_max: f64,
    /// Linear or log.
    pub scale: AxisScale,
    /// Steps per epoch of the log scale (the selected run's).
    pub steps_per_epoch: f64,
    /// Zoomed range (positions), if zoomed.
    pub zoom: Option<(f64, f64)>,
    /// Legend entries hidden.
    pub hidden: BTreeSet<String>,
}

/// What the user did on one plot this frame.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlotOutcome {
    /// Position (epochs) clicked: select the record there.
    pub clicked: Option<f64>,
    /// Position hovered (only a cursor; never a selection).
    pub hovered: Option<f64>,
    /// The plot's transform (tests find drawn values with it).
    pub transform: Option<PlotTransform>,
}

/// How one plot looks: its id, size, titles and the values its y range must include.
#[derive(Debug, Clone)]
pub struct PlotSpec {
    /// Unique id within the axis group.
    pub id: String,
    /// Width, points.
    pub width: f32,
    /// Height, points.
    pub height: f32,
    /// Y axis title with its unit ("activation fraction", "loss (cross-entropy)").
    pub y_title: String,
    /// Values the y range always includes (e.g. 0..1 behind node lines).
    pub y_include: Vec<f64>,
    /// Whether to draw the x axis title (the bottom row of a grid of plots).
    pub x_title: bool,
}

impl PlotSpec {
    /// A plot `width` x `height` with y title `y_title`.
    pub fn new(id: impl Into<String>, width: f32, height: f32, y_title: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            width,
            height,
            y_title: y_title.into(),
            y_include: Vec::new(),
            x_title: true,
        }
    }

    /// The same with the y range including `values`.
    pub fn include_y(mut self, values: impl IntoIterator<Item = f64>) -> Self {
        self.y_include.extend(values);
        self
    }
}

impl EpochAxis {
    /// The axis for `session` shown as run `run`, with the shared state of `ctx`.
    pub fn new(ctx: &egui::Context, run: RunId, s: &Session) -> Self {
        Self::for_sessions(ctx, ("run", run.0), &[s])
    }

    /// One axis for several sessions (Compare), linked under `salt`.
    pub fn for_sessions(ctx: &egui::Context, salt: (&str, u64), runs: &[&Session]) -> Self {
        let state = AxisState::load(ctx);
        let x_max = runs
            .iter()
            .map(|s| {
                let last = s
                    .record_position(s.epochs.len().saturating_sub(1))
                    .unwrap_or(0.0);
                if s.status == crate::session::RunStatus::Running {
                    // Live: the axis grows with the data (a few steps at least).
                    last.max(4.0 / s.steps_per_epoch() as f64)
                } else {
                    f64::from(s.preset.epochs).max(last)
                }
            })
            .fold(0.0, f64::max);
        let steps_per_epoch = runs.first().map_or(469, |s| s.steps_per_epoch()) as f64;
        Self {
            group: Id::unique(("epoch-axis", salt)),
            x_max: if x_max > 0.0 { x_max } else { 1.0 },
            scale: state.scale,
            steps_per_epoch,
            zoom: state.zoom,
            hidden: state.hidden,
        }
    }

    /// Plot x coordinate of `position` (epochs).
    pub fn x(&self, position: f64) -> f64 {
        match self.scale {
            AxisScale::Linear => position,
            AxisScale::Log => {
                (position.max(0.0) * self.steps_per_epoch).ln_1p() / std::f64::consts::LN_10
            }
        }
    }

    /// Position (epochs) at plot x coordinate `x`.
    pub fn position(&self, x: f64) -> f64 {
        match self.scale {
            AxisScale::Linear => x,
            AxisScale::Log => (x * std::f64::consts::LN_10).exp_m1() / self.steps_per_epoch,
        }
    }

    /// The x range shown (plot coordinates): the zoom, or the whole axis, with a small margin.
    pub fn x_range(&self) -> (f64, f64) {
        let (a, b) = self.zoom.unwrap_or((0.0, self.x_max));
        let (a, b) = (self.x(a), self.x(b.max(a)));
        let pad = ((b - a) * 0.02).max(1e-9);
        (a - pad, b + pad)
    }

    /// The positions shown (zoom or whole axis).
    pub fn visible(&self) -> (f64, f64) {
        self.zoom.unwrap_or((0.0, self.x_max))
    }

    /// Whether legend key `key` is shown.
    pub fn shows(&self, key: &str) -> bool {
        !self.hidden.contains(key)
    }

    /// A plot on this axis: ticks on both axes, titles, the linked cursor; egui_plot's own
    /// pan, zoom and reset are off (drag-to-zoom and double-click reset act on every plot at
    /// once, see [`EpochAxis::show`]).
    fn plot<'a>(&self, spec: &PlotSpec) -> Plot<'a> {
        let scale = self.scale;
        let spe = self.steps_per_epoch;
        let x_title = if !spec.x_title {
            String::new()
        } else if scale == AxisScale::Log {
            "epoch (log scale)".into()
        } else {
            "epoch".into()
        };
        let this = self.clone();
        let x_axis = AxisHints::new_x()
            .label(x_title)
            .label_spacing(40.0..=56.0)
            .formatter(move |mark, _| match scale {
                AxisScale::Linear => tick_text(mark.value, mark.step_size),
                AxisScale::Log => epoch_text(this.position(mark.value)),
            });
        let y_axis = AxisHints::new_y()
            .label(spec.y_title.clone())
            .label_spacing(18.0..=24.0)
            .formatter(|mark, _| tick_text(mark.value, mark.step_size));
        let plot = Plot::new((spec.id.as_str(), self.group))
            .width(spec.width)
            .height(spec.height)
            .allow_drag(false)
            .allow_zoom(false)
            .allow_scroll(false)
            .allow_boxed_zoom(false)
            .allow_double_click_reset(false)
            .show_x(true)
            .show_y(false)
            .link_cursor(self.group, Vec2b::new(true, false))
            .custom_x_axes(vec![x_axis])
            .custom_y_axes(vec![y_axis])
            .grid_spacing(8.0..=300.0)
            .y_grid_spacer(|input| nice_marks(input, 22.0));
        match scale {
            AxisScale::Linear => plot.x_grid_spacer(|input| nice_marks(input, 52.0)),
            AxisScale::Log => plot.x_grid_spacer(move |input| log_marks(input, spe, 44.0)),
        }
    }

    /// Draws `series` (bands first, then lines), the selected-record marker at `selected`,
    /// `marks` and whatever `extra` adds, on a plot shaped by `spec`. Hovering shows the linked
    /// cursor and a tooltip naming the position (`label` turns a position into its record's
    /// name) and each series' value there; a click returns its position; dragging across the
    /// plot zooms every plot to the dragged range and a double-click resets the zoom.
    #[allow(clippy::too_many_arguments)]
    pub fn show(
        &self,
        ui: &mut Ui,
        spec: &PlotSpec,
        series: &[Series],
        marks: &[EventMark],
        selected: Option<f64>,
        label: &dyn Fn(f64) -> String,
        extra: impl FnOnce(&mut PlotUi<'_>, &EpochAxis),
    ) -> PlotOutcome {
        let (x0, x1) = self.x_range();
        let y_range = self.y_range(series, &spec.y_include);
        let tooltip: RefCell<Option<String>> = RefCell::new(None);
        let shown: Vec<&Series> = series.iter().filter(|s| self.shows(&s.key)).collect();
        let drag_from = AxisState::load(ui.ctx()).drag_from;
        let plot = self.plot(spec).label_formatter(|pos: &HoverPosition<'_>| {
            let x = match pos {
                HoverPosition::NearDataPoint { position, .. } => position.x,
                HoverPosition::Elsewhere { position } => position.x,
            };
            let text = self.tooltip(self.position(x), &shown, marks, label);
            *tooltip.borrow_mut() = Some(text.clone());
            Some(text)
        });
        let resp = plot.show(ui, |p| {
            p.set_plot_bounds_x(x0..=x1);
            p.set_plot_bounds_y(y_range.0..=y_range.1);
            for s in &shown {
                if let Some(band) = &s.band {
                    let xs: Vec<f64> = s.points.iter().map(|q| self.x(q[0])).collect();
                    let q1: Vec<f64> = band.iter().map(|b| b.0).collect();
                    let q3: Vec<f64> = band.iter().map(|b| b.1).collect();
                    p.add(
                        FilledArea::new("", &xs, &q1, &q3)
                            .fill_color(s.color.gamma_multiply(s.band_alpha))
                            .allow_hover(false)
                            .id(("band", &s.name)),
                    );
                }
            }
            extra(p, self);
            for s in &shown {
                let pts: PlotPoints<'_> = s.points.iter().map(|q| [self.x(q[0]), q[1]]).collect();
                p.line(
                    Line::new(s.name.clone(), pts)
                        .color(s.color)
                        .style(s.style)
                        .width(s.width)
                        .id(("line", &s.name)),
                );
            }
            for m in marks {
                let x = self.x(m.position);
                let top = y_range.1;
                let len = (y_range.1 - y_range.0) * 0.12;
                p.line(
                    Line::new("", vec![[x, top], [x, top - len]])
                        .color(m.color)
                        .width(2.0)
                        .allow_hover(false),
                );
            }
            if let Some(x) = selected {
                p.vline(
                    VLine::new("", self.x(x))
                        .color(SELECTED_RECORD)
                        .style(LineStyle::dashed_dense())
                        .width(1.0)
                        .allow_hover(false),
                );
            }
            if let (Some(from), Some(now)) = (drag_from, p.pointer_coordinate())
                && p.response().dragged()
            {
                let (a, b) = (self.x(from), now.x);
                p.span(
                    Span::new("", a.min(b)..=a.max(b))
                        .fill(Color32::from_white_alpha(30))
                        .border_width(0.0),
                );
            }
        });
        let r = &resp.response;
        let t = resp.transform;
        let at = |pos: egui::Pos2| self.position(t.value_from_position(pos).x).max(0.0);
        let mut out = PlotOutcome {
            transform: Some(t),
            ..PlotOutcome::default()
        };
        if r.double_clicked() {
            AxisState::update(ui.ctx(), |s| s.zoom = None);
        } else if r.clicked() {
            out.clicked = r.interact_pointer_pos().map(at);
        }
        if r.drag_started() {
            let from = ui.input(|i| i.pointer.press_origin()).map(at);
            AxisState::update(ui.ctx(), |s| s.drag_from = from);
        }
        if r.drag_stopped() {
            let to = r
                .interact_pointer_pos()
                .or_else(|| ui.input(|i| i.pointer.latest_pos()));
            AxisState::update(ui.ctx(), |s| {
                if let (Some(a), Some(b)) = (s.drag_from.take(), to.map(at)) {
                    // A few points of drag is a shaky click, not a range.
                    let wide = (t.position_from_point_x(self.x(a))
                        - t.position_from_point_x(self.x(b)))
                    .abs()
                        > 6.0;
                    if wide {
                        s.zoom = Some((a.min(b), a.max(b)));
                    }
                }
            });
        }
        if r.hovered() {
            out.hovered = r.hover_pos().map(at);
        }
        if let Some(text) = tooltip.into_inner() {
            ui.ctx()
                .data_mut(|d| d.insert_temp(Id::unique("epoch-axis-last-tooltip"), text));
        }
        out
    }

    /// The y range of a plot: the shown series' values (and bands) in the visible x range,
    /// `include`d values, and a margin; never empty.
    fn y_range(&self, series: &[Series], include: &[f64]) -> (f64, f64) {
        let (a, b) = self.visible();
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        let mut take = |v: f64| {
            if v.is_finite() {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        };
        for s in series.iter().filter(|s| self.shows(&s.key)) {
            // One point either side of the window too, so lines leaving it stay in range.
            let first = s.points.partition_point(|p| p[0] < a).saturating_sub(1);
            let last = (s.points.partition_point(|p| p[0] <= b) + 1).min(s.points.len());
            for i in first..last {
                take(s.points[i][1]);
                if let Some((q1, q3)) = s.band.as_ref().and_then(|band| band.get(i)) {
                    take(*q1);
                    take(*q3);
                }
            }
        }
        for &v in include {
            take(v);
        }
        if !(lo.is_finite() && hi.is_finite()) {
            return (0.0, 1.0);
        }
        let span = hi - lo;
        let pad = if span > 0.0 {
            span * 0.06
        } else {
            (lo.abs() * 0.05).max(1e-6)
        };
        (lo - pad, hi + pad)
    }

    /// The tooltip at `position`: the record there, each series' value, marks nearby.
    fn tooltip(
        &self,
        position: f64,
        series: &[&Series],
        marks: &[EventMark],
        label: &dyn Fn(f64) -> String,
    ) -> String {
        // Snap to the nearest point of any series: what the values belong to.
        let nearest = series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p[0]))
            .min_by(|a, b| (a - position).abs().total_cmp(&(b - position).abs()));
        let at = nearest.unwrap_or(position);
        let mut lines = vec![label(at)];
        // Only values of points at the same record (a series without it says nothing).
        let tolerance = 1e-9_f64.max(at.abs() * 1e-9);
        for s in series {
            if s.name.is_empty() {
                continue;
            }
            if let Some(line) = s.index_near(at, tolerance).and_then(|k| s.tooltip_line(k)) {
                lines.push(line);
            }
        }
        // Marks within a few points of the pointer.
        let near = (self.x_range().1 - self.x_range().0) * 0.015;
        for m in marks {
            if (self.x(m.position) - self.x(position)).abs() <= near {
                lines.push(format!("event: {}", m.text));
            }
        }
        lines.join("\n")
    }
}

/// The width a plot may take at the cursor of `ui`: the space left on the line, but never past
/// the visible edge (a wider widget above, such as a table, widens a panel's content beyond
/// what the panel shows, and a plot sized from that is cut off at its right end).
pub fn visible_width(ui: &Ui) -> f32 {
    let visible = ui.clip_rect().right() - ui.cursor().left();
    ui.available_width().min(visible).max(0.0)
}

/// The last tooltip a plot on the epoch axis showed (read by the GUI tests).
pub fn last_tooltip(ctx: &egui::Context) -> Option<String> {
    ctx.data(|d| d.get_temp::<String>(Id::unique("epoch-axis-last-tooltip")))
}

/// Forgets the last tooltip (the GUI tests check that a new hover writes one).
pub fn clear_last_tooltip(ctx: &egui::Context) {
    ctx.data_mut(|d| d.remove::<String>(Id::unique("epoch-axis-last-tooltip")));
}

/// Tick marks at 1, 2 or 5 times a power of ten, at least `min_px` apart (labelled), with
/// unlabelled minor marks between. Egui's default spacer steps by powers of ten only, which
/// left 100-point-high plots with one labelled tick or none.
pub fn nice_marks(input: GridInput, min_px: f64) -> Vec<GridMark> {
    let (lo, hi) = input.bounds;
    // base_step_size is the value of 8 points (the grid spacing's minimum).
    let per_px = input.base_step_size / 8.0;
    if !(per_px > 0.0 && per_px.is_finite() && hi > lo) {
        return Vec::new();
    }
    let step = nice_step(per_px * min_px);
    let leading = step / 10f64.powf(step.log10().floor());
    let minor = if (leading - 2.0).abs() < 0.5 {
        step / 4.0
    } else {
        step / 5.0
    };
    let mut marks = Vec::new();
    let first = (lo / minor).ceil() as i64;
    let last = (hi / minor).floor() as i64;
    if last - first > 2000 {
        return Vec::new();
    }
    for k in first..=last {
        let v = k as f64 * minor;
        let major = ((v / step).round() * step - v).abs() < minor * 0.01;
        marks.push(GridMark {
            value: if major { (v / step).round() * step } else { v },
            step_size: if major { step } else { minor },
        });
    }
    marks
}

/// The smallest 1, 2 or 5 times a power of ten at least `v`.
fn nice_step(v: f64) -> f64 {
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|&s| s >= v * (1.0 - 1e-9))
        .unwrap_or(10.0 * p)
}

/// Ticks of the log axis (x = log10(1 + position * spe)): positions 0, and 1, 2, 5 times
/// powers of ten epochs (down to one step), labelled where at least `min_px` apart.
fn log_marks(input: GridInput, spe: f64, min_px: f64) -> Vec<GridMark> {
    let (lo, hi) = input.bounds;
    let per_px = input.base_step_size / 8.0;
    if !(per_px > 0.0 && per_px.is_finite() && hi > lo && spe > 0.0) {
        return Vec::new();
    }
    let x = |p: f64| (p * spe).ln_1p() / std::f64::consts::LN_10;
    let mut decades = vec![0.0];
    let mut all = vec![0.0];
    let mut p = 10f64.powf((1.0 / spe).log10().floor());
    while x(p) <= hi + 1.0 && p < 1e7 {
        for m in [1.0, 2.0, 5.0] {
            let q = m * p;
            if q * spe >= 1.0 - 1e-9 {
                all.push(q);
                if m == 1.0 {
                    decades.push(q);
                }
            }
        }
        p *= 10.0;
    }
    // The smallest distance (plot x) between neighbouring marks of `set` in view.
    let gap = |set: &[f64]| {
        set.windows(2)
            .filter(|w| x(w[1]) >= lo && x(w[0]) <= hi)
            .map(|w| x(w[1]) - x(w[0]))
            .fold(f64::INFINITY, f64::min)
    };
    let min_x = min_px * per_px;
    let labelled: &[f64] = if gap(&all) >= min_x { &all } else { &decades };
    let label_step = gap(labelled).max(min_x);
    let mut marks: Vec<GridMark> = all
        .iter()
        .map(|&q| GridMark {
            value: x(q),
            // Unlabelled marks get a step too small for a label (a faint grid line only).
            step_size: if labelled.contains(&q) {
                label_step
            } else {
                per_px * 10.0
            },
        })
        .filter(|m| m.value >= lo && m.value <= hi)
        .collect();
    marks.sort_by(|a, b| a.value.total_cmp(&b.value));
    marks
}

/// A tick value as text, with the decimals its step needs.
fn tick_text(v: f64, step: f64) -> String {
    let decimals = if step > 0.0 && step < 1.0 {
        (-step.log10()).ceil().max(0.0) as usize
    } else {
        0
    };
    let v = if v.abs() < step * 1e-6 { 0.0 } else { v };
    format!("{v:.decimals$}")
}

/// A position in epochs as a short tick label: "0", "0.01", "0.5", "2", "100".
pub fn epoch_text(p: f64) -> String {
    if p <= 0.0 {
        return "0".into();
    }
    // Rounded to 3 significant digits; Display drops trailing zeros.
    let digits = (2 - p.log10().floor() as i32).max(0);
    let scale = 10f64.powi(digits);
    format!("{}", (p * scale).round() / scale)
}

/// The record name of the record at or nearest `position` of `s`, for tooltips.
pub fn record_text(s: &Session, position: f64) -> String {
    match nearest_record(s, position).and_then(|i| s.epochs.get(i)) {
        Some(e) => position_label(e.step, s.steps_per_epoch()),
        None => crate::app::ui::epoch_axis::epoch_text(position),
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

/// One legend entry: a line sample in its colour and style, and its name.
#[derive(Debug, Clone)]
pub struct LegendEntry {
    /// The key it hides ("layer 2", "test").
    pub key: String,
    /// Text shown.
    pub text: String,
    /// Sample colour.
    pub color: Color32,
    /// Sample style.
    pub style: LineStyle,
}

impl LegendEntry {
    /// An entry whose text is its key.
    pub fn new(key: impl Into<String>, color: Color32, style: LineStyle) -> Self {
        let key = key.into();
        Self {
            text: key.clone(),
            key,
            color,
            style,
        }
    }
}

/// A legend shared by every plot on the axis: each entry shows its line's colour and style;
/// a click hides or shows the entry in every plot, a double-click shows only it (again: all).
pub fn legend(ui: &mut Ui, entries: &[LegendEntry]) {
    let state = AxisState::load(ui.ctx());
    for e in entries {
        let hidden = state.hidden.contains(&e.key);
        let resp = legend_entry(ui, e, hidden);
        if resp.double_clicked() {
            AxisState::update(ui.ctx(), |s| {
                let others: Vec<String> = entries
                    .iter()
                    .filter(|o| o.key != e.key)
                    .map(|o| o.key.clone())
                    .collect();
                let solo =
                    !s.hidden.contains(&e.key) && others.iter().all(|k| s.hidden.contains(k));
                for k in others {
                    if solo {
                        s.hidden.remove(&k);
                    } else {
                        s.hidden.insert(k);
                    }
                }
                s.hidden.remove(&e.key);
            });
        } else if resp.clicked() {
            AxisState::update(ui.ctx(), |s| {
                if !s.hidden.remove(&e.key) {
                    s.hidden.insert(e.key.clone());
                }
            });
        }
    }
}

fn legend_entry(ui: &mut Ui, e: &LegendEntry, hidden: bool) -> egui::Response {
    let font = egui::TextStyle::Small.resolve(ui.style());
    let text_color = if hidden {
        ui.visuals().weak_text_color()
    } else {
        ui.visuals().text_color()
    };
    let galley = ui
        .painter()
        .layout_no_wrap(e.text.clone(), font, text_color);
    let sample_w = 22.0;
    let size = vec2(sample_w + 4.0 + galley.size().x, galley.size().y.max(12.0));
    let (rect, resp) = ui.allocate_exact_size(size, Sense::click());
    let y = rect.center().y;
    let color = if hidden {
        e.color.gamma_multiply(0.25)
    } else {
        e.color
    };
    let stroke = Stroke::new(2.0, color);
    let (a, b) = (pos2(rect.left(), y), pos2(rect.left() + sample_w, y));
    match e.style {
        LineStyle::Solid => {
            ui.painter().line_segment([a, b], stroke);
        }
        LineStyle::Dashed { .. } => {
            ui.painter()
                .extend(egui::Shape::dashed_line(&[a, b], stroke, 5.0, 3.0));
        }
        LineStyle::Dotted { .. } => {
            ui.painter()
                .extend(egui::Shape::dotted_line(&[a, b], color, 4.0, 1.2));
        }
    }
    ui.painter().galley(
        pos2(rect.left() + sample_w + 4.0, rect.top()),
        galley,
        text_color,
    );
    resp.widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::Button, true, format!("legend {}", e.text))
    });
    resp.on_hover_text("click: hide or show in every plot · double-click: show only this")
}

/// The axis controls: linear / log switch, the zoom with its reset, and what the mouse does.
pub fn controls(ui: &mut Ui) {
    let state = AxisState::load(ui.ctx());
    ui.label(egui::RichText::new("epoch axis:").small())
        .on_hover_text("drag across a plot: zoom every plot · double-click: whole run · click: select the record");
    for (scale, name) in [(AxisScale::Linear, "linear"), (AxisScale::Log, "log")] {
        if ui
            .selectable_label(state.scale == scale, name)
            .on_hover_text(
                "log: x = log10(1 + step), so the records inside the first epoch get room",
            )
            .clicked()
        {
            AxisState::update(ui.ctx(), |s| s.scale = scale);
        }
    }
    if let Some((a, b)) = state.zoom {
        if ui
            .small_button(format!(
                "zoom {}–{}: show all",
                epoch_text(a),
                epoch_text(b)
            ))
            .on_hover_text("show the whole run (or double-click a plot)")
            .clicked()
        {
            AxisState::update(ui.ctx(), |s| s.zoom = None);
        }
    } else if ui.available_width() > 260.0 {
        // Said where there is room; the axis label's hover says it always.
        ui.label(
            egui::RichText::new("drag: zoom · double-click: reset · click: select")
                .small()
                .weak(),
        );
    }
}
