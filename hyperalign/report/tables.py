"""Result tables for papers: tidy DataFrames rendered as CSV, Markdown and LaTeX.

Pure pandas / own code (no jinja2 or tabulate needed).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..utils import atomic_write

RESULT_COLUMNS = (
    "metric", "band", "roi", "lag", "n_obs", "n_dyads", "beta_sem", "se", "ci_low", "ci_high",
    "lrt", "df", "p_lrt", "p_perm", "p_corrected", "R2m_null", "R2m_full", "dR2m", "R2c_full",
    "unique_sem", "unique_ac", "shared",
)  # fmt: skip


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


def results_table(result, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The main per-cell columns of a semantic test (``RESULT_COLUMNS`` present in it)."""
    t = result.table if hasattr(result, "table") else pd.DataFrame(result)
    cols = list(columns) if columns is not None else [c for c in RESULT_COLUMNS if c in t]
    missing = [c for c in cols if c not in t]
    if missing:
        raise KeyError(f"columns {missing} not in the result table; available: {list(t)}")
    return t[cols].copy()


def _is_num(col: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)


def _fmt(v, digits: int) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        v = float(v)
        if v != 0 and (abs(v) < 10 ** (-digits) or abs(v) >= 1e6):
            return f"{v:.{max(digits - 1, 1)}e}"
        return f"{v:.{digits}f}"
    return str(v)


def to_markdown(df: pd.DataFrame, digits: int = 3) -> str:
    """Render ``df`` as a GitHub-flavoured Markdown pipe table."""
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |"]
    align = ["---:" if _is_num(df[c]) else ":---" for c in df.columns]
    lines.append("| " + " | ".join(align) + " |")
    for row in df.itertuples(index=False):
        cells = [_fmt(v, digits).replace("|", "\\|") for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


_LATEX_ESC = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}  # fmt: skip


def latex_escape(text: str) -> str:
    """Escape LaTeX special characters."""
    return "".join(_LATEX_ESC.get(ch, ch) for ch in str(text))


def to_latex(
    df: pd.DataFrame,
    digits: int = 3,
    caption: str | None = None,
    label: str | None = None,
) -> str:
    """Render ``df`` as a LaTeX ``table`` with a booktabs ``tabular``.

    Parameters
    ----------
    df : DataFrame
    digits : int
        Decimals of floats (very small / large values in scientific notation).
    caption, label : str | None
        ``\\caption`` and ``\\label``; without both only the ``tabular`` is returned.

    Returns
    -------
    str (needs ``\\usepackage{booktabs}``)
    """
    spec = "".join("r" if _is_num(df[c]) else "l" for c in df.columns)
    body = [
        f"\\begin{{tabular}}{{{spec}}}",
        "\\toprule",
        " & ".join(latex_escape(c) for c in df.columns) + r" \\",
        "\\midrule",
    ]
    for row in df.itertuples(index=False):
        body.append(" & ".join(latex_escape(_fmt(v, digits)) for v in row) + r" \\")
    body += ["\\bottomrule", "\\end{tabular}"]
    if caption is None and label is None:
        return "\n".join(body) + "\n"
    out = ["\\begin{table}[ht]", "\\centering"]
    if caption:
        out.append(f"\\caption{{{latex_escape(caption)}}}")
    if label:
        out.append(f"\\label{{{label}}}")
    return "\n".join(out + body + ["\\end{table}"]) + "\n"


def to_csv(df: pd.DataFrame, path) -> None:
    """Write ``df`` to CSV atomically (no index)."""
    with atomic_write(path, "w", newline="") as fh:
        df.to_csv(fh, index=False)
