//! The on-disk layout of a session (schema 1) and its conversion to and from [`Session`].
//!
//! Scalars (preset, data identity, losses, accuracies, timings, layer summaries) are plain RON.
//! Bulk per-node arrays are [`blob`](super::blob) strings:
//! - `counts`: u32 `[nodes, classes]` on-counts;
//! - `churn`: f32 `[nodes]` (empty blob at epoch 0);
//! - `probe_delta`: u64 `[nodes, probe_words]`, the probe bitsets XOR the previous epoch's
//!   (epoch 0 stores them as they are). Late in training few memberships change, so the XOR
//!   is mostly zeros and compresses well; decoding replays the XORs from epoch 0;
//! - checkpoint `params`, `adam_m`, `adam_v`: f32, every layer's weights `[inputs, outputs]`
//!   then biases `[outputs]`, layer by layer.

use std::path::Path;

use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use super::blob::{self, BlobError};
use super::model::{Checkpoint, EpochRecord, LayerRecord, ProbeSet, RunStatus, Session, Timing};
use super::{FORMAT, SCHEMA, SessionError};
use crate::data::DatasetIdentity;
use crate::data::dataset::PIXELS;
use crate::measure::LayerSummary;
use crate::nn::adam::LayerMoments;
use crate::nn::{Adam, AdamConfig, Dense, Mlp};
use crate::preset::Preset;

/// The file, field by field.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionFile {
    /// Always `"sample-sets session"`.
    pub format: String,
    /// Schema version, see [`SCHEMA`].
    pub schema: u32,
    /// Program version that wrote it.
    pub app_version: String,
    /// How the run stands.
    pub status: RunStatus,
    /// What was run.
    pub preset: Preset,
    /// Which data.
    pub dataset: DatasetIdentity,
    /// Matrix-multiplication threads.
    pub threads: usize,
    /// Hidden layer widths.
    pub widths: Vec<usize>,
    /// Probe subset.
    pub probe: ProbeFile,
    /// Per-epoch records.
    pub epochs: Vec<EpochFile>,
    /// Resume point.
    pub checkpoint: Option<CheckpointFile>,
}

/// Probe subset on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProbeFile {
    /// Number of probe samples.
    pub size: usize,
    /// u32 `[size]` training indices.
    pub indices: String,
    /// u8 `[size]` labels.
    pub labels: String,
    /// u8 `[size, 784]` pixels.
    pub pixels: String,
}

/// One epoch on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EpochFile {
    /// Epoch number.
    pub epoch: u32,
    /// Training-set loss.
    pub train_loss: f64,
    /// Training-set accuracy.
    pub train_accuracy: f64,
    /// Test-set loss.
    pub test_loss: f64,
    /// Test-set accuracy.
    pub test_accuracy: f64,
    /// Mean minibatch loss during the epoch.
    pub minibatch_loss: Option<f64>,
    /// Phase wall times.
    pub timing: Timing,
    /// Per hidden layer.
    pub layers: Vec<LayerFile>,
}

/// One layer at one epoch on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerFile {
    /// Readable summary.
    pub summary: LayerSummary,
    /// Blob of on-counts.
    pub counts: String,
    /// Blob of churn values.
    pub churn: String,
    /// Blob of probe bitsets XOR the previous epoch's.
    pub probe_delta: String,
}

/// Checkpoint on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckpointFile {
    /// Last completed epoch.
    pub epoch: u32,
    /// Adam steps taken.
    pub adam_t: u64,
    /// Adam hyper-parameters.
    pub adam: AdamConfig,
    /// Blob of all weights and biases.
    pub params: String,
    /// Blob of Adam first moments.
    pub adam_m: String,
    /// Blob of Adam second moments.
    pub adam_v: String,
}

/// Encodes one epoch; `prev_probe` holds the previous epoch's probe bitsets per layer (empty
/// for epoch 0) and is replaced by this epoch's.
pub fn encode_epoch(rec: &EpochRecord, prev_probe: &mut Vec<Vec<u64>>) -> EpochFile {
    let layers = rec
        .layers
        .iter()
        .enumerate()
        .map(|(l, layer)| {
            let delta: Vec<u64> = match prev_probe.get(l) {
                Some(prev) if prev.len() == layer.probe_bits.len() => layer
                    .probe_bits
                    .iter()
                    .zip(prev)
                    .map(|(a, b)| a ^ b)
                    .collect(),
                _ => layer.probe_bits.clone(),
            };
            LayerFile {
                summary: layer.summary,
                counts: blob::encode_u32(&layer.counts),
                churn: blob::encode_f32(&layer.churn),
                probe_delta: blob::encode_u64(&delta),
            }
        })
        .collect();
    *prev_probe = rec.layers.iter().map(|l| l.probe_bits.clone()).collect();
    EpochFile {
        epoch: rec.epoch,
        train_loss: rec.train_loss,
        train_accuracy: rec.train_accuracy,
        test_loss: rec.test_loss,
        test_accuracy: rec.test_accuracy,
        minibatch_loss: rec.minibatch_loss,
        timing: rec.timing,
        layers,
    }
}

/// Encodes the probe subset.
pub fn encode_probe(p: &ProbeSet) -> ProbeFile {
    ProbeFile {
        size: p.len(),
        indices: blob::encode_u32(&p.indices),
        labels: blob::encode_bytes(&p.labels),
        pixels: blob::encode_bytes(&p.pixels),
    }
}

/// Encodes a checkpoint.
pub fn encode_checkpoint(c: &Checkpoint) -> CheckpointFile {
    let mut params = Vec::new();
    for l in &c.mlp.layers {
        params.extend(l.w.iter());
        params.extend(l.b.iter());
    }
    let (mut m, mut v) = (Vec::new(), Vec::new());
    for mo in &c.adam.moments {
        m.extend(mo.mw.iter());
        m.extend(mo.mb.iter());
        v.extend(mo.vw.iter());
        v.extend(mo.vb.iter());
    }
    CheckpointFile {
        epoch: c.epoch,
        adam_t: c.adam.t,
        adam: c.adam.config,
        params: blob::encode_f32_stored(&params),
        adam_m: blob::encode_f32_stored(&m),
        adam_v: blob::encode_f32_stored(&v),
    }
}

/// Builds the in-memory session from a parsed file, checking every shape, then every value
/// the session's own numbers can contradict ([`super::validate`]).
///
/// # Errors
/// [`SessionError::NotASession`], [`SessionError::NewerSchema`],
/// [`SessionError::Inconsistent`], [`SessionError::BadBlob`] or [`SessionError::Invalid`],
/// each naming `path`.
pub fn decode(file: SessionFile, path: &Path) -> Result<Session, SessionError> {
    if file.format != FORMAT {
        return Err(SessionError::NotASession {
            path: path.to_path_buf(),
            reason: format!("format is '{}'", file.format),
        });
    }
    if file.schema > SCHEMA {
        return Err(SessionError::NewerSchema {
            path: path.to_path_buf(),
            found: file.schema,
            supported: SCHEMA,
        });
    }
    let inconsistent = |problem: String| SessionError::Inconsistent {
        path: path.to_path_buf(),
        problem,
    };
    let bad = |what: String| {
        move |e: BlobError| SessionError::BadBlob {
            path: path.to_path_buf(),
            what,
            problem: e.to_string(),
        }
    };
    let classes = file.dataset.train_class_counts.len();
    if classes == 0 || classes > 1000 {
        return Err(inconsistent(format!("{classes} classes")));
    }
    if file.widths.is_empty()
        || file.widths.len() > crate::preset::MAX_HIDDEN_LAYERS
        || file
            .widths
            .iter()
            .any(|&w| w == 0 || w > crate::preset::MAX_WIDTH)
    {
        return Err(inconsistent(format!("hidden widths {:?}", file.widths)));
    }
    if file.widths.len() != file.preset.hidden_layers
        || file.widths.iter().any(|&w| w != file.preset.width)
    {
        return Err(inconsistent(format!(
            "hidden widths {:?} do not match the preset ({} layers of {})",
            file.widths, file.preset.hidden_layers, file.preset.width
        )));
    }
    if let Err(e) = file.preset.validate_fields("preset") {
        return Err(inconsistent(e.to_string()));
    }
    if file.probe.size > crate::preset::MAX_PROBE {
        return Err(inconsistent(format!(
            "probe of {} samples",
            file.probe.size
        )));
    }
    let size = file.probe.size;
    let probe = ProbeSet {
        indices: blob::decode_u32(&file.probe.indices, size)
            .map_err(bad("probe indices".into()))?,
        labels: blob::decode_bytes(&file.probe.labels, size).map_err(bad("probe labels".into()))?,
        pixels: blob::decode_bytes(&file.probe.pixels, size * PIXELS)
            .map_err(bad("probe pixels".into()))?,
    };
    if let Some(l) = probe.labels.iter().find(|&&l| usize::from(l) >= classes) {
        return Err(inconsistent(format!(
            "probe label {l} with {classes} classes"
        )));
    }
    let words = probe.words();
    let mut prev: Vec<Vec<u64>> = Vec::new();
    let mut epochs = Vec::with_capacity(file.epochs.len());
    for (i, e) in file.epochs.into_iter().enumerate() {
        if e.layers.len() != file.widths.len() {
            return Err(inconsistent(format!(
                "epoch {} has {} layers, widths say {}",
                e.epoch,
                e.layers.len(),
                file.widths.len()
            )));
        }
        let mut layers = Vec::with_capacity(e.layers.len());
        for (l, (lf, &w)) in e.layers.into_iter().zip(&file.widths).enumerate() {
            let what = |name: &str| format!("epoch {} layer {} {name}", e.epoch, l + 1);
            let counts = blob::decode_u32(&lf.counts, w * classes).map_err(bad(what("counts")))?;
            let churn_len = if i == 0 { 0 } else { w };
            let churn = blob::decode_f32(&lf.churn, churn_len).map_err(bad(what("churn")))?;
            let mut bits =
                blob::decode_u64(&lf.probe_delta, w * words).map_err(bad(what("probe")))?;
            if let Some(p) = prev.get(l) {
                for (b, p) in bits.iter_mut().zip(p) {
                    *b ^= p;
                }
            }
            layers.push(LayerRecord {
                summary: lf.summary,
                counts,
                churn,
                probe_bits: bits,
            });
        }
        prev = layers.iter().map(|l| l.probe_bits.clone()).collect();
        epochs.push(EpochRecord {
            epoch: e.epoch,
            train_loss: e.train_loss,
            train_accuracy: e.train_accuracy,
            test_loss: e.test_loss,
            test_accuracy: e.test_accuracy,
            minibatch_loss: e.minibatch_loss,
            timing: e.timing,
            layers,
        });
    }
    let checkpoint = match file.checkpoint {
        None => None,
        Some(c) => Some(decode_checkpoint(&c, &file.widths, classes, path)?),
    };
    let session = Session {
        app_version: file.app_version,
        preset: file.preset,
        dataset: file.dataset,
        threads: file.threads,
        widths: file.widths,
        probe,
        epochs,
        status: file.status,
        checkpoint,
    };
    super::validate::validate(&session, path)?;
    Ok(session)
}

fn decode_checkpoint(
    c: &CheckpointFile,
    widths: &[usize],
    classes: usize,
    path: &Path,
) -> Result<Checkpoint, SessionError> {
    let mut sizes = vec![PIXELS];
    sizes.extend_from_slice(widths);
    sizes.push(classes);
    let total: usize = sizes.windows(2).map(|p| p[0] * p[1] + p[1]).sum();
    let bad = |what: &'static str| {
        move |e: BlobError| SessionError::BadBlob {
            path: path.to_path_buf(),
            what: format!("checkpoint {what}"),
            problem: e.to_string(),
        }
    };
    let params = blob::decode_f32(&c.params, total).map_err(bad("weights"))?;
    let m = blob::decode_f32(&c.adam_m, total).map_err(bad("Adam first moments"))?;
    let v = blob::decode_f32(&c.adam_v, total).map_err(bad("Adam second moments"))?;
    let mut layers = Vec::new();
    let mut moments = Vec::new();
    let mut at = 0;
    let shape_error = |problem: String| SessionError::Inconsistent {
        path: path.to_path_buf(),
        problem: format!("checkpoint shape: {problem}"),
    };
    for p in sizes.windows(2) {
        let (i, o) = (p[0], p[1]);
        // The blobs hold exactly `total` values (checked above), so these ranges are inside.
        let take = |src: &[f32], at: usize, n: usize| {
            src.get(at..at + n)
                .map(<[f32]>::to_vec)
                .ok_or_else(|| shape_error(format!("{n} values at {at} of {}", src.len())))
        };
        let mat = |src: &[f32]| {
            Array2::from_shape_vec((i, o), take(src, at, i * o)?)
                .map_err(|e| shape_error(e.to_string()))
        };
        let w = mat(&params)?;
        let mw = mat(&m)?;
        let vw = mat(&v)?;
        let b = Array1::from(take(&params, at + i * o, o)?);
        let mb = Array1::from(take(&m, at + i * o, o)?);
        let vb = Array1::from(take(&v, at + i * o, o)?);
        at += i * o + o;
        layers.push(Dense { w, b });
        moments.push(LayerMoments { mw, vw, mb, vb });
    }
    Ok(Checkpoint {
        epoch: c.epoch,
        mlp: Mlp { layers },
        adam: Adam {
            config: c.adam,
            t: c.adam_t,
            moments,
        },
    })
}
