//! neurite-testing: one rule for optional cross-checks, used by every test in the workspace.
//!
//! Some tests need a tool neurite does not ship: Python with scikit-learn, safetensors or
//! onnxruntime, Debian's `dataset-fashion-mnist`, a system font. Where the tool is missing the
//! test is skipped with a printed reason, except under CI ([`in_ci`]), where a missing tool
//! means the machine was set up wrong and the test fails instead.
//!
//! ```
//! use neurite_testing::{probe, require};
//! // Runs the check when python3 can import json; otherwise prints why not and returns.
//! let Some(python) = require("example", probe::python(&["json"], "any python3")) else {
//!     return;
//! };
//! assert!(!python.is_empty());
//! ```
//!
//! Skip lines go straight to the terminal's stderr (not through `eprintln!`, which the test
//! harness captures and hides for passing tests), so `cargo test` shows them.
//!
//! The thread-count determinism tests run the same work on pools of different sizes with
//! [`with_threads`].

pub mod alloc;
mod ci;
pub mod probe;
pub mod safetensors_edit;
mod skip;
mod threads;

pub use ci::{CI_ENV, ci_flag, in_ci};
pub use skip::{Decision, decide, require, skip_or_fail};
pub use threads::with_threads;
