"""Does semantic alignment explain inter-brain synchrony beyond acoustics?

:func:`test_semantic_beyond_acoustics` fits, for every cell (band × ROI × lag), the
acoustics-only mixed model and the model with the semantic term(s), compares them with a
likelihood-ratio test (both fitted by ML), reports the semantic coefficient with its Wald CI
from the REML fit, marginal / conditional R² of both models, a commonality partition of the
variance, and a permutation p-value (semantic alignment shuffled within dyad, or taken from
another dyad) with max-statistic, FDR or Holm correction across cells.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..utils import (
    ExclusionLog,
    atomic_write,
    check_n_jobs,
    check_option,
    fill_doc,
    logger,
    progress,
    single_thread_blas,
    verbose,
)
from ._checks import as_terms, check_column, check_int, keyword_only_after, nearest
from .correction import correct_pvalues, maxstat_pvalues
from .mixed import (
    AnalysisTableError,
    _check_model_data,
    check_n_groups,
    fit_mixed,
    formula_variables,
    lrt,
)
from .partition import commonality
from .permutation import (  # noqa: F401 - _refit_permutations: importable here as before
    PermutationPlan,
    _check_block_size,
    _permutation_nulls,
    _refit_permutations,
    batch_lrt,
)

CORRECTIONS = ("maxstat", "fdr", "fdr_bh", "fdr_by", "holm", "bonferroni", None)
DEFAULT_ACOUSTIC = ("acsim",)


def _formula(y: str, terms: list[str]) -> str:
    return f"{y} ~ " + (" + ".join(terms) if terms else "1")


@dataclass
class SemanticTestResult:
    """Result of :func:`test_semantic_beyond_acoustics`.

    Attributes
    ----------
    table : DataFrame
        One row per cell: cell keys, ``n_obs, n_dyads, n_excluded`` (rows left out of the
        cell's models: ``n_excluded_nan`` with a missing value, ``n_excluded_nonfinite`` with
        ``+-inf`` in a model column, plus rows the analysis table had already dropped),
        ``lrt, df, p_lrt,
        lrt_fixed, p_perm, p_corrected, beta_sem, se, z, p_wald, ci_low, ci_high, ci_method,
        R2m_null, R2c_null, R2m_full, R2c_full, dR2m, dR2c, unique_sem, unique_ac, shared,
        singular, notes``.
    params : dict
        Every parameter used (formulas, permutations, correction…); feeds
        :meth:`methods_text`.
    models : dict | None
        ``{cell: {'null_ml', 'full_ml', 'null_reml', 'full_reml'}}`` (``keep_models=True``).
    null : ndarray (n_permutations, n_cells) | None
        Permutation null of the statistic in every cell (same permutations across cells).
    exclusions : ExclusionLog
    """

    table: pd.DataFrame
    params: dict
    models: dict | None = None
    null: np.ndarray | None = None
    exclusions: ExclusionLog = field(default_factory=ExclusionLog)

    def to_csv(self, path) -> None:
        """Write :attr:`table` as CSV (atomically)."""
        with atomic_write(path, "w", newline="") as fh:
            self.table.to_csv(fh, index=False)

    def to_markdown(self, columns=None, digits: int = 3) -> str:
        """A Markdown table of the per-cell results (no extra dependency)."""
        from ._format import results_table, to_markdown

        return to_markdown(results_table(self, columns=columns), digits=digits)

    def to_latex(
        self, columns=None, digits: int = 3, caption: str | None = None, label: str | None = None
    ) -> str:
        """A LaTeX ``tabular`` (booktabs) of the per-cell results."""
        from ._format import results_table, to_latex

        return to_latex(
            results_table(self, columns=columns), digits=digits, caption=caption, label=label
        )

    def methods_text(self, **params) -> str:
        """Methods paragraph from the parameters actually used (override/add with ``params``)."""
        from ._methods import methods_paragraph

        return methods_paragraph({**self.params, **params})

    def __repr__(self) -> str:
        n_sig = int((self.table["p_corrected"] < self.params.get("alpha", 0.05)).sum())
        return (
            f"<SemanticTestResult | {len(self.table)} cell(s) | "
            f"{self.params['n_permutations']} permutations ({self.params['method']}) | "
            f"correction={self.params['correction']} | {n_sig} significant>"
        )


def _fit_quiet(data, formula, groups, reml, messages, engine="fast"):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = fit_mixed(data, formula, groups=groups, reml=reml, check_groups=False, engine=engine)
    for w in caught:
        messages.append(str(w.message))
    return res


def _analyse_cell(cell, key, spec, keep_models):
    # these matrices are small: one BLAS thread (threads thrash on busy cores)
    with single_thread_blas():
        return _analyse_cell_impl(cell, key, spec, keep_models)


def _analyse_cell_impl(cell, key, spec, keep_models):
    sync, semantic, acoustic, covariates, groups = (
        spec["sync"],
        spec["semantic"],
        spec["acoustic"],
        spec["covariates"],
        spec["groups"],
    )
    messages: list[str] = []
    eng = spec["engine"]
    cols = list(
        dict.fromkeys(
            [sync] + [v for t in semantic + acoustic + covariates for v in formula_variables(t)]
        )
    )
    where = f"cell {dict(zip(spec['by'], key))}" if spec["by"] else "the table"
    f0 = _formula(sync, covariates + acoustic)
    f1 = _formula(sync, covariates + acoustic + semantic)
    data, excl = _check_model_data(cell, cols, groups, formula=f1, where=where)
    order = np.lexsort((data["utterance_id"].to_numpy(), data[groups].astype(str).to_numpy()))
    data = data.iloc[order].reset_index(drop=True)
    n_dyads = int(data[groups].nunique())
    # the table-level check warned once already; a cell warns only when it lost dyads
    check_n_groups(n_dyads, groups, where=where, warn=n_dyads < spec["n_groups_table"])
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
    full_names = list(full_ml.result.model.exog_names)
    sem_names = [n for n in full_names if n not in null_names]
    ct = full_re.coef_table(alpha=spec["alpha"]).set_index("term")
    for _i, term in enumerate(sem_names):
        sfx = "" if len(sem_names) == 1 else f"_{term}"
        r = ct.loc[term]
        row[f"beta_sem{sfx}"] = r["estimate"]
        row[f"se{sfx}"] = r["se"]
        row[f"z{sfx}"] = r["z"]
        row[f"p_wald{sfx}"] = r["p"]
        row[f"ci_low{sfx}"] = r["ci_low"]
        row[f"ci_high{sfx}"] = r["ci_high"]
    row["ci_method"] = f"Wald {int(round(100 * (1 - spec['alpha'])))}% CI, REML fit"
    row.update(
        R2m_null=null_re.r2.R2m,
        R2c_null=null_re.r2.R2c,
        R2m_full=full_re.r2.R2m,
        R2c_full=full_re.r2.R2c,
    )
    row["dR2m"] = row["R2m_full"] - row["R2m_null"]
    row["dR2c"] = row["R2c_full"] - row["R2c_null"]
    if spec["partition"]:
        sem_only = _fit_quiet(
            data, _formula(sync, covariates + semantic), groups, True, messages, eng
        )
        r2_cov = (
            _fit_quiet(data, _formula(sync, covariates), groups, True, messages, eng).r2.R2m
            if covariates
            else 0.0
        )
        part = commonality(full_re.r2.R2m, sem_only.r2.R2m, null_re.r2.R2m, r2_cov)
        row.update(unique_sem=part.unique_sem, unique_ac=part.unique_ac, shared=part.shared)
    # permutation statistic
    y = np.asarray(null_ml.result.model.endog, dtype=float)
    X0 = np.asarray(null_ml.result.model.exog, dtype=float)
    S = np.asarray(full_ml.result.model.exog, dtype=float)[
        :, [full_names.index(n) for n in sem_names]
    ]
    codes = pd.factorize(data[groups].astype(str), sort=True)[0]
    sigma2 = float(null_ml.result.scale)
    tau2 = float(np.asarray(null_ml.result.cov_re)[0, 0])
    lrt_fixed, _ = batch_lrt(y, X0, S, codes, sigma2, tau2, None)
    row["lrt_fixed"] = lrt_fixed
    # the permutation null is computed afterwards, in blocks of permutations over all cells
    # (_permutation_nulls); this cell hands over what a block needs
    job = None
    row["stat_perm_obs"] = np.nan
    row["p_perm"] = np.nan
    if spec["n_permutations"] > 0:
        row["stat_perm_obs"] = lrt_fixed if spec["method"] == "batch" else test.lrt
        job = dict(y=y, X0=X0, S=S, codes=codes, sigma2=sigma2, tau2=tau2, llf0=null_ml.llf,
                   units=data[[groups, "utterance_id"]])  # fmt: skip
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


_CELL_DEFAULTS = ("metric", "band", "roi", "lag")


def _check_by(table: pd.DataFrame, by) -> list[str]:
    """Cell columns of ``by`` present in ``table``; a name that is neither a column nor one of
    the default cell columns (absent e.g. without ROIs) is an error (a typo would merge cells)."""
    if by is None:
        return []
    by = [by] if isinstance(by, str) else list(by)
    for c in by:
        if not isinstance(c, str):
            raise TypeError(f"by must hold column names (str); got {c!r} in {by!r}")
        if c not in table.columns and c not in _CELL_DEFAULTS:
            raise AnalysisTableError(
                f"by={by!r} names {c!r}, which is not a column of the table; the table has "
                f"{list(map(str, table.columns))}{nearest(c, table.columns)}. Without it the "
                "cells would be merged; fix the name or leave it out."
            )
    return [c for c in by if c in table.columns]


def _validate_alpha(alpha) -> None:
    from ..utils import _validate_type

    _validate_type(alpha, "numeric", "alpha")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1 (e.g. 0.05); got {alpha!r}")


@keyword_only_after(3)
@verbose
@fill_doc
def test_semantic_beyond_acoustics(
    table: pd.DataFrame,
    sync: str = "sync",
    semantic: str | list[str] | tuple[str, ...] = ("sem_align",),
    *,
    acoustic: str | list[str] | tuple[str, ...] = DEFAULT_ACOUSTIC,
    covariates: list[str] | tuple[str, ...] = (),
    groups: str = "dyad",
    by: tuple[str, ...] | None = ("band", "roi", "lag"),
    n_permutations: int = 1000,
    correction: str | None = "maxstat",
    method: str = "batch",
    scheme: str = "within",
    alpha: float = 0.05,
    partition: bool = True,
    keep_models: bool = False,
    engine: str = "fast",
    random_state=None,
    n_jobs: int | None = None,
    block_size: int = 256,
    verbose=None,
) -> SemanticTestResult:
    """Test whether semantic alignment explains synchrony beyond acoustic predictors.

    For every cell of ``by`` (e.g. band × ROI × lag) two random-intercept models are
    compared::

        null: sync ~ covariates + acoustic + (1 | groups)
        full: sync ~ covariates + acoustic + semantic + (1 | groups)

    Parameters
    ----------
    table : DataFrame
        Analysis table from :func:`build_analysis_table`.
    sync : str
        Response column (``'sync'`` or the surrogate-corrected ``'sync_z'``).
    semantic : str | list of str
        Semantic alignment term(s) tested (e.g. ``'sem_align'`` or ``['sem_align']``).
        Formula terms allowed. Parameters after ``semantic`` are keyword-only (positional use
        still works for one release, with a ``DeprecationWarning``).
    acoustic : str | list of str
        Acoustic control terms (e.g. ``['acsim', 'ac_f0_mean', 'ac_intensity_db']``); an
        empty list gives the naive model without acoustic control.
    covariates : str | list of str
        Further terms in both models (e.g. ``['duration', 'n_words']``).
    groups : str
        Random-intercept grouping column (dyad).
    by : str | tuple of str | None
        Cell columns; the default cell columns (``metric, band, roi, lag``) absent from
        ``table`` are ignored, any other absent name is an error. A column ``metric`` with more
        than one value must be in ``by``.
    n_permutations : int
        Permutations for ``p_perm`` (0 = none; ``p_corrected`` then uses ``p_lrt``). An
        integer (a float, bool or string is a ``TypeError``).
    correction : {'maxstat', 'fdr', 'fdr_bh', 'fdr_by', 'holm', 'bonferroni', None}
        Across cells. ``'maxstat'`` uses the permutation distribution of the maximum
        statistic over cells (needs permutations); the others adjust ``p_perm`` (or
        ``p_lrt`` without permutations).
    method : {'batch', 'refit'}
        ``'batch'``: variance components of the ML null model fixed, all permutations at once
        (fast); ``'refit'``: full ML refit per permutation (slow; reference).
    scheme : {'within', 'circular', 'pseudo'}
        Shuffle semantic alignment within dyad, rotate its sequence within dyad by a random
        offset (keeps serial correlation), or take it from another dyad by position
        (pseudo-dyads).
    alpha : float
        Level of the confidence intervals (``1 - alpha``) and of the summary count.
    partition : bool
        Commonality partition (two extra REML fits per cell).
    keep_models : bool
        Keep the fitted models (statsmodels results) in ``result.models``.
    engine : {'fast', 'statsmodels'}
        Model fitting: ``'fast'`` maximizes the same random-intercept (restricted)
        likelihood as statsmodels ``MixedLM`` from group sufficient statistics (estimates and
        log-likelihoods equal to optimizer tolerance; GLS standard errors within 0.1 % of
        statsmodels'), ~100x faster; ``'statsmodels'`` calls ``MixedLM.fit``.
    %(random_state)s
    %(n_jobs)s
        Cells are analysed in parallel (joblib processes), then the blocks of permutations.
        Inside a Dask session (a pipeline run with ``execution.executor: dask``) the blocks
        of permutations run on the cluster.
    block_size : int
        Permutations per block of the null (the unit of work sent to a worker), a multiple
        of 256. The permutations are drawn once from ``random_state``: the result is the
        same, bit for bit, whatever ``block_size``, ``n_jobs`` and the workers.
    %(verbose)s

    Returns
    -------
    result : SemanticTestResult
        The per-cell table (``result.table``), the parameters used, the permutation null and
        the exclusions.

    Notes
    -----
    Rows with a missing (NaN) or non-finite (``+-inf``) value in a column a cell's models use
    are left out of that cell, counted per cell (``n_excluded_nan``,
    ``n_excluded_nonfinite``) and recorded in ``result.exclusions``. A column without any
    finite value, a text or constant column and collinear predictors are errors naming the
    columns and the cell.
    """
    semantic, acoustic, covariates, by, n_permutations = _check_test_args(
        table, sync, semantic, acoustic, covariates, groups, by, n_permutations, correction,
        method, engine, alpha,
    )  # fmt: skip
    n_jobs = check_n_jobs(n_jobs)
    block_size = _check_block_size(block_size)
    log = table.attrs.get("exclusions")
    log = log.copy() if isinstance(log, ExclusionLog) else ExclusionLog()
    t0 = time.perf_counter()
    # rows without a group are left out of every cell (and counted there as NaN rows)
    units = table[[groups, "utterance_id"]].dropna().drop_duplicates().copy()
    units[groups] = units[groups].astype(str)
    plan = PermutationPlan(units, groups, n_permutations, scheme, random_state)
    spec = dict(sync=sync, semantic=semantic, acoustic=acoustic, covariates=covariates,
                groups=groups, by=by, alpha=alpha, partition=partition,
                n_permutations=n_permutations, method=method, engine=engine,
                n_groups_table=int(table[groups].nunique()))  # fmt: skip
    keys, outs = _run_cells(table, by, spec, keep_models, n_jobs)
    t_null = time.perf_counter()
    nulls = _permutation_nulls(outs, plan, spec, block_size, n_jobs)
    t_null = time.perf_counter() - t_null
    res, models = _collect(keys, outs, by, keep_models, log)
    _warn_missing_cells(res, table, groups, by)
    null_mat = np.column_stack(nulls) if n_permutations > 0 else None
    res["p_corrected"] = _corrected(res, null_mat, correction)
    n_sing = int(res["singular"].sum())
    if n_sing:
        warnings.warn(
            f"singular fit in {n_sing} of {len(res)} cell(s) (random-intercept variance "
            "~0): see the 'notes' column; the LRT is then that of a fixed-effects model.",
            UserWarning,
            stacklevel=4,
        )
    params = dict(spec, correction=correction, scheme=scheme, random_state=random_state,
                  formula_null=outs[0][3]["f0"] if outs else None,
                  formula_full=outs[0][3]["f1"] if outs else None, n_cells=len(res),
                  n_dyads=int(table[groups].nunique()),
                  elapsed_s=time.perf_counter() - t0, elapsed_null_s=t_null)  # fmt: skip
    del params["partition"], params["n_groups_table"]
    for c in ("metric", "band", "lag", "roi"):
        if c in table.columns:
            params[f"{c}s"] = sorted(table[c].dropna().unique().tolist(), key=str)
    prov = table.attrs.get("provenance")
    params.update(prov if isinstance(prov, dict) else {})
    logger.info(
        "test_semantic_beyond_acoustics: %d cells in %.1f s", len(res), params["elapsed_s"]
    )
    return SemanticTestResult(
        table=res, params=params, models=models or None, null=null_mat, exclusions=log
    )


def _check_test_args(
    table, sync, semantic, acoustic, covariates, groups, by, n_permutations, correction, method,
    engine, alpha,
):  # fmt: skip
    """Every argument checked before any model is fitted (all errors name the argument)."""
    if not isinstance(table, pd.DataFrame):
        raise TypeError(
            f"table must be a pandas DataFrame (build_analysis_table); got {type(table).__name__}"
        )
    check_option("correction", correction, CORRECTIONS)
    check_option("method", method, ("batch", "refit"))
    check_option("engine", engine, ("fast", "statsmodels"))
    n_permutations = check_int(n_permutations, "n_permutations", minimum=0)
    _validate_alpha(alpha)
    semantic = as_terms(semantic, "semantic")
    acoustic = as_terms(acoustic, "acoustic")
    covariates = as_terms(covariates, "covariates")
    if not semantic:
        raise ValueError("semantic must name at least one column; got []")
    check_column(table, sync, "sync")
    check_column(table, groups, "groups")
    by = _check_by(table, by)
    if "metric" in table.columns and table["metric"].nunique() > 1 and "metric" not in by:
        raise AnalysisTableError(
            f"the table holds {table['metric'].nunique()} metrics "
            f"({sorted(table['metric'].unique())}); add 'metric' to by= or filter one."
        )
    for c in semantic + acoustic + covariates:
        for v in formula_variables(c):
            if v not in table.columns:
                raise AnalysisTableError(
                    f"term {c!r} refers to column {v!r}, not in the table; available: "
                    f"{list(table.columns)}{nearest(v, table.columns)}"
                )
    if correction == "maxstat" and n_permutations <= 0:
        raise ValueError(
            "correction='maxstat' needs n_permutations > 0; got n_permutations=0. Pass "
            "n_permutations=1000 or another correction (e.g. correction='holm')."
        )
    check_n_groups(int(table[groups].nunique()), groups, where="table")
    check_column(table, "utterance_id", "the utterance key")
    key = [groups, "utterance_id", *by]
    dup = table.duplicated(key, keep=False)
    if dup.any():
        ex = table.loc[dup, key].drop_duplicates().head(3).to_dict("records")
        raise AnalysisTableError(
            f"the table has {int(dup.sum())} rows with duplicated keys {key}, e.g. {ex}; an "
            "utterance would count several times in one cell (pseudo-replication). Drop the "
            "duplicates or add the column that tells them apart to by=."
        )
    return semantic, acoustic, covariates, by, n_permutations


def _run_cells(table, by, spec, keep_models, n_jobs):
    """Analyse every cell (serially or with joblib); returns the cell keys and outputs (the
    permutation nulls come after, from :func:`_permutation_nulls`)."""
    cells = list(table.groupby(by, sort=True, dropna=False)) if by else [((), table)]
    keys = [k if isinstance(k, tuple) else (k,) for k, _ in cells]
    if n_jobs == 1:
        outs = [
            _analyse_cell(c, k, spec, keep_models)
            for k, (_, c) in progress(zip(keys, cells), desc="cells", total=len(cells))
        ]
    else:
        from joblib import Parallel, delayed

        outs = Parallel(n_jobs=n_jobs)(
            delayed(_analyse_cell)(c, k, spec, keep_models) for k, (_, c) in zip(keys, cells)
        )
    return keys, outs


def _collect(keys, outs, by, keep_models, log):
    """Rows of the result table and models; every cell's exclusions in ``log``."""
    rows, models = [], {}
    for k, (row, _job, mods, _forms) in zip(keys, outs):
        rows.append({**dict(zip(by, k)), **row})
        if keep_models:
            models[k] = mods
        for col, reason in (
            ("n_excluded_nan", "missing (NaN) values in model columns"),
            ("n_excluded_nonfinite", "non-finite (inf) values in model columns"),
        ):
            if row[col]:
                log.add("test_semantic_beyond_acoustics", "row", str(dict(zip(by, k))), reason,
                        row[col])  # fmt: skip
    return pd.DataFrame(rows), models


def _warn_missing_cells(res, table, groups, by) -> None:
    n_all = int(table[groups].nunique())
    short = res[res["n_dyads"] < n_all]
    if len(short):
        desc = "; ".join(
            f"{dict(zip(by, (r[c] for c in by)))}: {r['n_dyads']}" for _, r in short.iterrows()
        )
        warnings.warn(
            f"missing cells: {len(short)} cell(s) hold fewer than the {n_all} {groups}s of "
            f"the table ({desc}); check the synchrony table for dyads without those "
            "bands / ROIs / lags.",
            UserWarning,
            stacklevel=5,  # the caller of test_semantic_beyond_acoustics (two decorators)
        )


def _corrected(res, null_mat, correction) -> np.ndarray:
    """``p_corrected``: from ``p_perm`` (or ``p_lrt`` without permutations)."""
    p_base = (res["p_perm"] if null_mat is not None else res["p_lrt"]).to_numpy()
    if correction is None:
        return p_base
    if correction == "maxstat":
        return maxstat_pvalues(res["stat_perm_obs"].to_numpy(), null_mat)
    return correct_pvalues(p_base, correction)


test_semantic_beyond_acoustics.__test__ = False  # not a pytest test
