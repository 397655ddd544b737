//! Presets: everything that defines a run, from the paper's grid (embedded) or a user folder.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::measure::Schedule;
use crate::nn::{AdamConfig, Init, Loss};

pub mod memory;

pub use memory::{MAX_RUN_BYTES, MemoryNeed};

/// Most hidden layers a preset may ask for.
pub const MAX_HIDDEN_LAYERS: usize = 64;
/// Widest hidden layer a preset may ask for.
pub const MAX_WIDTH: usize = 4096;
/// Most epochs a preset may ask for.
pub const MAX_EPOCHS: u32 = 100_000;
/// Largest probe (all of MNIST's training set).
pub const MAX_PROBE: usize = 60_000;
/// Characters of the preset name kept in file names ([`Preset::file_stem`]): with the seed
/// (at most 20 digits) and a suffix such as `_node-composition-fractions_L64N4095.png`, far
/// below the 255 bytes file systems allow.
pub const MAX_STEM_NAME: usize = 120;
/// Longest preset name, in characters: a name is a label in lists, titles and figures, and a
/// megabyte one from a file made every frame of the app lay it out (1.3 GB of memory).
pub const MAX_NAME_CHARS: usize = 2000;

/// Everything that defines a run. Written into every session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preset {
    /// Name, e.g. `mnist-5x80-ce` (`<dataset>-<layers>x<width>-<loss>`).
    pub name: String,
    /// Data set looked for by name (e.g. `mnist`) unless a folder is given.
    pub dataset: String,
    /// Number of hidden ReLU layers.
    pub hidden_layers: usize,
    /// Nodes per hidden layer.
    pub width: usize,
    /// Training loss.
    pub loss: Loss,
    /// Minibatch size, samples.
    pub batch_size: usize,
    /// Training epochs (passes over the training set).
    pub epochs: u32,
    /// Optimiser hyper-parameters.
    pub adam: AdamConfig,
    /// Weight initialisation.
    pub init: Init,
    /// Seed of every random choice (initialisation, shuffling, probe).
    pub seed: u64,
    /// Training samples whose membership is kept per node and epoch (class-stratified).
    pub probe_size: usize,
    /// When to measure (before training, inside epoch 1, after every epoch). Preset files
    /// without it get [`Schedule::default`].
    #[serde(default)]
    pub schedule: Schedule,
}

/// A preset that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    /// No preset by that name.
    #[error("unknown preset '{name}' (try `sample-sets presets`)")]
    Unknown {
        /// Name asked for.
        name: String,
    },
    /// The file could not be read.
    #[error("{path}: cannot read preset: {source}")]
    Io {
        /// Preset file.
        path: PathBuf,
        /// I/O error.
        source: std::io::Error,
    },
    /// The file is not a valid preset.
    #[error("{origin}: malformed preset: {message}")]
    Malformed {
        /// File or embedded name.
        origin: String,
        /// Parser message with position.
        message: String,
    },
    /// A field is out of range.
    #[error("{origin}: {field} {problem}")]
    Invalid {
        /// File or embedded name.
        origin: String,
        /// Offending field.
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
}

macro_rules! embedded {
    ($($name:literal),* $(,)?) => {
        /// The paper's grid, embedded: (name, RON text).
        pub const EMBEDDED: &[(&str, &str)] = &[
            $(($name, include_str!(concat!("../presets/", $name, ".ron")))),*
        ];
    };
}

embedded!(
    "mnist-2x20-ce",
    "mnist-2x20-mse",
    "mnist-2x80-ce",
    "mnist-2x80-mse",
    "mnist-2x320-ce",
    "mnist-2x320-mse",
    "mnist-5x20-ce",
    "mnist-5x20-mse",
    "mnist-5x80-ce",
    "mnist-5x80-mse",
    "mnist-5x320-ce",
    "mnist-5x320-mse",
    "mnist-9x20-ce",
    "mnist-9x20-mse",
    "mnist-9x80-ce",
    "mnist-9x80-mse",
    "mnist-9x320-ce",
    "mnist-9x320-mse",
);

impl Preset {
    /// Parses and validates a preset from RON text; `origin` names it in errors.
    ///
    /// # Errors
    /// [`PresetError::Malformed`] for RON that does not describe a preset,
    /// [`PresetError::Invalid`] for fields out of range (see [`Preset::validate`]).
    pub fn from_ron(text: &str, origin: &str) -> Result<Self, PresetError> {
        let p: Preset = ron::from_str(text).map_err(|e| PresetError::Malformed {
            origin: origin.to_string(),
            message: crate::ron_error::describe(&e),
        })?;
        p.validate(origin)?;
        Ok(p)
    }

    /// Reads a preset file.
    ///
    /// # Errors
    /// [`PresetError::Io`] when unreadable, else as [`Preset::from_ron`].
    pub fn load(path: &Path) -> Result<Self, PresetError> {
        let text = std::fs::read_to_string(path).map_err(|source| PresetError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_ron(&text, &path.display().to_string())
    }

    /// The preset as pretty RON.
    pub fn to_ron(&self) -> String {
        ron::ser::to_string_pretty(self, ron::ser::PrettyConfig::default()).unwrap_or_default()
    }

    /// Checks every field's range ([`Preset::validate_fields`]) and that a run fits in memory
    /// and writes a session file that loads again ([`memory`]: the estimate by part and the
    /// limits, [`MAX_RUN_BYTES`] and [`crate::session::io::MAX_SESSION_BYTES`]).
    ///
    /// # Errors
    /// [`PresetError::Invalid`] naming the first offending field and the limit.
    pub fn validate(&self, origin: &str) -> Result<(), PresetError> {
        self.validate_fields(origin)?;
        memory::check(self).map_err(|(field, problem)| PresetError::Invalid {
            origin: origin.to_string(),
            field,
            problem,
        })
    }

    /// Checks every field's range: 1..=64 hidden layers, width 1..=4096, minibatch
    /// 1..=60,000, epochs 1..=100,000, a learning rate in (0, 10] and an epsilon that are
    /// normal f32 numbers (training flushes subnormal numbers to zero, so a subnormal epsilon
    /// divides by zero), betas in [0, 1), probe 1..=60,000, a schedule's records per doubling 1..=8, a non-empty
    /// name of at most [`MAX_NAME_CHARS`] characters, and a data set.
    /// A session's preset is checked this way when it is loaded: whether a run of it fits in
    /// memory matters only when it trains.
    ///
    /// # Errors
    /// [`PresetError::Invalid`] naming the first offending field.
    pub fn validate_fields(&self, origin: &str) -> Result<(), PresetError> {
        let bad = |field: &'static str, problem: String| {
            Err(PresetError::Invalid {
                origin: origin.to_string(),
                field,
                problem,
            })
        };
        if self.name.trim().is_empty() {
            return bad("name", "is empty".into());
        }
        let chars = self.name.chars().count();
        if chars > MAX_NAME_CHARS {
            return bad(
                "name",
                format!("has {chars} characters, more than {MAX_NAME_CHARS}"),
            );
        }

        if self.dataset.trim().is_empty() || self.dataset.contains(['/', '\\']) {
            return bad(
                "dataset",
                format!("'{}' is not a data set name", self.dataset),
            );
        }
        if !(1..=MAX_HIDDEN_LAYERS).contains(&self.hidden_layers) {
            return bad(
                "hidden_layers",
                format!("{} is outside 1..={MAX_HIDDEN_LAYERS}", self.hidden_layers),
            );
        }
        if !(1..=MAX_WIDTH).contains(&self.width) {
            return bad(
                "width",
                format!("{} is outside 1..={MAX_WIDTH}", self.width),
            );
        }
        if self.batch_size == 0 || self.batch_size > 60_000 {
            return bad(
                "batch_size",
                format!("{} is outside 1..=60000", self.batch_size),
            );
        }
        if !(1..=MAX_EPOCHS).contains(&self.epochs) {
            return bad(
                "epochs",
                format!("{} is outside 1..={MAX_EPOCHS}", self.epochs),
            );
        }
        let a = self.adam;
        if !(a.lr.is_normal() && a.lr > 0.0 && a.lr <= 10.0) {
            return bad(
                "adam.lr",
                format!(
                    "{} is not in [{:e}, 10] (the smallest normal f32 up to 10)",
                    a.lr,
                    f32::MIN_POSITIVE
                ),
            );
        }
        for (field, beta) in [("adam.beta1", a.beta1), ("adam.beta2", a.beta2)] {
            if !(0.0..1.0).contains(&beta) {
                return bad(field, format!("{beta} is not in [0, 1)"));
            }
        }
        if !(a.eps.is_normal() && a.eps > 0.0) {
            return bad(
                "adam.eps",
                format!(
                    "{:e} is below {:e}, the smallest normal f32 (training flushes smaller \
                     numbers to zero)",
                    a.eps,
                    f32::MIN_POSITIVE
                ),
            );
        }
        if !(1..=MAX_PROBE).contains(&self.probe_size) {
            return bad(
                "probe_size",
                format!("{} is outside 1..={MAX_PROBE}", self.probe_size),
            );
        }
        if let Err(problem) = self.schedule.check() {
            return bad("schedule", problem);
        }
        Ok(())
    }

    /// The start of a session file name for this preset: `<name>-seed<seed>`, with the name
    /// (which comes from a file) reduced to ASCII letters, digits and `-_.`, no leading dot, and
    /// at most [`MAX_STEM_NAME`] characters, so that the file name stays within the 255 bytes
    /// file systems allow whatever the name holds.
    pub fn file_stem(&self) -> String {
        let safe: String = self
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let safe: String = safe
            .trim_start_matches('.')
            .chars()
            .take(MAX_STEM_NAME)
            .collect();
        format!("{safe}-seed{}", self.seed)
    }

    /// The conventional name for this preset's shape: `<dataset>-<layers>x<width>-<loss>`.
    pub fn grid_name(&self) -> String {
        format!(
            "{}-{}x{}-{}",
            self.dataset,
            self.hidden_layers,
            self.width,
            self.loss.short_name()
        )
    }
}

/// All embedded presets, parsed, in grid order.
///
/// # Errors
/// Only if an embedded file is broken (a test guards against that).
pub fn builtin() -> Result<Vec<Preset>, PresetError> {
    EMBEDDED
        .iter()
        .map(|(name, text)| Preset::from_ron(text, &format!("embedded preset {name}")))
        .collect()
}

/// The user's preset folder (`<config dir>/presets`), if the platform has one.
pub fn user_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("org", "sample-sets", "sample-sets")
        .map(|d| d.config_dir().join("presets"))
}

/// Presets from `*.ron` files in `dir`, each parsed on its own: a broken file is reported
/// and does not hide the others. A missing folder gives nothing.
pub fn load_dir(dir: &Path) -> Vec<Result<Preset, PresetError>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .collect();
    paths.sort();
    paths.iter().map(|p| Preset::load(p)).collect()
}

/// Finds a preset by name: embedded first, then the user folders given.
///
/// # Errors
/// [`PresetError::Unknown`] when no preset has that name; a broken embedded preset.
pub fn find(name: &str, user_dirs: &[PathBuf]) -> Result<Preset, PresetError> {
    if let Some((_, text)) = EMBEDDED.iter().find(|(n, _)| *n == name) {
        return Preset::from_ron(text, &format!("embedded preset {name}"));
    }
    for dir in user_dirs {
        for p in load_dir(dir).into_iter().flatten() {
            if p.name == name {
                return Ok(p);
            }
        }
    }
    Err(PresetError::Unknown {
        name: name.to_string(),
    })
}
