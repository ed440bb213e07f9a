"""Family-wise null rate of model-based brain-to-brain coupling, per direction.

Problem: ``n_studies`` simulated null dyads (``tests/encoding/_b2b_planted.py`` with
``effect='none'``: no coupling; 200 words, 2 ROIs per brain, 11 lags, word features of 7
columns over 80 word types, two speakers alternating in turns),
each fitted with :func:`~hyperalign.encoding.b2b_arrays` (5 shared folds, 6 penalties, 3
inner folds) and ``n_permutations`` refitted circular nulls. A study is a false positive
for a direction when the smallest family-wise p-value of its raw map (max-statistic over
ROI pairs and both lag axes) is at most 0.05. The rate of each direction (``s2l``, ``l2s``
and their average ``sym``) is printed with its Monte-Carlo standard error
``sqrt(rate (1 - rate) / n_studies)``; with 19 nulls the nominal rate is exactly 1/20.

Run: ``nice -n 10 python benchmarks/bench_b2b_null.py [n_studies] [n_permutations]
[seed0]`` (default 500 studies, 19 nulls: about 4 minutes on one idle core); output saved
to ``benchmarks/results/bench_b2b_null.txt``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

LAGS = np.round(np.arange(-5, 6) * 0.1, 3)
DIRECTIONS = ("s2l", "l2s", "sym")


def null_dyad(n_words: int, seed: int):
    """Word features and two brains of pure noise: the tests' planted generator, no effect."""
    from tests.encoding._b2b_planted import planted_b2b

    d = planted_b2b(n_words=n_words, effect="none", seed=seed)
    return d["X"], d["Y_speaker"], d["Y_listener"], d["times"], d["speakers"]


def main(n_studies: int = 500, n_perm: int = 19, seed0: int = 100_000, alpha: float = 0.05) -> str:
    from hyperalign.encoding.b2b import b2b_arrays

    kw = {"speaker_lags": LAGS, "cv": 5, "span": 1.2, "alphas": np.logspace(-1, 4, 6),
          "inner_cv": 3, "n_permutations": n_perm}  # fmt: skip
    hits = dict.fromkeys(DIRECTIONS, 0)
    t0 = time.perf_counter()
    for s in range(n_studies):
        X, Ys, Yl, t, spk = null_dyad(200, seed=seed0 + s)
        res = b2b_arrays(X, Ys, Yl, t, speakers=spk, random_state=s, **kw)
        pf = res.dataset["p_fwer"].sel(kind="raw")
        for k in DIRECTIONS:
            hits[k] += float(pf.sel(direction=k).min()) <= alpha
    wall = time.perf_counter() - t0
    nominal = np.floor(alpha * (n_perm + 1)) / (n_perm + 1)
    lines = [f"b2b circular null, {n_studies} null studies (seeds {seed0}+), {n_perm} refitted "
             f"nulls each, alpha {alpha} (nominal rate {nominal:.3f}); {wall:.0f} s"]  # fmt: skip
    for k in DIRECTIONS:
        rate = hits[k] / n_studies
        se = np.sqrt(rate * (1 - rate) / n_studies)
        z = (rate - nominal) / np.sqrt(nominal * (1 - nominal) / n_studies)
        lines.append(f"  {k:4s}: family-wise rate {rate:.3f} +- {se:.3f} (MC SE), "
                     f"{hits[k]}/{n_studies}, z vs nominal {z:+.2f}")  # fmt: skip
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.encoding helpers
    args = [int(a) for a in sys.argv[1:4]]
    out = main(*args)
    print(out, end="")
    (Path(__file__).parent / "results" / "bench_b2b_null.txt").write_text(out)
