//! Dense products for the shapes of training (minibatch 128, widths 10-784), compiled for
//! AVX2 and FMA: x86_64 only; [`super::matmul`] calls them when the CPU has both and uses
//! gemm otherwise.
//!
//! `c = c0 + a · b` with `a` `[m, k]` and `b` `[k, n]` in any strides and `c` in rows of unit
//! column stride. `b` is copied in panels of 16 columns (`[k, 16]`, contiguous, 20 KB for
//! k = 320, so it stays in L1), then tiles of up to 6 rows x 16 columns of `c` are summed in
//! 12 vector registers, broadcasting one element of `a` per row and step: 8 loads feed 12
//! multiply-adds, so the tile runs at the FMA units' rate without packing `a`.
//!
//! Every element of `c` is summed the same way whatever the tiling, the panels and the
//! thread that computes it: start from `c0` (0, or what `c` held), then one fused multiply-add
//! per step of `k`, in increasing order. So a product split among threads in any way gives
//! the same bits, and the forward pre-activations are the sums the sparse kernels
//! ([`super::sparse_avx2`]) compute from the same start in the same order.
//!
//! Measured (December 2026, AMD EPYC Zen 3 class, one core; a standalone copy of this file
//! timed on the 9x320 shapes, fastest of 40-80 interleaved batches): a register-only FMA loop
//! peaks at 100 GFLOP/s; these products reach 85-95 with their operands in cache and 63-78
//! with the weights and activations cycled through 9-12 layers' worth of matrices, as in
//! training. The tile loop is 88 % of a product's samples (perf, one 9x320 epoch). Tried
//! and not kept: packing `a` as well (slower: its transposing copy costs more than the
//! strided broadcasts), and prefetching the next panel's source during a panel's first
//! tile (bit-identical, but paired 9x320 epochs at two threads were no faster: 4.17-5.46 s
//! before, 4.74-6.08 s with it).

use std::arch::x86_64::{
    __m256, _CMP_NLE_UQ, _mm256_and_ps, _mm256_broadcast_ss, _mm256_cmp_ps, _mm256_fmadd_ps,
    _mm256_loadu_ps, _mm256_permute2f128_ps, _mm256_setzero_ps, _mm256_shuffle_ps,
    _mm256_storeu_ps, _mm256_unpackhi_ps, _mm256_unpacklo_ps,
};

/// A matrix operand: its first element and its row and column strides, in elements.
#[derive(Debug, Clone, Copy)]
pub(super) struct Operand {
    pub ptr: *const f32,
    pub rs: isize,
    pub cs: isize,
}

/// What each element of `c` is summed from.
#[derive(Debug, Clone, Copy)]
pub(super) enum Start {
    /// 0.
    Zero,
    /// What `c` holds.
    Output,
    /// Element `j` of a row of `n` floats for column `j` (a bias).
    Row(*const f32),
}

/// The output: its first element and its row stride in elements (its column stride is 1).
#[derive(Debug, Clone, Copy)]
pub(super) struct Output {
    pub ptr: *mut f32,
    pub rs: isize,
}

/// Columns of a full panel.
const PANEL: usize = 16;

/// Rows of `c` per pass over a panel: the rows of `a` it reads then stay in L2 (256 x 784
/// floats at most, 800 KB, for the widest input) while each panel is summed.
const ROWS_PER_PASS: usize = 256;

/// A tile kernel for [`drive`]: sums tiles of `c` of up to [`Self::MAX_ROWS`] rows and one
/// or two vectors of [`Self::LANES`] columns, each element in the order of this module's
/// contract (see the module's documentation).
pub(super) trait TileKernel {
    /// Floats per vector register.
    const LANES: usize;
    /// Rows of a full tile.
    const MAX_ROWS: usize;
    /// A last stretch of rows longer than a tile, up to this many, goes as two tiles of about
    /// half (keeping enough sums in flight for the FMA units) instead of a full one and a
    /// thin one.
    const SPLIT_UP_TO: usize;

    /// Sums `tile` over `rows` rows (1 to [`Self::MAX_ROWS`]) and `vectors` vectors (1 or 2).
    ///
    /// # Safety
    /// The CPU has the kernel's features; the tile's rows and `width` columns are inside its
    /// matrices, as [`drive`] requires of its caller, and its panel holds `k` rows of
    /// `LANES * vectors` floats.
    unsafe fn run(tile: &Tile, rows: usize, vectors: usize);
}

/// Runs `$tile.$run::<ROWS, VECTORS>()` for a tile of `$rows` rows (one of the listed `$r`, the
/// kernel's row counts from the largest down to 1) and `$vectors` vectors (2, else 1); any other
/// row count runs a 1-row tile. The tile bodies are const-generic so that each shape keeps its
/// sums in registers; this is the one table of them for every kernel.
macro_rules! by_tile_shape {
    ($tile:expr, $run:ident, $rows:expr, $vectors:expr, [$($r:literal),+]) => {
        match ($rows, $vectors) {
            $(($r, 2) => $tile.$run::<$r, 2>(),)+
            $(($r, _) => $tile.$run::<$r, 1>(),)+
            _ => $tile.$run::<1, 1>(),
        }
    };
}
pub(super) use by_tile_shape;

/// The AVX2 tiles: 6 rows x 16 columns in 12 registers.
struct Avx2;

impl TileKernel for Avx2 {
    const LANES: usize = 8;
    const MAX_ROWS: usize = 6;
    // The last 7 or 8 rows as two tiles of 3-4 (8 sums in flight keep the FMA units busy, 4
    // would not).
    const SPLIT_UP_TO: usize = 8;

    #[target_feature(enable = "avx2,fma")]
    unsafe fn run(tile: &Tile, rows: usize, vectors: usize) {
        // SAFETY: the caller's promise, passed on.
        unsafe { by_tile_shape!(tile, run, rows, vectors, [6, 5, 4, 3, 2, 1]) }
    }
}

/// `c = c0 + a · b` (`c0` as `start` says) for `a` `[m, k]`,
/// `b` `[k, n]`, `c` `[m, n]`; with `gate` (`[m, n]`, unit column stride), each element of
/// `c` becomes 0 where the gate's element is `<= 0` (the ReLU gate of a backward pass).
///
/// # Safety
/// The CPU must have AVX2 and FMA. For every `r < m`, `j < n`, `q < k`: `a.ptr` offset by
/// `r * a.rs + q * a.cs` and `b.ptr` offset by `q * b.rs + j * b.cs` must be readable `f32`s,
/// `c.ptr` offset by `r * c.rs + j` a writable one that no other live reference reads or
/// writes (and that is not among `a`'s, `b`'s or the gate's elements), and the gate's
/// `ptr + r * rs + j` a readable one, and so must be a [`Start::Row`]'s `ptr + j`. (An
/// ndarray view of those dimensions gives exactly that; an exclusive view for `c`.)
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn product(
    dims: (usize, usize, usize),
    a: Operand,
    b: Operand,
    c: Output,
    start: Start,
    gate: Option<Output>,
) {
    // SAFETY: the caller's promise, which is `drive`'s for the AVX2 kernel.
    unsafe { drive::<Avx2>(dims, a, b, c, start, gate) };
}

/// [`product`] with the tiles of kernel `K`: `b` copied in panels of `2 K::LANES` columns,
/// `c` summed tile by tile over each panel.
///
/// # Safety
/// As [`product`], with the features of `K` in place of AVX2 and FMA (AVX2 and FMA are
/// needed as well, for the panel copies).
pub(super) unsafe fn drive<K: TileKernel>(
    (m, n, k): (usize, usize, usize),
    a: Operand,
    b: Operand,
    c: Output,
    start: Start,
    gate: Option<Output>,
) {
    let lanes = K::LANES;
    let mut panel = vec![0f32; k * 2 * lanes];
    let mut r0 = 0;
    while r0 < m {
        let rows = (m - r0).min(ROWS_PER_PASS);
        let mut j0 = 0;
        while j0 < n {
            let rest = n - j0;
            let (vectors, width) = if rest > lanes {
                (2, rest.min(2 * lanes))
            } else {
                (1, rest)
            };
            // SAFETY: columns j0..j0 + width < n of b's rows 0..k: readable by the caller's
            // promise; `panel` holds k * 2 lanes >= k * lanes * vectors floats; AVX2 and FMA
            // are present (the caller's promise).
            unsafe { pack(b, j0, width, k, lanes * vectors, &mut panel) };
            let mut r = r0;
            while r < r0 + rows {
                let left = r0 + rows - r;
                let tile = if left <= K::MAX_ROWS {
                    left
                } else if left <= K::SPLIT_UP_TO {
                    left.div_ceil(2)
                } else {
                    K::MAX_ROWS
                };
                let at = |p: Output| Output {
                    // SAFETY (of the offsets): row r < m, column j0 < n of the caller's
                    // matrices, so the element is inside them.
                    ptr: unsafe { p.ptr.offset(r as isize * p.rs + j0 as isize) },
                    rs: p.rs,
                };
                let a_r = Operand {
                    // SAFETY: row r < m, column 0 of a (k >= 1: the caller returns earlier
                    // for k = 0), inside a.
                    ptr: unsafe { a.ptr.offset(r as isize * a.rs) },
                    ..a
                };
                let start = match start {
                    // SAFETY: column j0 < n of the start row.
                    Start::Row(p) => Start::Row(unsafe { p.add(j0) }),
                    other => other,
                };
                let job = Tile {
                    a: a_r,
                    panel: &panel,
                    k,
                    c: at(c),
                    width,
                    start,
                    gate: gate.map(at),
                };
                // SAFETY: tile rows r..r + tile <= m and columns j0..j0 + width <= n are
                // inside the caller's matrices; the kernel's features are present (the
                // caller's promise); the panel holds k rows of lanes * vectors floats.
                unsafe { K::run(&job, tile, vectors) };
                r += tile;
            }
            j0 += width;
        }
        r0 += rows;
    }
}

/// Copies columns `j0..j0 + width` of `b`'s rows `0..k` into `panel` as `k` rows of `stride`
/// floats, zero past `width` (those lanes are summed but never stored).
///
/// # Safety
/// `b`'s elements `(q, j0 + j)` for `q < k`, `j < width` must be readable; `width <= stride`
/// and `panel.len() >= k * stride`.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn pack(
    b: Operand,
    j0: usize,
    width: usize,
    k: usize,
    stride: usize,
    panel: &mut [f32],
) {
    let panel = &mut panel[..k * stride];
    if width < stride {
        panel.fill(0.0);
    }
    if b.cs == 1 && width == stride && stride.is_multiple_of(8) {
        // Whole panels (most of them) as vector moves, 8 floats each: a copy of 16 floats
        // through `copy_from_slice` became a call to memcpy per row, a fifth of the forward
        // product.
        for (q, row) in panel.chunks_exact_mut(stride).enumerate() {
            // SAFETY: elements (q, j0..j0 + stride) of b, readable by the caller's promise
            // (stride = width); `row` holds `stride` floats.
            unsafe {
                let src = b.ptr.offset(q as isize * b.rs + j0 as isize);
                for v in (0..stride).step_by(8) {
                    _mm256_storeu_ps(row.as_mut_ptr().add(v), _mm256_loadu_ps(src.add(v)));
                }
            }
        }
    } else if b.cs == 1 {
        for (q, row) in panel.chunks_exact_mut(stride).enumerate() {
            // SAFETY: elements (q, j0..j0 + width) of b, readable by the caller's promise.
            let src = unsafe {
                std::slice::from_raw_parts(b.ptr.offset(q as isize * b.rs + j0 as isize), width)
            };
            row[..width].copy_from_slice(src);
        }
    } else {
        // A transposed operand (a weight matrix read as Wᵀ): its columns are contiguous.
        // Blocks of 8 x 8 go through registers (8 loads, 24 shuffles, 8 stores); the scalar
        // walk below took a fifth of the input-gradient product.
        let mut done = 0;
        if b.rs == 1 {
            done = k - k % 8;
            for j in (0..width - width % 8).step_by(8) {
                for q in (0..done).step_by(8) {
                    // SAFETY: elements (q..q + 8, j0 + j..j0 + j + 8) of b, each column's 8
                    // contiguous (row stride 1); the panel rows q..q + 8 hold columns
                    // j..j + 8 <= width <= stride.
                    unsafe {
                        let col =
                            |c: usize| b.ptr.offset((j0 + j + c) as isize * b.cs + q as isize);
                        let rows = transpose8([
                            _mm256_loadu_ps(col(0)),
                            _mm256_loadu_ps(col(1)),
                            _mm256_loadu_ps(col(2)),
                            _mm256_loadu_ps(col(3)),
                            _mm256_loadu_ps(col(4)),
                            _mm256_loadu_ps(col(5)),
                            _mm256_loadu_ps(col(6)),
                            _mm256_loadu_ps(col(7)),
                        ]);
                        for (i, row) in rows.iter().enumerate() {
                            let at = panel.as_mut_ptr().add((q + i) * stride + j);
                            debug_assert!((q + i) * stride + j + 8 <= panel.len());
                            _mm256_storeu_ps(at, *row);
                        }
                    }
                }
            }
            // Columns past the last whole block of 8 go the scalar way below.
            for j in width - width % 8..width {
                // SAFETY: column j0 + j of b, inside it by the caller's promise.
                let col = unsafe { b.ptr.offset((j0 + j) as isize * b.cs) };
                for q in 0..done {
                    // SAFETY: element (q, j0 + j) of b.
                    panel[q * stride + j] = unsafe { *col.add(q) };
                }
            }
        }
        for j in 0..width {
            // SAFETY: column j0 + j of b, inside it by the caller's promise.
            let col = unsafe { b.ptr.offset((j0 + j) as isize * b.cs) };
            for q in done..k {
                // SAFETY: element (q, j0 + j) of b.
                panel[q * stride + j] = unsafe { *col.offset(q as isize * b.rs) };
            }
        }
    }
}

/// The transpose of 8 rows of 8 floats: row `i` of the result holds element `i` of each.
#[target_feature(enable = "avx2,fma")]
fn transpose8(r: [__m256; 8]) -> [__m256; 8] {
    let t0 = _mm256_unpacklo_ps(r[0], r[1]);
    let t1 = _mm256_unpackhi_ps(r[0], r[1]);
    let t2 = _mm256_unpacklo_ps(r[2], r[3]);
    let t3 = _mm256_unpackhi_ps(r[2], r[3]);
    let t4 = _mm256_unpacklo_ps(r[4], r[5]);
    let t5 = _mm256_unpackhi_ps(r[4], r[5]);
    let t6 = _mm256_unpacklo_ps(r[6], r[7]);
    let t7 = _mm256_unpackhi_ps(r[6], r[7]);
    let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
    let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
    let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
    let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
    let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
    let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
    let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
    let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
    [
        _mm256_permute2f128_ps::<0x20>(u0, u4),
        _mm256_permute2f128_ps::<0x20>(u1, u5),
        _mm256_permute2f128_ps::<0x20>(u2, u6),
        _mm256_permute2f128_ps::<0x20>(u3, u7),
        _mm256_permute2f128_ps::<0x31>(u0, u4),
        _mm256_permute2f128_ps::<0x31>(u1, u5),
        _mm256_permute2f128_ps::<0x31>(u2, u6),
        _mm256_permute2f128_ps::<0x31>(u3, u7),
    ]
}

/// One tile of `c`: rows from `a.ptr`'s row on, columns from `c.ptr`'s, over a packed panel
/// (`k` rows of one or two vectors of floats); `width` columns are stored.
pub(super) struct Tile<'a> {
    pub a: Operand,
    pub panel: &'a [f32],
    pub k: usize,
    pub c: Output,
    pub width: usize,
    pub start: Start,
    pub gate: Option<Output>,
}

impl Tile<'_> {
    /// Sums `R` rows x `8 V` columns (`width` of them stored) in `R * V` registers.
    ///
    /// # Safety
    /// AVX2 and FMA present; rows `0..R` of `a` (from `a.ptr`, `k` elements each), of `c`
    /// and of the gate (`width` elements each from their pointers) inside their matrices, as
    /// [`product`] requires; `panel` holds `k` rows of `8 V` floats.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn run<const R: usize, const V: usize>(&self) {
        let full = self.width == 8 * V;
        let mut acc = [[_mm256_setzero_ps(); V]; R];
        // Reads `width` floats from `src` as V vectors (through a zero-padded buffer when
        // narrower).
        let load = |src: *const f32| {
            let mut tmp = [0f32; PANEL];
            let src = if full {
                src
            } else {
                // SAFETY: `width` readable floats at `src` (the callers below) into the
                // 16-float buffer.
                unsafe { std::ptr::copy_nonoverlapping(src, tmp.as_mut_ptr(), self.width) };
                tmp.as_ptr()
            };
            let mut out = [_mm256_setzero_ps(); V];
            for (v, out) in out.iter_mut().enumerate() {
                // SAFETY: 8 floats at 8 v < 8 V of `width` = 8 V floats, or of the buffer.
                *out = unsafe { _mm256_loadu_ps(src.add(8 * v)) };
            }
            out
        };
        match self.start {
            Start::Zero => {}
            Start::Output => {
                for (r, acc) in acc.iter_mut().enumerate() {
                    // SAFETY: row r < R of the tile, `width` elements.
                    *acc = load(unsafe { self.c.ptr.offset(r as isize * self.c.rs) }.cast_const());
                }
            }
            Start::Row(p) => {
                let row = load(p);
                acc = [row; R];
            }
        }
        let stride = 8 * V;
        let panel = &self.panel[..self.k * stride];
        let (a, rs, cs) = (self.a.ptr, self.a.rs, self.a.cs);
        for (q, b) in panel.chunks_exact(stride).enumerate() {
            let mut bv = [_mm256_setzero_ps(); V];
            for (v, bv) in bv.iter_mut().enumerate() {
                // SAFETY: 8 floats at 8 v of a panel row of 8 V floats.
                *bv = unsafe { _mm256_loadu_ps(b.as_ptr().add(8 * v)) };
            }
            for (r, acc) in acc.iter_mut().enumerate() {
                // SAFETY: element (r, q) of a, r < R rows of the tile, q < k.
                let x =
                    unsafe { _mm256_broadcast_ss(&*a.offset(r as isize * rs + q as isize * cs)) };
                for (acc, &bv) in acc.iter_mut().zip(&bv) {
                    *acc = _mm256_fmadd_ps(x, bv, *acc);
                }
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            let mut out = *acc;
            if let Some(g) = self.gate {
                // SAFETY: row r of the gate, `width` elements.
                let on = load(unsafe { g.ptr.offset(r as isize * g.rs) }.cast_const());
                for (out, on) in out.iter_mut().zip(on) {
                    // Kept unless the gate is <= 0 (a NaN keeps it, as `if a <= 0.0` does).
                    let keep = _mm256_cmp_ps::<_CMP_NLE_UQ>(on, _mm256_setzero_ps());
                    *out = _mm256_and_ps(*out, keep);
                }
            }
            // SAFETY: row r < R of the tile, `width` writable elements exclusive to us.
            let row = unsafe { self.c.ptr.offset(r as isize * self.c.rs) };
            if full {
                for (v, out) in out.iter().enumerate() {
                    // SAFETY: 8 floats at 8 v of a row of 8 V writable floats.
                    unsafe { _mm256_storeu_ps(row.add(8 * v), *out) };
                }
            } else {
                let mut tmp = [0f32; PANEL];
                for (v, out) in out.iter().enumerate() {
                    // SAFETY: 8 floats at 8 v < 16 of the buffer.
                    unsafe { _mm256_storeu_ps(tmp.as_mut_ptr().add(8 * v), *out) };
                }
                // SAFETY: `width` elements of the row, writable and exclusive.
                unsafe { std::ptr::copy_nonoverlapping(tmp.as_ptr(), row, self.width) };
            }
        }
    }
}
