//! Per-series algorithm selection (the reference work's Ray Tune grid over algorithm x series):
//! each series gets the model with the lowest mean absolute error over validation windows that end
//! before the evaluation's first cutoff, so the choice never sees the data it is scored on.

use std::io::Write;
use std::path::Path;

use fusecast_data::csvline::quote;
use fusecast_data::{Forecast, ForecastRow, Panel, RowNote};

use crate::runner::ModelRun;

/// The choice for one series and the validation MAE of every candidate (NaN: no forecast).
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub series: usize,
    pub chosen: String,
    pub scores: Vec<(String, f64)>,
}

/// Validation MAE of every model on every series; the lowest wins, ties go to the model listed
/// first (the simpler one, in the config's usual order).
pub fn choose(panel: &Panel, validation: &[ModelRun]) -> Vec<Choice> {
    // One pass over each model's rows: (sum of |error|, points) per series.
    let maes: Vec<Vec<f64>> = validation
        .iter()
        .map(|run| {
            let mut sums = vec![(0.0, 0usize); panel.n_series()];
            for row in &run.forecast.rows {
                let y = panel.values(row.series);
                let (sum, n) = &mut sums[row.series];
                for (i, f) in row.mean.iter().enumerate() {
                    *sum += (y[row.cutoff + 1 + i] - f).abs();
                    *n += 1;
                }
            }
            sums.into_iter()
                .map(|(sum, n)| if n > 0 { sum / n as f64 } else { f64::NAN })
                .collect()
        })
        .collect();
    (0..panel.n_series())
        .map(|s| {
            let scores: Vec<(String, f64)> = validation
                .iter()
                .zip(&maes)
                .map(|(run, mae)| (run.label.clone(), mae[s]))
                .collect();
            let chosen = scores
                .iter()
                .filter(|(_, v)| v.is_finite())
                .fold(None::<&(String, f64)>, |best, c| match best {
                    Some(b) if b.1 <= c.1 => Some(b),
                    _ => Some(c),
                })
                .or(scores.first())
                .map(|c| c.0.clone())
                .unwrap_or_default();
            Choice {
                series: s,
                chosen,
                scores,
            }
        })
        .collect()
}

/// The "Selected" model: for each series, the rows of its chosen model, noted as
/// [`RowNoteKind::Selected`](fusecast_data::RowNoteKind::Selected); a row that already had a note
/// (a fallback, say) keeps its kind, and its reason names the chosen model.
pub fn selected_forecast(choices: &[Choice], runs: &[ModelRun]) -> Option<Forecast> {
    let first = runs.first()?;
    let mut out = Forecast::new(
        fusecast_data::forecast::SELECTED,
        first.forecast.horizon,
        &first.forecast.levels,
    );
    let chosen: Vec<&str> = choices.iter().map(|c| c.chosen.as_str()).collect();
    for run in runs {
        for row in &run.forecast.rows {
            if chosen.get(row.series) != Some(&run.label.as_str()) {
                continue;
            }
            let note = Some(match &row.note {
                Some(n) if n.reason.is_empty() => {
                    RowNote::new(n.kind.clone(), format!("selected {}", run.label))
                }
                Some(n) => RowNote::new(
                    n.kind.clone(),
                    format!("selected {}; {}", run.label, n.reason),
                ),
                None => RowNote::selected(&run.label),
            });
            out.push(ForecastRow {
                note,
                ..row.clone()
            })
            .ok()?;
        }
    }
    out.rows.sort_by_key(|r| (r.series, r.cutoff));
    Some(out)
}

/// `series_id,chosen,<model>_mae...`: the choice table.
pub fn write_choices(panel: &Panel, choices: &[Choice], path: &Path) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let labels: Vec<String> = choices
        .first()
        .map(|c| {
            c.scores
                .iter()
                .map(|(l, _)| quote(&format!("{l}_mae")))
                .collect()
        })
        .unwrap_or_default();
    writeln!(out, "series_id,chosen,{}", labels.join(","))?;
    for c in choices {
        let scores: Vec<String> = c.scores.iter().map(|(_, v)| v.to_string()).collect();
        let (id, chosen) = (quote(&panel.series[c.series]), quote(&c.chosen));
        writeln!(out, "{id},{chosen},{}", scores.join(","))?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{run_model, RunOptions};
    use crate::ModelSpec;
    use fusecast_data::time::{date_seconds, Day, Frequency, TimeGrid};

    #[test]
    fn each_series_gets_the_model_that_forecast_its_validation_windows_best() {
        // Series 0 repeats a weekly pattern (seasonal naive is exact); series 1 is a slow random
        // walk with a flat level (naive beats a week-old value).
        let weekly: Vec<f64> = (0..60)
            .map(|t| [5.0, 9.0, 7.0, 8.0, 9.0, 3.0, 1.0][t % 7])
            .collect();
        let walk: Vec<f64> = (0..60)
            .map(|t| 100.0 + (t as f64 * 0.7).sin() * 0.1 + t as f64 * 2.0)
            .collect();
        let grid = TimeGrid {
            start: date_seconds(Day::ymd(2024, 1, 1).0),
            frequency: Frequency::Daily,
            len: 60,
        };
        let panel = Panel::new(
            grid,
            "y",
            vec!["a".into(), "b".into()],
            [weekly, walk].concat(),
        )
        .unwrap();
        let opts = RunOptions {
            horizon: 7,
            levels: vec![0.1, 0.9],
            fit_budget: None,
            non_negative: true,
            period: 7,
            seasonal_periods: vec![7],
            holidays: vec![],
        };
        let specs = [ModelSpec::Naive, ModelSpec::SeasonalNaive];
        let val: Vec<_> = specs
            .iter()
            .map(|s| run_model(&panel, s, &[38, 45], &opts, &|| {}))
            .collect();
        let choices = choose(&panel, &val);
        assert_eq!(choices[0].chosen, "SeasonalNaive");
        assert_eq!(choices[0].scores[1].1, 0.0);
        assert_eq!(choices[1].chosen, "Naive");

        let test: Vec<_> = specs
            .iter()
            .map(|s| run_model(&panel, s, &[52], &opts, &|| {}))
            .collect();
        let sel = selected_forecast(&choices, &test).unwrap();
        assert_eq!(sel.rows.len(), 2);
        assert_eq!(sel.rows[0].mean, test[1].forecast.rows[0].mean);
        assert_eq!(sel.rows[1].mean, test[0].forecast.rows[1].mean);
        assert_eq!(sel.rows[1].note, Some(RowNote::selected("Naive")));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("choices.csv");
        write_choices(&panel, &choices, &path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("series_id,chosen,Naive_mae,SeasonalNaive_mae\na,SeasonalNaive,"),
            "{text}"
        );
    }
}
