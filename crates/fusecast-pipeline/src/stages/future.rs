//! Forecasts past the data with a saved model, for `fusecast predict` and the forecast service.
//! A [`Forecaster`] holds the model artifact and the history it forecasts from (the run's own
//! panel, or newer data through the same data stage); each series is forecast from its last
//! observation, with the calendar made for the future periods and other known inputs from the
//! user. A series the model cannot forecast is an error, or with `fallback` a SeasonalNaive
//! forecast marked as such: never a silent guess.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use fusecast_baselines::runner::fit_or_fall_back;
use fusecast_baselines::{Fitted, ModelSpec, SeriesInput};
use fusecast_data::future::{FutureInputs, FutureSpec};
use fusecast_data::panel::{Covariate, CovariateKind, CovariateValues, Role};
use fusecast_data::scale::TargetScaler;
use fusecast_data::table::{read_table, TableOptions};
use fusecast_data::time::{format_timestamp, TimeGrid};
use fusecast_data::window::{Batch, Window, WindowDataset};
use fusecast_data::{files::DataFile, Forecast, ForecastRow, Panel, RowNote};
use fusecast_model::burn::tensor::Device;
use fusecast_model::interpret::Interpretation;
use fusecast_model::Tft;
use fusecast_train::calibration::{ConformalShifts, Refit};
use fusecast_train::predict::{forward, unscaled_row};

use crate::artifact::ModelArtifact;
use crate::error::{Error, Result};
use crate::run_dir::RunDir;

/// A model loaded once with the history it forecasts from.
pub struct Forecaster {
    pub artifact: ModelArtifact,
    pub model: Tft,
    /// The history: the run's prepared panel unless newer data replaced it.
    pub history: Panel,
    /// The model folder (`best/`), for messages and reloads.
    pub source: PathBuf,
    /// Threads a forward pass is split over (default: the machine's cores).
    pub threads: usize,
}

/// Below this many windows per thread, splitting a pass costs more than it saves.
const MIN_WINDOWS_PER_THREAD: usize = 32;

/// Windows per forward pass on one thread: a pass's intermediate tensors (up to `[inputs,
/// windows x steps, hidden]`) then stay in the core's cache; passes of all 263 quickstart windows
/// ran 1.7x slower per window, memory-bound (`examples/forecast_time`).
const CACHE_WINDOWS: usize = 32;

/// Windows per forward pass when refitting conformal shifts at an origin.
const REFIT_BATCH: usize = 256;

/// What a prediction should cover.
#[derive(Clone, Debug, Default)]
pub struct PredictOptions {
    /// Forecast as of this timestamp (the last observation used), not the end of the history.
    pub at: Option<i64>,
    /// Only these series (all when `None`).
    pub series: Option<Vec<String>>,
    /// Series the model cannot forecast get a marked SeasonalNaive forecast instead of an error.
    pub fallback: bool,
    /// Each series' variable importances and attention.
    pub interpret: bool,
    pub batch_size: usize,
}

/// Forecasts of every requested series from its last observation.
pub struct FutureForecast {
    /// The requested series over the history's grid extended by the horizon (no covariates):
    /// what the forecast rows index.
    pub panel: Panel,
    pub forecast: Forecast,
    /// `(series, interpretation)` of each TFT-forecast series, with `interpret`.
    pub interpretation: Vec<(String, Interpretation)>,
}

impl FutureForecast {
    /// Forecasts of several models over disjoint series on one grid (an experiment's per-cluster
    /// models), as one table.
    pub fn merge(parts: Vec<FutureForecast>) -> Result<FutureForecast> {
        let Some(first) = parts.first() else {
            return Err(Error::Invalid("no forecasts to merge".to_string()));
        };
        let grid = first.panel.grid;
        let target = first.panel.target_name.clone();
        let mut forecast = Forecast::new(
            first.forecast.model.clone(),
            first.forecast.horizon,
            &first.forecast.levels,
        );
        let mut series: Vec<String> = Vec::new();
        let mut interpretation = Vec::new();
        for p in parts {
            if p.panel.grid != grid || p.forecast.levels != forecast.levels {
                return Err(Error::Invalid(format!(
                    "the models forecast different periods or quantiles ({} vs {})",
                    p.panel.grid.describe(),
                    grid.describe()
                )));
            }
            let offset = series.len();
            if let Some(id) = p.panel.series.iter().find(|id| series.contains(id)) {
                return Err(Error::Invalid(format!(
                    "series {id:?} is forecast by two models"
                )));
            }
            series.extend(p.panel.series.iter().cloned());
            for row in p.forecast.rows {
                forecast.push(ForecastRow {
                    series: row.series + offset,
                    ..row
                })?;
            }
            interpretation.extend(p.interpretation);
        }
        let n = series.len();
        Ok(FutureForecast {
            panel: Panel::new(grid, &target, series, vec![0.0; n * grid.len])?,
            forecast,
            interpretation,
        })
    }
}

/// Windows ready for one forward pass: series of one history, each from its last observation.
pub struct Job {
    /// The history extended by the horizon (the future's known inputs filled in).
    pub panel: Panel,
    pub batch: Batch,
    scaler: TargetScaler,
    non_negative: bool,
    /// Each window's conformal shifts refitted at its origin, when the model's calibration is
    /// `conformal_rolling` (else empty: the artifact's shifts).
    shifts: Vec<Arc<ConformalShifts>>,
}

impl Job {
    /// The windows `picked` of this job (indices into its batch), as a job of their own.
    pub fn pick(&self, picked: &[usize]) -> Job {
        let parts: Vec<Batch> = picked.iter().map(|&w| self.batch.slice(w, w + 1)).collect();
        Job {
            panel: self.panel.clone(),
            batch: Batch::concat(&parts).unwrap_or_else(|| Batch {
                encoder_length: self.batch.encoder_length,
                horizon: self.batch.horizon,
                ..Batch::default()
            }),
            scaler: self.scaler.clone(),
            non_negative: self.non_negative,
            shifts: match self.shifts.is_empty() {
                true => Vec::new(),
                false => picked.iter().map(|&w| self.shifts[w].clone()).collect(),
            },
        }
    }
}

impl Forecaster {
    /// The best model of a run directory (or of one tuning trial's) with the run's panel.
    pub fn load(run_dir: &Path) -> Result<Self> {
        let dir = RunDir::new(run_dir);
        if !dir.best().exists() && run_dir.join("best.toml").exists() {
            return Err(Error::Artifact {
                path: run_dir.to_path_buf(),
                message: "a tuning experiment: `fusecast predict` takes it whole (each cluster's best model forecasts its series); to load one model, name its trial folder (see best.toml)".to_string(),
            });
        }
        let (artifact, model) = ModelArtifact::load(&dir.best())?;
        let history = read_history(&dir.panel_parquet(), &artifact)?;
        Ok(Forecaster {
            artifact,
            model,
            history,
            source: dir.best(),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        })
    }

    pub fn horizon(&self) -> usize {
        self.artifact.features.spec.horizon
    }

    /// The known inputs whose future values the user gives: every known covariate but the
    /// calendar the model makes itself.
    pub fn future_inputs(&self) -> Vec<String> {
        let calendar = fusecast_data::calendar::CALENDAR_COVARIATES;
        self.history
            .covariates
            .iter()
            .filter(|c| {
                c.role == Role::Known
                    && !(self.artifact.calendar.is_some() && calendar.contains(&c.name.as_str()))
            })
            .map(|c| c.name.clone())
            .collect()
    }

    pub fn levels(&self) -> &[f64] {
        &self.model.config().quantiles
    }

    /// Newer data as the history: the statics of each series (its cluster among them) are the
    /// ones the model was trained with, whatever the new data's own attributes say.
    pub fn with_history(mut self, mut panel: Panel) -> Result<Self> {
        for voc in &self.artifact.layout_statics() {
            let saved = self
                .history
                .static_values(voc)
                .ok_or_else(|| Error::Invalid(format!("the run's panel has no static `{voc}`")))?;
            let values = panel
                .series
                .iter()
                .map(|id| {
                    self.history
                        .series_index(id)
                        .map(|s| saved[s].clone())
                        .unwrap_or_default()
                })
                .collect();
            panel.set_static(voc, values)?;
        }
        let order = self.artifact.layout_statics();
        panel
            .statics
            .retain(|st| order.iter().any(|n| n == &st.name));
        panel.statics.sort_by_key(|st| {
            order
                .iter()
                .position(|n| n == &st.name)
                .expect("kept only the model's statics")
        });
        self.history = panel;
        Ok(self)
    }

    /// Why the model cannot forecast series `s` of `history`, if it cannot.
    fn cannot(&self, history: &Panel, s: usize) -> Option<String> {
        let id = &history.series[s];
        if !self.artifact.features.series.contains(id) {
            return Some(format!(
                "series {id:?} was not in the model's training data"
            ));
        }
        if self.artifact.features.left_out.contains(id) {
            return Some(format!(
                "series {id:?} was too short for a training window, so the model has no scale for it"
            ));
        }
        let need = self.artifact.features.spec.min_encoder_length.max(1);
        let span = history.span(s);
        // The encoder ends at the series' own last observation, after its last missing period.
        let observed = match span.is_empty() {
            true => 0,
            false => history.history(s, span.end - 1).map_or(0, |(_, y)| y.len()),
        };
        if observed < need {
            return Some(format!(
                "series {id:?} has {observed} observations, the model needs at least {need} (min_encoder_length)"
            ));
        }
        None
    }

    /// The windows that forecast every series of `history` from its last observation. Every
    /// series must be one the model can forecast.
    pub fn job(&self, history: &Panel, future: Option<&FutureInputs>) -> Result<Job> {
        if let Some(why) = (0..history.n_series()).find_map(|s| self.cannot(history, s)) {
            return Err(Error::Invalid(why));
        }
        let spec = FutureSpec {
            calendar: self.artifact.calendar.as_ref(),
            inputs: future,
        };
        let panel = history.extended(self.horizon(), &spec)?;
        let (ds, _unknown) = WindowDataset::for_forecast(&panel, &self.artifact.features)?;
        // Each series from its own last observation (a series that ended early, too).
        let windows: Vec<Window> = (0..history.n_series())
            .map(|s| fusecast_train::predict::cutoff_window(&ds, s, history.span(s).end - 1))
            .collect::<std::result::Result<_, _>>()?;
        let shifts = self.refitted_shifts(&ds, &windows)?;
        let batch = ds.batch(&windows);
        let scaler = ds.scaler.clone();
        drop(ds);
        Ok(Job {
            panel,
            batch,
            scaler,
            non_negative: history.is_non_negative(),
            shifts,
        })
    }

    /// Each window's shifts refitted at its origin on the history before it, for a model
    /// calibrated `conformal_rolling` (one fit per distinct origin); empty otherwise.
    fn refitted_shifts(
        &self,
        ds: &WindowDataset,
        windows: &[Window],
    ) -> Result<Vec<Arc<ConformalShifts>>> {
        let Some(cal) = self
            .artifact
            .calibration
            .as_ref()
            .filter(|c| c.refit != Refit::Never)
        else {
            return Ok(Vec::new());
        };
        let device = Device::flex();
        let mut fitted: Vec<(usize, Arc<ConformalShifts>)> = Vec::new();
        let mut out = Vec::with_capacity(windows.len());
        for w in windows {
            let c = w.decoder_start - 1;
            let shifts = match fitted.iter().find(|(at, _)| *at == c) {
                Some((_, s)) => s.clone(),
                None => {
                    let s = Arc::new(
                        cal.at_cutoff(&self.model, ds, c, REFIT_BATCH, &device)?
                            .into_owned(),
                    );
                    fitted.push((c, s.clone()));
                    s
                }
            };
            out.push(shifts);
        }
        Ok(out)
    }

    /// Forecasts of several jobs, packed into forward passes of up to `batch_size` windows
    /// (0: one pass); one table per job, its rows indexing the job's panel.
    pub fn run(
        &self,
        jobs: &[Job],
        batch_size: usize,
        interpret: bool,
    ) -> Result<Vec<(Forecast, Vec<Interpretation>)>> {
        let h = self.horizon();
        let levels = self.levels().to_vec();
        let mut out: Vec<(Forecast, Vec<Interpretation>)> = jobs
            .iter()
            .map(|_| (Forecast::new("TFT", h, &levels), Vec::new()))
            .collect();
        // (job, window) of every window, in order, cut into passes.
        let all: Vec<(usize, usize)> = jobs
            .iter()
            .enumerate()
            .flat_map(|(j, job)| (0..job.batch.size).map(move |w| (j, w)))
            .collect();
        let pass = if batch_size == 0 {
            all.len().max(1)
        } else {
            batch_size
        };
        let device = Device::flex();
        let calibration = self.artifact.calibration.as_ref();
        for chunk in all.chunks(pass) {
            let parts: Vec<Batch> = split_runs(chunk)
                .into_iter()
                .map(|(j, from, to)| jobs[j].batch.slice(from, to))
                .collect();
            let batch = Batch::concat(&parts).expect("one model's windows share their shapes");
            let (pred, interpretations) = self.forward_parallel(&batch, &device, interpret)?;
            for (i, &(j, w)) in chunk.iter().enumerate() {
                let job = &jobs[j];
                let window = job.batch.windows[w];
                let sc = job.batch.target_scales[w];
                let shifts = job.shifts.get(w).map(|s| s.as_ref()).or(calibration);
                let mut row = unscaled_row(&levels, h, &pred, i, &window, shifts, |v| {
                    job.scaler.unscale_with(sc, v)
                });
                if job.non_negative {
                    clamp_row(&mut row, 0.0);
                }
                out[j].0.push(row)?;
                if interpret {
                    out[j].1.push(interpretations[i].clone());
                }
            }
        }
        Ok(out)
    }

    /// The forward pass over `batch`: its windows split across the machine's cores (a replica
    /// of the model on each thread: one pass is per-op bound and uses about one core), and each
    /// thread's share forwarded [`CACHE_WINDOWS`] at a time.
    fn forward_parallel(
        &self,
        batch: &Batch,
        device: &Device,
        interpret: bool,
    ) -> Result<(Vec<f32>, Vec<Interpretation>)> {
        let layout = &self.artifact.features.layout;
        let threads = self
            .threads
            .max(1)
            .min(batch.size / MIN_WINDOWS_PER_THREAD)
            .max(1);
        let per = batch.size.div_ceil(threads);
        let shards: Vec<Batch> = (0..batch.size)
            .step_by(per.max(1))
            .map(|from| batch.slice(from, (from + per).min(batch.size)))
            .collect();
        let in_passes = |model: &Tft, shard: &Batch| {
            let mut pred = Vec::new();
            let mut each = Vec::new();
            for from in (0..shard.size).step_by(CACHE_WINDOWS) {
                let part = shard.slice(from, (from + CACHE_WINDOWS).min(shard.size));
                let (p, mut e) = forward(model, &part, layout, device, interpret)?;
                pred.extend(p);
                each.append(&mut e);
            }
            Ok::<_, fusecast_train::error::TrainError>((pred, each))
        };
        let results = if shards.len() == 1 {
            vec![in_passes(&self.model, &shards[0])]
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = shards
                    .iter()
                    .map(|shard| {
                        let replica = self.model.clone();
                        scope.spawn(move || in_passes(&replica, shard))
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("a forecasting thread"))
                    .collect::<Vec<_>>()
            })
        };
        let mut pred = Vec::new();
        let mut each = Vec::new();
        for r in results {
            let (p, mut e) = r?;
            pred.extend(p);
            each.append(&mut e);
        }
        Ok((pred, each))
    }

    /// Forecasts `horizon` steps after the last observation of every requested series of the
    /// history (or as of `opts.at`).
    pub fn predict(
        &self,
        future: Option<&FutureInputs>,
        opts: &PredictOptions,
    ) -> Result<FutureForecast> {
        let mut history = self.history.clone();
        if let Some(at) = opts.at {
            let i = history.grid.index_of(at).ok_or_else(|| {
                Error::Invalid(format!(
                    "--at {}: not a period of the history ({})",
                    format_timestamp(at),
                    history.grid.describe()
                ))
            })?;
            history = history.truncated(i + 1)?;
        }
        if let Some(ids) = &opts.series {
            let keep = ids
                .iter()
                .map(|id| {
                    history.series_index(id).ok_or_else(|| {
                        Error::Invalid(format!(
                            "--series: {id:?} is not in the history ({} series)",
                            history.n_series()
                        ))
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            history = history.select_series(&keep)?;
        }
        let (tft, other): (Vec<usize>, Vec<usize>) =
            (0..history.n_series()).partition(|&s| self.cannot(&history, s).is_none());
        if !opts.fallback {
            if let Some(&s) = other.first() {
                return Err(Error::Invalid(format!(
                    "{} ({} such series); pass --fallback for a SeasonalNaive forecast marked as one",
                    self.cannot(&history, s).expect("partitioned"),
                    other.len()
                )));
            }
        }
        let h = self.horizon();
        let grid = TimeGrid {
            len: history.len() + h,
            ..history.grid
        };
        let labels = Panel::new(
            grid,
            &history.target_name,
            history.series.clone(),
            vec![0.0; history.n_series() * grid.len],
        )?;
        let mut forecast = Forecast::new("TFT", h, self.levels());
        let mut interpretation = Vec::new();
        if !tft.is_empty() {
            let part = history.select_series(&tft)?;
            let job = self.job(&part, future)?;
            let (table, each) = self
                .run(std::slice::from_ref(&job), opts.batch_size, opts.interpret)?
                .pop()
                .expect("one job");
            for (row, interp) in table
                .rows
                .into_iter()
                .zip(each.into_iter().map(Some).chain(std::iter::repeat(None)))
            {
                let s = tft[row.series];
                if let Some(i) = interp {
                    interpretation.push((history.series[s].clone(), i));
                }
                forecast.push(ForecastRow { series: s, ..row })?;
            }
        }
        for &s in &other {
            let reason = self.cannot(&history, s).expect("partitioned");
            forecast.push(fallback_row(&history, s, h, self.levels(), reason))?;
        }
        forecast.rows.sort_by_key(|r| r.series);
        Ok(FutureForecast {
            panel: labels,
            forecast,
            interpretation,
        })
    }
}

/// A SeasonalNaive forecast of series `s` from its history up to its last observation (since
/// its last missing period), marked as a fallback.
fn fallback_row(
    history: &Panel,
    s: usize,
    h: usize,
    levels: &[f64],
    reason: String,
) -> ForecastRow {
    let freq = history.grid.frequency;
    let span = history.span(s);
    let cutoff = if span.is_empty() {
        history.len() - 1
    } else {
        span.end - 1
    };
    let (first, y) = history.history(s, cutoff).unwrap_or((cutoff, &[]));
    let input = SeriesInput {
        y,
        period: freq.season_length(),
        seasonal_periods: vec![freq.season_length()],
        start: history.grid.timestamp(first),
        step_seconds: freq.step_seconds(),
        holidays: &[],
        deadline: None,
    };
    let (fit, note) = fit_or_fall_back(&ModelSpec::SeasonalNaive, &input);
    let p = fit.forecast(h, levels);
    let used = match &note {
        Some(n) => format!("{reason}; {n}"),
        None => reason,
    };
    let mut row = ForecastRow {
        series: s,
        cutoff,
        mean: p.mean,
        quantiles: p.quantiles,
        note: Some(RowNote::fallback("SeasonalNaive", used)),
    };
    if history.is_non_negative() {
        clamp_row(&mut row, 0.0);
    }
    row
}

fn clamp_row(row: &mut ForecastRow, floor: f64) {
    for v in row
        .mean
        .iter_mut()
        .chain(row.quantiles.iter_mut().flatten())
    {
        *v = v.max(floor);
    }
}

/// Consecutive windows of one job in `chunk`, as `(job, first window, end)`.
fn split_runs(chunk: &[(usize, usize)]) -> Vec<(usize, usize, usize)> {
    let mut runs: Vec<(usize, usize, usize)> = Vec::new();
    for &(j, w) in chunk {
        match runs.last_mut() {
            Some((rj, _, end)) if *rj == j && *end == w => *end += 1,
            _ => runs.push((j, w, w + 1)),
        }
    }
    runs
}

/// Reads a run's `panel.parquet` back as the panel the model was fitted on: columns, roles and
/// kinds come from the artifact's feature layout.
pub fn read_history(path: &Path, artifact: &ModelArtifact) -> Result<Panel> {
    let layout = &artifact.features.layout;
    let mut known: Vec<String> = layout
        .known_categoricals
        .iter()
        .map(|(n, _)| n.clone())
        .collect();
    known.extend(layout.covariate_known_reals().cloned());
    let mut opts = TableOptions::new(
        vec![DataFile::new(path)?],
        "series_id",
        "timestamp",
        &artifact.features.target,
        artifact.features.grid.frequency,
    );
    opts.known_reals = known;
    opts.observed_reals = layout.observed_reals[1..].to_vec();
    opts.static_columns = artifact.layout_statics();
    opts.allow_negative = true;
    // The panel was written one row per observed period: a missing period is a missing row.
    opts.fill_missing = fusecast_data::table::FillMissing::Drop;
    let mut panel = read_table(&opts)?;
    for c in &mut panel.covariates {
        if let Some((_, cardinality)) = layout.known_categoricals.iter().find(|(n, _)| *n == c.name)
        {
            c.kind = CovariateKind::Categorical {
                cardinality: *cardinality,
            };
        }
    }
    panel.validate()?;
    Ok(panel)
}

/// One series' history as a panel, for a request that sends its values: covariates the model
/// reads in the encoder come from the calendar or, for the periods the saved history covers,
/// from it; anything else is an error naming the input.
pub fn request_history(f: &Forecaster, series: &str, start: i64, values: &[f64]) -> Result<Panel> {
    let saved = &f.history;
    let grid = TimeGrid {
        start,
        len: values.len(),
        frequency: saved.grid.frequency,
    };
    let mut panel = Panel::new(
        grid,
        &saved.target_name,
        vec![series.to_string()],
        values.to_vec(),
    )?;
    let calendar = f.artifact.calendar.as_ref().map(|c| c.covariates(&grid));
    let s = saved.series_index(series);
    for c in &saved.covariates {
        let made = calendar.as_ref().and_then(|cal| {
            cal.iter()
                .find(|m| m.name == c.name && c.role == Role::Known)
        });
        let values = match made {
            Some(m) => m.values.clone(),
            None => {
                let first = saved.grid.index_of(start);
                let last = saved.grid.index_of(grid.timestamp(grid.len - 1));
                match (s, first, last) {
                    (Some(s), Some(a), Some(_)) => CovariateValues::PerSeries(
                        (a..a + grid.len)
                            .map(|t| c.value(s, t, saved.len()))
                            .collect(),
                    ),
                    _ => {
                        return Err(Error::Invalid(format!(
                            "the model reads `{}` in the encoder; the service knows it for {} ({}), not for series {series:?} from {} to {}",
                            c.name,
                            saved.grid.describe(),
                            if s.is_some() { "this series" } else { "the training series" },
                            format_timestamp(start),
                            format_timestamp(grid.timestamp(grid.len - 1)),
                        )))
                    }
                }
            }
        };
        panel.add_covariate(Covariate {
            values,
            ..c.clone()
        })?;
    }
    for st in &saved.statics {
        let v = s.map(|s| st.values[s].clone()).unwrap_or_default();
        panel.set_static(&st.name, vec![v])?;
    }
    Ok(panel)
}
