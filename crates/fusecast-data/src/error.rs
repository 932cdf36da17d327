//! One error type for the data stage. Every variant that comes from user input names the file (or
//! config key), the column and an example row, so a person can find and fix the offending data.

use std::path::PathBuf;

pub type Result<T, E = DataError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path}: {message}")]
    Read { path: PathBuf, message: String },

    #[error("{path}: no column `{column}` ({why}); the file has: {available}")]
    MissingColumn {
        path: PathBuf,
        column: String,
        why: String,
        available: String,
    },

    #[error("{path}: column `{column}`, row {row}: cannot parse {value:?} as a timestamp (expected YYYY-MM-DD, YYYY-MM-DD HH:MM[:SS[.fff]], optionally with T and Z or +HH:MM)")]
    BadTimestamp {
        path: PathBuf,
        column: String,
        row: usize,
        value: String,
    },

    #[error("{path}: column `{column}`, row {row}: negative value {value} ({count} negative rows in all); counts cannot be negative (set allow_negative = true for signed targets)")]
    NegativeValue {
        path: PathBuf,
        column: String,
        row: usize,
        value: f64,
        count: usize,
    },

    #[error("{path}: column `{column}`, row {row}: value {value:?} is not a number")]
    BadNumber {
        path: PathBuf,
        column: String,
        row: usize,
        value: String,
    },

    #[error("{path}: duplicate rows for series {series:?} at {timestamp}: rows {first_row} and {row} (each series may have one row per timestamp)")]
    DuplicateRow {
        path: PathBuf,
        series: String,
        timestamp: String,
        first_row: usize,
        row: usize,
    },

    #[error("{path}: column `{column}`, row {row}: timestamp {timestamp} is not on the {frequency} grid (expected a multiple of {frequency} from midnight)")]
    OffGrid {
        path: PathBuf,
        column: String,
        row: usize,
        timestamp: String,
        frequency: String,
    },

    #[error("{path}: series {series:?} has no row for {timestamp} (and {more} other missing periods inside its span, between its first and last row); set fill_missing = \"zero\", \"carry\" (last value), \"interpolate\" (linear) or \"drop\" (left out of windows, scalers and baselines)")]
    MissingPeriod {
        path: PathBuf,
        series: String,
        timestamp: String,
        more: usize,
    },

    #[error("{path}: column `{column}`, row {row}: zone id {zone} is not in the zone lookup ({count} rows with unknown zones in all); pass a zone list, another lookup, or set unknown_zones = \"drop\"")]
    UnknownZone {
        path: PathBuf,
        column: String,
        row: usize,
        zone: i64,
        count: usize,
    },

    #[error("series {series:?} has {length} periods but encoder_length + horizon needs {required}{hint}")]
    SeriesTooShort {
        series: String,
        length: usize,
        required: usize,
        hint: String,
    },

    #[error("{what}: no data left after filtering ({detail})")]
    Empty { what: String, detail: String },

    #[error("config key `{key}`: {message}")]
    Config { key: String, message: String },

    #[error("{0}")]
    Invalid(String),
}

impl DataError {
    pub(crate) fn read(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> Self {
        DataError::Read {
            path: path.into(),
            message: message.to_string(),
        }
    }

    pub(crate) fn config(key: impl Into<String>, message: impl std::fmt::Display) -> Self {
        DataError::Config {
            key: key.into(),
            message: message.to_string(),
        }
    }
}
