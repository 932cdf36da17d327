//! The data-stage sections of the TOML config. Unknown keys are errors (`deny_unknown_fields`);
//! every default is written out when the resolved config is saved in a run directory.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::cluster::ProfileKind;
use crate::scale::{TargetNormalizer, TargetTransform};
use crate::synth::SynthConfig;
use crate::table::FillMissing;
use crate::time::{Day, Frequency};
use crate::trips::UnknownZones;
use crate::untaught::UntaughtInputs;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// The built-in synthetic taxi city.
    #[default]
    Synthetic,
    /// Trip records (TLC files, or any event table with a time and a location column).
    Trips,
    /// A long table: series id, timestamp, target, covariates.
    Table,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationKind {
    /// Integer TLC LocationIDs, checked against the zone lookup.
    #[default]
    Zone,
    /// Any label (airport code, store id).
    Label,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataConfig {
    pub source: SourceKind,
    /// Files, folders (searched recursively) or globs, relative to the config file.
    pub paths: Vec<String>,
    pub frequency: Frequency,
    /// First and last day, inclusive.
    pub start: Option<Day>,
    pub end: Option<Day>,
    /// Keep only these zones (trips with `location_kind = "zone"`).
    pub zones: Option<Vec<u32>>,
    /// Keep only these labels (trips with `location_kind = "label"`).
    pub labels: Option<Vec<String>>,
    /// A zone lookup CSV other than the built-in TLC one.
    pub zone_lookup: Option<PathBuf>,
    pub timestamp_column: Option<String>,
    pub location_column: Option<String>,
    pub location_kind: LocationKind,
    /// Sum this column instead of counting trips (e.g. `total_amount`).
    pub value_column: Option<String>,
    pub unknown_zones: UnknownZones,
    /// Zone for timestamps carrying an offset, and the zone of the local wall clock.
    pub timezone: String,
    pub series_column: String,
    pub target_column: String,
    pub fill_missing: FillMissing,
    pub allow_negative: bool,
    pub synthetic: SynthConfig,
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            source: SourceKind::Synthetic,
            paths: Vec::new(),
            frequency: Frequency::Daily,
            start: None,
            end: None,
            zones: None,
            labels: None,
            zone_lookup: None,
            timestamp_column: None,
            location_column: None,
            location_kind: LocationKind::Zone,
            value_column: None,
            unknown_zones: UnknownZones::Error,
            timezone: "America/New_York".into(),
            series_column: "series_id".into(),
            target_column: "value".into(),
            fill_missing: FillMissing::Error,
            allow_negative: false,
            synthetic: SynthConfig::default(),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HolidaySet {
    #[default]
    Us,
    None,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeaturesConfig {
    pub calendar: bool,
    /// Known inputs the training part cannot teach (a yearly input over less than a year, a
    /// class first seen after training): left out of the model, or kept.
    pub untaught_inputs: UntaughtInputs,
    pub holidays: HolidaySet,
    /// Known reals counting the days to the next and since the last holiday (up to a week).
    pub holiday_distance: bool,
    /// More holiday dates (marathon day, a local festival).
    pub extra_holidays: Vec<Day>,
    /// `"central_park"` (built in), a CSV path relative to the config file, or absent.
    pub weather: Option<String>,
    pub weather_time_column: Option<String>,
    pub weather_variables: Vec<String>,
    /// Long tables only: numeric columns known in advance / observed up to the forecast origin.
    pub known_reals: Vec<String>,
    pub observed_reals: Vec<String>,
    /// Long tables: static categorical columns. Trips: zone attributes to keep (borough,
    /// service_zone); the synthetic city also has archetype.
    #[serde(rename = "static")]
    pub statics: Vec<String>,
}

impl Default for FeaturesConfig {
    fn default() -> Self {
        FeaturesConfig {
            calendar: true,
            untaught_inputs: UntaughtInputs::LeaveOut,
            holidays: HolidaySet::Us,
            holiday_distance: false,
            extra_holidays: Vec::new(),
            weather: None,
            weather_time_column: None,
            weather_variables: Vec::new(),
            known_reals: Vec::new(),
            observed_reals: Vec::new(),
            statics: vec!["borough".into(), "service_zone".into()],
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClusterMethod {
    /// Every series in one cluster.
    #[default]
    None,
    /// k-means on normalized weekly profiles.
    KmeansProfile,
    /// Assignments from a CSV (`series_id,cluster`).
    File,
    /// A seeded random partition into k clusters of equal size (the control for a clustering).
    Random,
    /// Iterative reassignment (Lopez-Oriona, Montero-Manso and Vilar 2025): from the k-means
    /// assignment, fit one global model per cluster, move every series to the model that
    /// forecasts its validation windows best, refit; `iterations` times or until nothing moves.
    /// It trains models, so the pipeline runs it (`fusecast_pipeline::stages::reassign`).
    Reassign,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClustersConfig {
    pub method: ClusterMethod,
    /// The profile k-means compares: `weekly` or `daily` (hourly data).
    pub profile: ProfileKind,
    pub k: usize,
    pub seed: u64,
    pub path: Option<PathBuf>,
    /// Keep only the series of this cluster (`0..k`): a model per cluster trains on its own
    /// series (the tuner's `scope = "per_cluster"` trials set it).
    pub select: Option<usize>,
    /// `reassign`: rounds of fitting and moving series.
    pub iterations: usize,
    /// `reassign`: epochs each cluster's model trains per round (the `[train]` settings
    /// otherwise).
    pub reassign_epochs: usize,
}

impl Default for ClustersConfig {
    fn default() -> Self {
        ClustersConfig {
            method: ClusterMethod::None,
            profile: ProfileKind::Weekly,
            k: 1,
            seed: 7,
            path: None,
            select: None,
            iterations: 2,
            reassign_epochs: 2,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WindowsConfig {
    pub encoder_length: usize,
    /// Defaults to `encoder_length`.
    pub min_encoder_length: Option<usize>,
    pub horizon: usize,
    pub stride: usize,
    /// The last `test_periods` are the test part, the `validation_periods` before them validation.
    pub validation_periods: usize,
    pub test_periods: usize,
    pub target_transform: TargetTransform,
    /// `"series"` (each series' training part), `"window"` or `"window_robust"` (each window's
    /// encoder: mean/std or median/IQR).
    pub target_normalizer: TargetNormalizer,
    /// With K > 0, the TFT also reads the target's seasonal profile: at every step the median
    /// of the K same-phase values before it (`target_profile`); 0: not.
    pub profile_seasons: usize,
}

impl Default for WindowsConfig {
    fn default() -> Self {
        WindowsConfig {
            encoder_length: 56,
            min_encoder_length: None,
            horizon: 14,
            stride: 1,
            validation_periods: 28,
            test_periods: 28,
            target_transform: TargetTransform::Log1p,
            // Chosen by scripts/bench/accuracy.sh over 3 seeds (README): best or within 0.4%
            // on every panel; "series" is PyTorch Forecasting's GroupNormalizer.
            target_normalizer: TargetNormalizer::Window,
            profile_seasons: 0,
        }
    }
}
