//! Threads used by the matrix products of training (process-wide setting, read per call).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static MATMUL_THREADS: AtomicUsize = AtomicUsize::new(1);

/// Sets the matrix-product thread count for training (clamped to 1..=64). Results do not
/// depend on it: products split their output among threads, never a sum.
pub fn configure(threads: usize) {
    MATMUL_THREADS.store(threads.clamp(1, 64), Ordering::Relaxed);
}

/// Matrix threads for each of `runs` runs training side by side in one process: every core for
/// a lone run, one each when several train (two one-thread runs beat two two-thread runs on
/// two cores: measured 7 % less CPU for the same grid). Results do not depend on it.
pub fn for_concurrent_runs(runs: usize) -> usize {
    if runs <= 1 {
        std::thread::available_parallelism().map_or(1, usize::from)
    } else {
        1
    }
}

/// The thread pool training runs its parallel work on: one thread per core, each with
/// subnormals flushed (as on every training thread, see [`crate::nn::ftz`]), so a result is the
/// same whichever thread computed it. `None` if the system refused to start threads; callers
/// then work on their own thread.
pub fn pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        rayon::ThreadPoolBuilder::new()
            .num_threads(cores.clamp(2, 64))
            .thread_name(|i| format!("train-pool-{i}"))
            .start_handler(|_| {
                crate::nn::ftz::flush_subnormals_on_this_thread();
            })
            .build()
            .ok()
    })
    .as_ref()
}

/// Runs `work` (on a thread of [`pool`], inside `install`) while `helpers` other pool threads
/// stay awake, polling the pool for work, until it returns or unwinds.
///
/// A training step hands half of each product to another thread about 30 times (the forward
/// products split by columns, the weight and input gradients of each layer side by side,
/// Adam). Between hand-offs rayon's idle thread soon goes to sleep and the next hand-off
/// waits for it to wake: two fresh 9x320 epochs at two threads made 30,000-35,000 voluntary
/// context switches, and an epoch took 2.46-2.71 s against 3.35 s on one thread. Kept awake
/// (4,600-7,800 switches), it took 2.10-2.29 s, on this project's 2-core Xeon. The helpers
/// spin only while `work` runs (one step), so the measurement pass and other runs have the
/// cores between steps. Results do not change: the products split the same way whichever
/// thread takes a part.
pub fn with_helpers_awake<R: Send>(helpers: usize, work: impl FnOnce() -> R + Send) -> R {
    if helpers == 0 {
        return work();
    }
    /// Tells the helpers to stop when `work` returns or unwinds (the scope waits for them).
    struct StopOnDrop<'a>(&'a AtomicBool);
    impl Drop for StopOnDrop<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Release);
        }
    }
    let stop = AtomicBool::new(false);
    rayon::scope(|scope| {
        for _ in 0..helpers {
            scope.spawn(|_| {
                // A helper that starts after `work` ended (or on `work`'s own thread, once
                // it waits for the scope) sees `stop` at once.
                while !stop.load(Ordering::Acquire) {
                    match rayon::yield_now() {
                        Some(rayon::Yield::Executed) => {}
                        Some(rayon::Yield::Idle) => std::hint::spin_loop(),
                        None => break,
                    }
                }
            });
        }
        let _stop = StopOnDrop(&stop);
        work()
    })
}

/// The matrix-product thread count for training.
pub fn current() -> usize {
    MATMUL_THREADS.load(Ordering::Relaxed)
}

/// Which SIMD level the CPU offers the matrix kernels (gemm picks its kernel at run time).
pub fn kernel() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            "avx512f (the own dense kernels use it; gemm only with its x86-v4 feature)"
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_run_the_handed_off_halves_and_stop_when_the_work_returns_or_panics() {
        let Some(pool) = pool() else {
            panic!("the training pool did not start");
        };
        let helpers = pool.current_num_threads() - 1;
        assert!(helpers >= 1, "the pool has at least two threads");
        // Each join hands a half to the awake helper; the sums come back whole.
        let sums = pool.install(|| {
            with_helpers_awake(helpers, || {
                (0..200u64)
                    .map(|i| {
                        let (a, b) = rayon::join(|| i * 2, || i * 3);
                        a + b
                    })
                    .sum::<u64>()
            })
        });
        assert_eq!(sums, (0..200u64).map(|i| i * 5).sum::<u64>());
        // A panicking step unwinds to the caller instead of leaving the helpers spinning
        // (the scope waits for them, so a helper that never stopped would hang here).
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.install(|| with_helpers_awake(helpers, || panic!("a step failed")))
        }));
        assert!(outcome.is_err());
        // The pool still works afterwards.
        assert_eq!(pool.install(|| with_helpers_awake(helpers, || 7)), 7);
    }
}
