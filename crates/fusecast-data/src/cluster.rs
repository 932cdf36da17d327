//! Clustering of series by the shape of their weekly profile (k-means with k-means++ seeding,
//! deterministic by seed), or explicit assignments from a CSV. The tuner searches over these.

use std::collections::HashMap;
use std::path::Path;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::csvline;
use crate::error::{DataError, Result};
use crate::panel::Panel;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Clustering {
    /// Cluster of each series, `0..k`.
    pub assignment: Vec<usize>,
    pub k: usize,
    pub report: ClusterReport,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClusterReport {
    pub method: String,
    pub sizes: Vec<usize>,
    /// Root mean squared distance of members to their centroid, per cluster (profile units:
    /// share of the mean level, so 0.1 = members deviate 10% from the cluster's shape).
    pub spread: Vec<f64>,
    /// Sum of squared distances to the centroids over all series.
    pub inertia: f64,
}

impl ClusterReport {
    pub fn table(&self) -> String {
        let mut s = format!(
            "clusters ({}):\n  cluster   series   spread (rms)\n",
            self.method
        );
        for (i, (n, sp)) in self.sizes.iter().zip(&self.spread).enumerate() {
            s.push_str(&format!("  {i:>7} {n:>8} {sp:>14.4}\n"));
        }
        s.push_str(&format!("  inertia {:.4}", self.inertia));
        s
    }
}

/// The seasonal cycle a profile averages over.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileKind {
    /// Day of week (daily data) or hour of week (hourly data).
    #[default]
    Weekly,
    /// Hour of day (hourly data only).
    Daily,
}

/// Each series' mean level per period of the cycle (7 or 168 values for a week, 24 for a day),
/// divided by the series' overall mean so that clusters group shapes, not volumes. Periods are
/// aligned on the calendar (Monday 00:00 first), not on the first timestamp of the panel.
pub fn profiles(panel: &Panel, kind: ProfileKind) -> Result<Vec<Vec<f64>>> {
    let cycle = match (kind, panel.grid.frequency) {
        (ProfileKind::Weekly, f) => f.periods_per_week(),
        (ProfileKind::Daily, crate::time::Frequency::Hourly) => 24,
        (ProfileKind::Daily, f) => {
            return Err(DataError::config(
                "clusters.profile",
                format!("a daily profile needs hourly data, the panel is {f}"),
            ))
        }
    };
    let step = panel.grid.frequency.step_seconds();
    // 1970-01-01 was a Thursday: Monday 00:00 is 3 days before it.
    let monday = -3 * crate::time::SECONDS_PER_DAY;
    let phase = |t: usize| ((panel.grid.timestamp(t) - monday).div_euclid(step) as usize) % cycle;
    Ok((0..panel.n_series())
        .map(|s| {
            let mut sum = vec![0.0; cycle];
            let mut count = vec![0usize; cycle];
            // A series' profile is over the periods it has values for.
            for (t, v) in panel.values(s).iter().enumerate() {
                if v.is_nan() {
                    continue;
                }
                sum[phase(t)] += v;
                count[phase(t)] += 1;
            }
            let mut profile: Vec<f64> = sum
                .iter()
                .zip(&count)
                .map(|(s, n)| s / (*n).max(1) as f64)
                .collect();
            let mean = profile.iter().sum::<f64>() / cycle as f64;
            if mean.abs() > 0.0 {
                profile.iter_mut().for_each(|v| *v /= mean);
            } else {
                // An all-zero series has no shape: give it the flat profile.
                profile.iter_mut().for_each(|v| *v = 1.0);
            }
            profile
        })
        .collect())
}

/// The weekly profiles (see [`profiles`]).
pub fn weekly_profiles(panel: &Panel) -> Vec<Vec<f64>> {
    profiles(panel, ProfileKind::Weekly).expect("a weekly profile exists at every frequency")
}

fn dist2(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// k-means on the rows of `points`: `restarts` k-means++ seedings, Lloyd iterations until the
/// assignment is stable, the run with the lowest inertia kept. Same seed, same result.
pub fn kmeans(points: &[Vec<f64>], k: usize, seed: u64, restarts: usize) -> Result<Clustering> {
    let n = points.len();
    if k == 0 {
        return Err(DataError::config("clusters.k", "k must be at least 1"));
    }
    if k > n {
        return Err(DataError::config(
            "clusters.k",
            format!("k = {k} but there are only {n} series"),
        ));
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut best: Option<(f64, Vec<usize>)> = None;
    for _ in 0..restarts.max(1) {
        let mut centroids = seed_plus_plus(points, k, &mut rng);
        let mut assignment = vec![usize::MAX; n];
        for _ in 0..300 {
            let mut changed = false;
            for (i, p) in points.iter().enumerate() {
                let c = nearest(p, &centroids).0;
                if assignment[i] != c {
                    assignment[i] = c;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
            centroids = centroids_of(points, &assignment, k, &centroids);
        }
        let inertia: f64 = points
            .iter()
            .zip(&assignment)
            .map(|(p, &c)| dist2(p, &centroids[c]))
            .sum();
        if best.as_ref().is_none_or(|(b, _)| inertia < *b - 1e-12) {
            best = Some((inertia, assignment));
        }
    }
    let (_, assignment) = best.expect("at least one restart");
    let assignment = relabel_by_size(&assignment, k);
    Ok(clustering(points, assignment, k, "kmeans-profile"))
}

fn seed_plus_plus(points: &[Vec<f64>], k: usize, rng: &mut StdRng) -> Vec<Vec<f64>> {
    let mut centroids = vec![points[rng.random_range(0..points.len())].clone()];
    while centroids.len() < k {
        let d: Vec<f64> = points.iter().map(|p| nearest(p, &centroids).1).collect();
        let total: f64 = d.iter().sum();
        let next = if total <= 0.0 {
            // Every point sits on a centroid already (duplicates): take any point.
            rng.random_range(0..points.len())
        } else {
            let mut r = rng.random::<f64>() * total;
            d.iter()
                .position(|w| {
                    r -= w;
                    r <= 0.0
                })
                .unwrap_or(points.len() - 1)
        };
        centroids.push(points[next].clone());
    }
    centroids
}

fn nearest(p: &[f64], centroids: &[Vec<f64>]) -> (usize, f64) {
    centroids
        .iter()
        .enumerate()
        .map(|(i, c)| (i, dist2(p, c)))
        .fold(
            (0, f64::INFINITY),
            |best, x| if x.1 < best.1 { x } else { best },
        )
}

fn centroids_of(
    points: &[Vec<f64>],
    assignment: &[usize],
    k: usize,
    previous: &[Vec<f64>],
) -> Vec<Vec<f64>> {
    let dim = points[0].len();
    let mut sums = vec![vec![0.0; dim]; k];
    let mut counts = vec![0usize; k];
    for (p, &c) in points.iter().zip(assignment) {
        counts[c] += 1;
        sums[c].iter_mut().zip(p).for_each(|(s, x)| *s += x);
    }
    sums.into_iter()
        .zip(&counts)
        .enumerate()
        .map(|(c, (s, &n))| {
            if n == 0 {
                // An emptied cluster keeps its centroid; the next assignment may refill it.
                previous[c].clone()
            } else {
                s.into_iter().map(|x| x / n as f64).collect()
            }
        })
        .collect()
}

/// Cluster 0 is the largest, ties by first member: labels do not depend on seeding order.
fn relabel_by_size(assignment: &[usize], k: usize) -> Vec<usize> {
    let mut sizes = vec![(0usize, usize::MAX); k];
    for (i, &c) in assignment.iter().enumerate() {
        sizes[c].0 += 1;
        sizes[c].1 = sizes[c].1.min(i);
    }
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|a, b| {
        sizes[*b]
            .0
            .cmp(&sizes[*a].0)
            .then(sizes[*a].1.cmp(&sizes[*b].1))
    });
    let mut label = vec![0; k];
    for (new, old) in order.into_iter().enumerate() {
        label[old] = new;
    }
    assignment.iter().map(|c| label[*c]).collect()
}

fn clustering(points: &[Vec<f64>], assignment: Vec<usize>, k: usize, method: &str) -> Clustering {
    let centroids = centroids_of(points, &assignment, k, &vec![vec![0.0; points[0].len()]; k]);
    let mut sizes = vec![0usize; k];
    let mut sq = vec![0.0; k];
    for (p, &c) in points.iter().zip(&assignment) {
        sizes[c] += 1;
        sq[c] += dist2(p, &centroids[c]);
    }
    let dim = points[0].len() as f64;
    let spread = sq
        .iter()
        .zip(&sizes)
        .map(|(s, &n)| {
            if n == 0 {
                0.0
            } else {
                (s / (n as f64 * dim)).sqrt()
            }
        })
        .collect();
    Clustering {
        assignment,
        k,
        report: ClusterReport {
            method: method.to_string(),
            sizes,
            spread,
            inertia: sq.iter().sum(),
        },
    }
}

/// Clusters the panel's series by their profile.
pub fn cluster_panel(panel: &Panel, kind: ProfileKind, k: usize, seed: u64) -> Result<Clustering> {
    kmeans(&profiles(panel, kind)?, k, seed, 8)
}

/// Every series in one cluster (the report still gives the spread of their shapes).
pub fn single(panel: &Panel) -> Clustering {
    clustering(
        &weekly_profiles(panel),
        vec![0; panel.n_series()],
        1,
        "none",
    )
}

/// The clustering report of a given assignment (`0..k` per series), e.g. one a pipeline stage
/// computed by training models.
pub fn from_assignment(
    panel: &Panel,
    assignment: Vec<usize>,
    k: usize,
    method: &str,
) -> Clustering {
    clustering(&weekly_profiles(panel), assignment, k, method)
}

/// A random partition into `k` clusters of (nearly) equal size, seeded: the control an
/// assignment must beat to be worth anything (a clustering no better than chance says nothing).
pub fn random(panel: &Panel, k: usize, seed: u64) -> Result<Clustering> {
    let n = panel.n_series();
    if k == 0 || k > n {
        return Err(DataError::config(
            "clusters.k",
            format!("k = {k} must be in 1..={n} (the number of series)"),
        ));
    }
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = StdRng::seed_from_u64(seed);
    for i in (1..n).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
    let mut assignment = vec![0; n];
    for (rank, s) in order.into_iter().enumerate() {
        assignment[s] = rank % k;
    }
    Ok(clustering(&weekly_profiles(panel), assignment, k, "random"))
}

/// Reads explicit assignments: a CSV with `series_id` and `cluster` columns. Every series of the
/// panel must appear exactly once; clusters may be any labels and are numbered in sorted order.
pub fn assignments_from_csv(path: &Path, panel: &Panel) -> Result<Clustering> {
    let text = std::fs::read_to_string(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let (header, rows) = csvline::rows(&text);
    let col = |name: &str| {
        csvline::column(&header, name).ok_or_else(|| DataError::MissingColumn {
            path: path.to_path_buf(),
            column: name.to_string(),
            why: "cluster assignments need series_id and cluster".into(),
            available: header.join(", "),
        })
    };
    let (sid, cid) = (col("series_id")?, col("cluster")?);
    let mut by_series: HashMap<String, (usize, String)> = HashMap::new();
    for (row, fields) in &rows {
        let s = fields
            .get(sid)
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        let c = fields
            .get(cid)
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        if panel.series_index(&s).is_none() {
            return Err(DataError::read(
                path,
                format!("row {row}: series {s:?} is not in the panel"),
            ));
        }
        if c.is_empty() {
            return Err(DataError::read(
                path,
                format!("row {row}: series {s:?} has an empty cluster"),
            ));
        }
        if let Some((first, _)) = by_series.insert(s.clone(), (*row, c)) {
            return Err(DataError::read(
                path,
                format!("series {s:?} is assigned twice (rows {first} and {row})"),
            ));
        }
    }
    if let Some(missing) = panel.series.iter().find(|s| !by_series.contains_key(*s)) {
        return Err(DataError::read(
            path,
            format!(
                "series {missing:?} has no cluster ({} of {} series assigned)",
                by_series.len(),
                panel.n_series()
            ),
        ));
    }
    let mut labels: Vec<&String> = by_series.values().map(|(_, c)| c).collect();
    labels.sort_by(|a, b| match (a.parse::<i64>(), b.parse::<i64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    });
    labels.dedup();
    let number: HashMap<&String, usize> = labels.iter().enumerate().map(|(i, l)| (*l, i)).collect();
    let assignment: Vec<usize> = panel
        .series
        .iter()
        .map(|s| number[&by_series[s].1])
        .collect();
    Ok(clustering(
        &weekly_profiles(panel),
        assignment,
        labels.len(),
        "explicit",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kmeans_finds_separated_groups_deterministically() {
        let mut pts = Vec::new();
        for i in 0..30 {
            let j = i as f64 * 0.001;
            pts.push(vec![0.0 + j, 0.0]);
            pts.push(vec![5.0 + j, 5.0]);
            if i < 10 {
                pts.push(vec![-5.0, 5.0 + j]);
            }
        }
        let a = kmeans(&pts, 3, 7, 4).unwrap();
        let b = kmeans(&pts, 3, 7, 4).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.report.sizes, vec![30, 30, 10]);
        // Points of one generator share a label.
        assert!(pts.iter().zip(&a.assignment).all(|(p, c)| {
            let expect = if p[0] < -1.0 {
                2
            } else if p[0] < 1.0 {
                0
            } else {
                1
            };
            *c == expect
        }));
        assert!(a.report.spread.iter().all(|s| *s < 0.02));
        assert!(kmeans(&pts, 0, 1, 1).is_err());
        assert!(kmeans(&pts[..2], 3, 1, 1).is_err());
    }
}
