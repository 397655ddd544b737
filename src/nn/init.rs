//! Weight initialisation schemes.

use ndarray::{Array1, Array2};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// How a layer's weights and biases start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Init {
    /// He/Kaiming uniform (He et al. 2015, "Delving deep into rectifiers", eq. 10 with a
    /// uniform law): `W ~ U(-b, b)`, `b = sqrt(6 / fan_in)`; biases zero. Suited to ReLU.
    #[default]
    HeUniform,
    /// PyTorch's `nn.Linear` default: Kaiming uniform with `a = sqrt(5)`, i.e.
    /// `W ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))`, and biases drawn from the same law.
    TorchDefault,
}

impl Init {
    /// Weights `[fan_in, fan_out]` and biases `[fan_out]` for one layer.
    pub fn layer(
        self,
        fan_in: usize,
        fan_out: usize,
        rng: &mut ChaCha8Rng,
    ) -> (Array2<f32>, Array1<f32>) {
        let fi = fan_in.max(1) as f32;
        let (wb, bb) = match self {
            Init::HeUniform => ((6.0 / fi).sqrt(), 0.0),
            Init::TorchDefault => (1.0 / fi.sqrt(), 1.0 / fi.sqrt()),
        };
        let w = Array2::from_shape_simple_fn((fan_in, fan_out), || rng.random_range(-wb..=wb));
        let b = if bb > 0.0 {
            Array1::from_shape_simple_fn(fan_out, || rng.random_range(-bb..=bb))
        } else {
            Array1::zeros(fan_out)
        };
        (w, b)
    }
}
