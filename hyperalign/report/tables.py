"""Result tables for papers: tidy DataFrames rendered as CSV, Markdown and LaTeX.

Pure pandas / own code (no jinja2 or tabulate needed).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np
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
from ..utils import _validate_type, atomic_write


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
    _validate_type(
        result, SemanticTestResult, "result", "a MixedModelResult or SemanticTestResult"
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


def _note_kind(text: str) -> str:
    """A note with its quoted formulas, bracketed values and numbers blanked (its kind)."""
    import re

    t = re.sub(r"'[^']*'", "'…'", text)
    t = re.sub(r"\[[^\]]*\]", "[…]", t)
    return re.sub(r"-?\d+(\.\d+)?(e-?\d+)?", "#", t).strip()


def summarize_notes(
    df: pd.DataFrame, column: str = "notes", by: Sequence[str] = ("band", "roi", "lag")
) -> pd.DataFrame:
    """Deduplicate the per-cell notes of a results table: one row per kind of note.

    Each cell's notes (joined with ``'; '``) are split, and notes that differ only in quoted
    formulas or numbers are counted together.

    Parameters
    ----------
    df : DataFrame
        A results table with one row per cell and a notes column.
    column : str
        The notes column.
    by : sequence of str
        Columns naming a cell.

    Returns
    -------
    DataFrame
        ``note`` (the first instance), ``n_cells``, ``n_total`` (cells in ``df``), ``cells``
        (the cells it concerns, ``'band/roi/lag'``), most frequent first.

    See Also
    --------
    hyperalign.report.write_html_report
    """
    cols = ["note", "n_cells", "n_total", "cells"]
    if column not in df or not len(df):
        return pd.DataFrame(columns=cols)
    keys = [c for c in by if c in df]
    kinds: dict[str, dict] = {}
    for _, r in df.iterrows():
        text = r[column]
        if not isinstance(text, str) or not text.strip():
            continue
        cell = "/".join(str(r[c]) for c in keys)
        for note in dict.fromkeys(n.strip() for n in text.split("; ") if n.strip()):
            k = kinds.setdefault(_note_kind(note), {"note": note, "cells": []})
            if cell not in k["cells"]:
                k["cells"].append(cell)
    merged: dict[tuple, list[str]] = {}  # fragments of one note share their cells
    for v in kinds.values():
        merged.setdefault(tuple(v["cells"]), []).append(v["note"])
    rows = [
        {"note": "; ".join(notes), "n_cells": len(cells), "n_total": len(df),
         "cells": ", ".join(cells)}
        for cells, notes in merged.items()
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=cols).sort_values("n_cells", ascending=False, kind="stable")


def _cell_text(v) -> str:
    if isinstance(v, list | tuple | np.ndarray):
        vals = [x for x in v if not (isinstance(x, float) and math.isnan(x))]
        return ", ".join(f"{x:g}" if isinstance(x, float | int) else str(x) for x in vals)
    return _fmt(v, 3) if isinstance(v, float | np.floating) else str(v)


def compact_planted(
    planted: pd.DataFrame, key: str = "effect", dyad: str = "dyad"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The planted effects of a simulated study as one row per effect.

    Parameters
    ----------
    planted : DataFrame
        One row per dyad x effect (``StudyTruth.effects``).
    key, dyad : str
        The effect and dyad columns.

    Returns
    -------
    summary : DataFrame
        One row per effect: ``effect, band, channels, lag, size, role, description``; a value
        that differs between dyads shows as its range (``'0.13-0.2 (varies)'``).
    per_dyad : DataFrame
        Only the values that differ between dyads: one row per dyad, one column per field x
        (effects sharing its values), e.g. ``'lag (coupling_base +2)'``; ``attrs['legend']``
        names the effects of each column and the text common to its values.

    See Also
    --------
    hyperalign.simulation.simulate_study, hyperalign.report.compute_recovery
    """
    p = planted.copy()
    if {"fmin", "fmax"} <= set(p):
        lo, hi = pd.to_numeric(p["fmin"]), pd.to_numeric(p["fmax"])
        p["band"] = [f"{a:g}-{b:g} Hz" if np.isfinite(a) and np.isfinite(b) else ""
                     for a, b in zip(lo, hi)]  # fmt: skip
    if "lag_s" in p:
        p = p.rename(columns={"lag_s": "lag"})
    show = [c for c in (key, "band", "channels", "lag", "size", "role", "description") if c in p]
    rows, vary = [], {}
    for eff, g in p.groupby(key, sort=False):
        row = {key: eff}
        for c in show[1:]:
            texts = g[c].map(_cell_text)
            if texts.nunique() <= 1:
                row[c] = texts.iloc[0] if len(texts) else ""
                continue
            num = pd.to_numeric(g[c], errors="coerce")
            row[c] = f"{num.min():.3g}-{num.max():.3g} (varies)" if num.notna().all() else "varies"
            if dyad in g:
                vary[(eff, c)] = dict(zip(g[dyad], texts))
        rows.append(row)
    summary = pd.DataFrame(rows, columns=show)
    merged: dict = {}  # effects with the same per-dyad values of a field share one column
    for (eff, c), vals in vary.items():
        merged.setdefault((c, tuple(vals.items())), []).append(str(eff))
    cols, legend = {}, []
    for (c, items), effs in merged.items():
        vals = [v for _, v in items]
        pre = os.path.commonprefix(vals)
        pre = pre[: pre.rfind(" ") + 1] if " " in pre else ""
        label = f"{c} ({effs[0]}{f' +{len(effs) - 1}' if len(effs) > 1 else ''})"
        cols[label] = {d: v[len(pre) :] for d, v in items}
        legend.append(f"{label}: {', '.join(effs)}" + (f"; values follow '{pre.strip()}'"
                                                       if pre else ""))  # fmt: skip
    per_dyad = pd.DataFrame(cols).rename_axis(dyad).reset_index() if cols else pd.DataFrame()
    per_dyad.attrs["legend"] = legend
    return summary, per_dyad
