//! Matrix products for training and measurement, on the `gemm` crate: on this project's
//! shapes (minibatch 128, widths 20-320) it is about twice as fast as ndarray's
//! matrixmultiply, and it takes the thread count per call.

use ndarray::{ArrayView2, ArrayViewMut2, Axis};

/// `c = a · b`, or `c += a · b` when `accumulate`; `a` is `[m, k]`, `b` `[k, n]`, `c` `[m, n]`.
/// Any strides (transposed views included). `threads` > 1 splits the output among rayon
/// threads; every element is still summed in the same order, so the result is the same for
/// any thread count.
///
/// Shapes come from our own layers; a mismatch is a bug and leaves `c` unchanged.
pub fn matmul_into(
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    c: &mut ArrayViewMut2<f32>,
    accumulate: bool,
    threads: usize,
) {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    if k != k2 || c.dim() != (m, n) {
        debug_assert!(
            false,
            "matmul shapes {:?} x {:?} -> {:?}",
            a.dim(),
            b.dim(),
            c.dim()
        );
        return;
    }
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

/// [`matmul_into`] with the rows of `a` and `c` split into [`ROW_BLOCKS`] blocks, each
/// product on its own thread of the current rayon pool when `threads` > 1, one after the other
/// otherwise. gemm's blocking (and so its order of summation) depends on the shape, so the
/// split is the same for every thread count: that keeps results independent of `threads`.
/// Splitting rows ourselves beats gemm's own threading on these small products.
pub fn matmul_rows_into(
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    c: &mut ArrayViewMut2<f32>,
    accumulate: bool,
    threads: usize,
) {
    let m = a.nrows();
    if m < ROW_BLOCKS * MIN_ROWS_PER_BLOCK || c.nrows() != m {
        matmul_into(a, b, c, accumulate, 1);
        return;
    }
    let rows = m.div_ceil(ROW_BLOCKS);
    let blocks = a
        .axis_chunks_iter(Axis(0), rows)
        .zip(c.axis_chunks_iter_mut(Axis(0), rows));
    if threads <= 1 {
        for (a, mut c) in blocks {
            matmul_into(a, b, &mut c, accumulate, 1);
        }
        return;
    }
    rayon::scope(|scope| {
        for (a, mut c) in blocks {
            scope.spawn(move |_| matmul_into(a, b, &mut c, accumulate, 1));
        }
    });
}

/// [`matmul_into`] with the columns of `b` and `c` split into [`ROW_BLOCKS`] blocks, like
/// [`matmul_rows_into`] (same split for every thread count). Each thread packs only its half
/// of `b`, which for the forward products (`b` = weights, 320 x 320) is the bigger operand.
pub fn matmul_cols_into(
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    c: &mut ArrayViewMut2<f32>,
    accumulate: bool,
    threads: usize,
) {
    let n = b.ncols();
    if n < ROW_BLOCKS * MIN_ROWS_PER_BLOCK || c.ncols() != n {
        matmul_into(a, b, c, accumulate, 1);
        return;
    }
    let cols = n.div_ceil(ROW_BLOCKS);
    let blocks = b
        .axis_chunks_iter(Axis(1), cols)
        .zip(c.axis_chunks_iter_mut(Axis(1), cols));
    if threads <= 1 {
        for (b, mut c) in blocks {
            matmul_into(a, b, &mut c, accumulate, 1);
        }
        return;
    }
    rayon::scope(|scope| {
        for (b, mut c) in blocks {
            scope.spawn(move |_| matmul_into(a, b, &mut c, accumulate, 1));
        }
    });
}

/// Row blocks of a split product (this machine class has two cores).
pub const ROW_BLOCKS: usize = 2;

/// Fewest rows per block worth splitting for.
const MIN_ROWS_PER_BLOCK: usize = 32;
