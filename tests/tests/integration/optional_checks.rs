//! The summary of optional cross-checks: which tools this machine has, and for each missing one
//! what is skipped and the command that installs it. Printed straight to stderr so a plain
//! `cargo test --workspace` shows it; under CI every tool must be present.

use std::io::Write as _;

#[test]
fn summary_of_optional_cross_checks() {
    let mut checks = neurite_testing::probe::all();
    checks.push((
        "system font (plots; else embedded DejaVu Sans)",
        neurite::metrics::plot::system_font()
            .map(|p| p.display().to_string())
            .ok_or_else(|| {
                "none found (install: sudo apt-get install fonts-dejavu-core)".to_string()
            }),
    ));
    let missing: Vec<_> = checks.iter().filter(|(_, r)| r.is_err()).collect();
    let mut text = format!(
        "\noptional cross-checks: {} of {} available{}\n",
        checks.len() - missing.len(),
        checks.len(),
        if missing.is_empty() {
            String::new()
        } else {
            "; the tests that need the others print SKIPPED and pass".into()
        }
    );
    for (name, result) in &checks {
        let line = match result {
            Ok(found) => format!("  found    {name}: {found}\n"),
            Err(why) => format!("  SKIPPED  {name}: {why}\n"),
        };
        text.push_str(&line);
    }
    // Straight to fd 2: the harness hides `eprintln!` output of passing tests.
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
    let names: Vec<&str> = missing.iter().map(|(name, _)| *name).collect();
    assert!(
        !neurite_testing::in_ci() || names.is_empty(),
        "CI must run every optional cross-check; missing: {}",
        names.join(", ")
    );
}
