//! Numerical optimizers shared by the model fits.
//!
//! [`nelder_mead`] is a derivative-free simplex minimizer with box bounds. It is the optimizer
//! forecast::ets and statsforecast use for exponential smoothing (and a reasonable one for small
//! ARMA likelihoods): likelihood surfaces there are cheap to evaluate, low dimensional, and often
//! have kinks where an admissibility penalty kicks in, which gradient methods handle badly.
//!
//! Constraints: box bounds are enforced by clamping every trial point into the box (so the
//! objective is never evaluated outside it); anything else (admissibility, stationarity) is the
//! objective's business: return `f64::INFINITY` for an inadmissible point. NaN counts as +inf.

/// Settings of [`nelder_mead`]. `Default` gives statsforecast's ETS settings.
#[derive(Debug, Clone, PartialEq)]
pub struct NelderMeadOptions {
    /// Lower bound per coordinate; empty = unbounded (use `f64::NEG_INFINITY` for single free
    /// coordinates).
    pub lower: Vec<f64>,
    /// Upper bound per coordinate; empty = unbounded.
    pub upper: Vec<f64>,
    /// The initial simplex moves coordinate `i` of `x0` by `init_step * x0[i]` (relative step) ...
    pub init_step: f64,
    /// ... or by `zero_step` where `x0[i]` is 0.
    pub zero_step: f64,
    /// Most iterations (one reflection/expansion/contraction/shrink each).
    pub max_iter: usize,
    /// Stops once the (population) standard deviation of the objective over the simplex vertices
    /// falls below this.
    pub f_tol: f64,
    /// Gao & Han's dimension-adaptive coefficients (expansion 1 + 2/n, contraction 0.75 - 1/(2n),
    /// shrink 1 - 1/n) instead of the classic 2, 0.5, 0.5; better above ~4 dimensions.
    pub adaptive: bool,
}

impl Default for NelderMeadOptions {
    fn default() -> Self {
        Self {
            lower: Vec::new(),
            upper: Vec::new(),
            init_step: 0.05,
            zero_step: 1e-4,
            max_iter: 1000,
            f_tol: 1e-4,
            adaptive: true,
        }
    }
}

/// Outcome of [`nelder_mead`]: the best vertex found and its objective value.
#[derive(Debug, Clone, PartialEq)]
pub struct NelderMeadResult {
    pub x: Vec<f64>,
    pub f: f64,
    pub iterations: usize,
    /// Objective evaluations (the cost that matters when the objective is a full filter pass).
    pub evaluations: usize,
    /// True when the `f_tol` criterion stopped it (false: ran out of iterations).
    pub converged: bool,
}

/// Minimizes `f` from `x0` (clamped into the bounds) with the Nelder-Mead simplex method.
pub fn nelder_mead(
    mut f: impl FnMut(&[f64]) -> f64,
    x0: &[f64],
    opts: &NelderMeadOptions,
) -> NelderMeadResult {
    let n = x0.len();
    let lower = |i: usize| opts.lower.get(i).copied().unwrap_or(f64::NEG_INFINITY);
    let upper = |i: usize| opts.upper.get(i).copied().unwrap_or(f64::INFINITY);
    let clamp = |x: &mut [f64]| {
        for (i, v) in x.iter_mut().enumerate() {
            *v = v.max(lower(i)).min(upper(i));
        }
    };
    let mut evaluations = 0usize;
    let mut eval = |x: &[f64]| {
        evaluations += 1;
        let v = f(x);
        if v.is_nan() {
            f64::INFINITY
        } else {
            v
        }
    };
    let mut start = x0.to_vec();
    clamp(&mut start);
    if n == 0 {
        let v = eval(&start);
        return NelderMeadResult {
            x: start,
            f: v,
            iterations: 0,
            evaluations,
            converged: true,
        };
    }
    let nf = n as f64;
    let (reflect, expand, contract, shrink) = if opts.adaptive {
        (1.0, 1.0 + 2.0 / nf, 0.75 - 1.0 / (2.0 * nf), 1.0 - 1.0 / nf)
    } else {
        (1.0, 2.0, 0.5, 0.5)
    };

    let mut simplex: Vec<Vec<f64>> = (0..=n).map(|_| start.clone()).collect();
    for (i, vertex) in simplex.iter_mut().take(n).enumerate() {
        let v = vertex[i];
        let moved = if v == 0.0 {
            opts.zero_step
        } else {
            v * (1.0 + opts.init_step)
        };
        vertex[i] = moved.max(lower(i)).min(upper(i));
    }
    let mut values: Vec<f64> = simplex.iter().map(|x| eval(x)).collect();

    let mut centroid = vec![0.0; n];
    let mut trial = vec![0.0; n];
    let mut trial2 = vec![0.0; n];
    let mut iterations = 0;
    let mut converged = false;
    let mut order: Vec<usize> = (0..=n).collect();
    while iterations < opts.max_iter {
        if spread(&values) < opts.f_tol {
            converged = true;
            break;
        }
        iterations += 1;
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        let (best, second_worst, worst) = (order[0], order[n - 1], order[n]);

        centroid.iter_mut().for_each(|c| *c = 0.0);
        for (k, vertex) in simplex.iter().enumerate() {
            if k != worst {
                for (c, v) in centroid.iter_mut().zip(vertex) {
                    *c += v;
                }
            }
        }
        centroid.iter_mut().for_each(|c| *c /= nf);

        // Reflection of the worst vertex through the centroid of the others.
        for i in 0..n {
            trial[i] = centroid[i] + reflect * (centroid[i] - simplex[worst][i]);
        }
        clamp(&mut trial);
        let f_r = eval(&trial);
        if values[best] <= f_r && f_r < values[second_worst] {
            simplex[worst].copy_from_slice(&trial);
            values[worst] = f_r;
            continue;
        }
        if f_r < values[best] {
            for i in 0..n {
                trial2[i] = centroid[i] + expand * (trial[i] - centroid[i]);
            }
            clamp(&mut trial2);
            let f_e = eval(&trial2);
            if f_e < f_r {
                simplex[worst].copy_from_slice(&trial2);
                values[worst] = f_e;
            } else {
                simplex[worst].copy_from_slice(&trial);
                values[worst] = f_r;
            }
            continue;
        }
        // Contraction: outside when the reflection beat the worst vertex, else inside.
        let outside = f_r < values[worst];
        for i in 0..n {
            let d = trial[i] - centroid[i];
            trial2[i] = centroid[i] + if outside { contract * d } else { -contract * d };
        }
        clamp(&mut trial2);
        let f_c = eval(&trial2);
        let accept = if outside {
            f_c <= f_r
        } else {
            f_c < values[worst]
        };
        if accept {
            simplex[worst].copy_from_slice(&trial2);
            values[worst] = f_c;
            continue;
        }
        // Shrink every vertex towards the best one.
        let anchor = simplex[best].clone();
        for (k, vertex) in simplex.iter_mut().enumerate() {
            if k == best {
                continue;
            }
            for (v, a) in vertex.iter_mut().zip(&anchor) {
                *v = a + shrink * (*v - a);
            }
            clamp(vertex);
            values[k] = eval(vertex);
        }
    }
    let best = (0..=n)
        .min_by(|&a, &b| values[a].total_cmp(&values[b]))
        .unwrap_or(0);
    NelderMeadResult {
        x: simplex[best].clone(),
        f: values[best],
        iterations,
        evaluations,
        converged,
    }
}

/// Population standard deviation of the vertex values (infinite while any vertex is infinite, so
/// a simplex straddling an inadmissible region keeps moving).
fn spread(values: &[f64]) -> f64 {
    let k = values.len() as f64;
    let mean = values.iter().sum::<f64>() / k;
    if !mean.is_finite() {
        return f64::INFINITY;
    }
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / k).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rosenbrock(x: &[f64]) -> f64 {
        (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2)
    }

    #[test]
    fn finds_the_rosenbrock_minimum() {
        let opts = NelderMeadOptions {
            f_tol: 1e-14,
            max_iter: 5000,
            ..Default::default()
        };
        let r = nelder_mead(rosenbrock, &[-1.2, 1.0], &opts);
        assert!(r.converged);
        assert!(
            (r.x[0] - 1.0).abs() < 1e-3 && (r.x[1] - 1.0).abs() < 2e-3,
            "{r:?}"
        );
        assert!(r.f < 1e-7);
    }

    #[test]
    fn respects_box_bounds() {
        // Unconstrained minimum at (3, -2); the box forces (1, -0.5).
        let f = |x: &[f64]| (x[0] - 3.0).powi(2) + (x[1] + 2.0).powi(2);
        let opts = NelderMeadOptions {
            lower: vec![0.0, -0.5],
            upper: vec![1.0, 0.5],
            f_tol: 1e-12,
            ..Default::default()
        };
        let mut outside = false;
        let r = nelder_mead(
            |x| {
                outside |= x[0] < 0.0 || x[0] > 1.0 || x[1] < -0.5 || x[1] > 0.5;
                f(x)
            },
            &[0.5, 0.0],
            &opts,
        );
        assert!(!outside, "evaluated outside the box");
        assert!(
            (r.x[0] - 1.0).abs() < 1e-6 && (r.x[1] + 0.5).abs() < 1e-6,
            "{r:?}"
        );
    }

    #[test]
    fn infinite_and_nan_values_act_as_walls() {
        // Minimum of the quadratic at 2, but everything above 1.5 is forbidden.
        let f = |x: &[f64]| {
            if x[0] > 1.5 {
                f64::NAN
            } else {
                (x[0] - 2.0).powi(2)
            }
        };
        let opts = NelderMeadOptions {
            f_tol: 1e-12,
            ..Default::default()
        };
        let r = nelder_mead(f, &[0.5], &opts);
        assert!(r.x[0] <= 1.5 && r.x[0] > 1.49, "{r:?}");
    }

    #[test]
    fn stops_at_max_iter() {
        let opts = NelderMeadOptions {
            max_iter: 3,
            f_tol: 0.0,
            ..Default::default()
        };
        let r = nelder_mead(rosenbrock, &[-1.2, 1.0], &opts);
        assert_eq!(r.iterations, 3);
        assert!(!r.converged);
    }
}
