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
pub mod grid_tab;
pub mod menu;
pub mod node_detail;
pub mod node_lines;
pub mod node_map;
pub mod notices;
pub mod path_prompt;
pub mod plots;
pub mod runs_list;
pub mod seed_groups;
pub mod welcome;

use egui::Ui;

use super::command::{Command, CommandSender};
use super::runs::RunId;
use super::selection::Selection;
use super::settings::Setting;
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

/// Narrowest the left panel gets, points: the 3 x 3 grid's cells with their row labels, and
/// the form's fields.
pub const LEFT_MIN: f32 = 230.0;
/// Narrowest the node detail panel gets, points.
pub const DETAIL_MIN: f32 = 250.0;

/// Side panel sizes for a window `width` points wide: each side panel may take only a share
/// of the window (26 % left, 32 % right, or its minimum when that is more), so the centre
/// keeps at least 42 % (430 points at 1024) and its plots never shrink to a sliver.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PanelSizes {
    /// Left panel's first width.
    pub left_default: f32,
    /// Left panel's widest.
    pub left_max: f32,
    /// Node detail's first width.
    pub detail_default: f32,
    /// Node detail's widest.
    pub detail_max: f32,
}

impl PanelSizes {
    /// Sizes for a window `width` points wide.
    pub fn for_width(width: f32) -> Self {
        let left_max = (width * 0.26).max(LEFT_MIN);
        let detail_max = (width * 0.32).max(DETAIL_MIN);
        Self {
            left_default: 290.0f32.clamp(LEFT_MIN, left_max),
            left_max,
            detail_default: (width * 0.27).clamp(DETAIL_MIN, detail_max.min(440.0)),
            detail_max,
        }
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
    /// Where the centre panel was drawn last frame (the layout tests read it).
    pub centre: Option<egui::Rect>,
    /// The Grid tab (where its cells were drawn).
    pub grid_tab: grid_tab::GridTabView,
}

impl Views {
    /// Views for `state` (the preset form starts on the first grid cell).
    pub fn new(state: &AppState) -> Self {
        let presets = state.presets.as_deref().unwrap_or(&[]);
        Self {
            grid: grid::GridView::new(presets, state.settings.grid_ce),
            plots: plots::PlotsView::default(),
            map: node_map::NodeMapView::default(),
            detail: node_detail::NodeDetailView::default(),
            findings: findings::FindingsView::default(),
            compare: compare::CompareView::default(),
            prompt: path_prompt::PathPrompt::default(),
            data_panel: data_panel::DataPanel::default(),
            centre: None,
            grid_tab: grid_tab::GridTabView::default(),
        }
    }

    /// Lays out the window: menu on top, grid and runs on the left, the node detail on the
    /// right (Explore), both resizable within [`PanelSizes`] and collapsible (View menu, or
    /// drag the edge shut), the data panel and Explore or Compare in the centre, and the
    /// notices as toasts over the bottom-right corner.
    pub fn show(&mut self, ui: &mut Ui, state: &AppState, tx: &CommandSender) {
        if let Some(request) = &state.prompt {
            self.prompt.ui(ui.ctx(), request, tx);
        }
        egui::Panel::top("menu").show(ui, |ui| menu::ui(ui, state, tx));
        let sizes = PanelSizes::for_width(ui.available_width());
        let mut left_open = state.settings.left_panel;
        egui::Panel::left("left")
            .resizable(true)
            .default_size(sizes.left_default)
            .size_range(LEFT_MIN..=sizes.left_max)
            .show_collapsible(ui, &mut left_open, |ui| {
                let width = ui.available_width();
                egui::ScrollArea::both()
                    .id_salt("left-scroll")
                    .show(ui, |ui| {
                        ui.set_max_width(width);
                        self.grid.ui(ui, state, tx);
                        ui.separator();
                        runs_list::ui(ui, state, tx);
                    });
            });
        if left_open != state.settings.left_panel {
            // Dragged shut past its minimum, or open again.
            tx.send(Command::Set(Setting::LeftPanel(left_open)));
        }
        let has_epochs = state
            .selected_session()
            .is_some_and(|s| !s.epochs.is_empty());
        if state.tab == Tab::Explore && has_epochs {
            let mut detail_open = state.settings.detail_panel;
            egui::Panel::right("detail")
                .resizable(true)
                .default_size(sizes.detail_default)
                .size_range(DETAIL_MIN..=sizes.detail_max)
                .show_collapsible(ui, &mut detail_open, |ui| {
                    // Both ways: content wider than the panel scrolls instead of widening the
                    // panel (a right panel widened by its content slides over the centre).
                    let width = ui.available_width();
                    egui::ScrollArea::both()
                        .id_salt("detail-scroll")
                        .show(ui, |ui| {
                            // Texts wrap at the panel's width; only wider widgets scroll.
                            ui.set_max_width(width);
                            explore::detail(ui, &mut self.detail, &mut self.findings, state, tx);
                        });
                });
            if detail_open != state.settings.detail_panel {
                tx.send(Command::Set(Setting::DetailPanel(detail_open)));
            }
        }
        let centre = egui::CentralPanel::default().show(ui, |ui| {
            self.data_panel.ui(ui, state, tx);
            if state.runs.entries.is_empty() && state.tab != Tab::Grid {
                welcome::ui(ui);
                return;
            }
            match state.tab {
                Tab::Explore => explore::centre(ui, &mut self.plots, &mut self.map, state, tx),
                Tab::Compare => self.compare.ui(ui, &state.runs, &state.sel, tx),
                Tab::Grid => self.grid_tab.ui(ui, state, tx),
            }
        });
        self.centre = Some(centre.response.rect);
        // Over everything, taking no space.
        notices::ui(ui.ctx(), state, tx);
    }
}
