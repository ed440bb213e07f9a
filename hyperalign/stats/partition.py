"""Variance partitioning (commonality analysis) of synchrony into semantic and acoustic parts."""

from __future__ import annotations

import pandas as pd

from ..utils import verbose_context


def commonality(r2_full: float, r2_sem: float, r2_ac: float, r2_cov: float = 0.0) -> dict:
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
    dict with ``unique_sem = r2_full - r2_ac``, ``unique_ac = r2_full - r2_sem`` and
    ``shared = r2_sem + r2_ac - r2_full - r2_cov`` (the three add up to
    ``r2_full - r2_cov``). Negative ``shared`` indicates suppression.
    """
    return {
        "unique_sem": r2_full - r2_ac,
        "unique_ac": r2_full - r2_sem,
        "shared": r2_sem + r2_ac - r2_full - r2_cov,
        "total": r2_full - r2_cov,
    }


def _formula(y: str, terms: list[str]) -> str:
    return f"{y} ~ " + (" + ".join(terms) if terms else "1")


def variance_partition(
    table: pd.DataFrame,
    sync: str = "sync",
    semantic: list[str] = ("sem_align",),
    acoustic: list[str] = ("acsim",),
    covariates: list[str] = (),
    groups: str = "dyad",
    *,
    reml: bool = True,
    verbose=None,
) -> dict:
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

    Returns
    -------
    dict with ``R2m_full, R2m_sem, R2m_ac, R2m_cov, unique_sem, unique_ac, shared, total``.
    """
    from .mixed import _check_model_data, fit_mixed

    semantic, acoustic, covariates = list(semantic), list(acoustic), list(covariates)
    with verbose_context(verbose):
        cols = [sync] + semantic + acoustic + covariates
        data, _ = _check_model_data(table, [c for c in cols if c in table.columns], groups)
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
            fits[name] = fit_mixed(data, _formula(sync, terms), groups=groups, reml=reml).r2["R2m"]
        out = {f"R2m_{k}": v for k, v in fits.items()}
        out.update(commonality(fits["full"], fits["sem"], fits["ac"], fits["cov"]))
        return out
