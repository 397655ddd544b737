//! Compare: two or more runs side by side (or overlaid) on linked epoch axes, their node maps
//! at the same epoch, and a table of what differs and how they ended
//! ([`crate::session::compare`], the same comparison the command line's tests cover).

use std::collections::HashMap;

use egui::{Id, RichText, Ui};
use egui_plot::{Legend, Line, LineStyle};

use super::RunView;
use super::colors::layer_color;
use super::epoch_axis::{EpochAxis, band, epoch_marker, xy};
use super::node_map::NodeMapView;
use crate::app::command::{Command, CommandSender};
use crate::app::runs::{RunId, Runs};
use crate::app::selection::{Selection, step_at};
use crate::session::compare::compare;
use crate::session::{Metric, Session};

/// The compare view and its per-run node map caches.
#[derive(Default)]
pub struct CompareView {
    overlay: bool,
    maps: HashMap<RunId, NodeMapView>,
}

impl CompareView {
    /// Draws the comparison of the runs marked "compare"; a node, epoch or metric picked in
    /// one node map is sent as a command and applies to every run (epochs by number).
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
        ui.horizontal(|ui| {
            ui.heading("Compare");
            ui.selectable_value(&mut self.overlay, false, "side by side");
            ui.selectable_value(&mut self.overlay, true, "overlaid");
        });
        egui::ScrollArea::vertical().show(ui, |ui| {
            self.table(ui, &chosen);
            ui.separator();
            let x_max = chosen
                .iter()
                .map(|(_, _, s)| {
                    let last = s.record_position(s.epochs.len().saturating_sub(1));
                    f64::from(s.preset.epochs).max(last.unwrap_or(0.0))
                })
                .fold(1.0, f64::max);
            let axis = EpochAxis {
                group: Id::unique(("compare-axis", x_max.to_bits())),
                x_max,
            };
            let metrics: Vec<Option<Metric>> = std::iter::once(None)
                .chain(Metric::headline().map(Some))
                .collect();
            let title = |m: Option<Metric>| m.map_or("test accuracy", Metric::label);
            if self.overlay {
                let w = ui.available_width();
                for &m in &metrics {
                    ui.label(RichText::new(title(m)).small());
                    axis.plot(&format!("cmp-overlay-{}", title(m)), w, 140.0)
                        .legend(Legend::default().background_alpha(0.6))
                        .show(ui, |p| {
                            let styles = [
                                LineStyle::Solid,
                                LineStyle::dashed_loose(),
                                LineStyle::dotted_loose(),
                            ];
                            for (i, (_, _, s)) in chosen.iter().enumerate() {
                                let style = styles[i % styles.len()];
                                match m {
                                    None => {
                                        let pts = xy(s, |e| e.test_accuracy);
                                        p.line(
                                            Line::new(s.preset.name.clone(), pts)
                                                .color(layer_color(i))
                                                .style(style),
                                        );
                                    }
                                    Some(m) => {
                                        for l in 0..s.widths.len() {
                                            let pts: Vec<[f64; 2]> = s
                                                .layer_band(l, m)
                                                .iter()
                                                .map(|b| [b.position, f64::from(b.mean)])
                                                .collect();
                                            p.line(
                                                Line::new(
                                                    format!("{} · layer {}", s.preset.name, l + 1),
                                                    pts,
                                                )
                                                .color(layer_color(l))
                                                .style(style),
                                            );
                                        }
                                    }
                                }
                            }
                            epoch_marker(p, position);
                        });
                }
            } else {
                let n = chosen.len();
                let w = (ui.available_width() / n as f32 - 8.0).max(120.0);
                ui.columns(n, |cols| {
                    for (c, (id, _, s)) in cols.iter_mut().zip(&chosen) {
                        c.strong(s.title());
                        for &m in &metrics {
                            c.label(RichText::new(title(m)).small());
                            axis.plot(&format!("cmp-{}-{}", id.0, title(m)), w, 120.0)
                                .show(c, |p| {
                                    match m {
                                        None => {
                                            let pts = xy(s, |e| e.test_accuracy);
                                            p.line(
                                                Line::new("test accuracy", pts)
                                                    .color(layer_color(0)),
                                            );
                                        }
                                        Some(m) => {
                                            for l in 0..s.widths.len() {
                                                band(
                                                    p,
                                                    &format!("layer {}", l + 1),
                                                    &s.layer_band(l, m),
                                                    layer_color(l),
                                                );
                                            }
                                        }
                                    }
                                    epoch_marker(p, position);
                                });
                        }
                    }
                });
            }
            ui.separator();
            ui.strong(format!("Node maps at {}", position_text(position)));
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
                        map.ui(c, view, 160.0, tx, &|x, _| Command::SelectPosition(x));
                    });
                }
            });
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
                    for r in &cmp.runs {
                        ui.label(match r.peak_fraction.get(l) {
                            Some((e, v)) if v.is_finite() => format!("{v:.3} at epoch {e}"),
                            _ => "–".into(),
                        });
                    }
                    ui.end_row();
                }
            });
    }
}

/// A position on Compare's shared axis as users read it: "epoch 3" or "epoch 0.27".
fn position_text(position: f64) -> String {
    if (position - position.round()).abs() < 1e-9 {
        format!("epoch {}", position.round())
    } else {
        format!("epoch {position:.3}")
    }
}
