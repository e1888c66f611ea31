//! The integration tests of this crate, compiled into one test binary (one link instead of
//! one per file); each module is one former test file. Tests that must own their process (a
//! counting global allocator, process-wide settings) stay separate files in `tests/`.

mod conv_f32;
mod fused_conv_pool;
mod gradcheck;
mod model;
