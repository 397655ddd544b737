//! `export --weights`: the example session's trained network as safetensors, read back with
//! the safetensors reader and run on the real MNIST test set.

mod common;

use std::path::Path;
use std::process::Command;

use ndarray::{Array1, Array2};
use safetensors::SafeTensors;
use safetensors::tensor::Dtype;
use sample_sets::session;

const EXAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/example-schema1-2x80-ce.ron"
);

fn tensor(st: &SafeTensors, name: &str) -> (Vec<usize>, Vec<f32>) {
    let t = st.tensor(name).unwrap();
    assert_eq!(t.dtype(), Dtype::F32, "{name}");
    let values = t
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    (t.shape().to_vec(), values)
}

#[test]
fn the_exported_weights_are_the_checkpoint_and_classify_the_test_set_as_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("net.safetensors");
    let o = Command::new(common::bin())
        .args(["export", EXAMPLE, "--weights"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&out).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut names = st.names();
    names.sort();
    assert_eq!(
        names,
        [
            "layer1.bias",
            "layer1.weight",
            "layer2.bias",
            "layer2.weight",
            "output.bias",
            "output.weight"
        ]
    );
    let s = session::load(Path::new(EXAMPLE)).unwrap();
    let cp = s.checkpoint.as_ref().unwrap();
    // Each weight is the checkpoint's [in, out] matrix transposed to [out, in].
    let mut layers = Vec::new();
    for (i, name) in ["layer1", "layer2", "output"].iter().enumerate() {
        let (shape, w) = tensor(&st, &format!("{name}.weight"));
        let (bshape, b) = tensor(&st, &format!("{name}.bias"));
        let dense = &cp.mlp.layers[i];
        assert_eq!(shape, [dense.outputs(), dense.inputs()]);
        assert_eq!(bshape, [dense.outputs()]);
        let w = Array2::from_shape_vec((shape[0], shape[1]), w).unwrap();
        assert_eq!(w.t(), dense.w);
        assert_eq!(Array1::from(b.clone()), dense.b);
        layers.push((w, Array1::from(b)));
    }
    // The file alone classifies the test set as the session recorded (forward in f32 as a
    // reader would write it: x Wᵀ + b, ReLU, ..., argmax).
    let test = &common::mnist().test;
    let mut a = test.images.clone();
    for (i, (w, b)) in layers.iter().enumerate() {
        a = a.dot(&w.t()) + b;
        if i + 1 < layers.len() {
            a.mapv_inplace(|v| v.max(0.0));
        }
    }
    let correct = a
        .rows()
        .into_iter()
        .zip(&test.labels)
        .filter(|(row, y)| {
            let best = row
                .iter()
                .enumerate()
                .fold(0, |b, (k, &v)| if v > row[b] { k } else { b });
            best == usize::from(**y)
        })
        .count();
    let accuracy = correct as f64 / test.len() as f64;
    let recorded = s.epochs.last().unwrap().test_accuracy;
    assert!(
        (accuracy - recorded).abs() < 0.002,
        "{accuracy} vs recorded {recorded}"
    );
    let (_, meta) = SafeTensors::read_metadata(&bytes).unwrap();
    let meta = meta.metadata().clone().unwrap();
    assert_eq!(meta["preset"], "mnist-2x80-ce");
    assert_eq!(meta["epoch"], "20");
}

#[test]
fn a_session_without_a_checkpoint_has_no_weights_to_export() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session::load(Path::new(EXAMPLE)).unwrap();
    s.checkpoint = None;
    let file = dir.path().join("no-checkpoint.ron");
    session::save(&s, &file).unwrap();
    let out = dir.path().join("net.safetensors");
    let o = Command::new(common::bin())
        .args(["export"])
        .arg(&file)
        .arg("--weights")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no checkpoint"));
    assert!(!out.exists());
}
