"""Layer sweep speed: every hidden state of SmolLM2 on the demo study, both roles.

Usage::

    python benchmarks/bench_sweep.py [--searches inner_cv,gcv]
        [--dtypes float32] [--n-dyads 8] [--duration 300] [--n-layers 31] [--dim 576]
        [--n-components 0] [--real] [--max-dyads 1] [--max-layers 3]
        [--out benchmarks/results/bench_sweep.txt]

The problem (issue 13): the demo study (``simulate_study(8, 300 s, random_state=42)``, 32 EEG
channels), the Zada et al. (2024) lag grid (129 lags, 250 ms windows) so 32 x 129 = 4,128
targets, both roles and both participants of every dyad (32 fits), every layer of
SmolLM2-135M (31 hidden states, 576-d), 5 outer x 5 inner contiguous folds purged by the lag
span, 17 penalties, one set of folds for all layers.

Layer vectors: with ``--real`` the SmolLM2 hidden states (``compute_layer_embeddings``,
context 32 words, stride 16; pickled under ``~/.cache/hyperalign/bench_sweep`` so later runs
load them); otherwise seeded Gaussian vectors of the same shape (the sweep's cost does not
depend on the values). ``--max-dyads`` / ``--max-layers`` time a subset (default: one dyad,
three layers, a few minutes on a loaded machine) and extrapolate linearly per layer and per
dyad; the target-side work is done once per dyad whatever the number of layers, so the
extrapolation slightly overstates it.

For every penalty search (``alpha_search`` of :func:`~hyperalign.encoding.sweep_layers`) and
dtype it prints the CPU time (``time.process_time``, this process, one BLAS thread) per
layer and per fit, the full-sweep extrapolation on one core and on two (``n_jobs=2``: dyads
in parallel, each worker one BLAS thread), and the share of each stage: ``targets`` (word
windows), ``features`` (gathering layer vectors), ``pca``, ``solver`` split into
``decompositions`` (the per-fold SVD / kernel eigendecompositions), ``search`` (projected
targets and the scores of every penalty on the inner folds, or GCV), ``predictions`` (the
outer refit at the chosen penalties) and ``solver, other``; and ``scores`` (out-of-fold
r / R^2).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats
import time
from pathlib import Path

import numpy as np

#: Solver stages: (label, function names whose cumulative CPU time is the stage).
_STAGES = (
    ("decompositions", ("decompose",)),
    ("search", ("_fold_scores", "gcv_scores")),
    ("predictions", ("_pool_B", "_refit")),  # _refit: before issue 13's speed-up
)


def _features(dyads, n_layers, dim, real):
    from hyperalign.features.layers import LayerEmbeddings

    out = []
    for k, d in enumerate(dyads):
        if real:
            import pickle

            from hyperalign.features import compute_layer_embeddings

            cache = Path.home() / ".cache" / "hyperalign" / "bench_sweep"
            cache.mkdir(parents=True, exist_ok=True)
            f = cache / f"{d.dyad_id}-{len(d.transcript.words)}.pkl"
            if f.exists():
                le = pickle.loads(f.read_bytes())
            else:
                le = compute_layer_embeddings(d.transcript, "SmolLM2-135M", context_words=32,
                                              layers="all", stride=16)  # fmt: skip
                f.write_bytes(pickle.dumps(le))
            out.append(le.__class__(le.words, le.data[:, :n_layers], le.layer_names[:n_layers],
                                    model="SmolLM2-135M", params=le.params))  # fmt: skip
            continue
        words = d.transcript.words.reset_index(drop=True)
        rng = np.random.default_rng(k)
        data = rng.standard_normal((len(words), n_layers, dim)).astype(np.float32)
        names = ["embeddings"] + [f"layer_{i}" for i in range(1, n_layers)]
        out.append(LayerEmbeddings(words, data, names, model="SmolLM2-135M (shape only)"))
    return out


def _solver_stages(prof: cProfile.Profile) -> dict:
    """CPU seconds of each solver stage from a profile timed with ``time.process_time``."""
    st = pstats.Stats(prof).stats
    out = dict.fromkeys([s for s, _ in _STAGES], 0.0)
    for (_, _, name), (_, _, _, cum, _) in st.items():
        for label, names in _STAGES:
            if name in names:
                out[label] += cum
    return out


def _one(dyads, feats, search, dtype, nc, n_jobs):
    from threadpoolctl import threadpool_limits

    from hyperalign.encoding import sweep_layers

    prof = cProfile.Profile(time.process_time)
    t0, c0 = time.perf_counter(), time.process_time()
    with threadpool_limits(1):
        prof.enable()
        kw = {} if search == "inner_cv" else {"alpha_search": search}  # (runs on old code)
        sw = sweep_layers(dyads, feats, lags="zada2024", n_components=nc, dtype=dtype,
                          n_jobs=n_jobs, verbose="error", **kw)  # fmt: skip
        prof.disable()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    stages = dict(sw.timings)
    if n_jobs == 1:
        sub = _solver_stages(prof)
        solver = stages.pop("solver")
        stages.update(sub)
        stages["solver, other"] = max(solver - sum(sub.values()), 0.0)
    return sw, stages, wall, cpu


def main(argv=None) -> str:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--searches", default="inner_cv,gcv")
    p.add_argument("--dtypes", default="float32")
    p.add_argument("--n-dyads", type=int, default=8)
    p.add_argument("--duration", type=float, default=300.0)
    p.add_argument("--n-channels", type=int, default=32)
    p.add_argument("--n-layers", type=int, default=31)
    p.add_argument("--dim", type=int, default=576)
    p.add_argument("--n-components", type=int, default=0)
    p.add_argument("--real", action="store_true")
    p.add_argument("--max-dyads", type=int, default=1)
    p.add_argument("--max-layers", type=int, default=3)
    p.add_argument("--n-jobs", type=int, default=1)
    p.add_argument("--out", default=None)
    a = p.parse_args(argv)

    from hyperalign.simulation import simulate_study

    t0 = time.perf_counter()
    dyads, _ = simulate_study(a.n_dyads, a.duration, random_state=42, audio=False,
                              n_channels=a.n_channels, dyad_prefix="demo")  # fmt: skip
    t_sim = time.perf_counter() - t0
    nd = min(a.max_dyads or a.n_dyads, a.n_dyads)
    nl = min(a.max_layers or a.n_layers, a.n_layers)
    t0 = time.perf_counter()
    feats = _features(dyads[:nd], nl, a.dim, a.real)
    t_feat = time.perf_counter() - t0
    nc = None if a.n_components <= 0 else a.n_components
    scale = (a.n_dyads / nd) * (a.n_layers / nl)
    lines = [
        "bench_sweep: layer sweep of the demo study (issue 13)",
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}; numpy {np.__version__}; one BLAS thread",
        f"problem: {nd} of {a.n_dyads} dyads x {a.duration:g} s, {a.n_channels} channels x "
        f"129 lags (zada2024) = {a.n_channels * 129} targets, both roles and participants, "
        f"{nl} of {a.n_layers} layers x {a.dim}-d "
        f"({'SmolLM2-135M hidden states' if a.real else 'Gaussian vectors of that shape'}), "
        f"n_components={nc}, 5 outer x 5 inner folds, 17 penalties",
        f"simulation {t_sim:.1f} s; layer vectors {t_feat:.1f} s (not in the sweep time)",
    ]
    for dtype in a.dtypes.split(","):
        for search in a.searches.split(","):
            sw, stages, wall, cpu = _one(dyads[:nd], feats, search, dtype, nc, a.n_jobs)
            n_fits = len(sw.results) * nl
            cpu_all = cpu if a.n_jobs == 1 else sum(sw.timings.values())  # workers' clocks
            total = sum(stages.values())
            lines += [
                f"-- alpha_search={search!r}, dtype={dtype}: {cpu_all:.1f} s CPU "
                f"({wall:.1f} s wall on the shared machine) for {n_fits} fits: "
                f"{cpu_all / n_fits:.3f} s CPU per fit, {cpu_all / nl:.2f} s CPU per layer "
                f"({nd} dyad(s), both roles and participants)",
                f"   full sweep ({a.n_dyads} dyads x {a.n_layers} layers): "
                f"{cpu_all * scale:.0f} s CPU ({cpu_all * scale / 60:.1f} min) on one core, "
                f"{cpu_all * scale / 2 / 60:.1f} min on 2 cores (n_jobs=2, dyads in parallel)",
                "   stage shares (CPU): "
                + ", ".join(f"{k} {v:.1f} s ({100 * v / total:.0f}%)" for k, v in stages.items()),
            ]
            print("\n".join(lines[-3:]), flush=True)
    text = "\n".join(lines)
    print(text)
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        with open(a.out, "a") as fh:
            fh.write(text + "\n\n")
    return text


if __name__ == "__main__":
    main()
