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
    _validate_type,
    atomic_write,
    check_n_jobs,
    check_option,
    fill_doc,
    logger,
    progress,
    verbose,
)
from ._cell import _analyse_cell
from ._checks import (
    as_terms,
    check_alpha,
    check_column,
    check_int,
    keyword_only_after,
    nearest,
    refuse_duplicates,
)
from .correction import correct_pvalues, maxstat_pvalues
from .mixed import AnalysisTableError, check_n_groups, formula_variables
from .permutation import (  # noqa: F401 - _refit_permutations: importable here as before
    PermutationPlan,
    _check_block_size,
    _permutation_nulls,
    _refit_permutations,
)

CORRECTIONS = ("maxstat", "fdr", "fdr_bh", "fdr_by", "holm", "bonferroni", None)
DEFAULT_ACOUSTIC = ("acsim",)


@dataclass
class SemanticTestResult:
    """Result of :func:`test_semantic_beyond_acoustics`.

    Parameters
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
        Rows left out: those the analysis table had already dropped and, per cell, rows with
        a missing or non-finite value in a model column.

    See Also
    --------
    test_semantic_beyond_acoustics
    """

    table: pd.DataFrame
    params: dict
    models: dict | None = None
    null: np.ndarray | None = None
    exclusions: ExclusionLog = field(default_factory=ExclusionLog)

    def to_csv(self, path) -> None:
        """Write :attr:`table` as CSV (atomically).

        Parameters
        ----------
        path : path-like
            Output file (written through a temporary file, then renamed).
        """
        with atomic_write(path, "w", newline="") as fh:
            self.table.to_csv(fh, index=False)

    def to_markdown(self, columns=None, digits: int = 3) -> str:
        """A Markdown table of the per-cell results (no extra dependency).

        Parameters
        ----------
        columns : list of str | None
            Columns of :attr:`table` to show; ``None`` shows the cell keys and the main
            results (estimate, CI, p-values, R² change).
        digits : int
            Decimals of floats (very small or large values in scientific notation).

        Returns
        -------
        text : str
            A GitHub-flavoured Markdown table.
        """
        from ._format import results_table, to_markdown

        return to_markdown(results_table(self, columns=columns), digits=digits)

    def to_latex(
        self, columns=None, digits: int = 3, caption: str | None = None, label: str | None = None
    ) -> str:
        """A LaTeX ``tabular`` (booktabs) of the per-cell results.

        Parameters
        ----------
        columns : list of str | None
            Columns of :attr:`table` to show; ``None`` shows the cell keys and the main
            results.
        digits : int
            Decimals of floats (very small or large values in scientific notation).
        caption : str | None
            Table caption; with a caption or a label the ``tabular`` is wrapped in a
            ``table`` environment.
        label : str | None
            LaTeX label of the table.

        Returns
        -------
        text : str
            The LaTeX source (needs ``\\usepackage{booktabs}``).
        """
        from ._format import results_table, to_latex

        return to_latex(
            results_table(self, columns=columns), digits=digits, caption=caption, label=label
        )

    def methods_text(self, **params) -> str:
        """Methods paragraph from the parameters actually used (override/add with ``params``).

        Parameters
        ----------
        **params : dict
            Entries that replace or add to :attr:`params` (e.g. ``software='hyperalign 0.3'``).

        Returns
        -------
        text : str
            A paragraph for a paper's methods section: models, test, permutations,
            correction and the numbers of dyads and cells.
        """
        from ._methods import methods_paragraph

        return methods_paragraph({**self.params, **params})

    def __repr__(self) -> str:
        n_sig = int((self.table["p_corrected"] < self.params.get("alpha", 0.05)).sum())
        return (
            f"<SemanticTestResult | {len(self.table)} cell(s) | "
            f"{self.params['n_permutations']} permutations ({self.params['method']}) | "
            f"correction={self.params['correction']} | {n_sig} significant>"
        )


_CELL_DEFAULTS = ("metric", "band", "roi", "lag")


def _check_by(table: pd.DataFrame, by) -> list[str]:
    """Cell columns of ``by`` present in ``table``; a name that is neither a column nor one of
    the default cell columns (absent e.g. without ROIs) is an error (a typo would merge cells)."""
    if by is None:
        return []
    by = [by] if isinstance(by, str) else list(by)
    for i, c in enumerate(by):
        _validate_type(c, str, f"by[{i}]", "a column name (str)")
        if c not in table.columns and c not in _CELL_DEFAULTS:
            raise AnalysisTableError(
                f"by={by!r} names {c!r}, which is not a column of the table; the table has "
                f"{list(map(str, table.columns))}{nearest(c, table.columns)}. Without it the "
                "cells would be merged; fix the name or leave it out."
            )
    return [c for c in by if c in table.columns]


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

    See Also
    --------
    build_analysis_table, fit_mixed, lrt, commonality, maxstat_pvalues

    Notes
    -----
    Rows with a missing (NaN) or non-finite (``+-inf``) value in a column a cell's models use
    are left out of that cell, counted per cell (``n_excluded_nan``,
    ``n_excluded_nonfinite``) and recorded in ``result.exclusions``. A column without any
    finite value, a text or constant column and collinear predictors are errors naming the
    columns and the cell.

    Examples
    --------
    A simulated analysis table (8 dyads × 60 utterances) with a semantic effect in theta only;
    the max-statistic correction across the two bands finds it there and not in alpha:

    >>> from hyperalign.stats import simulate_analysis_table, test_semantic_beyond_acoustics
    >>> table = simulate_analysis_table(
    ...     8, 60, bands=("theta", "alpha"), semantic_effect=0.3,
    ...     effect_cells=[("theta", "all", 0.0)], random_state=0,
    ... )
    >>> res = test_semantic_beyond_acoustics(
    ...     table, "sync", "sem_align", acoustic=["acsim"], by=["band"], n_permutations=200,
    ...     random_state=0,
    ... )
    >>> res
    <SemanticTestResult | 2 cell(s) | 200 permutations (batch) | ... | 1 significant>
    >>> res.table[["band", "beta_sem", "p_lrt", "p_perm", "p_corrected"]].round(3)
        band  beta_sem  p_lrt  p_perm  p_corrected
    0  alpha    -0.027  0.651   0.647        0.866
    1  theta     0.220  0.000   0.005        0.005
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
    _validate_type(table, pd.DataFrame, "table", "a pandas DataFrame (build_analysis_table)")
    check_option("correction", correction, CORRECTIONS)
    check_option("method", method, ("batch", "refit"))
    check_option("engine", engine, ("fast", "statsmodels"))
    n_permutations = check_int(n_permutations, "n_permutations", minimum=0)
    check_alpha(alpha)
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
    # the caller of test_semantic_beyond_acoustics: <- here <- the function <- 2 decorators
    check_n_groups(int(table[groups].nunique()), groups, where="table", stacklevel=6)
    check_column(table, "utterance_id", "the utterance key")
    refuse_duplicates(
        table, [groups, "utterance_id", *by], "the table",
        "an utterance would count several times in one cell (pseudo-replication). Drop the "
        "duplicates or add the column that tells them apart to by=.",
    )  # fmt: skip
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
