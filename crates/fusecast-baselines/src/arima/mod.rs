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

    /// Point forecasts and forecast standard deviations for steps 1..=h.
    pub fn forecast_mean_sd(&self, h: usize) -> (Vec<f64>, Vec<f64>) {
        let o = self.orders();
        let (phi, theta) = estimate::expand(&self.coef(), &o);
        let r = self.state.len();
        let mut a = self.state.clone();
        let mut w = Vec::with_capacity(h);
        for _ in 0..h {
            let a0 = a.first().copied().unwrap_or(0.0);
            let next: Vec<f64> = (0..r)
                .map(|i| {
                    phi.get(i).copied().unwrap_or(0.0) * a0 + a.get(i + 1).copied().unwrap_or(0.0)
                })
                .collect();
            a = next;
            w.push(a.first().copied().unwrap_or(0.0));
        }
        let delta = estimate::delta(&o);
        let mut x = self.tail.clone();
        let mut mean = Vec::with_capacity(h);
        for (i, wi) in w.iter().enumerate() {
            let mut v = *wi;
            for (k, dk) in delta.iter().enumerate() {
                v += dk * x[x.len() - 1 - k];
            }
            x.push(v);
            let t = self.n + i; // 0-based time of the step
            mean.push(
                v + self.mean.unwrap_or(0.0) + self.drift.map_or(0.0, |b| b * (t + 1) as f64),
            );
        }
        // psi weights of theta(B) / (phi(B) (1-B)^d (1-B^m)^D)
        let mut full = vec![0.0; phi.len() + delta.len()];
        // 1 - sum full_k B^k = (1 - sum phi B)(1 - sum delta B)
        let mut prod = vec![0.0; full.len() + 1];
        let a_poly: Vec<f64> = std::iter::once(1.0).chain(phi.iter().map(|v| -v)).collect();
        let b_poly: Vec<f64> = std::iter::once(1.0)
            .chain(delta.iter().map(|v| -v))
            .collect();
        for (i, av) in a_poly.iter().enumerate() {
            for (j, bv) in b_poly.iter().enumerate() {
                prod[i + j] += av * bv;
            }
        }
        for k in 0..full.len() {
            full[k] = -prod[k + 1];
        }
        let mut psi = vec![0.0; h];
        let mut sd = Vec::with_capacity(h);
        let mut acc = 0.0;
        for j in 0..h {
            let mut v = if j == 0 {
                1.0
            } else {
                theta.get(j - 1).copied().unwrap_or(0.0)
            };
            for i in 1..=j.min(full.len()) {
                v += full[i - 1] * psi[j - i];
            }
            psi[j] = v;
            acc += v * v;
            sd.push((self.sigma2 * acc).sqrt());
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
