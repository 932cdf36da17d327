//! `fusecast report DIR`: (re)writes `DIR/report.html` from what a run directory or a tuning
//! experiment's folder holds, without training or scoring anything.

use std::path::Path;

use anyhow::{bail, Result};
use fusecast_pipeline::stages::report::write_report;
use fusecast_pipeline::RunDir;
use fusecast_tune::store::ExperimentDir;

use crate::terminal::Output;

pub fn run(dir: &Path, out: &Output) -> Result<()> {
    if !dir.is_dir() {
        bail!(
            "{}: not a folder (a run directory or a tuning experiment's folder)",
            dir.display()
        );
    }
    if ExperimentDir::is_experiment(dir) {
        fusecast_tune::write_report(&ExperimentDir::new(dir), out.sink())?;
    } else {
        write_report(&RunDir::new(dir), None, out.sink())?;
    }
    Ok(())
}
