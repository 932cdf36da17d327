//! The TOML config of a run. Unknown keys anywhere are errors naming the file, line and key;
//! every setting is checked right after loading, before any data is read.

use std::path::{Path, PathBuf};

use fusecast_baselines::BaselinesConfig;
use fusecast_data::config::{ClustersConfig, DataConfig, FeaturesConfig, WindowsConfig};
use fusecast_eval::EvalConfig;
use fusecast_model::TftConfig;
use fusecast_train::trainer::TrainConfig;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::run_dir::RunDir;

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
    /// A search space and its scheduler for `fusecast tune` (read by the tuner; `run` ignores
    /// it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tune: Option<toml::Table>,
}

/// A config with the file it came from and the folder its relative data paths are resolved
/// against.
#[derive(Clone, Debug)]
pub struct LoadedConfig {
    pub config: Config,
    pub path: PathBuf,
    pub base: PathBuf,
}

/// One `--set KEY=VALUE` of the command line: a dotted key (`train.learning_rate`) and a TOML
/// value (`3e-3`, `[1, 2]`, `"a.csv"`; a bare word that is not TOML is taken as a string).
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    pub key: String,
    pub value: toml::Value,
}

impl std::str::FromStr for Override {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let (key, value) = s
            .split_once('=')
            .ok_or_else(|| format!("{s:?} is not KEY=VALUE (e.g. train.learning_rate=3e-3)"))?;
        let key = key.trim();
        if key.is_empty() || key.split('.').any(|part| part.trim().is_empty()) {
            return Err(format!(
                "{s:?}: the key must be section.key (e.g. train.learning_rate)"
            ));
        }
        let raw = value.trim();
        let value = match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
            Ok(mut t) => t.remove("v").expect("parsed one key"),
            Err(_) => toml::Value::String(raw.to_string()),
        };
        Ok(Override {
            key: key.to_string(),
            value,
        })
    }
}

/// Sets the dotted `key` of a TOML table to `value`, making the tables on the way.
pub fn set_key(
    table: &mut toml::Table,
    key: &str,
    value: toml::Value,
) -> std::result::Result<(), String> {
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().expect("split gives one part");
    let mut at = table;
    for (i, part) in parts.iter().enumerate() {
        let entry = at
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        at = match entry {
            toml::Value::Table(t) => t,
            _ => {
                return Err(format!(
                    "{key}: {} is a value, not a section",
                    parts[..=i].join(".")
                ))
            }
        };
    }
    at.insert(last.to_string(), value);
    Ok(())
}

impl Config {
    pub fn load(path: &Path) -> Result<LoadedConfig> {
        Self::load_with(path, &[])
    }

    /// [`Config::load`] with `--set` overrides applied to the file's table before it is read,
    /// so an override is checked exactly as the same key in the file would be.
    pub fn load_with(path: &Path, overrides: &[Override]) -> Result<LoadedConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let config = match overrides {
            [] => Self::parse(&text).map_err(|e| Error::config(path, e))?,
            _ => {
                let mut table: toml::Table =
                    toml::from_str(&text).map_err(|e| Error::config(path, e))?;
                for o in overrides {
                    set_key(&mut table, &o.key, o.value.clone())
                        .map_err(|e| Error::config(path, format!("--set {e}")))?;
                }
                let keys: Vec<&str> = overrides.iter().map(|o| o.key.as_str()).collect();
                table.try_into().map_err(|e: toml::de::Error| {
                    Error::config(
                        path,
                        format!("with --set {}: {}", keys.join(", --set "), e.message()),
                    )
                })?
            }
        };
        config.validate().map_err(|e| Error::config(path, e))?;
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Ok(LoadedConfig {
            config,
            path: path.to_path_buf(),
            base,
        })
    }

    /// Every section's own checks: model hyper-parameters (and no variables: they come from
    /// the data), training settings, the backtest and the baselines.
    pub fn validate(&self) -> std::result::Result<(), String> {
        self.model
            .validate_hyper()
            .and_then(|()| self.model.check_no_variables())
            .map_err(|e| e.to_string())?;
        self.train.validate().map_err(|e| e.to_string())?;
        self.eval.validate()?;
        self.baselines.specs().map(|_| ())
    }

    /// What a command line asks for: the config with its `--set` overrides and `--name`.
    pub fn load_for(
        path: &Path,
        name: Option<String>,
        overrides: &[Override],
    ) -> Result<LoadedConfig> {
        let mut loaded = Self::load_with(path, overrides)?;
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
        toml::to_string_pretty(self).map_err(|e| Error::Invalid(format!("writing the config: {e}")))
    }

    /// The run directory `<run.output_dir>/<run.name>`.
    pub fn run_dir(&self) -> RunDir {
        RunDir::new(self.run.output_dir.join(&self.run.name))
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
    fn settings_are_checked_on_load() {
        let check = |text: &str| Config::parse(text).unwrap().validate().unwrap_err();
        assert!(check("[train]\nlearning_rate = 0.0\n").contains("train.learning_rate"));
        assert!(check("[train]\ndevices = [\"tpu\"]\n").contains("train.devices"));
        assert!(check("[model]\nreals = [\"x\"]\n").contains("model.reals"));
        assert!(check("[model]\nhidden_size = 30\nattention_heads = 4\n")
            .contains("model.attention_heads"));
    }

    #[test]
    fn overrides_parse_toml_values_and_name_bad_keys() {
        let o: Override = "train.learning_rate=3e-3".parse().unwrap();
        assert_eq!(
            (o.key.as_str(), o.value),
            ("train.learning_rate", toml::Value::Float(3e-3))
        );
        let o: Override = "run.name=exp-2".parse().unwrap();
        assert_eq!(o.value, toml::Value::String("exp-2".into()));
        let o: Override = "train.devices=[\"cpu\", \"cpu\"]".parse().unwrap();
        assert_eq!(o.value.as_array().unwrap().len(), 2);
        assert!("train.learning_rate"
            .parse::<Override>()
            .unwrap_err()
            .contains("KEY=VALUE"));
        assert!("train..x=1"
            .parse::<Override>()
            .unwrap_err()
            .contains("section.key"));
        let mut t = toml::Table::new();
        set_key(&mut t, "run.name", toml::Value::String("a".into())).unwrap();
        let err = set_key(&mut t, "run.name.deeper", toml::Value::Integer(1)).unwrap_err();
        assert!(err.contains("run.name is a value"), "{err}");
        set_key(&mut t, "clusters.select", toml::Value::Integer(1)).unwrap();
        let c: Config = t.try_into().unwrap();
        assert_eq!((c.run.name.as_str(), c.clusters.select), ("a", Some(1)));
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
