//! `forecast_at` against an independent computation: every (series, cutoff) row is there with
//! its cutoff, its forecast is the model's output for the window whose encoder ends at the cutoff
//! (the longest encoder that fits), brought back to the original scale by the scaler's own
//! formula, and the point forecast is the median; cutoffs that cannot hold a window are refused.

mod common;

use common::*;

use fusecast_data::window::Window;
use fusecast_model::burn::tensor::Device;
use fusecast_model::Tft;
use fusecast_train::inputs::{tft_config, tft_input};
use fusecast_train::predict::forecast_at;

#[test]
fn forecasts_at_cutoffs_are_the_models_windows_on_the_original_scale() {
    let p = prepared();
    let ds = dataset(&p);
    let device = Device::flex();
    let model = Tft::new(&tft_config(&ds.layout, &hyper()), &device).unwrap();
    let len = p.panel.len();
    let (e, h) = (ds.spec.encoder_length, ds.spec.horizon);
    // A late cutoff, and one with room for a full encoder only just.
    let cutoffs = [len - 1 - h, e - 1];
    let f = forecast_at(&model, None, &ds, &cutoffs, 5, &device).unwrap();
    assert_eq!(f.rows.len(), p.panel.n_series() * cutoffs.len());
    let levels = &model.config().quantiles;
    let median = levels.iter().position(|l| (l - 0.5).abs() < 1e-12).unwrap();
    for s in [0, 7, p.panel.n_series() - 1] {
        for &c in &cutoffs {
            let row = f
                .rows
                .iter()
                .find(|r| r.series == s && r.cutoff == c)
                .unwrap();
            // The window by hand: the decoder starts after the cutoff, the encoder is the e
            // periods ending at the cutoff.
            let w = Window {
                series: s,
                decoder_start: c + 1,
                encoder_length: e.min(c + 1),
            };
            let out: Vec<f32> = model
                .forward(tft_input(&ds.batch(&[w]), &ds.layout, &device))
                .prediction
                .into_data()
                .try_to_vec()
                .unwrap();
            let sc = ds.scaler.series[s];
            for k in 0..h {
                for (q, path) in row.quantiles.iter().enumerate() {
                    let z = out[k * levels.len() + q] as f64;
                    // log1p's inverse, written out: exp(z * scale + center) - 1.
                    let expected = (z * sc.scale + sc.center).exp() - 1.0;
                    // One window alone against the same in a pass of 5: gemm may sum a
                    // product in another order for another matrix size, so the two agree to a
                    // few f32 ulps of `z` (one ulp moves `exp(z * scale + ..)` by ~1e-7).
                    assert!(
                        (path[k] - expected).abs() <= 1e-6 * expected.abs().max(1.0),
                        "series {s} cutoff {c} step {k} q{q}: {} vs {expected}",
                        path[k]
                    );
                }
                assert_eq!(row.mean[k], row.quantiles[median][k]);
            }
        }
    }
    for bad in [
        len - h,
        e.saturating_sub(2)
            .min(ds.spec.min_encoder_length.saturating_sub(2)),
    ] {
        assert!(
            forecast_at(&model, None, &ds, &[bad], 5, &device).is_err(),
            "cutoff {bad} accepted"
        );
    }
}
