//! A session's scalars (status, preset, per-epoch losses, accuracies and layer summaries)
//! read without decoding its bulk arrays, for views of many runs at once.
//!
//! The file is parsed into a reduced copy of its layout in which the blobs (counts, churn,
//! probe, checkpoint) are skipped by the parser: no base64, no inflating, no allocation for
//! them. The text is still read and scanned whole, which for a 9x320 run of 200 epochs is
//! tens of MB, so callers that show many runs read on a worker thread and re-read only the
//! files whose [`FileStamp`] changed.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Deserialize;

use crate::measure::LayerSummary;
use crate::preset::Preset;
use crate::session::io::MAX_SESSION_BYTES;
use crate::session::{FORMAT, Metric, RunStatus, SCHEMA, Session, SessionError};

/// One epoch's scalars.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochSummary {
    /// Epoch number, 0 = before training.
    pub epoch: u32,
    /// Mean loss over the training set after the epoch.
    pub train_loss: f64,
    /// Accuracy over the training set after the epoch, in [0, 1].
    pub train_accuracy: f64,
    /// Mean loss over the test set after the epoch.
    pub test_loss: f64,
    /// Accuracy over the test set after the epoch, in [0, 1].
    pub test_accuracy: f64,
    /// Per hidden layer (first hidden layer first): mean and quartiles of each metric.
    pub layers: Vec<LayerSummary>,
}

/// What a grid view needs of one run: everything but the bulk arrays.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// The session file.
    pub path: PathBuf,
    /// How the run stands, as last saved.
    pub status: RunStatus,
    /// What was run (seed and planned epochs included).
    pub preset: Preset,
    /// Width of each hidden layer.
    pub widths: Vec<usize>,
    /// Per-epoch scalars, epoch 0 first: the records at the ends of epochs (the records
    /// inside epoch 1 of the default schedule are left out: a grid compares epochs).
    pub epochs: Vec<EpochSummary>,
}

/// The file's fields this reader keeps; the others (probe, checkpoint, blobs) are skipped.
#[derive(Deserialize)]
struct SummaryFile {
    format: String,
    schema: u32,
    status: RunStatus,
    preset: Preset,
    dataset: DatasetSize,
    widths: Vec<usize>,
    epochs: Vec<EpochFile>,
}

/// The one field of the data set's identity that places records on the epoch axis.
#[derive(Deserialize)]
struct DatasetSize {
    train_samples: usize,
}

#[derive(Deserialize)]
struct EpochFile {
    epoch: u32,
    /// Minibatch steps before the record (schema 2; schema 1 records are at epoch ends).
    #[serde(default)]
    step: u64,
    train_loss: f64,
    train_accuracy: f64,
    test_loss: f64,
    test_accuracy: f64,
    layers: Vec<LayerFile>,
}

#[derive(Deserialize)]
struct LayerFile {
    summary: LayerSummary,
}

/// The schema number near the top of a file, where sessions write it.
fn head_schema(head: &str) -> Option<u32> {
    let at = head.find("schema:")? + "schema:".len();
    let digits: String = head
        .get(at..)?
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

impl RunSummary {
    /// Reads the scalars of the session file at `path`.
    ///
    /// A file replaced (atomically renamed over) while it is read is read whole, old or new:
    /// the open file keeps the version it was opened on.
    ///
    /// # Errors
    /// [`SessionError`] naming `path`: missing or unreadable ([`SessionError::Io`]), larger
    /// than [`MAX_SESSION_BYTES`], not a session, a newer schema, RON that does not parse, or
    /// epochs whose layer count disagrees with `widths` or that are out of order.
    pub fn read(path: &Path) -> Result<Self, SessionError> {
        let io = |source| SessionError::Io {
            path: path.to_path_buf(),
            action: "cannot read",
            source,
        };
        let bytes = std::fs::read(path).map_err(io)?;
        if bytes.len() as u64 > MAX_SESSION_BYTES {
            return Err(SessionError::TooLarge {
                path: path.to_path_buf(),
                bytes: bytes.len() as u64,
                limit: MAX_SESSION_BYTES,
            });
        }
        let text = String::from_utf8(bytes).map_err(|_| SessionError::NotASession {
            path: path.to_path_buf(),
            reason: "not UTF-8 text".into(),
        })?;
        let head = text.get(..text.len().min(4096)).unwrap_or(&text);
        if !head.contains(FORMAT) {
            return Err(SessionError::NotASession {
                path: path.to_path_buf(),
                reason: format!("no '{FORMAT}' header"),
            });
        }
        if let Some(found) = head_schema(head)
            && found > SCHEMA
        {
            return Err(SessionError::NewerSchema {
                path: path.to_path_buf(),
                found,
                supported: SCHEMA,
            });
        }
        let file: SummaryFile = ron::from_str(&text).map_err(|e| SessionError::Corrupt {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Self::from_file(file, path)
    }

    fn from_file(f: SummaryFile, path: &Path) -> Result<Self, SessionError> {
        let bad = |problem: String| SessionError::Inconsistent {
            path: path.to_path_buf(),
            problem,
        };
        if f.format != FORMAT {
            return Err(SessionError::NotASession {
                path: path.to_path_buf(),
                reason: format!("format is '{}'", f.format),
            });
        }
        if f.schema > SCHEMA {
            return Err(SessionError::NewerSchema {
                path: path.to_path_buf(),
                found: f.schema,
                supported: SCHEMA,
            });
        }
        let spe =
            crate::measure::schedule::steps_per_epoch(f.dataset.train_samples, f.preset.batch_size)
                .max(1);
        let mut previous: Option<u64> = None;
        let mut epochs = Vec::with_capacity(f.epochs.len());
        for e in f.epochs {
            let step = if f.schema < 2 {
                u64::from(e.epoch).saturating_mul(spe)
            } else {
                e.step
            };
            if e.layers.len() != f.widths.len() {
                return Err(bad(format!(
                    "epoch {} has {} layers but widths lists {}",
                    e.epoch,
                    e.layers.len(),
                    f.widths.len()
                )));
            }
            if previous.is_some_and(|p| step <= p) {
                return Err(bad(format!("the record at step {step} is out of order")));
            }
            previous = Some(step);
            if !step.is_multiple_of(spe) {
                continue;
            }
            epochs.push(EpochSummary {
                epoch: e.epoch,
                train_loss: e.train_loss,
                train_accuracy: e.train_accuracy,
                test_loss: e.test_loss,
                test_accuracy: e.test_accuracy,
                layers: e.layers.into_iter().map(|l| l.summary).collect(),
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            status: f.status,
            preset: f.preset,
            widths: f.widths,
            epochs,
        })
    }

    /// The same summary from a session already in memory (e.g. one open in the app).
    pub fn from_session(s: &Session, path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            status: s.status.clone(),
            preset: s.preset.clone(),
            widths: s.widths.clone(),
            epochs: s
                .epochs
                .iter()
                .filter(|e| e.step.is_multiple_of(s.steps_per_epoch().max(1)))
                .map(|e| EpochSummary {
                    epoch: e.epoch,
                    train_loss: e.train_loss,
                    train_accuracy: e.train_accuracy,
                    test_loss: e.test_loss,
                    test_accuracy: e.test_accuracy,
                    layers: e.layers.iter().map(|l| l.summary).collect(),
                })
                .collect(),
        }
    }

    /// Epochs trained so far (the last record's epoch number; 0 before the first).
    pub fn epochs_done(&self) -> u32 {
        self.epochs.last().map_or(0, |e| e.epoch)
    }

    /// True when the run finished all its planned epochs.
    pub fn is_complete(&self) -> bool {
        self.status == RunStatus::Completed && self.epochs_done() >= self.preset.epochs
    }

    /// Test accuracy after the last recorded epoch, in [0, 1]; `None` before any record.
    pub fn final_test_accuracy(&self) -> Option<f64> {
        self.epochs.last().map(|e| e.test_accuracy)
    }

    /// Layer `layer`'s (0-based) mean of `metric` over epochs, as (epoch, mean); epochs
    /// without a value (churn at epoch 0) are left out.
    pub fn layer_means(&self, layer: usize, metric: Metric) -> Vec<(u32, f32)> {
        self.epochs
            .iter()
            .filter_map(|e| Some((e.epoch, metric.of_summary(e.layers.get(layer)?)?.mean)))
            .collect()
    }

    /// The epoch at which layer `layer`'s mean of `metric` is largest (the earliest on a
    /// tie) and that mean; `None` without records. As [`Session::peak_fraction_epoch`] for
    /// the activation fraction.
    pub fn peak_epoch(&self, layer: usize, metric: Metric) -> Option<(u32, f32)> {
        self.layer_means(layer, metric)
            .into_iter()
            .fold(None, |best: Option<(u32, f32)>, p| match best {
                Some(b) if b.1 >= p.1 => Some(b),
                _ => Some(p),
            })
    }
}

/// A file's size and modification time: when both are unchanged the file was not replaced,
/// so a view can keep its summary instead of reading the file again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    /// Size, bytes.
    pub len: u64,
    /// Last modification.
    pub modified: Option<SystemTime>,
}

impl FileStamp {
    /// The stamp of `path` now; `None` when it does not exist or cannot be examined.
    pub fn of(path: &Path) -> Option<Self> {
        let m = std::fs::metadata(path).ok()?;
        Some(Self {
            len: m.len(),
            modified: m.modified().ok(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_is_found_after_its_key() {
        assert_eq!(head_schema("(\n format: \"x\",\n schema: 12,\n"), Some(12));
        assert_eq!(head_schema("(format: \"x\")"), None);
    }

    #[test]
    fn a_file_that_is_not_a_session_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("grid.ron");
        std::fs::write(&p, "(format: \"sample-sets grid\", schema: 1, runs: [])").unwrap();
        let e = RunSummary::read(&p).unwrap_err().to_string();
        assert!(
            e.contains("grid.ron") && e.contains("not a Sample Sets session"),
            "{e}"
        );
    }

    #[test]
    fn a_truncated_session_is_corrupt_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("cut.ron");
        std::fs::write(
            &p,
            "(\n    format: \"sample-sets session\",\n    schema: 1,\n    sta",
        )
        .unwrap();
        let e = RunSummary::read(&p).unwrap_err();
        assert!(matches!(e, SessionError::Corrupt { .. }), "{e}");
    }
}
