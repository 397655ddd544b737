//! Matrix products for training and measurement, on the `gemm` crate: on this project's
//! shapes (minibatch 128, widths 20-320) it is about twice as fast as ndarray's
//! matrixmultiply, and it takes the thread count per call.

use ndarray::{ArrayView2, ArrayViewMut2, Axis};

/// Operand shapes that do not fit together in a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{what}: shapes [{}, {}] x [{}, {}] -> [{}, {}] do not fit", a.0, a.1, b.0, b.1, c.0, c.1)]
pub struct ShapeError {
    /// Which product (e.g. "layer 2 forward").
    pub what: &'static str,
    /// `a`'s `[rows, columns]`.
    pub a: (usize, usize),
    /// `b`'s `[rows, columns]`.
    pub b: (usize, usize),
    /// The output's `[rows, columns]`.
    pub c: (usize, usize),
}

/// Checks that `a` (`[m, k]`) times `b` (`[k, n]`) fits an output `c` of `[m, n]`.
///
/// # Errors
/// [`ShapeError`] naming `what` and the three shapes.
pub fn check_product(
    what: &'static str,
    a: (usize, usize),
    b: (usize, usize),
    c: (usize, usize),
) -> Result<(), ShapeError> {
    if a.1 == b.0 && c == (a.0, b.1) {
        Ok(())
    } else {
        Err(ShapeError { what, a, b, c })
    }
}

/// `c = a · b`, or `c += a · b` when `accumulate`; `a` is `[m, k]`, `b` `[k, n]`, `c` `[m, n]`.
/// Any strides (transposed views included). `threads` > 1 splits the output among rayon
/// threads; every element is still summed in the same order, so the result is the same for
/// any thread count.
///
/// # Panics
/// When the shapes do not fit ([`check_product`]), in every build: callers check their shapes
/// first (the trainer before each epoch), so this is a bug, and going on would leave `c`
/// stale (release builds once returned early here, silently).
pub fn matmul_into(
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    c: &mut ArrayViewMut2<f32>,
    accumulate: bool,
    threads: usize,
) {
    if let Err(e) = check_product("matmul", a.dim(), b.dim(), c.dim()) {
        panic!("{e}");
    }
    let (m, k) = a.dim();
    let n = b.ncols();
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c.fill(0.0);
        }
        return;
    }
    let parallelism = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    let (cs, rs) = (c.strides()[1], c.strides()[0]);
    let (a_cs, a_rs) = (a.strides()[1], a.strides()[0]);
    let (b_cs, b_rs) = (b.strides()[1], b.strides()[0]);
    // SAFETY: each pointer and its (row, column) strides in elements come from an ndarray view
    // of exactly the dimensions passed (m x k, k x n, m x n, checked above), so every element
    // gemm reads or writes lies inside the viewed memory. `c` is an exclusive (&mut) view,
    // so it cannot alias `a` or `b`, which are shared views borrowed for the whole call.
    // gemm computes `c = alpha * c + beta * a b`: alpha = 1 is only used when `read_dst`
    // (accumulate) is true, beta = 1 scales the product.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            cs,
            rs,
            accumulate,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            1.0f32,
            1.0f32,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// Which operand a split product divides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitAlong {
    /// Rows of `a` and `c` (each block packs all of `b`).
    Rows,
    /// Columns of `b` and `c` (each block packs its part of `b`: the better choice when `b`,
    /// say a 320 x 320 weight matrix, is the bigger operand).
    Cols,
}

/// [`matmul_into`] with `c` split into [`BLOCKS`] blocks along `split`, each product on its
/// own thread of the current rayon pool when `threads` > 1, one after the other otherwise.
/// gemm's blocking (and so its order of summation) depends on the shape, so the split is the
/// same for every thread count: that keeps results independent of `threads`. Splitting
/// ourselves beats gemm's own threading on these small products.
pub fn matmul_split_into(
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    c: &mut ArrayViewMut2<f32>,
    accumulate: bool,
    (split, threads): (SplitAlong, usize),
) {
    let (axis, len) = match split {
        SplitAlong::Rows => (Axis(0), a.nrows()),
        SplitAlong::Cols => (Axis(1), b.ncols()),
    };
    if len < BLOCKS * MIN_PER_BLOCK || c.len_of(axis) != len {
        matmul_into(a, b, c, accumulate, 1);
        return;
    }
    let size = len.div_ceil(BLOCKS);
    // (a, b, c) of each block: the split operand in parts, the other one whole.
    let blocks: Vec<_> = c
        .axis_chunks_iter_mut(axis, size)
        .enumerate()
        .map(|(i, c)| {
            let part = i * size..(i * size + c.len_of(axis));
            match split {
                SplitAlong::Rows => (a.slice_axis(axis, part.into()), b, c),
                SplitAlong::Cols => (a, b.slice_axis(axis, part.into()), c),
            }
        })
        .collect();
    if threads <= 1 {
        for (a, b, mut c) in blocks {
            matmul_into(a, b, &mut c, accumulate, 1);
        }
        return;
    }
    rayon::scope(|scope| {
        for (a, b, mut c) in blocks {
            scope.spawn(move |_| matmul_into(a, b, &mut c, accumulate, 1));
        }
    });
}

/// Blocks of a split product (this machine class has two cores).
pub const BLOCKS: usize = 2;

/// Fewest rows (or columns) per block worth splitting for.
const MIN_PER_BLOCK: usize = 32;

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::*;

    #[test]
    fn products_of_shapes_that_do_not_fit_are_refused_in_every_build() {
        let (a, b) = (Array2::<f32>::ones((4, 3)), Array2::<f32>::ones((3, 5)));
        assert!(check_product("x", a.dim(), b.dim(), (4, 5)).is_ok());
        let e = check_product("layer 2 forward", a.dim(), (2, 5), (4, 5)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "layer 2 forward: shapes [4, 3] x [2, 5] -> [4, 5] do not fit"
        );
        assert!(check_product("x", a.dim(), b.dim(), (4, 6)).is_err());
        // matmul_into itself: a real assert, not a silent return in release builds.
        let mut c = Array2::<f32>::zeros((4, 6));
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            matmul_into(a.view(), b.view(), &mut c.view_mut(), false, 1)
        }));
        assert!(
            r.is_err(),
            "a product into a [4, 6] output of [4, 3] x [3, 5] went on"
        );
    }
}
