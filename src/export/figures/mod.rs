//! Figures rendered with plotters to PNG or SVG, the same for the desktop app's Export
//! buttons and for `sample-sets export --plot` / `--all`.
//!
//! Every figure is 1800 x 1100 px (about twice on-screen size), has a title naming the run,
//! axis descriptions, and a legend column on the right. One file per figure family:
//! [`training`] (loss, accuracy), [`layers`] (per-layer metric bands), [`node_map`], and
//! [`node`] (raster, composition, metrics of one node), and [`grid`] (small multiples of a
//! grid folder's runs, its own size).

pub mod grid;
mod layers;
mod node;
mod node_map;
mod style;
mod training;

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::ExportError;
use crate::fs::{Existing, check_writable, write_atomic};
use crate::session::{Metric, Session};

/// Pixel size of every figure (SVG uses the same numbers as its user units).
pub const FIGURE_SIZE: (u32, u32) = (1800, 1100);

/// Which figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FigureKind {
    /// Train and test loss over epochs.
    Loss,
    /// Train and test accuracy over epochs.
    Accuracy,
    /// Per layer: the metric's interquartile band and mean over epochs.
    Metric(Metric),
    /// One cell per node, one row per layer, coloured by the metric at one epoch.
    NodeMap(Metric),
    /// One node: probe samples (rows, grouped by class) in its sample set over epochs.
    NodeRaster,
    /// One node: its sample set's class make-up over epochs.
    ///
    /// `fractions: false` stacks the per-class on-counts (the stack's height is the
    /// sample-set size). `fractions: true` draws one line per class: the fraction of that
    /// class in the set (count / class size). Lines are used rather than a stack because a
    /// stack of fractions sums to a number with no meaning, while ten lines on [0, 1] show
    /// directly which classes the node switches on for.
    NodeComposition {
        /// Per-class fractions (lines) instead of counts (stacked).
        fractions: bool,
    },
    /// One node: activation fraction, predictability and informativeness over epochs,
    /// each over its layer's interquartile band.
    NodeMetrics,
}

impl FigureKind {
    /// Every figure: loss, accuracy, each metric's layer bands, each metric's node map, then
    /// the one-node figures (metrics in [`Metric::ALL`] order).
    pub fn all() -> Vec<FigureKind> {
        let mut all = vec![FigureKind::Loss, FigureKind::Accuracy];
        all.extend(Metric::ALL.map(FigureKind::Metric));
        all.extend(Metric::ALL.map(FigureKind::NodeMap));
        all.extend([
            FigureKind::NodeRaster,
            FigureKind::NodeComposition { fractions: false },
            FigureKind::NodeComposition { fractions: true },
            FigureKind::NodeMetrics,
        ]);
        all
    }

    /// Names accepted on the command line, in the order of [`FigureKind::all`].
    pub fn names() -> Vec<&'static str> {
        Self::all().into_iter().map(Self::name).collect()
    }

    /// The command-line name (also used in file names).
    pub fn name(self) -> &'static str {
        match self {
            FigureKind::Loss => "loss",
            FigureKind::Accuracy => "accuracy",
            FigureKind::Metric(m) => m.slug(),
            FigureKind::NodeMap(m) => m.info().node_map_figure,
            FigureKind::NodeRaster => "node-raster",
            FigureKind::NodeComposition { fractions: false } => "node-composition",
            FigureKind::NodeComposition { fractions: true } => "node-composition-fractions",
            FigureKind::NodeMetrics => "node-metrics",
        }
    }

    /// Parses a command-line name (see [`FigureKind::names`]); also accepts
    /// `node-map-activation-fraction` and the set overlap's old names `churn` and
    /// `node-map-churn`.
    pub fn parse(name: &str) -> Option<Self> {
        let name = name.trim().to_ascii_lowercase();
        match name.as_str() {
            "node-map-activation-fraction" => {
                return Some(FigureKind::NodeMap(Metric::ActivationFraction));
            }
            "churn" => return Some(FigureKind::Metric(Metric::Overlap)),
            "node-map-churn" => return Some(FigureKind::NodeMap(Metric::Overlap)),
            _ => {}
        }
        Self::all().into_iter().find(|k| k.name() == name)
    }

    /// Whether the figure is about one node (needs a node).
    pub fn needs_node(self) -> bool {
        matches!(
            self,
            FigureKind::NodeRaster | FigureKind::NodeComposition { .. } | FigureKind::NodeMetrics
        )
    }

    /// Whether the figure shows one epoch (the node map); the others show all epochs.
    pub fn uses_epoch(self) -> bool {
        matches!(self, FigureKind::NodeMap(_))
    }
}

/// Output format, from the file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Png,
    Svg,
    /// The numbers behind the figure ([`crate::export::csv::figure_csv`]).
    Csv,
}

fn format_of(path: &Path) -> Result<Format, ExportError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("png") => Ok(Format::Png),
        Some("svg") => Ok(Format::Svg),
        Some("csv") => Ok(Format::Csv),
        Some(other) => Err(ExportError::Request(format!(
            "{}: unknown extension '.{other}' for a figure; use .png, .svg or .csv",
            path.display()
        ))),
        None => Err(ExportError::Request(format!(
            "{}: no file extension; use .png, .svg or .csv",
            path.display()
        ))),
    }
}

/// A checked request: the node exists, the epoch has a record.
#[derive(Debug, Clone, Copy)]
struct Request {
    kind: FigureKind,
    node: Option<(usize, usize)>,
    /// Index into `session.epochs` of the shown epoch (node map).
    epoch_index: usize,
}

/// Which record a figure that shows one record (the node map) is drawn at.
#[derive(Debug, Clone, Copy, PartialEq)]
enum At {
    /// The last record.
    Last,
    /// The record at the end of this epoch (epoch 0: before training).
    Epoch(u32),
    /// The record at or before this step (the app's selection, which can be inside an epoch).
    Step(u64),
}

impl At {
    fn of_epoch(epoch: Option<u32>) -> Self {
        epoch.map_or(At::Last, At::Epoch)
    }
}

fn resolve(
    s: &Session,
    kind: FigureKind,
    node: Option<(usize, usize)>,
    epoch: Option<u32>,
) -> Result<Request, ExportError> {
    resolve_at(s, kind, node, At::of_epoch(epoch))
}

fn resolve_at(
    s: &Session,
    kind: FigureKind,
    node: Option<(usize, usize)>,
    at: At,
) -> Result<Request, ExportError> {
    let bad = |m: String| Err(ExportError::Request(m));
    let (Some(first), Some(last)) = (s.epochs.first(), s.epochs.last()) else {
        return bad("the session has no epoch records yet: nothing to draw".into());
    };
    if s.widths.is_empty() {
        return bad("the session has no hidden layers".into());
    }
    if let Some((l, j)) = node {
        if l >= s.widths.len() {
            return bad(format!(
                "no such node {}:{j}: the session has {} hidden layers (1..={})",
                l + 1,
                s.widths.len(),
                s.widths.len()
            ));
        }
        if j >= s.widths[l] {
            return bad(format!(
                "no such node {}:{j}: layer {} has {} nodes (0..={})",
                l + 1,
                l + 1,
                s.widths[l],
                s.widths[l].saturating_sub(1)
            ));
        }
    } else if kind.needs_node() {
        return bad(format!(
            "figure '{}' is about one node: give a node as LAYER:NODE (e.g. 1:0)",
            kind.name()
        ));
    }
    // Records inside epoch 1 all carry epoch 0, so an epoch names the record at its end
    // (by step).
    let spe = s.steps_per_epoch();
    let epoch_index = match at {
        At::Last => s.epochs.len() - 1,
        At::Epoch(e) => match s
            .epochs
            .binary_search_by_key(&(u64::from(e) * spe), |r| r.step)
        {
            Ok(i) => i,
            Err(_) => {
                return bad(format!(
                    "epoch {e} out of range: the session has epochs {}..={}",
                    first.epoch, last.epoch
                ));
            }
        },
        At::Step(step) => s.record_index_at(step).unwrap_or(0),
    };
    if kind.needs_node() && kind == FigureKind::NodeRaster && s.probe.is_empty() {
        return bad("the session has no probe samples: no raster to draw".into());
    }
    Ok(Request {
        kind,
        node,
        epoch_index,
    })
}

/// The file name the app suggests for a figure, e.g. `mnist-5x80-ce-seed1_activation-fraction.png`,
/// `mnist-5x80-ce-seed1_node-raster_L2N17.png` or `mnist-5x80-ce-seed1_node-map_e12.png`
/// (layer 1-based as on the command line; node maps always name their epoch, the last one
/// when `epoch` is `None`).
pub fn default_file_name(
    s: &Session,
    kind: FigureKind,
    node: Option<(usize, usize)>,
    epoch: Option<u32>,
    ext: &str,
) -> String {
    // The session's own file stem: a name from a file cannot make the file name unusable.
    let mut name = format!("{}_{}", s.preset.file_stem(), kind.name());
    if kind.needs_node()
        && let Some((l, j)) = node
    {
        name.push_str(&format!("_L{}N{j}", l + 1));
    }
    if kind.uses_epoch() {
        name.push_str(&format!("_e{}", epoch.unwrap_or_else(|| s.epochs_done())));
    }
    push_ext(&mut name, ext);
    name
}

/// [`default_file_name`] for the record at or before `step` (the app's selection): `_e12` at
/// an epoch end, `_s128` (the step) for a record inside an epoch.
pub fn default_file_name_at(
    s: &Session,
    kind: FigureKind,
    node: Option<(usize, usize)>,
    step: u64,
    ext: &str,
) -> String {
    let rec = s.record_index_at(step).and_then(|i| s.epochs.get(i));
    let spe = s.steps_per_epoch();
    match rec {
        Some(r) if !r.step.is_multiple_of(spe) && kind.uses_epoch() => {
            let mut name = default_file_name(s, kind, node, None, "");
            // Replace the last epoch's suffix by the step's.
            if let Some(cut) = name.rfind("_e") {
                name.truncate(cut);
            }
            name.push_str(&format!("_s{}", r.step));
            push_ext(&mut name, ext);
            name
        }
        Some(r) => default_file_name(s, kind, node, Some(r.epoch), ext),
        None => default_file_name(s, kind, node, None, ext),
    }
}

fn push_ext(name: &mut String, ext: &str) {
    let ext = ext.trim_start_matches('.');
    if !ext.is_empty() {
        name.push('.');
        name.push_str(ext);
    }
}

/// Draws the figure on `root` (already sized).
fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Session,
    r: &Request,
) -> style::Drawn {
    root.fill(&WHITE).map_err(style::de)?;
    match (r.kind, r.node) {
        (FigureKind::Loss, _) => training::loss(root, s),
        (FigureKind::Accuracy, _) => training::accuracy(root, s),
        (FigureKind::Metric(m), _) => layers::metric_bands(root, s, m),
        (FigureKind::NodeMap(m), _) => node_map::node_map(root, s, m, r.epoch_index),
        (FigureKind::NodeRaster, Some(n)) => node::raster(root, s, n),
        (FigureKind::NodeComposition { fractions }, Some(n)) => {
            node::composition(root, s, n, fractions)
        }
        (FigureKind::NodeMetrics, Some(n)) => node::metrics(root, s, n),
        // `resolve` requires a node for node figures.
        (_, None) => Err("no node given".into()),
    }
}

fn render_failed(kind: FigureKind, message: String) -> ExportError {
    ExportError::Request(format!("cannot render figure '{}': {message}", kind.name()))
}

fn check_font() -> Result<(), ExportError> {
    if style::font_ready() {
        Ok(())
    } else {
        Err(ExportError::Request(
            "the built-in font could not be loaded".into(),
        ))
    }
}

/// RGB pixels (`FIGURE_SIZE`, row-major, 3 bytes a pixel) of a figure.
fn render_rgb(s: &Session, r: &Request) -> Result<Vec<u8>, ExportError> {
    check_font()?;
    let (w, h) = FIGURE_SIZE;
    let mut buf = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, FIGURE_SIZE).into_drawing_area();
        draw(&root, s, r).map_err(|m| render_failed(r.kind, m))?;
        root.present()
            .map_err(|e| render_failed(r.kind, e.to_string()))?;
    }
    Ok(buf)
}

fn encode_png(rgb: &[u8], (w, h): (u32, u32)) -> Result<Vec<u8>, ExportError> {
    use image::ImageEncoder;
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(rgb, w, h, image::ExtendedColorType::Rgb8)
        .map_err(|e| ExportError::Request(format!("cannot encode PNG: {e}")))?;
    Ok(out)
}

/// Renders a figure as PNG file bytes (1800 x 1100 px).
///
/// # Errors
/// [`ExportError::Request`] when the node or epoch is not in the session, or the figure
/// needs a node and none was given.
pub fn render_png_bytes(
    s: &Session,
    kind: FigureKind,
    node: Option<(usize, usize)>,
    epoch: Option<u32>,
) -> Result<Vec<u8>, ExportError> {
    let r = resolve(s, kind, node, epoch)?;
    encode_png(&render_rgb(s, &r)?, FIGURE_SIZE)
}

/// Renders a figure as SVG text.
///
/// # Errors
/// As [`render_png_bytes`].
pub fn render_svg(
    s: &Session,
    kind: FigureKind,
    node: Option<(usize, usize)>,
    epoch: Option<u32>,
) -> Result<String, ExportError> {
    svg_of(s, &resolve(s, kind, node, epoch)?)
}

/// SVG text of a checked request.
fn svg_of(s: &Session, r: &Request) -> Result<String, ExportError> {
    check_font()?;
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, FIGURE_SIZE).into_drawing_area();
        draw(&root, s, r).map_err(|m| render_failed(r.kind, m))?;
        root.present()
            .map_err(|e| render_failed(r.kind, e.to_string()))?;
    }
    Ok(text)
}

/// Writes one figure to `out`; the format follows the extension (`.png` or `.svg`). The file
/// is written atomically (rendered in memory, then a temporary file renamed to `out`); an
/// existing `out` is replaced only with [`Existing::Replace`].
///
/// `node` is (0-based layer, node) and is needed by the node figures; `epoch` chooses the
/// node map's epoch (default: the last).
///
/// # Errors
/// [`ExportError::Request`] for an unknown extension, a missing or non-existent node, or an
/// epoch without a record; [`ExportError::File`] when the file exists (and may not be
/// replaced) or cannot be written.
pub fn write_one(
    s: &Session,
    kind: FigureKind,
    node: Option<(usize, usize)>,
    epoch: Option<u32>,
    out: &Path,
    existing: Existing,
) -> Result<(), ExportError> {
    write_request(s, resolve(s, kind, node, epoch)?, out, existing)
}

/// [`write_one`] with the record given by step (the record at or before `step`; the last
/// record with `None`): the app's selection, which can lie inside an epoch.
///
/// # Errors
/// As [`write_one`].
pub fn write_one_at(
    s: &Session,
    kind: FigureKind,
    node: Option<(usize, usize)>,
    step: Option<u64>,
    out: &Path,
    existing: Existing,
) -> Result<(), ExportError> {
    let at = step.map_or(At::Last, At::Step);
    write_request(s, resolve_at(s, kind, node, at)?, out, existing)
}

fn write_request(
    s: &Session,
    r: Request,
    out: &Path,
    existing: Existing,
) -> Result<(), ExportError> {
    let bytes = match format_of(out)? {
        Format::Png => encode_png(&render_rgb(s, &r)?, FIGURE_SIZE)?,
        Format::Svg => svg_of(s, &r)?.into_bytes(),
        Format::Csv => {
            crate::export::csv::figure_csv(s, r.kind, r.node, r.epoch_index).into_bytes()
        }
    };
    Ok(write_atomic(out, &bytes, existing)?)
}

/// The figures of the standard set: loss, accuracy, the four per-layer metric plots, and the
/// activation-fraction node map at the first record, at the record of layer 1's peak mean
/// activation fraction (inside epoch 1 in sessions with the default schedule), and at the last
/// record (each record once). Records are given by step.
pub fn standard_set(s: &Session) -> Vec<(FigureKind, Option<u64>)> {
    let mut set = vec![(FigureKind::Loss, None), (FigureKind::Accuracy, None)];
    set.extend(Metric::ALL.map(|m| (FigureKind::Metric(m), None)));
    let peak = s
        .layer_band(0, Metric::ActivationFraction)
        .into_iter()
        .fold(None, |best: Option<(u64, f32)>, p| match best {
            Some(b) if b.1 >= p.mean => Some(b),
            _ => Some((p.step, p.mean)),
        })
        .map(|p| p.0);
    let mut steps: Vec<u64> = Vec::new();
    let candidates = [
        s.epochs.first().map(|e| e.step),
        peak,
        s.epochs.last().map(|e| e.step),
    ];
    for step in candidates.into_iter().flatten() {
        if !steps.contains(&step) {
            steps.push(step);
        }
    }
    set.extend(
        steps
            .into_iter()
            .map(|step| (FigureKind::NodeMap(Metric::ActivationFraction), Some(step))),
    );
    set
}

/// The files [`write_all`] writes into `dir`, with what goes in each (records by step).
pub fn standard_files(s: &Session, dir: &Path) -> Vec<(FigureKind, Option<u64>, PathBuf)> {
    standard_set(s)
        .into_iter()
        .map(|(kind, step)| {
            let name = match step {
                Some(step) => default_file_name_at(s, kind, None, step, "png"),
                None => default_file_name(s, kind, None, None, "png"),
            };
            (kind, step, dir.join(name))
        })
        .collect()
}

/// Writes the standard figure set ([`standard_set`]) as PNG into `dir` (created if needed)
/// and returns the paths written. With [`Existing::Keep`], nothing is written when any of the
/// files already exists.
///
/// # Errors
/// [`ExportError::Write`] when the folder cannot be made, [`ExportError::File`] when a file
/// exists and may not be replaced or cannot be written; [`ExportError::Request`] when the
/// session has nothing to draw.
pub fn write_all(s: &Session, dir: &Path, existing: Existing) -> Result<Vec<PathBuf>, ExportError> {
    std::fs::create_dir_all(dir).map_err(|e| ExportError::Write {
        path: dir.to_path_buf(),
        message: format!("cannot create folder: {e}"),
    })?;
    let files = standard_files(s, dir);
    // All or nothing: a set half replaced would mix two sessions' figures.
    for (_, _, path) in &files {
        check_writable(path, existing)?;
    }
    let mut written = Vec::new();
    for (kind, step, path) in files {
        write_one_at(s, kind, None, step, &path, existing)?;
        written.push(path);
    }
    Ok(written)
}
