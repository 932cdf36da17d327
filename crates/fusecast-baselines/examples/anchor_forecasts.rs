//! Forecasts the last `h` days of every series of a daily panel in statsforecast's long format
//! (a CSV with columns `unique_id`, `ds` as `YYYY-MM-DD`, `y`) with the named baselines, writes
//! the point forecasts as `unique_id,ds,<model>...`, and prints each
//! model's wall time as JSON. scripts/bench/baselines.sh runs it next to statsforecast on the
//! anchor's panels; the repository ships one such panel to try it on:
//!
//!   cargo run --release -p fusecast-baselines --example anchor_forecasts -- \
//!       data/panels/flights_daily_top20.csv /tmp/forecasts.csv ets arima seasonal_naive
//!
//! Options: `[--horizon 14] [--threads N] [--max-series N]`.

use std::io::Write;
use std::time::Instant;

use fusecast_baselines::runner::fit_or_fall_back;
use fusecast_baselines::{Fitted, ModelSpec, SeriesInput};
use fusecast_data::config::FeaturesConfig;
use fusecast_data::files::DataFile;
use fusecast_data::prepare::holiday_calendar;
use fusecast_data::table::{read_table, TableOptions};
use fusecast_data::time::{date_seconds, format_timestamp};
use fusecast_data::{Frequency, RowNoteKind};
use rayon::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let panel_path = args
        .next()
        .ok_or("usage: PANEL OUT.csv [options] MODEL...")?;
    let out_path = args
        .next()
        .ok_or("usage: PANEL OUT.csv [options] MODEL...")?;
    let (mut horizon, mut threads, mut max_series, mut names) =
        (14usize, 0usize, usize::MAX, vec![]);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--horizon" => horizon = args.next().ok_or("--horizon N")?.parse()?,
            "--threads" => threads = args.next().ok_or("--threads N")?.parse()?,
            "--max-series" => max_series = args.next().ok_or("--max-series N")?.parse()?,
            name => names.push(name.to_string()),
        }
    }
    let specs: Vec<ModelSpec> = names
        .iter()
        .map(|n| ModelSpec::from_name(n).ok_or(format!("unknown model {n}")))
        .collect::<Result<_, _>>()?;
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()?;

    let panel = read_table(&TableOptions {
        allow_negative: true,
        ..TableOptions::new(
            vec![DataFile::new(&panel_path)?],
            "unique_id",
            "ds",
            "y",
            Frequency::Daily,
        )
    })?;
    let len = panel.len();
    let train_len = len - horizon;
    // The holidays `fusecast baselines` gives its models (US federal, observed days included).
    let holidays: Vec<i64> = holiday_calendar(&FeaturesConfig::default(), &panel.grid, 1)
        .dates()
        .map(date_seconds)
        .collect();
    let mut order: Vec<usize> = (0..panel.n_series()).collect();
    order.sort_by_key(|&s| panel.series[s].parse::<i64>().unwrap_or(i64::MAX));
    order.truncate(max_series);

    let mut columns = Vec::new();
    let mut report = serde_json::Map::new();
    for spec in &specs {
        let started = Instant::now();
        let results: Vec<_> = order
            .par_iter()
            .map(|&s| {
                let input = SeriesInput {
                    y: &panel.values(s)[..train_len],
                    period: 7,
                    seasonal_periods: vec![7],
                    start: panel.grid.start,
                    step_seconds: 86_400,
                    holidays: &holidays,
                    deadline: None,
                };
                let (fit, note) = fit_or_fall_back(spec, &input);
                (fit.forecast(horizon, &[]).mean, fit.describe(), note)
            })
            .collect();
        let wall = started.elapsed().as_secs_f64();
        let mut chosen = std::collections::BTreeMap::<String, usize>::new();
        let mut failures = 0;
        let forecasts: Vec<Vec<f64>> = results
            .into_iter()
            .map(|(mean, label, note)| {
                if let Some(n) = note.filter(|n| {
                    matches!(
                        n.kind,
                        RowNoteKind::Fallback { .. } | RowNoteKind::NoForecast
                    )
                }) {
                    failures += 1;
                    eprintln!("{}: {n}", spec.label());
                }
                *chosen.entry(label).or_default() += 1;
                mean
            })
            .collect();
        report.insert(
            spec.label().into(),
            serde_json::json!({"wall_s": wall, "failures": failures, "chosen": chosen}),
        );
        columns.push((spec.label(), forecasts));
    }

    let mut out = std::io::BufWriter::new(std::fs::File::create(&out_path)?);
    write!(out, "unique_id,ds")?;
    for (label, _) in &columns {
        write!(out, ",{label}")?;
    }
    writeln!(out)?;
    for (row, &s) in order.iter().enumerate() {
        for i in 0..horizon {
            let ds = &format_timestamp(panel.grid.timestamp(train_len + i))[..10];
            write!(out, "{},{ds}", panel.series[s])?;
            for (_, f) in &columns {
                write!(out, ",{}", f[row][i])?;
            }
            writeln!(out)?;
        }
    }
    out.flush()?;
    println!("{}", serde_json::Value::Object(report));
    Ok(())
}
