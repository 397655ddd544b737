//! The desktop app (cargo feature `gui`), shaped like Rerun's viewer: this file is the thin
//! shell that eframe drives.
//!
//! Where things live:
//! - [`startup`]: how the app is started (files, `SAMPLE_SETS_*` overrides; parsed by clap);
//! - [`state`]: what every view reads ([`state::AppState`]: runs, selection, settings, data);
//! - [`command`]: the one [`command::Command`] enum that views send;
//! - `handler.rs`: the one place that applies commands and background results;
//! - [`background`]: every worker thread and the channel back (data, session files,
//!   training, node-line textures, the download, file dialogs, saves and exports);
//! - [`ui`]: one file per panel and the layout;
//! - [`runs`], [`selection`], [`settings`], [`node_lines`], [`example`], [`grid_folder`]: the
//!   models and worker bodies those use;
//! - `frame.rs`: [`SampleSetsApp`] and what one frame does.
//!
//! The UI thread never blocks: workers send results, the frame drains them with `try_recv`.

pub mod startup;

#[cfg(feature = "gui")]
pub mod background;
#[cfg(feature = "gui")]
pub mod command;
#[cfg(feature = "gui")]
pub mod example;
#[cfg(feature = "gui")]
mod frame;
#[cfg(feature = "gui")]
pub mod grid_folder;
#[cfg(feature = "gui")]
mod handler;
#[cfg(feature = "gui")]
pub mod node_lines;
#[cfg(feature = "gui")]
pub mod runs;
#[cfg(feature = "gui")]
pub mod selection;
#[cfg(feature = "gui")]
pub mod settings;
#[cfg(feature = "gui")]
pub mod state;
#[cfg(all(feature = "gui", any(test, feature = "testing")))]
pub mod testing;
#[cfg(feature = "gui")]
pub mod ui;

#[cfg(feature = "gui")]
pub use frame::SampleSetsApp;
#[cfg(feature = "gui")]
use startup::StartupOptions;

/// Key of the settings in eframe storage.
#[cfg(feature = "gui")]
const SETTINGS_KEY: &str = "sample-sets-settings";

#[cfg(feature = "gui")]
impl eframe::App for SampleSetsApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        self.frame(ui);
        // The runs list is saved as soon as it changes: eframe saves only on a normal close
        // and every 30 s while frames are drawn (none are while a run measures), so a crash
        // or a kill would otherwise forget the runs started since.
        if self.runs_list_changed()
            && let Some(storage) = frame.storage_mut()
        {
            eframe::set_value(storage, SETTINGS_KEY, self.settings_to_save());
            storage.flush();
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, SETTINGS_KEY, self.settings_to_save());
    }
}

/// The window icon, decoded from the 256 px PNG in `assets/icons` (embedded).
#[cfg(feature = "gui")]
fn window_icon() -> Option<egui::IconData> {
    let png = include_bytes!("../../assets/icons/sample-sets-256.png");
    let img = image::load_from_memory_with_format(png, image::ImageFormat::Png).ok()?;
    let rgba = img.to_rgba8();
    Some(egui::IconData {
        width: rgba.width(),
        height: rgba.height(),
        rgba: rgba.into_raw(),
    })
}

/// Window options: title, app id, icon, size (`size`, else the persisted one, else
/// 1500 x 950), drag and drop. The smallest window is 900 x 600 points (or `size`).
#[cfg(feature = "gui")]
pub fn native_options(size: Option<startup::WindowSize>) -> eframe::NativeOptions {
    let mut viewport = egui::ViewportBuilder::default();
    if let Some(icon) = window_icon() {
        viewport = viewport.with_icon(icon);
    }
    let (inner, min) = match size {
        Some(s) => (
            [s.width, s.height],
            [s.width.min(900.0), s.height.min(600.0)],
        ),
        None => ([1500.0, 950.0], [900.0, 600.0]),
    };
    eframe::NativeOptions {
        viewport: viewport
            .with_title("Sample Sets")
            .with_app_id("sample-sets")
            .with_inner_size(inner)
            .with_min_inner_size(min)
            .with_drag_and_drop(true),
        // A size asked for wins over the one saved last time.
        persist_window: size.is_none(),
        ..Default::default()
    }
}

/// Opens the window as `options` say; returns when it is closed.
///
/// # Errors
/// When no graphics context can be created.
#[cfg(feature = "gui")]
pub fn run_app(options: StartupOptions) -> eframe::Result<()> {
    eframe::run_native(
        "sample-sets",
        native_options(options.window_size),
        Box::new(move |cc| Ok(Box::new(SampleSetsApp::new(cc, options)))),
    )
}
