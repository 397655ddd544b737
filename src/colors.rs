//! The colour schemes, one definition for the desktop app and the exported figures, each
//! colour meaning one thing:
//! - node values (node maps): viridis;
//! - hidden layers: a sequential palette in depth order ([`layer`], d3's "warm": purple for the
//!   first layer through red to orange-yellow for the last), so depth reads as hue and
//!   neighbouring layers look alike;
//! - classes: category10 (matplotlib's `tab10`), used for classes only ([`class`]);
//! - train and test are told apart by line style (solid, dashed), not colour.
//!
//! Colours are sRGB bytes; the app and the figure renderer convert them to their own colour
//! types at the edge, and each picks its own grey for "no value" (the app is dark, figures are
//! white). The schemes come from the `colorous` crate (d3-scale-chromatic's tables): viridis
//! is van der Walt & Smith's map as in matplotlib and R's viridisLite.

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

/// Colour of category `i` (a class digit), cycling after ten.
pub const fn category(i: usize) -> Rgb {
    let c = colorous::CATEGORY10[i % colorous::CATEGORY10.len()];
    [c.r, c.g, c.b]
}

/// Colour of class `c`.
pub fn class(c: usize) -> Rgb {
    category(c)
}

/// Colour of hidden layer `l` (0-based) of `layers`: d3's "warm" palette from its start
/// (purple) to 80 % (orange-yellow; its light-green end vanishes on white figures), evenly in
/// depth order; a single layer takes the middle (red).
pub fn layer(l: usize, layers: usize) -> Rgb {
    let t = if layers <= 1 {
        0.5
    } else {
        (l as f64 / (layers - 1) as f64).clamp(0.0, 1.0)
    };
    colorous::WARM.eval_continuous(0.8 * t).into_array()
}

/// The neutral line colour for series that are not layers or classes (loss, accuracy, the
/// training set), on a dark background.
pub const NEUTRAL_DARK: Rgb = [205, 205, 205];

/// The neutral line colour on a white background (exported figures): a dark slate, apart
/// from the black ink of axes and text and from every class colour.
pub const NEUTRAL_LIGHT: Rgb = [45, 75, 115];

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
        assert_eq!(category(10), category(0));
    }

    #[test]
    fn layers_go_in_depth_order_through_one_palette() {
        // First layer purple (blue above red), last orange-yellow (red and green high).
        let first = layer(0, 9);
        let last = layer(8, 9);
        assert!(first[2] > first[1], "{first:?}");
        assert!(last[0] > 200 && last[1] > 150, "{last:?}");
        assert_ne!(layer(3, 9), layer(4, 9));
        assert_eq!(layer(0, 1), layer(0, 1));
        // Never a class colour.
        for l in 0..9 {
            for c in 0..10 {
                assert_ne!(layer(l, 9), class(c));
            }
        }
    }
}
