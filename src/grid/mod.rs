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
//! For a view (the app's Grid tab), on a worker thread: [`status::GridReader::refresh`] lists
//! the folder's runs and re-reads only the session files whose [`summary::FileStamp`] changed
//! (a 9x320, 200-epoch session is 37 MB of text: [`summary::RunSummary::read`] skips its blobs
//! and takes about 0.1 s, a full [`crate::session::load`] about 0.6 s); then, once per
//! refresh that brought new summaries (not every frame), [`group::group_runs`] and
//! [`group::seed_band`] per cell and layer (one pass over each member's records: about 10^5
//! points for 54 runs of 200 epochs), or [`table::summary_table`]; the frame only draws the
//! kept bands.

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
pub use group::{
    RunGroup, SeedBandPoint, SeedStats, group_presets, group_runs, layout_axes, seed_band,
    seed_stats,
};
pub use manifest::{GridRun, MANIFEST_FILE, Manifest};
pub use plan::{Plan, Selection, parse_seeds};
pub use status::{GridReader, GridStatus, RunRow, RunState, scan};
pub use summary::{EpochSummary, FileStamp, RunSummary};
pub use table::{PresetRow, Spread, seeds_text, summary_table};
