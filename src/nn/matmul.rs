//! Matrix products for training and measurement: our own AVX2+FMA kernels
//! ([`super::dense_avx2`]) where the CPU has both, else the `gemm` crate (on this project's
//! shapes, minibatch 128 and widths 20-320, about twice as fast as ndarray's matrixmultiply).
//!
//! The own kernels sum every element in one fixed order (from its start value, one fused
//! multiply-add per step of the inner dimension, in increasing order) whatever the shape, the
//! split or the thread, and need no packing of the left operand; on a 9x320 training epoch
//! gemm spent a fifth of its time packing (perf, 1 epoch, 2 threads).

use ndarray::{ArrayView1, ArrayView2, ArrayViewMut2, Axis};

#[cfg(target_arch = "x86_64")]
use super::dense_avx2::Start;

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
    if own_kernels(c) {
        #[cfg(target_arch = "x86_64")]
        {
            let start = if accumulate {
                Start::Output
            } else {
                Start::Zero
            };
            // SAFETY: `own_kernels` checked AVX2 and FMA and that `c` has unit column stride;
            // the pointers and strides come from ndarray views of exactly the dimensions
            // passed (checked above), so each (row, column) in range is inside its view, and
            // `c` is an exclusive view (it cannot overlap `a` or `b`, shared for the call).
            unsafe { own_product((a, b), c, start, None) };
            return;
        }
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

/// Whether [`matmul_into`] takes our own kernels for output `c`: the CPU has AVX2 and FMA and
/// `c`'s rows are contiguous (unit column stride).
fn own_kernels(c: &ArrayViewMut2<f32>) -> bool {
    super::sparse::available() && (c.strides()[1] == 1 || c.ncols() <= 1)
}

/// Runs [`super::dense_avx2::product`] on views; `gate`, when given, has `c`'s shape.
///
/// # Safety
/// AVX2 and FMA present, `a`, `b`, `c` fit (`[m, k] x [k, n] -> [m, n]`, k >= 1), `c` has
/// unit column stride (or one column) and so has `gate`; a [`Start::Row`] points at `n`
/// readable floats.
#[cfg(target_arch = "x86_64")]
unsafe fn own_product(
    (a, b): (ArrayView2<f32>, ArrayView2<f32>),
    c: &mut ArrayViewMut2<f32>,
    start: Start,
    gate: Option<ArrayView2<f32>>,
) {
    use super::dense_avx2::{Operand, Output, product};
    let (m, k) = a.dim();
    let n = b.ncols();
    let operand = |x: ArrayView2<f32>| Operand {
        ptr: x.as_ptr(),
        rs: x.strides()[0],
        cs: x.strides()[1],
    };
    let output = Output {
        ptr: c.as_mut_ptr(),
        rs: c.strides()[0],
    };
    let gate = gate.map(|g| Output {
        ptr: g.as_ptr().cast_mut(),
        rs: g.strides()[0],
    });
    // SAFETY: the caller's promise; every offset `product` forms is of an element inside
    // these views (the gate is only read). The AVX-512 kernel only where the CPU has it;
    // both give the same bits.
    unsafe {
        if super::dense_avx512::available() {
            super::dense_avx512::product((m, n, k), operand(a), operand(b), output, start, gate);
        } else {
            product((m, n, k), operand(a), operand(b), output, start, gate);
        }
    }
}

/// `c = bias + a · b` (bias `[n]` added to every row), split as [`matmul_split_into`]
/// (`c` in [`BLOCKS`] column blocks on their own threads when `threads` > 1). Our own kernels
/// start each sum from the bias (no pass writing the bias into `c` first, which ran on one
/// thread); gemm adds the product to `c` set to the bias. Either way the same bits as
/// assigning the bias and accumulating.
///
/// # Panics
/// As [`matmul_into`], and when `bias` does not have `c`'s columns.
pub fn matmul_bias_into(
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    bias: ArrayView1<f32>,
    c: &mut ArrayViewMut2<f32>,
    threads: usize,
) {
    if let Err(e) = check_product("matmul with bias", a.dim(), b.dim(), c.dim()) {
        panic!("{e}");
    }
    if bias.len() != c.ncols() {
        panic!(
            "matmul with bias: {} biases for {} columns",
            bias.len(),
            c.ncols()
        );
    }
    let contiguous = bias.as_slice().filter(|_| a.ncols() > 0 && own_kernels(c));
    let Some(bias) = contiguous else {
        c.assign(&bias.insert_axis(Axis(0)));
        matmul_split_into(a, b, c, true, (SplitAlong::Cols, threads));
        return;
    };
    #[cfg(target_arch = "x86_64")]
    {
        let n = c.ncols();
        let half = n.div_ceil(BLOCKS);
        if threads > 1 && n >= BLOCKS * MIN_PER_BLOCK {
            let (mut c0, mut c1) = c.view_mut().split_at(Axis(1), half);
            let (b0, b1) = b.split_at(Axis(1), half);
            let (s0, s1) = bias.split_at(half);
            rayon::join(
                // SAFETY: as in `matmul_into`; each start row is the bias of its columns.
                || unsafe { own_product((a, b0), &mut c0, Start::Row(s0.as_ptr()), None) },
                || unsafe { own_product((a, b1), &mut c1, Start::Row(s1.as_ptr()), None) },
            );
        } else if !c.is_empty() {
            // SAFETY: as in `matmul_into`; the bias holds `n` floats (checked above).
            unsafe { own_product((a, b), c, Start::Row(bias.as_ptr()), None) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (bias, threads);
}

/// `c = a · b` where `gate` (same shape as `c`) is not `<= 0`, else 0: the gradient into a
/// ReLU layer, `dz · Wᵀ` gated by that layer's activations `gate`. Same order of summation
/// as [`matmul_into`]; our own kernels apply the gate as they store (gemm, then a separate
/// branch-free pass, otherwise: a branch on a half-on ReLU mispredicted so often that the
/// gate took a quarter as long as the product itself).
///
/// # Panics
/// As [`matmul_into`], and when `gate`'s shape is not `c`'s.
pub fn matmul_gated_into(
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    c: &mut ArrayViewMut2<f32>,
    gate: ArrayView2<f32>,
) {
    if let Err(e) = check_product("gated matmul", a.dim(), b.dim(), c.dim()) {
        panic!("{e}");
    }
    if gate.dim() != c.dim() {
        panic!(
            "gated matmul: gate of shape {:?} for an output of {:?}",
            gate.dim(),
            c.dim()
        );
    }
    let k = a.ncols();
    if k > 0 && own_kernels(c) && (gate.strides()[1] == 1 || gate.ncols() <= 1) {
        #[cfg(target_arch = "x86_64")]
        {
            if c.is_empty() {
                return;
            }
            // SAFETY: as in `matmul_into`; the gate is a view of `c`'s shape with unit
            // column stride, only read.
            unsafe { own_product((a, b), c, Start::Zero, Some(gate)) };
            return;
        }
    }
    matmul_into(a, b, c, false, 1);
    ndarray::Zip::from(c).and(&gate).for_each(|d, &on| {
        // Branch-free: keeps `d` unless the gate is <= 0 (a NaN gate keeps it).
        *d = if on <= 0.0 { 0.0 } else { *d };
    });
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
    // Two blocks (BLOCKS) as one join: lighter than a scope, whose spawned jobs are boxed.
    let mut blocks = blocks.into_iter();
    match (blocks.next(), blocks.next(), blocks.next()) {
        (Some((a0, b0, mut c0)), Some((a1, b1, mut c1)), None) => {
            rayon::join(
                || matmul_into(a0, b0, &mut c0, accumulate, 1),
                || matmul_into(a1, b1, &mut c1, accumulate, 1),
            );
        }
        (first, second, third) => rayon::scope(|scope| {
            for (a, b, mut c) in first.into_iter().chain(second).chain(third).chain(blocks) {
                scope.spawn(move |_| matmul_into(a, b, &mut c, accumulate, 1));
            }
        }),
    }
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

    /// Values of many magnitudes and both signs, some exactly 0, from a fixed formula.
    fn values(rows: usize, cols: usize, salt: usize) -> Array2<f32> {
        Array2::from_shape_fn((rows, cols), |(i, j)| {
            let h = (i * 7919 + j * 104_729 + salt * 1_299_709) % 10_007;
            if h.is_multiple_of(5) {
                0.0
            } else {
                (h as f32 / 10_007.0 - 0.5) * 10f32.powi((h % 7) as i32 - 3)
            }
        })
    }

    /// Each element summed as the kernels promise: from `c0`, one fused multiply-add per
    /// step of the inner dimension, in increasing order.
    fn in_order(a: ArrayView2<f32>, b: ArrayView2<f32>, c0: &Array2<f32>) -> Array2<f32> {
        Array2::from_shape_fn(c0.dim(), |(i, j)| {
            (0..a.ncols()).fold(c0[[i, j]], |s, q| a[[i, q]].mul_add(b[[q, j]], s))
        })
    }

    fn same_bits(x: &Array2<f32>, y: &Array2<f32>) -> bool {
        x.dim() == y.dim() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
    }

    #[test]
    fn every_shape_and_layout_of_the_training_products_sums_each_element_in_one_order() {
        if !crate::nn::sparse::available() {
            return; // gemm's order is its own; nothing of ours to check on this CPU
        }
        // (m, k, n): forward, weight-gradient and input-gradient shapes of 9x320, 2x20 and
        // the output layer, plus odd sizes for every tile and panel remainder.
        let shapes = [
            (128, 320, 320),
            (320, 128, 320),
            (784, 128, 20),
            (128, 784, 20),
            (128, 320, 10),
            (128, 10, 320),
            (7, 5, 3),
            (13, 17, 25),
            (1, 1, 1),
            (9, 33, 9),
        ];
        for (m, k, n) in shapes {
            let (a, b) = (values(m, k, 1), values(k, n, 2));
            let (at, bt) = (values(k, m, 3), values(n, k, 4));
            let start = values(m, n, 5);
            let zero = Array2::<f32>::zeros((m, n));
            // Row-major operands, then each read transposed (as the backward pass does).
            for (x, y) in [
                (a.view(), b.view()),
                (at.t(), b.view()),
                (a.view(), bt.t()),
                (at.t(), bt.t()),
            ] {
                let mut c = start.clone();
                matmul_into(x, y, &mut c.view_mut(), true, 1);
                assert!(same_bits(&c, &in_order(x, y, &start)), "{m}x{k}x{n} +=");
                let mut c = start.clone();
                matmul_into(x, y, &mut c.view_mut(), false, 1);
                let want = in_order(x, y, &zero);
                assert!(same_bits(&c, &want), "{m}x{k}x{n} =");
                // Split either way, on one or two threads: the same bits.
                for along in [SplitAlong::Rows, SplitAlong::Cols] {
                    for threads in [1, 2] {
                        let mut s = start.clone();
                        matmul_split_into(x, y, &mut s.view_mut(), false, (along, threads));
                        assert!(same_bits(&s, &want), "{m}x{k}x{n} split {along:?}");
                    }
                }
                // From a bias: as if the bias were in `c` first, on one or two threads.
                let bias = values(1, n, 9).row(0).to_owned();
                let from_bias = in_order(x, y, &(&zero + &bias));
                for threads in [1, 2] {
                    let mut z = start.clone();
                    matmul_bias_into(x, y, bias.view(), &mut z.view_mut(), threads);
                    assert!(same_bits(&z, &from_bias), "{m}x{k}x{n} bias");
                }
                // The gated product: 0 where the gate is <= 0 (NaN keeps), else the sum.
                let mut gate = values(m, n, 6);
                gate[[0, 0]] = f32::NAN;
                let mut g = start.clone();
                matmul_gated_into(x, y, &mut g.view_mut(), gate.view());
                let gated = ndarray::Zip::from(&want)
                    .and(&gate)
                    .map_collect(|&w, &on| if on <= 0.0 { 0.0 } else { w });
                assert!(same_bits(&g, &gated), "{m}x{k}x{n} gated");
            }
        }
    }

    #[test]
    fn products_agree_with_a_double_precision_reference() {
        // Against f64 sums: a wrong index or a lost panel shows as a large error.
        let (a, b) = (values(128, 320, 7), values(320, 200, 8));
        let mut c = Array2::<f32>::zeros((128, 200));
        matmul_into(a.view(), b.view(), &mut c.view_mut(), false, 1);
        let want = a.mapv(f64::from).dot(&b.mapv(f64::from));
        let scale = want.iter().fold(0f64, |s, v| s.max(v.abs()));
        for ((i, j), &w) in want.indexed_iter() {
            let err = (f64::from(c[[i, j]]) - w).abs();
            assert!(err <= 1e-5 * scale, "({i}, {j}): {} vs {w}", c[[i, j]]);
        }
    }
}
