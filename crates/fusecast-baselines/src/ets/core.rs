//! The ETS innovations state-space recursions (Hyndman et al. 2008, as in forecast::ets and
//! statsforecast): one-step filtering with the Gaussian likelihood, initial states from a classical
//! decomposition, parameter admissibility, and the forecast recursion.
//!
//! State layout (also what a fit stores): `[level, trend?, s_0, ..., s_{m-1}]` with `s_0` the most
//! recent seasonal index and `s_{m-1}` the one that applies to the next observation.

use serde::{Deserialize, Serialize};

/// One ETS component: none, additive or multiplicative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Component {
    #[serde(rename = "N")]
    None,
    #[serde(rename = "A")]
    Additive,
    #[serde(rename = "M")]
    Multiplicative,
}

impl Component {
    pub fn letter(self) -> char {
        match self {
            Self::None => 'N',
            Self::Additive => 'A',
            Self::Multiplicative => 'M',
        }
    }
}

/// Which model of the family: error, trend (with damping) and season types and the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Form {
    pub error: Component,
    pub trend: Component,
    pub season: Component,
    pub damped: bool,
    /// Seasonal period (1 when `season` is `None`).
    pub m: usize,
}

impl Form {
    pub fn has_trend(&self) -> bool {
        self.trend != Component::None
    }
    pub fn has_season(&self) -> bool {
        self.season != Component::None
    }
    /// Smoothing parameters estimated: alpha, beta?, gamma?, phi?.
    pub fn n_smoothing(&self) -> usize {
        1 + self.has_trend() as usize + self.has_season() as usize + self.damped as usize
    }
    /// Initial states estimated: level, trend?, and m - 1 seasonal indices (the last one follows
    /// from the normalization: the indices sum to 0 (additive) or m (multiplicative)).
    pub fn n_free_states(&self) -> usize {
        1 + self.has_trend() as usize + if self.has_season() { self.m - 1 } else { 0 }
    }
    /// Length of a full state vector.
    pub fn n_states(&self) -> usize {
        1 + self.has_trend() as usize + if self.has_season() { self.m } else { 0 }
    }
}

/// Smoothing parameters; beta/gamma are 0 and phi 1 where the component is absent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Smoothing {
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
    pub phi: f64,
}

/// Guards against division by (near) zero in the multiplicative updates, as forecast's C code.
const TOL: f64 = 1e-10;
const HUGE: f64 = 1e10;

/// Runs the filter over `y` from the full initial state `x0`. Returns the likelihood criterion
/// `n ln(SSE) + 2 sum ln|yhat|` (the last term for multiplicative errors only), i.e. -2 log
/// likelihood up to a constant that is the same for every model of the family. When `residuals`
/// is given it receives the innovations (relative ones for multiplicative errors); `last` receives
/// the state after the last observation.
pub fn filter(
    form: &Form,
    par: &Smoothing,
    x0: &[f64],
    y: &[f64],
    residuals: Option<&mut Vec<f64>>,
    last: Option<&mut Vec<f64>>,
) -> f64 {
    // One monomorphized loop per model form: the per-step component branches vanish, which
    // matters because this loop is nearly all of a fit's time.
    use Component::{Additive as A, Multiplicative as M, None as N};
    let f = match (form.has_trend(), form.season, form.error == M) {
        (false, N, false) => filter_impl::<false, 0, false>,
        (false, N, true) => filter_impl::<false, 0, true>,
        (false, A, false) => filter_impl::<false, 1, false>,
        (false, A, true) => filter_impl::<false, 1, true>,
        (false, M, false) => filter_impl::<false, 2, false>,
        (false, M, true) => filter_impl::<false, 2, true>,
        (true, N, false) => filter_impl::<true, 0, false>,
        (true, N, true) => filter_impl::<true, 0, true>,
        (true, A, false) => filter_impl::<true, 1, false>,
        (true, A, true) => filter_impl::<true, 1, true>,
        (true, M, false) => filter_impl::<true, 2, false>,
        (true, M, true) => filter_impl::<true, 2, true>,
    };
    f(form.m, par, x0, y, residuals, last)
}

fn filter_impl<const TREND: bool, const SEASON: u8, const MULT: bool>(
    m: usize,
    par: &Smoothing,
    x0: &[f64],
    y: &[f64],
    mut residuals: Option<&mut Vec<f64>>,
    last: Option<&mut Vec<f64>>,
) -> f64 {
    let season = match SEASON {
        0 => Component::None,
        1 => Component::Additive,
        _ => Component::Multiplicative,
    };
    let has_season = SEASON != 0;
    let m = m.max(1);
    let has_trend = TREND;
    let mut l = x0[0];
    let mut b = if has_trend { x0[1] } else { 0.0 };
    let s0 = 1 + has_trend as usize;
    // Seasonal indices in a ring: `ring[head]` is the oldest (the one for the next observation),
    // so each step overwrites it in place instead of shifting m values.
    let mut ring = [0.0f64; 64];
    let mut ring_vec;
    let ring: &mut [f64] = if !has_season {
        &mut ring[..1]
    } else if m <= ring.len() {
        &mut ring[..m]
    } else {
        ring_vec = vec![0.0; m];
        &mut ring_vec[..]
    };
    if has_season {
        for k in 0..m {
            ring[k] = x0[s0 + m - 1 - k];
        }
    }
    let mut head = 0usize;
    if let Some(r) = residuals.as_deref_mut() {
        r.clear();
    }
    let (alpha, beta, gamma, phi) = (par.alpha, par.beta, par.gamma, par.phi);
    let beta_over_alpha = beta / alpha;
    let mut sse = 0.0;
    // ln|yhat| summed via a running product, flushed to a log only when it nears the f64 range:
    // one log per many steps instead of one per step.
    let mut log_sum = 0.0;
    let mut prod = 1.0f64;
    let mult_error = MULT;
    for &yt in y {
        let phib = if has_trend { phi * b } else { 0.0 };
        let q = l + phib;
        let s_old = ring[head];
        let f = match season {
            Component::None => q,
            Component::Additive => q + s_old,
            Component::Multiplicative => q * s_old,
        };
        let e = if mult_error {
            let denom = if f.abs() < TOL { f + TOL } else { f };
            let a = f.abs();
            prod *= if a > 0.0 { a } else { 1e-8 };
            if !(1e-150..=1e150).contains(&prod) {
                log_sum += prod.ln();
                prod = 1.0;
            }
            (yt - f) / denom
        } else {
            yt - f
        };
        sse += e * e;
        if let Some(r) = residuals.as_deref_mut() {
            r.push(e);
        }
        let p = match season {
            Component::None => yt,
            Component::Additive => yt - s_old,
            Component::Multiplicative => {
                if s_old.abs() < TOL {
                    HUGE
                } else {
                    yt / s_old
                }
            }
        };
        let new_l = q + alpha * (p - q);
        if has_trend {
            b = phib + beta_over_alpha * (new_l - l - phib);
        }
        match season {
            Component::None => {}
            Component::Additive => {
                ring[head] = s_old + gamma * (yt - q - s_old);
                head = if head + 1 == m { 0 } else { head + 1 };
            }
            Component::Multiplicative => {
                let t = if q.abs() < TOL { HUGE } else { yt / q };
                ring[head] = s_old + gamma * (t - s_old);
                head = if head + 1 == m { 0 } else { head + 1 };
            }
        }
        l = new_l;
    }
    if let Some(out) = last {
        out.clear();
        out.push(l);
        if has_trend {
            out.push(b);
        }
        if has_season {
            // Most recent first: the slot written last sits just before `head`.
            for j in 0..m {
                out.push(ring[(head + m - 1 - j) % m]);
            }
        }
    }
    let n = y.len() as f64;
    let mut lik = if sse > 0.0 {
        n * sse.ln()
    } else {
        n * (sse + 1e-8).ln()
    };
    if mult_error {
        lik += 2.0 * (log_sum + prod.ln());
    }
    lik
}

/// Point forecasts for steps 1..=h from the state `x` (layout as in the module docs).
pub fn point_forecast(form: &Form, phi: f64, x: &[f64], h: usize) -> Vec<f64> {
    let m = form.m.max(1);
    let l = x[0];
    let b = if form.has_trend() { x[1] } else { 0.0 };
    let s = &x[1 + form.has_trend() as usize..];
    let mut out = Vec::with_capacity(h);
    let mut damp_sum = 0.0;
    let mut phi_pow = 1.0;
    for i in 0..h {
        phi_pow *= phi;
        damp_sum += phi_pow;
        let mut f = l + if form.has_trend() { damp_sum * b } else { 0.0 };
        let j = (m - 1) - (i % m);
        match form.season {
            Component::None => {}
            Component::Additive => f += s[j],
            Component::Multiplicative => f *= s[j],
        }
        out.push(f);
    }
    out
}

/// One step of the state recursion driven by an observation `y` (used by simulation): returns the
/// one-step forecast made before the update and updates `x` in place.
pub fn step(form: &Form, par: &Smoothing, x: &mut [f64], y_from_f: impl FnOnce(f64) -> f64) -> f64 {
    let m = form.m.max(1);
    let has_trend = form.has_trend();
    let l = x[0];
    let b = if has_trend { x[1] } else { 0.0 };
    let s0 = 1 + has_trend as usize;
    let phib = if has_trend { par.phi * b } else { 0.0 };
    let q = l + phib;
    let s_old = if form.has_season() {
        x[s0 + m - 1]
    } else {
        0.0
    };
    let f = match form.season {
        Component::None => q,
        Component::Additive => q + s_old,
        Component::Multiplicative => q * s_old,
    };
    let y = y_from_f(f);
    let p = match form.season {
        Component::None => y,
        Component::Additive => y - s_old,
        Component::Multiplicative => {
            if s_old.abs() < TOL {
                HUGE
            } else {
                y / s_old
            }
        }
    };
    let new_l = q + par.alpha * (p - q);
    x[0] = new_l;
    if has_trend {
        x[1] = phib + par.beta / par.alpha * (new_l - l - phib);
    }
    if form.has_season() {
        let t = match form.season {
            Component::Additive => y - q,
            _ => {
                if q.abs() < TOL {
                    HUGE
                } else {
                    y / q
                }
            }
        };
        x.copy_within(s0..s0 + m - 1, s0 + 1);
        x[s0] = s_old + par.gamma * (t - s_old);
    }
    f
}

/// Forecast's "usual" region (0 < beta <= alpha, 0 < gamma <= 1 - alpha) intersected with the
/// admissible (forecastable) region of Hyndman et al. (2008), whose seasonal part asks every root
/// of the characteristic polynomial to lie in the closed unit disk. Box bounds are the optimizer's.
pub fn admissible(form: &Form, par: &Smoothing) -> bool {
    let Smoothing {
        alpha,
        beta,
        gamma,
        phi,
    } = *par;
    if form.has_trend() && beta > alpha {
        return false;
    }
    if form.has_season() && gamma > 1.0 - alpha {
        return false;
    }
    if !(0.0..=1.0 + 1e-8).contains(&phi) {
        return false;
    }
    if !form.has_season() {
        if alpha < 1.0 - 1.0 / phi || alpha > 1.0 + 1.0 / phi {
            return false;
        }
        if form.has_trend() && (beta < alpha * (phi - 1.0) || beta > (1.0 + phi) * (2.0 - alpha)) {
            return false;
        }
        return true;
    }
    let m = form.m as f64;
    if gamma < (1.0 - 1.0 / phi - alpha).max(0.0) || gamma > 1.0 + 1.0 / phi - alpha {
        return false;
    }
    if alpha < 1.0 - 1.0 / phi - gamma * (1.0 - m + phi + phi * m) / (2.0 * phi * m) {
        return false;
    }
    if beta < -(1.0 - phi) * (gamma / m + alpha) {
        return false;
    }
    // Characteristic polynomial, lowest power first (on the stack: this runs once per objective
    // evaluation).
    let mm = form.m;
    let mut buf = [0.0f64; 32];
    let mut heap;
    let p: &mut [f64] = if mm + 2 <= buf.len() {
        &mut buf[..mm + 2]
    } else {
        heap = vec![0.0; mm + 2];
        &mut heap[..]
    };
    p[0] = phi * (1.0 - alpha - gamma);
    p[1] = alpha + beta - alpha * phi + gamma - 1.0;
    for v in &mut p[2..mm] {
        *v = alpha + beta - alpha * phi;
    }
    p[mm] = alpha + beta - phi;
    p[mm + 1] = 1.0;
    roots_in_disk(p, 1.0 + 1e-8)
}

/// True when every root of the polynomial `c[0] + c[1] z + ... + c[d] z^d` has modulus below
/// `radius` (Schur-Cohn test on the polynomial rescaled to the unit disk; overwrites `c`). A
/// small margin above 1 lets through the unit root every undamped trend-free seasonal model has,
/// as forecast's `1 + 1e-10` tolerance on polyroot does.
pub fn roots_in_disk(c: &mut [f64], radius: f64) -> bool {
    let mut r = 1.0;
    for v in c.iter_mut() {
        *v *= r;
        r *= radius;
    }
    let mut len = c.len();
    while len > 1 && c[len - 1] == 0.0 {
        len -= 1;
    }
    // Schur-Cohn step in place: the new coefficient i only reads old ones at i + 1 and d - 1 - i,
    // so a scratch copy of the current polynomial is enough.
    let mut scratch = [0.0f64; 32];
    let mut heap;
    let prev: &mut [f64] = if len <= scratch.len() {
        &mut scratch[..len]
    } else {
        heap = vec![0.0; len];
        &mut heap[..]
    };
    while len > 1 {
        let d = len - 1;
        let (c0, cd) = (c[0], c[d]);
        if c0.abs() >= cd.abs() {
            return false;
        }
        prev[..len].copy_from_slice(&c[..len]);
        for i in 0..d {
            c[i] = cd * prev[i + 1] - c0 * prev[d - 1 - i];
        }
        let lead = c[d - 1];
        for v in &mut c[..d] {
            *v /= lead;
        }
        len = d;
    }
    true
}

/// Initial states `[l0, b0?, s_0..s_{m-2}]` (the free ones) as statsforecast computes them:
/// seasonal indices from a classical decomposition of the whole series (a trend + one Fourier pair
/// regression when it has fewer than three seasons), level and slope from a regression on the
/// first max(10, 2m) seasonally adjusted values.
pub fn initial_states(y: &[f64], form: &Form) -> Vec<f64> {
    let n = y.len();
    let m = form.m;
    let mut out = Vec::with_capacity(form.n_free_states());
    let (seasonal, init_seas): (Vec<f64>, Vec<f64>) = if form.has_season() {
        let mult = form.season == Component::Multiplicative;
        let seasonal = if n < 3 * m {
            fourier_seasonal(y, m, mult)
        } else {
            classical_seasonal(y, m, mult)
        };
        let mut init: Vec<f64> = (1..m).rev().map(|k| seasonal[k]).collect();
        if mult {
            for v in &mut init {
                *v = v.max(1e-2);
            }
            let sum: f64 = init.iter().sum();
            if sum > m as f64 {
                let denom: f64 = init.iter().map(|v| v + 1e-2).sum();
                for v in &mut init {
                    *v /= denom;
                }
            }
        }
        (seasonal, init)
    } else {
        (Vec::new(), Vec::new())
    };
    let maxn = if form.has_season() {
        10.max(2 * m).min(n)
    } else {
        10.min(n)
    };
    let adjusted: Vec<f64> = (0..maxn)
        .map(|t| match form.season {
            Component::None => y[t],
            Component::Additive => y[t] - seasonal[t],
            Component::Multiplicative => y[t] / seasonal[t].max(1e-2),
        })
        .collect();
    if form.has_trend() {
        let (mut l, mut b) = line_fit(&adjusted);
        if (l + b).abs() < 1e-8 {
            l *= 1.0 + 1e-3;
            b *= 1.0 - 1e-3;
        }
        out.push(l);
        out.push(b);
    } else {
        out.push(adjusted.iter().sum::<f64>() / maxn as f64);
    }
    out.extend(init_seas);
    out
}

/// Least squares `v[t] ~ a + b (t + 1)`: returns (a, b).
fn line_fit(v: &[f64]) -> (f64, f64) {
    let k = v.len() as f64;
    if v.len() < 2 {
        return (v.first().copied().unwrap_or(0.0), 0.0);
    }
    let tm = (k + 1.0) / 2.0;
    let ym = v.iter().sum::<f64>() / k;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, &val) in v.iter().enumerate() {
        let dt = i as f64 + 1.0 - tm;
        sxy += dt * (val - ym);
        sxx += dt * dt;
    }
    let b = sxy / sxx;
    (ym - b * tm, b)
}

/// statsmodels' `seasonal_decompose` seasonal component (what statsforecast initializes from):
/// centred moving-average trend, per-position mean of the detrended values, normalized to sum 0
/// (additive) or average 1 (multiplicative), repeated over the series.
fn classical_seasonal(y: &[f64], m: usize, mult: bool) -> Vec<f64> {
    let n = y.len();
    let half = m / 2;
    let mut sums = vec![0.0; m];
    let mut counts = vec![0usize; m];
    for t in half..n.saturating_sub(half) {
        let trend = if m % 2 == 1 {
            y[t - half..=t + half].iter().sum::<f64>() / m as f64
        } else {
            (0.5 * y[t - half] + y[t - half + 1..t + half].iter().sum::<f64>() + 0.5 * y[t + half])
                / m as f64
        };
        let d = if mult { y[t] / trend } else { y[t] - trend };
        sums[t % m] += d;
        counts[t % m] += 1;
    }
    let mut avg: Vec<f64> = sums
        .iter()
        .zip(&counts)
        .map(|(s, &c)| if c > 0 { s / c as f64 } else { f64::NAN })
        .collect();
    let mean = avg.iter().sum::<f64>() / m as f64;
    for a in &mut avg {
        if mult {
            *a /= mean;
        } else {
            *a -= mean;
        }
    }
    (0..n).map(|t| avg[t % m]).collect()
}

/// Seasonal pattern of short series: residuals of (additive) or ratio to (multiplicative) a
/// least-squares line, the line being fitted jointly with one Fourier pair of period m.
fn fourier_seasonal(y: &[f64], m: usize, mult: bool) -> Vec<f64> {
    let n = y.len();
    let w = 2.0 * std::f64::consts::PI / m as f64;
    // sin(pi t) vanishes at integers when m = 2: drop that column like statsforecast does.
    let with_sin = m != 2;
    let cols = if with_sin { 4 } else { 3 };
    let row = |t: usize| -> [f64; 4] {
        let tt = (t + 1) as f64;
        if with_sin {
            [1.0, tt, (w * tt).sin(), (w * tt).cos()]
        } else {
            [1.0, tt, (w * tt).cos(), 0.0]
        }
    };
    let mut xtx = [[0.0; 4]; 4];
    let mut xty = [0.0; 4];
    for (t, &v) in y.iter().enumerate() {
        let r = row(t);
        for i in 0..cols {
            xty[i] += r[i] * v;
            for j in 0..cols {
                xtx[i][j] += r[i] * r[j];
            }
        }
    }
    let coef = solve_small(xtx, xty, cols);
    (0..n)
        .map(|t| {
            let line = coef[0] + coef[1] * (t + 1) as f64;
            if mult {
                y[t] / line
            } else {
                y[t] - line
            }
        })
        .collect()
}

/// Gaussian elimination with partial pivoting on the leading `k` x `k` block; a (near) singular
/// pivot gets coefficient 0, the minimum-norm-like choice lstsq makes for rank deficiency.
fn solve_small(mut a: [[f64; 4]; 4], mut b: [f64; 4], k: usize) -> [f64; 4] {
    let scale = (0..k)
        .map(|i| a[i][i].abs())
        .fold(0.0, f64::max)
        .max(1e-300);
    let mut singular = [false; 4];
    for col in 0..k {
        let piv = (col..k)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .unwrap_or(col);
        a.swap(col, piv);
        b.swap(col, piv);
        if a[col][col].abs() < 1e-12 * scale {
            singular[col] = true;
            continue;
        }
        let pivot_row = a[col];
        for r in col + 1..k {
            let f = a[r][col] / pivot_row[col];
            for (dst, src) in a[r][col..k].iter_mut().zip(&pivot_row[col..k]) {
                *dst -= f * src;
            }
            b[r] -= f * b[col];
        }
    }
    let mut x = [0.0; 4];
    for i in (0..k).rev() {
        if singular[i] {
            continue;
        }
        let mut s = b[i];
        for j in i + 1..k {
            s -= a[i][j] * x[j];
        }
        x[i] = s / a[i][i];
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schur_cohn_agrees_with_known_roots() {
        // (z - 0.5)(z + 0.9) = z^2 + 0.4 z - 0.45: inside.
        assert!(roots_in_disk(&mut [-0.45, 0.4, 1.0], 1.0));
        // (z - 1.2)(z - 0.1): one outside.
        assert!(!roots_in_disk(&mut [0.12, -1.3, 1.0], 1.0));
        // z^2 + 1: roots on the unit circle pass only with the margin.
        assert!(!roots_in_disk(&mut [1.0, 0.0, 1.0], 1.0));
        assert!(roots_in_disk(&mut [1.0, 0.0, 1.0], 1.0 + 1e-8));
    }

    #[test]
    fn undamped_seasonal_models_are_admissible_for_usual_parameters() {
        let form = Form {
            error: Component::Additive,
            trend: Component::None,
            season: Component::Additive,
            damped: false,
            m: 7,
        };
        let par = Smoothing {
            alpha: 0.3,
            beta: 0.0,
            gamma: 0.1,
            phi: 1.0,
        };
        assert!(admissible(&form, &par));
        // gamma above 1 - alpha is outside the usual region.
        assert!(!admissible(&form, &Smoothing { gamma: 0.8, ..par }));
    }

    #[test]
    fn filter_step_and_forecast_agree() {
        let form = Form {
            error: Component::Multiplicative,
            trend: Component::Additive,
            season: Component::Multiplicative,
            damped: true,
            m: 4,
        };
        let par = Smoothing {
            alpha: 0.3,
            beta: 0.05,
            gamma: 0.1,
            phi: 0.9,
        };
        let x0 = vec![10.0, 0.5, 1.1, 0.9, 1.2, 0.8];
        let y = [11.0, 9.5, 13.0, 8.0, 12.0, 10.5, 14.0];
        let mut last = Vec::new();
        filter(&form, &par, &x0, &y, None, Some(&mut last));
        let mut x = x0.clone();
        for &v in &y {
            step(&form, &par, &mut x, |_| v);
        }
        for (a, b) in last.iter().zip(&x) {
            assert!((a - b).abs() < 1e-12);
        }
        // The one-step forecast of the filter equals the first point forecast.
        let f = point_forecast(&form, par.phi, &x0, 2);
        assert!((f[0] - (10.0 + 0.9 * 0.5) * 0.8).abs() < 1e-12);
        assert!((f[1] - (10.0 + (0.9 + 0.81) * 0.5) * 1.2).abs() < 1e-12);
    }
}
