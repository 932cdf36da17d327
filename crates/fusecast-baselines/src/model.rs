//! The baseline models by name: what a config lists, how each is fitted, and the fitted model as
//! one serializable value (saved per series so forecasts can be reproduced without refitting).

use serde::{Deserialize, Serialize};

use crate::arima::{auto_arima, ArimaFit, ArimaSpec};
use crate::ets::{auto_ets, EtsFit, EtsSpec};
use crate::mstl::{mstl, MstlFit, MstlSpec};
use crate::naive::{naive, seasonal_naive, SeasonalNaiveFit};
use crate::prophet::{prophet, ProphetFit, ProphetSpec, SeasonalityMode};
use crate::{Fitted, Prediction, Result, SeriesInput};

/// One model to fit on every series, with its settings.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelSpec {
    Naive,
    SeasonalNaive,
    Ets(EtsSpec),
    Arima(ArimaSpec),
    Prophet(ProphetSpec),
    Mstl(MstlSpec),
}

/// The names a config may use, in the order reports list them.
pub const MODEL_NAMES: &[&str] = &[
    "naive",
    "seasonal_naive",
    "ets",
    "arima",
    "prophet_additive",
    "prophet_multiplicative",
    "mstl",
];

impl ModelSpec {
    /// The model a config name stands for, with default settings.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "naive" => Self::Naive,
            "seasonal_naive" => Self::SeasonalNaive,
            "ets" => Self::Ets(EtsSpec::default()),
            "arima" => Self::Arima(ArimaSpec::default()),
            "prophet_additive" => Self::Prophet(ProphetSpec {
                mode: SeasonalityMode::Additive,
                ..ProphetSpec::default()
            }),
            "prophet_multiplicative" => Self::Prophet(ProphetSpec {
                mode: SeasonalityMode::Multiplicative,
                ..ProphetSpec::default()
            }),
            "mstl" => Self::Mstl(MstlSpec::default()),
            _ => return None,
        })
    }

    /// The column / row label of this model in forecasts and reports (statsforecast's names).
    pub fn label(&self) -> &'static str {
        match self {
            Self::Naive => "Naive",
            Self::SeasonalNaive => "SeasonalNaive",
            Self::Ets(_) => "AutoETS",
            Self::Arima(_) => "AutoARIMA",
            Self::Prophet(p) if p.mode == SeasonalityMode::Multiplicative => {
                "ProphetMultiplicative"
            }
            Self::Prophet(_) => "ProphetAdditive",
            Self::Mstl(_) => "MSTL",
        }
    }

    /// Fits this model on one series.
    pub fn fit(&self, input: &SeriesInput) -> Result<FittedModel> {
        Ok(match self {
            Self::Naive => FittedModel::SeasonalNaive(naive(input)?),
            Self::SeasonalNaive => FittedModel::SeasonalNaive(seasonal_naive(input)?),
            Self::Ets(spec) => FittedModel::Ets(auto_ets(input, spec)?),
            Self::Arima(spec) => FittedModel::Arima(auto_arima(input, spec)?),
            Self::Prophet(spec) => FittedModel::Prophet(prophet(input, spec)?),
            Self::Mstl(spec) => FittedModel::Mstl(mstl(input, spec)?),
        })
    }
}

/// A fitted model of any kind, tagged in JSON by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FittedModel {
    SeasonalNaive(SeasonalNaiveFit),
    Ets(EtsFit),
    Arima(ArimaFit),
    Prophet(ProphetFit),
    Mstl(MstlFit),
}

impl FittedModel {
    fn inner(&self) -> &dyn Fitted {
        match self {
            Self::SeasonalNaive(f) => f,
            Self::Ets(f) => f,
            Self::Arima(f) => f,
            Self::Prophet(f) => f,
            Self::Mstl(f) => f,
        }
    }
}

impl Fitted for FittedModel {
    fn forecast(&self, h: usize, levels: &[f64]) -> Prediction {
        self.inner().forecast(h, levels)
    }

    fn describe(&self) -> String {
        self.inner().describe()
    }
}
