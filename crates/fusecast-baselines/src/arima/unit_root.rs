//! How many differences: the KPSS level-stationarity test for ordinary differences and the STL
//! seasonal-strength heuristic for the seasonal one, as statsforecast's `ndiffs` / `nsdiffs`
//! (with statsmodels' KPSS and STL underneath).

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
    let (seasonal, trend) = stl(x, m);
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

/// STL (Cleveland et al. 1990) with the settings of statsforecast's `mstl` for one period:
/// seasonal window 11 with degree 0, default trend and low-pass windows with degree 1, no
/// robustness (statsmodels then makes five inner passes), every point evaluated (jumps of 1).
/// Returns (seasonal, trend).
pub(crate) fn stl(y: &[f64], np: usize) -> (Vec<f64>, Vec<f64>) {
    let n = y.len();
    let ns = 11usize;
    let mut nt = (1.5 * np as f64 / (1.0 - 1.5 / ns as f64)).ceil() as usize;
    if nt.is_multiple_of(2) {
        nt += 1;
    }
    let mut nl = np + 1;
    if nl.is_multiple_of(2) {
        nl += 1;
    }
    let mut trend = vec![0.0; n];
    let mut season = vec![0.0; n];
    let mut cycle = vec![0.0; n + 2 * np];
    let mut work = vec![0.0; n];
    for _ in 0..5 {
        for i in 0..n {
            work[i] = y[i] - trend[i];
        }
        cycle_subseries(&work, np, ns, 0, &mut cycle);
        let lp = low_pass(&cycle, np);
        let l = loess_all(&lp, nl, 1);
        for i in 0..n {
            season[i] = cycle[np + i] - l[i];
            work[i] = y[i] - season[i];
        }
        trend = loess_all(&work, nt, 1);
    }
    (season, trend)
}

fn moving_average(x: &[f64], len: usize) -> Vec<f64> {
    let out_len = x.len() + 1 - len;
    let mut out = Vec::with_capacity(out_len);
    let mut s: f64 = x[..len].iter().sum();
    out.push(s / len as f64);
    for j in 1..out_len {
        s += x[j + len - 1] - x[j - 1];
        out.push(s / len as f64);
    }
    out
}

fn low_pass(c: &[f64], np: usize) -> Vec<f64> {
    let a = moving_average(c, np);
    let b = moving_average(&a, np);
    moving_average(&b, 3)
}

/// Local (degree 0 or 1) tricube regression of `y` (at x = 1..n) evaluated at `xs`, over the
/// points `nleft..=nright` (1-based), as STL's `stlest`.
fn loess_at(
    y: &[f64],
    len: usize,
    deg: usize,
    xs: f64,
    nleft: usize,
    nright: usize,
) -> Option<f64> {
    let n = y.len();
    let range = n as f64 - 1.0;
    let mut h = (xs - nleft as f64).max(nright as f64 - xs);
    if len > n {
        h += ((len - n) / 2) as f64;
    }
    let h9 = 0.999 * h;
    let h1 = 0.001 * h;
    let mut w = [0.0f64; 64];
    let mut wv: Vec<f64>;
    let weights: &mut [f64] = if nright - nleft < 64 {
        &mut w[..nright - nleft + 1]
    } else {
        wv = vec![0.0; nright - nleft + 1];
        &mut wv
    };
    let mut a = 0.0;
    for j in nleft..=nright {
        let r = (j as f64 - xs).abs();
        let wj = if r <= h9 {
            if r <= h1 {
                1.0
            } else {
                (1.0 - (r / h).powi(3)).powi(3)
            }
        } else {
            0.0
        };
        weights[j - nleft] = wj;
        a += wj;
    }
    if a <= 0.0 {
        return None;
    }
    for v in weights.iter_mut() {
        *v /= a;
    }
    if h > 0.0 && deg > 0 {
        let a: f64 = (nleft..=nright)
            .map(|j| weights[j - nleft] * j as f64)
            .sum();
        let mut b = xs - a;
        let c: f64 = (nleft..=nright)
            .map(|j| weights[j - nleft] * (j as f64 - a).powi(2))
            .sum();
        if c.sqrt() > 0.001 * range {
            b /= c;
            for j in nleft..=nright {
                weights[j - nleft] *= b * (j as f64 - a) + 1.0;
            }
        }
    }
    Some(
        (nleft..=nright)
            .map(|j| weights[j - nleft] * y[j - 1])
            .sum(),
    )
}

/// `stless` with jump 1: the loess smooth at every point, window `len` sliding along.
fn loess_all(y: &[f64], len: usize, deg: usize) -> Vec<f64> {
    let n = y.len();
    let mut out = vec![0.0; n];
    if n < 2 {
        out.copy_from_slice(y);
        return out;
    }
    let (mut nleft, mut nright) = (1usize, n.min(len));
    let nsh = len.div_ceil(2);
    for i in 1..=n {
        if len < n && i > nsh && nright != n {
            nleft += 1;
            nright += 1;
        }
        out[i - 1] = loess_at(y, len, deg, i as f64, nleft, nright).unwrap_or(y[i - 1]);
    }
    out
}

/// Smooths each cycle-subseries and extends it one period at both ends (`stlss`).
fn cycle_subseries(y: &[f64], np: usize, ns: usize, deg: usize, out: &mut [f64]) {
    let n = y.len();
    for j in 0..np {
        let k = (n - j - 1) / np + 1;
        let sub: Vec<f64> = (0..k).map(|i| y[i * np + j]).collect();
        let sm = loess_all(&sub, ns, deg);
        let first = loess_at(&sub, ns, deg, 0.0, 1, ns.min(k)).unwrap_or(sm[0]);
        let last = loess_at(
            &sub,
            ns,
            deg,
            (k + 1) as f64,
            (k + 1).saturating_sub(ns).max(1),
            k,
        )
        .unwrap_or(sm[k - 1]);
        out[j] = first;
        for (i, v) in sm.iter().enumerate() {
            out[(i + 1) * np + j] = *v;
        }
        out[(k + 1) * np + j] = last;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// KPSS (statsmodels), the STL seasonal strength and the difference counts of statsforecast
    /// 2.1.1 on real series (tests/fixtures/arima/golden.json).
    #[test]
    fn match_statsforecast_on_real_series() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/arima/golden.json"
        );
        let g: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
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
