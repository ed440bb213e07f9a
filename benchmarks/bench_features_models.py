"""Model loading: the layer-wise language-model stage per dyad, cold and warm, one process.

Usage::

    python benchmarks/bench_features_models.py [--n-dyads 8] [--duration 300]
        [--code PATH] [--label after] [--out benchmarks/results/bench_features_models.json]

What is timed: ``compute_layer_embeddings`` with the demo pipeline's settings
(``SmolLM2-135M``, all 31 hidden states, ``context_words=32``, ``stride=16``, the feature
cache in a fresh per-run folder as ``pipeline/run.py`` passes it) on the transcripts of the
demo study (``simulate_study(8, 300 s, random_state=42)``; only the transcripts are used).
Every scenario runs in a fresh Python process with one torch thread
(``OMP_NUM_THREADS=1``), so that a process's first call pays what a new run pays:

``cold_machine_1_dyad``
    An empty ``HYPERALIGN_CACHE``: the first dyad of the first run on a machine.
``warm_machine_1_dyad``
    The same, run again with the same ``HYPERALIGN_CACHE`` but a new per-run feature cache
    (the first dyad of every later run).
``warm_machine_n_dyads``
    ``--n-dyads`` dyads one after the other in one process (a whole study).

``load_dequantise`` / ``load_copy``
    ``load_language_model('SmolLM2-135M')`` alone in a fresh process: from the GGUF file
    (``cache=False``: dequantised in the process) and from the per-machine copy.

``--code PATH`` runs the scenarios against another checkout of the package (e.g. an export
of the commit before the change, to measure "before"); the result is appended to ``--out``
under ``--label``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, sys, tempfile, time
t0 = time.perf_counter()
import hyperalign  # noqa: F401
from hyperalign.features import compute_layer_embeddings
from hyperalign.simulation import simulate_study
t_import = time.perf_counter() - t0
n, dur = int(sys.argv[1]), float(sys.argv[2])
dyads, _ = simulate_study(n, dur, random_state=42, audio=False, n_channels=4)
run_cache = tempfile.mkdtemp(prefix="run-")
times = []
for d in dyads:
    t1 = time.perf_counter()
    le = compute_layer_embeddings(d.transcript, "SmolLM2-135M", context_words=32,
                                  layers="all", stride=16, cache=run_cache)
    times.append(time.perf_counter() - t1)
print(json.dumps({"import_s": t_import, "per_dyad_s": times,
                  "n_words": [int(d.transcript.n_words) for d in dyads],
                  "shape": list(le.data.shape)}))
"""


LOAD_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from hyperalign.features import load_language_model
t_import = time.perf_counter() - t0
t1 = time.perf_counter()
load_language_model("SmolLM2-135M", cache=False if sys.argv[1] == "gguf" else None)
print(json.dumps({"import_s": t_import, "per_dyad_s": [time.perf_counter() - t1],
                  "n_words": [0]}))
"""


def _run(code: Path, cache: Path, n: int, duration: float, child: str = CHILD) -> dict:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(code),
        HYPERALIGN_CACHE=str(cache),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        OMP_NUM_THREADS="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", child, *([str(n), str(duration)] if child == CHILD else [n])],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    if out.returncode:
        raise RuntimeError(f"scenario failed:\n{out.stderr[-3000:]}")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["process_wall_s"] = wall
    return res


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-dyads", type=int, default=8)
    p.add_argument("--duration", type=float, default=300.0)
    p.add_argument("--code", default=str(Path(__file__).resolve().parents[1]))
    p.add_argument("--label", default="after")
    p.add_argument(
        "--scenarios",
        nargs="+",
        default=["cold_machine_1_dyad", "warm_machine_1_dyad", "warm_machine_n_dyads"],
        choices=[
            "cold_machine_1_dyad",
            "warm_machine_1_dyad",
            "warm_machine_n_dyads",
            "load_dequantise",
            "load_copy",
        ],
    )
    p.add_argument(
        "--out",
        default=str(Path(__file__).resolve().parent / "results" / "bench_features_models.json"),
    )
    args = p.parse_args(argv)
    code = Path(args.code).resolve()
    rows = []
    with tempfile.TemporaryDirectory(prefix="ha-bench-cache-") as tmp:
        cache = Path(tmp)
        plan = {
            "cold_machine_1_dyad": (1, CHILD),
            "warm_machine_1_dyad": (1, CHILD),
            "warm_machine_n_dyads": (args.n_dyads, CHILD),
            "load_dequantise": ("gguf", LOAD_CHILD),
            "load_copy": ("copy", LOAD_CHILD),
        }
        for scen in args.scenarios:
            n, child = plan[scen]
            if scen == "load_copy":  # make sure the copy exists, then time a fresh load
                _run(code, cache, n, args.duration, child)
            r = _run(code, cache, n, args.duration, child)
            t = r["per_dyad_s"]
            row = {
                "label": args.label,
                "scenario": scen,
                "n_dyads": n if child == CHILD else 0,
                "first_dyad_s": round(t[0], 2),
                "later_dyads_mean_s": round(sum(t[1:]) / len(t[1:]), 2) if len(t) > 1 else None,
                "total_s": round(sum(t), 2),
                "n_words_first": r["n_words"][0],
                "import_s": round(r["import_s"], 2),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    old = json.loads(out.read_text()) if out.is_file() else {"runs": []}
    done = {(r["label"], r["scenario"]) for r in rows}
    old["runs"] = [r for r in old["runs"] if (r["label"], r["scenario"]) not in done] + rows
    old["machine"] = f"{platform.machine()}, {os.cpu_count()} cpus, python {sys.version[:6]}"
    old["settings"] = {
        "model": "SmolLM2-135M",
        "layers": "all",
        "context_words": 32,
        "stride": 16,
        "duration_s": args.duration,
        "torch_threads": 1,
    }
    tmp_out = out.with_suffix(".part")
    tmp_out.write_text(json.dumps(old, indent=1))
    os.replace(tmp_out, out)
    print(f"saved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
