"""One simulated study through the real pipeline, tested with and without acoustic control.

The unit of the simulation validation of :func:`test_semantic_beyond_acoustics`:
``benchmarks/validation_study.py`` runs hundreds of these (power and false-positive rate, in
``docs/validation.md``) and ``tests/stats/test_validation.py`` a reduced set. Warnings raised
while a study runs are recorded in its row (``n_warnings``, ``warnings``), not silenced, and
nothing here changes process-wide settings.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd

from ..utils import verbose

#: Columns of a failed study's row set to NaN (the others are absent).
_RESULT_COLUMNS = ("p_lrt", "p_perm", "naive_p_lrt", "naive_p_perm", "t_total")


def _study_sync(dyads, truths, lag: float, min_duration: float) -> pd.DataFrame:
    """Theta-band PLV per utterance in each dyad's planted coupling ROI."""
    from ..coupling import compute_dyad_sync, summarize_utterances

    syncs = []
    for d, tr in zip(dyads, truths):
        c = compute_dyad_sync(
            d, metrics=("plv",), bands={"theta": (4.0, 8.0)}, lags=(lag,),
            rois={"coupling": tr.channels["coupling"]}, min_duration=min_duration,
        )  # fmt: skip
        syncs.append(summarize_utterances(c))
    return pd.concat(syncs, ignore_index=True)


def _study_predictors(u: pd.DataFrame) -> pd.DataFrame:
    """True semantic alignment and acoustic similarity, z-scored within dyad."""
    pred = pd.DataFrame({
        "dyad": u["dyad"], "utterance_id": u["utterance_id"], "speaker": u["speaker"],
        "listener": u["listener"], "sem_raw": u["semantic_alignment"],
        "acsim_raw": u["acoustic_similarity"], "n_words": u["n_words"],
    })  # fmt: skip
    for raw, z in (("sem_raw", "sem_align"), ("acsim_raw", "acsim")):
        g = pred.groupby("dyad")[raw]
        pred[z] = (pred[raw] - g.transform("mean")) / g.transform("std")
    return pred


@verbose
def run_validation_study(
    seed: int,
    condition: str,
    *,
    n_dyads: int = 8,
    duration: float = 300.0,
    lag: float = 0.15,
    min_duration: float = 1.0,
    n_permutations: int = 200,
    sim_kwargs: dict | None = None,
    verbose="error",
) -> dict:
    """Simulate one study with the real pipeline and test it; returns one row of results.

    Parameters
    ----------
    seed : int
        Seed of ``simulate_study``.
    condition : {'power', 'null'}
        ``'null'`` passes ``null=True`` (semantic coupling 0; confound and acoustic coupling
        stay).
    n_dyads, duration : int, float
        Study size (dyads, seconds per conversation).
    lag : float
        Listener lag planted (``coupling_lag``) and analysed (s).
    min_duration : float
        Utterance epochs shorter than this are excluded (counted in ``n_short``).
    n_permutations : int
        Permutations of the batch permutation p-value.
    sim_kwargs : dict | None
        More ``simulate_study`` arguments (effect sizes: ``semantic_coupling``,
        ``acoustic_coupling``, ``confound``...).
    verbose : bool | str | int | None
        Log level for this call (default ``'error'``: per-study exclusions are counted in
        the returned row).

    Returns
    -------
    row : dict
        ``p_lrt, p_perm`` (acoustic control), ``naive_p_lrt, naive_p_perm`` (no acoustic
        terms), ``beta_sem, se, lrt, dR2m, naive_beta_sem, r_sem_acsim, n_obs, n_short,
        n_excluded_nan``, timings, and the warnings raised (``n_warnings`` and the distinct
        messages in ``warnings``).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        row = _run_study(seed, condition, n_dyads, duration, lag, min_duration, n_permutations,
                         sim_kwargs)  # fmt: skip
    row["n_warnings"] = len(caught)
    row["warnings"] = "; ".join(dict.fromkeys(str(w.message) for w in caught))
    return row


def _run_study(seed, condition, n_dyads, duration, lag, min_duration, n_permutations, sim_kw):
    from ..simulation import simulate_study
    from . import build_analysis_table, test_semantic_beyond_acoustics

    t0 = time.perf_counter()
    dyads, truth = simulate_study(
        n_dyads=n_dyads, duration=duration, n_channels=8, sfreq=128.0, audio=False,
        coupling_lag=lag, null=(condition == "null"), random_state=seed, **(sim_kw or {}),
    )  # fmt: skip
    t_sim = time.perf_counter() - t0
    sync = _study_sync(dyads, truth.truths, lag, min_duration)
    n_short = int(sync["short"].sum())
    sync = sync[~sync["short"]]
    pred = _study_predictors(truth.utterances)
    t_sync = time.perf_counter() - t0 - t_sim
    table = build_analysis_table(sync.drop(columns=["speaker", "listener"]), pred)
    table["duration_c"] = table["duration"] - table["duration"].mean()
    common = dict(covariates=["duration_c"], n_permutations=n_permutations, correction=None,
                  partition=False, random_state=seed)  # fmt: skip
    ctrl = test_semantic_beyond_acoustics(table, acoustic=["acsim"], **common).table.iloc[0]
    naive = test_semantic_beyond_acoustics(table, acoustic=[], **common).table.iloc[0]
    ok = table[["sem_align", "acsim"]].dropna()
    return {
        "condition": condition, "seed": seed, "n_dyads": n_dyads, "duration": duration,
        "n_obs": int(ctrl["n_obs"]), "n_excluded_nan": int(ctrl["n_excluded"]),
        "n_short": n_short, "r_sem_acsim": float(np.corrcoef(ok.sem_align, ok.acsim)[0, 1]),
        "beta_sem": ctrl["beta_sem"], "se": ctrl["se"], "lrt": ctrl["lrt"],
        "p_lrt": ctrl["p_lrt"], "p_perm": ctrl["p_perm"], "dR2m": ctrl["dR2m"],
        "naive_beta_sem": naive["beta_sem"], "naive_p_lrt": naive["p_lrt"],
        "naive_p_perm": naive["p_perm"], "t_sim": t_sim, "t_sync": t_sync,
        "t_total": time.perf_counter() - t0,
    }  # fmt: skip


def run_validation_study_safe(seed: int, condition: str, **kw) -> dict:
    """:func:`run_validation_study`; a failure (simulator error…) becomes a row with ``error``.

    Parameters
    ----------
    seed : int
        Seed of the study.
    condition : {'power', 'null'}
        The condition simulated.
    **kw : dict
        Passed to :func:`run_validation_study`.

    Returns
    -------
    row : dict
        The study's row with ``error`` empty, or ``condition, seed, error`` (exception type
        and message) and NaN results when the study failed.
    """
    try:
        row = run_validation_study(seed, condition, **kw)
        row["error"] = ""
    except Exception as err:
        row = {"condition": condition, "seed": seed, "error": f"{type(err).__name__}: {err}"}
        for k in _RESULT_COLUMNS:
            row[k] = np.nan
    return row
