//! The experiment grid (the paper's 3 x 3 shapes with a loss switch) and the custom preset form.

use egui::{RichText, Ui};

use crate::app::command::{Command, CommandSender};
use crate::app::runs::Runs;
use crate::app::settings::Setting;
use crate::app::state::AppState;
use crate::nn::{Init, Loss};
use crate::preset::Preset;

/// Hidden layers of the grid's rows.
pub const ROWS: [usize; 3] = [2, 5, 9];
/// Widths of the grid's columns.
pub const COLS: [usize; 3] = [20, 80, 320];

/// The form holding the preset about to be trained.
pub struct GridView {
    /// Preset being edited (starts as the first grid cell).
    pub form: Preset,
}

impl GridView {
    /// The form on the first embedded preset.
    pub fn new(presets: &[Preset]) -> Self {
        Self {
            form: presets.first().cloned().unwrap_or_else(fallback_preset),
        }
    }

    /// Draws grid and form; Train sends the form's preset.
    pub fn ui(&mut self, ui: &mut Ui, state: &AppState, tx: &CommandSender) {
        ui.heading("Experiment grid");
        if let Err(e) = &state.presets {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        ui.horizontal(|ui| {
            ui.label("Loss:");
            let ce = state.settings.grid_ce;
            if ui.selectable_label(!ce, "MSE").clicked() {
                tx.send(Command::Set(Setting::GridCrossEntropy(false)));
            }
            if ui.selectable_label(ce, "cross-entropy").clicked() {
                tx.send(Command::Set(Setting::GridCrossEntropy(true)));
            }
        });
        let loss = if state.settings.grid_ce { "ce" } else { "mse" };
        egui::Grid::new("experiment-grid")
            .spacing([4.0, 4.0])
            .show(ui, |ui| {
                ui.label("");
                for w in COLS {
                    ui.label(RichText::new(format!("{w} nodes")).small());
                }
                ui.end_row();
                for l in ROWS {
                    ui.label(RichText::new(format!("{l} layers")).small());
                    for w in COLS {
                        let name = format!("mnist-{l}x{w}-{loss}");
                        let acc = final_accuracy(&state.runs, &name);
                        let text = match acc {
                            Some(a) => format!("{l}x{w}\n{:.1}%", a * 100.0),
                            None => format!("{l}x{w}\n–"),
                        };
                        let selected = self.form.name == name;
                        let resp = ui
                            .add_sized([62.0, 36.0], egui::Button::selectable(selected, text))
                            .on_hover_text(format!(
                                "{name}: click to load it into the form below{}",
                                acc.map_or(String::new(), |a| format!(
                                    "; final test accuracy {:.2}%",
                                    a * 100.0
                                ))
                            ));
                        if resp.clicked()
                            && let Some(p) = state.preset(&name)
                        {
                            self.form = p.clone();
                        }
                    }
                    ui.end_row();
                }
            });
        ui.add_space(4.0);
        let train = egui::CollapsingHeader::new("Preset")
            .default_open(true)
            .show(ui, |ui| self.form_ui(ui))
            .body_returned
            .flatten();
        if let Some(p) = train {
            tx.send(Command::StartPreset(Box::new(p)));
        }
    }

    /// The custom form; returns the preset when Train was pressed and it is valid.
    fn form_ui(&mut self, ui: &mut Ui) -> Option<Preset> {
        let before = self.form.grid_name();
        let p = &mut self.form;
        egui::Grid::new("preset-form")
            .num_columns(2)
            .spacing([8.0, 3.0])
            .show(ui, |ui| {
                let label = ui.label("name");
                ui.add(egui::TextEdit::singleline(&mut p.name).desired_width(150.0))
                    .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("hidden layers");
                ui.add(egui::DragValue::new(&mut p.hidden_layers).range(0..=100))
                    .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("width");
                ui.add(egui::DragValue::new(&mut p.width).range(0..=5000))
                    .labelled_by(label.id);
                ui.end_row();
                ui.label("loss");
                ui.horizontal(|ui| {
                    ui.selectable_value(&mut p.loss, Loss::Mse { on_softmax: true }, "MSE");
                    ui.selectable_value(&mut p.loss, Loss::CrossEntropy, "CE");
                });
                ui.end_row();
                let label = ui.label("batch size");
                ui.add(egui::DragValue::new(&mut p.batch_size).range(0..=60_000))
                    .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("epochs");
                ui.add(egui::DragValue::new(&mut p.epochs).range(0..=100_000))
                    .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("learning rate");
                ui.add(
                    egui::DragValue::new(&mut p.adam.lr)
                        .speed(0.0001)
                        .range(0.0..=10.0)
                        .max_decimals(6),
                )
                .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("seed");
                ui.add(egui::DragValue::new(&mut p.seed))
                    .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("probe size");
                ui.add(egui::DragValue::new(&mut p.probe_size).range(0..=60_000))
                    .labelled_by(label.id);
                ui.end_row();
                ui.label("init");
                ui.horizontal(|ui| {
                    ui.selectable_value(&mut p.init, Init::HeUniform, "He");
                    ui.selectable_value(&mut p.init, Init::TorchDefault, "torch");
                });
                ui.end_row();
            });
        // A name that followed the shape keeps following it.
        if p.name == before && p.grid_name() != before {
            p.name = p.grid_name();
        }
        let valid = p.validate("preset");
        if let Err(e) = &valid {
            ui.colored_label(ui.visuals().error_fg_color, e.to_string());
        }
        let train = ui
            .add_enabled(valid.is_ok(), egui::Button::new("Train"))
            .on_hover_text(
                "Start training this preset (queued when the parallel limit is reached)",
            );
        (train.clicked() && valid.is_ok()).then(|| p.clone())
    }
}

/// The test accuracy at the last epoch of the newest run of `name` that has trained epochs.
pub fn final_accuracy(runs: &Runs, name: &str) -> Option<f64> {
    runs.entries
        .iter()
        .rev()
        .filter_map(|e| e.session.as_ref())
        .filter(|s| s.preset.name == name && s.epochs_done() > 0)
        .find_map(|s| s.epochs.last().map(|e| e.test_accuracy))
}

/// Used only if the embedded presets are broken (a unit test guards against that).
fn fallback_preset() -> Preset {
    Preset {
        name: "mnist-2x20-ce".into(),
        dataset: "mnist".into(),
        hidden_layers: 2,
        width: 20,
        loss: Loss::CrossEntropy,
        batch_size: 128,
        epochs: 200,
        adam: crate::nn::AdamConfig {
            lr: 0.001,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        },
        init: Init::HeUniform,
        seed: 1,
        probe_size: 1000,
        schedule: Default::default(),
    }
}
