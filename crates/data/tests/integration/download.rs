//! The downloader against a real HTTP server on 127.0.0.1 that serves good bytes, corrupt
//! bytes, drops connections midway, or answers 404.

#![cfg(feature = "download")]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use neurite_data::{
    BUNDLED_ROOT, DataError, DownloadProgress, Downloader, FASHION_MNIST, Fetched, FileKind, MNIST,
    NoProgress, Resolver, Split,
};

fn mnist_dir() -> PathBuf {
    Path::new(BUNDLED_ROOT).join("mnist")
}

/// The real MNIST test labels: their SHA-256 is the one in the MNIST descriptor.
fn labels_bytes() -> Vec<u8> {
    std::fs::read(mnist_dir().join("t10k-labels-idx1-ubyte.gz")).expect("bundled MNIST test set")
}

/// Serves `/<mode>/<file>`: mode `good`, `corrupt`, `drop` (half the body, then close) or
/// anything else (404). Records every request path.
struct Server {
    base: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(body: Vec<u8>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let log2 = Arc::clone(&log);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                serve(stream, &body, &log2);
            }
        });
        Server { base, log }
    }

    fn url(&self, mode: &str) -> String {
        format!("{}/{mode}/", self.base)
    }

    fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

fn serve(mut stream: TcpStream, body: &[u8], log: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header == "\r\n" => break,
            Ok(_) => {}
        }
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .to_string();
    log.lock().unwrap().push(path.clone());
    let mode = path.trim_start_matches('/').split('/').next().unwrap_or("");
    let head = |len: usize| {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nContent-Type: application/gzip\r\nConnection: close\r\n\r\n"
        )
    };
    let _ = match mode {
        "good" => stream
            .write_all(head(body.len()).as_bytes())
            .and_then(|_| stream.write_all(body)),
        "corrupt" => {
            let mut bad = body.to_vec();
            let mid = bad.len() / 2;
            bad[mid] ^= 0x01;
            stream
                .write_all(head(bad.len()).as_bytes())
                .and_then(|_| stream.write_all(&bad))
        }
        "drop" => stream
            .write_all(head(body.len()).as_bytes())
            .and_then(|_| stream.write_all(&body[..body.len() / 2])),
        _ => stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
    };
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

fn downloader(mirrors: &[String]) -> Downloader {
    Downloader::new()
        .mirrors(mirrors.iter().cloned())
        .retry_pause(Duration::ZERO)
        .timeouts(Duration::from_secs(5), Duration::from_secs(20))
}

fn labels_file() -> &'static neurite_data::FileInfo {
    MNIST.file(Split::Test, FileKind::Labels).unwrap()
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

#[derive(Default)]
struct Recorder {
    begun: Vec<(String, Option<u64>)>,
    bytes: u64,
    outcomes: Vec<Result<(), String>>,
}

impl DownloadProgress for Recorder {
    fn begin(&mut self, url: &str, total: Option<u64>) {
        self.begun.push((url.to_string(), total));
    }
    fn advance(&mut self, bytes: u64) {
        self.bytes += bytes;
    }
    fn end(&mut self, outcome: Result<(), &str>) {
        self.outcomes.push(outcome.map_err(str::to_string));
    }
}

#[test]
fn good_mirror_gives_a_valid_file_and_a_second_fetch_skips_it() {
    let body = labels_bytes();
    let server = Server::start(body.clone());
    let dir = tempfile::tempdir().unwrap();
    let dl = downloader(&[server.url("good")]);
    let mut rec = Recorder::default();
    let fetched = dl
        .fetch(&MNIST, labels_file(), dir.path(), &mut rec)
        .unwrap();
    let path = dir.path().join("t10k-labels-idx1-ubyte.gz");
    assert_eq!(
        fetched,
        Fetched::Downloaded {
            path: path.clone(),
            url: format!("{}t10k-labels-idx1-ubyte.gz", server.url("good"))
        }
    );
    assert_eq!(std::fs::read(&path).unwrap(), body);
    assert_eq!(entries(dir.path()), ["t10k-labels-idx1-ubyte.gz"]);
    assert_eq!(rec.begun.len(), 1);
    assert_eq!(rec.begun[0].1, Some(body.len() as u64));
    assert_eq!(rec.bytes, body.len() as u64);
    assert_eq!(rec.outcomes, [Ok(())]);

    let again = dl
        .fetch(&MNIST, labels_file(), dir.path(), &mut NoProgress)
        .unwrap();
    assert_eq!(again, Fetched::AlreadyPresent(path));
    assert_eq!(
        server.requests().len(),
        1,
        "a valid file is not downloaded again"
    );
}

#[test]
fn corrupt_bytes_leave_no_file_and_a_clear_error() {
    let server = Server::start(labels_bytes());
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("mnist");
    let err = downloader(&[server.url("corrupt")])
        .fetch(&MNIST, labels_file(), &target, &mut NoProgress)
        .unwrap_err();
    let DataError::DownloadFailed { ref attempts, .. } = err else {
        panic!("{err}")
    };
    assert_eq!(
        attempts.len(),
        1,
        "wrong bytes are not retried on the same mirror"
    );
    let msg = err.to_string();
    assert!(msg.contains("/corrupt/t10k-labels-idx1-ubyte.gz"), "{msg}");
    assert!(msg.contains("wrong content: SHA-256"), "{msg}");
    assert!(
        msg.contains("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
        "{msg}"
    );
    assert!(msg.contains("by hand"), "{msg}");
    assert!(
        entries(&target).is_empty(),
        "left behind: {:?}",
        entries(&target)
    );
}

#[test]
fn dropped_connection_is_retried_then_reported_with_no_file_left() {
    let server = Server::start(labels_bytes());
    let dir = tempfile::tempdir().unwrap();
    let err = downloader(&[server.url("drop")])
        .attempts_per_mirror(3)
        .fetch(&MNIST, labels_file(), dir.path(), &mut NoProgress)
        .unwrap_err();
    let DataError::DownloadFailed { ref attempts, .. } = err else {
        panic!("{err}")
    };
    // Three tries, reported once with their count.
    assert_eq!(attempts.len(), 1, "{err}");
    assert!(
        attempts[0].1.contains("connection") && attempts[0].1.ends_with("3 attempts"),
        "{err}"
    );
    assert_eq!(server.requests().len(), 3);
    assert!(
        entries(dir.path()).is_empty(),
        "left behind: {:?}",
        entries(dir.path())
    );
}

#[test]
fn failing_mirrors_fall_through_to_a_good_one() {
    let body = labels_bytes();
    let server = Server::start(body.clone());
    let dir = tempfile::tempdir().unwrap();
    let mirrors = [
        server.url("drop"),
        server.url("missing"),
        server.url("corrupt"),
        server.url("good"),
    ];
    let fetched = downloader(&mirrors)
        .fetch(&MNIST, labels_file(), dir.path(), &mut NoProgress)
        .unwrap();
    assert!(matches!(fetched, Fetched::Downloaded { ref url, .. } if url.contains("/good/")));
    assert_eq!(std::fs::read(fetched.path()).unwrap(), body);
    assert_eq!(entries(dir.path()), ["t10k-labels-idx1-ubyte.gz"]);
    let modes: Vec<String> = server
        .requests()
        .iter()
        .map(|p| p.split('/').nth(1).unwrap().to_string())
        .collect();
    assert_eq!(modes, ["drop", "drop", "missing", "corrupt", "good"]);
}

#[test]
fn an_invalid_local_copy_is_replaced_only_by_a_valid_download() {
    let body = labels_bytes();
    let server = Server::start(body.clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t10k-labels-idx1-ubyte.gz");
    std::fs::write(&path, b"stale").unwrap();
    // A failing download keeps the old file as it was.
    assert!(
        downloader(&[server.url("corrupt")])
            .fetch(&MNIST, labels_file(), dir.path(), &mut NoProgress)
            .is_err()
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"stale");
    downloader(&[server.url("good")])
        .fetch(&MNIST, labels_file(), dir.path(), &mut NoProgress)
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), body);
}

#[test]
fn offline_error_lists_mirrors_and_manual_routes() {
    // A port with nothing listening: connection refused, as when offline.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/", l.local_addr().unwrap())
    };
    let dir = tempfile::tempdir().unwrap();
    let file = FASHION_MNIST.file(Split::Train, FileKind::Images).unwrap();
    let err = downloader(std::slice::from_ref(&closed))
        .fetch(&FASHION_MNIST, file, dir.path(), &mut NoProgress)
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("{closed}train-images-idx3-ubyte.gz")),
        "{msg}"
    );
    assert!(
        msg.contains("apt-get install dataset-fashion-mnist"),
        "{msg}"
    );
    assert!(msg.contains("fashion-mnist/"), "{msg}");
    assert!(entries(dir.path()).is_empty());
}

#[test]
fn resolver_downloads_missing_files_into_its_root() {
    let body = labels_bytes();
    let server = Server::start(body.clone());
    let root = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let resolver = Resolver::new()
        .root(root.path())
        .ignore_env()
        .cache_root(empty.path())
        .system_root(empty.path())
        .downloader(downloader(&[server.url("good")]));
    let path = resolver.locate(&MNIST, labels_file()).unwrap();
    assert_eq!(
        path,
        root.path().join("mnist").join("t10k-labels-idx1-ubyte.gz")
    );
    assert_eq!(std::fs::read(&path).unwrap(), body);
    // Found on disk the second time: no new request.
    resolver.locate(&MNIST, labels_file()).unwrap();
    assert_eq!(server.requests().len(), 1);
}

/// Accepts connections and never answers, like a mirror behind a firewall that drops packets
/// after the handshake; holds each connection open until the test ends.
fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    base
}

#[test]
fn an_unreachable_network_costs_the_give_up_budget_not_every_timeout() {
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/", l.local_addr().unwrap())
    };
    let mirrors = [silent_server(), closed, silent_server()];
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let err = Downloader::new()
        .mirrors(mirrors.iter().cloned())
        .attempts_per_mirror(3)
        .retry_pause(Duration::from_millis(100))
        .timeouts(Duration::from_secs(30), Duration::from_secs(600))
        .give_up_after(Duration::from_millis(800))
        .fetch(&MNIST, labels_file(), dir.path(), &mut NoProgress)
        .unwrap_err();
    let elapsed = started.elapsed();
    // Without the budget: 9 attempts, the silent ones 30 s each.
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    assert!(elapsed >= Duration::from_millis(700), "took {elapsed:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("not tried: no server answered within 0.8 s"),
        "{msg}"
    );
    assert!(entries(dir.path()).is_empty());
}
