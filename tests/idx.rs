//! IDX reading on the real MNIST files, and on broken copies of them.

mod common;

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use sample_sets::data::idx::read_idx;
use sample_sets::data::{DataError, Dataset};

#[test]
fn mnist_has_the_documented_shapes_labels_and_class_counts() {
    let d = common::mnist();
    assert_eq!(d.train.images.dim(), (60_000, 784));
    assert_eq!(d.test.images.dim(), (10_000, 784));
    assert_eq!(&d.train.labels[..10], &[5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    assert_eq!(&d.test.labels[..10], &[7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    assert_eq!(
        d.train.class_counts(),
        vec![5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    );
    let mean = d.train.images.iter().map(|&v| f64::from(v)).sum::<f64>() / (60_000.0 * 784.0);
    assert!((mean - 0.13066).abs() < 1e-4, "mean pixel {mean}");
    assert!(d.train.images.iter().all(|&v| (0.0..=1.0).contains(&v)));
    // The identity records the SHA-256 of the decompressed files, as listed in the data README.
    assert_eq!(
        d.identity.sha256[0],
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"
    );
    assert_eq!(
        d.identity.sha256[3],
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"
    );
    assert_eq!(d.identity.name, "mnist");
}

fn raw_labels() -> Vec<u8> {
    let a = read_idx(&common::mnist_dir().join("train-labels-idx1-ubyte.gz"), 1).unwrap();
    let mut bytes = vec![0, 0, 8, 1];
    bytes.extend((a.dims[0] as u32).to_be_bytes());
    bytes.extend(&a.data);
    bytes
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn truncated_file_is_reported_as_truncated_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = raw_labels();
    for (name, data) in [
        ("cut.idx", bytes[..bytes.len() - 100].to_vec()),
        ("cut.idx.gz", gz(&bytes[..bytes.len() - 100])),
        ("header-only.idx", bytes[..6].to_vec()),
    ] {
        let p = dir.path().join(name);
        std::fs::write(&p, data).unwrap();
        let err = read_idx(&p, 1).unwrap_err();
        assert!(matches!(err, DataError::Truncated { .. }), "{name}: {err}");
        let msg = err.to_string();
        assert!(msg.contains(name) && msg.contains("truncated"), "{msg}");
    }
}

#[test]
fn wrong_magic_and_wrong_rank_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = raw_labels();
    bytes[0] = 0x50;
    let p = dir.path().join("magic.idx");
    std::fs::write(&p, &bytes).unwrap();
    let err = read_idx(&p, 1).unwrap_err();
    assert!(matches!(err, DataError::BadMagic { .. }), "{err}");
    assert!(err.to_string().contains("magic.idx"));
    // A label file where an image file is expected.
    let p = dir.path().join("labels-as-images.idx");
    std::fs::write(&p, raw_labels()).unwrap();
    let err = read_idx(&p, 3).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::BadRank {
                found: 1,
                expected: 3,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn hostile_header_sizes_are_refused_without_allocating() {
    let dir = tempfile::tempdir().unwrap();
    // 4 billion x 4 billion x 4 billion bytes declared, 20 bytes present.
    let p = dir.path().join("huge.idx");
    let mut bytes = vec![0, 0, 8, 3];
    for _ in 0..3 {
        bytes.extend(u32::MAX.to_be_bytes());
    }
    bytes.extend([0u8; 8]);
    std::fs::write(&p, &bytes).unwrap();
    let err = read_idx(&p, 3).unwrap_err();
    assert!(matches!(err, DataError::TooLarge { .. }), "{err}");
    // Plausible size, but the file is far shorter than the header says.
    let p = dir.path().join("short.idx");
    let mut bytes = vec![0, 0, 8, 3];
    for d in [60_000u32, 28, 28] {
        bytes.extend(d.to_be_bytes());
    }
    bytes.extend([0u8; 100]);
    std::fs::write(&p, &bytes).unwrap();
    let err = read_idx(&p, 3).unwrap_err();
    assert!(matches!(err, DataError::Truncated { .. }), "{err}");
}

#[test]
fn trailing_bytes_and_corrupt_gzip_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = raw_labels();
    bytes.extend([1, 2, 3]);
    let p = dir.path().join("long.idx");
    std::fs::write(&p, &bytes).unwrap();
    assert!(matches!(
        read_idx(&p, 1).unwrap_err(),
        DataError::TrailingBytes { .. }
    ));
    let mut z = gz(&raw_labels());
    let mid = z.len() / 2;
    for b in &mut z[mid..mid + 64] {
        *b ^= 0xa5;
    }
    let p = dir.path().join("corrupt.idx.gz");
    std::fs::write(&p, &z).unwrap();
    let err = read_idx(&p, 1).unwrap_err();
    assert!(err.to_string().contains("corrupt.idx.gz"), "{err}");
}

#[test]
fn image_and_label_count_mismatch_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let src = common::mnist_dir();
    for f in [
        "train-images-idx3-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    // Labels for only 59,999 samples.
    let full = raw_labels();
    let mut bytes = vec![0, 0, 8, 1];
    bytes.extend(59_999u32.to_be_bytes());
    bytes.extend(&full[8..8 + 59_999]);
    std::fs::write(dir.path().join("train-labels-idx1-ubyte"), &bytes).unwrap();
    let err = Dataset::load(dir.path()).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::CountMismatch {
                n_images: 60_000,
                n_labels: 59_999,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("train-labels-idx1-ubyte"));
}

#[test]
fn a_missing_file_names_the_folder_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let err = Dataset::load(dir.path()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("train-images-idx3-ubyte"), "{msg}");
}
