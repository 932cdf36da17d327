//! The data stage end to end: config -> validated Panel with covariates, statics and clusters.

use std::path::Path;

use chrono::Datelike;

use crate::calendar::{CalendarSpec, HolidayCalendar};
use crate::cluster::{self, Clustering};
use crate::config::{
    ClusterMethod, ClustersConfig, DataConfig, FeaturesConfig, LocationKind, SourceKind,
};
use crate::error::{DataError, Result};
use crate::files;
use crate::panel::Panel;
use crate::synth;
use crate::table::{self, TableOptions};
use crate::time;
use crate::trips::{self, IngestReport, SeriesKeys, TripOptions};
use crate::weather::WeatherTable;
use crate::zones::ZoneLookup;

/// The prepared data and what happened on the way, for reports and the run directory.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub panel: Panel,
    pub ingest: Option<IngestReport>,
    pub clustering: Clustering,
    /// Weather values filled from a neighbouring period.
    pub weather_filled: usize,
}

pub fn timezone(cfg: &DataConfig) -> Result<chrono_tz::Tz> {
    time::parse_timezone(&cfg.timezone).ok_or_else(|| {
        DataError::config(
            "data.timezone",
            format!("unknown time zone {:?}", cfg.timezone),
        )
    })
}

/// Reads (or generates) the series named by `data`, relative paths resolved against `base`.
pub fn load_panel(
    data: &DataConfig,
    features: &FeaturesConfig,
    base: &Path,
) -> Result<(Panel, Option<IngestReport>)> {
    let tz = timezone(data)?;
    match data.source {
        SourceKind::Synthetic => {
            let mut cfg = data.synthetic.clone();
            cfg.frequency = data.frequency;
            if let Some(s) = data.start {
                cfg.start = s;
            }
            if let Some(e) = data.end {
                cfg.end = e;
            }
            let mut panel = synth::generate(&cfg)?;
            keep_statics(&mut panel, &features.statics, "features.static")?;
            Ok((panel, None))
        }
        SourceKind::Trips => {
            let lookup = match &data.zone_lookup {
                Some(p) => ZoneLookup::from_csv(&base.join(p))?,
                None => ZoneLookup::builtin(),
            };
            let keys = match data.location_kind {
                LocationKind::Zone => SeriesKeys::Zones {
                    lookup: lookup.clone(),
                    only: data.zones.clone(),
                    unknown: data.unknown_zones,
                },
                LocationKind::Label => SeriesKeys::Labels {
                    only: data.labels.clone(),
                },
            };
            let opts = TripOptions {
                files: files::expand(&data.paths, base)?,
                timestamp_column: data.timestamp_column.clone(),
                location_column: data.location_column.clone(),
                value_column: data.value_column.clone(),
                frequency: data.frequency,
                start: data.start.map(|d| d.0),
                end: data.end.map(|d| d.0),
                keys,
                timezone: tz,
            };
            let agg = trips::aggregate(&opts)?;
            let target = if data.value_column.is_some() {
                data.value_column.clone().unwrap_or_default()
            } else {
                "pickups".into()
            };
            let mut panel = Panel::new(agg.grid, &target, agg.keys.clone(), agg.values.concat())?;
            if let Some(ids) = &agg.zone_ids {
                let zone = |id: &u32| lookup.get(*id).expect("series come from the lookup");
                for name in &features.statics {
                    let values = match name.as_str() {
                        "borough" => ids.iter().map(|i| zone(i).borough.clone()).collect(),
                        "service_zone" => {
                            ids.iter().map(|i| zone(i).service_zone.clone()).collect()
                        }
                        "zone" => ids.iter().map(|i| zone(i).name.clone()).collect(),
                        other => {
                            return Err(DataError::config(
                                "features.static",
                                format!(
                                "{other:?} is not a zone attribute (borough, service_zone, zone)"
                            ),
                            ))
                        }
                    };
                    panel.set_static(name, values)?;
                }
            } else if !features.statics.is_empty()
                && features.statics != FeaturesConfig::default().statics
            {
                return Err(DataError::config(
                    "features.static",
                    "label series have no attributes; remove features.static",
                ));
            }
            Ok((panel, Some(agg.report)))
        }
        SourceKind::Table => {
            let opts = TableOptions {
                files: files::expand(&data.paths, base)?,
                series_column: data.series_column.clone(),
                timestamp_column: data
                    .timestamp_column
                    .clone()
                    .unwrap_or_else(|| "timestamp".into()),
                target_column: data.target_column.clone(),
                known_reals: features.known_reals.clone(),
                observed_reals: features.observed_reals.clone(),
                static_columns: if features.statics == FeaturesConfig::default().statics {
                    Vec::new()
                } else {
                    features.statics.clone()
                },
                frequency: data.frequency,
                start: data.start.map(|d| d.0),
                end: data.end.map(|d| d.0),
                fill_missing: data.fill_missing,
                allow_negative: data.allow_negative,
                timezone: tz,
            };
            Ok((table::read_table(&opts)?, None))
        }
    }
}

fn keep_statics(panel: &mut Panel, keep: &[String], key: &str) -> Result<()> {
    for name in keep {
        if panel.static_values(name).is_none() {
            let have: Vec<_> = panel.statics.iter().map(|s| s.name.as_str()).collect();
            return Err(DataError::config(
                key,
                format!(
                    "{name:?} is not an attribute of these series (have: {})",
                    have.join(", ")
                ),
            ));
        }
    }
    panel.statics.retain(|s| keep.contains(&s.name));
    Ok(())
}

/// The configured holidays over the grid's years and `extra_years` after them (forecasts run past
/// the data).
pub fn holiday_calendar(
    features: &FeaturesConfig,
    grid: &time::TimeGrid,
    extra_years: i32,
) -> HolidayCalendar {
    CalendarSpec::of(features).holidays(
        grid.first_day().year(),
        grid.last_day().year() + extra_years,
    )
}

/// Adds calendar and weather covariates.
pub fn add_features(
    panel: &mut Panel,
    features: &FeaturesConfig,
    base: &Path,
    tz: chrono_tz::Tz,
) -> Result<usize> {
    if features.calendar {
        for c in CalendarSpec::of(features).covariates(&panel.grid) {
            panel.add_covariate(c)?;
        }
    } else if !features.extra_holidays.is_empty() {
        return Err(DataError::config(
            "features.extra_holidays",
            "needs features.calendar = true",
        ));
    }
    let Some(source) = &features.weather else {
        return Ok(0);
    };
    let table = if source == "central_park" {
        WeatherTable::central_park()
    } else {
        WeatherTable::from_csv(
            &base.join(source),
            features.weather_time_column.as_deref(),
            &features.weather_variables,
            tz,
        )?
    };
    let on_grid = table.on_grid(&panel.grid)?;
    let filled = on_grid.filled;
    for c in on_grid.covariates() {
        panel.add_covariate(c)?;
    }
    Ok(filled)
}

pub fn cluster(panel: &Panel, cfg: &ClustersConfig, base: &Path) -> Result<Clustering> {
    match cfg.method {
        ClusterMethod::None => Ok(cluster::single(panel)),
        // The starting point of reassignment; the pipeline refines it by training.
        ClusterMethod::KmeansProfile | ClusterMethod::Reassign => {
            cluster::cluster_panel(panel, cfg.profile, cfg.k, cfg.seed)
        }
        ClusterMethod::Random => cluster::random(panel, cfg.k, cfg.seed),
        ClusterMethod::File => {
            let path = cfg.path.as_ref().ok_or_else(|| {
                DataError::config("clusters.path", "method = \"file\" needs a path")
            })?;
            cluster::assignments_from_csv(&base.join(path), panel)
        }
    }
}

/// The whole data stage.
pub fn prepare(
    data: &DataConfig,
    features: &FeaturesConfig,
    clusters: &ClustersConfig,
    base: &Path,
) -> Result<Prepared> {
    let (mut panel, ingest) = load_panel(data, features, base)?;
    let weather_filled = add_features(&mut panel, features, base, timezone(data)?)?;
    let clustering = cluster(&panel, clusters, base)?;
    let select = match clusters.method {
        // Selected after the pipeline has reassigned the series.
        ClusterMethod::Reassign => None,
        _ => clusters.select,
    };
    with_clustering(
        Prepared {
            panel,
            ingest,
            clustering,
            weather_filled,
        },
        None,
        select,
    )
}

/// The prepared data with `clustering` (when given) as its assignment and `cluster` static,
/// and only cluster `select`'s series when given.
pub fn with_clustering(
    mut prepared: Prepared,
    clustering: Option<Clustering>,
    select: Option<usize>,
) -> Result<Prepared> {
    if let Some(c) = clustering {
        prepared.clustering = c;
    }
    prepared.panel.set_static(
        "cluster",
        prepared
            .clustering
            .assignment
            .iter()
            .map(|c| c.to_string())
            .collect(),
    )?;
    prepared.panel.validate()?;
    if let Some(c) = select {
        let (panel, clustering) = select_cluster(prepared.panel, prepared.clustering, c)?;
        (prepared.panel, prepared.clustering) = (panel, clustering);
    }
    Ok(prepared)
}

/// The series of cluster `c` alone, with their assignment.
fn select_cluster(panel: Panel, clustering: Clustering, c: usize) -> Result<(Panel, Clustering)> {
    if c >= clustering.k {
        return Err(DataError::config(
            "clusters.select",
            format!(
                "cluster {c} does not exist: the clustering has k = {} (clusters 0..{})",
                clustering.k, clustering.k
            ),
        ));
    }
    let keep: Vec<usize> = (0..panel.n_series())
        .filter(|s| clustering.assignment[*s] == c)
        .collect();
    if keep.is_empty() {
        return Err(DataError::config(
            "clusters.select",
            format!("cluster {c} has no series"),
        ));
    }
    let panel = panel.select_series(&keep)?;
    let assignment = vec![c; keep.len()];
    Ok((
        panel,
        Clustering {
            assignment,
            ..clustering
        },
    ))
}
