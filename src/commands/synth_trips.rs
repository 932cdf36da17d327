use std::path::PathBuf;

use anyhow::Result;
use fusecast_data::synth::SynthConfig;
use fusecast_data::synth_trips::write_trips;
use fusecast_data::time::Day;

use crate::terminal::Output;

#[derive(clap::Args)]
pub struct Args {
    /// Folder for the monthly files.
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value = "2023-03-01")]
    start: String,
    #[arg(long, default_value = "2023-03-31")]
    end: String,
    /// Mean citywide pickups per day.
    #[arg(long, default_value_t = 110_000.0)]
    trips_per_day: f64,
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

fn day(s: &str, flag: &str) -> Result<Day> {
    fusecast_data::time::parse_date(s)
        .map(Day)
        .ok_or_else(|| anyhow::anyhow!("--{flag}: {s:?} is not a date YYYY-MM-DD"))
}

pub fn run(args: Args, progress: &Output) -> Result<()> {
    let cfg = SynthConfig {
        seed: args.seed,
        start: day(&args.start, "start")?,
        end: day(&args.end, "end")?,
        trips_per_day: args.trips_per_day,
        ..SynthConfig::default()
    };
    let written = progress.stage("writing trips", || write_trips(&cfg, &args.out))?;
    println!(
        "wrote {} trips to {} file(s) in {}",
        written.trips,
        written.files.len(),
        args.out.display()
    );
    Ok(())
}
