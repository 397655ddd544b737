//! Sessions: one run's preset, data identity and per-epoch records, kept as a RON file.
//!
//! [`model`] holds the in-memory types, [`blob`] the compact encoding of bulk arrays,
//! [`file`] the on-disk layout and its shape checks, [`validate`] the checks of what the
//! numbers say, [`io`] atomic saving and loading.

pub mod blob;
pub mod compare;
pub mod error;
pub mod file;
pub mod io;
pub mod metric;
pub mod model;
pub mod series;
pub mod validate;

pub use error::SessionError;
pub use io::{SessionWriter, load, load_bytes, save};
pub use metric::{Metric, MetricInfo};
pub use model::{Checkpoint, EpochRecord, LayerRecord, ProbeSet, RunStatus, Session, Timing};
pub use series::BandPoint;

/// Schema version written by this build; files with a larger number are refused.
pub const SCHEMA: u32 = 1;
/// The `format` field of every session file.
pub const FORMAT: &str = "sample-sets session";
