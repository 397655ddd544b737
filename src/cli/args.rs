//! Command-line arguments (clap).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Sample Sets: explore how neural networks train through the sample sets of their ReLU nodes.
///
/// With no command, opens the desktop app (with FILE, opens that session in it).
#[derive(Debug, Parser)]
#[command(name = "sample-sets", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// Session files to open in the desktop app.
    pub files: Vec<PathBuf>,
    /// Command to run headless.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Headless commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the presets (the paper's grid and user presets).
    Presets {
        /// Also read presets from this folder.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Train a preset, measuring every hidden node's sample set after every epoch.
    Train(TrainArgs),
    /// Summarise a session file.
    Inspect {
        /// Session file.
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Export a session's numbers (CSV), figures (PNG/SVG) or weights (safetensors).
    Export(ExportArgs),
    /// Per run, whether the paper's observations hold, with the numbers behind each.
    Findings {
        /// Session files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Also write the table as CSV (one row per run and layer).
        #[arg(long)]
        csv: Option<PathBuf>,
    },
    /// Download MNIST from public mirrors into the platform data folder (or --dest),
    /// checking every file's SHA-256.
    DownloadMnist {
        /// Destination folder (default: the platform data folder's datasets/mnist).
        #[arg(long)]
        dest: Option<PathBuf>,
    },
}

/// Options of `train`.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Preset name (see `sample-sets presets`).
    #[arg(long, required_unless_present_any = ["preset_file", "resume"])]
    pub preset: Option<String>,
    /// Preset from a RON file instead of by name.
    #[arg(long, conflicts_with = "preset")]
    pub preset_file: Option<PathBuf>,
    /// Continue an interrupted or cancelled session from its last completed epoch.
    #[arg(long, conflicts_with_all = ["preset", "preset_file", "seed", "probe", "schedule"])]
    pub resume: Option<PathBuf>,
    /// Number of epochs (overrides the preset).
    #[arg(long)]
    pub epochs: Option<u32>,
    /// Seed (overrides the preset).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Probe samples kept per node and epoch (overrides the preset; up to 60000).
    #[arg(long)]
    pub probe: Option<usize>,
    /// When to measure (overrides the preset): `doubling` (default: after minibatch steps
    /// 1, 2, 4, ... inside epoch 1, then every epoch), `doubling:N` (N records per doubling
    /// of the step, e.g. 2: steps 1, 2, 3, 4, 6, 8, 11, ...), or `per-epoch`.
    #[arg(long, value_parser = parse_schedule, conflicts_with = "resume")]
    pub schedule: Option<crate::measure::Schedule>,
    /// Folder holding the data set's four IDX files.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Session file to write (default: `<preset>-seed<seed>.ron` here).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Matrix-product threads (1..=64; default: the number of cores). Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub threads: Option<u16>,
    /// Replace the output file if it exists (a resumed run always updates its own file).
    #[arg(long)]
    pub force: bool,
    /// Folder of user presets.
    #[arg(long)]
    pub preset_dir: Option<PathBuf>,
    /// No progress bar, one line per epoch.
    #[arg(long)]
    pub quiet: bool,
}

fn parse_schedule(text: &str) -> Result<crate::measure::Schedule, String> {
    crate::measure::Schedule::parse(text).map_err(|e| e.to_string())
}

/// Options of `export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Session file.
    pub file: PathBuf,
    /// Write one CSV row per (epoch, layer, node): per-class on-counts, activation fraction,
    /// predictability, informativeness, churn.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Figure to render: loss, accuracy, activation-fraction, predictability,
    /// informativeness, churn, node-map, node-map-predictability, node-map-informativeness,
    /// node-map-churn, node-raster, node-composition, node-composition-fractions,
    /// node-metrics (node figures need --node).
    #[arg(long)]
    pub plot: Option<String>,
    /// Node for node figures, as LAYER:NODE (1-based layer, 0-based node).
    #[arg(long)]
    pub node: Option<String>,
    /// Epoch for the node map and node thumbnails (default: last).
    #[arg(long)]
    pub epoch: Option<u32>,
    /// Write the standard figure set into the folder given by --out.
    #[arg(long)]
    pub all: bool,
    /// Write the weights and biases of the last checkpoint as safetensors (`layer{L}.weight`
    /// `[out, in]`, `layer{L}.bias`, `output.weight`, `output.bias`), for PyTorch or NumPy.
    #[arg(long, value_name = "FILE.safetensors")]
    pub weights: Option<PathBuf>,
    /// Output file (.png, .svg, or .csv for the numbers behind the figure) or, with --all, folder.
    #[arg(long)]
    pub out: Option<PathBuf>,
}
