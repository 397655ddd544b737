//! Products with the input images kept as sparse rows.
//!
//! About 81 % of MNIST's pixels are exactly 0, and the first layer's products (the forward
//! pre-activation `x · W1` and the weight gradient `xᵀ · dz1`) are a sixth of a 9x320 epoch's
//! arithmetic and almost all of a 2x20 one's. Skipping the zeros changes no sum (adding
//! `0 · w` adds nothing), and each output element is summed in one fixed order (pixels in
//! increasing order, samples in minibatch order) on one thread, so the results do not depend
//! on the thread count.

use ndarray::{ArrayView2, ArrayViewMut2, Axis};

use crate::data::SparseRows;

/// Output columns summed in registers at a time.
const BLOCK: usize = 64;

/// Narrowest first layer the sparse path pays for: measured on 256 MNIST rows, sparse vs gemm
/// took 238 vs 181 µs (forward) at width 20, 221 vs 380 µs at 80, 923 vs 1540 µs at 320.
pub const MIN_WIDTH: usize = 64;

/// Whether the first layer of width `width` over `x` should use the sparse kernels: the CPU
/// has AVX2 and FMA and the layer is wide enough (else gemm is faster).
pub fn worth_it(width: usize) -> bool {
    width >= MIN_WIDTH && available()
}

/// Whether this CPU runs the sparse kernels at full speed (AVX2 and FMA); callers use the
/// dense products otherwise.
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Column blocks (first column, width) covering `0..n`: as many 64-wide blocks as fit, then
/// 32, 16 and 8, then the last few columns.
fn blocks(n: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut c0 = 0;
    for width in [64, 32, 16, 8] {
        while n - c0 >= width {
            out.push((c0, width));
            c0 += width;
        }
    }
    if c0 < n {
        out.push((c0, n - c0));
    }
    out
}

/// `acc[..width] = Σ v · m[i, c0..c0 + width]` over `entries` (row `i` of `m`, value `v`);
/// `m` is row-major with `n` columns.
#[inline(always)]
fn sum_entries(
    acc: &mut [f32; BLOCK],
    width: usize,
    entries: &[(u32, f32)],
    m: (&[f32], usize),
    c0: usize,
) {
    match width {
        64 => sum_block::<64>(acc, entries, m, c0),
        32 => sum_block::<32>(acc, entries, m, c0),
        16 => sum_block::<16>(acc, entries, m, c0),
        8 => sum_block::<8>(acc, entries, m, c0),
        _ => sum_tail(&mut acc[..width.min(BLOCK)], entries, m, c0),
    }
}

/// The body of [`rows_times`], compiled for AVX2 and FMA. Column blocks outermost: one block
/// of `w` (784 x 64 floats, 200 KB) stays in L2 while every row uses it.
#[target_feature(enable = "avx2,fma")]
fn rows_times_fma(x: &SparseRows, rows: &[u32], w: &[f32], z: &mut ArrayViewMut2<f32>, n: usize) {
    for (c0, width) in blocks(n) {
        for (&r, mut zrow) in rows.iter().zip(z.axis_iter_mut(Axis(0))) {
            let Some(zrow) = zrow.as_slice_mut() else {
                continue;
            };
            let mut acc = [0f32; BLOCK];
            sum_entries(&mut acc, width, x.row(r as usize), (w, n), c0);
            for (zv, a) in zrow[c0..c0 + width].iter_mut().zip(acc) {
                *zv += a;
            }
        }
    }
}

/// The body of [`rows_t_times`], compiled for AVX2 and FMA: `entries[count[k]..count[k+1]]`
/// are input `k`'s (sample, value) pairs.
#[target_feature(enable = "avx2,fma")]
fn rows_t_times_fma(
    entries: &[(u32, f32)],
    count: &[usize],
    dz: &[f32],
    gw: &mut ArrayViewMut2<f32>,
    n: usize,
) {
    for (c0, width) in blocks(n) {
        for (k, mut grow) in gw.axis_iter_mut(Axis(0)).enumerate() {
            let Some(grow) = grow.as_slice_mut() else {
                continue;
            };
            let samples = entries.get(count[k]..count[k + 1]).unwrap_or(&[]);
            let mut acc = [0f32; BLOCK];
            sum_entries(&mut acc, width, samples, (dz, n), c0);
            grow[c0..c0 + width].copy_from_slice(&acc[..width]);
        }
    }
}

/// `acc[..B] = Σ v · m[i, c0..c0 + B]` over `entries`. A fixed width and plain slices (no
/// iterator adaptors) let the compiler keep the sums in vector registers.
#[inline(always)]
fn sum_block<const B: usize>(
    acc: &mut [f32; BLOCK],
    entries: &[(u32, f32)],
    (m, n): (&[f32], usize),
    c0: usize,
) {
    let mut local = [0f32; B];
    for &(i, v) in entries {
        let start = i as usize * n + c0;
        let Some(src) = m.get(start..start + B) else {
            continue;
        };
        let Ok(src) = <&[f32; B]>::try_from(src) else {
            continue;
        };
        for k in 0..B {
            local[k] = v.mul_add(src[k], local[k]);
        }
    }
    acc[..B].copy_from_slice(&local);
}

/// [`sum_block`] for a width under 8.
#[inline(always)]
fn sum_tail(acc: &mut [f32], entries: &[(u32, f32)], (m, n): (&[f32], usize), c0: usize) {
    let width = acc.len();
    for &(i, v) in entries {
        let start = i as usize * n + c0;
        if let Some(src) = m.get(start..start + width) {
            for (a, &s) in acc.iter_mut().zip(src) {
                *a = v.mul_add(s, *a);
            }
        }
    }
}

/// `z[i, :] += x[rows[i], :] · w` for every `i`: `w` is `[inputs, n]`, `z` `[rows.len(), n]`.
/// Returns false (leaving `z` unchanged) when the shapes disagree or `w` is not contiguous.
pub fn rows_times(
    x: &SparseRows,
    rows: &[u32],
    w: ArrayView2<f32>,
    z: &mut ArrayViewMut2<f32>,
) -> bool {
    let n = w.ncols();
    let Some(w) = w.as_slice() else {
        return false;
    };
    if rows.len() != z.nrows() || z.ncols() != n || w.len() != x.inputs() * n {
        return false;
    }
    if !available() {
        return false;
    }
    // SAFETY: `available()` just confirmed that this CPU has AVX2 and FMA, the features
    // `rows_times_fma` is compiled for; that is the only requirement of calling it.
    unsafe { rows_times_fma(x, rows, w, z, n) };
    true
}

/// `gw = x[rows]ᵀ · dz` for inputs `inputs` (a range of `x`'s columns, for splitting among
/// threads): `dz` is `[rows.len(), n]`, `gw` `[inputs.len(), n]` and is overwritten. Returns
/// false (leaving `gw` unchanged) when the shapes disagree or `dz` is not contiguous.
pub fn rows_t_times(
    x: &SparseRows,
    rows: &[u32],
    inputs: std::ops::Range<usize>,
    dz: ArrayView2<f32>,
    gw: &mut ArrayViewMut2<f32>,
) -> bool {
    let n = dz.ncols();
    let Some(dz) = dz.as_slice() else {
        return false;
    };
    if dz.len() != rows.len() * n || gw.dim() != (inputs.len(), n) || inputs.end > x.inputs() {
        return false;
    }
    // Transpose the minibatch's entries in `inputs`: for each input, (sample, value) in
    // sample order.
    let mut count = vec![0usize; inputs.len() + 1];
    for &r in rows {
        for &(p, _) in x.row(r as usize) {
            if inputs.contains(&(p as usize)) {
                count[p as usize - inputs.start + 1] += 1;
            }
        }
    }
    for i in 1..count.len() {
        count[i] += count[i - 1];
    }
    let mut fill = count.clone();
    let mut entries = vec![(0u32, 0f32); count[inputs.len()]];
    for (i, &r) in rows.iter().enumerate() {
        for &(p, v) in x.row(r as usize) {
            if inputs.contains(&(p as usize)) {
                let slot = &mut fill[p as usize - inputs.start];
                entries[*slot] = (i as u32, v);
                *slot += 1;
            }
        }
    }
    if !available() {
        return false;
    }
    // SAFETY: as in `rows_times`: AVX2 and FMA were confirmed by `available()`.
    unsafe { rows_t_times_fma(&entries, &count, dz, gw, n) };
    true
}

/// [`rows_times`] with `rows` and `z` split into blocks, one per thread of the current rayon
/// pool when `threads` > 1 (each element is summed the same way whatever the split).
pub fn par_rows_times(
    x: &SparseRows,
    rows: &[u32],
    w: ArrayView2<f32>,
    z: &mut ArrayViewMut2<f32>,
    threads: usize,
) -> bool {
    if threads <= 1 || rows.len() < 2 || rows.len() != z.nrows() {
        return rows_times(x, rows, w, z);
    }
    let per = rows.len().div_ceil(threads);
    let ok = std::sync::atomic::AtomicBool::new(true);
    rayon::scope(|scope| {
        for (rows, mut z) in rows.chunks(per).zip(z.axis_chunks_iter_mut(Axis(0), per)) {
            let ok = &ok;
            scope.spawn(move |_| {
                if !rows_times(x, rows, w, &mut z) {
                    ok.store(false, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
    });
    ok.into_inner()
}

/// [`rows_t_times`] over all of `x`'s inputs, `gw` (`[inputs, n]`) split by input blocks, one
/// per thread of the current rayon pool when `threads` > 1.
pub fn par_rows_t_times(
    x: &SparseRows,
    rows: &[u32],
    dz: ArrayView2<f32>,
    gw: &mut ArrayViewMut2<f32>,
    threads: usize,
) -> bool {
    let inputs = x.inputs();
    if threads <= 1 || inputs < 2 || gw.nrows() != inputs {
        return rows_t_times(x, rows, 0..inputs, dz, gw);
    }
    let per = inputs.div_ceil(threads);
    let ok = std::sync::atomic::AtomicBool::new(true);
    rayon::scope(|scope| {
        for (k, mut gw) in gw.axis_chunks_iter_mut(Axis(0), per).enumerate() {
            let ok = &ok;
            let range = k * per..(k * per + gw.nrows());
            scope.spawn(move |_| {
                if !rows_t_times(x, rows, range, dz, &mut gw) {
                    ok.store(false, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
    });
    ok.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array};

    #[test]
    fn sparse_products_match_the_dense_ones() {
        if !available() {
            // The kernels refuse (and callers use gemm) without AVX2 and FMA.
            return;
        }
        let x = array![
            [0.0f32, 0.5, 0.0, 1.0],
            [0.0, 0.0, 0.0, 0.0],
            [2.0, 0.0, 0.25, 0.0]
        ];
        let w = Array2::from_shape_fn((4, 70), |(i, j)| (i * 70 + j) as f32 * 0.01 - 1.0);
        let sx = SparseRows::from_dense(x.view());
        assert_eq!(sx.density(), 4.0 / 12.0);
        // Forward over rows 2 and 0, onto a bias of 1.
        let mut z = Array2::from_elem((2, 70), 1.0f32);
        assert!(rows_times(&sx, &[2, 0], w.view(), &mut z.view_mut()));
        let picked = ndarray::stack![Axis(0), x.row(2), x.row(0)];
        let dense = picked.dot(&w) + 1.0;
        for (a, b) in z.iter().zip(dense.iter()) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
        // Weight gradient for inputs 1..4 over rows 0, 1, 2.
        let dz = Array2::from_shape_fn((3, 70), |(i, j)| (i as f32 - 1.0) * (j as f32 + 1.0));
        let mut gw = Array2::from_elem((3, 70), f32::NAN);
        assert!(rows_t_times(
            &sx,
            &[0, 1, 2],
            1..4,
            dz.view(),
            &mut gw.view_mut()
        ));
        let dense = x.t().dot(&dz);
        for (a, b) in gw.iter().zip(dense.slice(ndarray::s![1..4, ..]).iter()) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
        // Shapes that disagree are refused, not read out of bounds.
        assert!(!rows_times(&sx, &[0], w.view(), &mut z.view_mut()));
    }
}
