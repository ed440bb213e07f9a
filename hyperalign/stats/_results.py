"""Labelled results of the statistics functions (they used to be bare dicts).

Every result is a dataclass with named attributes, a ``repr`` that reads like a sentence and
``.to_data_frame()`` (one row; arrays such as bootstrap draws stay on the object). For one
release the old dict access still works (``res["p"]``, ``res.keys()``, ``dict(res)``) with a
``DeprecationWarning`` naming the attribute to use.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


class _Labelled:
    """Mixin: attribute results with deprecated mapping access and ``to_data_frame``."""

    def _names(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self)]

    def __getitem__(self, key: str):
        if key not in self._names():
            raise KeyError(f"{type(self).__name__} has no field {key!r}; fields: {self._names()}")
        warnings.warn(
            f"{type(self).__name__}[{key!r}]: results are no longer dicts; use the attribute "
            f".{key} (dict access will be removed in the next release)",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(self, key)

    def keys(self) -> list[str]:
        """Field names (deprecated dict interface; use the attributes)."""
        return self._names()

    def __iter__(self):
        return iter(self._names())

    def __contains__(self, key) -> bool:
        return key in self._names()

    def get(self, key: str, default=None):
        """Deprecated dict interface: ``getattr(result, key, default)``."""
        return self[key] if key in self._names() else default

    def to_dict(self) -> dict:
        """The fields as a dict.

        Returns
        -------
        fields : dict
            ``{field name: value}``.
        """
        return {k: getattr(self, k) for k in self._names()}

    def to_data_frame(self) -> pd.DataFrame:
        """One row with the scalar fields (array fields stay on the object).

        Returns
        -------
        df : pandas.DataFrame
            One row, one column per scalar field.
        """
        row = {
            k: v
            for k, v in self.to_dict().items()
            if np.ndim(v) == 0 and not isinstance(v, dict | list | tuple)
        }
        return pd.DataFrame([row])


@dataclass(repr=False)
class SignFlipResult(_Labelled):
    """Result of :func:`~hyperalign.stats.sign_flip_test`.

    Parameters
    ----------
    stat : float
        Observed statistic (t or mean).
    p : float
        The p-value (exact: share of the ``2**n`` sign assignments at least as extreme; random:
        ``(1 + #) / (1 + n_permutations)``).
    n : int
        Finite effects used.
    n_dropped : int
        NaN or infinite effects left out.
    n_permutations : int
        Sign assignments evaluated.
    exact : bool
        All ``2**n`` assignments enumerated.
    statistic, alternative : str
        The test's options.
    """

    stat: float
    p: float
    n: int
    n_dropped: int
    n_permutations: int
    exact: bool
    statistic: str = "t"
    alternative: str = "two-sided"

    def __repr__(self) -> str:
        return (
            f"<SignFlipResult | {self.statistic}={self.stat:.3g}, p={self.p:.3g} "
            f"({self.alternative}, {'exact' if self.exact else 'random'}, "
            f"{self.n_permutations} flips) | n={self.n}, {self.n_dropped} dropped>"
        )


@dataclass(repr=False)
class BootstrapResult(_Labelled):
    """Result of :func:`~hyperalign.stats.cluster_bootstrap`.

    Parameters
    ----------
    estimate : float | ndarray
        The statistic on the full data.
    ci_low, ci_high : float | ndarray
        Interval bounds.
    se : float | ndarray
        Bootstrap standard error.
    boot : ndarray, shape (n_boot,) or (n_boot, n_stats)
        The bootstrap draws (NaN where the statistic failed).
    method : str
        ``'bca'`` or ``'percentile'``.
    n_boot : int
        Resamples drawn.
    n_failed : int
        Resamples where the statistic was NaN or infinite (left out).
    alpha : float
        ``1 - alpha`` interval.
    """

    estimate: float | np.ndarray
    ci_low: float | np.ndarray
    ci_high: float | np.ndarray
    se: float | np.ndarray
    boot: np.ndarray = field(repr=False)
    method: str = "bca"
    n_boot: int = 0
    n_failed: int = 0
    alpha: float = 0.05

    def to_data_frame(self) -> pd.DataFrame:
        """One row per statistic: ``estimate, ci_low, ci_high, se`` and the settings.

        Returns
        -------
        df : pandas.DataFrame
            One row per statistic, with ``method, n_boot, n_failed, alpha`` repeated.
        """
        est = np.atleast_1d(self.estimate)
        df = pd.DataFrame(
            {
                "estimate": est,
                "ci_low": np.atleast_1d(self.ci_low),
                "ci_high": np.atleast_1d(self.ci_high),
                "se": np.atleast_1d(self.se),
            }
        )
        df["method"], df["n_boot"], df["n_failed"], df["alpha"] = (
            self.method, self.n_boot, self.n_failed, self.alpha,
        )  # fmt: skip
        return df

    def __repr__(self) -> str:
        est = np.atleast_1d(self.estimate)
        lo, hi = np.atleast_1d(self.ci_low), np.atleast_1d(self.ci_high)
        pct = int(round(100 * (1 - self.alpha)))
        body = f"{est[0]:.3g} [{lo[0]:.3g}, {hi[0]:.3g}]" if est.size == 1 else f"{est.size} stats"
        return (
            f"<BootstrapResult | {body} ({pct}% {self.method}) | {self.n_boot} resamples, "
            f"{self.n_failed} failed>"
        )


@dataclass(repr=False)
class LRTResult(_Labelled):
    """Result of :func:`~hyperalign.stats.lrt`.

    Parameters
    ----------
    lrt : float
        ``2 * (llf_full - llf_null)``, clipped at 0.
    df : int
        Difference in the number of fixed effects.
    p : float
        Chi-square survival function of ``lrt`` on ``df``.
    """

    lrt: float
    df: int
    p: float

    def __repr__(self) -> str:
        return f"<LRTResult | chi2({self.df}) = {self.lrt:.4g}, p = {self.p:.3g}>"


@dataclass(repr=False)
class R2Result(_Labelled):
    """Marginal and conditional R² (:func:`~hyperalign.stats.r2_nakagawa`).

    Parameters
    ----------
    R2m, R2c : float
        Marginal (fixed effects) and conditional (fixed + random) R².
    var_fixed, var_random, var_vc, var_resid : float
        The variance components.
    """

    R2m: float
    R2c: float
    var_fixed: float
    var_random: float
    var_vc: float
    var_resid: float

    def __repr__(self) -> str:
        return f"<R2Result | R2m={self.R2m:.3f}, R2c={self.R2c:.3f}>"


@dataclass(repr=False)
class CommonalityResult(_Labelled):
    """Unique and shared parts of explained variance (:func:`~hyperalign.stats.commonality`).

    Parameters
    ----------
    unique_sem, unique_ac, shared, total : float
        ``unique_sem + unique_ac + shared == total``; negative ``shared`` is suppression.
    """

    unique_sem: float
    unique_ac: float
    shared: float
    total: float

    def __repr__(self) -> str:
        return (
            f"<CommonalityResult | unique semantic {self.unique_sem:.4f}, unique acoustic "
            f"{self.unique_ac:.4f}, shared {self.shared:.4f} (total {self.total:.4f})>"
        )


@dataclass(repr=False)
class VariancePartitionResult(_Labelled):
    """Result of :func:`~hyperalign.stats.variance_partition`.

    Parameters
    ----------
    R2m_full, R2m_sem, R2m_ac, R2m_cov : float
        Marginal R² of the four models.
    unique_sem, unique_ac, shared, total : float
        Their commonality partition.
    n_obs, n_excluded_nan, n_excluded_nonfinite : int
        Rows used, and rows left out for NaN and for infinite values.
    """

    R2m_full: float
    R2m_sem: float
    R2m_ac: float
    R2m_cov: float
    unique_sem: float
    unique_ac: float
    shared: float
    total: float
    n_obs: int = 0
    n_excluded_nan: int = 0
    n_excluded_nonfinite: int = 0

    def __repr__(self) -> str:
        return (
            f"<VariancePartitionResult | unique semantic {self.unique_sem:.4f}, unique acoustic "
            f"{self.unique_ac:.4f}, shared {self.shared:.4f} | n={self.n_obs}>"
        )
