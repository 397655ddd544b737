//! Mutation fuzzing of the three readers of files a user hands over: the session loader, the
//! preset parser and the IDX reader. Each starts from real files (a 2-epoch session trained
//! here on the real MNIST, the embedded presets, the real IDX files gzipped and raw) and
//! feeds seeded mutations of them to the reader. No case may panic, and none may allocate
//! more than 64 MiB beyond its input (measured by a counting allocator, per thread).
//!
//! `cargo test --test fuzz` runs 20,000 cases per reader (seconds); the ignored
//! `a_million_cases_per_reader` runs 1,000,000 each (`cargo test --test fuzz -- --ignored
//! --nocapture`). A failing case is written to `target/fuzz-failures/` and its seed
//! and number printed; each one found became a test in `tests/session_safety.rs` or
//! `tests/idx.rs`.

mod common;
#[path = "common/mutate.rs"]
mod mutate;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use flate2::Compression;
use flate2::write::GzEncoder;
use mutate::Mutator;
use sample_sets::data::idx::read_idx_from;
use sample_sets::preset::{self, Preset};
use sample_sets::session;
use sample_sets::train::{Control, Run};

/// Counts the bytes live on each thread and the most they reached.
struct CountingAllocator;

thread_local! {
    static LIVE: Cell<i64> = const { Cell::new(0) };
    static PEAK: Cell<i64> = const { Cell::new(0) };
}

/// Adds `delta` to this thread's live bytes (no-op while the thread's locals are torn down).
fn track(delta: i64) {
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: every method forwards to the system allocator with the caller's own arguments, so
// it upholds GlobalAlloc's contract exactly as `System` does. The bookkeeping touches only
// const-initialised thread-local `Cell`s (no allocation, no re-entry into the allocator) and
// `try_with` makes it a no-op once a thread's locals are gone.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as this method's caller upholds.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            track(layout.size() as i64);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            track(layout.size() as i64);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` (every allocation goes through it) with
        // `layout`.
        unsafe { System.dealloc(ptr, layout) };
        track(-(layout.size() as i64));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`; `new_size` is the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            track(new_size as i64 - layout.size() as i64);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Runs `f`, returning its result and the most bytes it had allocated at once on this thread
/// beyond what was live when it started.
fn measured<T>(f: impl FnOnce() -> T) -> (T, i64) {
    let start = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(start));
    let out = f();
    (out, PEAK.with(Cell::get) - start)
}

/// Most bytes a case may allocate beyond its input.
const HEADROOM: i64 = 64 << 20;

/// A 2-epoch session of a small network (2 hidden layers of 3 nodes, a 70-sample probe: two
/// bitset words) trained on the real MNIST once per test binary, as file bytes.
fn session_bytes() -> &'static [u8] {
    static S: OnceLock<Vec<u8>> = OnceLock::new();
    S.get_or_init(|| {
        let mut p = preset::find("mnist-2x20-ce", &[]).unwrap();
        p.name = "fuzz-seed".into();
        p.width = 3;
        p.epochs = 2;
        p.probe_size = 70;
        let mut run = Run::new(p, common::mnist(), 1).unwrap();
        run.execute(common::mnist(), None, &Control::default(), &mut |_| {});
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seed.ron");
        session::save(&run.session, &path).unwrap();
        std::fs::read(&path).unwrap()
    })
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(bytes), &mut out).unwrap();
    out
}

/// IDX seeds: the real test labels (gzipped as shipped, and raw), the first 16 real test
/// images as a file of its own (header count set to 16; raw and gzipped), and the first 4 KiB
/// of the real test images file (a truncated file). With the rank each is read with.
fn idx_seeds() -> Vec<(Vec<u8>, usize)> {
    let dir = common::mnist_dir();
    let labels_gz = std::fs::read(dir.join("t10k-labels-idx1-ubyte.gz")).unwrap();
    let labels = gunzip(&labels_gz);
    let images = gunzip(&std::fs::read(dir.join("t10k-images-idx3-ubyte.gz")).unwrap());
    let mut sixteen = images[..16 + 16 * 784].to_vec();
    sixteen[4..8].copy_from_slice(&16u32.to_be_bytes());
    vec![
        (labels_gz, 1),
        (labels, 1),
        (gzip(&sixteen), 3),
        (sixteen, 3),
        (images[..4096].to_vec(), 3),
    ]
}

/// A reader of one case (bytes, the IDX rank): whether it accepted the file (only panics and
/// memory count; refusing is the right answer for most cases).
type Reader = fn(&[u8], usize) -> bool;

/// Seed files with the IDX rank each is read with (0 for the other readers).
type Seeds = [(Vec<u8>, usize)];

fn read_session(bytes: &[u8], _: usize) -> bool {
    session::load_bytes(bytes.to_vec(), Path::new("fuzz.ron")).is_ok()
}

fn read_preset(bytes: &[u8], _: usize) -> bool {
    // As `Preset::load` reads a file: text first.
    match std::str::from_utf8(bytes) {
        Ok(text) => Preset::from_ron(text, "fuzz.ron").is_ok(),
        Err(_) => false,
    }
}

fn read_idx(bytes: &[u8], rank: usize) -> bool {
    read_idx_from(bytes, Path::new("fuzz-idx"), rank).is_ok()
}

/// Where failing cases are written.
fn failures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures")
}

/// Counts of one reader's run.
struct Outcome {
    cases: u64,
    accepted: u64,
    most_extra: i64,
    failures: Vec<String>,
}

/// Feeds `cases` mutations of `seeds` (bytes, rank) to `reader` from `seed`. Gzipped seeds are
/// also mutated inside their compression half of the time (decompress, mutate, recompress),
/// so that mutations reach the IDX parser behind gzip.
fn fuzz(name: &str, reader: Reader, seeds: &Seeds, cases: u64, seed: u64) -> Outcome {
    let bytes: Vec<Vec<u8>> = seeds.iter().map(|(b, _)| b.clone()).collect();
    let mut m = Mutator::new(seed);
    let mut out = Outcome {
        cases: 0,
        accepted: 0,
        most_extra: 0,
        failures: Vec::new(),
    };
    for i in 0..cases {
        let (which, mut case) = m.case(&bytes);
        let rank = seeds[which].1;
        if bytes[which].starts_with(&[0x1f, 0x8b]) && m.below(2) == 0 {
            let mut inner = gunzip(&bytes[which]);
            m.mutate(&mut inner, &bytes);
            case = gzip(&inner);
        }
        // Now and then the wrong rank, as when a label file is named like an image file.
        let rank = if m.below(8) == 0 { 4 - rank } else { rank };
        let (result, extra) = measured(|| catch_unwind(AssertUnwindSafe(|| reader(&case, rank))));
        out.cases += 1;
        out.most_extra = out.most_extra.max(extra);
        let problem = match result {
            Err(_) => Some("panicked".to_string()),
            Ok(_) if extra > HEADROOM + case.len() as i64 => Some(format!(
                "allocated {extra} bytes for a {}-byte input",
                case.len()
            )),
            Ok(accepted) => {
                out.accepted += u64::from(accepted);
                None
            }
        };
        if let Some(problem) = problem {
            let dir = failures_dir();
            let _ = std::fs::create_dir_all(&dir);
            let file = dir.join(format!("{name}-seed{seed}-case{i}.bin"));
            let _ = std::fs::write(&file, &case);
            out.failures
                .push(format!("{name} case {i}: {problem} ({})", file.display()));
        }
    }
    out
}

/// Runs every reader for `cases` cases from `seed`, prints counts and times, and fails on any
/// panic or allocation beyond the limit.
fn fuzz_all(cases: u64, seed: u64) {
    // A panicking case is reported by the harness; the default hook would print each.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let sessions = vec![(session_bytes().to_vec(), 0)];
    let presets: Vec<(Vec<u8>, usize)> = preset::EMBEDDED
        .iter()
        .map(|(_, text)| (text.as_bytes().to_vec(), 0))
        .collect();
    let idx = idx_seeds();
    let readers: [(&str, Reader, &Seeds); 3] = [
        ("session", read_session, &sessions),
        ("preset", read_preset, &presets),
        ("idx", read_idx, &idx),
    ];
    let mut failures = Vec::new();
    for (k, (name, reader, seeds)) in readers.into_iter().enumerate() {
        let start = Instant::now();
        let o = fuzz(name, reader, seeds, cases, seed.wrapping_add(k as u64));
        println!(
            "{name}: {} cases ({} accepted) in {:.1} s, at most {} KiB allocated beyond the input",
            o.cases,
            o.accepted,
            start.elapsed().as_secs_f64(),
            o.most_extra / 1024
        );
        assert_eq!(o.cases, cases);
        failures.extend(o.failures);
    }
    std::panic::set_hook(hook);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn twenty_thousand_mutated_files_per_reader_neither_panic_nor_balloon() {
    fuzz_all(20_000, 1);
}

#[test]
#[ignore = "minutes of work: run by hand (see the module comment)"]
fn a_million_cases_per_reader() {
    fuzz_all(1_000_000, 1_000_003);
}

#[test]
fn the_counting_allocator_sees_an_allocation() {
    let (v, extra) = measured(|| vec![0u8; 1 << 20]);
    assert!(extra >= 1 << 20, "{extra}");
    drop(v);
}
