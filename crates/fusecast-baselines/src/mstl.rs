//! MSTL (being written): multiple seasonal-trend decomposition by loess, trend forecast by ETS.

use serde::{Deserialize, Serialize};

use crate::{BaselineError, Fitted, Prediction, Result, SeriesInput};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MstlSpec {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MstlFit {}

pub fn mstl(_input: &SeriesInput, _spec: &MstlSpec) -> Result<MstlFit> {
    Err(BaselineError::FitFailed {
        model: "MSTL".into(),
        message: "not built yet".into(),
    })
}

impl Fitted for MstlFit {
    fn forecast(&self, _h: usize, _levels: &[f64]) -> Prediction {
        unimplemented!("MSTL is being written")
    }
    fn describe(&self) -> String {
        "MSTL".into()
    }
}
