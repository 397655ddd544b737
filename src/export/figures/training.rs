//! Loss and accuracy over epochs, train and test.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{self, Drawn, Mark};
use crate::session::Session;

/// Train and test share one colour; the test line is dashed (colour means layers and classes).
const COLOR: RGBColor = style::NEUTRAL;

fn train_test_legend<DB: DrawingBackend>(legend: &DrawingArea<DB, Shift>) -> Drawn {
    style::legend(
        legend,
        &[
            (Mark::Line(COLOR), "train set".into()),
            (Mark::Dashed(COLOR), "test set".into()),
        ],
    )
}

/// Train and test loss (mean over the set after each epoch).
pub(super) fn loss<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, s: &Session) -> Drawn {
    let (plot, legend) = style::page(root, &style::title(s, "loss over epochs"))?;
    let spe = s.steps_per_epoch();
    let train: Vec<(f64, f64)> = s
        .epochs
        .iter()
        .map(|e| (e.position(spe), e.train_loss))
        .collect();
    let test: Vec<(f64, f64)> = s
        .epochs
        .iter()
        .map(|e| (e.position(spe), e.test_loss))
        .collect();
    let top = train
        .iter()
        .chain(&test)
        .map(|p| p.1)
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    let top = if top > 0.0 { top * 1.05 } else { 1.0 };
    let mut chart = style::epoch_chart(
        &plot,
        style::epoch_range(s),
        0.0..top,
        "loss (mean over the set)",
        &style::number,
    )?;
    let dots = style::mark_points(s);
    style::line(&mut chart, &train, COLOR, 3, dots)?;
    style::line_dashed(&mut chart, &test, COLOR, 3, dots)?;
    train_test_legend(&legend)
}

/// Train and test accuracy, in percent.
pub(super) fn accuracy<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, s: &Session) -> Drawn {
    let (plot, legend) = style::page(root, &style::title(s, "accuracy over epochs"))?;
    let spe = s.steps_per_epoch();
    let pct = |v: f64| v * 100.0;
    let train: Vec<(f64, f64)> = s
        .epochs
        .iter()
        .map(|e| (e.position(spe), pct(e.train_accuracy)))
        .collect();
    let test: Vec<(f64, f64)> = s
        .epochs
        .iter()
        .map(|e| (e.position(spe), pct(e.test_accuracy)))
        .collect();
    let low = train
        .iter()
        .chain(&test)
        .map(|p| p.1)
        .filter(|v| v.is_finite())
        .fold(100.0_f64, f64::min);
    let bottom = ((low / 10.0).floor() * 10.0).clamp(0.0, 90.0);
    let mut chart = style::epoch_chart(
        &plot,
        style::epoch_range(s),
        bottom..100.0,
        "accuracy (%)",
        &style::number,
    )?;
    let dots = style::mark_points(s);
    style::line(&mut chart, &train, COLOR, 3, dots)?;
    style::line_dashed(&mut chart, &test, COLOR, 3, dots)?;
    train_test_legend(&legend)
}
