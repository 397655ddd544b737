//! Sample Sets: explore how neural networks train through the sample sets of their ReLU
//! nodes (Haasbroek & Davel, "Exploring neural network training dynamics through binary
//! node activations", SACAIR 2020).
//!
//! Data flows one way: [`data`] (IDX/MNIST loading) -> [`nn`] (MLP, losses, Adam) ->
//! [`measure`] (sample sets, counts, metrics) -> [`session`] (RON files) -> [`train`] (runs),
//! and on top the desktop [`app`], the file [`export`]er and the [`cli`]. [`fs`] writes every
//! file the program saves (whole or not at all, never over a file unless asked to).

pub mod app;
pub mod cli;
pub mod data;
pub mod export;
pub mod fs;
pub mod measure;
pub mod nn;
pub mod preset;
pub mod ron_error;
pub mod session;
pub mod train;
