//! Explore: the selected run's plots above its node map in the centre, and the selected
//! node's detail on the right.

use egui::{RichText, Ui};

use super::RunView;
use super::node_detail::NodeDetailView;
use super::node_map::NodeMapView;
use super::plots::PlotsView;
use crate::app::command::{Command, CommandSender};
use crate::app::runs::RunState;
use crate::app::state::AppState;

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
    ui.label(RichText::new(format!("{} · {}", s.title(), entry.status_text())).strong());
    let view = RunView {
        id: entry.id,
        version: entry.version,
        session: s,
        sel: &state.sel,
    };
    let scope = state.settings.node_line_scope;
    if plot_columns(ui.available_width()) == 2 {
        let plots_h = (ui.available_height() * PLOTS_SHARE).max(240.0);
        plots.ui(ui, view, scope, plots_h, tx);
        ui.separator();
        let map_h = ui.available_height() - 70.0;
        map.ui(ui, view, map_h.max(80.0), tx, Command::SelectEpoch);
    } else {
        // One column of plots at a readable height, the node map under them: scroll.
        egui::ScrollArea::vertical()
            .id_salt("explore-one-column")
            .show(ui, |ui| {
                let rows = (2 + crate::session::Metric::ALL.len()) as f32;
                plots.ui(ui, view, scope, rows * NARROW_PLOT_HEIGHT, tx);
                ui.separator();
                map.ui(ui, view, NARROW_MAP_HEIGHT, tx, Command::SelectEpoch);
            });
    }
}

/// Narrowest a plot gets side by side with another, points; a narrower centre shows one
/// column (so tick labels keep their room).
pub const PLOT_MIN_WIDTH: f32 = 300.0;
/// Height given to each plot (title included) in the one-column layout, points.
const NARROW_PLOT_HEIGHT: f32 = 200.0;
/// Height of the node map in the one-column layout, points.
const NARROW_MAP_HEIGHT: f32 = 360.0;

/// Plot columns for a centre `width` points wide: two when each gets [`PLOT_MIN_WIDTH`].
pub fn plot_columns(width: f32) -> usize {
    if width >= 2.0 * PLOT_MIN_WIDTH + 8.0 {
        2
    } else {
        1
    }
}

/// The right panel: the selected node's detail.
pub fn detail(ui: &mut Ui, view: &mut NodeDetailView, state: &AppState, tx: &CommandSender) {
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
    view.ui(ui, run, state.settings.composition_fractions, tx);
}
