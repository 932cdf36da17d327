//! One global TFT over every window of a panel: Adam, clipping by the global gradient norm,
//! warm-up and ReduceLROnPlateau, early stopping, validation metrics on the original scale every
//! epoch. A [`Trainer`] runs one epoch at a time, so a caller (the CLI, a tuner's scheduler) can
//! stop after any epoch, drop it, and continue later from its checkpoint with a larger budget.
//! Seeded per run: the same config and data give the same loss curve, whatever else runs in the
//! process at the same time.

use std::sync::Mutex;
use std::time::Instant;

use fusecast_data::window::{Part, WindowDataset, Windows};
use fusecast_model::burn::module::Module;
use fusecast_model::burn::optim::decay::WeightDecayConfig;
use fusecast_model::burn::optim::{AdamConfig, ModuleOptimizer};
use fusecast_model::burn::tensor::Device;
use fusecast_model::{Tft, TftConfig};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::checkpoint::{Checkpointing, PartialEpoch, RunIdentity, TrainerState};
use crate::clip::clip_global_norm;
use crate::inputs::tft_config;
use crate::step::{initialize, series_of};
use crate::validation::evaluate;

pub use crate::config::{parse_devices, Monitor, TrainConfig};
pub use crate::error::TrainError;
pub use crate::metrics::EpochMetrics;
pub use crate::step::shard_step;
pub use crate::validation::Evaluation;

/// What the caller of [`train`] wants after an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Continue,
    Stop,
}

impl From<()> for Control {
    fn from(_: ()) -> Self {
        Control::Continue
    }
}

pub struct Trained {
    pub model: Tft,
    pub history: Vec<EpochMetrics>,
    pub best_epoch: usize,
}

impl Trained {
    /// The metrics of the best epoch.
    pub fn best(&self) -> &EpochMetrics {
        crate::metrics::epoch_of(&self.history, self.best_epoch)
    }
}

/// Parameters are drawn from the device RNG, which the whole process shares: one run at a time
/// seeds it and draws, so concurrent runs each get the initial weights their seed gives.
static INIT: Mutex<()> = Mutex::new(());

/// What an epoch's steps add up to, for its metrics.
struct EpochSums {
    epoch: usize,
    loss_sum: f64,
    samples: usize,
    grad_norm: f64,
    train_secs: f64,
}

/// A training run in progress, between epochs.
pub struct Trainer<'a> {
    ds: &'a WindowDataset<'a>,
    cfg: TrainConfig,
    model_cfg: TftConfig,
    devices: Vec<Device>,
    checkpoints: Option<Checkpointing>,
    train_windows: Windows,
    model: Tft,
    optim: ModuleOptimizer,
    state: TrainerState,
    best_model: Tft,
    order: Vec<usize>,
    started: Instant,
    /// Time already spent before this process: the finished epochs, and the part of an epoch a
    /// mid-epoch checkpoint resumes (its training time; the wall time of that part is not kept).
    wall_before: f64,
}

impl<'a> Trainer<'a> {
    /// A new run, or with `checkpoints.resume` the run continued from its last checkpoint (a
    /// checkpoint of another run, by [`RunIdentity`], is refused naming what differs).
    pub fn new(
        ds: &'a WindowDataset<'a>,
        hyper: &TftConfig,
        cfg: &TrainConfig,
        checkpoints: Option<Checkpointing>,
    ) -> Result<Self, TrainError> {
        cfg.validate()?;
        let devices: Vec<Device> = parse_devices(&cfg.devices)?
            .into_iter()
            .map(|d| d.autodiff())
            .collect();
        let model_cfg = tft_config(&ds.layout, hyper);
        let device = devices[0].clone();
        let identity = RunIdentity::new(hyper, cfg, ds);
        let train_windows = ds.windows(Part::Train)?;
        if train_windows.is_empty() {
            return Err(TrainError::Invalid("no training windows".into()));
        }
        let resumed = match &checkpoints {
            Some(c) if c.resume => c.load_last(&model_cfg, &identity, &device)?,
            Some(c) => {
                c.clear()?;
                None
            }
            None => None,
        };
        let (model, optim, state, best_model) = match resumed {
            Some(r) => r,
            None => {
                let model = {
                    let _one_at_a_time = INIT.lock().unwrap_or_else(|e| e.into_inner());
                    device.seed(cfg.seed);
                    // Parameters initialize lazily, on first read: read them all now, so that
                    // replicas forked from the model share its values.
                    let model = Tft::new(&model_cfg, &device)?;
                    initialize(&model);
                    model
                };
                let mut adam = AdamConfig::new().with_epsilon(1e-8);
                if cfg.weight_decay > 0.0 {
                    adam = adam
                        .with_weight_decay(Some(WeightDecayConfig::new(cfg.weight_decay as f32)));
                }
                let state = TrainerState {
                    identity: identity.clone(),
                    epoch: 0,
                    step: 0,
                    lr: cfg.learning_rate,
                    best: None,
                    best_epoch: 0,
                    since_best: 0,
                    since_plateau: 0,
                    history: Vec::new(),
                    finished: false,
                    partial: None,
                };
                let best = model.clone();
                (model, adam.init(), state, best)
            }
        };
        let wall_before = state.history.last().map_or(0.0, |m| m.wall_s)
            + state.partial.as_ref().map_or(0.0, |p| p.train_secs);
        Ok(Trainer {
            ds,
            cfg: cfg.clone(),
            model_cfg,
            devices,
            checkpoints,
            order: (0..train_windows.len()).collect(),
            train_windows,
            model,
            optim,
            state,
            best_model,
            started: Instant::now(),
            wall_before,
        })
    }

    /// Epochs finished so far (resumed ones included).
    pub fn epochs_done(&self) -> usize {
        self.state.epoch
    }

    pub fn history(&self) -> &[EpochMetrics] {
        &self.state.history
    }

    pub fn best_epoch(&self) -> usize {
        self.state.best_epoch
    }

    /// The model of the best epoch so far.
    pub fn best_model(&self) -> &Tft {
        &self.best_model
    }

    /// The model config with the data's variables.
    pub fn model_config(&self) -> &TftConfig {
        &self.model_cfg
    }

    /// Raises (or lowers) the epoch budget: a scheduler continues a paused trial this way.
    pub fn set_max_epochs(&mut self, max_epochs: usize) {
        self.cfg.max_epochs = max_epochs;
    }

    /// Early stopping ended the run, or a budget (epochs, steps, time) is spent.
    pub fn is_finished(&self) -> bool {
        self.state.finished
            || self.state.epoch >= self.cfg.max_epochs
            || self.cfg.max_steps.is_some_and(|m| self.state.step >= m)
            || self
                .cfg
                .time_budget_s
                .is_some_and(|b| self.started.elapsed().as_secs_f64() >= b)
    }

    /// Trains one epoch and ends it: validation, learning-rate plateau, early stopping, the
    /// checkpoint. `on_step` sees each step and its loss.
    pub fn run_epoch(
        &mut self,
        on_step: &mut dyn FnMut(usize, f64),
    ) -> Result<EpochMetrics, TrainError> {
        if self.is_finished() {
            return Err(TrainError::Invalid(format!(
                "the run is finished after {} epochs; raise train.max_epochs to continue",
                self.state.epoch
            )));
        }
        let sums = self.train_epoch(on_step)?;
        self.end_epoch(sums)
    }

    /// The steps of the next epoch, skipping those a mid-epoch checkpoint already did.
    fn train_epoch(
        &mut self,
        on_step: &mut dyn FnMut(usize, f64),
    ) -> Result<EpochSums, TrainError> {
        let (cfg, ds) = (&self.cfg, self.ds);
        let epoch = self.state.epoch + 1;
        // The order of an epoch depends only on (seed, epoch): a resumed run replays it exactly.
        self.order.sort_unstable();
        self.order.shuffle(&mut StdRng::seed_from_u64(
            cfg.seed.wrapping_add(epoch as u64),
        ));
        let epoch_start = Instant::now();
        let done = self.state.partial.take().unwrap_or(PartialEpoch {
            batches: 0,
            loss_sum: 0.0,
            samples: 0,
            grad_norm: 0.0,
            train_secs: 0.0,
        });
        let (mut loss_sum, mut samples, mut grad_norm) =
            (done.loss_sum, done.samples, done.grad_norm);
        let batches = self
            .order
            .chunks(cfg.batch_size)
            .take(cfg.batches_per_epoch.unwrap_or(usize::MAX))
            .skip(done.batches);
        for (batch_index, chunk) in (done.batches + 1..).zip(batches) {
            if cfg.max_steps.is_some_and(|m| self.state.step >= m) {
                break;
            }
            let ws: Vec<_> = chunk.iter().map(|i| self.train_windows.get(*i)).collect();
            self.state.step += 1;
            let step = self.state.step;
            let (value, mut grads) = shard_step(
                &self.model,
                ds,
                &ws,
                &self.devices,
                &self.model_cfg.quantiles,
                (cfg.seed, step),
            );
            if let Some(max) = cfg.grad_clip_norm {
                grad_norm = clip_global_norm(&self.model, &mut grads, max);
            }
            if !value.is_finite() || !grad_norm.is_finite() {
                return Err(TrainError::NonFinite {
                    loss: value as f64,
                    grad_norm,
                    step,
                    epoch,
                    series: series_of(ds, &ws),
                });
            }
            let step_lr = if step <= cfg.warmup_steps {
                self.state.lr * step as f64 / cfg.warmup_steps as f64
            } else {
                self.state.lr
            };
            self.model = self.optim.step(step_lr, self.model.clone(), grads);
            loss_sum += value as f64 * ws.len() as f64;
            samples += ws.len();
            if let (Some(c), Some(every)) = (&self.checkpoints, cfg.checkpoint_every_steps) {
                if step.is_multiple_of(every) {
                    self.state.partial = Some(PartialEpoch {
                        batches: batch_index,
                        loss_sum,
                        samples,
                        grad_norm,
                        train_secs: done.train_secs + epoch_start.elapsed().as_secs_f64(),
                    });
                    c.save(&self.model, &self.optim, &self.state, None)?;
                    self.state.partial = None;
                }
            }
            on_step(step, value as f64);
        }
        Ok(EpochSums {
            epoch,
            loss_sum,
            samples,
            grad_norm,
            train_secs: done.train_secs + epoch_start.elapsed().as_secs_f64(),
        })
    }

    fn end_epoch(&mut self, sums: EpochSums) -> Result<EpochMetrics, TrainError> {
        let EpochSums {
            epoch,
            loss_sum,
            samples,
            grad_norm,
            train_secs,
        } = sums;
        let cfg = &self.cfg;
        let eval = evaluate(
            &self.model.valid(),
            self.ds,
            Part::Validation,
            cfg.batch_size,
            &self.devices[0],
        )?;
        let metrics = EpochMetrics {
            epoch,
            step: self.state.step,
            train_loss: loss_sum / samples.max(1) as f64,
            val_loss: eval.loss,
            q_risk50: eval.q_risk50,
            q_risk90: eval.q_risk90,
            mae: eval.mae,
            lr: self.state.lr,
            grad_norm,
            samples_per_s: samples as f64 / train_secs.max(1e-9),
            wall_s: self.wall_before + self.started.elapsed().as_secs_f64(),
            checkpoint: self
                .checkpoints
                .as_ref()
                .map(|c| c.epoch_dir(epoch).display().to_string()),
        };
        let state = &mut self.state;
        state.history.push(metrics.clone());
        state.epoch = epoch;
        let value = cfg.monitor.of(&metrics);
        let improved = state.best.is_none_or(|b| value < b - 1e-12);
        if improved {
            (
                state.best,
                state.best_epoch,
                state.since_best,
                state.since_plateau,
            ) = (Some(value), epoch, 0, 0);
            self.best_model = self.model.clone();
        } else {
            state.since_best += 1;
            state.since_plateau += 1;
            if state.since_plateau >= cfg.plateau_patience {
                state.lr = (state.lr * cfg.plateau_factor).max(cfg.min_learning_rate);
                state.since_plateau = 0;
            }
        }
        state.finished = state.since_best >= cfg.early_stopping_patience;
        if let Some(c) = &self.checkpoints {
            c.save(
                &self.model,
                &self.optim,
                &self.state,
                improved.then_some(&self.best_model),
            )?;
        }
        Ok(metrics)
    }

    /// The best model with the whole curve.
    pub fn into_trained(self) -> Trained {
        Trained {
            model: self.best_model,
            history: self.state.history,
            best_epoch: self.state.best_epoch,
        }
    }
}

/// Trains one global model over every training window until a budget, early stopping or
/// `on_epoch` says stop. `on_epoch` sees each epoch's metrics after its checkpoint is written
/// (so a listener can rely on it existing), `on_step` each step's loss. With `checkpoints`, a
/// checkpoint is written after every epoch and, with `resume`, training continues from the last.
pub fn train<R: Into<Control>>(
    ds: &WindowDataset,
    hyper: &TftConfig,
    cfg: &TrainConfig,
    checkpoints: Option<&Checkpointing>,
    mut on_epoch: impl FnMut(&EpochMetrics, &Tft) -> R,
    mut on_step: impl FnMut(usize, f64),
) -> Result<Trained, TrainError> {
    if cfg.max_epochs == 0 {
        return Err(TrainError::config(
            "max_epochs",
            "must be at least 1 to train",
        ));
    }
    let mut trainer = Trainer::new(ds, hyper, cfg, checkpoints.cloned())?;
    while !trainer.is_finished() {
        let metrics = trainer.run_epoch(&mut on_step)?;
        if on_epoch(&metrics, &trainer.model).into() == Control::Stop {
            break;
        }
    }
    Ok(trainer.into_trained())
}
