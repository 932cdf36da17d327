//! Hyper-parameters and the variable layout of a TFT. Every field is reachable from the TOML
//! config; defaults are PyTorch Forecasting's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A categorical input column of `x_cat`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Categorical {
    pub name: String,
    pub cardinality: usize,
    /// Defaults to PF's rule `min(round(1.6 * n^0.56), 100)`, capped at the hidden size.
    pub embedding_size: Option<usize>,
}

/// Default quantiles of PyTorch Forecasting's `QuantileLoss`.
pub const PF_QUANTILES: [f64; 7] = [0.02, 0.1, 0.25, 0.5, 0.75, 0.9, 0.98];

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TftConfig {
    pub hidden_size: usize,
    pub attention_heads: usize,
    pub dropout: f64,
    pub hidden_continuous_size: usize,
    pub lstm_layers: usize,
    pub quantiles: Vec<f64>,
    /// Sort each step's quantile outputs so they never cross (off = PF behaviour).
    pub sort_quantiles: bool,
    /// Embedding size per categorical name, overriding PF's size rule.
    pub embedding_sizes: BTreeMap<String, usize>,
    // The variables come from the data (its feature layout), not from the TOML `[model]`
    // section: they are left out of the resolved config while empty and refused there
    // ([`TftConfig::check_no_variables`]), and written in full with a model artifact.
    /// Columns of `x_cat`, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categoricals: Vec<Categorical>,
    /// Columns of `x_cont`, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reals: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub static_categoricals: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub static_reals: Vec<String>,
    /// Time-varying inputs seen over the encoder (known and observed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub encoder_categoricals: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub encoder_reals: Vec<String>,
    /// Time-varying inputs known over the forecast window.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decoder_categoricals: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decoder_reals: Vec<String>,
}

impl Default for TftConfig {
    fn default() -> Self {
        TftConfig {
            hidden_size: 16,
            attention_heads: 4,
            // PF's default is 0.1; 0.3 was better on every panel of scripts/bench/accuracy.sh
            // (3 seeds: flights -3.5%, taxi -1.3%, synthetic -0.1% MASE).
            dropout: 0.3,
            hidden_continuous_size: 8,
            lstm_layers: 1,
            quantiles: PF_QUANTILES.to_vec(),
            sort_quantiles: false,
            embedding_sizes: BTreeMap::new(),
            categoricals: Vec::new(),
            reals: Vec::new(),
            static_categoricals: Vec::new(),
            static_reals: Vec::new(),
            encoder_categoricals: Vec::new(),
            encoder_reals: Vec::new(),
            decoder_categoricals: Vec::new(),
            decoder_reals: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("model.{key}: {message}")]
    Invalid { key: String, message: String },
}

fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_string(),
        message: message.into(),
    }
}

impl TftConfig {
    pub fn embedding_size(&self, c: &Categorical) -> usize {
        c.embedding_size
            .or_else(|| self.embedding_sizes.get(&c.name).copied())
            .unwrap_or_else(|| {
                let rule = (1.6 * (c.cardinality as f64).powf(0.56)).round() as usize;
                rule.clamp(1, 100).min(self.hidden_size)
            })
    }

    pub fn categorical_index(&self, name: &str) -> Option<usize> {
        self.categoricals.iter().position(|c| c.name == name)
    }

    pub fn real_index(&self, name: &str) -> Option<usize> {
        self.reals.iter().position(|r| r == name)
    }

    /// Checks the hyper-parameters (what the TOML `[model]` section sets).
    pub fn validate_hyper(&self) -> Result<(), ConfigError> {
        if self.hidden_size == 0 || self.hidden_continuous_size == 0 || self.lstm_layers == 0 {
            return Err(invalid(
                "hidden_size",
                "hidden_size, hidden_continuous_size and lstm_layers must be at least 1",
            ));
        }
        if self.attention_heads == 0 || !self.hidden_size.is_multiple_of(self.attention_heads) {
            return Err(invalid(
                "attention_heads",
                format!(
                    "{} heads do not divide hidden_size {}",
                    self.attention_heads, self.hidden_size
                ),
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(invalid(
                "dropout",
                format!("{} is not in [0, 1)", self.dropout),
            ));
        }
        if self.quantiles.is_empty() || self.quantiles.iter().any(|q| !(*q > 0.0 && *q < 1.0)) {
            return Err(invalid(
                "quantiles",
                "need at least one quantile, each in (0, 1)",
            ));
        }
        if let Some((name, _)) = self.embedding_sizes.iter().find(|(_, v)| **v == 0) {
            return Err(invalid("embedding_sizes", format!("{name:?} has size 0")));
        }
        Ok(())
    }

    /// The variables are the data's to set: a TOML `[model]` section naming one is refused.
    pub fn check_no_variables(&self) -> Result<(), ConfigError> {
        for (key, empty) in [
            ("categoricals", self.categoricals.is_empty()),
            ("reals", self.reals.is_empty()),
            ("static_categoricals", self.static_categoricals.is_empty()),
            ("static_reals", self.static_reals.is_empty()),
            ("encoder_categoricals", self.encoder_categoricals.is_empty()),
            ("encoder_reals", self.encoder_reals.is_empty()),
            ("decoder_categoricals", self.decoder_categoricals.is_empty()),
            ("decoder_reals", self.decoder_reals.is_empty()),
        ] {
            if !empty {
                return Err(invalid(
                    key,
                    "the model's variables come from the data's feature layout ([features]), not from [model]",
                ));
            }
        }
        Ok(())
    }

    /// Checks the hyper-parameters and that every variable names an input column.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_hyper()?;
        for (key, names, cats) in [
            ("static_categoricals", &self.static_categoricals, true),
            ("encoder_categoricals", &self.encoder_categoricals, true),
            ("decoder_categoricals", &self.decoder_categoricals, true),
            ("static_reals", &self.static_reals, false),
            ("encoder_reals", &self.encoder_reals, false),
            ("decoder_reals", &self.decoder_reals, false),
        ] {
            for n in names {
                let found = if cats {
                    self.categorical_index(n).is_some()
                } else {
                    self.real_index(n).is_some()
                };
                if !found {
                    return Err(invalid(
                        key,
                        format!("{n:?} is not one of the input columns"),
                    ));
                }
            }
        }
        if self.encoder_categoricals.len() + self.encoder_reals.len() == 0 {
            return Err(invalid(
                "encoder_reals",
                "the encoder needs at least one input",
            ));
        }
        if self.decoder_categoricals.len() + self.decoder_reals.len() == 0 {
            return Err(invalid(
                "decoder_reals",
                "the decoder needs at least one known input",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedding_sizes_follow_pf_unless_overridden() {
        let mut c = TftConfig::default();
        let cat = |n: usize| Categorical {
            name: "x".into(),
            cardinality: n,
            embedding_size: None,
        };
        // PF: min(round(1.6 * n^0.56), 100), capped at hidden_size (16).
        assert_eq!(c.embedding_size(&cat(7)), 5);
        assert_eq!(c.embedding_size(&cat(263)), 16);
        c.embedding_sizes.insert("x".into(), 3);
        assert_eq!(c.embedding_size(&cat(263)), 3);
    }

    #[test]
    fn bad_hyper_parameters_name_the_key() {
        let bad = |f: fn(&mut TftConfig)| {
            let mut c = TftConfig::default();
            f(&mut c);
            c.validate_hyper().unwrap_err().to_string()
        };
        assert!(bad(|c| c.attention_heads = 3).contains("model.attention_heads"));
        assert!(bad(|c| c.dropout = 1.0).contains("model.dropout"));
        assert!(bad(|c| c.quantiles = vec![0.5, 1.5]).contains("model.quantiles"));
    }
}
