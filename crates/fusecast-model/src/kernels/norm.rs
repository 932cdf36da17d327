//! Layer norm over the last axis with per-group scale and shift, optionally after PF's gate
//! `a * sigmoid(g) + skip` (GateAddNorm), and ELU: each one pass forward and one backward, where
//! the composed versions record 10-15 autodiff nodes over tensors of up to `[6, 7168, 32]`.
//!
//! Rows are the last axis; `group_of(row)` says which row of `gamma`/`beta` `[V, d]` applies.

use super::fast_math::{exp, simd_dispatch};

/// PyTorch's LayerNorm epsilon.
pub const EPS: f32 = 1e-5;

/// Which group a row belongs to, for `x [A, B, d]` viewed as `A * B` rows: groups along axis 0
/// (`row / B`) or axis 1 (`row % B`).
#[derive(Clone, Copy, Debug)]
pub struct Groups {
    pub b: usize,
    pub axis: usize,
}

impl Groups {
    #[inline]
    pub fn of(&self, row: usize) -> usize {
        if self.axis == 0 {
            row / self.b
        } else {
            row % self.b
        }
    }
}

/// What the backward needs: the normalized rows and each row's `1 / std`.
#[derive(Debug)]
pub struct NormSaved {
    pub xhat: Vec<f32>,
    pub rstd: Vec<f32>,
}

/// The sum of `f(a[j], b[j], c[j])` over a row, in 8 interleaved partial sums: a sequential
/// float sum cannot be vectorized (its order is fixed), this one can; rows here are 16-32 long.
/// Whole 8-element chunks, so that the lanes are SIMD adds (indexing by position left them
/// scalar: 8 chains of `vaddss`, the largest cost of a forecast's layer norms).
#[inline(always)]
fn sum8(a: &[f32], b: &[f32], c: &[f32], f: impl Fn(f32, f32, f32) -> f32) -> f32 {
    let n = a.len();
    let (b, c) = (&b[..n], &c[..n]);
    let full = n / 8 * 8;
    let mut acc = [0f32; 8];
    for ((x, y), z) in a[..full]
        .chunks_exact(8)
        .zip(b[..full].chunks_exact(8))
        .zip(c[..full].chunks_exact(8))
    {
        for k in 0..8 {
            acc[k] += f(x[k], y[k], z[k]);
        }
    }
    let tail: f32 = (full..n).map(|j| f(a[j], b[j], c[j])).sum();
    acc.iter().sum::<f32>() + tail
}

/// Rows per block of [`block_moments`].
const BLOCK: usize = 8;

/// Means and `1 / std` of up to [`BLOCK`] rows of `d` held back to back in `x`: the square
/// roots and divisions of the block are one SIMD instruction each, where a row at a time made
/// them a latency chain per row (a third of a forecast's layer-norm time). The same IEEE
/// operations either way, so the values are the same.
#[inline(always)]
fn block_moments(x: &[f32], d: usize) -> ([f32; BLOCK], [f32; BLOCK]) {
    let mut mean = [0f32; BLOCK];
    let mut var = [0f32; BLOCK];
    for (i, row) in x.chunks_exact(d).enumerate() {
        let m = sum8(row, row, row, |x, _, _| x) / d as f32;
        mean[i] = m;
        var[i] = sum8(row, row, row, |x, _, _| (x - m) * (x - m)) / d as f32;
    }
    let mut rstd = [0f32; BLOCK];
    for i in 0..BLOCK {
        rstd[i] = 1.0 / (var[i] + EPS).sqrt();
    }
    (mean, rstd)
}

simd_dispatch!(normalize(u: &[f32], xhat: &mut [f32], rstd: &mut [f32], y: &mut [f32], gamma: &[f32], beta: &[f32], groups: Groups) {
    let d = u.len() / rstd.len().max(1);
    if d == 0 {
        return;
    }
    for (blk, rows) in u.chunks(BLOCK * d).enumerate() {
        let (means, rs) = block_moments(rows, d);
        for (i, row) in rows.chunks_exact(d).enumerate() {
            let r = blk * BLOCK + i;
            let (mean, rs) = (means[i], rs[i]);
            let xh = &mut xhat[r * d..(r + 1) * d];
            for j in 0..d {
                xh[j] = row[j] - mean;
            }
            rstd[r] = rs;
            let g = groups.of(r) * d;
            let (gm, bt) = (&gamma[g..g + d], &beta[g..g + d]);
            let yr = &mut y[r * d..(r + 1) * d];
            for j in 0..d {
                xh[j] *= rs;
                yr[j] = xh[j] * gm[j] + bt[j];
            }
        }
    }
});

simd_dispatch!(
/// Inference's layer norm: `x`'s rows normalized, scaled and shifted where they are, keeping
/// nothing for a backward (the values equal [`normalize`]'s `y`).
normalize_in_place(x: &mut [f32], gamma: &[f32], beta: &[f32], d: usize, groups: Groups) {
    if d == 0 {
        return;
    }
    for (blk, rows) in x.chunks_mut(BLOCK * d).enumerate() {
        let (means, rs) = block_moments(rows, d);
        for (i, row) in rows.chunks_exact_mut(d).enumerate() {
            let (mean, rs) = (means[i], rs[i]);
            let g = groups.of(blk * BLOCK + i) * d;
            let (gm, bt) = (&gamma[g..g + d], &beta[g..g + d]);
            for j in 0..d {
                row[j] = (row[j] - mean) * rs * gm[j] + bt[j];
            }
        }
    }
});

simd_dispatch!(
/// `du` from `dy`, and the sums into `dgamma`/`dbeta` (both `[V, d]`, zeroed by the caller).
normalize_backward(dy: &[f32], saved_xhat: &[f32], saved_rstd: &[f32], gamma: &[f32], du: &mut [f32], dgamma: &mut [f32], dbeta: &mut [f32], groups: Groups) {
    let d = dy.len() / saved_rstd.len().max(1);
    for r in 0..saved_rstd.len() {
        let g = groups.of(r) * d;
        let gm = &gamma[g..g + d];
        let dyr = &dy[r * d..(r + 1) * d];
        let xh = &saved_xhat[r * d..(r + 1) * d];
        let m1 = sum8(dyr, gm, xh, |dy, g, _| dy * g) / d as f32;
        let m2 = sum8(dyr, gm, xh, |dy, g, x| dy * g * x) / d as f32;
        let rs = saved_rstd[r];
        let dur = &mut du[r * d..(r + 1) * d];
        for j in 0..d {
            dur[j] = rs * (dyr[j] * gm[j] - m1 - xh[j] * m2);
        }
        let (dg, db) = (&mut dgamma[g..g + d], &mut dbeta[g..g + d]);
        for j in 0..d {
            dg[j] += dyr[j] * xh[j];
            db[j] += dyr[j];
        }
    }
});

simd_dispatch!(
/// `a * sigmoid(-ng) + skip` (the gate comes negated, as the composed GLU computes it) into
/// `u`, keeping the sigmoid in `s`.
gate_add(a: &[f32], ng: &[f32], skip: &[f32], s: &mut [f32], u: &mut [f32]) {
    for k in 0..u.len() {
        let sg = 1.0 / (1.0 + exp(ng[k]));
        s[k] = sg;
        u[k] = a[k] * sg + skip[k];
    }
});

simd_dispatch!(
/// Inference's gate: `a * sigmoid(-ng) + skip` written over `a`.
gate_add_in_place(a: &mut [f32], ng: &[f32], skip: &[f32]) {
    for k in 0..a.len() {
        a[k] = a[k] * (1.0 / (1.0 + exp(ng[k]))) + skip[k];
    }
});

simd_dispatch!(
/// From `du`: `da = du * s` (into `du`'s buffer `da`) and `dng = -du * a * s * (1 - s)`.
gate_add_backward(du: &[f32], a: &[f32], s: &[f32], da: &mut [f32], dng: &mut [f32]) {
    for k in 0..du.len() {
        da[k] = du[k] * s[k];
        dng[k] = -du[k] * a[k] * s[k] * (1.0 - s[k]);
    }
});

simd_dispatch!(elu(x: &[f32], y: &mut [f32]) {
    for k in 0..x.len() {
        let v = x[k];
        y[k] = if v > 0.0 { v } else { exp(v) - 1.0 };
    }
});

simd_dispatch!(elu_in_place(x: &mut [f32]) {
    for v in x.iter_mut() {
        if *v <= 0.0 {
            *v = exp(*v) - 1.0;
        }
    }
});

simd_dispatch!(
/// ELU's backward from its output: `dx = dy` where `y > 0`, else `dy * (y + 1)`.
elu_backward(dy: &[f32], y: &[f32], dx: &mut [f32]) {
    for k in 0..dy.len() {
        dx[k] = if y[k] > 0.0 { dy[k] } else { dy[k] * (y[k] + 1.0) };
    }
});

/// Layer norm of `u` (rows of `d`), returning the output and what the backward keeps.
pub fn layer_norm(
    u: &[f32],
    gamma: &[f32],
    beta: &[f32],
    d: usize,
    groups: Groups,
) -> (Vec<f32>, NormSaved) {
    let rows = u.len() / d;
    let mut saved = NormSaved {
        xhat: vec![0f32; u.len()],
        rstd: vec![0f32; rows],
    };
    let mut y = vec![0f32; u.len()];
    normalize(
        u,
        &mut saved.xhat,
        &mut saved.rstd,
        &mut y,
        gamma,
        beta,
        groups,
    );
    (y, saved)
}

/// `(du, dgamma, dbeta)` of a layer norm.
pub fn layer_norm_backward(
    dy: &[f32],
    saved: &NormSaved,
    gamma: &[f32],
    groups: Groups,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let mut du = vec![0f32; dy.len()];
    let mut dgamma = vec![0f32; gamma.len()];
    let mut dbeta = vec![0f32; gamma.len()];
    normalize_backward(
        dy,
        &saved.xhat,
        &saved.rstd,
        gamma,
        &mut du,
        &mut dgamma,
        &mut dbeta,
        groups,
    );
    (du, dgamma, dbeta)
}
