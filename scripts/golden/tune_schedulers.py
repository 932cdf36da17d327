"""Golden fixture for the fusecast-tune schedulers: Ray Tune's ASHA and median stopping rule.

What it does
------------
Drives the real Ray Tune scheduler classes (``AsyncHyperBandScheduler``, ``MedianStoppingRule``,
``FIFOScheduler``) directly, with no Ray cluster: minimal mock ``Trial`` objects (``trial_id``,
``status``, identity hash like Ray's ``Trial``) and a mock controller (``get_trials``,
``get_live_trials``). A small deterministic discrete-event simulation stands in for Ray's
``TuneController``:

* trials are added in order (``on_trial_add``; ASHA draws the bracket here from numpy's *global*
  RNG, which this script seeds with ``np.random.seed(seed)`` before each scenario);
* at most ``concurrency`` trials run at once; a free slot is filled with
  ``scheduler.choose_trial_to_run`` (Ray's FIFO: first PENDING in add order, else first PAUSED);
* a running trial reports every ``sec_per_iter`` (integer) simulated seconds; reports arriving at
  the same simulated time are fed in trial add order;
* every report is fed to ``on_trial_result``; on STOP the trial is terminated the way
  ``TuneController.stop_trial`` does it for a RUNNING trial: ``on_trial_complete(trial, last
  result)`` right away, and its later planned reports are never fed (they are listed as
  ``omitted``); on PAUSE the trial goes to PAUSED and frees its slot (it resumes later with its
  iteration count intact); a trial whose planned reports run out finishes naturally: Ray then
  calls ``on_trial_complete(trial, last result)`` without another ``on_trial_result``.

Every decision is recorded, plus debug values (ASHA: bracket, rung evaluated, cutoff, reward;
median rule: running means, median, best). Every decision and debug float is also re-derived by a
pure-Python reimplementation of the written spec (``SpecAsha`` / ``SpecMedian`` below, no numpy)
and asserted bit-identical, so the spec in README/this file is checked against Ray.

The fixture also carries ``rung_table`` (Ray's ``_Bracket`` milestones for a list of settings,
including floating-point edge cases) and ``percentile_cases`` (Ray's ``_Bracket.cutoff``).
Floats that are computed (cutoffs, medians, rewards) are given both as JSON numbers and as
``*_bits`` (the IEEE-754 bit pattern, 16 hex digits) so a reader whose JSON float parsing is not
round-trip exact can still compare bit for bit. Input metric values have at most 4 decimals.

Pinned: ray[tune]==2.60.0 (numpy 2.4.6 came with it), Python 3.11.

Run (from the repository root)::

    python3 -m venv scripts/golden/.venv
    scripts/golden/.venv/bin/pip install "ray[tune]==2.60.0"
    scripts/golden/.venv/bin/python scripts/golden/tune_schedulers.py

Writes ``crates/fusecast-tune/tests/fixtures/schedulers_golden.json`` (deterministic: running it
twice gives the identical file).
"""

import os

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import json  # noqa: E402
import math  # noqa: E402
import struct  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import ray  # noqa: E402
from ray.tune.schedulers import (  # noqa: E402
    AsyncHyperBandScheduler,
    FIFOScheduler,
    MedianStoppingRule,
    TrialScheduler,
)
from ray.tune.schedulers.async_hyperband import _Bracket  # noqa: E402

PINNED_RAY = "2.60.0"
ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "crates/fusecast-tune/tests/fixtures/schedulers_golden.json"

CONTINUE, STOP, PAUSE = TrialScheduler.CONTINUE, TrialScheduler.STOP, TrialScheduler.PAUSE


def bits(x):
    return None if x is None else struct.pack(">d", float(x)).hex()


def same_float(a, b):
    if a is None or b is None:
        return a is None and b is None
    return bits(a) == bits(b)


# --------------------------------------------------------------------------------------------
# Mocks: the schedulers read trial.trial_id, trial.status (median rule, FIFO choose), hash(trial)
# (median rule keys dicts/sets by the Trial object; Ray's Trial has identity hash), and
# controller.get_live_trials() / get_trials().
# --------------------------------------------------------------------------------------------
class MockTrial:
    def __init__(self, trial_id):
        self.trial_id = trial_id
        self.status = "PENDING"

    def __repr__(self):
        return self.trial_id


class MockController:
    def __init__(self):
        self.trials = []

    def get_trials(self):
        return list(self.trials)

    def get_live_trials(self):
        return {t for t in self.trials if t.status != "TERMINATED"}


# --------------------------------------------------------------------------------------------
# Pure-Python reimplementation of the spec (what the Rust code should do), cross-checked.
# --------------------------------------------------------------------------------------------
def spec_max_rungs(min_t, max_t, rf, s):
    # int() truncates toward zero, on f64 math exactly as Ray/numpy does it
    return int(math.log(max_t / min_t) / math.log(rf) - s + 1)


def spec_milestones(min_t, max_t, rf, s):
    # ascending; Ray stores them descending
    return [min_t * rf ** (k + s) for k in range(spec_max_rungs(min_t, max_t, rf, s))]


def spec_percentile(values, q_pct):
    """np.nanpercentile(values, q_pct), method='linear', 1-D, bit-exact for finite values."""
    xs = sorted(v for v in values if not math.isnan(v))
    n = len(xs)
    if n == 0:
        return math.nan
    q = q_pct / 100.0
    v = (n - 1) * q
    if v >= n - 1:
        return xs[n - 1]
    lo = math.floor(v)
    a, b = xs[lo], xs[lo + 1]
    g = v - lo
    d = b - a
    return a + d * g if g < 0.5 else b - d * (1.0 - g)


def spec_mean(xs):
    """np.mean of a 1-D float list: numpy pairwise sum (8 accumulators) / n."""

    def pw(a):
        n = len(a)
        if n < 8:
            r = 0.0
            for x in a:
                r += x
            return r
        if n <= 128:
            r = list(a[:8])
            i = 8
            while i < n - (n % 8):
                for j in range(8):
                    r[j] += a[i + j]
                i += 8
            res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
            while i < n:
                res += a[i]
                i += 1
            return res
        n2 = n // 2
        n2 -= n2 % 8
        return pw(a[:n2]) + pw(a[n2:])

    return pw(xs) / len(xs)


def spec_median(xs):
    s = sorted(xs)
    n = len(s)
    if n % 2:
        return s[n // 2]
    return (s[n // 2 - 1] + s[n // 2]) / 2.0


class SpecAsha:
    def __init__(self, time_attr, metric, mode, max_t, grace_period, reduction_factor, brackets,
                 stop_last_trials):
        self.time_attr, self.metric, self.max_t = time_attr, metric, max_t
        self.sign = 1.0 if mode == "max" else -1.0
        self.rf = reduction_factor
        self.stop_last = stop_last_trials
        # per bracket: list of (milestone, {trial_id: reward}) in DESCENDING milestone order
        self.brackets = [
            [(m, {}) for m in reversed(spec_milestones(grace_period, max_t, reduction_factor, s))]
            for s in range(brackets)
        ]
        self.bracket_of = {}

    def add(self, trial_id, bracket):
        self.bracket_of[trial_id] = bracket

    def _bracket_on_result(self, trial_id, t, reward):
        info = {"rung": None, "cutoff": None}
        for milestone, recorded in self.brackets[self.bracket_of[trial_id]]:
            if t >= milestone and trial_id in recorded and not self.stop_last:
                break
            if t < milestone or trial_id in recorded:
                continue
            cutoff = (spec_percentile(list(recorded.values()), (1 - 1 / self.rf) * 100)
                      if recorded else None)
            action = STOP if (cutoff is not None and reward < cutoff) else CONTINUE
            recorded[trial_id] = reward
            info = {"rung": milestone, "cutoff": cutoff}
            return action, info
        return CONTINUE, info

    def result(self, trial_id, result):
        if self.time_attr not in result or self.metric not in result:
            return CONTINUE, {"rung": None, "cutoff": None, "reward": None, "max_t_stop": False}
        t = result[self.time_attr]
        reward = self.sign * result[self.metric]
        if t >= self.max_t and self.stop_last:
            return STOP, {"rung": None, "cutoff": None, "reward": reward, "max_t_stop": True}
        action, info = self._bracket_on_result(trial_id, t, reward)
        info.update(reward=reward, max_t_stop=False)
        return action, info

    def complete(self, trial_id, result):
        info = {"rung": None, "cutoff": None}
        if self.time_attr in result and self.metric in result:
            _, info = self._bracket_on_result(
                trial_id, result[self.time_attr], self.sign * result[self.metric])
            del self.bracket_of[trial_id]
        return info


class SpecMedian:
    def __init__(self, time_attr, metric, mode, grace_period, min_samples_required,
                 min_time_slice, hard_stop):
        self.time_attr, self.metric, self.mode = time_attr, metric, mode
        self.grace, self.min_samples = grace_period, min_samples_required
        self.min_slice, self.hard = min_time_slice, hard_stop
        self.results = {}  # trial_id -> list of results, insertion ordered by first append
        self.stopped = set()
        self.last_pause = {}

    def _running_mean(self, tid, t):
        xs = [r[self.metric] for r in self.results[tid] if self.grace <= r[self.time_attr] <= t]
        return spec_mean(xs) if xs else math.nan

    def result(self, tid, result, pending_or_paused_exist):
        none = {"running_means": None, "median": None, "best": None}
        if self.time_attr not in result or self.metric not in result:
            return CONTINUE, none
        if tid in self.stopped:
            assert not self.hard
            return CONTINUE, none
        t = result[self.time_attr]
        self.results.setdefault(tid, []).append(result)
        if t < self.grace:
            return CONTINUE, none
        others = [o for o, rs in self.results.items() if rs[-1][self.time_attr] >= t and o != tid]
        means = [m for m in (self._running_mean(o, t) for o in others) if math.isfinite(m)]
        if len(means) < self.min_samples:
            info = dict(none, running_means=means)
            if t - self.last_pause.get(tid, -math.inf) > self.min_slice and pending_or_paused_exist:
                self.last_pause[tid] = t
                return PAUSE, info
            return CONTINUE, info
        median = spec_median(means)
        scores = [r[self.metric] for r in self.results[tid]]
        best = min(scores) if self.mode == "min" else max(scores)
        worse = (best > median) if self.mode == "min" else (best < median)
        info = {"running_means": means, "median": median, "best": best}
        if worse:
            self.stopped.add(tid)
            return (STOP if self.hard else PAUSE), info
        return CONTINUE, info

    def complete(self, tid, result):
        self.results.setdefault(tid, []).append(result)


# --------------------------------------------------------------------------------------------
# Instrumented Ray calls
# --------------------------------------------------------------------------------------------
def asha_snapshot(sched, trial):
    b = sched._trial_info.get(trial.trial_id)
    if b is None:
        return None, None
    return b, [(m, dict(rec)) for m, rec in b._rungs]


def asha_debug(sched, trial, before):
    """Which rung recorded this trial during the call, and the cutoff Ray compared against."""
    b, snap = before
    if b is None:
        return {"rung": None, "cutoff": None}
    for (m, rec_before), (_, rec_after) in zip(snap, b._rungs):
        if trial.trial_id in rec_after and trial.trial_id not in rec_before:
            c = b.cutoff(rec_before)
            return {"rung": m, "cutoff": None if c is None else float(c)}
    return {"rung": None, "cutoff": None}


class MedianProbe:
    """Wraps the rule's private helpers on the instance to capture what Ray computed."""

    def __init__(self, sched):
        self.sched = sched
        self.means, self.best = [], None
        orig_rm, orig_best = sched._running_mean, sched._best_result

        def rm(trial, time):
            v = orig_rm(trial, time)
            self.means.append(float(v))
            return v

        def best(trial):
            v = orig_best(trial)
            self.best = float(v)
            return v

        sched._running_mean = rm
        sched._best_result = best

    def reset(self):
        self.means, self.best = [], None

    def info(self):
        finite = [m for m in self.means if math.isfinite(m)]
        return finite, self.best


# --------------------------------------------------------------------------------------------
# Simulation of the controller loop
# --------------------------------------------------------------------------------------------
def run_scenario(sc):
    kind = sc["scheduler"]
    st = dict(sc["settings"])
    np.random.seed(sc["bracket_seed"])  # ASHA bracket draw uses numpy's global RNG
    if kind == "asha":
        sched = AsyncHyperBandScheduler(**st)
        spec = SpecAsha(**st)
    elif kind == "median":
        sched = MedianStoppingRule(**st)
        spec = SpecMedian(**st)
        probe = MedianProbe(sched)
    elif kind == "fifo":
        sched = FIFOScheduler()
        spec = None
    else:
        raise ValueError(kind)

    ctrl = MockController()
    plans = sc["trials"]  # list of dicts: id, sec_per_iter, reports (list of result dicts)
    trials = {}
    pos = {}  # trial id -> index of next planned report
    next_time = {}  # running trial id -> sim time of its next report
    order = {p["id"]: i for i, p in enumerate(plans)}
    events, omitted = [], []
    now = 0

    for p in plans:
        t = MockTrial(p["id"])
        trials[p["id"]] = t
        pos[p["id"]] = 0
        ctrl.trials.append(t)
        sched.on_trial_add(ctrl, t)
        ev = {"kind": "add", "trial": p["id"]}
        if kind == "asha":
            b = sched._trial_info[t.trial_id]
            ev["bracket"] = sched._brackets.index(b)
            spec.add(p["id"], ev["bracket"])
        events.append(ev)

    def terminate(t, last_result, cause):
        before = asha_snapshot(sched, t) if kind == "asha" else None
        sched.on_trial_complete(ctrl, t, last_result)
        ev = {"kind": "complete", "trial": t.trial_id, "cause": cause, "t": now,
              "result": last_result}
        if kind == "asha":
            dbg = asha_debug(sched, t, before)
            sdbg = spec.complete(t.trial_id, last_result)
            assert sdbg["rung"] == dbg["rung"] and same_float(sdbg["cutoff"], dbg["cutoff"]), (
                sc["name"], ev, dbg, sdbg)
            ev["debug"] = {"rung": dbg["rung"]}
        elif kind == "median":
            spec.complete(t.trial_id, last_result)
        t.status = "TERMINATED"
        next_time.pop(t.trial_id, None)
        p = plans[order[t.trial_id]]
        for r in p["reports"][pos[t.trial_id]:]:
            omitted.append({"trial": t.trial_id, "result": r})
        pos[t.trial_id] = len(p["reports"])
        events.append(ev)

    while True:
        # fill free slots (Ray: FIFOScheduler.choose_trial_to_run)
        while len(next_time) < sc["concurrency"]:
            t = sched.choose_trial_to_run(ctrl)
            if t is None:
                break
            events.append({"kind": "start", "trial": t.trial_id, "from": t.status, "t": now})
            t.status = "RUNNING"
            next_time[t.trial_id] = now + plans[order[t.trial_id]]["sec_per_iter"]
        if not next_time:
            break
        tid = min(next_time, key=lambda k: (next_time[k], order[k]))
        now = next_time[tid]
        t = trials[tid]
        p = plans[order[tid]]
        if pos[tid] == len(p["reports"]):
            # resumed after a PAUSE on its last planned report: the trainable just finishes
            terminate(t, p["reports"][-1], "finished")
            continue
        result = dict(p["reports"][pos[tid]])
        pos[tid] += 1
        waiting = sorted((x.trial_id for x in ctrl.get_live_trials()
                          if x.status in ("PENDING", "PAUSED")), key=order.get)
        before = asha_snapshot(sched, t) if kind == "asha" else None
        if kind == "median":
            probe.reset()
        decision = sched.on_trial_result(ctrl, t, dict(result))
        ev = {"kind": "result", "trial": tid, "t": now, "result": result, "decision": decision}
        if kind == "asha":
            dbg = asha_debug(sched, t, before)
            sdec, sdbg = spec.result(tid, result)
            assert sdec == decision and sdbg["rung"] == dbg["rung"] and same_float(
                sdbg["cutoff"], dbg["cutoff"]), (sc["name"], ev, dbg, sdbg)
            ev["debug"] = {
                "rung": dbg["rung"], "cutoff": dbg["cutoff"], "cutoff_bits": bits(dbg["cutoff"]),
                "reward": sdbg["reward"], "reward_bits": bits(sdbg["reward"]),
                "max_t_stop": sdbg["max_t_stop"],
            }
        elif kind == "median":
            ev["pending_or_paused"] = waiting
            means, best = probe.info()
            sdec, sdbg = spec.result(tid, result, bool(waiting))
            assert sdec == decision, (sc["name"], ev, sdbg)
            if sdbg["running_means"] is not None:
                assert [bits(x) for x in sdbg["running_means"]] == [bits(x) for x in means], (
                    sc["name"], ev, means, sdbg)
            if sdbg["best"] is not None:
                assert same_float(sdbg["best"], best)
                assert same_float(sdbg["median"], float(np.median(means)))
            ev["debug"] = {
                "n_samples": None if sdbg["running_means"] is None else len(means),
                "running_means": sdbg["running_means"],
                "median": sdbg["median"], "median_bits": bits(sdbg["median"]),
                "best": sdbg["best"],
            }
        else:
            ev["pending_or_paused"] = waiting
            assert decision == CONTINUE
        events.append(ev)

        if decision == STOP:
            terminate(t, result, "scheduler_stop")
        elif decision == PAUSE:
            t.status = "PAUSED"
            del next_time[tid]
            events.append({"kind": "pause", "trial": tid, "t": now})
        elif pos[tid] == len(p["reports"]):
            terminate(t, result, "finished")
        else:
            next_time[tid] = now + p["sec_per_iter"]

    out = {k: sc[k] for k in ("name", "description", "scheduler", "settings")}
    out["bracket_seed"] = sc["bracket_seed"]
    out["concurrency"] = sc["concurrency"]
    if kind == "asha":
        out["brackets_milestones"] = [[m for m, _ in reversed(b._rungs)] for b in sched._brackets]
        out["bracket_probabilities"] = [
            float(x) for x in (lambda s: np.e ** (s - s.max()) / (np.e ** (s - s.max())).sum())(
                np.array([len(b._rungs) for b in sched._brackets]))]
        for b, sb in zip(sched._brackets, spec.brackets):
            assert [m for m, _ in b._rungs] == [m for m, _ in sb]
    out["trials"] = [{"id": p["id"], "sec_per_iter": p["sec_per_iter"],
                      "n_planned_reports": len(p["reports"])} for p in plans]
    out["events"] = events
    out["omitted"] = omitted
    out["summary"] = summarize(events)
    return out


def summarize(events):
    res = [e for e in events if e["kind"] == "result"]
    s = {d: sum(e["decision"] == d for e in res) for d in (CONTINUE, STOP, PAUSE)}
    s["results"] = len(res)
    s["stops_by_rung"] = {}
    for e in res:
        if e["decision"] == STOP and "rung" in e.get("debug", {}):
            key = "max_t" if e["debug"].get("max_t_stop") else str(e["debug"]["rung"])
            s["stops_by_rung"][key] = s["stops_by_rung"].get(key, 0) + 1
    if not s["stops_by_rung"]:
        del s["stops_by_rung"]
    return s


# --------------------------------------------------------------------------------------------
# Scenario definitions (metric values: seeded numpy Generator, rounded to 4 decimals)
# --------------------------------------------------------------------------------------------
def r4(x):
    return round(float(x), 4)


def decay_curves(rng, n_trials, n_iters, floor=(0.2, 1.0), start=(1.2, 2.0), rate=(0.15, 1.2),
                 noise=0.02):
    out = []
    for _ in range(n_trials):
        f = rng.uniform(*floor)
        s = rng.uniform(*start)
        k = rng.uniform(*rate)
        eps = rng.normal(0.0, noise, n_iters)
        out.append([r4(f + (s - f) * math.exp(-k * it) + e)
                    for it, e in zip(range(1, n_iters + 1), eps)])
    return out


def iter_reports(metric, values, extra=None):
    return [dict({"training_iteration": i + 1, metric: v}, **(extra or {}))
            for i, v in enumerate(values)]


def scenarios():
    scs = []

    # 1 ---------------------------------------------------------------------------------------
    rng = np.random.default_rng(20250101)
    curves = decay_curves(rng, 9, 9)
    speeds = [int(x) for x in rng.integers(1, 4, 9)]
    scs.append({
        "name": "asha_min_rf3",
        "description": "ASHA mode=min, rf=3, grace=2, max_t=9, 1 bracket (rungs 2, 6), 9 trials "
                       "with different speeds, 5 running at once; stops at rung 2, rung 6 and "
                       "max_t.",
        "scheduler": "asha",
        "settings": {"time_attr": "training_iteration", "metric": "val_loss", "mode": "min",
                     "max_t": 9, "grace_period": 2, "reduction_factor": 3, "brackets": 1,
                     "stop_last_trials": True},
        "bracket_seed": 0, "concurrency": 5,
        "trials": [{"id": f"t{i}", "sec_per_iter": speeds[i],
                    "reports": iter_reports("val_loss", curves[i])} for i in range(9)],
    })

    # 2 ---------------------------------------------------------------------------------------
    rng = np.random.default_rng(7)
    # quantised to 0.25 so that rung values tie; t5 finishes naturally after 3 reports
    base = [[1.0, 0.75, 0.75, 0.5, 0.5, 0.5, 0.25, 0.25],
            [1.0, 0.75, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25],
            [1.0, 1.0, 0.75, 0.5, 0.5, 0.5, 0.5, 0.25],
            [1.25, 0.75, 0.75, 0.5, 0.5, 0.5, 0.5, 0.5],
            [1.0, 0.75, 0.75, 0.5, 0.5, 0.25, 0.25, 0.25],
            [1.0, 0.75, 0.5]]
    perm = [int(x) for x in rng.permutation(5)] + [5]
    scs.append({
        "name": "asha_rf2_ties",
        "description": "ASHA mode=min, rf=2, grace=1, max_t=8 (rungs 1, 2, 4, 8), 6 trials, "
                       "metric values on a 0.25 grid so rung values tie (reward == cutoff "
                       "continues: the test is strict <); t5 finishes naturally after 3 reports.",
        "scheduler": "asha",
        "settings": {"time_attr": "training_iteration", "metric": "val_loss", "mode": "min",
                     "max_t": 8, "grace_period": 1, "reduction_factor": 2, "brackets": 1,
                     "stop_last_trials": True},
        "bracket_seed": 0, "concurrency": 6,
        "trials": [{"id": f"t{i}", "sec_per_iter": [2, 1, 1, 1, 1, 1][i],
                    "reports": iter_reports("val_loss", base[perm[i]])} for i in range(6)],
    })

    # 3 ---------------------------------------------------------------------------------------
    rng = np.random.default_rng(33)
    curves = decay_curves(rng, 8, 9)
    speeds = [int(x) for x in rng.integers(1, 3, 8)]
    scs.append({
        "name": "asha_brackets2",
        "description": "ASHA mode=min, rf=3, grace=1, max_t=9, 2 brackets (bracket 0 rungs "
                       "1, 3, 9; bracket 1 rungs 3, 9). Ray draws each trial's bracket in "
                       "on_trial_add with np.random.choice (numpy's global RNG, here seeded with "
                       "np.random.seed(bracket_seed)); the drawn bracket is recorded on the add "
                       "events.",
        "scheduler": "asha",
        "settings": {"time_attr": "training_iteration", "metric": "val_loss", "mode": "min",
                     "max_t": 9, "grace_period": 1, "reduction_factor": 3, "brackets": 2,
                     "stop_last_trials": True},
        "bracket_seed": 42, "concurrency": 8,
        "trials": [{"id": f"t{i}", "sec_per_iter": speeds[i],
                    "reports": iter_reports("val_loss", curves[i])} for i in range(8)],
    })

    # 4 ---------------------------------------------------------------------------------------
    rng = np.random.default_rng(44)
    curves = [[r4(2.0 - v) for v in c] for c in decay_curves(rng, 7, 9)]
    speeds = [int(x) for x in rng.integers(1, 4, 7)]
    scs.append({
        "name": "asha_max",
        "description": "ASHA mode=max (metric 'score', higher is better), rf=3, grace=1, "
                       "max_t=9 (rungs 1, 3, 9), 7 trials, 4 running at once.",
        "scheduler": "asha",
        "settings": {"time_attr": "training_iteration", "metric": "score", "mode": "max",
                     "max_t": 9, "grace_period": 1, "reduction_factor": 3, "brackets": 1,
                     "stop_last_trials": True},
        "bracket_seed": 0, "concurrency": 4,
        "trials": [{"id": f"t{i}", "sec_per_iter": speeds[i],
                    "reports": iter_reports("score", curves[i])} for i in range(7)],
    })

    # 5 ---------------------------------------------------------------------------------------
    rng = np.random.default_rng(55)
    steps = {"t0": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
             "t1": [3, 6, 9, 12],
             "t2": [2, 4, 6, 8, 10, 12],
             "t3": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
             "t4": [5, 10, 12],
             "t5": [2, 5, 7]}
    trials5 = []
    for i, (tid, ss) in enumerate(steps.items()):
        vals = [r4(rng.uniform(0.3, 1.5) / math.sqrt(s)) for s in ss]
        reps = [{"step": s, "training_iteration": j + 1, "val_loss": v}
                for j, (s, v) in enumerate(zip(ss, vals))]
        trials5.append({"id": tid, "sec_per_iter": [1, 3, 2, 1, 4, 2][i], "reports": reps})
    # a report without the metric (e.g. no eval this step): scheduler returns CONTINUE untouched
    del trials5[0]["reports"][4]["val_loss"]
    # and one without the time attribute
    del trials5[0]["reports"][6]["step"]
    scs.append({
        "name": "asha_sparse_custom_time_attr",
        "description": "ASHA on a custom time_attr 'step' that jumps (trials skip rungs), "
                       "mode=min, rf=2, grace=1, max_t=12 (rungs 1, 2, 4, 8); one report lacks "
                       "the metric and one lacks 'step' (CONTINUE, nothing recorded). A skipped "
                       "rung is filled later: each call records at the highest rung <= t that "
                       "the trial is not yet recorded at, so lower skipped rungs get later (and "
                       "on_trial_complete's) rewards.",
        "scheduler": "asha",
        "settings": {"time_attr": "step", "metric": "val_loss", "mode": "min", "max_t": 12,
                     "grace_period": 1, "reduction_factor": 2, "brackets": 1,
                     "stop_last_trials": True},
        "bracket_seed": 0, "concurrency": 6,
        "trials": trials5,
    })

    # 6 ---------------------------------------------------------------------------------------
    rng = np.random.default_rng(68)
    curves = decay_curves(rng, 7, 7)
    scs.append({
        "name": "asha_no_stop_last_trials",
        "description": "ASHA stop_last_trials=False, mode=min, rf=2, grace=1, max_t=4 (rungs 1, "
                       "2, 4): no max_t stop (a trial can be STOPped at the rung at max_t); once a trial is recorded at the highest rung it has "
                       "reached, later reports break out early (CONTINUE) and skipped lower rungs "
                       "are never filled; trials run 7 reports and finish naturally.",
        "scheduler": "asha",
        "settings": {"time_attr": "training_iteration", "metric": "val_loss", "mode": "min",
                     "max_t": 4, "grace_period": 1, "reduction_factor": 2, "brackets": 1,
                     "stop_last_trials": False},
        "bracket_seed": 0, "concurrency": 7,
        "trials": [{"id": f"t{i}", "sec_per_iter": [1, 1, 2, 1, 3, 2, 1][i],
                    "reports": iter_reports("val_loss", curves[i])} for i in range(7)],
    })

    # 7 ---------------------------------------------------------------------------------------
    rng = np.random.default_rng(77)
    curves = decay_curves(rng, 6, 8, noise=0.05)
    scs.append({
        "name": "median_hard_stop",
        "description": "MedianStoppingRule time_attr=training_iteration (Ray's default is "
                       "time_total_s), mode=min, grace_period=2, min_samples_required=3, "
                       "min_time_slice=0, hard_stop=True; 6 trials, 3 running at once. With too "
                       "few samples and PENDING/PAUSED trials waiting, the rule returns PAUSE "
                       "(hard_stop does not change that); trials worse than the median are "
                       "STOPped.",
        "scheduler": "median",
        "settings": {"time_attr": "training_iteration", "metric": "val_loss", "mode": "min",
                     "grace_period": 2, "min_samples_required": 3, "min_time_slice": 0,
                     "hard_stop": True},
        "bracket_seed": 0, "concurrency": 3,
        "trials": [{"id": f"t{i}", "sec_per_iter": [1, 2, 1, 1, 2, 1][i],
                    "reports": iter_reports("val_loss", curves[i])} for i in range(6)],
    })

    # 8 ---------------------------------------------------------------------------------------
    rng = np.random.default_rng(88)
    curves = [[r4(2.0 - v) for v in c] for c in decay_curves(rng, 6, 8, noise=0.05)]
    scs.append({
        "name": "median_soft_stop_max",
        "description": "MedianStoppingRule time_attr=training_iteration, mode=max (metric "
                       "'score'), grace_period=2, min_samples_required=2, min_time_slice=2, "
                       "hard_stop=False; 6 trials, 4 running at once. Below-median trials get "
                       "PAUSE and are marked stopped; when resumed (FIFO) every later report "
                       "returns CONTINUE and is not recorded.",
        "scheduler": "median",
        "settings": {"time_attr": "training_iteration", "metric": "score", "mode": "max",
                     "grace_period": 2, "min_samples_required": 2, "min_time_slice": 2,
                     "hard_stop": False},
        "bracket_seed": 0, "concurrency": 4,
        "trials": [{"id": f"t{i}", "sec_per_iter": [1, 1, 2, 1, 1, 2][i],
                    "reports": iter_reports("score", curves[i])} for i in range(6)],
    })

    # 9 ---------------------------------------------------------------------------------------
    scs.append({
        "name": "fifo",
        "description": "FIFOScheduler: every result CONTINUE; choose_trial_to_run takes the "
                       "first PENDING trial in add order, else the first PAUSED one.",
        "scheduler": "fifo",
        "settings": {},
        "bracket_seed": 0, "concurrency": 1,
        "trials": [{"id": f"t{i}", "sec_per_iter": 1,
                    "reports": iter_reports("val_loss", [1.0, 0.9, 0.8])} for i in range(2)],
    })
    return scs


def check_expectations(out):
    by = {s["name"]: s for s in out}
    s1 = by["asha_min_rf3"]["summary"]["stops_by_rung"]
    assert s1.get("2", 0) >= 2 and s1.get("6", 0) >= 1 and s1.get("max_t", 0) >= 1, s1
    ties = [e for e in by["asha_rf2_ties"]["events"] if e["kind"] == "result"
            and e["debug"]["cutoff"] is not None
            and e["debug"]["cutoff"] == e["debug"]["reward"]]
    assert ties and all(e["decision"] == CONTINUE for e in ties), "want reward == cutoff cases"
    assert any(e["kind"] == "complete" and e["cause"] == "finished"
               for e in by["asha_rf2_ties"]["events"])
    br = [e["bracket"] for e in by["asha_brackets2"]["events"] if e["kind"] == "add"]
    assert 0 in br and 1 in br, br
    assert by["asha_max"]["summary"]["STOP"] >= 3
    sp = by["asha_sparse_custom_time_attr"]["events"]
    fed = [e["result"] for e in sp if e["kind"] == "result"]
    assert any("val_loss" not in r for r in fed) and any("step" not in r for r in fed)
    assert any(e["kind"] == "complete" and e.get("debug", {}).get("rung") is not None for e in sp)
    mh = by["median_hard_stop"]["summary"]
    assert mh["PAUSE"] >= 1 and mh["STOP"] >= 1, mh
    ms = by["median_soft_stop_max"]["events"]
    assert any(e["kind"] == "result" and e["decision"] == PAUSE and e["debug"]["median"] is not None
               for e in ms)
    assert by["asha_no_stop_last_trials"]["summary"]["stops_by_rung"].get("4", 0) >= 1
    assert by["asha_rf2_ties"]["summary"]["stops_by_rung"].get("2", 0) >= 1


def rung_table():
    cases = [(2, 9, 3), (1, 8, 2), (1, 9, 3), (1, 12, 2), (1, 4, 2), (1, 27, 3), (1, 81, 3),
             (1, 243, 3), (1, 1000, 10), (1, 125, 5), (1, 100, 4), (1, 64, 4), (10, 100, 3),
             (1, 10, 2.5), (2, 50, 1.5), (3, 3, 2), (1, 100, 3), (5, 100, 4)]
    rows = []
    for gp, mt, rf in cases:
        for s in range(4):
            b = _Bracket(gp, mt, rf, s)
            ms = [m for m, _ in reversed(b._rungs)]
            assert ms == spec_milestones(gp, mt, rf, s), (gp, mt, rf, s)
            ratio = np.log(mt / gp) / np.log(rf)
            rows.append({"grace_period": gp, "max_t": mt, "reduction_factor": rf, "s": s,
                         "log_ratio": float(ratio), "log_ratio_bits": bits(ratio),
                         "milestones": ms})
    return rows


def percentile_cases():
    rng = np.random.default_rng(99)
    rows = []
    sets = [[1.0], [1.0, 2.0], [2.0, 1.0, 3.0], [-1.0, -1.0, -1.0], [0.5, 0.5, 1.0, 1.0],
            [-0.25, -0.5, -0.25, -0.75, -0.5]]
    for n in range(1, 12):
        sets.append([r4(x) for x in rng.normal(0.0, 1.0, n)])
    for vals in sets:
        for rf in (2, 3, 4, 1.5, 2.5, 10):
            b = _Bracket(1, 10, rf, 0)
            c = float(b.cutoff({str(i): v for i, v in enumerate(vals)}))
            q = (1 - 1 / rf) * 100
            assert same_float(c, spec_percentile(vals, q)), (vals, rf)
            rows.append({"values": vals, "reduction_factor": rf, "q_percent": q,
                         "cutoff": c, "cutoff_bits": bits(c)})
    return rows


# --------------------------------------------------------------------------------------------
# Output: compact JSON, one event per line
# --------------------------------------------------------------------------------------------
def dump(obj, indent=0, inline=False):
    if inline or not isinstance(obj, (dict, list)) or not obj:
        return json.dumps(obj, allow_nan=False, separators=(", ", ": "))
    pad, pad2 = " " * indent, " " * (indent + 1)
    if isinstance(obj, list):
        simple = all(not isinstance(x, (dict, list)) for x in obj)
        if simple:
            return json.dumps(obj, separators=(", ", ": "))
        items = [dump(x, indent + 1, inline=isinstance(x, dict) and "kind" in x
                      or isinstance(x, dict) and len(json.dumps(x)) < 160) for x in obj]
        return "[\n" + ",\n".join(pad2 + i for i in items) + "\n" + pad + "]"
    items = [f"{json.dumps(k)}: {dump(v, indent + 1)}" for k, v in obj.items()]
    return "{\n" + ",\n".join(pad2 + i for i in items) + "\n" + pad + "}"


def main():
    if ray.__version__ != PINNED_RAY:
        sys.exit(f"ray {ray.__version__} installed, this fixture is pinned to {PINNED_RAY}")
    out = [run_scenario(sc) for sc in scenarios()]
    check_expectations(out)
    fixture = {
        "generator": "scripts/golden/tune_schedulers.py",
        "versions": {"ray": ray.__version__, "numpy": np.__version__,
                     "python": ".".join(map(str, sys.version_info[:3]))},
        "notes": "Events are in the order Ray's scheduler saw them. kind=add: on_trial_add "
                 "(ASHA: bracket drawn). kind=start: choose_trial_to_run picked the trial "
                 "(from PENDING or PAUSED). kind=result: on_trial_result(result) -> decision. "
                 "kind=pause: trial paused after a PAUSE decision. kind=complete: "
                 "on_trial_complete(result) (after a STOP, or when the trainable finished). "
                 "'t' is simulated wall time (ordering only). Later planned reports of a "
                 "stopped trial are never fed; they are listed under 'omitted'. *_bits are "
                 "IEEE-754 f64 bit patterns in hex.",
        "scenarios": out,
        "rung_table": rung_table(),
        "percentile_cases": percentile_cases(),
    }
    text = dump(fixture) + "\n"
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT)} ({len(text)} bytes)")
    for s in out:
        print(f"  {s['name']}: {s['summary']}")


if __name__ == "__main__":
    main()
