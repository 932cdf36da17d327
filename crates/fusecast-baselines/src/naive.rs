//! Naive (last value) and SeasonalNaive (value one season ago), with statsforecast's Gaussian
//! intervals: sigma from the in-sample one-step (one-season) residuals, widened by sqrt(h) for the
//! naive model and by sqrt(number of whole seasons ahead) for the seasonal one.

use serde::{Deserialize, Serialize};

use crate::{BaselineError, Fitted, Prediction, Result, SeriesInput};

/// The repeated season (period 1 = the naive model) and the residual scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeasonalNaiveFit {
    pub period: usize,
    /// The last `period` observations, oldest first.
    pub last_season: Vec<f64>,
    /// Root mean square of y_t - y_{t-period} over the training data.
    pub sigma: f64,
}

/// Fits the seasonal naive model with the input's main period.
pub fn seasonal_naive(input: &SeriesInput) -> Result<SeasonalNaiveFit> {
    fit(input.y, input.period.max(1), "SeasonalNaive")
}

/// Fits the naive (random walk) model.
pub fn naive(input: &SeriesInput) -> Result<SeasonalNaiveFit> {
    fit(input.y, 1, "Naive")
}

fn fit(y: &[f64], period: usize, model: &str) -> Result<SeasonalNaiveFit> {
    if y.len() < period {
        return Err(BaselineError::TooShort {
            model: model.to_string(),
            needed: period,
            got: y.len(),
        });
    }
    if let Some((position, &value)) = y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(BaselineError::NonFinite { position, value });
    }
    let residuals = y.len() - period;
    let sigma = if residuals > 0 {
        let ss: f64 = (period..y.len())
            .map(|t| (y[t] - y[t - period]).powi(2))
            .sum();
        (ss / residuals as f64).sqrt()
    } else {
        0.0
    };
    Ok(SeasonalNaiveFit {
        period,
        last_season: y[y.len() - period..].to_vec(),
        sigma,
    })
}

impl Fitted for SeasonalNaiveFit {
    fn forecast(&self, h: usize, levels: &[f64]) -> Prediction {
        let m = self.period;
        let mean = (0..h).map(|i| self.last_season[i % m]).collect();
        let sd: Vec<f64> = (0..h)
            .map(|i| self.sigma * ((i / m + 1) as f64).sqrt())
            .collect();
        Prediction::gaussian(mean, &sd, levels)
    }

    fn describe(&self) -> String {
        if self.period == 1 {
            "Naive".into()
        } else {
            format!("SeasonalNaive[{}]", self.period)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_the_last_season_and_widens_per_whole_season() {
        let y: Vec<f64> = (0..21).map(|t| (t % 7) as f64 + (t / 7) as f64).collect();
        let fit = seasonal_naive(&SeriesInput::daily(&y)).unwrap();
        // Every one-season difference is exactly 1.
        assert!((fit.sigma - 1.0).abs() < 1e-12);
        let p = fit.forecast(9, &[0.5, 0.9]);
        assert_eq!(p.mean, vec![2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 2.0, 3.0]);
        let q90 = p.quantile(0.9).unwrap();
        let z = crate::prediction::normal_quantile(0.9);
        assert!((q90[6] - 8.0 - z).abs() < 1e-12);
        assert!((q90[7] - 2.0 - z * 2f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn naive_is_a_random_walk() {
        let y = [1.0, 3.0, 2.0, 4.0];
        let fit = naive(&SeriesInput::daily(&y)).unwrap();
        let expected_sigma = ((4.0 + 1.0 + 4.0) / 3.0f64).sqrt();
        assert!((fit.sigma - expected_sigma).abs() < 1e-12);
        let p = fit.forecast(4, &[0.9]);
        assert_eq!(p.mean, vec![4.0; 4]);
        let z = crate::prediction::normal_quantile(0.9);
        assert!((p.quantiles[0][3] - 4.0 - z * expected_sigma * 2.0).abs() < 1e-12);
    }

    #[test]
    fn too_short_and_non_finite_are_errors() {
        let short = [1.0, 2.0];
        assert!(matches!(
            seasonal_naive(&SeriesInput::daily(&short)),
            Err(BaselineError::TooShort {
                needed: 7,
                got: 2,
                ..
            })
        ));
        let bad = [1.0, f64::NAN, 2.0];
        assert!(matches!(
            naive(&SeriesInput::daily(&bad)),
            Err(BaselineError::NonFinite { position: 1, .. })
        ));
    }
}
