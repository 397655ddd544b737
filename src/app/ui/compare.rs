//! Compare: two or more runs side by side (or overlaid) on one linked epoch axis, their node
//! maps at the same position, and a table of what differs and how they ended
//! ([`crate::session::compare`], the same comparison the command line's tests cover).

use std::collections::HashMap;

use egui::{RichText, Ui};
use egui_plot::LineStyle;

use super::RunView;
use super::colors::{NEUTRAL, layer_color};
use super::epoch_axis::{
    self, EpochAxis, LegendEntry, PlotSpec, Series, ValueFormat, epoch_text, xy,
};
use super::node_map::NodeMapView;
use crate::app::command::{Command, CommandSender};
use crate::app::runs::{RunId, Runs};
use crate::app::selection::{Selection, position_label, step_at};
use crate::session::compare::compare;
use crate::session::{Metric, Session};

/// Most height of a node map's cells in Compare (they sit under the plots without scrolling).
const MAP_H: f32 = 150.0;
/// Room a node map needs besides its cells: title, slider, colour legend.
const MAP_CHROME_H: f32 = 78.0;

/// The compare view and its per-run node map caches.
#[derive(Default)]
pub struct CompareView {
    overlay: bool,
    maps: HashMap<RunId, NodeMapView>,
    /// Runs that differ only in seed drawn as one group (mean, min..max band).
    by_seed: bool,
    seed_groups: super::seed_groups::SeedGroups,
}

/// A quantity Compare plots for every run.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Quantity {
    TestAccuracy,
    TestLoss,
    Metric(Metric),
}

impl Quantity {
    fn all() -> Vec<Quantity> {
        let mut v = vec![Quantity::TestAccuracy, Quantity::TestLoss];
        v.extend(Metric::headline().map(Quantity::Metric));
        v.push(Quantity::Metric(Metric::Overlap));
        v
    }

    fn title(self) -> &'static str {
        match self {
            Quantity::TestAccuracy => "test accuracy",
            Quantity::TestLoss => "test loss",
            Quantity::Metric(m) => m.info().name,
        }
    }

    /// Short: the plots are small.
    fn y_title(self) -> &'static str {
        match self {
            Quantity::TestAccuracy => "accuracy (%)",
            Quantity::TestLoss => "loss",
            Quantity::Metric(Metric::ActivationFraction) => "fraction",
            Quantity::Metric(m) => m.info().short,
        }
    }

    /// The run's series of this quantity: one line, or one band per layer.
    fn series(self, s: &Session, run_name: &str, style: LineStyle, overlay: bool) -> Vec<Series> {
        let layers = s.widths.len();
        let named = |what: &str| {
            if overlay {
                format!("{run_name} · {what}")
            } else {
                what.to_string()
            }
        };
        match self {
            Quantity::TestAccuracy => vec![
                Series::line(
                    named("test accuracy"),
                    NEUTRAL,
                    xy(s, |e| e.test_accuracy * 100.0),
                )
                .key(run_name)
                .style(style)
                .format(ValueFormat::Percent),
            ],
            Quantity::TestLoss => vec![
                Series::line(named("test loss"), NEUTRAL, xy(s, |e| e.test_loss))
                    .key(run_name)
                    .style(style),
            ],
            Quantity::Metric(m) => (0..layers)
                .map(|l| {
                    let b = s.layer_band(l, m);
                    let mut series = Series::band(
                        named(&format!("layer {}", l + 1)),
                        layer_color(l, layers),
                        &b,
                    )
                    .key(format!("layer {}", l + 1))
                    .style(style);
                    if overlay {
                        // Overlaid bands of several runs would be a wash: mean lines only.
                        series.band = None;
                    }
                    series
                })
                .collect(),
        }
    }
}

/// Line style of the `i`-th compared run in the overlay (runs by style, layers by colour).
fn run_style(i: usize) -> LineStyle {
    [
        LineStyle::Solid,
        LineStyle::dashed_loose(),
        LineStyle::dotted_loose(),
        LineStyle::dashed_dense(),
    ][i % 4]
}

impl CompareView {
    /// Draws the comparison of the runs marked "compare"; a node, record or metric picked in
    /// one node map is sent as a command and applies to every run (records by position).
    pub fn ui(&mut self, ui: &mut Ui, runs: &Runs, sel: &Selection, tx: &CommandSender) {
        let chosen: Vec<(RunId, u64, &Session)> = runs
            .entries
            .iter()
            .filter(|e| e.compare)
            .filter_map(|e| Some((e.id, e.version, e.session.as_ref()?)))
            .filter(|(_, _, s)| !s.epochs.is_empty())
            .collect();
        if chosen.len() < 2 {
            ui.heading("Compare");
            ui.label("Tick “compare” on two or more runs in the runs list.");
            return;
        }
        // The selected step as a position: counted in the selected run's minibatches (the
        // handler's SelectPosition does the same), else the first compared run's.
        let position = runs
            .entries
            .iter()
            .find(|e| Some(e.id) == sel.run)
            .and_then(|e| e.session.as_ref())
            .or_else(|| chosen.first().map(|c| c.2))
            .map_or(0.0, |s| sel.step_position(s));
        let sessions: Vec<&Session> = chosen.iter().map(|c| c.2).collect();
        let axis = EpochAxis::for_sessions(ui.ctx(), ("compare", 0), &sessions);
        ui.horizontal_wrapped(|ui| {
            ui.heading("Compare");
            ui.selectable_value(&mut self.overlay, false, "side by side");
            ui.selectable_value(&mut self.overlay, true, "overlaid");
            ui.separator();
            epoch_axis::controls(ui);
            ui.checkbox(&mut self.by_seed, "seeds as groups")
                .on_hover_text("Runs that differ only in seed: mean with the min..max band");
        });
        // Unique even for two runs of one preset (legend entries hide by name).
        let names: Vec<String> = chosen
            .iter()
            .map(|c| format!("{} · run {}", c.2.preset.name, c.0.0))
            .collect();
        ui.horizontal_wrapped(|ui| {
            let max_layers = sessions.iter().map(|s| s.widths.len()).max().unwrap_or(0);
            let mut entries: Vec<LegendEntry> = (0..max_layers)
                .map(|l| {
                    LegendEntry::new(
                        format!("layer {}", l + 1),
                        layer_color(l, max_layers),
                        LineStyle::Solid,
                    )
                })
                .collect();
            if self.overlay {
                for (i, name) in names.iter().enumerate() {
                    entries.push(LegendEntry::new(name.clone(), NEUTRAL, run_style(i)));
                }
            }
            epoch_axis::legend(ui, &entries);
        });
        // The node maps stay in view under the plots: up to a quarter of the height for cells.
        let map_h = (ui.available_height() * 0.25).clamp(48.0, MAP_H);
        let maps_h = map_h + MAP_CHROME_H + 24.0;
        let plots_h = (ui.available_height() - maps_h).max(160.0);
        let roomy = ui.available_height() > 700.0;
        let label = |p: f64| format!("epoch {}", epoch_text(p));
        egui::ScrollArea::vertical()
            .id_salt("compare-scroll")
            .max_height(plots_h)
            .show(ui, |ui| {
                egui::CollapsingHeader::new("How the runs differ and ended")
                    .default_open(roomy)
                    .show(ui, |ui| self.table(ui, &chosen));
                let quantities = Quantity::all();
                let spacing = ui.spacing().item_spacing.x;
                if self.by_seed {
                    self.seed_groups.ui(ui, &chosen, &axis);
                } else if self.overlay {
                    let cols = ((ui.available_width() / 360.0).floor() as usize).clamp(1, 3);
                    let w =
                        (ui.available_width() - spacing * (cols as f32 - 1.0)) / cols as f32 - 2.0;
                    egui::Grid::new("cmp-overlay").show(ui, |ui| {
                        for (k, &q) in quantities.iter().enumerate() {
                            ui.vertical(|ui| {
                                ui.label(RichText::new(q.title()).small().strong());
                                let series: Vec<Series> = chosen
                                    .iter()
                                    .enumerate()
                                    .flat_map(|(i, (_, _, s))| {
                                        q.series(s, &names[i], run_style(i), true)
                                    })
                                    .collect();
                                let spec = PlotSpec::new(
                                    format!("cmp-overlay-{}", q.title()),
                                    w,
                                    150.0,
                                    q.y_title(),
                                );
                                show_linked(ui, &axis, &spec, &series, position, &label, tx);
                            });
                            if (k + 1) % cols == 0 {
                                ui.end_row();
                            }
                        }
                    });
                } else {
                    let n = chosen.len();
                    let avail = epoch_axis::visible_width(ui) - 12.0;
                    let w = (avail - spacing * (n as f32 - 1.0)) / n as f32 - 2.0;
                    egui::Grid::new("cmp-side").show(ui, |ui| {
                        for (_, _, s) in &chosen {
                            ui.label(RichText::new(s.title()).strong());
                        }
                        ui.end_row();
                        for &q in &quantities {
                            for (i, (id, _, s)) in chosen.iter().enumerate() {
                                ui.vertical(|ui| {
                                    ui.label(RichText::new(q.title()).small());
                                    let series = q.series(s, &names[i], LineStyle::Solid, false);
                                    let spec = PlotSpec::new(
                                        format!("cmp-{}-{}", id.0, q.title()),
                                        w.max(120.0),
                                        130.0,
                                        q.y_title(),
                                    );
                                    show_linked(ui, &axis, &spec, &series, position, &label, tx);
                                });
                            }
                            ui.end_row();
                        }
                    });
                }
            });
        ui.separator();
        ui.strong(format!("Node maps at epoch {}", epoch_text(position)));
        let n = chosen.len();
        ui.columns(n, |cols| {
            for (c, (id, version, s)) in cols.iter_mut().zip(&chosen) {
                c.label(RichText::new(&s.preset.name).small());
                let mut local = sel.clone();
                local.set_step(s, step_at(s, position));
                local.follow_latest = false;
                if local
                    .node
                    .is_some_and(|(l, j)| s.widths.get(l).is_none_or(|&w| j >= w))
                {
                    local.node = None;
                }
                let map = self.maps.entry(*id).or_default();
                c.push_id(id.0, |c| {
                    let view = RunView {
                        id: *id,
                        version: *version,
                        session: s,
                        sel: &local,
                    };
                    map.ui(c, view, map_h, tx, &|x, _| Command::SelectPosition(x));
                });
            }
        });
    }

    fn table(&self, ui: &mut Ui, chosen: &[(RunId, u64, &Session)]) {
        let sessions: Vec<&Session> = chosen.iter().map(|(_, _, s)| *s).collect();
        let cmp = compare(&sessions);
        let max_layers = cmp
            .runs
            .iter()
            .map(|r| r.peak_fraction.len())
            .max()
            .unwrap_or(0);
        let percent = |a: f64| {
            if a.is_finite() {
                format!("{:.2}%", a * 100.0)
            } else {
                "–".into()
            }
        };
        egui::Grid::new("compare-table")
            .striped(true)
            .show(ui, |ui| {
                ui.strong("");
                for (id, _, _) in chosen {
                    ui.strong(format!("run {}", id.0));
                }
                ui.end_row();
                ui.label("run");
                for r in &cmp.runs {
                    ui.label(&r.title);
                }
                ui.end_row();
                for (name, values) in &cmp.differing_fields {
                    ui.label(name);
                    for v in values {
                        ui.label(v);
                    }
                    ui.end_row();
                }
                ui.label("final test accuracy");
                for r in &cmp.runs {
                    ui.label(percent(r.final_test_accuracy));
                }
                ui.end_row();
                ui.label("best test accuracy");
                for r in &cmp.runs {
                    let (epoch, a) = r.best_test_accuracy;
                    ui.label(if a.is_finite() {
                        format!("{} (epoch {epoch})", percent(a))
                    } else {
                        "–".into()
                    });
                }
                ui.end_row();
                for l in 0..max_layers {
                    ui.label(format!("layer {} peak activation fraction", l + 1));
                    for (_, _, s) in chosen {
                        // By record: a peak inside epoch 1 is named by its position and step.
                        let peak = s
                            .layer_band(l, Metric::ActivationFraction)
                            .into_iter()
                            .filter(|p| p.mean.is_finite())
                            .fold(None, |best: Option<(u64, f32)>, p| match best {
                                Some(b) if b.1 >= p.mean => Some(b),
                                _ => Some((p.step, p.mean)),
                            });
                        ui.label(match peak {
                            Some((step, v)) => {
                                format!("{v:.3} at {}", position_label(step, s.steps_per_epoch()))
                            }
                            None => "–".into(),
                        });
                    }
                    ui.end_row();
                }
            });
    }
}

/// One of Compare's plots on the shared `axis` with the selected `position` marked; a click
/// selects that position in every compared run.
fn show_linked(
    ui: &mut Ui,
    axis: &EpochAxis,
    spec: &PlotSpec,
    series: &[Series],
    position: f64,
    label: &dyn Fn(f64) -> String,
    tx: &CommandSender,
) {
    let out = axis.show(ui, spec, series, &[], Some(position), label, |_, _| {});
    if let Some(x) = out.clicked {
        tx.send(Command::SelectPosition(x));
    }
}
