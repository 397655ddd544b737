//! Findings: whether the selected run shows what Haasbroek & Davel (SACAIR 2020) observed,
//! with the numbers behind each verdict ([`crate::session::findings`]): the same table as
//! `sample-sets findings`, which the copy buttons give as text or CSV.

use std::path::PathBuf;

use egui::{Color32, RichText, Ui};

use super::RunView;
use super::colors::layer_color;
use crate::app::command::{Command, CommandSender};
use crate::app::runs::RunId;
use crate::session::findings::{Findings, SHRINK_AT_LEAST, findings};

/// Colour of a verdict that holds and of one that does not.
const HOLDS: Color32 = Color32::from_rgb(120, 200, 120);
const FAILS: Color32 = Color32::from_rgb(230, 150, 90);

/// The findings panel and the findings of the session version it last showed.
#[derive(Default)]
pub struct FindingsView {
    cache: Option<((RunId, u64), Option<Findings>)>,
}

fn verdict(ui: &mut Ui, holds: bool) {
    let (text, color) = if holds {
        ("holds", HOLDS)
    } else {
        ("does not hold", FAILS)
    };
    ui.label(RichText::new(text).strong().color(color));
}

fn num(ui: &mut Ui, text: String) {
    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
        ui.label(RichText::new(text).small());
    });
}

impl FindingsView {
    /// The findings of `view`'s run; `file` names it in the copied text and CSV. Clicking a
    /// peak selects its record, clicking the most informative node selects the node.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        view: RunView<'_>,
        file: Option<PathBuf>,
        tx: &CommandSender,
    ) {
        let (run, version, s, _) = view.parts();
        if self
            .cache
            .as_ref()
            .is_none_or(|(k, _)| *k != (run, version))
        {
            self.cache = Some(((run, version), findings(s)));
        }
        let Some((_, Some(f))) = &self.cache else {
            ui.label("No records yet.");
            return;
        };
        ui.label(
            RichText::new(format!(
                "{} (seed {}), {} epochs, test accuracy {:.2}%",
                f.preset,
                f.seed,
                f.epochs_done,
                f.final_test_accuracy * 100.0
            ))
            .small(),
        );
        ui.label(
            RichText::new("Mean activation fraction per layer (the share of training samples in a node's set, averaged over the layer's nodes):")
                .small()
                .weak(),
        );
        egui::ScrollArea::horizontal()
            .id_salt("findings-table")
            .show(ui, |ui| {
                egui::Grid::new("findings-grid")
                    .striped(true)
                    .min_col_width(0.0)
                    .spacing([8.0, 2.0])
                    .show(ui, |ui| {
                        for (head, tip) in [
                            ("layer", "hidden layer, 1 = nearest the input"),
                            ("epoch 0", "before training"),
                            ("peak", "largest value; click to select its record"),
                            ("at", "where the peak is: epoch (step)"),
                            ("last", "at the last record"),
                            ("drop", "(peak - last) / peak"),
                            (
                                "shrink",
                                "per epoch: ln(peak / last) / epochs from peak to last",
                            ),
                            (
                                "inform.",
                                "mean informativeness of the layer's nodes at the end",
                            ),
                        ] {
                            ui.label(RichText::new(head).small().strong())
                                .on_hover_text(tip);
                        }
                        ui.end_row();
                        for l in &f.layers {
                            ui.label(
                                RichText::new(l.layer.to_string())
                                    .strong()
                                    .color(layer_color(l.layer.saturating_sub(1), f.layers.len())),
                            );
                            num(ui, format!("{:.3}", l.first));
                            num(ui, format!("{:.3}", l.peak));
                            let at = format!("{:.4} ({})", l.peak_position, l.peak_step);
                            if ui
                                .link(RichText::new(at).small())
                                .on_hover_text("select the peak's record")
                                .clicked()
                            {
                                tx.send(Command::SelectStep(l.peak_step));
                            }
                            num(ui, format!("{:.3}", l.last));
                            num(ui, format!("{:.1}%", l.relative_drop * 100.0));
                            // NaN when the peak is the last record: nothing to shrink yet.
                            num(
                                ui,
                                if l.shrink_rate.is_nan() {
                                    "-".into()
                                } else {
                                    format!("{:.3}", l.shrink_rate)
                                },
                            );
                            num(ui, format!("{:.3}", l.informativeness_last));
                            ui.end_row();
                        }
                    });
            });
        ui.add_space(4.0);
        let growing = f.layers.iter().filter(|l| l.grows_then_shrinks).count();
        ui.horizontal_wrapped(|ui| {
            ui.label(format!(
                "Sets grow, then shrink (peak after the start, last at least {:.0}% below it; {growing} of {} layers):",
                SHRINK_AT_LEAST * 100.0,
                f.layers.len()
            ));
            verdict(ui, f.all_grow_then_shrink);
        });
        ui.horizontal_wrapped(|ui| match f.fastest_shrinking_layer {
            Some(l) => {
                let rate = f.layers.get(l - 1).map_or(f32::NAN, |x| x.shrink_rate);
                ui.label("Fastest shrinking layer:");
                ui.label(
                    RichText::new(format!("layer {l}"))
                        .strong()
                        .color(layer_color(l.saturating_sub(1), f.layers.len())),
                );
                ui.label(format!("({rate:.4} per epoch)"));
            }
            None => {
                ui.label("Fastest shrinking layer: none shrinks");
            }
        });
        let by_depth: Vec<String> = f
            .layers
            .iter()
            .map(|l| format!("layer {} {:.4}", l.layer, l.informativeness_last))
            .collect();
        ui.horizontal_wrapped(|ui| {
            ui.label(format!(
                "Informativeness rises with depth at the end ({}; {} inversion{}):",
                by_depth.join(", "),
                f.informativeness_inversions,
                if f.informativeness_inversions == 1 {
                    ""
                } else {
                    "s"
                }
            ));
            verdict(ui, f.informativeness_rises_with_depth);
        });
        if let Some(t) = f.top_node {
            ui.horizontal_wrapped(|ui| {
                ui.label("Most informative node:");
                if ui
                    .link(format!("layer {} · node {}", t.layer, t.node))
                    .on_hover_text("select this node")
                    .clicked()
                {
                    tx.send(Command::SelectNode(Some((t.layer - 1, t.node))));
                }
                ui.label(format!(
                    "informativeness {:.4} (activation fraction {:.4})",
                    t.informativeness, t.activation_fraction
                ));
            });
        }
        ui.horizontal(|ui| {
            let file = file.unwrap_or_else(|| PathBuf::from(format!("{}.ron", f.preset)));
            if ui
                .button("Copy as text")
                .on_hover_text("the table `sample-sets findings` prints")
                .clicked()
            {
                ui.ctx().copy_text(crate::cli::findings::table(&file, f));
            }
            if ui
                .button("Copy as CSV")
                .on_hover_text("the CSV of `sample-sets findings --csv`")
                .clicked()
            {
                ui.ctx()
                    .copy_text(crate::cli::findings::csv(&[(file.clone(), f.clone())]));
            }
        });
    }
}
