//! The model artifact stands alone: a model loaded from it (with its saved features, no
//! training data) forecasts exactly as the trained model in memory; old or missing artifacts
//! are refused with what to do; the stages report through events, not prints.

use fusecast_model::burn::module::Module;
use fusecast_pipeline::events::{Event, Recorder};
use fusecast_pipeline::stages::{backtest, predict, prepare, train};
use fusecast_pipeline::{Config, Error, LoadedConfig, ModelArtifact, RunDir};
use fusecast_train::trainer::Control;

fn loaded() -> LoadedConfig {
    let text =
        "[data]\nstart = \"2022-01-01\"\nend = \"2022-08-31\"\n[data.synthetic]\nzones = 12\n\
        [features]\nstatic = [\"borough\"]\n[clusters]\nmethod = \"kmeans-profile\"\nk = 2\n\
        [windows]\nencoder_length = 21\nhorizon = 7\nvalidation_periods = 14\ntest_periods = 14\n\
        [model]\nhidden_size = 16\nattention_heads = 2\nhidden_continuous_size = 8\n\
        [train]\nbatch_size = 32\nmax_epochs = 2\nbatches_per_epoch = 3\n";
    LoadedConfig {
        config: Config::parse(text).unwrap(),
        path: "test.toml".into(),
        base: ".".into(),
    }
}

#[test]
fn a_loaded_artifact_forecasts_as_the_model_in_memory() {
    let loaded = loaded();
    let c = &loaded.config;
    let events = Recorder::default();
    let prepared = prepare::prepare(&loaded, &events).unwrap();
    let (ds, _) = train::dataset_and_model(c, &prepared.panel).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = RunDir::new(tmp.path().join("run"));
    let mut epochs_seen = 0;
    let trained = train::train(Some(&dir), c, &ds, false, &events, &mut |_, _| {
        epochs_seen += 1;
        Control::Continue
    })
    .unwrap();
    assert_eq!((epochs_seen, trained.history.len()), (2, 2));
    let recorded = events.events();
    assert!(recorded
        .iter()
        .any(|e| matches!(e, Event::DataReady { series: 12, .. })));
    assert_eq!(
        recorded
            .iter()
            .filter(|e| matches!(e, Event::Epoch(_)))
            .count(),
        2
    );
    assert!(recorded.iter().any(|e| matches!(e, Event::Trained { .. })));

    let cutoffs = backtest::cutoffs(c, &prepared.panel, true).unwrap();
    let in_memory = predict::predict(&trained.model.valid(), None, &ds, &cutoffs, 16).unwrap();

    // Load it from the folder alone: the model config with its variables and the fitted
    // features come from the artifact, none of them from the data stage.
    let (artifact, model) = ModelArtifact::load(&dir.best()).unwrap();
    assert_eq!(artifact, trained.artifact);
    assert_eq!(artifact.model.static_categoricals[0], "series_id");
    let (loaded_ds, unknown) = artifact.dataset(&prepared.panel).unwrap();
    assert!(unknown.is_empty());
    let from_disk = predict::predict(&model, None, &loaded_ds, &cutoffs, 16).unwrap();
    assert_eq!(from_disk.rows.len(), 12 * cutoffs.len());
    assert_eq!(from_disk, in_memory);

    // A fresh data stage with another zone order would shift codes; the artifact refuses it
    // instead, naming the series.
    let mut shuffled = prepared.clone();
    shuffled.panel.series.swap(0, 1);
    let err = artifact.dataset(&shuffled.panel).err().unwrap().to_string();
    assert!(err.contains("series 1"), "{err}");

    // An artifact folder from before artifacts (weights only) is refused, saying how to retrain.
    std::fs::remove_file(dir.best().join("artifact.json")).unwrap();
    match ModelArtifact::load(&dir.best()) {
        Err(Error::Artifact { message, .. }) => {
            assert!(
                message.contains("older fusecast") && message.contains("fusecast run"),
                "{message}"
            )
        }
        other => panic!("expected an artifact error, got {:?}", other.map(|_| ())),
    }
    // And no folder at all.
    assert!(matches!(
        ModelArtifact::load(&tmp.path().join("none")),
        Err(Error::Artifact { .. })
    ));
}
