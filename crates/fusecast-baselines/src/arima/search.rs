//! The order selection of auto.arima: differencing by tests, then the Hyndman-Khandakar stepwise
//! walk (or the exhaustive search) over (p, q)(P, Q) and the constant, ranked by an information
//! criterion; with approximation the walk ranks CSS fits and the best ones are refitted by exact
//! likelihood in IC order until one is admissible.

use super::estimate::{self, Estimate, Method, Orders, Regressor};
use super::unit_root::{is_constant, ndiffs, nsdiffs};
use super::{ArimaSpec, InformationCriterion, MODEL};
use crate::{BaselineError, Result, SeriesInput};

/// Most models the stepwise walk fits (auto.arima's `nmodels`).
const NMODELS: usize = 94;

fn criteria(e: &Estimate, aic: f64) -> (f64, f64, f64) {
    let o = e.orders;
    let nstar = (e.n - o.n_diff()) as f64;
    let npar = (e.n_free + 1) as f64;
    let bic = aic + npar * (nstar.ln() - 2.0);
    let denom = nstar - npar - 1.0;
    let aicc = if denom != 0.0 {
        aic + 2.0 * npar * (npar + 1.0) / denom
    } else {
        f64::INFINITY
    };
    (aic, aicc, bic)
}

/// AICc of an exact-likelihood fit.
pub(crate) fn aicc(e: &Estimate) -> f64 {
    criteria(e, e.aic).1
}

/// The residual variance auto.arima forecasts with: squared residuals over `n* - npar + 1`.
pub(crate) fn with_forecast_variance(mut e: Estimate) -> Estimate {
    let nstar = (e.n - e.orders.n_diff()) as f64;
    let npar = (e.n_free + 1) as f64;
    let ss: f64 = e.resid.iter().map(|r| r * r).sum();
    e.sigma2 = ss / (nstar - npar + 1.0);
    e
}

/// True when the polynomial `1 + sign * sum c_j z^j` has a root inside radius 1.01. As
/// statsforecast, a polynomial whose only non-zero coefficient is the first is not checked.
fn near_unit_root(c: &[f64], sign: f64) -> bool {
    let Some(last) = c.iter().rposition(|v| v.abs() > 1e-8) else {
        return false;
    };
    if last == 0 {
        return false;
    }
    let coef: Vec<f64> = c[..=last].iter().map(|v| -sign * v).collect();
    !estimate::roots_outside(&coef, 1.01)
}

struct Ctx<'a> {
    input: &'a SeriesInput<'a>,
    x: &'a [f64],
    d: usize,
    sd: usize,
    m: usize,
    ic: InformationCriterion,
}

impl Ctx<'_> {
    /// One candidate (`myarima`): its IC (infinite when it cannot be fitted or has a root near
    /// the unit circle) and the fit.
    fn fit(
        &self,
        p: usize,
        q: usize,
        sp: usize,
        sq: usize,
        constant: bool,
        approximation: bool,
    ) -> Result<(f64, Option<Estimate>)> {
        self.input.check_deadline(MODEL)?;
        let o = Orders {
            p,
            d: self.d,
            q,
            sp,
            sd: self.sd,
            sq,
            m: self.m,
        };
        let method = if approximation {
            Method::Css
        } else {
            Method::CssMl
        };
        let Ok(e) = estimate::fit(self.x, o, Regressor::for_model(constant, &o), method, None)
        else {
            return Ok((f64::INFINITY, None));
        };
        let aic = if approximation {
            let nstar = (e.n - o.n_diff()) as f64;
            if e.sigma2 <= 0.0 {
                f64::NEG_INFINITY
            } else {
                nstar * e.sigma2.ln() + 2.0 * (e.n_free + 1) as f64
            }
        } else {
            e.aic
        };
        let mut ic = if aic.is_nan() {
            f64::INFINITY
        } else {
            let (aic, aicc, bic) = criteria(&e, aic);
            match self.ic {
                InformationCriterion::Aic => aic,
                InformationCriterion::Aicc => aicc,
                InformationCriterion::Bic => bic,
            }
        };
        let (phi, theta) = e.phi_theta();
        if p + sp > 0 && near_unit_root(&phi, -1.0) {
            ic = f64::INFINITY;
        }
        if q + sq > 0 && ic < f64::INFINITY && near_unit_root(&theta, 1.0) {
            ic = f64::INFINITY;
        }
        if ic.is_nan() {
            ic = f64::INFINITY;
        }
        Ok((ic, Some(with_forecast_variance(e))))
    }
}

fn failed(message: &str) -> BaselineError {
    BaselineError::FitFailed {
        model: MODEL.into(),
        message: message.into(),
    }
}

/// A model with all coefficients given (the degenerate cases of auto.arima).
fn fixed(x: &[f64], o: Orders, reg: Regressor, value: Option<f64>) -> Result<Estimate> {
    let mut coef = vec![0.0; o.n_arma()];
    if reg != Regressor::None {
        coef.push(value.unwrap_or(0.0));
    }
    let e = estimate::fit(x, o, reg, Method::CssMl, Some(&coef)).map_err(|m| failed(&m))?;
    Ok(with_forecast_variance(e))
}

pub(crate) fn auto(input: &SeriesInput, spec: &ArimaSpec) -> Result<Estimate> {
    let x = input.y;
    let n = x.len();
    let mut m = input.period.max(1);
    if n <= m {
        // statsforecast keeps the period and finds no seasonal difference; without enough
        // data for one season the seasonal terms cannot be estimated anyway.
        m = 1;
    }
    let o0 = |d, sd, m| Orders {
        p: 0,
        d,
        q: 0,
        sp: 0,
        sd,
        sq: 0,
        m,
    };
    if is_constant(x) {
        return fixed(x, o0(0, 0, 1), Regressor::Mean, Some(x[0]));
    }
    let third = n / 3;
    let mut max_p = spec.max_p.min(third);
    let mut max_q = spec.max_q.min(third);
    let mut max_sp = spec.max_seasonal_p.min(third / m);
    let mut max_sq = spec.max_seasonal_q.min(third / m);
    let ic = if n <= 3 {
        InformationCriterion::Aic
    } else {
        spec.ic
    };
    let mut sd = 0;
    if m == 1 {
        max_sp = 0;
        max_sq = 0;
    } else if n > 2 * m {
        sd = nsdiffs(x, m, spec.max_seasonal_d);
    }
    let dx = estimate::difference(x, 0, sd, m);
    let mut d = ndiffs(&dx, spec.max_d);
    if d > 0 && estimate::difference(&dx, d, 0, 1).is_empty() {
        d -= 1;
    }
    let dx = estimate::difference(&dx, d, 0, 1);
    if dx.is_empty() {
        return Err(BaselineError::TooShort {
            model: MODEL.into(),
            needed: d + sd * m + 1,
            got: n,
        });
    }
    if is_constant(&dx) {
        let mean = dx.iter().sum::<f64>() / dx.len() as f64;
        return if sd > 0 && d == 0 {
            fixed(x, o0(0, sd, m), Regressor::Drift, Some(mean / m as f64))
        } else if sd > 0 || d == 2 {
            fixed(x, o0(d, sd, m), Regressor::None, None)
        } else if d == 1 {
            fixed(x, o0(1, 0, m), Regressor::Drift, Some(mean))
        } else {
            fixed(x, o0(0, 0, m), Regressor::Mean, Some(mean))
        };
    }
    if m > 1 {
        if max_p > 0 {
            max_p = max_p.min(m - 1);
        }
        if max_q > 0 {
            max_q = max_q.min(m - 1);
        }
    }
    let approximation = spec.approximation.unwrap_or(n > 150 || m > 12);
    let allow_drift = spec.allow_drift && d + sd == 1;
    let allow_mean = spec.allow_mean && d + sd == 0;
    let ctx = Ctx {
        input,
        x,
        d,
        sd,
        m,
        ic,
    };
    let limits = [max_p, max_q, max_sp, max_sq];
    if !spec.stepwise {
        return exhaustive(
            &ctx,
            limits,
            spec.max_order,
            allow_drift || allow_mean,
            approximation,
        );
    }
    stepwise(&ctx, limits, allow_drift || allow_mean, approximation, n)
}

type Row = ([usize; 4], bool, f64);

fn stepwise(
    ctx: &Ctx,
    [max_p, max_q, max_sp, max_sq]: [usize; 4],
    allow_constant: bool,
    approximation: bool,
    n: usize,
) -> Result<Estimate> {
    let m = ctx.m;
    let (mut sp0, mut sq0) = (1usize, 1usize);
    let (mut p0, mut q0) = (2usize, 2usize);
    if n < 10 {
        p0 = 1;
        q0 = 1;
        sp0 = 0;
        sq0 = 0;
    }
    let mut p = p0.min(max_p);
    let mut q = q0.min(max_q);
    let mut sp = sp0.min(max_sp);
    let mut sq = sq0.min(max_sq);
    let mut constant = allow_constant;
    let mut results: Vec<Row> = Vec::new();
    let (ic, fit) = ctx.fit(p, q, sp, sq, constant, approximation)?;
    results.push(([p, q, sp, sq], constant, ic));
    let mut best = (ic, fit);
    let consider = |order: [usize; 4],
                    c: bool,
                    results: &mut Vec<Row>,
                    best: &mut (f64, Option<Estimate>)|
     -> Result<bool> {
        let (ic, fit) = ctx.fit(order[0], order[1], order[2], order[3], c, approximation)?;
        results.push((order, c, ic));
        if ic < best.0 {
            *best = (ic, fit);
            return Ok(true);
        }
        Ok(false)
    };
    if consider([0, 0, 0, 0], constant, &mut results, &mut best)? {
        (p, q, sp, sq) = (0, 0, 0, 0);
    }
    if max_p > 0 || max_sp > 0 {
        let pp = (max_p > 0) as usize;
        let ps = (m > 1 && max_sp > 0) as usize;
        if consider([pp, 0, ps, 0], constant, &mut results, &mut best)? {
            (p, q, sp, sq) = (pp, 0, ps, 0);
        }
    }
    if max_q > 0 || max_sq > 0 {
        let qq = (max_q > 0) as usize;
        let qs = (m > 1 && max_sq > 0) as usize;
        if consider([0, qq, 0, qs], constant, &mut results, &mut best)? {
            (p, q, sp, sq) = (0, qq, 0, qs);
        }
    }
    if constant && consider([0, 0, 0, 0], false, &mut results, &mut best)? {
        // statsforecast leaves `constant` as it was here.
        (p, q, sp, sq) = (0, 0, 0, 0);
    }
    let is_new = |results: &[Row], o: [usize; 4], c: bool| {
        !results.iter().any(|(ro, rc, _)| *ro == o && *rc == c)
    };
    let mut startk = 0;
    while startk < results.len() && results.len() < NMODELS {
        startk = results.len();
        // Neighbours in auto.arima's order: seasonal part first, then the non-seasonal part,
        // then the constant; the walk restarts from the first improvement.
        let (ip, iq, isp, isq) = (p as i64, q as i64, sp as i64, sq as i64);
        let moves: [(i64, i64, i64, i64, bool); 17] = [
            (ip, iq, isp - 1, isq, false),
            (ip, iq, isp, isq - 1, false),
            (ip, iq, isp + 1, isq, false),
            (ip, iq, isp, isq + 1, false),
            (ip, iq, isp - 1, isq - 1, false),
            (ip, iq, isp - 1, isq + 1, false),
            (ip, iq, isp + 1, isq - 1, false),
            (ip, iq, isp + 1, isq + 1, false),
            (ip - 1, iq, isp, isq, false),
            (ip, iq - 1, isp, isq, false),
            (ip + 1, iq, isp, isq, false),
            (ip, iq + 1, isp, isq, false),
            (ip - 1, iq - 1, isp, isq, false),
            (ip - 1, iq + 1, isp, isq, false),
            (ip + 1, iq - 1, isp, isq, false),
            (ip + 1, iq + 1, isp, isq, false),
            (ip, iq, isp, isq, true),
        ];
        for (np, nq, nsp, nsq, toggle) in moves {
            if toggle && !allow_constant {
                continue;
            }
            if np < 0
                || nq < 0
                || nsp < 0
                || nsq < 0
                || np > max_p as i64
                || nq > max_q as i64
                || nsp > max_sp as i64
                || nsq > max_sq as i64
            {
                continue;
            }
            let o = [np as usize, nq as usize, nsp as usize, nsq as usize];
            let c = constant != toggle;
            if !is_new(&results, o, c) {
                continue;
            }
            if results.len() >= NMODELS {
                break;
            }
            if consider(o, c, &mut results, &mut best)? {
                (p, q, sp, sq) = (o[0], o[1], o[2], o[3]);
                constant = c;
                break;
            }
        }
    }
    finish(ctx, best, results, approximation)
}

/// With approximation: refits the candidates by exact likelihood in IC order and keeps the first
/// admissible one.
fn finish(
    ctx: &Ctx,
    best: (f64, Option<Estimate>),
    mut results: Vec<Row>,
    approximation: bool,
) -> Result<Estimate> {
    if approximation {
        results.sort_by(|a, b| a.2.total_cmp(&b.2));
        for (o, c, _) in results {
            let (ic, fit) = ctx.fit(o[0], o[1], o[2], o[3], c, false)?;
            if ic < f64::INFINITY {
                if let Some(f) = fit {
                    return Ok(f);
                }
            }
        }
        return Err(failed(
            "no candidate could be refitted by maximum likelihood",
        ));
    }
    match best {
        (ic, Some(f)) if ic.is_finite() => Ok(f),
        _ => Err(failed("no suitable ARIMA model found")),
    }
}

fn exhaustive(
    ctx: &Ctx,
    [max_p, max_q, max_sp, max_sq]: [usize; 4],
    max_order: usize,
    allow_constant: bool,
    approximation: bool,
) -> Result<Estimate> {
    let mut best: (f64, Option<Estimate>) = (f64::INFINITY, None);
    let mut best_key = None;
    for p in 0..=max_p {
        for q in 0..=max_q {
            for sp in 0..=max_sp {
                for sq in 0..=max_sq {
                    if p + q + sp + sq > max_order {
                        continue;
                    }
                    for c in 0..=(allow_constant as usize) {
                        let (ic, fit) = ctx.fit(p, q, sp, sq, c == 1, approximation)?;
                        if ic < best.0 {
                            best = (ic, fit);
                            best_key = Some(([p, q, sp, sq], c == 1));
                        }
                    }
                }
            }
        }
    }
    let Some((o, c)) = best_key else {
        return Err(failed("no ARIMA model could be estimated"));
    };
    if approximation {
        let (ic, fit) = ctx.fit(o[0], o[1], o[2], o[3], c, false)?;
        if let (true, Some(f)) = (ic.is_finite(), fit) {
            return Ok(f);
        }
        return exhaustive(
            ctx,
            [max_p, max_q, max_sp, max_sq],
            max_order,
            allow_constant,
            false,
        );
    }
    best.1
        .ok_or_else(|| failed("no ARIMA model could be estimated"))
}
