"""Result tables for papers: tidy DataFrames rendered as CSV, Markdown and LaTeX.

Pure pandas / own code (no jinja2 or tabulate needed).
"""

from __future__ import annotations

import pandas as pd

from ..stats._format import (  # noqa: F401 - re-exported (they moved to stats: no cycle)
    RESULT_COLUMNS,
    _fmt,
    _is_num,
    latex_escape,
    results_table,
    to_latex,
    to_markdown,
)
from ..utils import atomic_write


def model_table(result, alpha: float = 0.05) -> pd.DataFrame:
    """Coefficient table of a fitted model or of every cell of a semantic test.

    Parameters
    ----------
    result : MixedModelResult | SemanticTestResult
        A :func:`hyperalign.stats.fit_mixed` result gives one row per fixed effect
        (``term, estimate, se, z, p, ci_low, ci_high``). A
        :func:`hyperalign.stats.test_semantic_beyond_acoustics` result gives one row per cell
        × fixed effect of the full (REML) model when it was run with ``keep_models=True``
        (otherwise one row per cell for the semantic term), with the cell's ``lrt, df, p_lrt,
        p_perm, p_corrected, dR2m`` repeated on each row.
    alpha : float
        CI level ``1 - alpha`` (fitted-model input only).

    Returns
    -------
    DataFrame
    """
    from ..stats.analysis import SemanticTestResult
    from ..stats.mixed import MixedModelResult

    if isinstance(result, MixedModelResult):
        out = result.coef_table(alpha=alpha)
        out.attrs["note"] = f"{'REML' if result.reml else 'ML'} fit: {result.formula}"
        return out
    if not isinstance(result, SemanticTestResult):
        raise TypeError(
            f"result must be a MixedModelResult or SemanticTestResult; got {type(result)}"
        )
    t = result.table
    by = list(result.params.get("by", []))
    test_cols = [c for c in ("lrt", "df", "p_lrt", "p_perm", "p_corrected", "dR2m") if c in t]
    if result.models:
        rows = []
        for _, r in t.iterrows():
            key = tuple(r[c] for c in by)
            mods = result.models.get(key) or result.models.get(key if len(key) != 1 else key[0])
            ct = mods["full_reml"].coef_table(alpha=result.params.get("alpha", 0.05))
            for c in reversed(by):
                ct.insert(0, c, r[c])
            for c in test_cols:
                ct[c] = r[c]
            rows.append(ct)
        out = pd.concat(rows, ignore_index=True)
    else:
        sem = result.params["semantic"]
        cols = {"beta_sem": "estimate", "se": "se", "z": "z", "p_wald": "p",
                "ci_low": "ci_low", "ci_high": "ci_high"}  # fmt: skip
        out = t[by + [c for c in cols if c in t] + test_cols].rename(columns=cols)
        out.insert(len(by), "term", sem[0] if len(sem) == 1 else ",".join(sem))
    out.attrs["note"] = (
        f"Coefficients from REML fits of {result.params.get('formula_full')} "
        f"(random intercept per {result.params.get('groups')}); Wald CIs. LRT against "
        f"{result.params.get('formula_null')} with both models fitted by ML."
    )
    return out


def to_csv(df: pd.DataFrame, path) -> None:
    """Write ``df`` to CSV atomically (no index)."""
    with atomic_write(path, "w", newline="") as fh:
        df.to_csv(fh, index=False)
