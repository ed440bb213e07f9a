"""Plain-text renderings of result tables: Markdown and LaTeX (no jinja2 or tabulate needed).

They live in :mod:`hyperalign.stats` so that the results' ``to_markdown`` / ``to_latex`` methods
need nothing from :mod:`hyperalign.report` (stats never imports report);
:mod:`hyperalign.report.tables` re-exports them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

RESULT_COLUMNS = (
    "metric", "band", "roi", "lag", "n_obs", "n_dyads", "beta_sem", "se", "ci_low", "ci_high",
    "lrt", "df", "p_lrt", "p_perm", "p_corrected", "R2m_null", "R2m_full", "dR2m", "R2c_full",
    "unique_sem", "unique_ac", "shared",
)  # fmt: skip


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
