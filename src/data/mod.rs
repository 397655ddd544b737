//! Loading labelled image sets in the IDX format (MNIST and sets with its layout).
//!
//! The flow is one way: [`idx`] reads a single file, [`dataset`] pairs the four files of a set
//! into train and test splits, [`locate`] finds the folder that holds them.

pub mod dataset;
pub mod download;
pub mod error;
pub mod idx;
pub mod locate;
pub mod sparse;

pub use dataset::{Dataset, DatasetIdentity, Split};
pub use error::DataError;
pub use locate::{DataSource, locate};
pub use sparse::SparseRows;

/// Lower-case hex of a digest (e.g. a SHA-256), as listed in data set READMEs.
pub fn to_hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
