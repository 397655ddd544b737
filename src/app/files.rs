//! File choosing: native dialogs (rfd) on a helper thread, with an in-app path field and
//! folder browser that always work (rfd returns nothing without a desktop portal), and
//! background saving.

use std::path::PathBuf;

use crossbeam_channel::{Receiver, Sender, unbounded};
use egui::Ui;

use super::state::RunId;
use crate::export::figures::FigureKind;

/// What a chosen path is for.
#[derive(Debug, Clone, PartialEq)]
pub enum Purpose {
    /// Open a session file.
    Open,
    /// Save a copy of a run's session.
    SaveAs(RunId),
    /// Use this folder as the data folder.
    DataFolder,
    /// Export a figure of a run.
    ExportFigure(RunId, FigureKind),
    /// Export the per-node CSV of a run.
    ExportCsv(RunId),
}

impl Purpose {
    fn title(&self) -> &'static str {
        match self {
            Purpose::Open => "Open session",
            Purpose::SaveAs(_) => "Save session as",
            Purpose::DataFolder => "Choose data folder",
            Purpose::ExportFigure(..) => "Export figure",
            Purpose::ExportCsv(_) => "Export CSV",
        }
    }
    fn is_save(&self) -> bool {
        matches!(
            self,
            Purpose::SaveAs(_) | Purpose::ExportFigure(..) | Purpose::ExportCsv(_)
        )
    }
}

/// The path prompt window plus the native dialog thread's channel.
pub struct PathPrompt {
    /// Open prompt: purpose and typed path.
    pub open: Option<(Purpose, String)>,
    tx: Sender<(Purpose, Option<PathBuf>)>,
    rx: Receiver<(Purpose, Option<PathBuf>)>,
    /// Shown under the field when the native dialog gave nothing.
    hint: Option<String>,
    /// The in-app browser: folder shown and its entries (read when the folder changes).
    listing: Option<Listing>,
}

/// One folder's entries for the in-app browser.
struct Listing {
    dir: PathBuf,
    /// (name, is folder), folders first, then by name.
    entries: Vec<(String, bool)>,
    error: Option<String>,
}

impl Listing {
    fn read(dir: PathBuf) -> Self {
        match std::fs::read_dir(&dir) {
            Ok(rd) => {
                let mut entries: Vec<(String, bool)> = rd
                    .filter_map(Result::ok)
                    .map(|e| {
                        (
                            e.file_name().to_string_lossy().into_owned(),
                            e.path().is_dir(),
                        )
                    })
                    .filter(|(n, _)| !n.starts_with('.'))
                    .take(2000)
                    .collect();
                entries.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                Self {
                    dir,
                    entries,
                    error: None,
                }
            }
            Err(e) => Self {
                dir,
                entries: Vec::new(),
                error: Some(e.to_string()),
            },
        }
    }
}

/// The folder the in-app browser shows for the typed text: the text itself when it names a
/// folder, else its parent, else the home folder.
fn browse_dir(text: &str) -> PathBuf {
    let p = expand_home(text.trim());
    if p.is_dir() {
        return p;
    }
    match p.parent() {
        Some(d) if d.is_dir() => d.to_path_buf(),
        _ => std::env::var_os("HOME").map_or_else(|| PathBuf::from("/"), PathBuf::from),
    }
}

impl Default for PathPrompt {
    fn default() -> Self {
        let (tx, rx) = unbounded();
        Self {
            open: None,
            tx,
            rx,
            hint: None,
            listing: None,
        }
    }
}

fn native_dialog(purpose: &Purpose, suggested: &str) -> Option<PathBuf> {
    let d = rfd::FileDialog::new().set_title(purpose.title());
    match purpose {
        Purpose::Open => d.add_filter("session", &["ron"]).pick_file(),
        Purpose::DataFolder => d.pick_folder(),
        _ => d.set_file_name(suggested).save_file(),
    }
}

impl PathPrompt {
    /// Opens the prompt for `purpose` with `initial` text.
    pub fn ask(&mut self, purpose: Purpose, initial: String) {
        self.open = Some((purpose, initial));
        self.hint = None;
    }

    /// Draws the prompt window; returns a chosen path with its purpose.
    pub fn ui(&mut self, ctx: &egui::Context) -> Option<(Purpose, PathBuf)> {
        let mut chosen = None;
        while let Ok((purpose, path)) = self.rx.try_recv() {
            match path {
                Some(p) => {
                    chosen = Some((purpose, p));
                    self.open = None;
                }
                None => {
                    self.hint = Some(
                        "No file chosen (the native dialog is unavailable or was closed): type a path instead."
                            .into(),
                    );
                }
            }
        }
        let mut close = false;
        if let Some((purpose, text)) = &mut self.open {
            let mut ok = false;
            egui::Window::new(purpose.title())
                .id(egui::Id::unique("path-prompt"))
                .collapsible(false)
                .resizable(true)
                .default_width(520.0)
                .show(ctx, |ui: &mut Ui| {
                    ui.label(if purpose.is_save() {
                        "File to write:"
                    } else if *purpose == Purpose::DataFolder {
                        "Folder holding the MNIST files (train-images-idx3-ubyte, …):"
                    } else {
                        "Session file (.ron):"
                    });
                    let r = ui.add(
                        egui::TextEdit::singleline(text)
                            .desired_width(480.0)
                            .id(egui::Id::unique("path-prompt-field")),
                    );
                    if r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                        ok = true;
                    }
                    if let Some(h) = &self.hint {
                        ui.label(egui::RichText::new(h).weak());
                    }
                    // In-app browser: works with no desktop portal.
                    let dir = browse_dir(text);
                    if self.listing.as_ref().is_none_or(|l| l.dir != dir) {
                        self.listing = Some(Listing::read(dir));
                    }
                    if let Some(listing) = &self.listing {
                        ui.label(egui::RichText::new(listing.dir.display().to_string()).small());
                        if let Some(e) = &listing.error {
                            ui.colored_label(ui.visuals().error_fg_color, e);
                        }
                        let folders_only = *purpose == Purpose::DataFolder;
                        egui::ScrollArea::vertical()
                            .max_height(220.0)
                            .id_salt("path-prompt-listing")
                            .show(ui, |ui| {
                                if let Some(parent) = listing.dir.parent()
                                    && ui.selectable_label(false, ".. (parent folder)").clicked()
                                {
                                    *text = format!("{}/", parent.display());
                                }
                                for (name, is_dir) in &listing.entries {
                                    let wanted = *is_dir
                                        || (!folders_only
                                            && (purpose.is_save() || name.ends_with(".ron")));
                                    if !wanted {
                                        continue;
                                    }
                                    let label = if *is_dir {
                                        format!("{name}/")
                                    } else {
                                        name.clone()
                                    };
                                    let r = ui.selectable_label(false, label);
                                    if r.clicked() {
                                        let full = listing.dir.join(name);
                                        *text = if *is_dir {
                                            format!("{}/", full.display())
                                        } else {
                                            full.display().to_string()
                                        };
                                    }
                                    if r.double_clicked() && !is_dir {
                                        ok = true;
                                    }
                                }
                            });
                    }
                    ui.horizontal(|ui| {
                        if ui.button("OK").clicked() {
                            ok = true;
                        }
                        if ui
                            .button("Browse…")
                            .on_hover_text("Native file dialog")
                            .clicked()
                        {
                            let tx = self.tx.clone();
                            let p = purpose.clone();
                            let suggested = PathBuf::from(text.as_str())
                                .file_name()
                                .map(|n| n.to_string_lossy().into_owned())
                                .unwrap_or_default();
                            let ctx = ui.ctx().clone();
                            let _ = std::thread::Builder::new()
                                .name("file-dialog".into())
                                .spawn(move || {
                                    let r = native_dialog(&p, &suggested);
                                    let _ = tx.send((p, r));
                                    ctx.request_repaint();
                                });
                        }
                        if ui.button("Cancel").clicked() {
                            close = true;
                        }
                    });
                });
            if ok && !text.trim().is_empty() {
                chosen = Some((purpose.clone(), expand_home(text.trim())));
                close = true;
            }
        }
        if close {
            self.open = None;
        }
        chosen
    }
}

/// Expands a leading `~/`.
pub fn expand_home(s: &str) -> PathBuf {
    if let Some(rest) = s.strip_prefix("~/")
        && let Some(home) = std::env::var_os("HOME")
    {
        return PathBuf::from(home).join(rest);
    }
    PathBuf::from(s)
}

/// Files dropped on the window this frame.
pub fn dropped_files(ctx: &egui::Context) -> Vec<PathBuf> {
    ctx.input(|i| {
        i.raw
            .dropped_files
            .iter()
            .map(|f| f.path().to_path_buf())
            .collect()
    })
}

/// Runs `job` on a helper thread and reports its message through `tx`.
pub fn in_background(
    name: &str,
    tx: &Sender<String>,
    ctx: &egui::Context,
    job: impl FnOnce() -> String + Send + 'static,
) {
    let tx2 = tx.clone();
    let ctx = ctx.clone();
    let spawned = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let _ = tx2.send(job());
            ctx.request_repaint();
        });
    if let Err(e) = spawned {
        let _ = tx.send(format!("cannot start a {name} thread: {e}"));
    }
}
