//! One global TFT over every window of a panel on one device: Adam, clipping by the global
//! gradient norm, warm-up and ReduceLROnPlateau, early stopping, validation metrics on the
//! original scale every epoch. Seeded: the same config and data give the same loss curve.

use std::time::Instant;

use fusecast_data::window::{Part, WindowDataset};
use fusecast_model::burn::module::Module;
use fusecast_model::burn::optim::decay::WeightDecayConfig;
use fusecast_model::burn::optim::{AdamConfig, GradientsParams};
use fusecast_model::burn::tensor::Device;
use fusecast_model::loss::{q_risk, quantile_loss};
use fusecast_model::{Tft, TftConfig};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{Checkpointing, PartialEpoch, RunIdentity, TrainerState};
use crate::clip::clip_global_norm;
use crate::inputs::{tft_config, tft_input, tft_target};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    pub learning_rate: f64,
    pub batch_size: usize,
    pub max_epochs: usize,
    /// Training batches per epoch (PF's `limit_train_batches`); all windows when absent.
    pub batches_per_epoch: Option<usize>,
    pub max_steps: Option<usize>,
    /// Stop after the epoch that crosses this many seconds.
    pub time_budget_s: Option<f64>,
    /// Clip the global gradient norm to this (PF's 0.1); off when absent.
    pub grad_clip_norm: Option<f64>,
    pub weight_decay: f64,
    /// Linear warm-up of the learning rate over this many steps.
    pub warmup_steps: usize,
    /// ReduceLROnPlateau on the validation loss.
    pub plateau_patience: usize,
    pub plateau_factor: f64,
    pub min_learning_rate: f64,
    /// Stop when the validation loss has not improved for this many epochs.
    pub early_stopping_patience: usize,
    pub seed: u64,
    /// Also write a checkpoint every this many steps inside an epoch (epochs always end with one).
    pub checkpoint_every_steps: Option<usize>,
    /// Devices the global batch is split across, one model replica (and thread) each: `cpu`
    /// (burn's flex backend), `wgpu` (the default adapter) or `wgpu:N` (discrete GPU N).
    pub devices: Vec<String>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            learning_rate: 3e-3,
            batch_size: 128,
            max_epochs: 30,
            batches_per_epoch: None,
            max_steps: None,
            time_budget_s: None,
            grad_clip_norm: Some(0.1),
            weight_decay: 0.0,
            warmup_steps: 0,
            plateau_patience: 4,
            plateau_factor: 0.5,
            min_learning_rate: 1e-5,
            early_stopping_patience: 10,
            seed: 42,
            checkpoint_every_steps: None,
            devices: vec!["cpu".into()],
        }
    }
}

/// One line of `metrics.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    pub epoch: usize,
    pub step: usize,
    pub train_loss: f64,
    pub val_loss: f64,
    /// On the original scale, over all validation windows and steps.
    pub q_risk50: f64,
    pub q_risk90: f64,
    pub mae: f64,
    pub lr: f64,
    pub grad_norm: f64,
    pub samples_per_s: f64,
    pub wall_s: f64,
    /// The checkpoint written after this epoch, when checkpointing.
    pub checkpoint: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Data(#[from] fusecast_data::DataError),
    #[error(transparent)]
    Model(#[from] fusecast_model::config::ConfigError),
    #[error("{0}")]
    Invalid(String),
    #[error("the loss or gradient norm became {loss} at step {step} (epoch {epoch}); the batch held series {series}. The last good state is kept; lower the learning rate or check the data")]
    NonFinite {
        loss: f32,
        step: usize,
        epoch: usize,
        series: String,
    },
}

pub struct Trained {
    pub model: Tft,
    pub history: Vec<EpochMetrics>,
    pub best_epoch: usize,
}

/// Validation (or test) loss and metrics of `model` over a part of the split.
pub struct Evaluation {
    pub loss: f64,
    pub q_risk50: f64,
    pub q_risk90: f64,
    pub mae: f64,
}

fn nearest(quantiles: &[f64], q: f64) -> usize {
    (0..quantiles.len())
        .min_by(|a, b| {
            (quantiles[*a] - q)
                .abs()
                .partial_cmp(&(quantiles[*b] - q).abs())
                .expect("finite")
        })
        .expect("quantiles exist")
}

pub fn evaluate(
    model: &Tft,
    ds: &WindowDataset,
    part: Part,
    batch_size: usize,
    device: &Device,
) -> Result<Evaluation, TrainError> {
    let windows = ds.windows(part)?;
    if windows.is_empty() {
        return Err(TrainError::Invalid(format!(
            "no {part:?} windows: increase the split's periods"
        )));
    }
    let q = &model.config().quantiles;
    let (i50, i90) = (nearest(q, 0.5), nearest(q, 0.9));
    let (mut loss_sum, mut actual, mut p50, mut p90) = (0.0, Vec::new(), Vec::new(), Vec::new());
    let all: Vec<usize> = (0..windows.len()).collect();
    for chunk in all.chunks(batch_size) {
        let ws: Vec<_> = chunk.iter().map(|i| windows.get(*i)).collect();
        let batch = ds.batch(&ws);
        let out = model.forward(tft_input(&batch, &ds.layout, device));
        let pred: Vec<f32> = out
            .prediction
            .clone()
            .into_data()
            .try_to_vec()
            .expect("float output");
        let loss: f32 = quantile_loss(out.prediction, tft_target(&batch, device), q).into_scalar();
        loss_sum += loss as f64 * ws.len() as f64;
        for (i, w) in ws.iter().enumerate() {
            for k in 0..batch.horizon {
                let row = (i * batch.horizon + k) * q.len();
                actual.push(ds.panel.values(w.series)[w.decoder_start + k]);
                p50.push(ds.scaler.unscale(w.series, pred[row + i50] as f64));
                p90.push(ds.scaler.unscale(w.series, pred[row + i90] as f64));
            }
        }
    }
    let mae = actual
        .iter()
        .zip(&p50)
        .map(|(a, p)| (a - p).abs())
        .sum::<f64>()
        / actual.len() as f64;
    Ok(Evaluation {
        loss: loss_sum / windows.len() as f64,
        q_risk50: q_risk(&actual, &p50, 0.5),
        q_risk90: q_risk(&actual, &p90, 0.9),
        mae,
    })
}

/// The distinct series of a batch, for error messages (the first 20).
fn series_of(ds: &WindowDataset, windows: &[fusecast_data::window::Window]) -> String {
    let mut ids: Vec<&str> = windows
        .iter()
        .map(|w| ds.panel.series[w.series].as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let more = ids.len().saturating_sub(20);
    let mut text = ids.into_iter().take(20).collect::<Vec<_>>().join(", ");
    if more > 0 {
        text.push_str(&format!(" and {more} more"));
    }
    text
}

/// Forces the lazy initialization of every parameter.
pub fn initialize<M: Module>(model: &M) {
    struct Touch;
    impl fusecast_model::burn::module::ModuleVisitor for Touch {
        fn visit_float<const D: usize>(
            &mut self,
            param: &fusecast_model::burn::module::Param<fusecast_model::burn::tensor::Tensor<D>>,
        ) {
            let _ = param.val();
        }
    }
    model.visit(&mut Touch);
}

/// The devices named in `train.devices`.
pub fn parse_devices(names: &[String]) -> Result<Vec<Device>, TrainError> {
    use fusecast_model::burn::tensor::DeviceKind;
    if names.is_empty() {
        return Err(TrainError::Invalid("train.devices is empty".into()));
    }
    names
        .iter()
        .map(|n| match n.as_str() {
            "cpu" | "flex" => Ok(Device::flex()),
            "wgpu" => Ok(Device::wgpu(DeviceKind::DefaultDevice)),
            other => match other.strip_prefix("wgpu:").and_then(|i| i.parse::<usize>().ok()) {
                Some(i) => Ok(Device::wgpu(DeviceKind::DiscreteGpu(i))),
                None if other.starts_with("cuda") => Err(TrainError::Invalid(format!(
                    "train.devices: {other:?}: this build has no CUDA backend (burn's cuda feature downloads LLVM at build time); use wgpu:N"
                ))),
                None => Err(TrainError::Invalid(format!("train.devices: unknown device {other:?} (cpu, wgpu, wgpu:N)"))),
            },
        })
        .collect()
}

/// Loss and gradients of one global batch, split across `replicas` threads and averaged. The
/// loss is the batch mean either way, so one replica and N replicas take the same step.
pub fn shard_step(
    model: &Tft,
    ds: &WindowDataset,
    windows: &[fusecast_data::window::Window],
    devices: &[Device],
    quantiles: &[f64],
) -> (f32, GradientsParams) {
    let main = &devices[0];
    let one = |m: &Tft, ws: &[fusecast_data::window::Window], device: &Device| {
        let batch = ds.batch(ws);
        let out = m.forward(tft_input(&batch, &ds.layout, device));
        let loss = quantile_loss(out.prediction, tft_target(&batch, device), quantiles);
        let value: f32 = loss.clone().into_scalar();
        (
            value,
            GradientsParams::from_grads(loss.backward(), m).to_device(main, m),
        )
    };
    let parts = crate::parallel::shards(windows.len(), devices.len());
    if parts.len() == 1 {
        return one(model, windows, main);
    }
    let results: Vec<(f32, GradientsParams)> = std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .iter()
            .zip(devices)
            .map(|(r, device)| {
                let replica = model.clone().fork(device);
                let ws = &windows[r.clone()];
                scope.spawn(move || one(&replica, ws, device))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("replica thread"))
            .collect()
    });
    let weights: Vec<f64> = parts
        .iter()
        .map(|r| r.len() as f64 / windows.len() as f64)
        .collect();
    let value = results
        .iter()
        .zip(&weights)
        .map(|((v, _), w)| *v as f64 * w)
        .sum::<f64>() as f32;
    let grads = results.into_iter().map(|(_, g)| g).collect();
    (
        value,
        crate::parallel::weighted_average(model, grads, &weights),
    )
}

/// Trains one global model over every training window. `on_epoch` sees each epoch's metrics (for
/// progress bars and metrics.jsonl), `on_step` each step's loss. With `checkpoints`, a checkpoint
/// is written after every epoch and, with `resume`, training continues from the last one.
pub fn train(
    ds: &WindowDataset,
    hyper: &TftConfig,
    cfg: &TrainConfig,
    checkpoints: Option<&Checkpointing>,
    mut on_epoch: impl FnMut(&EpochMetrics, &Tft),
    mut on_step: impl FnMut(usize, f64),
) -> Result<Trained, TrainError> {
    if cfg.batch_size == 0
        || cfg.max_epochs == 0
        || cfg.learning_rate.is_nan()
        || cfg.learning_rate <= 0.0
    {
        return Err(TrainError::Invalid(
            "train.batch_size, max_epochs and learning_rate must be positive".into(),
        ));
    }
    if cfg.checkpoint_every_steps == Some(0) {
        return Err(TrainError::Invalid(
            "train.checkpoint_every_steps must be at least 1 (leave it out for epoch checkpoints only)".into(),
        ));
    }
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
    let resumed = match checkpoints {
        Some(c) if c.resume => c.load_last(&model_cfg, &identity, &device)?,
        Some(c) => {
            c.clear()?;
            None
        }
        None => None,
    };
    let (mut model, mut optim, mut state, mut best_model) = match resumed {
        Some(r) => r,
        None => {
            device.seed(cfg.seed);
            // Parameters initialize lazily, on first read: read them all now, so that replicas
            // forked from the model share its values instead of each drawing its own.
            let model = Tft::new(&model_cfg, &device)?;
            initialize(&model);
            let mut adam = AdamConfig::new().with_epsilon(1e-8);
            if cfg.weight_decay > 0.0 {
                adam =
                    adam.with_weight_decay(Some(WeightDecayConfig::new(cfg.weight_decay as f32)));
            }
            let state = TrainerState {
                identity: identity.clone(),
                epoch: 0,
                step: 0,
                lr: cfg.learning_rate,
                best: f64::INFINITY,
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
    let mut order: Vec<usize> = (0..train_windows.len()).collect();
    let started = Instant::now();
    // Time already spent: the finished epochs, and the part of an epoch a mid-epoch checkpoint
    // resumes (its training time; the wall time of that part is not recorded).
    let wall_before = state.history.last().map_or(0.0, |m| m.wall_s)
        + state.partial.as_ref().map_or(0.0, |p| p.train_secs);
    while !state.finished && state.epoch < cfg.max_epochs {
        let epoch = state.epoch + 1;
        // The order of an epoch depends only on (seed, epoch): a resumed run replays it exactly.
        order.sort_unstable();
        order.shuffle(&mut StdRng::seed_from_u64(
            cfg.seed.wrapping_add(epoch as u64),
        ));
        let epoch_start = Instant::now();
        // A mid-epoch checkpoint: skip the batches it has done, carry their sums.
        let done = state.partial.take().unwrap_or(PartialEpoch {
            batches: 0,
            loss_sum: 0.0,
            samples: 0,
            grad_norm: 0.0,
            train_secs: 0.0,
        });
        let (mut loss_sum, mut samples, mut grad_norm) =
            (done.loss_sum, done.samples, done.grad_norm);
        let batches = order
            .chunks(cfg.batch_size)
            .take(cfg.batches_per_epoch.unwrap_or(usize::MAX))
            .skip(done.batches);
        for (batch_index, chunk) in (done.batches + 1..).zip(batches) {
            if cfg.max_steps.is_some_and(|m| state.step >= m) {
                break;
            }
            let ws: Vec<_> = chunk.iter().map(|i| train_windows.get(*i)).collect();
            state.step += 1;
            let step = state.step;
            // Dropout masks depend only on (seed, step), whatever ran before on this device.
            device.seed(cfg.seed.wrapping_mul(1_000_003).wrapping_add(step as u64));
            let (value, mut grads) = shard_step(&model, ds, &ws, &devices, &model_cfg.quantiles);
            if let Some(max) = cfg.grad_clip_norm {
                grad_norm = clip_global_norm(&model, &mut grads, max);
            }
            if !value.is_finite() || !grad_norm.is_finite() {
                return Err(TrainError::NonFinite {
                    loss: if value.is_finite() {
                        grad_norm as f32
                    } else {
                        value
                    },
                    step,
                    epoch,
                    series: series_of(ds, &ws),
                });
            }
            let step_lr = if step <= cfg.warmup_steps {
                state.lr * step as f64 / cfg.warmup_steps as f64
            } else {
                state.lr
            };
            model = optim.step(step_lr, model, grads);
            loss_sum += value as f64 * ws.len() as f64;
            samples += ws.len();
            if let (Some(c), Some(every)) = (checkpoints, cfg.checkpoint_every_steps) {
                if every > 0 && step % every == 0 {
                    state.partial = Some(PartialEpoch {
                        batches: batch_index,
                        loss_sum,
                        samples,
                        grad_norm,
                        train_secs: done.train_secs + epoch_start.elapsed().as_secs_f64(),
                    });
                    c.save(&model, &optim, &state, None)?;
                    state.partial = None;
                }
            }
            on_step(step, value as f64);
        }
        let train_secs = done.train_secs + epoch_start.elapsed().as_secs_f64();
        let eval = evaluate(
            &model.valid(),
            ds,
            Part::Validation,
            cfg.batch_size,
            &device,
        )?;
        let metrics = EpochMetrics {
            epoch,
            step: state.step,
            train_loss: loss_sum / samples.max(1) as f64,
            val_loss: eval.loss,
            q_risk50: eval.q_risk50,
            q_risk90: eval.q_risk90,
            mae: eval.mae,
            lr: state.lr,
            grad_norm,
            samples_per_s: samples as f64 / train_secs.max(1e-9),
            wall_s: wall_before + started.elapsed().as_secs_f64(),
            checkpoint: checkpoints.map(|c| c.epoch_dir(epoch).display().to_string()),
        };
        state.history.push(metrics.clone());
        state.epoch = epoch;
        let improved = eval.loss < state.best - 1e-12;
        if improved {
            (
                state.best,
                state.best_epoch,
                state.since_best,
                state.since_plateau,
            ) = (eval.loss, epoch, 0, 0);
            best_model = model.clone();
        } else {
            state.since_best += 1;
            state.since_plateau += 1;
            if state.since_plateau >= cfg.plateau_patience {
                state.lr = (state.lr * cfg.plateau_factor).max(cfg.min_learning_rate);
                state.since_plateau = 0;
            }
        }
        let out_of_time = cfg
            .time_budget_s
            .is_some_and(|b| started.elapsed().as_secs_f64() >= b);
        state.finished = state.since_best >= cfg.early_stopping_patience
            || out_of_time
            || cfg.max_steps.is_some_and(|m| state.step >= m);
        if let Some(c) = checkpoints {
            c.save(&model, &optim, &state, improved.then_some(&best_model))?;
        }
        // After the checkpoint, so a listener (the tuner, a Ray bridge) can rely on it existing.
        on_epoch(state.history.last().expect("pushed above"), &model);
    }
    Ok(Trained {
        model: best_model,
        history: state.history,
        best_epoch: state.best_epoch,
    })
}
