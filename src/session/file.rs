//! The on-disk layout of a session (schema 3; schemas 1 and 2 still read) and its conversion to
//! and from [`Session`].
//!
//! Scalars (preset, data identity, losses, accuracies, timings, layer summaries) are plain RON.
//! Bulk per-node arrays are [`blob`](super::blob) strings; "planes" marks the u32 and f32
//! arrays that schema 3 writes as byte planes ([`blob::encode_u32_planes`]), where schemas 1
//! and 2 wrote each element's bytes in turn ([`Layout`]):
//! - `counts`: u32 `[nodes, classes]` on-counts; schema 3: planes of their zigzag deltas
//!   against the previous record's counts ([`blob::delta_zigzag`]; the first record's against
//!   zeros): most counts change by a few samples between records, so the deltas are small
//!   numbers (on a 9x320 run 29 % smaller than the counts);
//! - `added` (schema 2, planes in 3): u32 `[nodes]`, samples that entered each set since the
//!   previous record (absent at the first); `removed` and churn are derived from it (see
//!   [`records`](super::records));
//! - `churn` (schema 1, and records of schema-1 sessions resumed later): f32 `[nodes]`;
//! - `cost` (schema 2): the node-supported cost, see [`CostFile`];
//! - `probe_delta`: u64 `[nodes, probe_words]`, the probe bitsets XOR the previous epoch's
//!   (epoch 0 stores them as they are). Late in training few memberships change, so the XOR
//!   is mostly zeros and compresses well; decoding replays the XORs from epoch 0;
//! - checkpoint `params`, `adam_m`, `adam_v` (planes in 3): f32, every layer's weights
//!   `[inputs, outputs]` then biases `[outputs]`, layer by layer. A running session's are
//!   stored uncompressed (they are rewritten after every epoch), a finished one's compressed.

use std::path::Path;

use ndarray::{Array1, Array2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::blob::{self, BlobError};
use super::model::{
    Checkpoint, EpochRecord, LayerCost, LayerRecord, ProbeSet, RunStatus, Session, Timing,
};
use super::records::{self, bf16_bits, from_bf16_bits, set_sizes};
use super::{FORMAT, SCHEMA, SessionError};
use crate::data::DatasetIdentity;
use crate::data::dataset::PIXELS;
use crate::measure::{LayerSummary, Quartiles, Schedule};
use crate::nn::adam::LayerMoments;
use crate::nn::{Adam, AdamConfig, Dense, Mlp};
use crate::preset::Preset;

/// The file, field by field. Schema 1 differs only by the fields marked schema 2: its records
/// have no `step` (they are per epoch: step = epoch x steps per epoch), its preset no
/// `schedule` (read as [`Schedule::PerEpoch`]).
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
    /// Output error below which a sample counts as settled (schema 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled_below: Option<f32>,
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

/// One record on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EpochFile {
    /// Minibatch steps before the record (schema 2; schema 1 has none: read as 0 and replaced
    /// by `epoch` x steps per epoch).
    #[serde(default)]
    pub step: u64,
    /// Epochs completed.
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
    /// Share of settled training samples (schema 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled_share: Option<f64>,
    /// Per-sample loss over the training set (schema 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_loss: Option<Quartiles>,
    /// Per hidden layer.
    pub layers: Vec<LayerFile>,
}

/// One layer at one record on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerFile {
    /// Readable summary.
    pub summary: LayerSummary,
    /// Blob of on-counts.
    pub counts: String,
    /// Blob of churn values (schema 1, or records without `added`; empty otherwise).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub churn: String,
    /// Blob of probe bitsets XOR the previous record's.
    pub probe_delta: String,
    /// Blob of u32 `[nodes]`: samples added to each set since the previous record (schema 2;
    /// empty at the first record).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub added: String,
    /// Node-supported cost (schema 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<CostFile>,
}

/// A layer's node-supported cost on disk (see [`LayerCost`] and
/// [`records`](super::records) for the encodings; `settled` is in byte planes in schema 3).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CostFile {
    /// Blob of bfloat16 (u16) `[nodes]`: mean |φ| over each set.
    pub mean_abs: String,
    /// Blob of bfloat16 (u16) `[nodes]`: each node's largest |class mean φ|.
    pub class_scale: String,
    /// Blob of i8 `[nodes, classes]`: class mean φ in 127ths of the class scale (-128: none).
    pub class_push: String,
    /// Blob of u32 `[nodes]`: settled samples in each set.
    pub settled: String,
}

/// How a file's u32 and f32 arrays are laid out in their blobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Schemas 1 and 2: each element's little-endian bytes in turn; class counts as they are.
    Plain,
    /// Schema 3: byte planes ([`blob::encode_u32_planes`]); class counts as zigzag deltas
    /// against the previous record's.
    Planes,
}

impl Layout {
    /// The layout of files of `schema`.
    pub fn of(schema: u32) -> Self {
        if schema >= 3 {
            Self::Planes
        } else {
            Self::Plain
        }
    }

    fn u32s(self, text: &str, n: usize) -> Result<Vec<u32>, BlobError> {
        match self {
            Self::Plain => blob::decode_u32(text, n),
            Self::Planes => blob::decode_u32_planes(text, n),
        }
    }

    /// `sizes.iter().sum()` f32 values as consecutive parts of `sizes[k]` values each.
    fn f32_parts(self, text: &str, sizes: &[usize]) -> Result<Vec<Vec<f32>>, BlobError> {
        match self {
            Self::Plain => {
                let n = sizes.iter().fold(0usize, |a, &k| a.saturating_add(k));
                let mut values = blob::decode_f32(text, n)?.into_iter();
                Ok(sizes
                    .iter()
                    .map(|&k| values.by_ref().take(k).collect())
                    .collect())
            }
            Self::Planes => blob::decode_f32_planes_parts(text, sizes),
        }
    }
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

/// Encodes one record (schema 3); `prev` is the record before it (`None` for the first), whose
/// probe bitsets and class counts this record's are stored against.
pub fn encode_epoch(rec: &EpochRecord, prev: Option<&EpochRecord>) -> EpochFile {
    let level = blob::RECORD_LEVEL;
    let layers = rec
        .layers
        .iter()
        .enumerate()
        .map(|(l, layer)| {
            let before = prev.and_then(|p| p.layers.get(l));
            let delta: Vec<u64> = match before {
                Some(b) if b.probe_bits.len() == layer.probe_bits.len() => layer
                    .probe_bits
                    .iter()
                    .zip(&b.probe_bits)
                    .map(|(a, b)| a ^ b)
                    .collect(),
                _ => layer.probe_bits.clone(),
            };
            let counts_before = before.map_or(&[][..], |b| b.counts.as_slice());
            // Churn follows from `added` when it is there (records measured since schema 2).
            let churn = if layer.added.is_empty() && !layer.churn.is_empty() {
                blob::encode_f32(&layer.churn)
            } else {
                String::new()
            };
            let added = if layer.added.is_empty() {
                String::new()
            } else {
                blob::encode_u32_planes(&layer.added, level)
            };
            let probe: Vec<u8> = delta.iter().flat_map(|w| w.to_le_bytes()).collect();
            LayerFile {
                summary: layer.summary,
                counts: blob::encode_u32_planes(
                    &blob::delta_zigzag(&layer.counts, counts_before),
                    level,
                ),
                churn,
                probe_delta: blob::encode_bytes_at(&probe, level),
                added,
                cost: layer.cost.as_ref().map(encode_cost),
            }
        })
        .collect();
    EpochFile {
        step: rec.step,
        epoch: rec.epoch,
        train_loss: rec.train_loss,
        train_accuracy: rec.train_accuracy,
        test_loss: rec.test_loss,
        test_accuracy: rec.test_accuracy,
        minibatch_loss: rec.minibatch_loss,
        timing: rec.timing,
        settled_share: rec.settled_share,
        sample_loss: rec.sample_loss,
        layers,
    }
}

/// Encodes every record of `epochs` (on all cores: each needs only the one before it).
pub fn encode_epochs(epochs: &[EpochRecord]) -> Vec<EpochFile> {
    epochs
        .par_iter()
        .enumerate()
        .map(|(i, e)| encode_epoch(e, i.checked_sub(1).and_then(|p| epochs.get(p))))
        .collect()
}

fn encode_bf16(v: &[f32]) -> String {
    let bytes: Vec<u8> = v.iter().flat_map(|&x| bf16_bits(x).to_le_bytes()).collect();
    blob::encode_bytes_at(&bytes, blob::RECORD_LEVEL)
}

fn decode_bf16(text: &str, n: usize) -> Result<Vec<f32>, BlobError> {
    let b = blob::decode_bytes(text, n.saturating_mul(2))?;
    Ok(b.chunks_exact(2)
        .map(|c| from_bf16_bits(u16::from_le_bytes([c[0], c[1]])))
        .collect())
}

/// Encodes a layer's node-supported cost (schema 3).
pub fn encode_cost(c: &LayerCost) -> CostFile {
    let push: Vec<u8> = c.class_push.iter().map(|&q| q.to_le_bytes()[0]).collect();
    CostFile {
        mean_abs: encode_bf16(&c.mean_abs),
        class_scale: encode_bf16(&c.class_scale),
        class_push: blob::encode_bytes_at(&push, blob::RECORD_LEVEL),
        settled: blob::encode_u32_planes(&c.settled, blob::RECORD_LEVEL),
    }
}

/// Decodes a layer's node-supported cost for `nodes` nodes and `classes` classes from a file
/// of `layout`.
///
/// # Errors
/// [`BlobError`] naming nothing (the caller names the record): bad blobs or lengths.
pub fn decode_cost(
    c: &CostFile,
    nodes: usize,
    classes: usize,
    layout: Layout,
) -> Result<LayerCost, BlobError> {
    let push = blob::decode_bytes(&c.class_push, nodes * classes)?;
    Ok(LayerCost {
        mean_abs: decode_bf16(&c.mean_abs, nodes)?,
        class_scale: decode_bf16(&c.class_scale, nodes)?,
        class_push: push.into_iter().map(|b| i8::from_le_bytes([b])).collect(),
        settled: layout.u32s(&c.settled, nodes)?,
    })
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

/// DEFLATE level of a finished session's checkpoint. A running session's checkpoint is
/// rewritten after every epoch and stored (level 0): compressing the 12.9 MB of a 9x320
/// network's weights and Adam moments took longer than it is worth there, while a finished
/// session is written once. Most of their bytes are mantissa bits that do not compress; the
/// byte plane of signs and exponents does (to 40 % for the weights).
pub const FINISHED_CHECKPOINT_LEVEL: u32 = 4;

/// Encodes a checkpoint (schema 3) at DEFLATE `level` (0: stored, see
/// [`FINISHED_CHECKPOINT_LEVEL`]).
pub fn encode_checkpoint(c: &Checkpoint, level: u32) -> CheckpointFile {
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
        params: blob::encode_f32_planes(&params, level),
        adam_m: blob::encode_f32_planes(&m, level),
        adam_v: blob::encode_f32_planes(&v, level),
    }
}

/// Builds the in-memory session from a parsed file, checking every shape, then every value
/// the session's own numbers can contradict ([`super::validate`]).
///
/// # Errors
/// [`SessionError::NotASession`], [`SessionError::NewerSchema`],
/// [`SessionError::Inconsistent`], [`SessionError::BadBlob`] or [`SessionError::Invalid`],
/// each naming `path`.
pub fn decode(mut file: SessionFile, path: &Path) -> Result<Session, SessionError> {
    let epochs = std::mem::take(&mut file.epochs);
    decode_bulk(file, Bulk::Parsed(epochs), path)
}

/// The parts of a file that hold its bulk arrays: its records and its checkpoint, parsed or
/// still text (see [`super::parts`]).
pub enum Bulk<'a> {
    /// Parsed with the rest of the file (whose checkpoint is used).
    Parsed(Vec<EpochFile>),
    /// Each record's RON text and the checkpoint's (`Some(...)` or `None`), each parsed by the
    /// thread that decodes it (the file's own checkpoint is ignored).
    Text {
        /// The records' texts, in order.
        records: Vec<&'a str>,
        /// The checkpoint's text.
        checkpoint: &'a str,
    },
}

impl Bulk<'_> {
    fn records(&self) -> usize {
        match self {
            Self::Parsed(v) => v.len(),
            Self::Text { records, .. } => records.len(),
        }
    }
}

/// [`decode`] of a file whose records (and checkpoint) are given apart from it, in `bulk`
/// (`file.epochs` is ignored).
///
/// # Errors
/// As [`decode`]; a record's or the checkpoint's text that does not parse is
/// [`SessionError::Corrupt`] (the loader then parses the whole file, which names the line and
/// column).
pub fn decode_bulk(
    file: SessionFile,
    bulk: Bulk<'_>,
    path: &Path,
) -> Result<Session, SessionError> {
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
    super::validate::validate_head(&file.dataset, file.settled_below, path)?;
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
        return Err(inconsistent(format!(
            "hidden widths {:?} (1 to {} layers of 1 to {} nodes)",
            file.widths,
            crate::preset::MAX_HIDDEN_LAYERS,
            crate::preset::MAX_WIDTH
        )));
    }
    if let Err(e) = file.preset.validate_fields("preset") {
        return Err(inconsistent(e.to_string()));
    }
    if file.widths.len() != file.preset.hidden_layers
        || file.widths.iter().any(|&w| w != file.preset.width)
    {
        return Err(inconsistent(format!(
            "hidden widths {:?} do not match the preset ({} layers of {})",
            file.widths, file.preset.hidden_layers, file.preset.width
        )));
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
    // Schema 1 measured once per epoch and knew no schedule.
    let mut preset = file.preset;
    if file.schema < 2 {
        preset.schedule = Schedule::PerEpoch;
    }
    let steps_per_epoch =
        crate::measure::schedule::steps_per_epoch(file.dataset.train_samples, preset.batch_size);
    let shapes = Shapes {
        schema: file.schema,
        layout: Layout::of(file.schema),
        widths: &file.widths,
        classes,
        words,
        steps_per_epoch,
    };
    // The blobs of every record, and the checkpoint's, decode on all cores; what a record
    // stores against the record before it is resolved after, in order.
    let parallel = worth_threads(file.widths.iter().sum(), bulk.records());
    let corrupt = |e: ron::error::SpannedError| SessionError::Corrupt {
        path: path.to_path_buf(),
        message: crate::ron_error::describe(&e),
    };
    let (records, checkpoint_file) = match bulk {
        Bulk::Parsed(v) => (Records::Parsed(v), Ok(file.checkpoint)),
        Bulk::Text {
            records,
            checkpoint,
        } => (Records::Text(records), Err(checkpoint)),
    };
    let (decoded, checkpoint) = join(
        parallel,
        || decode_all_blobs(records, &shapes, parallel, path),
        || {
            let c = match checkpoint_file {
                Ok(c) => c,
                Err(text) => ron::from_str::<Option<CheckpointFile>>(text).map_err(corrupt)?,
            };
            Ok::<_, SessionError>(c.map(|c| {
                let widths = &file.widths;
                let cp = decode_checkpoint(&c, widths, classes, shapes.layout, parallel, path);
                (c.epoch, cp)
            }))
        },
    );
    let checkpoint = checkpoint?;
    let mut epochs: Vec<EpochRecord> = Vec::with_capacity(decoded.len());
    // Each layer's blobs over the records: what a record stores against the one before it is
    // resolved layer by layer (on all cores: the layers do not depend on each other).
    let mut by_layer: Vec<Vec<LayerBlobs>> = file
        .widths
        .iter()
        .map(|_| Vec::with_capacity(decoded.len()))
        .collect();
    for d in decoded {
        let (rec, blobs) = d?;
        // Records are stored in step order; each is decoded against the one before it.
        if let Some(before) = epochs.last()
            && rec.step <= before.step
        {
            return Err(inconsistent(format!(
                "record {} is at step {}, not after the record before it (step {}): records \
                 out of order or repeated",
                epochs.len(),
                rec.step,
                before.step
            )));
        }
        // `decode_blobs` checked that every record has a layer per width.
        for (layer, b) in by_layer.iter_mut().zip(blobs) {
            layer.push(b);
        }
        epochs.push(rec);
    }
    let steps: Vec<u64> = epochs.iter().map(|e| e.step).collect();
    let resolve =
        |(l, blobs): (usize, Vec<LayerBlobs>)| resolve_layer(l, blobs, &steps, &shapes, path);
    let resolved: Vec<Result<Vec<LayerRecord>, (usize, SessionError)>> = if parallel {
        by_layer.into_par_iter().enumerate().map(resolve).collect()
    } else {
        by_layer.into_iter().enumerate().map(resolve).collect()
    };
    // The first problem in record order (then layer order), as a walk over the records finds.
    let mut layers = Vec::with_capacity(resolved.len());
    let mut first: Option<(usize, SessionError)> = None;
    for r in resolved {
        match r {
            Ok(l) => layers.push(l.into_iter()),
            Err((i, e)) => {
                if first.as_ref().is_none_or(|(at, _)| i < *at) {
                    first = Some((i, e));
                }
            }
        }
    }
    if let Some((_, e)) = first {
        return Err(e);
    }
    for rec in &mut epochs {
        rec.layers = layers.iter_mut().filter_map(Iterator::next).collect();
    }
    let checkpoint = match checkpoint {
        None => None,
        Some((cp_epoch, decoded)) => {
            // Resuming continues after the checkpoint's epoch, so that epoch's record must be
            // there, followed only by records inside the next epoch (measured again on resume).
            let cp_step = u64::from(cp_epoch) * steps_per_epoch;
            let at = epochs.iter().position(|e| e.step == cp_step);
            let after_next_epoch = epochs
                .last()
                .is_some_and(|e| e.step >= cp_step + steps_per_epoch);
            if at.is_none() || after_next_epoch {
                let last = epochs.last().map_or("there are no records".into(), |e| {
                    format!("the last record is at step {}", e.step)
                });
                return Err(inconsistent(format!(
                    "the checkpoint is at epoch {cp_epoch}, step {cp_step} ({steps_per_epoch} \
                     steps per epoch: {} samples in minibatches of {}), but {}",
                    file.dataset.train_samples,
                    preset.batch_size,
                    if at.is_none() {
                        format!("no record is at that step ({last})")
                    } else {
                        format!("records follow it past the next epoch ({last})")
                    }
                )));
            }
            Some(decoded?)
        }
    };
    let session = Session {
        app_version: file.app_version,
        preset,
        dataset: file.dataset,
        threads: file.threads,
        widths: file.widths,
        probe,
        epochs,
        status: file.status,
        checkpoint,
        settled_below: file.settled_below,
    };
    super::validate::validate(&session, path)?;
    Ok(session)
}

/// Whether a session of `nodes` hidden nodes and `records` records is decoded and checked on
/// all cores. Small ones stay on the calling thread: there threads cost more than they save,
/// and the fuzz test's allocation bound, which counts per thread, sees all of a case's memory.
pub fn worth_threads(nodes: usize, records: usize) -> bool {
    nodes.saturating_mul(records) >= 20_000
}

/// `(a(), b())`, side by side on the thread pool when `parallel`.
fn join<A: Send, B: Send>(
    parallel: bool,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    if parallel {
        rayon::join(a, b)
    } else {
        (a(), b())
    }
}

/// What decoding a file's records needs to know of the whole file.
struct Shapes<'a> {
    schema: u32,
    layout: Layout,
    widths: &'a [usize],
    classes: usize,
    /// u64 words per probe bitset.
    words: usize,
    steps_per_epoch: u64,
}

/// One layer of one record with its blobs decoded, before what it stores against the
/// previous record (class counts in schema 3, probe bits, turnover) is resolved.
struct LayerBlobs {
    summary: LayerSummary,
    /// On-counts, or (schema 3) their zigzag deltas against the previous record's.
    counts: Vec<u32>,
    added: Option<Vec<u32>>,
    /// Churn of a record without `added` (empty at the first record).
    churn: Vec<f32>,
    cost: Option<LayerCost>,
    /// Probe bits XOR the previous record's.
    probe_delta: Vec<u64>,
}

/// Decodes the blobs of record `i`, checking each one's length against the file's shapes.
/// The record comes back without layers; they are in the [`LayerBlobs`].
fn decode_blobs(
    i: usize,
    e: EpochFile,
    shapes: &Shapes<'_>,
    path: &Path,
) -> Result<(EpochRecord, Vec<LayerBlobs>), SessionError> {
    let step = if shapes.schema < 2 {
        u64::from(e.epoch) * shapes.steps_per_epoch
    } else {
        e.step
    };
    if e.layers.len() != shapes.widths.len() {
        return Err(SessionError::Inconsistent {
            path: path.to_path_buf(),
            problem: format!(
                "record at step {step} has {} layers, widths say {}",
                e.layers.len(),
                shapes.widths.len()
            ),
        });
    }
    let classes = shapes.classes;
    let mut layers = Vec::with_capacity(e.layers.len());
    for (l, (lf, &w)) in e.layers.into_iter().zip(shapes.widths).enumerate() {
        let what = |name: &str| format!("step {step} layer {} {name}", l + 1);
        let bad = |name: &str| {
            let what = what(name);
            move |e: BlobError| SessionError::BadBlob {
                path: path.to_path_buf(),
                what,
                problem: e.to_string(),
            }
        };
        let counts = shapes
            .layout
            .u32s(&lf.counts, w * classes)
            .map_err(bad("counts"))?;
        let added = if lf.added.is_empty() {
            None
        } else {
            Some(shapes.layout.u32s(&lf.added, w).map_err(bad("added"))?)
        };
        let churn = if added.is_some() || (lf.churn.is_empty() && i == 0) {
            Vec::new()
        } else {
            let churn_len = if i == 0 { 0 } else { w };
            blob::decode_f32(&lf.churn, churn_len).map_err(bad("churn"))?
        };
        let cost = match &lf.cost {
            None => None,
            Some(c) => Some(decode_cost(c, w, classes, shapes.layout).map_err(bad("cost"))?),
        };
        let probe_delta =
            blob::decode_u64(&lf.probe_delta, w * shapes.words).map_err(bad("probe"))?;
        layers.push(LayerBlobs {
            summary: lf.summary,
            counts,
            added,
            churn,
            cost,
            probe_delta,
        });
    }
    let rec = EpochRecord {
        step,
        epoch: e.epoch,
        train_loss: e.train_loss,
        train_accuracy: e.train_accuracy,
        test_loss: e.test_loss,
        test_accuracy: e.test_accuracy,
        minibatch_loss: e.minibatch_loss,
        timing: e.timing,
        layers: Vec::new(),
        settled_share: e.settled_share,
        sample_loss: e.sample_loss,
    };
    Ok((rec, layers))
}

/// A file's records, parsed or still text.
enum Records<'a> {
    Parsed(Vec<EpochFile>),
    Text(Vec<&'a str>),
}

/// The blobs of every record (on all cores when `parallel`), each record parsed first when it
/// is still text.
fn decode_all_blobs(
    records: Records<'_>,
    shapes: &Shapes<'_>,
    parallel: bool,
    path: &Path,
) -> Vec<Result<(EpochRecord, Vec<LayerBlobs>), SessionError>> {
    let decode = |(i, e)| decode_blobs(i, e, shapes, path);
    let parse_decode = |(i, text): (usize, &str)| {
        let e: EpochFile = ron::from_str(text).map_err(|e| SessionError::Corrupt {
            path: path.to_path_buf(),
            message: crate::ron_error::describe(&e),
        })?;
        decode_blobs(i, e, shapes, path)
    };
    match (records, parallel) {
        (Records::Parsed(v), true) => v.into_par_iter().enumerate().map(decode).collect(),
        (Records::Parsed(v), false) => v.into_iter().enumerate().map(decode).collect(),
        (Records::Text(v), true) => v.into_par_iter().enumerate().map(parse_decode).collect(),
        (Records::Text(v), false) => v.into_iter().enumerate().map(parse_decode).collect(),
    }
}

/// Layer `l`'s records from its blobs over the records (whose steps are `steps`): class counts
/// (schema 3: from their deltas), probe bits from their XORs, turnover from `added` and the
/// set sizes, each against the record before. An error comes with the record it is in.
fn resolve_layer(
    l: usize,
    blobs: Vec<LayerBlobs>,
    steps: &[u64],
    shapes: &Shapes<'_>,
    path: &Path,
) -> Result<Vec<LayerRecord>, (usize, SessionError)> {
    let classes = shapes.classes;
    let mut out: Vec<LayerRecord> = Vec::with_capacity(blobs.len());
    let mut prev_sizes: Option<Vec<u64>> = None;
    for (i, b) in blobs.into_iter().enumerate() {
        let inconsistent = |problem: String| {
            let step = steps.get(i).copied().unwrap_or_default();
            let problem = format!("step {step} layer {} added{problem}", l + 1);
            (
                i,
                SessionError::Inconsistent {
                    path: path.to_path_buf(),
                    problem,
                },
            )
        };
        let before = out.last();
        let mut counts = b.counts;
        if shapes.layout == Layout::Planes {
            blob::undelta_zigzag_in_place(&mut counts, before.map_or(&[][..], |p| &p.counts));
        }
        let sizes = set_sizes(&counts, classes);
        let (added, removed, churn) = match (b.added, &prev_sizes) {
            (Some(added), Some(before)) => {
                if before.len() != added.len() {
                    return Err(inconsistent(format!(
                        ": {} values for {} nodes before",
                        added.len(),
                        before.len()
                    )));
                }
                // Numbers that contradict each other are named by validation.
                let (removed, churn) = records::turnover_unchecked(&sizes, before, &added);
                (added, removed, churn)
            }
            (Some(_), None) => {
                return Err(inconsistent(" without a previous record".into()));
            }
            (None, _) => (Vec::new(), Vec::new(), b.churn),
        };
        let mut bits = b.probe_delta;
        if let Some(p) = before {
            for (b, p) in bits.iter_mut().zip(&p.probe_bits) {
                *b ^= p;
            }
        }
        out.push(LayerRecord {
            summary: b.summary,
            counts,
            churn,
            probe_bits: bits,
            added,
            removed,
            cost: b.cost,
        });
        prev_sizes = Some(sizes);
    }
    Ok(out)
}

/// Most bytes of weights a byte of a checkpoint's weights' text (base64 of DEFLATE) may
/// decode to; real weights give about 1.1, so 16 refuses only forged, highly compressible ones.
const MAX_WEIGHT_EXPANSION: u64 = 16;

fn decode_checkpoint(
    c: &CheckpointFile,
    widths: &[usize],
    classes: usize,
    layout: Layout,
    parallel: bool,
    path: &Path,
) -> Result<Checkpoint, SessionError> {
    let mut sizes = vec![PIXELS];
    sizes.extend_from_slice(widths);
    sizes.push(classes);
    // Every layer's weights `[inputs, outputs]` then biases `[outputs]`, layer by layer.
    let parts: Vec<usize> = sizes.windows(2).flat_map(|p| [p[0] * p[1], p[1]]).collect();
    let bad = |what: &'static str| {
        move |e: BlobError| SessionError::BadBlob {
            path: path.to_path_buf(),
            what: format!("checkpoint {what}"),
            problem: e.to_string(),
        }
    };
    // Weights do not compress much (their mantissas are noise: 0.9 bytes of text per byte
    // on a trained 9x320 network), so a few megabytes of text that claim gigabytes of them are
    // a compression bomb, refused before anything that large is allocated. Adam's moments may
    // be all zeros (a run cancelled in its first epoch) and are bounded by the same count.
    let weights = parts.iter().sum::<usize>() as u64;
    if weights.saturating_mul(4) > (c.params.len() as u64).saturating_mul(MAX_WEIGHT_EXPANSION) {
        return Err(SessionError::Inconsistent {
            path: path.to_path_buf(),
            problem: format!(
                "checkpoint: {} bytes of weights' text cannot hold the {weights} weights of \
                 hidden widths {widths:?} (real weights expand at most {MAX_WEIGHT_EXPANSION}x)",
                c.params.len()
            ),
        });
    }
    let (params, (m, v)) = join(
        parallel,
        || layout.f32_parts(&c.params, &parts),
        || {
            join(
                parallel,
                || layout.f32_parts(&c.adam_m, &parts),
                || layout.f32_parts(&c.adam_v, &parts),
            )
        },
    );
    let mut params = params.map_err(bad("weights"))?.into_iter();
    let mut m = m.map_err(bad("Adam first moments"))?.into_iter();
    let mut v = v.map_err(bad("Adam second moments"))?.into_iter();
    let mut layers = Vec::new();
    let mut moments = Vec::new();
    let shape_error = |problem: String| SessionError::Inconsistent {
        path: path.to_path_buf(),
        problem: format!("checkpoint shape: {problem}"),
    };
    for p in sizes.windows(2) {
        let (i, o) = (p[0], p[1]);
        // The blobs hold exactly the parts asked for (checked above), two per layer.
        let (Some(w), Some(b), Some(mw), Some(mb), Some(vw), Some(vb)) = (
            params.next(),
            params.next(),
            m.next(),
            m.next(),
            v.next(),
            v.next(),
        ) else {
            return Err(shape_error(format!("no values for the {i}x{o} layer")));
        };
        let mat = |values: Vec<f32>| {
            Array2::from_shape_vec((i, o), values).map_err(|e| shape_error(e.to_string()))
        };
        layers.push(Dense {
            w: mat(w)?,
            b: Array1::from(b),
        });
        moments.push(LayerMoments {
            mw: mat(mw)?,
            vw: mat(vw)?,
            mb: Array1::from(mb),
            vb: Array1::from(vb),
        });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_whose_text_cannot_hold_its_weights_is_refused_before_decoding() {
        // Two hidden layers of 4096: 20 million weights, 80 MB of zeros that DEFLATE packs
        // into about 100 KB of text (the bad-file review's 2.4 MB file took 2.2 GB to refuse).
        let widths = [4096, 4096];
        let weights = (PIXELS * 4096 + 4096) + (4096 * 4096 + 4096) + (4096 * 10 + 10);
        let zeros = blob::encode_bytes_at(&vec![0u8; weights * 4], 9);
        assert!(
            zeros.len() * 100 < weights * 4,
            "{} bytes of text",
            zeros.len()
        );
        let c = CheckpointFile {
            epoch: 1,
            adam_t: 469,
            adam: AdamConfig::default(),
            params: zeros.clone(),
            adam_m: zeros.clone(),
            adam_v: zeros,
        };
        let path = Path::new("bomb.ron");
        match decode_checkpoint(&c, &widths, 10, Layout::Planes, false, path) {
            Err(SessionError::Inconsistent { problem, .. }) => {
                assert!(problem.contains("cannot hold"), "{problem}");
                assert!(!problem.contains("  "), "{problem}");
            }
            Err(e) => panic!("another error: {e}"),
            Ok(_) => panic!("the checkpoint decoded"),
        }
    }
}
