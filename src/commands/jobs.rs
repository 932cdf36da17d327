//! The jobs over a config: each loads it, calls the pipeline, and lets the output show the
//! events.

use std::path::Path;

use anyhow::Result;
use fusecast_pipeline::{ops, Config};

use crate::terminal::Output;

pub fn run(config: &Path, name: Option<String>, resume: bool, out: &Output) -> Result<()> {
    let loaded = Config::load_named(config, name)?;
    ops::run(&loaded, resume, out.sink())?;
    Ok(())
}

pub fn baselines(config: &Path, name: Option<String>, out: &Output) -> Result<()> {
    ops::baselines(&Config::load_named(config, name)?, out.sink())?;
    Ok(())
}

pub fn evaluate(config: &Path, name: Option<String>, refit: bool, out: &Output) -> Result<()> {
    ops::evaluate(&Config::load_named(config, name)?, refit, out.sink())?;
    Ok(())
}

pub fn prepare(config: &Path, path: &Path, out: &Output) -> Result<()> {
    ops::prepare_to(&Config::load(config)?, path, out.sink())?;
    Ok(())
}
