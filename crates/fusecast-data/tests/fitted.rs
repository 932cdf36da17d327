//! Saved features: a dataset rebuilt from its fitted features (through their JSON form) builds
//! the same batches as the one that fitted them; other data are refused naming what differs;
//! categories the vocabularies do not know code as unknown and are reported.

use fusecast_data::config::{ClustersConfig, DataConfig, FeaturesConfig};
use fusecast_data::fitted::FittedFeatures;
use fusecast_data::prepare::prepare;
use fusecast_data::scale::TargetTransform;
use fusecast_data::synth::SynthConfig;
use fusecast_data::time::Day;
use fusecast_data::window::{Part, TimeSplit, Window, WindowDataset, WindowSpec};

fn prepared() -> fusecast_data::prepare::Prepared {
    let data = DataConfig {
        synthetic: SynthConfig {
            zones: 12,
            start: Day::ymd(2023, 1, 1),
            end: Day::ymd(2023, 4, 30),
            ..SynthConfig::default()
        },
        ..DataConfig::default()
    };
    let features = FeaturesConfig {
        weather: Some("central_park".into()),
        ..FeaturesConfig::default()
    };
    prepare(
        &data,
        &features,
        &ClustersConfig::default(),
        std::path::Path::new("."),
    )
    .unwrap()
}

fn dataset(panel: &fusecast_data::Panel) -> WindowDataset<'_> {
    let spec = WindowSpec {
        encoder_length: 14,
        min_encoder_length: 14,
        horizon: 7,
        stride: 1,
    };
    let split = TimeSplit::from_tail(panel.len(), 14, 14).unwrap();
    WindowDataset::new(panel, spec, split, TargetTransform::Log1p).unwrap()
}

#[test]
fn rebuilt_datasets_batch_exactly_as_fitted_and_report_unknown_categories() {
    let prep = prepared();
    let ds = dataset(&prep.panel);
    let json = serde_json::to_string(&ds.fitted()).unwrap();
    let fitted: FittedFeatures = serde_json::from_str(&json).unwrap();
    assert_eq!(fitted, ds.fitted());
    let (again, unknown) = WindowDataset::from_fitted(&prep.panel, &fitted).unwrap();
    assert!(unknown.is_empty());
    for part in [Part::Train, Part::Validation, Part::Test] {
        let ws = ds.windows(part).unwrap();
        let some: Vec<_> = (0..ws.len()).step_by(17).map(|i| ws.get(i)).collect();
        assert_eq!(ds.batch(&some), again.batch(&some), "{part:?}");
    }

    // A borough the vocabulary never saw: coded 0 (unknown), reported; the others keep codes.
    let mut moved = prep.clone();
    let b = moved
        .panel
        .statics
        .iter_mut()
        .find(|s| s.name == "borough")
        .unwrap();
    b.values[0] = "Atlantis".into();
    b.values[1] = "Atlantis".into();
    let (other, unknown) = WindowDataset::from_fitted(&moved.panel, &fitted).unwrap();
    assert_eq!(unknown.len(), 1);
    assert_eq!(
        (
            unknown[0].variable.as_str(),
            unknown[0].value.as_str(),
            unknown[0].series
        ),
        ("borough", "Atlantis", 2)
    );
    let w = ds.windows(Part::Train).unwrap();
    let borough = 1 + fitted.layout.static_categoricals[1..]
        .iter()
        .position(|v| v.name == "borough")
        .unwrap();
    let n_sc = fitted.layout.static_categoricals.len();
    let first = other.batch(&[w.get(0)]);
    assert_eq!(first.static_categoricals[borough], 0);
    let last = w.get(w.len() - 1);
    assert_eq!(
        other.batch(&[last]).static_categoricals,
        ds.batch(&[last]).static_categoricals
    );
    assert_eq!(first.static_categoricals.len(), n_sc);

    // Other series (a zone left out) are refused, naming the series.
    let fewer = fusecast_data::Panel::new(
        prep.panel.grid,
        &prep.panel.target_name,
        prep.panel.series[1..].to_vec(),
        prep.panel.target[prep.panel.len()..].to_vec(),
    )
    .unwrap();
    let err = WindowDataset::from_fitted(&fewer, &fitted)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("series 1") && err.contains(&prep.panel.series[1]),
        "{err}"
    );
}

#[test]
fn observed_categoricals_cannot_enter_the_layout() {
    use fusecast_data::panel::{Covariate, CovariateKind, CovariateValues, Role};
    let mut prep = prepared();
    let len = prep.panel.len();
    prep.panel.covariates.push(Covariate {
        name: "incident".into(),
        role: Role::Observed,
        kind: CovariateKind::Categorical { cardinality: 2 },
        values: CovariateValues::Shared(vec![0.0; len]),
    });
    let err = fusecast_data::window::FeatureLayout::fit(&prep.panel)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("incident") && err.contains("observed"),
        "{err}"
    );
}

#[test]
fn forecasting_datasets_keep_each_series_scale_whatever_the_order_and_start() {
    let prep = prepared();
    let ds = dataset(&prep.panel);
    let fitted = ds.fitted();
    let p = &prep.panel;
    // Two series, reversed, from period 5 on: each window equals the training dataset's.
    let keep = [2usize, 0];
    let picked = p.select_series(&keep).unwrap();
    let late = picked.periods(5, picked.len()).unwrap();
    let (f, unknown) = WindowDataset::for_forecast(&late, &fitted).unwrap();
    assert!(unknown.is_empty());
    assert_eq!(
        f.scaler.series,
        vec![ds.scaler.series[2], ds.scaler.series[0]]
    );
    let e = ds.spec.encoder_length;
    for (i, &s) in keep.iter().enumerate() {
        let theirs = ds.batch(&[Window {
            series: s,
            decoder_start: 5 + e,
            encoder_length: e,
        }]);
        let ours = f.batch(&[Window {
            series: i,
            decoder_start: e,
            encoder_length: e,
        }]);
        assert_eq!(ours.static_categoricals, theirs.static_categoricals);
        assert_eq!(ours.static_reals, theirs.static_reals);
        assert_eq!(ours.encoder_reals, theirs.encoder_reals);
        assert_eq!(ours.decoder_reals, theirs.decoder_reals);
        assert_eq!(ours.decoder_categoricals, theirs.decoder_categoricals);
        assert_eq!(ours.target, theirs.target);
    }
    // A batch cut into windows and put back together is the same batch.
    let both = f.batch(&[
        Window {
            series: 0,
            decoder_start: e,
            encoder_length: e,
        },
        Window {
            series: 1,
            decoder_start: e + 3,
            encoder_length: e - 2,
        },
    ]);
    let parts = [both.slice(0, 1), both.slice(1, 2)];
    assert_eq!(parts[1].encoder_lengths, vec![e - 2]);
    assert_eq!(fusecast_data::window::Batch::concat(&parts).unwrap(), both);
    // A series the model never saw is named; a grid off the model's is refused.
    let mut stranger = late.clone();
    stranger.series[1] = "Atlantis".into();
    let err = WindowDataset::for_forecast(&stranger, &fitted)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("\"Atlantis\""), "{err}");
    let mut off = late.clone();
    off.grid.start += 3600;
    let err = WindowDataset::for_forecast(&off, &fitted)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("off the model's"), "{err}");
}
