//! Proximal Newton steps toward the MAP, run before the L-BFGS polish: the trend's hinge
//! regressors are so collinear that a limited-memory method crawls for thousands of iterations,
//! while a Newton model with the |delta| terms kept exact (solved by coordinate descent, as
//! glmnet does) reaches the mode in a few steps. Alternates with the noise scale, whose optimum
//! given the residuals is closed-form.

use super::{Problem, MODEL};
use crate::{Result, SeriesInput};

const MAX_OUTER: usize = 60;
const MAX_SWEEPS: usize = 200;

/// Improves `x` = [k, m, delta, beta, log sigma] in place; returns the Newton iterations made.
pub(super) fn refine(problem: &mut Problem, x: &mut [f64], input: &SeriesInput) -> Result<usize> {
    let n = problem.y.len();
    let s = problem.cp.len();
    let nb = problem.prior_inv_var.len();
    let p = 2 + s + nb;
    let dim = p + 1;
    let tau_inv = problem.inv_tau;
    let was_smooth = problem.smooth_only;
    problem.smooth_only = false;
    let mut grad = vec![0.0; dim];
    let mut hess = vec![0.0; p * p];
    let mut jac = vec![0.0; p];
    let mut step = vec![0.0; p];
    let mut h_step = vec![0.0; p];
    let mut trial = x.to_vec();
    let mut on_holiday = vec![Vec::new(); n];
    for (h, rows) in problem.holiday_rows.iter().enumerate() {
        for &i in rows {
            on_holiday[i].push(2 + s + problem.width + h);
        }
    }
    let l1 = |v: &[f64]| tau_inv * v[2..2 + s].iter().map(|d| d.abs()).sum::<f64>();
    let mut f = problem.objective(x, &mut grad);
    let mut iterations = 0;
    while iterations < MAX_OUTER {
        input.check_deadline(MODEL)?;
        iterations += 1;
        // The noise scale given the residuals: 4 s^4 + n s^2 - SSR = 0.
        let ssr = problem.ssr;
        let sigma2 = (-(n as f64) + ((n * n) as f64 + 16.0 * ssr).sqrt()) / 8.0;
        if !(sigma2 > 0.0 && sigma2.is_finite()) {
            break;
        }
        x[dim - 1] = 0.5 * sigma2.ln();
        let f_sigma = problem.objective(x, &mut grad);
        // Gauss-Newton curvature of the data term plus the Gaussian priors (exact for the
        // additive model).
        hess.iter_mut().for_each(|v| *v = 0.0);
        for i in 0..n {
            let (tr, se) = (problem.trend[i], problem.season[i]);
            let (dt, ds) = if problem.multiplicative {
                (1.0 + se, tr)
            } else {
                (1.0, 1.0)
            };
            jac.iter_mut().for_each(|v| *v = 0.0);
            let ti = problem.t[i];
            jac[0] = dt * ti;
            jac[1] = dt;
            for j in 0..s {
                if ti >= problem.cp[j] {
                    jac[2 + j] = dt * (ti - problem.cp[j]);
                }
            }
            let row = &problem.x[i * problem.width..(i + 1) * problem.width];
            for (c, a) in row.iter().enumerate() {
                jac[2 + s + c] = ds * a;
            }
            for &c in &on_holiday[i] {
                jac[c] = ds;
            }
            for a in 0..p {
                let ja = jac[a];
                if ja == 0.0 {
                    continue;
                }
                for b in a..p {
                    hess[a * p + b] += ja * jac[b];
                }
            }
        }
        for a in 0..p {
            for b in a..p {
                hess[a * p + b] /= sigma2;
                hess[b * p + a] = hess[a * p + b];
            }
        }
        hess[0] += 1.0 / 25.0;
        hess[p + 1] += 1.0 / 25.0;
        for (c, w) in problem.prior_inv_var.iter().enumerate() {
            hess[(2 + s + c) * p + 2 + s + c] += w;
        }
        // The smooth gradient (the |delta| subgradient taken back out).
        let smooth_grad: Vec<f64> = (0..p)
            .map(|j| {
                if (2..2 + s).contains(&j) {
                    grad[j] - tau_inv * super::sign(x[j])
                } else {
                    grad[j]
                }
            })
            .collect();
        // Coordinate descent on g'd + d'Hd/2 + sum w |x + d| over the delta coordinates.
        step.iter_mut().for_each(|v| *v = 0.0);
        h_step.iter_mut().for_each(|v| *v = 0.0);
        for _ in 0..MAX_SWEEPS {
            let mut biggest = 0.0f64;
            for j in 0..p {
                let a = hess[j * p + j];
                if a <= 1e-300 {
                    continue;
                }
                let b = smooth_grad[j] + h_step[j] - a * step[j];
                let new = if (2..2 + s).contains(&j) {
                    let z = x[j] - b / a;
                    let thr = tau_inv / a;
                    let shrunk = if z > thr {
                        z - thr
                    } else if z < -thr {
                        z + thr
                    } else {
                        0.0
                    };
                    shrunk - x[j]
                } else {
                    -b / a
                };
                let change = new - step[j];
                if change != 0.0 {
                    step[j] = new;
                    for (hs, h) in h_step.iter_mut().zip(&hess[j * p..(j + 1) * p]) {
                        *hs += h * change;
                    }
                    biggest = biggest.max(change.abs());
                }
            }
            if biggest < 1e-12 {
                break;
            }
        }
        // CD crawls along the collinear hinges: once it has the sign pattern, solve the Newton
        // system on that pattern exactly, kept when the signs it gives agree.
        exact_on_support(&hess, &smooth_grad, x, &mut step, s, tau_inv);
        // Backtracking on the exact objective; the model's predicted decrease as the yardstick.
        let predicted: f64 = smooth_grad
            .iter()
            .zip(&step)
            .map(|(g, d)| g * d)
            .sum::<f64>()
            + {
                trial[..p]
                    .iter_mut()
                    .zip(x[..p].iter().zip(&step))
                    .for_each(|(t, (xi, d))| *t = xi + d);
                l1(&trial) - l1(x)
            };
        if !(predicted < 0.0) {
            break;
        }
        let mut alpha = 1.0;
        let mut accepted = None;
        for _ in 0..30 {
            for j in 0..p {
                trial[j] = x[j] + alpha * step[j];
            }
            trial[dim - 1] = x[dim - 1];
            let ft = problem.objective(&trial, &mut grad);
            if ft.is_finite() && ft <= f_sigma + 1e-4 * alpha * predicted {
                accepted = Some(ft);
                break;
            }
            alpha *= 0.5;
        }
        let Some(ft) = accepted else {
            break;
        };
        x.copy_from_slice(&trial);
        let change = f_sigma.min(f) - ft;
        f = ft;
        if change.abs() <= 1e4 * f64::EPSILON * f.abs().max(1.0) {
            break;
        }
    }
    // Leave the problem's scratch state consistent with x.
    problem.objective(x, &mut grad);
    problem.smooth_only = was_smooth;
    Ok(iterations)
}

/// Solves H d = -(g + w sign) on the coordinates that are free (unpenalized, or deltas left
/// nonzero by `step`), with the zero deltas pinned at 0; replaces `step` if the solution keeps
/// the signs it assumed.
fn exact_on_support(hess: &[f64], grad: &[f64], x: &[f64], step: &mut [f64], s: usize, w: f64) {
    let p = grad.len();
    let penalized = |j: usize| (2..2 + s).contains(&j);
    let free: Vec<usize> = (0..p)
        .filter(|&j| !penalized(j) || x[j] + step[j] != 0.0)
        .collect();
    let mut pinned = vec![0.0; p];
    for j in 0..p {
        if !free.contains(&j) {
            pinned[j] = -x[j];
        }
    }
    let q = free.len();
    let mut a = vec![0.0; q * q];
    let mut b = vec![0.0; q];
    for (r, &i) in free.iter().enumerate() {
        let sign = if penalized(i) {
            super::sign(x[i] + step[i])
        } else {
            0.0
        };
        b[r] = -(grad[i] + w * sign) - (0..p).map(|j| hess[i * p + j] * pinned[j]).sum::<f64>();
        for (c, &j) in free.iter().enumerate() {
            a[r * q + c] = hess[i * p + j];
        }
    }
    let Some(sol) = super::solve_spd(&mut a, &mut b, q) else {
        return;
    };
    let consistent = free
        .iter()
        .zip(&sol)
        .all(|(&j, d)| !penalized(j) || super::sign(x[j] + d) == super::sign(x[j] + step[j]));
    if consistent {
        step.copy_from_slice(&pinned);
        for (&j, d) in free.iter().zip(&sol) {
            step[j] = *d;
        }
    }
}
