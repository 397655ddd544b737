//! Shared look of every figure: font, sizes, colours, page layout, legend and axes.

use std::ops::Range;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::session::Session;

/// Rendering failure inside plotters, as text.
pub(super) type Drawn<T = ()> = Result<T, String>;

/// Turns a plotters error into text.
pub(super) fn de<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Registers the built-in font with plotters once; false when it could not be read.
pub(super) fn font_ready() -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| {
        plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            epaint_default_fonts::UBUNTU_LIGHT,
        )
        .is_ok()
    })
}

/// Title font size, px.
pub(super) const TITLE_PX: f64 = 34.0;
/// Axis description font size, px.
pub(super) const AXIS_PX: f64 = 26.0;
/// Tick label font size, px.
pub(super) const TICK_PX: f64 = 22.0;
/// Legend font size, px.
pub(super) const LEGEND_PX: f64 = 24.0;
/// Width of the legend column on the right, px.
const LEGEND_W: u32 = 400;
/// Height of one legend row, px.
const LEGEND_ROW: i32 = 38;

/// Near-black used for text and axes.
pub(super) const INK: RGBColor = RGBColor(30, 30, 30);
/// Grey for cells without a value.
pub(super) const NO_VALUE: RGBColor = RGBColor(200, 200, 200);

/// The font at `px` pixels, in ink colour.
pub(super) fn font(px: f64) -> TextStyle<'static> {
    TextStyle::from(FontDesc::new(FontFamily::SansSerif, px, FontStyle::Normal)).color(&INK)
}

/// Colour of class `i` ([`crate::colors::category`]; classes only).
pub(super) const fn series_color(i: usize) -> RGBColor {
    let [r, g, b] = crate::colors::category(i);
    RGBColor(r, g, b)
}

/// Colour of hidden layer `l` of `layers`: the app's sequential layer palette in depth order
/// ([`crate::colors::layer`]).
pub(super) fn layer_color(l: usize, layers: usize) -> RGBColor {
    let [r, g, b] = crate::colors::layer(l, layers);
    RGBColor(r, g, b)
}

/// Lines that are neither layers nor classes (loss, accuracy, one node's metrics); train and
/// test, or the node's metrics, differ by line style ([`line_dashed`]).
pub(super) const NEUTRAL: RGBColor = {
    let [r, g, b] = crate::colors::NEUTRAL_LIGHT;
    RGBColor(r, g, b)
};

/// Viridis colour of `v` on the metric's `range` ([`crate::colors::viridis`], the map the app
/// draws with); [`NO_VALUE`] grey for NaN.
pub(super) fn viridis(v: f32, range: (f32, f32)) -> RGBColor {
    crate::colors::viridis(v, range).map_or(NO_VALUE, |[r, g, b]| RGBColor(r, g, b))
}

/// "mnist-5x80-ce (seed 1) · what".
pub(super) fn title(s: &Session, what: &str) -> String {
    format!("{} (seed {}) · {}", s.preset.name, s.preset.seed, what)
}

/// "node 2:17" (1-based layer, 0-based node, as on the command line).
pub(super) fn node_label((layer, node): (usize, usize)) -> String {
    format!("node {}:{}", layer + 1, node)
}

/// Draws the title and splits the rest into the plot area and the legend column.
pub(super) fn page<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title_text: &str,
) -> Drawn<(DrawingArea<DB, Shift>, DrawingArea<DB, Shift>)> {
    let (w, _) = root.dim_in_pixel();
    root.draw_text(
        title_text,
        &font(TITLE_PX).pos(Pos::new(HPos::Center, VPos::Top)),
        (w as i32 / 2, 24),
    )
    .map_err(de)?;
    let body = root.margin(24 + TITLE_PX as i32 + 28, 20, 20, 20);
    let (bw, _) = body.dim_in_pixel();
    let (plot, legend) = body.split_horizontally(bw.saturating_sub(LEGEND_W));
    Ok((plot, legend.margin(40, 0, 30, 0)))
}

/// What a legend row shows before its text.
#[derive(Debug, Clone, Copy)]
pub(super) enum Mark {
    /// A line in this colour.
    Line(RGBColor),
    /// A dashed line in this colour.
    Dashed(RGBColor),
    /// A dotted line in this colour.
    Dotted(RGBColor),
    /// A line over a translucent band, both in this colour.
    LineOnBand(RGBColor),
    /// A filled square.
    Swatch(RGBColor),
    /// Text only.
    Note,
}

/// Alpha of interquartile bands.
pub(super) const BAND_ALPHA: f64 = 0.18;

/// Wraps `text` into lines of at most `max` characters (at spaces).
pub(super) fn wrap(text: &str, max: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(l) if l.chars().count() + 1 + word.chars().count() <= max => {
                l.push(' ');
                l.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// Draws a legend: one row per entry, top to bottom, in the legend column.
pub(super) fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(Mark, String)],
) -> Drawn {
    let text = font(LEGEND_PX).pos(Pos::new(HPos::Left, VPos::Center));
    let mut y = LEGEND_ROW / 2;
    for (mark, label) in entries {
        let (x0, x1) = (0, 46);
        match *mark {
            Mark::Line(c) => area
                .draw(&PathElement::new(vec![(x0, y), (x1, y)], c.stroke_width(4)))
                .map_err(de)?,
            Mark::Dashed(c) | Mark::Dotted(c) => {
                let (len, step) = if matches!(mark, Mark::Dashed(_)) {
                    (10, 18)
                } else {
                    (3, 9)
                };
                let mut a = x0;
                while a + len <= x1 {
                    area.draw(&PathElement::new(
                        vec![(a, y), (a + len, y)],
                        c.stroke_width(4),
                    ))
                    .map_err(de)?;
                    a += step;
                }
            }
            Mark::LineOnBand(c) => {
                area.draw(&Rectangle::new(
                    [(x0, y - 12), (x1, y + 12)],
                    c.mix(BAND_ALPHA * 1.5).filled(),
                ))
                .map_err(de)?;
                area.draw(&PathElement::new(vec![(x0, y), (x1, y)], c.stroke_width(4)))
                    .map_err(de)?;
            }
            Mark::Swatch(c) => area
                .draw(&Rectangle::new(
                    [(x0 + 8, y - 13), (x1 - 8, y + 13)],
                    c.filled(),
                ))
                .map_err(de)?,
            Mark::Note => {}
        }
        let tx = if matches!(mark, Mark::Note) {
            0
        } else {
            x1 + 14
        };
        let max = if matches!(mark, Mark::Note) { 30 } else { 26 };
        for line in wrap(label, max) {
            area.draw_text(&line, &text, (tx, y)).map_err(de)?;
            y += LEGEND_ROW - 8;
        }
        y += 8;
    }
    Ok(())
}

/// A 2-D chart with f64 axes.
pub(super) type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Formats an axis value without a trailing ".0" when it is whole.
pub(super) fn number(v: &f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{:.0}", v)
    } else {
        let s = format!("{:.3}", v);
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A chart over epochs `x` with y range `y`, mesh and axis descriptions drawn.
pub(super) fn epoch_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    x: Range<f64>,
    y: Range<f64>,
    y_desc: &str,
    y_fmt: &dyn Fn(&f64) -> String,
) -> Drawn<Chart<'a, DB>> {
    let span = (x.end - x.start).max(1.0);
    let mut chart = ChartBuilder::on(area)
        .margin_right(20)
        .margin_top(10)
        .x_label_area_size(90)
        .y_label_area_size(120)
        .build_cartesian_2d(x, y)
        .map_err(de)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(y_desc)
        .x_labels((span as usize + 1).clamp(2, 12))
        .y_labels(11)
        .x_label_formatter(&number)
        .y_label_formatter(y_fmt)
        .axis_desc_style(font(AXIS_PX))
        .label_style(font(TICK_PX))
        .axis_style(INK.stroke_width(2))
        .bold_line_style(RGBColor(225, 225, 225))
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(de)?;
    Ok(chart)
}

/// The positions (epochs, `step / steps_per_epoch`) covered by the session's records as an x
/// range (widened when there is only one).
pub(super) fn epoch_range(s: &Session) -> Range<f64> {
    let first = s.record_position(0).unwrap_or(0.0);
    let last = s
        .record_position(s.epochs.len().saturating_sub(1))
        .unwrap_or(first);
    if last > first {
        first..last
    } else {
        first - 0.5..first + 0.5
    }
}

/// Whether to mark each point (few epochs: the lines alone would hide where the data are).
pub(super) fn mark_points(s: &Session) -> bool {
    s.epochs.len() <= 30
}

/// Runs of consecutive points with finite coordinates. A NaN or infinite value (a diverged
/// run's loss) ends a run: lines stop there and start again after it, instead of joining
/// across it as if the value had only been left out.
pub(super) fn finite_runs(points: &[(f64, f64)]) -> Vec<&[(f64, f64)]> {
    points
        .split(|p| !(p.0.is_finite() && p.1.is_finite()))
        .filter(|run| !run.is_empty())
        .collect()
}

/// Draws a line through `points`, broken where a value is not finite, with dots where
/// [`mark_points`] says so (and always for a point standing alone between gaps, which would
/// otherwise not show).
pub(super) fn line<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    points: &[(f64, f64)],
    color: RGBColor,
    width: u32,
    dots: bool,
) -> Drawn {
    let runs = finite_runs(points);
    chart
        .draw_series(
            runs.iter()
                .filter(|run| run.len() > 1)
                .map(|run| PathElement::new(run.to_vec(), color.stroke_width(width))),
        )
        .map_err(de)?;
    let dotted = runs
        .iter()
        .filter(|run| dots || run.len() == 1)
        .flat_map(|run| run.iter());
    chart
        .draw_series(dotted.map(|&p| Circle::new(p, width as i32 + 3, color.filled())))
        .map_err(de)?;
    Ok(())
}

/// [`line`] dashed (the test set's line beside the training set's solid one).
pub(super) fn line_dashed<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    points: &[(f64, f64)],
    color: RGBColor,
    width: u32,
    dots: bool,
) -> Drawn {
    line_pattern(chart, points, color, width, dots, (14, 10))
}

/// [`line`] dotted (short dashes).
pub(super) fn line_dotted<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    points: &[(f64, f64)],
    color: RGBColor,
    width: u32,
    dots: bool,
) -> Drawn {
    line_pattern(chart, points, color, width, dots, (4, 7))
}

/// [`line`] in dashes of `(length, gap)` pixels.
fn line_pattern<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    points: &[(f64, f64)],
    color: RGBColor,
    width: u32,
    dots: bool,
    (length, gap): (u32, u32),
) -> Drawn {
    let runs = finite_runs(points);
    for run in runs.iter().filter(|run| run.len() > 1) {
        chart
            .draw_series(DashedLineSeries::new(
                run.iter().copied(),
                length,
                gap,
                color.stroke_width(width),
            ))
            .map_err(de)?;
    }
    let dotted = runs
        .iter()
        .filter(|run| dots || run.len() == 1)
        .flat_map(|run| run.iter());
    chart
        .draw_series(dotted.map(|&p| Circle::new(p, width as i32 + 3, color.filled())))
        .map_err(de)?;
    Ok(())
}

/// Draws the band between `lower` and `upper` (same x values) as translucent polygons, one
/// per run of epochs where both bounds are finite (gaps as in [`line`]).
pub(super) fn band<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    xs: &[f64],
    lower: &[f64],
    upper: &[f64],
    color: RGBColor,
    alpha: f64,
) -> Drawn {
    let rows: Vec<(f64, f64, f64)> = xs
        .iter()
        .zip(lower.iter().zip(upper))
        .map(|(&x, (&lo, &hi))| (x, lo, hi))
        .collect();
    let finite = |r: &(f64, f64, f64)| r.0.is_finite() && r.1.is_finite() && r.2.is_finite();
    let polygons = rows
        .split(|r| !finite(r))
        .filter(|run| run.len() > 1)
        .map(|run| {
            let mut poly: Vec<(f64, f64)> = run.iter().map(|r| (r.0, r.2)).collect();
            poly.extend(run.iter().rev().map(|r| (r.0, r.1)));
            Polygon::new(poly, color.mix(alpha).filled())
        });
    chart.draw_series(polygons).map_err(de)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_use_the_shared_viridis() {
        let unit = (0.0, 1.0);
        for k in 0..=20 {
            let v = k as f32 / 20.0;
            let [r, g, b] = crate::colors::viridis(v, unit).unwrap();
            assert_eq!(viridis(v, unit), RGBColor(r, g, b), "value {v}");
        }
        assert_eq!(viridis(0.0, unit), RGBColor(0x44, 0x01, 0x54));
        assert_eq!(viridis(2.0, unit), RGBColor(0xFD, 0xE7, 0x25));
        assert_eq!(viridis(f32::NAN, unit), NO_VALUE);
    }

    #[test]
    fn non_finite_values_split_a_series() {
        let nan = f64::NAN;
        let points = [
            (0.0, 1.0),
            (1.0, 0.5),
            (2.0, nan),
            (3.0, 0.25),
            (4.0, f64::INFINITY),
            (5.0, 0.2),
            (6.0, 0.1),
        ];
        let runs = finite_runs(&points);
        assert_eq!(
            runs,
            vec![&points[0..2], &points[3..4], &points[5..7]],
            "one run per stretch of finite values"
        );
        assert!(finite_runs(&[(0.0, nan)]).is_empty());
    }

    #[test]
    fn wrap_keeps_words() {
        assert_eq!(wrap("a bb ccc", 4), vec!["a bb", "ccc"]);
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(number(&3.0), "3");
        assert_eq!(number(&0.25), "0.25");
    }
}
