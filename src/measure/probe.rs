//! The probe subset: training samples whose membership in every node's sample set is kept
//! for every epoch, so a node's membership raster can be drawn exactly for them.

use rand::seq::SliceRandom;

use crate::nn::rng::{Stream, rng_for};

/// Picks `k` training samples, stratified by class (each class gets its share of `k` in
/// proportion to its size, largest remainders first), at random from `seed`.
///
/// Returns sample indices grouped by class (class 0 first), ascending within a class, so
/// raster rows come out grouped by class. `k` is clamped to `labels.len()`.
pub fn stratified_probe(labels: &[u8], classes: usize, k: usize, seed: u64) -> Vec<u32> {
    let n = labels.len();
    let k = k.min(n);
    let mut by_class: Vec<Vec<u32>> = vec![Vec::new(); classes];
    for (i, &l) in labels.iter().enumerate() {
        if let Some(v) = by_class.get_mut(usize::from(l)) {
            v.push(i as u32);
        }
    }
    if n == 0 {
        return Vec::new();
    }
    // Largest-remainder apportionment of k over classes.
    let exact: Vec<f64> = by_class
        .iter()
        .map(|v| k as f64 * v.len() as f64 / n as f64)
        .collect();
    let mut share: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut rest = k - share.iter().sum::<usize>();
    let mut by_remainder: Vec<usize> = (0..classes).collect();
    by_remainder.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    for &c in by_remainder.iter().cycle().take(classes * 2) {
        if rest == 0 {
            break;
        }
        if share[c] < by_class[c].len() {
            share[c] += 1;
            rest -= 1;
        }
    }
    let mut rng = rng_for(seed, Stream::Probe);
    let mut out = Vec::with_capacity(k);
    for (members, &take) in by_class.iter_mut().zip(&share) {
        members.shuffle(&mut rng);
        let mut chosen = members[..take.min(members.len())].to_vec();
        chosen.sort_unstable();
        out.extend(chosen);
    }
    out
}
