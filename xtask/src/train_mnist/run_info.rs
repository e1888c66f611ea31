//! What identifies a run: the command, the code version, the machine, and its own directory.

use std::path::{Path, PathBuf};

/// The commit `git archive` wrote into this file (`export-subst` in `.gitattributes`); in a
/// checkout it still holds the unexpanded placeholder.
const ARCHIVE_COMMIT: &str = include_str!("archive_commit.txt");

/// The command as typed: `cargo xtask train-mnist ...` (the binary path replaced by the alias).
pub fn command_line() -> String {
    let mut words = vec!["cargo xtask".to_string()];
    words.extend(std::env::args().skip(1).map(|a| quote(&a)));
    words.join(" ")
}

/// `a` as a shell word: quoted only when it needs to be.
fn quote(a: &str) -> String {
    let plain = !a.is_empty()
        && a.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        a.to_string()
    } else {
        format!("'{}'", a.replace('\'', r"'\''"))
    }
}

/// The neurite version this was built from.
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// The git commit of the workspace, marked when the tree has uncommitted changes; else the one
/// recorded by `git archive`; else `unknown`.
pub fn git_commit() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(&root)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    if let Some(commit) = git(&["rev-parse", "HEAD"]).filter(|c| !c.is_empty()) {
        let dirty =
            git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
        return if dirty {
            format!("{commit} (with uncommitted changes)")
        } else {
            commit
        };
    }
    let archived = ARCHIVE_COMMIT.trim();
    if !archived.is_empty() && !archived.starts_with("$Format") {
        return format!("{archived} (from git archive)");
    }
    "unknown (not a git checkout)".into()
}

/// The CPU model (`/proc/cpuinfo` on Linux), else the architecture.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, name)| name.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

/// Logical cores of this machine.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Creates a fresh directory at `base`, or `base-2`, `base-3`, ... when it exists: `create_dir`
/// fails if the directory is already there, so two runs started in the same second cannot both
/// get the same one.
pub fn claim_fresh_dir(base: &Path) -> anyhow::Result<PathBuf> {
    if let Some(parent) = base.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| anyhow::anyhow!("creating {}: {e}", parent.display()))?;
    }
    for n in 1..=1000 {
        let candidate = if n == 1 {
            base.to_path_buf()
        } else {
            PathBuf::from(format!("{}-{n}", base.display()))
        };
        match std::fs::create_dir(&candidate) {
            Ok(()) => return Ok(candidate),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => anyhow::bail!("creating {}: {e}", candidate.display()),
        }
    }
    anyhow::bail!("{} and 999 numbered variants already exist", base.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_in_the_same_second_get_different_directories() {
        let root = std::env::temp_dir().join(format!("neurite-claim-test-{}", std::process::id()));
        let base = root.join("runs/20260101-000000-cnn-mnist");
        let dirs: Vec<PathBuf> = (0..3).map(|_| claim_fresh_dir(&base).unwrap()).collect();
        assert_eq!(dirs[0], base);
        assert_eq!(dirs[1], PathBuf::from(format!("{}-2", base.display())));
        assert_eq!(dirs[2], PathBuf::from(format!("{}-3", base.display())));
        assert!(dirs.iter().all(|d| d.is_dir()));
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn words_are_quoted_only_when_needed() {
        assert_eq!(quote("--limit"), "--limit");
        assert_eq!(quote("runs/a b"), "'runs/a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn the_commit_is_known_in_a_checkout() {
        // The tests run from the repository, so git (when installed) knows the commit.
        let commit = git_commit();
        assert!(!commit.is_empty());
        assert!(!commit.starts_with("$Format"), "{commit}");
    }
}
