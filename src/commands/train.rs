//! `fusecast train`: the data stage and the TFT trained, nothing else; what a tuning engine
//! (Ray Tune) runs per trial. With `--pause-after-epoch` it is driven epoch by epoch: after each
//! one its checkpoint is exported for the engine to keep, and the run waits on stdin.

use std::io::BufRead;
use std::path::PathBuf;

use anyhow::Result;
use fusecast_pipeline::config::Override;
use fusecast_pipeline::events::{Event, Sink};
use fusecast_pipeline::ops::{self, Start};
use fusecast_pipeline::stages::train::export_checkpoint;
use fusecast_pipeline::Config;
use fusecast_train::trainer::Control;

use crate::terminal::Output;

#[derive(clap::Args)]
pub struct Args {
    config: PathBuf,
    /// Overrides run.name.
    #[arg(long)]
    name: Option<String>,
    /// Continue from the run directory's last checkpoint.
    #[arg(long, conflicts_with = "resume_from")]
    resume: bool,
    /// Continue from a checkpoint exported by --pause-after-epoch (e.g. the one Ray Tune kept),
    /// which replaces the run directory's checkpoints.
    #[arg(long, value_name = "CHECKPOINT_DIR")]
    resume_from: Option<PathBuf>,
    /// After every epoch, export its checkpoint to DIR/epoch-NNNN, emit a `paused` event and
    /// wait for a line on stdin: `continue` trains the next epoch, `stop` (or the end of stdin)
    /// ends the run with its best model saved.
    #[arg(long, value_name = "DIR")]
    pause_after_epoch: Option<PathBuf>,
}

pub fn run(args: Args, overrides: &[Override], out: &Output) -> Result<()> {
    let loaded = Config::load_for(&args.config, args.name, overrides)?;
    let start = match (args.resume, args.resume_from) {
        (_, Some(dir)) => Start::From(dir),
        (true, None) => Start::Resume,
        (false, None) => Start::Fresh,
    };
    if args.pause_after_epoch.is_some() {
        crate::signals::die_with_parent();
    }
    let mut stdin = std::io::stdin().lock();
    let mut failure = None;
    let mut control =
        |dir: &fusecast_pipeline::RunDir, m: &fusecast_train::metrics::EpochMetrics, last: bool| {
            let Some(to) = &args.pause_after_epoch else {
                return Control::Continue;
            };
            let checkpoint = to.join(format!("epoch-{:04}", m.epoch));
            if let Err(e) = std::fs::create_dir_all(to)
                .map_err(|e| fusecast_pipeline::Error::io(to, e))
                .and_then(|()| export_checkpoint(dir, m.epoch, &checkpoint))
            {
                failure = Some(anyhow::Error::from(e));
                return Control::Stop;
            }
            out.emit(Event::Paused {
                epoch: m.epoch,
                checkpoint,
                last,
            });
            let mut line = String::new();
            match stdin.read_line(&mut line) {
                Ok(0) => Control::Stop,
                Ok(_) => match line.trim() {
                    "continue" => Control::Continue,
                    "stop" => Control::Stop,
                    other => {
                        failure = Some(anyhow::anyhow!(
                            "stdin: expected `continue` or `stop` after epoch {}, got {other:?}",
                            m.epoch
                        ));
                        Control::Stop
                    }
                },
                Err(e) => {
                    failure = Some(anyhow::anyhow!("stdin: {e}"));
                    Control::Stop
                }
            }
        };
    ops::train_only(&loaded, &start, out.sink(), &mut control)?;
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
