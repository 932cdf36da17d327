//! Per-series target scaling fitted on the training part only (the GroupNormalizer idea of
//! PyTorch Forecasting): transform (log1p or softplus), then centre and scale per series.

use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::panel::Panel;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetTransform {
    None,
    /// `ln(1 + y)`: counts with zeros.
    #[default]
    Log1p,
    /// Inverse softplus forward, softplus back: outputs stay positive (PF's "softplus").
    Softplus,
}

/// Below this a count is treated as this, since inverse softplus diverges at 0.
const SOFTPLUS_FLOOR: f64 = 1e-3;

impl TargetTransform {
    pub fn forward(self, y: f64) -> f64 {
        match self {
            TargetTransform::None => y,
            TargetTransform::Log1p => y.ln_1p(),
            TargetTransform::Softplus => {
                let y = y.max(SOFTPLUS_FLOOR);
                // ln(e^y - 1) = y + ln(1 - e^-y), stable for large y.
                y + (-(-y).exp()).ln_1p()
            }
        }
    }

    pub fn inverse(self, z: f64) -> f64 {
        match self {
            TargetTransform::None => z,
            TargetTransform::Log1p => z.exp_m1(),
            TargetTransform::Softplus => z.max(0.0) + (-z.abs()).exp().ln_1p(),
        }
    }

    /// Whether the transform needs a non-negative target.
    pub fn needs_non_negative(self) -> bool {
        !matches!(self, TargetTransform::None)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesScale {
    pub center: f64,
    pub scale: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetScaler {
    pub transform: TargetTransform,
    pub series: Vec<SeriesScale>,
}

impl TargetScaler {
    /// Fits mean and standard deviation of the transformed target over the observed periods
    /// of each series before `train_end` (its own training part: a series that starts late is
    /// scaled by what it has, missing periods left out). A constant series gets scale 1 so that
    /// it is shifted, never blown up; a series with no training value gets centre 0 and scale 1,
    /// a placeholder for a series the model leaves out.
    pub fn fit(panel: &Panel, transform: TargetTransform, train_end: usize) -> Result<Self> {
        if train_end == 0 || train_end > panel.len() {
            return Err(DataError::Invalid(format!(
                "cannot fit target scales on {train_end} of {} periods",
                panel.len()
            )));
        }
        let mut series = Vec::with_capacity(panel.n_series());
        for s in 0..panel.n_series() {
            let span = panel.span(s);
            let first = span.first.min(train_end);
            let values = &panel.values(s)[first..span.end.clamp(first, train_end)];
            if transform.needs_non_negative() {
                if let Some(k) = values.iter().position(|v| *v < 0.0) {
                    return Err(DataError::Invalid(format!(
                        "series {:?} has a negative target {} at period {}; the {transform:?} transform needs y >= 0 (use transform = \"none\")",
                        panel.series[s], values[k], first + k
                    )));
                }
            }
            let z: Vec<f64> = values
                .iter()
                .filter(|v| !v.is_nan())
                .map(|v| transform.forward(*v))
                .collect();
            if z.is_empty() {
                series.push(SeriesScale {
                    center: 0.0,
                    scale: 1.0,
                });
                continue;
            }
            let n = z.len() as f64;
            let mean = z.iter().sum::<f64>() / n;
            let var = z.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
            let std = var.sqrt();
            series.push(SeriesScale {
                center: mean,
                scale: if std > 1e-6 { std } else { 1.0 },
            });
        }
        Ok(TargetScaler { transform, series })
    }

    #[inline]
    pub fn scale(&self, series: usize, y: f64) -> f32 {
        let p = self.series[series];
        ((self.transform.forward(y) - p.center) / p.scale) as f32
    }

    #[inline]
    pub fn unscale(&self, series: usize, z: f64) -> f64 {
        let p = self.series[series];
        self.transform.inverse(z * p.scale + p.center)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{parse_date, Frequency, TimeGrid};

    #[test]
    fn transforms_round_trip() {
        for t in [
            TargetTransform::None,
            TargetTransform::Log1p,
            TargetTransform::Softplus,
        ] {
            for y in [0.5, 1.0, 7.0, 250.0, 12_000.0] {
                let back = t.inverse(t.forward(y));
                assert!((back - y).abs() < 1e-9 * y.max(1.0), "{t:?} {y} -> {back}");
            }
        }
        assert!(TargetTransform::Softplus.inverse(-50.0) > 0.0);
    }

    #[test]
    fn scales_use_only_the_training_part() {
        let grid = TimeGrid::from_days(
            parse_date("2020-01-01").unwrap(),
            parse_date("2020-01-06").unwrap(),
            Frequency::Daily,
        );
        // Training part [1, 3, 5, 3]; the 1000s afterwards must not leak into the scale.
        let panel = Panel::new(
            grid,
            "y",
            vec!["a".into(), "b".into()],
            vec![
                1.0, 3.0, 5.0, 3.0, 1000.0, 1000.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0,
            ],
        )
        .unwrap();
        let sc = TargetScaler::fit(&panel, TargetTransform::None, 4).unwrap();
        assert_eq!(sc.series[0].center, 3.0);
        assert!((sc.series[0].scale - 2f64.sqrt()).abs() < 1e-12);
        assert_eq!(
            sc.series[1],
            SeriesScale {
                center: 4.0,
                scale: 1.0
            }
        );
        assert_eq!(sc.scale(0, 5.0), 2f64.sqrt() as f32);
        assert!((sc.unscale(0, sc.scale(0, 1000.0) as f64) - 1000.0).abs() < 1e-3);
    }
}
