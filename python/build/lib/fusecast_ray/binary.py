"""The `fusecast` binary: where it is, how its config overrides are written, and how a child
process of it is started so that it never outlives the bridge."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
from pathlib import Path


class BridgeError(RuntimeError):
    """Something the user must fix (a missing binary, a bad search space, a failed command)."""


def find_binary(explicit: str | None = None) -> str:
    """The binary given, else $FUSECAST_BIN, else `fusecast` on PATH (an absolute path: on a
    cluster every node must have it at the same path)."""
    for candidate in (explicit, os.environ.get("FUSECAST_BIN")):
        if candidate:
            path = Path(candidate)
            if not (path.is_file() and os.access(path, os.X_OK)):
                raise BridgeError(f"{candidate}: not an executable fusecast binary")
            return str(path.resolve())
    found = shutil.which("fusecast")
    if found is None:
        raise BridgeError(
            "no fusecast binary: pass --binary, set FUSECAST_BIN, or put fusecast on PATH "
            "(cargo install --path . in the repository)"
        )
    return str(Path(found).resolve())


def toml_value(value) -> str:
    """A Python value (from a Ray search space or JSON) as the TOML literal of `--set KEY=VALUE`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        text = repr(value)
        # TOML floats need a fraction or an exponent: 3.0, not 3.
        return text if any(c in text for c in ".eE") else text + ".0"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise BridgeError(f"cannot pass {value!r} ({type(value).__name__}) as a config value")


def set_args(values: dict) -> list[str]:
    """`--set key=value` for each entry, in order."""
    out: list[str] = []
    for key, value in values.items():
        out += ["--set", f"{key}={toml_value(value)}"]
    return out


def spawn(args: list[str], *, env: dict | None = None, stderr=None) -> subprocess.Popen:
    """Starts the binary with its stdin and stdout as pipes, in its own process group (so the
    whole group can be stopped). `fusecast train --pause-after-epoch` binds itself to the life
    of this process (Linux's PR_SET_PDEATHSIG) and ends at the end of its stdin."""
    return subprocess.Popen(
        args,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        bufsize=1,
        env=env,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen, grace_s: float = 10.0) -> int:
    """SIGTERM to the process group (the binary abandons its step, its last checkpoint intact,
    and exits 143), SIGKILL if it is still there after `grace_s`."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
    return proc.returncode


def run(binary: str, args: list[str], what: str, cwd: str | None = None) -> str:
    """Runs the binary to the end; its stdout, or a BridgeError with its stderr."""
    done = subprocess.run([binary, *args], capture_output=True, text=True, cwd=cwd)
    if done.returncode != 0:
        raise BridgeError(f"{what} failed (exit {done.returncode}): {done.stderr.strip()}")
    return done.stdout


def plan(binary: str, config: str, overrides: list[str]) -> dict:
    """`fusecast tune CONFIG --plan`: the experiment's settings, dimensions, the clusters of each
    assignment and the trials `fusecast tune` would run, every trial's config checked."""
    out = run(binary, ["--quiet", "tune", config, "--plan", *overrides], "fusecast tune --plan")
    return json.loads(out)
