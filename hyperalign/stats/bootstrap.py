"""Dyad-level inference: per-dyad partial slopes, sign-flip tests and cluster bootstrap CIs."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pandas as pd

from ..utils import (
    _validate_type,
    check_option,
    check_random_state,
    fill_doc,
    verbose,
)
from ._checks import as_terms, check_alpha, check_column, check_int, keyword_only_after
from ._results import BootstrapResult, SignFlipResult


@keyword_only_after(3)
def dyad_slopes(
    table: pd.DataFrame,
    sync: str = "sync",
    term: str = "sem_align",
    *,
    controls: list[str] | tuple[str, ...] = ("acsim",),
    groups: str = "dyad",
) -> pd.Series:
    """Per-dyad OLS slope of ``sync`` on ``term`` with ``controls`` partialled out.

    Parameters
    ----------
    table : DataFrame
        One analysis cell.
    sync, term : str
        Response and the predictor whose slope is returned.
    controls : list of str
        Columns in every per-dyad regression (with an intercept).
    groups : str
        The dyad column.

    Returns
    -------
    slopes : Series
        One slope per dyad. Rows with NaN or +-inf in ``sync``, ``term`` or ``controls`` are
        left out (counted in ``slopes.attrs['n_excluded_rows']``). Dyads with fewer rows than
        parameters + 1 or a constant ``term`` get NaN (a warning counts them).
    """
    import warnings

    controls = as_terms(controls, "controls")
    check_column(table, groups, "groups")
    for name, c in (("sync", sync), ("term", term)):
        check_column(table, c, name)
    for c in controls:
        check_column(table, c, "controls")
    cols = [sync, term, *controls]
    text = [c for c in cols if not pd.api.types.is_numeric_dtype(table[c])]
    if text:
        raise TypeError(
            f"dyad_slopes: column(s) {text} are not numeric (dtypes "
            f"{[str(table[c].dtype) for c in text]}); convert them with pd.to_numeric first"
        )
    out = {}
    n_bad = 0
    n_rows_bad = 0
    for g, sub in table.groupby(groups, sort=True):
        sub = sub[cols]
        ok = np.isfinite(sub.to_numpy(dtype=float)).all(axis=1)
        n_rows_bad += int((~ok).sum())
        sub = sub.loc[ok]
        X = np.column_stack(
            [np.ones(len(sub)), sub[list(controls)].to_numpy(float), sub[term].to_numpy(float)]
        )
        if len(sub) <= X.shape[1] or np.ptp(sub[term].to_numpy(float)) == 0:
            out[g] = np.nan
            n_bad += 1
            continue
        beta, *_ = np.linalg.lstsq(X, sub[sync].to_numpy(float), rcond=None)
        out[g] = beta[-1]
    if n_bad:
        warnings.warn(
            f"dyad_slopes: {n_bad} dyad(s) without an estimable slope (NaN)",
            UserWarning,
            stacklevel=2,
        )
    res = pd.Series(out, name=f"slope_{term}")
    res.attrs["n_excluded_rows"] = n_rows_bad
    res.attrs["n_dyads_without_slope"] = n_bad
    if n_rows_bad:
        warnings.warn(
            f"dyad_slopes: {n_rows_bad} row(s) with NaN or infinite values in {cols} left out",
            UserWarning,
            stacklevel=2,
        )
    return res


def sign_flip_test(
    effects,
    n_permutations: int = 10000,
    *,
    statistic: str = "t",
    alternative: str = "two-sided",
    exact: bool | None = None,
    random_state=None,
) -> SignFlipResult:
    """One-sample sign-flip (randomization) test of dyad-level effects against 0.

    Parameters
    ----------
    effects : array-like (n_dyads,)
        One effect per dyad (e.g. :func:`dyad_slopes`); NaNs are dropped and counted.
    n_permutations : int
        Random sign flips when not exact.
    statistic : {'t', 'mean'}
    alternative : {'two-sided', 'greater', 'less'}
    exact : bool | None
        Enumerate all ``2**n`` flips; ``None`` = exact when ``2**n <= n_permutations``.
    random_state : None | int | numpy.random.Generator
        Seed of the random sign flips (not used when exact).

    Returns
    -------
    result : SignFlipResult
        ``stat, p, n, n_dropped, n_permutations, exact`` (``.to_data_frame()``). Exact
        p-values count the observed assignment among the ``2**n``; random ones use
        ``(1 + #) / (1 + n_perm)``.
    """
    check_option("statistic", statistic, ("t", "mean"))
    check_option("alternative", alternative, ("two-sided", "greater", "less"))
    n_permutations = check_int(n_permutations, "n_permutations", minimum=1)
    _validate_type(exact, (bool, None), "exact")
    try:
        x = np.asarray(effects, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            f"effects must be numbers (one effect per dyad); got {effects!r:.80}"
        ) from None
    if x.ndim != 1:
        raise ValueError(f"effects must be one-dimensional (one per dyad); got shape {x.shape}")
    ok = np.isfinite(x)
    n_dropped = int((~ok).sum())
    x = x[ok]
    n = x.size
    if n < 2:
        raise ValueError(f"sign_flip_test needs >= 2 finite effects; got {n}")
    if exact is None:
        exact = 2**n <= n_permutations
    if exact:
        if n > 20:
            raise ValueError(f"exact=True enumerates 2**{n} flips; use exact=False")
        signs = np.array(list(itertools.product([1.0, -1.0], repeat=n)))
    else:
        rng = check_random_state(random_state)
        signs = rng.choice([-1.0, 1.0], size=(n_permutations, n))

    def stat(v):  # v: (P, n)
        m = v.mean(axis=-1)
        if statistic == "mean":
            return m
        sd = v.std(axis=-1, ddof=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(sd > 0, m / (sd / np.sqrt(n)), np.sign(m) * np.inf)

    obs = float(stat(x[None, :])[0])
    null = stat(signs * x[None, :])
    if alternative == "two-sided":
        hits = np.abs(null) >= abs(obs) - 1e-12
    elif alternative == "greater":
        hits = null >= obs - 1e-12
    else:
        hits = null <= obs + 1e-12
    p = hits.mean() if exact else (1 + hits.sum()) / (1 + len(null))
    return SignFlipResult(
        stat=obs,
        p=float(p),
        n=n,
        n_dropped=n_dropped,
        n_permutations=int(len(null)),
        exact=bool(exact),
        statistic=statistic,
        alternative=alternative,
    )


@keyword_only_after(3)
@fill_doc
@verbose
def cluster_bootstrap(
    table: pd.DataFrame,
    statistic: Callable[[pd.DataFrame], float | np.ndarray],
    groups: str = "dyad",
    *,
    n_boot: int = 2000,
    ci: str = "bca",
    alpha: float = 0.05,
    random_state=None,
    verbose=None,
) -> BootstrapResult:
    """Bootstrap confidence intervals resampling whole dyads (clusters) with replacement.

    Parameters
    ----------
    table : DataFrame
        The rows of every dyad (e.g. one analysis cell).
    statistic : callable
        ``statistic(df) -> float or 1-D array``. Resampled dyads are relabelled
        (``'<dyad>#<k>'``) so that a dyad drawn twice is two groups for a mixed model.
    groups : str
        The cluster column (dyad).
    n_boot : int
        Number of bootstrap resamples (an integer).
    ci : {'percentile', 'bca'}
        BCa (Efron 1987) uses the jackknife over dyads for the acceleration.
    alpha : float
        ``1 - alpha`` interval.
    random_state : None | int | numpy.random.Generator
        Seed of the resampling.
    %(verbose)s

    Returns
    -------
    result : BootstrapResult
        ``estimate, ci_low, ci_high, se, boot (n_boot, ...), method, n_boot`` and ``n_failed``
        (resamples where the statistic was NaN or infinite: left out, with a warning);
        ``.to_data_frame()`` gives one row per statistic.
    """
    check_option("ci", ci, ("percentile", "bca"))
    _validate_type(statistic, "callable", "statistic")
    n_boot = check_int(n_boot, "n_boot", minimum=1)
    check_alpha(alpha)
    check_column(table, groups, "groups")
    rng = check_random_state(random_state)
    names = np.array(sorted(table[groups].unique(), key=str))
    G = len(names)
    if G < 3:
        raise ValueError(f"cluster_bootstrap needs >= 3 {groups} groups; got {G}")
    est = np.atleast_1d(np.asarray(statistic(table), dtype=float))
    if not np.isfinite(est).all():
        raise ValueError(
            f"statistic(table) returned a non-finite estimate {est.tolist()}; the bootstrap "
            "needs a finite statistic on the full data (check for NaN/inf in its columns)."
        )
    boot, n_failed = _resample(table, statistic, groups, names, n_boot, est.size, rng)
    lo_q, hi_q = alpha / 2, 1 - alpha / 2
    if ci == "percentile":
        lo = np.nanquantile(boot, lo_q, axis=0)
        hi = np.nanquantile(boot, hi_q, axis=0)
    else:
        lo, hi = _bca_interval(boot, est, table, statistic, groups, names, (lo_q, hi_q))
    squeeze = est.size == 1
    return BootstrapResult(
        estimate=est[0] if squeeze else est,
        ci_low=float(lo[0]) if squeeze else lo,
        ci_high=float(hi[0]) if squeeze else hi,
        se=float(np.nanstd(boot[:, 0], ddof=1)) if squeeze else np.nanstd(boot, 0, ddof=1),
        boot=boot[:, 0] if squeeze else boot,
        method=ci,
        n_boot=n_boot,
        n_failed=n_failed,
        alpha=float(alpha),
    )


def _resample(table, statistic, groups, names, n_boot, size, rng) -> tuple[np.ndarray, int]:
    """The statistic on ``n_boot`` resamples of whole groups; non-finite draws set to NaN."""
    parts = {g: sub for g, sub in table.groupby(groups, sort=False)}
    G = len(names)
    boot = np.empty((n_boot, size))
    for b in range(n_boot):
        pick = rng.integers(0, G, G)
        df = pd.concat(
            [parts[names[i]].assign(**{groups: f"{names[i]}#{k}"}) for k, i in enumerate(pick)],
            ignore_index=True,
        )
        boot[b] = np.asarray(statistic(df), dtype=float)
    bad = ~np.isfinite(boot)
    n_failed = int(bad.any(axis=1).sum())
    if n_failed:
        import warnings

        warnings.warn(
            f"cluster_bootstrap: the statistic was NaN or infinite in {n_failed} of "
            f"{n_boot} resample(s); they are left out of the interval (n_failed)",
            UserWarning,
            stacklevel=5,  # the caller of cluster_bootstrap (through two decorators)
        )
        if n_failed == n_boot:
            raise ValueError(
                "cluster_bootstrap: the statistic was NaN or infinite in every resample; "
                "check that it can be computed when dyads are drawn twice or left out."
            )
        boot = np.where(bad, np.nan, boot)
    return boot, n_failed


def _bca_interval(boot, est, table, statistic, groups, names, quantiles):
    """BCa bounds (Efron 1987): bias from the draws, acceleration from the group jackknife."""
    from scipy import stats as sst

    prop = np.clip((boot < est).mean(axis=0) + 0.5 * (boot == est).mean(axis=0), 1e-10, 1 - 1e-10)
    z0 = sst.norm.ppf(prop)
    jack = np.array(
        [np.asarray(statistic(table[table[groups] != g]), dtype=float) for g in names]
    ).reshape(len(names), -1)
    d = jack.mean(axis=0) - jack
    den = 6.0 * (d**2).sum(axis=0) ** 1.5
    a = np.where(den > 0, (d**3).sum(axis=0) / np.where(den > 0, den, 1), 0.0)
    lo, hi = [], []
    for j in range(est.size):
        qs = []
        for q in quantiles:
            zq = sst.norm.ppf(q)
            adj = sst.norm.cdf(z0[j] + (z0[j] + zq) / (1 - a[j] * (z0[j] + zq)))
            qs.append(np.nanquantile(boot[:, j], adj))
        lo.append(qs[0])
        hi.append(qs[1])
    return np.array(lo), np.array(hi)
