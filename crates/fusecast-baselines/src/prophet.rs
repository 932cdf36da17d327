//! Prophet-style model (being written): piecewise-linear trend, Fourier seasonalities, holidays, MAP fit.

use serde::{Deserialize, Serialize};

use crate::{BaselineError, Fitted, Prediction, Result, SeriesInput};

/// How seasonality and holidays combine with the trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeasonalityMode {
    #[default]
    Additive,
    Multiplicative,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProphetSpec {
    pub mode: SeasonalityMode,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProphetFit {}

pub fn prophet(_input: &SeriesInput, spec: &ProphetSpec) -> Result<ProphetFit> {
    Err(BaselineError::FitFailed {
        model: format!("Prophet({:?})", spec.mode),
        message: "not built yet".into(),
    })
}

impl Fitted for ProphetFit {
    fn forecast(&self, _h: usize, _levels: &[f64]) -> Prediction {
        unimplemented!("Prophet is being written")
    }
    fn describe(&self) -> String {
        "Prophet".into()
    }
}
