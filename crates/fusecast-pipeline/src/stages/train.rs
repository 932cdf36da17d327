//! The training stage: the windows and model of a config, one global TFT trained on them, its
//! curve in `metrics.jsonl` and its best epoch saved as a model artifact.

use std::io::Write;
use std::path::{Path, PathBuf};

use fusecast_data::untaught::UntaughtInputs;
use fusecast_data::window::{Part, TimeSplit, WindowDataset, WindowSpec};
use fusecast_data::Panel;
use fusecast_model::burn::module::Module;
use fusecast_model::{Tft, TftConfig};
use fusecast_train::checkpoint::{epoch_dir_in, Checkpointing};
use fusecast_train::metrics::EpochMetrics;
use fusecast_train::trainer::{Control, Trainer};

use crate::artifact::ModelArtifact;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::events::{Event, Sink};
use crate::run_dir::RunDir;

/// A trained model: its curve, its best epoch, and the artifact that forecasts with it.
pub struct Trained {
    pub history: Vec<EpochMetrics>,
    pub best_epoch: usize,
    pub artifact: ModelArtifact,
    /// The best epoch's model.
    pub model: Tft,
}

impl Trained {
    pub fn best(&self) -> &EpochMetrics {
        fusecast_train::metrics::epoch_of(&self.history, self.best_epoch)
    }
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
    let dataset = WindowDataset::new(panel, spec, split, w.target_transform)?
        .with_normalizer(w.target_normalizer)
        .with_profile(w.profile_seasons);
    let dataset = match c.features.untaught_inputs {
        UntaughtInputs::LeaveOut => dataset.leaving_out_untaught(),
        UntaughtInputs::Keep => dataset,
    };
    let model_config = fusecast_train::inputs::tft_config(&dataset.layout, &c.model);
    model_config.validate()?;
    Ok((dataset, model_config))
}

/// The warning that names the series too short for any training window, which the TFT leaves
/// out (the baselines still fit them; the backtest gives them marked fallback forecasts).
pub fn left_out_warning(ds: &WindowDataset) -> Option<Event> {
    if ds.left_out.is_empty() {
        return None;
    }
    let names: Vec<String> = ds
        .left_out
        .iter()
        .take(20)
        .map(|&s| format!("{:?}", ds.panel.series[s]))
        .collect();
    let more = ds.left_out.len().saturating_sub(names.len());
    Some(Event::Warning {
        message: format!(
            "{} of {} series are too short for a training window (min_encoder_length + horizon = {} observed periods without a gap before the validation part) and are left out of the TFT; the baselines still fit them, and the TFT's backtest rows for them are marked SeasonalNaive fallbacks: {}{}",
            ds.left_out.len(),
            ds.panel.n_series(),
            ds.spec.min_encoder_length + ds.spec.horizon,
            names.join(", "),
            if more > 0 { format!(" and {more} more") } else { String::new() }
        ),
    })
}

/// The note that names the known inputs left out of the model, and why.
pub fn untaught_note(ds: &WindowDataset) -> Option<Event> {
    let out = &ds.layout.left_out;
    if out.is_empty() {
        return None;
    }
    Some(Event::Note {
        message: format!(
            "{} known input{} left out of the TFT, which its training part cannot teach (features.untaught_inputs = \"keep\" keeps them): {}",
            out.len(),
            if out.len() == 1 { " is" } else { "s are" },
            fusecast_data::untaught::describe(out)
        ),
    })
}

/// Describes the model a config builds over a dataset (parameters, variables, cost).
pub fn describe_model(model_config: &TftConfig, ds: &WindowDataset) -> Result<Event> {
    let model = Tft::new(model_config, &fusecast_model::burn::tensor::Device::flex())?;
    Ok(Event::ModelReady {
        parameters: model.num_params(),
        static_variables: model_config.static_categoricals.len() + model_config.static_reals.len(),
        encoder_variables: model_config.encoder_categoricals.len()
            + model_config.encoder_reals.len(),
        decoder_variables: model_config.decoder_categoricals.len()
            + model_config.decoder_reals.len(),
        mflops_per_window: fusecast_model::flops::forward_flops(
            model_config,
            1,
            ds.spec.encoder_length,
            ds.spec.horizon,
        ) as f64
            / 1e6,
    })
}

/// Trains on the dataset's windows. With a run directory: one JSON object per epoch appended
/// to `metrics.jsonl`, checkpoints (continued from the last one with `resume`), and the best
/// model as an artifact in `best/`. `control` sees each epoch and whether it is the run's last
/// (its budget or early stopping), and may stop the run after any epoch.
pub fn train(
    dir: Option<&RunDir>,
    c: &Config,
    ds: &WindowDataset,
    resume: bool,
    sink: &dyn Sink,
    control: &mut dyn FnMut(&EpochMetrics, bool) -> Control,
) -> Result<Trained> {
    if c.train.max_epochs == 0 {
        return Err(fusecast_train::error::TrainError::config(
            "max_epochs",
            "must be at least 1 to train",
        )
        .into());
    }
    let model_config = fusecast_train::inputs::tft_config(&ds.layout, &c.model);
    let artifact = ModelArtifact::of(c, model_config, ds);
    let checkpoints = dir.map(|d| Checkpointing {
        dir: d.checkpoints(),
        best_dir: d.best(),
        best_files: artifact.files(),
        keep_last: 3,
        resume,
    });
    let mut metrics_file = match dir {
        Some(d) => {
            std::fs::create_dir_all(d.root()).map_err(|e| Error::io(d.root(), e))?;
            let path = d.metrics_jsonl();
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(resume)
                .write(true)
                .truncate(!resume)
                .open(&path)
                .map_err(|e| Error::io(&path, e))?;
            Some((path, file))
        }
        None => None,
    };
    let mut trainer = Trainer::new(ds, &c.model, &c.train, checkpoints)?;
    let steps_per_epoch = c
        .train
        .batches_per_epoch
        .unwrap_or(usize::MAX)
        .min(ds.windows(Part::Train)?.len().div_ceil(c.train.batch_size));
    sink.emit(Event::TrainingStarted {
        total_steps: steps_per_epoch * c.train.max_epochs,
    });
    while !trainer.is_finished() {
        let m = trainer.run_epoch(&mut |step, loss| sink.emit(Event::Step { step, loss }))?;
        if let Some((path, file)) = &mut metrics_file {
            let line = serde_json::to_string(&m).expect("metrics serialize");
            writeln!(file, "{line}").map_err(|e| Error::io(path, e))?;
        }
        sink.emit(Event::Epoch(m.clone()));
        if control(&m, trainer.is_finished()) == Control::Stop {
            break;
        }
    }
    let t = trainer.into_trained();
    let mut trained = Trained {
        history: t.history,
        best_epoch: t.best_epoch,
        artifact,
        model: t.model,
    };
    if let Some(d) = dir {
        // The whole curve from the trainer's history: a resume may have replayed epochs that
        // were logged before the kill but not yet checkpointed.
        let lines: String = trained
            .history
            .iter()
            .map(|m| serde_json::to_string(m).expect("metrics serialize") + "\n")
            .collect();
        let path = d.metrics_jsonl();
        std::fs::write(&path, lines).map_err(|e| Error::io(&path, e))?;
        trained.artifact.save(&trained.model, &d.best())?;
        let (artifact, _) = ModelArtifact::load_calibrated(
            &d.best(),
            c.train.calibration,
            ds.panel,
            c.train.batch_size,
        )?;
        if let Some(message) = artifact.calibration_note(c.train.calibration) {
            sink.emit(Event::Note { message });
        }
        trained.artifact = artifact;
    }
    let best = trained.best();
    sink.emit(Event::Trained {
        epochs: trained.history.len(),
        best_epoch: trained.best_epoch,
        val_loss: best.val_loss,
        q_risk50: best.q_risk50,
        q_risk90: best.q_risk90,
        mae: best.mae,
        artifact: dir.map(|d| d.best()).unwrap_or_default(),
    });
    Ok(trained)
}

/// Copies the end-of-epoch checkpoint `epoch` of a run, with the best model and the curve up to
/// it, into the new folder `to` (written under a temporary name and renamed, so a folder that
/// exists is complete): what a tuning engine keeps, and [`restore_checkpoint`] reads back.
pub fn export_checkpoint(dir: &RunDir, epoch: usize, to: &Path) -> Result<()> {
    let name = to
        .file_name()
        .ok_or_else(|| Error::Invalid(format!("{}: not a folder name", to.display())))?;
    let tmp = to.with_file_name(format!(".tmp-{}", name.to_string_lossy()));
    let _ = std::fs::remove_dir_all(&tmp);
    let checkpoint = epoch_dir_in(&dir.checkpoints(), epoch);
    let inside = RunDir::new(&tmp);
    copy_dir(&checkpoint, &epoch_dir_in(&inside.checkpoints(), epoch))?;
    copy_dir(&dir.best(), &inside.best())?;
    std::fs::copy(dir.metrics_jsonl(), inside.metrics_jsonl())
        .map_err(|e| Error::io(&dir.metrics_jsonl(), e))?;
    // An earlier export of the same epoch (a run started again) is replaced.
    match std::fs::remove_dir_all(to) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(Error::io(to, e)),
        _ => {}
    }
    std::fs::rename(&tmp, to).map_err(|e| Error::io(to, e))
}

/// Makes the checkpoint `from` (an [`export_checkpoint`]) the run directory's only one, with
/// its best model and curve, so that a resume continues exactly from it.
pub fn restore_checkpoint(dir: &RunDir, from: &Path) -> Result<()> {
    let saved = RunDir::new(from);
    let epochs: Vec<PathBuf> = match std::fs::read_dir(saved.checkpoints()) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect(),
        Err(e) => return Err(Error::io(&saved.checkpoints(), e)),
    };
    let [checkpoint] = epochs.as_slice() else {
        return Err(Error::Invalid(format!(
            "{}: expected one checkpoint folder, found {} (not a checkpoint exported by `fusecast train --pause-after-epoch`)",
            saved.checkpoints().display(),
            epochs.len()
        )));
    };
    for needed in [saved.best(), saved.metrics_jsonl()] {
        if !needed.exists() {
            return Err(Error::io(
                &needed,
                "missing from the checkpoint to resume from",
            ));
        }
    }
    for old in [dir.checkpoints(), dir.best()] {
        match std::fs::remove_dir_all(&old) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(Error::io(&old, e)),
            _ => {}
        }
    }
    let name = checkpoint.file_name().expect("a folder in a folder");
    copy_dir(checkpoint, &dir.checkpoints().join(name))?;
    copy_dir(&saved.best(), &dir.best())?;
    std::fs::copy(saved.metrics_jsonl(), dir.metrics_jsonl())
        .map_err(|e| Error::io(&dir.metrics_jsonl(), e))?;
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| Error::io(to, e))?;
    for entry in std::fs::read_dir(from).map_err(|e| Error::io(from, e))? {
        let entry = entry.map_err(|e| Error::io(from, e))?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if src.is_dir() {
            copy_dir(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).map_err(|e| Error::io(&src, e))?;
        }
    }
    Ok(())
}
