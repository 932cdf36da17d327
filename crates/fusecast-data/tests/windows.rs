//! Windows over the whole panel: computed from their index, splits respected, batches holding
//! exactly the panel's (scaled) values and calendar codes.

use fusecast_data::config::{ClustersConfig, DataConfig, FeaturesConfig};
use fusecast_data::prepare::prepare;
use fusecast_data::scale::TargetTransform;
use fusecast_data::synth::SynthConfig;
use fusecast_data::time::{weekday_index, Day};
use fusecast_data::window::{Part, TimeSplit, WindowDataset, WindowSpec, RELATIVE_TIME};

fn prepared() -> fusecast_data::prepare::Prepared {
    let data = DataConfig {
        synthetic: SynthConfig {
            zones: 20,
            start: Day::ymd(2023, 1, 1),
            end: Day::ymd(2023, 6, 30),
            ..SynthConfig::default()
        },
        ..DataConfig::default()
    };
    let features = FeaturesConfig {
        weather: Some("central_park".into()),
        ..FeaturesConfig::default()
    };
    let clusters = ClustersConfig {
        method: fusecast_data::config::ClusterMethod::KmeansProfile,
        k: 2,
        ..ClustersConfig::default()
    };
    prepare(&data, &features, &clusters, std::path::Path::new(".")).unwrap()
}

#[test]
fn windows_cover_each_part_and_batches_hold_the_panel() {
    let prep = prepared();
    let panel = &prep.panel;
    assert_eq!(panel.len(), 181);
    let spec = WindowSpec {
        encoder_length: 28,
        min_encoder_length: 14,
        horizon: 7,
        stride: 2,
    };
    let split = TimeSplit::from_tail(panel.len(), 21, 14).unwrap();
    let ds = WindowDataset::new(panel, spec, split, TargetTransform::Log1p).unwrap();
    let train = ds.windows(Part::Train).unwrap();
    // Decoder starts 14, 16, ..., up to train_end - horizon = 146 - 7 = 139 -> 63 per series.
    assert_eq!(train.per_series(), (139 - 14) / 2 + 1);
    assert_eq!(train.len(), 20 * train.per_series());
    for i in 0..train.len() {
        let w = train.get(i);
        assert!(w.decoder_start + spec.horizon <= split.train_end);
        assert!(w.encoder_length >= 14 && w.encoder_length <= 28);
    }
    let val = ds.windows(Part::Validation).unwrap();
    assert_eq!(val.per_series(), 3);
    for i in 0..val.len() {
        let w = val.get(i);
        assert!(
            w.decoder_start >= split.train_end && w.decoder_start + spec.horizon <= split.val_end
        );
    }
    assert_eq!(ds.windows(Part::Test).unwrap().per_series(), 2);

    let windows: Vec<_> = [0, 1, train.per_series() + 5, train.len() - 1]
        .iter()
        .map(|i| train.get(*i))
        .collect();
    let b = ds.batch(&windows);
    let lay = &ds.layout;
    let n_enc = lay.known_reals.len() + lay.observed_reals.len();
    let target_col = lay.known_reals.len();
    let dow = lay
        .known_categoricals
        .iter()
        .position(|(n, _)| n == "day_of_week")
        .unwrap();
    let n_cat = lay.known_categoricals.len();
    for (i, w) in windows.iter().enumerate() {
        assert_eq!(b.encoder_lengths[i], w.encoder_length);
        let start = w.decoder_start - w.encoder_length;
        for k in 0..spec.encoder_length {
            let v = b.encoder_reals[(i * spec.encoder_length + k) * n_enc + target_col];
            if k < w.encoder_length {
                assert_eq!(
                    v,
                    ds.scaler.scale(w.series, panel.values(w.series)[start + k])
                );
                let code = b.encoder_categoricals[(i * spec.encoder_length + k) * n_cat + dow];
                assert_eq!(
                    code as usize,
                    weekday_index(panel.grid.datetime(start + k).date())
                );
            } else {
                assert_eq!(v, 0.0, "padding after the valid encoder steps");
            }
        }
        for h in 0..spec.horizon {
            let t = w.decoder_start + h;
            assert_eq!(
                b.target[i * spec.horizon + h],
                ds.scaler.scale(w.series, panel.values(w.series)[t])
            );
            let rel = b.decoder_reals
                [(i * spec.horizon + h) * lay.known_reals.len() + lay.known_reals.len() - 1];
            assert_eq!(rel, h as f32 / 28.0);
        }
        assert_eq!(
            b.static_categoricals[i * lay.static_categoricals.len()] as usize,
            lay.static_categoricals[0].code(&panel.series[w.series])
        );
    }
    assert_eq!(lay.known_reals.last().unwrap(), RELATIVE_TIME);
    assert!(lay.observed_reals.iter().any(|n| n == "weather_prcp"));
    assert!(lay.static_categoricals.iter().any(|v| v.name == "cluster"));
}

#[test]
fn scaling_ignores_everything_after_the_training_part() {
    let prep = prepared();
    let spec = WindowSpec {
        encoder_length: 28,
        min_encoder_length: 28,
        horizon: 7,
        stride: 1,
    };
    let split = TimeSplit::from_tail(prep.panel.len(), 21, 14).unwrap();
    let a = WindowDataset::new(&prep.panel, spec, split, TargetTransform::Log1p)
        .unwrap()
        .scaler;
    let mut changed = prep.panel.clone();
    let len = changed.len();
    for s in 0..changed.n_series() {
        for t in split.train_end..len {
            changed.target[s * len + t] *= 10.0;
        }
    }
    let b = WindowDataset::new(&changed, spec, split, TargetTransform::Log1p)
        .unwrap()
        .scaler;
    assert_eq!(a, b);
}

#[test]
fn static_reals_are_standardized_across_series() {
    let prep = prepared();
    let spec = WindowSpec {
        encoder_length: 28,
        min_encoder_length: 28,
        horizon: 7,
        stride: 1,
    };
    let split = TimeSplit::from_tail(prep.panel.len(), 21, 14).unwrap();
    // Softplus keeps counts near their raw size: centres in the hundreds before standardizing.
    let ds = WindowDataset::new(&prep.panel, spec, split, TargetTransform::Softplus).unwrap();
    assert!(ds.scaler.series.iter().any(|s| s.center > 50.0));
    let train = ds.windows(Part::Train).unwrap();
    let first: Vec<_> = (0..prep.panel.n_series())
        .map(|s| train.get(s * train.per_series()))
        .collect();
    let b = ds.batch(&first);
    for k in 0..2 {
        let v: Vec<f64> = b
            .static_reals
            .iter()
            .skip(k)
            .step_by(2)
            .map(|x| *x as f64)
            .collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let std = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
        assert!(
            mean.abs() < 1e-4 && (std - 1.0).abs() < 1e-3,
            "static real {k}: mean {mean}, std {std}"
        );
    }
}
