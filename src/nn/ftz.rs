//! Flush subnormal floats to zero on the calling thread.
//!
//! Adam's moment estimates decay geometrically towards zero and end up subnormal; on x86 each
//! operation on a subnormal costs on the order of a hundred cycles. Measured on the 9x320
//! preset: the Adam step alone took 3.4 s per epoch without this, 0.6 s with it. Subnormals
//! are below 1.2e-38, far beneath anything that moves a weight, so flushing them changes no
//! result a user could see, and it is the same on every run (determinism holds).

/// Sets FTZ (flush to zero) and DAZ (denormals are zero) on this thread. Call it first thing
/// on every thread that trains or measures. Returns true when the platform supports it.
pub fn flush_subnormals_on_this_thread() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        let mut csr: u32 = 0;
        // SAFETY: `stmxcsr` stores this thread's 32-bit MXCSR register into `csr`, a live,
        // aligned, writable local; `ldmxcsr` loads it back with bit 15 (FTZ) and bit 6 (DAZ)
        // set. MXCSR is per-thread state that only decides how SSE/AVX float results are
        // rounded and whether subnormals are flushed; no memory safety invariant of Rust or of
        // any library depends on it, and all exception-mask bits are left as they were.
        unsafe {
            std::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack, preserves_flags));
            csr |= (1 << 15) | (1 << 6);
            std::arch::asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, readonly, preserves_flags));
        }
        true
    }
    #[cfg(target_arch = "aarch64")]
    {
        let mut fpcr: u64;
        // SAFETY: reads and writes the per-thread floating-point control register FPCR,
        // setting only bit 24 (FZ, flush subnormals to zero). This changes float rounding of
        // subnormals on this thread and nothing that memory safety depends on.
        unsafe {
            std::arch::asm!("mrs {}, fpcr", out(reg) fpcr, options(nomem, nostack, preserves_flags));
            fpcr |= 1 << 24;
            std::arch::asm!("msr fpcr, {}", in(reg) fpcr, options(nomem, nostack, preserves_flags));
        }
        true
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}
