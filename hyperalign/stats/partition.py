"""Variance partitioning (commonality analysis) of synchrony into semantic and acoustic parts."""

from __future__ import annotations

import pandas as pd

from ..utils import (
    verbose,
)
from ._checks import keyword_only_after
from ._results import CommonalityResult, VariancePartitionResult


def commonality(
    r2_full: float, r2_sem: float, r2_ac: float, r2_cov: float = 0.0
) -> CommonalityResult:
    """Unique and shared parts of explained variance from four nested models' marginal R².

    Parameters
    ----------
    r2_full : float
        Covariates + acoustic + semantic terms.
    r2_sem : float
        Covariates + semantic terms.
    r2_ac : float
        Covariates + acoustic terms.
    r2_cov : float
        Covariates only (0 with an intercept only).

    Returns
    -------
    result : CommonalityResult
        ``unique_sem = r2_full - r2_ac``, ``unique_ac = r2_full - r2_sem`` and
        ``shared = r2_sem + r2_ac - r2_full - r2_cov`` (the three add up to
        ``total = r2_full - r2_cov``). Negative ``shared`` indicates suppression.
    """
    return CommonalityResult(
        unique_sem=r2_full - r2_ac,
        unique_ac=r2_full - r2_sem,
        shared=r2_sem + r2_ac - r2_full - r2_cov,
        total=r2_full - r2_cov,
    )


def _formula(y: str, terms: list[str]) -> str:
    return f"{y} ~ " + (" + ".join(terms) if terms else "1")


@keyword_only_after(3)
@verbose
def variance_partition(
    table: pd.DataFrame,
    sync: str = "sync",
    semantic: str | list[str] = ("sem_align",),
    *,
    acoustic: list[str] = ("acsim",),
    covariates: list[str] = (),
    groups: str = "dyad",
    reml: bool = True,
    verbose=None,
) -> VariancePartitionResult:
    """Partition the marginal R² of a mixed model into unique semantic, unique acoustic and shared.

    Fits four random-intercept models (full, semantic-only, acoustic-only, covariates-only;
    covariates are in all four) and applies :func:`commonality` to their marginal R²
    (Nakagawa & Schielzeth 2013).

    Parameters
    ----------
    table : DataFrame
        Rows of one analysis cell.
    sync, semantic, acoustic, covariates, groups : see
        :func:`hyperalign.stats.test_semantic_beyond_acoustics`.
    reml : bool
        Fit by REML (default).
    verbose : bool | str | int | None
        Log level for this call.

    Returns
    -------
    result : VariancePartitionResult
        ``R2m_full, R2m_sem, R2m_ac, R2m_cov, unique_sem, unique_ac, shared, total`` and the
        rows used and left out (``n_obs, n_excluded_nan, n_excluded_nonfinite``: rows with
        NaN or +-inf in a model column); ``.to_data_frame()`` gives one row.
    """
    from ._checks import as_terms, check_column
    from .mixed import _check_model_data, fit_mixed, formula_variables

    semantic = as_terms(semantic, "semantic")
    acoustic = as_terms(acoustic, "acoustic")
    covariates = as_terms(covariates, "covariates")
    check_column(table, sync, "sync")
    cols = [sync] + [v for t in semantic + acoustic + covariates for v in formula_variables(t)]
    data, excl = _check_model_data(
        table,
        list(dict.fromkeys(cols)),
        groups,
        formula=_formula(sync, covariates + acoustic + semantic),
    )
    fits = {}
    for name, terms in (
        ("full", covariates + acoustic + semantic),
        ("sem", covariates + semantic),
        ("ac", covariates + acoustic),
        ("cov", covariates),
    ):
        if name == "cov" and not covariates:
            fits[name] = 0.0
            continue
        fits[name] = fit_mixed(data, _formula(sync, terms), groups=groups, reml=reml).r2.R2m
    part = commonality(fits["full"], fits["sem"], fits["ac"], fits["cov"])
    return VariancePartitionResult(
        **{f"R2m_{k}": float(v) for k, v in fits.items()},
        **part.to_dict(),
        n_obs=len(data),
        n_excluded_nan=excl.n_nan,
        n_excluded_nonfinite=excl.n_nonfinite,
    )
