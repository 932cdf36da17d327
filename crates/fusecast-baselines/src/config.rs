//! The `[baselines]` section of a run config.

use serde::{Deserialize, Serialize};

use crate::arima::ArimaSpec;
use crate::ets::EtsSpec;
use crate::mstl::MstlSpec;
use crate::prophet::{ProphetSpec, SeasonalityMode};
use crate::{ModelSpec, MODEL_NAMES};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BaselinesConfig {
    /// Models fitted on every series (names in [`MODEL_NAMES`]); empty = no baselines.
    pub models: Vec<String>,
    /// Wall-clock budget of one fit; a fit over it falls back to SeasonalNaive and is marked.
    pub fit_budget_s: f64,
    /// Validation windows (before the evaluation's first cutoff) for per-series model selection;
    /// 0 = no selection.
    pub selection_windows: usize,
    pub ets: EtsSpec,
    pub arima: ArimaSpec,
    /// Shared Prophet settings; `mode` is set by the model name (prophet_additive/multiplicative).
    pub prophet: ProphetSpec,
    pub mstl: MstlSpec,
}

impl Default for BaselinesConfig {
    fn default() -> Self {
        Self {
            models: ["seasonal_naive", "ets", "arima", "prophet_additive"]
                .map(String::from)
                .to_vec(),
            fit_budget_s: 30.0,
            selection_windows: 1,
            ets: EtsSpec::default(),
            arima: ArimaSpec::default(),
            prophet: ProphetSpec::default(),
            mstl: MstlSpec::default(),
        }
    }
}

impl BaselinesConfig {
    /// The configured models with their settings; an unknown name is an error naming the key.
    pub fn specs(&self) -> Result<Vec<ModelSpec>, String> {
        let mut seen = Vec::new();
        self.models
            .iter()
            .map(|name| {
                if seen.contains(name) {
                    return Err(format!("baselines.models lists `{name}` twice"));
                }
                seen.push(name.clone());
                let prophet = |mode| {
                    ModelSpec::Prophet(ProphetSpec {
                        mode,
                        ..self.prophet.clone()
                    })
                };
                Ok(match name.as_str() {
                    "ets" => ModelSpec::Ets(self.ets.clone()),
                    "arima" => ModelSpec::Arima(self.arima.clone()),
                    "mstl" => ModelSpec::Mstl(self.mstl.clone()),
                    "prophet_additive" => prophet(SeasonalityMode::Additive),
                    "prophet_multiplicative" => prophet(SeasonalityMode::Multiplicative),
                    other => ModelSpec::from_name(other).ok_or_else(|| {
                        format!(
                            "baselines.models: unknown model `{other}`; known: {}",
                            MODEL_NAMES.join(", ")
                        )
                    })?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_models_and_mistakes_are_named() {
        let c = BaselinesConfig {
            models: vec!["seasonal_naive".into(), "prophet_multiplicative".into()],
            ..BaselinesConfig::default()
        };
        let specs = c.specs().unwrap();
        assert_eq!(specs[0], ModelSpec::SeasonalNaive);
        assert_eq!(specs[1].label(), "ProphetMultiplicative");
        let bad = BaselinesConfig {
            models: vec!["arima".into(), "prohpet".into()],
            ..c.clone()
        };
        let e = bad.specs().unwrap_err();
        assert!(
            e.contains("`prohpet`") && e.contains("prophet_additive"),
            "{e}"
        );
        let twice = BaselinesConfig {
            models: vec!["ets".into(), "ets".into()],
            ..c
        };
        assert!(twice.specs().unwrap_err().contains("twice"));
    }
}
