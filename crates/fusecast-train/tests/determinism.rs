//! The trainer learns and repeats itself exactly. Alone in its test binary: burn draws
//! initial weights and dropout masks from the device's RNG, which tests running in parallel in
//! one process would share.

use fusecast_data::config::{ClusterMethod, ClustersConfig, DataConfig, FeaturesConfig};
use fusecast_data::prepare::{prepare, Prepared};
use fusecast_data::scale::TargetTransform;
use fusecast_data::synth::SynthConfig;
use fusecast_data::time::Day;
use fusecast_data::window::{TimeSplit, WindowDataset, WindowSpec};
use fusecast_model::TftConfig;
use fusecast_train::trainer::{train, TrainConfig};

fn prepared() -> Prepared {
    let data = DataConfig {
        synthetic: SynthConfig {
            zones: 16,
            start: Day::ymd(2023, 1, 1),
            end: Day::ymd(2023, 6, 30),
            ..SynthConfig::default()
        },
        ..DataConfig::default()
    };
    let clusters = ClustersConfig {
        method: ClusterMethod::KmeansProfile,
        k: 2,
        ..ClustersConfig::default()
    };
    prepare(
        &data,
        &FeaturesConfig::default(),
        &clusters,
        std::path::Path::new("."),
    )
    .unwrap()
}

fn dataset(p: &Prepared) -> WindowDataset<'_> {
    let spec = WindowSpec {
        encoder_length: 21,
        min_encoder_length: 21,
        horizon: 7,
        stride: 1,
    };
    WindowDataset::new(
        &p.panel,
        spec,
        TimeSplit::from_tail(p.panel.len(), 14, 7).unwrap(),
        TargetTransform::Log1p,
    )
    .unwrap()
}

fn hyper() -> TftConfig {
    TftConfig {
        hidden_size: 16,
        attention_heads: 2,
        hidden_continuous_size: 8,
        ..TftConfig::default()
    }
}

#[test]
fn learns_and_repeats_itself_exactly() {
    let p = prepared();
    let ds = dataset(&p);
    let cfg = TrainConfig {
        batch_size: 64,
        max_epochs: 3,
        batches_per_epoch: Some(12),
        learning_rate: 1e-2,
        ..TrainConfig::default()
    };
    let run = || train(&ds, &hyper(), &cfg, None, |_, _| {}, |_, _| {}).unwrap();
    let a = run();
    let b = run();
    let curve = |t: &fusecast_train::trainer::Trained| {
        t.history
            .iter()
            .map(|m| (m.train_loss, m.val_loss))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        curve(&a),
        curve(&b),
        "same seed, same data: same loss curve"
    );
    assert_eq!(a.history.len(), 3);
    let first = &a.history[0];
    let last = a.history.last().unwrap();
    assert!(
        last.val_loss < first.val_loss,
        "validation loss {} -> {}",
        first.val_loss,
        last.val_loss
    );
    assert!(
        last.q_risk50 > 0.0 && last.q_risk50 < 0.5,
        "P50 q-Risk {}",
        last.q_risk50
    );
    let c = train(
        &ds,
        &hyper(),
        &TrainConfig {
            seed: 7,
            ..cfg.clone()
        },
        None,
        |_, _| {},
        |_, _| {},
    )
    .unwrap();
    assert_ne!(curve(&a), curve(&c), "another seed, another run");
}
