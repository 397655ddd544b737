//! Threads used by matrix multiplication (ndarray's matrixmultiply reads
//! `MATMUL_NUM_THREADS` once, at its first product, for the whole process).

/// Environment variable matrixmultiply reads.
pub const MATMUL_THREADS_ENV: &str = "MATMUL_NUM_THREADS";

/// Sets the process-wide matrix-multiplication thread count (1..=4). Takes effect only
/// before the first matrix product. Results do not depend on it: matrixmultiply splits the
/// output among threads, never a sum, so every element is computed in the same order.
///
/// # Safety
/// No other thread may exist (none may read or write the environment concurrently): call it
/// first thing in `main`.
pub unsafe fn configure(threads: usize) {
    let n = threads.clamp(1, 4);
    // SAFETY: the caller guarantees this is the only thread, so nothing reads the
    // environment while it changes.
    unsafe { std::env::set_var(MATMUL_THREADS_ENV, n.to_string()) };
}

/// The thread count matrix multiplication uses, as matrixmultiply decides it: the
/// environment variable when set, else the number of cores (at most 4).
pub fn current() -> usize {
    std::env::var(MATMUL_THREADS_ENV)
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .clamp(1, 4)
}

/// Which matrix kernel the CPU allows matrixmultiply to pick (it detects the same features).
pub fn kernel() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            "avx512f present (matrixmultiply uses it only with its avx512 feature); fma+avx2"
        } else if std::arch::is_x86_feature_detected!("fma")
            && std::arch::is_x86_feature_detected!("avx2")
        {
            "fma+avx2"
        } else if std::arch::is_x86_feature_detected!("avx") {
            "avx"
        } else {
            "sse2"
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        "generic"
    }
}
