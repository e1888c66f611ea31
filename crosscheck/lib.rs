//! Cross-checks of neurite with heavy dependencies live in `tests/`; this library is empty.
