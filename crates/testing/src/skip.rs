//! Skip with a printed reason, or fail under CI.

use std::io::Write as _;

/// What happens to a test whose optional tool is missing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Not CI: the test returns early; this line is printed.
    Skip(String),
    /// CI: the test fails with this message.
    Fail(String),
}

/// The decision for `test`, missing a tool for `reason`, with or without CI. Pure, so the rule
/// itself is testable.
pub fn decide(test: &str, reason: &str, ci: bool) -> Decision {
    if ci {
        Decision::Fail(format!(
            "{test}: {reason}. CI must run every optional check: install the tool, or unset CI to skip it"
        ))
    } else {
        Decision::Skip(format!("SKIPPED {test}: {reason}"))
    }
}

/// Skips `test` (prints `SKIPPED test: reason` and returns) or, under CI, panics with the reason.
///
/// # Panics
/// Under CI ([`crate::in_ci`]), always: that is its job.
pub fn skip_or_fail(test: &str, reason: &str) {
    match decide(test, reason, crate::in_ci()) {
        Decision::Fail(message) => panic!("{message}"),
        Decision::Skip(line) => {
            // Straight to fd 2: the harness captures `eprintln!` of passing tests, and a skip
            // nobody sees is the silent pass this crate exists to prevent.
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }
    }
}

/// The value of a successful `probe`, or `None` after [`skip_or_fail`] with its error as the
/// reason.
pub fn require<T>(test: &str, probe: Result<T, String>) -> Option<T> {
    match probe {
        Ok(value) => Some(value),
        Err(reason) => {
            skip_or_fail(test, &reason);
            None
        }
    }
}

/// [`require`] at the top of a test: the probe's value, or a skip (after [`skip_or_fail`]) by
/// returning from the test.
///
/// ```
/// use neurite_testing::{probe, require};
/// fn uses_python() {
///     let python = require!("uses_python", probe::python(&["json"], "any python3"));
///     assert!(!python.is_empty());
/// }
/// uses_python();
/// ```
#[macro_export]
macro_rules! require {
    ($test:expr, $probe:expr $(,)?) => {
        match $crate::require($test, $probe) {
            Some(value) => value,
            None => return,
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_ci_a_missing_tool_is_a_named_skip() {
        assert_eq!(
            decide("t", "no python3", false),
            Decision::Skip("SKIPPED t: no python3".into())
        );
    }

    #[test]
    fn under_ci_it_fails_with_the_reason() {
        let Decision::Fail(message) = decide("t", "no python3", true) else {
            panic!("expected a failure")
        };
        assert!(message.starts_with("t: no python3."), "{message}");
    }

    #[test]
    fn an_available_tool_passes_its_value_through() {
        assert_eq!(require("t", Ok::<_, String>(7)), Some(7));
    }
}
