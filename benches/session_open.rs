//! Opening a session file, phase by phase (a benchmark, not a test): what "file chosen to the
//! first frame with its plots" costs the app.
//!
//! `cargo bench --bench session_open -- FILE... [--repeats R]` prints per file its size and, over
//! R repeats (default 5), the fastest and the median time of each phase:
//! - `read`: the file's bytes (from the page cache after the first repeat), as `session::load`
//!   reads them (`session::io::read`);
//! - `parse`: RON text to the on-disk structure (`SessionFile`, blobs still text), as
//!   `session::load` does it: all but the records and checkpoint (`session::parts::split`),
//!   or the whole file when it is not laid out as this program writes it;
//! - `decode`: records and checkpoint parsed, blobs to arrays, shape checks and validation
//!   (`session::file::decode_bulk`);
//! - `series`: what the plots' cache builds in the first frame the session is shown in (every
//!   metric's and layer quantity's band per layer, the training-set series, the events);
//! - `total`: their sum, which is what the app waits for (the first three run on the background
//!   thread of `app::background`, the series in the first frame).
//!
//! This machine's neighbours only ever slow a run down, so comparisons use the fastest.

use std::path::{Path, PathBuf};
use std::time::Instant;

use sample_sets::session::file::{Bulk, SessionFile, decode_bulk};
use sample_sets::session::metric::LayerQuantity;
use sample_sets::session::{Metric, Session};

/// What the app's plot cache computes for a newly shown session (`app::ui::plots`), kept in
/// step with it by hand; the results are summed so nothing is optimised away.
fn first_frame_series(s: &Session) -> usize {
    let mut n = s.training_set_series().len();
    for l in 0..s.widths.len() {
        for m in Metric::ALL {
            n += s.layer_band(l, m).len();
        }
        for q in LayerQuantity::ALL {
            n += q.series(s, l).len();
        }
    }
    n + sample_sets::session::events::events(s).len()
}

fn ms(v: &[f64], median: bool) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let x = if median { v[v.len() / 2] } else { v[0] };
    x * 1e3
}

fn open(path: &Path, repeats: usize) -> Result<(), String> {
    let bytes = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    let mut phases: [Vec<f64>; 5] = Default::default();
    let mut records = 0;
    for _ in 0..repeats {
        let t = Instant::now();
        let data = sample_sets::session::io::read(path).map_err(|e| e.to_string())?;
        let read = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let text = String::from_utf8(data).map_err(|e| e.to_string())?;
        let (file, parsed) = match sample_sets::session::parts::split(&text) {
            Some(p) => (
                p.file,
                Bulk::Text {
                    records: p.records,
                    checkpoint: p.checkpoint,
                },
            ),
            None => {
                let mut file: SessionFile = ron::from_str(&text).map_err(|e| e.to_string())?;
                let epochs = std::mem::take(&mut file.epochs);
                (file, Bulk::Parsed(epochs))
            }
        };
        let parse = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let s = decode_bulk(file, parsed, path).map_err(|e| e.to_string())?;
        let dec = t.elapsed().as_secs_f64();
        let t = Instant::now();
        records = first_frame_series(&s);
        let series = t.elapsed().as_secs_f64();
        drop(s);
        drop(text);
        for (p, v) in phases
            .iter_mut()
            .zip([read, parse, dec, series, read + parse + dec + series])
        {
            p.push(v);
        }
    }
    println!(
        "{}  {:.1} MB  ({records} series points)",
        path.display(),
        bytes as f64 / 1e6
    );
    for (name, v) in ["read", "parse", "decode", "series", "total"]
        .iter()
        .zip(&phases)
    {
        println!(
            "  {name:<7} fastest {:>7.1} ms  median {:>7.1} ms",
            ms(v, false),
            ms(v, true)
        );
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut repeats = 5;
    let mut files = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--repeats" => repeats = it.next().and_then(|r| r.parse().ok()).unwrap_or(5),
            // cargo bench passes --bench to every bench binary.
            "--bench" => {}
            f => files.push(PathBuf::from(f)),
        }
    }
    println!(
        "threads: rayon {}  repeats {repeats}",
        rayon::current_num_threads()
    );
    for f in files {
        if let Err(e) = open(&f, repeats.max(1)) {
            eprintln!("{}: {e}", f.display());
        }
    }
}
