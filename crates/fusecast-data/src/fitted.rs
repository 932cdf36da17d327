//! What a trained model needs of its data stage to forecast again, fitted once on the training
//! panel and saved with the model: the feature layout with its vocabularies, the target scalers,
//! the covariate scales, the window spec and split, the time grid and the data fingerprint.
//! A [`WindowDataset`] rebuilt from them codes and scales every input exactly as in training,
//! whatever the data it is given later (a changed zone list cannot shift the codes).

use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::panel::Panel;
use crate::scale::TargetScaler;
use crate::time::TimeGrid;
use crate::window::{CovariateScale, FeatureLayout, TimeSplit, WindowDataset, WindowSpec};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FittedFeatures {
    pub target: String,
    /// The training panel's time grid.
    pub grid: TimeGrid,
    /// The series the scalers were fitted on, in the order of `scaler.series`.
    pub series: Vec<String>,
    pub spec: WindowSpec,
    pub split: TimeSplit,
    pub layout: FeatureLayout,
    pub scaler: TargetScaler,
    pub covariate_scales: Vec<CovariateScale>,
    pub static_real_scales: Vec<CovariateScale>,
    pub data_fingerprint: String,
    /// Series of `series` too short for a training window: the model has no scale for them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<String>,
}

/// A category the saved vocabulary does not know: it is coded as unknown (code 0), on purpose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UnknownCategory {
    pub variable: String,
    pub value: String,
    /// How many series carry it.
    pub series: usize,
}

impl WindowDataset<'_> {
    /// The fitted features of this dataset, to save with a model.
    pub fn fitted(&self) -> FittedFeatures {
        FittedFeatures {
            target: self.panel.target_name.clone(),
            grid: self.panel.grid,
            series: self.panel.series.clone(),
            spec: self.spec,
            split: self.split,
            layout: self.layout.clone(),
            scaler: self.scaler.clone(),
            covariate_scales: self.covariate_scales.clone(),
            static_real_scales: self.static_real_scales.clone(),
            data_fingerprint: self.panel.fingerprint(),
            left_out: self
                .left_out
                .iter()
                .map(|&s| self.panel.series[s].clone())
                .collect(),
        }
    }
}

fn mismatch(what: String) -> DataError {
    DataError::Invalid(format!("the data do not fit the saved model: {what}"))
}

impl FittedFeatures {
    /// Checks what every panel given to this model must share with its training panel (target,
    /// frequency, variables) and returns the categories its vocabularies do not know.
    fn check(&self, panel: &Panel) -> Result<Vec<UnknownCategory>> {
        if panel.target_name != self.target {
            return Err(mismatch(format!(
                "the target is {:?}, the model forecasts {:?}",
                panel.target_name, self.target
            )));
        }
        if panel.grid.frequency != self.grid.frequency {
            return Err(mismatch(format!(
                "the data are {}, the model's {}",
                panel.grid.frequency.label(),
                self.grid.frequency.label()
            )));
        }
        let layout = FeatureLayout::fit(panel)?
            .leaving_out(self.layout.left_out.clone())
            .with_profile(self.layout.profile_seasons);
        if let Some(d) = self.layout.variables_differ(&layout) {
            return Err(mismatch(d));
        }
        let mut unknown: Vec<UnknownCategory> = Vec::new();
        for (voc, st) in self.layout.static_categoricals[1..]
            .iter()
            .zip(&panel.statics)
        {
            for v in &st.values {
                if voc.knows(v) {
                    continue;
                }
                match unknown
                    .iter_mut()
                    .find(|u| u.variable == voc.name && &u.value == v)
                {
                    Some(u) => u.series += 1,
                    None => unknown.push(UnknownCategory {
                        variable: voc.name.clone(),
                        value: v.clone(),
                        series: 1,
                    }),
                }
            }
        }
        Ok(unknown)
    }

    /// The indices of the series of `ids` the model left out of training (sorted).
    fn left_out_of(&self, ids: &[String]) -> Vec<usize> {
        (0..ids.len())
            .filter(|&s| self.left_out.contains(&ids[s]))
            .collect()
    }

    /// The series of `ids` the model was not fitted on.
    pub fn unknown_series<'s>(&self, ids: &'s [String]) -> Vec<&'s str> {
        ids.iter()
            .filter(|id| !self.series.contains(id))
            .map(String::as_str)
            .collect()
    }
}

impl<'a> WindowDataset<'a> {
    /// Windows over `panel` with saved features instead of fitting new ones. The panel must
    /// hold the model's series (same order), target and variables on the same grid origin, at
    /// least up to the end of the training split; categories the vocabularies do not know are
    /// returned (they code as unknown).
    pub fn from_fitted(
        panel: &'a Panel,
        fitted: &FittedFeatures,
    ) -> Result<(Self, Vec<UnknownCategory>)> {
        if panel.grid.start != fitted.grid.start {
            return Err(mismatch(format!(
                "the grid starts at {}, the model's at {}",
                crate::time::format_timestamp(panel.grid.start),
                crate::time::format_timestamp(fitted.grid.start),
            )));
        }
        if let Some(s) = panel
            .series
            .iter()
            .zip(&fitted.series)
            .position(|(a, b)| a != b)
            .or_else(|| {
                (panel.series.len() != fitted.series.len())
                    .then_some(panel.series.len().min(fitted.series.len()))
            })
        {
            return Err(mismatch(format!(
                "series {} is {:?} in the data and {:?} in the model ({} and {} series)",
                s + 1,
                panel.series.get(s).map_or("none", String::as_str),
                fitted.series.get(s).map_or("none", String::as_str),
                panel.series.len(),
                fitted.series.len()
            )));
        }
        if panel.len() < fitted.split.val_end {
            return Err(mismatch(format!(
                "{} periods, fewer than the {} the model was trained and validated on",
                panel.len(),
                fitted.split.val_end
            )));
        }
        let unknown = fitted.check(panel)?;
        let split = TimeSplit {
            len: panel.len(),
            ..fitted.split
        };
        Ok((
            WindowDataset {
                panel,
                spec: fitted.spec,
                split,
                scaler: fitted.scaler.clone(),
                layout: fitted.layout.clone(),
                covariate_scales: fitted.covariate_scales.clone(),
                static_real_scales: fitted.static_real_scales.clone(),
                left_out: fitted.left_out_of(&panel.series),
            },
            unknown,
        ))
    }

    /// Windows for forecasting over `panel`, which may start anywhere on the model's grid and
    /// hold any of the model's series in any order: each series keeps the target scale it was
    /// fitted with. A series the model does not know is an error (the caller decides whether it
    /// gets a fallback). The whole panel is one part: nothing in it trains or validates.
    pub fn for_forecast(
        panel: &'a Panel,
        fitted: &FittedFeatures,
    ) -> Result<(Self, Vec<UnknownCategory>)> {
        let unknown = fitted.check(panel)?;
        let step = fitted.grid.frequency.step_seconds();
        if (panel.grid.start - fitted.grid.start).rem_euclid(step) != 0 {
            return Err(mismatch(format!(
                "the grid starts at {}, off the model's {} grid from {}",
                crate::time::format_timestamp(panel.grid.start),
                fitted.grid.frequency.label(),
                crate::time::format_timestamp(fitted.grid.start),
            )));
        }
        let new = fitted.unknown_series(&panel.series);
        if !new.is_empty() {
            return Err(mismatch(format!(
                "{} series the model was not trained on: {}",
                new.len(),
                new.iter()
                    .take(10)
                    .map(|s| format!("{s:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let series = panel
            .series
            .iter()
            .map(|id| {
                let i = fitted.series.iter().position(|s| s == id).expect("checked");
                fitted.scaler.series[i]
            })
            .collect();
        Ok((
            WindowDataset {
                panel,
                spec: fitted.spec,
                split: TimeSplit {
                    train_end: panel.len(),
                    val_end: panel.len(),
                    len: panel.len(),
                },
                scaler: crate::scale::TargetScaler {
                    transform: fitted.scaler.transform,
                    series,
                    normalizer: fitted.scaler.normalizer,
                },
                layout: fitted.layout.clone(),
                covariate_scales: fitted.covariate_scales.clone(),
                static_real_scales: fitted.static_real_scales.clone(),
                left_out: fitted.left_out_of(&panel.series),
            },
            unknown,
        ))
    }
}
