//! The path prompt: an in-app path field and folder browser that always work (the native
//! dialog, offered by its Browse button, returns nothing without a desktop portal).

use std::path::PathBuf;

use egui::Ui;

use crate::app::command::{Command, CommandSender, Purpose};
use crate::app::state::PathRequest;

/// The prompt's own state: the text being typed and the folder listing shown.
#[derive(Default)]
pub struct PathPrompt {
    /// The request the text belongs to (a new request starts from its initial text).
    request: Option<(Purpose, String)>,
    text: String,
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
        _ => home_dir().unwrap_or_else(|| PathBuf::from("/")),
    }
}

impl PathPrompt {
    /// Draws the prompt window for `request`; OK, Browse and Cancel send commands.
    pub fn ui(&mut self, ctx: &egui::Context, request: &PathRequest, tx: &CommandSender) {
        let this = (request.purpose.clone(), request.initial.clone());
        if self.request.as_ref() != Some(&this) {
            self.text = request.initial.clone();
            self.request = Some(this);
        }
        let purpose = &request.purpose;
        let text = &mut self.text;
        let mut ok = false;
        egui::Window::new(purpose.title())
            .id(egui::Id::unique("path-prompt"))
            .collapsible(false)
            .resizable(true)
            .default_width(520.0)
            .show(ctx, |ui: &mut Ui| {
                let label = ui.label(if purpose.is_save() {
                    "File to write:"
                } else if *purpose == Purpose::DataFolder {
                    "Folder holding the MNIST files (train-images-idx3-ubyte, …):"
                } else if *purpose == Purpose::OpenGrid {
                    "Grid folder (grid.ron and the runs' session files):"
                } else {
                    "Session file (.ron):"
                });
                let r = ui
                    .add(
                        egui::TextEdit::singleline(text)
                            .desired_width(480.0)
                            .id(egui::Id::unique("path-prompt-field")),
                    )
                    .labelled_by(label.id);
                if r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                    ok = true;
                }
                if let Some(h) = &request.hint {
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
                    let folders_only = matches!(purpose, Purpose::DataFolder | Purpose::OpenGrid);
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
                                // A grid is a folder: double-clicking one opens it.
                                if r.double_clicked() && (!is_dir || *purpose == Purpose::OpenGrid)
                                {
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
                        // The dialog starts where the prompt shows (folder and file name).
                        let shown = resolve(text, self.listing.as_ref().map(|l| l.dir.as_path()));
                        tx.send(Command::NativeDialog(purpose.clone(), shown));
                    }
                    if ui.button("Cancel").clicked() {
                        tx.send(Command::ClosePrompt);
                    }
                });
            });
        if ok && !text.trim().is_empty() {
            tx.send(Command::PathChosen(
                purpose.clone(),
                resolve(text, self.listing.as_ref().map(|l| l.dir.as_path())),
            ));
        }
    }
}

/// The path the typed `text` means: `~/` expanded, and a relative path taken inside the
/// folder the prompt shows (`shown`), so that the file is written where the user saw it.
fn resolve(text: &str, shown: Option<&std::path::Path>) -> PathBuf {
    let p = expand_home(text.trim());
    match shown {
        Some(dir) if p.is_relative() => dir.join(p),
        _ => p,
    }
}

/// The user's home folder.
pub fn home_dir() -> Option<PathBuf> {
    directories::UserDirs::new().map(|d| d.home_dir().to_path_buf())
}

/// Expands a leading `~/` to the home folder.
pub fn expand_home(s: &str) -> PathBuf {
    if let Some(rest) = s.strip_prefix("~/")
        && let Some(home) = home_dir()
    {
        return home.join(rest);
    }
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tilde_path_starts_in_the_home_folder() {
        let home = home_dir().expect("a home folder");
        assert_eq!(expand_home("~/mnist"), home.join("mnist"));
        assert_eq!(expand_home("/data/mnist"), PathBuf::from("/data/mnist"));
        assert_eq!(expand_home("~user/x"), PathBuf::from("~user/x"));
    }

    #[test]
    fn a_bare_file_name_lands_in_the_folder_shown() {
        let shown = std::path::Path::new("/data/exports");
        assert_eq!(
            resolve(" loss.png ", Some(shown)),
            PathBuf::from("/data/exports/loss.png")
        );
        assert_eq!(
            resolve("/tmp/a.csv", Some(shown)),
            PathBuf::from("/tmp/a.csv")
        );
        let home = home_dir().expect("a home folder");
        assert_eq!(resolve("~/a.csv", Some(shown)), home.join("a.csv"));
    }
}
