//! `sample-sets findings`: the paper's observations checked on the example session (a real
//! 20-epoch 2x80 run) and on a copy edited so that one of them fails.

mod common;

use std::path::Path;
use std::process::Command;

use sample_sets::session::findings::findings;
use sample_sets::session::{self, Session};

const EXAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/example-schema1-2x80-ce.ron"
);

fn example() -> Session {
    session::load(Path::new(EXAMPLE)).unwrap()
}

#[test]
fn findings_are_the_numbers_of_the_session() {
    let s = example();
    let f = findings(&s).unwrap();
    assert_eq!(f.layers.len(), 2);
    for (l, found) in f.layers.iter().enumerate() {
        let means: Vec<f32> = s
            .epochs
            .iter()
            .map(|e| e.layers[l].summary.activation_fraction.mean)
            .collect();
        let peak = means.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        assert_eq!(found.first, means[0]);
        assert_eq!(found.peak, peak);
        assert_eq!(found.last, *means.last().unwrap());
        let at = means.iter().position(|&m| m == peak).unwrap();
        assert_eq!(found.peak_step, s.epochs[at].step);
        assert!((found.relative_drop - (peak - found.last) / peak).abs() < 1e-6);
        // In this run every layer grows in epoch 1 and then shrinks.
        assert!(found.grows_then_shrinks);
    }
    assert!(f.all_grow_then_shrink);
    // Layer 1 drops 16 % over 19 epochs after its peak, layer 2 10 %.
    assert_eq!(f.fastest_shrinking_layer, Some(1));
    let top = f.top_node.unwrap();
    let last = s.epochs.len() - 1;
    let m = s.node_metrics(last, top.layer - 1, top.node).unwrap();
    assert_eq!(top.informativeness, m.informativeness as f32);
    for l in 0..2 {
        for j in 0..80 {
            let u = s.node_metrics(last, l, j).unwrap().informativeness as f32;
            assert!(u <= top.informativeness);
        }
    }
}

#[test]
fn the_command_prints_a_table_per_run_and_writes_the_csv() {
    let dir = tempfile::tempdir().unwrap();
    // A copy in which layer 2's sets never shrink: its last record at its peak.
    let mut flat = example();
    let peak = flat
        .epochs
        .iter()
        .map(|e| e.layers[1].summary.activation_fraction)
        .max_by(|a, b| a.mean.total_cmp(&b.mean))
        .unwrap();
    flat.epochs.last_mut().unwrap().layers[1]
        .summary
        .activation_fraction = peak;
    let flat_path = dir.path().join("flat.ron");
    session::save(&flat, &flat_path).unwrap();
    let csv = dir.path().join("findings.csv");
    let o = Command::new(common::bin())
        .args(["findings", EXAMPLE])
        .arg(&flat_path)
        .arg("--csv")
        .arg(&csv)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(text.matches("sets grow, then shrink").count(), 2, "{text}");
    assert!(text.contains("holds (2 of 2 layers)"), "{text}");
    assert!(text.contains("does not hold (1 of 2 layers)"), "{text}");
    let rows: Vec<String> = std::fs::read_to_string(&csv)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(rows.len(), 1 + 2 * 2);
    assert!(rows[0].starts_with("file,preset,seed,epochs_done,final_test_accuracy,layer,first,peak,peak_step,peak_epoch,last,relative_drop"));
    let cols: Vec<&str> = rows[4].split(',').collect();
    assert_eq!(cols[5], "2");
    assert_eq!(
        cols[14], "false",
        "flat layer 2 does not shrink: {}",
        rows[4]
    );
    // An unreadable run is an error naming it.
    let o = Command::new(common::bin())
        .args(["findings", "/nonexistent/run.ron"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/run.ron"));
}
