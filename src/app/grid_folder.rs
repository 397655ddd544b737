//! A grid folder as the Grid tab shows it: the folder's runs read by [`crate::grid`], grouped
//! over seeds and laid out as the paper's small multiples (rows: hidden layers, columns:
//! widths, one block per loss), with every cell's per-layer seed bands already condensed for
//! every metric. Built on the watcher thread ([`watch_worker`], started by
//! [`super::background`]) once per change of the folder, so a frame only draws kept points.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use egui_plot::PlotPoint;

use crate::export::figures::grid::nice_range;
use crate::grid::{
    FileStamp, GridReader, GridStatus, Manifest, PresetRow, RunSummary, Spread,
    group::same_but_seed, seed_band, summary_table,
};
use crate::preset::Preset;
use crate::session::Metric;

/// How often the watcher looks at the folder's file stamps.
pub const POLL_INTERVAL: Duration = Duration::from_secs(2);

/// One layer's seed band of one metric, ready to draw: x is the epoch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LayerBand {
    /// Epochs with a value.
    pub xs: Vec<f64>,
    /// Smallest layer mean over the seeds at each epoch.
    pub lo: Vec<f64>,
    /// Largest layer mean over the seeds at each epoch.
    pub hi: Vec<f64>,
    /// (epoch, mean over seeds of the layer mean).
    pub mean: Vec<PlotPoint>,
}

/// One cell of the grid: the runs of one preset that differ only in seed.
#[derive(Debug, Clone, PartialEq)]
pub struct GridCell {
    /// Block (loss), row (hidden layers) and column (width) in [`GridSnapshot`]'s lists.
    pub place: (usize, usize, usize),
    /// The shared preset (seed: the first run's).
    pub preset: Preset,
    /// Seeds of the group's runs (planned in the manifest or found), increasing.
    pub seeds: Vec<u64>,
    /// Session files that could be read, by increasing seed.
    pub files: Vec<PathBuf>,
    /// Runs that completed all their epochs.
    pub complete: usize,
    /// Fewest epochs saved by any run of the group (0 while one is pending).
    pub epochs_done: u32,
    /// Test accuracy after each readable run's last saved epoch, in [0, 1].
    pub accuracy: Option<Spread>,
    /// Per metric (in [`Metric::ALL`] order), per hidden layer: the seed band.
    pub bands: Vec<Vec<LayerBand>>,
}

impl GridCell {
    /// The bands of `metric`, one per hidden layer.
    pub fn bands(&self, metric: Metric) -> &[LayerBand] {
        self.bands.get(metric.index()).map_or(&[], Vec::as_slice)
    }
}

/// A grid folder, read once: its runs, the summary table and the cells.
#[derive(Debug, Clone, Default)]
pub struct GridSnapshot {
    /// Every run as `grid status` lists it.
    pub status: GridStatus,
    /// Per preset over seeds, as `grid status --json` gives it.
    pub table: Vec<PresetRow>,
    /// Losses (short names), one block each: `ce` first, then `mse`, then others.
    pub losses: Vec<String>,
    /// Hidden-layer counts, increasing (the rows).
    pub rows: Vec<usize>,
    /// Widths, increasing (the columns).
    pub cols: Vec<usize>,
    /// The cells; at most one per place.
    pub cells: Vec<GridCell>,
    /// Presets that fall into a place another preset already holds (not drawn as cells; they
    /// are in the table).
    pub crowded: Vec<String>,
    /// The shared x axis: 0 to the most epochs planned.
    pub x_max: f64,
    /// The shared y axis per metric ([`Metric::ALL`] order): the values' range rounded
    /// outwards to tenths, or the metric's range while there are no values.
    pub y: Vec<(f64, f64)>,
    /// Deepest network's hidden layers (the layer legend's length).
    pub max_layers: usize,
}

impl GridSnapshot {
    /// The cell at `place`, if any.
    pub fn cell(&self, place: (usize, usize, usize)) -> Option<&GridCell> {
        self.cells.iter().find(|c| c.place == place)
    }

    /// The shared y range of `metric`.
    pub fn y_range(&self, metric: Metric) -> (f64, f64) {
        self.y.get(metric.index()).copied().unwrap_or((
            f64::from(metric.info().range.0),
            f64::from(metric.info().range.1),
        ))
    }

    /// Lays out `status` (and the runs `manifest` plans but that have no file yet).
    pub fn build(manifest: &Manifest, status: GridStatus) -> Self {
        let runs = &status.summaries;
        // Every preset of the folder: the manifest's (pending runs included), then files it
        // does not list.
        let mut presets: Vec<&Preset> = manifest.runs.iter().map(|r| &r.preset).collect();
        for s in runs {
            if !presets.iter().any(|p| **p == s.preset) {
                presets.push(&s.preset);
            }
        }
        let mut groups: Vec<(Preset, Vec<u64>)> = Vec::new();
        for p in presets {
            match groups.iter_mut().find(|(g, _)| same_but_seed(g, p)) {
                Some((_, seeds)) => seeds.push(p.seed),
                None => groups.push((p.clone(), vec![p.seed])),
            }
        }
        for (_, seeds) in &mut groups {
            seeds.sort_unstable();
            seeds.dedup();
        }
        let (losses, rows, cols) = crate::grid::layout_axes(groups.iter().map(|(p, _)| p));
        let mut cells: Vec<GridCell> = Vec::new();
        let mut crowded = Vec::new();
        for (preset, seeds) in groups {
            let place = (
                losses
                    .iter()
                    .position(|l| l == preset.loss.short_name())
                    .unwrap_or(0),
                rows.binary_search(&preset.hidden_layers).unwrap_or(0),
                cols.binary_search(&preset.width).unwrap_or(0),
            );
            if cells.iter().any(|c| c.place == place) {
                crowded.push(preset.name.clone());
                continue;
            }
            cells.push(cell(place, preset, seeds, runs));
        }
        let y = Metric::ALL
            .iter()
            .map(|&m| {
                let values = cells
                    .iter()
                    .flat_map(|c| c.bands(m))
                    .flat_map(|b| b.lo.iter().chain(&b.hi));
                let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                    (a.min(v), b.max(v))
                });
                if lo.is_finite() && hi.is_finite() {
                    let r = nice_range(lo, hi, 0.1);
                    (r.start, r.end)
                } else {
                    let (a, b) = m.info().range;
                    (f64::from(a), f64::from(b))
                }
            })
            .collect();
        let x_max = cells
            .iter()
            .map(|c| c.preset.epochs.max(c.epochs_done))
            .chain(runs.iter().map(RunSummary::epochs_done))
            .max()
            .unwrap_or(1)
            .max(1);
        Self {
            table: summary_table(runs),
            max_layers: cells
                .iter()
                .map(|c| c.preset.hidden_layers)
                .max()
                .unwrap_or(0),
            status,
            losses,
            rows,
            cols,
            cells,
            crowded,
            x_max: f64::from(x_max),
            y,
        }
    }
}

/// One cell: the group of `preset`'s `seeds`, its readable members among `runs`.
fn cell(
    place: (usize, usize, usize),
    preset: Preset,
    seeds: Vec<u64>,
    runs: &[RunSummary],
) -> GridCell {
    let mut members: Vec<&RunSummary> = runs
        .iter()
        .filter(|r| same_but_seed(&preset, &r.preset))
        .collect();
    members.sort_by_key(|r| r.preset.seed);
    let bands = Metric::ALL
        .iter()
        .map(|&m| {
            (0..preset.hidden_layers)
                .map(|l| {
                    let points = seed_band(members.iter().copied(), l, m);
                    LayerBand {
                        xs: points.iter().map(|p| f64::from(p.epoch)).collect(),
                        lo: points.iter().map(|p| f64::from(p.min)).collect(),
                        hi: points.iter().map(|p| f64::from(p.max)).collect(),
                        mean: points
                            .iter()
                            .map(|p| PlotPoint::new(f64::from(p.epoch), f64::from(p.mean)))
                            .collect(),
                    }
                })
                .collect()
        })
        .collect();
    let all_read = seeds
        .iter()
        .all(|s| members.iter().any(|r| r.preset.seed == *s));
    GridCell {
        place,
        files: members.iter().map(|r| r.path.clone()).collect(),
        complete: members.iter().filter(|r| r.is_complete()).count(),
        epochs_done: if all_read {
            members.iter().map(|r| r.epochs_done()).min().unwrap_or(0)
        } else {
            0
        },
        accuracy: Spread::of(members.iter().filter_map(|r| r.final_test_accuracy())),
        bands,
        seeds,
        preset,
    }
}

/// What the watcher reports: a new snapshot, or why the folder cannot be read now.
pub type GridUpdate = Result<Arc<GridSnapshot>, String>;

/// Reads the grid folder `dir` now, then again every [`POLL_INTERVAL`] until `stop` is set,
/// calling `report` whenever what it finds changed (a session file's size or modification
/// time, the manifest, a file appearing). Only changed session files are read again
/// ([`GridReader`]). Polling rather than file-system events: grids are written by Slurm jobs
/// on other machines into shared (network) folders, where inotify sees nothing.
pub fn watch_worker(dir: &Path, stop: &AtomicBool, report: &dyn Fn(GridUpdate)) {
    let mut reader = GridReader::new(dir);
    first_read(dir, &mut reader, stop, report);
    // What the folder held at the last report: its rows and summaries, or the error.
    type Seen = Result<(Vec<crate::grid::RunRow>, Vec<RunSummary>), String>;
    let mut last: Option<Seen> = None;
    while !stop.load(Ordering::Relaxed) {
        let read = Manifest::load(dir)
            .map_err(|e| e.to_string())
            .and_then(|m| {
                Ok((
                    m.unwrap_or_default(),
                    reader.refresh().map_err(|e| e.to_string())?,
                ))
            });
        let now = match &read {
            Ok((_, st)) => Ok((st.rows.clone(), st.summaries.clone())),
            Err(e) => Err(e.clone()),
        };
        if last.as_ref() != Some(&now) {
            report(read.map(|(m, st)| Arc::new(GridSnapshot::build(&m, st))));
            last = Some(now);
        }
        let since = Instant::now();
        while since.elapsed() < POLL_INTERVAL && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Reports at most this often while a grid is first read file by file.
const FIRST_READ_REPORTS: Duration = Duration::from_millis(500);

/// A row's state while its file has not been read yet.
pub const NOT_READ_YET: &str = "not read yet";

/// The first read of a grid folder, file by file in the manifest's order, reporting what was
/// read so far every [`FIRST_READ_REPORTS`] so that a large grid (54 runs of 200 epochs take
/// seconds) fills in instead of appearing at once; each summary primes `reader`, so the
/// watcher's first full refresh reads no file again.
fn first_read(dir: &Path, reader: &mut GridReader, stop: &AtomicBool, report: &dyn Fn(GridUpdate)) {
    let Ok(Some(manifest)) = Manifest::load(dir) else {
        return;
    };
    let mut status = GridStatus::default();
    for r in &manifest.runs {
        status.rows.push(crate::grid::RunRow {
            file: r.file.clone(),
            preset: r.preset.name.clone(),
            seed: r.preset.seed,
            epochs_done: 0,
            epochs_planned: r.preset.epochs,
            state: NOT_READ_YET.into(),
            detail: None,
            final_test_accuracy: None,
            in_manifest: true,
            summary: None,
        });
    }
    let mut reported = Instant::now();
    for (i, r) in manifest.runs.iter().enumerate() {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let path = dir.join(&r.file);
        if let Some(stamp) = FileStamp::of(&path)
            && let Ok(s) = RunSummary::read(&path)
            && s.preset == r.preset
            && let Some(row) = status.rows.get_mut(i)
        {
            row.state = crate::grid::RunState::Saved(s.status.clone())
                .label()
                .into();
            row.epochs_done = s.epochs_done();
            row.final_test_accuracy = s.final_test_accuracy();
            row.summary = Some(status.summaries.len());
            reader.prime(&path, stamp, s.clone());
            status.summaries.push(s);
        }
        if reported.elapsed() >= FIRST_READ_REPORTS {
            report(Ok(Arc::new(GridSnapshot::build(&manifest, status.clone()))));
            reported = Instant::now();
        }
    }
}

/// The open grid folder: where it is, what was last read, and the watcher's stop flag (set
/// when this is dropped, i.e. when another folder is opened or the app closes).
pub struct OpenGrid {
    /// The folder.
    pub dir: PathBuf,
    /// Distinguishes this folder's reports from an earlier folder's.
    pub generation: u64,
    /// The last snapshot (`None` until the first read finished).
    pub snapshot: Option<Arc<GridSnapshot>>,
    /// Why the last read failed, if it did (the last snapshot stays shown).
    pub error: Option<String>,
    /// Shared with the watcher thread.
    pub stop: Arc<AtomicBool>,
}

impl OpenGrid {
    /// A folder about to be watched.
    pub fn new(dir: PathBuf, generation: u64) -> Self {
        Self {
            dir,
            generation,
            snapshot: None,
            error: None,
            stop: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Applies a watcher report.
    pub fn update(&mut self, update: GridUpdate) {
        match update {
            Ok(s) => {
                self.snapshot = Some(s);
                self.error = None;
            }
            Err(e) => self.error = Some(e),
        }
    }
}

impl Drop for OpenGrid {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::{EpochSummary, GridRun, RunRow};
    use crate::measure::{LayerSummary, Quartiles};
    use crate::session::RunStatus;

    fn preset(name: &str, seed: u64) -> Preset {
        let mut p = crate::preset::find(name, &[]).unwrap();
        p.seed = seed;
        p.epochs = 2;
        p
    }

    /// A run of `name` and `seed` with these layer-1 activation fractions per epoch.
    fn run(name: &str, seed: u64, fractions: &[f32], accuracy: f64) -> RunSummary {
        let p = preset(name, seed);
        let q = |v: f32| Quartiles {
            mean: v,
            q1: v,
            median: v,
            q3: v,
        };
        let layer = |f: f32| LayerSummary {
            activation_fraction: q(f),
            predictability: q(0.5),
            informativeness: q(0.1),
            churn: None,
            dead: 0,
            always_on: 0,
        };
        RunSummary {
            path: format!("{}.ron", p.file_stem()).into(),
            status: if fractions.len() > 2 {
                RunStatus::Completed
            } else {
                RunStatus::Running
            },
            widths: vec![p.width; p.hidden_layers],
            epochs: fractions
                .iter()
                .enumerate()
                .map(|(e, &f)| EpochSummary {
                    epoch: e as u32,
                    train_loss: 0.0,
                    train_accuracy: 0.0,
                    test_loss: 0.0,
                    test_accuracy: accuracy,
                    layers: vec![layer(f); p.hidden_layers],
                })
                .collect(),
            preset: p,
        }
    }

    #[test]
    fn cells_are_placed_by_loss_layers_and_width_and_pending_runs_keep_their_place() {
        let mut m = Manifest::default();
        let planned: Vec<GridRun> = [
            ("mnist-2x20-ce", 1),
            ("mnist-2x20-ce", 2),
            ("mnist-5x80-mse", 1),
        ]
        .iter()
        .map(|&(n, s)| GridRun::new(preset(n, s)))
        .collect();
        m.merge(&planned).unwrap();
        let status = GridStatus {
            rows: Vec::<RunRow>::new(),
            // Seed 2 of 2x20 is at epoch 1; 5x80 has no file yet.
            summaries: vec![
                run("mnist-2x20-ce", 1, &[0.5, 0.7, 0.6], 0.9),
                run("mnist-2x20-ce", 2, &[0.5, 0.3], 0.5),
            ],
            warnings: Vec::new(),
        };
        let g = GridSnapshot::build(&m, status);
        assert_eq!(
            (g.losses.clone(), g.rows.clone(), g.cols.clone()),
            (
                vec!["ce".to_string(), "mse".to_string()],
                vec![2, 5],
                vec![20, 80]
            )
        );
        let ce = g.cell((0, 0, 0)).unwrap();
        assert_eq!(
            (ce.seeds.clone(), ce.files.len(), ce.complete),
            (vec![1, 2], 2, 1)
        );
        assert_eq!(ce.epochs_done, 1, "the slower seed's epochs");
        let acc = ce.accuracy.unwrap();
        assert_eq!((acc.min, acc.max, acc.n), (0.5, 0.9, 2));
        // Layer 1's line: the mean over the seeds that reached each epoch; the band their range.
        let b = &ce.bands(Metric::ActivationFraction)[0];
        assert_eq!(b.xs, vec![0.0, 1.0, 2.0]);
        assert!((b.mean[1].y - 0.5).abs() < 1e-6 && (b.mean[2].y - 0.6).abs() < 1e-6);
        assert_eq!((b.lo[1], b.hi[1]), (f64::from(0.3f32), f64::from(0.7f32)));
        // The planned 5x80 MSE run has its place before it has a file.
        let mse = g.cell((1, 1, 1)).unwrap();
        assert_eq!((mse.files.len(), mse.epochs_done), (0, 0));
        assert!(
            mse.bands(Metric::ActivationFraction)
                .iter()
                .all(|b| b.xs.is_empty())
        );
        assert!(g.cell((0, 1, 1)).is_none(), "no 5x80 CE preset");
        // Shared axes: epochs planned; the values' range rounded to tenths.
        assert_eq!(g.x_max, 2.0);
        let (y0, y1) = g.y_range(Metric::ActivationFraction);
        assert!(
            (y0 - 0.3).abs() < 1e-9 && (y1 - 0.7).abs() < 1e-9,
            "{y0}..{y1}"
        );
        assert!(g.crowded.is_empty());
    }

    #[test]
    fn a_second_preset_of_the_same_shape_and_loss_is_listed_not_drawn_over_the_first() {
        let mut other = run("mnist-2x20-ce", 1, &[0.5], 0.9);
        other.preset.name = "mnist-2x20-ce-fast".into();
        other.preset.batch_size *= 2;
        let status = GridStatus {
            rows: Vec::new(),
            summaries: vec![run("mnist-2x20-ce", 1, &[0.5], 0.9), other],
            warnings: Vec::new(),
        };
        let g = GridSnapshot::build(&Manifest::default(), status);
        assert_eq!(g.cells.len(), 1);
        assert_eq!(g.cells[0].preset.name, "mnist-2x20-ce");
        assert_eq!(g.crowded, vec!["mnist-2x20-ce-fast".to_string()]);
        assert_eq!(g.table.len(), 2, "both are in the summary table");
    }
}
