//! Colours: the viridis colormap for node values, and fixed palettes for classes and layers.

use egui::Color32;

/// Viridis sampled at ten evenly spaced points (0, 1/9, ..., 1), interpolated linearly.
const VIRIDIS: [[u8; 3]; 10] = [
    [0x44, 0x01, 0x54],
    [0x48, 0x28, 0x78],
    [0x3e, 0x49, 0x89],
    [0x31, 0x68, 0x8e],
    [0x26, 0x82, 0x8e],
    [0x1f, 0x9e, 0x89],
    [0x35, 0xb7, 0x79],
    [0x6e, 0xce, 0x58],
    [0xb5, 0xde, 0x2b],
    [0xfd, 0xe7, 0x25],
];

/// Colour for values with no defined metric (e.g. churn at epoch 0).
pub const MISSING: Color32 = Color32::from_rgb(90, 90, 90);

/// Viridis colour of `t` in [0, 1] (clamped); `NaN` gives [`MISSING`].
pub fn viridis(t: f32) -> Color32 {
    if !t.is_finite() {
        return MISSING;
    }
    let x = t.clamp(0.0, 1.0) * (VIRIDIS.len() - 1) as f32;
    let i = (x.floor() as usize).min(VIRIDIS.len() - 2);
    let f = x - i as f32;
    let a = VIRIDIS[i];
    let b = VIRIDIS[i + 1];
    let mix = |k: usize| (f32::from(a[k]) + (f32::from(b[k]) - f32::from(a[k])) * f).round() as u8;
    Color32::from_rgb(mix(0), mix(1), mix(2))
}

/// Tableau-10: distinct colours for up to ten categories.
const TAB10: [[u8; 3]; 10] = [
    [0x1f, 0x77, 0xb4],
    [0xff, 0x7f, 0x0e],
    [0x2c, 0xa0, 0x2c],
    [0xd6, 0x27, 0x28],
    [0x94, 0x67, 0xbd],
    [0x8c, 0x56, 0x4b],
    [0xe3, 0x77, 0xc2],
    [0x7f, 0x7f, 0x7f],
    [0xbc, 0xbd, 0x22],
    [0x17, 0xbe, 0xcf],
];

/// Colour of class `c` (digits 0..=9; wraps beyond).
pub fn class_color(c: usize) -> Color32 {
    let [r, g, b] = TAB10[c % TAB10.len()];
    Color32::from_rgb(r, g, b)
}

/// Colour of hidden layer `l` (0-based; wraps beyond ten layers).
pub fn layer_color(l: usize) -> Color32 {
    class_color(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_ends_and_nan() {
        assert_eq!(viridis(0.0), Color32::from_rgb(0x44, 0x01, 0x54));
        assert_eq!(viridis(1.0), Color32::from_rgb(0xfd, 0xe7, 0x25));
        assert_eq!(viridis(2.0), viridis(1.0));
        assert_eq!(viridis(f32::NAN), MISSING);
    }
}
