//! The first-run panel shown while MNIST is missing: a folder field, the download with its
//! progress, and the example session that needs no data.

use egui::{RichText, Ui};

use super::path_prompt::expand_home;
use crate::app::command::{Command, CommandSender, Purpose};
use crate::app::state::AppState;

/// The panel's own state: the folder being typed.
#[derive(Default)]
pub struct DataPanel {
    text: String,
}

impl DataPanel {
    /// Draws the panel when the data is missing (nothing otherwise).
    pub fn ui(&mut self, ui: &mut Ui, state: &AppState, tx: &CommandSender) {
        let Some(problem) = state.data_problem() else {
            return;
        };
        // With a run to look at, the panel shrinks to its heading, folder field and download
        // (the plots need the height at 1024 x 700); the full text is on the heading's hover.
        let compact = !state.runs.entries.is_empty();
        egui::Frame::group(ui.style())
            .fill(ui.visuals().faint_bg_color)
            .show(ui, |ui| {
                if compact {
                    ui.horizontal_wrapped(|ui| {
                        ui.label(
                            RichText::new("MNIST not found")
                                .strong()
                                .color(ui.visuals().warn_fg_color),
                        )
                        .on_hover_text(format!("{NEEDED}\n{problem}"));
                        ui.label(RichText::new("(training needs it)").small());
                        self.folder_row(ui, tx);
                        download_button(ui, state, tx);
                    });
                    download_error(ui, state);
                    return;
                }
                ui.heading("MNIST not found");
                ui.label(NEEDED);
                if !problem.is_empty() {
                    ui.label(RichText::new(problem).small());
                }
                // Wrapped rows: at 1024 px the centre is narrow, and nothing may be cut.
                ui.horizontal_wrapped(|ui| self.folder_row(ui, tx));
                ui.horizontal_wrapped(|ui| download_button(ui, state, tx));
                download_error(ui, state);
                ui.horizontal_wrapped(|ui| {
                    ui.label("No data needed to explore:");
                    if ui.button("Open the example session").clicked() {
                        tx.send(Command::OpenExample);
                    }
                });
            });
    }

    /// The folder field with its Use and Browse buttons (in the caller's wrapped row).
    fn folder_row(&mut self, ui: &mut Ui, tx: &CommandSender) {
        ui.label("Data folder:");
        ui.add(
            egui::TextEdit::singleline(&mut self.text)
                .desired_width(ui.available_width().clamp(120.0, 320.0))
                .hint_text("/path/to/mnist"),
        );
        if ui.button("Use this folder").clicked() {
            let dir = expand_home(self.text.trim());
            tx.send(Command::FindData(Some(dir)));
        }
        if ui.button("Browse…").clicked() {
            tx.send(Command::AskPath(Purpose::DataFolder, self.text.clone()));
        }
    }
}

/// What training needs, said once.
const NEEDED: &str = "Training needs the four MNIST files (train-images-idx3-ubyte, \
                      train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, \
                      optionally .gz).";

/// The download button, or the running download's progress and cancel button (in the
/// caller's row).
fn download_button(ui: &mut Ui, state: &AppState, tx: &CommandSender) {
    let d = &state.download;
    if d.running {
        let (frac, text) = match &d.progress {
            Some(p) => {
                let file = p.total.map_or(0.0, |t| p.bytes as f32 / t.max(1) as f32);
                (
                    (p.index as f32 + file) / 4.0,
                    format!(
                        "{} ({} of 4): {:.1} MB",
                        p.file,
                        p.index + 1,
                        p.bytes as f64 / 1e6
                    ),
                )
            }
            None => (0.0, "connecting…".to_string()),
        };
        ui.add(
            egui::ProgressBar::new(frac)
                .text(text)
                .desired_width(ui.available_width().clamp(160.0, 420.0)),
        );
        if ui.button("Cancel download").clicked() {
            tx.send(Command::CancelDownload);
        }
    } else if ui
        .button("Download MNIST (about 11 MB)")
        .on_hover_text(
            "From public mirrors into the platform data folder; every file's SHA-256 is \
             checked",
        )
        .clicked()
    {
        tx.send(Command::StartDownload);
    }
}

/// The last download failure, wrapped.
fn download_error(ui: &mut Ui, state: &AppState) {
    if let Some(e) = &state.download.error {
        ui.add(egui::Label::new(RichText::new(e).color(ui.visuals().error_fg_color)).wrap());
    }
}
