//! `clusters.method = "reassign"`: series end in the cluster whose model forecasts them best;
//! the result is a valid, reproducible assignment, carried into the `cluster` static and into
//! `clusters.select`.

use fusecast_pipeline::events::{Event, Recorder};
use fusecast_pipeline::stages::prepare::prepare;
use fusecast_pipeline::{Config, LoadedConfig};

fn loaded(select: Option<usize>) -> LoadedConfig {
    let text = format!(
        "[data]\nstart = \"2022-01-01\"\nend = \"2022-06-30\"\n[data.synthetic]\nzones = 10\n\
         [clusters]\nmethod = \"reassign\"\nk = 2\niterations = 2\nreassign_epochs = 1\n{}\
         [windows]\nencoder_length = 14\nhorizon = 7\nvalidation_periods = 14\ntest_periods = 14\n\
         [model]\nhidden_size = 8\nattention_heads = 2\nhidden_continuous_size = 4\n\
         [train]\nbatch_size = 32\nbatches_per_epoch = 3\n",
        select.map_or(String::new(), |s| format!("select = {s}\n"))
    );
    LoadedConfig {
        config: Config::parse(&text).unwrap(),
        path: "r.toml".into(),
        base: ".".into(),
    }
}

#[test]
fn reassignment_gives_a_valid_reproducible_assignment() {
    let events = Recorder::default();
    let a = prepare(&loaded(None), &events).unwrap();
    let b = prepare(&loaded(None), &Recorder::default()).unwrap();
    assert_eq!(
        a.clustering.assignment, b.clustering.assignment,
        "reproducible"
    );
    assert_eq!(a.clustering.report.method, "reassign");
    let k = a.clustering.k;
    assert!((1..=2).contains(&k));
    for c in 0..k {
        assert!(a.clustering.assignment.contains(&c), "cluster {c} is empty");
    }
    let statics = a.panel.static_values("cluster").unwrap();
    for (s, c) in statics.iter().zip(&a.clustering.assignment) {
        assert_eq!(s, &c.to_string());
    }
    let rounds = events
        .events()
        .iter()
        .filter(|e| matches!(e, Event::Note { message } if message.starts_with("reassign: round")))
        .count();
    assert!((1..=2).contains(&rounds), "{rounds} rounds");
    // select keeps that cluster's series, as reassigned.
    let only = prepare(&loaded(Some(0)), &Recorder::default()).unwrap();
    let expected: Vec<&String> = a
        .panel
        .series
        .iter()
        .zip(&a.clustering.assignment)
        .filter(|(_, c)| **c == 0)
        .map(|(s, _)| s)
        .collect();
    assert_eq!(only.panel.series.iter().collect::<Vec<_>>(), expected);
}
