//! Checks that a decoded session does not contradict itself, so that views, exports and a
//! resumed run never work on numbers that cannot be: on-counts above their class sizes, class
//! counts that do not add up to the training set, more dead nodes than a layer has, accuracies
//! outside [0, 1], quartiles out of range or order, NaN where no NaN can arise, epochs that do
//! not increase or exceed the preset's, probe samples outside the training set or out of
//! their class grouping, a checkpoint unlike the one the run would have written.
//!
//! [`validate`] works on the in-memory [`Session`] after [`super::file::decode`] has checked
//! the shapes (every array has the length its widths, classes and probe size say), so each
//! check here may index by those shapes. A new field gets its check here too.
//!
//! NaN and infinite losses are allowed in a run whose status is
//! [`RunStatus::Diverged`]: that is what diverging means (figures draw them as gaps).

use std::path::Path;

use rayon::prelude::*;

use super::SessionError;
use super::model::{EpochRecord, LayerRecord, RunStatus, Session};
use crate::data::dataset::{CLASSES, DatasetIdentity, PIXELS};
use crate::measure::bits::{count_range, words_for};
use crate::measure::summary::Quartiles;

/// Slack allowed for quartiles computed in f32 (interpolation may round one ulp past a bound).
const QUARTILE_SLACK: f32 = 1e-5;

/// One contradiction: which record, which field, what is wrong.
struct Invalid {
    record: String,
    field: String,
    problem: String,
}

type Checked = Result<(), Invalid>;

fn invalid(record: impl Into<String>, field: impl Into<String>, problem: String) -> Checked {
    Err(Invalid {
        record: record.into(),
        field: field.into(),
        problem,
    })
}

/// Checks everything `s`'s own numbers can contradict; `path` names the file in the error.
///
/// # Errors
/// [`SessionError::Invalid`] naming `path`, the record (`dataset`, `probe`, `epoch 3`,
/// `epoch 3, layer 2`, `epoch 3, layer 2, node 17`, `checkpoint` or `status`), the field and the
/// problem, for the first contradiction found.
pub fn validate(s: &Session, path: &Path) -> Result<(), SessionError> {
    check(s).map_err(|e| e.at(path))
}

/// The checks of [`validate`] on the numbers a file states before its records: the data set
/// and the settled threshold. Run before the records are decoded, whose shapes (steps per
/// epoch) follow from them, so that the error names the number at fault.
///
/// # Errors
/// As [`validate`].
pub fn validate_head(
    dataset: &DatasetIdentity,
    settled_below: Option<f32>,
    path: &Path,
) -> Result<(), SessionError> {
    check_head(dataset, settled_below).map_err(|e| e.at(path))
}

impl Invalid {
    fn at(self, path: &Path) -> SessionError {
        SessionError::Invalid {
            path: path.to_path_buf(),
            record: self.record,
            field: self.field,
            problem: self.problem,
        }
    }
}

/// Most training or test samples a session may state: as many images as the largest data
/// file the loader reads holds ([`crate::data::idx::MAX_PAYLOAD`] bytes of 28 x 28 pixels).
const MAX_SAMPLES: usize = (crate::data::idx::MAX_PAYLOAD / PIXELS as u64) as usize;

fn check_head(d: &DatasetIdentity, settled_below: Option<f32>) -> Checked {
    check_dataset(d)?;
    if let Some(x) = settled_below
        && !(x > 0.0 && x <= 1.0)
    {
        return invalid(
            "session",
            "settled_below",
            format!("is {x}, not in (0, 1] (an output error)"),
        );
    }
    Ok(())
}

fn check(s: &Session) -> Checked {
    check_head(&s.dataset, s.settled_below)?;
    if s.threads == 0 {
        return invalid("session", "threads", "is 0".into());
    }
    check_probe(s)?;
    // Each record is checked against the one before it; a large session's on all cores. The
    // first contradiction in record order is reported either way.
    let check = |(i, e): (usize, &EpochRecord)| {
        check_epoch(s, e, i.checked_sub(1).and_then(|p| s.epochs.get(p)))
    };
    if super::file::worth_threads(s.nodes(), s.epochs.len()) {
        if let Some(Err(e)) = s
            .epochs
            .par_iter()
            .enumerate()
            .map(check)
            .find_first(Result::is_err)
        {
            return Err(e);
        }
    } else {
        s.epochs.iter().enumerate().try_for_each(check)?;
    }
    check_checkpoint(s)?;
    check_status(s)
}

fn check_dataset(d: &DatasetIdentity) -> Checked {
    if d.train_class_counts.len() != CLASSES {
        return invalid(
            "dataset",
            "train_class_counts",
            format!(
                "has {} classes; sessions are of {CLASSES}-class data sets",
                d.train_class_counts.len()
            ),
        );
    }
    let sum: u64 = d.train_class_counts.iter().map(|&c| u64::from(c)).sum();
    if sum != d.train_samples as u64 {
        return invalid(
            "dataset",
            "train_class_counts",
            format!(
                "add up to {sum} samples but train_samples is {}",
                d.train_samples
            ),
        );
    }
    if d.train_samples == 0 {
        return invalid("dataset", "train_samples", "is 0".into());
    }
    if d.test_samples == 0 {
        return invalid("dataset", "test_samples", "is 0".into());
    }
    for (field, n) in [
        ("train_samples", d.train_samples),
        ("test_samples", d.test_samples),
    ] {
        if n > MAX_SAMPLES {
            return invalid(
                "dataset",
                field,
                format!("is {n}, above {MAX_SAMPLES} (the most images a data file may hold)"),
            );
        }
    }
    let is_sha = |h: &String| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit());
    if d.sha256.len() != 4 || !d.sha256.iter().all(is_sha) {
        return invalid(
            "dataset",
            "sha256",
            "is not four SHA-256 digests (64 hex digits each)".into(),
        );
    }
    Ok(())
}

fn check_probe(s: &Session) -> Checked {
    let p = &s.probe;
    let n = s.dataset.train_samples;
    if p.len() > n || p.len() > s.preset.probe_size {
        return invalid(
            "probe",
            "size",
            format!(
                "is {}: more than the preset's probe_size {} or the {n} training samples",
                p.len(),
                s.preset.probe_size
            ),
        );
    }
    if let Some((k, &i)) = p
        .indices
        .iter()
        .enumerate()
        .find(|&(_, &i)| i as usize >= n)
    {
        return invalid(
            "probe",
            "indices",
            format!(
                "holds {i} at position {k}, but the training set has {n} samples (0..={})",
                n - 1
            ),
        );
    }
    // Grouped by class, class 0 first, ascending training indices within a class.
    for k in 1..p.len() {
        let (l0, l1) = (p.labels[k - 1], p.labels[k]);
        if l1 < l0 {
            return invalid(
                "probe",
                "labels",
                format!("are not grouped by class: label {l1} at position {k} follows label {l0}"),
            );
        }
        if l1 == l0 && p.indices[k] <= p.indices[k - 1] {
            return invalid(
                "probe",
                "indices",
                format!(
                    "are not ascending within class {l0}: {} at position {k} follows {}",
                    p.indices[k],
                    p.indices[k - 1]
                ),
            );
        }
    }
    for (c, &size) in s.dataset.train_class_counts.iter().enumerate() {
        let in_probe = p.labels.iter().filter(|&&l| usize::from(l) == c).count();
        if in_probe > size as usize {
            return invalid(
                "probe",
                "labels",
                format!("hold {in_probe} samples of class {c}, which has {size}"),
            );
        }
    }
    Ok(())
}

/// Where each class's probe samples are: `ranges[c]` is `start..end` in probe order.
fn class_ranges(labels: &[u8]) -> Vec<(usize, usize)> {
    let mut ranges = vec![(0, 0); CLASSES];
    let mut start = 0;
    for k in 1..=labels.len() {
        if k == labels.len() || labels[k] != labels[start] {
            if let Some(r) = ranges.get_mut(usize::from(labels[start])) {
                *r = (start, k);
            }
            start = k;
        }
    }
    ranges
}

fn check_epoch(s: &Session, e: &EpochRecord, previous: Option<&EpochRecord>) -> Checked {
    // A record is named by its step (what identifies it): "epoch 3" at an epoch's end,
    // "step 8 (epoch 0.017)" inside an epoch, where several records share `epoch`.
    let spe = s.steps_per_epoch().max(1);
    let record = if e.step.is_multiple_of(spe) {
        format!("epoch {}", e.step / spe)
    } else {
        format!("step {} (epoch {:.3})", e.step, e.position(spe))
    };
    if let Some(prev) = previous
        && (e.step <= prev.step || e.epoch < prev.epoch)
    {
        return invalid(
            record,
            "step",
            format!("follows step {} (epoch {})", prev.step, prev.epoch),
        );
    }
    if e.epoch > s.preset.epochs {
        return invalid(
            record,
            "epoch",
            format!("is beyond the preset's {} epochs", s.preset.epochs),
        );
    }
    let diverged = matches!(s.status, RunStatus::Diverged { .. });
    let losses = [
        ("train_loss", Some(e.train_loss)),
        ("test_loss", Some(e.test_loss)),
        ("minibatch_loss", e.minibatch_loss),
    ];
    for (field, loss) in losses {
        match loss {
            Some(v) if v.is_finite() && v < 0.0 => {
                return invalid(record, field, format!("is {v}; a loss is never negative"));
            }
            Some(v) if !v.is_finite() && !diverged => {
                return invalid(
                    record,
                    field,
                    format!(
                        "is {v}, but the run did not diverge (status {})",
                        s.status.label()
                    ),
                );
            }
            _ => {}
        }
    }
    for (field, v) in [
        ("train_accuracy", e.train_accuracy),
        ("test_accuracy", e.test_accuracy),
    ] {
        if !(0.0..=1.0).contains(&v) {
            return invalid(record, field, format!("is {v}, not a fraction in [0, 1]"));
        }
    }
    for (field, v) in [
        ("timing.train_s", e.timing.train_s),
        ("timing.measure_s", e.timing.measure_s),
        ("timing.evaluate_s", e.timing.evaluate_s),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            return invalid(record, field, format!("is {v} seconds"));
        }
    }
    let first = previous.is_none();
    let ranges = class_ranges(&s.probe.labels);
    for (l, (layer, &width)) in e.layers.iter().zip(&s.widths).enumerate() {
        let at = format!("{record}, layer {}", l + 1);
        check_layer(s, layer, width, first, &at, &ranges)?;
    }
    // The schema-2 quantities (step, turnover, node-supported cost) against each other; after
    // the checks above, so a count above its class size is named as such first.
    super::records::check_record(e, previous, spe, s.preset.schedule, s.classes())
        .or_else(|(field, problem)| invalid(record, field, problem))
}

fn check_quartiles(record: &str, field: &str, q: &Quartiles) -> Checked {
    let in_range = |v: f32| (-QUARTILE_SLACK..=1.0 + QUARTILE_SLACK).contains(&v);
    let values = [
        ("mean", q.mean),
        ("q1", q.q1),
        ("median", q.median),
        ("q3", q.q3),
    ];
    if let Some((name, v)) = values.iter().find(|(_, v)| !in_range(*v)) {
        return invalid(record, field, format!("{name} is {v}, outside [0, 1]"));
    }
    if q.q1 > q.median + QUARTILE_SLACK || q.median > q.q3 + QUARTILE_SLACK {
        return invalid(
            record,
            field,
            format!(
                "quartiles are out of order (q1 {}, median {}, q3 {})",
                q.q1, q.median, q.q3
            ),
        );
    }
    Ok(())
}

fn check_layer(
    s: &Session,
    layer: &LayerRecord,
    width: usize,
    first: bool,
    record: &str,
    ranges: &[(usize, usize)],
) -> Checked {
    let totals = &s.dataset.train_class_counts;
    let n: u64 = totals.iter().map(|&t| u64::from(t)).sum();
    let node = |j: usize| format!("{record}, node {j}");
    let (mut dead, mut always_on) = (0u64, 0u64);
    for (j, on) in layer.counts.chunks_exact(CLASSES).enumerate() {
        for (c, (&count, &size)) in on.iter().zip(totals).enumerate() {
            if count > size {
                return invalid(
                    node(j),
                    "counts",
                    format!("has {count} samples of class {c} on, but the class has {size}"),
                );
            }
        }
        let total: u64 = on.iter().map(|&c| u64::from(c)).sum();
        dead += u64::from(total == 0);
        always_on += u64::from(total == n);
    }
    let summary = &layer.summary;
    for (field, v, actual) in [
        ("summary.dead", summary.dead, dead),
        ("summary.always_on", summary.always_on, always_on),
    ] {
        if v as usize > width {
            return invalid(
                record,
                field,
                format!("is {v}, more than the layer's {width} nodes"),
            );
        }
        if u64::from(v) != actual {
            return invalid(
                record,
                field,
                format!("is {v}, but the layer's on-counts give {actual}"),
            );
        }
    }
    check_quartiles(
        record,
        "summary.activation_fraction",
        &summary.activation_fraction,
    )?;
    check_quartiles(record, "summary.predictability", &summary.predictability)?;
    check_quartiles(record, "summary.informativeness", &summary.informativeness)?;
    match (&summary.churn, first) {
        (Some(_), true) => {
            return invalid(
                record,
                "summary.churn",
                "is given for the first epoch record, which has no previous one".into(),
            );
        }
        (Some(q), false) => check_quartiles(record, "summary.churn", q)?,
        (None, _) => {}
    }
    // Stored churn (schema 1); schema 2 derives it from `added`, checked with the turnover.
    if let Some((j, v)) = layer
        .churn
        .iter()
        .enumerate()
        .filter(|_| layer.added.is_empty())
        .find(|(_, v)| !(0.0..=1.0).contains(*v))
    {
        return invalid(
            node(j),
            "churn",
            format!("is {v}; a Jaccard similarity lies in [0, 1]"),
        );
    }
    check_probe_bits(s, layer, record, ranges)
}

/// The probe's members must agree with the counts: of class `c`, at most `counts[c]` probe
/// samples are in a node's set and at most `size[c] - counts[c]` are out of it; no bit is set
/// past the probe's end.
fn check_probe_bits(
    s: &Session,
    layer: &LayerRecord,
    record: &str,
    ranges: &[(usize, usize)],
) -> Checked {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("popcnt") {
        // SAFETY: POPCNT, the only feature `check_probe_bits_popcnt` is compiled for, was
        // just detected.
        return unsafe { check_probe_bits_popcnt(s, layer, record, ranges) };
    }
    check_probe_bits_plain(s, layer, record, ranges)
}

/// [`check_probe_bits`] compiled for POPCNT. The crate is built for baseline x86-64, which
/// counts a word's bits in a dozen instructions; this check counts the bits of 6 M class
/// ranges in a 9x320 session of 211 records, which took 8 % of opening it.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
fn check_probe_bits_popcnt(
    s: &Session,
    layer: &LayerRecord,
    record: &str,
    ranges: &[(usize, usize)],
) -> Checked {
    check_probe_bits_plain(s, layer, record, ranges)
}

#[inline(always)]
fn check_probe_bits_plain(
    s: &Session,
    layer: &LayerRecord,
    record: &str,
    ranges: &[(usize, usize)],
) -> Checked {
    let probe = s.probe.len();
    let words = words_for(probe);
    if words == 0 {
        return Ok(());
    }
    let totals = &s.dataset.train_class_counts;
    let tail_mask = match probe % 64 {
        0 => 0,
        r => u64::MAX << r,
    };
    for (j, (bits, on)) in layer
        .probe_bits
        .chunks_exact(words)
        .zip(layer.counts.chunks_exact(CLASSES))
        .enumerate()
    {
        let node = || format!("{record}, node {j}");
        if bits.last().is_some_and(|&w| w & tail_mask != 0) {
            return invalid(
                node(),
                "probe membership",
                format!("has bits set past the probe's {probe} samples"),
            );
        }
        // The class ranges ascend (the probe is grouped by class, checked before), so one
        // pass over the words counts the bits before each range's start and end.
        let mut before = PrefixCount::new(bits);
        for (c, &(start, end)) in ranges.iter().enumerate() {
            let members = u64::from(if start >= end {
                0
            } else if start >= before.at {
                let at_start = before.up_to(start);
                before.up_to(end) - at_start
            } else {
                count_range(bits, start, end)
            });
            let outside = (end - start) as u64 - members;
            let (count, size) = (u64::from(on[c]), u64::from(totals[c]));
            if members > count || outside > size - count.min(size) {
                return invalid(
                    node(),
                    "probe membership",
                    format!(
                        "has {members} of the probe's {} class-{c} samples on, but the counts \
                         say {count} of the class's {size} are",
                        end - start
                    ),
                );
            }
        }
    }
    Ok(())
}

/// Set bits of a bitset before a position that only moves forward.
struct PrefixCount<'a> {
    words: &'a [u64],
    /// The last position asked for.
    at: usize,
    /// Words counted so far, and their set bits.
    counted: usize,
    bits: u32,
}

impl<'a> PrefixCount<'a> {
    fn new(words: &'a [u64]) -> Self {
        Self {
            words,
            at: 0,
            counted: 0,
            bits: 0,
        }
    }

    /// Set bits in positions `..x`, for `x` at or after the last position asked for.
    #[inline(always)]
    fn up_to(&mut self, x: usize) -> u32 {
        self.at = x;
        let w = x / 64;
        while self.counted < w {
            self.bits += self.words.get(self.counted).map_or(0, |b| b.count_ones());
            self.counted += 1;
        }
        let low = match x % 64 {
            0 => 0,
            r => self
                .words
                .get(w)
                .map_or(0, |b| (b & ((1u64 << r) - 1)).count_ones()),
        };
        self.bits + low
    }
}

fn check_checkpoint(s: &Session) -> Checked {
    let Some(c) = &s.checkpoint else {
        return Ok(());
    };
    let last = s.epochs.last().map(|e| e.epoch);
    if last != Some(c.epoch) {
        return invalid(
            "checkpoint",
            "epoch",
            format!(
                "is {}, but the last epoch record is {}",
                c.epoch,
                last.map_or("missing".into(), |e| e.to_string())
            ),
        );
    }
    if c.adam.config != s.preset.adam {
        return invalid(
            "checkpoint",
            "adam",
            format!(
                "{:?} differs from the preset's {:?}",
                c.adam.config, s.preset.adam
            ),
        );
    }
    // Every epoch takes ceil(samples / batch) Adam steps.
    let steps = s.dataset.train_samples.div_ceil(s.preset.batch_size.max(1)) as u64;
    let expected = u64::from(c.epoch).saturating_mul(steps);
    if c.adam.t != expected {
        return invalid(
            "checkpoint",
            "adam_t",
            format!(
                "is {}, but {} epochs of {steps} minibatches take {expected} steps",
                c.adam.t, c.epoch
            ),
        );
    }
    let params = c
        .mlp
        .layers
        .iter()
        .flat_map(|l| l.w.iter().chain(l.b.iter()));
    if params.clone().any(|v| !v.is_finite()) {
        return invalid(
            "checkpoint",
            "params",
            "holds NaN or infinite weights".into(),
        );
    }
    let m = c
        .adam
        .moments
        .iter()
        .flat_map(|m| m.mw.iter().chain(m.mb.iter()));
    if m.clone().any(|v| !v.is_finite()) {
        return invalid(
            "checkpoint",
            "adam_m",
            "holds NaN or infinite moments".into(),
        );
    }
    let v = c
        .adam
        .moments
        .iter()
        .flat_map(|m| m.vw.iter().chain(m.vb.iter()));
    if v.clone().any(|v| !(v.is_finite() && *v >= 0.0)) {
        return invalid(
            "checkpoint",
            "adam_v",
            "holds negative, NaN or infinite second moments".into(),
        );
    }
    Ok(())
}

fn check_status(s: &Session) -> Checked {
    let done = s.epochs_done();
    match s.status {
        RunStatus::Completed if !s.epochs.is_empty() && done != s.preset.epochs => invalid(
            "status",
            "Completed",
            format!(
                "but the last epoch is {done} of the preset's {}",
                s.preset.epochs
            ),
        ),
        // The epoch the loss stopped being finite in: the one after the last record, or the
        // last record itself (earlier versions recorded that epoch).
        RunStatus::Diverged { epoch }
            if epoch == 0
                || epoch > s.preset.epochs
                || epoch < done
                || epoch > done.saturating_add(1) =>
        {
            invalid(
                "status",
                "Diverged",
                format!(
                    "names epoch {epoch}, but the records end at epoch {done} of {}",
                    s.preset.epochs
                ),
            )
        }
        _ => Ok(()),
    }
}
