//! Whether the tests run under CI, from the `CI` environment variable.

use std::ffi::OsStr;

/// The variable CI services set (`CI=true` on most, `CI=1` in `.ci/run`).
pub const CI_ENV: &str = "CI";

/// Reads a `CI` value: any non-empty value means CI, except `0` and `false` (any case), which
/// people set to say "not CI".
pub fn ci_flag(value: Option<&OsStr>) -> bool {
    let Some(value) = value else {
        return false;
    };
    let value = value.to_string_lossy();
    let value = value.trim();
    !value.is_empty() && value != "0" && !value.eq_ignore_ascii_case("false")
}

/// Whether this process runs under CI (see [`ci_flag`]).
pub fn in_ci() -> bool {
    ci_flag(std::env::var_os(CI_ENV).as_deref())
}

#[cfg(test)]
mod tests {
    use super::ci_flag;
    use std::ffi::OsStr;

    #[test]
    fn values_that_mean_ci() {
        for v in ["1", "true", "TRUE", "yes", "github-actions"] {
            assert!(ci_flag(Some(OsStr::new(v))), "{v}");
        }
    }

    #[test]
    fn values_that_do_not() {
        assert!(!ci_flag(None));
        for v in ["", " ", "0", "false", "False", "FALSE"] {
            assert!(!ci_flag(Some(OsStr::new(v))), "{v:?}");
        }
    }
}
