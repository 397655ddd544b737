//! Linked plots over epochs for the selected run: loss, accuracy and the per-layer bands of
//! activation fraction, predictability, informativeness and churn.

use egui::{Color32, Id, Ui, Vec2b};
use egui_plot::{FilledArea, Legend, Line, Plot, PlotPoints, PlotTransform, PlotUi, Text, VLine};

use super::colormap::layer_color;
use super::node_density::{NodeDensity, NodeLines, epoch_range, extent_on_screen, node_at};
use super::state::{RunId, Selection};
use crate::session::{BandPoint, Metric, Session};

/// What a click in a plot asked for.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct PlotAction {
    /// Select this epoch everywhere.
    pub epoch: Option<u32>,
    /// Select this node everywhere (a node line was clicked).
    pub node: Option<(usize, usize)>,
}

/// Series drawn from one version of a session.
struct Series {
    train_loss: Vec<[f64; 2]>,
    test_loss: Vec<[f64; 2]>,
    train_acc: Vec<[f64; 2]>,
    test_acc: Vec<[f64; 2]>,
    /// `[metric][layer]` bands.
    bands: Vec<Vec<Vec<BandPoint>>>,
}

/// Run, version and node of the cached selected-node series.
type SelectedKey = (RunId, u64, (usize, usize));

/// A titled plot body.
type Tile<'a> = (&'static str, Box<dyn FnOnce(&mut PlotUi<'_>) + 'a>);

/// The plots and their caches.
#[derive(Default)]
pub struct PlotsView {
    key: Option<(RunId, u64)>,
    series: Option<Series>,
    density: NodeDensity,
    /// Each metric plot's transform in the last frame (`Metric::ALL` order): sizes the node
    /// line textures and lets tests find where a value is drawn.
    pub metric_transforms: Vec<Option<PlotTransform>>,
    /// The selected node's series `[metric]`, for (run, version, node).
    selected: Option<(SelectedKey, Vec<Vec<[f64; 2]>>)>,
    /// Epoch drawn as the selected one in the last frame (for tests and linked views).
    pub rendered_epoch: Option<u32>,
}

/// (epoch, value) points of a per-epoch quantity of `s`; a non-finite value (a diverged
/// run's loss) becomes NaN, which the plot leaves out of its bounds (infinity squashed it).
pub fn xy(s: &Session, f: impl Fn(&crate::session::EpochRecord) -> f64) -> Vec<[f64; 2]> {
    s.epochs
        .iter()
        .map(|e| {
            [
                f64::from(e.epoch),
                Some(f(e)).filter(|v| v.is_finite()).unwrap_or(f64::NAN),
            ]
        })
        .collect()
}

impl Series {
    fn new(s: &Session) -> Self {
        let layers = s.widths.len();
        Self {
            train_loss: xy(s, |e| e.train_loss),
            test_loss: xy(s, |e| e.test_loss),
            train_acc: xy(s, |e| e.train_accuracy),
            test_acc: xy(s, |e| e.test_accuracy),
            bands: Metric::ALL
                .iter()
                .map(|&m| (0..layers).map(|l| s.layer_band(l, m)).collect())
                .collect(),
        }
    }
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
    let xs: Vec<f64> = points.iter().map(|b| f64::from(b.epoch)).collect();
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
        .map(|b| [f64::from(b.epoch), f64::from(b.mean)])
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
    /// Right end (the preset's epoch count, or more if the run went further).
    pub x_max: f64,
}

impl EpochAxis {
    /// The axis for `session` shown as run `run`.
    pub fn new(run: RunId, s: &Session) -> Self {
        let x_max = f64::from(s.preset.epochs.max(s.epochs_done()).max(1));
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

    /// The epoch the pointer hovers, clicks or drags on `resp`, if any: hovering an epoch in
    /// one plot selects it in every view.
    pub fn clicked_epoch(resp: &egui_plot::PlotResponse<()>) -> Option<u32> {
        let r = &resp.response;
        let pos = if r.clicked() || r.dragged() {
            r.interact_pointer_pos()?
        } else if r.hovered() {
            r.hover_pos()?
        } else {
            return None;
        };
        let x = resp.transform.value_from_position(pos).x;
        Some(x.round().max(0.0) as u32)
    }
}

/// The selected-epoch marker.
pub fn epoch_marker(plot_ui: &mut PlotUi<'_>, epoch: u32) {
    plot_ui.vline(
        VLine::new("", f64::from(epoch))
            .color(Color32::from_rgb(255, 200, 60))
            .width(1.0),
    );
}

impl PlotsView {
    fn refresh(&mut self, run: RunId, version: u64, s: &Session) {
        if self.key != Some((run, version)) {
            self.key = Some((run, version));
            self.series = Some(Series::new(s));
        }
    }

    /// Whether node-line textures are up to date (none wanted counts as ready).
    pub fn node_lines_ready(&self) -> bool {
        !self.density.building()
    }

    /// Draws the six plots; returns what a click asked for.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        (run, version): (RunId, u64),
        s: &Session,
        sel: &Selection,
        node_lines: &mut NodeLines,
        height: f32,
    ) -> PlotAction {
        self.refresh(run, version, s);
        let mut action = PlotAction::default();
        let axis = EpochAxis::new(run, s);
        ui.horizontal_wrapped(|ui| {
            ui.strong(format!("Plots · epoch {}", sel.epoch));
            ui.label("node lines:");
            for choice in [NodeLines::Off, NodeLines::Layer, NodeLines::All] {
                ui.selectable_value(node_lines, choice, choice.label())
                    .on_hover_text(
                        "Every node's line, drawn as a density (brighter where more lines \
                         pass); hover a line to see its node, click to select it",
                    );
            }
            if self.density.building() {
                ui.spinner().on_hover_text("drawing node lines");
            }
            // One colour key for all band plots (per-plot legends would cover nine-layer plots).
            ui.label(egui::RichText::new("bands = layer mean and q1..q3:").small());
            for l in 0..s.widths.len() {
                ui.label(
                    egui::RichText::new(format!("layer {}", l + 1))
                        .small()
                        .color(layer_color(l)),
                );
            }
            if let Some((l, j)) = sel.node {
                ui.label(
                    egui::RichText::new(format!("white: {}", super::state::node_label(l, j)))
                        .small()
                        .color(Color32::WHITE),
                );
            }
        });
        let Some(series) = self.series.take() else {
            return action;
        };
        let line_layer = sel.node.map_or(0, |n| n.0);
        let selected: Option<Vec<Vec<[f64; 2]>>> = sel.node.map(|node| {
            let key = (run, version, node);
            if self.selected.as_ref().is_none_or(|c| c.0 != key) {
                let series = Metric::ALL
                    .iter()
                    .map(|&m| {
                        s.node_series(node.0, node.1, m)
                            .into_iter()
                            .map(|(e, v)| [f64::from(e), f64::from(v)])
                            .collect()
                    })
                    .collect();
                self.selected = Some((key, series));
            }
            self.selected
                .as_ref()
                .map(|c| c.1.clone())
                .unwrap_or_default()
        });
        let selected_name = sel
            .node
            .map(|(l, j)| super::state::node_label(l, j))
            .unwrap_or_default();
        let spacing = ui.spacing().item_spacing;
        let w = ((ui.available_width() - spacing.x) / 2.0).max(100.0);
        let h = ((height - 3.0 * spacing.y - 20.0) / 3.0).max(60.0);
        let scope = *node_lines;
        let line_layers = scope.layers(line_layer, s.widths.len());
        if scope == NodeLines::Off {
            self.density = NodeDensity::default();
        } else {
            // Sized from where the data extent was drawn last frame (the whole plot at first).
            let screen = self
                .metric_transforms
                .first()
                .copied()
                .flatten()
                .zip(epoch_range(s))
                .map_or(egui::vec2(w - 30.0, h - 20.0), |(t, r)| {
                    extent_on_screen(&t, r)
                });
            self.density
                .refresh(ui.ctx(), (run, version), s, scope, line_layer, screen);
        }
        let density = &self.density;
        let layers = s.widths.len();
        let mut tiles: Vec<Tile<'_>> = Vec::new();
        for (name, train, test) in [
            ("loss", &series.train_loss, &series.test_loss),
            ("accuracy", &series.train_acc, &series.test_acc),
        ] {
            tiles.push((
                name,
                Box::new(move |p: &mut PlotUi<'_>| {
                    p.line(Line::new(format!("train {name}"), train.clone()).color(layer_color(0)));
                    p.line(
                        Line::new(format!("test {name}"), test.clone())
                            .color(layer_color(1))
                            .style(egui_plot::LineStyle::dashed_loose()),
                    );
                }),
            ));
        }
        let mut transforms = vec![None; Metric::ALL.len()];
        for (mi, &m) in Metric::ALL.iter().enumerate() {
            let bands = &series.bands[mi];
            let own = selected.as_ref().and_then(|l| l.get(mi));
            let own_name = selected_name.as_str();
            let line_layers = line_layers.clone();
            tiles.push((
                match m {
                    Metric::ActivationFraction => "activation fraction",
                    Metric::Predictability => "predictability",
                    Metric::Informativeness => "informativeness",
                    Metric::Churn => "churn",
                },
                Box::new(move |p: &mut PlotUi<'_>| {
                    if scope != NodeLines::Off {
                        // The image spans values 0..1, so auto bounds show every line.
                        density.draw(p, mi);
                    }
                    let alpha = (0.6 / layers.max(1) as f32).clamp(0.07, 0.22);
                    for (l, b) in bands.iter().enumerate().take(layers) {
                        band_with_alpha(p, &format!("layer {}", l + 1), b, layer_color(l), alpha);
                    }
                    if let Some(pts) = own {
                        p.line(
                            Line::new(own_name, pts.clone())
                                .color(Color32::WHITE)
                                .width(2.0)
                                .id("selected-node"),
                        );
                    }
                    if scope != NodeLines::Off && p.response().hovered() {
                        hovered_node_line(p, (s, density), m, line_layers);
                    }
                }),
            ));
        }
        egui::Grid::new("plots-grid")
            .spacing(spacing)
            .show(ui, |ui| {
                for (i, (name, draw)) in tiles.into_iter().enumerate() {
                    ui.vertical(|ui| {
                        ui.label(egui::RichText::new(name).small());
                        let mut plot = axis.plot(name, w, h);
                        if i == 1 {
                            plot = plot.legend(
                                Legend::default()
                                    .position(egui_plot::Corner::RightBottom)
                                    .background_alpha(0.6),
                            );
                        } else if i == 0 {
                            plot = plot.legend(Legend::default().background_alpha(0.6));
                        }
                        let epoch = sel.epoch;
                        let resp = plot.show(ui, move |p| {
                            draw(p);
                            epoch_marker(p, epoch);
                        });
                        if let Some(e) = EpochAxis::clicked_epoch(&resp) {
                            action.epoch = Some(e);
                        }
                        if i >= 2 {
                            let m = Metric::ALL[i - 2];
                            transforms[i - 2] = Some(resp.transform);
                            if scope != NodeLines::Off
                                && resp.response.clicked()
                                && let Some(pos) = resp.response.interact_pointer_pos()
                                && let Some(node) =
                                    pick(&resp.transform, pos, (s, &self.density), m, &line_layers)
                            {
                                action.node = Some(node);
                            }
                        }
                    });
                    if i % 2 == 1 {
                        ui.end_row();
                    }
                }
            });
        self.metric_transforms = transforms;
        self.series = Some(series);
        self.rendered_epoch = Some(sel.epoch);
        action
    }
}

/// How close (in points) the pointer must be to a node line to hover or click it.
const PICK_POINTS: f64 = 5.0;

/// The node whose line passes under screen position `pos` of a plot drawn with `t`.
fn pick(
    t: &PlotTransform,
    pos: egui::Pos2,
    (s, density): (&Session, &NodeDensity),
    m: Metric,
    layers: &std::ops::Range<usize>,
) -> Option<(usize, usize)> {
    let at = t.value_from_position(pos);
    let tolerance = PICK_POINTS / t.dpos_dvalue_y().abs().max(f64::EPSILON);
    node_at(s, density, m, layers.clone(), at, tolerance)
}

/// Highlights the node line under the pointer and names its node.
fn hovered_node_line(
    p: &mut PlotUi<'_>,
    (s, density): (&Session, &NodeDensity),
    m: Metric,
    layers: std::ops::Range<usize>,
) {
    let Some(pos) = p.response().hover_pos() else {
        return;
    };
    let Some((l, j)) = pick(p.transform(), pos, (s, density), m, &layers) else {
        return;
    };
    let pts: PlotPoints<'_> = s
        .node_series(l, j, m)
        .into_iter()
        .map(|(e, v)| [f64::from(e), f64::from(v)])
        .collect();
    let color = Color32::from_rgb(255, 200, 60);
    p.line(
        Line::new("", pts)
            .color(color)
            .width(1.5)
            .allow_hover(false),
    );
    // Beside the pointer, not under it, on a dark patch so it reads over the lines.
    let at = p
        .transform()
        .value_from_position(pos + egui::vec2(10.0, -8.0));
    p.text(
        Text::new(
            "",
            at,
            egui::RichText::new(super::state::node_label(l, j))
                .color(color)
                .background_color(Color32::from_black_alpha(200)),
        )
        .anchor(egui::Align2::LEFT_BOTTOM),
    );
}
