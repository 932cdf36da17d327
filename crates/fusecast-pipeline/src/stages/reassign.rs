//! `clusters.method = "reassign"`: iterative reassignment of series to the cluster model that
//! forecasts them best (Lopez-Oriona, Montero-Manso and Vilar 2025). From the k-means
//! assignment: fit one global TFT per cluster (`clusters.reassign_epochs` epochs, the `[train]`
//! settings otherwise), score every model on every series' validation windows (the quantile loss
//! with the series' own target scale, so the models compare on one scale), move each series to
//! its best model, and again, `clusters.iterations` times or until no series moves. A cluster
//! no series chooses disappears (k can shrink).

use fusecast_data::cluster::from_assignment;
use fusecast_data::prepare::{with_clustering, Prepared};
use fusecast_data::scale::TargetScaler;
use fusecast_data::window::{Part, TimeSplit, WindowDataset};
use fusecast_model::burn::module::Module;
use fusecast_model::burn::tensor::Device;
use fusecast_model::loss::quantile_loss;
use fusecast_train::inputs::{tft_input, tft_target};
use fusecast_train::trainer::TrainConfig;

use crate::config::LoadedConfig;
use crate::error::Result;
use crate::events::{Event, Sink};
use crate::stages::train::dataset_and_model;

/// Per series, the validation loss of a model trained on `trained_on` (its layout and input
/// scales), each series scaled by its own training part.
fn losses_per_series(
    model: &fusecast_model::Tft,
    trained_on: &WindowDataset,
    panel: &fusecast_data::Panel,
    split: TimeSplit,
) -> Result<Vec<f64>> {
    let ds = WindowDataset {
        panel,
        spec: trained_on.spec,
        split,
        scaler: TargetScaler {
            normalizer: trained_on.scaler.normalizer,
            ..TargetScaler::fit(panel, trained_on.scaler.transform, split.train_end)?
        },
        layout: trained_on.layout.clone(),
        covariate_scales: trained_on.covariate_scales.clone(),
        static_real_scales: trained_on.static_real_scales.clone(),
        left_out: WindowDataset::without_training_windows(panel, trained_on.spec, split)?,
    };
    let windows = ds.windows(Part::Validation)?;
    let device = Device::flex();
    let quantiles = &model.config().quantiles;
    (0..panel.n_series())
        .map(|s| {
            let ws: Vec<_> = windows.of_series(s).map(|i| windows.get(i)).collect();
            // No validation window (a ragged series): no evidence for any model.
            if ws.is_empty() {
                return Ok(f64::NAN);
            }
            let batch = ds.batch(&ws);
            let out = model.forward(tft_input(&batch, &ds.layout, &device));
            let loss: f32 =
                quantile_loss(out.prediction, tft_target(&batch, &device), quantiles).into_scalar();
            Ok(loss as f64)
        })
        .collect()
}

/// Refines the k-means assignment of `prepared` by reassignment, then applies
/// `clusters.select`.
pub fn reassign(loaded: &LoadedConfig, prepared: Prepared, sink: &dyn Sink) -> Result<Prepared> {
    let c = &loaded.config;
    let train = TrainConfig {
        max_epochs: c.clusters.reassign_epochs.max(1),
        checkpoint_every_steps: None,
        ..c.train.clone()
    };
    let w = &c.windows;
    let split = TimeSplit::from_tail(prepared.panel.len(), w.validation_periods, w.test_periods)?;
    let mut assignment = prepared.clustering.assignment.clone();
    for iteration in 1..=c.clusters.iterations {
        let mut clusters: Vec<usize> = assignment.clone();
        clusters.sort_unstable();
        clusters.dedup();
        let k = clusters.len();
        let current = with_clustering(
            prepared.clone(),
            Some(from_assignment(
                &prepared.panel,
                assignment.clone(),
                k,
                "reassign",
            )),
            None,
        )?;
        let mut losses: Vec<Vec<f64>> = Vec::new();
        for &j in &clusters {
            let own = with_clustering(current.clone(), None, Some(j))?;
            let (ds, _) = dataset_and_model(c, &own.panel)?;
            let trained =
                fusecast_train::trainer::train(&ds, &c.model, &train, None, |_, _| {}, |_, _| {})?;
            losses.push(losses_per_series(
                &trained.model.valid(),
                &ds,
                &current.panel,
                split,
            )?);
        }
        let chosen: Vec<usize> = (0..assignment.len())
            .map(|s| {
                if losses.iter().all(|l| l[s].is_nan()) {
                    // It stays with the model of its current cluster.
                    return clusters
                        .iter()
                        .position(|c| *c == assignment[s])
                        .expect("clusters lists every assigned cluster");
                }
                (0..k)
                    .filter(|m| !losses[*m][s].is_nan())
                    .min_by(|a, b| losses[*a][s].total_cmp(&losses[*b][s]))
                    .expect("one loss is a number")
            })
            .collect();
        // Clusters numbered 0.. in order of the models that kept series.
        let mut kept: Vec<usize> = chosen.clone();
        kept.sort_unstable();
        kept.dedup();
        let next: Vec<usize> = chosen
            .iter()
            .map(|m| kept.iter().position(|x| x == m).expect("kept"))
            .collect();
        let moved = next.iter().zip(&assignment).filter(|(a, b)| a != b).count();
        sink.emit(Event::Note {
            message: format!(
                "reassign: round {iteration}: {moved} of {} series moved, {} clusters",
                next.len(),
                kept.len()
            ),
        });
        let done = moved == 0;
        assignment = next;
        if done {
            break;
        }
    }
    let k = assignment.iter().max().map_or(1, |m| m + 1);
    let clustering = from_assignment(&prepared.panel, assignment, k, "reassign");
    Ok(with_clustering(
        prepared,
        Some(clustering),
        c.clusters.select,
    )?)
}
