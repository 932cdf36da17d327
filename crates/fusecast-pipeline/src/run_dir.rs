//! The run directory as a type: every path of `runs/<name>/` is built here and nowhere else.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        RunDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The resolved config (every default written out).
    pub fn config_toml(&self) -> PathBuf {
        self.root.join("config.toml")
    }

    /// Data fingerprint, series, covariates, scalers, split and window counts, ingest report.
    pub fn data_json(&self) -> PathBuf {
        self.root.join("data.json")
    }

    pub fn clusters_csv(&self) -> PathBuf {
        self.root.join("clusters.csv")
    }

    pub fn panel_parquet(&self) -> PathBuf {
        self.root.join("panel.parquet")
    }

    /// One JSON object per epoch.
    pub fn metrics_jsonl(&self) -> PathBuf {
        self.root.join("metrics.jsonl")
    }

    pub fn checkpoints(&self) -> PathBuf {
        self.root.join("checkpoints")
    }

    /// The best model's one home: its model artifact ([`crate::artifact`]).
    pub fn best(&self) -> PathBuf {
        self.root.join("best")
    }

    pub fn baselines(&self) -> PathBuf {
        self.root.join("baselines")
    }

    pub fn baseline_fits(&self, model: &str) -> PathBuf {
        self.baselines().join("fits").join(format!("{model}.jsonl"))
    }

    pub fn baseline_forecasts(&self) -> PathBuf {
        self.baselines().join("forecasts.csv")
    }

    pub fn selection_csv(&self) -> PathBuf {
        self.baselines().join("selection.csv")
    }

    pub fn baseline_timing(&self) -> PathBuf {
        self.baselines().join("timing.json")
    }

    /// The shards of a sharded baselines run (`fusecast baselines --shard I/N`), merged by
    /// `fusecast baselines --merge`.
    pub fn baseline_shards(&self) -> PathBuf {
        self.baselines().join("shards")
    }

    /// Shard `index` of `count` (0-based): `baselines/shards/<index>-of-<count>/`.
    pub fn baseline_shard(&self, index: usize, count: usize) -> ShardDir {
        ShardDir {
            root: self.baseline_shards().join(format!("{index}-of-{count}")),
        }
    }

    /// `(index, count)` of a folder name [`RunDir::baseline_shard`] makes; `None` for any other.
    pub fn shard_of_folder(name: &str) -> Option<(usize, usize)> {
        let (index, count) = name.split_once("-of-")?;
        let number = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| s.parse().ok())
                .flatten()
        };
        Some((number(index)?, number(count)?))
    }

    pub fn tft_forecasts(&self) -> PathBuf {
        self.root.join("tft").join("forecasts.csv")
    }

    /// The evaluation report's folder.
    pub fn eval(&self) -> PathBuf {
        self.root.join("eval")
    }

    /// The best TFT's variable importances and attention over the backtest windows.
    pub fn interpretation_json(&self) -> PathBuf {
        self.root.join("interpretation.json")
    }

    /// The one-page report of everything above.
    pub fn report_html(&self) -> PathBuf {
        self.root.join("report.html")
    }

    /// Creates the folder that holds `path`.
    pub fn create_parent(path: &Path) -> Result<()> {
        match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => {
                std::fs::create_dir_all(p).map_err(|e| Error::io(p, e))
            }
            _ => Ok(()),
        }
    }

    /// Writes `bytes` to `path` through a temp file and a rename (a kill leaves the old file or
    /// the new one, never half of one), creating its folder.
    pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
        Self::create_parent(path)?;
        let name = path
            .file_name()
            .map_or("out".into(), |n| n.to_string_lossy().to_string());
        let tmp = path.with_file_name(format!(".tmp-{name}"));
        std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    }
}

/// One shard's folder of a sharded baselines run: its forecasts (and fits) at the backtest
/// cutoffs in `test/`, its forecasts at the selection cutoffs in `validation/`, and
/// `shard.json`, written last, which says the shard is complete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardDir {
    root: PathBuf,
}

impl ShardDir {
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// What the shard holds and what it was fitted for.
    pub fn manifest(&self) -> PathBuf {
        self.root.join("shard.json")
    }

    /// Every model's forecasts of one part (`test` or `validation`).
    pub fn forecasts(&self, part: &str) -> PathBuf {
        self.root.join(part).join("forecasts.csv")
    }

    /// One model's fits at the backtest cutoffs, a JSON line each (those at the selection
    /// cutoffs are not kept, as in `baselines/fits/`).
    pub fn fits(&self, model: &str) -> PathBuf {
        self.root
            .join("test")
            .join("fits")
            .join(format!("{model}.jsonl"))
    }
}
