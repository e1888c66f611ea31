//! Downloading dataset files from their mirrors: verified, atomic, with retries.
//!
//! Each file streams into a temporary file in the destination directory while its SHA-256 is
//! computed. Only a file whose digest is one of the accepted ones is renamed into place; a
//! dropped connection, an HTTP error or wrong bytes leave nothing behind, and the next attempt
//! (same mirror again for network errors, next mirror otherwise) starts from scratch.
//!
//! Offline, every attempt fails before any server answers: DNS fails, the connection is
//! refused, or packets are silently dropped and only a timeout ends the wait.
//! [`Downloader::give_up_after`] bounds the total of those waits, so an unreachable network costs
//! seconds, not every mirror's retries and timeouts.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::checksum::{sha256_file_cached, to_hex};
use crate::descriptor::{DatasetInfo, FileInfo};
use crate::error::{DataError, Result};

/// Receives download progress, for a progress bar or a log.
pub trait DownloadProgress {
    /// A request to `url` succeeded and the body starts; `total` is its announced length.
    fn begin(&mut self, url: &str, total: Option<u64>);
    /// `bytes` more bytes arrived.
    fn advance(&mut self, bytes: u64);
    /// The attempt ended: `Ok` when the file was verified and stored, `Err` with the reason.
    fn end(&mut self, outcome: std::result::Result<(), &str>);
}

/// A [`DownloadProgress`] that reports nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl DownloadProgress for NoProgress {
    fn begin(&mut self, _url: &str, _total: Option<u64>) {}
    fn advance(&mut self, _bytes: u64) {}
    fn end(&mut self, _outcome: std::result::Result<(), &str>) {}
}

/// What [`Downloader::fetch`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fetched {
    /// The file was already there and valid; nothing was downloaded.
    AlreadyPresent(PathBuf),
    /// The file was downloaded from `url` and verified.
    Downloaded {
        /// Where it is now.
        path: PathBuf,
        /// Where it came from.
        url: String,
    },
}

impl Fetched {
    /// The path of the verified file.
    pub fn path(&self) -> &Path {
        match self {
            Fetched::AlreadyPresent(path) | Fetched::Downloaded { path, .. } => path,
        }
    }
}

/// Downloads and verifies dataset files.
///
/// ```no_run
/// use neurite_data::{Downloader, MNIST, NoProgress};
/// let fetched = Downloader::new().fetch_dataset(&MNIST, "data/mnist".as_ref(), &mut NoProgress)?;
/// assert_eq!(fetched.len(), 4);
/// # Ok::<(), neurite_data::DataError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Downloader {
    mirrors: Option<Vec<String>>,
    attempts_per_mirror: usize,
    retry_pause: Duration,
    connect_timeout: Duration,
    timeout: Duration,
    give_up_after: Option<Duration>,
    max_bytes: u64,
}

impl Default for Downloader {
    fn default() -> Self {
        Self::new()
    }
}

impl Downloader {
    /// Two attempts per mirror, 1 s apart; 20 s to connect, 10 min per file; at most 512 MiB.
    pub fn new() -> Self {
        Downloader {
            mirrors: None,
            attempts_per_mirror: 2,
            retry_pause: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(20),
            timeout: Duration::from_secs(600),
            give_up_after: None,
            max_bytes: 512 << 20,
        }
    }

    /// Uses these base URLs (each ending in `/`, file names are appended) instead of the
    /// dataset's own mirrors. Useful for a local mirror, and for tests.
    pub fn mirrors<S: Into<String>>(mut self, urls: impl IntoIterator<Item = S>) -> Self {
        self.mirrors = Some(urls.into_iter().map(Into::into).collect());
        self
    }

    /// How often to try one mirror when the network fails (at least 1). Wrong bytes or an HTTP
    /// error status move on to the next mirror at once.
    pub fn attempts_per_mirror(mut self, attempts: usize) -> Self {
        self.attempts_per_mirror = attempts.max(1);
        self
    }

    neurite_tensor::builder_setters! {
        /// Pause between two attempts on the same mirror.
        retry_pause: Duration,
    }

    /// Connection and whole-transfer timeouts.
    pub fn timeouts(mut self, connect: Duration, total: Duration) -> Self {
        self.connect_timeout = connect;
        self.timeout = total;
        self
    }

    /// Stops trying once `budget` has been spent waiting for servers that never answered (DNS
    /// failure, refused connection, silence), counting retry pauses: each further attempt may only
    /// wait for what is left. Once a server answers, its transfer is bounded by the whole-transfer
    /// timeout alone. Off by default.
    pub fn give_up_after(mut self, budget: Duration) -> Self {
        self.give_up_after = Some(budget);
        self
    }

    neurite_tensor::builder_setters! {
        /// Refuses bodies longer than `max_bytes` (a misbehaving server cannot fill the disk).
        max_bytes: u64,
    }

    /// Makes sure `dir` holds a verified copy of every file of `dataset`, creating `dir` if needed.
    pub fn fetch_dataset(
        &self,
        dataset: &DatasetInfo,
        dir: &Path,
        progress: &mut dyn DownloadProgress,
    ) -> Result<Vec<Fetched>> {
        dataset
            .files
            .iter()
            .map(|file| self.fetch(dataset, file, dir, progress))
            .collect()
    }

    /// Makes sure `dir` holds a verified copy of `file`: keeps a valid copy already there,
    /// otherwise downloads it (replacing an invalid copy only once a valid one has arrived).
    pub fn fetch(
        &self,
        dataset: &DatasetInfo,
        file: &FileInfo,
        dir: &Path,
        progress: &mut dyn DownloadProgress,
    ) -> Result<Fetched> {
        let mirrors: Vec<String> = match &self.mirrors {
            Some(m) => m.clone(),
            None => dataset.mirrors.iter().map(|m| m.to_string()).collect(),
        };
        let hint = format!(
            "{}. Then run the command again; files already present are verified and kept",
            dataset.manual_hint
        );
        self.fetch_file(file.name, file.sha256, &mirrors, dir, &hint, progress)
    }

    /// The general form of [`Downloader::fetch`]: any file name, accepted digests and mirrors.
    /// `hint` ends the error message when every mirror fails.
    pub fn fetch_file(
        &self,
        name: &str,
        sha256: &[&str],
        mirrors: &[String],
        dir: &Path,
        hint: &str,
        progress: &mut dyn DownloadProgress,
    ) -> Result<Fetched> {
        let dest = dir.join(name);
        if dest.is_file() && sha256.contains(&sha256_file_cached(&dest)?.as_str()) {
            return Ok(Fetched::AlreadyPresent(dest));
        }
        std::fs::create_dir_all(dir).map_err(|e| DataError::io("create directory", dir, e))?;

        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_connect(Some(self.connect_timeout))
            .timeout_global(Some(self.timeout))
            .build()
            .into();
        let mut attempts = Vec::new();
        // Time spent on attempts no server answered, and pauses between them.
        let mut unanswered = Duration::ZERO;
        'mirrors: for mirror in mirrors {
            let url = join_url(mirror, name);
            for attempt in 0..self.attempts_per_mirror {
                if attempt > 0 {
                    std::thread::sleep(self.retry_pause);
                    unanswered += self.retry_pause;
                }
                let wait = match self.give_up_after {
                    Some(budget) if unanswered >= budget => {
                        record(
                            &mut attempts,
                            &url,
                            format!(
                                "not tried: no server answered within {:.1} s, the network looks unreachable",
                                budget.as_secs_f64()
                            ),
                        );
                        break 'mirrors;
                    }
                    Some(budget) => self.connect_timeout.min(budget - unanswered),
                    None => self.connect_timeout,
                };
                let started = Instant::now();
                match self.try_once(&agent, &url, wait, sha256, &dest, progress) {
                    Ok(()) => {
                        progress.end(Ok(()));
                        return Ok(Fetched::Downloaded { path: dest, url });
                    }
                    Err(failure) => {
                        if !failure.answered {
                            unanswered += started.elapsed();
                        }
                        progress.end(Err(&failure.reason));
                        record(&mut attempts, &url, failure.reason);
                        if !failure.retry_same_mirror {
                            break;
                        }
                    }
                }
            }
        }
        Err(DataError::DownloadFailed {
            file: name.to_string(),
            dir: dir.to_path_buf(),
            attempts: summarize(attempts),
            hint: hint.to_string(),
        })
    }

    /// One GET into a temporary file; renamed to `dest` only if the digest matches. `wait`
    /// bounds each step before the response headers: name lookup, connection, first answer.
    fn try_once(
        &self,
        agent: &ureq::Agent,
        url: &str,
        wait: Duration,
        sha256: &[&str],
        dest: &Path,
        progress: &mut dyn DownloadProgress,
    ) -> std::result::Result<(), Failure> {
        let mut response = agent
            .get(url)
            .config()
            .timeout_resolve(Some(wait))
            .timeout_connect(Some(wait))
            .timeout_recv_response(Some(wait))
            .build()
            .call()
            .map_err(|e| match e {
                ureq::Error::StatusCode(code) => Failure::next(format!("HTTP status {code}")),
                other => Failure::unanswered(format!("request failed: {other}")),
            })?;
        let total = response.body().content_length();
        if total.is_some_and(|t| t > self.max_bytes) {
            return Err(Failure::next(format!(
                "announced {} bytes, over the {} byte limit",
                total.unwrap_or(0),
                self.max_bytes
            )));
        }
        progress.begin(url, total);

        let mut temp =
            neurite_io::AtomicFile::create(dest).map_err(|e| Failure::next(e.to_string()))?;
        let mut body = response
            .body_mut()
            .with_config()
            .limit(self.max_bytes)
            .reader();
        let mut hasher = Sha256::new();
        let mut received = 0u64;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = match body.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(Failure::retry(format!(
                        "connection failed after {received} bytes: {e}"
                    )));
                }
            };
            let chunk = &buf[..n];
            hasher.update(chunk);
            temp.file()
                .write_all(chunk)
                .map_err(|e| Failure::next(format!("cannot write the temporary file: {e}")))?;
            received += n as u64;
            progress.advance(n as u64);
        }
        if let Some(total) = total.filter(|&t| t != received) {
            return Err(Failure::retry(format!(
                "connection closed after {received} of {total} bytes"
            )));
        }
        let got = to_hex(&hasher.finalize());
        if !sha256.contains(&got.as_str()) {
            return Err(Failure::next(format!(
                "wrong content: SHA-256 {got} of {received} bytes, expected {}",
                sha256.join(" or ")
            )));
        }
        temp.commit().map_err(|e| Failure::next(e.to_string()))
    }
}

/// Why one attempt failed, whether the same mirror deserves another try, and whether a server
/// answered at all (the give-up budget counts only unanswered attempts).
struct Failure {
    reason: String,
    retry_same_mirror: bool,
    answered: bool,
}

impl Failure {
    /// The server answered, then the transfer broke: worth another try.
    fn retry(reason: String) -> Self {
        Failure {
            reason,
            retry_same_mirror: true,
            answered: true,
        }
    }

    /// No answer (lookup, connection or first response failed): worth another try.
    fn unanswered(reason: String) -> Self {
        Failure {
            reason,
            retry_same_mirror: true,
            answered: false,
        }
    }

    /// The mirror answered with something wrong: move on.
    fn next(reason: String) -> Self {
        Failure {
            reason,
            retry_same_mirror: false,
            answered: true,
        }
    }
}

/// Adds a failed attempt; a repeat of the previous one (same URL, same reason) is counted
/// instead of listed again, so the final message stays readable.
fn record(attempts: &mut Vec<(String, String, usize)>, url: &str, reason: String) {
    match attempts.last_mut() {
        Some((last_url, last_reason, count)) if last_url == url && *last_reason == reason => {
            *count += 1
        }
        _ => attempts.push((url.to_string(), reason, 1)),
    }
}

/// The attempts as `(url, reason)`, repeats marked with their count.
fn summarize(attempts: Vec<(String, String, usize)>) -> Vec<(String, String)> {
    attempts
        .into_iter()
        .map(|(url, reason, count)| match count {
            1 => (url, reason),
            n => (url, format!("{reason}; {n} attempts")),
        })
        .collect()
}

fn join_url(base: &str, name: &str) -> String {
    if base.ends_with('/') {
        format!("{base}{name}")
    } else {
        format!("{base}/{name}")
    }
}
