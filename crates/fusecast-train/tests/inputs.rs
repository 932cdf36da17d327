//! A real prepared panel (the synthetic city with calendar, weather, zone statics and clusters)
//! goes through the windows and the adapter into the TFT.

use fusecast_data::config::{ClusterMethod, ClustersConfig, DataConfig, FeaturesConfig};
use fusecast_data::prepare::prepare;
use fusecast_data::scale::TargetTransform;
use fusecast_data::synth::SynthConfig;
use fusecast_data::time::Day;
use fusecast_data::window::{Part, TimeSplit, WindowDataset, WindowSpec};
use fusecast_model::burn::tensor::Device;
use fusecast_model::loss::quantile_loss;
use fusecast_model::{Tft, TftConfig};
use fusecast_train::inputs::{tft_config, tft_input, tft_target};

#[test]
fn prepared_windows_feed_the_model() {
    let data = DataConfig {
        synthetic: SynthConfig {
            zones: 30,
            start: Day::ymd(2023, 1, 1),
            end: Day::ymd(2023, 4, 30),
            ..SynthConfig::default()
        },
        ..DataConfig::default()
    };
    let features = FeaturesConfig {
        weather: Some("central_park".into()),
        statics: vec!["borough".into(), "archetype".into()],
        ..FeaturesConfig::default()
    };
    let clusters = ClustersConfig {
        method: ClusterMethod::KmeansProfile,
        k: 3,
        ..ClustersConfig::default()
    };
    let prep = prepare(&data, &features, &clusters, std::path::Path::new(".")).unwrap();
    let spec = WindowSpec {
        encoder_length: 28,
        min_encoder_length: 14,
        horizon: 7,
        stride: 1,
    };
    let split = TimeSplit::from_tail(prep.panel.len(), 14, 14).unwrap();
    let ds = WindowDataset::new(&prep.panel, spec, split, TargetTransform::Log1p).unwrap();
    let train = ds.windows(Part::Train).unwrap();
    // The first windows of a series have short encoders: padding is exercised.
    let windows: Vec<_> = [0, 3, 50, train.per_series() + 20, train.len() - 1]
        .iter()
        .map(|i| train.get(*i))
        .collect();
    let batch = ds.batch(&windows);

    let cfg = tft_config(&ds.layout, &TftConfig::default());
    cfg.validate().unwrap();
    assert_eq!(
        cfg.static_categoricals,
        ["series_id", "borough", "archetype", "cluster"]
    );
    assert!(cfg.encoder_reals.contains(&"pickups".to_string()));
    assert!(!cfg.decoder_reals.contains(&"pickups".to_string()));
    assert!(cfg.encoder_reals.iter().any(|r| r == "weather_tmax"));

    let device = Device::flex();
    let input = tft_input(&batch, &ds.layout, &device);
    let [b, t, n_cont] = input.x_cont.dims();
    assert_eq!((b, t), (5, 35));
    // The scaled target sits in its x_cont column at every valid encoder step.
    let target_col = cfg.real_index("pickups").unwrap();
    let x: Vec<f32> = input.x_cont.clone().into_data().try_to_vec().unwrap();
    for (i, w) in windows.iter().enumerate() {
        for k in 0..w.encoder_length {
            let t_panel = w.decoder_start - w.encoder_length + k;
            let expect = ds
                .scaler
                .scale(w.series, prep.panel.values(w.series)[t_panel]);
            assert_eq!(x[(i * t + k) * n_cont + target_col], expect);
        }
        // Zero over the forecast window.
        assert_eq!(x[(i * t + 28) * n_cont + target_col], 0.0);
    }
    let model = Tft::new(&cfg, &device).unwrap();
    let out = model.forward(input);
    assert_eq!(out.prediction.dims(), [5, 7, 7]);
    let loss: f32 =
        quantile_loss(out.prediction, tft_target(&batch, &device), &cfg.quantiles).into_scalar();
    assert!(loss.is_finite() && loss > 0.0);

    // A batch of only short encoders is cut to its longest one: 14 + 7 steps, not 28 + 7.
    let short = ds.batch(&[train.get(0), train.get(train.per_series())]);
    let input = tft_input(&short, &ds.layout, &device);
    assert_eq!(input.x_cont.dims()[1], 21);
    let x: Vec<f32> = input.x_cont.clone().into_data().try_to_vec().unwrap();
    let w = train.get(train.per_series());
    assert_eq!(
        x[(21 + 13) * n_cont + target_col],
        ds.scaler.scale(w.series, prep.panel.values(w.series)[13])
    );
    assert_eq!(model.forward(input).prediction.dims(), [2, 7, 7]);
}
