"""A self-contained HTML report of a pipeline run, written for people.

It opens with the answer (question, data analysed, cells with an effect and their size), then
the recovery of the planted truth when the data are simulated, the key figures, compact tables
with the full ones one click away, deduplicated notes, methods and the run. Figures are
embedded (base64), nothing is fetched from a network, and the page prints to PDF.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..utils import atomic_write
from .tables import compact_planted, summarize_notes

_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#222;line-height:1.45;
margin:0;background:#fafafa}
main{max-width:1040px;margin:0 auto;padding:1.2em 1.2em 3em;background:#fff}
h1{font-size:1.5em;margin:.2em 0 .4em}h2{font-size:1.2em;border-bottom:1px solid #ddd;
padding-bottom:.2em;margin-top:1.8em}h3{font-size:1em;margin:1.2em 0 .3em}
.answer{border:2px solid #2a6;border-radius:6px;padding:.7em 1em;background:#f3fbf5}
.answer p{margin:.35em 0}.answer .big{font-size:1.12em}
.rec{border-radius:6px;padding:.5em 1em;margin:.7em 0}.rec.ok{background:#eef8f0;
border:1px solid #7c9}.rec.part{background:#fff8e1;border:1px solid #e6b800}
.rec.bad{background:#fdecea;border:2px solid #c33}
.num{font-variant-numeric:tabular-nums}
.tw{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:.82em;margin:.4em 0}
td,th{border:1px solid #ddd;padding:.2em .45em;text-align:right;white-space:nowrap;
max-width:28em;overflow:hidden;text-overflow:ellipsis;vertical-align:top}
th{background:#f4f4f4}td.l,th.l,td.wrap{text-align:left}td.wrap{white-space:normal;min-width:16em}
tr.sig td{font-weight:600;background:#fff8e1}
tr.hit td{background:#eef8f0}tr.miss td{background:#fff4e5}tr.fa td{background:#fdecea}
.note{color:#555;font-size:.88em}.methods{background:#f8f8f8;padding:.8em 1em;
border-left:3px solid #888;font-size:.92em}
figure{margin:.8em 0;break-inside:avoid}figcaption{font-size:.88em;color:#444}
img{max-width:100%;height:auto;border:1px solid #eee}
details{margin:.5em 0}summary{cursor:pointer;color:#245}
.printonly{display:none}
@media print{body{background:#fff;font-size:10pt}main{max-width:none;padding:0}
.tw{overflow:visible}details>summary{display:none}details.full{display:none}
.printonly{display:block}h2{break-after:avoid}table{font-size:7pt}
td,th{max-width:none;white-space:normal;padding:.1em .3em}a{color:#000}}
"""
_JS = (
    "<script>window.addEventListener('beforeprint',()=>document.querySelectorAll("
    "'details:not(.full)').forEach(d=>d.open=true));</script>"
)
_E = html.escape

_CAPTIONS = {
    "cell_effects": "Semantic coefficient per band x ROI pair x lag cell with its 95% CI "
    "(filled: significant after correction).",
    "sync_topomap": "Speaker -> listener synchrony per band on the montage (each channel "
    "drawn with its ROI's mean).",
    "lag_profile": "Synchrony against listener lag, per band (mean +- SEM over utterances).",
    "partial_regression": "Synchrony against semantic alignment with acoustics and dyad "
    "partialled out (added-variable plot), per band, at the ROI pair and lag of the most "
    "significant cell.",
    "sync_overview": "Mean synchrony per speaker ROI x listener ROI, per band and lag.",
    "layer_alignment": "Layer-wise semantic alignment from the language model.",
}
_ORDER = ("cell_effects", "sync_topomap", "lag_profile", "partial_regression", "sync_overview",
          "layer_alignment")  # fmt: skip


def _f(v, digits: int = 3) -> str:
    if v is None or (isinstance(v, float | np.floating) and not np.isfinite(v)):
        return ""
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, float | np.floating):
        v = float(v)
        if v != 0 and abs(v) < 0.5 * 10 ** (-digits):
            return f"{v:.1e}"
        return f"{v:.{digits}g}" if abs(v) >= 1000 else f"{v:.{digits}f}"
    return str(v)


def _table(df: pd.DataFrame | None, *, left=(), wrap=(), row_class=None, digits=3) -> str:
    """An HTML table (numbers right-aligned, text columns in ``left``), in a scroll wrapper."""
    if df is None or not len(df):
        return "<p class='note'>(none)</p>"
    head = "".join(
        f"<th class='{'l' if c in left or c in wrap else ''}'>{_E(str(c))}</th>" for c in df
    )
    body = []
    for i, row in enumerate(df.itertuples(index=False)):
        cls = f" class='{row_class[i]}'" if row_class is not None and row_class[i] else ""
        tds = []
        for c, v in zip(df.columns, row):
            k = "wrap" if c in wrap else ("l" if c in left else "num")
            text = _E(_f(v, digits))
            title = f" title='{text}'" if len(text) > 40 and c not in wrap else ""
            tds.append(f"<td class='{k}'{title}>{text}</td>")
        body.append(f"<tr{cls}>{''.join(tds)}</tr>")
    return (
        f"<div class='tw'><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _img(path: Path, name: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return f"<img alt='{_E(name)}' src='data:image/png;base64,{data}'>"


def _recordings(part: pd.DataFrame | None) -> str:
    """The collapsed table of the recordings (one row per participant), or nothing."""
    if part is None or not len(part):
        return ""
    return _details(
        f"Recordings ({len(part)} participants)",
        _table(part, left=("dyad", "participant", "role", "ch_types")),
    )


def _details(summary: str, inner: str, *, full: str = "") -> str:
    """A collapsible section; ``full`` (a CSV name): a wide table left out of print."""
    if not full:
        return f"<details><summary>{summary}</summary>{inner}</details>"
    return (
        f"<details class='full'><summary>{summary}</summary>{inner}</details>"
        f"<p class='note printonly'>The full table is in tables/{_E(full)}.</p>"
    )


def _pcol(stats: pd.DataFrame) -> str:
    return "p_corrected" if "p_corrected" in stats.columns else "p_lrt"


def _cell_name(r) -> str:
    roi = str(r["roi"])
    a, _, b = roi.partition("-")
    roi = a if a == b else roi
    return f"{r['band']} {roi} {float(r['lag']) * 1000:.0f} ms"


def _data_counts(result) -> dict:
    """Dyads and minutes analysed out of listed (the summary's counts, else the tables')."""
    summ = dict(getattr(result, "summary", None) or {})
    for k in ("n_dyads_listed", "n_dyads_analysed"):  # PipelineResult attributes, when set
        if k not in summ and getattr(result, k, 0):
            summ[k] = getattr(result, k)
    t = result.tables
    part = t.get("participants")
    mins = {}
    if part is not None and len(part) and "duration_s" in part:
        mins = (part.groupby("dyad")["duration_s"].max() / 60.0).to_dict()
    an = t.get("analysis")
    analysed = sorted(an["dyad"].unique()) if an is not None and "dyad" in an else list(mins)
    n_an = int(summ.get("n_dyads_analysed", len(analysed) or len(mins)))
    n_list = int(summ.get("n_dyads_listed", summ.get("n_dyads", len(mins) or n_an)))
    m_an = float(summ.get("minutes_analysed", sum(mins.get(d, 0.0) for d in analysed)))
    m_list = float(summ.get("minutes_listed", sum(mins.values()) or m_an))
    n_utt = None
    if an is not None and {"dyad", "utterance_id"} <= set(an):
        n_utt = int(an[["dyad", "utterance_id"]].drop_duplicates().shape[0])
    return {"n_an": n_an, "n_list": n_list, "m_an": m_an, "m_list": m_list, "n_utt": n_utt}


def _answer(result, stats, alpha) -> str:
    cfg = result.config
    dc = _data_counts(result)
    utt = f", {dc['n_utt']} utterances" if dc["n_utt"] else ""
    parts = [
        "<section class='answer'>",
        "<p><b>Question.</b> Does semantic alignment between consecutive turns explain "
        "speaker &rarr; listener inter-brain synchrony beyond acoustics?</p>",
        f"<p><b>Data.</b> {dc['n_an']} of {dc['n_list']} dyads analysed, "
        f"{dc['m_an']:.1f} of {dc['m_list']:.1f} minutes{utt}.</p>",
    ]
    if stats is None or not len(stats):
        parts.append("<p class='big'><b>Answer.</b> No result: the statistics step produced no "
                     "cell.</p></section>")  # fmt: skip
        return "".join(parts)
    pcol = _pcol(stats)
    corr = cfg["stats"].get("correction") or "none"
    sig = stats[stats[pcol] < alpha].sort_values(pcol)
    head = (
        f"<p class='big'><b>Answer.</b> A semantic effect beyond acoustics in "
        f"<b>{len(sig)} of {len(stats)} cells</b> (band x ROI pair x lag; {_E(pcol)} &lt; "
        f"{alpha:g}, correction: {_E(str(corr))})"
    )
    if not len(sig):
        best = stats.sort_values(pcol).iloc[0]
        parts.append(head + f". Smallest {_E(pcol)}: {_f(best[pcol])} ({_E(_cell_name(best))})."
                     "</p>")  # fmt: skip
    else:
        items = []
        for _, r in sig.head(6).iterrows():
            d = f", &Delta;R&sup2;m = {_f(r['dR2m'])}" if "dR2m" in r else ""
            items.append(
                f"<li><b>{_E(_cell_name(r))}</b>: &beta; = {_f(r['beta_sem'], 2)} "
                f"(95% CI {_f(r['ci_low'], 2)} to {_f(r['ci_high'], 2)}), {_E(pcol)} = "
                f"{_f(r[pcol])}{d}</li>"
            )
        more = f"<li>and {len(sig) - 6} more (table below)</li>" if len(sig) > 6 else ""
        parts.append(head + f":</p><ul>{''.join(items)}{more}</ul>")
    rec = getattr(result, "recovery", None)
    if rec is not None:
        c = rec.counts
        if not rec.ok:
            cls, verdict = "bad", "the analysis does NOT match the planted truth"
        elif c["misses"]:
            cls, verdict = "part", "no false alarm, but part of the planted effect is missed"
        else:
            cls, verdict = "ok", "the analysis recovers the planted effect"

        parts.append(
            f"<div class='rec {cls}'><b>Simulated data, checked against the planted truth:</b> "
            f"{c['hits']} hit(s), {c['misses']} miss(es) of {c['n_planted']} planted cells, "
            f"<b>{c['false_alarms']} false alarm(s)</b> in {c['n_cells'] - c['n_planted']} "
            f"cells with nothing planted: {verdict} (table below).</div>"
        )
    parts.append("</section>")
    return "".join(parts)


def _recovery_section(rec) -> str:
    t = rec.table
    tr = rec.truth
    cols = {"band": "band", "roi": "ROI pair", "lag": "lag (s)", "planted": "planted",
            "n_dyads_planted": "dyads at lag", "found": "found", "outcome": "outcome",
            "beta_sem": "beta", "ci_low": "CI low", "ci_high": "CI high", "beta_std": "beta (SD)",
            "p": rec.params["p_column"]}  # fmt: skip
    keep = [c for c in cols if c in t]
    show = t[(t["planted"]) | (t["found"])][keep].rename(columns=cols)
    cls = {"hit": "hit", "miss": "miss", "false alarm": "fa"}
    rc = [cls.get(o, "") for o in t[(t["planted"]) | (t["found"])]["outcome"]]
    band = tr.get("band")
    head = (
        f"<p>Planted: <b>{_E(rec.effect)}</b>, {band[0]:g}-{band[1]:g} Hz, channels "
        f"{_E(', '.join(tr.get('channels', [])))} (ROIs {_E(', '.join(tr.get('rois', [])))}), "
        f"listener lag {tr['lag_range'][0]:.3f}-{tr['lag_range'][1]:.3f} s over "
        f"{tr.get('n_dyads', '?')} dyads, size {tr.get('size', float('nan')):g} (slope of the "
        "shared component's amplitude per SD of semantic alignment; the estimate is in units "
        "of the synchrony measure, so compare sign and the standardised 'beta (SD)'). A cell "
        "counts as planted when its band overlaps the planted band, both ROIs hold planted "
        f"channels and its lag is within {rec.params['lag_tolerance']:.3g} s of the planted "
        "lags (a band-limited component keeps at least half its coupling that far from its "
        "true lag: the lag resolution of the band).</p>"
    )
    full = rec.table.rename(columns=cols)
    return (
        "<h2 id='recovery'>Recovery of the planted truth</h2>"
        + head
        + _table(show, left=("band", "ROI pair", "outcome"), row_class=rc)
        + _details(
            f"All {len(t)} cells",
            _table(full, left=("band", "ROI pair", "outcome")),
            full="recovery.csv",
        )
    )


def _results_section(stats, alpha, out) -> str:
    pcol = _pcol(stats)
    notes = summarize_notes(stats)
    letter = {}
    for i, cells in enumerate(notes["cells"] if len(notes) else []):
        for cell in cells.split(", "):
            letter.setdefault(cell, []).append(chr(ord("a") + i))
    compact = pd.DataFrame(
        {
            "band": stats["band"],
            "ROI pair": stats["roi"],
            "lag (ms)": (stats["lag"].astype(float) * 1000).round().astype(int),
            "beta": stats["beta_sem"],
            "95% CI": [
                f"{_f(a, 2)} to {_f(b, 2)}" for a, b in zip(stats["ci_low"], stats["ci_high"])
            ],  # fmt: skip
            "LRT": stats.get("lrt"),
            "p": stats.get("p_lrt"),
            "p (perm.)": stats.get("p_perm"),
            "p (corr.)": stats.get("p_corrected"),
            "dR2m": stats.get("dR2m"),
            "notes": [
                ", ".join(letter.get(f"{b}/{r}/{lg}", []))
                for b, r, lg in zip(stats["band"], stats["roi"], stats["lag"])
            ],  # fmt: skip
        }
    ).dropna(axis=1, how="all")
    rc = ["sig" if p < alpha else "" for p in stats[pcol]]
    parts = [
        "<h2 id='results'>Semantic alignment beyond acoustics</h2>",
        f"<p class='note'>One row per cell; bold: {_E(pcol)} &lt; {alpha:g}. beta: semantic "
        "coefficient of the full mixed model (REML) with its Wald 95% CI; LRT: likelihood "
        "ratio against the acoustics-only model (ML); dR2m: gain in marginal R&sup2;.</p>",
        _table(compact, left=("band", "ROI pair", "95% CI", "notes"), row_class=rc),
    ]
    if len(notes):
        items = []
        for i, r in enumerate(notes.itertuples(index=False)):
            where = "all cells" if r.n_cells == r.n_total else f"{r.n_cells} of {r.n_total} cells"
            head, sep, rest = str(r.note).partition(": ")
            head = re.sub(r"\s*for '[^']*'", "", head)  # the formula is in the full table
            text = f"{head} in {where}: {rest}" if sep and len(head) < 60 else (
                f"in {where}: {r.note}")  # fmt: skip
            items.append(f"<li><b>({chr(ord('a') + i)})</b> {_E(text)}</li>")
        parts.append(f"<h3>Notes</h3><ul class='note'>{''.join(items)}</ul>")
    full = stats.drop(columns=[c for c in ("notes",) if c in stats])
    link = ""
    if out is not None and (Path(out) / "tables" / "semantic_beyond_acoustics.csv").is_file():
        link = (" <a href='tables/semantic_beyond_acoustics.csv'>CSV</a>, "
                "<a href='tables/semantic_beyond_acoustics.tex'>LaTeX</a>")  # fmt: skip
    parts.append(
        _details(
            f"All {full.shape[1]} columns ({len(full)} rows){link}",
            _table(full, left=("band", "roi", "ci_method")),
            full="semantic_beyond_acoustics.csv",
        )
    )
    return "".join(parts)


def _planted_section(planted) -> str:
    summ, per = compact_planted(planted)
    out = [
        "<h3>Planted effects (simulation ground truth)</h3>",
        _table(summ, left=("effect", "band", "role"), wrap=("channels", "description")),
    ]
    if len(per):
        out.append("<p class='note'>Values that differ between dyads:</p>")
        out.append(_table(per, left=("dyad",)))
        legend = "; ".join(per.attrs.get("legend", []))
        out.append(f"<p class='note'>{_E(legend)}</p>" if legend else "")
    return "".join(out)


def _band_section(cfg) -> str:
    from ..coupling.bands import band_edges, check_band_overlap

    c = cfg["coupling"]
    bands = {k: tuple(v) for k, v in c["bands"].items()}
    kw = c.get("filter_kwargs") or None
    sfreq = float(cfg.get("data", {}).get("sfreq") or 256.0)
    try:
        e = band_edges(bands, sfreq, method=c.get("filter", "hypyp"), filter_kwargs=kw)
        ov = check_band_overlap(bands, sfreq, method=c.get("filter", "hypyp"), filter_kwargs=kw)
    except Exception as err:  # the report must not fail on a band it cannot measure
        return f"<p class='note'>Band edges could not be measured: {_E(str(err))}</p>"
    e = e.rename(columns={"cut_lo": "-6 dB low", "cut_hi": "-6 dB high",
                          "stop_lo": "-40 dB low", "stop_hi": "-40 dB high"})  # fmt: skip
    msg = (
        "<p>No two bands share a frequency (pass-bands and transitions apart).</p>"
        if ov.empty
        else "<p class='rec bad'>Bands overlap: "
        + "; ".join(
            f"{_E(r.band_a)} and {_E(r.band_b)} share {r.overlap_lo:.2f}-{r.overlap_hi:.2f} Hz"
            for r in ov.itertuples()
        )
        + ": activity there shows in both bands' results.</p>"
    )
    return (
        "<h3>Where each band's filter passes</h3>"
        + msg
        + _table(e.drop(columns=["method"]), left=("band",), digits=2)
        + f"<p class='note'>Measured from the frequency response of the filter used "
        f"(filter={_E(str(c.get('filter')))}, filter_kwargs={_E(str(kw or {}))}).</p>"
    )


def _exclusions_section(ex) -> str:
    if ex is None or not len(ex):
        return "<p>Nothing was excluded.</p>"
    g = (
        ex.groupby(["stage", "kind", "reason"], sort=False)
        .agg(items=("n", "sum"), entries=("n", "size"))
        .reset_index()
    )
    return (
        f"<p class='note'>Nothing is dropped silently: {int(ex['n'].sum())} excluded item(s), "
        "grouped by reason; every one is in tables/exclusions.csv.</p>"
        + _table(g, left=("stage", "kind"), wrap=("reason",))
    )


def write_html_report(result: Any, path: str | Path, *, methods: str = "") -> Path:
    """Write one self-contained HTML page of a pipeline run.

    Parameters
    ----------
    result : PipelineResult
        What :func:`hyperalign.pipeline.run_pipeline` returned (``recovery`` is used when the
        data are simulated).
    path : path
        Output ``.html`` file (written atomically).
    methods : str
        The generated methods paragraph.

    Returns
    -------
    path : pathlib.Path
        The HTML file written.

    See Also
    --------
    hyperalign.report.make_figures, hyperalign.report.recovery.compute_recovery
    hyperalign.pipeline.run_pipeline : Writes this report at the end of a run.

    Examples
    --------
    A pipeline run writes the report itself (``report.html`` in its output folder); to write
    it again from a finished result (not run here: a pipeline run takes minutes):

    >>> from hyperalign import run_pipeline  # doctest: +SKIP
    >>> from hyperalign.report import write_html_report  # doctest: +SKIP
    >>> result = run_pipeline("pipelines/semantic_vs_acoustic.yaml")  # doctest: +SKIP
    >>> write_html_report(result, "report.html")  # doctest: +SKIP
    PosixPath('report.html')
    """
    cfg = result.config
    t = result.tables
    alpha = cfg["stats"].get("alpha", 0.05)
    stats = t.get("semantic_beyond_acoustics")
    out = getattr(result, "out", None)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>hyperalign report: {_E(cfg['name'])}</title><style>{_CSS}</style>{_JS}",
        "</head><body><main>",
        f"<h1>hyperalign: {_E(cfg['name'])}</h1>",
        _answer(result, stats, alpha),
    ]
    for link in cfg.get("report", {}).get("links") or []:  # related reports of the same run
        parts.append(f"<p>See also: <a href='{_E(link['href'])}'>{_E(link['title'])}</a></p>")
    rec = getattr(result, "recovery", None)
    if rec is not None:
        parts.append(_recovery_section(rec))
    figs = result.figures or {}
    if figs:
        parts.append("<h2 id='figures'>Key figures</h2>")
        for name in sorted(figs, key=lambda n: _ORDER.index(n) if n in _ORDER else 99):
            cap = _E(_CAPTIONS.get(name, name))
            img = _img(figs[name], name)
            parts.append(f"<figure>{img}<figcaption>{cap}</figcaption></figure>")
    if stats is not None and len(stats):
        parts.append(_results_section(stats, alpha, out))
    parts.append("<h2 id='data'>Data</h2>")
    parts.append(_recordings(t.get("participants")))
    if "planted_effects" in t:
        parts.append(_planted_section(t["planted_effects"]))
    parts.append("<h2 id='methods'>Methods</h2>")
    if methods:
        parts.append(f"<div class='methods'>{_E(methods)}</div>")
    parts.append(_band_section(cfg))
    parts.append("<h2 id='exclusions'>Excluded items</h2>")
    parts.append(_exclusions_section(result.exclusions))
    parts.append("<h2 id='run'>Run</h2>")
    tim = pd.DataFrame({"step": list(result.timings), "seconds": list(result.timings.values())})
    parts.append(_table(tim, left=("step",), digits=1))
    return _finish_page(parts, out, path)


def _finish_page(parts: list[str], out, path) -> Path:
    """Close a report page (with links to the run's tables) and write it atomically."""
    if out is not None and (Path(out) / "tables").is_dir():
        files = sorted(p.name for p in (Path(out) / "tables").glob("*") if p.is_file())
        links = ", ".join(f"<a href='tables/{_E(f)}'>{_E(f)}</a>" for f in files)
        parts.append(f"<p class='note'>Tables: {links}</p>")
    parts.append("</main></body></html>")
    path = Path(path)
    with atomic_write(path, encoding="utf-8") as fh:
        fh.write("\n".join(parts))
    return path
