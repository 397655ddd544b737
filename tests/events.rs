//! Events on the time line, found in a real 20-epoch 2x80 run (the schema-1 example session of
//! earlier versions, `tests/fixtures/`) and in
//! copies of it edited to hold a dying node, a dying layer and a collapse to chance; and the
//! stall of the backward pass, in a real 2x20-mse run edited to stop pushing.

mod common;

use std::path::Path;

use sample_sets::session::events::{EventKind, events};
use sample_sets::session::{self, Session};

fn example() -> Session {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/example-schema1-2x80-ce.ron"
    );
    session::load(Path::new(path)).unwrap()
}

#[test]
fn the_fraction_peak_is_the_largest_layer_mean() {
    let s = example();
    let found = events(&s);
    for layer in 0..2 {
        let peak = found
            .iter()
            .find_map(|e| match e.kind {
                EventKind::FractionPeak { layer: l, fraction } if l == layer => {
                    Some((e.record, fraction))
                }
                _ => None,
            })
            .unwrap();
        let means: Vec<f32> = s
            .epochs
            .iter()
            .map(|e| e.layers[layer].summary.activation_fraction.mean)
            .collect();
        assert!(means.iter().all(|&m| m <= peak.1));
        assert_eq!(means[peak.0], peak.1);
    }
    // A healthy run: no layer dies and accuracy never falls to chance.
    assert!(!found.iter().any(|e| matches!(
        e.kind,
        EventKind::LayerDies { .. } | EventKind::ChanceAccuracy { .. }
    )));
}

#[test]
fn dying_nodes_a_dying_layer_and_a_collapse_to_chance_are_found() {
    let mut s = example();
    let classes = s.classes();
    // Node 3 of layer 1 never on again from record 15; all of layer 2 from record 18 (its
    // node 0 already from 12); test accuracy at chance from record 19.
    for (i, e) in s.epochs.iter_mut().enumerate() {
        if i >= 15 {
            e.layers[0].counts[3 * classes..4 * classes].fill(0);
        }
        if i >= 12 {
            e.layers[1].counts[..classes].fill(0);
        }
        if i >= 18 {
            e.layers[1].counts.fill(0);
        }
        if i >= 19 {
            e.test_accuracy = 0.0958;
        }
    }
    let found = events(&s);
    let dies = |layer: usize| -> Vec<(usize, Vec<usize>)> {
        found
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::NodesDie { layer: l, nodes } if *l == layer => {
                    Some((e.record, nodes.clone()))
                }
                _ => None,
            })
            .collect()
    };
    // The run itself has a node of layer 1 that dies after epoch 1 (node 65).
    assert_eq!(dies(0), vec![(1, vec![65]), (15, vec![3])]);
    let layer2 = dies(1);
    assert!(layer2.iter().any(|(r, n)| *r == 12 && n.contains(&0)));
    assert_eq!(layer2.last().unwrap().0, 18);
    assert_eq!(layer2.iter().map(|(_, n)| n.len()).sum::<usize>(), 80);
    let layer_dies: Vec<(usize, usize)> = found
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::LayerDies { layer } => Some((e.record, layer)),
            _ => None,
        })
        .collect();
    assert_eq!(layer_dies, vec![(18, 1)]);
    let chance: Vec<usize> = found
        .iter()
        .filter(|e| matches!(e.kind, EventKind::ChanceAccuracy { .. }))
        .map(|e| e.record)
        .collect();
    assert_eq!(chance, vec![19]);
    // Positions and steps are the records'.
    for e in &found {
        assert_eq!(e.step, s.epochs[e.record].step);
        assert_eq!(e.position, e.step as f64 / 469.0);
    }
    assert!(found.windows(2).all(|w| w[0].record <= w[1].record));
}

/// A real one-epoch 2x20-mse run (default schedule: records inside epoch 1 with φ).
fn mse_run() -> Session {
    let mut p = sample_sets::preset::find("mnist-2x20-mse", &[]).unwrap();
    p.epochs = 1;
    let data = common::mnist();
    let mut run = sample_sets::train::Run::new(p, data, 1).unwrap();
    let status = run.execute(
        data,
        None,
        &sample_sets::train::Control::default(),
        &mut |_| {},
    );
    assert_eq!(status, session::RunStatus::Completed);
    run.session
}

#[test]
fn a_backward_pass_that_stops_while_the_network_is_wrong_is_a_stall() {
    let mut s = mse_run();
    // A healthy run pushes at every record.
    assert!(
        !events(&s)
            .iter()
            .any(|e| matches!(e.kind, EventKind::TrainingStalls { .. }))
    );
    let n = s.epochs.len();
    assert!(n >= 10, "the default schedule records inside epoch 1");
    // From record `from` on, nothing pushes (as when a saturated softmax zeroes the output
    // gradient) and few samples are settled; at the record before last most are settled,
    // which is a finished fit, not a stall; the last record stalls again.
    let from = n / 2;
    for (i, e) in s.epochs.iter_mut().enumerate().skip(from) {
        for l in &mut e.layers {
            let cost = l.cost.as_mut().unwrap();
            cost.mean_abs.iter_mut().for_each(|v| *v = 1.2e-38);
        }
        e.settled_share = Some(if i == n - 2 { 0.9 } else { 0.094 });
    }
    let stalls: Vec<(usize, String)> = events(&s)
        .iter()
        .filter(|e| matches!(e.kind, EventKind::TrainingStalls { .. }))
        .map(|e| (e.record, e.describe()))
        .collect();
    let records: Vec<usize> = stalls.iter().map(|(r, _)| *r).collect();
    assert_eq!(records, vec![from, n - 1]);
    assert!(
        stalls[0].1.contains("training stalls") && stalls[0].1.contains("9.4%"),
        "{}",
        stalls[0].1
    );
}
