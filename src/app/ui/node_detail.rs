//! Node detail for the selected node: membership raster of the probe samples, class
//! composition over epochs, the node's metrics against its layer's band, and thumbnails of the
//! probe samples in its sample set.

use egui::{
    Color32, ColorImage, Pos2, Rect, RichText, Role, Sense, Stroke, TextureHandle, TextureOptions,
    Ui, WidgetInfo, pos2, vec2,
};
use egui_plot::LineStyle;

use super::RunView;
use super::colors::{MARKER, NEUTRAL, class_color};
use super::epoch_axis::{
    self, EpochAxis, EventMark, LegendEntry, PlotSpec, Series, ValueFormat, nearest_record_step,
    record_text,
};
use crate::app::command::{Command, CommandSender};
use crate::app::runs::RunId;
use crate::app::selection::{node_label, record_label};
use crate::app::settings::Setting;
use crate::session::{Metric, Session};

/// Most raster rows or columns (under the texture side limit); more are thinned evenly.
const MAX_RASTER_ROWS: usize = 4096;
/// Most thumbnails shown.
const MAX_THUMBS: usize = 120;
/// Thumbnails per atlas row.
const THUMB_COLS: usize = 12;
/// Pixels per side of a sample.
const SIDE: usize = 28;

/// A texture with the key it was built for and the probe rows it shows.
struct Cached<K> {
    tex: TextureHandle,
    key: K,
    rows: Vec<usize>,
}

/// Raster key: run, version, layer, node.
type RasterKey = (RunId, u64, usize, usize);
/// Thumbnail key: run, version, layer, node, epoch index.
type ThumbKey = (RunId, u64, usize, usize, usize);

/// The node detail view and its texture caches.
#[derive(Default)]
pub struct NodeDetailView {
    raster: Option<Cached<RasterKey>>,
    thumbs: Option<Cached<ThumbKey>>,
    digit: Option<(TextureHandle, (RunId, usize))>,
    /// The run's event marks, for (run, version): finding events reads every record.
    marks: Option<((RunId, u64), Vec<EventMark>)>,
    /// Node and record step drawn last frame (read by the GUI tests).
    #[cfg_attr(not(any(test, feature = "testing")), allow(dead_code))]
    pub rendered: Option<((usize, usize), u64)>,
    /// Per-class on-counts shown last frame (read by the GUI tests).
    #[cfg_attr(not(any(test, feature = "testing")), allow(dead_code))]
    pub rendered_counts: Option<Vec<u32>>,
}

fn digit_image(s: &Session, k: usize) -> ColorImage {
    let px = s.probe.pixels.get(k * 784..(k + 1) * 784).unwrap_or(&[]);
    let pixels = (0..784)
        .map(|i| Color32::from_gray(px.get(i).copied().unwrap_or(0)))
        .collect();
    ColorImage::new([SIDE, SIDE], pixels)
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
        // Columns too are thinned evenly past the texture limit (very long custom runs).
        let e_stride = s.epochs.len().div_ceil(MAX_RASTER_ROWS).max(1);
        let epochs: Vec<usize> = (0..s.epochs.len()).step_by(e_stride).collect();
        let cols = epochs.len().max(1);
        let mut img = ColorImage::filled([cols, rows.len().max(1)], Color32::from_gray(20));
        for (r, &k) in rows.iter().enumerate() {
            let c = usize::from(s.probe.labels.get(k).copied().unwrap_or(0));
            let on = class_color(c);
            let off = class_color(c).gamma_multiply(0.12);
            for (ci, &e) in epochs.iter().enumerate() {
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
        let members: Vec<usize> = (0..s.probe.len())
            .filter(|&k| s.probe_member(idx, l, j, k))
            .take(MAX_THUMBS)
            .collect();
        let rows = members.len().div_ceil(THUMB_COLS).max(1);
        let w = THUMB_COLS * SIDE;
        let mut img = ColorImage::filled([w, rows * SIDE], Color32::BLACK);
        for (i, &k) in members.iter().enumerate() {
            let d = digit_image(s, k);
            let (x0, y0) = ((i % THUMB_COLS) * SIDE, (i / THUMB_COLS) * SIDE);
            for y in 0..SIDE {
                for x in 0..SIDE {
                    img.pixels[(y0 + y) * w + x0 + x] = d.pixels[y * SIDE + x];
                }
            }
        }
        let tex = ctx.load_texture("node-thumbs", img, TextureOptions::NEAREST);
        self.thumbs = Some(Cached {
            tex,
            key,
            rows: members,
        });
    }

    /// Draws the detail of `view`'s selected node, or a hint when none is selected;
    /// `fractions` shows the composition as class fractions.
    pub fn ui(&mut self, ui: &mut Ui, view: RunView<'_>, fractions: bool, tx: &CommandSender) {
        let (run, version, s, sel) = view.parts();
        let Some((l, j)) = sel.node else {
            ui.heading("Node detail");
            ui.label("Click a cell of the node map to see which samples switch that node on.");
            self.rendered = None;
            return;
        };
        let Some(idx) = sel.record_index(s) else {
            ui.label("No epochs measured yet.");
            return;
        };
        let sel_position = s.record_position(idx).unwrap_or(0.0);
        let sel_step = s.epochs.get(idx).map_or(0, |e| e.step);
        ui.heading(node_label(l, j));
        ui.label(format!("at {}", record_label(s, idx)));
        let ctx = ui.ctx().clone();
        // Metrics and class counts at the selected epoch.
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
            egui::Grid::new("class-counts")
                .spacing([6.0, 1.0])
                .show(ui, |ui| {
                    ui.label(RichText::new("class").small());
                    for c in 0..on.len() {
                        ui.label(RichText::new(c.to_string()).small().color(class_color(c)));
                    }
                    ui.end_row();
                    ui.label(RichText::new("on").small());
                    for v in on {
                        ui.label(RichText::new(v.to_string()).small());
                    }
                    ui.end_row();
                });
            ui.label(
                RichText::new(format!(
                    "class counts: {}",
                    on.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
                ))
                .small()
                .weak(),
            );
        }
        self.rendered_counts = counts;
        let axis = EpochAxis::new(ui.ctx(), run, s);
        let w = epoch_axis::visible_width(ui) - 4.0;

        // (a) Membership raster.
        ui.separator();
        ui.strong("Probe membership (rows: samples by class, columns: epochs)");
        self.raster(&ctx, (run, version), s, l, j);
        if let Some(Cached { tex, rows, .. }) = &self.raster {
            let h = 220.0;
            let label_w = 14.0;
            let (rect, resp) = ui.allocate_exact_size(vec2(w, h), Sense::click());
            resp.widget_info(|| WidgetInfo::labeled(Role::Image, true, "membership raster"));
            let img = Rect::from_min_max(rect.min + vec2(label_w, 0.0), rect.max);
            let painter = ui.painter_at(rect);
            painter.image(
                tex.id(),
                img,
                Rect::from_min_max(Pos2::ZERO, pos2(1.0, 1.0)),
                Color32::WHITE,
            );
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
                    egui::Align2::LEFT_CENTER,
                    c.to_string(),
                    egui::FontId::proportional(10.0),
                    class_color(usize::from(c)),
                );
                start = end;
            }
            let cols = s.epochs.len().max(1) as f32;
            let x = img.left() + (idx as f32 + 0.5) / cols * img.width();
            painter.line_segment(
                [pos2(x, img.top()), pos2(x, img.bottom())],
                Stroke::new(1.0, MARKER),
            );
            if let Some(k) = sel.probe_row
                && let Some(r) = rows.iter().position(|&x| x >= k)
            {
                let y = img.top() + (r as f32 + 0.5) / n * img.height();
                painter.line_segment(
                    [pos2(img.left(), y), pos2(img.right(), y)],
                    Stroke::new(1.0, Color32::WHITE),
                );
            }
            if resp.clicked()
                && let Some(p) = resp.interact_pointer_pos()
                && img.contains(p)
            {
                let r = (((p.y - img.top()) / img.height()) * n) as usize;
                if let Some(&k) = rows.get(r.min(rows.len().saturating_sub(1))) {
                    tx.send(Command::SelectProbeRow(Some(k)));
                }
                let e = (((p.x - img.left()) / img.width()) * cols) as usize;
                if let Some(e) = s.epochs.get(e) {
                    tx.send(Command::SelectStep(e.step));
                }
            }
        }
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
        ui.label(
            RichText::new("colours: classes as in the table above; hover for values")
                .small()
                .weak(),
        );
        let frac = fractions;
        let classes = s.classes();
        let totals = s.dataset.train_class_counts.clone();
        let xs: Vec<f64> = s.positions();
        let label = |p: f64| record_text(s, p);
        // The run's events on the node's time line too: its layer's, and accuracy's.
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
        let mut base = vec![0.0; xs.len()];
        let composition: Vec<Series> = (0..classes)
            .map(|c| {
                let vals: Vec<f64> = (0..xs.len())
                    .map(|e| {
                        let on = s
                            .node_counts(e, l, j)
                            .and_then(|v| v.get(c))
                            .copied()
                            .unwrap_or(0);
                        if frac {
                            f64::from(on) / f64::from(totals.get(c).copied().unwrap_or(1).max(1))
                        } else {
                            f64::from(on)
                        }
                    })
                    .collect();
                let name = format!("class {c}");
                if frac {
                    let pts = xs.iter().zip(&vals).map(|(&x, &y)| [x, y]).collect();
                    Series::line(name, class_color(c), pts)
                } else {
                    // Stacked: each class's area from the classes below it to its top; the
                    // tooltip gives the class's own count.
                    let top: Vec<f64> = base.iter().zip(&vals).map(|(a, b)| a + b).collect();
                    let pts = xs.iter().zip(&top).map(|(&x, &y)| [x, y]).collect();
                    let mut series = Series::line(name, class_color(c), pts)
                        .width(0.5)
                        .format(ValueFormat::Count)
                        .band_alpha(0.8);
                    series.band = Some(base.iter().copied().zip(top.iter().copied()).collect());
                    series.shown_values = Some(vals);
                    base = top;
                    series
                }
            })
            .collect();
        let y_title = if frac {
            "share of the class in the set"
        } else {
            "samples in the set (by class)"
        };
        let spec = PlotSpec::new("composition", w, 150.0, y_title).include_y([0.0]);
        let out = axis.show(
            ui,
            &spec,
            &composition,
            &marks,
            Some(sel_position),
            &label,
            |_, _| {},
        );
        if let Some(step) = out.clicked.and_then(|x| nearest_record_step(s, x)) {
            tx.send(Command::SelectStep(step));
        }

        // (c) Node metrics against the layer band.
        ui.separator();
        ui.strong("Node metrics (layer band behind)");
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
            let pts: Vec<[f64; 2]> = s
                .node_series(l, j, m)
                .into_iter()
                .map(|(x, v)| [x, f64::from(v)])
                .collect();
            metrics.push(
                Series::line(format!("node {name}"), Color32::WHITE, pts)
                    .key(name)
                    .style(style)
                    .width(2.0),
            );
            entries.push(LegendEntry::new(name, Color32::WHITE, style));
        }
        ui.horizontal_wrapped(|ui| epoch_axis::legend(ui, &entries));
        let spec = PlotSpec::new("node-metrics", w, 150.0, "metric value");
        let out = axis.show(
            ui,
            &spec,
            &metrics,
            &marks,
            Some(sel_position),
            &label,
            |_, _| {},
        );
        if let Some(step) = out.clicked.and_then(|x| nearest_record_step(s, x)) {
            tx.send(Command::SelectStep(step));
        }

        // (c2) The backward pass and set turnover of this node (sessions of schema 2).
        let push = s.node_class_push_series(l, j);
        if !push.is_empty() {
            ui.separator();
            ui.strong("Push by class (node-supported cost)").on_hover_text(
                "mean signed φ = ∂L/∂a over the set's samples of each class: negative means the \
                 class's loss falls as the node's output grows (the class pushes the node up)",
            );
            let series: Vec<Series> = (0..classes)
                .map(|c| {
                    let pts = push
                        .iter()
                        .map(|(_, x, v)| {
                            let y = v.get(c).copied().flatten().map_or(f64::NAN, f64::from);
                            [*x, y]
                        })
                        .collect();
                    Series::line(format!("class {c}"), class_color(c), pts)
                })
                .collect();
            let spec = PlotSpec::new("node-push", w, 150.0, "mean signed φ").include_y([0.0]);
            let out = axis.show(
                ui,
                &spec,
                &series,
                &marks,
                Some(sel_position),
                &label,
                |_, _| {},
            );
            if let Some(step) = out.clicked.and_then(|x| nearest_record_step(s, x)) {
                tx.send(Command::SelectStep(step));
            }
        }
        let turnover: Vec<(f64, u32, u32)> = (0..s.epochs.len())
            .filter_map(|i| {
                let (a, r) = s.node_turnover(i, l, j)?;
                Some((s.record_position(i)?, a, r))
            })
            .collect();
        if !turnover.is_empty() {
            ui.separator();
            ui.strong("Set turnover").on_hover_text(
                "samples that entered (added) and left (removed) this node's sample set since \
                 the previous record; |S_now| - |S_prev| = added - removed",
            );
            let line = |name: &str, style: LineStyle, pick: fn(&(f64, u32, u32)) -> u32| {
                Series::line(
                    name,
                    NEUTRAL,
                    turnover.iter().map(|t| [t.0, f64::from(pick(t))]).collect(),
                )
                .style(style)
                .format(ValueFormat::Count)
            };
            let series = vec![
                line("added", LineStyle::Solid, |t| t.1),
                line("removed", LineStyle::dashed_loose(), |t| t.2),
            ];
            ui.horizontal_wrapped(|ui| {
                epoch_axis::legend(
                    ui,
                    &[
                        LegendEntry::new("added", NEUTRAL, LineStyle::Solid),
                        LegendEntry::new("removed", NEUTRAL, LineStyle::dashed_loose()),
                    ],
                );
            });
            let spec = PlotSpec::new("node-turnover", w, 130.0, "samples").include_y([0.0]);
            let out = axis.show(
                ui,
                &spec,
                &series,
                &marks,
                Some(sel_position),
                &label,
                |_, _| {},
            );
            if let Some(step) = out.clicked.and_then(|x| nearest_record_step(s, x)) {
                tx.send(Command::SelectStep(step));
            }
        }

        // (d) Thumbnails.
        ui.separator();
        self.thumbs(&ctx, (run, version, l, j, idx), s);
        if let Some(Cached {
            tex, rows: members, ..
        }) = &self.thumbs
        {
            let total = (0..s.probe.len())
                .filter(|&k| s.probe_member(idx, l, j, k))
                .count();
            ui.strong(format!(
                "In the sample set at {}: {total} of {} probe samples{}",
                record_label(s, idx),
                s.probe.len(),
                if total > members.len() {
                    format!(" (first {} shown)", members.len())
                } else {
                    String::new()
                }
            ));
            if !members.is_empty() {
                let size = tex.size_vec2() * (w / tex.size_vec2().x).min(1.5);
                let (rect, resp) = ui.allocate_exact_size(size, Sense::click());
                resp.widget_info(|| WidgetInfo::labeled(Role::Image, true, "sample thumbnails"));
                ui.painter().image(
                    tex.id(),
                    rect,
                    Rect::from_min_max(Pos2::ZERO, pos2(1.0, 1.0)),
                    Color32::WHITE,
                );
                if resp.clicked()
                    && let Some(p) = resp.interact_pointer_pos()
                {
                    let cell = rect.width() / THUMB_COLS as f32;
                    let i = ((p.y - rect.top()) / cell) as usize * THUMB_COLS
                        + ((p.x - rect.left()) / cell) as usize;
                    if let Some(&k) = members.get(i) {
                        tx.send(Command::SelectProbeRow(Some(k)));
                    }
                }
            }
        }
        self.rendered = Some(((l, j), sel_step));
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
            ui.horizontal(|ui| {
                ui.add(egui::Image::new((tex.id(), vec2(112.0, 112.0))));
                ui.vertical(|ui| {
                    let label = s.probe.labels.get(k).copied().unwrap_or(0);
                    ui.heading(format!("label {label}"));
                    ui.label(format!(
                        "probe sample {k} (training index {})",
                        s.probe.indices.get(k).copied().unwrap_or(0)
                    ));
                    let inside = s.probe_member(idx, node.0, node.1, k);
                    ui.label(if inside {
                        "in the sample set at this epoch"
                    } else {
                        "not in the sample set at this epoch"
                    });
                });
            });
        }
    }
}
