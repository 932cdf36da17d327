//! Quasi-Newton minimisation with finite-difference gradients, for the handful of ARIMA
//! coefficients (CSS and exact likelihood). Mirrors what R's `optim(method = "BFGS")` and
//! scipy's `minimize(method = "BFGS")` do for `arima`: an inverse-Hessian update, a backtracking
//! line search, a cap of 100 iterations.

pub(crate) struct Minimum {
    pub x: Vec<f64>,
    #[allow(dead_code)]
    pub f: f64,
    /// The iteration cap was hit before convergence (R/scipy then keep the start values).
    pub hit_max_iter: bool,
}

/// Forward-difference gradient; steps scale with the coefficient as scipy's default does.
fn gradient(f: &mut dyn FnMut(&[f64]) -> f64, x: &[f64], fx: f64, g: &mut [f64]) {
    let mut xh = x.to_vec();
    for i in 0..x.len() {
        let h = 1.49e-8 * x[i].abs().max(1.0);
        xh[i] = x[i] + h;
        let fh = f(&xh);
        g[i] = (fh - fx) / h;
        xh[i] = x[i];
    }
}

pub(crate) fn minimize(f: &mut dyn FnMut(&[f64]) -> f64, x0: &[f64], max_iter: usize) -> Minimum {
    let n = x0.len();
    let mut x = x0.to_vec();
    let mut fx = f(&x);
    if n == 0 || !fx.is_finite() {
        return Minimum {
            x,
            f: fx,
            hit_max_iter: false,
        };
    }
    let mut g = vec![0.0; n];
    gradient(f, &x, fx, &mut g);
    let mut hinv = identity(n);
    let mut dir = vec![0.0; n];
    let mut xn = vec![0.0; n];
    let mut gn = vec![0.0; n];
    let mut iter = 0;
    let mut small_steps = 0;
    while iter < max_iter {
        iter += 1;
        let gnorm = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if gnorm < 1e-8 {
            return Minimum {
                x,
                f: fx,
                hit_max_iter: false,
            };
        }
        for i in 0..n {
            dir[i] = -(0..n).map(|j| hinv[i][j] * g[j]).sum::<f64>();
        }
        let mut slope: f64 = dir.iter().zip(&g).map(|(d, g)| d * g).sum();
        if slope >= 0.0 {
            // Lost positive definiteness: restart from steepest descent.
            hinv = identity(n);
            for i in 0..n {
                dir[i] = -g[i];
            }
            slope = -g.iter().map(|v| v * v).sum::<f64>();
        }
        // Backtracking (Armijo) line search.
        let mut step = 1.0;
        let mut fnew = f64::INFINITY;
        let mut accepted = false;
        for _ in 0..40 {
            for i in 0..n {
                xn[i] = x[i] + step * dir[i];
            }
            fnew = f(&xn);
            if fnew.is_finite() && fnew <= fx + 1e-4 * step * slope {
                accepted = true;
                break;
            }
            step *= 0.2;
        }
        if !accepted {
            if hinv_is_identity(&hinv) {
                break;
            }
            hinv = identity(n);
            continue;
        }
        gradient(f, &xn, fnew, &mut gn);
        let s: Vec<f64> = (0..n).map(|i| xn[i] - x[i]).collect();
        let yv: Vec<f64> = (0..n).map(|i| gn[i] - g[i]).collect();
        let converged = (fx - fnew).abs() <= 1e-10 * (fx.abs() + 1e-10);
        x.copy_from_slice(&xn);
        g.copy_from_slice(&gn);
        fx = fnew;
        if converged {
            small_steps += 1;
            if small_steps >= 2 {
                return Minimum {
                    x,
                    f: fx,
                    hit_max_iter: false,
                };
            }
        } else {
            small_steps = 0;
        }
        let sy: f64 = s.iter().zip(&yv).map(|(a, b)| a * b).sum();
        if sy > 1e-12 * norm(&s) * norm(&yv) {
            let hy: Vec<f64> = (0..n)
                .map(|i| (0..n).map(|j| hinv[i][j] * yv[j]).sum())
                .collect();
            let yhy: f64 = yv.iter().zip(&hy).map(|(a, b)| a * b).sum();
            let rho = 1.0 / sy;
            for i in 0..n {
                for j in 0..n {
                    hinv[i][j] +=
                        rho * ((1.0 + rho * yhy) * s[i] * s[j] - hy[i] * s[j] - s[i] * hy[j]);
                }
            }
        }
    }
    Minimum {
        x,
        f: fx,
        hit_max_iter: iter >= max_iter,
    }
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a).sum::<f64>().sqrt()
}

fn identity(n: usize) -> Vec<Vec<f64>> {
    (0..n)
        .map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
        .collect()
}

fn hinv_is_identity(h: &[Vec<f64>]) -> bool {
    h.iter().enumerate().all(|(i, row)| {
        row.iter()
            .enumerate()
            .all(|(j, &v)| v == if i == j { 1.0 } else { 0.0 })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_rosenbrock_minimum() {
        let mut f = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let m = minimize(&mut f, &[-1.2, 1.0], 200);
        assert!(
            (m.x[0] - 1.0).abs() < 1e-3 && (m.x[1] - 1.0).abs() < 1e-3,
            "{:?}",
            m.x
        );
    }
}
