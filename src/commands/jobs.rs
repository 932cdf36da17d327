//! The jobs over a config: each loads it, calls the pipeline, and lets the output show the
//! events.

use std::path::Path;

use anyhow::Result;
use fusecast_pipeline::config::Override;
use fusecast_pipeline::{ops, Config, Shard};

use crate::terminal::Output;

pub fn run(
    config: &Path,
    name: Option<String>,
    resume: bool,
    set: &[Override],
    out: &Output,
) -> Result<()> {
    let loaded = Config::load_for(config, name, set)?;
    ops::run(&loaded, resume, out.sink())?;
    Ok(())
}

/// `fusecast baselines`: the whole run, one shard of it (`--shard I/N`) or the merge of the
/// shards (`--merge`).
pub fn baselines(
    config: &Path,
    name: Option<String>,
    shard: Option<Shard>,
    merge: bool,
    set: &[Override],
    out: &Output,
) -> Result<()> {
    let loaded = Config::load_for(config, name, set)?;
    let sink = out.sink();
    match (shard, merge) {
        (Some(shard), _) => ops::baselines_shard(&loaded, shard, sink).map(|_| ()),
        (None, true) => ops::baselines_merge(&loaded, sink).map(|_| ()),
        (None, false) => ops::baselines(&loaded, sink).map(|_| ()),
    }?;
    Ok(())
}

pub fn evaluate(
    config: &Path,
    name: Option<String>,
    refit: bool,
    set: &[Override],
    out: &Output,
) -> Result<()> {
    ops::evaluate(&Config::load_for(config, name, set)?, refit, out.sink())?;
    Ok(())
}

pub fn prepare(config: &Path, path: &Path, set: &[Override], out: &Output) -> Result<()> {
    ops::prepare_to(&Config::load_with(config, set)?, path, out.sink())?;
    Ok(())
}
