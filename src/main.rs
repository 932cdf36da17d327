//! `fusecast`: global deep-learning forecasting from one TOML config.

mod commands;
mod config;
mod progress;

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
        /// Stream each epoch's metrics to stdout as JSON lines.
        #[arg(long)]
        json: bool,
        /// Continue the run from its last checkpoint (same config and data, or it is refused).
        #[arg(long)]
        resume: bool,
    },
    /// Fit the per-series baselines of a config on its backtest windows, select a model per
    /// series, and write forecasts, fitted parameters and the evaluation report.
    Baselines {
        config: PathBuf,
        /// Overrides run.name.
        #[arg(long)]
        name: Option<String>,
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
    /// Prepare the panel a config describes and write it as a long table (parquet or CSV).
    Prepare {
        config: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Aggregate trip files (TLC or any event table) to a panel and report the throughput.
    Aggregate(commands::aggregate::Args),
    /// Write trip-level parquet files (TLC yellow 2023+ schema) from the synthetic city.
    SynthTrips(commands::synth_trips::Args),
}

fn main() -> ExitCode {
    keep_freed_pages();
    let cli = Cli::parse();
    let progress = progress::Progress::new(cli.quiet);
    let result = match cli.command {
        Command::Run {
            config,
            name,
            json,
            resume,
        } => commands::run::run(&config, name, json, resume, &progress),
        Command::Baselines { config, name } => {
            commands::evaluate::baselines_command(&config, name, &progress)
        }
        Command::Evaluate {
            config,
            name,
            refit,
        } => commands::evaluate::evaluate_command(&config, name, refit, &progress),
        Command::Prepare { config, out } => commands::prepare::run(&config, &out, &progress),
        Command::Aggregate(args) => commands::aggregate::run(args, &progress),
        Command::SynthTrips(args) => commands::synth_trips::run(args, &progress),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            progress.clear();
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
