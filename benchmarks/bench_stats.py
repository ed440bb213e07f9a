"""Benchmark: permutation test of semantic alignment beyond acoustics, batch vs full refits.

Study size: 8 dyads x 300 utterances, 5 bands x 4 ROIs x 3 lags = 60 cells, 1,000
permutations. Prints the measured time of the batch engine (the whole analysis: model fits,
R², partition and all permutations) and the full-refit time, extrapolated from a few refits
per cell (a full run would take tens of minutes).

Run: ``.venv/bin/python benchmarks/bench_stats.py [--n-perm 1000] [--refit-sample 5]``
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from hyperalign.stats import simulate_analysis_table, test_semantic_beyond_acoustics
from hyperalign.stats.analysis import _refit_permutations
from hyperalign.stats.permutation import PermutationPlan

BANDS = ("delta", "theta", "alpha", "beta", "gamma")
ROIS = ("frontal", "central", "temporal", "parietal")
LAGS = (0.0, 0.2, 0.5)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-perm", type=int, default=1000)
    ap.add_argument("--refit-sample", type=int, default=5, help="refits timed per cell")
    ap.add_argument("--refit-cells", type=int, default=3, help="cells whose refits are timed")
    args = ap.parse_args(argv)
    table = simulate_analysis_table(
        n_dyads=8, n_utterances=300, bands=BANDS, rois=ROIS, lags=LAGS,
        effect_cells=[("theta", "temporal", 0.2)], random_state=0,
    )  # fmt: skip
    n_cells = len(BANDS) * len(ROIS) * len(LAGS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        res = test_semantic_beyond_acoustics(
            table, acoustic=["acsim", "ac_f0_mean"], n_permutations=args.n_perm,
            correction="maxstat", random_state=1, partition=True,
        )  # fmt: skip
        t_batch = time.perf_counter() - t0
        t0 = time.perf_counter()
        res_np = test_semantic_beyond_acoustics(
            table, acoustic=["acsim", "ac_f0_mean"], n_permutations=0, correction=None,
            partition=True,
        )  # fmt: skip
        t_fits = time.perf_counter() - t0
        # full refits: time a few permutations in a few cells and extrapolate
        import pandas as pd

        from hyperalign.stats import fit_mixed

        per_refit = []
        units = table[["dyad", "utterance_id"]].drop_duplicates()
        plan = PermutationPlan(units, "dyad", args.refit_sample, "within", random_state=2)
        for _, cell in list(table.groupby(["band", "roi", "lag"]))[: args.refit_cells]:
            cell = cell.sort_values(["dyad", "utterance_id"]).reset_index(drop=True)
            null = fit_mixed(cell, "sync ~ acsim + ac_f0_mean", reml=False)
            codes = pd.factorize(cell.dyad, sort=True)[0]
            X0 = null.result.model.exog
            t1 = time.perf_counter()
            _refit_permutations(cell.sync.to_numpy(), X0, cell[["sem_align"]].to_numpy(),
                                codes, plan.indices(cell), null.llf)  # fmt: skip
            per_refit.append((time.perf_counter() - t1) / args.refit_sample)
    per_refit_s = float(np.mean(per_refit))
    t_refit = t_fits + per_refit_s * args.n_perm * n_cells
    top = res.table.sort_values("p_corrected").iloc[0]
    print(f"study: 8 dyads x 300 utterances, {n_cells} cells, {args.n_perm} permutations")
    print(f"batch engine, whole analysis (fits + R2 + partition + permutations): {t_batch:.1f} s")
    print(f"  of which model fits without permutations: {t_fits:.1f} s")
    print(f"full refit: {1000 * per_refit_s:.1f} ms per permutation and cell "
          f"(mean of {len(per_refit)} cells x {args.refit_sample}); extrapolated total "
          f"{t_refit:.0f} s = {t_refit / 60:.1f} min")  # fmt: skip
    print(f"speed-up: {t_refit / t_batch:.0f}x")
    print(f"planted cell found: {top.band}/{top.roi}/{top.lag} p_corrected={top.p_corrected:.4f}")
    del res_np
    return {"t_batch": t_batch, "t_fits": t_fits, "per_refit_s": per_refit_s, "t_refit": t_refit}


if __name__ == "__main__":
    main()
