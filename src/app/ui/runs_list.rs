//! The runs list: every run with its state, progress and buttons.

use std::time::Duration;

use egui::{RichText, Ui};
use indicatif::HumanDuration;

use crate::app::command::{Command, CommandSender};
use crate::app::runs::{RunEntry, RunState};
use crate::app::settings::Setting;
use crate::app::state::AppState;
use crate::session::RunStatus;

/// Draws the runs list.
pub fn ui(ui: &mut Ui, state: &AppState, tx: &CommandSender) {
    ui.horizontal(|ui| {
        ui.heading("Runs");
        ui.label("parallel:");
        let mut parallel = state.settings.parallel;
        if ui
            .add(egui::DragValue::new(&mut parallel).range(1..=8))
            .on_hover_text("How many runs train at the same time; the others wait in the queue")
            .changed()
        {
            tx.send(Command::Set(Setting::Parallel(parallel)));
        }
    });
    if state.runs.entries.is_empty() {
        ui.label(RichText::new("No runs yet: pick a cell and press Train, or File > Open.").weak());
    }
    for e in &state.runs.entries {
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.set_width(ui.available_width());
            entry(ui, e, state.sel.run == Some(e.id), tx);
        });
    }
}

/// One run's box.
fn entry(ui: &mut Ui, e: &RunEntry, selected: bool, tx: &CommandSender) {
    // Wrapped: a long title (preset, seed, epochs) at 1024 px wide was cut at the panel's edge.
    if ui
        .add(egui::Button::selectable(selected, e.title()).wrap())
        .clicked()
    {
        tx.send(Command::SelectRun(e.id));
    }
    // Wrapped: an error or a long status never runs past the panel's edge.
    ui.horizontal_wrapped(|ui| {
        if e.state == RunState::Loading {
            ui.spinner();
        }
        let text = e.status_text();
        let failed = matches!(
            e.state,
            RunState::Error(_)
                | RunState::Done(RunStatus::Diverged { .. } | RunStatus::Failed { .. })
        );
        if failed {
            ui.colored_label(ui.visuals().error_fg_color, text);
        } else {
            ui.label(RichText::new(text).small());
        }
        if let Some(s) = &e.session
            && let Some(last) = s.epochs.last()
            && last.epoch > 0
        {
            ui.label(RichText::new(format!("test acc {:.1}%", last.test_accuracy * 100.0)).small());
        }
    });
    if e.is_training()
        && let Some(s) = &e.session
    {
        let n = s.preset.epochs.max(1);
        // The bar says where the run is; speed and time left go below it, where a narrow
        // panel wraps them instead of clipping them at the bar's end. The line is always
        // there (the buttons below stay put); a paused run shows its last speed and no ETA.
        let paused = e.control.is_paused();
        let (frac, text, detail) = match e.progress {
            Some(p) => {
                let f = (f64::from(p.epoch.saturating_sub(1))
                    + p.samples_done as f64 / p.samples_total.max(1) as f64)
                    / f64::from(n);
                let eta = e.eta_s().filter(|_| !paused).map_or(String::new(), |t| {
                    format!(
                        " · ETA {}",
                        HumanDuration(Duration::from_secs_f64(t.max(0.0)))
                    )
                });
                let last = if paused { "last " } else { "" };
                (
                    f as f32,
                    format!("epoch {}/{n}", p.epoch),
                    format!("{last}{:.0} samples/s{eta}", p.samples_per_s),
                )
            }
            None => (0.0, "measuring epoch 0…".into(), "starting…".into()),
        };
        ui.add(egui::ProgressBar::new(frac).text(text));
        ui.label(RichText::new(detail).small());
    }
    ui.horizontal_wrapped(|ui| {
        if e.is_training() {
            let paused = e.control.is_paused();
            if ui
                .small_button(if paused { "Continue" } else { "Pause" })
                .clicked()
            {
                tx.send(Command::PauseRun(e.id, !paused));
            }
        }
        if (e.is_training() || e.state == RunState::Queued) && ui.small_button("Cancel").clicked() {
            tx.send(Command::CancelRun(e.id));
        }
        if e.can_resume() && ui.small_button("Resume").clicked() {
            tx.send(Command::ResumeRun(e.id));
        }
        let mut compare = e.compare;
        if ui.checkbox(&mut compare, "compare").changed() {
            tx.send(Command::SetCompare(e.id, compare));
        }
        if !e.is_training()
            && ui
                .small_button("Remove")
                .on_hover_text("Remove from the list (the file stays)")
                .clicked()
        {
            tx.send(Command::RemoveRun(e.id));
        }
    });
    if let Some(n) = &e.note {
        ui.colored_label(ui.visuals().warn_fg_color, n);
    }
}
