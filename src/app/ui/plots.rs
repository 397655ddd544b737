//! Linked plots over epochs for the selected run: loss, accuracy and the per-layer bands of
//! every metric ([`Metric::ALL`]), with optional node lines.

use egui::{Color32, Ui};
use egui_plot::{Legend, Line, PlotPoints, PlotTransform, PlotUi, Text};

use super::RunView;
use super::colors::{MARKER, layer_color};
use super::epoch_axis::{EpochAxis, band_with_alpha, epoch_marker, nearest_record_step, xy};
use super::node_lines::{NodeDensity, node_at};
use crate::app::command::{Command, CommandSender};
use crate::app::node_lines::{epoch_range, extent_on_screen};
use crate::app::runs::RunId;
use crate::app::selection::{node_label, record_label};
use crate::app::settings::{NodeLines, Setting};
use crate::session::{BandPoint, Metric, Session};

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
    /// Node-line textures.
    pub density: NodeDensity,
    /// Each metric plot's transform in the last frame (`Metric::ALL` order): sizes the node
    /// line textures and lets tests find where a value is drawn.
    pub metric_transforms: Vec<Option<PlotTransform>>,
    /// The selected node's series `[metric]`, for (run, version, node).
    selected: Option<(SelectedKey, Vec<Vec<[f64; 2]>>)>,
    /// Step of the record drawn as the selected one in the last frame (read by the GUI tests).
    #[cfg_attr(not(any(test, feature = "testing")), allow(dead_code))]
    pub rendered_step: Option<u64>,
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

impl PlotsView {
    fn refresh(&mut self, run: RunId, version: u64, s: &Session) {
        if self.key != Some((run, version)) {
            self.key = Some((run, version));
            self.series = Some(Series::new(s));
        }
    }

    /// Draws `view`'s loss, accuracy and metric plots with the node lines of `scope`; clicks
    /// and hovers send selection commands.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        view: RunView<'_>,
        scope: NodeLines,
        height: f32,
        tx: &CommandSender,
    ) {
        let (run, version, s, sel) = view.parts();
        self.refresh(run, version, s);
        let sel_idx = sel.record_index(s).unwrap_or(0);
        let sel_position = s.record_position(sel_idx).unwrap_or(0.0);
        let sel_step = s.epochs.get(sel_idx).map_or(0, |e| e.step);
        let axis = EpochAxis::new(run, s);
        ui.horizontal_wrapped(|ui| {
            ui.strong(format!("Plots · {}", record_label(s, sel_idx)));
            ui.label("node lines:");
            for choice in NodeLines::ALL {
                if ui
                    .selectable_label(scope == choice, choice.label())
                    .on_hover_text(
                        "Every node's line, drawn as a density (brighter where more lines \
                         pass); hover a line to see its node, click to select it",
                    )
                    .clicked()
                {
                    tx.send(Command::Set(Setting::NodeLines(choice)));
                }
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
                    egui::RichText::new(format!("white: {}", node_label(l, j)))
                        .small()
                        .color(Color32::WHITE),
                );
            }
        });
        let Some(series) = self.series.take() else {
            return;
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
                            .map(|(x, v)| [x, f64::from(v)])
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
        let selected_name = sel.node.map(|(l, j)| node_label(l, j)).unwrap_or_default();
        let spacing = ui.spacing().item_spacing;
        let w = ((ui.available_width() - spacing.x) / 2.0).max(100.0);
        let h = ((height - 3.0 * spacing.y - 20.0) / 3.0).max(60.0);
        let line_layers = scope.layers(line_layer, s.widths.len());
        if scope == NodeLines::Off {
            self.density.clear();
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
            if let Some(job) =
                self.density
                    .refresh(ui.ctx(), (run, version), s, scope, line_layer, screen)
            {
                tx.send(Command::DrawNodeLines(Box::new(job)));
            }
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
                m.info().name,
                Box::new(move |p: &mut PlotUi<'_>| {
                    if scope != NodeLines::Off {
                        // The image spans values 0..1, so auto bounds show every line.
                        density.draw(p, m);
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
                        let title = ui.label(egui::RichText::new(name).small());
                        if let Some(m) = i.checked_sub(2).and_then(|k| Metric::ALL.get(k)) {
                            title.on_hover_text(format!(
                                "{}: {}; high: {}",
                                m.label(),
                                m.info().unit,
                                m.info().high_means
                            ));
                        }
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
                        let resp = plot.show(ui, move |p| {
                            draw(p);
                            epoch_marker(p, sel_position);
                        });
                        if let Some(step) = EpochAxis::clicked_position(&resp)
                            .and_then(|x| nearest_record_step(s, x))
                        {
                            tx.send(Command::SelectStep(step));
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
                                tx.send(Command::SelectNode(Some(node)));
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
        self.rendered_step = Some(sel_step);
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
        .map(|(x, v)| [x, f64::from(v)])
        .collect();
    let color = MARKER;
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
            egui::RichText::new(node_label(l, j))
                .color(color)
                .background_color(Color32::from_black_alpha(200)),
        )
        .anchor(egui::Align2::LEFT_BOTTOM),
    );
}
