//! AutoARIMA as statsforecast's `AutoARIMA(season_length = m)` (R's `forecast::auto.arima`,
//! Hyndman & Khandakar 2008): seasonal differencing from the STL seasonal strength, ordinary
//! differencing from KPSS tests, a stepwise search over (p, q)(P, Q) and the constant by AICc,
//! with CSS approximations during the search on long series and an exact-likelihood refit of the
//! best candidates. Forecasts integrate the differencing back; intervals are Gaussian with the
//! psi-weight variance of the full (differenced) model.

mod bfgs;
mod estimate;
mod search;
mod unit_root;

use serde::{Deserialize, Serialize};

use crate::{BaselineError, Fitted, Prediction, Result, SeriesInput};
use estimate::{Estimate, Orders, Regressor};

const MODEL: &str = "AutoARIMA";

/// Information criterion that ranks candidate models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InformationCriterion {
    #[default]
    Aicc,
    Aic,
    Bic,
}

/// Settings of the search (statsforecast's / auto.arima's defaults). With `order` set, that one
/// model is fitted (by CSS then exact likelihood) instead of searching.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArimaSpec {
    pub max_p: usize,
    pub max_q: usize,
    #[serde(rename = "max_P")]
    pub max_seasonal_p: usize,
    #[serde(rename = "max_Q")]
    pub max_seasonal_q: usize,
    pub max_d: usize,
    #[serde(rename = "max_D")]
    pub max_seasonal_d: usize,
    /// Largest p + q + P + Q of the exhaustive (non-stepwise) search.
    pub max_order: usize,
    pub stepwise: bool,
    /// CSS during the search; `None`: when the series is longer than 150 or the period above 12.
    pub approximation: Option<bool>,
    pub ic: InformationCriterion,
    pub allow_drift: bool,
    pub allow_mean: bool,
    /// A fixed ARIMA(p, d, q) instead of the search.
    pub order: Option<[usize; 3]>,
    /// Its seasonal (P, D, Q) (with the input's period); zeros when absent.
    pub seasonal_order: Option<[usize; 3]>,
    /// Constant of the fixed model (a mean without differencing, a drift with one difference);
    /// `None`: a mean when there is no differencing, as R's `Arima`.
    pub include_constant: Option<bool>,
}

impl Default for ArimaSpec {
    fn default() -> Self {
        Self {
            max_p: 5,
            max_q: 5,
            max_seasonal_p: 2,
            max_seasonal_q: 2,
            max_d: 2,
            max_seasonal_d: 1,
            max_order: 5,
            stepwise: true,
            approximation: None,
            ic: InformationCriterion::Aicc,
            allow_drift: true,
            allow_mean: true,
            order: None,
            seasonal_order: None,
            include_constant: None,
        }
    }
}

/// A fitted ARIMA(p,d,q)(P,D,Q)[m] with what forecasting needs: the coefficients, the constant,
/// the innovation variance, the filtered state of the differenced process at the end of the
/// training data and the last `d + D*m` (constant-adjusted) observations to integrate back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArimaFit {
    pub order: [usize; 3],
    pub seasonal_order: [usize; 3],
    pub period: usize,
    pub ar: Vec<f64>,
    pub ma: Vec<f64>,
    pub sar: Vec<f64>,
    pub sma: Vec<f64>,
    /// Mean of an undifferenced model.
    pub mean: Option<f64>,
    /// Slope per step of a once-differenced model (time counted from 1 at the first observation).
    pub drift: Option<f64>,
    pub sigma2: f64,
    pub loglik: Option<f64>,
    pub aicc: Option<f64>,
    /// Number of training observations.
    pub n: usize,
    pub state: Vec<f64>,
    /// Covariance of that state (row-major, per unit innovation variance).
    pub state_cov: Vec<f64>,
    pub tail: Vec<f64>,
}

/// Fits AutoARIMA (or the fixed model of `spec.order`) on one series.
pub fn auto_arima(input: &SeriesInput, spec: &ArimaSpec) -> Result<ArimaFit> {
    let y = input.y;
    if let Some((position, &value)) = y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(BaselineError::NonFinite { position, value });
    }
    if y.len() < 3 {
        return Err(BaselineError::TooShort {
            model: MODEL.into(),
            needed: 3,
            got: y.len(),
        });
    }
    let est = if let Some(order) = spec.order {
        fixed_order(input, spec, order)?
    } else {
        search::auto(input, spec)?
    };
    Ok(to_fit(&est))
}

fn fixed_order(input: &SeriesInput, spec: &ArimaSpec, order: [usize; 3]) -> Result<Estimate> {
    let s = spec.seasonal_order.unwrap_or([0; 3]);
    let m = if s.iter().any(|&v| v > 0) {
        input.period.max(1)
    } else {
        1
    };
    let o = Orders {
        p: order[0],
        d: order[1],
        q: order[2],
        sp: s[0],
        sd: s[1],
        sq: s[2],
        m,
    };
    let needed = o.n_diff() + o.p + o.sp * m + 2;
    if input.y.len() < needed {
        return Err(BaselineError::TooShort {
            model: "ARIMA".into(),
            needed,
            got: input.y.len(),
        });
    }
    let constant = spec.include_constant.unwrap_or(o.d + o.sd == 0);
    let reg = Regressor::for_model(constant, &o);
    let est = estimate::fit(input.y, o, reg, estimate::Method::CssMl, None).map_err(|message| {
        BaselineError::FitFailed {
            model: "ARIMA".into(),
            message,
        }
    })?;
    Ok(search::with_forecast_variance(est))
}

fn to_fit(e: &Estimate) -> ArimaFit {
    let o = e.orders;
    let c = &e.coef;
    let narma = o.n_arma();
    let reg = c.get(narma).copied();
    let finite = |v: f64| v.is_finite().then_some(v);
    ArimaFit {
        order: [o.p, o.d, o.q],
        seasonal_order: [o.sp, o.sd, o.sq],
        period: o.m,
        ar: c[..o.p].to_vec(),
        ma: c[o.p..o.p + o.q].to_vec(),
        sar: c[o.p + o.q..o.p + o.q + o.sp].to_vec(),
        sma: c[o.p + o.q + o.sp..narma].to_vec(),
        mean: if e.regressor == Regressor::Mean {
            reg
        } else {
            None
        },
        drift: if e.regressor == Regressor::Drift {
            reg
        } else {
            None
        },
        sigma2: e.sigma2,
        loglik: finite(e.loglik),
        aicc: finite(search::aicc(e)),
        n: e.n,
        state: e.state.clone(),
        state_cov: e.state_cov.clone(),
        tail: e.tail.clone(),
    }
}

impl ArimaFit {
    fn orders(&self) -> Orders {
        Orders {
            p: self.order[0],
            d: self.order[1],
            q: self.order[2],
            sp: self.seasonal_order[0],
            sd: self.seasonal_order[1],
            sq: self.seasonal_order[2],
            m: self.period,
        }
    }

    fn coef(&self) -> Vec<f64> {
        [&self.ar[..], &self.ma, &self.sar, &self.sma].concat()
    }

    /// Point forecasts and forecast standard deviations for steps 1..=h: the Kalman forecast
    /// of the state (ARMA state of the differenced series, then the last `d + D*m` levels, known
    /// exactly), so the uncertainty of the filtered state counts too, as in R's `predict`.
    /// Once the filter has converged this is the psi-weight variance.
    pub fn forecast_mean_sd(&self, h: usize) -> (Vec<f64>, Vec<f64>) {
        let o = self.orders();
        let (phi, theta) = estimate::expand(&self.coef(), &o);
        let delta = estimate::delta(&o);
        let r = self.state.len();
        let nd = delta.len();
        let k = r + nd;
        // Transition and noise loading of the augmented state [a; x_n, x_{n-1}, ...].
        let mut t = vec![0.0; k * k];
        let mut load = vec![0.0; k];
        for i in 0..r {
            t[i * k] = phi.get(i).copied().unwrap_or(0.0);
            if i + 1 < r {
                t[i * k + i + 1] = 1.0;
            }
            load[i] = if i == 0 {
                1.0
            } else {
                theta.get(i - 1).copied().unwrap_or(0.0)
            };
        }
        if nd > 0 {
            // x_{n+1} = w_{n+1} + sum delta_i x_{n+1-i}, w_{n+1} = phi_1 a[0] + a[1] + e.
            for c in 0..k {
                t[r * k + c] = t[c];
            }
            for (i, d) in delta.iter().enumerate() {
                t[r * k + r + i] += d;
            }
            load[r] = 1.0;
            for i in 1..nd {
                t[(r + i) * k + r + i - 1] = 1.0;
            }
        }
        let mut s: Vec<f64> = self.state.clone();
        s.extend(self.tail.iter().rev());
        let mut p = vec![0.0; k * k];
        if self.state_cov.len() == r * r {
            for i in 0..r {
                p[i * k..i * k + r].copy_from_slice(&self.state_cov[i * r..(i + 1) * r]);
            }
        }
        let obs = if nd > 0 { r } else { 0 };
        let mut mean = Vec::with_capacity(h);
        let mut sd = Vec::with_capacity(h);
        let mut tp = vec![0.0; k * k];
        for step in 0..h {
            let next: Vec<f64> = (0..k)
                .map(|i| (0..k).map(|j| t[i * k + j] * s[j]).sum())
                .collect();
            s = next;
            for i in 0..k {
                for j in 0..k {
                    tp[i * k + j] = (0..k).map(|l| t[i * k + l] * p[l * k + j]).sum();
                }
            }
            for i in 0..k {
                for j in 0..k {
                    p[i * k + j] = (0..k).map(|l| tp[i * k + l] * t[j * k + l]).sum::<f64>()
                        + load[i] * load[j];
                }
            }
            let time = self.n + step; // 0-based time of the step
            mean.push(
                s[obs]
                    + self.mean.unwrap_or(0.0)
                    + self.drift.map_or(0.0, |b| b * (time + 1) as f64),
            );
            sd.push((self.sigma2 * p[obs * k + obs]).max(0.0).sqrt());
        }
        (mean, sd)
    }
}

impl Fitted for ArimaFit {
    fn forecast(&self, h: usize, levels: &[f64]) -> Prediction {
        let (mean, sd) = self.forecast_mean_sd(h);
        Prediction::gaussian(mean, &sd, levels)
    }

    fn describe(&self) -> String {
        let [p, d, q] = self.order;
        let [sp, sd, sq] = self.seasonal_order;
        let mut s = format!("ARIMA({p},{d},{q})");
        if self.period > 1 && sp + sd + sq > 0 {
            s += &format!("({sp},{sd},{sq})[{}]", self.period);
        }
        if self.drift.is_some() {
            s += " with drift";
        } else if self.mean.is_some() {
            s += " with non-zero mean";
        } else if d + sd == 0 {
            s += " with zero mean";
        }
        s
    }
}

/// The statsforecast golden fixture the unit tests of the ARIMA modules read.
#[cfg(test)]
pub(crate) fn golden_fixture() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/arima/golden.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("the golden fixture"))
        .expect("golden JSON")
}
