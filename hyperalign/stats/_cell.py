"""One cell of :func:`~hyperalign.stats.test_semantic_beyond_acoustics`.

For the rows of one cell (band × ROI × lag): the acoustics-only and the semantic model fitted
by ML (likelihood-ratio test) and by REML (coefficients, R²), the commonality partition, and
the permutation statistic under the analysis's shared permutation plan.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..utils import single_thread_blas
from .mixed import _check_model_data, _fit_mixed, check_n_groups, formula_variables, lrt
from .partition import commonality
from .permutation import batch_lrt


def _formula(y: str, terms: list[str]) -> str:
    return f"{y} ~ " + (" + ".join(terms) if terms else "1")


def _fit_quiet(data, formula, groups, reml, messages, engine="fast"):
    """One model of a cell; its notes (singular fit, no convergence) appended to ``messages``.

    The notes come from the fit, not from the warnings machinery (whose registry and global
    filters would make them depend on what ran before, and on threads).
    """
    res, notes = _fit_mixed(
        data, formula, groups=groups, reml=reml, check_groups=False, engine=engine
    )
    messages.extend(notes)
    return res


def _analyse_cell(cell, key, spec, keep_models):
    # these matrices are small: one BLAS thread (threads thrash on busy cores)
    with single_thread_blas():
        return _analyse_cell_impl(cell, key, spec, keep_models)


def _analyse_cell_impl(cell, key, spec, keep_models):
    """Models, LRT, coefficients, R², partition and permutation statistic of one cell."""
    sync, semantic, acoustic, covariates, groups = (
        spec["sync"], spec["semantic"], spec["acoustic"], spec["covariates"], spec["groups"],
    )  # fmt: skip
    messages: list[str] = []
    eng = spec["engine"]
    f0 = _formula(sync, covariates + acoustic)
    f1 = _formula(sync, covariates + acoustic + semantic)
    data, excl, n_dyads = _cell_rows(cell, key, spec, f1)
    null_ml = _fit_quiet(data, f0, groups, False, messages, eng)
    full_ml = _fit_quiet(data, f1, groups, False, messages, eng)
    test = lrt(full_ml, null_ml)
    null_re = _fit_quiet(data, f0, groups, True, messages, eng)
    full_re = _fit_quiet(data, f1, groups, True, messages, eng)
    row = {
        "n_obs": full_ml.n_obs,
        "n_dyads": n_dyads,
        "n_excluded": excl.n + int(spec.get("n_excluded_table", 0)),
        "n_excluded_nan": excl.n_nan,
        "n_excluded_nonfinite": excl.n_nonfinite,
        "lrt": test.lrt,
        "df": test.df,
        "p_lrt": test.p,
    }
    null_names = list(null_ml.result.model.exog_names)
    sem_names = [n for n in full_ml.result.model.exog_names if n not in null_names]
    row.update(_semantic_coefficients(full_re, sem_names, spec["alpha"]))
    row.update(_r2_columns(null_re, full_re))
    if spec["partition"]:
        row.update(_partition(data, spec, null_re, full_re, messages))
    row.update(_permutation_columns(data, spec, null_ml, full_ml, sem_names, test))
    job = row.pop("_job")
    singular = null_ml.singular or full_ml.singular or null_re.singular or full_re.singular
    row["singular"] = bool(singular)
    row["notes"] = "; ".join(dict.fromkeys(messages))
    models = None
    if keep_models:
        if eng == "fast":  # keep statsmodels results objects
            null_ml, full_ml, null_re, full_re = (
                _fit_quiet(data, f, groups, r, [], "statsmodels")
                for f, r in ((f0, False), (f1, False), (f0, True), (f1, True))
            )
        models = {"null_ml": null_ml, "full_ml": full_ml, "null_reml": null_re,
                  "full_reml": full_re}  # fmt: skip
    return row, job, models, {"f0": f0, "f1": f1}


def _cell_rows(cell, key, spec, f1):
    """The cell's usable rows (sorted by dyad, then utterance), its exclusions and dyads."""
    groups = spec["groups"]
    terms = spec["semantic"] + spec["acoustic"] + spec["covariates"]
    cols = list(dict.fromkeys([spec["sync"]] + [v for t in terms for v in formula_variables(t)]))
    where = f"cell {dict(zip(spec['by'], key))}" if spec["by"] else "the table"
    data, excl = _check_model_data(cell, cols, groups, formula=f1, where=where)
    order = np.lexsort((data["utterance_id"].to_numpy(), data[groups].astype(str).to_numpy()))
    data = data.iloc[order].reset_index(drop=True)
    n_dyads = int(data[groups].nunique())
    # the table-level check warned once already; a cell warns only when it lost dyads
    check_n_groups(n_dyads, groups, where=where, warn=n_dyads < spec["n_groups_table"])
    return data, excl, n_dyads


def _semantic_coefficients(full_re, sem_names: list[str], alpha: float) -> dict:
    """Estimate, SE, z, p and Wald CI of each semantic term (REML fit)."""
    row = {}
    ct = full_re.coef_table(alpha=alpha).set_index("term")
    for term in sem_names:
        sfx = "" if len(sem_names) == 1 else f"_{term}"
        r = ct.loc[term]
        row[f"beta_sem{sfx}"] = r["estimate"]
        row[f"se{sfx}"] = r["se"]
        row[f"z{sfx}"] = r["z"]
        row[f"p_wald{sfx}"] = r["p"]
        row[f"ci_low{sfx}"] = r["ci_low"]
        row[f"ci_high{sfx}"] = r["ci_high"]
    row["ci_method"] = f"Wald {int(round(100 * (1 - alpha)))}% CI, REML fit"
    return row


def _r2_columns(null_re, full_re) -> dict:
    """Marginal and conditional R² of both REML fits and their differences."""
    row = dict(
        R2m_null=null_re.r2.R2m,
        R2c_null=null_re.r2.R2c,
        R2m_full=full_re.r2.R2m,
        R2c_full=full_re.r2.R2c,
    )
    row["dR2m"] = row["R2m_full"] - row["R2m_null"]
    row["dR2c"] = row["R2c_full"] - row["R2c_null"]
    return row


def _partition(data, spec, null_re, full_re, messages) -> dict:
    """Commonality partition of the marginal R² (two extra REML fits)."""
    sync, semantic, covariates, groups = (
        spec["sync"], spec["semantic"], spec["covariates"], spec["groups"],
    )  # fmt: skip
    eng = spec["engine"]
    sem_only = _fit_quiet(data, _formula(sync, covariates + semantic), groups, True, messages, eng)
    r2_cov = (
        _fit_quiet(data, _formula(sync, covariates), groups, True, messages, eng).r2.R2m
        if covariates
        else 0.0
    )
    part = commonality(full_re.r2.R2m, sem_only.r2.R2m, null_re.r2.R2m, r2_cov)
    return dict(unique_sem=part.unique_sem, unique_ac=part.unique_ac, shared=part.shared)


def _permutation_columns(data, spec, null_ml, full_ml, sem_names, test) -> dict:
    """``lrt_fixed`` and ``stat_perm_obs``, and what a permutation block needs (``'_job'``).

    The permutation null itself is computed afterwards, in blocks of permutations over all
    cells (``analysis._permutation_nulls``), which also fills ``p_perm``.
    """
    y = np.asarray(null_ml.result.model.endog, dtype=float)
    X0 = np.asarray(null_ml.result.model.exog, dtype=float)
    full_names = list(full_ml.result.model.exog_names)
    S = np.asarray(full_ml.result.model.exog, dtype=float)[
        :, [full_names.index(n) for n in sem_names]
    ]
    codes = pd.factorize(data[spec["groups"]].astype(str), sort=True)[0]
    sigma2 = float(null_ml.result.scale)
    tau2 = float(np.asarray(null_ml.result.cov_re)[0, 0])
    lrt_fixed, _ = batch_lrt(y, X0, S, codes, sigma2, tau2, None)
    row = {"lrt_fixed": lrt_fixed, "stat_perm_obs": np.nan, "p_perm": np.nan, "_job": None}
    if spec["n_permutations"] > 0:
        row["stat_perm_obs"] = lrt_fixed if spec["method"] == "batch" else test.lrt
        units = data[[spec["groups"], "utterance_id"]]
        row["_job"] = dict(y=y, X0=X0, S=S, codes=codes, sigma2=sigma2, tau2=tau2,
                           llf0=null_ml.llf, units=units)  # fmt: skip
    return row
