//! Time of the TFT's LSTM encoder (56 steps) and decoder (14 steps) at the reference size
//! (batch 128, hidden 32), forward + backward, on the CPU backend.
//!
//!     cargo build --release --workspace --examples && target/release/examples/lstm_time [REPS]

use std::time::Instant;

use fusecast_model::burn::tensor::{Device, Distribution, Tensor};
use fusecast_model::lstm::Lstm;

fn main() {
    let reps: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let (b, e, h, d) = (128, 56, 14, 32);
    let device = Device::flex().autodiff();
    device.seed(7);
    let enc = Lstm::new(d, d, 1, &device);
    let dec = Lstm::new(d, d, 1, &device);
    let xe = Tensor::<3>::random([b, e, d], Distribution::Default, &device);
    let xd = Tensor::<3>::random([b, h, d], Distribution::Default, &device);
    let mut times = Vec::new();
    for _ in 0..reps {
        let start = Instant::now();
        let zero = Tensor::<2>::zeros([b, d], &device);
        let (oe, st) = enc.forward(xe.clone(), vec![(zero.clone(), zero)], None);
        let (od, _) = dec.forward(xd.clone(), st, None);
        let fwd = start.elapsed();
        let loss = oe.sum() + od.sum();
        let _grads = loss.backward();
        times.push((fwd.as_secs_f64() * 1e3, start.elapsed().as_secs_f64() * 1e3));
    }
    times.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (f, t) = times[times.len() / 2];
    println!("lstm enc+dec: forward {f:.1} ms, forward+backward {t:.1} ms (median of {reps})");
}
