//! Compare: two or more runs side by side (or overlaid) on linked epoch axes, their node maps
//! at the same epoch, and a table of what differs and how they ended.

use std::collections::HashMap;

use egui::{Id, RichText, Ui};
use egui_plot::{Legend, Line, LineStyle};

use super::colormap::layer_color;
use super::node_map::{MapAction, NodeMapView};
use super::plots::{EpochAxis, band, epoch_marker, xy};
use super::runs::Runs;
use super::state::{RunId, Selection};
use crate::session::{Metric, Session};

/// The compare view and its per-run node map caches.
#[derive(Default)]
pub struct CompareView {
    overlay: bool,
    maps: HashMap<RunId, NodeMapView>,
}

/// Preset fields of `s` as (name, value) for the table.
fn fields(s: &Session) -> Vec<(&'static str, String)> {
    let p = &s.preset;
    vec![
        ("preset", p.name.clone()),
        ("hidden layers", p.hidden_layers.to_string()),
        ("width", p.width.to_string()),
        ("loss", p.loss.short_name().to_string()),
        ("batch size", p.batch_size.to_string()),
        ("epochs", p.epochs.to_string()),
        ("learning rate", p.adam.lr.to_string()),
        ("seed", p.seed.to_string()),
        ("probe size", p.probe_size.to_string()),
        ("init", format!("{:?}", p.init)),
    ]
}

impl CompareView {
    /// Draws the comparison of the runs marked "compare"; returns what the user did in a node
    /// map (node, epoch or metric, applied to every run).
    pub fn ui(&mut self, ui: &mut Ui, runs: &Runs, sel: &Selection) -> MapAction {
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
            return MapAction::default();
        }
        let mut clicked = MapAction::default();
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
                .map(|(_, _, s)| f64::from(s.preset.epochs.max(s.epochs_done()).max(1)))
                .fold(1.0, f64::max);
            let axis = EpochAxis {
                group: Id::unique(("compare-axis", x_max.to_bits())),
                x_max,
            };
            let metrics = [
                None,
                Some(Metric::ActivationFraction),
                Some(Metric::Predictability),
                Some(Metric::Informativeness),
            ];
            let title = |m: Option<Metric>| m.map_or("test accuracy", Metric::label);
            if self.overlay {
                let w = ui.available_width();
                for m in metrics {
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
                                                .map(|b| [f64::from(b.epoch), f64::from(b.mean)])
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
                            epoch_marker(p, sel.epoch);
                        });
                }
            } else {
                let n = chosen.len();
                let w = (ui.available_width() / n as f32 - 8.0).max(120.0);
                ui.columns(n, |cols| {
                    for (c, (id, _, s)) in cols.iter_mut().zip(&chosen) {
                        c.strong(s.title());
                        for m in metrics {
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
                                    epoch_marker(p, sel.epoch);
                                });
                        }
                    }
                });
            }
            ui.separator();
            ui.strong(format!("Node maps at epoch {}", sel.epoch));
            let n = chosen.len();
            ui.columns(n, |cols| {
                for (c, (id, version, s)) in cols.iter_mut().zip(&chosen) {
                    c.label(RichText::new(&s.preset.name).small());
                    let mut local = sel.clone();
                    local.set_epoch(s, sel.epoch);
                    local.follow_latest = false;
                    if local
                        .node
                        .is_some_and(|(l, j)| s.widths.get(l).is_none_or(|&w| j >= w))
                    {
                        local.node = None;
                    }
                    let map = self.maps.entry(*id).or_default();
                    c.push_id(id.0, |c| {
                        let a = map.ui(c, *id, *version, s, &local, 160.0);
                        clicked.node = a.node.or(clicked.node);
                        clicked.epoch = a.epoch.or(clicked.epoch);
                        clicked.metric = a.metric.or(clicked.metric);
                    });
                }
            });
        });
        clicked
    }

    fn table(&self, ui: &mut Ui, chosen: &[(RunId, u64, &Session)]) {
        let all: Vec<Vec<(&'static str, String)>> =
            chosen.iter().map(|(_, _, s)| fields(s)).collect();
        let max_layers = chosen
            .iter()
            .map(|(_, _, s)| s.widths.len())
            .max()
            .unwrap_or(0);
        egui::Grid::new("compare-table")
            .striped(true)
            .show(ui, |ui| {
                ui.strong("");
                for (id, _, _) in chosen {
                    ui.strong(format!("run {}", id.0));
                }
                ui.end_row();
                for (i, (name, _)) in all[0].iter().enumerate() {
                    let differs = all.iter().any(|f| f[i].1 != all[0][i].1);
                    if !differs && *name != "preset" {
                        continue;
                    }
                    ui.label(*name);
                    for f in &all {
                        ui.label(&f[i].1);
                    }
                    ui.end_row();
                }
                ui.label("final test accuracy");
                for (_, _, s) in chosen {
                    ui.label(
                        s.epochs
                            .last()
                            .map_or("–".into(), |e| format!("{:.2}%", e.test_accuracy * 100.0)),
                    );
                }
                ui.end_row();
                ui.label("best test accuracy");
                for (_, _, s) in chosen {
                    let best = s.epochs.iter().map(|e| (e.test_accuracy, e.epoch)).fold(
                        None,
                        |b: Option<(f64, u32)>, x| match b {
                            Some(b) if b.0 >= x.0 => Some(b),
                            _ => Some(x),
                        },
                    );
                    ui.label(best.map_or("–".into(), |(a, e)| {
                        format!("{:.2}% (epoch {e})", a * 100.0)
                    }));
                }
                ui.end_row();
                for l in 0..max_layers {
                    ui.label(format!("layer {} peak activation fraction", l + 1));
                    for (_, _, s) in chosen {
                        ui.label(
                            s.peak_fraction_epoch(l)
                                .map_or("–".into(), |(e, v)| format!("{v:.3} at epoch {e}")),
                        );
                    }
                    ui.end_row();
                }
            });
    }
}
