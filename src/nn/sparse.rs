//! Products with sparse inputs: the images' nonzero pixels and, above the first layer, the
//! nonzero activations of a minibatch.
//!
//! About 81 % of MNIST's pixels are exactly 0, and after ReLU most activations are 0 too:
//! a trained 9x320 network switches on 3-20 % of its nodes per sample (`sample-sets inspect`
//! on a 200-epoch session), and its per-node activation fractions fall below a quarter within
//! a few epochs. Three products skip the zeros of their input `x` (a layer's input):
//! the forward pre-activation `x · W`, the weight gradient `xᵀ · dz`, and the gradient into
//! the layer below, `(dz · Wᵀ)` gated by ReLU, which is only needed where `x` is nonzero.
//! Skipping zeros changes no sum (adding `0 · w` adds nothing), and each output element is
//! summed in one fixed order (inputs in increasing order, samples in minibatch order) on one
//! thread, so the results do not depend on the thread count.

use ndarray::{ArrayView2, ArrayViewMut2, Axis};

use crate::data::SparseRows;

/// Narrowest layer (outputs) the sparse path pays for: each nonzero input then adds a row
/// segment of at least 64 weights. Measured on 256 MNIST rows, sparse vs gemm took 238 vs
/// 181 µs (first-layer forward) at width 20, 221 vs 380 µs at 80, 923 vs 1540 µs at 320; on
/// a trained 9x320 network's last hidden layer (10 outputs) the sparse forward took 49 vs
/// 19 µs per minibatch (`cargo bench --bench throughput -- --kernels SESSION`). Those figures
/// are of the column-block path; the narrow kernels since made width 20 cheaper than gemm on
/// the images ([`MIN_IMAGE_WIDTH`]), but a hidden layer's activations must first be gathered
/// into sparse rows, so hidden layers keep this threshold (not re-measured).
pub const MIN_WIDTH: usize = 64;

/// Whether a layer with `width` outputs may read its input through the sparse kernels: the
/// CPU has AVX2 and FMA and the layer is wide enough (else gemm is faster).
pub fn worth_it(width: usize) -> bool {
    width >= MIN_WIDTH && available()
}

/// Narrowest first layer that reads the images through the sparse kernels: the narrow
/// kernels ([`super::sparse_avx2`]) hold a whole output row of fewer than 64 columns in
/// registers, which pays on MNIST's images (81 % zeros) at every preset width: on a 2x20
/// network's first layer (128 real rows, fastest of 30) forward 27-28 µs against gemm's
/// 60-90, weight gradient 37-52 against 69.
pub const MIN_IMAGE_WIDTH: usize = 1;

/// Whether a first layer with `width` outputs may read the images through the sparse kernels
/// (the CPU has AVX2 and FMA and `width >= MIN_IMAGE_WIDTH`).
pub fn images_worth_it(width: usize) -> bool {
    width >= MIN_IMAGE_WIDTH && available()
}

/// Densest layer input (fraction of nonzero activations in a minibatch) that the sparse
/// kernels serve; denser inputs go to gemm. On a trained 9x320 network's 320 x 320 layers
/// (minibatch 128, one thread), gemm vs sparse took, at input density 0.196: 360 vs 283 µs
/// (forward), 352 vs 173 (weight gradient), 427 vs 277 (input gradient); at 0.099: 347 vs
/// 159, 353 vs 119, 403 vs 150. The forward breaks even near 0.25.
pub const MAX_ACTIVATION_DENSITY: f64 = 0.25;

/// Whether a layer input with `on` nonzero entries of `len` is sparse enough for the sparse
/// kernels (an empty input is).
pub fn sparse_enough(on: usize, len: usize) -> bool {
    len == 0 || on as f64 / len as f64 <= MAX_ACTIVATION_DENSITY
}

/// Refills `acts` from a hidden layer's output `out` (`[rows, width]`, after ReLU) and returns
/// true when the next layer, `next_width` wide, should read it through the sparse kernels;
/// leaves `acts` alone and returns false otherwise.
pub fn refill_if_sparse(acts: &mut SparseRows, out: ArrayView2<f32>, next_width: usize) -> bool {
    let sparse = worth_it(next_width) && {
        let nonzero = on_rows(out, 1, |x| count(x, |v| v != 0.0));
        sparse_enough(nonzero, out.len())
    };
    if sparse {
        acts.refill(out);
    }
    sparse
}

/// Applies ReLU to a hidden layer's pre-activations `z` (`[rows, width]`) for the next layer,
/// `next_width` wide, and returns whether that layer reads them through the sparse kernels
/// (`acts` refilled with the ReLU of `z`) or densely (`a`, same shape as `z`, set to the
/// ReLU of `z`: +0 for -0 and NaN). The sparse path is taken when `allow_sparse`, the layer
/// is wide enough ([`worth_it`]) and at most [`MAX_ACTIVATION_DENSITY`] of `z` is above 0.
///
/// `was_sparse` (the choice at the previous minibatch) only says which work to do first, not
/// the choice: a dense layer writes `a` while counting (one pass over `z`), a sparse one counts
/// first and writes only what the next layer reads. With `threads` > 1 the rows are split
/// between two threads: on a fresh 9x320 network ReLU and the count took 0.13 s of a 2.2 s
/// epoch on one thread, between the halves of the parallel products.
///
/// # Panics
/// When `a`'s shape is not `z`'s (the trainer's buffers, checked before every epoch).
pub fn relu_for_next(
    (acts, a): (&mut SparseRows, ArrayViewMut2<f32>),
    z: ArrayView2<f32>,
    next_width: usize,
    (allow_sparse, was_sparse): (bool, bool),
    threads: usize,
) -> bool {
    assert_eq!(
        a.dim(),
        z.dim(),
        "activations and pre-activations differ in shape"
    );
    let may_be_sparse = allow_sparse && worth_it(next_width);
    if may_be_sparse && was_sparse {
        let on = on_rows(z, threads, |z| count(z, |v| v > 0.0));
        let sparse = sparse_enough(on, z.len());
        if sparse {
            acts.refill_relu(z);
        } else {
            relu_rows(z, a, threads);
        }
        return sparse;
    }
    let on = relu_rows(z, a, threads);
    let sparse = may_be_sparse && sparse_enough(on, z.len());
    if sparse {
        acts.refill_relu(z);
    }
    sparse
}

/// `a = relu(z)` (both `[rows, width]`, see [`relu`]), the rows split between two threads when
/// `threads` > 1; returns the count of `z > 0`.
fn relu_rows(z: ArrayView2<f32>, mut a: ArrayViewMut2<f32>, threads: usize) -> usize {
    if threads > 1 && z.nrows() >= 2 {
        let half = z.nrows() / 2;
        let (z0, z1) = z.split_at(Axis(0), half);
        let (a0, a1) = a.view_mut().split_at(Axis(0), half);
        let (on0, on1) = rayon::join(|| relu_rows(z0, a0, 1), || relu_rows(z1, a1, 1));
        return on0 + on1;
    }
    match (z.as_slice(), a.as_slice_mut()) {
        (Some(z), Some(a)) if z.len() == a.len() => count_on(z, a),
        _ => {
            let mut on = 0;
            ndarray::Zip::from(&mut a).and(&z).for_each(|a, &z| {
                on += usize::from(z > 0.0);
                *a = relu(z);
            });
            on
        }
    }
}

/// `f` of the rows of `z` (`[rows, width]`), on two threads when `threads` > 1, summed.
fn on_rows(z: ArrayView2<f32>, threads: usize, f: impl Fn(&[f32]) -> usize + Sync) -> usize {
    let of_part = |z: ArrayView2<f32>| match z.as_slice() {
        Some(z) => f(z),
        None => z.rows().into_iter().map(|r| f(&r.to_vec())).sum(),
    };
    if threads > 1 && z.nrows() >= 2 {
        let (z0, z1) = z.split_at(Axis(0), z.nrows() / 2);
        let (on0, on1) = rayon::join(|| of_part(z0), || of_part(z1));
        return on0 + on1;
    }
    of_part(z)
}

/// Blocks of a count kept in u32 lanes (so that it vectorises) and then added up.
const COUNT_BLOCK: usize = 1 << 16;

/// ReLU: `z` where it is above 0, else +0 (also for -0 and NaN, where `f32::max` may return
/// either zero).
#[inline(always)]
fn relu(z: f32) -> f32 {
    if z > 0.0 { z } else { 0.0 }
}

/// The count of `z > 0`, while setting `a` (as long as `z`) to `relu(z)`: one pass.
fn count_on(z: &[f32], a: &mut [f32]) -> usize {
    let mut on = 0;
    for (z, a) in z.chunks(COUNT_BLOCK).zip(a.chunks_mut(COUNT_BLOCK)) {
        let mut n = 0u32;
        for (a, &z) in a.iter_mut().zip(z) {
            n += u32::from(z > 0.0);
            *a = relu(z);
        }
        on += n as usize;
    }
    on
}

/// The count of the entries of `x` for which `keep` holds.
#[inline(always)]
fn count(x: &[f32], keep: impl Fn(f32) -> bool) -> usize {
    x.chunks(COUNT_BLOCK)
        .map(|x| x.iter().map(|&v| u32::from(keep(v))).sum::<u32>() as usize)
        .sum()
}

/// Whether this CPU runs the sparse kernels at full speed (AVX2 and FMA); callers use the
/// dense products otherwise. The kernels exist only on x86_64 ([`super::sparse_avx2`]): on
/// other architectures this is false at compile time and the dense products are the path.
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

/// The rows of a minibatch held in a [`SparseRows`]: batch row `i` is `x`'s row
/// `picked[first + i]` (a shuffled minibatch of images) or `first + i` (a minibatch's own
/// activations, or a contiguous chunk of images).
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    x: &'a SparseRows,
    // Read only by the x86_64 kernels.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    picked: Option<&'a [u32]>,
    first: usize,
    len: usize,
}

impl<'a> Batch<'a> {
    /// Rows `rows[0]`, `rows[1]`, ... of `x` (indices past `x`'s end read as empty rows).
    pub fn picked(x: &'a SparseRows, rows: &'a [u32]) -> Self {
        Self {
            x,
            picked: Some(rows),
            first: 0,
            len: rows.len(),
        }
    }

    /// Rows `rows` of `x`, in order (past `x`'s end they read as empty rows).
    pub fn range(x: &'a SparseRows, rows: std::ops::Range<usize>) -> Self {
        Self {
            x,
            picked: None,
            first: rows.start,
            len: rows.len(),
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the batch has no rows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Columns of the dense matrix (a layer's inputs).
    pub fn inputs(&self) -> usize {
        self.x.inputs()
    }

    /// Batch row `i`'s (column, value) pairs, columns increasing (empty past the end).
    #[inline]
    pub fn row(&self, i: usize) -> &'a [(u32, f32)] {
        if i >= self.len {
            return &[];
        }
        match self.picked {
            Some(p) => p
                .get(self.first + i)
                .map_or(&[], |&r| self.x.row(r as usize)),
            None => self.x.row(self.first + i),
        }
    }

    /// Rows `rows` of this batch (clamped to it).
    fn part(&self, rows: std::ops::Range<usize>) -> Self {
        let end = rows.end.min(self.len);
        let start = rows.start.min(end);
        Self {
            first: self.first + start,
            len: end - start,
            ..*self
        }
    }
}

/// `z[i, :] += x[i, :] · w` for every batch row `i`, or `z[i, :] = bias + x[i, :] · w` when
/// `bias` (`[n]`) is given: `w` is `[inputs, n]`, `z` `[x.len(), n]`. Returns false (leaving
/// `z` unchanged) when the shapes disagree, `w` is not contiguous or the CPU lacks AVX2/FMA.
pub fn rows_times(
    x: Batch,
    w: ArrayView2<f32>,
    bias: Option<&[f32]>,
    z: &mut ArrayViewMut2<f32>,
) -> bool {
    let n = w.ncols();
    let Some(w) = w.as_slice() else {
        return false;
    };
    if x.len() != z.nrows()
        || z.ncols() != n
        || w.len() != x.inputs() * n
        || bias.is_some_and(|b| b.len() != n)
        || !available()
    {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: `available()` just confirmed that this CPU has AVX2 and FMA, the features
        // `rows_times_fma` is compiled for; that is the only requirement of calling it.
        unsafe { super::sparse_avx2::rows_times_fma(x, w, bias, z, n) };
        true
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (w, n);
        false
    }
}

/// `gw = x[:, inputs]ᵀ · dz` for a range `inputs` of `x`'s columns (for splitting among
/// threads): `dz` is `[x.len(), n]`, `gw` `[inputs.len(), n]` and is overwritten. Returns false
/// (leaving `gw` unchanged) when the shapes disagree, `dz` is not contiguous or the CPU lacks
/// AVX2/FMA.
pub fn rows_t_times(
    x: Batch,
    inputs: std::ops::Range<usize>,
    dz: ArrayView2<f32>,
    gw: &mut ArrayViewMut2<f32>,
) -> bool {
    let n = dz.ncols();
    let Some(dz) = dz.as_slice() else {
        return false;
    };
    if dz.len() != x.len() * n
        || gw.dim() != (inputs.len(), n)
        || inputs.end > x.inputs()
        || !available()
    {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: as in `rows_times`: AVX2 and FMA were confirmed by `available()`.
        if unsafe { super::sparse_avx2::rows_t_times_narrow_fma(x, inputs.clone(), dz, gw, n) } {
            return true;
        }
        let (entries, count) = transpose(x, inputs);
        // SAFETY: as in `rows_times`: AVX2 and FMA were confirmed by `available()`.
        unsafe { super::sparse_avx2::rows_t_times_fma(&entries, &count, dz, gw, n) };
        true
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (dz, n);
        false
    }
}

/// The batch's entries in `inputs`, by input: `entries[count[k]..count[k + 1]]` are input
/// `inputs.start + k`'s (sample, value) pairs, in sample order.
#[cfg(target_arch = "x86_64")]
fn transpose(x: Batch, inputs: std::ops::Range<usize>) -> (Vec<(u32, f32)>, Vec<usize>) {
    let mut count = vec![0usize; inputs.len() + 1];
    for i in 0..x.len() {
        for &(p, _) in x.row(i) {
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
    for i in 0..x.len() {
        for &(p, v) in x.row(i) {
            if inputs.contains(&(p as usize)) {
                let slot = &mut fill[p as usize - inputs.start];
                entries[*slot] = (i as u32, v);
                *slot += 1;
            }
        }
    }
    (entries, count)
}

/// The gradient into a ReLU layer's output, `out = (dz · wᵀ) ⊙ [x > 0]`, computed only where
/// `x` (that layer's output, the next layer's input, `[batch, inputs]`) is nonzero: ReLU
/// zeroes the gradient elsewhere. `dz` is `[x.len(), n]`, `w` `[inputs, n]` (the next layer's
/// weights), `out` `[x.len(), inputs]` and is overwritten. Returns false (leaving `out`
/// unchanged) when the shapes disagree, `dz` or `w` is not contiguous or the CPU lacks
/// AVX2/FMA.
pub fn masked_dots(
    x: Batch,
    dz: ArrayView2<f32>,
    w: ArrayView2<f32>,
    out: &mut ArrayViewMut2<f32>,
) -> bool {
    let n = dz.ncols();
    let (Some(dz), Some(w_flat)) = (dz.as_slice(), w.as_slice()) else {
        return false;
    };
    if dz.len() != x.len() * n
        || w.dim() != (x.inputs(), n)
        || out.dim() != (x.len(), x.inputs())
        || !available()
    {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: as in `rows_times`: AVX2 and FMA were confirmed by `available()`.
        unsafe { super::sparse_avx2::masked_dots_fma(x, dz, w_flat, out, n) };
        true
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (dz, w_flat, out, n);
        false
    }
}

/// [`rows_times`] with the batch rows and `z` split into blocks, one per thread of the
/// current rayon pool when `threads` > 1 (each element is summed the same way whatever the
/// split).
pub fn par_rows_times(
    x: Batch,
    w: ArrayView2<f32>,
    bias: Option<&[f32]>,
    z: &mut ArrayViewMut2<f32>,
    threads: usize,
) -> bool {
    if threads <= 1 || x.len() < 2 || x.len() != z.nrows() {
        return rows_times(x, w, bias, z);
    }
    let per = x.len().div_ceil(threads);
    let parts = z
        .axis_chunks_iter_mut(Axis(0), per)
        .enumerate()
        .map(|(k, z)| (x.part(k * per..(k + 1) * per), z))
        .collect();
    in_parallel(parts, |(x, mut z)| rows_times(x, w, bias, &mut z))
}

/// [`rows_t_times`] over all of `x`'s inputs, `gw` (`[inputs, n]`) split by input blocks, one
/// per thread of the current rayon pool when `threads` > 1.
pub fn par_rows_t_times(
    x: Batch,
    dz: ArrayView2<f32>,
    gw: &mut ArrayViewMut2<f32>,
    threads: usize,
) -> bool {
    let inputs = x.inputs();
    if threads <= 1 || inputs < 2 || gw.nrows() != inputs {
        return rows_t_times(x, 0..inputs, dz, gw);
    }
    let per = inputs.div_ceil(threads);
    let parts = gw
        .axis_chunks_iter_mut(Axis(0), per)
        .enumerate()
        .map(|(k, gw)| (k * per..k * per + gw.nrows(), gw))
        .collect();
    in_parallel(parts, |(range, mut gw)| rows_t_times(x, range, dz, &mut gw))
}

/// Runs `work` on every part, each on its own thread of the current rayon pool; true when
/// every call returned true.
fn in_parallel<T: Send>(parts: Vec<T>, work: impl Fn(T) -> bool + Sync) -> bool {
    let ok = std::sync::atomic::AtomicBool::new(true);
    rayon::scope(|scope| {
        for part in parts {
            let (ok, work) = (&ok, &work);
            scope.spawn(move |_| {
                if !work(part) {
                    ok.store(false, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
    });
    ok.into_inner()
}

#[cfg(test)]
#[cfg(target_arch = "x86_64")]
mod tests {
    use super::*;
    use ndarray::{Array2, array};

    #[test]
    fn sparse_products_match_the_dense_ones() {
        // The kernels refuse (and callers use gemm) without AVX2 and FMA.
        assert!(available(), "the sparse kernels need AVX2 and FMA");
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
        assert!(rows_times(
            Batch::picked(&sx, &[2, 0]),
            w.view(),
            None,
            &mut z.view_mut()
        ));
        let picked = ndarray::stack![Axis(0), x.row(2), x.row(0)];
        let dense = picked.dot(&w) + 1.0;
        for (a, b) in z.iter().zip(dense.iter()) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
        // Weight gradient for inputs 1..4 over rows 0, 1, 2.
        let dz = Array2::from_shape_fn((3, 70), |(i, j)| (i as f32 - 1.0) * (j as f32 + 1.0));
        let mut gw = Array2::from_elem((3, 70), f32::NAN);
        let all = Batch::range(&sx, 0..3);
        assert!(rows_t_times(all, 1..4, dz.view(), &mut gw.view_mut()));
        let dense = x.t().dot(&dz);
        for (a, b) in gw.iter().zip(dense.slice(ndarray::s![1..4, ..]).iter()) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
        // Gradient into x, (dz · wᵀ) where x is nonzero and 0 elsewhere.
        let mut dx = Array2::from_elem((3, 4), f32::NAN);
        assert!(masked_dots(all, dz.view(), w.view(), &mut dx.view_mut()));
        let dense = dz.dot(&w.t());
        for ((a, b), xv) in dx.iter().zip(dense.iter()).zip(x.iter()) {
            let want = if *xv != 0.0 { *b } else { 0.0 };
            assert!(
                (a - want).abs() < 1e-2 * want.abs().max(1.0),
                "{a} vs {want}"
            );
        }
        // Shapes that disagree are refused, not read out of bounds.
        assert!(!rows_times(
            Batch::picked(&sx, &[0]),
            w.view(),
            None,
            &mut z.view_mut()
        ));
    }

    /// The first `rows` images of MNIST's real test set, `[rows, 784]`, pixels in 0..=1.
    fn mnist_rows(rows: usize) -> Array2<f32> {
        let dir = std::env::var_os("SAMPLE_SETS_DATA")
            .filter(|v| !v.is_empty())
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets/mnist")
            });
        let images = crate::data::idx::read_idx(&dir.join("t10k-images-idx3-ubyte.gz"), 3).unwrap();
        let pixels = images.data[..rows * 784]
            .iter()
            .map(|&p| f32::from(p) / 255.0);
        Array2::from_shape_vec((rows, 784), pixels.collect()).unwrap()
    }

    #[test]
    fn relu_for_the_next_layer_picks_the_path_by_the_count_and_writes_what_it_reads() {
        // Pre-activations from 127 real images: pixel - 0.5 switches on about a tenth (the
        // sparse path), 0.5 - pixel nine tenths (the dense path); a NaN and a -0 as well.
        // 127 rows: the two threads take 63 and 64.
        let x = mnist_rows(127);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        for (sign, want_sparse) in [(1.0f32, true), (-1.0, false)] {
            let mut z = x.mapv(|p| sign * (p - 0.5));
            z[[3, 5]] = f32::NAN;
            z[[4, 6]] = -0.0;
            let on = z.iter().filter(|&&v| v > 0.0).count();
            assert_eq!(
                sparse_enough(on, z.len()),
                want_sparse,
                "{on} of {}",
                z.len()
            );
            let dense = z.mapv(|v| if v > 0.0 { v } else { 0.0 });
            let mut expected_acts = SparseRows::default();
            expected_acts.refill_relu(z.view());
            for threads in [1, 2] {
                for was_sparse in [false, true] {
                    let mut acts = SparseRows::default();
                    let mut a = Array2::from_elem(z.dim(), f32::NAN);
                    let sparse = pool.install(|| {
                        relu_for_next(
                            (&mut acts, a.view_mut()),
                            z.view(),
                            MIN_WIDTH,
                            (true, was_sparse),
                            threads,
                        )
                    });
                    let case = format!("sign {sign}, {threads} threads, was sparse {was_sparse}");
                    // Without AVX2 and FMA the sparse kernels are never used.
                    assert_eq!(sparse, want_sparse && available(), "{case}");
                    if sparse {
                        assert_eq!(acts, expected_acts, "{case}");
                    } else {
                        assert!(same_bits(&a, &dense), "{case}");
                    }
                    // A layer too narrow for the sparse kernels, or with them off, is dense.
                    for (width, allowed) in [(10, true), (320, false)] {
                        let mut a = Array2::from_elem(z.dim(), f32::NAN);
                        let out = (&mut acts, a.view_mut());
                        let how = (allowed, was_sparse);
                        assert!(!relu_for_next(out, z.view(), width, how, threads), "{case}");
                        assert!(same_bits(&a, &dense), "{case}, width {width}");
                    }
                }
            }
        }
    }

    fn same_bits(a: &Array2<f32>, b: &Array2<f32>) -> bool {
        a.dim() == b.dim() && a.iter().zip(b).all(|(p, q)| p.to_bits() == q.to_bits())
    }

    #[test]
    fn the_narrow_kernels_sum_real_images_in_input_and_sample_order() {
        assert!(available(), "the sparse kernels need AVX2 and FMA");
        // Real MNIST rows, picked out of order (as a shuffled minibatch), through first layers
        // narrower than 64 outputs: every vector count 1..=8, full and partial last vectors,
        // and the presets' 20 and the output layer's 10.
        let x = mnist_rows(300);
        let sx = SparseRows::from_dense(x.view());
        let picked: Vec<u32> = (0..128u32).map(|i| (i * 37 + 11) % 300).collect();
        let batch = Batch::picked(&sx, &picked);
        for n in [1, 7, 8, 10, 20, 33, 47, 63] {
            let w = Array2::from_shape_fn((784, n), |(k, j)| {
                ((k * 31 + j * 17) % 101) as f32 * 0.003 - 0.15
            });
            let bias: Vec<f32> = (0..n).map(|j| j as f32 * 0.01 - 0.05).collect();
            // Forward from the bias: each element summed over the row's nonzero pixels in
            // increasing order, one fused multiply-add each (what the dense kernels do too).
            let want = Array2::from_shape_fn((128, n), |(i, j)| {
                let row = x.row(picked[i] as usize);
                (0..784)
                    .filter(|&k| row[k] != 0.0)
                    .fold(bias[j], |s, k| row[k].mul_add(w[[k, j]], s))
            });
            for threads in [1, 2] {
                let mut z = Array2::from_elem((128, n), f32::NAN);
                let ok = par_rows_times(batch, w.view(), Some(&bias), &mut z.view_mut(), threads);
                assert!(ok, "width {n}: forward refused");
                assert!(
                    same_bits(&z, &want),
                    "width {n}, {threads} threads: forward"
                );
            }
            // Weight gradient: each element summed over the samples in minibatch order.
            let dz = Array2::from_shape_fn((128, n), |(i, j)| {
                ((i * 13 + j * 7) % 29) as f32 * 0.01 - 0.14
            });
            let want = Array2::from_shape_fn((784, n), |(k, j)| {
                (0..128)
                    .map(|i| (i, x[[picked[i] as usize, k]]))
                    .filter(|&(_, v)| v != 0.0)
                    .fold(0.0f32, |s, (i, v)| v.mul_add(dz[[i, j]], s))
            });
            for threads in [1, 2] {
                let mut gw = Array2::from_elem((784, n), f32::NAN);
                let ok = par_rows_t_times(batch, dz.view(), &mut gw.view_mut(), threads);
                assert!(ok, "width {n}: weight gradient refused");
                assert!(
                    same_bits(&gw, &want),
                    "width {n}, {threads} threads: gradient"
                );
            }
            // A range of inputs alone.
            let mut part = Array2::from_elem((300, n), f32::NAN);
            assert!(rows_t_times(
                batch,
                300..600,
                dz.view(),
                &mut part.view_mut()
            ));
            let want_part = want.slice(ndarray::s![300..600, ..]).to_owned();
            assert!(same_bits(&part, &want_part), "width {n}: inputs 300..600");
        }
    }

    #[test]
    fn the_tiled_forward_over_many_inputs_matches_the_dense_one_and_sets_the_bias() {
        assert!(available(), "the sparse kernels need AVX2 and FMA");
        // 700 inputs (several tiles), 13 % of entries nonzero, 90 outputs (an 80-wide block
        // and a tail), rows of very different fill, one empty.
        let x = Array2::from_shape_fn((5, 700), |(i, k)| {
            let on = (k * 7 + i * 13) % 31 < 4 + i || (i == 4 && k == 699);
            if i == 3 || !on {
                0.0
            } else {
                ((k % 5) as f32 + 1.0) * 0.1
            }
        });
        let w = Array2::from_shape_fn((700, 90), |(k, j)| ((k * 90 + j) % 17) as f32 * 0.01 - 0.08);
        let bias: Vec<f32> = (0..90).map(|j| j as f32 * 0.5).collect();
        let sx = SparseRows::from_dense(x.view());
        let mut z = Array2::from_elem((5, 90), f32::NAN);
        assert!(rows_times(
            Batch::range(&sx, 0..5),
            w.view(),
            Some(&bias),
            &mut z.view_mut()
        ));
        let dense = x.dot(&w) + &ndarray::Array1::from(bias.clone());
        for (a, b) in z.iter().zip(dense.iter()) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
        // The empty row is exactly the bias.
        assert_eq!(z.row(3).to_vec(), bias);
        // A bias of the wrong length is refused.
        assert!(!rows_times(
            Batch::range(&sx, 0..5),
            w.view(),
            Some(&bias[..89]),
            &mut z.view_mut()
        ));
    }
}
