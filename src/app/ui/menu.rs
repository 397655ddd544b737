//! The menu bar: File, Export, View, the Explore/Compare/Grid switch, and the data status (and,
//! behind View > Debug, the UI frame time) on the right.

use egui::{RichText, Ui};

use crate::app::command::{Command, CommandSender, Purpose};
use crate::app::runs::session_file_name;
use crate::app::settings::{NodeLines, Setting};
use crate::app::state::{AppState, DataState, Tab};
use crate::export::figures::{FigureKind, default_file_name_at};

/// Menu label of a figure.
pub fn figure_label(kind: FigureKind) -> String {
    match kind {
        FigureKind::Loss => "Loss".into(),
        FigureKind::Accuracy => "Accuracy".into(),
        FigureKind::Metric(m) => format!("Layer bands: {}", m.label()),
        FigureKind::NodeMap(m) => format!("Node map: {}", m.label()),
        FigureKind::NodeRaster => "Node membership raster".into(),
        FigureKind::NodeComposition { fractions: false } => "Node class composition".into(),
        FigureKind::NodeComposition { fractions: true } => "Node class fractions".into(),
        FigureKind::NodeMetrics => "Node metrics".into(),
    }
}

/// Draws the menu bar.
pub fn ui(ui: &mut Ui, state: &AppState, tx: &CommandSender) {
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| file_menu(ui, state, tx));
        ui.menu_button("Export", |ui| export_menu(ui, state, tx));
        ui.menu_button("View", |ui| {
            ui.label("Node lines in plots:");
            for choice in NodeLines::ALL {
                if ui
                    .radio(state.settings.node_line_scope == choice, choice.label())
                    .clicked()
                {
                    tx.send(Command::Set(Setting::NodeLines(choice)));
                }
            }
            let mut fractions = state.settings.composition_fractions;
            if ui
                .checkbox(&mut fractions, "Composition as class fractions")
                .changed()
            {
                tx.send(Command::Set(Setting::CompositionFractions(fractions)));
            }
            ui.separator();
            let mut left = state.settings.left_panel;
            if ui.checkbox(&mut left, "Grid and runs panel").changed() {
                tx.send(Command::Set(Setting::LeftPanel(left)));
            }
            let mut detail = state.settings.detail_panel;
            if ui.checkbox(&mut detail, "Node detail panel").changed() {
                tx.send(Command::Set(Setting::DetailPanel(detail)));
            }
            ui.separator();
            ui.menu_button("Debug", |ui| {
                let mut frame_time = state.settings.show_frame_time;
                if ui
                    .checkbox(&mut frame_time, "UI frame time")
                    .on_hover_text("CPU time of the app's UI code per frame, in the menu bar")
                    .changed()
                {
                    tx.send(Command::Set(Setting::ShowFrameTime(frame_time)));
                }
            });
        });
        ui.separator();
        for (tab, label) in [
            (Tab::Explore, "Explore"),
            (Tab::Compare, "Compare"),
            (Tab::Grid, "Grid"),
        ] {
            if ui.selectable_label(state.tab == tab, label).clicked() {
                tx.send(Command::ShowTab(tab));
            }
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            status(ui, state);
        });
    });
}

fn file_menu(ui: &mut Ui, state: &AppState, tx: &CommandSender) {
    if ui.button("Open…").clicked() {
        let dir = state.runs.sessions_dir.display().to_string();
        tx.send(Command::AskPath(Purpose::Open, format!("{dir}/")));
    }
    if ui
        .button("Open example session")
        .on_hover_text("The embedded mnist-2x80-ce session (20 epochs): explore with no data")
        .clicked()
    {
        tx.send(Command::OpenExample);
    }
    if ui.button("Open grid folder…").clicked() {
        let dir = state
            .grid
            .as_ref()
            .map_or_else(|| state.runs.sessions_dir.clone(), |g| g.dir.clone());
        tx.send(Command::AskPath(
            Purpose::OpenGrid,
            format!("{}/", dir.display()),
        ));
    }
    ui.menu_button("Recent", |ui| {
        if state.settings.recent.is_empty() {
            ui.label("(none)");
        }
        for p in &state.settings.recent {
            if ui.button(p.display().to_string()).clicked() {
                tx.send(Command::Open(p.clone()));
            }
        }
    });
    let sel = state.selected_with_session();
    if ui
        .add_enabled(sel.is_some(), egui::Button::new("Save As…"))
        .clicked()
        && let Some(id) = sel
    {
        let name = state
            .runs
            .get(id)
            .and_then(|e| e.session.as_ref())
            .map(|s| session_file_name(&s.preset))
            .unwrap_or_default();
        let path = state.runs.sessions_dir.join(name);
        tx.send(Command::AskPath(
            Purpose::SaveAs(id),
            path.display().to_string(),
        ));
    }
    ui.separator();
    if ui.button("Choose data folder…").clicked() {
        tx.send(Command::AskPath(Purpose::DataFolder, String::new()));
    }
}

fn export_menu(ui: &mut Ui, state: &AppState, tx: &CommandSender) {
    let Some(id) = state.selected_with_session() else {
        ui.label("Select a run first");
        return;
    };
    let session = state.runs.get(id).and_then(|e| e.session.as_ref());
    for f in FigureKind::all() {
        let enabled = !f.needs_node() || state.sel.node.is_some();
        if ui
            .add_enabled(
                enabled,
                egui::Button::new(format!("{} (PNG/SVG/CSV)…", figure_label(f))),
            )
            .clicked()
        {
            let name = session.map_or_else(
                || format!("{}.png", f.name()),
                |s| default_file_name_at(s, f, state.sel.node, state.sel.step, "png"),
            );
            let path = state.export_folder().join(name);
            tx.send(Command::AskPath(
                Purpose::ExportFigure(id, f),
                path.display().to_string(),
            ));
        }
    }
    ui.separator();
    if ui.button("Nodes CSV…").clicked() {
        let name = session.map_or_else(
            || "nodes.csv".to_string(),
            |s| format!("{}_nodes.csv", s.preset.file_stem()),
        );
        let path = state.export_folder().join(name);
        tx.send(Command::AskPath(
            Purpose::ExportCsv(id),
            path.display().to_string(),
        ));
    }
}

/// Where the data comes from, and the UI frame time when View > Debug asks for it.
fn status(ui: &mut Ui, state: &AppState) {
    if state.settings.show_frame_time {
        let frames = &state.frame_times;
        let max = frames.values().fold(0.0, f32::max);
        ui.label(
            RichText::new(format!(
                "UI frame {:.1} ms (max {max:.1} ms over the last {} frames)",
                frames.average().unwrap_or(0.0),
                frames.len()
            ))
            .small()
            .weak(),
        )
        .on_hover_text("CPU time of the app's UI code per frame (excludes painting)");
    }
    match &state.data {
        DataState::Loading(d) => {
            ui.spinner();
            ui.label(RichText::new("loading data").small())
                .on_hover_text(d.display().to_string());
        }
        DataState::Ready(d) => {
            // The folder's name only (a full path crowds the bar at 1024 px); hover for all.
            let name = d.dir.file_name().map_or_else(
                || d.dir.display().to_string(),
                |n| n.to_string_lossy().into(),
            );
            ui.label(RichText::new(format!("data: {name}")).small().weak())
                .on_hover_text(d.dir.display().to_string());
        }
        DataState::Missing(_) => {
            ui.colored_label(ui.visuals().warn_fg_color, "no data");
        }
    }
}
