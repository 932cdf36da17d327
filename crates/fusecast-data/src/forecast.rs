//! The forecast table every model writes and the evaluation reads: for each (series, cutoff) a
//! mean path and quantile paths over the next `horizon` steps. It lives here, on the ground floor,
//! so baselines, the TFT and the evaluation share it without depending on each other.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use crate::csvline;
use crate::time::{format_timestamp, parse_timestamp};
use crate::{DataError, Panel, Result};

/// One forecast: series `series` (index into `Panel::series`), trained on steps `..=cutoff`,
/// predicting steps `cutoff + 1 ..= cutoff + horizon`.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastRow {
    pub series: usize,
    pub cutoff: usize,
    pub mean: Vec<f64>,
    /// `quantiles[k][i]` is the `Forecast::levels[k]` quantile at step `cutoff + 1 + i`.
    pub quantiles: Vec<Vec<f64>>,
    /// Why this row is not the model's own forecast (e.g. a fallback after a failed fit).
    pub note: Option<RowNote>,
}

impl ForecastRow {
    /// Whether another model forecast this row because the model's own fit failed (what the
    /// runner and the evaluation count as fallbacks; constant series and missing forecasts are
    /// not fallbacks).
    pub fn is_fallback(&self) -> bool {
        self.note
            .as_ref()
            .is_some_and(|n| matches!(n.kind, RowNoteKind::Fallback { .. }))
    }
}

/// Why a [`ForecastRow`] is not simply the model's own forecast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowNote {
    pub kind: RowNoteKind,
    /// Free text for people (e.g. the fit's error); never parsed.
    pub reason: String,
}

/// What kind of row a [`RowNote`] marks. In the CSV it is the `note_kind` column (see
/// [`RowNoteKind::code`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowNoteKind {
    /// The model's fit failed (error, time budget, too short): model `to` forecast instead.
    Fallback { to: String },
    /// The history is constant: the forecast is the constant, no model was fitted.
    Constant,
    /// Nothing could be fitted (empty or non-finite history): the row is NaN, which the
    /// evaluation reports as missing.
    NoForecast,
    /// A per-series selection's row: model `model`'s own forecast, chosen for this series.
    Selected { model: String },
}

impl RowNote {
    pub fn new(kind: RowNoteKind, reason: impl Into<String>) -> Self {
        Self {
            kind,
            reason: reason.into(),
        }
    }

    pub fn fallback(to: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::new(RowNoteKind::Fallback { to: to.into() }, reason)
    }

    pub fn constant(reason: impl Into<String>) -> Self {
        Self::new(RowNoteKind::Constant, reason)
    }

    pub fn no_forecast(reason: impl Into<String>) -> Self {
        Self::new(RowNoteKind::NoForecast, reason)
    }

    pub fn selected(model: impl Into<String>) -> Self {
        Self::new(
            RowNoteKind::Selected {
                model: model.into(),
            },
            "",
        )
    }
}

/// `fallback to SeasonalNaive: <reason>`, `constant series: <reason>`, `no forecast: <reason>`,
/// `selected Naive[: <reason>]`.
impl std::fmt::Display for RowNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            RowNoteKind::Fallback { to } => write!(f, "fallback to {to}")?,
            RowNoteKind::Constant => f.write_str("constant series")?,
            RowNoteKind::NoForecast => f.write_str("no forecast")?,
            RowNoteKind::Selected { model } => write!(f, "selected {model}")?,
        }
        if !self.reason.is_empty() {
            write!(f, ": {}", self.reason)?;
        }
        Ok(())
    }
}

impl RowNoteKind {
    /// The CSV `note_kind` value: `fallback:<model>`, `constant`, `no_forecast`,
    /// `selected:<model>`.
    pub fn code(&self) -> String {
        match self {
            RowNoteKind::Fallback { to } => format!("fallback:{to}"),
            RowNoteKind::Constant => "constant".into(),
            RowNoteKind::NoForecast => "no_forecast".into(),
            RowNoteKind::Selected { model } => format!("selected:{model}"),
        }
    }

    /// The inverse of [`RowNoteKind::code`]; `None` for anything else.
    pub fn from_code(code: &str) -> Option<Self> {
        let model = |m: &str| Some(m.to_string()).filter(|m| !m.is_empty());
        match code.split_once(':') {
            Some(("fallback", to)) => model(to).map(|to| RowNoteKind::Fallback { to }),
            Some(("selected", m)) => model(m).map(|model| RowNoteKind::Selected { model }),
            Some(_) => None,
            None => match code {
                "constant" => Some(RowNoteKind::Constant),
                "no_forecast" => Some(RowNoteKind::NoForecast),
                _ => None,
            },
        }
    }
}

/// The model name of the per-series selection among the baselines: a pick of their rows, not a
/// model of its own.
pub const SELECTED: &str = "Selected";

/// All forecasts of one model.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    pub model: String,
    pub horizon: usize,
    /// Quantile levels, ascending, in (0, 1).
    pub levels: Vec<f64>,
    pub rows: Vec<ForecastRow>,
}

impl Forecast {
    pub fn new(model: impl Into<String>, horizon: usize, levels: &[f64]) -> Self {
        Self {
            model: model.into(),
            horizon,
            levels: levels.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row after checking its shape against the table's horizon and levels.
    pub fn push(&mut self, row: ForecastRow) -> Result<()> {
        let bad = row.mean.len() != self.horizon
            || row.quantiles.len() != self.levels.len()
            || row.quantiles.iter().any(|q| q.len() != self.horizon);
        if bad {
            return Err(DataError::Invalid(format!(
                "{}: forecast for series {} at cutoff {} has {} steps and {} quantile paths; the table has horizon {} and {} levels",
                self.model,
                row.series,
                row.cutoff,
                row.mean.len(),
                row.quantiles.len(),
                self.horizon,
                self.levels.len()
            )));
        }
        self.rows.push(row);
        Ok(())
    }

    /// The quantile path of `row` at `level`, if the table has that level.
    pub fn quantile<'a>(&self, row: &'a ForecastRow, level: f64) -> Option<&'a [f64]> {
        self.levels
            .iter()
            .position(|&l| (l - level).abs() < 1e-9)
            .map(|k| row.quantiles[k].as_slice())
    }

    /// Clamps every mean and quantile at `floor` (counts cannot be negative).
    pub fn clamp_below(&mut self, floor: f64) {
        for row in &mut self.rows {
            for v in row
                .mean
                .iter_mut()
                .chain(row.quantiles.iter_mut().flatten())
            {
                *v = v.max(floor);
            }
        }
    }

    /// Writes the long CSV: `series_id,cutoff,timestamp,model,mean,q<level>...,note_kind,note`, one
    /// line per forecast step, timestamps as the panel's local wall clock; `note_kind` is
    /// [`RowNoteKind::code`] and `note` the [`RowNote::reason`], both empty without a note.
    pub fn write_csv(&self, panel: &Panel, path: &Path) -> Result<()> {
        Self::write_csv_all(panel, std::slice::from_ref(self), path)
    }

    /// Several models' tables in one CSV (what [`Forecast::read_csv`] reads back); they must share
    /// their quantile levels, the file's columns.
    pub fn write_csv_all(panel: &Panel, tables: &[Forecast], path: &Path) -> Result<()> {
        let levels = tables
            .first()
            .map(|t| t.levels.as_slice())
            .unwrap_or_default();
        if let Some(t) = tables.iter().find(|t| t.levels != levels) {
            return Err(DataError::Invalid(format!(
                "{}: {} has quantile levels {:?}, {} has {:?}; one file holds one set of levels",
                path.display(),
                t.model,
                t.levels,
                tables[0].model,
                levels
            )));
        }
        let io = |source| DataError::Io {
            path: path.to_path_buf(),
            source,
        };
        // Written beside and renamed over: `evaluate` reuses these files, so a kill mid-write must
        // leave the previous file, not a truncated one.
        let tmp = path.with_extension("csv.tmp");
        let mut out = BufWriter::new(std::fs::File::create(&tmp).map_err(io)?);
        let mut header = String::from("series_id,cutoff,timestamp,model,mean");
        for l in levels {
            header.push_str(&format!(",q{l}"));
        }
        writeln!(out, "{header},note_kind,note").map_err(io)?;
        for table in tables {
            let model = csvline::quote(&table.model);
            for row in &table.rows {
                let series = csvline::quote(&panel.series[row.series]);
                let note = match &row.note {
                    Some(n) => format!(
                        "{},{}",
                        csvline::quote(&n.kind.code()),
                        csvline::quote(&n.reason)
                    ),
                    None => ",".to_string(),
                };
                let cutoff = format_timestamp(panel.grid.timestamp(row.cutoff));
                for i in 0..table.horizon {
                    let ts = format_timestamp(panel.grid.timestamp(row.cutoff + 1 + i));
                    write!(out, "{series},{cutoff},{ts},{model},{}", row.mean[i]).map_err(io)?;
                    for q in &row.quantiles {
                        write!(out, ",{}", q[i]).map_err(io)?;
                    }
                    writeln!(out, ",{note}").map_err(io)?;
                }
            }
        }
        out.flush().map_err(io)?;
        drop(out);
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// The same columns as [`Forecast::write_csv`] as parquet, with timestamps as datetimes.
    pub fn write_parquet(&self, panel: &Panel, path: &Path) -> Result<()> {
        use polars::prelude::*;
        let err = |e: PolarsError| DataError::read(path, e);
        let steps = self.rows.len() * self.horizon;
        let mut series = Vec::with_capacity(steps);
        let mut cutoff = Vec::with_capacity(steps);
        let mut stamp = Vec::with_capacity(steps);
        let mut mean = Vec::with_capacity(steps);
        let mut quantiles = vec![Vec::with_capacity(steps); self.levels.len()];
        let mut kind = Vec::with_capacity(steps);
        let mut reason = Vec::with_capacity(steps);
        for row in &self.rows {
            for i in 0..self.horizon {
                series.push(panel.series[row.series].as_str());
                cutoff.push(panel.grid.timestamp(row.cutoff) * 1_000_000);
                stamp.push(panel.grid.timestamp(row.cutoff + 1 + i) * 1_000_000);
                mean.push(row.mean[i]);
                for (q, path) in quantiles.iter_mut().zip(&row.quantiles) {
                    q.push(path[i]);
                }
                kind.push(row.note.as_ref().map(|n| n.kind.code()));
                reason.push(row.note.as_ref().map(|n| n.reason.clone()));
            }
        }
        let datetime = |name: &str, v: Vec<i64>| -> Result<Column> {
            Ok(Series::new(name.into(), v)
                .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
                .map_err(err)?
                .into())
        };
        let mut columns: Vec<Column> = vec![
            Series::new("series_id".into(), series).into(),
            datetime("cutoff", cutoff)?,
            datetime("timestamp", stamp)?,
            Series::new("model".into(), vec![self.model.as_str(); steps]).into(),
            Series::new("mean".into(), mean).into(),
        ];
        for (l, q) in self.levels.iter().zip(quantiles) {
            columns.push(Series::new(format!("q{l}").as_str().into(), q).into());
        }
        columns.push(Series::new("note_kind".into(), kind).into());
        columns.push(Series::new("note".into(), reason).into());
        let mut df = DataFrame::new_infer_height(columns).map_err(err)?;
        let tmp = path.with_extension("parquet.tmp");
        let file = std::fs::File::create(&tmp).map_err(|source| DataError::Io {
            path: tmp.clone(),
            source,
        })?;
        ParquetWriter::new(file).finish(&mut df).map_err(err)?;
        std::fs::rename(&tmp, path).map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Reads a CSV written by [`Forecast::write_csv`] (or by any tool writing the same columns) for
    /// `panel`; several models in one file are returned as one table each. The `note_kind` column
    /// may be left out when every `note` is empty. Every error names the file and line.
    pub fn read_csv(panel: &Panel, path: &Path) -> Result<Vec<Forecast>> {
        let file = std::fs::File::open(path).map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let bad = |line: usize, msg: String| DataError::read(path, format!("line {line}: {msg}"));
        let mut lines = BufReader::new(file).lines().enumerate();
        let header = match lines.next() {
            Some((_, l)) => l.map_err(|e| bad(1, e.to_string()))?,
            None => return Err(DataError::read(path, "empty file")),
        };
        let cols: Vec<&str> = header.split(',').collect();
        let fixed = ["series_id", "cutoff", "timestamp", "model", "mean"];
        if cols.len() < 6 || cols[..5] != fixed || cols[cols.len() - 1] != "note" {
            return Err(bad(
                1,
                format!(
                    "expected the columns {},q<level>...,note_kind,note (note_kind may be left out when no row has a note); found {header}",
                    fixed.join(",")
                ),
            ));
        }
        let with_kind = cols.len() >= 7 && cols[cols.len() - 2] == "note_kind";
        let n_levels = cols.len() - 6 - usize::from(with_kind);
        let levels: Vec<f64> = cols[5..5 + n_levels]
            .iter()
            .map(|c| {
                c.strip_prefix('q')
                    .and_then(|v| v.parse::<f64>().ok())
                    .filter(|v| *v > 0.0 && *v < 1.0)
                    .ok_or_else(|| {
                        bad(
                            1,
                            format!("column `{c}` is not a quantile q<level> with level in (0, 1)"),
                        )
                    })
            })
            .collect::<Result<_>>()?;
        let mut tables: Vec<Forecast> = Vec::new();
        // (model, series, cutoff) -> steps seen, in file order.
        let mut open: Option<(usize, ForecastRow, usize)> = None;
        let step = panel.grid.frequency.step_seconds();
        let finish = |tables: &mut Vec<Forecast>,
                      open: Option<(usize, ForecastRow, usize)>,
                      line: usize|
         -> Result<()> {
            if let Some((t, row, _)) = open {
                let table = &mut tables[t];
                if table.rows.is_empty() && table.horizon == 0 {
                    table.horizon = row.mean.len();
                }
                table.push(row).map_err(|e| bad(line, e.to_string()))?;
            }
            Ok(())
        };
        let mut last_line = 1;
        for (i, line) in lines {
            let n = i + 1;
            last_line = n;
            let line = line.map_err(|e| bad(n, e.to_string()))?;
            if line.trim().is_empty() {
                continue;
            }
            let f = csvline::split(&line);
            if f.len() != cols.len() {
                return Err(bad(
                    n,
                    format!("{} fields, the header has {}", f.len(), cols.len()),
                ));
            }
            let series = panel
                .series_index(&f[0])
                .ok_or_else(|| bad(n, format!("series `{}` is not in the panel", f[0])))?;
            let time = |s: &str, what: &str| -> Result<usize> {
                let t = parse_timestamp(s, chrono_tz::UTC)
                    .ok_or_else(|| bad(n, format!("{what} `{s}` is not a timestamp")))?;
                panel.grid.index_of(t).ok_or_else(|| {
                    bad(
                        n,
                        format!(
                            "{what} `{s}` is not on the panel's time grid ({})",
                            panel.grid.describe()
                        ),
                    )
                })
            };
            let cutoff = time(&f[1], "cutoff")?;
            let at = time(&f[2], "timestamp")?;
            let number = |s: &str, what: &str| -> Result<f64> {
                s.parse::<f64>()
                    .map_err(|_| bad(n, format!("{what} `{s}` is not a number")))
            };
            let mean = number(&f[4], "mean")?;
            let qs: Vec<f64> = f[5..5 + n_levels]
                .iter()
                .zip(&cols[5..])
                .map(|(v, c)| number(v, c))
                .collect::<Result<_>>()?;
            let reason = &f[f.len() - 1];
            let kind = if with_kind {
                f[f.len() - 2].as_str()
            } else {
                ""
            };
            let note = match (kind, reason.is_empty()) {
                ("", true) => None,
                ("", false) => {
                    return Err(bad(
                        n,
                        format!(
                            "note `{reason}` has no note_kind{}: a note needs its kind ({KINDS}); a file from before note_kind must be written again",
                            if with_kind { "" } else { " column" }
                        ),
                    ))
                }
                (code, _) => {
                    let kind = RowNoteKind::from_code(code).ok_or_else(|| {
                        bad(n, format!("note_kind `{code}` is not one of {KINDS}"))
                    })?;
                    Some(RowNote::new(kind, reason.clone()))
                }
            };
            let t = match tables.iter().position(|t| t.model == f[3]) {
                Some(t) => t,
                None => {
                    tables.push(Forecast::new(f[3].clone(), 0, &levels));
                    tables.len() - 1
                }
            };
            let continues = matches!(&open, Some((ot, row, last)) if *ot == t && row.series == series && row.cutoff == cutoff && at == last + 1);
            if continues {
                let (_, row, last) = open.as_mut().expect("checked above");
                row.mean.push(mean);
                for (path, q) in row.quantiles.iter_mut().zip(&qs) {
                    path.push(*q);
                }
                *last = at;
            } else {
                finish(&mut tables, open.take(), n)?;
                if at != cutoff + 1 {
                    return Err(bad(
                        n,
                        format!(
                            "first step of series `{}` at cutoff {} is {}, expected the next step after the cutoff ({} s later)",
                            f[0], f[1], f[2], step
                        ),
                    ));
                }
                open = Some((
                    t,
                    ForecastRow {
                        series,
                        cutoff,
                        mean: vec![mean],
                        quantiles: qs.iter().map(|q| vec![*q]).collect(),
                        note,
                    },
                    at,
                ));
            }
        }
        finish(&mut tables, open, last_line)?;
        if tables.is_empty() {
            return Err(DataError::read(path, "no forecasts"));
        }
        Ok(tables)
    }
}

/// The `note_kind` values, for error messages.
const KINDS: &str = "fallback:<model>, constant, no_forecast, selected:<model>";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{Day, Frequency, TimeGrid};

    fn panel() -> Panel {
        let grid = TimeGrid::from_days(
            Day::ymd(2024, 1, 1).0,
            Day::ymd(2024, 1, 10).0,
            Frequency::Daily,
        );
        let names = vec!["a,b".to_string(), "JFK".to_string()];
        Panel::new(grid, "y", names, (0..20).map(f64::from).collect()).unwrap()
    }

    fn table() -> Forecast {
        let mut f = Forecast::new("AutoETS", 2, &[0.1, 0.9]);
        let notes = [
            None,
            Some(RowNote::fallback(
                "SeasonalNaive",
                "AutoETS: too short, \"3 < 7\"",
            )),
            Some(RowNote::constant("forecast is the constant 4")),
            Some(RowNote::no_forecast("")),
            Some(RowNote::selected("Naive, plain")),
        ];
        for (i, note) in notes.into_iter().enumerate() {
            f.push(ForecastRow {
                series: i % 2,
                cutoff: 3 + i,
                mean: vec![1.5 + i as f64, 2.25],
                quantiles: vec![vec![0.5, 1.0], vec![3.0, 4.125]],
                note,
            })
            .unwrap();
        }
        f
    }

    #[test]
    fn csv_round_trip_is_exact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.csv");
        let p = panel();
        table().write_csv(&p, &path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(
            "series_id,cutoff,timestamp,model,mean,q0.1,q0.9,note_kind,note\n\"a,b\",2024-01-04,2024-01-05,AutoETS,1.5,0.5,3,,\n"
        ), "{text}");
        for line in [
            "JFK,2024-01-05,2024-01-06,AutoETS,2.5,0.5,3,fallback:SeasonalNaive,\"AutoETS: too short, \"\"3 < 7\"\"\"\n",
            "\"a,b\",2024-01-06,2024-01-07,AutoETS,3.5,0.5,3,constant,forecast is the constant 4\n",
            "JFK,2024-01-07,2024-01-08,AutoETS,4.5,0.5,3,no_forecast,\n",
            "\"a,b\",2024-01-08,2024-01-09,AutoETS,5.5,0.5,3,\"selected:Naive, plain\",\n",
        ] {
            assert!(text.contains(line), "{line} not in {text}");
        }
        let back = Forecast::read_csv(&p, &path).unwrap();
        assert_eq!(back, vec![table()]);
        assert_eq!(
            back[0]
                .rows
                .iter()
                .map(ForecastRow::is_fallback)
                .collect::<Vec<_>>(),
            [false, true, false, false, false]
        );

        let mut other = table();
        other.model = "Naive, \"plain\"".into();
        other.clamp_below(2.0);
        assert_eq!(other.rows[0].quantiles[0], vec![2.0, 2.0]);
        assert_eq!(other.rows[2].mean, vec![3.5, 2.25]);
        Forecast::write_csv_all(&p, &[table(), other.clone()], &path).unwrap();
        assert_eq!(
            Forecast::read_csv(&p, &path).unwrap(),
            vec![table(), other.clone()]
        );
        other.levels = vec![0.5, 0.9];
        let e = Forecast::write_csv_all(&p, &[table(), other], &path)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("quantile levels") && e.contains("AutoETS"),
            "{e}"
        );
    }

    #[test]
    fn shape_and_grid_errors_name_the_line() {
        let mut f = Forecast::new("m", 3, &[0.5]);
        let row = ForecastRow {
            series: 0,
            cutoff: 0,
            mean: vec![1.0],
            quantiles: vec![vec![1.0]],
            note: None,
        };
        assert!(f.push(row).unwrap_err().to_string().contains("horizon 3"));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.csv");
        let head = "series_id,cutoff,timestamp,model,mean,q0.5,note\n";
        for (body, needle) in [
            (
                "XYZ,2024-01-02,2024-01-03,m,1,1,\n",
                "line 2: series `XYZ` is not in the panel",
            ),
            (
                "JFK,2024-01-02,2024-01-04,m,1,1,\n",
                "expected the next step",
            ),
            (
                "JFK,2024-01-02,2024-01-03,m,one,1,\n",
                "mean `one` is not a number",
            ),
            (
                "JFK,2025-01-02,2025-01-03,m,1,1,\n",
                "not on the panel's time grid",
            ),
        ] {
            std::fs::write(&path, format!("{head}{body}")).unwrap();
            let e = Forecast::read_csv(&panel(), &path).unwrap_err().to_string();
            assert!(e.contains(needle) && e.contains("bad.csv"), "{e}");
        }
        std::fs::write(&path, "series_id,cutoff,timestamp,model,mean,q1.5,note\n").unwrap();
        assert!(Forecast::read_csv(&panel(), &path)
            .unwrap_err()
            .to_string()
            .contains("q1.5"));
        std::fs::write(
            &path,
            "series_id,cutoff,timestamp,model,mean,q0.5,note,note_kind\n",
        )
        .unwrap();
        let e = Forecast::read_csv(&panel(), &path).unwrap_err().to_string();
        assert!(
            e.contains("bad.csv: line 1: expected the columns series_id,cutoff,timestamp,model,mean,q<level>...,note_kind,note"),
            "{e}"
        );
    }

    #[test]
    fn notes_need_a_known_kind_and_files_without_notes_need_no_kind_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.csv");
        // Another tool's file: no note_kind column, empty notes.
        std::fs::write(
            &path,
            "series_id,cutoff,timestamp,model,mean,q0.5,note\nJFK,2024-01-02,2024-01-03,m,1,2,\n",
        )
        .unwrap();
        let t = Forecast::read_csv(&panel(), &path).unwrap();
        assert_eq!((t[0].rows[0].mean[0], &t[0].rows[0].note), (1.0, &None));
        let new = "series_id,cutoff,timestamp,model,mean,q0.5,note_kind,note\n";
        let old = "series_id,cutoff,timestamp,model,mean,q0.5,note\n";
        for (head, body, needle) in [
            (
                old,
                "JFK,2024-01-02,2024-01-03,m,1,1,fallback to Naive: x\n",
                "line 2: note `fallback to Naive: x` has no note_kind column",
            ),
            (
                new,
                "JFK,2024-01-02,2024-01-03,m,1,1,,why\n",
                "line 2: note `why` has no note_kind: a note needs its kind (fallback:<model>, constant",
            ),
            (
                new,
                "JFK,2024-01-02,2024-01-03,m,1,1,fallback,why\n",
                "line 2: note_kind `fallback` is not one of fallback:<model>, constant, no_forecast, selected:<model>",
            ),
            (
                new,
                "JFK,2024-01-02,2024-01-03,m,1,1,fallback:,why\n",
                "note_kind `fallback:` is not one of",
            ),
            (
                new,
                "JFK,2024-01-02,2024-01-03,m,1,1,\n",
                "line 2: 7 fields, the header has 8",
            ),
        ] {
            std::fs::write(&path, format!("{head}{body}")).unwrap();
            let e = Forecast::read_csv(&panel(), &path).unwrap_err().to_string();
            assert!(e.contains(needle) && e.contains("notes.csv"), "{e}");
        }
    }

    #[test]
    fn kinds_have_one_code_each_and_notes_read_as_before() {
        for kind in [
            RowNoteKind::Fallback { to: "a:b".into() },
            RowNoteKind::Constant,
            RowNoteKind::NoForecast,
            RowNoteKind::Selected { model: "M".into() },
        ] {
            assert_eq!(RowNoteKind::from_code(&kind.code()), Some(kind));
        }
        for bad in ["", "Constant", "constant:x", "selected", "other:x"] {
            assert_eq!(RowNoteKind::from_code(bad), None, "{bad}");
        }
        assert_eq!(
            RowNote::fallback("Naive", "SeasonalNaive needs 7").to_string(),
            "fallback to Naive: SeasonalNaive needs 7"
        );
        assert_eq!(RowNote::selected("ETS").to_string(), "selected ETS");
        assert_eq!(RowNote::no_forecast("").to_string(), "no forecast");
    }
}
