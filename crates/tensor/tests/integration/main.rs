//! The integration tests of this crate, compiled into one test binary (one link instead of
//! one per file); each module is one former test file. Tests that must own their process (a
//! counting global allocator, process-wide settings) stay separate files in `tests/`.

mod activation;
mod common;
mod conv;
mod conv_pool;
mod determinism;
mod gemm;
mod init;
mod pool;
mod reduce;
mod sgemm;
mod softmax;
mod winograd;
