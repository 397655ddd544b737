//! Figure export (PNG/SVG) from a small real run on MNIST, through the library and the CLI.

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::OnceLock;

use sample_sets::export::ExportError;
use sample_sets::export::figures::{self, FIGURE_SIZE, FigureKind};
use sample_sets::fs::Existing;
use sample_sets::preset;
use sample_sets::session::{Metric, RunStatus, Session};
use sample_sets::train::{Control, Run};

/// mnist-2x20-ce, 2 epochs, 200 probe samples: trained once per test binary.
fn session() -> &'static Session {
    static S: OnceLock<Session> = OnceLock::new();
    S.get_or_init(|| {
        let mut p = preset::find("mnist-2x20-ce", &[]).unwrap();
        p.epochs = 2;
        p.seed = 1;
        p.probe_size = 200;
        let mut run = Run::new(p, common::mnist(), 1).unwrap();
        let status = run.execute(common::mnist(), None, &Control::default(), &mut |_| {});
        assert_eq!(status, RunStatus::Completed);
        run.session
    })
}

fn distinct_colours(png: &[u8]) -> (u32, u32, usize) {
    let img = image::load_from_memory(png).unwrap().to_rgb8();
    let colours: HashSet<[u8; 3]> = img.pixels().map(|p| p.0).collect();
    (img.width(), img.height(), colours.len())
}

#[test]
fn the_node_map_png_uses_the_apps_viridis_colours() {
    // The app colours its node map with `colors::viridis` too (unit test in app::ui::colors):
    // the same value is the same colour on screen and in the file.
    let s = session();
    let last = s.epochs.len() - 1;
    for m in [Metric::ActivationFraction, Metric::Predictability] {
        let png = figures::render_png_bytes(s, FigureKind::NodeMap(m), None, None).unwrap();
        let img = image::load_from_memory(&png).unwrap().to_rgb8();
        let drawn: HashSet<[u8; 3]> = img.pixels().map(|p| p.0).collect();
        let values: Vec<f32> = s.layer_values(last, m).into_iter().flatten().collect();
        assert_eq!(values.len(), 40);
        for v in values {
            let want = sample_sets::colors::viridis(v, m.info().range).unwrap();
            assert!(
                drawn.contains(&want),
                "{}: {v} should be {want:?}",
                m.slug()
            );
        }
    }
}

#[test]
fn every_figure_renders_to_a_full_size_png_with_content() {
    let s = session();
    // The list derives from the metrics; the command-line names stay what they were.
    assert_eq!(
        FigureKind::names(),
        [
            "loss",
            "accuracy",
            "activation-fraction",
            "predictability",
            "informativeness",
            "overlap",
            "node-map",
            "node-map-predictability",
            "node-map-informativeness",
            "node-map-overlap",
            "node-raster",
            "node-composition",
            "node-composition-fractions",
            "node-metrics",
        ]
    );
    for (kind, name) in FigureKind::all().into_iter().zip(FigureKind::names()) {
        assert_eq!(FigureKind::parse(name), Some(kind));
        assert_eq!(kind.name(), name);
        let png = figures::render_png_bytes(s, kind, Some((1, 7)), None)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let (w, h, colours) = distinct_colours(&png);
        assert_eq!((w, h), FIGURE_SIZE, "{name}");
        assert!(colours >= 8, "{name}: only {colours} colours");
    }
}

#[test]
fn write_one_writes_png_and_svg_files() {
    let s = session();
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("raster.png");
    figures::write_one(
        s,
        FigureKind::NodeRaster,
        Some((0, 3)),
        None,
        &png,
        Existing::Keep,
    )
    .unwrap();
    let (w, h, colours) = distinct_colours(&std::fs::read(&png).unwrap());
    assert_eq!((w, h), (1800, 1100));
    assert!(colours > 10, "{colours}");

    let svg = dir.path().join("map.SVG");
    figures::write_one(
        s,
        FigureKind::NodeMap(Metric::Predictability),
        None,
        Some(1),
        &svg,
        Existing::Keep,
    )
    .unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg"), "{}", &text[..80]);
    assert!(text.trim_end().ends_with("</svg>"));
    assert!(
        text.contains("mnist-2x20-ce (seed 1) · node map of predictability at epoch 1"),
        "title missing"
    );
    assert!(has_text_line(&text, "layer 2") && has_text_line(&text, "node"));
}

/// Whether the SVG has a text element whose content is exactly `t`.
fn has_text_line(svg: &str, t: &str) -> bool {
    svg.lines().any(|l| l.trim() == t)
}

#[test]
fn svg_of_every_figure_is_well_formed_and_titled() {
    let s = session();
    for kind in FigureKind::all() {
        let text = figures::render_svg(s, kind, Some((0, 0)), None).unwrap();
        assert!(text.starts_with("<svg"), "{}", kind.name());
        assert!(text.trim_end().ends_with("</svg>"), "{}", kind.name());
        assert!(
            text.contains("mnist-2x20-ce (seed 1) · "),
            "{}",
            kind.name()
        );
        assert!(has_text_line(&text, "epoch") || has_text_line(&text, "node"));
        // Every opened element is closed (a cheap well-formedness check).
        let opens = text.matches('<').count();
        let closes = text.matches('>').count();
        assert_eq!(opens, closes, "{}", kind.name());
    }
}

#[test]
fn the_raster_merges_runs_of_epochs_into_one_rectangle() {
    let s = session();
    let text = figures::render_svg(s, FigureKind::NodeRaster, Some((0, 0)), None).unwrap();
    let rects = text.matches("<rect").count();
    // At most one rectangle per probe sample and run of records in the set: R records give at
    // most ceil(R / 2) runs a row (12 records with the default schedule: 6, not 12).
    let runs = s.epochs.len().div_ceil(2);
    assert!(rects <= runs * s.probe.len() + 40, "{rects} rects");
}

fn request_error(r: Result<impl std::fmt::Debug, ExportError>) -> String {
    match r {
        Err(ExportError::Request(m)) => m,
        other => panic!("expected a request error, got {other:?}"),
    }
}

#[test]
fn errors_name_the_problem() {
    let s = session();
    let m = request_error(figures::render_png_bytes(
        s,
        FigureKind::NodeRaster,
        None,
        None,
    ));
    assert!(m.contains("node-raster") && m.contains("LAYER:NODE"), "{m}");
    let m = request_error(figures::render_png_bytes(
        s,
        FigureKind::NodeMetrics,
        Some((2, 0)),
        None,
    ));
    assert!(
        m.contains("no such node 3:0") && m.contains("2 hidden layers"),
        "{m}"
    );
    let m = request_error(figures::render_png_bytes(
        s,
        FigureKind::NodeMetrics,
        Some((0, 20)),
        None,
    ));
    assert!(
        m.contains("no such node 1:20") && m.contains("20 nodes"),
        "{m}"
    );
    let m = request_error(figures::render_png_bytes(
        s,
        FigureKind::NodeMap(Metric::ActivationFraction),
        None,
        Some(9),
    ));
    assert!(
        m.contains("epoch 9 out of range") && m.contains("0..=2"),
        "{m}"
    );

    let dir = tempfile::tempdir().unwrap();
    let jpg = dir.path().join("fig.jpg");
    let m = request_error(figures::write_one(
        s,
        FigureKind::Loss,
        None,
        None,
        &jpg,
        Existing::Keep,
    ));
    assert!(m.contains("fig.jpg") && m.contains("'.jpg'"), "{m}");
    assert!(!jpg.exists());

    let missing = dir.path().join("no-such-folder").join("fig.png");
    match figures::write_one(s, FigureKind::Loss, None, None, &missing, Existing::Keep) {
        Err(e @ ExportError::File(_)) => {
            assert!(e.to_string().contains("no-such-folder"), "{e}")
        }
        other => panic!("expected a write error, got {other:?}"),
    }
    assert_eq!(FigureKind::parse("histogram"), None);
}

#[test]
fn default_file_names_name_run_figure_node_and_epoch() {
    let s = session();
    assert_eq!(
        figures::default_file_name(
            s,
            FigureKind::Metric(Metric::ActivationFraction),
            None,
            None,
            "png"
        ),
        "mnist-2x20-ce-seed1_activation-fraction.png"
    );
    assert_eq!(
        figures::default_file_name(s, FigureKind::NodeRaster, Some((1, 17)), None, ".svg"),
        "mnist-2x20-ce-seed1_node-raster_L2N17.svg"
    );
    assert_eq!(
        figures::default_file_name(s, FigureKind::NodeMap(Metric::Overlap), None, None, "png"),
        "mnist-2x20-ce-seed1_node-map-overlap_e2.png"
    );
}

fn run(args: &[&str]) -> Output {
    Command::new(common::bin()).args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn saved_session(dir: &Path) -> String {
    let path = dir.join("run.ron");
    sample_sets::session::save(session(), &path).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn cli_exports_the_standard_set_and_single_figures() {
    let dir = tempfile::tempdir().unwrap();
    let file = saved_session(dir.path());
    let out = dir.path().join("figs");
    let o = run(&["export", &file, "--all", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for want in [
        "mnist-2x20-ce-seed1_loss.png",
        "mnist-2x20-ce-seed1_accuracy.png",
        "mnist-2x20-ce-seed1_activation-fraction.png",
        "mnist-2x20-ce-seed1_predictability.png",
        "mnist-2x20-ce-seed1_informativeness.png",
        "mnist-2x20-ce-seed1_overlap.png",
        "mnist-2x20-ce-seed1_node-map_e0.png",
        "mnist-2x20-ce-seed1_node-map_e2.png",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
    }
    assert!(names.len() <= 9, "{names:?}");
    for n in &names {
        let (w, h, _) = distinct_colours(&std::fs::read(out.join(n)).unwrap());
        assert_eq!((w, h), (1800, 1100), "{n}");
    }
    assert!(stderr(&o).contains("wrote"), "{}", stderr(&o));

    let one = dir.path().join("n.svg");
    let o = run(&[
        "export",
        &file,
        "--plot",
        "node-composition-fractions",
        "--node",
        "2:5",
        "--out",
        one.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&one).unwrap();
    assert!(text.starts_with("<svg") && text.contains("node 2:5"));
}

#[test]
fn cli_refuses_bad_figure_requests_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let file = saved_session(dir.path());
    let png = dir.path().join("x.png");
    let png = png.to_str().unwrap();

    let o = run(&["export", &file, "--plot", "histogram", "--out", png]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("unknown plot 'histogram'") && stderr(&o).contains("node-raster"),
        "{}",
        stderr(&o)
    );

    let o = run(&[
        "export",
        &file,
        "--plot",
        "node-raster",
        "--node",
        "1:99",
        "--out",
        png,
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("no such node 1:99"), "{}", stderr(&o));

    let o = run(&["export", &file, "--plot", "loss"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--out"), "{}", stderr(&o));

    let o = run(&[
        "export", &file, "--plot", "node-map", "--epoch", "50", "--out", png,
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("epoch 50 out of range"),
        "{}",
        stderr(&o)
    );

    let o = run(&["export", &file, "--plot", "loss", "--out", "/tmp/x.gif"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("'.gif'"), "{}", stderr(&o));
    assert!(!Path::new(png).exists());
}

/// Pixel columns of the plot area (left of the legend column) holding a pixel near `colour`.
fn columns_with(png: &[u8], colour: [u8; 3]) -> Vec<u32> {
    let img = image::load_from_memory(png).unwrap().to_rgb8();
    // The legend takes the right 400 px of the page body (which ends 20 px from the edge).
    let plot_right = img.width() - 20 - 400;
    let near = |p: &image::Rgb<u8>| {
        p.0.iter()
            .zip(colour)
            .all(|(&a, b)| (i32::from(a) - i32::from(b)).abs() <= 24)
    };
    (0..plot_right)
        .filter(|&x| (0..img.height()).any(|y| near(img.get_pixel(x, y))))
        .collect()
}

#[test]
fn nan_losses_are_drawn_as_gaps_not_joined_across() {
    // A diverged run's losses may be NaN or infinite. Epoch 2's are here, between finite
    // epochs: the lines must stop at epoch 1 and start again at epoch 3.
    let mut p = preset::find("mnist-2x20-ce", &[]).unwrap();
    p.epochs = 4;
    p.probe_size = 100;
    // One record per epoch, so record 2 is epoch 2.
    p.schedule = sample_sets::measure::Schedule::PerEpoch;
    let mut run = Run::new(p, common::mnist(), 1).unwrap();
    run.execute(common::mnist(), None, &Control::default(), &mut |_| {});
    let mut s = run.session;
    s.status = RunStatus::Diverged { epoch: 4 };
    s.epochs[2].train_loss = f64::NAN;
    s.epochs[2].test_loss = f64::INFINITY;
    let png = figures::render_png_bytes(&s, FigureKind::Loss, None, None).unwrap();
    // Train and test share the neutral line colour (the test line dashed).
    let cols = columns_with(&png, sample_sets::colors::NEUTRAL_LIGHT);
    let (first, last) = (cols[0], cols[cols.len() - 1]);
    // Epochs 0..=4 lie evenly between the first and the last dot.
    let x = |epoch: f64| first as f64 + (last - first) as f64 * epoch / 4.0;
    let drawn = |at: f64| cols.iter().any(|&c| (c as f64 - at).abs() <= 3.0);
    assert!(drawn(x(0.5)) && drawn(x(3.5)), "no line drawn at all");
    for e in [1.6, 2.0, 2.4] {
        assert!(!drawn(x(e)), "a line is drawn across the NaN, at epoch {e}");
    }
}
