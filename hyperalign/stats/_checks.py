"""Input checks shared by the statistics entry points.

Every check names the parameter or column, what was expected, what was received and the fix.
Rows with missing (NaN) or non-finite (``inf``) values in a model's columns are excluded and
counted separately (``n_nan``, ``n_nonfinite``); nothing is dropped without a count.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..utils import _validate_type
from ..utils._validation import keyword_only_after  # noqa: F401 - used across stats


class AnalysisTableError(ValueError):
    """Raised when the analysis table cannot support the requested model."""


def nearest(name, options) -> str:
    """``" (did you mean 'x'?)"`` for the closest of ``options`` to ``name`` (or ``""``)."""
    close = difflib.get_close_matches(str(name), [str(o) for o in options], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_column(table: pd.DataFrame, column: str, name: str, *, where: str = "") -> str:
    """Raise :class:`AnalysisTableError` unless ``column`` (parameter ``name``) is in ``table``."""
    _validate_type(column, str, name)
    if column not in table.columns:
        tag = f" ({where})" if where else ""
        raise AnalysisTableError(
            f"{name}={column!r} is not a column of the table{tag}; the table has "
            f"{list(map(str, table.columns))}{nearest(column, table.columns)}. Pass one of "
            "these columns or rename the column."
        )
    return column


def refuse_duplicates(df: pd.DataFrame, keys: list[str], name: str, why: str) -> None:
    """Raise :class:`AnalysisTableError` if rows of ``df`` (called ``name``) repeat ``keys``.

    The message counts the rows, shows up to three duplicated keys and ends with ``why``
    (what the duplicates would do and the fix).
    """
    dup = df.duplicated(keys, keep=False)
    if dup.any():
        ex = df.loc[dup, keys].drop_duplicates().head(3).to_dict("records")
        raise AnalysisTableError(
            f"{name} has {int(dup.sum())} rows with duplicated keys {keys}, e.g. {ex}; {why}"
        )


def check_alpha(alpha) -> float:
    """``alpha`` as a float strictly between 0 and 1 (a level or ``1 - coverage``)."""
    _validate_type(alpha, "numeric", "alpha")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1 (e.g. 0.05); got {alpha!r}")
    return float(alpha)


def as_terms(value, name: str) -> list[str]:
    """A list of formula terms from a string or a sequence of strings (a string is one term)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    _validate_type(
        value,
        (list, tuple, pd.Index, np.ndarray),
        name,
        "a column name or a list of column names",
    )
    out = list(value)
    for i, v in enumerate(out):
        _validate_type(v, str, f"{name}[{i}]", "a column name (str)")
    return out


def check_int(value, name: str, *, minimum: int = 0) -> int:
    """An integer ``>= minimum``; bools, floats and strings are a ``TypeError``."""
    try:
        _validate_type(value, "int-like", name)
    except TypeError as err:
        raise TypeError(f"{err}; pass a whole number, e.g. {name}=1000") from None
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


@dataclass
class RowExclusions:
    """Rows of a model left out for missing (NaN) and non-finite (inf) values."""

    n_nan: int = 0
    n_nonfinite: int = 0
    per_column: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.n_nan + self.n_nonfinite


def drop_bad_rows(
    data: pd.DataFrame, cols: list[str], *, where: str = ""
) -> tuple[pd.DataFrame, RowExclusions]:
    """Drop rows with NaN or +-inf in ``cols`` and count them (a row with both counts as NaN).

    A column with no finite value at all is an error naming it (every row would go).
    """
    tag = f" in {where}" if where else ""
    sub = data[cols]
    nan = sub.isna()
    nonfin = pd.DataFrame(False, index=sub.index, columns=cols)
    for c in cols:
        if pd.api.types.is_numeric_dtype(sub[c]) and not pd.api.types.is_bool_dtype(sub[c]):
            v = sub[c].to_numpy(dtype=float, na_value=np.nan)
            nonfin[c] = np.isinf(v)
    for c in cols:
        if len(sub) and bool((nan[c] | nonfin[c]).all()):
            what = "NaN" if bool(nan[c].all()) else "NaN or infinite"
            raise AnalysisTableError(
                f"column {c!r} holds no finite value{tag}: all {len(sub)} row(s) are {what}. "
                f"Check how {c!r} was computed (e.g. a predictor step that failed) or leave it "
                "out of the model."
            )
    row_nan = nan.any(axis=1)
    row_inf = nonfin.any(axis=1) & ~row_nan
    info = RowExclusions(n_nan=int(row_nan.sum()), n_nonfinite=int(row_inf.sum()))
    for c in cols:
        k_nan, k_inf = int(nan[c].sum()), int(nonfin[c].sum())
        if k_nan or k_inf:
            info.per_column[c] = {"nan": k_nan, "inf": k_inf}
    keep = ~(row_nan | row_inf)
    return data.loc[keep], info


def bare_terms(terms: list[str]) -> list[str]:
    """Terms that are plain column names (not ``C(x)``, ``np.log(x)``, ``a:b``...)."""
    import re

    return [t.strip() for t in terms if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\.]*", t.strip())]


def check_design(
    data: pd.DataFrame, response: str, predictors: list[str], *, where: str = ""
) -> None:
    """Refuse a text response/predictor, a constant one, or collinear predictors, by name.

    ``predictors`` are the plain-column terms of the fixed part (formula terms such as
    ``C(x)`` are left to patsy).
    """
    tag = f" in {where}" if where else ""

    def numeric(c: str, allow_categorical: bool) -> bool:
        dt = data[c].dtype
        if isinstance(dt, pd.CategoricalDtype):
            return allow_categorical
        return pd.api.types.is_numeric_dtype(dt) and not (
            c == response and pd.api.types.is_bool_dtype(dt)
        )

    text = [c for c in [response, *predictors] if not numeric(c, c != response)]
    if text:
        ex = {c: data[c].dropna().iloc[0] if data[c].notna().any() else None for c in text}
        raise AnalysisTableError(
            f"column(s) {text} are not numeric{tag} (dtypes "
            f"{[str(data[c].dtype) for c in text]}, e.g. {ex}); a model needs numbers. Convert "
            "them with pd.to_numeric(table[col]) or, for a categorical predictor, write the "
            "term as 'C(col)'."
        )
    n = len(data)
    for c in [response, *predictors]:
        if isinstance(data[c].dtype, pd.CategoricalDtype):
            continue
        if data[c].nunique(dropna=True) <= 1:
            role = "response" if c == response else "predictor"
            val = data[c].iloc[0] if n else "no rows"
            fix = (
                "check that the synchrony was computed for this cell"
                if c == response
                else "drop it from the model"
            )
            raise AnalysisTableError(
                f"{role} {c!r} is constant ({val}) over the {n} row(s){tag}; it cannot be "
                f"{'modelled' if c == response else 'estimated'}: {fix}."
            )
    num = [c for c in predictors if not isinstance(data[c].dtype, pd.CategoricalDtype)]
    if len(num) < 1:
        return
    X = data[num].to_numpy(dtype=float)
    X = (X - X.mean(0)) / X.std(0)
    X = np.column_stack([np.ones(n), X])
    s = np.linalg.svd(X, compute_uv=False)
    if s[-1] > 1e-8 * s[0]:
        return
    _, _, vt = np.linalg.svd(X)
    v = vt[-1, 1:]
    involved = [c for c, w in zip(num, v) if abs(w) > 1e-6 * np.abs(v).max()]
    raise AnalysisTableError(
        f"predictors {involved} are collinear{tag} (one is a linear combination of the "
        f"others, with the intercept; the design has rank {np.linalg.matrix_rank(X)} < "
        f"{X.shape[1]}): the model cannot separate their effects. Drop one of {involved} or "
        "combine them into one predictor."
    )
