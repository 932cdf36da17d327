//! ASHA with promotions, the scheduler of the ASHA paper (Li et al. 2020, "A System for Massively
//! Parallel Hyperparameter Tuning", Algorithm 2; Syne Tune's `type="promotion"`), next to Ray's
//! stopping variant in [`crate::scheduler::Asha`]. A trial pauses at every rung
//! (`grace * rf^k` below `max_t`) and goes on only when promoted: a free slot first promotes the
//! best not-yet-promoted trial of the highest rung whose top `floor(n / rf)` holds one (`n` the
//! trials recorded there so far), and only then starts a new trial.
//!
//! Why both: Ray's variant lets a trial run on whenever it beats the `1 - 1/rf` percentile of
//! what came before it, so with few trials per contest most of them run to the end (with three
//! trials, the first one at each rung always continues). Promotions only ever advance the top
//! `1/rf`, so every contest spends `n` epochs at the first rung and the rest on its best trials.
//!
//! The paper's experiments draw configurations without end; a grid runs out. Once no live trial
//! can still reach a rung (every one is recorded there or ended, and the rung below is closed with
//! its quota promoted), the rung is closed and its top `max(1, floor(n / rf))` are promoted:
//! successive halving's rule, so each contest takes at least one trial to `max_t`. Trials left
//! paused when nothing can run any more were stopped by the scheduler.

use crate::scheduler::{Decision, Mode};

#[derive(Clone, Debug, PartialEq)]
pub struct PromotionSettings {
    pub grace_period: f64,
    pub reduction_factor: f64,
    pub max_t: f64,
    pub mode: Mode,
}

#[derive(Clone, Debug)]
struct Rung {
    milestone: f64,
    /// Rewards (the metric, negated for `min`) in arrival order.
    recorded: Vec<(String, f64)>,
    promoted: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Promotion {
    settings: PromotionSettings,
    /// Lowest milestone first.
    rungs: Vec<Rung>,
    members: Vec<String>,
    ended: Vec<String>,
}

impl Promotion {
    pub fn new(settings: PromotionSettings) -> Self {
        // The config check (`tune.grace_period`, `tune.reduction_factor`) keeps these out;
        // without them the rungs below would never reach `max_t`.
        assert!(
            settings.grace_period > 0.0 && settings.reduction_factor > 1.0,
            "ASHA needs grace_period > 0 and reduction_factor > 1, got {settings:?}"
        );
        let mut rungs = Vec::new();
        let mut m = settings.grace_period;
        while m < settings.max_t {
            rungs.push(Rung {
                milestone: m,
                recorded: Vec::new(),
                promoted: Vec::new(),
            });
            m *= settings.reduction_factor;
        }
        Promotion {
            settings,
            rungs,
            members: Vec::new(),
            ended: Vec::new(),
        }
    }

    pub fn milestones(&self) -> Vec<f64> {
        self.rungs.iter().map(|r| r.milestone).collect()
    }

    pub fn add(&mut self, trial: &str) {
        self.members.push(trial.to_string());
    }

    fn reward(&self, metric: f64) -> f64 {
        match self.settings.mode {
            Mode::Max => metric,
            Mode::Min => -metric,
        }
    }

    fn record(&mut self, trial: &str, t: f64, metric: f64) -> bool {
        let reward = self.reward(metric);
        let Some(rung) = self
            .rungs
            .iter_mut()
            .find(|r| r.milestone <= t && r.recorded.iter().all(|(id, _)| id != trial))
        else {
            return false;
        };
        rung.recorded.push((trial.to_string(), reward));
        true
    }

    /// A result at time `t`: `Stop` at `max_t`, `Pause` at a rung (until promoted), else
    /// `Continue`.
    pub fn on_result(&mut self, trial: &str, t: Option<f64>, metric: Option<f64>) -> Decision {
        let (Some(t), Some(m)) = (t, metric) else {
            return Decision::Continue;
        };
        if t >= self.settings.max_t {
            return Decision::Stop;
        }
        if self.record(trial, t, m) {
            Decision::Pause
        } else {
            Decision::Continue
        }
    }

    /// The trial ended (its budget, early stopping, the scheduler, an error): it is ranked by its
    /// last result where that reached a rung, and never promoted.
    pub fn on_complete(&mut self, trial: &str, t: Option<f64>, metric: Option<f64>) {
        if let (Some(t), Some(m)) = (t, metric) {
            if t < self.settings.max_t {
                self.record(trial, t, m);
            }
        }
        if !self.ended.iter().any(|e| e == trial) {
            self.ended.push(trial.to_string());
        }
    }

    fn ended(&self, trial: &str) -> bool {
        self.ended.iter().any(|e| e == trial)
    }

    /// Rung `k`'s trials, best first (ties in arrival order; NaN last).
    fn ranking(&self, k: usize) -> Vec<&str> {
        let mut r: Vec<&(String, f64)> = self.rungs[k].recorded.iter().collect();
        r.sort_by(|a, b| match (a.1.is_nan(), b.1.is_nan()) {
            (false, false) => b.1.total_cmp(&a.1),
            (x, y) => x.cmp(&y),
        });
        r.into_iter().map(|(id, _)| id.as_str()).collect()
    }

    fn quota(&self, k: usize, closed: bool) -> usize {
        let n = self.rungs[k].recorded.len();
        let q = (n as f64 / self.settings.reduction_factor).floor() as usize;
        if closed && n > 0 {
            q.max(1)
        } else {
            q
        }
    }

    /// Whether no live trial can reach rung `k` any more.
    fn closed(&self, k: usize) -> bool {
        let at = |k: usize, id: &str| self.rungs[k].recorded.iter().any(|(t, _)| t == id);
        if k == 0 {
            return self.members.iter().all(|m| at(0, m) || self.ended(m));
        }
        if !self.closed(k - 1) {
            return false;
        }
        let below = &self.rungs[k - 1];
        let quota_done = self.ranking(k - 1)[..self.quota(k - 1, true)]
            .iter()
            .all(|id| below.promoted.iter().any(|p| p == id) || self.ended(id));
        quota_done && below.promoted.iter().all(|id| at(k, id) || self.ended(id))
    }

    /// The trial a free slot should continue, marked promoted: the highest rung first.
    pub fn promote(&mut self) -> Option<String> {
        for k in (0..self.rungs.len()).rev() {
            let quota = self.quota(k, self.closed(k));
            let pick = self.ranking(k)[..quota]
                .iter()
                .find(|id| !self.rungs[k].promoted.iter().any(|p| p == *id) && !self.ended(id))
                .map(|id| id.to_string());
            if let Some(id) = pick {
                self.rungs[k].promoted.push(id.clone());
                return Some(id);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sched(grace: f64, rf: f64, max_t: f64) -> Promotion {
        Promotion::new(PromotionSettings {
            grace_period: grace,
            reduction_factor: rf,
            max_t,
            mode: Mode::Min,
        })
    }

    #[test]
    fn rungs_lie_below_max_t() {
        assert_eq!(sched(1.0, 3.0, 9.0).milestones(), vec![1.0, 3.0]);
        assert_eq!(sched(2.0, 3.0, 9.0).milestones(), vec![2.0, 6.0]);
        assert_eq!(sched(1.0, 2.0, 4.0).milestones(), vec![1.0, 2.0]);
    }

    /// Three trials, rf 3: each pauses at the first rung; nobody is promoted until all three
    /// are in (floor(2 / 3) = 0, and the rung is open while one can still reach it); then only
    /// the best goes on, pausing again at the next rung, which closes with it alone there.
    #[test]
    fn three_trials_take_one_to_the_end() {
        let mut s = sched(1.0, 3.0, 9.0);
        for t in ["a", "b", "c"] {
            s.add(t);
        }
        assert_eq!(s.on_result("a", Some(1.0), Some(0.5)), Decision::Pause);
        assert_eq!(s.promote(), None);
        assert_eq!(s.on_result("b", Some(1.0), Some(0.3)), Decision::Pause);
        assert_eq!(s.promote(), None, "rung 1 is open while c can reach it");
        assert_eq!(s.on_result("c", Some(1.0), Some(0.4)), Decision::Pause);
        assert_eq!(s.promote().as_deref(), Some("b"));
        assert_eq!(s.promote(), None, "one of three goes on");
        assert_eq!(s.on_result("b", Some(2.0), Some(0.2)), Decision::Continue);
        assert_eq!(s.on_result("b", Some(3.0), Some(0.1)), Decision::Pause);
        assert_eq!(s.promote().as_deref(), Some("b"), "the rung at 3 is closed");
        for t in 4..9 {
            assert_eq!(
                s.on_result("b", Some(t as f64), Some(0.1)),
                Decision::Continue
            );
        }
        assert_eq!(s.on_result("b", Some(9.0), Some(0.1)), Decision::Stop);
        assert_eq!(s.promote(), None);
    }

    /// The paper's asynchronous rule: with six trials, the best of the first three is promoted
    /// as soon as the third arrives, before the others have run; a promotion at a higher rung
    /// comes before one at a lower rung; an ended trial keeps its rank but is never promoted.
    #[test]
    fn promotions_are_asynchronous_and_highest_rung_first() {
        let mut s = sched(1.0, 3.0, 9.0);
        for t in ["a", "b", "c", "d", "e", "f"] {
            s.add(t);
        }
        for (t, m) in [("a", 0.5), ("b", 0.3), ("c", 0.4)] {
            s.on_result(t, Some(1.0), Some(m));
        }
        assert_eq!(s.promote().as_deref(), Some("b"));
        s.on_result("b", Some(2.0), Some(0.25));
        assert_eq!(s.on_result("b", Some(3.0), Some(0.2)), Decision::Pause);
        // d ends with an error before its first rung; e and f arrive, e the best of all.
        s.on_complete("d", None, None);
        s.on_result("e", Some(1.0), Some(0.1));
        s.on_result("f", Some(1.0), Some(0.6));
        // Rung 1 is closed (d ended) with five trials: its top 1 is e now, not yet promoted.
        // Rung 3 holds b alone (floor(1/3) = 0) and stays open until e arrives there.
        assert_eq!(s.promote().as_deref(), Some("e"));
        assert_eq!(s.promote(), None);
        s.on_result("e", Some(2.0), Some(0.09));
        // e finishes early (early stopping) at its next rung: ranked, never promoted.
        s.on_complete("e", Some(3.0), Some(0.05));
        // Rung 3 is closed now ({b, e} there, every promotion of rung 1 arrived); its top 1 is e,
        // which ended, so nothing more runs: b stays paused.
        assert_eq!(s.promote(), None);
    }

    /// Both rungs can promote at once: the higher one goes first.
    #[test]
    fn the_highest_rung_promotes_first() {
        let mut s = sched(1.0, 2.0, 8.0);
        for t in ["a", "b", "c", "d", "e", "f"] {
            s.add(t);
        }
        s.on_result("a", Some(1.0), Some(0.1));
        s.on_result("b", Some(1.0), Some(0.5));
        assert_eq!(s.promote().as_deref(), Some("a"));
        assert_eq!(s.on_result("a", Some(2.0), Some(0.1)), Decision::Pause);
        s.on_result("c", Some(1.0), Some(0.2));
        assert_eq!(s.promote(), None, "top 1 of 3 is a, already promoted");
        s.on_result("d", Some(1.0), Some(0.15));
        assert_eq!(s.promote().as_deref(), Some("d"), "top 2 of 4");
        assert_eq!(s.on_result("d", Some(2.0), Some(0.12)), Decision::Pause);
        s.on_result("e", Some(1.0), Some(0.05));
        s.on_result("f", Some(1.0), Some(0.3));
        // Rung 2's top 1 of 2 (a) and rung 1's top 3 of 6 (e) are both due.
        assert_eq!(s.promote().as_deref(), Some("a"));
        assert_eq!(s.promote().as_deref(), Some("e"));
        assert_eq!(s.promote(), None);
    }
}
