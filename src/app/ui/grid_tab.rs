//! The Grid tab: the open grid folder as the paper's small multiples (rows: hidden layers,
//! columns: widths, one block per loss), each cell the chosen metric's per-layer mean over
//! epochs (mean over seeds, min..max band over seeds behind it) with the final test accuracy
//! in its corner, all on shared axes; below, the summary over seeds that `grid status --json`
//! gives. Clicking a cell opens its runs in Explore. The folder is read and laid out by the
//! watcher ([`crate::app::grid_folder`]); this view only draws the kept points.

use egui::{Color32, Rect, RichText, Ui, vec2};
use egui_plot::{FilledArea, GridInput, GridMark, Line, Plot, PlotPoints, Points};

use super::colors::layer_color;
use crate::app::command::{Command, CommandSender, Purpose};
use crate::app::grid_folder::{GridCell, GridSnapshot, OpenGrid};
use crate::app::state::AppState;
use crate::export::figures::grid::{accuracy_text, loss_title};
use crate::grid::{PresetRow, Spread, seeds_text};
use crate::session::Metric;

/// Narrowest cell plot (points); below it the blocks are stacked instead of side by side.
const MIN_CELL_W: f32 = 170.0;
/// Narrowest cell whose strip holds the seeds or progress and the accuracy's range.
const WIDE_STRIP_W: f32 = 250.0;
/// Widest cell plot (points): wider cells flatten the curves without showing more.
const MAX_CELL_W: f32 = 440.0;
/// Width of the row headers ("2 layers").
const ROW_HEADER_W: f32 = 22.0;
/// Space between cells.
const GAP: f32 = 14.0;
/// Space after each block.
const BLOCK_GAP: f32 = 12.0;
/// Opacity of the seed bands.
const BAND_ALPHA: f32 = 0.25;

/// The Grid tab's own state: where each cell was drawn (for tests and clicks).
#[derive(Default)]
pub struct GridTabView {
    /// Preset name and plot rectangle of every cell drawn in the last frame.
    pub cells: Vec<(String, Rect)>,
    /// Preset name and corner text of every cell drawn in the last frame.
    pub corners: Vec<(String, String)>,
}

impl GridTabView {
    /// Draws the tab.
    pub fn ui(&mut self, ui: &mut Ui, state: &AppState, tx: &CommandSender) {
        self.cells.clear();
        self.corners.clear();
        let Some(grid) = &state.grid else {
            ui.heading("Grid");
            ui.label(
                "Open a grid folder (File › Open grid folder…, drop it on the window, or \
                 `sample-sets DIR`): a folder written by `sample-sets grid run` or a Slurm \
                 array from `sample-sets grid slurm`.",
            );
            if ui.button("Open grid folder…").clicked() {
                let dir = state.runs.sessions_dir.display().to_string();
                tx.send(Command::AskPath(Purpose::OpenGrid, format!("{dir}/")));
            }
            return;
        };
        header(ui, grid, state.sel.metric, tx);
        let Some(snap) = &grid.snapshot else {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("reading the grid's session files…");
            });
            return;
        };
        if snap.status.rows.is_empty() {
            ui.label("No grid here: no grid.ron and no session files in this folder (yet).");
            return;
        }
        egui::ScrollArea::vertical()
            .id_salt("grid-tab")
            .show(ui, |ui| {
                self.cells_ui(ui, snap, state.sel.metric, tx);
                ui.add_space(8.0);
                egui::CollapsingHeader::new(RichText::new("Summary over seeds").strong())
                    .default_open(true)
                    .show(ui, |ui| summary_table(ui, &snap.table));
            });
    }

    /// The small multiples.
    fn cells_ui(&mut self, ui: &mut Ui, snap: &GridSnapshot, metric: Metric, tx: &CommandSender) {
        legend(ui, snap.max_layers);
        let blocks = snap.losses.len().max(1);
        let cols = snap.cols.len().max(1);
        let avail = ui.available_width() - 4.0;
        // Each block in a row takes its row header, its cells with their gaps, and a gap.
        let cell_w_for = |per_row: usize| {
            (avail - (ROW_HEADER_W + BLOCK_GAP) * per_row as f32) / (per_row * cols) as f32 - GAP
        };
        let side_by_side = blocks > 1 && cell_w_for(blocks) >= MIN_CELL_W;
        let per_row = if side_by_side { blocks } else { 1 };
        let cell_w = cell_w_for(per_row).clamp(120.0, MAX_CELL_W);
        let plot_h = (cell_w * 0.62).clamp(100.0, 230.0);
        let block_lists: Vec<Vec<usize>> = if side_by_side {
            vec![(0..blocks).collect()]
        } else {
            (0..blocks).map(|b| vec![b]).collect()
        };
        for list in block_lists {
            // Block titles and column headers.
            ui.horizontal(|ui| {
                // Only the explicit gaps: the widths below add up to the row.
                ui.spacing_mut().item_spacing.x = 0.0;
                for &b in &list {
                    ui.add_space(ROW_HEADER_W);
                    let title = snap
                        .losses
                        .get(b)
                        .map_or_else(String::new, |l| loss_title(l));
                    let block_w = (cell_w + GAP) * cols as f32;
                    ui.allocate_ui(vec2(block_w, 20.0), |ui| {
                        ui.set_width(block_w);
                        ui.vertical_centered(|ui| ui.strong(title));
                    });
                    ui.add_space(BLOCK_GAP);
                }
            });
            ui.horizontal(|ui| {
                // Only the explicit gaps: the widths below add up to the row.
                ui.spacing_mut().item_spacing.x = 0.0;
                for _ in &list {
                    ui.add_space(ROW_HEADER_W);
                    for width in &snap.cols {
                        ui.allocate_ui(vec2(cell_w + GAP, 16.0), |ui| {
                            ui.set_width(cell_w + GAP);
                            ui.vertical_centered(|ui| ui.label(format!("{width} nodes")));
                        });
                    }
                    ui.add_space(BLOCK_GAP);
                }
            });
            for (r, layers) in snap.rows.iter().enumerate() {
                let row_h = plot_h + 22.0;
                let row = Rect::from_min_size(ui.cursor().min, vec2(avail, row_h));
                if !ui.is_rect_visible(row) {
                    // Off screen: keep the space, skip the plots.
                    ui.allocate_space(vec2(avail, row_h + ui.spacing().item_spacing.y));
                    continue;
                }
                ui.horizontal(|ui| {
                    // Only the explicit gaps: the widths below add up to the row.
                    ui.spacing_mut().item_spacing.x = 0.0;
                    for &b in &list {
                        row_header(ui, *layers, row_h);
                        for c in 0..cols {
                            let cell = snap.cell((b, r, c));
                            self.cell_ui(ui, snap, cell, metric, (cell_w, plot_h), tx);
                            ui.add_space(GAP);
                        }
                        ui.add_space(BLOCK_GAP);
                    }
                });
            }
            ui.add_space(6.0);
        }
        ui.label(
            RichText::new(format!(
                "x: epoch (0 = before training), shared by every cell; y: {} (layer mean), \
                 shared. Click a cell to open its runs in Explore.",
                metric.label()
            ))
            .small(),
        );
        if !snap.crowded.is_empty() {
            ui.label(
                RichText::new(format!(
                    "Not drawn (another preset has the same shape and loss): {}",
                    snap.crowded.join(", ")
                ))
                .small()
                .color(ui.visuals().warn_fg_color),
            );
        }
    }

    /// One cell: a header strip (seeds and epochs, final test accuracy on the right) over the
    /// plot; an empty frame where the grid has no preset.
    fn cell_ui(
        &mut self,
        ui: &mut Ui,
        snap: &GridSnapshot,
        cell: Option<&GridCell>,
        metric: Metric,
        (w, h): (f32, f32),
        tx: &CommandSender,
    ) {
        // Layer colours by absolute depth: layer k looks the same in every cell and the legend.
        let max_layers = snap.max_layers;
        ui.vertical(|ui| {
            ui.set_width(w);
            let Some(cell) = cell else {
                ui.add_space(18.0);
                let (rect, _) = ui.allocate_exact_size(vec2(w, h), egui::Sense::hover());
                ui.painter().rect_stroke(
                    rect,
                    2.0,
                    ui.visuals().widgets.noninteractive.bg_stroke,
                    egui::StrokeKind::Inside,
                );
                ui.painter().text(
                    rect.center(),
                    egui::Align2::CENTER_CENTER,
                    "not in this grid",
                    egui::FontId::proportional(12.0),
                    ui.visuals().weak_text_color(),
                );
                return;
            };
            // A narrow cell's strip keeps the essentials: the mean accuracy (the seeds' range
            // on hover) and, while runs train, the epochs; a wide one says everything.
            let wide = w >= WIDE_STRIP_W;
            let full_corner = accuracy_text(&cell.accuracy);
            let corner = match &cell.accuracy {
                Some(a) if !wide => format!("test {:.2}%", a.mean * 100.0),
                _ => full_corner.clone(),
            };
            ui.horizontal(|ui| {
                ui.set_height(18.0);
                // The row and column headers name the shape; the strip says how far it is.
                let done = cell.complete == cell.seeds.len();
                let progress = match (done, wide) {
                    (true, true) => format!("{} seeds", cell.seeds.len()),
                    (true, false) => String::new(),
                    (false, true) => format!(
                        "{}/{} done · ep {}/{}",
                        cell.complete,
                        cell.seeds.len(),
                        cell.epochs_done,
                        cell.preset.epochs
                    ),
                    (false, false) => format!("ep {}/{}", cell.epochs_done, cell.preset.epochs),
                };
                ui.label(RichText::new(progress).weak());
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    ui.label(RichText::new(&corner).strong())
                        .on_hover_text(format!(
                            "{full_corner} over seeds {}",
                            seeds_text(&cell.seeds)
                        ));
                });
            });
            let (y0, y1) = snap.y_range(metric);
            let x_max = snap.x_max;
            let bands = cell.bands(metric);
            // Fixed bounds, set every frame: the shared axes change with the metric and as a
            // live grid grows, and a plot keeps its bounds in memory.
            let resp = Plot::new(("grid-cell", cell.place))
                .width(w)
                .height(h)
                .default_x_bounds(0.0, x_max)
                .default_y_bounds(y0, y1)
                .allow_drag(false)
                .allow_zoom(false)
                .allow_scroll(false)
                .allow_boxed_zoom(false)
                .allow_double_click_reset(false)
                .show_y(false)
                .x_grid_spacer(|i| nice_marks(i, 4, 1.0))
                .y_grid_spacer(|i| nice_marks(i, 4, 0.0))
                .x_axis_formatter(|m, _| format!("{:.0}", m.value))
                .y_axis_formatter(|m, _| trim_number(m.value))
                .y_axis_min_width(30.0)
                .label_formatter(|pos| match pos {
                    egui_plot::HoverPosition::NearDataPoint {
                        plot_name,
                        position,
                        ..
                    } if !plot_name.is_empty() => Some(format!(
                        "{plot_name}\nepoch {:.0}: {:.3}",
                        position.x, position.y
                    )),
                    _ => None,
                })
                .show(ui, |p| {
                    // A little room around the shared ranges: dots at epoch 0 and values on a
                    // tenth are not cut, and the corner's two tick labels do not touch.
                    let (px, py) = (x_max * 0.03, (y1 - y0) * 0.04);
                    p.set_plot_bounds_x(-px..=x_max + px);
                    p.set_plot_bounds_y(y0 - py..=y1 + py);
                    // Bands first, so no band covers another layer's mean line.
                    for (l, b) in bands.iter().enumerate() {
                        if b.xs.is_empty() {
                            continue;
                        }
                        p.add(
                            FilledArea::new("", &b.xs, &b.lo, &b.hi)
                                .fill_color(layer_color(l, max_layers).gamma_multiply(BAND_ALPHA))
                                .id(("seed-band", cell.place, l)),
                        );
                    }
                    for (l, b) in bands.iter().enumerate() {
                        let name = format!("layer {}", l + 1);
                        if b.mean.len() == 1 {
                            // Epoch 0 alone (a run just started): a line of one point is
                            // invisible.
                            p.points(
                                Points::new(name, PlotPoints::Borrowed(&b.mean))
                                    .color(layer_color(l, max_layers))
                                    .radius(3.0)
                                    .id(("seed-mean", cell.place, l)),
                            );
                            continue;
                        }
                        p.line(
                            Line::new(name, PlotPoints::Borrowed(&b.mean))
                                .color(layer_color(l, max_layers))
                                .width(1.5)
                                .id(("seed-mean", cell.place, l)),
                        );
                    }
                });
            let openable = !cell.files.is_empty();
            let what = if openable {
                "click to open its runs in Explore"
            } else {
                "no run saved yet"
            };
            let mut r = resp.response.on_hover_text(format!(
                "{}: seeds {} · {what}",
                cell.preset.name,
                seeds_text(&cell.seeds)
            ));
            if openable {
                r = r.on_hover_cursor(egui::CursorIcon::PointingHand);
            }
            if r.clicked() && openable {
                tx.send(Command::OpenRuns(cell.files.clone()));
            }
            self.cells.push((cell.preset.name.clone(), r.rect));
            self.corners.push((cell.preset.name.clone(), corner));
        });
    }
}

/// Folder, run counts, metric choice, watcher errors and warnings.
fn header(ui: &mut Ui, grid: &OpenGrid, metric: Metric, tx: &CommandSender) {
    ui.horizontal_wrapped(|ui| {
        ui.heading("Grid");
        ui.label(RichText::new(grid.dir.display().to_string()).monospace());
        if let Some(snap) = &grid.snapshot {
            let mut counts: Vec<(String, usize)> = Vec::new();
            for r in &snap.status.rows {
                match counts.iter_mut().find(|(s, _)| *s == r.state) {
                    Some(c) => c.1 += 1,
                    None => counts.push((r.state.clone(), 1)),
                }
            }
            let counts: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
            ui.label(format!(
                "{} runs: {}",
                snap.status.rows.len(),
                counts.join(", ")
            ));
        }
        ui.label(
            RichText::new("(re-read when its files change)")
                .small()
                .weak(),
        );
    });
    ui.horizontal(|ui| {
        ui.label("Metric:");
        egui::ComboBox::from_id_salt("grid-metric")
            .selected_text(metric.label())
            .show_ui(ui, |ui| {
                for m in Metric::ALL {
                    if ui.selectable_label(m == metric, m.label()).clicked() {
                        tx.send(Command::SelectMetric(m));
                    }
                }
            })
            .response
            .on_hover_text(metric.info().unit);
    });
    if let Some(e) = &grid.error {
        ui.colored_label(ui.visuals().error_fg_color, e);
    }
    if let Some(snap) = &grid.snapshot {
        for w in &snap.status.warnings {
            ui.colored_label(ui.visuals().warn_fg_color, w);
        }
        for r in &snap.status.rows {
            if let Some(d) = &r.detail {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    format!("{} ({}): {}", r.file, r.state, d),
                );
            }
        }
    }
}

/// "layer 1 … layer N" in their colours, and what line and band mean.
fn legend(ui: &mut Ui, layers: usize) {
    ui.horizontal_wrapped(|ui| {
        for l in 0..layers {
            let (rect, _) = ui.allocate_exact_size(vec2(16.0, 4.0), egui::Sense::hover());
            ui.painter().rect_filled(rect, 0.0, layer_color(l, layers));
            ui.label(format!("layer {}", l + 1));
        }
        ui.label(
            RichText::new("· line: mean over seeds, band: min..max over seeds")
                .color(ui.visuals().weak_text_color()),
        );
    });
}

/// The row's header: its hidden-layer count, written upwards.
fn row_header(ui: &mut Ui, layers: usize, h: f32) {
    let (rect, _) = ui.allocate_exact_size(vec2(ROW_HEADER_W, h), egui::Sense::hover());
    let text = format!("{layers} layers");
    let galley = ui.painter().layout_no_wrap(
        text,
        egui::FontId::proportional(13.0),
        ui.visuals().strong_text_color(),
    );
    let size = galley.size();
    // Rotated a quarter turn anticlockwise about its top-left corner.
    let pos = egui::pos2(
        rect.center().x - size.y / 2.0,
        rect.center().y + size.x / 2.0,
    );
    ui.painter().add(
        egui::epaint::TextShape::new(pos, galley, Color32::PLACEHOLDER)
            .with_angle(-std::f32::consts::FRAC_PI_2),
    );
}

/// Marks at a round step (1, 2 or 5 times a power of ten; 2.5 too on a unitless axis) giving
/// at most `most` intervals over the axis, and no finer than `unit` (1 for epochs: no mark
/// between two epochs; 0 for a metric's tenths and quarters).
fn nice_marks(input: GridInput, most: usize, unit: f64) -> Vec<GridMark> {
    let (lo, hi) = input.bounds;
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return Vec::new();
    }
    let raw = span / most.max(1) as f64;
    let pow = 10f64.powf(raw.log10().floor());
    let multiples: &[f64] = if unit > 0.0 {
        &[1.0, 2.0, 5.0, 10.0]
    } else {
        &[1.0, 2.0, 2.5, 5.0, 10.0]
    };
    let step = multiples
        .iter()
        .map(|m| m * pow)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * pow)
        .max(unit);
    // The small slack keeps a mark that sits on an end despite rounding (0.6 / 0.1).
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last)
        .map(|k| GridMark {
            value: (k as f64 * step * 1e9).round() / 1e9,
            step_size: step,
        })
        .collect()
}

/// A tick value without trailing zeros: 0.5, 0.25, 1.
fn trim_number(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// "mean ± sd" of a spread scaled by `scale`, the mean alone for one seed, "–" for none.
fn mean_sd(s: Option<&Spread>, scale: f64, decimals: usize) -> String {
    s.map_or_else(|| "–".into(), |s| s.mean_sd_text(scale, decimals))
}

/// The per-preset summary over seeds (the numbers of `grid status --json`).
fn summary_table(ui: &mut Ui, table: &[PresetRow]) {
    if table.is_empty() {
        ui.label("No run has a saved epoch yet.");
        return;
    }
    let max_layers = table.iter().map(|r| r.hidden_layers).max().unwrap_or(0);
    ui.label(
        RichText::new(
            "Over seeds: mean ± sample sd (min–max on hover). Peak epoch: where layer 1's \
             mean activation fraction is largest. Last: each layer's mean activation \
             fraction at the last saved epoch.",
        )
        .small(),
    );
    egui::ScrollArea::horizontal()
        .id_salt("grid-summary")
        .show(ui, |ui| {
            egui::Grid::new("grid-summary-table")
                .striped(true)
                .spacing(vec2(14.0, 4.0))
                .show(ui, |ui| {
                    for h in [
                        "preset",
                        "seeds",
                        "complete",
                        "test accuracy %",
                        "peak epoch L1",
                    ] {
                        ui.strong(h);
                    }
                    for l in 0..max_layers {
                        ui.strong(format!("last L{}", l + 1));
                    }
                    ui.end_row();
                    for row in table {
                        ui.label(&row.preset);
                        ui.label(seeds_text(&row.seeds));
                        ui.label(format!("{}/{}", row.complete, row.seeds.len()));
                        spread_label(ui, row.final_test_accuracy.as_ref(), 100.0, 2);
                        spread_label(ui, row.peak_epoch_layer1.as_ref(), 1.0, 1);
                        for l in 0..max_layers {
                            match row.last_activation_fraction.get(l) {
                                Some(s) => spread_label(ui, s.as_ref(), 1.0, 3),
                                None => {
                                    ui.label("");
                                }
                            }
                        }
                        ui.end_row();
                    }
                });
        });
}

fn spread_label(ui: &mut Ui, s: Option<&Spread>, scale: f64, decimals: usize) {
    let r = ui.label(mean_sd(s, scale, decimals));
    if let Some(s) = s {
        r.on_hover_text(format!(
            "min {:.*}, max {:.*}, {} seeds",
            decimals,
            s.min * scale,
            decimals,
            s.max * scale,
            s.n
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marks(lo: f64, hi: f64, unit: f64) -> Vec<f64> {
        nice_marks(
            GridInput {
                bounds: (lo, hi),
                base_step_size: 0.01,
            },
            4,
            unit,
        )
        .iter()
        .map(|m| m.value)
        .collect()
    }

    #[test]
    fn ticks_are_whole_epochs_and_round_values() {
        assert_eq!(marks(0.0, 3.0, 1.0), vec![0.0, 1.0, 2.0, 3.0]);
        assert_eq!(marks(0.0, 200.0, 1.0), vec![0.0, 50.0, 100.0, 150.0, 200.0]);
        assert_eq!(
            marks(0.0, 1.0, 1.0),
            vec![0.0, 1.0],
            "no mark between epochs"
        );
        assert_eq!(marks(0.0, 10.0, 1.0), vec![0.0, 5.0, 10.0]);
        assert_eq!(marks(0.0, 1.0, 0.0), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(marks(0.3, 0.6, 0.0), vec![0.3, 0.4, 0.5, 0.6]);
        assert_eq!(trim_number(0.5), "0.5");
        assert_eq!(trim_number(1.0), "1");
        assert_eq!(trim_number(0.25), "0.25");
    }
}
