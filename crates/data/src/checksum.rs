//! SHA-256 of files, with an in-process cache so a file is hashed once per run unless it changes.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use crate::error::{DataError, Result};

/// Lowercase hex of a digest.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    s
}

/// The SHA-256 of a byte slice, as lowercase hex.
///
/// ```
/// assert_eq!(
///     neurite_data::sha256_hex(b"abc"),
///     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// );
/// ```
pub fn sha256_hex(bytes: &[u8]) -> String {
    to_hex(&Sha256::digest(bytes))
}

/// The SHA-256 of a file's contents, as lowercase hex.
pub fn sha256_file(path: impl AsRef<Path>) -> Result<String> {
    let path = path.as_ref();
    let mut file = File::open(path).map_err(|e| DataError::io("open", path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(DataError::io("read", path, e)),
        }
    }
    Ok(to_hex(&hasher.finalize()))
}

/// What identifies one version of a file cheaply: its path, length and modification time.
type Stamp = (PathBuf, u64, Option<SystemTime>);

fn cache() -> &'static Mutex<HashMap<Stamp, String>> {
    static CACHE: OnceLock<Mutex<HashMap<Stamp, String>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// [`sha256_file`], remembered for the rest of the process while the file's length and
/// modification time stay the same.
pub(crate) fn sha256_file_cached(path: &Path) -> Result<String> {
    let meta = std::fs::metadata(path).map_err(|e| DataError::io("stat", path, e))?;
    let stamp: Stamp = (path.to_path_buf(), meta.len(), meta.modified().ok());
    if let Some(hex) = cache().lock().ok().and_then(|c| c.get(&stamp).cloned()) {
        return Ok(hex);
    }
    let hex = sha256_file(path)?;
    if let Ok(mut c) = cache().lock() {
        c.insert(stamp, hex.clone());
    }
    Ok(hex)
}
