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
    pub note: Option<String>,
}

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

    /// Writes the long CSV: `series_id,cutoff,timestamp,model,mean,q<level>...,note`, one line per
    /// forecast step, timestamps as the panel's local wall clock.
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
        writeln!(out, "{header},note").map_err(io)?;
        for table in tables {
            let model = csvline::quote(&table.model);
            for row in &table.rows {
                let series = csvline::quote(&panel.series[row.series]);
                let note = csvline::quote(row.note.as_deref().unwrap_or(""));
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

    /// Reads a CSV written by [`Forecast::write_csv`] (or by any tool writing the same columns) for
    /// `panel`; several models in one file are returned as one table each. Every error names the
    /// file and line.
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
                    "expected the columns {} q<level>... note; found {header}",
                    fixed.join(",")
                ),
            ));
        }
        let levels: Vec<f64> = cols[5..cols.len() - 1]
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
            let qs: Vec<f64> = f[5..f.len() - 1]
                .iter()
                .zip(&cols[5..])
                .map(|(v, c)| number(v, c))
                .collect::<Result<_>>()?;
            let note = Some(f[f.len() - 1].clone()).filter(|s| !s.is_empty());
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
        for (series, cutoff) in [(0, 3), (1, 3), (1, 5)] {
            f.push(ForecastRow {
                series,
                cutoff,
                mean: vec![1.5 + cutoff as f64, 2.25],
                quantiles: vec![vec![0.5, 1.0], vec![3.0, 4.125]],
                note: (series == 1).then(|| "fallback: SeasonalNaive (too short)".to_string()),
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
            "series_id,cutoff,timestamp,model,mean,q0.1,q0.9,note\n\"a,b\",2024-01-04"
        ));
        let back = Forecast::read_csv(&p, &path).unwrap();
        assert_eq!(back, vec![table()]);

        let mut other = table();
        other.model = "Naive, \"plain\"".into();
        other.clamp_below(2.0);
        assert_eq!(other.rows[0].quantiles[0], vec![2.0, 2.0]);
        assert_eq!(other.rows[2].mean, vec![6.5, 2.25]);
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
    }
}
