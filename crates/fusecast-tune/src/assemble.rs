//! The assembly: each assignment's best per-cluster models forecast their own series on the
//! backtest windows, and the assembled forecast goes into the same evaluation as the per-series
//! baselines (same cutoffs, MASE, q-Risk, coverage, winners): do per-cluster models beat one
//! global model, and which cluster assignment wins.

use fusecast_data::{Forecast, ForecastRow};
use fusecast_eval::Comparison;
use fusecast_pipeline::artifact::ModelArtifact;
use fusecast_pipeline::events::{Event, Sink};
use fusecast_pipeline::stages::{backtest, evaluate, interpret, predict, prepare};
use fusecast_pipeline::{LoadedConfig, RunDir};

use crate::error::TuneError;
use crate::results::Best;
use crate::space::Scope;
use crate::trial::{DataCache, TrialSpec};

/// One group's forecast over every series of `full`, from its best trial per cluster.
fn assembled(
    label: &str,
    trials: &[&TrialSpec],
    cache: &DataCache,
    full: &fusecast_data::Panel,
    cutoffs: &[usize],
) -> Result<Forecast, TuneError> {
    let mut out: Option<Forecast> = None;
    for spec in trials {
        let dir = spec.config.run_dir();
        let prepared = cache
            .get(&spec.config)
            .ok_or_else(|| TuneError::space("tune", format!("{}: data not prepared", spec.id)))?;
        let (artifact, model) = ModelArtifact::load_calibrated(
            &dir.best(),
            spec.config.train.calibration,
            &prepared.panel,
            spec.config.train.batch_size,
        )?;
        let own = backtest::cutoffs(&spec.config, &prepared.panel, true)?;
        if own != cutoffs {
            return Err(TuneError::space("tune", format!("trial {} holds out other periods (windows.*) than the base config's backtest; it cannot be scored on the same windows", spec.id)));
        }
        let (ds, _) = artifact.dataset(&prepared.panel)?;
        let f = predict::predict(
            &model,
            artifact.calibration.as_ref(),
            &ds,
            cutoffs,
            spec.config.train.batch_size,
        )?;
        // The trial's own run directory: the experiment's report shows the winners' models.
        interpret::save_interpretation(&dir, &model, &ds, cutoffs, spec.config.train.batch_size)?;
        let target = out.get_or_insert_with(|| Forecast::new(label, f.horizon, &f.levels));
        for row in f.rows {
            let id = &prepared.panel.series[row.series];
            let series = full.series_index(id).ok_or_else(|| {
                TuneError::space(
                    "tune",
                    format!("series {id} of trial {} is not in the base panel", spec.id),
                )
            })?;
            target
                .push(ForecastRow { series, ..row })
                .map_err(fusecast_pipeline::Error::from)?;
        }
    }
    out.ok_or_else(|| TuneError::space("tune", format!("{label}: no trials")))
}

/// The backtest of every assignment's best models against the baselines, in `dir/eval/`.
pub fn evaluate_assembly(
    base: &LoadedConfig,
    dir: &RunDir,
    specs: &[TrialSpec],
    best: &Best,
    scope: Scope,
    cache: &DataCache,
    sink: &dyn Sink,
) -> Result<Option<Comparison>, TuneError> {
    let c = &base.config;
    if c.windows.test_periods == 0 {
        sink.emit(Event::Skipped {
            reason: "windows.test_periods = 0: no backtest of the tuned models".into(),
        });
        return Ok(None);
    }
    let mut plain = base.clone();
    plain.config.tune = None;
    let prepared = prepare::prepare(&plain, sink)?;
    let cutoffs = backtest::cutoffs(c, &prepared.panel, true)?;
    let mut forecasts = backtest::baselines(dir, c, &prepared, &cutoffs, sink)?;
    let n_baselines = forecasts.len();
    let mut notes = vec![format!(
        "tuning experiment {}: every assignment's best models, then the per-series baselines",
        dir.root().display()
    )];
    for (group, score, trials) in &best.groups {
        let kind = match scope {
            Scope::PerCluster => "per-cluster",
            Scope::Global => "global",
        };
        let label = format!("TFT {kind} [{group}]");
        let members: Vec<&TrialSpec> = trials.iter().map(|&i| &specs[i]).collect();
        match assembled(&label, &members, cache, &prepared.panel, &cutoffs) {
            Ok(f) => {
                let ids: Vec<&str> = members.iter().map(|s| s.id.as_str()).collect();
                notes.push(format!(
                    "{label}: trials {} (validation score {score:.4})",
                    ids.join(", ")
                ));
                forecasts.push(f);
            }
            Err(e) => sink.emit(Event::Warning {
                message: format!("{label}: not scored: {e}"),
            }),
        }
    }
    // What the report draws: the assembled forecasts beside the baselines', on this panel.
    prepared
        .panel
        .write(&dir.panel_parquet())
        .map_err(fusecast_pipeline::Error::from)?;
    let tft = dir.tft_forecasts();
    RunDir::create_parent(&tft)?;
    let assembled = &forecasts[n_baselines..];
    if let (false, Err(e)) = (
        assembled.is_empty(),
        Forecast::write_csv_all(&prepared.panel, assembled, &tft),
    ) {
        // Assignments with different quantiles share no file; the scores do not depend on it.
        sink.emit(Event::Warning {
            message: format!("the report will draw no TFT forecasts: {e}"),
        });
    }
    Ok(Some(evaluate::evaluate(
        dir, &plain, &prepared, forecasts, notes, sink,
    )?))
}
