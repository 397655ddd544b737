//! Where each run of a grid folder stands, from the files alone: works while this machine or
//! a cluster is writing them (sessions are replaced atomically, so a file is old or new,
//! never half-written; one that does not exist yet is a pending run).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::GridError;
use super::manifest::{MANIFEST_FILE, Manifest};
use super::summary::{FileStamp, RunSummary};
use crate::session::{RunStatus, SessionError};

/// How a run stands according to its file.
#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    /// No session file yet.
    Pending,
    /// The file's own status. [`RunStatus::Running`] means being trained now, or killed
    /// (rerunning the grid resumes it): the files alone cannot tell which.
    Saved(RunStatus),
    /// The file cannot be read as a session of this run.
    Unusable {
        /// Why.
        message: String,
    },
}

impl RunState {
    /// One word for tables: `pending`, the status's own word, or `unusable`.
    pub fn label(&self) -> &'static str {
        match self {
            RunState::Pending => "pending",
            RunState::Saved(s) => s.label(),
            RunState::Unusable { .. } => "unusable",
        }
    }

    /// What a table shows after the state word, if anything.
    pub fn detail(&self) -> Option<String> {
        match self {
            RunState::Saved(RunStatus::Diverged { epoch }) => {
                Some(format!("loss not finite in epoch {epoch}"))
            }
            RunState::Saved(RunStatus::Failed { message }) => Some(message.clone()),
            RunState::Unusable { message } => Some(message.clone()),
            _ => None,
        }
    }
}

/// One run of a grid folder.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunRow {
    /// Session file name in the folder.
    pub file: String,
    /// Preset name.
    pub preset: String,
    /// Seed.
    pub seed: u64,
    /// Epochs saved.
    pub epochs_done: u32,
    /// Epochs planned.
    pub epochs_planned: u32,
    /// State word (see [`RunState::label`]).
    pub state: String,
    /// Detail for failed, diverged and unusable runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Test accuracy after the last saved epoch, in [0, 1].
    pub final_test_accuracy: Option<f64>,
    /// False for a session file in the folder that the manifest does not list.
    pub in_manifest: bool,
    /// Index into [`GridStatus::summaries`] when the file was read.
    #[serde(skip)]
    pub summary: Option<usize>,
}

/// A grid folder as its files stand.
#[derive(Debug, Clone, Default)]
pub struct GridStatus {
    /// One row per run: the manifest's runs in order, then session files it does not list.
    pub rows: Vec<RunRow>,
    /// The runs whose file could be read (rows point into this).
    pub summaries: Vec<RunSummary>,
    /// Files that were skipped (`.ron` files that are not sessions).
    pub warnings: Vec<String>,
}

impl GridStatus {
    /// The summaries of the runs whose file was read, in row order.
    pub fn readable(&self) -> impl Iterator<Item = &RunSummary> {
        self.summaries.iter()
    }
}

/// Reads a grid folder again and again (a view watching a live grid), re-reading only the
/// session files whose [`FileStamp`] changed since the last [`GridReader::refresh`].
#[derive(Debug, Default)]
pub struct GridReader {
    dir: PathBuf,
    cache: HashMap<PathBuf, (FileStamp, RunSummary)>,
}

/// Reads a session's summary, trying again briefly when it fails for another reason than
/// not being there: on network file systems a file replaced while it is opened can show
/// a stale handle or, rarely, a mix of versions.
fn read_settled(path: &Path) -> Result<RunSummary, SessionError> {
    let mut tries = 0;
    loop {
        match RunSummary::read(path) {
            Err(SessionError::Io { ref source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                return RunSummary::read(path);
            }
            Err(_) if tries < 2 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            other => return other,
        }
    }
}

impl GridReader {
    /// A reader of grid folder `dir`.
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            cache: HashMap::new(),
        }
    }

    /// Keeps `summary`, read from `path` when the file had `stamp`, as if [`GridReader::refresh`]
    /// had read it (a view that reads a large grid file by file, to show it filling, primes
    /// the reader so its first refresh reads nothing again).
    pub fn prime(&mut self, path: &Path, stamp: FileStamp, summary: RunSummary) {
        self.cache.insert(path.to_path_buf(), (stamp, summary));
    }

    /// Reads the summary of `path` unless its stamp is unchanged since the last read.
    fn summary(&mut self, path: &Path) -> Result<RunSummary, SessionError> {
        let stamp = FileStamp::of(path);
        if let (Some(st), Some((old, s))) = (stamp, self.cache.get(path))
            && st == *old
        {
            return Ok(s.clone());
        }
        let s = read_settled(path)?;
        match stamp {
            Some(st) => {
                self.cache.insert(path.to_path_buf(), (st, s.clone()));
            }
            None => {
                self.cache.remove(path);
            }
        }
        Ok(s)
    }

    /// The folder's runs as they stand now.
    ///
    /// # Errors
    /// [`GridError::Io`] when the folder cannot be listed; [`GridError::Manifest`] for an
    /// unusable manifest. Unreadable session files are rows in state `unusable`.
    pub fn refresh(&mut self) -> Result<GridStatus, GridError> {
        let manifest = Manifest::load(&self.dir)?.unwrap_or_default();
        let listing = std::fs::read_dir(&self.dir).map_err(|source| GridError::Io {
            path: self.dir.clone(),
            action: "cannot list",
            source,
        })?;
        let mut extra: Vec<String> = listing
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.ends_with(".ron") && !n.starts_with('.') && n != MANIFEST_FILE)
            .filter(|n| !manifest.runs.iter().any(|r| &r.file == n))
            .collect();
        extra.sort();
        let mut status = GridStatus::default();
        for r in &manifest.runs {
            let path = self.dir.join(&r.file);
            let mut row = RunRow {
                file: r.file.clone(),
                preset: r.preset.name.clone(),
                seed: r.preset.seed,
                epochs_done: 0,
                epochs_planned: r.preset.epochs,
                state: RunState::Pending.label().into(),
                detail: None,
                final_test_accuracy: None,
                in_manifest: true,
                summary: None,
            };
            match self.summary(&path) {
                Ok(s) if s.preset != r.preset => set_state(
                    &mut row,
                    RunState::Unusable {
                        message: format!(
                            "the file's preset differs from the manifest: {}",
                            super::manifest::preset_differences(&r.preset, &s.preset)
                        ),
                    },
                ),
                Ok(s) => {
                    fill(&mut row, &s, status.summaries.len());
                    status.summaries.push(s);
                }
                Err(SessionError::Io { ref source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => set_state(
                    &mut row,
                    RunState::Unusable {
                        message: e.to_string(),
                    },
                ),
            }
            status.rows.push(row);
        }
        for name in extra {
            let path = self.dir.join(&name);
            match self.summary(&path) {
                Ok(s) => {
                    let mut row = RunRow {
                        file: name,
                        preset: s.preset.name.clone(),
                        seed: s.preset.seed,
                        epochs_done: 0,
                        epochs_planned: s.preset.epochs,
                        state: String::new(),
                        detail: None,
                        final_test_accuracy: None,
                        in_manifest: false,
                        summary: None,
                    };
                    fill(&mut row, &s, status.summaries.len());
                    status.summaries.push(s);
                    status.rows.push(row);
                }
                Err(e) => status.warnings.push(format!("skipped: {e}")),
            }
        }
        let listed: Vec<PathBuf> = status.summaries.iter().map(|s| s.path.clone()).collect();
        self.cache.retain(|p, _| listed.contains(p));
        Ok(status)
    }
}

fn set_state(row: &mut RunRow, state: RunState) {
    row.state = state.label().into();
    row.detail = state.detail();
}

fn fill(row: &mut RunRow, s: &RunSummary, index: usize) {
    set_state(row, RunState::Saved(s.status.clone()));
    row.epochs_done = s.epochs_done();
    row.final_test_accuracy = s.final_test_accuracy();
    row.summary = Some(index);
}

/// The runs of grid folder `dir` as they stand now (see [`GridReader::refresh`]).
///
/// # Errors
/// As [`GridReader::refresh`].
pub fn scan(dir: &Path) -> Result<GridStatus, GridError> {
    GridReader::new(dir).refresh()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::manifest::GridRun;

    #[test]
    fn missing_files_are_pending_and_broken_ones_unusable_without_stopping_the_scan() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = Manifest::default();
        let runs: Vec<GridRun> = [1, 2]
            .iter()
            .map(|&seed| {
                let mut p = crate::preset::find("mnist-2x20-ce", &[]).unwrap();
                p.seed = seed;
                GridRun::new(p)
            })
            .collect();
        m.merge(&runs).unwrap();
        m.save(dir.path()).unwrap();
        // Seed 2's file is cut off; a stray .ron that is no session lies beside them.
        std::fs::write(
            dir.path().join(&runs[1].file),
            "(\n    format: \"sample-sets session\",\n    schema: 1,\n    status: Runn",
        )
        .unwrap();
        std::fs::write(dir.path().join("notes.ron"), "(hello: 1)").unwrap();
        let st = scan(dir.path()).unwrap();
        assert_eq!(st.rows.len(), 2);
        assert_eq!(
            (st.rows[0].state.as_str(), st.rows[0].epochs_done),
            ("pending", 0)
        );
        assert_eq!(st.rows[1].state, "unusable");
        let detail = st.rows[1].detail.clone().unwrap_or_default();
        assert!(detail.contains("mnist-2x20-ce-seed2.ron"), "{detail}");
        assert!(st.summaries.is_empty());
        assert_eq!(st.warnings.len(), 1);
        assert!(st.warnings[0].contains("notes.ron"), "{:?}", st.warnings);
    }
}
