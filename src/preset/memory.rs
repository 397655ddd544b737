//! How much memory a run of a preset needs, estimated from the buffers the code allocates,
//! and the limits a preset must stay within: [`MAX_RUN_BYTES`] of memory and a session file
//! that loads again ([`crate::session::io::MAX_SESSION_BYTES`]). The estimates err on the
//! large side (compressed blobs are counted at their uncompressed size).

use super::Preset;
use crate::data::dataset::{CLASSES, PIXELS};
use crate::measure::bits::words_for;

/// Most memory a run may need by [`MemoryNeed::total`]: 8 GiB, what a desktop can give one
/// run next to the app (the paper's largest preset, 9x320 for 200 epochs, needs about 0.9 GiB
/// by this estimate; one epoch of it, estimated at 557 MiB, peaked at 533 MiB resident).
pub const MAX_RUN_BYTES: u64 = 8 << 30;

/// Training samples the measurement buffers are sized for: MNIST's 60,000 (the limits are
/// stated for sets with MNIST's layout and size).
const SAMPLES: u64 = 60_000;

/// The data set in memory and the process around it: 70,000 images as f32 (219 MB), the
/// training images' sparse rows (about 70 MB), the raw bytes while they are converted, the
/// program and its threads. A one-epoch run of mnist-2x20-ce, where little else counts, peaks
/// at 322 MiB resident.
const DATA_BYTES: u64 = 384 << 20;

/// Bytes per network parameter: the weights, Adam's two moments and the gradients (4 f32),
/// the session's checkpoint copy (3 f32), its blobs as base64 text in the session writer,
/// in the last save's text and in the save being built (3 x 3 x 16/3 bytes) and the encoding's
/// temporary copies (3 f32).
const BYTES_PER_PARAMETER: u64 = 4 * (4 + 3 + 3) + 48;

/// Measurement workers whose chunk buffers are counted (a machine with more cores uses a
/// little more).
const WORKERS: u64 = 16;

/// Memory a run of a preset needs, bytes, by part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryNeed {
    /// The data set ([`DATA_BYTES`]).
    pub data: u64,
    /// Weights, Adam moments, gradients, checkpoint copies and their encoded text.
    pub network: u64,
    /// One minibatch's activations, gradients and sparse rows: `[batch, width]` per layer.
    pub minibatch: u64,
    /// The measurement pass: every node's sample set over all training samples as bitsets
    /// (the previous epoch's, this one's, and the workers' parts before they are joined), and
    /// the workers' chunk buffers.
    pub measurement: u64,
    /// Every epoch record (counts, churn, probe bitsets) decoded and as text to save.
    pub session: u64,
    /// The session file at the last epoch (not part of [`MemoryNeed::total`]).
    pub file: u64,
}

impl MemoryNeed {
    /// The estimate for `p` (fields in their valid ranges; sizes saturate rather than wrap).
    pub fn of(p: &Preset) -> Self {
        let (h, w) = (p.hidden_layers as u64, p.width as u64);
        let (inputs, classes) = (PIXELS as u64, CLASSES as u64);
        let parameters = (inputs * w + w)
            .saturating_add((h.saturating_sub(1)).saturating_mul(w * w + w))
            .saturating_add(w * classes + classes);
        let nodes = h * w;
        let batch = p.batch_size as u64;
        // Inputs as f32; per hidden layer activations (4 bytes) and sparse rows (8 bytes an
        // entry); two gradient buffers and one pre-activation buffer of the widest layer.
        let minibatch = batch.saturating_mul(inputs * 4 + w * h * 12 + w * 12);
        // The previous pass's bitsets, this pass's, and the workers' ranges before merging.
        let measurement =
            nodes * words_for(SAMPLES as usize) as u64 * 8 * 3 + WORKERS * 2 * 256 * w * 4;
        let probe = p.probe_size as u64;
        let record = nodes * (classes * 4 + 4 + words_for(p.probe_size) as u64 * 8);
        let records = u64::from(p.epochs) + 1;
        let pixels = probe * (inputs + 5);
        // Decoded, as each epoch's text in the writer, and in the last save's text.
        let session = (records.saturating_mul(record) + pixels).saturating_mul(11) / 3;
        let file = (records.saturating_mul(record) + pixels + parameters.saturating_mul(12))
            .saturating_mul(4)
            / 3
            + (64 << 10);
        Self {
            data: DATA_BYTES,
            network: parameters.saturating_mul(BYTES_PER_PARAMETER),
            minibatch,
            measurement,
            session,
            file,
        }
    }

    /// Memory the run needs at its last epoch, bytes.
    pub fn total(&self) -> u64 {
        self.data
            .saturating_add(self.network)
            .saturating_add(self.minibatch)
            .saturating_add(self.measurement)
            .saturating_add(self.session)
    }

    /// The parts, for messages: "network and optimiser 95.3 GiB, ...".
    fn parts(&self) -> String {
        format!(
            "network and optimiser {}, minibatch buffers {}, measurement {}, session {}, data {}",
            gib(self.network),
            gib(self.minibatch),
            gib(self.measurement),
            gib(self.session),
            gib(self.data)
        )
    }
}

/// `bytes` in GiB with one decimal ("8.0 GiB"), or MiB below one GiB.
pub fn gib(bytes: u64) -> String {
    if bytes < 1 << 30 {
        format!("{:.0} MiB", bytes as f64 / f64::from(1 << 20))
    } else {
        format!("{:.1} GiB", bytes as f64 / f64::from(1 << 30))
    }
}

/// The largest value in `1..=max` for which `fits` holds (`fits` must be monotone), if any.
fn largest_fitting(max: u64, fits: impl Fn(u64) -> bool) -> Option<u64> {
    if !fits(1) {
        return None;
    }
    let (mut lo, mut hi) = (1, max);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if fits(mid) { lo = mid } else { hi = mid - 1 }
    }
    Some(lo)
}

/// Checks that a run of `p` fits [`MAX_RUN_BYTES`] and writes a session file that loads.
/// Returns the field to blame and the problem, naming the limit and what would fit: the
/// network's size (`width`, or `batch_size` when the minibatch buffers are the larger part)
/// when even one epoch does not fit, else the number of epochs.
pub(super) fn check(p: &Preset) -> Result<(), (&'static str, String)> {
    let file_limit = crate::session::io::MAX_SESSION_BYTES;
    let fits = |q: &Preset| {
        let n = MemoryNeed::of(q);
        n.total() <= MAX_RUN_BYTES && n.file <= file_limit
    };
    if fits(p) {
        return Ok(());
    }
    let need = MemoryNeed::of(p);
    let with = |f: &dyn Fn(&mut Preset, u64), v: u64| {
        let mut q = p.clone();
        f(&mut q, v);
        fits(&q)
    };
    let set_epochs = |q: &mut Preset, v: u64| q.epochs = v as u32;
    let set_width = |q: &mut Preset, v: u64| q.width = v as usize;
    let set_batch = |q: &mut Preset, v: u64| q.batch_size = v as usize;
    let one_epoch = MemoryNeed::of(&Preset {
        epochs: 1,
        ..p.clone()
    });
    let (field, value, hint) = if with(&set_epochs, 1) {
        let most = largest_fitting(u64::from(p.epochs), |v| with(&set_epochs, v));
        let hint = most.map_or(String::new(), |e| {
            format!("at most {e} epochs fit (or fewer with a larger probe_size)")
        });
        ("epochs", p.epochs.to_string(), hint)
    } else if one_epoch.minibatch > one_epoch.network.max(one_epoch.measurement) {
        let most = largest_fitting(p.batch_size as u64, |v| with(&set_batch, v));
        let hint = most.map_or(String::new(), |b| {
            format!("a batch_size of at most {b} fits")
        });
        ("batch_size", p.batch_size.to_string(), hint)
    } else {
        let most = largest_fitting(p.width as u64, |v| with(&set_width, v));
        let hint = most.map_or("fewer hidden layers are needed".into(), |w| {
            format!(
                "with {} hidden layers at most {w} nodes fit",
                p.hidden_layers
            )
        });
        ("width", p.width.to_string(), hint)
    };
    let over = if need.total() > MAX_RUN_BYTES {
        format!(
            "need about {} ({}), more than the {} a run may use",
            gib(need.total()),
            need.parts(),
            gib(MAX_RUN_BYTES)
        )
    } else {
        format!(
            "would write a session file of about {}, more than the {} a session file may be",
            gib(need.file),
            gib(file_limit)
        )
    };
    Err((
        field,
        format!(
            "{value}: {} hidden layers of {} nodes, minibatch {}, {} epochs and a {}-sample \
             probe {over}; {hint}",
            p.hidden_layers, p.width, p.batch_size, p.epochs, p.probe_size
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_papers_grid_fits_and_the_largest_ranges_do_not() {
        for p in crate::preset::builtin().unwrap() {
            let need = MemoryNeed::of(&p);
            assert!(need.total() < 1 << 30, "{}: {}", p.name, gib(need.total()));
            assert!(check(&p).is_ok(), "{}", p.name);
        }
        let mut p = crate::preset::find("mnist-9x320-ce", &[]).unwrap();
        p.hidden_layers = 64;
        p.width = 4096;
        let (field, message) = check(&p).unwrap_err();
        assert_eq!(field, "width", "{message}");
        assert!(message.contains("GiB"), "{message}");
        // The width it says fits does fit, one more does not.
        let most: usize = message
            .rsplit("at most ")
            .next()
            .and_then(|t| t.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        p.width = most;
        assert!(check(&p).is_ok());
        p.width = most + 1;
        assert!(check(&p).is_err());
    }

    #[test]
    fn a_long_session_is_blamed_on_its_epochs() {
        let mut p = crate::preset::find("mnist-2x20-ce", &[]).unwrap();
        p.epochs = 100_000;
        p.probe_size = 60_000;
        let (field, message) = check(&p).unwrap_err();
        assert_eq!(field, "epochs", "{message}");
        assert!(message.contains("at most"), "{message}");
    }
}
