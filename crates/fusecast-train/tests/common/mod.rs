//! The small prepared panel, windows and model size the training tests share.
#![allow(dead_code)]

use fusecast_data::config::{ClusterMethod, ClustersConfig, DataConfig, FeaturesConfig};
use fusecast_data::prepare::{prepare, Prepared};
use fusecast_data::scale::TargetTransform;
use fusecast_data::synth::SynthConfig;
use fusecast_data::time::Day;
use fusecast_data::window::{TimeSplit, WindowDataset, WindowSpec};
use fusecast_model::burn::module::{Module, ModuleVisitor, Param};
use fusecast_model::burn::tensor::Tensor;
use fusecast_model::TftConfig;

pub fn prepared() -> Prepared {
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

pub fn dataset(p: &Prepared) -> WindowDataset<'_> {
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

pub fn hyper() -> TftConfig {
    TftConfig {
        hidden_size: 16,
        attention_heads: 2,
        hidden_continuous_size: 8,
        ..TftConfig::default()
    }
}

/// Every parameter value of a module, in visiting order.
pub fn parameters<M: Module>(m: &M) -> Vec<f32> {
    struct Collect(Vec<f32>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0
                .extend(param.val().into_data().try_to_vec::<f32>().unwrap());
        }
    }
    let mut c = Collect(Vec::new());
    m.visit(&mut c);
    c.0
}

/// `train` with the tests' model size and no callbacks.
pub fn train_plain(
    ds: &WindowDataset,
    cfg: &fusecast_train::trainer::TrainConfig,
    ck: Option<&fusecast_train::checkpoint::Checkpointing>,
) -> Result<fusecast_train::trainer::Trained, fusecast_train::trainer::TrainError> {
    fusecast_train::trainer::train(ds, &hyper(), cfg, ck, |_, _| {}, |_, _| {})
}

/// Checkpoints in `root/name`, keeping the last `keep_last`.
pub fn checkpointing(
    root: &std::path::Path,
    name: &str,
    keep_last: usize,
    resume: bool,
) -> fusecast_train::checkpoint::Checkpointing {
    fusecast_train::checkpoint::Checkpointing {
        dir: root.join(name),
        best_dir: root.join(name).join("best"),
        best_files: Vec::new(),
        keep_last,
        resume,
    }
}

/// Trains until step `at` reports, then dies there: the panic stands in for SIGKILL (nothing after
/// it runs, the checkpoints on disk are what a killed process leaves).
pub fn train_killed_at(
    ds: &WindowDataset,
    cfg: &fusecast_train::trainer::TrainConfig,
    ck: &fusecast_train::checkpoint::Checkpointing,
    at: usize,
) {
    let killed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        fusecast_train::trainer::train(
            ds,
            &hyper(),
            cfg,
            Some(ck),
            |_, _| {},
            |step, _| {
                if step == at {
                    panic!("killed at step {at}");
                }
            },
        )
    }));
    assert!(killed.is_err(), "the run finished before step {at}");
}

/// Same epochs, steps and learning rates; losses equal up to the ulp that epochs restored from
/// state.json's float text may carry.
pub fn assert_same_curve(
    a: &[fusecast_train::trainer::EpochMetrics],
    b: &[fusecast_train::trainer::EpochMetrics],
) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert_eq!((x.epoch, x.step, x.lr), (y.epoch, y.step, y.lr));
        for (u, v) in [(x.train_loss, y.train_loss), (x.val_loss, y.val_loss)] {
            assert!(
                (u - v).abs() <= 1e-12 * v.abs(),
                "epoch {}: {u} vs {v}",
                x.epoch
            );
        }
    }
}
