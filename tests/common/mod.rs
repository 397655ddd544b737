//! Shared test helpers: the real MNIST from ../shared/datasets/mnist (or SAMPLE_SETS_DATA).
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use sample_sets::data::Dataset;

/// The folder holding the real MNIST files.
pub fn mnist_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("SAMPLE_SETS_DATA").filter(|v| !v.is_empty()) {
        return PathBuf::from(d);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets/mnist")
}

/// MNIST, loaded once per test binary.
pub fn mnist() -> &'static Dataset {
    static DATA: OnceLock<Dataset> = OnceLock::new();
    DATA.get_or_init(|| match Dataset::load(&mnist_dir()) {
        Ok(d) => d,
        Err(e) => panic!("the real MNIST is needed for tests: {e}"),
    })
}

/// The path of the built `sample-sets` binary.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sample-sets"))
}
