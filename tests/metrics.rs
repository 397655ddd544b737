//! Activation fraction, predictability and informativeness on hand-computed tables.

use sample_sets::measure::{LayerSummary, Quartiles, node_metrics};

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-9, "{a} != {b}");
}

const BALANCED: [u32; 10] = [10; 10];

#[test]
fn a_node_never_on_is_perfectly_predictable_and_uninformative() {
    let m = node_metrics(&[0; 10], &BALANCED);
    close(m.activation_fraction, 0.0);
    close(m.predictability, 1.0);
    close(m.informativeness, 0.0);
}

#[test]
fn a_node_always_on_is_perfectly_predictable_and_uninformative() {
    let m = node_metrics(&BALANCED, &BALANCED);
    close(m.activation_fraction, 1.0);
    close(m.predictability, 1.0);
    close(m.informativeness, 0.0);
}

#[test]
fn a_perfectly_class_selective_node() {
    // On exactly for class 0: the class fixes Z (p = 1); Z = off leaves 9 equal classes.
    let mut on = [0u32; 10];
    on[0] = 10;
    let m = node_metrics(&on, &BALANCED);
    close(m.activation_fraction, 0.1);
    close(m.predictability, 1.0);
    close(m.informativeness, 1.0 - 0.9 * 9f64.ln() / 10f64.ln());
    assert!((m.informativeness - 0.141_181_3).abs() < 1e-6);
}

#[test]
fn a_node_on_for_half_of_every_class_tells_nothing() {
    let m = node_metrics(&[5; 10], &BALANCED);
    close(m.activation_fraction, 0.5);
    close(m.predictability, 0.0);
    close(m.informativeness, 0.0);
}

#[test]
fn an_asymmetric_two_class_table() {
    // Class 0: 2 of 2 on; class 1: 1 of 2 on.
    // H(Z|Y) = 0.5 ln 2 -> p = 0.5. H(Y|on) = H(2/3, 1/3), H(Y|off) = 0, P(on) = 3/4.
    let m = node_metrics(&[2, 1], &[2, 2]);
    close(m.activation_fraction, 0.75);
    close(m.predictability, 0.5);
    let h_on = -(2.0 / 3.0 * (2.0f64 / 3.0).ln() + 1.0 / 3.0 * (1.0f64 / 3.0).ln());
    close(m.informativeness, 1.0 - 0.75 * h_on / 2f64.ln());
}

#[test]
fn a_dead_node_on_mnist_class_sizes_has_the_documented_informativeness() {
    let totals = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
    let m = node_metrics(&[0; 10], &totals);
    let n: f64 = totals.iter().map(|&t| f64::from(t)).sum();
    let h_y: f64 = totals
        .iter()
        .map(|&t| {
            let p = f64::from(t) / n;
            -p * p.ln()
        })
        .sum();
    close(m.informativeness, 1.0 - h_y / 10f64.ln());
    assert!(m.informativeness > 0.0 && m.informativeness < 0.002);
}

#[test]
fn layer_summary_counts_dead_and_always_on_nodes_and_quartiles() {
    // Three nodes over two classes of 2: dead, always on, half.
    let counts = [0, 0, 2, 2, 1, 1];
    let s = LayerSummary::from_counts(&counts, &[2, 2], &[]);
    assert_eq!(s.dead, 1);
    assert_eq!(s.always_on, 1);
    assert_eq!(s.activation_fraction.median, 0.5);
    assert_eq!(s.activation_fraction.mean, 0.5);
    assert!(s.churn.is_none());
    let q = Quartiles::of([1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
    assert_eq!((q.q1, q.median, q.q3), (2.0, 3.0, 4.0));
}
