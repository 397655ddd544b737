//! The trained network's weights and biases as a safetensors file, so that a session's network
//! can be loaded in PyTorch (`safetensors.torch.load_file`) or NumPy
//! (`safetensors.numpy.load_file`).
//!
//! Tensors (f32, little-endian, C order), from the session's last checkpoint:
//! - `layer{L}.weight` `[out, in]` and `layer{L}.bias` `[out]` for hidden layer `L` (1-based),
//!   the layout of `torch.nn.Linear` (the session stores weights `[in, out]`);
//! - `output.weight` `[classes, in]` and `output.bias` `[classes]`.
//!
//! The network is `ReLU(x W1ᵀ + b1)`, ... , then `output`, with inputs the 784 pixels scaled to
//! [0, 1]; its softmax gives class probabilities. The header's metadata names the preset, seed,
//! loss, epoch and step of the checkpoint.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, TensorView};

use super::ExportError;
use crate::session::Session;

/// The tensors' names, in layer order: `layer1.weight`, `layer1.bias`, ..., `output.weight`,
/// `output.bias`.
pub fn tensor_names(hidden_layers: usize) -> Vec<String> {
    let mut names = Vec::new();
    for l in 1..=hidden_layers {
        names.push(format!("layer{l}.weight"));
        names.push(format!("layer{l}.bias"));
    }
    names.push("output.weight".into());
    names.push("output.bias".into());
    names
}

/// The safetensors bytes of `s`'s last checkpoint.
///
/// # Errors
/// [`ExportError::Request`] when the session has no checkpoint or the encoder refuses a shape.
pub fn weights_bytes(s: &Session) -> Result<Vec<u8>, ExportError> {
    let Some(cp) = &s.checkpoint else {
        return Err(ExportError::Request(
            "the session has no checkpoint, so no weights were saved".into(),
        ));
    };
    let layers = &cp.mlp.layers;
    let names = tensor_names(layers.len().saturating_sub(1));
    // (shape, little-endian bytes) per tensor, weights transposed to [out, in].
    let mut tensors: Vec<(Vec<usize>, Vec<u8>)> = Vec::new();
    for layer in layers {
        let (inputs, outputs) = (layer.inputs(), layer.outputs());
        let weight: Vec<u8> = layer.w.t().iter().flat_map(|v| v.to_le_bytes()).collect();
        tensors.push((vec![outputs, inputs], weight));
        let bias: Vec<u8> = layer.b.iter().flat_map(|v| v.to_le_bytes()).collect();
        tensors.push((vec![outputs], bias));
    }
    let views = names
        .iter()
        .zip(&tensors)
        .map(|(name, (shape, bytes))| {
            TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map(|v| (name.clone(), v))
                .map_err(|e| ExportError::Request(format!("{name}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let metadata = HashMap::from([
        ("preset".to_string(), s.preset.name.clone()),
        ("seed".to_string(), s.preset.seed.to_string()),
        ("loss".to_string(), format!("{:?}", s.preset.loss)),
        ("epoch".to_string(), cp.epoch.to_string()),
        (
            "step".to_string(),
            (u64::from(cp.epoch) * s.steps_per_epoch()).to_string(),
        ),
        (
            "layout".to_string(),
            "weight [out, in] as torch.nn.Linear; ReLU after each hidden layer; inputs are pixels / 255".to_string(),
        ),
    ]);
    safetensors::serialize(views, Some(metadata))
        .map_err(|e| ExportError::Request(format!("safetensors: {e}")))
}

/// Writes `s`'s last checkpoint to `path` as safetensors, atomically.
///
/// # Errors
/// As [`weights_bytes`]; [`ExportError::File`] naming `path` when it exists (and may not be
/// replaced) or cannot be written.
pub fn write_weights(
    s: &Session,
    path: &Path,
    existing: crate::fs::Existing,
) -> Result<(), ExportError> {
    let bytes = weights_bytes(s)?;
    Ok(crate::fs::write_atomic(path, &bytes, existing)?)
}
