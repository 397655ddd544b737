//! Sample Sets: explore how neural networks train through the sample sets of their ReLU
//! nodes (Haasbroek & Davel, "Exploring neural network training dynamics through binary
//! node activations", SACAIR 2020).
//!
//! Data flows one way: [`data`] (IDX/MNIST loading) -> [`nn`] (MLP, losses, Adam) ->
//! [`measure`] (sample sets, counts, metrics) -> [`session`] (RON files) -> [`train`] (runs),
//! and on top the desktop [`app`], the file [`export`]er and the [`cli`].

pub mod app;
pub mod cli;
pub mod data;
pub mod export;
pub mod measure;
pub mod nn;
pub mod preset;
pub mod session;
pub mod train;

/// The allocator of every binary built on this crate. jemalloc places each large allocation
/// (a weight matrix, a minibatch's activations, Adam's moments) on a 64-byte boundary, so
/// the 32-byte loads of the AVX2 kernels never straddle two cache lines; glibc's malloc gives
/// 16-byte boundaries, and on the half of the matrices that land off a 32-byte boundary the
/// sparse forward ran about 18 % slower.
#[cfg(all(not(target_env = "msvc"), not(miri)))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
