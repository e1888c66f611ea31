//! The thread-count determinism tests: the same work on pools of different sizes.

/// Runs `f` on a fresh rayon pool of `threads` threads, so that everything it parallelises
/// (kernels, dropout masks, optimizer steps) uses that many.
///
/// ```
/// assert_eq!(neurite_testing::with_threads(2, rayon::current_num_threads), 2);
/// ```
///
/// # Panics
/// When the pool cannot be built (the OS refuses the threads).
pub fn with_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon thread pool")
        .install(f)
}
