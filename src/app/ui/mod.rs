//! The views, one file per panel, and the layout that places them.
//!
//! Every view draws from `&AppState` and sends [`Command`]s; none changes the state or
//! starts a thread. A view's own caches (textures, the text being typed) live in its struct in
//! [`Views`]. A new panel is a new file here, a field in [`Views`] if it keeps anything, and a
//! place in [`Views::show`].
//!
//! [`Command`]: crate::app::command::Command

pub mod colors;
pub mod compare;
pub mod data_panel;
pub mod epoch_axis;
pub mod explore;
pub mod findings;
pub mod grid;
pub mod menu;
pub mod node_detail;
pub mod node_lines;
pub mod node_map;
pub mod notices;
pub mod path_prompt;
pub mod plots;
pub mod runs_list;
pub mod welcome;

use egui::Ui;

use super::command::CommandSender;
use super::runs::RunId;
use super::selection::Selection;
use super::state::{AppState, Tab};
use crate::session::Session;

/// One run as a view draws it: the run, its session at a version (views cache by it), and
/// the selection to show.
#[derive(Clone, Copy)]
pub struct RunView<'a> {
    /// The run.
    pub id: RunId,
    /// Its session's version.
    pub version: u64,
    /// Its session.
    pub session: &'a Session,
    /// What to show.
    pub sel: &'a Selection,
}

impl<'a> RunView<'a> {
    /// Run, version, session and selection, for a view's body.
    pub fn parts(self) -> (RunId, u64, &'a Session, &'a Selection) {
        (self.id, self.version, self.session, self.sel)
    }
}

/// Every view's own state.
pub struct Views {
    /// The preset form.
    pub grid: grid::GridView,
    /// Loss, accuracy and metric plots.
    pub plots: plots::PlotsView,
    /// The selected run's node map.
    pub map: node_map::NodeMapView,
    /// The selected node's detail.
    pub detail: node_detail::NodeDetailView,
    /// The selected run's findings.
    pub findings: findings::FindingsView,
    /// Compare's node maps.
    pub compare: compare::CompareView,
    /// The path prompt's text and folder listing.
    pub prompt: path_prompt::PathPrompt,
    /// The first-run panel's folder field.
    pub data_panel: data_panel::DataPanel,
}

impl Views {
    /// Views for `state` (the preset form starts on the first grid cell).
    pub fn new(state: &AppState) -> Self {
        let presets = state.presets.as_deref().unwrap_or(&[]);
        Self {
            grid: grid::GridView::new(presets),
            plots: plots::PlotsView::default(),
            map: node_map::NodeMapView::default(),
            detail: node_detail::NodeDetailView::default(),
            findings: findings::FindingsView::default(),
            compare: compare::CompareView::default(),
            prompt: path_prompt::PathPrompt::default(),
            data_panel: data_panel::DataPanel::default(),
        }
    }

    /// Lays out the window: menu on top, notices at the bottom, grid and runs on the left,
    /// the node detail on the right (Explore), the data panel and Explore or Compare in the
    /// centre.
    pub fn show(&mut self, ui: &mut Ui, state: &AppState, tx: &CommandSender) {
        if let Some(request) = &state.prompt {
            self.prompt.ui(ui.ctx(), request, tx);
        }
        egui::Panel::top("menu").show(ui, |ui| menu::ui(ui, state, tx));
        if !state.notices.is_empty() {
            egui::Panel::bottom("messages").show(ui, |ui| notices::ui(ui, state, tx));
        }
        egui::Panel::left("left")
            .resizable(true)
            .default_size(310.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    self.grid.ui(ui, state, tx);
                    ui.separator();
                    runs_list::ui(ui, state, tx);
                });
            });
        let has_epochs = state
            .selected_session()
            .is_some_and(|s| !s.epochs.is_empty());
        if state.tab == Tab::Explore && has_epochs {
            // At most a third of the window (at 1024 points the centre keeps room for its
            // plots), and never so narrow that the class table no longer fits.
            let window = ui.ctx().content_rect().width();
            egui::Panel::right("detail")
                .resizable(true)
                .default_size(440.0f32.min(window * 0.34))
                .size_range(300.0..=(window * 0.34).max(300.0))
                .show(ui, |ui| {
                    egui::ScrollArea::vertical().show(ui, |ui| {
                        explore::detail(ui, &mut self.detail, &mut self.findings, state, tx);
                    });
                });
        }
        egui::CentralPanel::default().show(ui, |ui| {
            self.data_panel.ui(ui, state, tx);
            if state.runs.entries.is_empty() {
                welcome::ui(ui);
                return;
            }
            match state.tab {
                Tab::Explore => explore::centre(ui, &mut self.plots, &mut self.map, state, tx),
                Tab::Compare => self.compare.ui(ui, &state.runs, &state.sel, tx),
            }
        });
    }
}
