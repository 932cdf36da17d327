//! The model learns a known signal: on series with a strong weekly pattern and noise it beats the
//! seasonal-naive forecast (last week's value) in P50 q-Risk on held-out windows.

mod common;

use common::noise;
use fusecast_model::burn::optim::{AdamConfig, GradientsParams};
use fusecast_model::burn::tensor::{Device, Int, Tensor, TensorData};
use fusecast_model::loss::{q_risk, quantile_loss};
use fusecast_model::{Categorical, Tft, TftConfig, TftInput};

const SERIES: usize = 12;
const DAYS: usize = 140;
const TRAIN_END: usize = 105;
const ENC: usize = 14;
const HOR: usize = 7;

struct Panel {
    y: Vec<Vec<f64>>,
    mean: Vec<f64>,
    std: Vec<f64>,
}

fn panel() -> Panel {
    let weekly = [0.1, 0.0, 0.05, 0.2, 0.5, 0.9, 0.6];
    let eps = noise(77, SERIES * DAYS);
    let y: Vec<Vec<f64>> = (0..SERIES)
        .map(|s| {
            let level = 20.0 + 10.0 * s as f64;
            (0..DAYS)
                .map(|t| level * (1.0 + weekly[t % 7]) * (1.0 + 0.12 * eps[s * DAYS + t] as f64))
                .collect()
        })
        .collect();
    let mean: Vec<f64> = y
        .iter()
        .map(|v| v[..TRAIN_END].iter().sum::<f64>() / TRAIN_END as f64)
        .collect();
    let std: Vec<f64> = y
        .iter()
        .zip(&mean)
        .map(|(v, m)| {
            (v[..TRAIN_END].iter().map(|x| (x - m).powi(2)).sum::<f64>() / TRAIN_END as f64).sqrt()
        })
        .collect();
    Panel { y, mean, std }
}

fn config() -> TftConfig {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    TftConfig {
        hidden_size: 16,
        attention_heads: 2,
        hidden_continuous_size: 8,
        dropout: 0.0,
        categoricals: vec![
            Categorical {
                name: "series".into(),
                cardinality: SERIES,
                embedding_size: None,
            },
            Categorical {
                name: "dow".into(),
                cardinality: 7,
                embedding_size: None,
            },
        ],
        reals: s(&["relative_time", "target"]),
        static_categoricals: s(&["series"]),
        encoder_categoricals: s(&["dow"]),
        encoder_reals: s(&["relative_time", "target"]),
        decoder_categoricals: s(&["dow"]),
        decoder_reals: s(&["relative_time"]),
        ..TftConfig::default()
    }
}

/// Windows given as (series, decoder start).
fn batch(p: &Panel, windows: &[(usize, usize)], device: &Device) -> (TftInput, Vec<f32>) {
    let t = ENC + HOR;
    let (mut cat, mut cont, mut target) = (Vec::new(), Vec::new(), Vec::new());
    for &(s, start) in windows {
        for k in 0..t {
            let day = start - ENC + k;
            cat.extend([s as i64, (day % 7) as i64]);
            let z = ((p.y[s][day] - p.mean[s]) / p.std[s]) as f32;
            cont.extend([
                (k as f32 - ENC as f32) / ENC as f32,
                if k < ENC { z } else { 0.0 },
            ]);
            if k >= ENC {
                target.push(z);
            }
        }
    }
    let b = windows.len();
    (
        TftInput {
            x_cat: Tensor::<3, Int>::from_data(TensorData::new(cat, [b, t, 2]), device),
            x_cont: Tensor::from_data(TensorData::new(cont, [b, t, 2]), device),
            encoder_lengths: vec![ENC; b],
        },
        target,
    )
}

#[test]
fn beats_seasonal_naive_on_a_weekly_signal() {
    let p = panel();
    let device = Device::flex().autodiff();
    let cfg = config();
    device.seed(42);
    let mut model = Tft::new(&cfg, &device).unwrap();
    let train: Vec<(usize, usize)> = (0..SERIES)
        .flat_map(|s| (ENC..=TRAIN_END - HOR).map(move |d| (s, d)))
        .collect();
    let picks = noise(5, 300 * 64);
    let mut optim = AdamConfig::new().init();
    for step in 0..300 {
        let windows: Vec<_> = (0..64)
            .map(|i| {
                train[((picks[step * 64 + i] + 1.0) / 2.0 * train.len() as f32) as usize
                    % train.len()]
            })
            .collect();
        let (input, target) = batch(&p, &windows, &device);
        let out = model.forward(input);
        let loss = quantile_loss(
            out.prediction,
            Tensor::from_data(TensorData::new(target, [64, HOR]), &device),
            &cfg.quantiles,
        );
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(5e-3, model, grads);
    }
    let test: Vec<(usize, usize)> = (0..SERIES)
        .flat_map(|s| (0..5).map(move |w| (s, TRAIN_END + w * HOR)))
        .collect();
    let (input, _) = batch(&p, &test, &device);
    let pred: Vec<f32> = model
        .forward(input)
        .prediction
        .into_data()
        .try_to_vec()
        .unwrap();
    let median = cfg.quantiles.iter().position(|q| *q == 0.5).unwrap();
    let (mut actual, mut tft, mut naive) = (Vec::new(), Vec::new(), Vec::new());
    for (i, &(s, start)) in test.iter().enumerate() {
        for k in 0..HOR {
            let day = start + k;
            actual.push(p.y[s][day]);
            let z = pred[(i * HOR + k) * cfg.quantiles.len() + median] as f64;
            tft.push(z * p.std[s] + p.mean[s]);
            naive.push(p.y[s][day - 7]);
        }
    }
    let (ours, theirs) = (q_risk(&actual, &tft, 0.5), q_risk(&actual, &naive, 0.5));
    assert!(
        ours < theirs,
        "TFT P50 q-Risk {ours:.4} vs seasonal naive {theirs:.4}"
    );
}
