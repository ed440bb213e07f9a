"""Linear mixed-effects models (statsmodels MixedLM) of the utterance-level analysis table.

``build_analysis_table`` (:mod:`hyperalign.stats._table`, importable from here) joins synchrony
with the predictors; ``fit_mixed`` fits ``synchrony ~ acoustic + semantic + covariates``
with random intercepts for dyads (optional random slopes and variance components, e.g. for
listeners); ``r2_nakagawa`` gives marginal and conditional R² (Nakagawa & Schielzeth 2013,
extended to random slopes by Johnson 2014); ``lrt`` compares nested models fitted by ML.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..utils import (
    _validate_type,
    fill_doc,
    logger,
    verbose,
)
from ._checks import (
    AnalysisTableError,
    RowExclusions,
    bare_terms,
    check_column,
    check_design,
    drop_bad_rows,
    keyword_only_after,
    nearest,
)
from ._fit import _fit_model, robust_fit  # noqa: F401 - robust_fit importable from here
from ._results import LRTResult, R2Result
from ._table import (  # noqa: F401 - the analysis table, importable from here as before
    CELL_COLUMNS,
    KEYS,
    MIN_DYADS_ERROR,
    MIN_DYADS_WARN,
    _require_columns,
    build_analysis_table,
    check_n_groups,
)

# --------------------------------------------------------------------------- formulas

_TERM_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_\.]*")
_FORMULA_WORDS = {"C", "I", "np", "log", "exp", "center", "standardize", "scale", "Q", "sqrt"}


def formula_variables(formula: str) -> list[str]:
    """Names of the data columns a (patsy) formula refers to, in order of appearance."""
    names = []
    for tok in _TERM_RE.findall(formula.replace("~", " ")):
        if tok in _FORMULA_WORDS or tok in names or tok.isdigit():
            continue
        names.append(tok)
    return names


def _check_model_data(
    data: pd.DataFrame,
    cols: list[str],
    groups: str,
    *,
    formula: str | None = None,
    where: str = "",
) -> tuple[pd.DataFrame, RowExclusions]:
    """Rows of ``data`` usable by a model on ``cols`` (checked, bad rows dropped and counted).

    Missing columns, a text or constant column, collinear predictors and a column without a
    finite value are errors naming them; rows with NaN or +-inf are dropped and counted in the
    returned :class:`RowExclusions` (``n_nan``, ``n_nonfinite``, per column).
    """
    check_column(data, groups, "groups", where=where)
    missing = [c for c in cols if c not in data.columns]
    if missing:
        hints = "".join(nearest(c, data.columns) for c in missing[:1])
        raise AnalysisTableError(
            f"model column(s) {missing} not in the table; available: "
            f"{list(map(str, data.columns))}{hints}. Add the column(s) or fix the formula."
        )
    used = list(dict.fromkeys(cols + [groups]))
    data, info = drop_bad_rows(data, used, where=where)
    if info.n:
        logger.warning(
            "mixed model%s: excluded %d row(s) with missing values and %d with non-finite "
            "(inf) values %s",
            f" ({where})" if where else "",
            info.n_nan,
            info.n_nonfinite,
            info.per_column,
        )
    if formula is not None:
        lhs, rhs = (x.strip() for x in formula.split("~", 1))
        terms = [t for t in rhs.split("+") if t.strip() not in ("1", "0", "")]
        if lhs in data.columns:
            check_design(data, lhs, bare_terms(terms), where=where)
    return data, info


# --------------------------------------------------------------------------- results


@dataclass
class MixedModelResult:
    """A fitted mixed model with the numbers a paper reports.

    Parameters
    ----------
    result : statsmodels.regression.mixed_linear_model.MixedLMResults
        The fitted model (with ``engine='fast'``, an object with the same attributes).
    formula : str
        Fixed-effects formula.
    groups : str
        Grouping column of the random intercept.
    re_formula : str | None
        Random-effects formula within groups (``None``: random intercept).
    vc_formula : dict | None
        Variance components nested within groups.
    reml : bool
        Fitted by REML (``True``) or ML.
    n_obs : int
        Rows used.
    n_groups : int
        Number of groups.
    n_excluded : int
        Rows dropped for missing or non-finite values.
    r2 : R2Result
        Marginal and conditional R² (``R2m``, ``R2c``) and the variance components used.
    singular : bool
        ``True`` when a random-effect variance is estimated at (near) zero.
    converged : bool
        Whether the optimizer converged.
    messages : list of str
        Warnings raised while fitting.

    See Also
    --------
    fit_mixed, lrt, r2_nakagawa
    """

    result: object
    formula: str
    groups: str
    re_formula: str | None
    vc_formula: dict | None
    reml: bool
    n_obs: int
    n_groups: int
    n_excluded: int
    r2: dict
    singular: bool
    converged: bool
    messages: list = field(default_factory=list)

    @property
    def params(self) -> pd.Series:
        """Fixed-effect estimates."""
        return self.result.fe_params

    @property
    def bse(self) -> pd.Series:
        """Standard errors of the fixed effects."""
        return self.result.bse_fe

    @property
    def llf(self) -> float:
        """Log-likelihood (restricted log-likelihood for a REML fit)."""
        return float(self.result.llf)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald confidence intervals of the fixed effects.

        Parameters
        ----------
        alpha : float
            The intervals have coverage ``1 - alpha``.

        Returns
        -------
        ci : pandas.DataFrame
            One row per fixed effect, columns lower and upper bound.
        """
        ci = self.result.conf_int(alpha=alpha)
        return ci.loc[self.params.index]

    def coef_table(self, alpha: float = 0.05) -> pd.DataFrame:
        """Tidy fixed-effects table: term, estimate, se, z, p, ci_low, ci_high.

        Parameters
        ----------
        alpha : float
            The confidence intervals have coverage ``1 - alpha``.

        Returns
        -------
        table : pandas.DataFrame
            One row per fixed effect: ``term, estimate, se, z, p, ci_low, ci_high`` (Wald
            z-tests and intervals).
        """
        ci = self.conf_int(alpha)
        z = self.params / self.bse
        return pd.DataFrame(
            {
                "term": self.params.index,
                "estimate": self.params.to_numpy(),
                "se": self.bse.to_numpy(),
                "z": z.to_numpy(),
                "p": self.result.pvalues.loc[self.params.index].to_numpy(),
                "ci_low": ci.iloc[:, 0].to_numpy(),
                "ci_high": ci.iloc[:, 1].to_numpy(),
            }
        ).reset_index(drop=True)

    def __repr__(self) -> str:
        return (
            f"<MixedModelResult | {self.formula} | groups={self.groups} | n={self.n_obs} "
            f"({self.n_groups} groups) | {'REML' if self.reml else 'ML'} llf={self.llf:.2f} "
            f"| R2m={self.r2.R2m:.3f} R2c={self.r2.R2c:.3f}>"
        )


def r2_nakagawa(result) -> R2Result:
    """Marginal and conditional R² of a statsmodels MixedLM fit.

    ``R2m = var_f / (var_f + var_re + var_vc + sigma2)`` and
    ``R2c = (var_f + var_re + var_vc) / (var_f + var_re + var_vc + sigma2)`` where ``var_f`` is
    the variance of the fixed-effect linear predictor, ``sigma2`` the residual variance and
    ``var_re`` the mean over observations of ``z_i' Σ z_i`` (Johnson 2014: equals the
    random-intercept variance for random intercepts, and generalizes to random slopes);
    variance components contribute ``mean_i(z_i' z_i) * var_k`` for each component ``k``.

    Parameters
    ----------
    result : statsmodels.regression.mixed_linear_model.MixedLMResults
        A fitted model (or the fast engine's equivalent).

    Returns
    -------
    result : R2Result
        ``R2m, R2c, var_fixed, var_random, var_vc, var_resid``.
    """
    model = result.model
    X = np.asarray(model.exog)
    fe = np.asarray(result.fe_params)
    var_f = float(np.var(X @ fe))
    sigma2 = float(result.scale)
    Z = model.exog_re
    if Z is None or np.asarray(result.cov_re).size == 0:
        var_re = 0.0
    else:
        Z = np.asarray(Z, dtype=float).reshape(X.shape[0], -1)
        cov_re = np.atleast_2d(np.asarray(result.cov_re, dtype=float))
        var_re = float(np.mean(np.sum((Z @ cov_re) * Z, axis=1)))
    var_vc = 0.0
    vcomp = np.asarray(getattr(result, "vcomp", []), dtype=float)
    if vcomp.size:
        spec = model.exog_vc
        n = X.shape[0]
        for k, _name in enumerate(spec.names):
            ss = sum(float(np.sum(np.asarray(m) ** 2)) for m in spec.mats[k])
            var_vc += vcomp[k] * ss / n
    total = var_f + var_re + var_vc + sigma2
    return R2Result(
        R2m=var_f / total,
        R2c=(var_f + var_re + var_vc) / total,
        var_fixed=var_f,
        var_random=var_re,
        var_vc=var_vc,
        var_resid=sigma2,
    )


@keyword_only_after(3)
@fill_doc
@verbose
def fit_mixed(
    table: pd.DataFrame,
    formula: str,
    groups: str = "dyad",
    *,
    re_formula: str | None = None,
    vc_formula: dict | None = None,
    reml: bool = True,
    method: str | list | None = None,
    singular_tol: float = 1e-6,
    check_groups: bool = True,
    engine: str = "statsmodels",
    verbose=None,
) -> MixedModelResult:
    """Fit a linear mixed model with statsmodels ``MixedLM``.

    Parameters
    ----------
    table : DataFrame
        The analysis table (``build_analysis_table``) or any subset (e.g. one band/ROI/lag).
    formula : str
        Patsy formula of the fixed part, e.g. ``'sync ~ acsim + ac_f0_mean + sem_align'``.
    groups : str
        Column of the grouping factor of the random intercept (default ``'dyad'``).
    re_formula : str | None
        Random-effects formula within groups, e.g. ``'1 + sem_align'`` for random slopes;
        ``None`` is a random intercept.
    vc_formula : dict | None
        Variance components nested within groups, e.g.
        ``{'listener': '0 + C(listener_uid)'}`` for a random intercept per listener (the
        random intercept per group is kept: ``re_formula`` defaults to ``'1'`` then).
    reml : bool
        REML (default, for coefficients and R²) or ML (for likelihood-ratio tests).
    method : str | list | None
        Optimizers passed to ``MixedLM.fit`` (tried in order); ``None`` = statsmodels'
        default (``['bfgs', 'lbfgs', 'cg']``).
    singular_tol : float
        A random-effect variance below ``singular_tol * residual variance`` flags a singular
        (boundary) fit; a warning says so.
    check_groups : bool
        Error below 3 and warn below 6 groups.
    engine : {'statsmodels', 'fast'}
        ``'fast'`` (random intercept only: no ``re_formula``/``vc_formula``) maximizes the
        same (restricted) likelihood as statsmodels from group sufficient statistics
        (:mod:`hyperalign.stats._ri`; equal log-likelihoods and estimates to optimizer
        tolerance, GLS standard errors); ``result`` then mimics ``MixedLMResults``.
    %(verbose)s

    Returns
    -------
    result : MixedModelResult
        ``.result`` is the statsmodels results object (identical to calling
        ``smf.mixedlm(formula, data, groups=...).fit(reml=...)`` on the same rows).

    See Also
    --------
    build_analysis_table, lrt, r2_nakagawa, test_semantic_beyond_acoustics

    Examples
    --------
    A random intercept per dyad on a simulated analysis table (8 dyads × 60 utterances, true
    slopes 0.3 for both predictors):

    >>> from hyperalign.stats import fit_mixed, lrt, simulate_analysis_table
    >>> table = simulate_analysis_table(8, 60, semantic_effect=0.3, random_state=1)
    >>> m = fit_mixed(table, "sync ~ acsim + sem_align", groups="dyad")
    >>> m.n_obs, m.n_groups, m.singular
    (480, 8, False)
    >>> m.coef_table().round(2)
            term  estimate    se     z     p  ci_low  ci_high
    0  Intercept      0.03  0.13  0.20  0.84   -0.22     0.27
    1      acsim      0.30  0.05  5.64  0.00    0.19     0.40
    2  sem_align      0.31  0.06  5.59  0.00    0.20     0.42
    >>> m.r2
    <R2Result | R2m=0.191, R2c=0.277>

    Likelihood-ratio test of the semantic term (models fitted by ML):

    >>> full = fit_mixed(table, "sync ~ acsim + sem_align", reml=False)
    >>> null = fit_mixed(table, "sync ~ acsim", reml=False)
    >>> lrt(full, null)
    <LRTResult | chi2(1) = 30.35, p = 3.61e-08>
    """
    out, notes = _fit_mixed(
        table, formula, groups, re_formula=re_formula, vc_formula=vc_formula, reml=reml,
        method=method, singular_tol=singular_tol, check_groups=check_groups, engine=engine,
        stacklevel=7,  # check_n_groups <- _model_rows <- _fit_mixed <- here <- 2 decorators
    )  # fmt: skip
    for msg in notes:
        # fit_mixed <- @verbose <- @keyword_only_after <- the caller
        warnings.warn(msg, UserWarning, stacklevel=4)
    logger.debug("%r", out)
    return out


def _fit_mixed(
    table: pd.DataFrame,
    formula: str,
    groups: str,
    *,
    re_formula: str | None = None,
    vc_formula: dict | None = None,
    reml: bool = True,
    method: str | list | None = None,
    singular_tol: float = 1e-6,
    check_groups: bool = True,
    engine: str = "statsmodels",
    stacklevel: int = 5,
) -> tuple[MixedModelResult, list[str]]:
    """:func:`fit_mixed` without its own warnings: returns them as notes instead.

    The notes (a fit that did not converge, a singular fit) come from the fit itself, not from
    the warnings machinery, so they are the same in threads, processes and repeated calls.
    ``stacklevel`` is that of the "only N groups" warning (counted from ``check_n_groups``).
    """
    data, n_bad, n_groups, re_formula = _model_rows(
        table, formula, groups, re_formula, vc_formula, engine, check_groups, stacklevel
    )
    res, messages = _fit_model(data, formula, groups, re_formula, vc_formula, reml, method, engine)
    converged, singular, notes = _diagnose(res, formula, groups, singular_tol)
    out = MixedModelResult(
        result=res,
        formula=formula,
        groups=groups,
        re_formula=re_formula,
        vc_formula=vc_formula,
        reml=reml,
        n_obs=int(res.nobs),
        n_groups=n_groups,
        n_excluded=n_bad,
        r2=r2_nakagawa(res),
        singular=singular,
        converged=converged,
        messages=messages,
    )
    return out, notes


def _model_rows(table, formula, groups, re_formula, vc_formula, engine, check_groups, stacklevel):
    """Check the arguments; the usable rows, rows dropped, groups and the RE formula used."""
    if engine not in ("statsmodels", "fast"):
        raise ValueError(f"engine must be 'statsmodels' or 'fast'; got {engine!r}")
    if engine == "fast" and (re_formula or vc_formula):
        raise ValueError(
            "engine='fast' fits a random intercept only; use engine='statsmodels' with "
            f"re_formula={re_formula!r} / vc_formula={vc_formula!r}"
        )
    _validate_type(table, pd.DataFrame, "table", "a pandas DataFrame")
    if not isinstance(formula, str) or "~" not in formula:
        raise ValueError(f"formula must look like 'sync ~ a + b'; got {formula!r}")
    cols = formula_variables(formula)
    if re_formula:
        cols += formula_variables(re_formula)
    for v in (vc_formula or {}).values():
        cols += formula_variables(v)
    cols = list(dict.fromkeys(cols))
    data, excl = _check_model_data(table, cols, groups, formula=formula)
    n_groups = int(data[groups].nunique())
    if check_groups:
        check_n_groups(n_groups, groups, stacklevel=stacklevel)
    elif n_groups < 2:
        raise AnalysisTableError(f"a mixed model needs >= 2 {groups} groups; got {n_groups}")
    data = data.reset_index(drop=True)
    if vc_formula and re_formula is None:
        # statsmodels drops the group random intercept when vc_formula is given alone
        re_formula = "1"
    return data, excl.n, n_groups, re_formula


def _diagnose(res, formula: str, groups: str, singular_tol: float) -> tuple[bool, bool, list]:
    """``converged``, ``singular`` and a note for each problem (what :func:`fit_mixed` warns)."""
    notes = []
    converged = bool(getattr(res, "converged", True))
    if not converged:
        notes.append(
            f"mixed model {formula!r} did not converge; estimates may be unreliable "
            "(try standardizing predictors or a simpler random-effects structure)."
        )
    scale = float(res.scale)
    re_var = np.diag(np.atleast_2d(np.asarray(res.cov_re)))
    vc_var = np.asarray(getattr(res, "vcomp", []), dtype=float)
    variances = np.concatenate([re_var, vc_var]) if vc_var.size else re_var
    singular = bool(np.any(variances <= singular_tol * scale))
    if singular:
        notes.append(
            f"singular fit for {formula!r}: a random-effect variance is estimated at "
            f"~0 (variances {np.round(variances, 8).tolist()}, residual {scale:.4g}); "
            f"the {groups} random intercept is not identified in these data. Results equal "
            "those of a fixed-effects model; consider dropping the random term."
        )
    return converged, singular, notes


def lrt(full: MixedModelResult, null: MixedModelResult) -> LRTResult:
    """Likelihood-ratio test of nested mixed models fitted by ML.

    Parameters
    ----------
    full, null : MixedModelResult
        Both fitted with ``reml=False`` on the same rows; ``null`` nested in ``full``.

    Returns
    -------
    result : LRTResult
        ``lrt = 2 * (llf_full - llf_null)`` (clipped at 0), ``df`` (difference in the number
        of fixed effects) and ``p`` (chi-square survival function).
    """
    from scipy import stats

    for name, m in (("full", full), ("null", null)):
        _validate_type(m, MixedModelResult, f"lrt: {name}", "a MixedModelResult (from fit_mixed)")
    if full.reml or null.reml:
        raise ValueError(
            "lrt needs models fitted by ML (reml=False): REML likelihoods of models with "
            "different fixed effects are not comparable."
        )
    if full.n_obs != null.n_obs:
        raise ValueError(
            f"lrt needs both models on the same rows; got n_obs {full.n_obs} and {null.n_obs}"
        )
    df = len(full.params) - len(null.params)
    if df <= 0:
        raise ValueError(f"full model must have more fixed effects than the null; got df={df}")
    stat = max(0.0, 2.0 * (full.llf - null.llf))
    return LRTResult(lrt=stat, df=df, p=float(stats.chi2.sf(stat, df)))
