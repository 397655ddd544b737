//! [`super::dense_avx2::product`] for CPUs with AVX-512F: the same products, summed the same
//! way, sixteen lanes wide.
//!
//! The driver is the AVX2 kernel's ([`super::dense_avx2::drive`]): `b` is copied in panels of
//! 32 columns (`[k, 32]`, 40 KB for k = 320), then tiles of up to 8 rows x 32 columns of `c`
//! are summed in 16 of the 32 vector registers, broadcasting one element of `a` per row and
//! step. Every element of `c` is summed exactly as the AVX2 kernel sums it: from its start
//! (0, what `c` held, or the bias), then one fused multiply-add per step of `k`, in
//! increasing order; a lane of a 512-bit FMA rounds as a lane of a 256-bit one. So this
//! kernel, the AVX2 one and the sparse kernels give the same bits, and a session trained on a
//! machine with AVX-512 equals one trained without (the unit test below checks each kernel
//! the CPU has against the in-order loop).
//!
//! Why: on a server core with two 512-bit FMA units (Intel Xeon here: Sapphire Rapids class,
//! 2 MB L2 per core) each instruction does twice the AVX2 kernel's work, and the 9x320 dense
//! epochs, whose time is mostly these products, were far from the cores' FMA peak. Columns
//! past a panel's width are masked in loads and stores (no padding copies).

use std::arch::x86_64::{
    __mmask16, _CMP_NLE_UQ, _mm512_cmp_ps_mask, _mm512_fmadd_ps, _mm512_loadu_ps,
    _mm512_mask_storeu_ps, _mm512_maskz_loadu_ps, _mm512_maskz_mov_ps, _mm512_set1_ps,
    _mm512_setzero_ps,
};

use super::dense_avx2::{Operand, Output, Start, Tile, TileKernel, by_tile_shape, drive};

/// The AVX-512 tiles: 8 rows x 32 columns in 16 of the 32 vector registers.
struct Avx512;

impl TileKernel for Avx512 {
    const LANES: usize = 16;
    const MAX_ROWS: usize = 8;
    // The last 9 to 12 rows as two tiles of 5-6: at least 8 sums in flight keep both FMA
    // units busy through their latency.
    const SPLIT_UP_TO: usize = 12;

    #[target_feature(enable = "avx512f")]
    unsafe fn run(tile: &Tile, rows: usize, vectors: usize) {
        // SAFETY: the caller's promise, passed on.
        unsafe { by_tile_shape!(tile, run_avx512, rows, vectors, [8, 7, 6, 5, 4, 3, 2, 1]) }
    }
}

/// Whether this CPU runs [`product`] (AVX-512F, and AVX2 and FMA for the panel copies).
pub(super) fn available() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("fma")
}

/// `c = c0 + a · b`, exactly as [`super::dense_avx2::product`] computes it (same arguments,
/// same result bit for bit).
///
/// # Safety
/// As [`super::dense_avx2::product`], and the CPU must have AVX-512F ([`available`]).
#[target_feature(enable = "avx512f,avx2,fma")]
pub(super) unsafe fn product(
    dims: (usize, usize, usize),
    a: Operand,
    b: Operand,
    c: Output,
    start: Start,
    gate: Option<Output>,
) {
    // SAFETY: the caller's promise, which is `drive`'s for this kernel.
    unsafe { drive::<Avx512>(dims, a, b, c, start, gate) };
}

impl Tile<'_> {
    /// Sums `R` rows x `16 V` columns (`width` of them loaded and stored) in `R * V`
    /// registers.
    ///
    /// # Safety
    /// AVX-512F present; rows `0..R` of `a` (from `a.ptr`, `k` elements each), of `c` and of
    /// the gate (`width` elements each from their pointers) inside their matrices, as
    /// [`drive`] requires; `panel` holds `k` rows of `16 V` floats; `width` is in
    /// `16 (V - 1) + 1..=16 V`.
    #[target_feature(enable = "avx512f")]
    unsafe fn run_avx512<const R: usize, const V: usize>(&self) {
        // Lanes of vector v that hold columns below `width`.
        let mut masks: [__mmask16; V] = [0; V];
        for (v, mask) in masks.iter_mut().enumerate() {
            let lanes = self.width.saturating_sub(16 * v).min(16);
            *mask = ((1u32 << lanes) - 1) as __mmask16;
        }
        // Reads the `width` floats at `src` as V vectors, zero in the lanes past it.
        let load = |src: *const f32| {
            let mut out = [_mm512_setzero_ps(); V];
            for (v, out) in out.iter_mut().enumerate() {
                // SAFETY: the lanes the mask keeps are among the `width` readable floats at
                // `src` (the callers below); masked lanes are not read and cannot fault, and
                // `src + 16 v` stays inside them (`width > 16 v`).
                *out = unsafe { _mm512_maskz_loadu_ps(masks[v], src.add(16 * v)) };
            }
            out
        };
        let mut acc = [[_mm512_setzero_ps(); V]; R];
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
        let stride = 16 * V;
        let panel = &self.panel[..self.k * stride];
        let (a, rs, cs) = (self.a.ptr, self.a.rs, self.a.cs);
        for (q, b) in panel.chunks_exact(stride).enumerate() {
            let mut bv = [_mm512_setzero_ps(); V];
            for (v, bv) in bv.iter_mut().enumerate() {
                // SAFETY: 16 floats at 16 v of a panel row of 16 V floats.
                *bv = unsafe { _mm512_loadu_ps(b.as_ptr().add(16 * v)) };
            }
            for (r, acc) in acc.iter_mut().enumerate() {
                // SAFETY: element (r, q) of a, r < R rows of the tile, q < k.
                let x = _mm512_set1_ps(unsafe { *a.offset(r as isize * rs + q as isize * cs) });
                for (acc, &bv) in acc.iter_mut().zip(&bv) {
                    *acc = _mm512_fmadd_ps(x, bv, *acc);
                }
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            let mut out = *acc;
            if let Some(g) = self.gate {
                // SAFETY: row r of the gate, `width` elements.
                let on = load(unsafe { g.ptr.offset(r as isize * g.rs) }.cast_const());
                for (out, on) in out.iter_mut().zip(on) {
                    // Kept unless the gate is <= 0 (a NaN keeps it, as `if a <= 0.0` does);
                    // the others become +0.0, as the AVX2 kernel's bitwise AND makes them.
                    let keep = _mm512_cmp_ps_mask::<_CMP_NLE_UQ>(on, _mm512_setzero_ps());
                    *out = _mm512_maskz_mov_ps(keep, *out);
                }
            }
            // SAFETY: row r < R of the tile, `width` writable elements exclusive to us.
            let row = unsafe { self.c.ptr.offset(r as isize * self.c.rs) };
            for (v, out) in out.iter().enumerate() {
                // SAFETY: the lanes the mask keeps are among the row's `width` writable
                // elements; masked lanes are not written.
                unsafe { _mm512_mask_storeu_ps(row.add(16 * v), masks[v], *out) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::dense_avx2;

    /// A deterministic spread of values with exact zeros, negatives and a wide range.
    fn values(len: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..len)
            .map(|i| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                if i % 7 == 3 {
                    0.0
                } else {
                    (s % 20_001) as f32 / 1000.0 - 10.0
                }
            })
            .collect()
    }

    /// Element `(row, column)` of an operand.
    type Element<'a> = &'a dyn Fn(usize, usize) -> f32;

    /// The kernels' contract, one element at a time: from its start, one fused multiply-add
    /// per step of `k` in increasing order, then the gate.
    fn reference(
        (m, n, k): (usize, usize, usize),
        (a, b): (Element, Element),
        c: &mut [f32],
        start: Option<&[f32]>,
        gate: Option<&[f32]>,
    ) {
        for r in 0..m {
            for j in 0..n {
                let mut sum = match start {
                    Some(bias) => bias[j],
                    None => c[r * n + j],
                };
                for q in 0..k {
                    sum = a(r, q).mul_add(b(q, j), sum);
                }
                if gate.is_some_and(|g| g[r * n + j] <= 0.0) {
                    sum = 0.0;
                }
                c[r * n + j] = sum;
            }
        }
    }

    /// Every shape of training's products (and ragged ones), plain and transposed, from
    /// each start, with and without the gate: each kernel this CPU has (AVX2, and AVX-512F
    /// where present) gives the bits of the in-order loop, so the two kernels agree.
    #[test]
    fn each_kernel_sums_every_element_in_order() {
        assert!(
            crate::nn::sparse::available(),
            "this CPU has no AVX2 and FMA: the dense kernels cannot run here"
        );
        let wide = available();
        eprintln!(
            "kernels checked: avx2{}",
            if wide { " and avx512f" } else { "" }
        );
        let shapes = [
            (128, 320, 320),
            (320, 320, 128),
            (128, 10, 320),
            (128, 320, 10),
            (128, 20, 784),
            (7, 33, 5),
            (13, 17, 3),
            (1, 1, 1),
            (9, 48, 64),
        ];
        for (case, &(m, n, k)) in shapes.iter().enumerate() {
            let a = values(m * k, case as u32 * 3 + 1);
            let b = values(k * n, case as u32 * 3 + 2);
            let gate = values(m * n, case as u32 * 3 + 3);
            let bias = values(n, case as u32 + 100);
            for transposed in [false, true] {
                // `a` as [m, k] rows, or read as the transpose of a [k, m] matrix; `b` as
                // [k, n] rows, or as the transpose of an [n, k] matrix (a weight read as Wᵀ).
                let (a_rs, a_cs) = if transposed { (1, m) } else { (k, 1) };
                let (b_rs, b_cs) = if transposed { (1, k) } else { (n, 1) };
                let a_at = |r: usize, q: usize| a[r * a_rs + q * a_cs];
                let b_at = |q: usize, j: usize| b[q * b_rs + j * b_cs];
                let a_op = Operand {
                    ptr: a.as_ptr(),
                    rs: a_rs as isize,
                    cs: a_cs as isize,
                };
                let b_op = Operand {
                    ptr: b.as_ptr(),
                    rs: b_rs as isize,
                    cs: b_cs as isize,
                };
                for start in 0..3 {
                    for gated in [false, true] {
                        let mut expected = values(m * n, 7);
                        if start == 0 {
                            expected.fill(0.0);
                        }
                        let bias_start = (start == 2).then_some(&bias[..]);
                        let g = gated.then_some(&gate[..]);
                        reference((m, n, k), (&a_at, &b_at), &mut expected, bias_start, g);
                        let run = |wide: bool| {
                            let mut c = values(m * n, 7);
                            let out = Output {
                                ptr: c.as_mut_ptr(),
                                rs: n as isize,
                            };
                            let s = match start {
                                0 => Start::Zero,
                                1 => Start::Output,
                                _ => Start::Row(bias.as_ptr()),
                            };
                            let g = gated.then_some(Output {
                                ptr: gate.as_ptr().cast_mut(),
                                rs: n as isize,
                            });
                            // SAFETY: the operands are the vectors above, of m * k, k * n
                            // and m * n floats, read through strides that stay inside them;
                            // `c` is ours alone; the kernel's features were detected.
                            unsafe {
                                if wide {
                                    product((m, n, k), a_op, b_op, out, s, g);
                                } else {
                                    dense_avx2::product((m, n, k), a_op, b_op, out, s, g);
                                }
                            }
                            c
                        };
                        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                        let kernels: &[bool] = if wide { &[false, true] } else { &[false] };
                        for &w in kernels {
                            assert!(
                                bits(&run(w)) == bits(&expected),
                                "{} kernel, [{m}, {k}] x [{k}, {n}], transposed {transposed}, \
                                 start {start}, gate {gated}: not the in-order sums",
                                if w { "avx512f" } else { "avx2" }
                            );
                        }
                    }
                }
            }
        }
    }
}
