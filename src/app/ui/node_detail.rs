//! Node detail for the selected node: its class counts and backward-pass figures at the
//! selected record, the membership raster of the probe samples (one column per record), class
//! composition, push by class (signed mean φ per class), mean |φ|, settled share and set
//! turnover over the records, its metrics against its layer's band, and thumbnails of a
//! sample of its set drawn in proportion to the set's classes.

use egui::{
    Align2, Color32, ColorImage, FontId, Pos2, Rect, RichText, Role, Sense, Stroke, TextureHandle,
    TextureOptions, Ui, WidgetInfo, pos2, vec2,
};
use egui_plot::{HLine, LineStyle};

use super::RunView;
use super::colors::{NEUTRAL, SELECTED_RECORD, class_color};
use super::epoch_axis::{
    self, AxisScale, EpochAxis, EventMark, LegendEntry, PlotOutcome, PlotSpec, Series, ValueFormat,
    epoch_text, nearest_record_step, record_text,
};
use crate::app::command::{Command, CommandSender};
use crate::app::runs::RunId;
use crate::app::selection::{node_label, record_label};
use crate::app::settings::Setting;
use crate::session::{Metric, Session};

/// Most raster rows or columns (under the texture side limit); more are thinned evenly.
const MAX_RASTER_ROWS: usize = 4096;
/// Thumbnails shown when the set holds that many probe samples.
const MAX_THUMBS: usize = 60;
/// Thumbnails per atlas row.
const THUMB_COLS: usize = 12;
/// Pixels per side of a sample.
const SIDE: usize = 28;
/// Height of the small per-node plots (mean |φ|, settled share, turnover), points.
const SMALL_PLOT_H: f32 = 110.0;
/// Room left free right of the node's detail, points: the panel's scroll bar floats over its
/// right edge, and the last tick label, record and words must stay clear of it.
const RIGHT_MARGIN: f32 = 16.0;
/// Narrowest the plots get, points.
const MIN_PLOT_W: f32 = 160.0;
/// Height of the raster's epoch axis strip (ticks and labels), points.
const AXIS_H: f32 = 18.0;
/// Least room between two tick labels of the raster's axis, points.
const TICK_GAP: f32 = 10.0;

/// A texture with the key it was built for and the probe rows it shows.
struct Cached<K> {
    tex: TextureHandle,
    key: K,
    rows: Vec<usize>,
}

/// Raster key: run, version, layer, node.
type RasterKey = (RunId, u64, usize, usize);
/// Thumbnail key: run, version, layer, node, record index.
type ThumbKey = (RunId, u64, usize, usize, usize);
/// Series key: run, version, layer, node.
type SeriesKey = (RunId, u64, usize, usize);

/// The shown sample of a node's set at one record.
struct Thumbs {
    tex: TextureHandle,
    key: ThumbKey,
    /// Probe rows shown, grouped by class.
    shown: Vec<usize>,
    /// Probe samples in the set.
    probe_members: usize,
    /// Training samples in the set (its class counts summed).
    set_size: u64,
}

/// One node's series over the records, by position on the epoch axis (epochs).
struct NodeSeries {
    /// On-count per class, `[class][record]`.
    composition: Vec<Vec<f64>>,
    /// Mean signed φ per class over the records that have it, `[class]` of (position, φ).
    push: Vec<Vec<[f64; 2]>>,
    /// Mean |φ| over the set.
    mean_abs: Vec<[f64; 2]>,
    /// Settled share of the set.
    settled: Vec<[f64; 2]>,
    /// Samples that entered the set since the previous record.
    added: Vec<[f64; 2]>,
    /// Samples that left the set since the previous record.
    removed: Vec<[f64; 2]>,
    /// The headline metrics, `[metric]` in [`Metric::headline`] order.
    metrics: Vec<Vec<[f64; 2]>>,
}

impl NodeSeries {
    fn new(s: &Session, l: usize, j: usize) -> Self {
        let positions = s.positions();
        let records = 0..s.epochs.len();
        let at = |f: &dyn Fn(usize) -> Option<f64>| -> Vec<[f64; 2]> {
            records
                .clone()
                .filter_map(|i| Some([*positions.get(i)?, f(i)?]))
                .collect()
        };
        let classes = s.classes();
        let mut push = vec![Vec::new(); classes];
        for (_, x, by_class) in s.node_class_push_series(l, j) {
            for (c, v) in by_class.into_iter().enumerate() {
                if let (Some(v), Some(line)) = (v, push.get_mut(c)) {
                    line.push([x, f64::from(v)]);
                }
            }
        }
        Self {
            composition: (0..classes)
                .map(|c| {
                    records
                        .clone()
                        .map(|i| {
                            f64::from(
                                s.node_counts(i, l, j)
                                    .and_then(|v| v.get(c))
                                    .copied()
                                    .unwrap_or(0),
                            )
                        })
                        .collect()
                })
                .collect(),
            push,
            mean_abs: at(&|i| s.node_cost_mean_abs(i, l, j).map(f64::from)),
            settled: at(&|i| s.node_settled_share(i, l, j).map(f64::from)),
            added: at(&|i| s.node_turnover(i, l, j).map(|t| f64::from(t.0))),
            removed: at(&|i| s.node_turnover(i, l, j).map(|t| f64::from(t.1))),
            metrics: Metric::headline()
                .map(|m| at(&|i| s.node_value(i, l, j, m).map(f64::from)))
                .collect(),
        }
    }
}

/// The node detail view and its caches.
#[derive(Default)]
pub struct NodeDetailView {
    raster: Option<Cached<RasterKey>>,
    thumbs: Option<Thumbs>,
    digit: Option<(TextureHandle, (RunId, usize))>,
    series: Option<(SeriesKey, NodeSeries)>,
    /// The run's event marks, for (run, version): finding events reads every record.
    marks: Option<((RunId, u64), Vec<EventMark>)>,
    /// The raster gives every record the same width instead of placing it by position.
    raster_equal_widths: bool,
    /// Node and record step drawn last frame (read by the GUI tests).
    #[cfg_attr(not(any(test, feature = "testing")), allow(dead_code))]
    pub rendered: Option<((usize, usize), u64)>,
    /// Per-class on-counts shown last frame (read by the GUI tests).
    #[cfg_attr(not(any(test, feature = "testing")), allow(dead_code))]
    pub rendered_counts: Option<Vec<u32>>,
    /// Thumbnails shown last frame: (probe rows shown, set size).
    #[cfg_attr(not(any(test, feature = "testing")), allow(dead_code))]
    pub rendered_thumbs: Option<(Vec<usize>, u64)>,
    /// The push-by-class plot's transform and axis last frame (the GUI tests hover its
    /// points).
    #[cfg_attr(not(any(test, feature = "testing")), allow(dead_code))]
    pub push_plot: Option<(egui_plot::PlotTransform, EpochAxis)>,
    /// Classes with a line in the push-by-class plot last frame.
    #[cfg_attr(not(any(test, feature = "testing")), allow(dead_code))]
    pub rendered_push_classes: Vec<usize>,
}

fn digit_image(s: &Session, k: usize) -> ColorImage {
    let px = s.probe.pixels.get(k * 784..(k + 1) * 784).unwrap_or(&[]);
    let pixels = (0..784)
        .map(|i| Color32::from_gray(px.get(i).copied().unwrap_or(0)))
        .collect();
    ColorImage::new([SIDE, SIDE], pixels)
}

/// `n` with thousands separated by commas ("4,211").
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A position on the epoch axis as a short label: whole epochs without decimals, positions
/// inside the first epoch with two significant digits ("0.0021", "0.27"), others with up to
/// two decimals ("1.5", "12.25").
fn epoch_label(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        return format!("{x:.0}");
    }
    let decimals = if x.abs() >= 1.0 {
        2
    } else {
        (1.0 - x.abs().log10().floor()).clamp(0.0, 6.0) as usize
    };
    let s = format!("{x:.decimals$}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// SplitMix64 (Steele, Lea & Flood 2014): a well-mixed 64-bit hash of `x`.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Up to `n` probe rows out of `members` (probe rows in a set, with their classes), drawn per
/// class in proportion to `composition` (the set's on-count per class over the whole training
/// set): class `c` gets about `n · composition[c] / Σ composition` rows (largest deficit
/// first, a class with too few probe rows leaves its share to the others). Inside a class the
/// rows with the smallest `mix(seed ^ row)` are taken, so the same `seed` shows the same
/// samples in every frame, and a sample that stays in the set from one record to the next
/// tends to stay shown. The result is grouped by class (class 0 first), rows ascending.
pub fn proportional_sample(
    members: &[(usize, u8)],
    composition: &[u32],
    n: usize,
    seed: u64,
) -> Vec<usize> {
    let classes = members
        .iter()
        .map(|&(_, c)| usize::from(c) + 1)
        .max()
        .unwrap_or(0)
        .max(composition.len());
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); classes];
    for &(k, c) in members {
        by_class[usize::from(c)].push(k);
    }
    let n = n.min(members.len());
    let total: f64 = composition.iter().map(|&c| f64::from(c)).sum();
    // Without counts (or with counts that miss every probe member), the probe's own mix.
    let weight = |c: usize| -> f64 {
        let w = composition.get(c).map_or(0.0, |&v| f64::from(v));
        if total > 0.0 { w / total } else { 0.0 }
    };
    let use_probe = (0..classes).all(|c| by_class[c].is_empty() || weight(c) == 0.0);
    let quota: Vec<f64> = (0..classes)
        .map(|c| {
            if use_probe {
                n as f64 * by_class[c].len() as f64 / members.len().max(1) as f64
            } else {
                n as f64 * weight(c)
            }
        })
        .collect();
    let mut take = vec![0usize; classes];
    for _ in 0..n {
        let next = (0..classes)
            .filter(|&c| take[c] < by_class[c].len())
            .max_by(|&a, &b| {
                (quota[a] - take[a] as f64)
                    .total_cmp(&(quota[b] - take[b] as f64))
                    .then(b.cmp(&a))
            });
        match next {
            Some(c) => take[c] += 1,
            None => break,
        }
    }
    let mut out = Vec::with_capacity(n);
    for (rows, &t) in by_class.iter_mut().zip(&take) {
        rows.sort_by_key(|&k| mix(seed ^ k as u64));
        let mut picked: Vec<usize> = rows.iter().take(t).copied().collect();
        picked.sort_unstable();
        out.extend(picked);
    }
    out
}

/// Tick positions `(x, label)` for the range `lo..=hi` drawn over `width` points: multiples of
/// the smallest 1-2-5 step that leaves `min_gap` points between ticks.
fn nice_ticks(lo: f64, hi: f64, width: f32, min_gap: f32) -> Vec<f64> {
    let span = hi - lo;
    if span.is_nan() || span <= 0.0 || width <= 0.0 {
        return Vec::new();
    }
    let per_point = span / f64::from(width);
    let mut step = 10f64.powf((per_point * f64::from(min_gap)).log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if step * m / per_point >= f64::from(min_gap) {
            step *= m;
            break;
        }
    }
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// Where each record's raster column lies on screen: `[left, anchor, right]` in points from
/// the raster's left edge (the anchor is where the record's tick and marker go), for records
/// at plot coordinates `xs` (ascending: the epoch axis's x of each record's position, linear
/// or log) drawn over `width` points for the axis range `range` (the plots' range, zoom
/// included). `equal`: every record gets the same width, anchored at its middle, whatever the
/// range. Otherwise each record is anchored at its x and its column reaches halfway to its
/// neighbours; the first reaches as far before it (not before the range), the last ends half
/// its gap to the previous record after it (not after the range), so a live run leaves the
/// epochs it has not reached blank.
fn raster_columns(xs: &[f64], range: (f64, f64), width: f32, equal: bool) -> Vec<[f32; 3]> {
    let n = xs.len();
    if n == 0 {
        return Vec::new();
    }
    if equal {
        let w = width / n as f32;
        return (0..n)
            .map(|i| [i as f32 * w, (i as f32 + 0.5) * w, (i + 1) as f32 * w])
            .collect();
    }
    let (x0, x1) = if range.1 > range.0 {
        range
    } else {
        (range.0, range.0 + 1.0)
    };
    let half = |a: usize, b: usize| (xs[b] - xs[a]) / 2.0;
    let (first_half, last_half) = if n > 1 {
        (half(0, 1), half(n - 2, n - 1))
    } else {
        (0.5, 0.5)
    };
    let to_px = |x: f64| ((x - x0) / (x1 - x0) * f64::from(width)) as f32;
    (0..n)
        .map(|i| {
            let left = if i == 0 {
                (xs[0] - first_half).max(x0)
            } else {
                (xs[i - 1] + xs[i]) / 2.0
            };
            let right = if i + 1 == n {
                (xs[i] + last_half).min(x1)
            } else {
                (xs[i] + xs[i + 1]) / 2.0
            };
            [to_px(left), to_px(xs[i]), to_px(right)]
        })
        .collect()
}

/// Tick positions (epochs) for the raster on a log axis: 0, the steps 1, 10, 100 inside epoch
/// 1, then 1, 2, 5, 10, 20, 50... epochs, up to `x_max`.
fn log_tick_positions(steps_per_epoch: f64, x_max: f64) -> Vec<f64> {
    let mut out = vec![0.0];
    let spe = steps_per_epoch.max(1.0);
    let mut step = 1.0;
    while step < spe {
        out.push(step / spe);
        step *= 10.0;
    }
    let mut decade = 1.0;
    while decade <= x_max {
        for m in [1.0, 2.0, 5.0] {
            if decade * m <= x_max {
                out.push(decade * m);
            }
        }
        decade *= 10.0;
    }
    out
}

/// Selects the record nearest a click on a plot of `s` (hovering selects nothing).
fn select_clicked(out: &PlotOutcome, s: &Session, tx: &CommandSender) {
    if let Some(step) = out.clicked.and_then(|x| nearest_record_step(s, x)) {
        tx.send(Command::SelectStep(step));
    }
}

/// Sends the selection of record `i` of `s`.
fn select_record(tx: &CommandSender, s: &Session, i: usize) {
    if let Some(e) = s.epochs.get(i) {
        tx.send(Command::SelectStep(e.step));
    }
}

/// What the sign of a class's mean φ means, for the tooltip.
fn push_sign(phi: f64) -> &'static str {
    if phi < 0.0 {
        "loss falls as the node's output grows"
    } else if phi > 0.0 {
        "loss rises as the node's output grows"
    } else {
        "no push either way"
    }
}

/// A value with four significant digits (whole numbers with thousands separated).
fn value_label(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if v == 0.0 {
        return "0".into();
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        let digits = count(v.abs() as u64);
        return if v < 0.0 {
            format!("-{digits}")
        } else {
            digits
        };
    }
    let decimals = (3.0 - v.abs().log10().floor()).clamp(0.0, 8.0) as usize;
    format!("{v:.decimals$}")
}

impl NodeDetailView {
    fn raster(
        &mut self,
        ctx: &egui::Context,
        (run, version): (RunId, u64),
        s: &Session,
        l: usize,
        j: usize,
    ) {
        let key = (run, version, l, j);
        if self.raster.as_ref().is_some_and(|r| r.key == key) {
            return;
        }
        let n = s.probe.len();
        let stride = n.div_ceil(MAX_RASTER_ROWS).max(1);
        let rows: Vec<usize> = (0..n).step_by(stride).collect();
        // One column per record; more than the texture holds are thinned evenly (very long
        // custom runs).
        let e_stride = s.epochs.len().div_ceil(MAX_RASTER_ROWS).max(1);
        let records: Vec<usize> = (0..s.epochs.len()).step_by(e_stride).collect();
        let cols = records.len().max(1);
        let mut img = ColorImage::filled([cols, rows.len().max(1)], Color32::from_gray(20));
        for (r, &k) in rows.iter().enumerate() {
            let c = usize::from(s.probe.labels.get(k).copied().unwrap_or(0));
            let on = class_color(c);
            let off = class_color(c).gamma_multiply(0.12);
            for (ci, &e) in records.iter().enumerate() {
                img.pixels[r * cols + ci] = if s.probe_member(e, l, j, k) { on } else { off };
            }
        }
        let tex = match self.raster.take() {
            Some(Cached { mut tex, .. }) if tex.size() == img.size => {
                tex.set(img, TextureOptions::NEAREST);
                tex
            }
            _ => ctx.load_texture("node-raster", img, TextureOptions::NEAREST),
        };
        self.raster = Some(Cached { tex, key, rows });
    }

    fn thumbs(&mut self, ctx: &egui::Context, key: ThumbKey, s: &Session) {
        let (_, _, l, j, idx) = key;
        if self.thumbs.as_ref().is_some_and(|t| t.key == key) {
            return;
        }
        let members: Vec<(usize, u8)> = (0..s.probe.len())
            .filter(|&k| s.probe_member(idx, l, j, k))
            .map(|k| (k, s.probe.labels.get(k).copied().unwrap_or(0)))
            .collect();
        let composition = s.node_counts(idx, l, j).unwrap_or(&[]);
        // The seed names the run and the node, not the record: a sample that stays in the set
        // stays shown as the selected record moves.
        let seed = mix(s.preset.seed ^ mix(((l as u64) << 32) | j as u64));
        let shown = proportional_sample(&members, composition, MAX_THUMBS, seed);
        let rows = shown.len().div_ceil(THUMB_COLS).max(1);
        let w = THUMB_COLS * SIDE;
        let mut img = ColorImage::filled([w, rows * SIDE], Color32::BLACK);
        for (i, &k) in shown.iter().enumerate() {
            let d = digit_image(s, k);
            let (x0, y0) = ((i % THUMB_COLS) * SIDE, (i / THUMB_COLS) * SIDE);
            for y in 0..SIDE {
                for x in 0..SIDE {
                    img.pixels[(y0 + y) * w + x0 + x] = d.pixels[y * SIDE + x];
                }
            }
        }
        let tex = ctx.load_texture("node-thumbs", img, TextureOptions::LINEAR);
        self.thumbs = Some(Thumbs {
            tex,
            key,
            shown,
            probe_members: members.len(),
            set_size: composition.iter().map(|&c| u64::from(c)).sum(),
        });
    }

    /// Draws the detail of `view`'s selected node, or a hint when none is selected;
    /// `fractions` shows the composition as class fractions.
    pub fn ui(&mut self, ui: &mut Ui, view: RunView<'_>, fractions: bool, tx: &CommandSender) {
        // Texts wrap and plots end short of the scroll bar floating over the panel's edge
        // (in a child ui: the separators above already span the whole width).
        let width = (ui.available_width() - RIGHT_MARGIN).max(MIN_PLOT_W);
        ui.vertical(|ui| {
            ui.set_max_width(width);
            self.body(ui, view, fractions, tx, width);
        });
    }

    /// The detail, its plots `w` points wide.
    fn body(
        &mut self,
        ui: &mut Ui,
        view: RunView<'_>,
        fractions: bool,
        tx: &CommandSender,
        w: f32,
    ) {
        let (run, version, s, sel) = view.parts();
        let Some((l, j)) = sel.node else {
            ui.heading("Node detail");
            ui.label("Click a cell of the node map to see which samples switch that node on.");
            self.rendered = None;
            self.rendered_thumbs = None;
            self.rendered_push_classes.clear();
            return;
        };
        let Some(idx) = sel.record_index(s) else {
            ui.label("No epochs measured yet.");
            return;
        };
        let step = s.epochs.get(idx).map_or(0, |e| e.step);
        ui.heading(node_label(l, j));
        ui.label(format!("at {}", record_label(s, idx)));
        let ctx = ui.ctx().clone();
        let key = (run, version, l, j);
        if self.series.as_ref().is_none_or(|(k, _)| *k != key) {
            self.series = Some((key, NodeSeries::new(s, l, j)));
        }
        self.figures_at_record(ui, s, idx, (l, j));
        let axis = EpochAxis::new(ui.ctx(), run, s);
        let sel_position = s.record_position(idx);
        let label = |p: f64| record_text(s, p);
        // The run's events on the node's time lines too: its layer's, and accuracy's.
        let own_layer = format!("layer {}:", l + 1);
        if self.marks.as_ref().is_none_or(|m| m.0 != (run, version)) {
            self.marks = Some(((run, version), super::plots::event_marks(s)));
        }
        let marks: Vec<EventMark> = self
            .marks
            .iter()
            .flat_map(|m| &m.1)
            .filter(|m| !m.text.starts_with("layer ") || m.text.starts_with(&own_layer))
            .cloned()
            .collect();

        // (a) Membership raster.
        ui.separator();
        self.raster_ui(
            ui,
            &ctx,
            (run, version),
            s,
            (idx, sel.probe_row),
            (l, j),
            (&axis, w),
            tx,
        );
        if let Some(k) = sel.probe_row {
            self.digit_ui(ui, &ctx, run, s, k, idx, (l, j));
        }

        // (b) Class composition.
        ui.separator();
        ui.horizontal(|ui| {
            ui.strong("Class composition");
            let mut checked = fractions;
            if ui
                .checkbox(&mut checked, "fraction of each class")
                .changed()
            {
                tx.send(Command::Set(Setting::CompositionFractions(checked)));
            }
        });
        let totals = &s.dataset.train_class_counts;
        let xs = s.positions();
        let Some((_, series)) = &self.series else {
            return;
        };
        let mut base = vec![0.0; xs.len()];
        let composition: Vec<Series> = series
            .composition
            .iter()
            .enumerate()
            .map(|(c, on)| {
                let name = format!("class {c}");
                if fractions {
                    let total = f64::from(totals.get(c).copied().unwrap_or(1).max(1));
                    let pts = xs.iter().zip(on).map(|(&x, &y)| [x, y / total]).collect();
                    Series::line(name, class_color(c), pts)
                } else {
                    // Stacked: each class's area from the classes below it to its top; the
                    // tooltip gives the class's own count.
                    let top: Vec<f64> = base.iter().zip(on).map(|(a, b)| a + b).collect();
                    let pts = xs.iter().zip(&top).map(|(&x, &y)| [x, y]).collect();
                    let mut line = Series::line(name, class_color(c), pts)
                        .width(0.5)
                        .format(ValueFormat::Count)
                        .band_alpha(0.8);
                    line.band = Some(base.iter().copied().zip(top.iter().copied()).collect());
                    line.shown_values = Some(on.clone());
                    base = top;
                    line
                }
            })
            .collect();
        let y_title = if fractions {
            "fraction of the class"
        } else {
            "samples (by class)"
        };
        let spec = PlotSpec::new("composition", w, 150.0, y_title).include_y([0.0]);
        let out = axis.show(
            ui,
            &spec,
            &composition,
            &marks,
            sel_position,
            &label,
            |_, _| {},
        );
        select_clicked(&out, s, tx);

        // (c) Push by class.
        ui.separator();
        ui.strong("Push by class: mean φ of the set's samples of each class");
        self.rendered_push_classes = series
            .push
            .iter()
            .enumerate()
            .filter(|(_, line)| !line.is_empty())
            .map(|(c, _)| c)
            .collect();
        if self.rendered_push_classes.is_empty() {
            self.push_plot = None;
            ui.label(
                RichText::new(
                    "No backward-pass data in this session (it was written before schema 2).",
                )
                .weak(),
            );
        } else {
            ui.label(
                RichText::new(
                    "φ = ∂(sample loss)/∂(node output), averaged over the set's samples of a \
                     class. Below 0: the loss falls as the node's output grows (the class pulls \
                     the node up); above 0: it rises (the class pushes the node down).",
                )
                .small()
                .weak(),
            );
            let push: Vec<Series> = series
                .push
                .iter()
                .enumerate()
                .filter(|(_, line)| !line.is_empty())
                .map(|(c, line)| {
                    Series::line(format!("class {c}"), class_color(c), line.clone()).note(push_sign)
                })
                .collect();
            let spec =
                PlotSpec::new("push-by-class", w, 150.0, "mean φ (by class)").include_y([0.0]);
            let out = axis.show(ui, &spec, &push, &marks, sel_position, &label, |p, _| {
                p.hline(
                    HLine::new("", 0.0)
                        .color(Color32::from_gray(120))
                        .width(1.0),
                );
            });
            self.push_plot = out.transform.map(|t| (t, axis.clone()));
            select_clicked(&out, s, tx);
            class_key(ui, s.classes());

            // (d) Mean |φ|, settled share, turnover.
            let text = ui.visuals().text_color();
            let small = |ui: &mut Ui, id: &str, y_title: &str, lines: Vec<Series>| {
                let spec = PlotSpec::new(id, w, SMALL_PLOT_H, y_title).include_y([0.0]);
                let out = axis.show(ui, &spec, &lines, &marks, sel_position, &label, |_, _| {});
                select_clicked(&out, s, tx);
            };
            ui.strong("How hard the set pushes: mean |φ| over its samples");
            small(
                ui,
                "node-mean-abs-phi",
                "mean |φ|",
                vec![Series::line("mean |φ|", text, series.mean_abs.clone())],
            );
            ui.strong("Settled share of the set");
            let settled = series
                .settled
                .iter()
                .map(|&[x, v]| [x, v * 100.0])
                .collect();
            small(
                ui,
                "node-settled",
                "settled (%)",
                vec![Series::line("settled", text, settled).format(ValueFormat::Percent)],
            );
            ui.strong("Turnover since the previous record (solid: added, dashed: removed)");
            small(
                ui,
                "node-turnover",
                "samples",
                vec![
                    Series::line("added", text, series.added.clone()).format(ValueFormat::Count),
                    Series::line("removed", text, series.removed.clone())
                        .style(LineStyle::dashed_dense())
                        .format(ValueFormat::Count),
                ],
            );
        }

        // (e) Node metrics against the layer band.
        ui.separator();
        ui.strong(format!("Node metrics (layer {} band behind)", l + 1));
        let styles = [
            LineStyle::Solid,
            LineStyle::dashed_loose(),
            LineStyle::dotted_loose(),
        ];
        let mut metrics: Vec<Series> = Vec::new();
        let mut entries: Vec<LegendEntry> = Vec::new();
        for (i, m) in Metric::headline().enumerate() {
            let style = styles[i % styles.len()];
            let name = m.info().name;
            let mut band = Series::band(
                format!("layer {} {name}", l + 1),
                NEUTRAL,
                &s.layer_band(l, m),
            )
            .key(name)
            .style(style)
            .width(0.8)
            .band_alpha(0.12);
            band.color = NEUTRAL.gamma_multiply(0.5);
            metrics.push(band);
            if let Some(pts) = series.metrics.get(i) {
                metrics.push(
                    Series::line(format!("node {name}"), Color32::WHITE, pts.clone())
                        .key(name)
                        .style(style)
                        .width(2.0),
                );
            }
            entries.push(LegendEntry::new(name, Color32::WHITE, style));
        }
        ui.horizontal_wrapped(|ui| epoch_axis::legend(ui, &entries));
        let spec = PlotSpec::new("node-metrics", w, 150.0, "metric value");
        let out = axis.show(ui, &spec, &metrics, &marks, sel_position, &label, |_, _| {});
        select_clicked(&out, s, tx);

        // (f) Thumbnails.
        ui.separator();
        self.thumbs_ui(ui, &ctx, (run, version, l, j, idx), s, w, tx);
        self.rendered = Some(((l, j), step));
    }

    /// Class counts and backward-pass figures at record `idx`.
    fn figures_at_record(&mut self, ui: &mut Ui, s: &Session, idx: usize, (l, j): (usize, usize)) {
        let values: Vec<String> = Metric::ALL
            .into_iter()
            .filter_map(|m| {
                let v = s.node_value(idx, l, j, m)?;
                Some(format!("{} {v:.3}", m.info().short))
            })
            .collect();
        if !values.is_empty() {
            ui.label(values.join(" · "));
        }
        let counts = s.node_counts(idx, l, j).map(<[u32]>::to_vec);
        if let Some(on) = &counts {
            let totals = &s.dataset.train_class_counts;
            let share = |c: usize, v: u32| {
                let total = totals.get(c).copied().unwrap_or(0).max(1);
                format!("{:.0}", f64::from(v) / f64::from(total) * 100.0)
            };
            // Columns as narrow as their numbers (the default minimum of 40 points per column
            // made the panel 500 points wide), and as many classes per block as fit the
            // panel: ten 4-digit counts do not fit a narrow panel in one row.
            let font = egui::TextStyle::Small.resolve(ui.style());
            let text_w = |t: String| {
                ui.painter()
                    .layout_no_wrap(t, font.clone(), Color32::WHITE)
                    .size()
                    .x
            };
            let gap = 6.0;
            let head_w = text_w("% of class".into());
            let col_w = on
                .iter()
                .map(|v| text_w(v.to_string()))
                .fold(text_w("100".into()), f32::max);
            let per_block = (((ui.available_width() - head_w) / (col_w + gap)).floor() as usize)
                .clamp(1, on.len().max(1));
            let classes: Vec<usize> = (0..on.len()).collect();
            for (b, block) in classes.chunks(per_block).enumerate() {
                egui::Grid::new(("class-counts", b))
                    .min_col_width(0.0)
                    .spacing([gap, 1.0])
                    .show(ui, |ui| {
                        ui.label(RichText::new("class").small());
                        for &c in block {
                            ui.label(RichText::new(c.to_string()).small().color(class_color(c)));
                        }
                        ui.end_row();
                        ui.label(RichText::new("in set").small()).on_hover_text(
                            "training samples of each class that switch the node on",
                        );
                        for &c in block {
                            let v = on.get(c).copied().unwrap_or(0);
                            ui.label(RichText::new(v.to_string()).small());
                        }
                        ui.end_row();
                        ui.label(RichText::new("% of class").small())
                            .on_hover_text("share of the class's training samples in the set");
                        for &c in block {
                            let v = on.get(c).copied().unwrap_or(0);
                            ui.label(RichText::new(share(c, v)).small());
                        }
                        ui.end_row();
                    });
            }
        }
        self.rendered_counts = counts;
        let mut parts = Vec::new();
        if let Some(v) = s.node_cost_mean_abs(idx, l, j) {
            parts.push(format!("mean |φ| {}", value_label(f64::from(v))));
        }
        if let Some(v) = s.node_settled_share(idx, l, j) {
            parts.push(format!("settled {:.1}% of the set", v * 100.0));
        }
        if let Some((a, r)) = s.node_turnover(idx, l, j) {
            parts.push(format!(
                "{} added, {} removed since the previous record",
                count(u64::from(a)),
                count(u64::from(r))
            ));
        }
        if !parts.is_empty() {
            ui.label(parts.join(" · "));
        }
    }

    /// The membership raster with its width switch and epoch axis, `w` points wide.
    #[allow(clippy::too_many_arguments)]
    fn raster_ui(
        &mut self,
        ui: &mut Ui,
        ctx: &egui::Context,
        (run, version): (RunId, u64),
        s: &Session,
        (idx, probe_row): (usize, Option<usize>),
        (l, j): (usize, usize),
        (axis, w): (&EpochAxis, f32),
        tx: &CommandSender,
    ) {
        ui.horizontal_wrapped(|ui| {
            ui.strong("Probe membership");
            ui.label(RichText::new("rows: probe samples by class · columns: records").small());
        });
        ui.horizontal(|ui| {
            ui.label(RichText::new("column widths:").small());
            ui.selectable_value(&mut self.raster_equal_widths, false, "by position")
                .on_hover_text("each record's column spans its share of the epoch axis");
            ui.selectable_value(&mut self.raster_equal_widths, true, "equal")
                .on_hover_text(
                    "every record gets the same width: the records inside epoch 1 become readable",
                );
        });
        self.raster(ctx, (run, version), s, l, j);
        let Some(Cached { tex, rows, .. }) = &self.raster else {
            return;
        };
        let h = 220.0;
        let label_w = 14.0;
        let (rect, resp) = ui.allocate_exact_size(vec2(w, h + AXIS_H), Sense::click());
        resp.widget_info(|| WidgetInfo::labeled(Role::Image, true, "membership raster"));
        let img = Rect::from_min_max(
            rect.min + vec2(label_w, 0.0),
            pos2(rect.right() - 6.0, rect.top() + h),
        );
        let painter = ui.painter_at(rect);
        // Columns outside a zoomed range stay inside the raster.
        let columns_painter = ui.painter_at(img);
        let positions = s.positions();
        // The texture's columns (thinned past the texture limit) and where each lies.
        let tex_cols = tex.size()[0].max(1);
        let stride = positions.len().div_ceil(tex_cols).max(1);
        let shown: Vec<f64> = positions.iter().step_by(stride).copied().collect();
        // By position: the plots' own x (linear or log) and range (zoom included), so a
        // column lies under the same epoch as in the plots.
        let (x0, x1) = axis.x_range();
        let xs: Vec<f64> = shown.iter().map(|&p| axis.x(p)).collect();
        let cols = raster_columns(&xs, (x0, x1), img.width(), self.raster_equal_widths);
        if self.raster_equal_widths {
            painter.image(
                tex.id(),
                img,
                Rect::from_min_max(Pos2::ZERO, pos2(1.0, 1.0)),
                Color32::WHITE,
            );
        } else {
            for (ci, [a, _, b]) in cols.iter().enumerate() {
                let u0 = ci as f32 / tex_cols as f32;
                let u1 = (ci + 1) as f32 / tex_cols as f32;
                columns_painter.image(
                    tex.id(),
                    Rect::from_min_max(
                        pos2(img.left() + a, img.top()),
                        pos2(img.left() + b, img.bottom()),
                    ),
                    Rect::from_min_max(pos2(u0, 0.0), pos2(u1, 1.0)),
                    Color32::WHITE,
                );
            }
        }
        // Class labels at the middle of each class's rows.
        let n = rows.len().max(1) as f32;
        let mut start = 0;
        while start < rows.len() {
            let c = s.probe.labels.get(rows[start]).copied().unwrap_or(0);
            let mut end = start;
            while end < rows.len() && s.probe.labels.get(rows[end]).copied() == Some(c) {
                end += 1;
            }
            let y = img.top() + (start + end) as f32 / 2.0 / n * img.height();
            painter.text(
                pos2(rect.left(), y),
                Align2::LEFT_CENTER,
                c.to_string(),
                FontId::proportional(10.0),
                class_color(usize::from(c)),
            );
            start = end;
        }
        // The epoch axis.
        let text = ui.visuals().text_color();
        let font = FontId::proportional(11.0);
        let tick_y = img.bottom();
        let tick = |x: f32, label: String| {
            painter.line_segment(
                [pos2(x, tick_y), pos2(x, tick_y + 3.0)],
                Stroke::new(1.0, text),
            );
            painter.text(
                pos2(x, tick_y + 3.0),
                Align2::CENTER_TOP,
                label,
                font.clone(),
                text,
            );
        };
        let center = |ci: usize| cols.get(ci).map(|c| img.left() + c[1]);
        if self.raster_equal_widths {
            for (ci, label) in equal_width_ticks(&painter, &font, &shown, &cols) {
                if let Some(x) = center(ci) {
                    tick(x, label);
                }
            }
        } else {
            let to_x = |p: f64| img.left() + ((axis.x(p) - x0) / (x1 - x0)) as f32 * img.width();
            let (lo, hi) = axis.visible();
            let ticks: Vec<f64> = match axis.scale {
                AxisScale::Linear => {
                    let probe_w = [epoch_label(hi.floor()), "0.25".to_string()]
                        .into_iter()
                        .map(|l| painter.layout_no_wrap(l, font.clone(), text).size().x)
                        .fold(0.0, f32::max);
                    nice_ticks(lo.max(0.0), hi, img.width(), probe_w + TICK_GAP)
                }
                AxisScale::Log => log_tick_positions(axis.steps_per_epoch, hi),
            };
            // Left to right, a label only where it does not run into the one before.
            let mut last_right = f32::NEG_INFINITY;
            for p in ticks {
                let x = to_x(p);
                let label = epoch_text(p);
                let half = painter
                    .layout_no_wrap(label.clone(), font.clone(), text)
                    .size()
                    .x
                    / 2.0;
                if x < img.left() - 1.0 || x > img.right() + 1.0 || x - half < last_right + TICK_GAP
                {
                    continue;
                }
                last_right = x + half;
                tick(x, label);
            }
        }
        // The selected record and probe sample.
        if let Some(x) = center(idx / stride) {
            // Dashed and neutral, as the plots draw the selected record.
            painter.extend(egui::Shape::dashed_line(
                &[pos2(x, img.top()), pos2(x, img.bottom())],
                Stroke::new(1.0, SELECTED_RECORD),
                4.0,
                3.0,
            ));
        }
        if let Some(k) = probe_row
            && let Some(r) = rows.iter().position(|&x| x >= k)
        {
            let y = img.top() + (r as f32 + 0.5) / n * img.height();
            painter.line_segment(
                [pos2(img.left(), y), pos2(img.right(), y)],
                Stroke::new(1.0, Color32::WHITE),
            );
        }
        let hit = |p: Pos2| -> Option<(usize, usize)> {
            if !img.contains(p) {
                return None;
            }
            let r = (((p.y - img.top()) / img.height()) * n) as usize;
            let x = p.x - img.left();
            let ci = cols.iter().position(|[a, _, b]| x >= *a && x < *b)?;
            Some((*rows.get(r.min(rows.len().saturating_sub(1)))?, ci * stride))
        };
        if let Some(p) = resp.hover_pos()
            && let Some((k, i)) = hit(p)
        {
            let class = s.probe.labels.get(k).copied().unwrap_or(0);
            let inside = s.probe_member(i, l, j, k);
            let (e_step, e_pos) = s
                .epochs
                .get(i)
                .map_or((0, 0.0), |e| (e.step, e.position(s.steps_per_epoch())));
            resp.clone().on_hover_text_at_pointer(format!(
                "probe sample {k} (class {class})\nepoch {} (step {e_step}): {}",
                epoch_label(e_pos),
                if inside {
                    "in the set"
                } else {
                    "not in the set"
                }
            ));
        }
        if resp.clicked()
            && let Some(p) = resp.interact_pointer_pos()
            && let Some((k, i)) = hit(p)
        {
            tx.send(Command::SelectProbeRow(Some(k)));
            select_record(tx, s, i);
        }
        ui.label(
            RichText::new(if self.raster_equal_widths {
                "epoch of each record (equal widths: not to scale)"
            } else {
                "epoch (each column reaches halfway to its neighbours)"
            })
            .small()
            .weak(),
        );
    }

    /// The sample of the set at the selected record.
    #[allow(clippy::too_many_arguments)]
    fn thumbs_ui(
        &mut self,
        ui: &mut Ui,
        ctx: &egui::Context,
        key: ThumbKey,
        s: &Session,
        w: f32,
        tx: &CommandSender,
    ) {
        self.thumbs(ctx, key, s);
        let Some(t) = &self.thumbs else {
            return;
        };
        ui.strong("Samples in the set");
        ui.label(format!(
            "showing {} of {}",
            count(t.shown.len() as u64),
            count(t.set_size)
        ))
        .on_hover_text(format!(
            "The set holds {} training samples, {} of them among the {} probe samples (the \
             only ones whose pixels the session keeps). The thumbnails are a seeded sample of \
             those, each class drawn in proportion to its share of the whole set.",
            count(t.set_size),
            count(t.probe_members as u64),
            count(s.probe.len() as u64)
        ));
        self.rendered_thumbs = Some((t.shown.clone(), t.set_size));
        if t.shown.is_empty() {
            return;
        }
        let size = t.tex.size_vec2() * (w / t.tex.size_vec2().x).min(1.5);
        let (rect, resp) = ui.allocate_exact_size(size, Sense::click());
        resp.widget_info(|| WidgetInfo::labeled(Role::Image, true, "sample thumbnails"));
        let painter = ui.painter_at(rect);
        painter.image(
            t.tex.id(),
            rect,
            Rect::from_min_max(Pos2::ZERO, pos2(1.0, 1.0)),
            Color32::WHITE,
        );
        let cell = rect.width() / THUMB_COLS as f32;
        let font = FontId::proportional(10.0);
        for (i, &k) in t.shown.iter().enumerate() {
            let c = usize::from(s.probe.labels.get(k).copied().unwrap_or(0));
            let min = rect.min
                + vec2(
                    (i % THUMB_COLS) as f32 * cell,
                    (i / THUMB_COLS) as f32 * cell,
                );
            let galley = painter.layout_no_wrap(c.to_string(), font.clone(), class_color(c));
            let bg = Rect::from_min_size(min, galley.size() + vec2(3.0, 0.0));
            painter.rect_filled(bg, 0.0, Color32::from_black_alpha(190));
            painter.galley(min + vec2(1.5, 0.0), galley, class_color(c));
            painter.line_segment(
                [
                    pos2(min.x, min.y + cell - 1.0),
                    pos2(min.x + cell, min.y + cell - 1.0),
                ],
                Stroke::new(2.0, class_color(c)),
            );
        }
        let at = |p: Pos2| -> Option<usize> {
            let i = ((p.y - rect.top()) / cell) as usize * THUMB_COLS
                + ((p.x - rect.left()) / cell) as usize;
            t.shown.get(i).copied()
        };
        if let Some(p) = resp.hover_pos()
            && let Some(k) = at(p)
        {
            let class = s.probe.labels.get(k).copied().unwrap_or(0);
            resp.clone().on_hover_text_at_pointer(format!(
                "class {class} · probe sample {k} (click to enlarge)"
            ));
        }
        if resp.clicked()
            && let Some(p) = resp.interact_pointer_pos()
            && let Some(k) = at(p)
        {
            tx.send(Command::SelectProbeRow(Some(k)));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn digit_ui(
        &mut self,
        ui: &mut Ui,
        ctx: &egui::Context,
        run: RunId,
        s: &Session,
        k: usize,
        idx: usize,
        node: (usize, usize),
    ) {
        if self.digit.as_ref().is_none_or(|d| d.1 != (run, k)) {
            let tex = ctx.load_texture("probe-digit", digit_image(s, k), TextureOptions::NEAREST);
            self.digit = Some((tex, (run, k)));
        }
        if let Some((tex, _)) = &self.digit {
            ui.horizontal_top(|ui| {
                ui.add(egui::Image::new((tex.id(), vec2(96.0, 96.0))));
                // The texts wrap in what is left of a narrow panel (already short of the
                // scroll bar: see RIGHT_MARGIN).
                let rest = ui.available_width().max(80.0);
                ui.vertical(|ui| {
                    ui.set_max_width(rest);
                    let label = s.probe.labels.get(k).copied().unwrap_or(0);
                    ui.heading(format!("label {label}"));
                    ui.add(
                        egui::Label::new(format!(
                            "probe sample {k} (training index {})",
                            s.probe.indices.get(k).copied().unwrap_or(0)
                        ))
                        .wrap(),
                    );
                    let inside = s.probe_member(idx, node.0, node.1, k);
                    ui.add(
                        egui::Label::new(if inside {
                            "in the sample set at this record"
                        } else {
                            "not in the sample set at this record"
                        })
                        .wrap(),
                    );
                });
            });
        }
    }
}

/// Tick labels for the raster with equal widths: `(column, label)` for records whose label
/// fits, whole epochs first, then the records inside epochs where room is left.
fn equal_width_ticks(
    painter: &egui::Painter,
    font: &FontId,
    positions: &[f64],
    cols: &[[f32; 3]],
) -> Vec<(usize, String)> {
    let mut placed: Vec<(f32, f32, usize, String)> = Vec::new();
    let whole = |x: f64| (x - x.round()).abs() < 1e-9;
    for pass_whole in [true, false] {
        for (ci, &x) in positions.iter().enumerate() {
            if whole(x) != pass_whole {
                continue;
            }
            let Some([_, c, _]) = cols.get(ci) else {
                continue;
            };
            let label = epoch_label(x);
            let half = painter
                .layout_no_wrap(label.clone(), font.clone(), Color32::WHITE)
                .size()
                .x
                / 2.0
                + TICK_GAP / 2.0;
            let (lo, hi) = (c - half, c + half);
            let right_edge = cols.last().map_or(0.0, |l| l[2]);
            if lo < -TICK_GAP || hi > right_edge + TICK_GAP {
                continue;
            }
            if placed.iter().all(|p| hi <= p.0 || lo >= p.1) {
                placed.push((lo, hi, ci, label));
            }
        }
    }
    placed.into_iter().map(|p| (p.2, p.3)).collect()
}

/// A row naming the classes in their colours.
fn class_key(ui: &mut Ui, classes: usize) {
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 6.0;
        ui.label(RichText::new("class:").small());
        for c in 0..classes {
            ui.label(
                RichText::new(c.to_string())
                    .small()
                    .strong()
                    .color(class_color(c)),
            );
        }
        ui.label(RichText::new("(hover a line for its value)").small().weak());
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(per_class: &[usize]) -> Vec<(usize, u8)> {
        let mut out = Vec::new();
        for (c, &n) in per_class.iter().enumerate() {
            for _ in 0..n {
                out.push((out.len(), c as u8));
            }
        }
        out
    }

    fn per_class(shown: &[usize], m: &[(usize, u8)], classes: usize) -> Vec<usize> {
        let mut n = vec![0; classes];
        for &k in shown {
            n[usize::from(m[k].1)] += 1;
        }
        n
    }

    #[test]
    fn sample_follows_the_set_not_the_probe_order() {
        // A set of mostly 4s and 9s: the probe holds many 0s, 1s and 2s too, but the set's
        // composition decides.
        let m = members(&[40, 40, 40, 0, 50, 0, 0, 0, 0, 50]);
        let mut composition = vec![0u32; 10];
        composition[0] = 100;
        composition[4] = 2000;
        composition[9] = 1900;
        let shown = proportional_sample(&m, &composition, 40, 7);
        assert_eq!(shown.len(), 40);
        let n = per_class(&shown, &m, 10);
        assert_eq!(n[4] + n[9], 39, "{n:?}");
        assert_eq!(n[0], 1, "{n:?}");
        assert_eq!(n[1] + n[2], 0, "{n:?}");
        assert!(n[4] == 20 && n[9] == 19, "{n:?}");
    }

    #[test]
    fn sample_is_seeded_and_stable() {
        let m = members(&[30, 30, 30]);
        let comp = [10, 20, 30];
        let a = proportional_sample(&m, &comp, 12, 1);
        assert_eq!(a, proportional_sample(&m, &comp, 12, 1));
        assert_ne!(a, proportional_sample(&m, &comp, 12, 2));
        assert_eq!(per_class(&a, &m, 3), vec![2, 4, 6]);
        // Grouped by class, class 0 first.
        let classes: Vec<u8> = a.iter().map(|&k| m[k].1).collect();
        assert!(classes.windows(2).all(|w| w[0] <= w[1]), "{classes:?}");
    }

    #[test]
    fn a_class_short_of_probe_samples_leaves_its_share_to_others() {
        let m = members(&[2, 30]);
        let shown = proportional_sample(&m, &[500, 500], 20, 3);
        assert_eq!(per_class(&shown, &m, 2), vec![2, 18]);
        // Fewer members than asked: all of them.
        let shown = proportional_sample(&m, &[500, 500], 100, 3);
        assert_eq!(shown.len(), 32);
        // No counts: the probe's own mix.
        let shown = proportional_sample(&members(&[10, 30]), &[], 8, 3);
        assert_eq!(per_class(&shown, &members(&[10, 30]), 2), vec![2, 6]);
        assert!(proportional_sample(&[], &[1, 2], 10, 0).is_empty());
    }

    #[test]
    fn counts_and_epoch_labels_read_well() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(4211), "4,211");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(epoch_label(0.0), "0");
        assert_eq!(epoch_label(20.0), "20");
        assert_eq!(epoch_label(128.0 / 469.0), "0.27");
        assert_eq!(epoch_label(1.0 / 469.0), "0.0021");
        assert_eq!(epoch_label(1.5), "1.5");
        assert_eq!(epoch_label(12.5), "12.5");
        assert_eq!(value_label(-0.012346), "-0.01235");
        assert_eq!(value_label(4211.0), "4,211");
        assert_eq!(value_label(-3.0), "-3");
    }

    #[test]
    fn ticks_are_round_and_spaced() {
        let t = nice_ticks(0.0, 20.0, 400.0, 40.0);
        assert_eq!(
            t,
            vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0, 20.0]
        );
        let t = nice_ticks(0.0, 200.0, 400.0, 40.0);
        assert_eq!(t.get(1), Some(&20.0));
        assert!(nice_ticks(1.0, 1.0, 400.0, 40.0).is_empty());
    }

    #[test]
    fn raster_columns_by_position_and_equal() {
        let xs = [0.0, 0.5, 1.0, 2.0];
        let cols = raster_columns(&xs, (0.0, 2.0), 100.0, false);
        // Columns touch and cover the axis in order, each anchored at its record's x and
        // reaching halfway to its neighbours.
        assert_eq!(cols[0], [0.0, 0.0, 12.5]);
        assert_eq!(cols[2], [37.5, 50.0, 75.0]);
        assert_eq!(cols[3], [75.0, 100.0, 100.0]);
        assert!(cols.windows(2).all(|w| (w[0][2] - w[1][0]).abs() < 1e-3));
        // A live run: the axis goes on to the preset's epochs, blank after the last record.
        let cols = raster_columns(&xs, (0.0, 10.0), 100.0, false);
        assert_eq!(cols[3], [15.0, 20.0, 25.0]);
        // A zoom: columns outside the range lie outside the raster (clipped when drawn).
        let cols = raster_columns(&xs, (0.5, 1.5), 100.0, false);
        assert_eq!(cols[2], [25.0, 50.0, 100.0]);
        assert!(cols[0][2] <= 0.0);
        let cols = raster_columns(&xs, (0.0, 2.0), 100.0, true);
        assert_eq!(cols[1], [25.0, 37.5, 50.0]);
    }

    #[test]
    fn log_ticks_cover_steps_then_epochs() {
        let t = log_tick_positions(469.0, 20.0);
        assert_eq!(t[..4], [0.0, 1.0 / 469.0, 10.0 / 469.0, 100.0 / 469.0]);
        assert_eq!(t[4..], [1.0, 2.0, 5.0, 10.0, 20.0]);
    }
}
