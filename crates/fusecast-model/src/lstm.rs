//! A stacked LSTM with fused gates (PyTorch gate order i, f, g, o): the input projection is one
//! matmul over all steps, each step one matmul for the hidden state. Right-padded sequences keep
//! their state past their length and output zeros there (what PyTorch's packed sequences give).

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::sigmoid;
use burn::tensor::module::linear;
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::kernels;

#[derive(Module, Debug)]
pub struct LstmLayer {
    /// `[d_in, 4H]` with bias (PyTorch's `weight_ih`, `bias_ih`).
    pub input: Linear,
    /// `[H, 4H]` with bias (`weight_hh`, `bias_hh`).
    pub hidden: Linear,
}

#[derive(Module, Debug)]
pub struct Lstm {
    pub layers: Vec<LstmLayer>,
}

impl Lstm {
    pub fn new(d_in: usize, hidden: usize, layers: usize, device: &Device) -> Self {
        Lstm {
            layers: (0..layers)
                .map(|l| LstmLayer {
                    input: LinearConfig::new(if l == 0 { d_in } else { hidden }, 4 * hidden)
                        .init(device),
                    hidden: LinearConfig::new(hidden, 4 * hidden).init(device),
                })
                .collect(),
        }
    }

    /// `x: [B, T, d_in]`, one `(h, c)` of `[B, H]` per layer, optional valid lengths per sample.
    /// Returns the last layer's outputs `[B, T, H]` and each layer's final `(h, c)`.
    ///
    /// Speed: the recurrence runs time-major (`[T, B, ..]`, so a step is a contiguous slice),
    /// the per-step slices are taken in two levels (blocks of ~sqrt(T) steps, then steps) because
    /// the backward of every slice writes a zero tensor of its source's full size, and the
    /// padding is handled after the loop: a sample's state at its last valid step is gathered
    /// from the stacked states (what freezing it gives) and outputs past its length are zeroed
    /// by one mask product.
    pub fn forward(
        &self,
        x: Tensor<3>,
        state: Vec<(Tensor<2>, Tensor<2>)>,
        lengths: Option<&[usize]>,
    ) -> (Tensor<3>, Vec<(Tensor<2>, Tensor<2>)>) {
        let t = x.dims()[1];
        let lengths = lengths.filter(|lens| lens.iter().any(|l| *l < t));
        let fused = kernels::fused_on(&x.device());
        let mut input = x.swap_dims(0, 1);
        let mut finals = Vec::with_capacity(self.layers.len());
        for (layer, (h, c)) in self.layers.iter().zip(state) {
            let (outputs, last) = if fused {
                layer.run_fused(input, h, c, lengths)
            } else {
                layer.run_composed(input, h, c, lengths)
            };
            input = outputs;
            finals.push(last);
        }
        if let Some(lens) = lengths {
            let [t, b, _] = input.dims();
            // [T, B, 1]: 1 inside the sequence.
            let m: Vec<f32> = (0..t)
                .flat_map(|step| lens.iter().map(move |l| (step < *l) as u8 as f32))
                .collect();
            let device = input.device();
            input = input * Tensor::<3>::from_data(TensorData::new(m, [t, b, 1]), &device);
        }
        (input.swap_dims(0, 1), finals)
    }
}

type State = (Tensor<2>, Tensor<2>);

impl LstmLayer {
    fn bias(&self) -> Option<Tensor<1>> {
        match (&self.input.bias, &self.hidden.bias) {
            (Some(a), Some(b)) => Some(a.val() + b.val()),
            (Some(a), None) | (None, Some(a)) => Some(a.val()),
            (None, None) => None,
        }
    }

    /// One layer through the fused recurrence kernel: `input [T, B, d]` -> outputs `[T, B, H]`
    /// and the final state.
    fn run_fused(
        &self,
        input: Tensor<3>,
        h0: Tensor<2>,
        c0: Tensor<2>,
        lengths: Option<&[usize]>,
    ) -> (Tensor<3>, State) {
        let [t, b, _] = input.dims();
        let hidden = h0.dims()[1];
        // The composed path broadcasts a one-row initial state over the batch; so does this.
        let (h0, c0) = (h0.expand([b, hidden]), c0.expand([b, hidden]));
        let projected = linear(input, self.input.weight.val(), self.bias());
        let out = kernels::lstm(projected, self.hidden.weight.val(), h0.clone(), c0.clone());
        let hs = out.clone().narrow(0, 0, 1).reshape([t, b, hidden]);
        let cs = out.narrow(0, 1, 1).reshape([t, b, hidden]);
        let last = match lengths {
            Some(lens) => (
                at_lengths(Tensor::cat(vec![h0.unsqueeze_dim(0), hs.clone()], 0), lens),
                at_lengths(Tensor::cat(vec![c0.unsqueeze_dim(0), cs], 0), lens),
            ),
            None => (
                hs.clone().narrow(0, t - 1, 1).reshape([b, hidden]),
                cs.narrow(0, t - 1, 1).reshape([b, hidden]),
            ),
        };
        (hs, last)
    }

    /// The same as [`Self::run_fused`] in tensor ops (other backends, and the reference).
    fn run_composed(
        &self,
        input: Tensor<3>,
        mut h: Tensor<2>,
        mut c: Tensor<2>,
        lengths: Option<&[usize]>,
    ) -> (Tensor<3>, State) {
        let t = input.dims()[0];
        let hidden = h.dims()[1];
        let device = input.device();
        // tanh(x) = 2 sigmoid(2x) - 1: the g columns of both maps are doubled (per call, on
        // the small weights), so one sigmoid serves all four gates; both biases go into
        // the input projection, so a step's hidden map is a bare matmul.
        // Both maps are also negated, so that the gates are `1 / (1 + exp(z))` (flex's exp
        // is ~3x faster than its sigmoid).
        let mut s = vec![-1f32; 4 * hidden];
        s[2 * hidden..3 * hidden].fill(-2.0);
        let s = Tensor::<1>::from_data(TensorData::new(s, [4 * hidden]), &device);
        let w_ih = self.input.weight.val() * s.clone().unsqueeze_dim::<2>(0);
        let w_hh = self.hidden.weight.val() * s.clone().unsqueeze_dim::<2>(0);
        let projected = linear(input, w_ih, self.bias().map(|b| b * s));
        let mut outputs = Vec::with_capacity(t);
        // With padding, every step's (h, c) from the initial one on.
        let mut hs = Vec::new();
        let mut cs = Vec::new();
        if lengths.is_some() {
            hs.push(h.clone());
            cs.push(c.clone());
        }
        for xp in time_steps(projected, t) {
            let act = ((xp + h.matmul(w_hh.clone())).exp() + 1.0).recip();
            let i = act.clone().narrow(1, 0, hidden);
            let f = act.clone().narrow(1, hidden, hidden);
            let g = act.clone().narrow(1, 2 * hidden, hidden) * 2.0 - 1.0;
            let o = act.narrow(1, 3 * hidden, hidden);
            c = f * c + i * g;
            h = o * (sigmoid(c.clone() * 2.0) * 2.0 - 1.0);
            outputs.push(h.clone());
            if lengths.is_some() {
                hs.push(h.clone());
                cs.push(c.clone());
            }
        }
        let last = match lengths {
            Some(lens) => (
                at_lengths(Tensor::stack(hs, 0), lens),
                at_lengths(Tensor::stack(cs, 0), lens),
            ),
            None => (h, c),
        };
        (Tensor::stack(outputs, 0), last)
    }
}

/// From every step's state `[T + 1, B, H]` (the initial one first), each sample's state after
/// its own length (what freezing it at its last valid step gives).
fn at_lengths(states: Tensor<3>, lens: &[usize]) -> Tensor<2> {
    let [_, b, hidden] = states.dims();
    let ids: Vec<i64> = lens
        .iter()
        .flat_map(|l| std::iter::repeat_n(*l as i64, hidden))
        .collect();
    let ids = Tensor::<3, Int>::from_data(TensorData::new(ids, [1, b, hidden]), &states.device());
    states.gather(0, ids).reshape([b, hidden])
}

/// `[T, B, 4H]` into T tensors `[B, 4H]`, sliced in two levels: the backward of a slice writes
/// a zero tensor the size of its source, so T direct slices would cost T full-size zero tensors.
fn time_steps(x: Tensor<3>, t: usize) -> Vec<Tensor<2>> {
    let [_, b, w] = x.dims();
    let block = (t as f64).sqrt().ceil().max(1.0) as usize;
    let mut steps = Vec::with_capacity(t);
    let mut start = 0;
    while start < t {
        let len = block.min(t - start);
        let chunk = if len == t {
            x.clone()
        } else {
            x.clone().narrow(0, start, len)
        };
        for s in 0..len {
            steps.push(chunk.clone().narrow(0, s, 1).reshape([b, w]));
        }
        start += len;
    }
    steps
}
