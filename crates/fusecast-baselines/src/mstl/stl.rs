//! STL: seasonal-trend decomposition by loess (Cleveland, Cleveland, McRae & Terpenning 1990),
//! the algorithm of the original Fortran `stl` that statsmodels' `STL` ports. Loess jumps are
//! fixed at 1 (every point is a loess fit; statsmodels' default), so no interpolation step.

/// STL settings (statsmodels names). `period` >= 2, window lengths odd.
#[derive(Debug, Clone, PartialEq)]
pub struct StlParams {
    pub period: usize,
    /// Seasonal (cycle-subseries) loess window.
    pub seasonal: usize,
    pub trend: usize,
    pub low_pass: usize,
    pub seasonal_deg: usize,
    pub trend_deg: usize,
    pub low_pass_deg: usize,
    pub robust: bool,
    pub inner_iter: usize,
    pub outer_iter: usize,
}

impl StlParams {
    /// statsmodels' defaults for the other windows given period and seasonal window; inner/outer
    /// iterations 5/0, or 2/15 when robust.
    pub fn new(period: usize, seasonal: usize, seasonal_deg: usize, robust: bool) -> Self {
        let mut trend = (1.5 * period as f64 / (1.0 - 1.5 / seasonal as f64)).ceil() as usize;
        trend += trend.is_multiple_of(2) as usize;
        let mut low_pass = period + 1;
        low_pass += low_pass.is_multiple_of(2) as usize;
        Self {
            period,
            seasonal,
            trend,
            low_pass,
            seasonal_deg,
            trend_deg: 1,
            low_pass_deg: 1,
            robust,
            inner_iter: if robust { 2 } else { 5 },
            outer_iter: if robust { 15 } else { 0 },
        }
    }
}

/// Seasonal and trend components of `y` (the remainder is what is left).
#[derive(Debug, Clone, PartialEq)]
pub struct Stl {
    pub seasonal: Vec<f64>,
    pub trend: Vec<f64>,
}

pub fn stl(y: &[f64], p: &StlParams) -> Stl {
    let n = y.len();
    let np = p.period;
    let mut season = vec![0.0; n];
    let mut trend = vec![0.0; n];
    let mut rw = vec![1.0; n];
    let mut use_rw = false;
    let mut detrended = vec![0.0; n];
    let mut cycle = vec![0.0; n + 2 * np];
    let mut low = vec![0.0; n];
    let mut tmp = vec![0.0; n + 2 * np];
    let mut k = 0;
    loop {
        for _ in 0..p.inner_iter {
            for i in 0..n {
                detrended[i] = y[i] - trend[i];
            }
            subseries_smooth(&detrended, p, use_rw.then_some(&rw[..]), &mut cycle);
            low_pass_filter(&cycle, np, &mut tmp);
            ess(&tmp[..n], p.low_pass, p.low_pass_deg, None, &mut low);
            for i in 0..n {
                season[i] = cycle[np + i] - low[i];
                detrended[i] = y[i] - season[i];
            }
            ess(
                &detrended,
                p.trend,
                p.trend_deg,
                use_rw.then_some(&rw[..]),
                &mut trend,
            );
        }
        k += 1;
        if k > p.outer_iter {
            break;
        }
        robustness_weights(y, &season, &trend, &mut rw);
        use_rw = true;
    }
    Stl {
        seasonal: season,
        trend,
    }
}

/// Bisquare weights of the residuals against six times their median absolute size.
fn robustness_weights(y: &[f64], season: &[f64], trend: &[f64], rw: &mut [f64]) {
    let n = y.len();
    let r: Vec<f64> = (0..n)
        .map(|i| (y[i] - season[i] - trend[i]).abs())
        .collect();
    let mut sorted = r.clone();
    sorted.sort_by(f64::total_cmp);
    let mid = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
    };
    let cmad = 6.0 * mid;
    let (c9, c1) = (0.999 * cmad, 0.001 * cmad);
    for (w, &ri) in rw.iter_mut().zip(&r) {
        *w = if ri <= c1 {
            1.0
        } else if ri <= c9 {
            (1.0 - (ri / cmad).powi(2)).powi(2)
        } else {
            0.0
        };
    }
}

/// Smooths each cycle-subseries (every period-th value) with loess and extends it by one
/// position at each end; `out` (length n + 2 period) is the series of those smoothed subseries.
fn subseries_smooth(x: &[f64], p: &StlParams, rw: Option<&[f64]>, out: &mut [f64]) {
    let n = x.len();
    let np = p.period;
    let mut sub = Vec::with_capacity(n / np + 1);
    let mut sub_rw = Vec::with_capacity(n / np + 1);
    let mut smooth = vec![0.0; n / np + 3];
    let mut weights = vec![0.0; n / np + 3];
    for j in 0..np {
        if j >= n {
            break;
        }
        let k = (n - j - 1) / np + 1;
        sub.clear();
        sub.extend((0..k).map(|i| x[i * np + j]));
        let w = rw.map(|rw| {
            sub_rw.clear();
            sub_rw.extend((0..k).map(|i| rw[i * np + j]));
            &sub_rw[..]
        });
        ess(&sub, p.seasonal, p.seasonal_deg, w, &mut smooth[1..=k]);
        let nright = p.seasonal.min(k);
        smooth[0] = est(
            &sub,
            p.seasonal,
            p.seasonal_deg,
            0.0,
            1,
            nright,
            w,
            &mut weights,
        )
        .unwrap_or(smooth[1]);
        let nleft = if k + 1 > p.seasonal {
            k + 1 - p.seasonal
        } else {
            1
        };
        smooth[k + 1] = est(
            &sub,
            p.seasonal,
            p.seasonal_deg,
            (k + 1) as f64,
            nleft,
            k,
            w,
            &mut weights,
        )
        .unwrap_or(smooth[k]);
        for (m, &v) in smooth[..k + 2].iter().enumerate() {
            out[m * np + j] = v;
        }
    }
}

/// Moving averages of lengths period, period and 3 over `x` (length n + 2 period): the n values
/// of the low-frequency part that the seasonal pass must not absorb.
fn low_pass_filter(x: &[f64], np: usize, out: &mut [f64]) {
    let a = moving_average(x, np);
    let b = moving_average(&a, np);
    let c = moving_average(&b, 3);
    out[..c.len()].copy_from_slice(&c);
}

fn moving_average(x: &[f64], len: usize) -> Vec<f64> {
    let newn = x.len() + 1 - len;
    let mut out = Vec::with_capacity(newn);
    let mut v: f64 = x[..len].iter().sum();
    out.push(v / len as f64);
    for j in 1..newn {
        v += x[j + len - 1] - x[j - 1];
        out.push(v / len as f64);
    }
    out
}

/// Loess smooth of `y` at every position 1..=n with window `len` (1-based positions, as the
/// Fortran). Where a fit has no weight the value is kept.
fn ess(y: &[f64], len: usize, deg: usize, rw: Option<&[f64]>, ys: &mut [f64]) {
    let n = y.len();
    if n < 2 {
        ys[0] = y[0];
        return;
    }
    let mut w = vec![0.0; n + 1];
    let (mut nleft, mut nright) = if len >= n { (1, n) } else { (1, len) };
    let nsh = len.div_ceil(2);
    for i in 1..=n {
        if len < n && i > nsh && nright != n {
            nleft += 1;
            nright += 1;
        }
        ys[i - 1] = est(y, len, deg, i as f64, nleft, nright, rw, &mut w).unwrap_or(y[i - 1]);
    }
}

/// Local (constant or linear) fit with tricube weights over positions nleft..=nright, evaluated
/// at `xs`; `None` when all weights vanish.
#[allow(clippy::too_many_arguments)]
fn est(
    y: &[f64],
    len: usize,
    deg: usize,
    xs: f64,
    nleft: usize,
    nright: usize,
    rw: Option<&[f64]>,
    w: &mut [f64],
) -> Option<f64> {
    let n = y.len();
    let range = n as f64 - 1.0;
    let mut h = (xs - nleft as f64).max(nright as f64 - xs);
    if len > n {
        h += ((len - n) / 2) as f64;
    }
    let h9 = 0.999 * h;
    let h1 = 0.001 * h;
    let mut a = 0.0;
    for j in nleft..=nright {
        let r = (j as f64 - xs).abs();
        let mut wj = 0.0;
        if r <= h9 {
            wj = if r <= h1 {
                1.0
            } else {
                (1.0 - (r / h).powi(3)).powi(3)
            };
            if let Some(rw) = rw {
                wj *= rw[j - 1];
            }
            a += wj;
        }
        w[j] = wj;
    }
    if a <= 0.0 {
        return None;
    }
    for wj in &mut w[nleft..=nright] {
        *wj /= a;
    }
    if h > 0.0 && deg > 0 {
        let window = &mut w[nleft..=nright];
        let pos = |i: usize| (nleft + i) as f64;
        let a: f64 = window.iter().enumerate().map(|(i, wj)| wj * pos(i)).sum();
        let mut b = xs - a;
        let c: f64 = window
            .iter()
            .enumerate()
            .map(|(i, wj)| wj * (pos(i) - a).powi(2))
            .sum();
        if c.sqrt() > 0.001 * range {
            b /= c;
            for (i, wj) in window.iter_mut().enumerate() {
                *wj *= b * (pos(i) - a) + 1.0;
            }
        }
    }
    Some((nleft..=nright).map(|j| w[j] * y[j - 1]).sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robust_fits_discount_an_outlier_as_statsmodels_does() {
        let pattern = [3.0, -1.0, 0.5, -2.0, 1.5, -0.5, -1.5];
        let mut y: Vec<f64> = (0..140).map(|t| 20.0 + pattern[t % 7]).collect();
        y[70] += 200.0;
        // statsmodels 0.15.0: STL(y, period=7, seasonal=11, seasonal_deg=0, robust=...).fit()
        let plain = stl(&y, &StlParams::new(7, 11, 0, false));
        assert!((plain.seasonal[77] - 31.873_657_799_824_635).abs() < 1e-6);
        assert!((plain.trend[72] - 45.830_701_308_015_84).abs() < 1e-6);
        let robust = stl(&y, &StlParams::new(7, 11, 0, true));
        assert!((robust.seasonal[77] - 3.650_091_285_402_661_7).abs() < 1e-6);
        assert!((robust.trend[72] - 20.873_353_801_232_717).abs() < 1e-6);
        assert!((robust.trend[139] - 19.337_218_48).abs() < 1e-6);
    }

    #[test]
    fn default_windows_match_statsmodels() {
        let p = StlParams::new(7, 11, 0, false);
        assert_eq!((p.trend, p.low_pass), (13, 9));
        assert_eq!((p.inner_iter, p.outer_iter), (5, 0));
        let p = StlParams::new(24, 15, 0, true);
        assert_eq!((p.trend, p.low_pass), (41, 25));
        assert_eq!((p.inner_iter, p.outer_iter), (2, 15));
    }

    #[test]
    fn recovers_a_pure_seasonal_pattern_on_a_line() {
        let pattern = [3.0, -1.0, 0.5, -2.0, 1.5, -0.5, -1.5];
        let y: Vec<f64> = (0..70)
            .map(|t| 10.0 + 0.1 * t as f64 + pattern[t % 7])
            .collect();
        let r = stl(&y, &StlParams::new(7, 11, 0, false));
        for t in 14..56 {
            assert!((r.seasonal[t] - pattern[t % 7]).abs() < 0.05, "t={t}");
            assert!((r.trend[t] - 10.0 - 0.1 * t as f64).abs() < 0.05, "t={t}");
        }
    }
}
