//! The data stage of a config, and the record of it in the run directory.

use fusecast_data::config::ClusterMethod;
use fusecast_data::panel::{CovariateKind, Role};
use fusecast_data::prepare::Prepared;
use fusecast_data::window::WindowDataset;
use serde_json::json;

use crate::config::{Config, LoadedConfig};
use crate::error::{Error, Result};
use crate::events::{stage, Event, Sink, Stage};
use crate::run_dir::RunDir;

/// Reads (or generates) the config's data and prepares the panel: covariates, statics, clusters.
pub fn prepare(loaded: &LoadedConfig, sink: &dyn Sink) -> Result<Prepared> {
    let c = &loaded.config;
    let prepared = stage(sink, Stage::Prepare, || {
        fusecast_data::prepare::prepare(&c.data, &c.features, &c.clusters, &loaded.base)
    })?;
    let prepared = match c.clusters.method {
        ClusterMethod::Reassign => stage(sink, Stage::Reassign, || {
            crate::stages::reassign::reassign(loaded, prepared, sink)
        })?,
        _ => prepared,
    };
    let note = |message: String| sink.emit(Event::Note { message });
    if let Some(report) = &prepared.ingest {
        note(format!("ingest: {}", report.summary()));
    }
    if prepared.weather_filled > 0 {
        note(format!(
            "weather: {} period values filled from a neighbour",
            prepared.weather_filled
        ));
    }
    note(prepared.clustering.report.table());
    sink.emit(Event::DataReady {
        summary: prepared.panel.summary(),
        series: prepared.panel.n_series(),
        periods: prepared.panel.len(),
    });
    Ok(prepared)
}

/// Window counts of the train, validation and test parts.
pub fn window_counts(ds: &WindowDataset) -> Result<[usize; 3]> {
    use fusecast_data::window::Part;
    let mut out = [0; 3];
    for (slot, part) in out
        .iter_mut()
        .zip([Part::Train, Part::Validation, Part::Test])
    {
        *slot = ds.windows(part)?.len();
    }
    Ok(out)
}

/// Writes what the data stage produced: the resolved config, `data.json`, the cluster
/// assignment and the panel.
pub fn write_run_dir(
    dir: &RunDir,
    c: &Config,
    prepared: &Prepared,
    dataset: &WindowDataset,
    counts: [usize; 3],
) -> Result<()> {
    std::fs::create_dir_all(dir.root()).map_err(|e| Error::io(dir.root(), e))?;
    let write = |path: std::path::PathBuf, text: String| {
        std::fs::write(&path, text).map_err(|e| Error::io(&path, e))
    };
    write(dir.config_toml(), c.resolved_toml()?)?;
    let panel = &prepared.panel;
    let covariates: Vec<_> = panel
        .covariates
        .iter()
        .map(|cv| {
            json!({
                "name": cv.name,
                "role": match cv.role { Role::Known => "known", Role::Observed => "observed" },
                "kind": match cv.kind {
                    CovariateKind::Real => json!("real"),
                    CovariateKind::Categorical { cardinality } => json!({ "categorical": cardinality }),
                },
            })
        })
        .collect();
    let mut data = json!({
        "fingerprint": panel.fingerprint(),
        "target": panel.target_name,
        "grid": panel.grid,
        "series": panel.series,
        "covariates": covariates,
        "layout": dataset.layout,
        "scaler": dataset.scaler,
        "covariate_scales": dataset.covariate_scales,
        "static_real_scales": dataset.static_real_scales,
        "split": dataset.split,
        "windows": { "train": counts[0], "validation": counts[1], "test": counts[2] },
        "ingest": prepared.ingest,
        "clusters": prepared.clustering.report,
    });
    // Written only for ragged panels, so a full panel's data.json stays as it was.
    if !panel.is_full() {
        let spans: Vec<_> = panel
            .series
            .iter()
            .zip(&panel.spans)
            .map(|(id, sp)| {
                let at = |t: usize| fusecast_data::time::format_timestamp(panel.grid.timestamp(t));
                json!({
                    "series": id,
                    "first": (!sp.is_empty()).then(|| at(sp.first)),
                    "last": (!sp.is_empty()).then(|| at(sp.end - 1)),
                    "periods": sp.len(),
                    "missing": sp.missing,
                })
            })
            .collect();
        data["spans"] = json!(spans);
    }
    if !dataset.left_out.is_empty() {
        let ids: Vec<&String> = dataset.left_out.iter().map(|&s| &panel.series[s]).collect();
        data["left_out_of_tft"] = json!(ids);
    }
    write(
        dir.data_json(),
        serde_json::to_string_pretty(&data).expect("json values serialize"),
    )?;
    let mut clusters = String::from("series_id,cluster\n");
    for (s, k) in panel.series.iter().zip(&prepared.clustering.assignment) {
        clusters.push_str(&format!("{},{k}\n", fusecast_data::csvline::quote(s)));
    }
    write(dir.clusters_csv(), clusters)?;
    panel.write(&dir.panel_parquet())?;
    Ok(())
}
