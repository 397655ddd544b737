//! The colour schemes, one definition for the desktop app and the exported figures: viridis
//! for node values, category10 (matplotlib's `tab10`) for classes and layers. Colours are
//! sRGB bytes; the app and the figure renderer convert them to their own colour types at the
//! edge, and each picks its own grey for "no value" (the app is dark, figures are white).
//!
//! Both schemes come from the `colorous` crate (d3-scale-chromatic's tables): viridis is
//! van der Walt & Smith's map as in matplotlib and R's viridisLite.

/// An sRGB colour, `[red, green, blue]`.
pub type Rgb = [u8; 3];

/// Viridis colour of `value` on `range` (clamped to it); `None` for a value that is not a
/// number (e.g. churn at epoch 0) or an empty range.
pub fn viridis(value: f32, range: (f32, f32)) -> Option<Rgb> {
    let (lo, hi) = range;
    if !value.is_finite() || hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        return None;
    }
    let t = f64::from((value - lo) / (hi - lo)).clamp(0.0, 1.0);
    Some(colorous::VIRIDIS.eval_continuous(t).into_array())
}

/// Colour of category `i` (a class digit, a hidden layer, a series), cycling after ten.
pub const fn category(i: usize) -> Rgb {
    let c = colorous::CATEGORY10[i % colorous::CATEGORY10.len()];
    [c.r, c.g, c.b]
}

/// Colour of class `c`.
pub fn class(c: usize) -> Rgb {
    category(c)
}

/// Colour of hidden layer `l` (0-based).
pub fn layer(l: usize) -> Rgb {
    category(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_ends_midpoint_and_no_value() {
        let unit = (0.0, 1.0);
        assert_eq!(viridis(0.0, unit), Some([0x44, 0x01, 0x54]));
        assert_eq!(viridis(1.0, unit), Some([0xfd, 0xe7, 0x25]));
        // The map's middle is its teal (#21918c in matplotlib's 256-entry table).
        let mid = viridis(0.5, unit).unwrap();
        assert!(mid[0] < 0x30 && mid[1] > 0x88 && mid[2] > 0x88, "{mid:?}");
        assert_eq!(viridis(2.0, unit), viridis(1.0, unit), "clamped");
        assert_eq!(viridis(f32::NAN, unit), None);
        assert_eq!(viridis(0.5, (1.0, 1.0)), None);
        assert_eq!(viridis(5.0, (0.0, 10.0)), Some(mid));
    }

    #[test]
    fn categories_are_tab10_and_cycle() {
        assert_eq!(class(0), [0x1f, 0x77, 0xb4]);
        assert_eq!(class(3), [0xd6, 0x27, 0x28]);
        assert_eq!(layer(10), layer(0));
    }
}
