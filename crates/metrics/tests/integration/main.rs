//! The integration tests of this crate, compiled into one test binary (one link instead of
//! one per file); each module is one former test file. Tests that must own their process (a
//! counting global allocator, process-wide settings) stay separate files in `tests/`.

// Shared with `cargo xtask verify-metrics`, which includes it by path as well.
#[path = "../crosscheck/mod.rs"]
mod crosscheck;
mod plots;
mod sklearn;
