"""The Ray bridge on a two-node Ray cluster on loopback (ray.cluster_utils.Cluster: two raylets
on this machine, one CPU each), driving the real `fusecast` binary ($FUSECAST_BIN):

- the reference experiment (3 learning rates x 2 clusters, ASHA) completes, ASHA stops at least
  one trial, trials ran on both nodes, the results are those `fusecast tune` writes, and no
  `fusecast` process is left;
- with FIFO, the driver killed with SIGKILL mid-experiment and restored: every trial ends
  TERMINATED, an interrupted trial resumed from its checkpoint (not from epoch 1), no trainer
  outlived the killed driver, and the best trial per cluster is the one `fusecast tune` picks;
- the baselines sharded over the two nodes equal a one-machine run byte for byte (forecasts,
  selection; the fits but for each fit's wall-clock `seconds`).

Run: FUSECAST_BIN=target/release/fusecast python -m unittest discover -s python/tests -v
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
import unittest
from pathlib import Path

PYTHON_DIR = Path(__file__).resolve().parents[1]
FUSECAST = os.environ.get("FUSECAST_BIN", "")

CONFIG = """
[run]
name = "exp"
output_dir = "runs"

[data]
start = "2022-01-01"
end = "{end}"

[data.synthetic]
zones = 10

[clusters]
method = "kmeans-profile"
k = 2

[windows]
encoder_length = 14
horizon = 7
validation_periods = 14
test_periods = 14

[model]
hidden_size = {hidden}
attention_heads = 2
hidden_continuous_size = 4

[train]
batch_size = {batch}
max_epochs = {epochs}
batches_per_epoch = {batches}

[baselines]
models = ["seasonal_naive", "ets"]
selection_windows = 1

[tune]
metric = "val_loss"
scope = "per_cluster"
scheduler = "{scheduler}"
grace_period = 1
reduction_factor = 2
max_concurrent = 2
# Best first: Ray's ASHA never stops the first trial at a rung, so with the worst rate first a
# contest can end with nothing stopped, depending on arrival order; 1e-3 (barely trained after
# one epoch) arriving last is always below the rung's median.
"train.learning_rate" = {{ grid = [3e-2, 1e-2, 1e-3] }}
"clusters.k" = {{ grid = [2] }}
"""

CLUSTER = None
WORK = None


def setUpModule():
    global CLUSTER, WORK
    if not FUSECAST or not Path(FUSECAST).is_file():
        raise RuntimeError("set FUSECAST_BIN to the fusecast binary (target/release/fusecast)")
    WORK = Path(tempfile.mkdtemp(prefix="fray-"))
    # Everything Ray writes stays in the test's folder; unix socket paths must stay short.
    ray_tmp = Path(tempfile.mkdtemp(prefix="fr", dir="/tmp"))
    os.environ.update(
        HOME=str(WORK / "home"),
        RAY_TMPDIR=str(ray_tmp),
        RAY_USAGE_STATS_ENABLED="0",
        TUNE_GLOBAL_CHECKPOINT_S="1",
        PYTHONPATH=str(PYTHON_DIR) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    os.environ.pop("RAY_ADDRESS", None)
    (WORK / "home").mkdir()
    from ray.cluster_utils import Cluster

    CLUSTER = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "resources": {"node_a": 1}, "include_dashboard": False},
    )
    CLUSTER.add_node(num_cpus=1, resources={"node_b": 1})
    CLUSTER.wait_for_nodes()


def tearDownModule():
    if CLUSTER is not None:
        CLUSTER.shutdown()
    if WORK is not None:
        shutil.rmtree(WORK, ignore_errors=True)


def fusecast_processes(marker: str) -> list[str]:
    """Live `fusecast` processes whose command line mentions `marker` (the test's folder)."""
    out = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
            state = (proc / "stat").read_text().split(") ")[-1][0]
        except OSError:
            continue
        if state != "Z" and cmd and cmd[0].endswith(b"fusecast") and marker.encode() in b" ".join(cmd):
            out.append(b" ".join(cmd).decode(errors="replace"))
    return out


def wait_no_fusecast(marker: str, timeout_s: float = 20.0) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        left = fusecast_processes(marker)
        if not left:
            return []
        time.sleep(0.25)
    return fusecast_processes(marker)


def bridge(cwd: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "fusecast_ray", *args, "--binary", FUSECAST, "--address", CLUSTER.address],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(proc: subprocess.Popen, timeout_s: float = 400) -> str:
    out, _ = proc.communicate(timeout=timeout_s)
    if proc.returncode != 0:
        raise AssertionError(f"fusecast-ray exited {proc.returncode}:\n{out[-6000:]}")
    return out


def trials(exp: Path) -> list[dict]:
    with open(exp / "trials.csv") as f:
        return list(csv.DictReader(f))


def best_per_cluster(exp: Path) -> dict:
    doc = tomllib.loads((exp / "best.toml").read_text())
    return {
        t["cluster"]: (t["params"]["train.learning_rate"], t["val_loss"], t["epoch"])
        for t in doc["trial"]
    }


class RayBridge(unittest.TestCase):
    def folder(self, name: str, scheduler: str, slow: bool = False) -> Path:
        """The experiment's folder; `slow`: epochs of about a second for the larger cluster (on
        this machine), long enough to kill the driver inside a trial."""
        d = WORK / name
        d.mkdir()
        sizes = dict(end="2023-06-30", hidden=16, batch=64, batches=60, epochs=6) if slow else dict(
            end="2022-06-30", hidden=8, batch=32, batches=3, epochs=4
        )
        (d / "exp.toml").write_text(CONFIG.format(scheduler=scheduler, **sizes))
        return d

    def test_reference_experiment_with_asha(self):
        d = self.folder("asha", "asha")
        t0 = time.monotonic()
        out = finish(bridge(d, "tune", "exp.toml"))
        wall = time.monotonic() - t0
        exp = d / "runs" / "exp"
        rows = trials(exp)
        self.assertEqual(len(rows), 6, out)
        statuses = [r["status"] for r in rows]
        self.assertTrue(set(statuses) <= {"TERMINATED", "STOPPED"}, rows)
        self.assertGreaterEqual(statuses.count("STOPPED"), 1, rows)
        for r in rows:
            want = 4 if r["status"] == "TERMINATED" else None
            if want:
                self.assertEqual(int(r["epochs"]), want, r)
            else:
                self.assertLess(int(r["epochs"]), 4, r)
        # Each cluster's three learning rates, with per-cluster trials on both clusters.
        self.assertEqual(sorted((r["cluster"], r["train.learning_rate"]) for r in rows),
                         sorted((str(c), lr) for c in (0, 1) for lr in ("0.001", "0.03", "0.01")))
        nodes = {json.loads((d / r["run_dir"] / "ray-outcome.json").read_text())["node"] for r in rows}
        self.assertEqual(len(nodes), 2, "trials ran on both nodes")
        for f in ("best.toml", "tune.md", "curves.svg", "report.html", "eval/report.md"):
            self.assertTrue((exp / f).exists(), f)
        self.assertEqual(wait_no_fusecast(str(d)), [])
        print(f"\n[bench] Ray ASHA experiment, 6 trials: {wall:.1f} s wall", file=sys.stderr)

    def test_killed_driver_restores_and_matches_fusecast_tune(self):
        d = self.folder("fifo", "fifo", slow=True)
        exp = d / "runs" / "exp"
        driver = bridge(d, "tune", "exp.toml")
        # Kill while a trial is past its second epoch and short of its fifth (of 6), at least 1.5 s
        # after that epoch (Ray's experiment snapshot, every TUNE_GLOBAL_CHECKPOINT_S = 1 s,
        # has recorded a checkpoint of it).
        def running(trial: Path) -> int:
            lines = (trial / "metrics.jsonl").read_text().splitlines()
            outcome = json.loads((trial / "ray-outcome.json").read_text())
            return len(lines) if outcome["status"] == "RUNNING" else 0

        deadline = time.monotonic() + 300
        killed_at = None
        while killed_at is None and time.monotonic() < deadline and driver.poll() is None:
            for m in exp.glob("trials/*/metrics.jsonl"):
                if 2 <= running(m.parent) < 5:
                    time.sleep(1.5)
                    if 2 <= running(m.parent) < 5:
                        killed_at = m.parent.name
                    break
            time.sleep(0.1)
        self.assertIsNone(driver.poll(), "the experiment ended before the kill")
        self.assertIsNotNone(killed_at, "no trial reached its second epoch")
        driver.send_signal(signal.SIGKILL)
        driver.wait()
        self.assertEqual(wait_no_fusecast(str(d)), [], "trainers outlived the killed driver")
        finish(bridge(d, "tune", "exp.toml", "--resume"))
        rows = trials(exp)
        self.assertEqual(len(rows), 6)
        self.assertEqual({r["status"] for r in rows}, {"TERMINATED"}, rows)
        self.assertTrue(all(int(r["epochs"]) == 6 for r in rows), rows)
        resumed = {}
        for r in rows:
            starts = [json.loads(l) for l in (d / r["run_dir"] / "ray-starts.jsonl").read_text().splitlines()]
            resumed[r["trial_id"]] = [s["resumed_from_epoch"] for s in starts]
        self.assertTrue(any(len(s) == 2 and s[1] >= 1 for s in resumed.values()),
                        f"no interrupted trial resumed from a checkpoint: {resumed}")
        self.assertTrue(all(s[0] == 0 for s in resumed.values()), resumed)
        # The built-in tuner on the same space (FIFO: no order-dependent decisions).
        built_in = subprocess.run(
            [FUSECAST, "--quiet", "tune", "exp.toml", "--set", "run.name=builtin"],
            cwd=d, capture_output=True, text=True,
        )
        self.assertEqual(built_in.returncode, 0, built_in.stderr)
        ray_best = best_per_cluster(exp)
        own_best = best_per_cluster(d / "runs" / "builtin")
        self.assertEqual(ray_best.keys(), own_best.keys())
        for c in own_best:
            self.assertEqual(ray_best[c][0], own_best[c][0], (ray_best, own_best))
            self.assertEqual(ray_best[c][2], own_best[c][2], (ray_best, own_best))
            self.assertAlmostEqual(ray_best[c][1], own_best[c][1], delta=1e-9 * abs(own_best[c][1]))
        self.assertEqual(wait_no_fusecast(str(d)), [])

    def test_sharded_baselines_equal_one_machine(self):
        d = self.folder("baselines", "fifo")
        single = subprocess.run(
            [FUSECAST, "--quiet", "baselines", "exp.toml", "--set", "run.name=single"],
            cwd=d, capture_output=True, text=True,
        )
        self.assertEqual(single.returncode, 0, single.stderr)
        proc = subprocess.Popen(
            [sys.executable, "-m", "fusecast_ray", "baselines", str(d / "exp.toml"), "--shards", "2",
             "--set", "run.name=sharded", "--binary", FUSECAST, "--address", CLUSTER.address],
            cwd=d, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        out = finish(proc)
        self.assertIn("2 shards on 2 nodes", out)
        a, b = d / "runs" / "single" / "baselines", d / "runs" / "sharded" / "baselines"
        files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file() and "shards" not in p.parts and p.name != "timing.json")
        self.assertIn(Path("forecasts.csv"), files)
        self.assertIn(Path("selection.csv"), files)
        self.assertTrue(any(f.parts[0] == "fits" for f in files), files)
        def without_clock(path: Path) -> bytes:
            # A fit's `seconds` is its wall-clock time, the one field that is not a result.
            if path.parent.name != "fits":
                return path.read_bytes()
            lines = []
            for line in path.read_text().splitlines():
                fit = json.loads(line)
                self.assertIn("seconds", fit)
                fit.pop("seconds")
                lines.append(json.dumps(fit))
            return "\n".join(lines).encode()

        for f in files:
            self.assertEqual(without_clock(a / f), without_clock(b / f), f"{f} differs")


class PlanRefusals(unittest.TestCase):
    def test_promotion_asha_is_refused_by_name(self):
        from fusecast_ray.binary import BridgeError
        from fusecast_ray.space import scheduler

        with self.assertRaises(BridgeError) as e:
            scheduler({"settings": {"scheduler": "asha_promotion"}, "max_t": 4})
        self.assertIn("asha_promotion", str(e.exception))
        self.assertIn('scheduler = "asha"', str(e.exception))


if __name__ == "__main__":
    unittest.main()
