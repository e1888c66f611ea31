//! Cross-crate integration tests for neurite live in `tests/tests/`; this library is empty.
