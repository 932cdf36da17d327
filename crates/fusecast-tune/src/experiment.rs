//! Running an experiment: trials packed onto the device pool, `max_concurrent` at a time, in
//! rounds of one epoch each. A round's epochs run in parallel (one thread per trial, each
//! trial's replicas on its own devices); their results reach the scheduler in the order the
//! trials started, so its decisions never depend on which thread finished first. That makes an
//! experiment reproducible and resumable exactly: after a kill, the rounds are replayed, each
//! trial's epochs read back from its checkpoints instead of trained again, and the scheduler
//! sees the same results in the same order and decides the same.

use std::path::Path;
use std::time::Instant;

use fusecast_data::prepare::Prepared;
use fusecast_pipeline::artifact::ModelArtifact;
use fusecast_pipeline::events::{Event, Sink, TrialRow, TrialStatus};
use fusecast_pipeline::stages::prepare::{window_counts, write_run_dir};
use fusecast_pipeline::stages::train::dataset_and_model;
use fusecast_pipeline::LoadedConfig;
use fusecast_train::checkpoint::Checkpointing;
use fusecast_train::metrics::EpochMetrics;
use fusecast_train::trainer::Trainer;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::error::TuneError;
use crate::promotion::{Promotion, PromotionSettings};
use crate::scheduler::{
    Asha, AshaSettings, Contests, Decision, MedianSettings, MedianStopping, Mode, Scheduler,
};
use crate::space::{describe, SchedulerKind, TuneConfig};
use crate::store::{Log, LogEntry};
use crate::trial::{DataCache, TrialSpec};

/// Where a trial stands and what it did.
#[derive(Clone, Debug)]
pub struct TrialState {
    pub status: TrialStatus,
    pub history: Vec<EpochMetrics>,
    pub message: Option<String>,
    /// Seconds from the trial's start to its first training step (data stage excluded: it is
    /// prepared once per experiment).
    pub setup_s: Option<f64>,
}

impl TrialState {
    fn new() -> Self {
        TrialState {
            status: TrialStatus::Pending,
            history: Vec::new(),
            message: None,
            setup_s: None,
        }
    }
}

/// The scheduler the settings describe; `max_epochs` is ASHA's `max_t` when not set.
pub fn scheduler(tune: &TuneConfig, max_epochs: usize) -> Scheduler {
    let s = &tune.settings;
    match s.scheduler {
        SchedulerKind::Fifo => Scheduler::Fifo,
        SchedulerKind::Asha => Scheduler::Asha(Asha::new(AshaSettings {
            grace_period: s.grace_period as f64,
            reduction_factor: s.reduction_factor,
            max_t: s.max_t.unwrap_or(max_epochs) as f64,
            brackets: s.brackets,
            stop_last_trials: true,
            mode: Mode::Min,
        })),
        SchedulerKind::Median => Scheduler::Median(MedianStopping::new(MedianSettings {
            grace_period: s.grace_period as f64,
            min_samples_required: s.min_samples_required,
            min_time_slice: 0.0,
            hard_stop: true,
            mode: Mode::Min,
        })),
        SchedulerKind::AshaPromotion => Scheduler::Promotion(Promotion::new(PromotionSettings {
            grace_period: s.grace_period as f64,
            reduction_factor: s.reduction_factor,
            max_t: s.max_t.unwrap_or(max_epochs) as f64,
            mode: Mode::Min,
        })),
    }
}

/// What one trial's epoch gave.
enum EpochOutcome {
    Done {
        metrics: EpochMetrics,
        replayed: bool,
        /// The trainer is done: its budget or early stopping.
        finished: bool,
        history: Vec<EpochMetrics>,
        setup_s: Option<f64>,
    },
    Failed(String),
}

/// Epoch `epoch` of a trial: read back from its checkpoint when an earlier (killed) run of the
/// experiment already trained it, else trained from the checkpoint before it.
fn trial_epoch(
    spec: &TrialSpec,
    prepared: &Prepared,
    devices: &[String],
    epoch: usize,
) -> Result<EpochOutcome, String> {
    let t0 = Instant::now();
    let mut c = spec.config.clone();
    c.train.devices = devices.to_vec();
    let (ds, model_config) = dataset_and_model(&c, &prepared.panel).map_err(|e| e.to_string())?;
    let dir = c.run_dir();
    let fresh = !dir.checkpoints().exists();
    if fresh {
        let counts = window_counts(&ds).map_err(|e| e.to_string())?;
        write_run_dir(&dir, &c, prepared, &ds, counts).map_err(|e| e.to_string())?;
    }
    let artifact = ModelArtifact::of(&c, model_config, &ds);
    let checkpoints = Checkpointing {
        dir: dir.checkpoints(),
        best_dir: dir.best(),
        best_files: artifact.files(),
        keep_last: 2,
        resume: !fresh,
    };
    let mut trainer =
        Trainer::new(&ds, &c.model, &c.train, Some(checkpoints)).map_err(|e| e.to_string())?;
    let done = trainer.epochs_done();
    if done >= epoch {
        let history = trainer.history().to_vec();
        return Ok(EpochOutcome::Done {
            metrics: history[epoch - 1].clone(),
            replayed: true,
            finished: done == epoch && trainer.is_finished(),
            history,
            setup_s: None,
        });
    }
    if done + 1 != epoch {
        return Err(format!(
            "{}: the checkpoints hold {done} epochs, the experiment expects {}",
            dir.checkpoints().display(),
            epoch - 1
        ));
    }
    let mut first_step = None;
    let metrics = trainer
        .run_epoch(&mut |_, _| {
            first_step.get_or_insert_with(|| t0.elapsed().as_secs_f64());
        })
        .map_err(|e| e.to_string())?;
    let history = trainer.history().to_vec();
    let lines: String = history
        .iter()
        .map(|m| serde_json::to_string(m).expect("metrics serialize") + "\n")
        .collect();
    fusecast_pipeline::RunDir::write_atomic(&dir.metrics_jsonl(), lines.as_bytes())
        .map_err(|e| e.to_string())?;
    Ok(EpochOutcome::Done {
        metrics,
        replayed: false,
        finished: trainer.is_finished(),
        history,
        setup_s: (epoch == 1).then_some(first_step).flatten(),
    })
}

/// The machine's devices: one `cpu` per core.
pub fn default_devices() -> Vec<String> {
    let n = std::thread::available_parallelism().map_or(1, |n| n.get());
    vec!["cpu".to_string(); n]
}

/// The trials a trial's metric is compared with (see [`Contests`]): those for the same cluster
/// of the same assignment under `per_cluster`, else all.
fn contest(spec: &TrialSpec) -> String {
    match spec.cluster {
        Some(c) => format!("{} cluster {c}", spec.group),
        None => "all".to_string(),
    }
}

pub struct Run<'a> {
    pub base: &'a LoadedConfig,
    pub tune: &'a TuneConfig,
    pub specs: &'a [TrialSpec],
    pub cache: &'a DataCache,
    pub log: &'a Path,
    /// Continuing an experiment: the log is appended to, not started anew.
    pub resume: bool,
    /// Errors an earlier run of the experiment met: (trial, epoch, message).
    pub known_errors: Vec<(String, usize, String)>,
}

impl Run<'_> {
    /// Runs every trial to its end; returns their states (in trial order).
    pub fn execute(
        &self,
        sink: &dyn Sink,
        mut on_round: impl FnMut(&[TrialState]) -> Result<(), TuneError>,
    ) -> Result<Vec<TrialState>, TuneError> {
        let s = &self.tune.settings;
        let devices = s.devices.clone().unwrap_or_else(default_devices);
        let slots = (devices.len() / s.devices_per_trial).max(1);
        let concurrent = s.max_concurrent.unwrap_or(slots);
        if concurrent > slots {
            sink.emit(Event::Warning {
                message: format!(
                    "tune.max_concurrent = {concurrent} trials x {} devices each would oversubscribe the {} devices; running {slots} at a time",
                    s.devices_per_trial,
                    devices.len()
                ),
            });
        }
        let concurrent = concurrent.min(slots);
        let max_epochs = self.base.config.train.max_epochs;
        let template = scheduler(self.tune, max_epochs);
        let max_t = match &template {
            Scheduler::Asha(_) | Scheduler::Promotion(_) => s.max_t.unwrap_or(max_epochs),
            _ => usize::MAX,
        };
        // Brackets drawn as Ray draws them (a softmax over their rung counts), from our seed.
        let mut rng = StdRng::seed_from_u64(s.seed ^ 0x5EED_B4AC_7E75);
        let probabilities = match &template {
            Scheduler::Asha(a) => a.bracket_probabilities(),
            _ => vec![1.0],
        };
        let mut sched = Contests::new(template);
        let by_promotion = sched.resumes_by_promotion();
        for spec in self.specs {
            let u: f64 = rng.random();
            let mut acc = 0.0;
            let bracket = probabilities
                .iter()
                .position(|p| {
                    acc += p;
                    u < acc
                })
                .unwrap_or(probabilities.len() - 1);
            sched.on_add(&spec.id, &contest(spec), bracket);
        }
        let mut log = Log::open(self.log, !self.resume)?;
        let mut states: Vec<TrialState> = self.specs.iter().map(|_| TrialState::new()).collect();
        // Running trials in the order they started, each with its slot.
        let mut running: Vec<(usize, usize)> = Vec::new();
        loop {
            let mut free: Vec<usize> = (0..concurrent)
                .filter(|k| running.iter().all(|(_, s)| s != k))
                .collect();
            while let Some(slot) = free.first().copied() {
                // Promotions first (the paper's rule), then new trials; a paused trial takes
                // any free slot only where no promotion rule holds it back.
                let promoted = sched.promote().map(|id| {
                    self.specs
                        .iter()
                        .position(|spec| spec.id == id)
                        .expect("the scheduler promotes only trials of this experiment")
                });
                let next = promoted
                    .or_else(|| states.iter().position(|t| t.status == TrialStatus::Pending))
                    .or_else(|| {
                        (!by_promotion)
                            .then(|| states.iter().position(|t| t.status == TrialStatus::Paused))
                            .flatten()
                    });
                let Some(i) = next else { break };
                debug_assert!(
                    promoted.is_none() || states[i].status == TrialStatus::Paused,
                    "a promoted trial is paused"
                );
                states[i].status = TrialStatus::Running;
                running.push((i, slot));
                free.remove(0);
            }
            if running.is_empty() {
                break;
            }
            let outcomes: Vec<Result<EpochOutcome, String>> = std::thread::scope(|scope| {
                let handles: Vec<_> = running
                    .iter()
                    .map(|&(i, slot)| {
                        let spec = &self.specs[i];
                        let epoch = states[i].history.len() + 1;
                        let known = self
                            .known_errors
                            .iter()
                            .find(|(t, e, _)| *t == spec.id && *e == epoch)
                            .map(|(_, _, m)| m.clone());
                        let devices =
                            &devices[slot * s.devices_per_trial..(slot + 1) * s.devices_per_trial];
                        let prepared = self.cache.get(&spec.config);
                        scope.spawn(move || {
                            if let Some(m) = known {
                                return Ok(EpochOutcome::Failed(m));
                            }
                            let Some(prepared) = prepared else {
                                return Err("the trial's data were not prepared".to_string());
                            };
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                trial_epoch(spec, prepared, devices, epoch)
                            }))
                            .unwrap_or_else(|p| {
                                Err(format!(
                                    "panicked: {}",
                                    p.downcast_ref::<String>()
                                        .cloned()
                                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                                        .unwrap_or_default()
                                ))
                            })
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("trial thread"))
                    .collect()
            });
            let mut still = Vec::new();
            for (&(i, slot), outcome) in running.iter().zip(outcomes) {
                let id = self.specs[i].id.clone();
                let outcome = outcome.unwrap_or_else(EpochOutcome::Failed);
                let (metrics, finished, replayed) = match outcome {
                    EpochOutcome::Failed(message) => {
                        let epoch = states[i].history.len() + 1;
                        states[i].status = TrialStatus::Error;
                        states[i].message = Some(message.clone());
                        sched.on_complete(&id, None, None);
                        ended(&mut log, sink, id, TrialStatus::Error, epoch, Some(message))?;
                        continue;
                    }
                    EpochOutcome::Done {
                        metrics,
                        replayed,
                        finished,
                        history,
                        setup_s,
                    } => {
                        states[i].history = history[..metrics.epoch].to_vec();
                        if setup_s.is_some() {
                            states[i].setup_s = setup_s;
                        }
                        (metrics, finished, replayed)
                    }
                };
                let value = s.metric.of(&metrics);
                let t = metrics.epoch as f64;
                let waiting = states
                    .iter()
                    .any(|t| matches!(t.status, TrialStatus::Pending | TrialStatus::Paused));
                let (status, decision) = if finished {
                    sched.on_complete(&id, Some(t), Some(value));
                    (Some(TrialStatus::Terminated), Decision::Continue)
                } else {
                    let d = sched.on_result(&id, Some(t), Some(value), waiting);
                    match d {
                        Decision::Continue => (None, d),
                        Decision::Pause => (Some(TrialStatus::Paused), d),
                        Decision::Stop => {
                            sched.on_complete(&id, Some(t), Some(value));
                            let reached = metrics.epoch >= max_t;
                            (
                                Some(if reached {
                                    TrialStatus::Terminated
                                } else {
                                    TrialStatus::Stopped
                                }),
                                d,
                            )
                        }
                    }
                };
                log.append(&LogEntry::Result {
                    trial: id.clone(),
                    epoch: metrics.epoch,
                    metric: value,
                    decision,
                    replayed,
                })?;
                match status {
                    None => still.push((i, slot)),
                    Some(TrialStatus::Paused) => states[i].status = TrialStatus::Paused,
                    Some(st) => {
                        states[i].status = st;
                        ended(&mut log, sink, id, st, metrics.epoch, None)?;
                    }
                }
            }
            running = still;
            sink.emit(table(self.tune, self.specs, &states));
            on_round(&states)?;
        }
        // Trials left paused that no promotion will continue: the scheduler stopped them.
        let mut left = false;
        for (spec, state) in self.specs.iter().zip(states.iter_mut()) {
            if state.status != TrialStatus::Paused {
                continue;
            }
            left = true;
            state.status = TrialStatus::Stopped;
            let epoch = state.history.len();
            ended(
                &mut log,
                sink,
                spec.id.clone(),
                TrialStatus::Stopped,
                epoch,
                None,
            )?;
        }
        if left {
            sink.emit(table(self.tune, self.specs, &states));
            on_round(&states)?;
        }
        Ok(states)
    }
}

/// A trial's end, in the log (what a resume reads back) and as an event.
fn ended(
    log: &mut Log,
    sink: &dyn Sink,
    trial: String,
    status: TrialStatus,
    epoch: usize,
    message: Option<String>,
) -> Result<(), TuneError> {
    log.append(&LogEntry::Ended {
        trial: trial.clone(),
        status,
        epoch,
        message: message.clone(),
    })?;
    sink.emit(Event::TrialEnded {
        trial,
        status,
        message,
    });
    Ok(())
}

/// The live table: every trial's status, values, epochs, last and best metric, time.
pub fn table(tune: &TuneConfig, specs: &[TrialSpec], states: &[TrialState]) -> Event {
    let metric = tune.settings.metric;
    let rows = specs
        .iter()
        .zip(states)
        .map(|(spec, st)| TrialRow {
            trial: spec.id.clone(),
            status: st.status,
            params: describe(&spec.params),
            epochs: st.history.len(),
            last: st.history.last().map(|m| metric.of(m)),
            best: metric.best(&st.history).map(|(_, v)| v),
            seconds: st.history.last().map_or(0.0, |m| m.wall_s),
        })
        .collect();
    Event::Trials {
        metric: metric.name().to_string(),
        rows,
    }
}
