//! The report's tables: every model's scores, the winners per series, the scores per cluster or backtest window and
//! the tuner's trials. Numbers are written as the evaluation's CSV files write them; the best
//! value of a column is marked (`class="best"`).

use std::fmt::Write as _;

use super::{escape, num, BehindRow, Comparison, Experiment, GroupRow, Winners};

#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub text: String,
    pub numeric: bool,
    pub best: bool,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Self {
        Cell {
            text: s.into(),
            numeric: false,
            best: false,
        }
    }

    pub fn number(v: f64) -> Self {
        Cell {
            text: num(v),
            numeric: true,
            best: false,
        }
    }

    pub fn count(n: usize) -> Self {
        Cell {
            text: n.to_string(),
            numeric: true,
            best: false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Table {
    pub class: &'static str,
    pub header: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// A class per row (`Some("best")` for the winning trials).
    pub row_class: Vec<Option<&'static str>>,
}

/// The table as HTML, every cell escaped.
pub fn table(t: &Table) -> String {
    let mut s = format!("<table class=\"{}\"><thead><tr>", t.class);
    let numeric: Vec<bool> = (0..t.header.len())
        .map(|c| {
            !t.rows.is_empty()
                && t.rows
                    .iter()
                    .all(|r| r.get(c).is_some_and(|cell| cell.numeric))
        })
        .collect();
    for (h, n) in t.header.iter().zip(&numeric) {
        let _ = write!(
            s,
            "<th{}>{}</th>",
            if *n { " class=\"num\"" } else { "" },
            escape(h)
        );
    }
    s.push_str("</tr></thead><tbody>");
    for (i, row) in t.rows.iter().enumerate() {
        match t.row_class.get(i).copied().flatten() {
            Some(c) => {
                let _ = write!(s, "<tr class=\"{c}\">");
            }
            None => s.push_str("<tr>"),
        }
        for cell in row {
            let class = match (cell.numeric, cell.best) {
                (true, true) => " class=\"num best\"",
                (true, false) => " class=\"num\"",
                (false, true) => " class=\"best\"",
                (false, false) => "",
            };
            let _ = write!(s, "<td{class}>{}</td>", escape(&cell.text));
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>");
    s
}

/// Marks the best cell of column `col` over `rows` (ties all marked).
fn mark_best(rows: &mut [Vec<Cell>], col: usize, values: &[f64], how: Best) {
    let key = |v: f64| match how {
        Best::Lowest => v,
        Best::Highest => -v,
        Best::Closest(t) => (v - t).abs(),
    };
    let best = values
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .map(key)
        .fold(f64::INFINITY, f64::min);
    if !best.is_finite() {
        return;
    }
    for (row, &v) in rows.iter_mut().zip(values) {
        if v.is_finite() && key(v) == best {
            row[col].best = true;
        }
    }
}

#[derive(Clone, Copy)]
enum Best {
    Lowest,
    Highest,
    Closest(f64),
}

/// Every model's overall backtest scores (`eval/comparison.csv`).
pub fn comparison_table(c: &Comparison, n_series: usize) -> String {
    let mut header: Vec<String> = [
        "model",
        "MAE",
        "RMSE",
        "sMAPE",
        "MASE",
        "q-Risk P50",
        "q-Risk P90",
        "coverage 80%",
    ]
    .map(String::from)
    .to_vec();
    header.extend(["series won", "fallbacks", "points", "missing"].map(String::from));
    let mut rows: Vec<Vec<Cell>> = c
        .models
        .iter()
        .map(|m| {
            let mut r = vec![
                Cell::text(&m.model),
                Cell::number(m.mae),
                Cell::number(m.rmse),
                Cell::number(m.smape),
                Cell::number(m.mase),
                Cell::number(m.qrisk50),
                Cell::number(m.qrisk90),
                Cell::number(m.coverage80),
            ];
            r.push(Cell {
                text: format!("{} / {n_series}", m.wins),
                numeric: true,
                best: false,
            });
            r.extend([
                Cell::count(m.fallbacks),
                Cell::count(m.points),
                Cell::count(m.missing),
            ]);
            r
        })
        .collect();
    let column =
        |f: &dyn Fn(&super::ModelRow) -> f64| -> Vec<f64> { c.models.iter().map(f).collect() };
    let lowest: [(usize, Vec<f64>); 6] = [
        (1, column(&|m| m.mae)),
        (2, column(&|m| m.rmse)),
        (3, column(&|m| m.smape)),
        (4, column(&|m| m.mase)),
        (5, column(&|m| m.qrisk50)),
        (6, column(&|m| m.qrisk90)),
    ];
    for (col, values) in &lowest {
        mark_best(&mut rows, *col, values, Best::Lowest);
    }
    mark_best(&mut rows, 7, &column(&|m| m.coverage80), Best::Closest(0.8));
    let wins = column(&|m| m.wins as f64);
    mark_best(&mut rows, 8, &wins, Best::Highest);
    table(&Table {
        class: "scores comparison",
        header,
        rows,
        row_class: Vec::new(),
    })
}

/// Every model's pinball loss per quantile level (a table of its own: with the headline
/// scores it would not fit a page's width).
pub fn pinball_table(c: &Comparison) -> String {
    let mut header = vec!["model".to_string()];
    header.extend(c.levels.iter().map(|l| format!("q{l}")));
    let value = |m: &super::ModelRow, i: usize| m.pinball.get(i).copied().unwrap_or(f64::NAN);
    let mut rows: Vec<Vec<Cell>> = c
        .models
        .iter()
        .map(|m| {
            let mut r = vec![Cell::text(&m.model)];
            r.extend((0..c.levels.len()).map(|i| Cell::number(value(m, i))));
            r
        })
        .collect();
    for i in 0..c.levels.len() {
        let values: Vec<f64> = c.models.iter().map(|m| value(m, i)).collect();
        mark_best(&mut rows, 1 + i, &values, Best::Lowest);
    }
    table(&Table {
        class: "scores pinball",
        header,
        rows,
        row_class: Vec::new(),
    })
}

/// Series won per model.
pub fn win_counts_table(w: &Winners) -> String {
    let counts = w.counts();
    let total = w.rows.len().max(1) as f64;
    let mut rows: Vec<Vec<Cell>> = counts
        .iter()
        .map(|(m, n)| {
            vec![
                Cell::text(m),
                Cell::count(*n),
                Cell {
                    text: format!("{:.1}%", 100.0 * *n as f64 / total),
                    numeric: true,
                    best: false,
                },
            ]
        })
        .collect();
    let values: Vec<f64> = counts.iter().map(|(_, n)| *n as f64).collect();
    mark_best(&mut rows, 1, &values, Best::Highest);
    table(&Table {
        class: "scores win-counts",
        header: ["model", "series won", "share"].map(String::from).to_vec(),
        rows,
        row_class: Vec::new(),
    })
}

/// The series the TFT is far behind on, with the best baseline there and why.
pub fn behind_table(rows: &[BehindRow]) -> String {
    table(&Table {
        class: "scores behind",
        header: [
            "series",
            "model",
            "MASE",
            "best baseline",
            "its MASE",
            "ratio",
            "why",
        ]
        .map(String::from)
        .to_vec(),
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    Cell::text(&r.series),
                    Cell::text(&r.model),
                    Cell::number(r.mase),
                    Cell::text(&r.best_baseline),
                    Cell::number(r.best_mase),
                    Cell {
                        text: format!("{:.2}", r.ratio),
                        numeric: true,
                        best: false,
                    },
                    Cell::text(&r.explanation),
                ]
            })
            .collect(),
        row_class: Vec::new(),
    })
}

/// Per series: the winner and every model's MASE, the winner's cell marked.
pub fn winners_table(w: &Winners) -> String {
    let with_clusters = w.rows.iter().any(|r| !r.cluster.is_empty());
    let mut header = vec!["series".to_string()];
    if with_clusters {
        header.push("cluster".into());
    }
    header.push("winner".into());
    header.extend(w.models.iter().map(|m| format!("{m} MASE")));
    let rows = w
        .rows
        .iter()
        .map(|r| {
            let mut row = vec![Cell::text(&r.series)];
            if with_clusters {
                row.push(Cell::text(&r.cluster));
            }
            row.push(Cell::text(&r.winner));
            for (m, v) in w.models.iter().zip(&r.mase) {
                let mut cell = Cell::number(*v);
                cell.best = *m == r.winner;
                row.push(cell);
            }
            row
        })
        .collect();
    table(&Table {
        class: "scores winners",
        header,
        rows,
        row_class: Vec::new(),
    })
}

/// Per group (cluster or backtest window, named in the first column `label`), every model's
/// scores, the best of each group marked.
pub fn group_table(rows: &[GroupRow], label: &str, class: &'static str) -> String {
    let mut groups: Vec<&str> = Vec::new();
    for r in rows {
        if !groups.contains(&r.group.as_str()) {
            groups.push(&r.group);
        }
    }
    let mut out_rows = Vec::new();
    let mut classes = Vec::new();
    for (k, group) in groups.iter().enumerate() {
        let members: Vec<&GroupRow> = rows.iter().filter(|r| r.group == *group).collect();
        let mut block: Vec<Vec<Cell>> = members
            .iter()
            .map(|r| {
                vec![
                    Cell::text(&r.group),
                    Cell::count(r.series),
                    Cell::text(&r.model),
                    Cell::number(r.mase),
                    Cell::number(r.qrisk50),
                    Cell::number(r.qrisk90),
                    Cell::number(r.coverage80),
                ]
            })
            .collect();
        let values: Vec<f64> = members.iter().map(|r| r.mase).collect();
        mark_best(&mut block, 3, &values, Best::Lowest);
        let q50: Vec<f64> = members.iter().map(|r| r.qrisk50).collect();
        mark_best(&mut block, 4, &q50, Best::Lowest);
        let q90: Vec<f64> = members.iter().map(|r| r.qrisk90).collect();
        mark_best(&mut block, 5, &q90, Best::Lowest);
        let cov: Vec<f64> = members.iter().map(|r| r.coverage80).collect();
        mark_best(&mut block, 6, &cov, Best::Closest(0.8));
        classes.extend(std::iter::repeat_n(
            Some(if k % 2 == 0 { "group-a" } else { "group-b" }),
            block.len(),
        ));
        out_rows.extend(block);
    }
    table(&Table {
        class,
        header: [
            label,
            "series",
            "model",
            "MASE",
            "q-Risk P50",
            "q-Risk P90",
            "coverage 80%",
        ]
        .map(String::from)
        .to_vec(),
        rows: out_rows,
        row_class: classes,
    })
}

/// The tuner's `trials.csv`, the winning trials' rows marked; columns that are empty in every
/// row are left out.
pub fn trial_table(e: &Experiment) -> String {
    let keep: Vec<usize> = (0..e.header.len())
        .filter(|&c| {
            e.rows
                .iter()
                .any(|r| r.get(c).is_some_and(|v| !v.is_empty()))
        })
        .collect();
    let rows = e
        .rows
        .iter()
        .map(|r| {
            keep.iter()
                .map(|&c| {
                    let v = r.get(c).cloned().unwrap_or_default();
                    let parsed = v.parse::<f64>().ok().filter(|_| !v.is_empty());
                    // Losses come with every digit of an f32; four decimals are what a reader
                    // compares (trials.csv keeps them all).
                    let long = v.split_once('.').is_some_and(|(_, f)| f.len() > 4);
                    Cell {
                        numeric: parsed.is_some(),
                        text: match parsed {
                            Some(x) if long && !v.contains(['e', 'E']) => num(x),
                            _ => v,
                        },
                        best: false,
                    }
                })
                .collect()
        })
        .collect();
    table(&Table {
        class: "trials",
        header: keep.iter().map(|&c| e.header[c].clone()).collect(),
        rows,
        row_class: e.best.iter().map(|&b| b.then_some("best")).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html::{ModelRow, WinnerRow};

    fn model(name: &str, mase: f64, coverage: f64, wins: usize) -> ModelRow {
        ModelRow {
            model: name.into(),
            series: 2,
            points: 28,
            missing: 0,
            mae: mase * 10.0,
            rmse: mase * 12.0,
            smape: 0.1,
            mase,
            pinball: vec![0.5 * mase],
            qrisk50: mase / 5.0,
            qrisk90: mase / 6.0,
            coverage80: coverage,
            fallbacks: 0,
            wins,
        }
    }

    #[test]
    fn the_comparison_marks_the_best_of_each_column() {
        let c = Comparison {
            levels: vec![0.5],
            models: vec![model("<TFT>", 0.7, 0.95, 1), model("ETS", 0.9, 0.78, 1)],
        };
        let html = table_cells(&comparison_table(&c, 2));
        // TFT: lowest MASE; ETS: coverage nearest 80%.
        assert!(html[0].contains(&("&lt;TFT&gt;".to_string(), false)));
        assert!(html[0].contains(&("0.7000".to_string(), true)));
        assert!(html[0].contains(&("0.9500".to_string(), false)));
        assert!(html[1].contains(&("0.7800".to_string(), true)));
        assert!(html[1].contains(&("1 / 2".to_string(), true)));
        let pinball = table_cells(&pinball_table(&c));
        assert_eq!(
            pinball[0],
            vec![("&lt;TFT&gt;".into(), false), ("0.3500".into(), true)]
        );
        assert_eq!(pinball[1][1], ("0.4500".into(), false));
    }

    /// `(text, marked best)` of every cell, per body row.
    fn table_cells(html: &str) -> Vec<Vec<(String, bool)>> {
        let body = &html[html.find("<tbody>").unwrap()..];
        body.split("<tr")
            .skip(1)
            .map(|row| {
                row.split("<td")
                    .skip(1)
                    .map(|cell| {
                        let open = cell.find('>').unwrap();
                        let close = cell.find("</td>").unwrap();
                        (
                            cell[open + 1..close].to_string(),
                            cell[..open].contains("best"),
                        )
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn winners_count_and_mark_the_winning_model() {
        let w = Winners {
            models: vec!["A".into(), "B".into()],
            rows: vec![
                WinnerRow {
                    series: "s1".into(),
                    cluster: "0".into(),
                    winner: "B".into(),
                    mase: vec![1.0, 0.5],
                },
                WinnerRow {
                    series: "s2".into(),
                    cluster: "1".into(),
                    winner: "B".into(),
                    mase: vec![2.0, f64::NAN],
                },
            ],
        };
        assert_eq!(w.counts(), vec![("A".into(), 0), ("B".into(), 2)]);
        let cells = table_cells(&winners_table(&w));
        assert_eq!(
            cells[0],
            vec![
                ("s1".into(), false),
                ("0".into(), false),
                ("B".into(), false),
                ("1.0000".into(), false),
                ("0.5000".into(), true)
            ]
        );
        assert_eq!(cells[1][4], ("-".into(), true));
        let counts = table_cells(&win_counts_table(&w));
        assert_eq!(counts[1][1], ("2".into(), true));
    }

    #[test]
    fn trial_tables_drop_empty_columns_and_mark_the_best_trials() {
        let e = Experiment {
            header: vec!["trial_id".into(), "message".into(), "best_val_loss".into()],
            rows: vec![
                vec!["t0".into(), "".into(), "0.5".into()],
                vec!["t1".into(), "".into(), "0.4".into()],
                vec!["t2".into(), "".into(), "0.3898279368877411".into()],
            ],
            best: vec![false, true, false],
            curves_svg: crate::html::Part::Omitted("none".into()),
        };
        let html = trial_table(&e);
        assert!(!html.contains("message"));
        assert!(html.contains("<tr class=\"best\"><td>t1</td><td class=\"num\">0.4</td>"));
        assert!(html.contains("<td>t2</td><td class=\"num\">0.3898</td>"));
    }
}
