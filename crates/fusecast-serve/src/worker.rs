//! The model worker: one thread owns the loaded model, so the model is loaded once and never
//! shared across threads. Requests queue on a bounded channel; the worker takes what arrives
//! within a short batching window and forecasts all of it in shared forward passes. A reload
//! is a message like any other: requests queued behind it are answered by the new model, the
//! ones before it by the old, none dropped.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fusecast_data::future::FutureInputs;
use fusecast_data::Panel;
use fusecast_pipeline::stages::future::{request_history, Forecaster, Job};
use tokio::sync::oneshot;

use crate::info::ModelInfo;
use crate::metrics::Metrics;
use crate::request::{History, InputSpec, Parsed};

/// One input's forecast, `horizon` steps of the requested levels.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesForecast {
    pub start: i64,
    pub mean: Vec<f64>,
    /// In the requested order of levels.
    pub quantiles: Vec<Vec<f64>>,
}

pub type InputResult = Result<SeriesForecast, String>;

pub enum Msg {
    Forecast {
        parsed: Parsed,
        reply: oneshot::Sender<Vec<InputResult>>,
    },
    Reload {
        reply: oneshot::Sender<Result<Arc<ModelInfo>, String>>,
    },
}

pub struct Settings {
    pub run_dir: PathBuf,
    /// How long the worker waits for more requests after the first one of a batch.
    pub window: Duration,
    /// The most windows in one forward pass.
    pub max_windows: usize,
}

/// Runs until every sender is gone. `info` is updated on each reload.
pub fn run(
    forecaster: Forecaster,
    settings: Settings,
    rx: Receiver<Msg>,
    info: Arc<std::sync::RwLock<Arc<ModelInfo>>>,
    metrics: Arc<Metrics>,
) {
    let mut model = Loaded::new(forecaster);
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        let deadline = Instant::now() + settings.window;
        let mut windows = pending_windows(&batch);
        while windows < settings.max_windows {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(m) => {
                    batch.push(m);
                    windows = pending_windows(&batch);
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
            }
        }
        let mut requests = Vec::new();
        for msg in batch {
            match msg {
                Msg::Forecast { parsed, reply } => requests.push((parsed, reply)),
                Msg::Reload { reply } => {
                    // Requests that came before the reload are answered by the model they
                    // were sent to.
                    answer(&model, std::mem::take(&mut requests), &settings, &metrics);
                    let result = Forecaster::load(&settings.run_dir)
                        .map(|f| {
                            let new = Arc::new(ModelInfo::of(&f, &settings.run_dir));
                            model = Loaded::new(f);
                            *info.write().unwrap_or_else(|e| e.into_inner()) = new.clone();
                            new
                        })
                        .map_err(|e| e.to_string());
                    metrics.reload(result.is_ok());
                    let _ = reply.send(result);
                }
            }
        }
        answer(&model, requests, &settings, &metrics);
    }
}

/// The loaded model with the windows of its own history made once: most requests name series
/// and forecast from the saved history, and those windows never change until a reload.
struct Loaded {
    f: Forecaster,
    saved: Result<Job, String>,
}

impl Loaded {
    fn new(f: Forecaster) -> Self {
        let ids: Vec<usize> = (0..f.history.n_series()).collect();
        let saved = saved_job(&f, &ids);
        Loaded { f, saved }
    }
}

fn pending_windows(batch: &[Msg]) -> usize {
    batch
        .iter()
        .map(|m| match m {
            Msg::Forecast { parsed, .. } => parsed.inputs.len(),
            Msg::Reload { .. } => 0,
        })
        .sum()
}

type Pending = (Parsed, oneshot::Sender<Vec<InputResult>>);

/// Forecasts every input of `requests` and answers each; a panic fails this batch's requests,
/// never the worker.
fn answer(model: &Loaded, requests: Vec<Pending>, settings: &Settings, metrics: &Metrics) {
    if requests.is_empty() {
        return;
    }
    let parsed: Vec<&Parsed> = requests.iter().map(|(p, _)| p).collect();
    let results = catch_unwind(AssertUnwindSafe(|| {
        forecast_all(model, &parsed, settings, metrics)
    }))
    .unwrap_or_else(|_| {
        parsed
            .iter()
            .map(|p| {
                p.inputs
                    .iter()
                    .map(|_| Err("internal error while forecasting this batch".to_string()))
                    .collect()
            })
            .collect()
    });
    metrics.batch(requests.len());
    for ((_, reply), result) in requests.into_iter().zip(results) {
        let _ = reply.send(result);
    }
}

/// Where an input's forecast comes from: window `window` of job `job`.
#[derive(Clone, Copy)]
struct Slot {
    job: usize,
    window: usize,
}

fn forecast_all(
    model: &Loaded,
    requests: &[&Parsed],
    settings: &Settings,
    metrics: &Metrics,
) -> Vec<Vec<InputResult>> {
    let f = &model.f;
    let mut jobs: Vec<Job> = Vec::new();
    // Inputs forecast from the saved history share one job: (request, input, series index).
    let mut saved: Vec<(usize, usize, usize)> = Vec::new();
    let mut slots: Vec<Vec<Result<Option<Slot>, String>>> = Vec::with_capacity(requests.len());
    for (r, parsed) in requests.iter().enumerate() {
        let mut row = Vec::with_capacity(parsed.inputs.len());
        for (i, input) in parsed.inputs.iter().enumerate() {
            let slot = match input {
                Err(e) => Err(e.message.clone()),
                Ok(spec) => match &spec.history {
                    History::Saved => match f.history.series_index(&spec.name) {
                        Some(s) if spec.future.is_empty() => {
                            saved.push((r, i, s));
                            Ok(None)
                        }
                        Some(_) => sent_job(f, spec, &spec_history_of_saved(f, &spec.name))
                            .map(|job| Some(push(&mut jobs, job))),
                        None => Err(format!(
                            "series {:?} is not one the model knows; send its history in `series` with `start_timestamp`",
                            spec.name
                        )),
                    },
                    History::Sent { start, values } => {
                        request_history(f, &spec.name, *start, values)
                            .map_err(|e| e.to_string())
                            .and_then(|panel| sent_job(f, spec, &panel))
                            .map(|job| Some(push(&mut jobs, job)))
                    }
                },
            };
            row.push(slot);
        }
        slots.push(row);
    }
    // One job for every saved-history input: the series' last encoder periods.
    let mut saved_slots = Vec::with_capacity(saved.len());
    if !saved.is_empty() {
        let mut ids: Vec<usize> = saved.iter().map(|&(_, _, s)| s).collect();
        ids.sort_unstable();
        ids.dedup();
        match &model.saved {
            Ok(all) => {
                // The saved job holds every series in the history's order.
                let j = push(&mut jobs, all.pick(&ids)).job;
                for &(r, i, s) in &saved {
                    let w = ids.binary_search(&s).expect("deduplicated from these");
                    saved_slots.push((r, i, Ok(Slot { job: j, window: w })));
                }
            }
            Err(e) => {
                for &(r, i, _) in &saved {
                    saved_slots.push((r, i, Err(e.clone())));
                }
            }
        }
    }
    for (r, i, slot) in saved_slots {
        slots[r][i] = slot.map(Some);
    }
    let windows: usize = jobs.iter().map(|j| j.batch.size).sum();
    let forecasts = match f.run(&jobs, settings.max_windows, false) {
        Ok(f) => f,
        Err(e) => {
            let message = e.to_string();
            return requests
                .iter()
                .map(|p| p.inputs.iter().map(|_| Err(message.clone())).collect())
                .collect();
        }
    };
    metrics.passes(windows, settings.max_windows);
    slots
        .into_iter()
        .zip(requests)
        .map(|(row, parsed)| {
            row.into_iter()
                .map(|slot| {
                    let slot = slot?.expect("every saved input got its slot");
                    let job = &jobs[slot.job];
                    let table = &forecasts[slot.job].0;
                    let r = &table.rows[slot.window];
                    let h = parsed.horizon;
                    Ok(SeriesForecast {
                        start: job.panel.grid.timestamp(r.cutoff + 1),
                        mean: r.mean[..h].to_vec(),
                        quantiles: parsed
                            .levels
                            .iter()
                            .map(|&l| r.quantiles[l][..h].to_vec())
                            .collect(),
                    })
                })
                .collect()
        })
        .collect()
}

fn push(jobs: &mut Vec<Job>, job: Job) -> Slot {
    jobs.push(job);
    Slot {
        job: jobs.len() - 1,
        window: 0,
    }
}

/// The last encoder periods of the saved series `ids`, as one job.
fn saved_job(f: &Forecaster, ids: &[usize]) -> Result<Job, String> {
    let panel = tail(f, &f.history.select_series(ids).map_err(|e| e.to_string())?)?;
    f.job(&panel, None).map_err(|e| e.to_string())
}

fn tail(f: &Forecaster, panel: &Panel) -> Result<Panel, String> {
    let e = f.artifact.features.spec.encoder_length;
    let len = panel.len();
    // Each series is forecast from its own last observation: keep the encoder before the
    // earliest of them (a series that ended early keeps its last periods too).
    let end = (0..panel.n_series())
        .map(|s| panel.span(s).end)
        .filter(|&end| end > 0)
        .min()
        .unwrap_or(len);
    panel
        .periods(end.saturating_sub(e), len)
        .map_err(|e| e.to_string())
}

fn spec_history_of_saved(f: &Forecaster, name: &str) -> Panel {
    let s = f.history.series_index(name).expect("looked up before");
    f.history
        .select_series(&[s])
        .expect("an index of the history")
}

/// A job for one input with its own history (and its future known inputs, if any).
fn sent_job(f: &Forecaster, spec: &InputSpec, history: &Panel) -> Result<Job, String> {
    let history = tail(f, history)?;
    let future = if spec.future.is_empty() {
        None
    } else {
        let mut inputs = FutureInputs::new(
            format!("inputs[{:?}].future", spec.name),
            spec.future.iter().map(|(n, _)| n.clone()).collect(),
        );
        for (j, (_, values)) in spec.future.iter().enumerate() {
            for (k, v) in values.iter().enumerate() {
                let t = history.grid.timestamp(history.len() + k);
                inputs.set(&spec.name, t, j, *v);
            }
        }
        Some(inputs)
    };
    f.job(&history, future.as_ref()).map_err(|e| e.to_string())
}
