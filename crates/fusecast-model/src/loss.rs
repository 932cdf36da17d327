//! Quantile (pinball) loss, the q-Risk of the TFT paper, and quantile-crossing diagnostics.

use burn::tensor::{Tensor, TensorData};

/// PF's `QuantileLoss`: mean over samples, steps and quantiles of `2 * pinball`.
/// `prediction [B, H, Q]`, `target [B, H]`.
pub fn quantile_loss(prediction: Tensor<3>, target: Tensor<2>, quantiles: &[f64]) -> Tensor<1> {
    let device = prediction.device();
    let q = quantiles.len();
    let qs: Vec<f32> = quantiles.iter().map(|v| *v as f32).collect();
    let qs = Tensor::<1>::from_data(TensorData::new(qs, [q]), &device).reshape([1, 1, q]);
    let err = target.unsqueeze_dim::<3>(2) - prediction;
    let under = err.clone().clamp_min(0.0) * qs.clone();
    let over = err.neg().clamp_min(0.0) * (qs.neg() + 1.0);
    ((under + over) * 2.0).mean().reshape([1])
}

/// Pinball loss of one forecast at quantile q.
pub fn pinball(y: f64, yhat: f64, q: f64) -> f64 {
    let e = y - yhat;
    if e >= 0.0 {
        q * e
    } else {
        (q - 1.0) * e
    }
}

/// q-Risk (Lim et al.): `2 * sum QL(y, yhat_q, q) / sum |y|` over all targets and steps.
pub fn q_risk(y: &[f64], yhat: &[f64], q: f64) -> f64 {
    let num: f64 = y.iter().zip(yhat).map(|(a, b)| pinball(*a, *b, q)).sum();
    let den: f64 = y.iter().map(|a| a.abs()).sum();
    if den == 0.0 {
        0.0
    } else {
        2.0 * num / den
    }
}

/// Share of (sample, step) forecasts whose quantiles are not non-decreasing. `values` is
/// `[n, q]` row-major.
pub fn crossing_rate(values: &[f32], n_quantiles: usize) -> f64 {
    let rows = values.len() / n_quantiles.max(1);
    if rows == 0 {
        return 0.0;
    }
    let crossed = values
        .chunks(n_quantiles)
        .filter(|r| r.windows(2).any(|w| w[1] < w[0]))
        .count();
    crossed as f64 / rows as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn pinball_and_q_risk_follow_the_paper() {
        assert_eq!(pinball(10.0, 8.0, 0.9), 0.9 * 2.0);
        assert!((pinball(10.0, 12.0, 0.9) - 0.1 * 2.0).abs() < 1e-12);
        // Perfect P50 forecast: 0; constant error 1 on |y| = 10 each: 2 * 0.5 * 2 / 20 = 0.1.
        assert_eq!(q_risk(&[10.0, 10.0], &[10.0, 10.0], 0.5), 0.0);
        assert!((q_risk(&[10.0, 10.0], &[9.0, 11.0], 0.5) - 0.1).abs() < 1e-12);
        assert_eq!(crossing_rate(&[1.0, 2.0, 3.0, 3.0, 2.0, 4.0], 3), 0.5);
    }

    #[test]
    fn tensor_loss_equals_the_scalar_definition() {
        let device = Device::flex();
        let qs = [0.1, 0.5, 0.9];
        let pred = vec![1.0f32, 2.0, 3.0, 0.0, 5.0, 9.0];
        let target = vec![2.5f32, 4.0];
        let got: f32 = quantile_loss(
            Tensor::from_data(TensorData::new(pred.clone(), [1, 2, 3]), &device),
            Tensor::from_data(TensorData::new(target.clone(), [1, 2]), &device),
            &qs,
        )
        .into_scalar();
        let mut expect = 0.0;
        for s in 0..2 {
            for (k, q) in qs.iter().enumerate() {
                expect += 2.0 * pinball(target[s] as f64, pred[s * 3 + k] as f64, *q);
            }
        }
        expect /= 6.0;
        assert!((got as f64 - expect).abs() < 1e-6, "{got} vs {expect}");
    }
}
