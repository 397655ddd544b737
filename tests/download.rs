//! The MNIST downloader against a real HTTP server on 127.0.0.1 serving the real files, and
//! truncated and corrupted copies of them.

mod common;

use std::path::Path;
use std::sync::atomic::AtomicBool;

use sample_sets::data::Dataset;
use sample_sets::data::download::{
    DownloadError, DownloadOptions, FetchFailure, MNIST_FILES, download_mnist, download_mnist_with,
};

/// Serves `root` over HTTP on 127.0.0.1 until dropped; returns the base URL.
struct Server {
    server: std::sync::Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
    base: String,
}

impl Server {
    fn start(root: &Path) -> Self {
        let server = std::sync::Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let base = format!("http://{}/", server.server_addr().to_ip().unwrap());
        let root = root.to_path_buf();
        let s = server.clone();
        let thread = std::thread::spawn(move || {
            // Bounded: at most 200 requests, then the server stops by itself.
            for _ in 0..200 {
                let Ok(req) = s.recv() else { break };
                let path = root.join(req.url().trim_start_matches('/'));
                let _ = match std::fs::read(&path) {
                    Ok(bytes) => req.respond(tiny_http::Response::from_data(bytes)),
                    Err(_) => req.respond(tiny_http::Response::empty(404)),
                };
            }
        });
        Self {
            server,
            thread: Some(thread),
            base,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn mirror_tree() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let src = common::mnist_dir();
    for sub in ["good", "truncated", "corrupt"] {
        std::fs::create_dir(root.path().join(sub)).unwrap();
    }
    for (name, _) in MNIST_FILES {
        let file = format!("{name}.gz");
        let bytes = std::fs::read(src.join(&file)).unwrap();
        std::fs::write(root.path().join("good").join(&file), &bytes).unwrap();
        std::fs::write(
            root.path().join("truncated").join(&file),
            &bytes[..bytes.len() * 2 / 3],
        )
        .unwrap();
        // Same length, a few bytes changed in the middle of the compressed stream.
        let mut bad = bytes.clone();
        let mid = bad.len() / 2;
        for b in &mut bad[mid..mid + 16] {
            *b = b.wrapping_add(1);
        }
        std::fs::write(root.path().join("corrupt").join(&file), &bad).unwrap();
    }
    root
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn downloads_verifies_and_loads_and_falls_back_past_bad_mirrors() {
    let tree = mirror_tree();
    let server = Server::start(tree.path());
    let dest = tempfile::tempdir().unwrap();
    let mirrors = vec![
        format!("{}truncated/", server.base),
        format!("{}corrupt/", server.base),
        format!("{}good/", server.base),
    ];
    let mut seen = 0u64;
    download_mnist(
        dest.path(),
        &mirrors,
        &mut |p| seen = seen.max(p.bytes),
        &AtomicBool::new(false),
    )
    .unwrap();
    assert!(seen > 9_000_000, "progress reported {seen} bytes");
    let d = Dataset::load(dest.path()).unwrap();
    assert_eq!(d.train.len(), 60_000);
    assert_eq!(d.identity.sha256, common::mnist().identity.sha256);
}

#[test]
fn truncated_or_corrupt_downloads_leave_no_file() {
    let tree = mirror_tree();
    let server = Server::start(tree.path());
    for bad in ["truncated", "corrupt", "missing"] {
        let dest = tempfile::tempdir().unwrap();
        let mirrors = vec![format!("{}{bad}/", server.base)];
        let err = download_mnist(dest.path(), &mirrors, &mut |_| {}, &AtomicBool::new(false))
            .unwrap_err();
        assert!(
            matches!(err, DownloadError::AllMirrorsFailed { .. }),
            "{bad}: {err}"
        );
        assert!(err.to_string().contains("train-images-idx3-ubyte"), "{err}");
        assert_eq!(
            files_in(dest.path()),
            Vec::<String>::new(),
            "{bad}: partial files left"
        );
    }
}

#[test]
fn a_cancelled_download_writes_nothing() {
    let tree = mirror_tree();
    let server = Server::start(tree.path());
    let dest = tempfile::tempdir().unwrap();
    let err = download_mnist(
        dest.path(),
        &[format!("{}good/", server.base)],
        &mut |_| {},
        &AtomicBool::new(true),
    )
    .unwrap_err();
    assert!(matches!(err, DownloadError::Cancelled));
    assert!(files_in(dest.path()).is_empty());
}

/// Serves the real `train-images-idx3-ubyte.gz` (the first file fetched) announcing its whole
/// length but sending only the first half, then stalling: a mirror that hangs mid-body. The
/// stall ends (the body is cut) when the server is dropped, or after 20 s at most (a safety
/// valve, so that a client without timeouts fails instead of hanging the test; `valve` then
/// records that the client waited that long).
struct StallingServer {
    server: std::sync::Arc<tiny_http::Server>,
    release: std::sync::Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
    valve: std::sync::Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    base: String,
}

struct StallingBody {
    data: Vec<u8>,
    sent: usize,
    release: std::sync::Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
    valve: std::sync::Arc<AtomicBool>,
}

impl std::io::Read for StallingBody {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let half = self.data.len() / 2;
        if self.sent < half {
            let n = buf.len().min(half - self.sent);
            buf[..n].copy_from_slice(&self.data[self.sent..self.sent + n]);
            self.sent += n;
            return Ok(n);
        }
        let (lock, cv) = &*self.release;
        let released = lock.lock().unwrap();
        let (released, _) = cv
            .wait_timeout_while(released, std::time::Duration::from_secs(20), |r| !*r)
            .unwrap();
        if !*released {
            self.valve.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(0)
    }
}

impl StallingServer {
    fn start() -> Self {
        let server = std::sync::Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let base = format!("http://{}/", server.server_addr().to_ip().unwrap());
        let release =
            std::sync::Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
        let data = std::fs::read(common::mnist_dir().join("train-images-idx3-ubyte.gz")).unwrap();
        let valve = std::sync::Arc::new(AtomicBool::new(false));
        let (s, r, v) = (server.clone(), release.clone(), valve.clone());
        let thread = std::thread::spawn(move || {
            for _ in 0..20 {
                let Ok(req) = s.recv() else { break };
                let body = StallingBody {
                    data: data.clone(),
                    sent: 0,
                    release: r.clone(),
                    valve: v.clone(),
                };
                let response = tiny_http::Response::new(
                    tiny_http::StatusCode(200),
                    Vec::new(),
                    body,
                    Some(data.len()),
                    None,
                );
                let _ = req.respond(response);
            }
        });
        Self {
            server,
            release,
            valve,
            thread: Some(thread),
            base,
        }
    }

    /// True when a client waited for the stalled body until the safety valve cut it.
    fn waited_for_the_valve(&self) -> bool {
        self.valve.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Drop for StallingServer {
    fn drop(&mut self) {
        let (lock, cv) = &*self.release;
        *lock.lock().unwrap() = true;
        cv.notify_all();
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn a_mirror_stalling_mid_body_times_out() {
    let server = StallingServer::start();
    let dest = tempfile::tempdir().unwrap();
    let options = DownloadOptions {
        read_timeout: std::time::Duration::from_secs(1),
        ..DownloadOptions::default()
    };
    let err = download_mnist_with(
        dest.path(),
        std::slice::from_ref(&server.base),
        &options,
        &mut |_| {},
        &AtomicBool::new(false),
    )
    .unwrap_err();
    match &err {
        DownloadError::AllMirrorsFailed { attempts, .. } => {
            assert_eq!(attempts.len(), 1, "{err}");
            assert!(
                matches!(attempts[0].failure, FetchFailure::TimedOut(_)),
                "{err}"
            );
        }
        other => panic!("expected a timeout, got {other}"),
    }
    assert!(
        !server.waited_for_the_valve(),
        "the download waited until the body was cut"
    );
    assert!(files_in(dest.path()).is_empty());
}

#[test]
fn a_download_waiting_on_a_stalled_mirror_can_be_cancelled() {
    let server = StallingServer::start();
    let dest = tempfile::tempdir().unwrap();
    let cancel = std::sync::Arc::new(AtomicBool::new(false));
    let received = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    // Cancel from another thread (as the app's button does) once half the file has come
    // and the mirror has gone quiet; the default read timeout (30 s) is far off.
    let canceller = {
        let (cancel, received) = (cancel.clone(), received.clone());
        std::thread::spawn(move || {
            for _ in 0..2000 {
                if received.load(std::sync::atomic::Ordering::Relaxed) > 4_000_000 {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            std::thread::sleep(std::time::Duration::from_millis(300));
            cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        })
    };
    let err = download_mnist_with(
        dest.path(),
        std::slice::from_ref(&server.base),
        &DownloadOptions::default(),
        &mut |p| received.store(p.bytes, std::sync::atomic::Ordering::Relaxed),
        &cancel,
    )
    .unwrap_err();
    canceller.join().unwrap();
    assert!(matches!(err, DownloadError::Cancelled), "{err}");
    // Returned while the mirror was still stalling, not when its body was finally cut.
    assert!(
        !server.waited_for_the_valve(),
        "the cancel was only seen after the stall"
    );
    assert!(files_in(dest.path()).is_empty());
}
