"""The `fusecast-ray` command: `tune CONFIG` and `baselines CONFIG` on a Ray cluster."""

from __future__ import annotations

import argparse
import json
import sys

from .binary import BridgeError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="fusecast-ray",
        description="Run Fusecast's tuning trials (Ray Tune) and per-series baselines (Ray "
        "tasks) on a Ray cluster. The fusecast binary must exist at the same path on every "
        "node, and run.output_dir must be storage every node shares.",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("config", help="a Fusecast TOML config")
    common.add_argument(
        "--address",
        help='the Ray cluster to join ("auto": the one this node belongs to); by default a '
        "local one is started",
    )
    common.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, as `fusecast --set` does (repeatable)",
    )
    common.add_argument("--binary", help="the fusecast binary (default: $FUSECAST_BIN, PATH)")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser(
        "tune", parents=[common], help="the config's [tune] experiment on Ray Tune"
    )
    t.add_argument(
        "--resume",
        action="store_true",
        help="restore the experiment after the driver was killed (Tuner.restore)",
    )
    t.add_argument(
        "--storage",
        help="Ray Tune's storage path (default: the experiment's folder); shared on a cluster",
    )
    b = sub.add_parser(
        "baselines", parents=[common], help="the per-series baselines, sharded over Ray tasks"
    )
    b.add_argument("--shards", type=int, help="how many shards (default: the cluster's CPUs)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    overrides = [x for o in args.overrides for x in ("--set", o)]
    try:
        if args.command == "tune":
            from .experiment import tune_experiment

            done = tune_experiment(
                args.config,
                overrides=overrides,
                fusecast=args.binary,
                address=args.address,
                resume=args.resume,
                storage=args.storage,
            )
            counts: dict = {}
            for o in done["outcomes"]:
                counts[o["status"]] = counts.get(o["status"], 0) + 1
            print(f"experiment: {done['experiment']} ({json.dumps(counts)})")
        else:
            from .baselines import run_baselines

            placed = run_baselines(
                args.config,
                shards=args.shards,
                overrides=overrides,
                fusecast=args.binary,
                address=args.address,
            )
            nodes = len({p["node"] for p in placed})
            print(f"baselines: {len(placed)} shards on {nodes} nodes, merged")
    except BridgeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
