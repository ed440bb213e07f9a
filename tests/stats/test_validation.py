"""Reduced validation by simulation (slow): run with ``pytest -m slow tests/stats``.

The full study (hundreds of simulated studies) is ``benchmarks/validation_study.py``; its
results are in ``docs/validation.md``.
"""

import importlib
import warnings

import numpy as np
import pytest

from hyperalign.stats import simulate_analysis_table, test_semantic_beyond_acoustics

pytestmark = pytest.mark.slow


def test_batch_pvalues_agree_with_full_refits():
    """|p_batch - p_refit| within 3 Monte-Carlo SE on 5 simulated tables (200 permutations)."""
    n_perm = 200
    for seed, effect in zip(range(5), (0.0, 0.05, 0.08, 0.0, 0.1)):
        t = simulate_analysis_table(n_dyads=8, n_utterances=60, semantic_effect=effect,
                                    confound=0.5, random_state=seed)  # fmt: skip
        kw = dict(n_permutations=n_perm, random_state=seed, correction=None, partition=False)
        with warnings.catch_warnings():
            # a few of these small tables have a dyad variance estimated at 0 (singular fit)
            warnings.filterwarnings("ignore", "singular fit in 1 of 1 cell", UserWarning)
            pb = test_semantic_beyond_acoustics(t, method="batch", **kw).table.p_perm[0]
            pf = test_semantic_beyond_acoustics(t, method="refit", **kw).table.p_perm[0]
        p = max(min((pb + pf) / 2, 1 - 1 / n_perm), 1 / n_perm)
        assert abs(pb - pf) <= 3 * np.sqrt(p * (1 - p) / n_perm) + 1 / (n_perm + 1), (seed, pb, pf)


def test_pipeline_power_and_false_positives():
    """Real pipeline (simulate_study -> coupling -> stats) on a few short studies."""
    importlib.import_module("hyperalign.simulation")
    importlib.import_module("hyperalign.coupling.dyad_sync")
    from hyperalign.stats._simstudy import run_validation_study_safe

    kw = dict(n_dyads=8, duration=150.0, n_permutations=0)
    null = [run_validation_study_safe(s, "null", **kw) for s in range(1, 13)]
    power = [run_validation_study_safe(s, "power", **kw) for s in range(1, 7)]
    null = [r for r in null if not r["error"]]
    power = [r for r in power if not r["error"]]
    assert len(null) >= 8 and len(power) >= 4
    p_ctrl = np.array([r["p_lrt"] for r in null])
    p_naive = np.array([r["naive_p_lrt"] for r in null])
    p_pow = np.array([r["p_lrt"] for r in power])
    # controlled test near nominal, naive test rejects far more often, power high
    assert np.mean(p_ctrl <= 0.05) <= 0.25
    assert np.mean(p_naive <= 0.05) >= 0.75
    assert np.mean(p_pow <= 0.05) >= 0.75
