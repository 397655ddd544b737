//! Explore: the selected run's plots above its node map in the centre, and the selected
//! node's detail on the right.

use egui::{RichText, Ui};

use super::RunView;
use super::findings::FindingsView;
use super::node_detail::NodeDetailView;
use super::node_map::NodeMapView;
use super::plots::PlotsView;
use crate::app::command::{Command, CommandSender};
use crate::app::runs::{RunId, RunState};
use crate::app::state::AppState;
use crate::session::Session;

/// Share of the centre's height given to the plots.
const PLOTS_SHARE: f32 = 0.58;

/// The centre: a spinner until the run has an epoch, then plots and node map.
pub fn centre(
    ui: &mut Ui,
    plots: &mut PlotsView,
    map: &mut NodeMapView,
    state: &AppState,
    tx: &CommandSender,
) {
    let Some(entry) = state.selected_run() else {
        return;
    };
    let Some(s) = entry.session.as_ref() else {
        if let RunState::Error(e) = &entry.state {
            // A load error is final: no spinner next to it, and the message wraps.
            ui.strong(entry.title());
            ui.add(egui::Label::new(RichText::new(e).color(ui.visuals().error_fg_color)).wrap());
            return;
        }
        ui.horizontal(|ui| {
            if matches!(entry.state, RunState::Loading | RunState::Training) {
                ui.spinner();
            }
            ui.label(format!("{} — {}", entry.title(), entry.status_text()));
        });
        return;
    };
    if s.epochs.is_empty() {
        ui.horizontal(|ui| {
            if entry.is_training() {
                ui.spinner();
                ui.label(format!("{}: measuring epoch 0…", s.title()));
            } else {
                ui.label(format!(
                    "{}: no records ({})",
                    s.title(),
                    entry.status_text()
                ));
            }
        });
        return;
    }
    let view = RunView {
        id: entry.id,
        version: entry.version,
        session: s,
        sel: &state.sel,
    };
    // Every run with records: the plots look among them for the shown run's other seeds.
    let open: Vec<(RunId, u64, &Session)> = state
        .runs
        .entries
        .iter()
        .filter_map(|e| Some((e.id, e.version, e.session.as_ref()?)))
        .filter(|o| !o.2.epochs.is_empty())
        .collect();
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(format!("{} · {}", s.title(), entry.status_text())).strong());
        plots.seed_switch(ui, view, &open, tx);
    });
    let plots_h = (ui.available_height() * PLOTS_SHARE).max(240.0);
    plots.ui(ui, view, &open, state.settings.node_line_scope, plots_h, tx);
    ui.separator();
    let map_h = ui.available_height() - 70.0;
    map.ui(ui, view, map_h.max(80.0), tx, &|_, step| {
        Command::SelectStep(step)
    });
}

/// The right panel: the run's findings (collapsed at first) above the selected node's detail.
pub fn detail(
    ui: &mut Ui,
    view: &mut NodeDetailView,
    findings: &mut FindingsView,
    state: &AppState,
    tx: &CommandSender,
) {
    let Some(entry) = state.selected_run() else {
        ui.heading("Node detail");
        ui.label("Select or train a run.");
        return;
    };
    let Some(s) = entry.session.as_ref() else {
        return;
    };
    let run = RunView {
        id: entry.id,
        version: entry.version,
        session: s,
        sel: &state.sel,
    };
    egui::CollapsingHeader::new(RichText::new("Findings: the paper's observations").strong())
        .id_salt("findings")
        .default_open(false)
        .show(ui, |ui| findings.ui(ui, run, entry.path.clone(), tx));
    ui.separator();
    view.ui(ui, run, state.settings.composition_fractions, tx);
}
