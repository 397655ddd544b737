//! The multi-layer perceptron: layers, initialisation, losses, Adam and the minibatch trainer.
//!
//! Layout convention: a layer's weights are `[inputs, outputs]` so a forward pass is
//! `Z = A · W + b` with activations `A` of shape `[batch, inputs]`.

pub mod adam;
#[cfg(target_arch = "x86_64")]
mod dense_avx2;
#[cfg(target_arch = "x86_64")]
mod dense_avx512;
pub mod ftz;
pub mod init;
pub mod loss;
pub mod matmul;
pub mod mlp;
pub mod rng;
pub mod sparse;
#[cfg(target_arch = "x86_64")]
mod sparse_avx2;
pub mod trainer;

pub use adam::{Adam, AdamConfig};
pub use init::Init;
pub use loss::Loss;
pub use mlp::{Dense, Mlp};
pub use trainer::Trainer;
