"""A self-contained HTML report of a pipeline run (figures embedded, tables inline)."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

import pandas as pd

from ..utils import atomic_write

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2em auto;
color:#222;line-height:1.45;padding:0 1em}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;font-size:.82em;margin:.5em 0}
td,th{border:1px solid #ddd;padding:.25em .5em;text-align:right}th{background:#f4f4f4}
.note{color:#555;font-size:.9em}.methods{background:#f8f8f8;padding:1em;border-left:3px solid #888}
img{max-width:100%;border:1px solid #eee;margin:.5em 0}
"""


def _table_html(df: pd.DataFrame, max_rows: int = 60, floatfmt: str = "{:.4g}") -> str:
    if df is None or not len(df):
        return "<p class='note'>(empty)</p>"
    shown = df.head(max_rows)
    body = shown.to_html(
        index=False, float_format=lambda v: floatfmt.format(v), border=0, escape=True
    )
    more = f"<p class='note'>first {max_rows} of {len(df)} rows; all in the CSV</p>"
    return body + (more if len(df) > max_rows else "")


def _img(path: Path) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return f"<img alt='{html.escape(Path(path).stem)}' src='data:image/png;base64,{data}'>"


def write_html_report(result: Any, path: str | Path, *, methods: str = "") -> Path:
    """Write one HTML page: question, data, planted effects, results, figures, methods, exclusions.

    Parameters
    ----------
    result : PipelineResult
        What :func:`hyperalign.pipeline.run_pipeline` returned.
    path : path
        Output ``.html`` file (written atomically).
    methods : str
        The generated methods paragraph.
    """
    cfg = result.config
    t = result.tables
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>hyperalign report: {html.escape(cfg['name'])}</title><style>{_CSS}</style>",
        "</head><body>",
        f"<h1>hyperalign: {html.escape(cfg['name'])}</h1>",
        _dyads_line(result),
        "<p>Does shared semantic alignment between consecutive turns explain inter-brain "
        "synchrony beyond acoustics? Synchrony per utterance (speaker &rarr; listener) is "
        "modelled with mixed-effects models; the semantic terms are tested against an "
        "acoustics-only model by likelihood ratio and by within-dyad permutation.</p>",
    ]
    stats = t.get("semantic_beyond_acoustics")
    if stats is not None and len(stats):
        pcol = "p_corrected" if "p_corrected" in stats.columns else "p_lrt"
        alpha = cfg["stats"].get("alpha", 0.05)
        n_sig = int((stats[pcol] < alpha).sum())
        parts.append(
            f"<p><b>{n_sig} of {len(stats)} cells</b> (band x ROI x lag) show a semantic "
            f"effect beyond acoustics at {pcol} &lt; {alpha} "
            f"(correction: {html.escape(str(cfg['stats']['correction']))}).</p>"
        )
    parts.append("<h2>Data</h2>")
    parts.append(_table_html(t.get("participants")))
    if "planted_effects" in t:
        parts.append("<h3>Planted effects (simulation ground truth)</h3>")
        parts.append(_table_html(t["planted_effects"]))
    parts.append("<h2>Semantic alignment beyond acoustics</h2>")
    parts.append(_table_html(stats))
    figs = result.figures or {}
    captions = {
        "cell_effects": "Semantic coefficient per cell with its 95% CI.",
        "partial_regression": "Synchrony against semantic alignment, acoustics partialled out.",
        "sync_overview": "Mean synchrony per band and ROI at each listener lag.",
        "lag_profile": "Synchrony against listener lag.",
        "layer_alignment": "Layer-wise semantic alignment from the language model.",
    }
    if figs:
        parts.append("<h2>Figures</h2>")
        for name, p in figs.items():
            parts.append(f"<h3>{html.escape(captions.get(name, name))}</h3>{_img(p)}")
    if methods:
        parts.append("<h2>Methods (generated from the parameters used)</h2>")
        parts.append(f"<div class='methods'>{html.escape(methods)}</div>")
    parts.append("<h2>Excluded items</h2>")
    ex = result.exclusions
    parts.append(
        "<p class='note'>Nothing is dropped silently: every excluded word, utterance, "
        "epoch or channel is listed here.</p>" + _table_html(ex)
    )
    parts.append("<h2>Run</h2>")
    tim = pd.DataFrame({"step": list(result.timings), "seconds": list(result.timings.values())})
    parts.append(_table_html(tim))
    files = sorted(p.name for p in (Path(result.out) / "tables").glob("*") if p.is_file())
    parts.append("<p class='note'>Tables: " + ", ".join(map(html.escape, files)) + "</p>")
    parts.append("</body></html>")
    path = Path(path)
    with atomic_write(path, encoding="utf-8") as fh:
        fh.write("\n".join(parts))
    return path


def _dyads_line(result: Any) -> str:
    """First line of the report: how many of the listed dyads were analysed."""
    summ = getattr(result, "summary", None) or {}
    if "n_dyads_listed" not in summ:
        return ""
    return (
        f"<p class='dyads'><b>{summ['n_dyads_analysed']} of {summ['n_dyads_listed']} dyads "
        f"analysed</b>; {summ.get('n_excluded', 0)} item(s) excluded (see Excluded items)</p>"
    )
