use std::path::Path;

use anyhow::Result;
use fusecast_data::prepare::{prepare, Prepared};

use crate::config::{Config, LoadedConfig};
use crate::progress::Progress;

/// The data stage of a config, with progress and a summary.
pub fn prepare_data(loaded: &LoadedConfig, progress: &Progress) -> Result<Prepared> {
    let c = &loaded.config;
    let prepared = progress.stage("preparing data", || {
        prepare(&c.data, &c.features, &c.clusters, &loaded.base)
    })?;
    if let Some(report) = &prepared.ingest {
        progress.note(&format!("ingest: {}", report.summary()));
    }
    progress.note(&format!("panel: {}", prepared.panel.summary()));
    if prepared.weather_filled > 0 {
        progress.note(&format!(
            "weather: {} period values filled from a neighbour",
            prepared.weather_filled
        ));
    }
    progress.note(&prepared.clustering.report.table());
    Ok(prepared)
}

pub fn run(config: &Path, out: &Path, progress: &Progress) -> Result<()> {
    let loaded = Config::load(config)?;
    let prepared = prepare_data(&loaded, progress)?;
    progress.stage("writing the panel", || prepared.panel.write(out))?;
    println!(
        "wrote {} rows to {}",
        prepared.panel.n_series() * prepared.panel.len(),
        out.display()
    );
    Ok(())
}
