//! A model's forecast for one series: the mean path and quantile paths.

use serde::{Deserialize, Serialize};

/// Forecast for steps 1..=h past the training data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub mean: Vec<f64>,
    /// Quantile levels (probabilities in (0, 1)), ascending.
    pub levels: Vec<f64>,
    /// `quantiles[k][i]`: the `levels[k]` quantile at step `i + 1`.
    pub quantiles: Vec<Vec<f64>>,
}

impl Prediction {
    /// Gaussian forecast distribution with standard deviation `sd[i]` at step `i + 1`.
    pub fn gaussian(mean: Vec<f64>, sd: &[f64], levels: &[f64]) -> Self {
        assert_eq!(mean.len(), sd.len(), "one standard deviation per step");
        let quantiles = levels
            .iter()
            .map(|&p| {
                let z = normal_quantile(p);
                mean.iter().zip(sd).map(|(m, s)| m + z * s).collect()
            })
            .collect();
        Self {
            mean,
            levels: levels.to_vec(),
            quantiles,
        }
    }

    /// Empirical quantiles of sample paths (`paths[s][i]`: sample `s` at step `i + 1`), e.g. from
    /// simulation; the mean is the given point forecast.
    pub fn from_samples(mean: Vec<f64>, paths: &[Vec<f64>], levels: &[f64]) -> Self {
        let h = mean.len();
        let mut column = Vec::with_capacity(paths.len());
        let mut quantiles = vec![Vec::with_capacity(h); levels.len()];
        for i in 0..h {
            column.clear();
            column.extend(paths.iter().map(|p| p[i]));
            column.sort_by(f64::total_cmp);
            for (k, &p) in levels.iter().enumerate() {
                quantiles[k].push(empirical_quantile(&column, p));
            }
        }
        Self {
            mean,
            levels: levels.to_vec(),
            quantiles,
        }
    }

    pub fn horizon(&self) -> usize {
        self.mean.len()
    }

    /// The quantile path at `level`, if that level was asked for (to 1e-9).
    pub fn quantile(&self, level: f64) -> Option<&[f64]> {
        self.levels
            .iter()
            .position(|&l| (l - level).abs() < 1e-9)
            .map(|k| self.quantiles[k].as_slice())
    }
}

/// Linear interpolation between order statistics (numpy's default, "type 7").
pub fn empirical_quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = p.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Inverse of the standard normal CDF (Wichura's AS241, relative error ~1e-16).
pub fn normal_quantile(p: f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        return q * poly(&A, r) / poly(&B, r);
    }
    let r = if q < 0.0 { p } else { 1.0 - p };
    let r = (-r.ln()).sqrt();
    let x = if r <= 5.0 {
        let r = r - 1.6;
        poly(&C, r) / poly(&D, r)
    } else {
        let r = r - 5.0;
        poly(&E, r) / poly(&F, r)
    };
    if q < 0.0 {
        -x
    } else {
        x
    }
}

fn poly(c: &[f64; 8], x: f64) -> f64 {
    c.iter().rev().fold(0.0, |acc, &k| acc * x + k)
}

const A: [f64; 8] = [
    3.387_132_872_796_366_5,
    133.141_667_891_784_38,
    1_971.590_950_306_551_3,
    13_731.693_765_509_46,
    45_921.953_931_549_87,
    67_265.770_927_008_7,
    33_430.575_583_588_13,
    2_509.080_928_730_122_7,
];
const B: [f64; 8] = [
    1.0,
    42.313_330_701_600_91,
    687.187_007_492_057_9,
    5_394.196_021_424_751,
    21_213.794_301_586_597,
    39_307.895_800_092_71,
    28_729.085_735_721_943,
    5_226.495_278_852_545,
];
const C: [f64; 8] = [
    1.423_437_110_749_683_5,
    4.630_337_846_156_546,
    5.769_497_221_460_691,
    3.647_848_324_763_204_5,
    1.270_458_252_452_368_4,
    0.241_780_725_177_450_6,
    0.022_723_844_989_269_184,
    7.745_450_142_783_414e-4,
];
const D: [f64; 8] = [
    1.0,
    2.053_191_626_637_759,
    1.676_384_830_183_803_8,
    0.689_767_334_985_1,
    0.148_103_976_427_480_08,
    0.015_198_666_563_616_457,
    5.475_938_084_995_345e-4,
    1.050_750_071_644_416_9e-9,
];
const E: [f64; 8] = [
    6.657_904_643_501_103,
    5.463_784_911_164_114,
    1.784_826_539_917_291_3,
    0.296_560_571_828_504_9,
    0.026_532_189_526_576_124,
    0.001_242_660_947_388_078_4,
    2.711_555_568_743_487_6e-5,
    2.010_334_399_292_288e-7,
];
const F: [f64; 8] = [
    1.0,
    0.599_832_206_555_888,
    0.136_929_880_922_735_8,
    0.014_875_361_290_850_615,
    7.868_691_311_456_133e-4,
    1.846_318_317_510_054_8e-5,
    1.421_511_758_316_446e-7,
    2.044_263_103_389_939_7e-15,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantiles_match_tables() {
        // Published values of the standard normal quantile function.
        for (p, z) in [
            (0.5, 0.0),
            (0.9, 1.281_551_565_544_600_4),
            (0.975, 1.959_963_984_540_054),
            (0.1, -1.281_551_565_544_600_4),
            (0.999, 3.090_232_306_167_813_5),
            (1e-10, -6.361_340_902_404_056),
        ] {
            assert!((normal_quantile(p) - z).abs() < 1e-12, "p={p}");
        }
    }

    #[test]
    fn gaussian_quantiles_are_symmetric_about_the_mean() {
        let p = Prediction::gaussian(vec![10.0, 20.0], &[1.0, 2.0], &[0.1, 0.5, 0.9]);
        assert_eq!(p.quantile(0.5).unwrap(), &[10.0, 20.0]);
        let lo = p.quantile(0.1).unwrap();
        let hi = p.quantile(0.9).unwrap();
        assert!((hi[1] - 20.0 - (20.0 - lo[1])).abs() < 1e-12);
        assert!((hi[1] - 20.0 - 2.0 * 1.281_551_565_544_600_4).abs() < 1e-12);
    }

    #[test]
    fn sample_quantiles_interpolate() {
        let paths: Vec<Vec<f64>> = (0..=10).map(|s| vec![s as f64]).collect();
        let p = Prediction::from_samples(vec![5.0], &paths, &[0.1, 0.55]);
        assert!((p.quantiles[0][0] - 1.0).abs() < 1e-12);
        assert!((p.quantiles[1][0] - 5.5).abs() < 1e-12);
    }
}
