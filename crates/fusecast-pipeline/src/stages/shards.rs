//! Sharded per-series baselines (`fusecast baselines --shard I/N`, then `--merge`): each shard
//! fits every model on its share of the series (series `s` with `s % N == I`, so shards
//! balance) at the same backtest and selection cutoffs as the whole run, and writes its rows to
//! `baselines/shards/I-of-N/`, its `shard.json` last. The merge takes every shard of one count,
//! checks each is complete and was fitted for this config and data, and puts the rows back in
//! the whole run's order: what it writes to `baselines/` is what one machine writes.

use std::str::FromStr;

use fusecast_baselines::runner::{backtest_pairs, ModelRun};
use fusecast_data::prepare::Prepared;
use fusecast_data::time::format_timestamp;
use fusecast_data::{Forecast, ForecastRow, Panel};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::events::{Event, Sink};
use crate::run_dir::{RunDir, ShardDir};
use crate::stages::backtest::{fit_all, save_fit_lines, Fitted, Plan};

const TEST: &str = "test";
const VALIDATION: &str = "validation";

/// Shard `index` of `count` (0-based): the series `s` with `s % count == index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    pub fn new(index: usize, count: usize) -> std::result::Result<Shard, String> {
        if count == 0 {
            return Err(format!(
                "{index}/{count}: the shard count N must be at least 1"
            ));
        }
        if index >= count {
            return Err(format!(
                "{index}/{count}: the shard index counts from 0, so it must be below {count} (0/{count} to {}/{count})",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }

    /// Whether series `series` (its index in the panel) is this shard's.
    pub fn owns(&self, series: usize) -> bool {
        series % self.count == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// `I/N`, e.g. `0/4` to `3/4`.
impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Shard, String> {
        let (index, count) = s.split_once('/').ok_or_else(|| {
            format!("{s:?} is not I/N (shard I of N, counted from 0: 0/4 to 3/4)")
        })?;
        let number = |v: &str, what: &str| {
            v.trim().parse::<usize>().map_err(|_| {
                format!("{s:?}: the {what} {v:?} is not a whole number (I/N, e.g. 0/4)")
            })
        };
        Shard::new(number(index, "index I")?, number(count, "count N")?)
    }
}

/// What a shard was fitted for; the merge takes only shards fitted for what it would fit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct FittedFor {
    /// [`Panel::fingerprint`] of the data stage's panel.
    fingerprint: String,
    models: Vec<String>,
    cutoffs: Vec<usize>,
    validation_cutoffs: Vec<usize>,
    /// Everything else the fits depend on: the `[baselines]` section, the horizon, the
    /// quantile levels, the seasonal periods, the holidays.
    settings: serde_json::Value,
}

impl FittedFor {
    fn new(c: &Config, panel: &Panel, plan: &Plan) -> FittedFor {
        let o = &plan.opts;
        FittedFor {
            fingerprint: panel.fingerprint(),
            models: plan.labels(),
            cutoffs: plan.cutoffs.clone(),
            validation_cutoffs: plan.validation.clone(),
            settings: serde_json::json!({
                "baselines": c.baselines,
                "windows.horizon": o.horizon,
                "quantile levels": o.levels,
                "non-negative forecasts": o.non_negative,
                "seasonal period": o.period,
                "seasonal periods": o.seasonal_periods,
                "holidays": o.holidays,
            }),
        }
    }
}

/// One model's part of a shard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct ModelPart {
    model: String,
    rows: usize,
    fallbacks: usize,
    wall_s: f64,
}

impl ModelPart {
    fn of(runs: &[ModelRun]) -> Vec<ModelPart> {
        runs.iter()
            .map(|r| ModelPart {
                model: r.label.clone(),
                rows: r.forecast.rows.len(),
                fallbacks: r.fallbacks,
                wall_s: r.wall_seconds,
            })
            .collect()
    }
}

/// `shard.json`: which shard, what it was fitted for, and what it holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Manifest {
    index: usize,
    count: usize,
    fitted_for: FittedFor,
    /// The shard's series.
    series: usize,
    test: Vec<ModelPart>,
    validation: Vec<ModelPart>,
}

/// Fits every model of `plan` on `shard`'s series and writes them to its folder; an earlier
/// run of the same shard is removed first (its `shard.json` before anything else), so until
/// the new `shard.json` is written the shard is not complete.
pub fn write_shard(
    dir: &RunDir,
    c: &Config,
    prepared: &Prepared,
    plan: &Plan,
    shard: Shard,
    sink: &dyn Sink,
) -> Result<ShardDir> {
    let panel = &prepared.panel;
    let folder = dir.baseline_shard(shard.index, shard.count);
    let manifest_path = folder.manifest();
    if manifest_path.exists() {
        std::fs::remove_file(&manifest_path).map_err(|e| Error::io(&manifest_path, e))?;
    }
    if folder.root().exists() {
        std::fs::remove_dir_all(folder.root()).map_err(|e| Error::io(folder.root(), e))?;
    }
    let fitted = fit_all(panel, plan, &|s| shard.owns(s), sink);
    write_part(panel, &folder.forecasts(TEST), &fitted.test)?;
    for (run, lines) in fitted.test.iter().zip(&fitted.fit_lines) {
        save_fit_lines(&folder.fits(&run.label), lines)?;
    }
    if !plan.validation.is_empty() {
        write_part(panel, &folder.forecasts(VALIDATION), &fitted.validation)?;
    }
    let series = (0..panel.n_series()).filter(|&s| shard.owns(s)).count();
    let manifest = Manifest {
        index: shard.index,
        count: shard.count,
        fitted_for: FittedFor::new(c, panel, plan),
        series,
        test: ModelPart::of(&fitted.test),
        validation: ModelPart::of(&fitted.validation),
    };
    let json = serde_json::to_string_pretty(&manifest).expect("the manifest serializes");
    RunDir::write_atomic(&manifest_path, json.as_bytes())?;
    sink.emit(Event::ShardWritten {
        path: folder.root().to_path_buf(),
        index: shard.index,
        count: shard.count,
        series,
        models: plan.specs.len(),
    });
    Ok(folder)
}

fn write_part(panel: &Panel, path: &std::path::Path, runs: &[ModelRun]) -> Result<()> {
    RunDir::create_parent(path)?;
    let tables: Vec<Forecast> = runs.iter().map(|r| r.forecast.clone()).collect();
    Ok(Forecast::write_csv_all(panel, &tables, path)?)
}

/// Every shard of `baselines/shards/` joined into the runs of the whole panel, in the order an
/// unsharded run makes them; a missing, incomplete or mismatching shard is an error naming its
/// folder.
pub fn merge_shards(
    dir: &RunDir,
    c: &Config,
    prepared: &Prepared,
    plan: &Plan,
    sink: &dyn Sink,
) -> Result<Fitted> {
    let panel = &prepared.panel;
    let count = shard_count(dir)?;
    let want = FittedFor::new(c, panel, plan);
    let shards = (0..count)
        .map(|index| {
            let folder = dir.baseline_shard(index, count);
            let manifest = read_manifest(&folder, index, count)?;
            check_fitted_for(&folder, &manifest, &want, panel)?;
            Ok((folder, manifest))
        })
        .collect::<Result<Vec<_>>>()?;
    let labels = plan.labels();
    let h = plan.opts.horizon;
    let (test_pairs, val_pairs) = (
        backtest_pairs(panel, &plan.cutoffs, h),
        backtest_pairs(panel, &plan.validation, h),
    );
    let own = |pairs: &[(usize, usize)], index: usize| -> Vec<(usize, usize)> {
        pairs
            .iter()
            .copied()
            .filter(|&(s, _)| s % count == index)
            .collect()
    };
    // Per shard, per model: the rows (with their fit lines at the backtest cutoffs).
    let mut test: Vec<Vec<Vec<(ForecastRow, String)>>> = Vec::with_capacity(count);
    let mut validation: Vec<Vec<Vec<ForecastRow>>> = Vec::with_capacity(count);
    for (index, (folder, manifest)) in shards.iter().enumerate() {
        let rows = read_part(
            panel,
            folder,
            TEST,
            &manifest.test,
            &labels,
            &own(&test_pairs, index),
        )?;
        let with_fits = rows
            .into_iter()
            .zip(&labels)
            .map(|(rows, label)| {
                let lines = read_fit_lines(panel, folder, label, &rows)?;
                Ok(rows.into_iter().zip(lines).collect())
            })
            .collect::<Result<Vec<_>>>()?;
        test.push(with_fits);
        if !plan.validation.is_empty() {
            let own_val = own(&val_pairs, index);
            let part = &manifest.validation;
            validation.push(read_part(
                panel, folder, VALIDATION, part, &labels, &own_val,
            )?);
        }
    }
    // Wall time of model k: the shards' times added (what one machine would have spent).
    let wall = |k: usize, validation: bool| -> f64 {
        let part = |m: &Manifest| match validation {
            true => m.validation[k].wall_s,
            false => m.test[k].wall_s,
        };
        shards.iter().map(|(_, m)| part(m)).sum()
    };
    let mut fitted = Fitted {
        test: Vec::new(),
        fit_lines: Vec::new(),
        validation: Vec::new(),
    };
    for (k, label) in labels.iter().enumerate() {
        let rows = interleave(&test_pairs, count, test.iter_mut().map(|s| take(&mut s[k])));
        let (rows, lines): (Vec<ForecastRow>, Vec<String>) = rows.into_iter().unzip();
        let run = model_run(label, plan, rows, wall(k, false))?;
        sink.emit(Event::BaselineDone {
            model: label.clone(),
            series: panel.n_series(),
            cutoffs: plan.cutoffs.len(),
            seconds: run.wall_seconds,
            fallbacks: run.fallbacks,
        });
        fitted.test.push(run);
        fitted.fit_lines.push(lines);
        if !plan.validation.is_empty() {
            let rows = interleave(
                &val_pairs,
                count,
                validation.iter_mut().map(|s| take(&mut s[k])),
            );
            let run = model_run(label, plan, rows, wall(k, true))?;
            fitted.validation.push(run);
        }
    }
    sink.emit(Event::ShardsMerged {
        path: dir.baseline_shards(),
        count,
        series: panel.n_series(),
    });
    Ok(fitted)
}

fn take<T>(v: &mut Vec<T>) -> Vec<T> {
    std::mem::take(v)
}

/// The shards' rows, each shard's in its own pairs' order, back in the order of `pairs` (the
/// whole panel's): pair `(s, _)` is the next row of shard `s % count`.
fn interleave<T>(
    pairs: &[(usize, usize)],
    count: usize,
    shards: impl Iterator<Item = Vec<T>>,
) -> Vec<T> {
    let mut rows: Vec<_> = shards.map(Vec::into_iter).collect();
    pairs
        .iter()
        .map(|&(s, _)| {
            rows[s % count]
                .next()
                .expect("each shard's rows are checked to be its pairs")
        })
        .collect()
}

fn model_run(label: &str, plan: &Plan, rows: Vec<ForecastRow>, wall_s: f64) -> Result<ModelRun> {
    let mut forecast = Forecast::new(label, plan.opts.horizon, &plan.opts.levels);
    for row in rows {
        forecast.push(row)?;
    }
    // As the runner counts them, row by row.
    let fallbacks = forecast.rows.iter().filter(|r| r.is_fallback()).count();
    Ok(ModelRun {
        label: label.to_string(),
        forecast,
        fits: Vec::new(),
        fallbacks,
        wall_seconds: wall_s,
    })
}

/// The N of the shard folders (`I-of-N`) in `baselines/shards/`: there must be one.
fn shard_count(dir: &RunDir) -> Result<usize> {
    let root = dir.baseline_shards();
    let none = || {
        Error::Invalid(format!(
            "no shards to merge in {}: run `fusecast baselines CONFIG --shard I/N` for every I from 0 to N-1 first",
            root.display()
        ))
    };
    let entries = match std::fs::read_dir(&root) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(none()),
        Err(e) => return Err(Error::io(&root, e)),
    };
    let mut counts: Vec<usize> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(&root, e))?;
        let name = entry.file_name();
        let shard = name.to_str().and_then(RunDir::shard_of_folder);
        if let (Some((_, n)), true) = (shard, entry.path().is_dir()) {
            counts.push(n);
        }
    }
    counts.sort_unstable();
    counts.dedup();
    match counts[..] {
        [] => Err(none()),
        [n] => Ok(n),
        _ => Err(Error::Invalid(format!(
            "{} holds the shards of {} different runs (I-of-{}): merge one; remove the folders of the others",
            root.display(),
            counts.len(),
            counts
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", I-of-")
        ))),
    }
}

fn read_manifest(folder: &ShardDir, index: usize, count: usize) -> Result<Manifest> {
    if !folder.root().is_dir() {
        return Err(Error::Invalid(format!(
            "shard {index}/{count} is missing: there is no {} (run `fusecast baselines CONFIG --shard {index}/{count}`)",
            folder.root().display()
        )));
    }
    let path = folder.manifest();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::Invalid(format!(
                "shard {index}/{count} is not complete: {} has no shard.json (still running, or stopped before its end); run it again",
                folder.root().display()
            )))
        }
        Err(e) => return Err(Error::io(&path, e)),
    };
    let m: Manifest = serde_json::from_str(&text)
        .map_err(|e| Error::io(&path, format!("not a shard manifest: {e}")))?;
    let parts_ok = |parts: &[ModelPart], expected: usize| {
        parts.len() == expected
            && parts
                .iter()
                .zip(&m.fitted_for.models)
                .all(|(p, model)| &p.model == model)
    };
    let validations = match m.fitted_for.validation_cutoffs.is_empty() {
        true => 0,
        false => m.fitted_for.models.len(),
    };
    if (m.index, m.count) != (index, count)
        || !parts_ok(&m.test, m.fitted_for.models.len())
        || !parts_ok(&m.validation, validations)
    {
        return Err(Error::io(
            &path,
            format!("not the manifest of shard {index}/{count}; run that shard again"),
        ));
    }
    Ok(m)
}

/// The shard must have been fitted for what this config fits, on these data.
fn check_fitted_for(
    folder: &ShardDir,
    m: &Manifest,
    want: &FittedFor,
    panel: &Panel,
) -> Result<()> {
    let have = &m.fitted_for;
    let cutoffs = |c: &[usize]| {
        let days: Vec<String> = c
            .iter()
            .map(|&i| format_timestamp(panel.grid.timestamp(i)))
            .collect();
        format!("[{}]", days.join(", "))
    };
    let differs = if have.fingerprint != want.fingerprint {
        Some(format!(
            "it was fitted on other data (panel fingerprint {} there, {} here)",
            have.fingerprint, want.fingerprint
        ))
    } else if have.models != want.models {
        Some(format!(
            "its models are [{}], this config's [{}]",
            have.models.join(", "),
            want.models.join(", ")
        ))
    } else if have.cutoffs != want.cutoffs {
        Some(format!(
            "its backtest cutoffs are {}, this config's {}",
            cutoffs(&have.cutoffs),
            cutoffs(&want.cutoffs)
        ))
    } else if have.validation_cutoffs != want.validation_cutoffs {
        Some(format!(
            "its selection cutoffs are {}, this config's {}",
            cutoffs(&have.validation_cutoffs),
            cutoffs(&want.validation_cutoffs)
        ))
    } else {
        first_difference("", &have.settings, &want.settings)
            .map(|(key, there, here)| format!("its {key} is {there}, this config's {here}"))
    };
    match differs {
        None => Ok(()),
        Some(what) => Err(Error::Invalid(format!(
            "{} was not fitted for this config and data: {what}; run `fusecast baselines CONFIG --shard {}/{}` again",
            folder.root().display(),
            m.index,
            m.count
        ))),
    }
}

/// The first key (dotted) where two JSON values differ, with both values (shortened).
fn first_difference(
    key: &str,
    a: &serde_json::Value,
    b: &serde_json::Value,
) -> Option<(String, String, String)> {
    if let (Some(a), Some(b)) = (a.as_object(), b.as_object()) {
        let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        return keys.into_iter().find_map(|k| {
            let null = serde_json::Value::Null;
            let key = if key.is_empty() {
                k.clone()
            } else {
                format!("{key}.{k}")
            };
            first_difference(&key, a.get(k).unwrap_or(&null), b.get(k).unwrap_or(&null))
        });
    }
    let short = |v: &serde_json::Value| {
        let s = v.to_string();
        match s.char_indices().nth(60) {
            Some((i, _)) => format!("{}...", &s[..i]),
            None => s,
        }
    };
    (a != b).then(|| (key.to_string(), short(a), short(b)))
}

/// One shard's rows of one part (`test` or `validation`), per model in the plan's order, each
/// checked to be the shard's (series, cutoff) pairs in order.
fn read_part(
    panel: &Panel,
    folder: &ShardDir,
    part: &str,
    parts: &[ModelPart],
    labels: &[String],
    pairs: &[(usize, usize)],
) -> Result<Vec<Vec<ForecastRow>>> {
    let path = folder.forecasts(part);
    // A shard without rows (more shards than series with windows) has a header-only file.
    let mut tables = match parts.iter().any(|p| p.rows > 0) {
        true => Forecast::read_csv(panel, &path)?,
        false => Vec::new(),
    };
    labels
        .iter()
        .zip(parts)
        .map(|(label, p)| {
            let rows = tables
                .iter_mut()
                .find(|t| &t.model == label)
                .map(|t| take(&mut t.rows))
                .unwrap_or_default();
            let have: Vec<(usize, usize)> = rows.iter().map(|r| (r.series, r.cutoff)).collect();
            if rows.len() != p.rows || have != pairs {
                return Err(damaged(
                    &path,
                    format!(
                        "its {label} rows are not the shard's series at the configured cutoffs ({} rows, {} expected)",
                        rows.len(),
                        pairs.len()
                    ),
                ));
            }
            Ok(rows)
        })
        .collect()
}

/// A model's fit lines of one shard, one per row and of the same series and cutoff.
fn read_fit_lines(
    panel: &Panel,
    folder: &ShardDir,
    label: &str,
    rows: &[ForecastRow],
) -> Result<Vec<String>> {
    let path = folder.fits(label);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    if lines.len() != rows.len() {
        return Err(damaged(
            &path,
            format!("{} fits for {} forecasts", lines.len(), rows.len()),
        ));
    }
    for (n, (line, row)) in lines.iter().zip(rows).enumerate() {
        let fit: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| damaged(&path, format!("line {}: {e}", n + 1)))?;
        if fit["series_id"] != panel.series[row.series].as_str() || fit["cutoff"] != row.cutoff {
            return Err(damaged(
                &path,
                format!("line {} is not the fit of its forecast", n + 1),
            ));
        }
    }
    Ok(lines)
}

fn damaged(path: &std::path::Path, what: String) -> Error {
    Error::io(path, format!("{what}; run that shard again"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_from_i_of_n_and_mistakes_are_named() {
        assert_eq!("0/2".parse(), Ok(Shard { index: 0, count: 2 }));
        assert_eq!(" 3 / 4 ".parse(), Ok(Shard { index: 3, count: 4 }));
        let err = |s: &str| s.parse::<Shard>().unwrap_err();
        assert!(
            err("2/2").contains("below 2 (0/2 to 1/2)"),
            "{}",
            err("2/2")
        );
        assert!(err("0/0").contains("at least 1"), "{}", err("0/0"));
        assert!(err("x").contains("\"x\" is not I/N"), "{}", err("x"));
        assert!(err("a/3").contains("index I \"a\""), "{}", err("a/3"));
        assert!(err("1/-3").contains("count N \"-3\""), "{}", err("1/-3"));
        let shard = Shard::new(1, 3).unwrap();
        let owned: Vec<usize> = (0..8).filter(|&s| shard.owns(s)).collect();
        assert_eq!(owned, [1, 4, 7]);
        assert_eq!(shard.to_string(), "1/3");
        assert_eq!(RunDir::shard_of_folder("1-of-3"), Some((1, 3)));
        assert_eq!(RunDir::shard_of_folder("1-of-3.tmp"), None);
        assert_eq!(RunDir::shard_of_folder("+1-of-3"), None);
    }

    #[test]
    fn interleaving_restores_the_whole_order() {
        let pairs: Vec<(usize, usize)> = [0, 1, 2, 3, 4]
            .iter()
            .flat_map(|&s| [(s, 10), (s, 20)])
            .filter(|&p| p != (3, 20))
            .collect();
        let shards = (0..2).map(|i| {
            pairs
                .iter()
                .copied()
                .filter(|&(s, _)| s % 2 == i)
                .collect::<Vec<_>>()
        });
        assert_eq!(interleave(&pairs, 2, shards), pairs);
    }

    #[test]
    fn the_first_differing_setting_is_named() {
        let a = serde_json::json!({"baselines": {"fit_budget_s": 30.0, "models": ["ets"]}, "h": 7});
        let b = serde_json::json!({"baselines": {"fit_budget_s": 0.0, "models": ["ets"]}, "h": 7});
        assert_eq!(
            first_difference("", &a, &b),
            Some(("baselines.fit_budget_s".into(), "30.0".into(), "0.0".into()))
        );
        assert_eq!(first_difference("", &a, &a), None);
    }
}
