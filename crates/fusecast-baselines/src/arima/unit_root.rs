//! How many differences: the KPSS level-stationarity test for ordinary differences and the STL
//! seasonal-strength heuristic for the seasonal one, as statsforecast's `ndiffs` / `nsdiffs`
//! (with statsmodels' KPSS and STL underneath).

use crate::mstl::stl::{stl, Stl, StlParams};

/// KPSS statistic against level stationarity with a Bartlett long-run variance over `lags` lags.
pub(crate) fn kpss_stat(x: &[f64], lags: usize) -> f64 {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let e: Vec<f64> = x.iter().map(|v| v - mean).collect();
    let mut s = 0.0;
    let mut eta = 0.0;
    for v in &e {
        s += v;
        eta += s * s;
    }
    eta /= n * n;
    let mut lrv: f64 = e.iter().map(|v| v * v).sum();
    for i in 1..=lags.min(e.len().saturating_sub(1)) {
        let prod: f64 = (i..e.len()).map(|t| e[t] * e[t - i]).sum();
        lrv += 2.0 * prod * (1.0 - i as f64 / (lags as f64 + 1.0));
    }
    eta / (lrv / n)
}

/// The 5% critical value of KPSS (level) from Kwiatkowski et al. (1992), table 1; statsmodels'
/// p-value interpolates that table, so "p < 0.05" is "statistic above 0.463".
const KPSS_CRIT_5: f64 = 0.463;

pub(crate) fn is_constant(x: &[f64]) -> bool {
    x.iter().all(|&v| v == x[0])
}

/// Number of first differences (at most `max_d`) until KPSS stops rejecting at 5%.
pub(crate) fn ndiffs(x: &[f64], max_d: usize) -> usize {
    let mut d = 0;
    if x.is_empty() || is_constant(x) {
        return 0;
    }
    let test = |x: &[f64]| -> Option<bool> {
        if x.len() < 2 {
            return None;
        }
        let lags = (3.0 * (x.len() as f64).sqrt() / 13.0).floor() as usize;
        let s = kpss_stat(x, lags);
        if s.is_nan() {
            None
        } else {
            Some(s > KPSS_CRIT_5)
        }
    };
    let mut x = x.to_vec();
    let Some(mut dodiff) = test(&x) else {
        return 0;
    };
    while dodiff && d < max_d {
        d += 1;
        // statsforecast drops one extra leading value per difference; kept for identical choices.
        x = x.windows(2).skip(1).map(|v| v[1] - v[0]).collect();
        if x.is_empty() || is_constant(&x) {
            return d;
        }
        match test(&x) {
            Some(b) => dodiff = b,
            None => return d - 1,
        }
    }
    d
}

/// Seasonal differences (0 or 1 with the default `max_D`): one when the STL seasonal strength
/// `1 - var(remainder) / var(remainder + seasonal)` exceeds 0.64.
pub(crate) fn nsdiffs(x: &[f64], m: usize, max_sd: usize) -> usize {
    if is_constant(x) || m <= 1 || m >= x.len() {
        return 0;
    }
    let mut x = x.to_vec();
    let mut sd = 0;
    let mut dodiff = seasonal_strength(&x, m) > 0.64;
    while dodiff && sd < max_sd {
        sd += 1;
        x = (m..x.len()).map(|t| x[t] - x[t - m]).collect();
        if is_constant(&x) {
            return sd;
        }
        dodiff = x.len() >= 2 * m && sd < max_sd && seasonal_strength(&x, m) > 0.64;
    }
    sd
}

fn variance(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
}

pub(crate) fn seasonal_strength(x: &[f64], m: usize) -> f64 {
    // statsforecast's seasonal-strength test: one STL pass set as its `mstl` uses (seasonal window
    // 11 of degree 0, no robustness: five inner passes).
    let Stl { seasonal, trend } = stl(x, &StlParams::new(m, 11, 0, false));
    let rem: Vec<f64> = (0..x.len())
        .map(|t| x[t] - seasonal[t] - trend[t])
        .collect();
    let rs: Vec<f64> = rem.iter().zip(&seasonal).map(|(r, s)| r + s).collect();
    let s = 1.0 - variance(&rem) / variance(&rs);
    if s.is_nan() {
        0.0
    } else {
        s.clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// KPSS (statsmodels), the STL seasonal strength and the difference counts of statsforecast
    /// 2.1.1 on real series (tests/fixtures/arima/golden.json).
    #[test]
    fn match_statsforecast_on_real_series() {
        let g = super::super::golden_fixture();
        for s in g["series"].as_array().unwrap() {
            let y: Vec<f64> = s["y"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            let lags = s["kpss_lags"].as_u64().unwrap() as usize;
            let k = s["kpss_stat"].as_f64().unwrap();
            assert!((kpss_stat(&y, lags) - k).abs() < 1e-9 * k.abs().max(1.0));
            let st = s["seasonal_strength"].as_f64().unwrap();
            let ours = seasonal_strength(&y, 7);
            assert!((ours - st).abs() < 1e-9, "{ours} vs {st}");
            assert_eq!(nsdiffs(&y, 7, 1) as u64, s["nsdiffs"].as_u64().unwrap());
            assert_eq!(ndiffs(&y, 2) as u64, s["ndiffs"].as_u64().unwrap());
        }
    }

    #[test]
    fn kpss_rejects_a_random_walk_not_white_noise() {
        let mut state = 12345u64;
        let mut noise = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) - 0.5
        };
        let wn: Vec<f64> = (0..500).map(|_| noise()).collect();
        let mut rw = vec![0.0];
        for v in &wn {
            rw.push(rw.last().unwrap() + v);
        }
        assert_eq!(ndiffs(&wn, 2), 0);
        assert_eq!(ndiffs(&rw, 2), 1);
    }
}
