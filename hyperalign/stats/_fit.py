"""Fitting engines of :func:`~hyperalign.stats.fit_mixed`.

statsmodels ``MixedLM`` with fallbacks to derivative-free optimizers (:func:`robust_fit`), and
the fast random-intercept engine (:mod:`hyperalign.stats._ri`) on a plain design when the
formula names numeric columns only (:class:`_SimpleModel`).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from ..utils import logger
from ._checks import AnalysisTableError


class _SimpleModel:
    """Design of ``y ~ a + b + ...`` with plain numeric columns (no formula parsing needed)."""

    def __init__(self, data: pd.DataFrame, y: str, terms: list[str]):
        self.endog = data[y].to_numpy(dtype=float)
        n = len(data)
        cols = [np.ones(n)] + [data[t].to_numpy(dtype=float) for t in terms]
        self.exog = np.column_stack(cols)
        self.exog_names = ["Intercept", *terms]
        self.exog_re = np.ones((n, 1))
        self.exog_vc = None


def _simple_terms(formula: str, data: pd.DataFrame) -> tuple[str, list[str]] | None:
    lhs, rhs = (x.strip() for x in formula.split("~", 1))
    terms = [t.strip() for t in rhs.split("+")]
    if rhs == "1":
        terms = []
    names = [lhs, *terms]
    if not all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", t) for t in names):
        return None
    if len(set(terms)) != len(terms):
        return None
    if not all(pd.api.types.is_numeric_dtype(data[c]) and not pd.api.types.is_bool_dtype(data[c])
               for c in names):  # fmt: skip
        return None
    return lhs, terms


_FAIL_WORDS = ("failed", "did not converge", "not positive definite", "boundary")


def robust_fit(model, reml: bool = True, method=None):
    """Fit a statsmodels ``MixedLM``, falling back to derivative-free optimizers.

    statsmodels' gradient optimizers (bfgs/lbfgs/cg) sometimes stop early or raise a
    ``LinAlgError`` on well-posed random-intercept models. The default optimizers run first;
    when they raise, do not converge or warn that optimization failed, Powell and then
    Nelder–Mead are tried and the fit with the highest (restricted) log-likelihood is kept.
    When the default optimizer succeeds the result is identical to ``model.fit(reml=reml)``.
    """
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    fits = []
    attempts = [method] if method is not None else [None]
    attempts += ["powell", "nm"]
    for i, meth in enumerate(attempts):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                kw = {} if meth is None else {"method": meth}
                if meth == "nm":
                    kw["maxiter"] = 5000
                res = model.fit(reml=reml, **kw)
            except (np.linalg.LinAlgError, ValueError) as err:
                logger.debug("MixedLM fit with %s failed: %s", meth or "default", err)
                continue
        bad = (not getattr(res, "converged", True)) or any(
            issubclass(w.category, ConvergenceWarning)
            and any(k in str(w.message) for k in _FAIL_WORDS[:3])
            for w in caught
        )
        if np.isfinite(res.llf):
            fits.append((not bad, res.llf, res, caught))
        if not bad and i == 0:
            break
        if not bad and len(fits) > 1:
            break
    if not fits:
        raise AnalysisTableError(
            f"MixedLM could not be fitted with any optimizer ({attempts}); check the predictors "
            "for collinearity or rescale them."
        )
    ok, _, res, caught = max(fits, key=lambda f: (f[0], f[1]))
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return res


def _fit_model(data, formula, groups, re_formula, vc_formula, reml, method, engine):
    """The fitted results object and the messages of the warnings raised while fitting."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        simple = _simple_terms(formula, data) if engine == "fast" else None
        if simple is not None:
            model = _SimpleModel(data, *simple)
        else:
            import statsmodels.formula.api as smf

            model = smf.mixedlm(
                formula,
                data,
                groups=data[groups],
                re_formula=re_formula,
                vc_formula=vc_formula,
            )
        try:
            if engine == "fast":
                from ._ri import FastMixedLMResults, RandomInterceptModel

                codes = pd.factorize(data[groups], sort=True)[0]
                ri = RandomInterceptModel(model.endog, model.exog, codes).fit(reml=reml)
                res = FastMixedLMResults(ri, model, group_name=groups)
            else:
                res = robust_fit(model, reml=reml, method=method)
        except np.linalg.LinAlgError as err:
            raise AnalysisTableError(
                f"the mixed model {formula!r} cannot be fitted: its design matrix is "
                f"singular ({err}); some predictors (or levels of a categorical term) are "
                "collinear. Drop or combine the collinear terms."
            ) from None
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    messages: list[str] = []
    for w in caught:
        msg = str(w.message)
        messages.append(msg)
        if issubclass(w.category, ConvergenceWarning):
            logger.info("statsmodels: %s", msg)
    return res, messages
