//! The integration tests of this crate, compiled into one test binary (one link instead of
//! one per file); each module is one former test file. Tests that must own their process (a
//! counting global allocator, process-wide settings) stay separate files in `tests/`.

mod model_file;
mod model_file_checksum;
mod model_file_python;
mod model_file_resume;
mod onnx_python;
mod optional_checks;
