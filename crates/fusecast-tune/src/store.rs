//! The experiment's folder: `runs/<name>/` with `experiment.json` (what the experiment is, to
//! refuse a resume that changed it), `log.jsonl` (every result and decision, appended as they
//! happen), `trials.csv`, `best.toml`, `tune.md` + `curves.svg`, `trials/<id>/` (each an
//! ordinary run directory) and `eval/` (the assembled backtest).

use std::io::Write;
use std::path::{Path, PathBuf};

use fusecast_pipeline::events::TrialStatus;
use fusecast_pipeline::stages::report::ExperimentFiles;
use serde::{Deserialize, Serialize};

use crate::error::TuneError;

#[derive(Clone, Debug)]
pub struct ExperimentDir {
    root: PathBuf,
}

impl ExperimentDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ExperimentDir { root: root.into() }
    }
    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn trials(&self) -> PathBuf {
        self.root.join("trials")
    }
    pub fn identity(&self) -> PathBuf {
        self.root.join("experiment.json")
    }
    pub fn log(&self) -> PathBuf {
        self.root.join("log.jsonl")
    }
    pub fn trials_csv(&self) -> PathBuf {
        self.root.join("trials.csv")
    }
    pub fn best_toml(&self) -> PathBuf {
        self.root.join("best.toml")
    }
    pub fn summary(&self) -> PathBuf {
        self.root.join("tune.md")
    }
    pub fn curves(&self) -> PathBuf {
        self.root.join("curves.svg")
    }
    /// The tuner's files that an experiment's `report.html` shows beside the run-directory ones
    /// (`eval/`, `baselines/`, `tft/`, `panel.parquet`).
    pub fn report_files(&self) -> ExperimentFiles {
        ExperimentFiles {
            trials_csv: self.trials_csv(),
            curves_svg: self.curves(),
            trials_dir: self.trials(),
        }
    }
    /// Whether `path` holds an experiment (rather than a plain run directory).
    pub fn is_experiment(path: &Path) -> bool {
        ExperimentDir::new(path).identity().exists()
    }
}

/// One line of `log.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LogEntry {
    Result {
        trial: String,
        epoch: usize,
        metric: f64,
        decision: crate::scheduler::Decision,
        /// Read back from the trial's checkpoint by a resume, not trained again.
        replayed: bool,
    },
    Ended {
        trial: String,
        status: TrialStatus,
        epoch: usize,
        message: Option<String>,
    },
}

pub struct Log {
    path: PathBuf,
    file: std::fs::File,
}

impl Log {
    /// Opens the log for appending (a new experiment starts it empty; a resume appends its
    /// replay, so the log shows that no epoch was trained twice).
    pub fn open(path: &Path, fresh: bool) -> Result<Self, TuneError> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(!fresh)
            .write(true)
            .truncate(fresh)
            .open(path)
            .map_err(|e| TuneError::io(path, e))?;
        Ok(Log {
            path: path.to_path_buf(),
            file,
        })
    }

    pub fn append(&mut self, entry: &LogEntry) -> Result<(), TuneError> {
        let line = serde_json::to_string(entry).expect("log entries serialize");
        writeln!(self.file, "{line}")
            .and_then(|()| self.file.sync_data())
            .map_err(|e| TuneError::io(&self.path, e))
    }

    /// Every complete line (a kill may leave half of the last one).
    pub fn read(path: &Path) -> Vec<LogEntry> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

/// Writes through a temp file and a rename.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), TuneError> {
    fusecast_pipeline::RunDir::write_atomic(path, text.as_bytes()).map_err(TuneError::from)
}
