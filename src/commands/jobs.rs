//! The jobs over a config: each loads it, calls the pipeline, and lets the output show the
//! events.

use std::path::Path;

use anyhow::Result;
use fusecast_pipeline::{ops, Config, Shard};

use crate::terminal::Output;

pub fn run(config: &Path, name: Option<String>, resume: bool, out: &Output) -> Result<()> {
    let loaded = Config::load_named(config, name)?;
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
    out: &Output,
) -> Result<()> {
    let loaded = Config::load_named(config, name)?;
    let sink = out.sink();
    match (shard, merge) {
        (Some(shard), _) => ops::baselines_shard(&loaded, shard, sink).map(|_| ()),
        (None, true) => ops::baselines_merge(&loaded, sink).map(|_| ()),
        (None, false) => ops::baselines(&loaded, sink).map(|_| ()),
    }?;
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
