//! The node map: every hidden node, one row per layer, coloured by a metric at the selected
//! epoch; drawn as one texture rebuilt only when run, epoch or metric change.

use std::time::{Duration, Instant};

use egui::{
    Color32, ColorImage, Pos2, Rect, Role, Sense, Stroke, TextureHandle, TextureOptions, Ui, Vec2,
    WidgetInfo, pos2, vec2,
};

use super::RunView;
use super::colors::{color32, metric_color};
use crate::app::command::{Command, CommandSender};
use crate::app::runs::RunId;
use crate::app::selection::{node_label, record_label};
use crate::session::{Metric, Session};

/// Time between epochs while playing.
const PLAY_STEP: Duration = Duration::from_millis(300);

/// The node map view with its texture cache.
#[derive(Default)]
pub struct NodeMapView {
    texture: Option<TextureHandle>,
    key: Option<(RunId, u64, usize, Metric)>,
    values: Vec<Vec<f32>>,
    legend: Option<TextureHandle>,
    playing: bool,
    last_step: Option<Instant>,
    /// Where the cells were drawn last frame: rect and (layers, widest layer).
    #[cfg_attr(not(any(test, feature = "testing")), allow(dead_code))]
    cells: Option<(Rect, usize, usize)>,
    /// Step of the record the map was drawn for in the last frame (read by the GUI tests).
    #[cfg_attr(not(any(test, feature = "testing")), allow(dead_code))]
    pub rendered_step: Option<u64>,
}

impl NodeMapView {
    /// Screen position of node (`layer`, `node`)'s cell centre as drawn last frame.
    #[cfg(any(test, feature = "testing"))]
    pub fn cell_center(&self, layer: usize, node: usize) -> Option<Pos2> {
        let (rect, layers, width) = self.cells?;
        if layer >= layers || node >= width {
            return None;
        }
        let cw = rect.width() / width as f32;
        let ch = rect.height() / layers as f32;
        Some(pos2(
            rect.left() + (node as f32 + 0.5) * cw,
            rect.top() + (layer as f32 + 0.5) * ch,
        ))
    }

    fn refresh(
        &mut self,
        ctx: &egui::Context,
        run: RunId,
        version: u64,
        s: &Session,
        idx: usize,
        metric: Metric,
    ) {
        let key = (run, version, idx, metric);
        if self.key == Some(key) && self.texture.is_some() {
            return;
        }
        self.key = Some(key);
        self.values = s.layer_values(idx, metric);
        let width = s.widths.iter().copied().max().unwrap_or(1).max(1);
        let layers = s.widths.len().max(1);
        let mut img = ColorImage::filled([width, layers], Color32::TRANSPARENT);
        for (l, row) in self.values.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                img.pixels[l * width + j] = metric_color(metric, *v);
            }
        }
        match &mut self.texture {
            Some(t) if t.size() == [width, layers] => t.set(img, TextureOptions::NEAREST),
            _ => self.texture = Some(ctx.load_texture("node-map", img, TextureOptions::NEAREST)),
        }
    }

    fn legend_texture(&mut self, ctx: &egui::Context) -> egui::TextureId {
        self.legend
            .get_or_insert_with(|| {
                let n = 256;
                // The map over its whole range: the same for every metric.
                let pixels = (0..n)
                    .map(|i| {
                        let t = i as f32 / (n - 1) as f32;
                        crate::colors::viridis(t, (0.0, 1.0)).map_or(Color32::GRAY, color32)
                    })
                    .collect();
                ctx.load_texture(
                    "viridis-legend",
                    ColorImage::new([n, 1], pixels),
                    TextureOptions::LINEAR,
                )
            })
            .id()
    }

    /// Draws `view`'s node map with its controls; `height` is the space for the cells.
    /// Picking a record sends `record_command(position, step)` (position in epochs).
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        view: RunView<'_>,
        height: f32,
        tx: &CommandSender,
        record_command: &dyn Fn(f64, u64) -> Command,
    ) {
        let (run, version, s, sel) = view.parts();
        let Some(idx) = sel.record_index(s) else {
            ui.label("No epochs measured yet.");
            return;
        };
        self.refresh(ui.ctx(), run, version, s, idx, sel.metric);
        let last = s.epochs.len().saturating_sub(1);
        let spe = s.steps_per_epoch();
        let pick = |i: usize| {
            s.epochs
                .get(i)
                .map(|e| record_command(e.position(spe), e.step))
        };

        ui.horizontal(|ui| {
            ui.strong(format!(
                "Node map · {} / {}",
                record_label(s, idx),
                s.epochs_done()
            ));
            let mut metric = sel.metric;
            egui::ComboBox::from_id_salt("map-metric")
                .selected_text(metric.label())
                .show_ui(ui, |ui| {
                    for m in Metric::ALL {
                        ui.selectable_value(&mut metric, m, m.label());
                    }
                });
            if metric != sel.metric {
                tx.send(Command::SelectMetric(metric));
            }
        });
        ui.horizontal(|ui| {
            let play_label = if self.playing { "Stop" } else { "Play" };
            if ui.button(play_label).clicked() {
                self.playing = !self.playing;
                self.last_step = Some(Instant::now());
                if self.playing
                    && idx >= last
                    && let Some(c) = pick(0)
                {
                    tx.send(c);
                }
            }
            // One slider stop per record: records inside epoch 1 are as easy to reach as
            // whole epochs; the value shows the record's position.
            let mut i = idx;
            let slider = ui.add(
                egui::Slider::new(&mut i, 0..=last)
                    .text("record")
                    .integer()
                    .custom_formatter(|v, _| record_label(s, v.max(0.0) as usize)),
            );
            if slider.changed() {
                if let Some(c) = pick(i) {
                    tx.send(c);
                }
                self.playing = false;
            }
        });
        if self.playing {
            let now = Instant::now();
            if self.last_step.is_none_or(|t| now - t >= PLAY_STEP) {
                self.last_step = Some(now);
                if idx >= last {
                    self.playing = false;
                } else if let Some(c) = pick(idx + 1) {
                    tx.send(c);
                }
            }
            ui.ctx().request_repaint_after(PLAY_STEP);
        }

        let layers = s.widths.len().max(1);
        let width = s.widths.iter().copied().max().unwrap_or(1).max(1);
        let label_w = 56.0;
        let avail = ui.available_width();
        let cells_w = (avail - label_w - 4.0).max(50.0);
        let row_h = ((height - 40.0) / layers as f32).clamp(6.0, 44.0);
        let (rect, resp) = ui.allocate_exact_size(
            vec2(label_w + cells_w, row_h * layers as f32),
            Sense::click(),
        );
        resp.widget_info(|| WidgetInfo::labeled(Role::Image, true, "node map"));
        let cells =
            Rect::from_min_size(rect.min + vec2(label_w, 0.0), vec2(cells_w, rect.height()));
        self.cells = Some((cells, layers, width));
        let painter = ui.painter_at(rect);
        // Rows thinner than a line of text get every `step`-th label (9 layers in a short
        // window overprinted each other).
        let step = (13.0 / row_h).ceil().max(1.0) as usize;
        for l in (0..layers).filter(|l| l % step == 0) {
            painter.text(
                pos2(rect.left(), cells.top() + (l as f32 + 0.5) * row_h),
                egui::Align2::LEFT_CENTER,
                format!("layer {}", l + 1),
                egui::FontId::proportional(11.0),
                ui.visuals().text_color(),
            );
        }
        if let Some(t) = &self.texture {
            painter.image(
                t.id(),
                cells,
                Rect::from_min_max(Pos2::ZERO, pos2(1.0, 1.0)),
                Color32::WHITE,
            );
        }
        let cw = cells_w / width as f32;
        let hit = |p: Pos2| -> Option<(usize, usize)> {
            if !cells.contains(p) {
                return None;
            }
            let l = ((p.y - cells.top()) / row_h) as usize;
            let j = ((p.x - cells.left()) / cw) as usize;
            (s.widths.get(l).is_some_and(|&w| j < w)).then_some((l, j))
        };
        if let Some((l, j)) = sel.node {
            let r = Rect::from_min_size(
                pos2(cells.left() + j as f32 * cw, cells.top() + l as f32 * row_h),
                vec2(cw.max(2.0), row_h),
            )
            .expand(1.5);
            painter.rect_stroke(
                r,
                0.0,
                Stroke::new(2.0, Color32::from_rgb(255, 60, 60)),
                egui::StrokeKind::Outside,
            );
        }
        if let Some(p) = resp.hover_pos()
            && let Some((l, j)) = hit(p)
        {
            let v = self
                .values
                .get(l)
                .and_then(|r| r.get(j))
                .copied()
                .unwrap_or(f32::NAN);
            let text = if v.is_finite() {
                format!("{}\n{} = {v:.3}", node_label(l, j), sel.metric.label())
            } else {
                format!("{}\n{}: undefined", node_label(l, j), sel.metric.label())
            };
            resp.clone().on_hover_text_at_pointer(text);
        }
        if resp.clicked()
            && let Some(p) = resp.interact_pointer_pos()
            && let Some(n) = hit(p)
        {
            tx.send(Command::SelectNode(Some(n)));
        }
        // Colour legend.
        let legend = self.legend_texture(ui.ctx());
        // Wrapped, and the bar no wider than the map leaves room for: side by side in Compare
        // at 1024x700 the caption ran into the next map and off the window.
        ui.horizontal_wrapped(|ui| {
            ui.add_space(label_w);
            let info = sel.metric.info();
            ui.label(info.range.0.to_string());
            let bar_w = (ui.available_width() - 40.0).clamp(60.0, 160.0);
            let (r, _) = ui.allocate_exact_size(Vec2::new(bar_w, 10.0), Sense::hover());
            ui.painter().image(
                legend,
                r,
                Rect::from_min_max(Pos2::ZERO, pos2(1.0, 1.0)),
                Color32::WHITE,
            );
            ui.label(info.range.1.to_string());
            ui.label(
                egui::RichText::new(format!(
                    "{} (viridis; grey = undefined)",
                    sel.metric.label()
                ))
                .small(),
            )
            .on_hover_text(format!("high: {}", info.high_means));
        });
        self.rendered_step = s.epochs.get(idx).map(|e| e.step);
    }
}
