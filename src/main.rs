//! `fusecast`: global deep-learning forecasting from one TOML config.

mod commands;
mod signals;
mod terminal;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

// Large column buffers come and go on every file: mimalloc keeps freed pages for reuse instead of
// returning them to the kernel and faulting them in again (a third of ingest time with glibc).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

unsafe extern "C" {
    fn mi_option_get(option: std::os::raw::c_int) -> std::os::raw::c_long;
    fn mi_option_set(option: std::os::raw::c_int, value: std::os::raw::c_long);
}

/// Turns off mimalloc's purging of freed pages. A training step frees and reallocates the same
/// few-MB activation buffers; purged pages come back through page faults and zeroing. Off,
/// training at the anchor size on 1 thread was faster in 5 of 6 alternating pairs (by 4-18%,
/// ~9% on average; the sixth 3% slower), at the same peak RSS (~200 MiB). A user's own
/// `MIMALLOC_PURGE_DELAY` is left alone.
/// `mi_option_purge_delay` is index 15 of mimalloc v3's option enum (libmimalloc-sys 0.1.49,
/// pinned by Cargo.lock; its Rust bindings leave this option out); the index is used only while
/// it still reads v3's default of 1000 ms, so a different mimalloc leaves the setting alone.
fn keep_freed_pages() {
    const PURGE_DELAY: std::os::raw::c_int = 15;
    // SAFETY: both functions take an option index and are safe for any index in the enum.
    unsafe {
        if mi_option_get(PURGE_DELAY) == 1000 {
            mi_option_set(PURGE_DELAY, -1);
        }
    }
}

#[derive(Parser)]
#[command(
    name = "fusecast",
    version,
    about = "Global forecasting of many related series: data, TFT, baselines, evaluation"
)]
struct Cli {
    /// No progress output, only results and errors.
    #[arg(long, global = true)]
    quiet: bool,
    /// Every event (data, epochs, scores, the report) as one JSON object per line on stdout,
    /// and nothing else there.
    #[arg(long, global = true)]
    json: bool,
    /// Overrides a key of the config, as if the file said so (repeatable):
    /// `--set train.learning_rate=3e-3 --set clusters.k=2`. The value is TOML; a bare word is a
    /// string.
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    set: Vec<fusecast_pipeline::config::Override>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the job a config describes: data stage, TFT training, per-series baselines and the
    /// backtest evaluation of all of them (written to the run directory).
    Run {
        config: PathBuf,
        /// Overrides run.name.
        #[arg(long)]
        name: Option<String>,
        /// Continue the run from its last checkpoint (same config and data, or it is refused).
        #[arg(long)]
        resume: bool,
    },
    /// Train the config's TFT (data stage and training only, into its run directory): what a
    /// tuning engine such as Ray Tune runs per trial, epoch by epoch with --pause-after-epoch.
    Train(commands::train::Args),
    /// Fit the per-series baselines of a config on its backtest windows, select a model per
    /// series, and write forecasts, fitted parameters and the evaluation report.
    Baselines {
        config: PathBuf,
        /// Overrides run.name.
        #[arg(long)]
        name: Option<String>,
        /// Fit only shard I of N (0-based: the series s with s % N == I), at the whole run's
        /// cutoffs, into baselines/shards/I-of-N/; no selection, scores or report.
        #[arg(long, value_name = "I/N", conflicts_with = "merge")]
        shard: Option<fusecast_pipeline::Shard>,
        /// Join the shards of baselines/shards/ (all of them complete, fitted for this config)
        /// and write what an unsharded run writes: forecasts, fits, selection, scores, report.
        #[arg(long)]
        merge: bool,
    },
    /// Score everything the run directory holds (baselines, the best TFT, eval.extra_forecasts)
    /// on the config's backtest and write the report.
    Evaluate {
        config: PathBuf,
        /// Overrides run.name.
        #[arg(long)]
        name: Option<String>,
        /// Fit the baselines again instead of reading baselines/forecasts.csv.
        #[arg(long)]
        refit: bool,
    },
    /// Tune: the trials of the config's [tune] search space, stopped early by its scheduler,
    /// the best per-cluster models assembled and scored against the baselines.
    Tune(commands::tune::Args),
    /// Prepare the panel a config describes and write it as a long table (parquet or CSV).
    Prepare {
        config: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Forecast past the data with a run's best model: every series (or --series) from its
    /// last observation, the calendar made for the future, other known inputs from --future.
    Predict(commands::predict::Args),
    /// (Re)write the one-page HTML report (report.html) of a run directory or a tuning
    /// experiment's folder from the files it holds.
    Report { dir: PathBuf },
    /// Serve a run's best model over HTTP: KServe's time-series forecast API
    /// (POST /v1/timeseries/forecast), /v1/series, /v1/model, /healthz, /metrics, /v1/reload.
    Serve(commands::serve::Args),
    /// Aggregate trip files (TLC or any event table) to a panel and report the throughput.
    Aggregate(commands::aggregate::Args),
    /// Write trip-level parquet files (TLC yellow 2023+ schema) from the synthetic city.
    SynthTrips(commands::synth_trips::Args),
}

/// burn loads an optimizer's saved state onto `Device::default()` before moving it to each
/// parameter's device at the next step; with the gpu feature that default is a wgpu adapter,
/// which a resume on a CPU-only machine would open (or fail to) for nothing. Set before any
/// thread starts; a user's own `BURN_DEVICE` is left alone.
fn default_device_cpu() {
    if std::env::var_os("BURN_DEVICE").is_none() {
        std::env::set_var("BURN_DEVICE", "flex");
    }
}

fn main() -> ExitCode {
    keep_freed_pages();
    default_device_cpu();
    let cli = Cli::parse();
    let out: &'static terminal::Output =
        Box::leak(Box::new(terminal::Output::new(cli.quiet, cli.json)));
    if matches!(
        cli.command,
        Command::Run { .. } | Command::Train(_) | Command::Tune(_)
    ) {
        signals::exit_on_sigterm(out);
    }
    let set = &cli.set;
    let reads_a_config = matches!(
        cli.command,
        Command::Run { .. }
            | Command::Train(_)
            | Command::Baselines { .. }
            | Command::Evaluate { .. }
            | Command::Tune(_)
            | Command::Prepare { .. }
    );
    if !set.is_empty() && !reads_a_config {
        out.error(&anyhow::anyhow!(
            "--set overrides a config key; this command reads no config (run, train, baselines, evaluate, tune and prepare do)"
        ));
        return ExitCode::FAILURE;
    }
    let result = match cli.command {
        Command::Run {
            config,
            name,
            resume,
        } => commands::jobs::run(&config, name, resume, set, out),
        Command::Baselines {
            config,
            name,
            shard,
            merge,
        } => commands::jobs::baselines(&config, name, shard, merge, set, out),
        Command::Evaluate {
            config,
            name,
            refit,
        } => commands::jobs::evaluate(&config, name, refit, set, out),
        Command::Train(args) => commands::train::run(args, set, out),
        Command::Tune(args) => commands::tune::run(args, set, out),
        Command::Prepare { config, out: path } => commands::jobs::prepare(&config, &path, set, out),
        Command::Predict(args) => commands::predict::run(args, out),
        Command::Report { dir } => commands::report::run(&dir, out),
        Command::Serve(args) => commands::serve::run(args, out),
        Command::Aggregate(args) => commands::aggregate::run(args, out),
        Command::SynthTrips(args) => commands::synth_trips::run(args, out),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            out.error(&e);
            ExitCode::FAILURE
        }
    }
}
