use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use fusecast_data::window::WindowDataset;
use fusecast_model::burn::module::Module;
use fusecast_train::checkpoint::Checkpointing;
use fusecast_train::trainer::{train, EpochMetrics};
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Config;
use crate::progress::Progress;

/// Trains on the prepared windows, appending one JSON object per epoch to `metrics.jsonl` (and
/// to stdout with `--json`), and saves the best model by validation loss to `best/model.bpk`.
pub fn train_and_record(
    dir: &Path,
    c: &Config,
    dataset: &WindowDataset,
    json: bool,
    resume: bool,
    progress: &Progress,
) -> Result<()> {
    let metrics_path = dir.join("metrics.jsonl");
    let mut metrics = std::fs::OpenOptions::new()
        .create(true)
        .append(resume)
        .write(true)
        .truncate(!resume)
        .open(&metrics_path)
        .with_context(|| format!("opening {}", metrics_path.display()))?;
    let checkpoints = Checkpointing {
        dir: dir.join("checkpoints"),
        keep_last: 3,
        resume,
    };
    let steps_per_epoch = c.train.batches_per_epoch.unwrap_or(usize::MAX).min(
        dataset
            .windows(fusecast_data::window::Part::Train)?
            .len()
            .div_ceil(c.train.batch_size.max(1)),
    );
    let bar = if progress.quiet() || json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new((steps_per_epoch * c.train.max_epochs) as u64)
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} steps {msg} [{elapsed} < {eta}]")
            .expect("valid template"),
    );
    let mut write_error = None;
    let trained = train(
        dataset,
        &c.model,
        &c.train,
        Some(&checkpoints),
        |m: &EpochMetrics, _| {
            let line = serde_json::to_string(m).expect("metrics serialize");
            if let Err(e) = writeln!(metrics, "{line}") {
                write_error.get_or_insert(e);
            }
            if json {
                println!("{line}");
            }
            let text = format!(
                "epoch {:>3}: train {:.4}  val {:.4}  q-Risk P50 {:.4} P90 {:.4}  MAE {:.2}  lr {:.1e}  {:.0} samples/s",
                m.epoch, m.train_loss, m.val_loss, m.q_risk50, m.q_risk90, m.mae, m.lr, m.samples_per_s
            );
            if !json {
                progress.note(&text);
            }
        },
        |step, loss| {
            bar.set_position(step as u64);
            bar.set_message(format!("loss {loss:.4}"));
        },
    )?;
    bar.finish_and_clear();
    if let Some(e) = write_error {
        return Err(e).with_context(|| format!("writing {}", metrics_path.display()));
    }
    // The whole curve from the trainer's history: a resume may have replayed epochs that were
    // logged before the kill but not yet checkpointed.
    let lines: String = trained
        .history
        .iter()
        .map(|m| serde_json::to_string(m).expect("metrics serialize") + "\n")
        .collect();
    std::fs::write(&metrics_path, lines)
        .with_context(|| format!("writing {}", metrics_path.display()))?;
    let best_dir = dir.join("best");
    std::fs::create_dir_all(&best_dir)
        .with_context(|| format!("creating {}", best_dir.display()))?;
    trained
        .model
        .clone()
        .save_file(best_dir.join("model"))
        .map_err(|e| anyhow::anyhow!("saving the best model to {}: {e:?}", best_dir.display()))?;
    let best = &trained.history[trained
        .best_epoch
        .saturating_sub(1)
        .min(trained.history.len() - 1)];
    println!(
        "trained {} epochs; best epoch {}: validation loss {:.4}, q-Risk P50 {:.4}, P90 {:.4}, MAE {:.2}; model in {}",
        trained.history.len(),
        trained.best_epoch,
        best.val_loss,
        best.q_risk50,
        best.q_risk90,
        best.mae,
        best_dir.display()
    );
    Ok(())
}
