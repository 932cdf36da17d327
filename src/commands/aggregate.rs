use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use fusecast_data::files;
use fusecast_data::panel::Panel;
use fusecast_data::time::{parse_date, parse_timezone, Frequency};
use fusecast_data::trips::{aggregate, SeriesKeys, TripOptions, UnknownZones};
use fusecast_data::zones::ZoneLookup;

use crate::terminal::Output;

#[derive(clap::Args)]
pub struct Args {
    /// Trip files, folders or globs.
    #[arg(required = true)]
    paths: Vec<String>,
    /// 1h or 1d.
    #[arg(long, default_value = "1d")]
    frequency: String,
    #[arg(long)]
    start: Option<String>,
    #[arg(long)]
    end: Option<String>,
    /// Sum this column instead of counting trips.
    #[arg(long)]
    value_column: Option<String>,
    #[arg(long)]
    timestamp_column: Option<String>,
    #[arg(long)]
    location_column: Option<String>,
    /// Locations are labels (e.g. airport codes) rather than TLC zone ids.
    #[arg(long)]
    labels: bool,
    /// Drop trips whose zone is not in the lookup instead of failing.
    #[arg(long)]
    drop_unknown_zones: bool,
    #[arg(long, default_value = "America/New_York")]
    timezone: String,
    /// Write the panel (parquet or CSV by extension).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(args: Args, progress: &Output) -> Result<()> {
    let frequency = Frequency::parse(&args.frequency)
        .ok_or_else(|| anyhow::anyhow!("--frequency: use 1h or 1d"))?;
    let date = |s: &Option<String>, flag: &str| -> Result<_> {
        s.as_deref()
            .map(|v| {
                parse_date(v)
                    .ok_or_else(|| anyhow::anyhow!("--{flag}: {v:?} is not a date YYYY-MM-DD"))
            })
            .transpose()
    };
    let keys = if args.labels {
        SeriesKeys::Labels { only: None }
    } else {
        SeriesKeys::Zones {
            lookup: ZoneLookup::builtin(),
            only: None,
            unknown: if args.drop_unknown_zones {
                UnknownZones::Drop
            } else {
                UnknownZones::Error
            },
        }
    };
    let opts = TripOptions {
        files: files::expand(&args.paths, std::path::Path::new("."))?,
        timestamp_column: args.timestamp_column,
        location_column: args.location_column,
        value_column: args.value_column.clone(),
        frequency,
        start: date(&args.start, "start")?,
        end: date(&args.end, "end")?,
        keys,
        timezone: parse_timezone(&args.timezone)
            .ok_or_else(|| anyhow::anyhow!("--timezone: unknown zone {:?}", args.timezone))?,
    };
    let t0 = Instant::now();
    let agg = progress.stage("aggregating", || aggregate(&opts))?;
    let secs = t0.elapsed().as_secs_f64();
    let rows = agg.report.rows;
    println!("{}", agg.report.summary());
    println!(
        "aggregated {rows} trips into {} series x {} in {secs:.3}s: {:.1} million trips/s",
        agg.keys.len(),
        agg.grid.describe(),
        rows as f64 / secs / 1e6
    );
    if let Some(out) = args.out {
        let target = args.value_column.unwrap_or_else(|| "pickups".into());
        let panel = Panel::new(agg.grid, &target, agg.keys, agg.values.concat())?;
        panel.write(&out)?;
        println!("wrote {}", out.display());
    }
    Ok(())
}
