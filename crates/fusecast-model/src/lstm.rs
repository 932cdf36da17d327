//! A stacked LSTM with fused gates (PyTorch gate order i, f, g, o): the input projection is one
//! matmul over all steps, each step one matmul for the hidden state. Right-padded sequences keep
//! their state past their length and output zeros there (what PyTorch's packed sequences give).

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::{sigmoid, tanh};
use burn::tensor::{Device, Tensor, TensorData};

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
    pub fn forward(
        &self,
        x: Tensor<3>,
        state: Vec<(Tensor<2>, Tensor<2>)>,
        lengths: Option<&[usize]>,
    ) -> (Tensor<3>, Vec<(Tensor<2>, Tensor<2>)>) {
        let [b, t, _] = x.dims();
        let device = x.device();
        // Step masks [B, 1] (1 = inside the sequence), built once.
        let masks: Option<Vec<Tensor<2>>> = lengths.map(|lens| {
            (0..t)
                .map(|step| {
                    let m: Vec<f32> = lens.iter().map(|l| (step < *l) as u8 as f32).collect();
                    Tensor::from_data(TensorData::new(m, [b, 1]), &device)
                })
                .collect()
        });
        let mut input = x;
        let mut finals = Vec::with_capacity(self.layers.len());
        for (layer, (mut h, mut c)) in self.layers.iter().zip(state) {
            let hidden = h.dims()[1];
            let projected = layer.input.forward(input);
            let steps = projected.chunk(t, 1);
            let mut outputs = Vec::with_capacity(t);
            for (step, xp) in steps.into_iter().enumerate() {
                let gates = xp.reshape([b, 4 * hidden]) + layer.hidden.forward(h.clone());
                // One sigmoid over all four gates (g's slice is unused), one tanh for g.
                let act = sigmoid(gates.clone());
                let i = act.clone().narrow(1, 0, hidden);
                let f = act.clone().narrow(1, hidden, hidden);
                let o = act.narrow(1, 3 * hidden, hidden);
                let g = tanh(gates.narrow(1, 2 * hidden, hidden));
                let c_new = f * c.clone() + i * g;
                let h_new = o * tanh(c_new.clone());
                match &masks {
                    Some(m) => {
                        let keep = m[step].clone();
                        let skip = keep.clone().neg() + 1.0;
                        outputs.push(h_new.clone() * keep.clone());
                        h = h_new * keep.clone() + h * skip.clone();
                        c = c_new * keep + c * skip;
                    }
                    None => {
                        outputs.push(h_new.clone());
                        h = h_new;
                        c = c_new;
                    }
                }
            }
            input = Tensor::stack(outputs, 1);
            finals.push((h, c));
        }
        (input, finals)
    }
}
