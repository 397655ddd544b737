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

/// The decompressed bytes of one of the real MNIST files (`name` without `.gz`).
fn real_raw(name: &str) -> Vec<u8> {
    let gz = std::fs::read(common::mnist_dir().join(format!("{name}.gz"))).unwrap();
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz.as_slice()), &mut raw).unwrap();
    raw
}

/// Symlinks the real `<name>.gz` files into `dir`.
fn link_real(dir: &std::path::Path, names: &[&str]) {
    for n in names {
        let f = format!("{n}.gz");
        std::os::unix::fs::symlink(common::mnist_dir().join(&f), dir.join(&f)).unwrap();
    }
}

const NAMES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// `train` for one epoch of mnist-2x20-ce on the data in `dir`; its stderr and success.
fn train_on(dir: &std::path::Path) -> (bool, String) {
    let out = dir.join("run.ron");
    let o = std::process::Command::new(common::bin())
        .args([
            "train",
            "--preset",
            "mnist-2x20-ce",
            "--epochs",
            "1",
            "--probe",
            "100",
        ])
        .args(["--threads", "1", "--quiet", "--data"])
        .arg(dir)
        .arg("--out")
        .arg(&out)
        .env_remove("SAMPLE_SETS_DATA")
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn an_html_error_page_saved_under_an_mnist_name_is_called_a_web_page() {
    let dir = tempfile::tempdir().unwrap();
    link_real(dir.path(), &NAMES[1..]);
    // What a mirror sends instead of the file when the address is wrong.
    let page = "<!DOCTYPE html>\n<html lang=\"en\">\n<head><title>404 Not Found</title></head>\n\
                <body><h1>Not Found</h1><p>The requested URL was not found on this server.</p>\
                </body>\n</html>\n";
    let p = dir.path().join("train-images-idx3-ubyte.gz");
    std::fs::write(&p, page).unwrap();
    for err in [
        read_idx(&p, 3).unwrap_err(),
        Dataset::load(dir.path()).unwrap_err(),
    ] {
        let msg = err.to_string();
        assert!(
            msg.contains("train-images-idx3-ubyte.gz") && msg.contains("HTML"),
            "{msg}"
        );
        assert!(!msg.contains("magic"), "{msg}");
    }
}

#[test]
fn files_under_7zips_dotted_names_load_or_the_missing_role_is_named() {
    let dir = tempfile::tempdir().unwrap();
    // 7-Zip extracts train-images-idx3-ubyte.gz as train-images.idx3-ubyte.
    for n in NAMES {
        let dotted = n.replacen("-idx", ".idx", 1);
        std::fs::write(dir.path().join(dotted), real_raw(n)).unwrap();
    }
    let d = Dataset::load(dir.path()).unwrap();
    assert_eq!(d.identity.sha256, common::mnist().identity.sha256);
    assert_eq!(d.train.len(), 60_000);
    let (found, _) = sample_sets::data::locate(Some(dir.path()), "mnist").unwrap();
    assert_eq!(found, dir.path());
    std::fs::remove_file(dir.path().join("t10k-labels.idx1-ubyte")).unwrap();
    for err in [
        Dataset::load(dir.path()).unwrap_err(),
        sample_sets::data::locate(Some(dir.path()), "mnist").unwrap_err(),
    ] {
        let msg = err.to_string();
        assert!(
            msg.contains("test labels")
                && msg.contains("t10k-labels-idx1-ubyte")
                && msg.contains("t10k-labels.idx1-ubyte"),
            "{msg}"
        );
    }
}

#[test]
fn when_both_a_file_and_its_gz_are_there_the_one_used_is_named() {
    let dir = tempfile::tempdir().unwrap();
    link_real(dir.path(), &NAMES);
    let raw = dir.path().join("train-labels-idx1-ubyte");
    std::fs::write(&raw, real_raw("train-labels-idx1-ubyte")).unwrap();
    let (ok, err) = train_on(dir.path());
    assert!(ok, "{err}");
    let note = err
        .lines()
        .find(|l| l.starts_with("note:") && l.contains("train-labels-idx1-ubyte"))
        .unwrap_or_else(|| panic!("no note: {err}"));
    assert!(note.contains("using train-labels-idx1-ubyte.gz"), "{note}");
}

#[test]
fn a_label_file_of_one_class_gets_a_warning() {
    // The real test split cut down to its 3s: images and labels of one class only.
    let dir = tempfile::tempdir().unwrap();
    link_real(dir.path(), &NAMES[..2]);
    let images = real_raw("t10k-images-idx3-ubyte");
    let labels = real_raw("t10k-labels-idx1-ubyte");
    let threes: Vec<usize> = (0..10_000).filter(|&i| labels[8 + i] == 3).collect();
    let n = threes.len() as u32;
    let mut img = vec![0, 0, 8, 3];
    img.extend(n.to_be_bytes());
    img.extend(28u32.to_be_bytes());
    img.extend(28u32.to_be_bytes());
    let mut lab = vec![0, 0, 8, 1];
    lab.extend(n.to_be_bytes());
    for &i in &threes {
        img.extend(&images[16 + i * 784..16 + (i + 1) * 784]);
        lab.push(3);
    }
    std::fs::write(dir.path().join("t10k-images-idx3-ubyte"), img).unwrap();
    std::fs::write(dir.path().join("t10k-labels-idx1-ubyte"), lab).unwrap();
    let (ok, err) = train_on(dir.path());
    assert!(ok, "{err}");
    let warning = err
        .lines()
        .find(|l| l.starts_with("warning:") && l.contains("t10k-labels-idx1-ubyte"))
        .unwrap_or_else(|| panic!("no warning: {err}"));
    assert!(warning.contains("class 3"), "{warning}");
}
