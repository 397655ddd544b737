//! The experiment grid (the paper's 3 x 3 shapes with a loss switch) and the custom preset form.

use egui::{RichText, Ui};

use crate::app::command::{Command, CommandSender};
use crate::app::runs::{RunId, Runs};
use crate::app::settings::Setting;
use crate::app::state::AppState;
use crate::measure::Schedule;
use crate::measure::schedule::{MAX_PER_DOUBLING, steps_per_epoch};
use crate::nn::{Init, Loss};
use crate::preset::Preset;

/// Hidden layers of the grid's rows.
pub const ROWS: [usize; 3] = [2, 5, 9];
/// Widths of the grid's columns.
pub const COLS: [usize; 3] = [20, 80, 320];

/// The form holding the preset about to be trained.
pub struct GridView {
    /// Preset being edited (starts as the first grid cell of the saved loss).
    pub form: Preset,
    /// The run whose preset the form last took: the form follows the shown run, so grid
    /// highlight, loss switch and form agree with what the plots show.
    followed: Option<RunId>,
}

impl GridView {
    /// The form on the first embedded preset with the loss last chosen (`cross_entropy`).
    pub fn new(presets: &[Preset], cross_entropy: bool) -> Self {
        let form = presets
            .iter()
            .find(|p| matches!(p.loss, Loss::CrossEntropy) == cross_entropy)
            .or(presets.first())
            .cloned()
            .unwrap_or_else(fallback_preset);
        Self {
            form,
            followed: None,
        }
    }

    /// Draws grid and form; Train sends the form's preset.
    pub fn ui(&mut self, ui: &mut Ui, state: &AppState, tx: &CommandSender) {
        // A newly shown run puts its preset into the form (once its header is known).
        if let Some(e) = state.selected_run()
            && self.followed != Some(e.id)
            && let Some(s) = &e.session
        {
            self.form = s.preset.clone();
            self.followed = Some(e.id);
        }
        ui.heading("Experiment grid");
        if let Err(e) = &state.presets {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        let ce = matches!(self.form.loss, Loss::CrossEntropy);
        ui.horizontal(|ui| {
            ui.label("Loss:");
            for (to_ce, label) in [(false, "MSE"), (true, "cross-entropy")] {
                if ui
                    .selectable_label(ce == to_ce, label)
                    .on_hover_text("The grid's loss, and the form's")
                    .clicked()
                    && ce != to_ce
                {
                    self.set_loss(to_ce);
                    tx.send(Command::Set(Setting::GridCrossEntropy(to_ce)));
                }
            }
        });
        let ce = matches!(self.form.loss, Loss::CrossEntropy);
        let loss = if ce { "ce" } else { "mse" };
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
                        let found = cell_accuracy(state, &name);
                        let acc = found.as_ref().map(|f| f.0);
                        let text = match acc {
                            Some(a) => format!("{l}x{w}\n{:.1}%", a * 100.0),
                            None => format!("{l}x{w}\n–"),
                        };
                        // The cell of the form's shape (the loss is the grid's).
                        let selected = self.form.hidden_layers == l && self.form.width == w;
                        let resp = ui
                            .add_sized([62.0, 36.0], egui::Button::selectable(selected, text))
                            .on_hover_text(format!(
                                "{name}: click to load it into the form below (epochs and \
                                 schedule stay as set){}",
                                found.map_or(String::new(), |(a, from)| format!(
                                    "; final test accuracy {:.2}% ({from})",
                                    a * 100.0
                                ))
                            ));
                        if resp.clicked()
                            && let Some(p) = state.preset(&name)
                        {
                            self.load_cell(p);
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

    /// Loads grid cell `p` into the form, keeping the epochs and schedule the user set.
    fn load_cell(&mut self, p: &Preset) {
        let (epochs, schedule) = (self.form.epochs, self.form.schedule);
        self.form = p.clone();
        self.form.epochs = epochs;
        self.form.schedule = schedule;
    }

    /// Switches the form's loss (MSE on the softmax, as the paper's grid); a name that
    /// followed the shape follows the loss too.
    fn set_loss(&mut self, cross_entropy: bool) {
        let before = self.form.grid_name();
        self.form.loss = if cross_entropy {
            Loss::CrossEntropy
        } else {
            Loss::Mse { on_softmax: true }
        };
        if self.form.name == before {
            self.form.name = self.form.grid_name();
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
                schedule_row(ui, p);
            });
        ui.add(egui::Label::new(RichText::new(schedule_summary(p)).small().weak()).wrap());
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

/// Training samples of MNIST (what the early-record count in the schedule's hover assumes).
const MNIST_TRAIN: usize = 60_000;

/// The form's `schedule` row: per epoch, or also inside epoch 1 at doubling steps (N records
/// per doubling), as `--schedule` and preset files say it.
fn schedule_row(ui: &mut Ui, p: &mut Preset) {
    let label = ui.label("schedule").on_hover_text(
        "When the sample sets are measured. Every schedule measures before training and \
         after every epoch. \"doubling\" also measures inside epoch 1 after minibatch steps \
         1, 2, 4, 8, … (where the sets grow fastest); N per doubling measures more densely \
         (2: steps 1, 2, 3, 4, 6, 8, 11, …). Each extra record costs one measurement pass. \
         Same as `--schedule per-epoch | doubling | doubling:N`.",
    );
    let doubling = match p.schedule {
        Schedule::Doubling { per_doubling } => Some(per_doubling),
        Schedule::PerEpoch => None,
    };
    ui.horizontal(|ui| {
        if ui
            .selectable_label(doubling.is_none(), "per epoch")
            .labelled_by(label.id)
            .clicked()
        {
            p.schedule = Schedule::PerEpoch;
        }
        if ui
            .selectable_label(doubling.is_some(), "doubling")
            .clicked()
            && doubling.is_none()
        {
            p.schedule = Schedule::default();
        }
    });
    ui.end_row();
    // On its own row: the form must fit the left panel at its narrowest.
    if let Schedule::Doubling { per_doubling } = &mut p.schedule {
        let label = ui.label("per doubling");
        ui.add(egui::DragValue::new(per_doubling).range(1..=MAX_PER_DOUBLING))
            .on_hover_text("Records per doubling of the step count (1: steps 1, 2, 4, 8, …)")
            .labelled_by(label.id);
        ui.end_row();
    }
}

/// What the form's schedule records, in words (wrapped under the form).
fn schedule_summary(p: &Preset) -> String {
    let early = p
        .schedule
        .early_steps(steps_per_epoch(MNIST_TRAIN, p.batch_size))
        .len();
    if early == 0 {
        "Records: epoch 0, then every epoch.".to_string()
    } else {
        format!("Records: epoch 0, {early} inside epoch 1, then every epoch.")
    }
}

/// What a grid cell shows for preset `name`: the final test accuracy of the newest listed
/// run of it, else of the newest session file of it in the sessions folder, with where it
/// comes from (for the hover).
pub fn cell_accuracy(state: &AppState, name: &str) -> Option<(f64, String)> {
    if let Some(a) = final_accuracy(&state.runs, name) {
        return Some((a, "newest run listed".into()));
    }
    let f = state.found_runs.iter().find(|f| f.preset == name)?;
    let file = f.path.file_name().map_or_else(
        || f.path.display().to_string(),
        |n| n.to_string_lossy().into(),
    );
    Some((
        f.test_accuracy,
        format!(
            "{file} in the sessions folder, {} epochs; File > Open to explore it",
            f.epochs_done
        ),
    ))
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
