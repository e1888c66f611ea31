//! The failure paths of the one atomic write, tested once for every crate that uses it: a full
//! disk (ENOSPC) or a failing one (EIO) at every write in turn, a missing directory, a directory
//! in the way, a path that names no file, and a write abandoned before its commit.

use std::fs;
use std::io::{Error, ErrorKind, Write};
use std::path::Path;

use neurite_io::{AtomicFile, Step, WriteError, write_atomic, write_atomic_with};

const ENOSPC: i32 = 28;
const EIO: i32 = 5;

/// Writes `bytes` in 64-byte pieces and fails the `fail_at`-th with the OS error `code`.
fn failing(
    bytes: &[u8],
    fail_at: usize,
    code: i32,
) -> impl FnOnce(&mut dyn Write) -> std::io::Result<()> + '_ {
    move |out| {
        for (i, piece) in bytes.chunks(64).enumerate() {
            if i + 1 == fail_at {
                return Err(Error::from_raw_os_error(code));
            }
            out.write_all(piece)?;
        }
        Ok(())
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// ENOSPC and EIO at each of the 64 writes of a 4 KiB file in turn (128 injected failures):
/// each error names the file, the step and the OS error, the previous file survives whole and
/// no temporary file is left. Then a write that succeeds replaces the file.
#[test]
fn a_failing_disk_keeps_the_previous_file_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    write_atomic(&path, b"previous").unwrap();
    let new: Vec<u8> = (0..4096u32).map(|i| (i % 251) as u8).collect();
    let mut injected = 0;
    for code in [ENOSPC, EIO] {
        for fail_at in 1..=new.len().div_ceil(64) {
            let err = write_atomic_with(&path, failing(&new, fail_at, code)).unwrap_err();
            assert_eq!(err.step, Step::Write);
            assert_eq!(err.source.raw_os_error(), Some(code));
            if code == ENOSPC {
                assert_eq!(err.source.kind(), ErrorKind::StorageFull);
            }
            assert!(err.to_string().contains("model.safetensors"), "{err}");
            assert_eq!(
                fs::read(&path).unwrap(),
                b"previous",
                "the old file survives"
            );
            assert_eq!(
                names(dir.path()),
                ["model.safetensors"],
                "no temporary file"
            );
            injected += 1;
        }
    }
    assert_eq!(injected, 128);
    write_atomic_with(&path, failing(&new, usize::MAX, EIO)).unwrap();
    assert_eq!(fs::read(&path).unwrap(), new);
    assert_eq!(names(dir.path()), ["model.safetensors"]);
}

#[test]
fn a_missing_directory_is_named_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing-dir").join("m.onnx");
    let err = write_atomic(&path, b"x").unwrap_err();
    assert_eq!(err.step, Step::Create);
    assert!(err.to_string().contains("missing-dir"), "{err}");
    assert!(!path.exists());
}

#[test]
fn a_directory_in_the_way_or_no_file_name_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let err = write_atomic(Path::new(".."), b"x").unwrap_err();
    assert_eq!(err.step, Step::Create);
    let sub = dir.path().join("sub");
    fs::create_dir(&sub).unwrap();
    let err = write_atomic(&sub, b"x").unwrap_err();
    assert_eq!(err.step, Step::Rename);
    assert!(sub.is_dir(), "the directory survives");
    assert_eq!(names(dir.path()), ["sub"], "no temporary file");
}

/// A writer that opens the temporary file by path (an image encoder) sees the destination's
/// extension; dropping the write before its commit leaves nothing behind.
#[test]
fn the_temporary_file_is_hidden_keeps_the_extension_and_goes_away_uncommitted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roc.png");
    let file = AtomicFile::create(&path).unwrap();
    let temp = file.temp_path().to_path_buf();
    let temp_name = temp.file_name().unwrap().to_string_lossy().into_owned();
    assert!(temp_name.starts_with(".roc.png."), "{temp_name}");
    assert_eq!(temp.extension().unwrap(), "png");
    assert_eq!(temp.parent(), path.parent());
    fs::write(&temp, b"written by path").unwrap();
    drop(file);
    assert!(names(dir.path()).is_empty());

    let file = AtomicFile::create(&path).unwrap();
    fs::write(file.temp_path(), b"written by path").unwrap();
    file.commit().unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"written by path");
    assert_eq!(names(dir.path()), ["roc.png"]);
}

#[test]
fn the_error_converts_to_io_keeping_kind_and_message() {
    let err = WriteError {
        path: "out/m.onnx".into(),
        step: Step::Sync,
        source: Error::from_raw_os_error(ENOSPC),
    };
    let io: Error = err.into();
    assert_eq!(io.kind(), ErrorKind::StorageFull);
    assert!(
        io.to_string().starts_with("could not sync out/m.onnx"),
        "{io}"
    );
}
