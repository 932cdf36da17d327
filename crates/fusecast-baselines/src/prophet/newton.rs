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
    let mut hess = vec![0.0; dim * dim];
    let mut jac = vec![0.0; p];
    let mut step = vec![0.0; dim];
    let mut h_step = vec![0.0; dim];
    let mut trial = x.to_vec();
    // The regressors of the trend (t, 1, hinges at the changepoints) and of the seasonal and
    // holiday terms, row by row: the data term's Jacobian is these columns scaled per row.
    let mut design = vec![0.0; n * p];
    for i in 0..n {
        let row = &mut design[i * p..(i + 1) * p];
        let ti = problem.t[i];
        row[0] = ti;
        row[1] = 1.0;
        for j in 0..s {
            if ti >= problem.cp[j] {
                row[2 + j] = ti - problem.cp[j];
            }
        }
        row[2 + s..2 + s + problem.width]
            .copy_from_slice(&problem.x[i * problem.width..(i + 1) * problem.width]);
    }
    for (h, rows) in problem.holiday_rows.iter().enumerate() {
        for &i in rows {
            design[i * p + 2 + s + problem.width + h] = 1.0;
        }
    }
    // Upper triangle of sum_i w_i j_i j_i' into `out` (p x p, row-major, stride `stride`).
    let accumulate = |out: &mut [f64], stride: usize, jac: &[f64]| {
        for a in 0..p {
            let ja = jac[a];
            if ja == 0.0 {
                continue;
            }
            for (o, jb) in out[a * stride + a..a * stride + p]
                .iter_mut()
                .zip(&jac[a..])
            {
                *o += ja * jb;
            }
        }
    };
    // The additive model's Gram matrix never changes.
    let mut gram = vec![0.0; if problem.multiplicative { 0 } else { p * p }];
    if !problem.multiplicative {
        for i in 0..n {
            accumulate(&mut gram, p, &design[i * p..(i + 1) * p]);
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
        // additive model), and the exact terms of log sigma.
        hess.iter_mut().for_each(|v| *v = 0.0);
        if problem.multiplicative {
            for i in 0..n {
                let (dt, ds) = (1.0 + problem.season[i], problem.trend[i]);
                let row = &design[i * p..(i + 1) * p];
                for (j, (out, r)) in jac.iter_mut().zip(row).enumerate() {
                    *out = r * if j < 2 + s { dt } else { ds };
                }
                accumulate(&mut hess, dim, &jac);
            }
        } else {
            for a in 0..p {
                hess[a * dim + a..a * dim + p].copy_from_slice(&gram[a * p + a..a * p + p]);
            }
        }
        for a in 0..p {
            for b in a..p {
                hess[a * dim + b] /= sigma2;
                hess[b * dim + a] = hess[a * dim + b];
            }
        }
        hess[0] += 1.0 / 25.0;
        hess[dim + 1] += 1.0 / 25.0;
        for (c, w) in problem.prior_inv_var.iter().enumerate() {
            hess[(2 + s + c) * dim + 2 + s + c] += w;
        }
        // The smooth gradient (the |delta| subgradient taken back out).
        let smooth_grad: Vec<f64> = (0..dim)
            .map(|j| {
                if (2..2 + s).contains(&j) {
                    grad[j] - tau_inv * super::sign(x[j])
                } else {
                    grad[j]
                }
            })
            .collect();
        // log sigma: d2f/du2 = 2 SSR / sigma^2 + 8 sigma^2; d2f/du dtheta = -2 (data gradient).
        hess[p * dim + p] = 2.0 * problem.ssr / sigma2 + 8.0 * sigma2;
        for j in 0..p {
            let prior = match j {
                0 | 1 => x[j] / 25.0,
                j if j >= 2 + s => x[j] * problem.prior_inv_var[j - 2 - s],
                _ => 0.0,
            };
            let cross = -2.0 * (smooth_grad[j] - prior);
            hess[p * dim + j] = cross;
            hess[j * dim + p] = cross;
        }
        // Coordinate descent on g'd + d'Hd/2 + sum w |x + d| over the delta coordinates.
        step.iter_mut().for_each(|v| *v = 0.0);
        h_step.iter_mut().for_each(|v| *v = 0.0);
        for _ in 0..MAX_SWEEPS {
            let mut biggest = 0.0f64;
            for j in 0..dim {
                let a = hess[j * dim + j];
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
                    for (hs, h) in h_step.iter_mut().zip(&hess[j * dim..(j + 1) * dim]) {
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
                trial
                    .iter_mut()
                    .zip(x.iter().zip(&step))
                    .for_each(|(t, (xi, d))| *t = xi + d);
                l1(&trial) - l1(x)
            };
        // No predicted decrease (or NaN): the Newton model sees no better point.
        if predicted.is_nan() || predicted >= 0.0 {
            break;
        }
        let mut alpha = 1.0;
        let mut accepted = None;
        for _ in 0..30 {
            for j in 0..dim {
                trial[j] = x[j] + alpha * step[j];
            }
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
/// nonzero by `step`), with the other deltas pinned at 0; a delta whose sign the solution flips
/// is pinned too and the system solved again. Replaces `step` if the result has the lower model
/// value g'd + d'Hd/2 + w sum |x + d|.
fn exact_on_support(hess: &[f64], grad: &[f64], x: &[f64], step: &mut [f64], s: usize, w: f64) {
    let p = grad.len();
    let penalized = |j: usize| (2..2 + s).contains(&j);
    let model = |d: &[f64]| -> f64 {
        let mut v = 0.0;
        for i in 0..p {
            let hd: f64 = (0..p).map(|j| hess[i * p + j] * d[j]).sum();
            v += grad[i] * d[i] + 0.5 * d[i] * hd;
            if penalized(i) {
                v += w * (x[i] + d[i]).abs();
            }
        }
        v
    };
    let mut free: Vec<usize> = (0..p)
        .filter(|&j| !penalized(j) || x[j] + step[j] != 0.0)
        .collect();
    let signs: Vec<f64> = (0..p).map(|j| super::sign(x[j] + step[j])).collect();
    let mut candidate = vec![0.0; p];
    for _ in 0..8 {
        for j in 0..p {
            candidate[j] = -x[j];
        }
        let q = free.len();
        let mut a = vec![0.0; q * q];
        let mut b = vec![0.0; q];
        for (r, &i) in free.iter().enumerate() {
            let sign = if penalized(i) { signs[i] } else { 0.0 };
            b[r] = -(grad[i] + w * sign)
                - (0..p)
                    .filter(|j| !free.contains(j))
                    .map(|j| hess[i * p + j] * candidate[j])
                    .sum::<f64>();
            for (c, &j) in free.iter().enumerate() {
                a[r * q + c] = hess[i * p + j];
            }
        }
        let Some(sol) = super::solve_spd(&mut a, &mut b, q) else {
            return;
        };
        for (&j, d) in free.iter().zip(&sol) {
            candidate[j] = *d;
        }
        let before = free.len();
        free.retain(|&j| !penalized(j) || super::sign(x[j] + candidate[j]) == signs[j]);
        if free.len() == before {
            if model(&candidate) < model(step) {
                step.copy_from_slice(&candidate);
            }
            return;
        }
    }
}
