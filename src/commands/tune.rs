//! `fusecast tune`: an experiment over the config's search space, or the table of one; for
//! another engine (Ray), the experiment's plan and the results of the trials it ran.

use std::path::PathBuf;

use anyhow::Result;
use fusecast_pipeline::config::Override;
use fusecast_pipeline::Config;

use crate::terminal::Output;

#[derive(clap::Args)]
pub struct Args {
    /// The config (not needed with --status).
    #[arg(required_unless_present = "status")]
    config: Option<PathBuf>,
    /// Overrides run.name (the experiment's folder).
    #[arg(long)]
    name: Option<String>,
    /// Continue an interrupted experiment.
    #[arg(long)]
    resume: bool,
    /// Print the trial table of a running or finished experiment folder.
    #[arg(long, value_name = "EXPERIMENT_DIR", conflicts_with_all = ["config", "resume"])]
    status: Option<PathBuf>,
    /// Print the experiment's plan as JSON (settings, dimensions, the clusters of each
    /// assignment, the trials), every trial checked; run nothing. For another engine (Ray).
    #[arg(long, conflicts_with_all = ["resume", "collect"])]
    plan: bool,
    /// Write the experiment's results (trials.csv, best.toml, the backtest of the best
    /// models, the report) from trials another engine ran with `fusecast train`, given
    /// their outcomes as a JSON list of {id, params, cluster, status, message}.
    #[arg(long, value_name = "OUTCOMES_JSON", conflicts_with = "resume")]
    collect: Option<PathBuf>,
}

pub fn run(args: Args, overrides: &[Override], out: &Output) -> Result<()> {
    if let Some(dir) = args.status {
        print!(
            "{}",
            crate::terminal::csv_table(&fusecast_tune::status(&dir)?)
        );
        return Ok(());
    }
    let config = args
        .config
        .expect("clap requires a config without --status");
    let loaded = Config::load_for(&config, args.name, overrides)?;
    if args.plan {
        let plan = fusecast_tune::external::plan(&loaded)?;
        println!("{}", serde_json::to_string_pretty(&plan)?);
        return Ok(());
    }
    let tuned = match &args.collect {
        Some(outcomes) => fusecast_tune::external::collect(&loaded, outcomes, out.sink())?,
        None => fusecast_tune::tune(&loaded, args.resume, out.sink())?,
    };
    if let Some(best) = &tuned.best {
        let ids: Vec<&str> = best
            .trials
            .iter()
            .map(|&i| tuned.specs[i].id.as_str())
            .collect();
        out.result(&format!(
            "best: {} (validation score {:.4}), trials {}; {}",
            best.group,
            best.score,
            ids.join(", "),
            tuned.dir.best_toml().display()
        ));
    }
    out.result(&format!("experiment: {}", tuned.dir.summary().display()));
    Ok(())
}
