//! Grids: many runs (presets x seeds) in one folder, run here or on a Slurm cluster, read
//! back from the files alone, grouped over seeds and summarised.
//!
//! A grid folder holds a [`manifest`] (`grid.ron`: every run's preset, seed and epochs) and
//! one session file per run, named `<preset>-seed<seed>.ron`. [`plan`] turns a selection
//! (preset patterns, seeds, epochs) into runs and merges them into the manifest, refusing a
//! changed definition; [`pool`] trains them on this machine, several at a time, resuming
//! interrupted ones; [`slurm`] writes (and submits) a job array doing the same on a cluster.
//! [`summary`] reads a session's scalars without decoding its bulk arrays, [`status`] lists a
//! folder's runs from the files, [`group`] gathers runs that differ only in seed and gives
//! their per-layer series as mean and min..max band, and [`table`] condenses each group.
//!
//! For a view (the app's Grid tab): [`status::scan`] the folder, [`group::group_runs`] the
//! summaries, [`group::seed_band`] per layer. Reading is done on a worker (a 9x320, 200-epoch
//! session is tens of MB of text: [`summary::RunSummary::read`] skips the blobs but still
//! scans the text), and [`summary::FileStamp`] tells which files changed since the last scan.

pub mod error;
pub mod group;
pub mod manifest;
pub mod plan;
pub mod pool;
pub mod slurm;
pub mod status;
pub mod summary;
pub mod table;

pub use error::GridError;
pub use group::{RunGroup, SeedBandPoint, group_runs, seed_band};
pub use manifest::{GridRun, MANIFEST_FILE, Manifest};
pub use plan::{Plan, Selection, parse_seeds};
pub use status::{GridStatus, RunRow, RunState, scan};
pub use summary::{EpochSummary, FileStamp, RunSummary};
pub use table::{PresetRow, Spread, summary_table};
