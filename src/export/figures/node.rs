//! Figures of one node over epochs: probe raster, class composition, metrics.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{self, Drawn, Mark};
use crate::session::{Metric, Session};

/// Legend entries for the classes, top to bottom.
fn class_entries(classes: impl Iterator<Item = usize>) -> Vec<(Mark, String)> {
    classes
        .map(|c| (Mark::Swatch(style::series_color(c)), format!("class {c}")))
        .collect()
}

/// Runs of consecutive records in which probe sample `k` is in the node's set, as the x
/// extent they cover (positions, epochs), so that a row is a few rectangles rather than one
/// per record. Record `i` covers `cells[i]` (see [`record_cells`]).
fn member_runs(
    s: &Session,
    (layer, node): (usize, usize),
    k: usize,
    cells: &[(f64, f64)],
) -> Vec<(f64, f64)> {
    let mut runs: Vec<(f64, f64)> = Vec::new();
    let mut in_run = false;
    for (i, &(a, b)) in cells.iter().enumerate() {
        if s.probe_member(i, layer, node, k) {
            match runs.last_mut() {
                Some(run) if in_run => run.1 = b,
                _ => runs.push((a, b)),
            }
            in_run = true;
        } else {
            in_run = false;
        }
    }
    runs
}

/// The x extent of each record's column (positions, epochs): from halfway to the previous
/// record to halfway to the next (half an epoch at the ends of per-epoch sessions), so records
/// inside epoch 1 get narrow columns where they lie.
fn record_cells(s: &Session) -> Vec<(f64, f64)> {
    let xs = s.positions();
    (0..xs.len())
        .map(|i| {
            let before = i.checked_sub(1).map(|p| (xs[i] - xs[p]) / 2.0);
            let after = xs.get(i + 1).map(|n| (n - xs[i]) / 2.0);
            let (b, a) = match (before, after) {
                (Some(b), Some(a)) => (b, a),
                (Some(b), None) => (b, b),
                (None, Some(a)) => (a.min(0.5), a),
                (None, None) => (0.5, 0.5),
            };
            (xs[i] - b, xs[i] + a)
        })
        .collect()
}

/// Probe samples (rows, grouped by class, class 0 on top) against epochs (columns), marked
/// in the class colour where the sample is in the node's sample set.
pub(super) fn raster<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Session,
    node: (usize, usize),
) -> Drawn {
    let (plot, legend) = style::page(
        root,
        &style::title(
            s,
            &format!(
                "{}: probe samples in its sample set",
                style::node_label(node)
            ),
        ),
    )?;
    let labels = &s.probe.labels;
    // Rows with a label (the two lengths agree in any session that loaded).
    let n = s.probe.len().min(labels.len());
    let rows = n.max(1) as f64;
    let cells = record_cells(s);
    let x = cells.first().map_or(-0.5, |c| c.0)..cells.last().map_or(0.5, |c| c.1);
    let mut chart = ChartBuilder::on(&plot)
        .margin_right(20)
        .margin_top(10)
        .x_label_area_size(90)
        .y_label_area_size(130)
        .build_cartesian_2d(x.clone(), 0.0..rows)
        .map_err(style::de)?;
    let span = (x.end - x.start).max(1.0);
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("epoch")
        .y_desc(format!("probe samples by class ({n})"))
        .x_labels((span as usize + 1).clamp(2, 12))
        .y_labels(0)
        .x_label_formatter(&style::number)
        .axis_desc_style(style::font(style::AXIS_PX))
        .label_style(style::font(style::TICK_PX))
        .axis_style(style::INK.stroke_width(2))
        .draw()
        .map_err(style::de)?;
    // Row k covers y from rows - k - 1 to rows - k (sample 0 on top).
    let mut marks = 0usize;
    let mut rects = Vec::new();
    for (k, &class) in labels.iter().enumerate().take(n) {
        let class = class as usize;
        let color = style::series_color(class).filled();
        let (y0, y1) = ((n - k - 1) as f64, (n - k) as f64);
        for (a, b) in member_runs(s, node, k, &cells) {
            marks += 1;
            rects.push(Rectangle::new([(a, y0), (b, y1)], color));
        }
    }
    chart.draw_series(rects).map_err(style::de)?;
    // Class groups: separators and labels left of the rows.
    let screen = chart.plotting_area().use_screen_coord();
    let label = style::font(style::AXIS_PX).pos(Pos::new(HPos::Right, VPos::Center));
    let x_range = chart.x_range();
    let mut start = 0;
    while start < n {
        let class = labels[start];
        let end = (start..n).find(|&k| labels[k] != class).unwrap_or(n);
        if start > 0 {
            let y = (n - start) as f64;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x_range.start, y), (x_range.end, y)],
                    RGBColor(90, 90, 90).stroke_width(1),
                )))
                .map_err(style::de)?;
        }
        let (px, top) = chart.backend_coord(&(x_range.start, (n - start) as f64));
        let (_, bottom) = chart.backend_coord(&(x_range.start, (n - end) as f64));
        if bottom - top >= style::AXIS_PX as i32 {
            screen
                .draw(&Text::new(
                    format!("{class}"),
                    (px - 14, (top + bottom) / 2),
                    label.clone().color(&style::series_color(class as usize)),
                ))
                .map_err(style::de)?;
        }
        start = end;
    }
    if marks == 0 {
        let (w, h) = chart.plotting_area().dim_in_pixel();
        let (px, py) = chart.plotting_area().get_base_pixel();
        screen
            .draw(&Text::new(
                "no probe sample is in this node's sample set at any epoch",
                (px + w as i32 / 2, py + h as i32 / 2),
                style::font(style::AXIS_PX).pos(Pos::new(HPos::Center, VPos::Center)),
            ))
            .map_err(style::de)?;
    }
    let mut entries = class_entries(0..s.classes());
    entries.push((Mark::Note, String::new()));
    entries.push((
        Mark::Note,
        "mark: sample switches the node on (pre-activation > 0)".into(),
    ));
    style::legend(&legend, &entries)
}

/// Per-class on-counts over epochs: stacked areas (`fractions: false`) or one line per
/// class of count / class size (`fractions: true`).
pub(super) fn composition<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Session,
    (layer, node): (usize, usize),
    fractions: bool,
) -> Drawn {
    let what = if fractions {
        "fraction of each class in its sample set"
    } else {
        "class make-up of its sample set"
    };
    let (plot, legend) = style::page(
        root,
        &style::title(s, &format!("{}: {what}", style::node_label((layer, node)))),
    )?;
    let classes = s.classes();
    // (position, counts) for each record that has the node.
    let spe = s.steps_per_epoch();
    let series: Vec<(f64, Vec<f64>)> = s
        .epochs
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let on = s.node_counts(i, layer, node)?;
            Some((e.position(spe), on.iter().map(|&k| f64::from(k)).collect()))
        })
        .collect();
    let x = style::epoch_range(s);
    let dots = style::mark_points(s);
    if fractions {
        let mut chart = style::epoch_chart(
            &plot,
            x,
            0.0..1.0,
            "fraction of the class switching the node on",
            &style::number,
        )?;
        for c in 0..classes {
            let size = f64::from(s.dataset.train_class_counts[c].max(1));
            let pts: Vec<(f64, f64)> = series
                .iter()
                .map(|(e, on)| (*e, on.get(c).copied().unwrap_or(0.0) / size))
                .collect();
            style::line(&mut chart, &pts, style::series_color(c), 3, dots)?;
        }
        let mut entries: Vec<(Mark, String)> = (0..classes)
            .map(|c| (Mark::Line(style::series_color(c)), format!("class {c}")))
            .collect();
        entries.push((Mark::Note, String::new()));
        entries.push((Mark::Note, "fraction = on-count / class size".into()));
        return style::legend(&legend, &entries);
    }
    let top = series
        .iter()
        .map(|(_, on)| on.iter().sum::<f64>())
        .fold(0.0_f64, f64::max);
    let top = if top > 0.0 { top * 1.05 } else { 1.0 };
    let mut chart = style::epoch_chart(
        &plot,
        x,
        0.0..top,
        "samples switching the node on",
        &|v: &f64| format!("{:.0}", v),
    )?;
    let xs: Vec<f64> = series.iter().map(|p| p.0).collect();
    let mut below = vec![0.0; series.len()];
    for c in 0..classes {
        let above: Vec<f64> = series
            .iter()
            .zip(&below)
            .map(|((_, on), b)| b + on.get(c).copied().unwrap_or(0.0))
            .collect();
        let color = style::series_color(c);
        if xs.len() == 1 {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(xs[0] - 0.3, below[0]), (xs[0] + 0.3, above[0])],
                    color.filled(),
                )))
                .map_err(style::de)?;
        } else {
            style::band(&mut chart, &xs, &below, &above, color, 0.85)?;
        }
        below = above;
    }
    if dots {
        // The sample-set size at each record.
        let total: Vec<(f64, f64)> = xs.iter().copied().zip(below.iter().copied()).collect();
        style::line(&mut chart, &total, style::INK, 2, true)?;
    }
    let mut entries = class_entries((0..classes).rev());
    entries.push((Mark::Note, String::new()));
    entries.push((
        Mark::Note,
        "stacked, class 0 at the bottom; the top edge is the sample-set size".into(),
    ));
    style::legend(&legend, &entries)
}

/// The node's activation fraction, predictability and informativeness over epochs, each
/// drawn over its layer's interquartile band of the same metric.
pub(super) fn metrics<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Session,
    (layer, node): (usize, usize),
) -> Drawn {
    let (plot, legend) = style::page(
        root,
        &style::title(
            s,
            &format!(
                "{}: metrics against layer {}",
                style::node_label((layer, node)),
                layer + 1
            ),
        ),
    )?;
    let mut chart = style::epoch_chart(
        &plot,
        style::epoch_range(s),
        0.0..1.0,
        "metric value",
        &style::number,
    )?;
    let shown: Vec<Metric> = Metric::headline().collect();
    for &m in &shown {
        let b = s.layer_band(layer, m);
        let xs: Vec<f64> = b.iter().map(|p| p.position).collect();
        let q1: Vec<f64> = b.iter().map(|p| f64::from(p.q1)).collect();
        let q3: Vec<f64> = b.iter().map(|p| f64::from(p.q3)).collect();
        // The layer's bands in grey behind the node's lines (metrics differ by line style:
        // colour means layers and classes).
        style::band(&mut chart, &xs, &q1, &q3, style::NEUTRAL, 0.08)?;
    }
    let dots = style::mark_points(s);
    let mut entries = Vec::new();
    for (i, &m) in shown.iter().enumerate() {
        let pts: Vec<(f64, f64)> = s
            .node_series(layer, node, m)
            .into_iter()
            .map(|(x, v)| (x, f64::from(v)))
            .collect();
        let c = style::NEUTRAL;
        let mark = match i {
            0 => {
                style::line(&mut chart, &pts, c, 4, dots)?;
                Mark::Line(c)
            }
            1 => {
                style::line_dashed(&mut chart, &pts, c, 4, dots)?;
                Mark::Dashed(c)
            }
            _ => {
                style::line_dotted(&mut chart, &pts, c, 4, dots)?;
                Mark::Dotted(c)
            }
        };
        entries.push((mark, m.label().to_string()));
    }
    entries.push((Mark::Note, String::new()));
    entries.push((Mark::Note, "line: this node".into()));
    entries.push((
        Mark::Note,
        format!("band: interquartile range of layer {}", layer + 1),
    ));
    style::legend(&legend, &entries)
}
