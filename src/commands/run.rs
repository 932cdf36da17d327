use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use fusecast_data::panel::{CovariateKind, Role};
use fusecast_data::prepare::Prepared;
use fusecast_data::window::{Part, TimeSplit, WindowDataset, WindowSpec};
use fusecast_data::Panel;
use fusecast_model::TftConfig;
use serde_json::json;

use crate::commands::evaluate::{
    best_model_path, eval_cutoffs, evaluate_and_report, load_best, run_baselines,
    selection_cutoffs, tft_forecasts,
};
use crate::commands::prepare::prepare_data;
use crate::config::Config;
use crate::progress::Progress;

pub fn run(
    config: &Path,
    name: Option<String>,
    json: bool,
    resume: bool,
    progress: &Progress,
) -> Result<()> {
    let loaded = Config::load_named(config, name)?;
    let c = &loaded.config;
    let prepared = prepare_data(&loaded, progress)?;
    let panel = &prepared.panel;
    let (dataset, model_config) = dataset_and_model(c, panel)?;
    let spec = dataset.spec;
    // Checked before training so a backtest that cannot work fails in seconds, not after an hour.
    let cutoffs = match c.windows.test_periods {
        0 => None,
        _ => {
            let cutoffs = eval_cutoffs(c, panel, true)?;
            selection_cutoffs(c, panel, &cutoffs)?;
            Some(cutoffs)
        }
    };
    let counts = [Part::Train, Part::Validation, Part::Test]
        .map(|p| dataset.windows(p).map(|w| w.len()))
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    progress.note(&format!(
        "windows: {} train, {} validation, {} test (encoder {}, horizon {}, stride {})",
        counts[0], counts[1], counts[2], spec.encoder_length, spec.horizon, spec.stride
    ));

    let model =
        fusecast_model::Tft::new(&model_config, &fusecast_model::burn::tensor::Device::flex())?;
    progress.note(&format!(
        "model: TFT with {} parameters over {} static, {} encoder and {} decoder variables; {:.1} MFLOPs per window forward",
        fusecast_model::burn::module::Module::num_params(&model),
        model_config.static_categoricals.len() + model_config.static_reals.len(),
        model_config.encoder_categoricals.len() + model_config.encoder_reals.len(),
        model_config.decoder_categoricals.len() + model_config.decoder_reals.len(),
        fusecast_model::flops::forward_flops(&model_config, 1, spec.encoder_length, spec.horizon) as f64 / 1e6
    ));

    let dir = c.run.output_dir.join(&c.run.name);
    if resume && !dir.join("checkpoints").exists() {
        anyhow::bail!(
            "--resume: {} has no checkpoints to resume from",
            dir.display()
        );
    }
    progress.stage("writing the run directory", || {
        write_run_dir(&dir, c, &prepared, &dataset, &counts)
    })?;
    println!("data stage done: {}", panel.summary());
    println!("run directory: {}", dir.display());
    if c.train.max_epochs == 0 {
        println!("train.max_epochs = 0: stopping after data preparation and the model check.");
        return Ok(());
    }
    crate::commands::train::train_and_record(&dir, c, &dataset, json, resume, progress)?;
    let Some(cutoffs) = cutoffs else {
        println!("windows.test_periods = 0: no held-out periods, so no backtest of the TFT (`fusecast baselines` scores the baselines alone).");
        return Ok(());
    };
    let mut forecasts = run_baselines(&dir, c, &prepared, &cutoffs, progress)?;
    // The saved best model, not the in-memory one: `fusecast evaluate` and batch prediction load
    // that file, and the autodiff backend's kernels differ from the plain one's in the last digits.
    let best = load_best(&dir, &model_config)?;
    forecasts.push(progress.stage("TFT forecasts", || {
        tft_forecasts(&dir, &best, &dataset, &cutoffs, c.train.batch_size)
    })?);
    let notes = vec![format!(
        "TFT: best model of the run ({}), trained on the first {} periods",
        best_model_path(&dir).display(),
        dataset.split.train_end
    )];
    evaluate_and_report(&dir, &loaded, &prepared, forecasts, notes, progress)?;
    Ok(())
}

/// The windows of the config's split and the TFT config for the panel's feature layout.
pub fn dataset_and_model<'a>(
    c: &Config,
    panel: &'a Panel,
) -> Result<(WindowDataset<'a>, TftConfig)> {
    let w = &c.windows;
    let spec = WindowSpec {
        encoder_length: w.encoder_length,
        min_encoder_length: w.min_encoder_length.unwrap_or(w.encoder_length),
        horizon: w.horizon,
        stride: w.stride,
    };
    let split = TimeSplit::from_tail(panel.len(), w.validation_periods, w.test_periods)?;
    let dataset = WindowDataset::new(panel, spec, split, w.target_transform)?;
    let model_config = fusecast_train::inputs::tft_config(&dataset.layout, &c.model);
    model_config.validate()?;
    Ok((dataset, model_config))
}

fn write_run_dir(
    dir: &PathBuf,
    c: &Config,
    prepared: &Prepared,
    dataset: &WindowDataset,
    counts: &[usize],
) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
    };
    write("config.toml", c.resolved_toml()?)?;
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
    let data = json!({
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
    write("data.json", serde_json::to_string_pretty(&data)?)?;
    let mut clusters = String::from("series_id,cluster\n");
    for (s, k) in panel.series.iter().zip(&prepared.clustering.assignment) {
        clusters.push_str(&format!("{s},{k}\n"));
    }
    write("clusters.csv", clusters)?;
    panel.write(&dir.join("panel.parquet"))?;
    Ok(())
}
