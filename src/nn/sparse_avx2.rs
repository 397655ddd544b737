//! The sparse kernels of [`super::sparse`], compiled for AVX2 and FMA: x86_64 only. Other
//! architectures never build this file; there [`super::sparse::available`] is false and the
//! dense products run instead.

use ndarray::{ArrayViewMut2, Axis};

use super::sparse::Batch;

/// Runs `$kernel::<V>($args)` for the `V` (1..=8 vectors) that `n` columns need.
macro_rules! by_vectors {
    ($n:expr, $kernel:ident, $fallback:expr, ($($arg:expr),*)) => {
        match $n.div_ceil(8) {
            1 => $kernel::<1>($($arg),*),
            2 => $kernel::<2>($($arg),*),
            3 => $kernel::<3>($($arg),*),
            4 => $kernel::<4>($($arg),*),
            5 => $kernel::<5>($($arg),*),
            6 => $kernel::<6>($($arg),*),
            7 => $kernel::<7>($($arg),*),
            8 => $kernel::<8>($($arg),*),
            _ => $fallback,
        }
    };
}

/// Column blocks (first column, width) covering `0..n`: as many 80-wide blocks as fit (ten
/// 8-lane sums in registers; a 320-wide layer is four), then 64, 32, 16 and 8, then the last
/// few columns. Wider blocks read each nonzero entry fewer times; 32-wide ones were slower.
fn blocks(n: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut c0 = 0;
    for width in [80, 64, 32, 16, 8] {
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

/// Asks the CPU to bring `entries` (a batch row) into cache before it is read. A minibatch's
/// images are rows picked at random from the whole training set's sparse rows (about 70 MB
/// for MNIST, more than the last-level cache), so each row's first reads wait for memory:
/// in the narrow forward kernel, the loads of the entries took a third of its time (perf
/// annotate, 2x20 network). Fetching the next rows while the current ones are summed hides
/// that wait. A hint only: no result depends on it.
#[inline(always)]
fn prefetch(entries: &[(u32, f32)]) {
    use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
    let start = entries.as_ptr().cast::<i8>();
    for offset in (0..std::mem::size_of_val(entries)).step_by(64) {
        // SAFETY: a prefetch reads nothing into the program and never faults, whatever the
        // address; the address is inside `entries` anyway (`offset` < its size in bytes).
        unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(offset)) };
    }
}

/// The body of [`super::sparse::rows_times`], compiled for AVX2 and FMA. Column blocks outermost, then
/// tiles of inputs: one tile of `w` (128 rows of an 80-wide block, 40 KB) stays in or near L1
/// while every row adds its entries in that tile to its running sums in `z`. Each element is
/// still summed over the inputs in increasing order.
#[target_feature(enable = "avx2,fma")]
pub(super) fn rows_times_fma(
    x: Batch,
    w: &[f32],
    bias: Option<&[f32]>,
    z: &mut ArrayViewMut2<f32>,
    n: usize,
) {
    if narrow(n) {
        by_vectors!(n, rows_times_narrow, (), (x, w, bias, z, n));
        return;
    }
    let tile = input_tile(x);
    let tiles = x.inputs().max(1).div_ceil(tile);
    // Where each row's entries cross into the next tile, found once for all column blocks:
    // counting them again per block, entry by entry, took a tenth of this kernel's time.
    let mut cuts = Vec::with_capacity(x.len() * (tiles + 1));
    for i in 0..x.len() {
        // The block passes below then read the rows from cache.
        prefetch(x.row(i + 2));
        let row = x.row(i);
        cuts.push(0);
        for t in 1..=tiles {
            let k1 = (t * tile).min(u32::MAX as usize) as u32;
            cuts.push(row.partition_point(|&(k, _)| k < k1));
        }
    }
    for (c0, width) in blocks(n) {
        for t in 0..tiles {
            for (i, mut zrow) in z.axis_iter_mut(Axis(0)).enumerate() {
                let Some(zrow) = zrow.as_slice_mut() else {
                    continue;
                };
                if t == 0
                    && let Some(b) = bias
                {
                    // The bias enters each segment just before its sums, while it is in cache.
                    zrow[c0..c0 + width].copy_from_slice(&b[c0..c0 + width]);
                }
                let at = i * (tiles + 1) + t;
                let entries = x.row(i).get(cuts[at]..cuts[at + 1]).unwrap_or(&[]);
                if !entries.is_empty() {
                    add_entries(&mut zrow[c0..c0 + width], entries, (w, n), c0);
                }
            }
        }
    }
}

/// Inputs per tile in [`rows_times_fma`]: 128, more when the rows are so sparse that a tile
/// would hold too few entries to pay for reloading the running sums. On a trained 9x320
/// network (`cargo bench --bench throughput -- --kernels SESSION`, fastest of 4 x 30, one
/// minibatch through all ten layers) the forward took 1205 µs untiled, 1103 with 32-row
/// tiles, 1090 with 64, 1026-1032 with 128, 1014 with 192 and 1073 with 256.
fn input_tile(x: Batch) -> usize {
    let entries: usize = (0..x.len()).map(|i| x.row(i).len()).sum();
    let per_row = entries as f64 / x.len().max(1) as f64;
    let inputs = x.inputs().max(1);
    // Aim for at least 8 entries per row and tile.
    let want = (8.0 * inputs as f64 / per_row.max(1e-9)).ceil() as usize;
    want.clamp(128, inputs.max(128)).next_multiple_of(64)
}

/// `dst[..] += Σ v · m[i, c0..c0 + dst.len()]` over `entries`, in entry order.
#[inline(always)]
fn add_entries(dst: &mut [f32], entries: &[(u32, f32)], m: (&[f32], usize), c0: usize) {
    match dst.len() {
        80 => add_block::<80>(dst, entries, m, c0),
        64 => add_block::<64>(dst, entries, m, c0),
        32 => add_block::<32>(dst, entries, m, c0),
        16 => add_block::<16>(dst, entries, m, c0),
        8 => add_block::<8>(dst, entries, m, c0),
        _ => sum_tail(dst, entries, m, c0),
    }
}

/// [`add_entries`] for a fixed width. A fixed width and plain slices (no iterator adaptors)
/// let the compiler keep the sums in vector registers.
#[inline(always)]
fn add_block<const B: usize>(
    dst: &mut [f32],
    entries: &[(u32, f32)],
    (m, n): (&[f32], usize),
    c0: usize,
) {
    let Ok(dst) = <&mut [f32; B]>::try_from(dst) else {
        return;
    };
    let mut local = *dst;
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
    *dst = local;
}

/// The body of [`super::sparse::rows_t_times`], compiled for AVX2 and FMA: `entries[count[k]..count[k+1]]`
/// are input `k`'s (sample, value) pairs.
#[target_feature(enable = "avx2,fma")]
pub(super) fn rows_t_times_fma(
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
            // Summed straight into `gw`: going through a block on the stack and copying it
            // over cost a store and a copy per segment.
            let seg = &mut grow[c0..c0 + width];
            seg.fill(0.0);
            add_entries(seg, samples, (dz, n), c0);
        }
    }
}

/// The body of [`super::sparse::masked_dots`], compiled for AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(super) fn masked_dots_fma(
    x: Batch,
    dz: &[f32],
    w: &[f32],
    out: &mut ArrayViewMut2<f32>,
    n: usize,
) {
    for (i, mut orow) in out.axis_iter_mut(Axis(0)).enumerate() {
        orow.fill(0.0);
        let Some(orow) = orow.as_slice_mut() else {
            continue;
        };
        let Some(d) = dz.get(i * n..(i + 1) * n) else {
            continue;
        };
        for &(k, _) in x.row(i) {
            let k = k as usize;
            if let (Some(o), Some(wk)) = (orow.get_mut(k), w.get(k * n..(k + 1) * n)) {
                *o = dot(wk, d);
            }
        }
    }
}

/// `Σ a[k] · b[k]` over the shorter length, in a fixed order: four 8-lane running sums over
/// blocks of 32, then one over blocks of 8, then the lanes and the rest added in order.
/// Intrinsics, because the compiler vectorised the plain loop only two lanes wide.
#[target_feature(enable = "avx2,fma")]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    use std::arch::x86_64::{
        __m256, _mm256_add_ps, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_setzero_ps,
        _mm256_storeu_ps,
    };
    let n = a.len().min(b.len());
    // SAFETY: every load reads 8 floats starting at `p + i` with `i + 8 <= n`, and both `a`
    // and `b` hold at least `n` floats; unaligned loads have no alignment requirement.
    let load = |p: *const f32, i: usize| -> __m256 { unsafe { _mm256_loadu_ps(p.add(i)) } };
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut s = [_mm256_setzero_ps(); 4];
    let mut i = 0;
    while i + 32 <= n {
        for (u, acc) in s.iter_mut().enumerate() {
            *acc = _mm256_fmadd_ps(load(pa, i + 8 * u), load(pb, i + 8 * u), *acc);
        }
        i += 32;
    }
    while i + 8 <= n {
        s[0] = _mm256_fmadd_ps(load(pa, i), load(pb, i), s[0]);
        i += 8;
    }
    let sum = _mm256_add_ps(_mm256_add_ps(s[0], s[1]), _mm256_add_ps(s[2], s[3]));
    let mut lanes = [0f32; 8];
    // SAFETY: `lanes` holds exactly the 8 floats stored.
    unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), sum) };
    let mut total = lanes.iter().sum::<f32>();
    for (x, y) in a[i..n].iter().zip(&b[i..n]) {
        total = x.mul_add(*y, total);
    }
    total
}

/// [`add_entries`] for a width without a fixed-width body.
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

/// Narrowest output (columns) that [`rows_times_fma`] and [`rows_t_times_fma`] sum in column
/// blocks; narrower outputs go to the narrow kernels ([`rows_times_narrow`],
/// [`rows_t_times_narrow`]), which hold a whole output row in at most 8 vector registers. The
/// block path summed a 20-wide row as 16 lanes plus 4 scalar ones and re-read it per tile of
/// inputs.
const NARROW_BELOW: usize = 64;

/// Whether `n` columns go to the narrow kernels.
pub(super) fn narrow(n: usize) -> bool {
    (1..NARROW_BELOW).contains(&n)
}

/// A row of `n` floats (`8 * (V - 1) < n <= 8 * V`) in `V` vector registers, the lanes past
/// `n` of the last one don't-care. Masked loads and stores (`vmaskmovps`) are slow on AMD's
/// cores, so partial vectors go through a padded copy on the stack, and rows of a matrix are
/// read with full loads that run into the next row wherever that stays inside the matrix.
#[derive(Clone, Copy)]
struct NarrowRow<const V: usize> {
    n: usize,
}

/// A row of up to 8 vectors, `Vec` of them in registers.
type Vectors<const V: usize> = [std::arch::x86_64::__m256; V];

impl<const V: usize> NarrowRow<V> {
    /// The layout of rows of `n` floats; `None` unless `8 * (V - 1) < n <= 8 * V <= 64`.
    fn new(n: usize) -> Option<Self> {
        (V >= 1 && V <= 8 && n > 8 * (V - 1) && n <= 8 * V).then_some(Self { n })
    }

    /// The 8V floats from `p`.
    ///
    /// # Safety
    /// `p..p + 8V` must be readable floats (and the CPU have AVX2).
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn load_full(p: *const f32) -> Vectors<V> {
        use std::arch::x86_64::{_mm256_loadu_ps, _mm256_setzero_ps};
        let mut out = [_mm256_setzero_ps(); V];
        for (u, o) in out.iter_mut().enumerate() {
            // SAFETY: 8u + 8 <= 8V floats from `p`, readable by the caller's promise.
            *o = unsafe { _mm256_loadu_ps(p.add(8 * u)) };
        }
        out
    }

    /// The `n` floats of `src` (`src.len() == n`, else `None`), the lanes past `n` zero.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn load(self, src: &[f32]) -> Option<Vectors<V>> {
        if src.len() != self.n {
            return None;
        }
        let mut pad = [0f32; 64];
        pad.get_mut(..self.n)?.copy_from_slice(src);
        // SAFETY: `pad` holds 64 >= 8V floats.
        Some(unsafe { Self::load_full(pad.as_ptr()) })
    }

    /// The `n` floats of `m` from `start` (`None` past `m`'s end): full loads when the 8V
    /// floats from `start` lie inside `m` (the lanes past `n` then hold the next row's).
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn load_in(self, m: &[f32], start: usize) -> Option<Vectors<V>> {
        if start + 8 * V <= m.len() {
            // SAFETY: `start + 8V <= m.len()` floats of `m` are readable.
            Some(unsafe { Self::load_full(m.as_ptr().add(start)) })
        } else {
            self.load(m.get(start..start + self.n)?)
        }
    }

    /// Writes the first `n` lanes of `v` to `dst` (`dst.len() == n`, else nothing).
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn store(self, v: &Vectors<V>, dst: &mut [f32]) {
        use std::arch::x86_64::_mm256_storeu_ps;
        let mut pad = [0f32; 64];
        for (u, x) in v.iter().enumerate() {
            // SAFETY: floats 8u..8u + 8 <= 8V <= 64 of `pad`, exclusively borrowed.
            unsafe { _mm256_storeu_ps(pad.as_mut_ptr().add(8 * u), *x) };
        }
        if dst.len() == self.n
            && let Some(p) = pad.get(..self.n)
        {
            dst.copy_from_slice(p);
        }
    }

    /// [`NarrowRow::add_rows`] for two rows at once: `acc0` over `entries0`, `acc1` over
    /// `entries1`, each in its own order, so each sum is exactly the one `add_rows` gives.
    /// A row's sum is a chain of dependent multiply-adds (4 cycles each); the two chains
    /// interleaved keep the FMA units busy while each waits for its previous step. The
    /// longer row's remaining entries go through `add_rows`.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn add_rows_pair(
        self,
        (acc0, entries0): (&mut Vectors<V>, &[(u32, f32)]),
        (acc1, entries1): (&mut Vectors<V>, &[(u32, f32)]),
        m: &[f32],
    ) {
        use std::arch::x86_64::{_mm256_fmadd_ps, _mm256_set1_ps};
        let common = entries0.len().min(entries1.len());
        for (&(k0, v0), &(k1, v1)) in entries0.iter().zip(entries1) {
            if let Some(row) = self.load_in(m, k0 as usize * self.n) {
                let v = _mm256_set1_ps(v0);
                for (a, r) in acc0.iter_mut().zip(row) {
                    *a = _mm256_fmadd_ps(v, r, *a);
                }
            }
            if let Some(row) = self.load_in(m, k1 as usize * self.n) {
                let v = _mm256_set1_ps(v1);
                for (a, r) in acc1.iter_mut().zip(row) {
                    *a = _mm256_fmadd_ps(v, r, *a);
                }
            }
        }
        self.add_rows(acc0, entries0.get(common..).unwrap_or(&[]), m);
        self.add_rows(acc1, entries1.get(common..).unwrap_or(&[]), m);
    }

    /// `acc += v · m[k * n..(k + 1) * n]` for each `(k, v)` of `entries`, in order (entries
    /// whose row lies past `m`'s end are skipped).
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn add_rows(self, acc: &mut Vectors<V>, entries: &[(u32, f32)], m: &[f32]) {
        use std::arch::x86_64::{_mm256_fmadd_ps, _mm256_set1_ps};
        for &(k, v) in entries {
            let Some(row) = self.load_in(m, k as usize * self.n) else {
                continue;
            };
            let v = _mm256_set1_ps(v);
            for (a, r) in acc.iter_mut().zip(row) {
                *a = _mm256_fmadd_ps(v, r, *a);
            }
        }
    }
}

/// [`rows_times_fma`] for outputs narrower than [`NARROW_BELOW`], `8 * (V - 1) < n <= 8 * V`:
/// each row of `z` is summed in `V` registers from the bias (or what `z` holds) over the row's
/// entries in increasing input order, one fused multiply-add each: the same sums as the block
/// path and the dense kernels.
#[target_feature(enable = "avx2,fma")]
fn rows_times_narrow<const V: usize>(
    x: Batch,
    w: &[f32],
    bias: Option<&[f32]>,
    z: &mut ArrayViewMut2<f32>,
    n: usize,
) {
    let Some(layout) = NarrowRow::<V>::new(n) else {
        return;
    };
    // Rows in pairs, their sums interleaved ([`NarrowRow::add_rows_pair`]): one row's sum
    // alone waits on the multiply-add latency. On a 2x20 network's first layer this halved
    // the forward product. Up to 4 vectors a row: two rows then take at most 8 of the 16
    // vector registers for their sums.
    if V <= 4
        && z.nrows() == x.len()
        && let Some(all) = z.as_slice_mut()
    {
        let mut pairs = all.chunks_exact_mut(2 * n);
        for (p, pair) in (&mut pairs).enumerate() {
            prefetch(x.row(2 * p + 2));
            prefetch(x.row(2 * p + 3));
            let (z0, z1) = pair.split_at_mut(n);
            let (Some(mut acc0), Some(mut acc1)) = (
                layout.load(bias.unwrap_or(&*z0)),
                layout.load(bias.unwrap_or(&*z1)),
            ) else {
                continue;
            };
            layout.add_rows_pair((&mut acc0, x.row(2 * p)), (&mut acc1, x.row(2 * p + 1)), w);
            layout.store(&acc0, z0);
            layout.store(&acc1, z1);
        }
        let last = pairs.into_remainder();
        if !last.is_empty()
            && let Some(mut acc) = layout.load(bias.unwrap_or(&*last))
        {
            layout.add_rows(&mut acc, x.row(x.len() - 1), w);
            layout.store(&acc, last);
        }
        return;
    }
    for (i, mut zrow) in z.axis_iter_mut(Axis(0)).enumerate() {
        prefetch(x.row(i + 1));
        let Some(zrow) = zrow.as_slice_mut() else {
            continue;
        };
        let Some(mut acc) = layout.load(bias.unwrap_or(&*zrow)) else {
            continue;
        };
        layout.add_rows(&mut acc, x.row(i), w);
        layout.store(&acc, zrow);
    }
}

/// [`rows_t_times_fma`] for outputs narrower than [`NARROW_BELOW`], `8 * (V - 1) < n <= 8 * V`,
/// straight from the batch rows (no transposed copy): sums start at 0 in a scratch copy of
/// `gw` whose rows are padded to 8V floats (full-vector loads and stores), each sample in
/// order adds `v · dz[sample]` to the row of each of its entries in `inputs`, and the sums are
/// copied to `gw` (`[inputs.len(), n]`). Each element is so summed over the samples in
/// minibatch order, one fused multiply-add each, as in the block path. Returns false (leaving
/// `gw` unchanged) when `n` does not fit `V` or `gw` has the wrong shape.
#[target_feature(enable = "avx2,fma")]
fn rows_t_times_narrow<const V: usize>(
    x: Batch,
    inputs: std::ops::Range<usize>,
    dz: &[f32],
    gw: &mut ArrayViewMut2<f32>,
    n: usize,
) -> bool {
    use std::arch::x86_64::{_mm256_fmadd_ps, _mm256_set1_ps, _mm256_storeu_ps};
    let Some(layout) = NarrowRow::<V>::new(n) else {
        return false;
    };
    if gw.dim() != (inputs.len(), n) {
        return false;
    }
    let stride = 8 * V;
    let mut sums = vec![0f32; inputs.len() * stride];
    let (lo, hi) = (
        inputs.start.min(u32::MAX as usize) as u32,
        inputs.end.min(u32::MAX as usize) as u32,
    );
    for i in 0..x.len() {
        prefetch(x.row(i + 1));
        let row = x.row(i);
        let first = row.partition_point(|&(k, _)| k < lo);
        let last = row.partition_point(|&(k, _)| k < hi);
        let Some(d) = layout.load_in(dz, i * n) else {
            continue;
        };
        for &(k, v) in row.get(first..last).unwrap_or(&[]) {
            let start = (k - lo) as usize * stride;
            let Some(g) = sums.get_mut(start..start + stride) else {
                continue;
            };
            // SAFETY: `g` holds exactly 8V floats.
            let mut acc = unsafe { NarrowRow::<V>::load_full(g.as_ptr()) };
            let v = _mm256_set1_ps(v);
            for (u, (a, d)) in acc.iter_mut().zip(d).enumerate() {
                *a = _mm256_fmadd_ps(v, d, *a);
                // SAFETY: floats 8u..8u + 8 <= 8V of `g`, exclusively borrowed.
                unsafe { _mm256_storeu_ps(g.as_mut_ptr().add(8 * u), *a) };
            }
        }
    }
    match gw.as_slice_mut() {
        Some(gw) => {
            for (g, s) in gw.chunks_exact_mut(n).zip(sums.chunks_exact(stride)) {
                g.copy_from_slice(&s[..n]);
            }
        }
        None => {
            for (mut g, s) in gw.axis_iter_mut(Axis(0)).zip(sums.chunks_exact(stride)) {
                g.iter_mut().zip(s).for_each(|(g, &s)| *g = s);
            }
        }
    }
    true
}

/// The narrow weight gradient ([`rows_t_times_narrow`]) for `n` columns: false (leaving `gw`
/// unchanged) unless `n` is [`narrow`] and `gw` contiguous.
#[target_feature(enable = "avx2,fma")]
pub(super) fn rows_t_times_narrow_fma(
    x: Batch,
    inputs: std::ops::Range<usize>,
    dz: &[f32],
    gw: &mut ArrayViewMut2<f32>,
    n: usize,
) -> bool {
    narrow(n) && by_vectors!(n, rows_t_times_narrow, false, (x, inputs, dz, gw, n))
}
