//! `fusecast tune`: an experiment over the config's search space, or the table of one.

use std::path::PathBuf;

use anyhow::Result;
use fusecast_pipeline::Config;

use crate::terminal::Output;

pub fn run(
    config: Option<PathBuf>,
    name: Option<String>,
    resume: bool,
    status: Option<PathBuf>,
    out: &Output,
) -> Result<()> {
    if let Some(dir) = status {
        print!(
            "{}",
            crate::terminal::csv_table(&fusecast_tune::status(&dir)?)
        );
        return Ok(());
    }
    let config = config.expect("clap requires a config without --status");
    let loaded = Config::load_named(&config, name)?;
    let tuned = fusecast_tune::tune(&loaded, resume, out.sink())?;
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
