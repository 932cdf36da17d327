//! Trial schedulers with Ray Tune's rules, decision for decision (Ray 2.60's
//! `AsyncHyperBandScheduler`, `MedianStoppingRule`, `FIFOScheduler`; checked against decisions
//! Ray made, `tests/fixtures/schedulers_golden.json`). "Time" is the trial's epoch count.
//!
//! ASHA: bracket `s` has rungs at `grace * rf^(k + s)` for `k < int(ln(max_t / grace) / ln(rf)
//! - s + 1)`. A result at time `t` is judged at the highest rung `<= t` the trial has not been
//! recorded at: it stops when its reward (the metric, negated for `min`) is below the
//! `(1 - 1/rf)` percentile (numpy's linear rule) of what that rung recorded so far; it is recorded
//! either way. A result at `t >= max_t` stops the trial outright. The first trial at a rung always
//! continues. Median stopping: after `grace`, a trial whose best result is worse than the median of
//! the other trials' running means (at the same time) stops; with fewer than
//! `min_samples_required` of them it may pause to let waiting trials run.

use serde::{Deserialize, Serialize};

use crate::promotion::Promotion;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Decision {
    Continue,
    Pause,
    Stop,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Min,
    Max,
}

/// One bracket's rungs, highest milestone first, each with the rewards recorded there in
/// arrival order.
#[derive(Clone, Debug)]
struct Bracket {
    rungs: Vec<(f64, Vec<(String, f64)>)>,
}

/// `int(ln(max_t / grace) / ln(rf) - s + 1)` rungs, as Ray counts them (f64, truncated).
pub fn milestones(grace: f64, max_t: f64, rf: f64, s: usize) -> Vec<f64> {
    let count = ((max_t / grace).ln() / rf.ln() - s as f64 + 1.0) as i64;
    (0..count.max(0))
        .map(|k| grace * rf.powi(k as i32 + s as i32))
        .collect()
}

/// `np.nanpercentile(values, q_pct)` with numpy's linear interpolation, bit for bit.
pub fn percentile(values: &[f64], q_pct: f64) -> f64 {
    let mut xs: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n == 0 {
        return f64::NAN;
    }
    let q = q_pct / 100.0;
    let v = (n - 1) as f64 * q;
    if v >= (n - 1) as f64 {
        return xs[n - 1];
    }
    let lo = v.floor() as usize;
    let (a, b) = (xs[lo], xs[lo + 1]);
    let g = v - lo as f64;
    let d = b - a;
    if g < 0.5 {
        a + d * g
    } else {
        b - d * (1.0 - g)
    }
}

/// `np.mean`: numpy's pairwise sum (eight accumulators) over `n`.
pub fn numpy_mean(xs: &[f64]) -> f64 {
    fn pairwise(a: &[f64]) -> f64 {
        let n = a.len();
        if n < 8 {
            return a.iter().fold(0.0, |r, x| r + x);
        }
        if n <= 128 {
            let mut r = [0.0; 8];
            r.copy_from_slice(&a[..8]);
            let mut i = 8;
            while i < n - n % 8 {
                for j in 0..8 {
                    r[j] += a[i + j];
                }
                i += 8;
            }
            let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for x in &a[i..] {
                res += x;
            }
            return res;
        }
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise(&a[..n2]) + pairwise(&a[n2..])
    }
    pairwise(xs) / xs.len() as f64
}

fn numpy_median(xs: &[f64]) -> f64 {
    let mut s = xs.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AshaSettings {
    pub grace_period: f64,
    pub reduction_factor: f64,
    pub max_t: f64,
    pub brackets: usize,
    pub stop_last_trials: bool,
    pub mode: Mode,
}

#[derive(Clone, Debug)]
pub struct Asha {
    settings: AshaSettings,
    brackets: Vec<Bracket>,
    bracket_of: Vec<(String, usize)>,
}

impl Asha {
    pub fn new(settings: AshaSettings) -> Self {
        let brackets = (0..settings.brackets.max(1))
            .map(|s| Bracket {
                rungs: milestones(
                    settings.grace_period,
                    settings.max_t,
                    settings.reduction_factor,
                    s,
                )
                .into_iter()
                .rev()
                .map(|m| (m, Vec::new()))
                .collect(),
            })
            .collect();
        Asha {
            settings,
            brackets,
            bracket_of: Vec::new(),
        }
    }

    /// Ray's bracket probabilities: a softmax over the brackets' rung counts.
    pub fn bracket_probabilities(&self) -> Vec<f64> {
        let sizes: Vec<f64> = self.brackets.iter().map(|b| b.rungs.len() as f64).collect();
        let max = sizes.iter().copied().fold(f64::MIN, f64::max);
        let p: Vec<f64> = sizes
            .iter()
            .map(|s| std::f64::consts::E.powf(s - max))
            .collect();
        let sum: f64 = p.iter().sum();
        p.iter().map(|x| x / sum).collect()
    }

    pub fn add(&mut self, trial: &str, bracket: usize) {
        self.bracket_of
            .push((trial.to_string(), bracket.min(self.brackets.len() - 1)));
    }

    fn bracket(&mut self, trial: &str) -> Option<&mut Bracket> {
        let b = self.bracket_of.iter().find(|(t, _)| t == trial)?.1;
        self.brackets.get_mut(b)
    }

    fn sign(&self) -> f64 {
        match self.settings.mode {
            Mode::Max => 1.0,
            Mode::Min => -1.0,
        }
    }

    fn bracket_result(&mut self, trial: &str, t: f64, reward: f64) -> Decision {
        let (stop_last, rf) = (
            self.settings.stop_last_trials,
            self.settings.reduction_factor,
        );
        let Some(bracket) = self.bracket(trial) else {
            return Decision::Continue;
        };
        let mut decision = Decision::Continue;
        for (milestone, recorded) in &mut bracket.rungs {
            let seen = recorded.iter().any(|(id, _)| id == trial);
            if t >= *milestone && seen && !stop_last {
                break;
            }
            if t < *milestone || seen {
                continue;
            }
            if !recorded.is_empty() {
                let values: Vec<f64> = recorded.iter().map(|(_, r)| *r).collect();
                let cutoff = percentile(&values, (1.0 - 1.0 / rf) * 100.0);
                if reward < cutoff {
                    decision = Decision::Stop;
                }
            }
            recorded.push((trial.to_string(), reward));
            break;
        }
        decision
    }

    pub fn on_result(&mut self, trial: &str, t: Option<f64>, metric: Option<f64>) -> Decision {
        let (Some(t), Some(m)) = (t, metric) else {
            return Decision::Continue;
        };
        if t >= self.settings.max_t && self.settings.stop_last_trials {
            return Decision::Stop;
        }
        let reward = self.sign() * m;
        self.bracket_result(trial, t, reward)
    }

    pub fn on_complete(&mut self, trial: &str, t: Option<f64>, metric: Option<f64>) {
        if let (Some(t), Some(m)) = (t, metric) {
            let reward = self.sign() * m;
            self.bracket_result(trial, t, reward);
        }
        self.bracket_of.retain(|(id, _)| id != trial);
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MedianSettings {
    pub grace_period: f64,
    pub min_samples_required: usize,
    pub min_time_slice: f64,
    pub hard_stop: bool,
    pub mode: Mode,
}

#[derive(Clone, Debug)]
pub struct MedianStopping {
    settings: MedianSettings,
    /// Per trial, in order of its first result: (time, metric) of every result.
    results: Vec<(String, Vec<(f64, f64)>)>,
    stopped: Vec<String>,
    last_pause: Vec<(String, f64)>,
}

impl MedianStopping {
    pub fn new(settings: MedianSettings) -> Self {
        MedianStopping {
            settings,
            results: Vec::new(),
            stopped: Vec::new(),
            last_pause: Vec::new(),
        }
    }

    fn push(&mut self, trial: &str, t: f64, m: f64) {
        match self.results.iter_mut().find(|(id, _)| id == trial) {
            Some((_, rs)) => rs.push((t, m)),
            None => self.results.push((trial.to_string(), vec![(t, m)])),
        }
    }

    fn running_mean(&self, rs: &[(f64, f64)], t: f64) -> f64 {
        let xs: Vec<f64> = rs
            .iter()
            .filter(|(rt, _)| self.settings.grace_period <= *rt && *rt <= t)
            .map(|(_, m)| *m)
            .collect();
        if xs.is_empty() {
            f64::NAN
        } else {
            numpy_mean(&xs)
        }
    }

    /// `waiting`: whether any trial is pending or paused (a pause lets one of them run).
    pub fn on_result(
        &mut self,
        trial: &str,
        t: Option<f64>,
        metric: Option<f64>,
        waiting: bool,
    ) -> Decision {
        let (Some(t), Some(m)) = (t, metric) else {
            return Decision::Continue;
        };
        if self.stopped.iter().any(|s| s == trial) {
            return Decision::Continue;
        }
        self.push(trial, t, m);
        let s = self.settings.clone();
        if t < s.grace_period {
            return Decision::Continue;
        }
        let means: Vec<f64> = self
            .results
            .iter()
            .filter(|(id, rs)| id != trial && rs.last().is_some_and(|(rt, _)| *rt >= t))
            .map(|(_, rs)| self.running_mean(rs, t))
            .filter(|m| m.is_finite())
            .collect();
        if means.len() < s.min_samples_required {
            let last = self
                .last_pause
                .iter()
                .find(|(id, _)| id == trial)
                .map_or(f64::NEG_INFINITY, |(_, p)| *p);
            if t - last > s.min_time_slice && waiting {
                self.last_pause.retain(|(id, _)| id != trial);
                self.last_pause.push((trial.to_string(), t));
                return Decision::Pause;
            }
            return Decision::Continue;
        }
        let median = numpy_median(&means);
        let scores = &self
            .results
            .iter()
            .find(|(id, _)| id == trial)
            .expect("pushed")
            .1;
        // Python's min/max over the list: the first value unless a later one is strictly better.
        let best = scores[1..]
            .iter()
            .fold(scores[0].1, |b, (_, x)| match s.mode {
                Mode::Min if *x < b => *x,
                Mode::Max if *x > b => *x,
                _ => b,
            });
        // Python's `min(median, best) != best` (resp. max): NaN in either stops.
        let kept = match s.mode {
            Mode::Min => best < median,
            Mode::Max => best > median,
        };
        if !kept && median != best {
            self.stopped.push(trial.to_string());
            return if s.hard_stop {
                Decision::Stop
            } else {
                Decision::Pause
            };
        }
        Decision::Continue
    }

    pub fn on_complete(&mut self, trial: &str, t: Option<f64>, metric: Option<f64>) {
        if let (Some(t), Some(m)) = (t, metric) {
            self.push(trial, t, m);
        }
    }
}

/// The scheduler of an experiment.
#[derive(Clone, Debug)]
pub enum Scheduler {
    Fifo,
    Asha(Asha),
    Median(MedianStopping),
    /// ASHA with promotions ([`crate::promotion`]): paused trials go on only when promoted.
    Promotion(Promotion),
}

impl Scheduler {
    pub fn on_add(&mut self, trial: &str, bracket: usize) {
        match self {
            Scheduler::Asha(a) => a.add(trial, bracket),
            Scheduler::Promotion(p) => p.add(trial),
            Scheduler::Fifo | Scheduler::Median(_) => {}
        }
    }

    pub fn on_result(
        &mut self,
        trial: &str,
        t: Option<f64>,
        metric: Option<f64>,
        waiting: bool,
    ) -> Decision {
        match self {
            Scheduler::Fifo => Decision::Continue,
            Scheduler::Asha(a) => a.on_result(trial, t, metric),
            Scheduler::Median(m) => m.on_result(trial, t, metric, waiting),
            Scheduler::Promotion(p) => p.on_result(trial, t, metric),
        }
    }

    pub fn on_complete(&mut self, trial: &str, t: Option<f64>, metric: Option<f64>) {
        match self {
            Scheduler::Fifo => {}
            Scheduler::Asha(a) => a.on_complete(trial, t, metric),
            Scheduler::Median(m) => m.on_complete(trial, t, metric),
            Scheduler::Promotion(p) => p.on_complete(trial, t, metric),
        }
    }

    /// The paused trial a free slot should continue; only the promotion scheduler names one.
    pub fn promote(&mut self) -> Option<String> {
        match self {
            Scheduler::Promotion(p) => p.promote(),
            Scheduler::Fifo | Scheduler::Asha(_) | Scheduler::Median(_) => None,
        }
    }

    /// Whether a paused trial waits for [`Scheduler::promote`] rather than for any free slot.
    pub fn resumes_by_promotion(&self) -> bool {
        matches!(self, Scheduler::Promotion(_))
    }
}

/// The experiment's schedulers, one per contest: the trials whose metrics are compared with
/// each other. Under `per_cluster` a contest is one cluster of one assignment (its trials model
/// the same series); Ray, which does not know clusters, puts every trial in one contest, so a
/// harder cluster's trials lose to an easier one's at every rung: in the reference experiment
/// ASHA stopped all three trials of k = 2's second cluster after one epoch (its best one
/// among them), and the k = 2 assembly lost to k = 1 for it. Within a contest the rules are
/// Ray's, decision for decision.
#[derive(Clone, Debug)]
pub struct Contests {
    template: Scheduler,
    contests: Vec<(String, Scheduler)>,
    contest_of: Vec<(String, usize)>,
}

impl Contests {
    pub fn new(template: Scheduler) -> Self {
        Contests {
            template,
            contests: Vec::new(),
            contest_of: Vec::new(),
        }
    }

    /// Adds `trial` to the contest named `contest` (made on first use), in ASHA's `bracket`.
    pub fn on_add(&mut self, trial: &str, contest: &str, bracket: usize) {
        let k = match self.contests.iter().position(|(name, _)| name == contest) {
            Some(k) => k,
            None => {
                self.contests
                    .push((contest.to_string(), self.template.clone()));
                self.contests.len() - 1
            }
        };
        self.contests[k].1.on_add(trial, bracket);
        self.contest_of.push((trial.to_string(), k));
    }

    fn of(&mut self, trial: &str) -> Option<&mut Scheduler> {
        let k = self.contest_of.iter().find(|(t, _)| t == trial)?.1;
        Some(&mut self.contests[k].1)
    }

    /// An unknown trial continues (as Ray treats a trial it was not told of).
    pub fn on_result(
        &mut self,
        trial: &str,
        t: Option<f64>,
        metric: Option<f64>,
        waiting: bool,
    ) -> Decision {
        self.of(trial).map_or(Decision::Continue, |s| {
            s.on_result(trial, t, metric, waiting)
        })
    }

    pub fn on_complete(&mut self, trial: &str, t: Option<f64>, metric: Option<f64>) {
        if let Some(s) = self.of(trial) {
            s.on_complete(trial, t, metric);
        }
    }

    /// The first promotion any contest makes, contests in the order they were made.
    pub fn promote(&mut self) -> Option<String> {
        self.contests.iter_mut().find_map(|(_, s)| s.promote())
    }

    pub fn resumes_by_promotion(&self) -> bool {
        self.template.resumes_by_promotion()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asha() -> Scheduler {
        Scheduler::Asha(Asha::new(AshaSettings {
            grace_period: 1.0,
            reduction_factor: 2.0,
            max_t: 4.0,
            brackets: 1,
            stop_last_trials: true,
            mode: Mode::Min,
        }))
    }

    /// A harder cluster's trials are judged against each other only: the first of them at a
    /// rung goes on however it compares with the easier cluster's, and the worse second stops.
    #[test]
    fn trials_compete_only_within_their_contest() {
        let mut c = Contests::new(asha());
        for (trial, contest) in [("a1", "A"), ("a2", "A"), ("b1", "B"), ("b2", "B")] {
            c.on_add(trial, contest, 0);
        }
        let r = |c: &mut Contests, t: &str, m: f64| c.on_result(t, Some(1.0), Some(m), false);
        assert_eq!(r(&mut c, "a1", 0.10), Decision::Continue);
        assert_eq!(r(&mut c, "a2", 0.12), Decision::Stop);
        assert_eq!(r(&mut c, "b1", 0.50), Decision::Continue);
        assert_eq!(r(&mut c, "b2", 0.60), Decision::Stop);

        // One contest for all (Ray's way): b1 stops behind a1.
        let mut one = Contests::new(asha());
        for trial in ["a1", "b1"] {
            one.on_add(trial, "all", 0);
        }
        assert_eq!(r(&mut one, "a1", 0.10), Decision::Continue);
        assert_eq!(r(&mut one, "b1", 0.50), Decision::Stop);
        assert_eq!(
            r(&mut one, "zz", 0.90),
            Decision::Continue,
            "an unknown trial"
        );
    }
}
