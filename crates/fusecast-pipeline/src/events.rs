//! Progress and results as typed events. The stages never print: they hand events to a
//! [`Sink`] (the terminal, JSON lines, a tuner, a test), which decides what to show.

use std::path::PathBuf;
use std::sync::Mutex;

use fusecast_data::fitted::UnknownCategory;
use fusecast_train::metrics::EpochMetrics;
use serde::Serialize;

/// The stages a run goes through, for timing events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Prepare,
    Reassign,
    WriteRunDirectory,
    Train,
    Baselines,
    TftForecasts,
    Report,
    WritePanel,
    Predict,
}

impl Stage {
    pub fn label(self) -> &'static str {
        match self {
            Stage::Prepare => "preparing data",
            Stage::Reassign => "reassigning series to cluster models",
            Stage::WriteRunDirectory => "writing the run directory",
            Stage::Train => "training",
            Stage::Baselines => "per-series baselines",
            Stage::TftForecasts => "TFT forecasts",
            Stage::Report => "writing the evaluation report",
            Stage::WritePanel => "writing the panel",
            Stage::Predict => "forecasting past the data",
        }
    }
}

/// One model's headline scores on the backtest.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelScore {
    pub model: String,
    pub mae: f64,
    pub mase: f64,
    pub q_risk50: f64,
    pub q_risk90: f64,
    pub coverage80: f64,
    /// Series where this model has the lowest MASE.
    pub wins: usize,
}

/// Where a tuning trial stands (Ray Tune's statuses, with the scheduler's stop told apart
/// from a trial that ran its budget or stopped early by itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TrialStatus {
    Pending,
    Running,
    Paused,
    /// Stopped by the scheduler (ASHA, median rule).
    Stopped,
    /// Ran to its epoch budget or early stopping.
    Terminated,
    Error,
}

impl TrialStatus {
    pub fn label(self) -> &'static str {
        match self {
            TrialStatus::Pending => "PENDING",
            TrialStatus::Running => "RUNNING",
            TrialStatus::Paused => "PAUSED",
            TrialStatus::Stopped => "STOPPED",
            TrialStatus::Terminated => "TERMINATED",
            TrialStatus::Error => "ERROR",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            TrialStatus::Stopped | TrialStatus::Terminated | TrialStatus::Error
        )
    }
}

/// One row of the live trial table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrialRow {
    pub trial: String,
    pub status: TrialStatus,
    pub params: String,
    pub epochs: usize,
    pub last: Option<f64>,
    pub best: Option<f64>,
    pub seconds: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    StageStarted {
        stage: Stage,
    },
    StageFinished {
        stage: Stage,
        seconds: f64,
    },
    /// Information for a person following the run (ingest counts, cluster table, ...).
    Note {
        message: String,
    },
    /// Something the user should look at; the run goes on.
    Warning {
        message: String,
    },
    DataReady {
        summary: String,
        series: usize,
        periods: usize,
    },
    Windows {
        train: usize,
        validation: usize,
        test: usize,
        encoder_length: usize,
        horizon: usize,
        stride: usize,
    },
    ModelReady {
        parameters: usize,
        static_variables: usize,
        encoder_variables: usize,
        decoder_variables: usize,
        mflops_per_window: f64,
    },
    RunDirectory {
        path: PathBuf,
    },
    /// A part of the job that does not run, and why.
    Skipped {
        reason: String,
    },
    TrainingStarted {
        total_steps: usize,
    },
    Step {
        step: usize,
        loss: f64,
    },
    Epoch(EpochMetrics),
    Trained {
        epochs: usize,
        best_epoch: usize,
        val_loss: f64,
        q_risk50: f64,
        q_risk90: f64,
        mae: f64,
        artifact: PathBuf,
    },
    /// `fusecast train --pause-after-epoch`: the epoch's checkpoint exported, the run waiting
    /// on stdin for `continue` or `stop`.
    Paused {
        epoch: usize,
        checkpoint: PathBuf,
        /// The run is done after this epoch (its budget or early stopping): `continue` ends it.
        last: bool,
    },
    /// A signal ended the command; the last checkpoint is intact.
    Interrupted {
        signal: String,
    },
    UnknownCategories {
        categories: Vec<UnknownCategory>,
    },
    FitsStarted {
        total: usize,
    },
    /// One baseline fit done (`model` is its label).
    Fit {
        model: String,
    },
    BaselineDone {
        model: String,
        series: usize,
        cutoffs: usize,
        seconds: f64,
        fallbacks: usize,
    },
    /// `baselines --shard I/N`: shard `index` of `count` written to `path`, its folder (every
    /// model fitted on its `series` series).
    ShardWritten {
        path: PathBuf,
        index: usize,
        count: usize,
        series: usize,
        models: usize,
    },
    /// `baselines --merge`: the `count` shards in `path` joined (`series` series in all).
    ShardsMerged {
        path: PathBuf,
        count: usize,
        series: usize,
    },
    Scores {
        series: usize,
        models: Vec<ModelScore>,
    },
    ReportWritten {
        path: PathBuf,
        files: usize,
    },
    PanelWritten {
        path: PathBuf,
        rows: usize,
    },
    /// Forecasts past the data written (`fallbacks`: series forecast by SeasonalNaive instead).
    Predicted {
        path: PathBuf,
        series: usize,
        fallbacks: usize,
        horizon: usize,
        first: String,
        last: String,
    },
    /// The tuner's trial table, after every round of epochs.
    Trials {
        metric: String,
        rows: Vec<TrialRow>,
    },
    /// A trial ended (its status is final).
    TrialEnded {
        trial: String,
        status: TrialStatus,
        message: Option<String>,
    },
}

impl Event {
    /// Ticks that only move a progress bar (every step, every fit).
    pub fn is_tick(&self) -> bool {
        matches!(self, Event::Step { .. } | Event::Fit { .. })
    }
}

/// Where events go. Shared across the threads that fit baselines, so `&self`.
pub trait Sink: Sync {
    fn emit(&self, event: Event);
}

/// Drops every event.
pub struct Silent;

impl Sink for Silent {
    fn emit(&self, _: Event) {}
}

/// Keeps every event but the ticks (for tests and callers that look at them afterwards).
#[derive(Default)]
pub struct Recorder(pub Mutex<Vec<Event>>);

impl Sink for Recorder {
    fn emit(&self, event: Event) {
        if !event.is_tick() {
            self.0.lock().unwrap_or_else(|e| e.into_inner()).push(event);
        }
    }
}

impl Recorder {
    pub fn events(&self) -> Vec<Event> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Runs `f` between a started and a finished event of `stage`.
pub fn stage<T>(sink: &dyn Sink, stage: Stage, f: impl FnOnce() -> T) -> T {
    sink.emit(Event::StageStarted { stage });
    let t0 = std::time::Instant::now();
    let out = f();
    sink.emit(Event::StageFinished {
        stage,
        seconds: t0.elapsed().as_secs_f64(),
    });
    out
}
