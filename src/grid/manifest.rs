//! The grid's definition, kept in `grid.ron` in the grid folder: every run's session file
//! name and full preset (seed and epochs included), so that a rerun, a status or a cluster
//! job knows what each run is meant to be without the presets at hand.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::GridError;
use crate::preset::Preset;

/// File name of the manifest inside a grid folder.
pub const MANIFEST_FILE: &str = "grid.ron";
/// The manifest's `format` field.
pub const MANIFEST_FORMAT: &str = "sample-sets grid";
/// Manifest schema written by this build; larger numbers are refused.
pub const MANIFEST_SCHEMA: u32 = 1;

/// Largest manifest accepted (16 MiB: a grid of thousands of runs is well under 1 MiB).
const MAX_MANIFEST_BYTES: u64 = 16 << 20;

/// One run of a grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridRun {
    /// Its session file, a plain name inside the grid folder: `<preset>-seed<seed>.ron`.
    pub file: String,
    /// The preset as run: its `seed` and `epochs` are this run's.
    pub preset: Preset,
}

impl GridRun {
    /// The run of `preset` (with its seed and epochs) and its file name.
    pub fn new(preset: Preset) -> Self {
        Self {
            file: format!("{}.ron", preset.file_stem()),
            preset,
        }
    }

    /// Relative training cost of one epoch, for ordering runs and estimating time left:
    /// the network's weights (every sample goes forward and back through each once per
    /// epoch, and forward once more to measure) plus a fixed part per epoch for what does not
    /// grow with the network (shuffling, reading MNIST rows, the 784-pixel input, saving),
    /// which dominates small networks.
    pub fn epoch_cost(&self) -> u64 {
        const FIXED: u64 = 100_000;
        let (h, w) = (self.preset.hidden_layers as u64, self.preset.width as u64);
        let weights = 784 * w + h.saturating_sub(1) * w * w + w * 10;
        weights + FIXED
    }
}

/// A grid's definition: its runs in the order they were added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`MANIFEST_FORMAT`].
    pub format: String,
    /// See [`MANIFEST_SCHEMA`].
    pub schema: u32,
    /// Every run, in the order added; file names are unique.
    pub runs: Vec<GridRun>,
}

impl Default for Manifest {
    fn default() -> Self {
        Self {
            format: MANIFEST_FORMAT.to_string(),
            schema: MANIFEST_SCHEMA,
            runs: Vec::new(),
        }
    }
}

/// The fields of two presets that differ, as "field old (asked: new)", comma-separated,
/// found through their RON form so that fields added to [`Preset`] are compared too.
pub fn preset_differences(old: &Preset, new: &Preset) -> String {
    let fields = |p: &Preset| -> Vec<(String, String)> {
        let value: Option<ron::Value> = ron::to_string(p).ok().and_then(|t| ron::from_str(&t).ok());
        match value {
            Some(ron::Value::Map(m)) => m
                .iter()
                .map(|(k, v)| {
                    let key = match k {
                        ron::Value::String(s) => s.clone(),
                        other => ron::to_string(other).unwrap_or_default(),
                    };
                    (key, ron::to_string(v).unwrap_or_default())
                })
                .collect(),
            _ => vec![(
                String::from("preset"),
                ron::to_string(p).unwrap_or_default(),
            )],
        }
    };
    let (a, b) = (fields(old), fields(new));
    let mut out: Vec<String> = Vec::new();
    for (k, v) in &a {
        match b.iter().find(|(k2, _)| k2 == k) {
            Some((_, v2)) if v2 == v => {}
            Some((_, v2)) => out.push(format!("{k} {v} (asked: {v2})")),
            None => out.push(format!("{k} {v} (asked: none)")),
        }
    }
    for (k, v2) in &b {
        if !a.iter().any(|(k1, _)| k1 == k) {
            out.push(format!("{k} none (asked: {v2})"));
        }
    }
    if out.is_empty() && old != new {
        out.push("another definition".into());
    }
    out.join(", ")
}

impl Manifest {
    /// The manifest's path in grid folder `dir`.
    pub fn path(dir: &Path) -> PathBuf {
        dir.join(MANIFEST_FILE)
    }

    /// Reads the manifest of grid folder `dir`; `None` when it has none.
    ///
    /// # Errors
    /// [`GridError::Io`] when it exists but cannot be read, [`GridError::Manifest`] when it
    /// is not a grid manifest, is from a newer version, does not parse, or names a run file
    /// twice or outside the folder.
    pub fn load(dir: &Path) -> Result<Option<Self>, GridError> {
        let path = Self::path(dir);
        let bad = |problem: String| GridError::Manifest {
            path: path.clone(),
            problem,
        };
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(GridError::Io {
                    path,
                    action: "cannot read",
                    source,
                });
            }
        };
        if bytes.len() as u64 > MAX_MANIFEST_BYTES {
            return Err(bad(format!(
                "{} bytes is more than the {MAX_MANIFEST_BYTES}-byte limit",
                bytes.len()
            )));
        }
        let text = String::from_utf8(bytes).map_err(|_| bad("not UTF-8 text".into()))?;
        let m: Manifest = ron::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if m.format != MANIFEST_FORMAT {
            return Err(bad(format!(
                "format is '{}', not '{MANIFEST_FORMAT}'",
                m.format
            )));
        }
        if m.schema > MANIFEST_SCHEMA {
            return Err(bad(format!(
                "schema {} is newer than this program understands ({MANIFEST_SCHEMA}); update Sample Sets",
                m.schema
            )));
        }
        for (i, r) in m.runs.iter().enumerate() {
            if !is_plain_file_name(&r.file) {
                return Err(bad(format!(
                    "run file '{}' is not a plain .ron name inside the folder",
                    r.file
                )));
            }
            if m.runs[..i].iter().any(|o| o.file == r.file) {
                return Err(bad(format!("run file '{}' is listed twice", r.file)));
            }
            r.preset
                .validate(&format!("{} (run {})", path.display(), r.file))
                .map_err(|e| bad(e.to_string()))?;
        }
        Ok(Some(m))
    }

    /// Writes the manifest into `dir` atomically.
    ///
    /// # Errors
    /// [`GridError::Session`] (an I/O error naming the file) when it cannot be written.
    pub fn save(&self, dir: &Path) -> Result<(), GridError> {
        let text =
            ron::ser::to_string_pretty(self, ron::ser::PrettyConfig::default()).map_err(|e| {
                GridError::Manifest {
                    path: Self::path(dir),
                    problem: e.to_string(),
                }
            })?;
        // The manifest is the grid's own file: each run of the grid rewrites it.
        crate::fs::write_atomic(
            &Self::path(dir),
            text.as_bytes(),
            crate::fs::Existing::Replace,
        )?;
        Ok(())
    }

    /// Adds `runs` (those not listed yet) and returns the index of each in [`Manifest::runs`].
    ///
    /// # Errors
    /// [`GridError::Changed`] when a run's file is listed with another preset (other epochs,
    /// another loss, ...): a grid keeps one definition per run. Nothing is added then.
    pub fn merge(&mut self, runs: &[GridRun]) -> Result<Vec<usize>, GridError> {
        for r in runs {
            if let Some(old) = self.runs.iter().find(|o| o.file == r.file)
                && old.preset != r.preset
            {
                return Err(GridError::Changed {
                    file: r.file.clone(),
                    differences: preset_differences(&old.preset, &r.preset),
                });
            }
        }
        let mut indices = Vec::with_capacity(runs.len());
        for r in runs {
            let i = match self.runs.iter().position(|o| o.file == r.file) {
                Some(i) => i,
                None => {
                    self.runs.push(r.clone());
                    self.runs.len() - 1
                }
            };
            if !indices.contains(&i) {
                indices.push(i);
            }
        }
        Ok(indices)
    }
}

/// A file name with no folder part, not hidden, ending in `.ron`.
fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
        && name.ends_with(".ron")
        && name != MANIFEST_FILE
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, seed: u64, epochs: u32) -> GridRun {
        let mut p = crate::preset::find(name, &[]).unwrap();
        p.seed = seed;
        p.epochs = epochs;
        GridRun::new(p)
    }

    #[test]
    fn merging_adds_new_runs_and_refuses_other_epochs() {
        let mut m = Manifest::default();
        let a = run("mnist-2x20-ce", 1, 2);
        let b = run("mnist-2x20-ce", 2, 2);
        assert_eq!(m.merge(std::slice::from_ref(&a)).unwrap(), vec![0]);
        assert_eq!(m.merge(&[b.clone(), a.clone()]).unwrap(), vec![1, 0]);
        assert_eq!(m.runs.len(), 2);
        let e = m
            .merge(&[run("mnist-2x20-ce", 1, 3)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("mnist-2x20-ce-seed1.ron"), "{e}");
        assert!(e.contains("epochs 2 (asked: 3)"), "{e}");
        assert_eq!(m.runs.len(), 2);
    }

    #[test]
    fn a_manifest_round_trips_and_a_hostile_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Manifest::load(dir.path()).unwrap(), None);
        let mut m = Manifest::default();
        m.merge(&[run("mnist-2x20-mse", 3, 1)]).unwrap();
        m.save(dir.path()).unwrap();
        assert_eq!(Manifest::load(dir.path()).unwrap(), Some(m.clone()));

        m.runs[0].file = "../escape.ron".into();
        let text = ron::to_string(&m).unwrap();
        std::fs::write(Manifest::path(dir.path()), text).unwrap();
        let e = Manifest::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("grid.ron") && e.contains("../escape.ron"), "{e}");

        std::fs::write(
            Manifest::path(dir.path()),
            "(format: \"sample-sets grid\", sch",
        )
        .unwrap();
        assert!(matches!(
            Manifest::load(dir.path()),
            Err(GridError::Manifest { .. })
        ));
    }

    #[test]
    fn bigger_networks_cost_more_per_epoch() {
        let small = run("mnist-2x20-ce", 1, 1).epoch_cost();
        let mid = run("mnist-5x80-ce", 1, 1).epoch_cost();
        let big = run("mnist-9x320-ce", 1, 1).epoch_cost();
        assert!(small < mid && mid < big);
    }
}
