//! Sample-set measurement: which training samples switch each hidden node on, and what that
//! says about the node (Haasbroek & Davel, SACAIR 2020).
//!
//! A node is on for a sample when its pre-activation is > 0. Its sample set is the set of
//! training samples that switch it on. [`pass`] runs the whole training set forward and
//! builds every node's sample set as a bitset; [`metrics`] turns a node's 2 x |C| table of
//! on/off against class into activation fraction, predictability and informativeness;
//! [`summary`] condenses a layer; [`probe`] picks the samples whose membership is kept;
//! [`schedule`] says when a run measures.

pub mod bits;
pub mod cost;
pub mod metrics;
pub mod pass;
pub mod probe;
pub mod schedule;
pub mod summary;

pub use metrics::{NodeMetrics, node_metrics};
pub use pass::{LayerMeasurement, Measurement, Measurer};
pub use schedule::Schedule;
pub use summary::{LayerSummary, Quartiles};
