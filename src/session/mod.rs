//! Sessions: one run's preset, data identity and records (before training, inside epoch 1
//! and after every epoch), kept as a RON file.
//!
//! [`model`] holds the in-memory types, [`blob`] the compact encoding of bulk arrays,
//! [`file`] the on-disk layout and its shape checks, [`validate`] the checks of what the
//! numbers say, [`io`] atomic saving and loading.

pub mod blob;
pub mod compare;
pub mod error;
pub mod events;
pub mod file;
pub mod findings;
pub mod io;
pub mod metric;
pub mod model;
pub mod parts;
pub mod records;
pub mod series;
pub mod timeline;
pub mod validate;
pub mod write_behind;

pub use error::SessionError;
pub use io::{SessionWriter, load, load_bytes, save};
pub use metric::{Metric, MetricInfo};
pub use model::{
    Checkpoint, EpochRecord, LayerCost, LayerRecord, ProbeSet, RunStatus, Session, Timing,
};
pub use series::BandPoint;

/// Schema version written by this build; files with a larger number are refused.
pub const SCHEMA: u32 = 3;
/// The `format` field of every session file.
pub const FORMAT: &str = "sample-sets session";
