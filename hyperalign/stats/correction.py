"""Multiple-comparison corrections: Bonferroni, Holm, Benjamini–Hochberg, Benjamini–Yekutieli
and the permutation max-statistic (Westfall & Young single-step) correction."""

from __future__ import annotations

import numpy as np

from ..utils import check_option

_METHODS = ("bonferroni", "holm", "fdr_bh", "fdr_by", "fdr")


def _check_pvalues(pvals) -> np.ndarray:
    p = np.asarray(pvals, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"pvals must be one-dimensional; got shape {p.shape}")
    inf = np.isinf(p)
    if inf.any():
        raise ValueError(
            f"pvals must lie in [0, 1] or be NaN (not tested); got {int(inf.sum())} infinite "
            f"value(s) at index {np.flatnonzero(inf)[:5].tolist()}. Check how they were computed."
        )
    bad = np.isfinite(p) & ((p < 0) | (p > 1))
    if bad.any():
        raise ValueError(
            f"pvals must lie in [0, 1]; got {int(bad.sum())} value(s) outside, e.g. {p[bad][0]!r}"
        )
    return p


def correct_pvalues(pvals, method: str = "fdr_bh") -> np.ndarray:
    """Adjust p-values for multiple comparisons.

    Parameters
    ----------
    pvals : array-like, shape (n_tests,)
        Uncorrected p-values. NaN entries are left as NaN and do not count as tests.
    method : {'bonferroni', 'holm', 'fdr_bh', 'fdr_by', 'fdr'}
        ``'fdr'`` is an alias of ``'fdr_bh'`` (Benjamini & Hochberg 1995); ``'fdr_by'`` is the
        Benjamini & Yekutieli (2001) procedure valid under any dependence; ``'holm'`` is Holm's
        (1979) step-down family-wise procedure.

    Returns
    -------
    p_adj : ndarray, shape (n_tests,)
        Adjusted p-values (clipped to 1), identical to
        ``statsmodels.stats.multitest.multipletests``.
    """
    check_option("method", method, _METHODS)
    p = _check_pvalues(pvals)
    out = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    q = p[ok]
    m = q.size
    if m == 0:
        return out
    if method == "bonferroni":
        adj = np.minimum(q * m, 1.0)
    elif method == "holm":
        order = np.argsort(q, kind="mergesort")
        stepped = np.maximum.accumulate((m - np.arange(m)) * q[order])
        adj = np.empty(m)
        adj[order] = np.minimum(stepped, 1.0)
    else:
        c = 1.0 if method in ("fdr_bh", "fdr") else float(np.sum(1.0 / np.arange(1, m + 1)))
        order = np.argsort(q, kind="mergesort")[::-1]
        ranks = np.arange(m, 0, -1)
        stepped = np.minimum.accumulate(q[order] * m * c / ranks)
        adj = np.empty(m)
        adj[order] = np.minimum(stepped, 1.0)
    out[ok] = adj
    return out


def maxstat_pvalues(observed, null, *, tail: str = "greater") -> np.ndarray:
    """Family-wise corrected p-values from the permutation distribution of the maximum.

    Parameters
    ----------
    observed : array-like, shape (n_tests,)
        Observed statistic of each test (larger = more extreme for ``tail='greater'``).
    null : array-like, shape (n_permutations, n_tests)
        The statistic of every test under the *same* permutations (so that the dependence
        between tests is kept). NaN entries (a test not computable) are ignored in the max.
    tail : {'greater', 'abs'}
        ``'abs'`` compares absolute values.

    Returns
    -------
    p_fwer : ndarray, shape (n_tests,)
        ``(1 + #{max_k null[:, k] >= observed_j}) / (1 + n_permutations)``.
    """
    check_option("tail", tail, ("greater", "abs"))
    obs = np.asarray(observed, dtype=float)
    nul = np.asarray(null, dtype=float)
    if nul.ndim != 2 or nul.shape[1] != obs.shape[0]:
        raise ValueError(
            f"null must have shape (n_permutations, {obs.shape[0]}) to match observed; "
            f"got {nul.shape}"
        )
    if tail == "abs":
        obs, nul = np.abs(obs), np.abs(nul)
    all_nan = np.all(np.isnan(nul), axis=1)
    mx = np.where(all_nan, -np.inf, np.nanmax(np.where(np.isnan(nul), -np.inf, nul), axis=1))
    counts = (mx[:, None] >= obs[None, :]).sum(axis=0)
    p = (1.0 + counts) / (1.0 + nul.shape[0])
    p[~np.isfinite(obs)] = np.nan
    return p


def permutation_pvalues(observed, null, *, tail: str = "greater") -> np.ndarray:
    """Uncorrected permutation p-values ``(1 + #{null >= obs}) / (1 + n_permutations)``.

    Parameters
    ----------
    observed : array-like, shape (n_tests,)
        Observed statistic of each test.
    null : array-like, shape (n_permutations, n_tests)
        The statistic under each permutation (a 1-D array is one test).
    tail : {'greater', 'abs'}
        Count null values at least as large as the observed one, or compare absolute values.

    Returns
    -------
    p : ndarray, shape (n_tests,)
        NaN where the observed statistic is not finite; NaN entries of ``null`` (statistic
        not computable under that permutation) are left out of that test's count and of its
        number of permutations.
    """
    check_option("tail", tail, ("greater", "abs"))
    obs = np.atleast_1d(np.asarray(observed, dtype=float))
    nul = np.asarray(null, dtype=float)
    if nul.ndim == 1:
        nul = nul[:, None]
    if nul.shape[1] != obs.shape[0]:
        raise ValueError(f"null must have shape (n_permutations, {obs.shape[0]}); got {nul.shape}")
    if tail == "abs":
        obs, nul = np.abs(obs), np.abs(nul)
    # a NaN null value (a permutation where the statistic could not be computed) is not
    # counted as a permutation at all (counting it as "not exceeding" would shrink p)
    valid = ~np.isnan(nul)
    counts = ((nul >= obs[None, :]) & valid).sum(axis=0)
    p = (1.0 + counts) / (1.0 + valid.sum(axis=0))
    p[~np.isfinite(obs)] = np.nan
    return p
