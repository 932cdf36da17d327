//! AutoETS: exponential smoothing state-space models (error A/M, trend N/A/Ad, season N/A/M),
//! each fitted by maximum likelihood, the one with the smallest AICc kept; as statsforecast's
//! `AutoETS(season_length=m, model="ZZZ")` (itself a port of forecast::ets).
//!
//! - Candidates: all error/trend/season/damping combinations the spec allows, minus the unstable
//!   ones forecast excludes (additive error with multiplicative season, `restrict`), minus
//!   multiplicative error and season when the data are not strictly positive (noted in the fit),
//!   minus any with at least `n - 1` parameters. Multiplicative trends are not offered (statsforecast
//!   leaves them out by default too). Seasonality is dropped when the series has at most one
//!   season, or the period exceeds 24 (as forecast::ets; statsforecast would try it).
//! - Estimation: Nelder-Mead over smoothing parameters and free initial states, started from
//!   statsforecast's initial values (classical decomposition, see `core::initial_states`), box
//!   bounds alpha, beta, gamma in [1e-4, 0.9999], phi in [0.8, 0.98], within forecast's usual
//!   region (beta <= alpha, gamma <= 1 - alpha) and the admissible region.
//! - Intervals: exact Gaussian variances for additive-error models with additive or no season
//!   (class 1 of Hyndman et al. 2008, ch. 6), the class 2 variance recursion for multiplicative
//!   errors with additive or no season (normal quantiles around the point forecast, as
//!   statsforecast), and 5000 simulated sample paths (fixed seed) for multiplicative seasons, where
//!   statsforecast evaluates the class 3 moment formulas instead.

mod core;

use serde::{Deserialize, Serialize};

pub use self::core::{Component, Form, Smoothing};
use crate::optim::{nelder_mead, NelderMeadOptions};
use crate::{BaselineError, Fitted, Prediction, Result, SeriesInput};

const MODEL: &str = "AutoETS";
const LOWER: [f64; 4] = [1e-4, 1e-4, 1e-4, 0.8];
const UPPER: [f64; 4] = [0.9999, 0.9999, 0.9999, 0.98];

/// Which models AutoETS may choose from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EtsSpec {
    /// Error, trend and season letters, each `N` (none), `A`, `M` or `Z` (choose by AICc);
    /// the error cannot be `N` and the trend cannot be `M`. `"ZZN"` = non-seasonal models only.
    pub model: String,
    /// `Some(true)`: only damped trends; `Some(false)`: only undamped; `None`: both.
    pub damped: Option<bool>,
    /// Leave out additive-error models with multiplicative seasons (numerically unstable).
    pub restrict: bool,
    /// Nelder-Mead iteration cap per candidate model.
    pub max_iter: usize,
}

impl Default for EtsSpec {
    fn default() -> Self {
        Self {
            model: "ZZZ".into(),
            damped: None,
            restrict: true,
            max_iter: 1000,
        }
    }
}

/// The chosen model with everything needed to forecast: parameters and the final state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EtsFit {
    pub error: Component,
    pub trend: Component,
    pub season: Component,
    pub damped: bool,
    /// Seasonal period of the model (1 without season).
    pub period: usize,
    pub alpha: f64,
    /// 0 without trend.
    pub beta: f64,
    /// 0 without season.
    pub gamma: f64,
    /// 1 without damping.
    pub phi: f64,
    /// State at the start of the data: `[level, trend?, s_0..s_{m-1}]` (s_0 most recent).
    pub initial_state: Vec<f64>,
    /// State after the last observation (same layout): where forecasts start.
    pub last_state: Vec<f64>,
    /// Innovation variance: sum of squared (relative, for multiplicative errors) residuals over
    /// n - k - 1, k counting the estimated parameters and states plus the variance itself
    /// (statsforecast's definition).
    pub sigma2: f64,
    /// -2 log likelihood up to a model-independent constant.
    pub neg2_loglik: f64,
    pub aic: f64,
    pub aicc: f64,
    pub bic: f64,
    pub n_params: usize,
    pub n_obs: usize,
    /// Why candidate families were left out (non-positive data, short series, ...).
    pub notes: Vec<String>,
}

/// Fits every allowed candidate and keeps the one with the smallest AICc.
pub fn auto_ets(input: &SeriesInput, spec: &EtsSpec) -> Result<EtsFit> {
    let y = input.y;
    if let Some((position, &value)) = y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(BaselineError::NonFinite { position, value });
    }
    let letters: Vec<char> = spec.model.chars().collect();
    let bad_spec = |message: String| BaselineError::FitFailed {
        model: MODEL.into(),
        message,
    };
    if letters.len() != 3 {
        return Err(bad_spec(format!(
            "model {:?} must be three letters (error, trend, season)",
            spec.model
        )));
    }
    let parse = |c: char, what: &str, allowed: &str| -> Result<Vec<Component>> {
        if !allowed.contains(c) {
            return Err(bad_spec(format!(
                "{what} type {c:?} is not one of {allowed}"
            )));
        }
        Ok(match c {
            'N' => vec![Component::None],
            'A' => vec![Component::Additive],
            'M' => vec![Component::Multiplicative],
            _ => vec![],
        })
    };
    let mut errors = parse(letters[0], "error", "AMZ")?;
    let mut trends = parse(letters[1], "trend", "NAZ")?;
    let mut seasons = parse(letters[2], "season", "NAMZ")?;
    if letters[0] == 'Z' {
        errors = vec![Component::Additive, Component::Multiplicative];
    }
    if letters[1] == 'Z' {
        trends = vec![Component::None, Component::Additive];
    }
    if letters[2] == 'Z' {
        seasons = vec![
            Component::None,
            Component::Additive,
            Component::Multiplicative,
        ];
    }
    let dampings: Vec<bool> = match spec.damped {
        Some(d) => vec![d],
        None => vec![true, false],
    };

    let n = y.len();
    let mut notes = Vec::new();
    // statsforecast refuses series this short before looking at any candidate.
    let min_pars = 2
        + if letters[1] == 'A' { 2 } else { 0 }
        + if matches!(letters[2], 'A' | 'M') {
            2
        } else {
            0
        }
        + spec.damped.unwrap_or(false) as usize;
    if n <= min_pars + 4 {
        return Err(BaselineError::TooShort {
            model: MODEL.into(),
            needed: min_pars + 5,
            got: n,
        });
    }
    if y.iter().all(|&v| v == y[0]) {
        return Ok(constant_fit(y, notes));
    }

    let mut m = input.period.max(1);
    if m > 1 && n <= m {
        notes.push(format!(
            "seasonality dropped: {n} observations do not exceed one period of {m}"
        ));
        m = 1;
    } else if m > 24 {
        notes.push(format!(
            "seasonality dropped: period {m} is above 24 (too many seasonal states)"
        ));
        m = 1;
    }
    if m == 1 {
        if letters[2] == 'A' || letters[2] == 'M' {
            return Err(bad_spec(format!(
                "model {} asks for a season, but the series has none usable",
                spec.model
            )));
        }
        seasons = vec![Component::None];
    }
    let positive = y.iter().all(|&v| v > 0.0);
    if !positive {
        let (position, &value) = y
            .iter()
            .enumerate()
            .find(|(_, &v)| v <= 0.0)
            .expect("a non-positive value");
        if letters[0] == 'M' || letters[2] == 'M' {
            return Err(BaselineError::NonPositive {
                model: MODEL.into(),
                position,
                value,
            });
        }
        if errors.contains(&Component::Multiplicative)
            || seasons.contains(&Component::Multiplicative)
        {
            notes.push(format!(
                "multiplicative error and season skipped: the series has {value} at position \
                 {position}"
            ));
        }
        errors.retain(|&e| e != Component::Multiplicative);
        seasons.retain(|&s| s != Component::Multiplicative);
    }

    let mut best: Option<EtsFit> = None;
    for &error in &errors {
        for &trend in &trends {
            for &season in &seasons {
                for &damped in &dampings {
                    if trend == Component::None && damped {
                        continue;
                    }
                    if spec.restrict
                        && error == Component::Additive
                        && season == Component::Multiplicative
                    {
                        continue;
                    }
                    let form = Form {
                        error,
                        trend,
                        season,
                        damped,
                        m: if season == Component::None { 1 } else { m },
                    };
                    input.check_deadline(MODEL)?;
                    if let Some(fit) = fit_form(y, &form, spec.max_iter) {
                        if fit.aicc.is_finite() && best.as_ref().is_none_or(|b| fit.aicc < b.aicc) {
                            best = Some(fit);
                        }
                    }
                }
            }
        }
    }
    let mut fit = best.ok_or_else(|| {
        bad_spec(format!(
            "no candidate model could be fitted to {n} observations"
        ))
    })?;
    fit.notes = notes;
    Ok(fit)
}

/// A constant series: simple exponential smoothing that reproduces it, zero variance (as
/// statsforecast, which fits ETS(A,N,N) with alpha 0.9999 to constant data).
fn constant_fit(y: &[f64], notes: Vec<String>) -> EtsFit {
    EtsFit {
        error: Component::Additive,
        trend: Component::None,
        season: Component::None,
        damped: false,
        period: 1,
        alpha: 0.9999,
        beta: 0.0,
        gamma: 0.0,
        phi: 1.0,
        initial_state: vec![y[0]],
        last_state: vec![y[0]],
        sigma2: 0.0,
        neg2_loglik: f64::NEG_INFINITY,
        aic: f64::NEG_INFINITY,
        aicc: f64::NEG_INFINITY,
        bic: f64::NEG_INFINITY,
        n_params: 3,
        n_obs: y.len(),
        notes,
    }
}

/// Unpacks an optimizer vector `[alpha, beta?, gamma?, phi?, l0, b0?, s_0..s_{m-2}]` into the
/// smoothing parameters and the full initial state (appending the normalized last seasonal
/// index); `None` where the implied multiplicative seasonal indices go negative.
fn unpack(form: &Form, x: &[f64], state: &mut Vec<f64>) -> Option<Smoothing> {
    let mut k = 0;
    let mut next = || {
        k += 1;
        x[k - 1]
    };
    let alpha = next();
    let beta = if form.has_trend() { next() } else { 0.0 };
    let gamma = if form.has_season() { next() } else { 0.0 };
    let phi = if form.damped { next() } else { 1.0 };
    let ns = form.n_smoothing();
    state.clear();
    state.extend_from_slice(&x[ns..]);
    if form.has_season() {
        let start = 1 + form.has_trend() as usize;
        let total = if form.season == Component::Multiplicative {
            form.m as f64
        } else {
            0.0
        };
        let last = total - state[start..].iter().sum::<f64>();
        state.push(last);
        if form.season == Component::Multiplicative && state[start..].iter().any(|&s| s < 0.0) {
            return None;
        }
    }
    Some(Smoothing {
        alpha,
        beta,
        gamma,
        phi,
    })
}

/// Maximum likelihood fit of one model form; `None` when it has too many parameters for the data
/// or no admissible start.
fn fit_form(y: &[f64], form: &Form, max_iter: usize) -> Option<EtsFit> {
    let n = y.len();
    let n_par = form.n_smoothing() + form.n_free_states();
    if n_par + 1 >= n {
        return None;
    }
    // statsforecast's starting values: alpha a fifth of the way into its range (over m),
    // beta a tenth of the way to alpha, gamma a twentieth of the way to 1 - alpha, phi near 0.98.
    let m = form.m as f64;
    let alpha = LOWER[0] + 0.2 * (UPPER[0] - LOWER[0]) / m;
    let mut x0 = vec![alpha];
    let mut lower = vec![LOWER[0]];
    let mut upper = vec![UPPER[0]];
    if form.has_trend() {
        let up = UPPER[1].min(alpha);
        x0.push(LOWER[1] + 0.1 * (up - LOWER[1]));
        lower.push(LOWER[1]);
        upper.push(UPPER[1]);
    }
    if form.has_season() {
        let up = UPPER[2].min(1.0 - alpha);
        x0.push(LOWER[2] + 0.05 * (up - LOWER[2]));
        lower.push(LOWER[2]);
        upper.push(UPPER[2]);
    }
    if form.damped {
        x0.push(LOWER[3] + 0.99 * (UPPER[3] - LOWER[3]));
        lower.push(LOWER[3]);
        upper.push(UPPER[3]);
    }
    x0.extend(core::initial_states(y, form));
    lower.resize(x0.len(), f64::NEG_INFINITY);
    upper.resize(x0.len(), f64::INFINITY);

    let mut state = Vec::with_capacity(form.n_states());
    let objective = |x: &[f64], state: &mut Vec<f64>| -> f64 {
        let Some(par) = unpack(form, x, state) else {
            return f64::INFINITY;
        };
        if !core::admissible(form, &par) {
            return f64::INFINITY;
        }
        let lik = core::filter(form, &par, state, y, None, None);
        if lik.is_nan() {
            f64::INFINITY
        } else {
            lik.max(-1e10)
        }
    };
    let opts = NelderMeadOptions {
        lower,
        upper,
        max_iter,
        ..NelderMeadOptions::default()
    };
    let result = nelder_mead(|x| objective(x, &mut state), &x0, &opts);
    if !result.f.is_finite() {
        return None;
    }
    let par = unpack(form, &result.x, &mut state)?;
    let mut residuals = Vec::with_capacity(n);
    let mut last = Vec::with_capacity(form.n_states());
    let lik = core::filter(form, &par, &state, y, Some(&mut residuals), Some(&mut last));
    if !lik.is_finite() || last.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let k = n_par + 1;
    let nf = n as f64;
    let kf = k as f64;
    let aic = lik + 2.0 * kf;
    let aicc = if n > k + 1 {
        aic + 2.0 * kf * (kf + 1.0) / (nf - kf - 1.0)
    } else {
        f64::INFINITY
    };
    let sse: f64 = residuals.iter().map(|e| e * e).sum();
    Some(EtsFit {
        error: form.error,
        trend: form.trend,
        season: form.season,
        damped: form.damped,
        period: form.m,
        alpha: par.alpha,
        beta: par.beta,
        gamma: par.gamma,
        phi: par.phi,
        initial_state: state,
        last_state: last,
        sigma2: sse / (nf - kf - 1.0),
        neg2_loglik: lik,
        aic,
        aicc,
        bic: lik + nf.ln() * kf,
        n_params: k,
        n_obs: n,
        notes: Vec::new(),
    })
}

impl EtsFit {
    pub fn form(&self) -> Form {
        Form {
            error: self.error,
            trend: self.trend,
            season: self.season,
            damped: self.damped,
            m: self.period,
        }
    }

    fn smoothing(&self) -> Smoothing {
        Smoothing {
            alpha: self.alpha,
            beta: self.beta,
            gamma: self.gamma,
            phi: self.phi,
        }
    }

    /// Point forecasts for steps 1..=h.
    pub fn point_forecast(&self, h: usize) -> Vec<f64> {
        core::point_forecast(&self.form(), self.phi, &self.last_state, h)
    }

    /// Weights c_j of the innovation j steps back in the h-step error of the linear models:
    /// alpha + beta (phi + ... + phi^j) + gamma [j is a multiple of m].
    fn psi_weights(&self, h: usize) -> Vec<f64> {
        let mut damp_sum = 0.0;
        let mut phi_pow = 1.0;
        (1..h)
            .map(|j| {
                phi_pow *= self.phi;
                damp_sum += phi_pow;
                let mut c = self.alpha;
                if self.trend != Component::None {
                    c += self.beta * damp_sum;
                }
                if self.season != Component::None && j % self.period == 0 {
                    c += self.gamma;
                }
                c
            })
            .collect()
    }

    /// Forecast variances of the models with analytic ones (no multiplicative season).
    fn analytic_variance(&self, mean: &[f64]) -> Vec<f64> {
        let h = mean.len();
        let c = self.psi_weights(h);
        let s2 = self.sigma2;
        match self.error {
            Component::Multiplicative => {
                // theta_k = mu_k^2 + sigma2 sum_j c_j^2 theta_{k-j}; var = (1 + sigma2) theta - mu^2.
                let mut theta: Vec<f64> = Vec::with_capacity(h);
                for k in 0..h {
                    let mut acc = mean[k] * mean[k];
                    for j in 1..=k {
                        acc += s2 * c[j - 1] * c[j - 1] * theta[k - j];
                    }
                    theta.push(acc);
                }
                theta
                    .iter()
                    .zip(mean)
                    .map(|(t, mu)| ((1.0 + s2) * t - mu * mu).max(0.0))
                    .collect()
            }
            _ => {
                let mut acc = 1.0;
                (0..h)
                    .map(|k| {
                        if k > 0 {
                            acc += c[k - 1] * c[k - 1];
                        }
                        s2 * acc
                    })
                    .collect()
            }
        }
    }

    /// Sample paths of the model from its last state with Gaussian innovations.
    fn simulate(&self, h: usize, paths: usize, seed: u64) -> Vec<Vec<f64>> {
        let form = self.form();
        let par = self.smoothing();
        let sd = self.sigma2.max(0.0).sqrt();
        let mut rng = Normal::new(seed);
        let mut x = self.last_state.clone();
        (0..paths)
            .map(|_| {
                x.copy_from_slice(&self.last_state);
                (0..h)
                    .map(|_| {
                        let e = sd * rng.next();
                        let mut out = 0.0;
                        core::step(&form, &par, &mut x, |f| {
                            out = if self.error == Component::Multiplicative {
                                f * (1.0 + e)
                            } else {
                                f + e
                            };
                            out
                        });
                        out
                    })
                    .collect()
            })
            .collect()
    }
}

impl Fitted for EtsFit {
    fn forecast(&self, h: usize, levels: &[f64]) -> Prediction {
        let mean = self.point_forecast(h);
        if levels.is_empty() {
            return Prediction::gaussian(mean, &vec![0.0; h], levels);
        }
        if self.season == Component::Multiplicative {
            let paths = self.simulate(h, SIMULATED_PATHS, SIMULATION_SEED);
            return Prediction::from_samples(mean, &paths, levels);
        }
        let sd: Vec<f64> = self
            .analytic_variance(&mean)
            .iter()
            .map(|v| v.sqrt())
            .collect();
        Prediction::gaussian(mean, &sd, levels)
    }

    fn describe(&self) -> String {
        format!(
            "ETS({},{}{},{})",
            self.error.letter(),
            self.trend.letter(),
            if self.damped { "d" } else { "" },
            self.season.letter()
        )
    }
}

const SIMULATED_PATHS: usize = 5000;
const SIMULATION_SEED: u64 = 0x05ee_de75;

/// Standard normal draws: splitmix64 uniforms through Box-Muller (deterministic, dependency
/// free; statistical quality is ample for forecast quantiles).
struct Normal {
    state: u64,
    spare: Option<f64>,
}

impl Normal {
    fn new(seed: u64) -> Self {
        Self {
            state: seed,
            spare: None,
        }
    }

    fn uniform(&mut self) -> f64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        // 53 random bits in (0, 1): never 0, so the log below is finite.
        ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn next(&mut self) -> f64 {
        if let Some(v) = self.spare.take() {
            return v;
        }
        let r = (-2.0 * self.uniform().ln()).sqrt();
        let t = 2.0 * std::f64::consts::PI * self.uniform();
        self.spare = Some(r * t.sin());
        r * t.cos()
    }
}
