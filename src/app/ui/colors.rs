//! The shared colour schemes ([`crate::colors`]) as egui colours, plus the app's own marks.

use egui::Color32;

use crate::session::Metric;

/// Colour for values with no defined metric (e.g. churn at epoch 0), on the dark theme.
pub const MISSING: Color32 = Color32::from_rgb(90, 90, 90);

/// The selected-epoch marker and hovered-line highlight.
pub const MARKER: Color32 = Color32::from_rgb(255, 200, 60);

/// The selected record's vertical line on the epoch axis (drawn dashed): neutral, apart from
/// the layer palette's orange end and the event marks.
pub const SELECTED_RECORD: Color32 = Color32::from_gray(235);

/// A shared colour as egui's type.
pub fn color32([r, g, b]: crate::colors::Rgb) -> Color32 {
    Color32::from_rgb(r, g, b)
}

/// Node-map colour of `value` of `metric`: viridis over the metric's range, [`MISSING`] when
/// undefined. The exported figures use the same [`crate::colors::viridis`].
pub fn metric_color(metric: Metric, value: f32) -> Color32 {
    crate::colors::viridis(value, metric.info().range).map_or(MISSING, color32)
}

/// Colour of class `c` (digits 0..=9; wraps beyond).
pub fn class_color(c: usize) -> Color32 {
    color32(crate::colors::class(c))
}

/// Colour of hidden layer `l` (0-based) of `layers`: the sequential layer palette in depth
/// order ([`crate::colors::layer`]).
pub fn layer_color(l: usize, layers: usize) -> Color32 {
    color32(crate::colors::layer(l, layers))
}

/// Lines that are neither layers nor classes (loss, accuracy, the training set); train and
/// test differ by line style.
pub const NEUTRAL: Color32 = {
    let [r, g, b] = crate::colors::NEUTRAL_DARK;
    Color32::from_rgb(r, g, b)
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_map_colours_are_the_shared_viridis() {
        for k in 0..=20 {
            let v = k as f32 / 20.0;
            let [r, g, b] = crate::colors::viridis(v, (0.0, 1.0)).unwrap();
            assert_eq!(
                metric_color(Metric::Predictability, v),
                Color32::from_rgb(r, g, b)
            );
        }
        assert_eq!(metric_color(Metric::Overlap, f32::NAN), MISSING);
    }
}
