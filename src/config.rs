//! The TOML config of a run. Unknown keys anywhere are errors naming the file, line and key.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use fusecast_baselines::BaselinesConfig;
use fusecast_data::config::{ClustersConfig, DataConfig, FeaturesConfig, WindowsConfig};
use fusecast_eval::EvalConfig;
use fusecast_model::TftConfig;
use fusecast_train::trainer::TrainConfig;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    /// The run directory is `<output_dir>/<name>`.
    pub name: String,
    /// Relative to the current directory.
    pub output_dir: PathBuf,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            name: "quickstart".into(),
            output_dir: PathBuf::from("runs"),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub run: RunConfig,
    pub data: DataConfig,
    pub features: FeaturesConfig,
    pub clusters: ClustersConfig,
    pub windows: WindowsConfig,
    /// TFT hyper-parameters; its variables come from the data's feature layout.
    pub model: TftConfig,
    pub train: TrainConfig,
    /// Per-series baselines fitted on the backtest windows.
    pub baselines: BaselinesConfig,
    /// The backtest every model is scored on.
    pub eval: EvalConfig,
}

/// A config with the folder its relative data paths are resolved against.
pub struct LoadedConfig {
    pub config: Config,
    pub base: PathBuf,
}

impl Config {
    pub fn load(path: &Path) -> Result<LoadedConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config {}", path.display()))?;
        let config = Self::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        config
            .model
            .validate_hyper()
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        config
            .eval
            .validate()
            .and_then(|()| config.baselines.specs().map(|_| ()))
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Ok(LoadedConfig { config, base })
    }

    /// [`Config::load`] with `run.name` overridden when `name` is given (`--name`).
    pub fn load_named(path: &Path, name: Option<String>) -> Result<LoadedConfig> {
        let mut loaded = Self::load(path)?;
        if let Some(n) = name {
            loaded.config.run.name = n;
        }
        Ok(loaded)
    }

    pub fn parse(text: &str) -> std::result::Result<Self, toml::de::Error> {
        toml::from_str(text)
    }

    /// The config with every default written out.
    pub fn resolved_toml(&self) -> Result<String> {
        Ok(toml::to_string_pretty(self)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_name_the_key_and_line() {
        let err = Config::parse("[data]\nsource = \"synthetic\"\nfrequncy = \"1d\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("frequncy"), "{err}");
        assert!(err.contains("line 3"), "{err}");
        let err = Config::parse("[windows]\nhorizon = 7\n[modle]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("modle"), "{err}");
        let err = Config::parse("[data]\nfrequency = \"1w\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("1w"), "{err}");
    }

    #[test]
    fn resolved_config_round_trips() {
        let c = Config::parse(
            "[data]\nfrequency = \"1h\"\n[clusters]\nmethod = \"kmeans-profile\"\nk = 3\n",
        )
        .unwrap();
        let again = Config::parse(&c.resolved_toml().unwrap()).unwrap();
        assert_eq!(c, again);
    }
}
