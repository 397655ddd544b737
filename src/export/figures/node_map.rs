//! Node map: one row per layer, one cell per node, coloured by a metric at one epoch.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{self, Drawn};
use crate::session::{Metric, Session};

/// Steps of the colour bar.
const BAR_STEPS: usize = 200;

/// The node map of `metric` at record `epoch_index`.
pub(super) fn node_map<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Session,
    metric: Metric,
    epoch_index: usize,
) -> Drawn {
    let epoch = s.epochs.get(epoch_index).map_or(0, |e| e.epoch);
    let (plot, legend) = style::page(
        root,
        &style::title(
            s,
            &format!("node map of {} at epoch {epoch}", metric.label()),
        ),
    )?;
    let values = s.layer_values(epoch_index, metric);
    let rows = values.len().max(1);
    let widest = values.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let mut chart = ChartBuilder::on(&plot)
        .margin_right(20)
        .margin_top(10)
        .x_label_area_size(90)
        .y_label_area_size(130)
        .build_cartesian_2d(0.0..widest as f64, 0.0..rows as f64)
        .map_err(style::de)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("node")
        .y_desc("")
        .x_labels(11)
        .y_labels(0)
        .x_label_formatter(&style::number)
        .axis_desc_style(style::font(style::AXIS_PX))
        .label_style(style::font(style::TICK_PX))
        .axis_style(style::INK.stroke_width(2))
        .draw()
        .map_err(style::de)?;
    // Row of layer l: from y = rows - l - 1 to rows - l (layer 1 on top), with a gap.
    let gap = if rows > 1 { 0.06 } else { 0.0 };
    let mut any_missing = false;
    let cells = values.iter().enumerate().flat_map(|(l, row)| {
        let y0 = (rows - l - 1) as f64 + gap;
        let y1 = (rows - l) as f64 - gap;
        row.iter().enumerate().map(move |(j, &v)| {
            Rectangle::new(
                [(j as f64, y0), ((j + 1) as f64, y1)],
                style::viridis(v, metric.info().range).filled(),
            )
        })
    });
    chart.draw_series(cells).map_err(style::de)?;
    if values.iter().flatten().any(|v| !v.is_finite()) {
        any_missing = true;
    }
    // Layer labels left of the rows, in screen coordinates.
    let screen = chart.plotting_area().use_screen_coord();
    let label = style::font(style::AXIS_PX).pos(Pos::new(HPos::Right, VPos::Center));
    for l in 0..values.len() {
        let (x, y) = chart.backend_coord(&(0.0, (rows - l) as f64 - 0.5));
        screen
            .draw(&Text::new(
                format!("layer {}", l + 1),
                (x - 22, y),
                label.clone(),
            ))
            .map_err(style::de)?;
    }
    colour_bar(&legend, metric, any_missing)
}

/// A vertical viridis bar over the metric's range (low at the bottom) with ticks, under the
/// metric's name.
fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    metric: Metric,
    any_missing: bool,
) -> Drawn {
    let (_, h) = area.dim_in_pixel();
    let h = h as i32;
    let caption = style::font(style::LEGEND_PX).pos(Pos::new(HPos::Left, VPos::Top));
    let mut y = 0;
    for line in style::wrap(metric.label(), 20) {
        area.draw_text(&line, &caption, (0, y)).map_err(style::de)?;
        y += 32;
    }
    let top = y + 20;
    let bottom = (h - if any_missing { 140 } else { 80 }).max(top + 50);
    let (x0, x1) = (0, 56);
    let span = f64::from(bottom - top);
    for i in 0..BAR_STEPS {
        let a = top + (span * i as f64 / BAR_STEPS as f64).round() as i32;
        let b = top + (span * (i + 1) as f64 / BAR_STEPS as f64).round() as i32;
        let (lo, hi) = metric.info().range;
        let v = hi - (hi - lo) * (i as f32 + 0.5) / BAR_STEPS as f32;
        area.draw(&Rectangle::new(
            [(x0, a), (x1, b)],
            style::viridis(v, (lo, hi)).filled(),
        ))
        .map_err(style::de)?;
    }
    area.draw(&Rectangle::new(
        [(x0, top), (x1, bottom)],
        style::INK.stroke_width(1),
    ))
    .map_err(style::de)?;
    let tick = style::font(style::TICK_PX).pos(Pos::new(HPos::Left, VPos::Center));
    let (lo, hi) = metric.info().range;
    for k in 0..=4 {
        let t = f64::from(k) / 4.0;
        let v = f64::from(lo) + (f64::from(hi) - f64::from(lo)) * t;
        let ty = bottom - (span * t).round() as i32;
        area.draw(&PathElement::new(
            vec![(x1, ty), (x1 + 10, ty)],
            style::INK.stroke_width(2),
        ))
        .map_err(style::de)?;
        area.draw_text(&style::number(&v), &tick, (x1 + 16, ty))
            .map_err(style::de)?;
    }
    if any_missing {
        let y = bottom + 50;
        area.draw(&Rectangle::new(
            [(x0, y - 14), (x1, y + 14)],
            style::NO_VALUE.filled(),
        ))
        .map_err(style::de)?;
        let note = metric.info().undefined.unwrap_or("no value");
        area.draw_text(note, &tick, (x1 + 16, y))
            .map_err(style::de)?;
    }
    Ok(())
}
