//! The grid figure: small multiples of a grid folder's runs, as in Haasbroek & Davel's
//! figures. Rows are hidden-layer counts, columns widths, one block per loss; each cell shows
//! one preset's per-layer mean of a metric over epochs (one line per layer, mean over seeds,
//! the min..max band over seeds behind it) with its final test accuracy in the corner. All
//! cells share both axes so shapes compare at a glance.

use std::fmt::Write as _;
use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{self, Drawn, Mark};
use super::{ExportError, Format, check_font, format_of};
use crate::grid::{RunGroup, RunSummary, SeedBandPoint, Spread, group_runs, seed_band};
use crate::session::Metric;

/// Pixel size of the grid figure (SVG: the same user units): 3 rows by two blocks of 3
/// columns at about 330 x 380 px a cell, plus the legend column.
pub const GRID_FIGURE_SIZE: (u32, u32) = (2600, 1500);

/// Tick label size in the cells, px (larger than a single figure's: cells are shrunk more
/// when the figure is set in a page).
const TICK_PX: f64 = 26.0;
/// Row, column and block headers, px.
const HEADER_PX: f64 = 32.0;
/// Cell corner text (preset shape, final test accuracy), px.
const CORNER_PX: f64 = 26.0;
/// Alpha of the seed bands.
const SEED_BAND_ALPHA: f64 = 0.22;

/// One cell: a group of runs and its per-layer bands.
struct Cell {
    /// The group's preset name.
    preset: String,
    hidden_layers: usize,
    width: usize,
    seeds: Vec<u64>,
    /// Per layer, over epochs.
    bands: Vec<Vec<SeedBandPoint>>,
    /// Test accuracy after each run's last saved epoch.
    accuracy: Option<Spread>,
}

/// The figure's content: blocks (losses) of rows (layers) by columns (widths).
struct Layout {
    metric: Metric,
    /// Loss short names, one block each (`ce` first, then `mse`, then others).
    losses: Vec<String>,
    /// Hidden-layer counts, increasing.
    rows: Vec<usize>,
    /// Widths, increasing.
    cols: Vec<usize>,
    /// (block, row, col) -> cell.
    cells: Vec<((usize, usize, usize), Cell)>,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
    max_layers: usize,
    seeds: Vec<u64>,
}

/// A block's title for a loss's short name: "cross-entropy loss", "MSE loss".
pub fn loss_title(short: &str) -> String {
    match short {
        "ce" => "cross-entropy loss".into(),
        "mse" => "MSE loss".into(),
        other => format!("{other} loss"),
    }
}

fn cell_of(g: &RunGroup, runs: &[RunSummary], metric: Metric) -> Cell {
    let members: Vec<&RunSummary> = g.runs(runs).collect();
    Cell {
        preset: g.preset.name.clone(),
        hidden_layers: g.preset.hidden_layers,
        width: g.preset.width,
        seeds: g.seeds(runs),
        bands: (0..g.preset.hidden_layers)
            .map(|l| seed_band(members.iter().copied(), l, metric))
            .collect(),
        accuracy: Spread::of(members.iter().filter_map(|r| r.final_test_accuracy())),
    }
}

/// Rounds `lo..hi` outwards to multiples of `step`, within [0, 1].
pub fn nice_range(lo: f64, hi: f64, step: f64) -> std::ops::Range<f64> {
    let lo = ((lo / step).floor() * step).max(0.0);
    let mut hi = ((hi / step).ceil() * step).min(1.0);
    if hi <= lo {
        hi = (lo + step).min(1.0);
    }
    let lo = if hi <= lo { hi - step } else { lo };
    lo..hi
}

fn layout(runs: &[RunSummary], metric: Metric) -> Result<Layout, ExportError> {
    let groups: Vec<RunGroup> = group_runs(runs)
        .into_iter()
        .filter(|g| g.runs(runs).any(|r| !r.epochs.is_empty()))
        .collect();
    if groups.is_empty() {
        return Err(ExportError::Request(
            "the grid folder has no runs with saved epochs: nothing to draw".into(),
        ));
    }
    let (losses, rows, cols) = crate::grid::layout_axes(groups.iter().map(|g| &g.preset));
    let mut cells: Vec<((usize, usize, usize), Cell)> = Vec::new();
    for g in &groups {
        let key = (
            losses
                .iter()
                .position(|l| l == g.preset.loss.short_name())
                .unwrap_or(0),
            rows.binary_search(&g.preset.hidden_layers).unwrap_or(0),
            cols.binary_search(&g.preset.width).unwrap_or(0),
        );
        if let Some((_, other)) = cells.iter().find(|(k, _)| *k == key) {
            return Err(ExportError::Request(format!(
                "presets '{}' and '{}' fall into the same cell ({} layers x {} nodes, {}): \
                 the grid figure needs one preset per shape and loss; export from a folder \
                 holding one of them",
                other.preset,
                g.preset.name,
                g.preset.hidden_layers,
                g.preset.width,
                g.preset.loss.short_name()
            )));
        }
        cells.push((key, cell_of(g, runs, metric)));
    }
    let points = || cells.iter().flat_map(|(_, c)| c.bands.iter().flatten());
    let x_max = points().map(|p| p.epoch).max().unwrap_or(0);
    let x_min = points().map(|p| p.epoch).min().unwrap_or(0);
    let y_lo = points()
        .map(|p| f64::from(p.min))
        .fold(f64::INFINITY, f64::min);
    let y_hi = points()
        .map(|p| f64::from(p.max))
        .fold(f64::NEG_INFINITY, f64::max);
    if !(y_lo.is_finite() && y_hi.is_finite()) {
        return Err(ExportError::Request(format!(
            "no {} values in the grid's runs: nothing to draw",
            metric.label()
        )));
    }
    let x = if x_max > x_min {
        f64::from(x_min)..f64::from(x_max)
    } else {
        f64::from(x_min) - 0.5..f64::from(x_min) + 0.5
    };
    let mut seeds: Vec<u64> = cells.iter().flat_map(|(_, c)| c.seeds.clone()).collect();
    seeds.sort_unstable();
    seeds.dedup();
    Ok(Layout {
        metric,
        max_layers: cells.iter().map(|(_, c)| c.bands.len()).max().unwrap_or(0),
        losses,
        rows,
        cols,
        cells,
        x,
        y: nice_range(y_lo, y_hi, 0.1),
        seeds,
    })
}

/// A cell's corner text: "test 91.23%", with the min–max over seeds when there are several.
pub fn accuracy_text(a: &Option<Spread>) -> String {
    match a {
        None => String::new(),
        Some(s) if s.n == 1 => format!("test {:.2}%", s.mean * 100.0),
        Some(s) => format!(
            "test {:.2}% ({:.1}–{:.1})",
            s.mean * 100.0,
            s.min * 100.0,
            s.max * 100.0
        ),
    }
}

/// Draws one cell: the final test accuracy in a strip above the top-right corner (the row
/// and column headers name the shape), then the chart.
fn draw_cell<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lay: &Layout,
    cell: Option<&Cell>,
    ticks: (bool, bool),
) -> Drawn {
    let (w, _) = area.dim_in_pixel();
    let strip = (CORNER_PX * 1.5) as i32;
    if let Some(c) = cell {
        area.draw_text(
            &accuracy_text(&c.accuracy),
            &style::font(CORNER_PX).pos(Pos::new(HPos::Right, VPos::Center)),
            (w as i32 - 14, strip / 2),
        )
        .map_err(style::de)?;
    }
    let plot = area.margin(strip, 0, 0, 0);
    let (x_ticks, y_ticks) = ticks;
    let mut chart = ChartBuilder::on(&plot)
        .margin_right(14)
        .margin_top(4)
        .x_label_area_size(44)
        .y_label_area_size(76)
        .build_cartesian_2d(lay.x.clone(), lay.y.clone())
        .map_err(style::de)?;
    let blank = |_: &f64| String::new();
    let x_fmt: &dyn Fn(&f64) -> String = if x_ticks { &style::number } else { &blank };
    let y_fmt: &dyn Fn(&f64) -> String = if y_ticks { &style::number } else { &blank };
    // Whole epochs only: a short run would otherwise get ticks at 0.5.
    let x_labels = ((lay.x.end - lay.x.start).round() as usize + 1).clamp(2, 5);
    chart
        .configure_mesh()
        .x_labels(x_labels)
        .y_labels(6)
        .x_label_formatter(x_fmt)
        .y_label_formatter(y_fmt)
        .label_style(style::font(TICK_PX))
        .axis_style(style::INK.stroke_width(2))
        .bold_line_style(RGBColor(228, 228, 228))
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(style::de)?;
    let Some(c) = cell else {
        let (pw, ph) = plot.dim_in_pixel();
        plot.draw_text(
            "no runs",
            &style::font(CORNER_PX)
                .color(&style::NO_VALUE)
                .pos(Pos::new(HPos::Center, VPos::Center)),
            (pw as i32 / 2 + 30, ph as i32 / 2),
        )
        .map_err(style::de)?;
        return Ok(());
    };
    let dots = (lay.x.end - lay.x.start) <= 30.0;
    // Bands first, so that no band covers another layer's mean line.
    for (l, b) in c.bands.iter().enumerate() {
        let xs: Vec<f64> = b.iter().map(|p| f64::from(p.epoch)).collect();
        let lo: Vec<f64> = b.iter().map(|p| f64::from(p.min)).collect();
        let hi: Vec<f64> = b.iter().map(|p| f64::from(p.max)).collect();
        style::band(
            &mut chart,
            &xs,
            &lo,
            &hi,
            style::layer_color(l, lay.max_layers),
            SEED_BAND_ALPHA,
        )?;
    }
    for (l, b) in c.bands.iter().enumerate() {
        let mean: Vec<(f64, f64)> = b
            .iter()
            .map(|p| (f64::from(p.epoch), f64::from(p.mean)))
            .collect();
        style::line(
            &mut chart,
            &mean,
            style::layer_color(l, lay.max_layers),
            2,
            dots,
        )?;
    }
    Ok(())
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, lay: &Layout) -> Drawn {
    root.fill(&WHITE).map_err(style::de)?;
    let seeds: Vec<String> = lay.seeds.iter().map(u64::to_string).collect();
    let title = format!(
        "{} per layer over epochs · line: mean over seeds, band: min..max (seeds {})",
        lay.metric.label(),
        seeds.join(", ")
    );
    let (plots, legend) = style::page(root, &title)?;
    // Row labels down the left edge, block titles and column headers across the top.
    let (pw, ph) = plots.dim_in_pixel();
    let left = 56i32;
    let top = (HEADER_PX * 2.6) as i32;
    let bottom = (HEADER_PX * 1.6) as i32;
    let body = plots.margin(top, bottom as u32, left, 0);
    let header = style::font(HEADER_PX);
    let blocks = lay.losses.len().max(1);
    let block_w = (pw as i32 - left) / blocks as i32;
    let gap = 24;
    let row_h = (ph as i32 - top - bottom) / lay.rows.len().max(1) as i32;
    for (r, layers) in lay.rows.iter().enumerate() {
        let y = top + row_h * r as i32 + row_h / 2;
        plots
            .draw_text(
                &format!("{layers} layers"),
                &header
                    .transform(FontTransform::Rotate270)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
                (left / 2 - 6, y),
            )
            .map_err(style::de)?;
    }
    plots
        .draw_text(
            "epoch",
            &header.pos(Pos::new(HPos::Center, VPos::Bottom)),
            (left + (pw as i32 - left) / 2, ph as i32),
        )
        .map_err(style::de)?;
    let block_areas = body.split_evenly((1, blocks));
    for (b, block) in block_areas.iter().enumerate() {
        let x0 = left + block_w * b as i32;
        plots
            .draw_text(
                &loss_title(&lay.losses[b]),
                &style::font(HEADER_PX * 1.1).pos(Pos::new(HPos::Center, VPos::Top)),
                (x0 + block_w / 2, 0),
            )
            .map_err(style::de)?;
        let col_w = (block_w - gap) / lay.cols.len().max(1) as i32;
        for (c, width) in lay.cols.iter().enumerate() {
            plots
                .draw_text(
                    &format!("{width} nodes"),
                    &header.pos(Pos::new(HPos::Center, VPos::Bottom)),
                    (x0 + col_w * c as i32 + col_w / 2 + 38, top - 6),
                )
                .map_err(style::de)?;
        }
        let inner = block.margin(0, gap as u32, 0, 0);
        let cells = inner.split_evenly((lay.rows.len(), lay.cols.len()));
        for (i, area) in cells.iter().enumerate() {
            let (r, c) = (i / lay.cols.len(), i % lay.cols.len());
            let cell = lay
                .cells
                .iter()
                .find(|(k, _)| *k == (b, r, c))
                .map(|(_, cell)| cell);
            let ticks = (r + 1 == lay.rows.len(), c == 0);
            draw_cell(area, lay, cell, ticks)?;
        }
    }
    let mut entries: Vec<(Mark, String)> = (0..lay.max_layers)
        .map(|l| {
            (
                Mark::LineOnBand(style::layer_color(l, lay.max_layers)),
                format!("layer {}", l + 1),
            )
        })
        .collect();
    entries.push((Mark::Note, String::new()));
    entries.push((
        Mark::Note,
        format!(
            "each cell: layer mean {} over epochs; all cells share both axes",
            lay.metric.label()
        ),
    ));
    entries.push((Mark::Note, "line: mean over seeds".into()));
    entries.push((Mark::Note, "band: min..max over seeds".into()));
    entries.push((
        Mark::Note,
        "corner: final test accuracy, mean (min–max) over seeds".into(),
    ));
    style::legend(&legend, &entries)?;
    Ok(())
}

fn render_failed(message: String) -> ExportError {
    ExportError::Request(format!("cannot render the grid figure: {message}"))
}

/// The grid figure of `runs` (e.g. a grid folder's [`crate::grid::GridStatus::summaries`])
/// as PNG bytes, [`GRID_FIGURE_SIZE`] pixels.
///
/// # Errors
/// [`ExportError::Request`] when no run has saved epochs, two presets fall into one cell
/// (same layers, width and loss), or the font cannot be loaded.
pub fn render_grid_png(runs: &[RunSummary], metric: Metric) -> Result<Vec<u8>, ExportError> {
    let lay = layout(runs, metric)?;
    check_font()?;
    let (w, h) = GRID_FIGURE_SIZE;
    let mut buf = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, GRID_FIGURE_SIZE).into_drawing_area();
        draw(&root, &lay).map_err(render_failed)?;
        root.present().map_err(|e| render_failed(e.to_string()))?;
    }
    super::encode_png(&buf, GRID_FIGURE_SIZE)
}

/// The grid figure as SVG text.
///
/// # Errors
/// As [`render_grid_png`].
pub fn render_grid_svg(runs: &[RunSummary], metric: Metric) -> Result<String, ExportError> {
    let lay = layout(runs, metric)?;
    check_font()?;
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, GRID_FIGURE_SIZE).into_drawing_area();
        draw(&root, &lay).map_err(render_failed)?;
        root.present().map_err(|e| render_failed(e.to_string()))?;
    }
    Ok(text)
}

/// The numbers behind the grid figure: one row per (preset, layer, epoch) with the layer
/// mean's mean, min and max over seeds and the number of seeds at that epoch, and the
/// preset's final test accuracy (mean, min, max over seeds) repeated on each of its rows.
/// Columns: `preset,loss,hidden_layers,width,seeds,layer,epoch,mean,min,max,n_seeds,
/// final_test_accuracy_mean,final_test_accuracy_min,final_test_accuracy_max`
/// (`seeds` separated by `;`, layer 1-based).
///
/// # Errors
/// As [`render_grid_png`] (except the font).
pub fn grid_csv(runs: &[RunSummary], metric: Metric) -> Result<String, ExportError> {
    let lay = layout(runs, metric)?;
    let mut out = String::from(
        "preset,loss,hidden_layers,width,seeds,layer,epoch,mean,min,max,n_seeds,\
         final_test_accuracy_mean,final_test_accuracy_min,final_test_accuracy_max\n",
    );
    let mut cells: Vec<&((usize, usize, usize), Cell)> = lay.cells.iter().collect();
    cells.sort_by_key(|(k, _)| *k);
    for ((b, _, _), c) in cells {
        let seeds: Vec<String> = c.seeds.iter().map(u64::to_string).collect();
        let acc = |f: fn(&Spread) -> f64| {
            c.accuracy
                .as_ref()
                .map_or(String::new(), |s| format!("{:.6}", f(s)))
        };
        for (l, band) in c.bands.iter().enumerate() {
            for p in band {
                let _ = writeln!(
                    out,
                    "{},{},{},{},{},{},{},{:.6},{:.6},{:.6},{},{},{},{}",
                    c.preset,
                    lay.losses[*b],
                    c.hidden_layers,
                    c.width,
                    seeds.join(";"),
                    l + 1,
                    p.epoch,
                    p.mean,
                    p.min,
                    p.max,
                    p.seeds,
                    acc(|s| s.mean),
                    acc(|s| s.min),
                    acc(|s| s.max),
                );
            }
        }
    }
    Ok(out)
}

/// Writes the grid figure of `runs` to `out` atomically; the format follows the extension
/// (`.png`, `.svg`, or `.csv` for [`grid_csv`]).
///
/// # Errors
/// [`ExportError::Request`] for an unknown extension or as [`render_grid_png`];
/// [`ExportError::File`] when the file exists (and may not be replaced) or cannot be written.
pub fn write_grid_figure(
    runs: &[RunSummary],
    metric: Metric,
    out: &Path,
    existing: crate::fs::Existing,
) -> Result<(), ExportError> {
    let bytes = match format_of(out)? {
        Format::Png => render_grid_png(runs, metric)?,
        Format::Svg => render_grid_svg(runs, metric)?.into_bytes(),
        Format::Csv => grid_csv(runs, metric)?.into_bytes(),
    };
    Ok(crate::fs::write_atomic(out, &bytes, existing)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_round_outwards_within_unit_interval() {
        let r = nice_range(0.12, 0.47, 0.1);
        assert!((r.start - 0.1).abs() < 1e-9 && (r.end - 0.5).abs() < 1e-9);
        let r = nice_range(0.0, 1.0, 0.1);
        assert!(r.start == 0.0 && (r.end - 1.0).abs() < 1e-9);
        let r = nice_range(1.0, 1.0, 0.1);
        assert!(r.end > r.start);
    }
}
