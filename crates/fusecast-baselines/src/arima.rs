//! AutoARIMA (being written): Hyndman-Khandakar stepwise search.

use serde::{Deserialize, Serialize};

use crate::{BaselineError, Fitted, Prediction, Result, SeriesInput};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArimaSpec {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArimaFit {}

pub fn auto_arima(_input: &SeriesInput, _spec: &ArimaSpec) -> Result<ArimaFit> {
    Err(BaselineError::FitFailed {
        model: "AutoARIMA".into(),
        message: "not built yet".into(),
    })
}

impl Fitted for ArimaFit {
    fn forecast(&self, _h: usize, _levels: &[f64]) -> Prediction {
        unimplemented!("AutoARIMA is being written")
    }
    fn describe(&self) -> String {
        "ARIMA".into()
    }
}
