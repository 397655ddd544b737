//! From a selection (preset patterns, seeds, epochs) to the runs of a grid folder: which
//! presets, merged into the folder's manifest, checked against the session files already
//! there, with how far each has got.

use std::path::{Path, PathBuf};

use super::GridError;
use super::manifest::{GridRun, Manifest, preset_differences};
use super::summary::RunSummary;
use crate::preset::{self, Preset};

/// Most seeds one selection may list (a typo like `1..1000000` is refused, not planned).
pub const MAX_SEEDS: usize = 1000;

/// What to run. Empty patterns with no seeds and no epochs mean "the grid's own runs" when
/// the folder has a manifest, else the paper's 18 presets.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Shell-style patterns (`*`, `?`, `[..]`) matched against preset names, e.g.
    /// `mnist-2x*`; empty: every built-in preset.
    pub patterns: Vec<String>,
    /// Seeds to run each preset with; `None`: seed 1.
    pub seeds: Option<Vec<u64>>,
    /// Epochs per run; `None`: each preset's own (200 for the paper's).
    pub epochs: Option<u32>,
    /// Folders of user presets searched after the built-in ones.
    pub preset_dirs: Vec<PathBuf>,
}

impl Selection {
    /// True when nothing was chosen: rerun what the manifest lists.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty() && self.seeds.is_none() && self.epochs.is_none()
    }
}

/// Parses seeds written as a comma-separated list of numbers and inclusive ranges:
/// `1,2,3`, `1..5` (1 to 5), `1..=5` (the same), `1..3,10`. Duplicates are dropped.
///
/// # Errors
/// [`GridError::Selection`] for anything else, an empty or reversed range, or more than
/// [`MAX_SEEDS`] seeds.
pub fn parse_seeds(text: &str) -> Result<Vec<u64>, GridError> {
    let bad = |why: &str| {
        GridError::Selection(format!(
            "--seeds '{text}': {why} (write e.g. 1,2,3 or 1..5)"
        ))
    };
    let number = |s: &str| s.trim().parse::<u64>().map_err(|_| bad("not a number"));
    let mut seeds: Vec<u64> = Vec::new();
    for part in text.split(',') {
        let part = part.trim();
        if part.is_empty() {
            return Err(bad("empty item"));
        }
        let (lo, hi) = match part.split_once("..") {
            Some((a, b)) => (number(a)?, number(b.strip_prefix('=').unwrap_or(b))?),
            None => {
                let n = number(part)?;
                (n, n)
            }
        };
        if hi < lo {
            return Err(bad("a range ends before it starts"));
        }
        if hi - lo >= MAX_SEEDS as u64 {
            return Err(bad(&format!("more than {MAX_SEEDS} seeds")));
        }
        for s in lo..=hi {
            if !seeds.contains(&s) {
                seeds.push(s);
            }
        }
        if seeds.len() > MAX_SEEDS {
            return Err(bad(&format!("more than {MAX_SEEDS} seeds")));
        }
    }
    Ok(seeds)
}

/// One selected run and how far its session file has got.
#[derive(Debug, Clone)]
pub struct PlannedRun {
    /// Index in the manifest's runs (the Slurm array task number follows the plan's order).
    pub index: usize,
    /// The run.
    pub run: GridRun,
    /// Its session file.
    pub path: PathBuf,
    /// Epochs saved so far (0 when there is no file yet).
    pub epochs_done: u32,
    /// True when the file says the run completed all its epochs.
    pub complete: bool,
}

impl PlannedRun {
    /// Relative cost of the epochs still to train (see [`GridRun::epoch_cost`]).
    pub fn remaining_cost(&self) -> u64 {
        if self.complete {
            return 0;
        }
        let left = self.run.preset.epochs.saturating_sub(self.epochs_done);
        u64::from(left) * self.run.epoch_cost()
    }
}

/// A grid folder's runs for one command.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The grid folder.
    pub dir: PathBuf,
    /// The manifest with the selection merged in (not yet saved: see [`Plan::save`]).
    pub manifest: Manifest,
    /// The selected runs, in manifest order.
    pub runs: Vec<PlannedRun>,
    /// Problems that did not stop planning (unreadable user presets).
    pub warnings: Vec<String>,
}

/// Every preset a pattern may name: built-in first, then the user folders' (a name already
/// seen is skipped, as [`preset::find`] would not reach it).
fn candidates(dirs: &[PathBuf], warnings: &mut Vec<String>) -> Result<Vec<Preset>, GridError> {
    let mut all = preset::builtin()?;
    for d in dirs {
        for p in preset::load_dir(d) {
            match p {
                Ok(p) if !all.iter().any(|o| o.name == p.name) => all.push(p),
                Ok(_) => {}
                Err(e) => warnings.push(e.to_string()),
            }
        }
    }
    Ok(all)
}

/// The presets matching `patterns` (all built-in ones when empty), in grid order.
fn select_presets(
    patterns: &[String],
    dirs: &[PathBuf],
    warnings: &mut Vec<String>,
) -> Result<Vec<Preset>, GridError> {
    let all = candidates(dirs, warnings)?;
    if patterns.is_empty() {
        return Ok(preset::builtin()?);
    }
    let mut chosen: Vec<Preset> = Vec::new();
    for pat in patterns {
        let glob = glob::Pattern::new(pat)
            .map_err(|e| GridError::Selection(format!("--presets '{pat}': {e}")))?;
        let matched: Vec<&Preset> = all.iter().filter(|p| glob.matches(&p.name)).collect();
        if matched.is_empty() {
            return Err(GridError::Selection(format!(
                "--presets '{pat}' matches no preset (see `sample-sets presets`)"
            )));
        }
        for p in matched {
            if !chosen.iter().any(|c| c.name == p.name) {
                chosen.push(p.clone());
            }
        }
    }
    // Grid order, whatever the order of the patterns.
    chosen.sort_by_key(|p| all.iter().position(|a| a.name == p.name));
    Ok(chosen)
}

impl Plan {
    /// Plans `selection` in grid folder `dir` (which need not exist yet). Reads the manifest
    /// and the session files already there; writes nothing.
    ///
    /// # Errors
    /// [`GridError::Selection`] for a pattern matching nothing or an invalid epoch count;
    /// [`GridError::Manifest`] for an unusable manifest; [`GridError::Changed`] when a
    /// selected run is already in the manifest, or already has a session file, with another
    /// definition (e.g. other epochs); [`GridError::Selection`] when two presets would
    /// write the same file.
    pub fn make(dir: &Path, selection: &Selection) -> Result<Self, GridError> {
        let mut warnings = Vec::new();
        let existing = Manifest::load(dir)?;
        let mut manifest = existing.clone().unwrap_or_default();
        let indices = match existing {
            Some(m) if selection.is_empty() => (0..m.runs.len()).collect(),
            _ => {
                let presets =
                    select_presets(&selection.patterns, &selection.preset_dirs, &mut warnings)?;
                let seeds = selection.seeds.clone().unwrap_or_else(|| vec![1]);
                if seeds.is_empty() {
                    return Err(GridError::Selection("no seeds given".into()));
                }
                let mut runs: Vec<GridRun> = Vec::new();
                for p in &presets {
                    for &seed in &seeds {
                        let mut p = p.clone();
                        p.seed = seed;
                        if let Some(e) = selection.epochs {
                            p.epochs = e;
                        }
                        p.validate("the grid's selection")
                            .map_err(|e| GridError::Selection(e.to_string()))?;
                        let run = GridRun::new(p);
                        if let Some(other) = runs.iter().find(|o| o.file == run.file) {
                            return Err(GridError::Selection(format!(
                                "presets '{}' and '{}' would both write {}",
                                other.preset.name, run.preset.name, run.file
                            )));
                        }
                        runs.push(run);
                    }
                }
                manifest.merge(&runs)?
            }
        };
        let mut runs = Vec::with_capacity(indices.len());
        for index in indices {
            let run = manifest.runs[index].clone();
            let path = dir.join(&run.file);
            let (epochs_done, complete) = match RunSummary::read(&path) {
                Ok(s) => {
                    if s.preset != run.preset {
                        return Err(GridError::Changed {
                            file: run.file.clone(),
                            differences: preset_differences(&s.preset, &run.preset),
                        });
                    }
                    (s.epochs_done(), s.is_complete())
                }
                // Not there yet: a fresh run.
                Err(crate::session::SessionError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    (0, false)
                }
                // Unreadable: the run will fail with this error and the file stays as it is.
                Err(e) => {
                    warnings.push(e.to_string());
                    (0, false)
                }
            };
            runs.push(PlannedRun {
                index,
                run,
                path,
                epochs_done,
                complete,
            });
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            manifest,
            runs,
            warnings,
        })
    }

    /// Creates the grid folder if needed and writes the manifest.
    ///
    /// # Errors
    /// [`GridError::Io`] when the folder cannot be created; as [`Manifest::save`].
    pub fn save(&self) -> Result<(), GridError> {
        std::fs::create_dir_all(&self.dir).map_err(|source| GridError::Io {
            path: self.dir.clone(),
            action: "cannot create the grid folder",
            source,
        })?;
        self.manifest.save(&self.dir)
    }

    /// The runs still to train, longest remaining first (ties in manifest order).
    pub fn to_train(&self) -> Vec<PlannedRun> {
        let mut todo: Vec<PlannedRun> = self.runs.iter().filter(|r| !r.complete).cloned().collect();
        todo.sort_by_key(|r| (std::cmp::Reverse(r.remaining_cost()), r.index));
        todo
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_as_lists_and_inclusive_ranges() {
        assert_eq!(parse_seeds("1,2,3").unwrap(), vec![1, 2, 3]);
        assert_eq!(parse_seeds("1..5").unwrap(), vec![1, 2, 3, 4, 5]);
        assert_eq!(parse_seeds("1..=3, 7, 2").unwrap(), vec![1, 2, 3, 7]);
        for bad in ["", "1,,2", "a", "5..1", "0..100000", "-1"] {
            assert!(parse_seeds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn patterns_pick_presets_in_grid_order() {
        let dir = tempfile::tempdir().unwrap();
        let sel = Selection {
            patterns: vec!["mnist-2x20-mse".into(), "mnist-2x20-c?".into()],
            seeds: Some(vec![1, 2]),
            epochs: Some(2),
            preset_dirs: vec![],
        };
        let plan = Plan::make(dir.path(), &sel).unwrap();
        let files: Vec<&str> = plan.runs.iter().map(|r| r.run.file.as_str()).collect();
        assert_eq!(
            files,
            [
                "mnist-2x20-ce-seed1.ron",
                "mnist-2x20-ce-seed2.ron",
                "mnist-2x20-mse-seed1.ron",
                "mnist-2x20-mse-seed2.ron"
            ]
        );
        assert!(plan.runs.iter().all(|r| r.run.preset.epochs == 2));
        let none = Selection {
            patterns: vec!["cifar-*".into()],
            ..Selection::default()
        };
        let e = Plan::make(dir.path(), &none).unwrap_err().to_string();
        assert!(
            e.contains("cifar-*") && e.contains("matches no preset"),
            "{e}"
        );
    }

    #[test]
    fn a_rerun_without_selection_takes_the_manifest_and_other_epochs_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let sel = Selection {
            patterns: vec!["mnist-5x80-ce".into()],
            seeds: Some(vec![4]),
            epochs: Some(3),
            preset_dirs: vec![],
        };
        Plan::make(dir.path(), &sel).unwrap().save().unwrap();
        let again = Plan::make(dir.path(), &Selection::default()).unwrap();
        assert_eq!(again.runs.len(), 1);
        assert_eq!(again.runs[0].run.preset.seed, 4);
        let changed = Selection {
            epochs: Some(5),
            ..sel
        };
        let e = Plan::make(dir.path(), &changed).unwrap_err().to_string();
        assert!(e.contains("epochs 3 (asked: 5)"), "{e}");
    }
}
