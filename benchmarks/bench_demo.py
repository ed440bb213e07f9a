"""Time ``hyperalign demo`` per stage: a cold run (empty output folder and cache) and a rerun.

Usage::

    .venv/bin/python benchmarks/bench_demo.py              # the full demo (8 dyads x 5 min)
    .venv/bin/python benchmarks/bench_demo.py --quick      # hyperalign demo --quick
    .venv/bin/python benchmarks/bench_demo.py --cold-models  # also a fresh model cache

Each run is the command a user types (``python -m hyperalign.cli demo --out DIR``) in its own
process, so the time includes Python start-up and imports. Printed per stage (from the run's
``run.log``): wall time and CPU time of the main process (the machine may be shared: wall time
under load is longer than CPU time; CPU time is what the run costs). The whole command's wall and
CPU time (children included: joblib workers too) and the 1-minute load average are printed
next to them. With ``--json PATH`` the numbers are also written as JSON; ``--before PATH``
prints them side by side with an earlier JSON of this script (e.g. of the previous commit).

"Cold" means a new output folder (no step cache) and, with ``--cold-models``, a new
``$HYPERALIGN_CACHE`` (no dequantised language-model copy, no embedding cache); the Hugging Face
model files themselves are never downloaded here (offline). "Rerun" runs the same command again
on the same folder: every per-dyad step comes from the cache.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _stages(out: Path) -> dict:
    log = out / "run.log"
    if not log.exists():
        return {}
    for line in log.read_text().splitlines():
        if line.startswith("# stages-json: "):
            return json.loads(line[len("# stages-json: ") :])
    return {}


def run_once(out: Path, extra: list[str], env: dict) -> dict:
    cmd = [sys.executable, "-m", "hyperalign.cli", "demo", "--out", str(out), *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"the demo failed (exit {proc.returncode}): {' '.join(cmd)}")
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "load_1min": load,
        "stages": _stages(out),
        "stdout": proc.stdout,
        "stderr": proc.stderr,
    }


def _print(name: str, r: dict) -> None:
    print(
        f"\n{name}: {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU "
        f"(whole command, children included; load {r['load_1min']:.1f} at start)"
    )
    print(f"  {'stage':<12s} {'wall s':>8s} {'CPU s':>8s}")
    for k, v in r["stages"].items():
        print(f"  {k:<12s} {v['wall_s']:8.1f} {v['cpu_s']:8.1f}")
    rest = r["wall_s"] - sum(v["wall_s"] for v in r["stages"].values())
    print(f"  {'(start-up)':<12s} {rest:8.1f}        -   python start, imports, config")


def _compare(before: dict, after: dict) -> None:
    """Per stage, before -> after, wall and CPU, for the cold run and the rerun."""
    for run in ("cold", "rerun"):
        b, a = before.get(run) or {}, after.get(run) or {}
        if not a:
            continue
        print(f"\n{run}: before -> after (wall s | CPU s; stages: main process CPU)")
        names = list(dict.fromkeys([*(b.get("stages") or {}), *(a.get("stages") or {})]))
        for k in names:
            sb, sa = (b.get("stages") or {}).get(k, {}), (a.get("stages") or {}).get(k, {})
            print(f"  {k:<12s} {_n(sb, 'wall_s'):>7s} -> {_n(sa, 'wall_s'):>7s} | "
                  f"{_n(sb, 'cpu_s'):>7s} -> {_n(sa, 'cpu_s'):>7s}")  # fmt: skip
        print(f"  {'command':<12s} {_n(b, 'wall_s'):>7s} -> {_n(a, 'wall_s'):>7s} | "
              f"{_n(b, 'cpu_s'):>7s} -> {_n(a, 'cpu_s'):>7s}   (CPU with children)")  # fmt: skip


def _n(d: dict, k: str) -> str:
    return f"{d[k]:.1f}" if d.get(k) is not None else "-"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="hyperalign demo --quick")
    p.add_argument("--cold-models", action="store_true", help="also a fresh $HYPERALIGN_CACHE")
    p.add_argument("--n-jobs", type=int, default=None)
    p.add_argument("--json", default=None, help="also write the numbers to this JSON file")
    p.add_argument("--out", default=None, help="output folder (kept; default: a temporary one)")
    p.add_argument("--before", default=None, help="an earlier --json file to compare with")
    args = p.parse_args(argv)
    extra = ["--quick"] if args.quick else []
    if args.n_jobs is not None:
        extra += ["--n-jobs", str(args.n_jobs)]
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    with tempfile.TemporaryDirectory(prefix="bench_demo_") as tmp:
        if args.cold_models:
            env["HYPERALIGN_CACHE"] = str(Path(tmp) / "cache")
        out = Path(args.out) if args.out else Path(tmp) / "demo_output"
        if out.exists() and any(out.iterdir()):
            raise SystemExit(f"--out {out} is not empty: a cold run needs a new folder")
        print(f"hyperalign demo {' '.join(extra)} on {os.cpu_count()} CPU(s)")
        cold = run_once(out, extra, env)
        _print("cold (new output folder" + (", new model cache)" if args.cold_models else ")"),
               cold)  # fmt: skip
        warm = run_once(out, extra, env)
        _print("rerun (step cache)", warm)
        print("\nconsole output of the cold run (stdout, then stderr):")
        print(cold["stdout"] + cold["stderr"])
    result = {"args": vars(args), "cold": cold, "rerun": warm}
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=1)
    if args.before:
        _compare(json.loads(Path(args.before).read_text()), result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
