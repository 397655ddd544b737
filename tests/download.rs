//! The MNIST downloader against a real HTTP server on 127.0.0.1 serving the real files, and
//! truncated and corrupted copies of them.

mod common;

use std::path::Path;
use std::sync::atomic::AtomicBool;

use sample_sets::data::Dataset;
use sample_sets::data::download::{DownloadError, MNIST_FILES, download_mnist};

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
