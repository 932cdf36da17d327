//! Checkpoints: model, optimizer and trainer state (epoch, step, learning rate, early-stopping
//! counters, history, the position inside an unfinished epoch) after every epoch and, with
//! `train.checkpoint_every_steps`, every N steps inside one; each written to a temporary folder and renamed into
//! place, so that a kill at any moment leaves the previous checkpoint intact. With the epoch
//! order and dropout masks derived from (seed, epoch, step), resuming from the last checkpoint
//! replays exactly what an uninterrupted run does.

use std::path::{Path, PathBuf};

use fusecast_model::burn::module::Module;
use fusecast_model::burn::optim::{AdamConfig, ModuleOptimizer};
use fusecast_model::burn::tensor::Device;
use fusecast_model::{Tft, TftConfig};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use fusecast_data::scale::TargetNormalizer;
use fusecast_data::window::WindowDataset;

use crate::config::TrainConfig;
use crate::error::TrainError;
use crate::metrics::EpochMetrics;

/// Where checkpoints go, where the best model lives, and whether to continue from the last one.
#[derive(Clone, Debug)]
pub struct Checkpointing {
    pub dir: PathBuf,
    /// The best model's one home (`best/` of a run directory), swapped in atomically.
    pub best_dir: PathBuf,
    /// Files written beside the best model's weights every time it changes (the model
    /// artifact's config and fitted features): name and contents.
    pub best_files: Vec<(String, Vec<u8>)>,
    pub keep_last: usize,
    pub resume: bool,
}

/// What a run must match to continue from a checkpoint: everything that changes what is
/// computed. Budgets (`max_epochs`, `max_steps`, `time_budget_s`), how often checkpoints are
/// written and the devices may change (a scheduler continues a paused trial with a larger
/// budget; N replicas compute the same step as one).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunIdentity {
    pub model: Value,
    pub train: Value,
    /// The windows (lengths, split, target transform): they decide the batches and the scaler.
    pub windows: Value,
    /// How each panel column enters the model (variables, vocabularies).
    pub layout: Value,
    /// Fingerprint per static attribute (the cluster assignment among them), to name a change.
    pub statics: Value,
    pub data_fingerprint: String,
}

impl RunIdentity {
    pub fn new(model: &TftConfig, train: &TrainConfig, ds: &WindowDataset) -> Self {
        let train = TrainConfig {
            max_epochs: 0,
            max_steps: None,
            time_budget_s: None,
            checkpoint_every_steps: None,
            devices: Vec::new(),
            ..train.clone()
        };
        let mut windows = serde_json::to_value(ds.spec).expect("spec serializes");
        let split = serde_json::to_value(ds.split).expect("split serializes");
        let fields = windows.as_object_mut().expect("an object");
        fields.extend(split.as_object().expect("an object").clone());
        fields.insert(
            "target_transform".into(),
            serde_json::to_value(ds.scaler.transform).expect("transform serializes"),
        );
        // Only when not the default, so checkpoints written before the option still resume.
        if ds.scaler.normalizer != TargetNormalizer::Series {
            fields.insert(
                "target_normalizer".into(),
                serde_json::to_value(ds.scaler.normalizer).expect("normalizer serializes"),
            );
        }
        let mut train = serde_json::to_value(&train).expect("config serializes");
        let fields = train.as_object_mut().expect("an object");
        // Budgets, devices and the calibration fitted after training do not change what an
        // epoch computes: a resume may change them.
        for budget in [
            "max_epochs",
            "max_steps",
            "time_budget_s",
            "checkpoint_every_steps",
            "devices",
            "calibration",
        ] {
            fields.remove(budget);
        }
        let statics = ds
            .panel
            .statics
            .iter()
            .map(|s| {
                (
                    s.name.clone(),
                    Value::from(ds.panel.static_fingerprint(&s.name).unwrap_or_default()),
                )
            })
            .collect::<serde_json::Map<_, _>>();
        RunIdentity {
            model: serde_json::to_value(model).expect("config serializes"),
            train,
            windows,
            layout: serde_json::to_value(&ds.layout).expect("layout serializes"),
            statics: Value::Object(statics),
            data_fingerprint: ds.panel.fingerprint(),
        }
    }

    /// The first difference, named by section and key.
    pub fn difference(&self, other: &RunIdentity) -> Option<String> {
        for (section, a, b) in [
            ("model", &self.model, &other.model),
            ("train", &self.train, &other.train),
            ("windows", &self.windows, &other.windows),
            ("static", &self.statics, &other.statics),
            ("the feature layout's", &self.layout, &other.layout),
        ] {
            if a != b {
                let key = match (a.as_object(), b.as_object()) {
                    (Some(x), Some(y)) => x
                        .keys()
                        .chain(y.keys())
                        .find(|k| x.get(*k) != y.get(*k))
                        .cloned(),
                    _ => None,
                };
                return Some(match key {
                    Some(k) => format!(
                        "{section}.{k} was {} and is now {}",
                        a.get(&k).unwrap_or(&Value::Null),
                        b.get(&k).unwrap_or(&Value::Null)
                    ),
                    None => format!("the {section} section differs"),
                });
            }
        }
        if self.data_fingerprint != other.data_fingerprint {
            return Some(format!(
                "the data differ (fingerprint {} in the checkpoint, {} now)",
                self.data_fingerprint, other.data_fingerprint
            ));
        }
        None
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainerState {
    pub identity: RunIdentity,
    pub epoch: usize,
    pub step: usize,
    pub lr: f64,
    /// The best value of the monitored metric so far; none before the first epoch ends (infinity has no
    /// JSON form: a mid-epoch checkpoint of the first epoch once could not be read back).
    pub best: Option<f64>,
    pub best_epoch: usize,
    pub since_best: usize,
    pub since_plateau: usize,
    pub history: Vec<EpochMetrics>,
    /// Early stopping ended the run. Budgets (epochs, steps, time) are not recorded here: a
    /// resume with a larger budget continues.
    pub finished: bool,
    /// Inside an unfinished epoch (a mid-epoch checkpoint): batches done and their sums.
    #[serde(default)]
    pub partial: Option<PartialEpoch>,
}

/// Where a mid-epoch checkpoint stands in epoch `epoch + 1`, so the resumed epoch skips the
/// batches already done and reports the same training loss.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartialEpoch {
    pub batches: usize,
    pub loss_sum: f64,
    pub samples: usize,
    pub grad_norm: f64,
    pub train_secs: f64,
}

/// Order of checkpoints, read from their folder names: (epoch the folder is in, is the end of
/// that epoch, step). `epoch-E-step-S` lies inside epoch E, after the end of epoch E - 1 and
/// before the end of epoch E (also when S is that epoch's last step: the end adds validation).
type CheckpointOrder = (usize, bool, usize);

fn read_state(dir: &Path) -> Result<TrainerState, TrainError> {
    let path = dir.join("state.json");
    let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
    serde_json::from_str(&text).map_err(|e| io(&path, e))
}

fn io(path: &Path, e: impl std::fmt::Display) -> TrainError {
    TrainError::io(path, e)
}

/// The folder of the end-of-epoch checkpoint `epoch` inside a checkpoints folder.
pub fn epoch_dir_in(dir: &Path, epoch: usize) -> PathBuf {
    dir.join(format!("epoch-{epoch:04}"))
}

/// Where the previous best model waits while the new one is renamed into `best/`.
const OLD_BEST: &str = ".old-best";

impl Checkpointing {
    /// Removes the checkpoints of an earlier run in this folder: a new run (not a resume)
    /// replaces the run directory, and old checkpoints with higher steps would otherwise count
    /// as newer than the new run's (pruning the new ones, or resuming the old run).
    pub fn clear(&self) -> Result<(), TrainError> {
        match std::fs::remove_dir_all(&self.dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(&self.dir, e)),
        }
    }

    pub fn epoch_dir(&self, epoch: usize) -> PathBuf {
        epoch_dir_in(&self.dir, epoch)
    }

    /// The folder of the checkpoint `state` describes: `epoch-NNNN` at the end of an epoch,
    /// `epoch-NNNN-step-SSSSSSSS` inside epoch NNNN.
    pub fn state_dir(&self, state: &TrainerState) -> PathBuf {
        match &state.partial {
            None => self.epoch_dir(state.epoch),
            Some(_) => self.dir.join(format!(
                "epoch-{:04}-step-{:08}",
                state.epoch + 1,
                state.step
            )),
        }
    }

    /// Writes a checkpoint atomically (temp folder + rename) and prunes old ones.
    pub fn save(
        &self,
        model: &Tft,
        optim: &ModuleOptimizer,
        state: &TrainerState,
        best: Option<&Tft>,
    ) -> Result<(), TrainError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| io(&self.dir, e))?;
        let target = self.state_dir(state);
        let name = target
            .file_name()
            .expect("named")
            .to_string_lossy()
            .to_string();
        let tmp = self.dir.join(format!(".tmp-{name}"));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
        model
            .clone()
            .save_file(tmp.join("model"))
            .map_err(|e| io(&tmp, format!("{e:?}")))?;
        optim
            .save(tmp.join("optim"))
            .map_err(|e| io(&tmp, format!("{e:?}")))?;
        let json = serde_json::to_string_pretty(state).expect("state serializes");
        std::fs::write(tmp.join("state.json"), json).map_err(|e| io(&tmp, e))?;
        // The best model goes in first: a kill before the epoch's rename leaves a best that the
        // replayed epoch rewrites identically. The previous best is moved aside, not deleted,
        // until the new one is in place (`load_last` falls back to it).
        if let Some(b) = best {
            self.save_best(b)?;
        }
        let _ = std::fs::remove_dir_all(&target);
        std::fs::rename(&tmp, &target).map_err(|e| io(&target, e))?;
        let mut all = self.checkpoints()?;
        while all.len() > self.keep_last.max(1) {
            let (_, old) = all.remove(0);
            let _ = std::fs::remove_dir_all(old);
        }
        Ok(())
    }

    /// Writes `best` (and [`Checkpointing::best_files`]) to a temp folder beside `best_dir` and
    /// swaps it in by renames. The previous best is moved aside, not deleted, until the new one
    /// is in place (`load_last` falls back to it).
    pub fn save_best(&self, best: &Tft) -> Result<(), TrainError> {
        let (tmp_best, old_best) = (self.beside_best(".tmp"), self.old_best_dir());
        let _ = std::fs::remove_dir_all(&tmp_best);
        std::fs::create_dir_all(&tmp_best).map_err(|e| io(&tmp_best, e))?;
        best.clone()
            .save_file(tmp_best.join("model"))
            .map_err(|e| io(&tmp_best, format!("{e:?}")))?;
        for (file, bytes) in &self.best_files {
            let path = tmp_best.join(file);
            std::fs::write(&path, bytes).map_err(|e| io(&path, e))?;
        }
        let _ = std::fs::remove_dir_all(&old_best);
        if self.best_dir.exists() {
            std::fs::rename(&self.best_dir, &old_best).map_err(|e| io(&self.best_dir, e))?;
        }
        std::fs::rename(&tmp_best, &self.best_dir).map_err(|e| io(&self.best_dir, e))?;
        let _ = std::fs::remove_dir_all(&old_best);
        Ok(())
    }

    /// Where the previous best waits while a new one is swapped in.
    fn old_best_dir(&self) -> PathBuf {
        self.beside_best(OLD_BEST)
    }

    /// `<prefix>-<name of best_dir>` in the folder that holds `best_dir`.
    fn beside_best(&self, prefix: &str) -> PathBuf {
        let parent = self.best_dir.parent().unwrap_or(Path::new("."));
        let name = self
            .best_dir
            .file_name()
            .map_or("best".into(), |n| n.to_string_lossy().to_string());
        parent.join(format!("{prefix}-{name}"))
    }

    /// Complete checkpoints (with a `state.json`), oldest first, by [`CheckpointOrder`].
    fn checkpoints(&self) -> Result<Vec<(CheckpointOrder, PathBuf)>, TrainError> {
        let mut out = Vec::new();
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Ok(out);
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            let path = e.path();
            if !name.starts_with("epoch-") || !path.join("state.json").exists() {
                continue;
            }
            let number = |s: &str| s.parse::<usize>().ok();
            let key = match name["epoch-".len()..].split_once("-step-") {
                Some((epoch, step)) => number(epoch).zip(number(step)).map(|(e, s)| (e, false, s)),
                None => number(&name["epoch-".len()..]).map(|e| (e, true, 0)),
            };
            if let Some(key) = key {
                out.push((key, path));
            }
        }
        out.sort();
        Ok(out)
    }

    /// The last complete checkpoint: model, optimizer, state and the best model so far.
    pub fn load_last(
        &self,
        config: &TftConfig,
        identity: &RunIdentity,
        device: &Device,
    ) -> Result<Option<(Tft, ModuleOptimizer, TrainerState, Tft)>, TrainError> {
        let Some((_, dir)) = self.checkpoints()?.pop() else {
            return Ok(None);
        };
        let state = read_state(&dir)?;
        if let Some(difference) = state.identity.difference(identity) {
            return Err(TrainError::Mismatch {
                checkpoint: dir,
                difference,
            });
        }
        let model = Tft::new(config, device)?
            .try_load_file(dir.join("model.bpk"))
            .map_err(|e| io(&dir, format!("{e:?}")))?;
        let optim = AdamConfig::new()
            .with_epsilon(1e-8)
            .init()
            .load(dir.join("optim.bpk"))
            .map_err(|e| io(&dir, format!("{e:?}")))?;
        let best_path = [
            self.best_dir.join("model.bpk"),
            self.old_best_dir().join("model.bpk"),
        ]
        .into_iter()
        .find(|p| p.exists());
        let best = match best_path {
            Some(p) => Tft::new(config, device)?
                .try_load_file(&p)
                .map_err(|e| io(&p, format!("{e:?}")))?,
            None => model.clone(),
        };
        Ok(Some((model, optim, state, best)))
    }
}
