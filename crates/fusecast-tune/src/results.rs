//! What an experiment leaves for its user: the best trial by one rule (the best validation
//! metric of any epoch, with that epoch's checkpoint, which is the trial's `best/` artifact),
//! `trials.csv` marking exactly that trial (per cluster for `per_cluster`), `best.toml`, and a
//! summary with every trial's validation curve.

use std::fmt::Write as _;

use fusecast_data::csvline::quote;
use fusecast_eval::html::escape;
use fusecast_pipeline::events::TrialStatus;

use crate::experiment::TrialState;
use crate::space::{describe, Scope, TuneConfig};
use crate::trial::{DataCache, TrialSpec};

/// The winners: one trial for `global`, one per cluster of the winning assignment for
/// `per_cluster`.
#[derive(Clone, Debug, PartialEq)]
pub struct Best {
    /// The assignment (group) that won and its validation score.
    pub group: String,
    pub score: f64,
    pub trials: Vec<usize>,
    /// Per group: its score and its best trial per cluster (for the assembly of each).
    pub groups: Vec<(String, f64, Vec<usize>)>,
}

fn best_value(tune: &TuneConfig, st: &TrialState) -> Option<(usize, f64)> {
    match st.status {
        TrialStatus::Error => None,
        _ => tune
            .settings
            .metric
            .best(&st.history)
            .filter(|(_, v)| v.is_finite()),
    }
}

/// Per group, the best trial of each of its clusters (lowest best metric; the earlier trial on
/// a tie), and the group's score: the mean of those metrics weighted by the clusters' series
/// counts (exact for the loss and MAE, which are means over equally many windows per series).
pub fn choose(
    tune: &TuneConfig,
    specs: &[TrialSpec],
    states: &[TrialState],
    cache: &DataCache,
) -> Option<Best> {
    let mut groups: Vec<String> = Vec::new();
    for s in specs {
        if !groups.contains(&s.group) {
            groups.push(s.group.clone());
        }
    }
    let mut scored = Vec::new();
    for g in groups {
        let members: Vec<usize> = (0..specs.len()).filter(|&i| specs[i].group == g).collect();
        let mut clusters: Vec<Option<usize>> = members.iter().map(|&i| specs[i].cluster).collect();
        clusters.dedup();
        clusters.sort();
        clusters.dedup();
        let mut chosen = Vec::new();
        let (mut sum, mut weight) = (0.0, 0.0);
        let mut complete = true;
        for c in clusters {
            let best = members
                .iter()
                .filter(|&&i| specs[i].cluster == c)
                .filter_map(|&i| best_value(tune, &states[i]).map(|(_, v)| (i, v)))
                .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
            let Some((i, v)) = best else {
                complete = false;
                break;
            };
            let n = cache
                .get(&specs[i].config)
                .map_or(1, |p| p.panel.n_series()) as f64;
            sum += v * n;
            weight += n;
            chosen.push(i);
        }
        if complete && !chosen.is_empty() {
            scored.push((g, sum / weight, chosen));
        }
    }
    let win = scored.iter().min_by(|a, b| a.1.total_cmp(&b.1))?.clone();
    Some(Best {
        group: win.0,
        score: win.1,
        trials: win.2,
        groups: scored,
    })
}

/// `trials.csv`: one row per trial.
pub fn trials_csv(
    tune: &TuneConfig,
    specs: &[TrialSpec],
    states: &[TrialState],
    best: Option<&Best>,
) -> String {
    let keys: Vec<&String> = tune.dimensions.iter().map(|(k, _)| k).collect();
    let mut out = String::from("trial_id,group,cluster");
    for k in &keys {
        out.push(',');
        out.push_str(&quote(k));
    }
    let metric = tune.settings.metric.name();
    let _ = writeln!(
        out,
        ",status,epochs,best_{metric},best_epoch,last_{metric},wall_s,setup_s,best,run_dir,message"
    );
    for (i, (spec, st)) in specs.iter().zip(states).enumerate() {
        let _ = write!(
            out,
            "{},{},{}",
            spec.id,
            quote(&spec.group),
            spec.cluster.map_or(String::new(), |c| c.to_string())
        );
        for k in &keys {
            let v = spec.params.get(*k).map_or(String::new(), |v| v.to_string());
            let _ = write!(out, ",{}", quote(&v));
        }
        let (be, bv) = best_value(tune, st).map_or((String::new(), String::new()), |(e, v)| {
            (e.to_string(), v.to_string())
        });
        let last = st
            .history
            .last()
            .map_or(String::new(), |m| tune.settings.metric.of(m).to_string());
        let _ = writeln!(
            out,
            ",{},{},{bv},{be},{last},{:.3},{},{},{},{}",
            st.status.label(),
            st.history.len(),
            st.history.last().map_or(0.0, |m| m.wall_s),
            st.setup_s.map_or(String::new(), |s| format!("{s:.4}")),
            best.is_some_and(|b| b.trials.contains(&i)),
            quote(&spec.config.run_dir().root().display().to_string()),
            quote(st.message.as_deref().unwrap_or("")),
        );
    }
    out
}

/// `best.toml`: the winning configuration, per cluster for `per_cluster`.
pub fn best_toml(
    tune: &TuneConfig,
    specs: &[TrialSpec],
    states: &[TrialState],
    best: &Best,
) -> String {
    let metric = tune.settings.metric.name();
    let mut out = format!(
        "# The best trial{} by the best validation {metric} of any epoch; its model is the trial's best/ artifact.\nmetric = \"{metric}\"\nscope = \"{}\"\ngroup = {}\nscore = {}\n",
        if tune.settings.scope == Scope::PerCluster { " of each cluster of the winning assignment" } else { "" },
        match tune.settings.scope { Scope::PerCluster => "per_cluster", Scope::Global => "global" },
        toml::Value::String(best.group.clone()),
        best.score
    );
    for &i in &best.trials {
        let (spec, st) = (&specs[i], &states[i]);
        let (epoch, value) = best_value(tune, st).unwrap_or((0, f64::NAN));
        let _ = writeln!(out, "\n[[trial]]\nid = \"{}\"", spec.id);
        if let Some(c) = spec.cluster {
            let _ = writeln!(out, "cluster = {c}");
        }
        let _ = writeln!(
            out,
            "{metric} = {value}\nepoch = {epoch}\nrun_dir = {}\nmodel = {}",
            toml::Value::String(spec.config.run_dir().root().display().to_string()),
            toml::Value::String(spec.config.run_dir().best().display().to_string())
        );
        let _ = writeln!(out, "[trial.params]");
        for (k, v) in &spec.params {
            let _ = writeln!(out, "{} = {v}", toml::Value::String(k.clone()));
        }
    }
    out
}

/// Every trial's validation curve as one SVG: a line per trial, ending in a cross where the
/// scheduler stopped it. Its text is escaped: the HTML report inlines it as it is.
pub fn curves_svg(tune: &TuneConfig, specs: &[TrialSpec], states: &[TrialState]) -> String {
    let (w, h, pad) = (720.0, 420.0, 50.0);
    let metric = tune.settings.metric;
    let points: Vec<Vec<(f64, f64)>> = states
        .iter()
        .map(|s| {
            s.history
                .iter()
                .map(|m| (m.epoch as f64, metric.of(m)))
                .filter(|p| p.1.is_finite())
                .collect()
        })
        .collect();
    let all: Vec<&(f64, f64)> = points.iter().flatten().collect();
    let (x1, y0, y1) = (
        all.iter().map(|p| p.0).fold(1.0, f64::max),
        all.iter().map(|p| p.1).fold(f64::INFINITY, f64::min),
        all.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max),
    );
    let (y0, y1) = if y0.is_finite() && y1 > y0 {
        (y0, y1)
    } else {
        (0.0, 1.0)
    };
    let sx = |x: f64| pad + (x - 1.0) / (x1 - 1.0).max(1.0) * (w - 2.0 * pad);
    let sy = |y: f64| h - pad - (y - y0) / (y1 - y0) * (h - 2.0 * pad);
    let colors = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
        "#bcbd22", "#17becf",
    ];
    let mut svg = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    let _ = writeln!(svg, "<text x=\"{pad}\" y=\"20\" font-size=\"14\">validation {} per epoch, every trial (x: stopped by the scheduler)</text>", metric.name());
    let _ = writeln!(svg, "<line x1=\"{pad}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/><line x1=\"{pad}\" y1=\"{pad}\" x2=\"{pad}\" y2=\"{}\" stroke=\"black\"/>", h - pad, w - pad, h - pad, h - pad);
    for k in 0..=4 {
        let y = y0 + (y1 - y0) * k as f64 / 4.0;
        let _ = writeln!(svg, "<text x=\"4\" y=\"{:.1}\">{y:.4}</text>", sy(y) + 4.0);
    }
    let _ = writeln!(
        svg,
        "<text x=\"{:.1}\" y=\"{}\">epoch 1</text><text x=\"{:.1}\" y=\"{}\">epoch {x1}</text>",
        sx(1.0),
        h - pad + 16.0,
        sx(x1) - 40.0,
        h - pad + 16.0
    );
    for (i, (pts, st)) in points.iter().zip(states).enumerate() {
        let color = colors[i % colors.len()];
        let path: Vec<String> = pts
            .iter()
            .map(|(x, y)| format!("{:.1},{:.1}", sx(*x), sy(*y)))
            .collect();
        let _ = writeln!(svg, "<polyline class=\"curve\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" points=\"{}\"><title>{} {}</title></polyline>", path.join(" "), escape(&specs[i].id), escape(&describe(&specs[i].params)));
        if let (TrialStatus::Stopped, Some((x, y))) = (st.status, pts.last()) {
            let (cx, cy) = (sx(*x), sy(*y));
            let _ = writeln!(svg, "<path class=\"stop\" d=\"M{:.1},{:.1}L{:.1},{:.1}M{:.1},{:.1}L{:.1},{:.1}\" stroke=\"{color}\" stroke-width=\"2\"/>", cx - 4.0, cy - 4.0, cx + 4.0, cy + 4.0, cx - 4.0, cy + 4.0, cx + 4.0, cy - 4.0);
        }
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"{color}\">{}</text>",
            w - pad + 4.0,
            pad + 12.0 * i as f64,
            escape(&specs[i].id)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// `tune.md`: the trial table and the winners.
pub fn summary(
    tune: &TuneConfig,
    specs: &[TrialSpec],
    states: &[TrialState],
    best: Option<&Best>,
    notes: &[String],
) -> String {
    let metric = tune.settings.metric.name();
    let mut out = format!("# Tuning experiment\n\n{} trials, scheduler {:?}, metric {metric} (validation, lower is better).\n\n![validation curves](curves.svg)\n\n", specs.len(), tune.settings.scheduler);
    let _ = writeln!(out, "| trial | params | status | epochs | best {metric} | best epoch |\n|---|---|---|---:|---:|---:|");
    for (spec, st) in specs.iter().zip(states) {
        let b = tune.settings.metric.best(&st.history);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            spec.id,
            describe(&spec.params),
            st.status.label(),
            st.history.len(),
            b.map_or("-".into(), |(_, v)| format!("{v:.4}")),
            b.map_or("-".into(), |(e, _)| e.to_string())
        );
    }
    if let Some(b) = best {
        let _ = writeln!(out, "\n## Assignments (validation {metric}, series-weighted over clusters)\n\n| assignment | score | trials |\n|---|---:|---|");
        for (g, s, t) in &b.groups {
            let ids: Vec<&str> = t.iter().map(|&i| specs[i].id.as_str()).collect();
            let _ = writeln!(out, "| {g} | {s:.4} | {} |", ids.join(", "));
        }
        let _ = writeln!(out, "\nBest: **{}** (score {:.4}).", b.group, b.score);
    }
    for n in notes {
        let _ = writeln!(out, "\n{n}");
    }
    out
}
