"""Significance of encoding scores: refitted nulls, max-statistic and FDR, CIs, group tests.

Nulls are made from the targets, never the features: circularly shifted (the word sequence
rotated by a random offset) or phase-randomised (the same random phases for every target, so
the dependence between channels and lags is kept). Every null is refitted through the same
nested cross-validation as the observed model - the null targets ride along as extra
targets of the same solver call, so a null costs a fraction of a refit. The maximum over
channels and lags of each null gives family-wise p-values.

The multiple-comparison helpers here are small and encoding-specific (they take the
``(n_permutations, n_targets)`` null the encoding pipeline builds); ``hyperalign.stats``
has general versions for analyses one layer up.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..utils import check_option, check_random_state, fill_doc, logger
from .result import EncodingResult

__all__ = [
    "null_targets",
    "null_scores",
    "pvalues",
    "fdr_bh",
    "bootstrap_ci",
    "group_test",
    "split_r2",
    "partition_variance",
]


def null_targets(
    Y: np.ndarray, n_permutations: int, *, method: str = "circular", random_state=None
):
    """Null versions of the targets, one per permutation (a generator of (n, T) arrays).

    Parameters
    ----------
    Y : ndarray, shape (n_samples, n_targets)
        Targets in sample (word or time) order.
    n_permutations : int
        Number of nulls.
    method : 'circular' | 'phase'
        ``'circular'`` rotates the rows by an offset drawn from ``[n/10, 9n/10]``;
        ``'phase'`` randomises the Fourier phases along the rows (the same phases for every
        column, so cross-target dependence and each column's spectrum are kept).
    %(random_state)s

    Yields
    ------
    Y_null : ndarray, shape (n_samples, n_targets)

    See Also
    --------
    null_scores : Refit the model on these targets.
    """
    check_option("method", method, ("circular", "phase"))
    rng = check_random_state(random_state)
    n = Y.shape[0]
    if n < 10:
        raise ValueError(f"null_targets needs >= 10 samples to shift; got {n}")
    if method == "phase":
        F = np.fft.rfft(Y, axis=0)
    for _ in range(int(n_permutations)):
        if method == "circular":
            yield np.roll(Y, int(rng.integers(n // 10, n - n // 10 + 1)), axis=0)
        else:
            ph = np.exp(2j * np.pi * rng.random(F.shape[0]))
            ph[0] = 1.0
            if n % 2 == 0:
                ph[-1] = 1.0
            yield np.fft.irfft(F * ph[:, None], n=n, axis=0)


fill_doc(null_targets)


def null_scores(
    fit, Y: np.ndarray, *, n_permutations: int, method: str = "circular",
    batch: int | None = None, random_state=None,
) -> np.ndarray:  # fmt: skip
    """Out-of-fold r of every null, refitted by ``fit`` (the observed model's pipeline).

    Parameters
    ----------
    fit : callable
        ``fit(Y) -> predictions`` (n, T'), or ``(predictions, reference targets)`` when the
        pipeline transforms the targets: the same nested CV as the observed model.
    Y : ndarray, shape (n_samples, n_targets)
        Observed targets.
    n_permutations : int
        Number of nulls.
    method : 'circular' | 'phase'
        See :func:`null_targets`.
    batch : int | None
        Nulls per solver call (default: about 200,000 target columns per call).
    %(random_state)s

    Returns
    -------
    r_null : ndarray, shape (n_permutations, n_targets)
        Out-of-fold correlation of each null model, per target.
    """
    from .scores import correlation_score

    T = Y.shape[1]
    batch = max(1, 200_000 // max(T, 1)) if batch is None else int(batch)
    gen = null_targets(Y, n_permutations, method=method, random_state=random_state)
    out = np.empty((int(n_permutations), T))
    done = 0
    while done < n_permutations:
        k = min(batch, n_permutations - done)
        Yn = np.concatenate([next(gen) for _ in range(k)], axis=1)
        P = fit(Yn)
        ref = Yn
        if isinstance(P, tuple):  # (predictions, the targets they are scored against)
            P, ref = P
        out[done : done + k] = correlation_score(ref, P).reshape(k, T)
        done += k
        logger.info("null_scores: %d/%d nulls", done, n_permutations)
    return out


fill_doc(null_scores)


def fdr_bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (NaN kept).

    Parameters
    ----------
    p : array-like of float
        P-values, any shape; NaN entries are left out of the correction.

    Returns
    -------
    p_adj : ndarray of float
        Adjusted p-values (capped at 1), same shape, NaN where ``p`` is NaN.
    """
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    q = p[ok]
    m = q.size
    if m:
        order = np.argsort(q)[::-1]
        adj = np.minimum.accumulate(q[order] * m / np.arange(m, 0, -1))
        res = np.empty(m)
        res[order] = np.minimum(adj, 1.0)
        out[ok] = res
    return out


def pvalues(observed: np.ndarray, null: np.ndarray) -> dict[str, np.ndarray]:
    """Uncorrected, max-statistic (FWER) and FDR p-values of scores (one-sided, greater).

    Parameters
    ----------
    observed : ndarray, shape (n_targets,)
        Observed score of each target.
    null : ndarray, shape (n_permutations, n_targets)
        Scores of the null models (e.g. from :func:`null_scores`).

    Returns
    -------
    p : dict
        ``p`` ``(1 + #{null >= obs}) / (1 + P)``, ``p_fwer`` against the per-null maximum
        over all targets, ``p_fdr`` Benjamini-Hochberg of ``p``.
    """
    obs = np.asarray(observed, dtype=float)
    nul = np.asarray(null, dtype=float)
    n_perm = nul.shape[0]
    p = (1.0 + (nul >= obs[None]).sum(0)) / (1.0 + n_perm)
    mx = np.nanmax(nul, axis=1)
    p_fwer = (1.0 + (mx[:, None] >= obs[None]).sum(0)) / (1.0 + n_perm)
    return {"p": p, "p_fwer": p_fwer, "p_fdr": fdr_bh(p)}


def split_r2(Y: np.ndarray, split: np.ndarray, folds) -> np.ndarray:
    """Product-measure R² per space from out-of-fold per-space predictions.

    Within each test fold, targets and per-space predictions are centred on the fold's
    means, then :func:`~hyperalign.encoding.scores.r2_score_split` is applied to all tested
    rows (the parts sum to the joint R² of the centred predictions).

    Parameters
    ----------
    Y : ndarray, shape (n_samples, n_targets)
        Targets.
    split : ndarray, shape (n_spaces, n_samples, n_targets)
        Out-of-fold prediction of each space.
    folds : list of (ndarray, ndarray)
        The ``(train, test)`` rows of the folds that made ``split``.

    Returns
    -------
    r2 : ndarray, shape (n_spaces, n_targets)
        Each space's share of the joint R².
    """
    from .scores import r2_score_split

    yc = np.full(Y.shape, np.nan)
    pc = np.full(split.shape, np.nan)
    for _, te in folds:
        yc[te] = Y[te] - Y[te].mean(0)
        pc[:, te] = split[:, te] - split[:, te].mean(1, keepdims=True)
    ok = np.isfinite(yc).all(1)
    return r2_score_split(yc[ok], pc[:, ok])


@fill_doc
def bootstrap_ci(
    result: EncodingResult,
    *,
    n_boot: int = 2000,
    ci: float = 0.95,
    random_state=None,
) -> EncodingResult:
    """Bootstrap CI of the score over folds (fold scores resampled, weighted by fold size).

    Parameters
    ----------
    result : EncodingResult
        With ``fold_r`` and ``n_test``.
    n_boot : int
        Bootstrap draws.
    ci : float
        Coverage.
    %(random_state)s

    Returns
    -------
    result : EncodingResult
        A copy with ``r_ci_low`` and ``r_ci_high`` (dims of ``r``).

    See Also
    --------
    group_test : Tests across dyads or participants.
    """
    ds = result.dataset
    fr = ds["fold_r"]
    w = ds["n_test"].values.astype(float)
    rng = check_random_state(random_state)
    k = fr.sizes["fold"]
    idx = rng.integers(0, k, size=(int(n_boot), k))
    vals = np.moveaxis(fr.values, fr.dims.index("fold"), 0)  # (k, ...)
    ww = w[idx]  # (B, k)
    boots = np.einsum("bk,bk...->b...", ww / ww.sum(1, keepdims=True), vals[idx])
    lo, hi = np.nanquantile(boots, [(1 - ci) / 2, 1 - (1 - ci) / 2], axis=0)
    dims = [d for d in fr.dims if d != "fold"]
    out = ds.copy()
    out["r_ci_low"] = (dims, lo)
    out["r_ci_high"] = (dims, hi)
    out.attrs["ci"] = {"over": "folds", "n_boot": int(n_boot), "level": float(ci)}
    return EncodingResult(out)


@fill_doc
def group_test(
    results,
    *,
    metric: str = "r",
    method: str = "sign_flip",
    n_permutations: int = 5000,
    weights: str | None = "n_words",
    ci: float = 0.95,
    random_state=None,
) -> xr.Dataset:
    """Group statistics over participants or dyads: weighted mean score and its inference.

    Parameters
    ----------
    results : list of EncodingResult
        One per participant (same targets and lags).
    metric : str
        Score variable.
    method : 'sign_flip' | 'bootstrap'
        Sign-flip randomisation (max-statistic over targets and lags gives ``p_fwer``) or
        a bootstrap over participants (percentile CI, and ``p`` as the share of draws at or
        below zero).
    n_permutations : int
        Sign flips or bootstrap draws.
    weights : 'n_words' | None
        Weight each participant by its number of words (``attrs['n_words']``) or equally.
    ci : float
        CI coverage (bootstrap).
    %(random_state)s

    Returns
    -------
    stats : xarray.Dataset
        ``mean`` (weighted mean score), ``p``, ``p_fwer`` (sign flip) or ``ci_low``,
        ``ci_high``, ``p`` (bootstrap); dims of the score.

    See Also
    --------
    bootstrap_ci : Confidence intervals of one result.
    """
    check_option("method", method, ("sign_flip", "bootstrap"))
    if len(results) < 2:
        raise ValueError(f"group_test needs >= 2 results; got {len(results)}")
    arrs = [r.get_scores(metric) for r in results]
    dims, shape = arrs[0].dims, arrs[0].shape
    for a in arrs[1:]:
        if a.shape != shape:
            raise ValueError(f"results must share targets and lags; got {a.shape} vs {shape}")
    X = np.stack([a.values.reshape(-1) for a in arrs])  # (n_subj, T)
    if weights == "n_words":
        w = np.array([float(r.attrs.get("n_words", 1)) for r in results])
    elif weights is None:
        w = np.ones(len(results))
    else:
        raise ValueError(f"weights must be 'n_words' or None; got {weights!r}")
    w = w / w.sum()
    mean = w @ X
    rng = check_random_state(random_state)
    out = {"mean": mean}
    if method == "sign_flip":
        s = rng.choice([-1.0, 1.0], size=(int(n_permutations), len(results)))
        null = (s * w[None]) @ X  # (P, T)
        out.update({k: v for k, v in pvalues(mean, null).items() if k != "p_fdr"})
    else:
        idx = rng.integers(0, len(results), size=(int(n_permutations), len(results)))
        ww = w[idx]
        boots = np.einsum("bk,bkt->bt", ww / ww.sum(1, keepdims=True), X[idx])
        out["ci_low"], out["ci_high"] = np.nanquantile(
            boots, [(1 - ci) / 2, 1 - (1 - ci) / 2], axis=0
        )
        out["p"] = (1.0 + (boots <= 0).sum(0)) / (1.0 + boots.shape[0])
    coords = {d: arrs[0][d].values for d in dims}
    ds = xr.Dataset({k: (dims, v.reshape(shape)) for k, v in out.items()}, coords=coords)
    ds.attrs.update({"method": method, "n": len(results), "metric": metric,
                     "weights": str(weights), "n_permutations": int(n_permutations)})  # fmt: skip
    return ds


def partition_variance(joint: EncodingResult, reduced: dict) -> pd.DataFrame:
    """Set-theoretic variance partition (unique and shared R²) from fitted results.

    Parameters
    ----------
    joint : EncodingResult
        The model with every space.
    reduced : dict
        ``{space or tuple of spaces: EncodingResult}`` of the reduced models (same targets
        and lags, same folds).

    Returns
    -------
    df : pandas.DataFrame
        :func:`~hyperalign.encoding.scores.variance_partition`'s table with ``target`` (and
        ``lag``) labels.

    See Also
    --------
    hyperalign.stats.variance_partition : The same for the mixed-model analysis table.
    """
    from .scores import variance_partition

    r2 = joint.get_scores("r2")
    flat = {k: v.get_scores("r2").values.reshape(-1) for k, v in reduced.items()}
    df = variance_partition(r2.values.reshape(-1), flat)
    idx = df["target"].to_numpy(int)
    if "lag" in r2.dims:
        n_lag = r2.sizes["lag"]
        df["lag"] = r2["lag"].values[idx % n_lag]
        df["target"] = r2["target"].values[idx // n_lag]
    else:
        df["target"] = r2["target"].values[idx]
    return df
