//! The records' newer quantities (schema 2): record steps, set turnover and node-supported
//! cost, in the compact forms a session keeps them in, and the checks a file's values must
//! pass.
//!
//! Encodings, per layer and record (a 9x320 network has 2,880 nodes):
//! - `added` (u32 `[nodes]`) is stored; `removed` and churn are derived from it and the set
//!   sizes (the class counts) of this and the previous record: with `n = |S_now|`,
//!   `p = |S_prev|`, `removed = p + added - n` and churn `= (n - added) / (p + added)`, exactly
//!   what the bitsets give (tested), so schema 2 stores no churn.
//! - node-supported cost: mean |φ| and the per-node class scale as bfloat16 (u16 each: 8
//!   significant bits, 0.4 % relative, over the whole f32 range, which φ needs: a settled set
//!   pushes with |φ| of 1e-6 and less while an early one pushes with 0.1-1); the per-class mean
//!   signed φ as i8 in 127ths of the node's largest class mean (a resolution of 0.8 % of that
//!   mean: the "push by class" plot draws ten lines of a node, and 1/127 of its range is below a
//!   line's width; the sign, which says whether a class pushes the node's output up or down, is
//!   exact down to 1/254 of the range). f32 would take 40 bytes per node and record for the
//!   class means and compress poorly (random mantissas), i8 takes 10.
//! - settled samples per node: u32 `[nodes]`, exact.

use super::model::{EpochRecord, LayerCost, LayerRecord};
use crate::measure::Schedule;
use crate::measure::pass::LayerMeasurement;

/// `v` rounded to the nearest bfloat16 (ties to even), as an f32 whose low 16 bits are zero.
/// NaN stays NaN (canonical), infinities stay infinite.
pub fn bf16_round(v: f32) -> f32 {
    if v.is_nan() {
        return f32::NAN;
    }
    let bits = v.to_bits();
    let rounded = bits.wrapping_add(0x7fff + ((bits >> 16) & 1)) & 0xffff_0000;
    f32::from_bits(rounded)
}

/// `v` rounded away from zero to a bfloat16 (so `|v| <= |result|`).
pub fn bf16_round_out(v: f32) -> f32 {
    if !v.is_finite() {
        return bf16_round(v);
    }
    let bits = v.to_bits();
    let up = if bits & 0xffff == 0 {
        bits
    } else {
        (bits & 0xffff_0000).wrapping_add(0x1_0000)
    };
    f32::from_bits(up)
}

/// The bfloat16 bits of `v` (its high 16 bits; exact for values made by [`bf16_round`]).
pub fn bf16_bits(v: f32) -> u16 {
    (v.to_bits() >> 16) as u16
}

/// The f32 of bfloat16 bits.
pub fn from_bf16_bits(b: u16) -> f32 {
    f32::from_bits(u32::from(b) << 16)
}

/// Sample-set sizes `[nodes]` from on-counts `[nodes, classes]`.
pub fn set_sizes(counts: &[u32], classes: usize) -> Vec<u64> {
    counts
        .chunks_exact(classes.max(1))
        .map(|on| on.iter().map(|&c| u64::from(c)).sum())
        .collect()
}

/// A layer's node-supported cost in compact form, from a measurement's exact sums and the
/// layer's on-counts `[nodes, classes]`.
pub fn layer_cost(m: &LayerMeasurement, classes: usize) -> LayerCost {
    let sizes = set_sizes(&m.counts, classes);
    let nodes = sizes.len();
    let mut cost = LayerCost {
        mean_abs: Vec::with_capacity(nodes),
        class_scale: Vec::with_capacity(nodes),
        class_push: Vec::with_capacity(nodes * classes),
        settled: m.settled.clone(),
    };
    for (j, &size) in sizes.iter().enumerate() {
        let abs_sum = m.cost_abs_sum.get(j).copied().unwrap_or(0.0);
        cost.mean_abs.push(if size == 0 {
            f32::NAN
        } else {
            bf16_round((abs_sum / size as f64) as f32)
        });
        let means: Vec<Option<f64>> = (0..classes)
            .map(|c| {
                let on = m.counts.get(j * classes + c).copied().unwrap_or(0);
                let sum = m
                    .cost_class_sum
                    .get(j * classes + c)
                    .copied()
                    .unwrap_or(0.0);
                (on > 0).then(|| sum / f64::from(on))
            })
            .collect();
        let largest = means.iter().flatten().fold(0f64, |a, &v| a.max(v.abs()));
        let scale = bf16_round_out(largest as f32);
        cost.class_scale.push(scale);
        for mean in means {
            cost.class_push.push(match mean {
                None => LayerCost::NO_SAMPLES,
                Some(_) if scale <= 0.0 => 0,
                Some(v) => (127.0 * v / f64::from(scale)).round().clamp(-127.0, 127.0) as i8,
            });
        }
    }
    cost
}

/// `removed` and churn of each node from `added` and the set sizes now and at the previous
/// record (all `[nodes]`), as the bitsets give them (see the module doc).
///
/// # Errors
/// A message when the numbers contradict each other (more added than the set holds, or a
/// negative or too large `removed`).
pub fn turnover_from_added(
    now: &[u64],
    prev: &[u64],
    added: &[u32],
) -> Result<(Vec<u32>, Vec<f32>), String> {
    if now.len() != added.len() || prev.len() != added.len() {
        return Err(format!(
            "{} added values for {} nodes now and {} before",
            added.len(),
            now.len(),
            prev.len()
        ));
    }
    let mut removed = Vec::with_capacity(added.len());
    let mut churn = Vec::with_capacity(added.len());
    for (j, ((&n, &p), &a)) in now.iter().zip(prev).zip(added).enumerate() {
        let a = u64::from(a);
        let r = (p + a).checked_sub(n).filter(|&r| a <= n && r <= p);
        let Some(r) = r else {
            return Err(format!(
                "node {j}: {a} samples added to a set of {n} that had {p}"
            ));
        };
        removed.push(u32::try_from(r).map_err(|_| format!("node {j}: {r} removed"))?);
        let (inter, union) = (n - a, p + a);
        churn.push(if union == 0 {
            1.0
        } else {
            (inter as f64 / union as f64) as f32
        });
    }
    Ok((removed, churn))
}

/// [`turnover_from_added`] for numbers that may contradict each other (a file being
/// loaded): `removed` saturates at 0 and `u32::MAX` and churn is NaN where they do, and
/// [`check_record`] names the contradiction after the plainer checks of the load.
pub fn turnover_unchecked(now: &[u64], prev: &[u64], added: &[u32]) -> (Vec<u32>, Vec<f32>) {
    turnover_from_added(now, prev, added).unwrap_or_else(|_| {
        now.iter()
            .zip(prev)
            .zip(added)
            .map(|((&n, &p), &a)| {
                let r = (p + u64::from(a)).saturating_sub(n);
                (u32::try_from(r).unwrap_or(u32::MAX), f32::NAN)
            })
            .unzip()
    })
}

/// Checks one record's schema-2 quantities against each other and against the session:
/// its step (after `prev`'s, in the schedule, and matching its completed epochs), its
/// training-set settled share and loss quartiles, and per layer the turnover and the
/// node-supported cost against the class counts. `steps_per_epoch` and `schedule` are the
/// session's; `classes` the number of classes.
///
/// # Errors
/// The field at fault (`step`, `epoch`, `settled_share`, `sample_loss`, `layer 2 added`,
/// `layer 2 cost`, ...) and what is wrong with it.
pub fn check_record(
    rec: &EpochRecord,
    prev: Option<&EpochRecord>,
    steps_per_epoch: u64,
    schedule: Schedule,
    classes: usize,
) -> Result<(), (String, String)> {
    let field = |f: &str| f.to_string();
    let spe = steps_per_epoch.max(1);
    if let Some(p) = prev
        && rec.step <= p.step
    {
        return Err((
            field("step"),
            format!("{} follows the record at step {}", rec.step, p.step),
        ));
    }
    if u64::from(rec.epoch) != rec.step / spe {
        return Err((
            field("epoch"),
            format!(
                "is {}, but {} steps of {spe} make {}",
                rec.epoch,
                rec.step,
                rec.step / spe
            ),
        ));
    }
    if !schedule.measures_at(rec.step, spe) {
        return Err((
            field("step"),
            format!(
                "{} is not a step of the schedule {}",
                rec.step,
                schedule.name()
            ),
        ));
    }
    if let Some(share) = rec.settled_share
        && !(0.0..=1.0).contains(&share)
    {
        return Err((field("settled_share"), format!("is {share}, not in [0, 1]")));
    }
    if let Some(q) = rec.sample_loss {
        let ordered = q.q1 <= q.median && q.median <= q.q3;
        let finite = [q.mean, q.q1, q.median, q.q3].iter().all(|v| v.is_finite());
        if !ordered || !finite || q.q1 < 0.0 {
            return Err((
                field("sample_loss"),
                format!("quartiles {q:?} are not ordered, finite and non-negative"),
            ));
        }
    }
    for (l, layer) in rec.layers.iter().enumerate() {
        let before = prev
            .and_then(|p| p.layers.get(l))
            .map(|p| set_sizes(&p.counts, classes));
        check_layer(layer, before.as_deref(), classes)
            .map_err(|(f, e)| (format!("layer {} {f}", l + 1), e))?;
    }
    Ok(())
}

/// One layer's turnover and cost against its counts (and the previous record's set sizes).
fn check_layer(
    layer: &LayerRecord,
    before: Option<&[u64]>,
    classes: usize,
) -> Result<(), (&'static str, String)> {
    let sizes = set_sizes(&layer.counts, classes);
    let nodes = sizes.len();
    if layer.added.len() != layer.removed.len()
        || !(layer.added.is_empty() || layer.added.len() == nodes)
    {
        return Err((
            "added",
            format!(
                "{} added and {} removed values for {nodes} nodes",
                layer.added.len(),
                layer.removed.len()
            ),
        ));
    }
    if !layer.added.is_empty() {
        let Some(before) = before.filter(|b| b.len() == nodes) else {
            return Err(("added", "is given without a previous record".into()));
        };
        // |S_now| - |S_prev| = added - removed, with neither more than its set holds.
        let turnover = sizes
            .iter()
            .zip(before)
            .zip(&layer.added)
            .zip(&layer.removed);
        for (j, (((&n, &p), &a), &r)) in turnover.enumerate() {
            let (a, r) = (u64::from(a), u64::from(r));
            if a > n || r > p || n + r != p + a {
                return Err((
                    "added",
                    format!("node {j}: {a} samples added to a set of {n} that had {p}"),
                ));
            }
        }
    }
    let Some(cost) = &layer.cost else {
        return Ok(());
    };
    let cost_err = |m: String| Err(("cost", m));
    if cost.mean_abs.len() != nodes
        || cost.class_scale.len() != nodes
        || cost.settled.len() != nodes
        || cost.class_push.len() != nodes * classes
    {
        return cost_err("node-supported cost arrays do not match the layer's width".into());
    }
    let classes = classes.max(1);
    let per_node = sizes
        .iter()
        .zip(&cost.mean_abs)
        .zip(&cost.class_scale)
        .zip(&cost.settled)
        .zip(layer.counts.chunks_exact(classes))
        .zip(cost.class_push.chunks_exact(classes));
    for (j, (((((&size, &mean), &scale), &settled), on), push)) in per_node.enumerate() {
        let mean_ok = if size == 0 {
            mean.is_nan()
        } else {
            mean.is_finite() && mean >= 0.0
        };
        if !(mean_ok && scale.is_finite() && scale >= 0.0) {
            return cost_err(format!(
                "node {j}: mean |cost| {mean} and class scale {scale} for a set of {size}"
            ));
        }
        if u64::from(settled) > size {
            return cost_err(format!(
                "node {j}: {settled} settled samples in a set of {size}"
            ));
        }
        let disagree = on
            .iter()
            .zip(push)
            .position(|(&n, &q)| (n == 0) != (q == LayerCost::NO_SAMPLES));
        if let Some(c) = disagree {
            return cost_err(format!(
                "node {j} class {c}: push by class disagrees with the class counts"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::bits::jaccard;

    #[test]
    fn bfloat16_rounding_is_exact_on_the_way_back_and_within_half_a_unit() {
        for v in [
            0.0f32,
            1.0,
            -1.0,
            0.1,
            3.0e-7,
            12345.678,
            -0.007,
            f32::MAX / 2.0,
        ] {
            let r = bf16_round(v);
            assert_eq!(from_bf16_bits(bf16_bits(r)).to_bits(), r.to_bits());
            assert!((r - v).abs() <= v.abs() / 256.0, "{v} -> {r}");
            let out = bf16_round_out(v);
            assert!(out.abs() >= v.abs() && (out - v).abs() <= v.abs() / 128.0);
        }
        assert!(bf16_round(f32::NAN).is_nan());
    }

    #[test]
    fn churn_and_removed_from_added_match_the_bitsets() {
        // Pseudo-random sets of 300 samples, some empty and some equal.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for case in 0..200 {
            let (a, b): (Vec<u64>, Vec<u64>) = (0..5)
                .map(|_| match case % 5 {
                    0 => (0, next() & next()),
                    1 => (next(), 0),
                    2 => (0, 0),
                    _ => (next() & next(), next() | next()),
                })
                .unzip();
            let count = |s: &[u64]| s.iter().map(|w| u64::from(w.count_ones())).sum::<u64>();
            let added = a
                .iter()
                .zip(&b)
                .map(|(n, p)| (n & !p).count_ones())
                .sum::<u32>();
            let (removed, churn) =
                turnover_from_added(&[count(&a)], &[count(&b)], &[added]).unwrap();
            let really_removed: u32 = a.iter().zip(&b).map(|(n, p)| (p & !n).count_ones()).sum();
            assert_eq!(removed, vec![really_removed]);
            assert_eq!(churn[0].to_bits(), jaccard(&a, &b).to_bits());
        }
        assert!(turnover_from_added(&[5], &[3], &[9]).is_err());
        assert!(turnover_from_added(&[5], &[3], &[1]).is_err(), "removed -1");
    }
}
