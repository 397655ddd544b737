//! A labelled image set with MNIST's layout: 28 x 28 grey images, labels 0..=9.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use super::DataError;
use super::idx::read_idx;
use super::sparse::{MAX_DENSITY, SparseRows};

/// Pixels per image (28 x 28).
pub const PIXELS: usize = 784;
/// Number of classes.
pub const CLASSES: usize = 10;

/// The four files of an MNIST-layout set, by their standard base names.
pub const FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// What each of [`FILES`] holds, for messages.
pub const ROLES: [&str; 4] = [
    "training images",
    "training labels",
    "test images",
    "test labels",
];

/// One split (train or test).
#[derive(Debug, Clone)]
pub struct Split {
    /// Pixel intensities scaled to [0, 1], shape `[samples, 784]`.
    pub images: Array2<f32>,
    /// Class of each sample, 0..=9, length `samples`.
    pub labels: Vec<u8>,
    /// `images` as sparse rows, made on first use when sparse enough (see [`Split::sparse`]).
    sparse: OnceLock<Option<SparseRows>>,
}

impl Split {
    /// A split of `images` (`[samples, 784]`, values in [0, 1]) and their `labels`.
    pub fn new(images: Array2<f32>, labels: Vec<u8>) -> Self {
        Self {
            images,
            labels,
            sparse: OnceLock::new(),
        }
    }

    /// The images as sparse rows if at most [`MAX_DENSITY`] of their pixels are nonzero (then
    /// the first layer's products skip the zeros), else `None`. Made once, on first call;
    /// `images` must not change afterwards.
    pub fn sparse(&self) -> Option<&SparseRows> {
        self.sparse
            .get_or_init(|| {
                let rows = SparseRows::from_dense(self.images.view());
                (rows.density() <= MAX_DENSITY).then_some(rows)
            })
            .as_ref()
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when the split holds no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Samples per class, length [`CLASSES`].
    pub fn class_counts(&self) -> Vec<u32> {
        let mut counts = vec![0u32; CLASSES];
        for &l in &self.labels {
            counts[usize::from(l)] += 1;
        }
        counts
    }
}

/// What identifies a data set inside a session: enough to tell whether two runs saw the same data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetIdentity {
    /// Name, from the folder it was loaded from (e.g. `mnist`, `fashion-mnist`).
    pub name: String,
    /// SHA-256 (hex) of each decompressed file, in the order of [`FILES`].
    pub sha256: Vec<String>,
    /// Training samples.
    pub train_samples: usize,
    /// Test samples.
    pub test_samples: usize,
    /// Training samples per class, length [`CLASSES`].
    pub train_class_counts: Vec<u32>,
}

impl DatasetIdentity {
    /// The first way `other` is not the same data as this (sample counts, then class
    /// counts, then the files' SHA-256), in words for an error message; `None` when it is the
    /// same data. Names may differ: they come from folder names.
    pub fn difference(&self, other: &Self) -> Option<String> {
        if self.train_samples != other.train_samples {
            return Some(format!(
                "{} training samples against {}",
                self.train_samples, other.train_samples
            ));
        }
        if self.test_samples != other.test_samples {
            return Some(format!(
                "{} test samples against {}",
                self.test_samples, other.test_samples
            ));
        }
        if self.train_class_counts.len() != other.train_class_counts.len() {
            return Some(format!(
                "{} classes against {}",
                self.train_class_counts.len(),
                other.train_class_counts.len()
            ));
        }
        let classes = self
            .train_class_counts
            .iter()
            .zip(&other.train_class_counts);
        if let Some((c, (a, b))) = classes.enumerate().find(|(_, (a, b))| a != b) {
            return Some(format!("{a} training samples of class {c} against {b}"));
        }
        if self.sha256 != other.sha256 {
            let file = self
                .sha256
                .iter()
                .zip(&other.sha256)
                .position(|(a, b)| a != b);
            return Some(match file.and_then(|i| ROLES.get(i)) {
                Some(role) => format!("the {role} file's SHA-256 differs"),
                None => "the files differ (SHA-256)".into(),
            });
        }
        None
    }
}

/// A loaded data set.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Training split (60,000 samples for MNIST).
    pub train: Split,
    /// Test split (10,000 samples for MNIST).
    pub test: Split,
    /// Identity recorded in sessions.
    pub identity: DatasetIdentity,
    /// Folder the files came from.
    pub dir: PathBuf,
    /// Things worth telling the user (which of two copies of a file was read), one sentence
    /// each, naming the files.
    pub notes: Vec<String>,
    /// Things that look wrong but do not stop loading (a label file of one class), one
    /// sentence each, naming the file.
    pub warnings: Vec<String>,
}

/// The names the file `base` (one of [`FILES`]) may have, in order of preference: the
/// standard name gzipped and raw, then the name 7-Zip gives when it extracts the archive
/// (`train-images.idx3-ubyte`), gzipped and raw.
pub fn names_for(base: &str) -> [String; 4] {
    let dotted = base.replacen("-idx", ".idx", 1);
    [
        format!("{base}.gz"),
        base.to_string(),
        format!("{dotted}.gz"),
        dotted,
    ]
}

/// The files in `dir` under the names of `base` ([`names_for`]), preferred first.
pub fn files_for(dir: &Path, base: &str) -> Vec<PathBuf> {
    names_for(base)
        .iter()
        .map(|n| dir.join(n))
        .filter(|p| p.is_file())
        .collect()
}

/// Path of `base` in `dir`: the first of its names ([`names_for`]) that is there.
pub fn file_in(dir: &Path, base: &str) -> Option<PathBuf> {
    files_for(dir, base).into_iter().next()
}

/// True when `dir` holds all four files (gzipped or raw, under either name).
pub fn has_files(dir: &Path) -> bool {
    FILES.iter().all(|f| file_in(dir, f).is_some())
}

/// The error for a folder without any file for `base`: the role and every name looked for.
pub fn missing(dir: &Path, base: &str) -> DataError {
    let role = FILES
        .iter()
        .position(|f| *f == base)
        .and_then(|i| ROLES.get(i))
        .copied()
        .unwrap_or("data");
    DataError::MissingFile {
        dir: dir.to_path_buf(),
        role: role.to_string(),
        names: names_for(base).to_vec(),
    }
}

impl Dataset {
    /// Loads the four IDX files from `dir`; the set is named after the folder. Each file may
    /// be gzipped or raw and under its standard or 7-Zip's dotted name ([`names_for`]); when
    /// several are there, the first is read and [`Dataset::notes`] says so.
    ///
    /// # Errors
    /// [`DataError::MissingFile`] naming the role of an absent file, else any error of
    /// [`read_idx`], an image size other than 28 x 28, a label outside 0..=9, an empty split,
    /// or image and label counts that disagree.
    pub fn load(dir: &Path) -> Result<Self, DataError> {
        let mut notes = Vec::new();
        let mut paths = Vec::new();
        for base in FILES {
            let found = files_for(dir, base);
            let Some(first) = found.first() else {
                return Err(missing(dir, base));
            };
            if found.len() > 1 {
                let name = |p: &PathBuf| {
                    p.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                };
                let all: Vec<String> = found.iter().map(name).collect();
                let here = if all.len() == 2 { "both" } else { "all" };
                notes.push(format!(
                    "{}: {} are {here} here; using {}",
                    dir.display(),
                    all.join(" and "),
                    name(first)
                ));
            }
            paths.push(first.clone());
        }
        let (train, h0, h1) = load_split(&paths[0], &paths[1])?;
        let (test, h2, h3) = load_split(&paths[2], &paths[3])?;
        let mut warnings = Vec::new();
        for (split, labels) in [(&train, &paths[1]), (&test, &paths[3])] {
            if let Some(&first) = split.labels.first()
                && split.labels.iter().all(|&l| l == first)
            {
                warnings.push(format!(
                    "{}: every one of its {} labels is class {first}: is this the right file?",
                    labels.display(),
                    split.len()
                ));
            }
        }
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "data".to_string());
        let identity = DatasetIdentity {
            name,
            sha256: vec![h0, h1, h2, h3],
            train_samples: train.len(),
            test_samples: test.len(),
            train_class_counts: train.class_counts(),
        };
        Ok(Self {
            train,
            test,
            identity,
            dir: dir.to_path_buf(),
            notes,
            warnings,
        })
    }
}

fn load_split(images: &Path, labels: &Path) -> Result<(Split, String, String), DataError> {
    let img = read_idx(images, 3)?;
    let (n, rows, cols) = (img.dims[0], img.dims[1], img.dims[2]);
    if rows != 28 || cols != 28 {
        return Err(DataError::WrongImageSize {
            path: images.to_path_buf(),
            rows,
            cols,
        });
    }
    if n == 0 {
        return Err(DataError::Empty {
            path: images.to_path_buf(),
        });
    }
    let lab = read_idx(labels, 1)?;
    if lab.dims[0] != n {
        return Err(DataError::CountMismatch {
            images: images.to_path_buf(),
            labels: labels.to_path_buf(),
            n_images: n,
            n_labels: lab.dims[0],
        });
    }
    if let Some((index, &label)) = lab
        .data
        .iter()
        .enumerate()
        .find(|&(_, &l)| usize::from(l) >= CLASSES)
    {
        return Err(DataError::BadLabel {
            path: labels.to_path_buf(),
            index,
            label,
        });
    }
    let pixels: Vec<f32> = img.data.iter().map(|&p| f32::from(p) / 255.0).collect();
    let images_arr =
        Array2::from_shape_vec((n, PIXELS), pixels).map_err(|_| DataError::Truncated {
            path: images.to_path_buf(),
            expected: (n * PIXELS) as u64,
            actual: img.data.len() as u64,
        })?;
    Ok((Split::new(images_arr, lab.data), img.sha256, lab.sha256))
}
