//! AutoETS (being written): exponential smoothing state-space models, chosen by AICc.

use serde::{Deserialize, Serialize};

use crate::{BaselineError, Fitted, Prediction, Result, SeriesInput};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EtsSpec {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EtsFit {}

pub fn auto_ets(_input: &SeriesInput, _spec: &EtsSpec) -> Result<EtsFit> {
    Err(BaselineError::FitFailed {
        model: "AutoETS".into(),
        message: "not built yet".into(),
    })
}

impl Fitted for EtsFit {
    fn forecast(&self, _h: usize, _levels: &[f64]) -> Prediction {
        unimplemented!("AutoETS is being written")
    }
    fn describe(&self) -> String {
        "ETS".into()
    }
}
