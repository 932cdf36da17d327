//! Why a fit can fail. The runner turns each into a marked SeasonalNaive fallback for that series,
//! so a failure is reported, never silently dropped.

pub type Result<T, E = BaselineError> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BaselineError {
    #[error("series has {got} observations; {model} needs at least {needed}")]
    TooShort {
        model: String,
        needed: usize,
        got: usize,
    },
    #[error(
        "{model} needs strictly positive values; the series has {value} at position {position}"
    )]
    NonPositive {
        model: String,
        position: usize,
        value: f64,
    },
    #[error("series has a non-finite value ({value}) at position {position}")]
    NonFinite { position: usize, value: f64 },
    #[error("{model}: fit did not finish within the time budget")]
    Timeout { model: String },
    #[error("{model}: {message}")]
    FitFailed { model: String, message: String },
}
