//! Where the backtest windows go, decided once: the rolling-origin cutoffs every model is scored
//! at, and the validation cutoffs of per-series selection before them. A cutoff is the index of a
//! window's last training step; the window forecasts the `horizon` steps after it.

use fusecast_data::time::format_timestamp;
use fusecast_data::TimeGrid;

use crate::EvalError;

/// statsforecast `cross_validation` cutoffs: `n_windows` windows `step` apart, the last one ending
/// at the end of the data; each cutoff is the index of the last training observation. `None`
/// when `len` steps cannot hold them with at least one training step before the first, or when
/// `n_windows` or `horizon` is 0 (or `step` is, with more than one window).
pub fn backtest_cutoffs(
    len: usize,
    horizon: usize,
    n_windows: usize,
    step: usize,
) -> Option<Vec<usize>> {
    if n_windows == 0 || horizon == 0 || (n_windows > 1 && step == 0) {
        return None;
    }
    let test_size = step.checked_mul(n_windows - 1)?.checked_add(horizon)?;
    let first = len.checked_sub(test_size.checked_add(1)?)?;
    Some((0..n_windows).map(|k| first + k * step).collect())
}

/// The evaluation cutoffs of a panel of `len` steps (`windows.horizon` = `horizon`,
/// `eval.step` = `step`, `eval.windows` = `windows`, `windows.test_periods` = `test_periods`).
/// `step` defaults to the horizon (windows side by side); `windows` to as many windows as fit in
/// the test periods, `1 + (test_periods - horizon) / step`, or 1 when the test periods are shorter
/// than a horizon. With a trained TFT (`with_tft`) every window must lie in the held-out test
/// periods, or the TFT would be scored on data it was fitted or early-stopped on.
pub fn eval_cutoffs(
    len: usize,
    horizon: usize,
    step: Option<usize>,
    windows: Option<usize>,
    test_periods: usize,
    with_tft: bool,
) -> Result<Vec<usize>, EvalError> {
    at_least_one("windows.horizon", Some(horizon))?;
    at_least_one("eval.step", step)?;
    at_least_one("eval.windows", windows)?;
    let step = step.unwrap_or(horizon);
    let windows = match windows {
        Some(n) => n,
        None if test_periods >= horizon => 1 + (test_periods - horizon) / step,
        None => 1,
    };
    let span = step.saturating_mul(windows - 1).saturating_add(horizon);
    let Some(cutoffs) = backtest_cutoffs(len, horizon, windows, step) else {
        return Err(EvalError::TooFewPeriods {
            windows,
            step,
            horizon,
            span,
            len,
        });
    };
    if with_tft && span > test_periods {
        return Err(EvalError::PastTestPeriods {
            windows,
            step,
            horizon,
            span,
            test_periods,
        });
    }
    Ok(cutoffs)
}

/// The validation cutoffs of per-series selection: `selection_windows`
/// (`baselines.selection_windows`) windows `step` apart (`eval.step`, default the horizon), the
/// last one ending at the first evaluation cutoff, so the choice never sees a scored step. Empty
/// when selection is off: no selection windows, no baseline models (`with_baselines` false) or no
/// evaluation cutoffs. `grid` is the panel's, for the first cutoff's timestamp in the error.
pub fn selection_cutoffs(
    grid: &TimeGrid,
    horizon: usize,
    step: Option<usize>,
    selection_windows: usize,
    with_baselines: bool,
    eval_cutoffs: &[usize],
) -> Result<Vec<usize>, EvalError> {
    let Some(&first) = eval_cutoffs.first() else {
        return Ok(Vec::new());
    };
    if selection_windows == 0 || !with_baselines {
        return Ok(Vec::new());
    }
    at_least_one("windows.horizon", Some(horizon))?;
    at_least_one("eval.step", step)?;
    let step = step.unwrap_or(horizon);
    backtest_cutoffs(first + 1, horizon, selection_windows, step).ok_or_else(|| {
        EvalError::SelectionHistory {
            windows: selection_windows,
            first_cutoff: format_timestamp(grid.timestamp(first)),
        }
    })
}

/// The config check, repeated so the arithmetic here never divides by 0.
fn at_least_one(key: &'static str, value: Option<usize>) -> Result<(), EvalError> {
    match value {
        Some(0) => Err(EvalError::Zero { key }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fusecast_data::time::{date_seconds, Day, Frequency};

    fn grid(len: usize) -> TimeGrid {
        TimeGrid {
            start: date_seconds(Day::ymd(2024, 1, 1).0),
            frequency: Frequency::Daily,
            len,
        }
    }

    #[test]
    fn cutoffs_follow_statsforecast_cross_validation() {
        // len 20, h 3, 3 windows, step 2: test_size 7, cutoffs 12, 14, 16; the last window ends at 19.
        assert_eq!(backtest_cutoffs(20, 3, 3, 2), Some(vec![12, 14, 16]));
        assert_eq!(backtest_cutoffs(20, 3, 1, 0), Some(vec![16]));
        assert_eq!(backtest_cutoffs(5, 3, 3, 2), None);
        // One training step before the first window at the least.
        assert_eq!(backtest_cutoffs(4, 3, 1, 1), Some(vec![0]));
        assert_eq!(backtest_cutoffs(3, 3, 1, 1), None);
        for (h, n, step) in [(0, 1, 1), (3, 0, 1), (3, 2, 0)] {
            assert_eq!(backtest_cutoffs(100, h, n, step), None, "{h} {n} {step}");
        }
        assert_eq!(backtest_cutoffs(100, 3, usize::MAX, usize::MAX), None);
    }

    #[test]
    fn eval_windows_default_to_the_test_periods_in_horizon_steps() {
        // h 7, test 28: step 7, 1 + 21 / 7 = 4 windows spanning 28 steps; 100 - 29 = 71 first.
        assert_eq!(
            eval_cutoffs(100, 7, None, None, 28, true).unwrap(),
            vec![71, 78, 85, 92]
        );
        // test 30: still 1 + 23 / 7 = 4 windows, the last ending at the end of the data.
        assert_eq!(
            eval_cutoffs(100, 7, None, None, 30, true).unwrap(),
            vec![71, 78, 85, 92]
        );
        // Test periods shorter than a horizon: one window.
        assert_eq!(
            eval_cutoffs(100, 7, None, None, 5, false).unwrap(),
            vec![92]
        );
        // Explicit step and windows: span 7 + 3 = 10, first 100 - 11 = 89.
        assert_eq!(
            eval_cutoffs(100, 7, Some(3), Some(2), 10, true).unwrap(),
            vec![89, 92]
        );
        // Default windows with an explicit step: 1 + (14 - 7) / 2 = 4, span 13, first 86.
        assert_eq!(
            eval_cutoffs(100, 7, Some(2), None, 14, true).unwrap(),
            vec![86, 88, 90, 92]
        );
        // The shortest panel that holds 4 windows of 7: 28 steps and one to train on.
        assert_eq!(
            eval_cutoffs(29, 7, None, None, 28, true).unwrap(),
            vec![0, 7, 14, 21]
        );
    }

    #[test]
    fn eval_errors_name_the_config_keys() {
        let e = eval_cutoffs(28, 7, None, None, 28, false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "eval: 4 windows 7 steps apart with horizon 7 need 28 periods after at least one; the panel has 28"
        );
        let e = eval_cutoffs(100, 7, None, None, 5, true).unwrap_err();
        assert_eq!(
            e.to_string(),
            "eval: 1 windows x step 7 with horizon 7 span the last 7 periods, but only windows.test_periods = 5 are held out from training; lower eval.windows / eval.step or raise windows.test_periods"
        );
        let e = eval_cutoffs(100, 7, Some(3), Some(3), 12, true).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("eval: 3 windows x step 3 with horizon 7 span the last 13 periods"),
            "{e}"
        );
        // Without a TFT the same windows are fine.
        assert_eq!(
            eval_cutoffs(100, 7, Some(3), Some(3), 12, false).unwrap(),
            vec![86, 89, 92]
        );
        for (h, step, windows, key) in [
            (0, None, None, "windows.horizon"),
            (7, Some(0), None, "eval.step"),
            (7, None, Some(0), "eval.windows"),
        ] {
            let e = eval_cutoffs(100, h, step, windows, 28, false).unwrap_err();
            assert_eq!(e.to_string(), format!("{key} must be at least 1"));
        }
    }

    #[test]
    fn selection_windows_end_at_the_first_eval_cutoff() {
        let g = grid(100);
        // 2 windows of 7 before cutoff 71: backtest of the first 72 steps, 72 - 15 = 57 first;
        // the last window, 65..=71, ends at the first evaluation cutoff.
        assert_eq!(
            selection_cutoffs(&g, 7, None, 2, true, &[71, 78, 85, 92]).unwrap(),
            vec![57, 64]
        );
        // Step 3: span 7 + 6 = 13, 72 - 14 = 58 first.
        assert_eq!(
            selection_cutoffs(&g, 7, Some(3), 3, true, &[71]).unwrap(),
            vec![58, 61, 64]
        );
        // Off: no windows, no baselines, no evaluation cutoffs.
        assert!(selection_cutoffs(&g, 7, None, 0, true, &[71])
            .unwrap()
            .is_empty());
        assert!(selection_cutoffs(&g, 7, None, 2, false, &[71])
            .unwrap()
            .is_empty());
        assert!(selection_cutoffs(&g, 7, None, 2, true, &[])
            .unwrap()
            .is_empty());
    }

    #[test]
    fn selection_without_history_names_the_key_and_the_first_cutoff() {
        // 2 windows of 7 need 14 steps and one to train on: 11 steps up to cutoff 10 are too few.
        let e = selection_cutoffs(&grid(100), 7, None, 2, true, &[10, 17]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "baselines.selection_windows = 2: not enough history before the first cutoff (2024-01-11)"
        );
        // 15 steps up to cutoff 14 are enough.
        assert_eq!(
            selection_cutoffs(&grid(100), 7, None, 2, true, &[14]).unwrap(),
            vec![0, 7]
        );
        let e = selection_cutoffs(&grid(100), 7, Some(0), 2, true, &[71]).unwrap_err();
        assert_eq!(e.to_string(), "eval.step must be at least 1");
    }
}
