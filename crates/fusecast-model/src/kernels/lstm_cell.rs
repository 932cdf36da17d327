//! The LSTM recurrence over a whole sequence as one operation, forward and backward (BPTT) by
//! hand: per step one matmul and one fused element-wise pass, where the composed version records
//! ~20 autodiff nodes per step.
//!
//! Layout: `xp [T, B, 4H]` is the input projection with both biases, gates in PyTorch's order
//! (i, f, g, o); `w [H, 4H]` the hidden map; the output is `[2, T, B, H]`, every step's hidden
//! state and then every step's cell state.

use super::fast_math::{sigmoid, simd_dispatch, tanh};
use super::host::{matmul, HostTensor};

#[derive(Clone, Copy, Debug)]
pub struct Dims {
    pub t: usize,
    pub b: usize,
    pub h: usize,
}

/// What the backward needs besides the inputs: the activated gates `[T, B, 4H]` and the output.
#[derive(Debug)]
pub struct Saved {
    pub gates: Vec<f32>,
    pub out: Vec<f32>,
}

simd_dispatch!(activate_step(gates: &mut [f32], xp: &[f32], z: &[f32], c_prev: &[f32], h_out: &mut [f32], c_out: &mut [f32], h: usize) {
    let rows = c_prev.len() / h;
    for r in 0..rows {
        let g = &mut gates[r * 4 * h..(r + 1) * 4 * h];
        let x = &xp[r * 4 * h..(r + 1) * 4 * h];
        let zr = &z[r * 4 * h..(r + 1) * 4 * h];
        for k in 0..4 * h {
            g[k] = x[k] + zr[k];
        }
        for v in g[..2 * h].iter_mut() {
            *v = sigmoid(*v);
        }
        for v in g[2 * h..3 * h].iter_mut() {
            *v = tanh(*v);
        }
        for v in g[3 * h..].iter_mut() {
            *v = sigmoid(*v);
        }
        let (i, rest) = g.split_at(h);
        let (f, rest) = rest.split_at(h);
        let (gg, o) = rest.split_at(h);
        let cp = &c_prev[r * h..(r + 1) * h];
        let co = &mut c_out[r * h..(r + 1) * h];
        let ho = &mut h_out[r * h..(r + 1) * h];
        for j in 0..h {
            let c = f[j] * cp[j] + i[j] * gg[j];
            co[j] = c;
            ho[j] = o[j] * tanh(c);
        }
    }
});

simd_dispatch!(
/// One step back: from `dh` (the output's gradient plus the recurrent one) and the cell's
/// gradients, the pre-activation gradients `dz [B, 4H]`; `dc` is updated in place to the
/// gradient flowing to the previous cell state.
backward_step(dz: &mut [f32], dc: &mut [f32], dh: &[f32], dc_out: &[f32], gates: &[f32], c: &[f32], c_prev: &[f32], h: usize) {
    let rows = c.len() / h;
    for r in 0..rows {
        let g = &gates[r * 4 * h..(r + 1) * 4 * h];
        let (i, rest) = g.split_at(h);
        let (f, rest) = rest.split_at(h);
        let (gg, o) = rest.split_at(h);
        let d = &mut dz[r * 4 * h..(r + 1) * 4 * h];
        let (di, rest) = d.split_at_mut(h);
        let (df, rest) = rest.split_at_mut(h);
        let (dg, d_o) = rest.split_at_mut(h);
        let span = r * h..(r + 1) * h;
        let (cr, cp, dhr, dcor) = (&c[span.clone()], &c_prev[span.clone()], &dh[span.clone()], &dc_out[span.clone()]);
        let dcr = &mut dc[span];
        for j in 0..h {
            let tc = tanh(cr[j]);
            let dcell = dcor[j] + dcr[j] + dhr[j] * o[j] * (1.0 - tc * tc);
            d_o[j] = dhr[j] * tc * o[j] * (1.0 - o[j]);
            di[j] = dcell * gg[j] * i[j] * (1.0 - i[j]);
            dg[j] = dcell * i[j] * (1.0 - gg[j] * gg[j]);
            df[j] = dcell * cp[j] * f[j] * (1.0 - f[j]);
            dcr[j] = dcell * f[j];
        }
    }
});

pub fn forward(xp: &[f32], w: &HostTensor, h0: &[f32], c0: &[f32], d: &Dims) -> Saved {
    let (bh, step) = (d.b * d.h, d.b * 4 * d.h);
    let mut gates = vec![0f32; d.t * step];
    let mut out = vec![0f32; 2 * d.t * bh];
    let (hs, cs) = out.split_at_mut(d.t * bh);
    let mut h_prev = HostTensor::new(h0.to_vec(), [d.b, d.h]);
    for s in 0..d.t {
        let z = matmul(&h_prev, w);
        let (c_done, c_rest) = cs.split_at_mut(s * bh);
        let c_prev = if s == 0 { c0 } else { &c_done[(s - 1) * bh..] };
        activate_step(
            &mut gates[s * step..(s + 1) * step],
            &xp[s * step..(s + 1) * step],
            z.data(),
            c_prev,
            &mut hs[s * bh..(s + 1) * bh],
            &mut c_rest[..bh],
            d.h,
        );
        h_prev = HostTensor::new(hs[s * bh..(s + 1) * bh].to_vec(), [d.b, d.h]);
    }
    Saved { gates, out }
}

/// Gradients of `(xp, w, h0, c0)` from the output's gradient `[2, T, B, H]`.
pub struct Grads {
    pub xp: HostTensor,
    pub w: HostTensor,
    pub h0: HostTensor,
    pub c0: Vec<f32>,
}

pub fn backward(
    grad: &[f32],
    gates: &[f32],
    out: &[f32],
    w: &HostTensor,
    h0: &[f32],
    c0: &[f32],
    d: &Dims,
) -> Grads {
    let (bh, step) = (d.b * d.h, d.b * 4 * d.h);
    let (hs, cs) = out.split_at(d.t * bh);
    let (dhs, dcs) = grad.split_at(d.t * bh);
    let w_t = w.transposed();
    let mut dz = vec![0f32; d.t * step];
    let mut dc = vec![0f32; bh];
    let mut dh_rec = HostTensor::new(vec![0f32; bh], [d.b, d.h]);
    let mut dh = vec![0f32; bh];
    for s in (0..d.t).rev() {
        for ((o, a), b) in dh
            .iter_mut()
            .zip(&dhs[s * bh..(s + 1) * bh])
            .zip(dh_rec.data())
        {
            *o = a + b;
        }
        let c_prev = if s == 0 {
            c0
        } else {
            &cs[(s - 1) * bh..s * bh]
        };
        backward_step(
            &mut dz[s * step..(s + 1) * step],
            &mut dc,
            &dh,
            &dcs[s * bh..(s + 1) * bh],
            &gates[s * step..(s + 1) * step],
            &cs[s * bh..(s + 1) * bh],
            c_prev,
            d.h,
        );
        let dz_s = HostTensor::new(dz[s * step..(s + 1) * step].to_vec(), [d.b, 4 * d.h]);
        dh_rec = matmul(&dz_s, &w_t);
    }
    // Every step's input hidden state, h0 then h_0..h_{T-2}, against every step's dz: one matmul.
    let mut h_prev = Vec::with_capacity(d.t * bh);
    h_prev.extend_from_slice(h0);
    h_prev.extend_from_slice(&hs[..(d.t - 1) * bh]);
    let h_prev = HostTensor::new(h_prev, [d.t * d.b, d.h]).transposed();
    let dz = HostTensor::new(dz, [d.t * d.b, 4 * d.h]);
    Grads {
        w: matmul(&h_prev, &dz),
        xp: dz.reshaped([d.t, d.b, 4 * d.h]),
        h0: dh_rec,
        c0: dc,
    }
}
