//! Sample Sets: explore how neural networks train through the sample sets of their ReLU
//! nodes (Haasbroek & Davel, "Exploring neural network training dynamics through binary
//! node activations", SACAIR 2020).
//!
//! Data flows one way: [`data`] (IDX/MNIST loading) -> [`nn`] (MLP, losses, Adam) ->
//! [`measure`] (sample sets, counts, metrics) -> [`session`] (RON files) -> [`train`] (runs)
//! -> [`grid`] (many runs: local pool, Slurm, seeds), and on top the file [`export`]er, the
//! [`cli`] and the desktop [`app`]. The app is the cargo feature `gui` (on by default); without
//! it only the app's start-up options build, and everything else builds and tests with no
//! screen libraries at all. [`fs`] writes every file the program saves (whole or not at all,
//! never over a file unless asked to).

pub mod app;
pub mod cli;
pub mod colors;
pub mod data;
pub mod export;
pub mod fs;
pub mod grid;
pub mod measure;
pub mod nn;
pub mod preset;
pub mod ron_error;
pub mod session;
pub mod train;
