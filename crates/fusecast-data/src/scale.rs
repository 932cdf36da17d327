//! Target scaling: transform (log1p or softplus), then centre and scale, either per series from
//! its training part (PyTorch Forecasting's GroupNormalizer) or per window from the window's own
//! encoder (PF's EncoderNormalizer, RevIN): a series whose level moves after the training part
//! is then read at its current level, which a scale fitted once cannot follow.

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

/// Where a window's centre and scale come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetNormalizer {
    /// Mean and standard deviation of each series' training part, fitted once.
    #[default]
    Series,
    /// Mean and standard deviation of the window's encoder.
    Window,
    /// Median and interquartile range of the window's encoder: a few spikes in the encoder
    /// (holidays, outages) do not move the scale.
    WindowRobust,
}

/// A window's scale may not fall below this share of its series' scale: a flat encoder (a
/// closed store, a zone without trips) would otherwise blow the decoder target up by 1e6.
const MIN_WINDOW_SCALE: f64 = 0.1;

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesScale {
    pub center: f64,
    pub scale: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetScaler {
    pub transform: TargetTransform,
    /// Always fitted: the per-series scale, and with a per-window normalizer its floor.
    pub series: Vec<SeriesScale>,
    /// Artifacts saved before per-window scaling read as `Series`, which is what they used.
    #[serde(default)]
    pub normalizer: TargetNormalizer,
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
        Ok(TargetScaler {
            transform,
            series,
            normalizer: TargetNormalizer::Series,
        })
    }

    /// The centre and scale of a window of series `s` whose encoder holds `encoder` (raw
    /// values; missing ones skipped). With the `Series` normalizer the encoder is not read.
    pub fn of_window(&self, s: usize, encoder: &[f64]) -> SeriesScale {
        let fitted = self.series[s];
        if self.normalizer == TargetNormalizer::Series {
            return fitted;
        }
        let mut z: Vec<f64> = encoder
            .iter()
            .filter(|v| !v.is_nan())
            .map(|v| self.transform.forward(*v))
            .collect();
        if z.is_empty() {
            return fitted;
        }
        let (center, spread) = match self.normalizer {
            TargetNormalizer::Series => unreachable!("returned above"),
            TargetNormalizer::Window => {
                let n = z.len() as f64;
                let mean = z.iter().sum::<f64>() / n;
                let var = z.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
                (mean, var.sqrt())
            }
            TargetNormalizer::WindowRobust => {
                z.sort_by(f64::total_cmp);
                let q = |p: f64| quantile_sorted(&z, p);
                (q(0.5), q(0.75) - q(0.25))
            }
        };
        let floor = MIN_WINDOW_SCALE * fitted.scale;
        let scale = spread.max(floor);
        SeriesScale {
            center,
            scale: if scale > 1e-6 { scale } else { 1.0 },
        }
    }

    #[inline]
    pub fn scale_with(&self, p: SeriesScale, y: f64) -> f32 {
        ((self.transform.forward(y) - p.center) / p.scale) as f32
    }

    #[inline]
    pub fn unscale_with(&self, p: SeriesScale, z: f64) -> f64 {
        self.transform.inverse(z * p.scale + p.center)
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

/// The `p` quantile of sorted values, linear between order statistics (numpy's default).
fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
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
