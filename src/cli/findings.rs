//! `sample-sets findings RUN...`: per run, whether the paper's observations hold, with the
//! numbers behind each (see [`crate::session::findings`]), as a table and as CSV.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::error::CliError;
use crate::session::findings::{Findings, SHRINK_AT_LEAST, findings};
use crate::session::{self};

/// One run's findings and the file they came from.
pub type RunFindings = (PathBuf, Findings);

/// Reads every session and works out its findings.
///
/// # Errors
/// [`CliError::Session`] for the first file that does not load; [`CliError::Usage`] for a
/// session without records.
pub fn gather(files: &[PathBuf]) -> Result<Vec<RunFindings>, CliError> {
    files
        .iter()
        .map(|f| {
            let s = session::load(f)?;
            let found = findings(&s).ok_or_else(|| {
                CliError::Usage(format!("{}: the session holds no records yet", f.display()))
            })?;
            Ok((f.clone(), found))
        })
        .collect()
}

fn verdict(holds: bool) -> &'static str {
    if holds { "holds" } else { "does not hold" }
}

/// The findings of one run as text.
pub fn table(file: &Path, f: &Findings) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} (seed {}), {} epochs, test accuracy {:.2}%",
        file.display(),
        super::printable(&f.preset),
        f.seed,
        f.epochs_done,
        f.final_test_accuracy * 100.0
    );
    let _ = writeln!(
        out,
        "  layer  epoch 0     peak  at epoch (step)      last    drop  shrink/epoch  informativeness"
    );
    for l in &f.layers {
        let _ = writeln!(
            out,
            "  {:>5}  {:>7.4}  {:>7.4}  {:>8.4} ({:>6})  {:>7.4}  {:>5.1}%  {:>12.4}  {:>15.4}",
            l.layer,
            l.first,
            l.peak,
            l.peak_position,
            l.peak_step,
            l.last,
            l.relative_drop * 100.0,
            l.shrink_rate,
            l.informativeness_last
        );
    }
    let growing = f.layers.iter().filter(|l| l.grows_then_shrinks).count();
    let _ = writeln!(
        out,
        "  sets grow, then shrink (peak after the start, last at least {:.0}% below it): {} ({} of {} layers)",
        SHRINK_AT_LEAST * 100.0,
        verdict(f.all_grow_then_shrink),
        growing,
        f.layers.len()
    );
    match f.fastest_shrinking_layer {
        Some(l) => {
            let rate = f.layers.get(l - 1).map_or(f32::NAN, |x| x.shrink_rate);
            let _ = writeln!(
                out,
                "  fastest shrinking layer: {l} ({rate:.4} per epoch, ln(peak / last) / epochs)"
            );
        }
        None => {
            let _ = writeln!(out, "  fastest shrinking layer: none shrinks");
        }
    }
    let by_depth: Vec<String> = f
        .layers
        .iter()
        .map(|l| format!("{:.4}", l.informativeness_last))
        .collect();
    let _ = writeln!(
        out,
        "  informativeness rises with depth at the end: {} ({}; {} inversion{})",
        verdict(f.informativeness_rises_with_depth),
        by_depth.join(" -> "),
        f.informativeness_inversions,
        if f.informativeness_inversions == 1 {
            ""
        } else {
            "s"
        }
    );
    if let Some(t) = f.top_node {
        let _ = writeln!(
            out,
            "  most informative node: layer {} node {}, informativeness {:.4} (activation fraction {:.4})",
            t.layer, t.node, t.informativeness, t.activation_fraction
        );
    }
    out
}

/// CSV of the findings: one row per run and layer, the run's verdicts repeated on each row.
pub fn csv(runs: &[RunFindings]) -> String {
    let mut out = String::from(
        "file,preset,seed,epochs_done,final_test_accuracy,layer,first,peak,peak_step,peak_epoch,last,relative_drop,shrink_rate_per_epoch,informativeness_last,grows_then_shrinks,all_grow_then_shrink,fastest_shrinking_layer,informativeness_rises_with_depth,informativeness_inversions,top_node_layer,top_node,top_node_informativeness\n",
    );
    for (file, f) in runs {
        for l in &f.layers {
            let top = f.top_node.map_or_else(
                || ",,".to_string(),
                |t| format!("{},{},{:.6}", t.layer, t.node, t.informativeness),
            );
            let _ = writeln!(
                out,
                "{},{},{},{},{:.6},{},{:.6},{:.6},{},{:.6},{:.6},{:.6},{:.6},{:.6},{},{},{},{},{},{}",
                csv_text(&file.display().to_string()),
                csv_text(&f.preset),
                f.seed,
                f.epochs_done,
                f.final_test_accuracy,
                l.layer,
                l.first,
                l.peak,
                l.peak_step,
                l.peak_position,
                l.last,
                l.relative_drop,
                l.shrink_rate,
                l.informativeness_last,
                l.grows_then_shrinks,
                f.all_grow_then_shrink,
                f.fastest_shrinking_layer
                    .map_or_else(String::new, |x| x.to_string()),
                f.informativeness_rises_with_depth,
                f.informativeness_inversions,
                top
            );
        }
    }
    out
}

/// A CSV field, quoted when it holds a comma, quote or line break.
fn csv_text(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `sample-sets findings RUN... [--csv FILE]`.
///
/// # Errors
/// As [`gather`]; [`CliError::Write`] when the CSV cannot be written.
pub fn run(files: &[PathBuf], csv_out: Option<&Path>, force: bool) -> Result<(), CliError> {
    let runs = gather(files)?;
    let existing = crate::fs::Existing::from_force(force);
    if let Some(path) = csv_out {
        crate::fs::check_writable(path, existing)?;
    }
    if let Some(path) = csv_out
        && files.iter().any(|f| f == path)
    {
        return Err(CliError::Usage(format!(
            "{}: the CSV would overwrite a session being read",
            path.display()
        )));
    }
    let mut stdout = std::io::stdout().lock();
    for (i, (file, f)) in runs.iter().enumerate() {
        if i > 0 {
            let _ = writeln!(stdout);
        }
        let _ = write!(stdout, "{}", table(file, f));
    }
    if let Some(path) = csv_out {
        crate::fs::write_atomic(path, csv(&runs).as_bytes(), existing)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
