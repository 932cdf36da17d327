//! `report.html` end to end: a tiny run writes it with every section, its numbers are the ones
//! of the evaluation's files, `fusecast report` rewrites the same page from disk, a run without
//! a TFT still renders (notes in place of the missing parts), an experiment's page has its
//! trials, and headless Chromium loads the page with its plots (when Chromium is installed).

mod common;

use common::*;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const CONFIG: &str =
    "[data]\nstart = \"2022-01-01\"\nend = \"2022-06-30\"\n[data.synthetic]\nzones = 6\n\
[clusters]\nmethod = \"kmeans-profile\"\nk = 2\n\
[windows]\nencoder_length = 14\nhorizon = 7\nvalidation_periods = 14\ntest_periods = 14\n\
[model]\nhidden_size = 8\nattention_heads = 2\nhidden_continuous_size = 4\n\
[train]\nbatch_size = 32\nmax_epochs = 3\nbatches_per_epoch = 2\n\
[baselines]\nmodels = [\"seasonal_naive\", \"naive\"]\n";

/// One tiny run shared by the tests that read it (made once, by whichever test comes first).
fn tiny_run() -> &'static Path {
    static RUN: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, run) = RUN.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("tiny.toml");
        std::fs::write(&cfg, CONFIG).unwrap();
        let (ok, stdout, stderr) =
            fusecast(dir.path(), &["run", cfg.to_str().unwrap(), "--name", "r"]);
        assert!(ok, "{stderr}");
        assert!(stdout.contains("report.html"), "{stdout}");
        let run = dir.path().join("runs/r");
        (dir, run)
    });
    run
}

/// The page's table `class` shows the rows of `path` (grouped by column `group`), in any order;
/// returns them as (group, series, model, mase, qrisk50, qrisk90, coverage80).
fn group_table_matches(html: &str, path: &Path, group: &str, class: &str) -> Vec<Vec<String>> {
    let (h, rows) = csv(path);
    let c = |name: &str| h.iter().position(|x| x == name).unwrap();
    let mut want: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            [
                group,
                "series",
                "model",
                "mase",
                "qrisk50",
                "qrisk90",
                "coverage80",
            ]
            .iter()
            .map(|name| r[c(name)].clone())
            .collect()
        })
        .collect();
    let mut got = table(html, class);
    want.sort();
    got.sort();
    assert_eq!(got, want, "{}", path.display());
    want
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = read(path);
    let mut lines = text.lines().map(split);
    let header = lines.next().unwrap();
    (header, lines.collect())
}

/// A CSV line's fields (quoted fields may hold commas).
fn split(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    for ch in line.chars() {
        match ch {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The body cells of the first table with `class`, as text.
fn table(html: &str, class: &str) -> Vec<Vec<String>> {
    let start = html
        .find(&format!("<table class=\"{class}\""))
        .unwrap_or_else(|| panic!("no table {class}"));
    let rest = &html[start..];
    let body = &rest[rest.find("<tbody>").unwrap()..rest.find("</table>").unwrap()];
    body.split("<tr")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let open = cell.find('>').unwrap();
                    unescape(&cell[open + 1..cell.find("</td>").unwrap()])
                })
                .collect()
        })
        .collect()
}

/// The HTML of section `id`.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<section id=\"{id}\""))
        .unwrap_or_else(|| panic!("no section {id}"));
    let end = start + html[start..].find("</section>").unwrap();
    &html[start..end]
}

#[test]
fn a_run_writes_a_report_with_every_section_and_the_evaluations_numbers() {
    let run = tiny_run();
    let html = read(&run.join("report.html"));
    for id in [
        "comparison",
        "winners",
        "behind",
        "clusters",
        "forecasts",
        "interpretation",
        "training",
    ] {
        assert!(
            html.contains(&format!("<section id=\"{id}\"><h2>")),
            "section {id} missing or omitted:\n{}",
            &section(&html, id)[..200.min(section(&html, id).len())]
        );
    }
    assert!(!html.contains("id=\"experiment\""));
    assert!(!html.contains("https://") && !html.contains("<link") && !html.contains("src="));

    // Every model's scores, as eval/comparison.csv has them.
    let (h, rows) = csv(&run.join("eval/comparison.csv"));
    let col = |name: &str| h.iter().position(|x| x == name).unwrap();
    let n_series = rows[0][col("series")].clone();
    let shown = table(&html, "scores comparison");
    assert_eq!(shown.len(), rows.len());
    let pinball: Vec<usize> = (0..h.len())
        .filter(|&i| h[i].starts_with("pinball_q"))
        .collect();
    for (r, cells) in rows.iter().zip(&shown) {
        let mut want: Vec<String> = [
            "model",
            "mae",
            "rmse",
            "smape",
            "mase",
            "qrisk50",
            "qrisk90",
            "coverage80",
        ]
        .iter()
        .map(|c| r[col(c)].clone())
        .collect();
        want.push(format!("{} / {n_series}", r[col("wins")]));
        want.extend(["fallbacks", "points", "missing"].map(|c| r[col(c)].clone()));
        assert_eq!(cells, &want);
    }
    let shown = table(&html, "scores pinball");
    for (r, cells) in rows.iter().zip(&shown) {
        let mut want = vec![r[0].clone()];
        want.extend(pinball.iter().map(|&i| r[i].clone()));
        assert_eq!(cells, &want);
    }
    assert_eq!(shown.len(), rows.len());
    assert_eq!(pinball.len(), 3);
    let models: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(models, ["SeasonalNaive", "Naive", "Selected", "TFT"]);

    // Wins per model and the winner of every series, as winners.csv has them.
    let counts = table(&html, "scores win-counts");
    for (r, cells) in rows.iter().zip(&counts) {
        assert_eq!((&cells[0], &cells[1]), (&r[0], &r[col("wins")]));
    }
    let (wh, winners) = csv(&run.join("eval/winners.csv"));
    let per_series = table(&html, "scores winners");
    assert_eq!(per_series.len(), winners.len());
    for (w, cells) in winners.iter().zip(&per_series) {
        // series, cluster, winner, then each model's MASE.
        assert_eq!(cells, w, "{wh:?}");
    }

    // The series the TFT is over 2x the best baseline on: exactly those of winners.csv's MASEs,
    // each in tft_behind.csv and on the page with its baseline and reason.
    let (bh, behind) = csv(&run.join("eval/tft_behind.csv"));
    let bc = |name: &str| bh.iter().position(|x| x == name).unwrap();
    let wc = |name: &str| wh.iter().position(|x| x == name).unwrap();
    let mase = |r: &[String], m: &str| r[wc(&format!("{m}_mase"))].parse::<f64>().ok();
    let mut want: Vec<String> = winners
        .iter()
        .filter(|w| {
            let best = ["SeasonalNaive", "Naive"]
                .iter()
                .filter_map(|m| mase(w, m))
                .fold(f64::INFINITY, f64::min);
            mase(w, "TFT").is_some_and(|t| t > 2.0 * best && t >= 0.01)
        })
        .map(|w| w[0].clone())
        .collect();
    let mut listed: Vec<String> = behind.iter().map(|r| r[bc("series_id")].clone()).collect();
    want.sort();
    listed.sort();
    assert_eq!(listed, want, "{behind:?}");
    let kinds = [
        "few_counts",
        "level_moved",
        "level_moving",
        "baseline_near_exact",
        "not_explained",
    ];
    assert!(behind
        .iter()
        .all(|r| kinds.contains(&r[bc("reason")].as_str())));
    let shown = section(&html, "behind");
    assert!(shown.starts_with("<section id=\"behind\"><h2>"), "{shown}");
    if behind.is_empty() {
        assert!(shown.contains("No series"), "{shown}");
    } else {
        let cells = table(shown, "scores behind");
        assert_eq!(cells.len(), behind.len());
        for (r, c) in behind.iter().zip(&cells) {
            assert_eq!(
                (&c[0], &c[1], &c[3], &c[6]),
                (
                    &r[bc("series_id")],
                    &r[bc("model")],
                    &r[bc("best_baseline")],
                    &r[bc("explanation")]
                )
            );
        }
    }

    // Per cluster and per backtest window, as per_cluster.csv and per_window.csv have them.
    group_table_matches(
        &html,
        &run.join("eval/per_cluster.csv"),
        "cluster",
        "scores clusters",
    );
    let windows = group_table_matches(
        &html,
        &run.join("eval/per_window.csv"),
        "cutoff",
        "scores windows",
    );
    // Every series has every window, so a model's MASE is the mean of its windows'.
    for r in &rows {
        let model = &r[col("model")];
        let mase: Vec<f64> = windows
            .iter()
            .filter(|w| &w[2] == model)
            .map(|w| w[3].parse().unwrap())
            .collect();
        assert_eq!(mase.len(), 2, "{model}");
        let overall: f64 = r[col("mase")].parse().unwrap();
        assert!(
            (mase.iter().sum::<f64>() / 2.0 - overall).abs() < 1e-4,
            "{model}: windows {mase:?}, overall {overall}"
        );
    }

    // The forecasts: the best, median and worst series by TFT MASE and the largest, each with
    // the band and median of both windows and their two forecast origins.
    let forecasts = section(&html, "forecasts");
    let charts: Vec<&str> = forecasts
        .split("<svg class=\"chart chart-forecast\"")
        .skip(1)
        .collect();
    assert!(
        charts.len() >= 2 && charts.len() <= 4,
        "{} charts",
        charts.len()
    );
    for c in &charts {
        assert_eq!(c.matches("<polygon class=\"band band80\"").count(), 2);
        assert_eq!(c.matches("<polyline class=\"line median\"").count(), 2);
        assert_eq!(c.matches("<line class=\"rule\"").count(), 2);
        assert!(c.contains("<polyline class=\"line actual\""));
    }
    let tft = wh.iter().position(|x| x == "TFT_mase").unwrap();
    let best = winners
        .iter()
        .min_by(|a, b| {
            let v = |r: &Vec<String>| r[tft].parse::<f64>().unwrap_or(f64::INFINITY);
            v(a).total_cmp(&v(b))
        })
        .unwrap();
    assert!(
        forecasts.contains(&format!("{} (best TFT MASE", best[0])),
        "best series {} not drawn",
        best[0]
    );

    // The interpretation the run saved, every variable with its weight.
    let interp: serde_json::Value =
        serde_json::from_str(&read(&run.join("interpretation.json"))).unwrap();
    let part = section(&html, "interpretation");
    for set in [
        "static_importance",
        "encoder_importance",
        "decoder_importance",
    ] {
        let vars = interp[set].as_array().unwrap();
        assert!(!vars.is_empty(), "{set}");
        let total: f64 = vars.iter().map(|v| v[1].as_f64().unwrap()).sum();
        assert!((total - 1.0).abs() < 1e-4, "{set} sums to {total}");
        for v in vars {
            let (name, w) = (v[0].as_str().unwrap(), v[1].as_f64().unwrap());
            assert!(
                part.contains(&format!("{name}: {:.1}%", 100.0 * w)),
                "{set}: {name}"
            );
        }
    }
    // 6 series x 2 cutoffs; attention over the 14 encoder steps.
    assert_eq!(interp["windows"], 12);
    assert_eq!(interp["attention"][0].as_array().unwrap().len(), 14);
    assert!(part.contains("<svg class=\"chart chart-attention\""));

    // The training curve: every epoch of metrics.jsonl, the best one named with its loss.
    let metrics: Vec<serde_json::Value> = read(&run.join("metrics.jsonl"))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let best = metrics
        .iter()
        .min_by(|a, b| {
            a["val_loss"]
                .as_f64()
                .unwrap()
                .total_cmp(&b["val_loss"].as_f64().unwrap())
        })
        .unwrap();
    let part = section(&html, "training");
    assert!(
        part.contains(&format!(
            "{} epochs; best epoch {} (validation loss {:.4}",
            metrics.len(),
            best["epoch"],
            best["val_loss"].as_f64().unwrap()
        )),
        "{part}"
    );
    assert_eq!(
        part.matches("<circle class=\"dot\"").count(),
        2 * metrics.len()
    );
}

#[test]
fn the_report_command_rewrites_the_same_page_from_disk() {
    let run = tiny_run();
    let page = run.join("report.html");
    let before = read(&page);
    let copy = run.parent().unwrap().join("copy-of-r");
    copy_dir(run, &copy);
    std::fs::remove_file(copy.join("report.html")).unwrap();
    let (ok, stdout, stderr) = fusecast(run, &["report", copy.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("report.html"), "{stdout}");
    // Only the folder's name (the title) differs.
    let again = read(&copy.join("report.html")).replace("copy-of-r", "r");
    same_page(&again, &before);
    let (ok, _, stderr) = fusecast(run, &["report", "no/such/folder"]);
    assert!(!ok && stderr.contains("no/such/folder"), "{stderr}");
}

/// Two pages are the same, or the assertion shows where they first differ.
fn same_page(a: &str, b: &str) {
    if a != b {
        let at = a
            .bytes()
            .zip(b.bytes())
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len()));
        let show =
            |s: &str| s[at.saturating_sub(150).min(s.len())..(at + 150).min(s.len())].to_string();
        panic!(
            "the pages differ at byte {at}:\n{}\n---\n{}",
            show(a),
            show(b)
        );
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// No TFT and one cluster: the page still renders, with a note for each missing part.
#[test]
fn a_run_without_a_tft_or_clusters_renders_with_notes() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("plain.toml");
    let text = CONFIG
        .replace("method = \"kmeans-profile\"\nk = 2", "method = \"none\"")
        .replace("max_epochs = 3", "max_epochs = 0");
    std::fs::write(&cfg, text).unwrap();
    let cfg = cfg.to_str().unwrap();
    // The data stage alone (no training), then the baselines scored on its run directory.
    let (ok, _, stderr) = fusecast(dir.path(), &["run", cfg, "--name", "b"]);
    assert!(ok, "{stderr}");
    let (ok, _, stderr) = fusecast(dir.path(), &["evaluate", cfg, "--name", "b"]);
    assert!(ok, "{stderr}");
    let html = read(&dir.path().join("runs/b/report.html"));
    for id in ["comparison", "winners", "forecasts"] {
        assert!(html.contains(&format!("<section id=\"{id}\"><h2>")), "{id}");
    }
    for id in ["behind", "clusters", "interpretation", "training"] {
        assert!(
            html.contains(&format!("<section id=\"{id}\" class=\"omitted\"><h2>")),
            "{id} is not omitted"
        );
    }
    assert!(!dir.path().join("runs/b/eval/tft_behind.csv").exists());
    assert!(html.contains("All series are in one cluster"));
    assert!(html.contains("No interpretation.json"));
    // The best baseline is drawn with its band instead of the TFT.
    let forecasts = section(&html, "forecasts");
    assert!(forecasts.contains("<polygon class=\"band band80\""));
    assert!(!forecasts.contains("TFT"));
}

#[test]
fn an_experiments_report_has_its_trials_curves_and_winners() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("tune.toml");
    let text = CONFIG.replace("max_epochs = 3", "max_epochs = 2").to_string()
        + "[tune]\nmetric = \"val_loss\"\nscope = \"per_cluster\"\nscheduler = \"fifo\"\nmax_concurrent = 2\n\
           \"train.learning_rate\" = { grid = [1e-2, 3e-2] }\n\"clusters.k\" = { grid = [2] }\n";
    std::fs::write(&cfg, text).unwrap();
    let (ok, _, stderr) = fusecast(dir.path(), &["tune", cfg.to_str().unwrap(), "--name", "x"]);
    assert!(ok, "{stderr}");
    let exp = dir.path().join("runs/x");
    let html = read(&exp.join("report.html"));
    assert!(html.contains("<title>Fusecast tuning experiment: x</title>"));
    for id in [
        "comparison",
        "winners",
        "clusters",
        "forecasts",
        "interpretation",
        "experiment",
    ] {
        assert!(html.contains(&format!("<section id=\"{id}\"><h2>")), "{id}");
    }
    // The trial table is trials.csv (less its run_dir column), the winners marked.
    let (h, trials) = csv(&exp.join("trials.csv"));
    let shown = table(&html, "trials");
    assert_eq!(shown.len(), trials.len());
    let id = h.iter().position(|x| x == "trial_id").unwrap();
    let best = h.iter().position(|x| x == "best").unwrap();
    for (t, cells) in trials.iter().zip(&shown) {
        assert_eq!(cells[0], t[id]);
    }
    let winners = trials.iter().filter(|t| t[best] == "true").count();
    assert_eq!(winners, 2, "one best trial per cluster");
    assert_eq!(html.matches("<tr class=\"best\">").count(), winners);
    // The tuner's own curves, inlined, one line per trial.
    let curves = read(&exp.join("curves.svg"));
    assert!(html.contains(curves.trim_end()));
    assert_eq!(
        section(&html, "experiment")
            .matches("<polyline class=\"curve\"")
            .count(),
        trials.len()
    );
    // Each cluster's winning model interpreted, and the assembled TFT drawn.
    assert_eq!(
        section(&html, "interpretation")
            .matches("<h3>trial ")
            .count(),
        winners
    );
    assert!(section(&html, "forecasts").contains("TFT per-cluster"));
    // `fusecast report` on the experiment's folder writes the same page.
    std::fs::remove_file(exp.join("report.html")).unwrap();
    let (ok, _, stderr) = fusecast(dir.path(), &["report", exp.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    same_page(&read(&exp.join("report.html")), &html);
}

/// scripts/render_report.sh in headless Chromium: the page loads, its charts are SVG elements
/// in the browser's DOM, and a screenshot is taken. Runs when Chromium is installed (or fails
/// when FUSECAST_REQUIRE_CHROMIUM=1 and it is not).
#[test]
fn the_report_renders_in_headless_chromium() {
    let required = std::env::var("FUSECAST_REQUIRE_CHROMIUM").is_ok_and(|v| v == "1");
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .any(|b| {
            std::process::Command::new("sh")
                .args(["-c", &format!("command -v {b}")])
                .output()
                .is_ok_and(|o| o.status.success())
        });
    if !found {
        assert!(
            !required,
            "FUSECAST_REQUIRE_CHROMIUM=1 but no chromium on PATH (apt-get install -y chromium)"
        );
        eprintln!(
            "\n!!!!!!!! SKIPPED the_report_renders_in_headless_chromium: no chromium on PATH \
             (apt-get install -y chromium, or set FUSECAST_REQUIRE_CHROMIUM=1 to fail instead) !!!!!!!!\n"
        );
        return;
    }
    let run = tiny_run();
    let out = tempfile::tempdir().unwrap();
    let png = out.path().join("report.png");
    let result = std::process::Command::new("bash")
        .arg(root().join("scripts/render_report.sh"))
        .arg(run)
        .arg(&png)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&result.stdout);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "{stdout}\n{stderr}");
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    assert!(bytes.len() > 50_000, "screenshot of {} bytes", bytes.len());
    // The browser found as many SVG charts as the file holds.
    let dom = read(&out.path().join("report.dom.html"));
    let charts = read(&run.join("report.html"))
        .matches("<svg class=\"chart ")
        .count();
    assert!(
        dom.contains(&format!("data-charts=\"{charts}\"")),
        "the DOM does not count {charts} charts:\n{stdout}"
    );
}
