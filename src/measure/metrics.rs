//! Per-node metrics from the node's contingency table of binary activation Z (on/off)
//! against class Y, as defined by Haasbroek & Davel (SACAIR 2020, appendix):
//!
//! - activation fraction `f = |S| / N`;
//! - predictability `p = 1 - H(Z|Y) / ln 2`: how well the class tells whether the node is on;
//! - informativeness `u = 1 - H(Y|Z) / ln |C|`: how well on/off tells the class.
//!
//! Entropies are in nats with `0 ln 0 = 0`, so both scores lie in [0, 1]. Edge cases:
//! a node that is never on (dead) or always on has `H(Z|Y) = 0`, so `p = 1`, and
//! `H(Y|Z) = H(Y)`, so `u = 1 - H(Y) / ln |C|` (0 when classes are balanced, about 0.0017 for
//! MNIST's training set). A perfectly class-selective node (on exactly for the samples of one
//! class) has `p = 1` and `u = 1 - H(Y|Z) / ln |C|` with `H(Y|Z)` the entropy left among the
//! other classes when it is off. An empty table (N = 0) gives `f = 0, p = 1, u = 1`.

/// The three metrics of one node at one epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodeMetrics {
    /// |sample set| / N, in [0, 1].
    pub activation_fraction: f64,
    /// 1 - H(Z|Y)/ln 2, in [0, 1].
    pub predictability: f64,
    /// 1 - H(Y|Z)/ln |C|, in [0, 1].
    pub informativeness: f64,
}

/// `-x ln x` with `0 ln 0 = 0`.
fn h(x: f64) -> f64 {
    if x > 0.0 { -x * x.ln() } else { 0.0 }
}

/// Metrics from `on[c]`, the samples of class `c` that switch the node on, and `totals[c]`,
/// all samples of class `c` (`on[c] <= totals[c]`; both of length |C|).
pub fn node_metrics(on: &[u32], totals: &[u32]) -> NodeMetrics {
    let classes = totals.len();
    let n: f64 = totals.iter().map(|&t| f64::from(t)).sum();
    let n_on: f64 = on.iter().map(|&t| f64::from(t)).sum();
    if n <= 0.0 {
        return NodeMetrics {
            activation_fraction: 0.0,
            predictability: 1.0,
            informativeness: 1.0,
        };
    }
    let n_off = n - n_on;
    // H(Z|Y) = sum_c P(c) H(Z | Y=c)
    let mut h_z_y = 0.0;
    // H(Y|Z) = P(on) H(Y|on) + P(off) H(Y|off)
    let mut h_y_on = 0.0;
    let mut h_y_off = 0.0;
    for (&a, &t) in on.iter().zip(totals) {
        let (a, t) = (f64::from(a), f64::from(t));
        if t > 0.0 {
            h_z_y += t / n * (h(a / t) + h((t - a) / t));
        }
        if n_on > 0.0 {
            h_y_on += h(a / n_on);
        }
        if n_off > 0.0 {
            h_y_off += h((t - a) / n_off);
        }
    }
    let h_y_z = n_on / n * h_y_on + n_off / n * h_y_off;
    let log_c = (classes.max(2) as f64).ln();
    NodeMetrics {
        activation_fraction: n_on / n,
        predictability: (1.0 - h_z_y / std::f64::consts::LN_2).clamp(0.0, 1.0),
        informativeness: (1.0 - h_y_z / log_c).clamp(0.0, 1.0),
    }
}
