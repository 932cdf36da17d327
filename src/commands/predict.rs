//! `fusecast predict RUN_DIR`: forecasts past the data from a run's best model.

use std::path::PathBuf;

use anyhow::{Context, Result};
use fusecast_pipeline::ops::{self, PredictJob};
use fusecast_pipeline::stages::future::PredictOptions;

use crate::terminal::Output;

#[derive(clap::Args)]
pub struct Args {
    /// A run directory (`runs/<name>`) or a tuning trial's folder: its `best/` model and
    /// `panel.parquet` history.
    pub run_dir: PathBuf,
    /// Where the forecasts go: `.csv` or `.parquet` (default RUN_DIR/forecast.csv).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Newer data (a trip file or a long table, as the run read) to forecast from, read through
    /// the run's data stage.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// The config whose data stage reads --data (its relative paths resolve against its
    /// folder); default: the run's config.toml, paths relative to the current folder.
    #[arg(long, requires = "data")]
    pub config: Option<PathBuf>,
    /// Future values of the model's known inputs other than the calendar: a table of series,
    /// timestamp and those columns (like neuralforecast's futr_df).
    #[arg(long)]
    pub future: Option<PathBuf>,
    /// Forecast as of this timestamp (its last observation) instead of the end of the history.
    #[arg(long)]
    pub at: Option<String>,
    /// Only these series (comma separated).
    #[arg(long, value_delimiter = ',')]
    pub series: Option<Vec<String>>,
    /// Series the model cannot forecast (never trained on, too short) get a SeasonalNaive
    /// forecast marked as a fallback instead of failing the command.
    #[arg(long)]
    pub fallback: bool,
    /// Also write each series' variable importances and attention (OUT.interpretation.json).
    #[arg(long)]
    pub interpret: bool,
    /// Windows per forward pass.
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
}

pub fn run(args: Args, out: &Output) -> Result<()> {
    let at = match &args.at {
        Some(text) => Some(
            fusecast_data::time::parse_wall_clock(text)
                .with_context(|| format!("--at {text:?}: not a timestamp (YYYY-MM-DD[ HH:MM])"))?,
        ),
        None => None,
    };
    let job = PredictJob {
        out: args
            .out
            .clone()
            .unwrap_or_else(|| args.run_dir.join("forecast.csv")),
        run_dir: args.run_dir,
        data: args.data,
        config: args.config,
        future: args.future,
        options: PredictOptions {
            at,
            series: args.series,
            fallback: args.fallback,
            interpret: args.interpret,
            batch_size: args.batch_size,
        },
    };
    ops::predict(&job, out.sink())?;
    Ok(())
}
