//! First-run helpers: download MNIST on a worker thread with a progress bar, and open the
//! example session shipped inside the binary (works with no network and no data).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crossbeam_channel::{Receiver, unbounded};

use crate::data::download::{DownloadProgress, MNIST_MIRRORS, download_mnist};

/// The example session (mnist-2x80-ce, 20 epochs, made by `sample-sets train`), embedded so a
/// first run can explore at once.
pub const EXAMPLE_SESSION: &[u8] = include_bytes!("../../assets/example-session.ron");

/// What the download worker reports.
enum Report {
    Progress(DownloadProgress),
    Done(Result<PathBuf, String>),
}

/// A download of MNIST into the platform data folder.
#[derive(Default)]
pub struct Downloader {
    rx: Option<Receiver<Report>>,
    cancel: Arc<AtomicBool>,
    progress: Option<DownloadProgress>,
    /// The last failure, shown under the button.
    pub error: Option<String>,
}

impl Downloader {
    /// True while a download runs.
    pub fn running(&self) -> bool {
        self.rx.is_some()
    }

    /// Starts downloading into `<platform data>/datasets/mnist` on a worker thread.
    pub fn start(&mut self, ctx: &egui::Context) {
        let Some(dest) = crate::data::locate::platform_datasets_dir().map(|d| d.join("mnist"))
        else {
            self.error = Some("this platform has no data folder; choose a folder instead".into());
            return;
        };
        let (tx, rx) = unbounded();
        self.cancel = Arc::new(AtomicBool::new(false));
        let cancel = self.cancel.clone();
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("download-mnist".into())
            .spawn(move || {
                let mirrors: Vec<String> = MNIST_MIRRORS.iter().map(|m| (*m).to_string()).collect();
                let result = download_mnist(
                    &dest,
                    &mirrors,
                    &mut |p| {
                        let _ = tx.send(Report::Progress(p));
                        ctx.request_repaint();
                    },
                    &cancel,
                )
                .map(|()| dest.clone())
                .map_err(|e| e.to_string());
                let _ = tx.send(Report::Done(result));
                ctx.request_repaint();
            });
        match spawned {
            Ok(_) => {
                self.rx = Some(rx);
                self.error = None;
                self.progress = None;
            }
            Err(e) => self.error = Some(format!("cannot start the download: {e}")),
        }
    }

    /// Asks the worker to stop; no partial file is left.
    pub fn cancel(&self) {
        self.cancel
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Drains reports; returns the data folder once a download has finished well.
    pub fn poll(&mut self) -> Option<PathBuf> {
        let rx = self.rx.as_ref()?;
        let mut finished = None;
        while let Ok(r) = rx.try_recv() {
            match r {
                Report::Progress(p) => self.progress = Some(p),
                Report::Done(r) => finished = Some(r),
            }
        }
        match finished? {
            Ok(dir) => {
                self.rx = None;
                Some(dir)
            }
            Err(e) => {
                self.rx = None;
                self.error = Some(e);
                None
            }
        }
    }

    /// The progress bar while running.
    pub fn ui(&self, ui: &mut egui::Ui) {
        if let Some(p) = &self.progress {
            let frac = p.total.map_or(0.0, |t| p.bytes as f32 / t.max(1) as f32);
            let overall = (p.index as f32 + frac) / 4.0;
            ui.add(
                egui::ProgressBar::new(overall)
                    .text(format!(
                        "{} ({} of 4): {:.1} MB",
                        p.file,
                        p.index + 1,
                        p.bytes as f64 / 1e6
                    ))
                    .desired_width(420.0),
            );
        } else {
            ui.add(
                egui::ProgressBar::new(0.0)
                    .text("connecting…")
                    .desired_width(420.0),
            );
        }
    }
}

/// Writes the embedded example session into `dir` (if not there yet) and returns its path.
///
/// # Errors
/// A message naming the file when it cannot be written.
pub fn example_session_path(dir: &std::path::Path) -> Result<PathBuf, String> {
    let path = dir.join("example-mnist-2x80-ce.ron");
    if !path.exists() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("{}: cannot create: {e}", dir.display()))?;
        crate::fs::write_atomic(&path, EXAMPLE_SESSION, crate::fs::Existing::Keep)
            .map_err(|e| e.to_string())?;
    }
    Ok(path)
}
