//! Limited-memory BFGS for a smooth objective plus L1 terms (orthant-wise, with a backtracking
//! line search), stopping on the same tests (and default tolerances) as Stan's optimizer, which
//! Prophet runs: a tiny absolute or relative change of the objective, a tiny gradient, or a tiny
//! step.

use crate::Result;

#[derive(Debug, Clone)]
pub struct Options {
    pub history: usize,
    pub max_iter: usize,
    /// Length of the first step along the steepest descent (Stan's `init_alpha`).
    pub init_alpha: f64,
    pub tol_obj: f64,
    pub tol_rel_obj: f64,
    pub tol_grad: f64,
    pub tol_rel_grad: f64,
    pub tol_param: f64,
}

impl Default for Options {
    fn default() -> Self {
        // Stan's defaults; the relative tolerances are multiples of machine epsilon.
        Self {
            history: 5,
            max_iter: 10_000,
            init_alpha: 1e-3,
            tol_obj: 1e-12,
            tol_rel_obj: 1e4 * f64::EPSILON,
            tol_grad: 1e-8,
            tol_rel_grad: 1e7 * f64::EPSILON,
            tol_param: 1e-8,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub x: Vec<f64>,
    pub f: f64,
    pub iterations: usize,
    /// False when the iteration limit was reached or no step could lower the objective.
    pub converged: bool,
}

/// Minimizes `f(x) + sum_i l1[i] |x_i|`, where `f` is smooth and writes its gradient into the
/// second argument, from `x0` (orthant-wise L-BFGS, Andrew & Gao 2007: the L1 terms are handled
/// exactly, so coordinates whose optimum is 0 end at 0 instead of zig-zagging around the kink,
/// which stalls a plain quasi-Newton method). `l1` may be empty (plain L-BFGS). `check` runs once
/// per iteration and may abort (e.g. a deadline).
pub fn minimize<F, C>(
    mut f: F,
    x0: Vec<f64>,
    l1: &[f64],
    opts: &Options,
    mut check: C,
) -> Result<Outcome>
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
    C: FnMut() -> Result<()>,
{
    let n = x0.len();
    let weight = |i: usize| l1.get(i).copied().unwrap_or(0.0);
    let penalty =
        |x: &[f64]| -> f64 { x.iter().enumerate().map(|(i, v)| weight(i) * v.abs()).sum() };
    let mut x = x0;
    let mut g = vec![0.0; n];
    let mut fx = f(&x, &mut g) + penalty(&x);
    let mut pg = vec![0.0; n];
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let mut rho_hist: Vec<f64> = Vec::new();
    let mut d = vec![0.0; n];
    let mut x_new = vec![0.0; n];
    let mut g_new = vec![0.0; n];
    let mut alpha_work = vec![0.0; opts.history];
    let mut converged = false;
    let mut stalled = false;
    let mut iterations = 0;
    if !fx.is_finite() {
        return Ok(Outcome {
            x,
            f: fx,
            iterations,
            converged,
        });
    }
    while iterations < opts.max_iter {
        check()?;
        pseudo_gradient(&x, &g, l1, &mut pg);
        if norm(&pg) < opts.tol_grad {
            converged = true;
            break;
        }
        iterations += 1;
        // Two-loop recursion: d = -H pg with H0 = gamma I from the latest pair.
        d.iter_mut().zip(&pg).for_each(|(di, gi)| *di = -gi);
        let m = s_hist.len();
        for i in (0..m).rev() {
            let a = rho_hist[i] * dot(&s_hist[i], &d);
            alpha_work[i] = a;
            axpy(-a, &y_hist[i], &mut d);
        }
        if m > 0 {
            let gamma = dot(&s_hist[m - 1], &y_hist[m - 1]) / dot(&y_hist[m - 1], &y_hist[m - 1]);
            d.iter_mut().for_each(|di| *di *= gamma);
        }
        for i in 0..m {
            let b = rho_hist[i] * dot(&y_hist[i], &d);
            axpy(alpha_work[i] - b, &s_hist[i], &mut d);
        }
        // Keep only moves that descend the pseudo-gradient on the penalized coordinates.
        for i in 0..n {
            if weight(i) > 0.0 && d[i] * pg[i] >= 0.0 {
                d[i] = 0.0;
            }
        }
        if dot(&d, &pg) >= 0.0 || !d.iter().all(|v| v.is_finite()) {
            s_hist.clear();
            y_hist.clear();
            rho_hist.clear();
            d.iter_mut().zip(&pg).for_each(|(di, gi)| *di = -gi);
        }
        // The orthant to stay in: the sign of x, or of the step where x is 0.
        let mut alpha = if m == 0 {
            opts.init_alpha
                .max(1e-12 / norm(&d).max(1e-300))
                .min(1.0 / norm(&d))
        } else {
            1.0
        };
        let mut accepted = None;
        for _ in 0..60 {
            for i in 0..n {
                let v = x[i] + alpha * d[i];
                let orthant = if x[i] != 0.0 { x[i] } else { -pg[i] };
                x_new[i] = if weight(i) > 0.0 && v * orthant <= 0.0 {
                    0.0
                } else {
                    v
                };
            }
            let f_new = f(&x_new, &mut g_new) + penalty(&x_new);
            let decrease: f64 = pg
                .iter()
                .zip(x_new.iter().zip(&x))
                .map(|(p, (a, b))| p * (a - b))
                .sum();
            if f_new.is_finite() && f_new <= fx + 1e-4 * decrease {
                accepted = Some(f_new);
                break;
            }
            alpha *= if f_new.is_finite() { 0.5 } else { 0.1 };
        }
        let Some(f_new) = accepted else {
            if m == 0 {
                // Not even a steepest-descent step lowers the objective: a (numerical) optimum.
                converged = true;
                break;
            }
            s_hist.clear();
            y_hist.clear();
            rho_hist.clear();
            continue;
        };
        let mut s: Vec<f64> = x_new.iter().zip(&x).map(|(a, b)| a - b).collect();
        let mut yv: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let step = norm(&s);
        let f_change = (fx - f_new).abs();
        let f_scale = fx.abs().max(f_new.abs()).max(f64::EPSILON);
        std::mem::swap(&mut x, &mut x_new);
        std::mem::swap(&mut g, &mut g_new);
        fx = f_new;
        let sy = dot(&s, &yv);
        if sy > 1e-16 * dot(&yv, &yv).max(f64::MIN_POSITIVE) {
            if s_hist.len() == opts.history {
                // Recycle the oldest pair's buffers.
                let mut old_s = s_hist.remove(0);
                let mut old_y = y_hist.remove(0);
                rho_hist.remove(0);
                old_s.copy_from_slice(&s);
                old_y.copy_from_slice(&yv);
                std::mem::swap(&mut s, &mut old_s);
                std::mem::swap(&mut yv, &mut old_y);
            }
            s_hist.push(s);
            y_hist.push(yv);
            rho_hist.push(1.0 / sy);
        }
        pseudo_gradient(&x, &g, l1, &mut pg);
        let reason = if f_change < opts.tol_obj {
            "abs obj"
        } else if f_change / f_scale < opts.tol_rel_obj {
            "rel obj"
        } else if norm(&pg) < opts.tol_grad {
            "grad"
        } else if step < opts.tol_param {
            "param"
        } else if relative_gradient(&pg, &s_hist, &y_hist, fx) < opts.tol_rel_grad {
            "rel grad"
        } else {
            ""
        };
        if reason.is_empty() {
            stalled = false;
        } else if !stalled {
            // Confirm a stop from a fresh steepest-descent step: a stale curvature memory can
            // stall the quasi-Newton model well before the optimum.
            stalled = true;
            s_hist.clear();
            y_hist.clear();
            rho_hist.clear();
        } else {
            converged = true;
            break;
        }
    }
    Ok(Outcome {
        x,
        f: fx,
        iterations,
        converged,
    })
}

/// The steepest-descent direction's negative for the penalized objective: the gradient plus the
/// penalty's slope on the side of 0 that lowers the objective (0 where neither side does).
fn pseudo_gradient(x: &[f64], g: &[f64], l1: &[f64], out: &mut [f64]) {
    for i in 0..x.len() {
        let w = l1.get(i).copied().unwrap_or(0.0);
        out[i] = if w == 0.0 {
            g[i]
        } else if x[i] > 0.0 {
            g[i] + w
        } else if x[i] < 0.0 {
            g[i] - w
        } else if g[i] + w < 0.0 {
            g[i] + w
        } else if g[i] - w > 0.0 {
            g[i] - w
        } else {
            0.0
        };
    }
}

/// g' H g / |f| with the current inverse-Hessian estimate's scaling (Stan's relative gradient
/// test; like Stan, the diagonal scaling from the latest pair stands in for H).
fn relative_gradient(g: &[f64], s: &[Vec<f64>], y: &[Vec<f64>], f: f64) -> f64 {
    let gamma = match (s.last(), y.last()) {
        (Some(s), Some(y)) => dot(s, y) / dot(y, y),
        _ => 1.0,
    };
    gamma * dot(g, g) / f.abs().max(f64::EPSILON)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    y.iter_mut().zip(x).for_each(|(yi, xi)| *yi += a * xi);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_rosenbrock_minimum() {
        let rosen = |x: &[f64], g: &mut [f64]| {
            let (a, b) = (x[0], x[1]);
            g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
            g[1] = 200.0 * (b - a * a);
            (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
        };
        let out = minimize(rosen, vec![-1.2, 1.0], &[], &Options::default(), || Ok(())).unwrap();
        assert!(out.converged);
        assert!(
            (out.x[0] - 1.0).abs() < 1e-5 && (out.x[1] - 1.0).abs() < 1e-5,
            "{out:?}"
        );
    }

    #[test]
    fn solves_an_ill_conditioned_quadratic() {
        let scales = [1.0, 10.0, 100.0, 1e4];
        let quad = |x: &[f64], g: &mut [f64]| {
            let mut f = 0.0;
            for i in 0..4 {
                let r = x[i] - i as f64;
                g[i] = scales[i] * r;
                f += 0.5 * scales[i] * r * r;
            }
            f
        };
        let out = minimize(quad, vec![5.0; 4], &[], &Options::default(), || Ok(())).unwrap();
        for (i, xi) in out.x.iter().enumerate() {
            assert!((xi - i as f64).abs() < 1e-5, "{out:?}");
        }
    }

    #[test]
    fn l1_coordinates_land_exactly_on_zero() {
        // min 0.5 (x - a)^2 + w |x|: soft thresholding, x = sign(a) max(|a| - w, 0).
        let a = [3.0, -0.5, 0.2, -4.0];
        let quad = |x: &[f64], g: &mut [f64]| {
            let mut f = 0.0;
            for i in 0..4 {
                g[i] = x[i] - a[i];
                f += 0.5 * (x[i] - a[i]).powi(2);
            }
            f
        };
        let out = minimize(
            quad,
            vec![0.0; 4],
            &[1.0; 4],
            &Options::default(),
            || Ok(()),
        )
        .unwrap();
        assert!((out.x[0] - 2.0).abs() < 1e-7, "{out:?}");
        assert_eq!(out.x[1], 0.0);
        assert_eq!(out.x[2], 0.0);
        assert!((out.x[3] + 3.0).abs() < 1e-7, "{out:?}");
        assert!((out.f - (0.5 * 1.0 + 0.125 + 0.02 + 0.5 + 2.0 + 3.0)).abs() < 1e-10);
    }

    #[test]
    fn check_can_abort() {
        let quad = |x: &[f64], g: &mut [f64]| {
            g[0] = 2.0 * x[0];
            x[0] * x[0]
        };
        let err = minimize(quad, vec![3.0], &[], &Options::default(), || {
            Err(crate::BaselineError::Timeout { model: "t".into() })
        });
        assert!(matches!(err, Err(crate::BaselineError::Timeout { .. })));
    }
}
