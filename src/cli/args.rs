//! Command-line arguments (clap).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Sample Sets: explore how neural networks train through the sample sets of their ReLU nodes.
///
/// With no command, opens the desktop app (with FILE, opens that session in it).
#[derive(Debug, Parser)]
#[command(name = "sample-sets", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// With no command: how the desktop app starts (session files and overrides).
    #[command(flatten)]
    pub app: crate::app::startup::StartupOptions,
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
    /// Export a session's numbers (CSV), figures (PNG/SVG) or weights (safetensors), or a grid
    /// folder's figure.
    Export(ExportArgs),
    /// Per run, whether the paper's observations hold, with the numbers behind each.
    Findings {
        /// Session files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Also write the table as CSV (one row per run and layer).
        #[arg(long)]
        csv: Option<PathBuf>,
        /// Replace the CSV file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Run a grid of presets x seeds here or on a Slurm cluster, and see where it stands.
    Grid(GridArgs),
    /// Download MNIST from public mirrors into the platform data folder (or --dest),
    /// checking every file's SHA-256.
    DownloadMnist {
        /// Destination folder (default: the platform data folder's datasets/mnist).
        #[arg(long)]
        dest: Option<PathBuf>,
        /// Replace files there that are not already the right MNIST files (those are kept).
        #[arg(long)]
        force: bool,
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
    /// Matrix-product threads (1..=64; default: the number of cores). Steps of networks above
    /// 65,536 parameters use them, or one thread while that measures faster (another process
    /// busy on the cores). Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub threads: Option<u16>,
    /// Replace the output file if it exists (a resumed run always updates its own file; a
    /// folder is never replaced).
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
    /// Session file (with --grid-figure: a grid folder).
    pub file: PathBuf,
    /// Small multiples of a grid folder's runs: METRIC (activation-fraction,
    /// predictability, informativeness, overlap; `churn` is its old name) per layer over epochs, one cell per preset
    /// (rows: layers, columns: nodes, one block per loss), mean over seeds with a min..max
    /// band; needs --out FILE.png|FILE.svg|FILE.csv.
    #[arg(long, value_name = "METRIC", conflicts_with_all = ["csv", "plot", "all", "node", "epoch"])]
    pub grid_figure: Option<String>,
    /// Write one CSV row per (epoch, layer, node): per-class on-counts, activation fraction,
    /// predictability, informativeness, set overlap with the previous record (column
    /// `overlap`; files written before named it `churn`).
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Figure to render: loss, accuracy, activation-fraction, predictability,
    /// informativeness, overlap, node-map, node-map-predictability, node-map-informativeness,
    /// node-map-overlap, node-raster, node-composition, node-composition-fractions,
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
    /// Replace output files that already exist.
    #[arg(long)]
    pub force: bool,
}

/// `grid`: its subcommands.
#[derive(Debug, clap::Args)]
pub struct GridArgs {
    /// What to do with the grid.
    #[command(subcommand)]
    pub command: GridCommand,
}

/// Grid subcommands.
#[derive(Debug, Subcommand)]
pub enum GridCommand {
    /// Train every (preset, seed) into DIR, J runs at a time, longest first. Running it
    /// again skips finished runs and resumes interrupted ones; Ctrl-C stops cleanly.
    Run(GridRunArgs),
    /// One row per run of DIR (preset, seed, epochs, state, final test accuracy) and a
    /// summary per preset over seeds, from the files alone (works while they are written).
    Status {
        /// Grid folder.
        dir: PathBuf,
        /// Print JSON (runs and the per-preset summary table) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Write DIR/grid.sbatch, a Slurm job array with one task per (preset, seed), and print
    /// it, or submit it with --submit.
    Slurm(GridSlurmArgs),
}

/// Which runs a grid holds (shared by `grid run` and `grid slurm`).
#[derive(Debug, clap::Args)]
pub struct GridSelectionArgs {
    /// Grid folder (created if needed; holds grid.ron and one session per run).
    pub dir: PathBuf,
    /// Presets by name or shell pattern, e.g. 'mnist-2x*' (default: the paper's 18, or the
    /// grid's own runs when DIR has a manifest and no other option is given).
    #[arg(long, value_name = "PATTERN", num_args = 1..)]
    pub presets: Vec<String>,
    /// Seeds: a list and/or inclusive ranges, e.g. 1,2,3 or 1..5 (default: 1).
    #[arg(long, value_name = "SEEDS")]
    pub seeds: Option<String>,
    /// Epochs per run (default: each preset's own).
    #[arg(long)]
    pub epochs: Option<u32>,
    /// Folder holding the data set's four IDX files.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Folder of user presets (searched after the built-in ones).
    #[arg(long)]
    pub preset_dir: Option<PathBuf>,
}

/// Options of `grid run`.
#[derive(Debug, clap::Args)]
pub struct GridRunArgs {
    /// Which runs.
    #[command(flatten)]
    pub selection: GridSelectionArgs,
    /// Runs trained at a time, one training thread each (default: the number of cores).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: Option<u16>,
    /// No progress bars: one line per run started and finished.
    #[arg(long)]
    pub quiet: bool,
}

/// Options of `grid slurm`.
#[derive(Debug, clap::Args)]
pub struct GridSlurmArgs {
    /// Which runs.
    #[command(flatten)]
    pub selection: GridSelectionArgs,
    /// Slurm partition.
    #[arg(long)]
    pub partition: Option<String>,
    /// Time limit per task, e.g. 04:00:00.
    #[arg(long, value_name = "HH:MM:SS")]
    pub time: Option<String>,
    /// Memory per task, e.g. 2G.
    #[arg(long, value_name = "SIZE")]
    pub mem: Option<String>,
    /// Slurm account.
    #[arg(long)]
    pub account: Option<String>,
    /// Submit the script with sbatch and print the job id (else print the script).
    #[arg(long)]
    pub submit: bool,
}
