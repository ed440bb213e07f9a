"""Figures of a pipeline run (each drawn by a function that returns a matplotlib Figure)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..utils import atomic_path, logger


def plot_sync_overview(sync: pd.DataFrame, value: str = "sync_z", metric: str | None = None):
    """Mean synchrony per speaker ROI (rows) x listener ROI (columns): one panel per band x lag.

    Parameters
    ----------
    sync : DataFrame
        The utterance summary table (``summarize_utterances``): band, roi_in, roi_out (or roi),
        lag, metric, value.
    value : str
        Column to average (``'sync'`` raw or ``'sync_z'`` surrogate-corrected).
    metric : str | None
        Keep only this metric.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure.

    See Also
    --------
    plot_lag_summary
    hyperalign.report.plot_sync_topomaps
    """
    import matplotlib.pyplot as plt

    if value not in sync.columns:
        raise ValueError(f"value must be a column of the sync table; got {value!r}")
    df = sync if metric is None else sync[sync["metric"] == metric]
    if "roi_in" not in df.columns:
        parts = df["roi"].astype(str).str.split("-", n=1, expand=True)
        df = df.assign(roi_in=parts[0], roi_out=parts[1].fillna(parts[0]))
    lags = sorted(df["lag"].unique())
    bands = list(pd.unique(df["band"]))
    rois = sorted(set(df["roi_in"]) | set(df["roi_out"]))
    mean = df.groupby(["band", "lag", "roi_in", "roi_out"])[value].mean()
    vmax = float(np.nanmax(np.abs(mean.to_numpy()))) or 1.0
    n = len(rois)
    fig, axes = plt.subplots(
        len(bands), len(lags), figsize=(1.0 + 0.45 * n * len(lags) + 1.2, 0.45 * n * len(bands)
                                        + 1.4), squeeze=False, layout="constrained",
    )  # fmt: skip
    for r, band in enumerate(bands):
        for c, lag in enumerate(lags):
            ax = axes[r, c]
            try:
                m = mean.xs((band, lag), level=("band", "lag"))
            except KeyError:
                m = pd.Series(dtype=float)
            mat = np.full((n, n), np.nan)
            for (ri, ro), v in m.items():
                mat[rois.index(ri), rois.index(ro)] = v
            im = ax.imshow(mat, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
            ax.set_xticks(range(n), rois, fontsize=7, rotation=90)
            ax.set_yticks(range(n), rois if c == 0 else [""] * n, fontsize=7)
            if r == 0:
                ax.set_title(f"lag {lag * 1000:.0f} ms", fontsize=9)
            if c == 0:
                ax.set_ylabel(f"{band}\nspeaker ROI", fontsize=8)
            if r == len(bands) - 1:
                ax.set_xlabel("listener ROI", fontsize=8)
    fig.colorbar(im, ax=axes.ravel().tolist(), label=f"mean {value}", shrink=0.8)
    fig.suptitle(f"Inter-brain synchrony ({metric or 'all metrics'}), speaker -> listener",
                 fontsize=10)  # fmt: skip
    return fig


def plot_lag_summary(sync: pd.DataFrame, value: str = "sync_z", metric: str | None = None):
    """Synchrony against listener lag, one line per band (mean +- SEM over utterances).

    Parameters
    ----------
    sync : pandas.DataFrame
        The utterance summary table (``summarize_utterances``): ``band, lag, dyad,
        utterance_id, metric`` and the ``value`` column.
    value : str
        Column to average (``'sync'`` raw or ``'sync_z'`` surrogate-corrected).
    metric : str | None
        Keep only this metric.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure.

    See Also
    --------
    plot_sync_overview
    """
    import matplotlib.pyplot as plt

    df = sync if metric is None else sync[sync["metric"] == metric]
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    for band, g in df.groupby("band", sort=False):
        per = g.groupby(["lag", "dyad", "utterance_id"])[value].mean().groupby("lag")
        m, se = per.mean(), per.sem()
        ax.errorbar(m.index * 1000, m.to_numpy(), yerr=se.to_numpy(), marker="o", label=band)
    ax.axhline(0 if value.endswith("_z") else np.nan, color="k", lw=0.5)
    ax.set_xlabel("listener lag (ms)")
    ax.set_ylabel(value)
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def plot_cell_effects(results: pd.DataFrame, alpha: float = 0.05):
    """Semantic coefficient (with CI) in every band x ROI x lag cell; significant cells filled.

    Parameters
    ----------
    results : pandas.DataFrame
        One row per cell, with ``beta_sem``, ``ci_low``, ``ci_high``, ``p_corrected`` (or
        ``p_lrt``) and the cell's ``band``, ``roi`` and ``lag`` where present
        (:func:`hyperalign.stats.test_semantic_beyond_acoustics`).
    alpha : float
        Significance level: cells with a p-value below it are drawn filled.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure.
    """
    import matplotlib.pyplot as plt

    df = results.reset_index(drop=True)
    labels = [
        " / ".join(str(df.at[i, c]) for c in ("band", "roi", "lag") if c in df.columns)
        for i in range(len(df))
    ]
    fig, ax = plt.subplots(figsize=(5, 0.22 * len(df) + 1.2))
    y = np.arange(len(df))
    pcol = "p_corrected" if "p_corrected" in df.columns else "p_lrt"
    sig = df[pcol].to_numpy() < alpha
    ax.hlines(y, df["ci_low"], df["ci_high"], color="0.4")
    ax.scatter(df["beta_sem"], y, c=np.where(sig, "C3", "white"), edgecolors="C3", zorder=3)
    ax.axvline(0, color="k", lw=0.5)
    ax.set_yticks(y, labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("semantic alignment coefficient (95% CI)")
    ax.set_title(f"filled: {pcol} < {alpha}", fontsize=9)
    fig.tight_layout()
    return fig


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    tmp, final = atomic_path(path)
    fig.savefig(tmp, dpi=110, bbox_inches="tight", format=path.suffix.lstrip("."))
    plt.close(fig)
    tmp.replace(final)
    return final


def _best_cell_rows(table: pd.DataFrame, res: pd.DataFrame | None) -> tuple[pd.DataFrame, str]:
    """Rows of the ROI pair and lag of the most significant cell (every band kept)."""
    if res is None or not len(res) or not {"roi", "lag"} <= set(table) & set(res):
        return table, ""
    pcol = "p_corrected" if "p_corrected" in res else "p_lrt"
    best = res.sort_values(pcol).iloc[0]
    sub = table[(table["roi"] == best["roi"]) & np.isclose(table["lag"], float(best["lag"]))]
    if not len(sub):
        return table, ""
    return sub, f"{best['roi']}, lag {float(best['lag']) * 1000:.0f} ms"


def make_figures(result: Any, folder: str | Path) -> dict[str, Path]:
    """Draw every figure of a pipeline result into ``folder`` (PNG); returns name -> path.

    Parameters
    ----------
    result : hyperalign.pipeline.PipelineResult
        A finished pipeline run (its ``config``, ``tables`` and, when present, ``rois`` and
        ``recovery``).
    folder : str | pathlib.Path
        Output folder (created if needed); files are written atomically.

    Returns
    -------
    paths : dict of str to pathlib.Path
        Figure name (``'sync_overview'``, ``'lag_profile'``, ``'cell_effects'``, ...) to the
        PNG written. A figure whose input table is missing or empty is not drawn.

    See Also
    --------
    write_html_report : The HTML report that embeds these figures.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cfg = result.config
    s = cfg["stats"]
    sync = result.tables.get("synchrony")
    out: dict[str, Path] = {}
    value = s["sync"] if sync is not None and s["sync"] in sync.columns else "sync"
    if sync is not None and len(sync):
        out["sync_overview"] = _save(
            plot_sync_overview(sync, value, s["metric"]), folder / "sync_overview.png"
        )
        out["lag_profile"] = _save(
            plot_lag_summary(sync, value, s["metric"]), folder / "lag_profile.png"
        )
        rois = getattr(result, "rois", None)
        if isinstance(rois, dict) and rois:
            try:
                from .figures_topo import plot_sync_topomaps

                rec = getattr(result, "recovery", None)
                planted = rec.truth.get("channels", ()) if rec is not None else ()
                fig = plot_sync_topomaps(sync, rois, value, s["metric"], planted_channels=planted)
                out["sync_topomap"] = _save(fig, folder / "sync_topomap.png")
            except Exception as err:  # a figure must never sink a finished analysis
                logger.warning("synchrony topomap failed: %s", err)
    res = result.tables.get("semantic_beyond_acoustics")
    if res is not None and len(res) and {"beta_sem", "ci_low", "ci_high"} <= set(res.columns):
        out["cell_effects"] = _save(
            plot_cell_effects(res, s.get("alpha", 0.05)), folder / "cell_effects.png"
        )
    table = result.tables.get("analysis")
    if table is not None and len(table):
        try:
            from .figures_stats import plot_partial_regression

            table, where = _best_cell_rows(table, res)
            fig = plot_partial_regression(
                table,
                sync=s["sync"],
                semantic=s["semantic"][0],
                acoustic=[a for a in s["acoustic"] if a in table.columns],
                groups=s["groups"],
            )
            if where:
                title = f"Synchrony vs semantic alignment, acoustics partialled out ({where})"
                fig.suptitle(title, fontsize=10)
            out["partial_regression"] = _save(fig, folder / "partial_regression.png")
        except Exception as err:  # a figure must never sink a finished analysis
            logger.warning("partial regression figure failed: %s", err)
    layer = result.tables.get("layer_alignment")
    if layer is not None and len(layer):
        out["layer_alignment"] = _save(plot_layer_alignment(layer), folder / "layers.png")
    return out


def plot_layer_alignment(layer: pd.DataFrame):
    """Layer-wise semantic alignment (mean +- SEM over utterances) for each model.

    Parameters
    ----------
    layer : pandas.DataFrame
        Long table with ``model``, ``layer``, ``value`` and optionally ``measure`` (its first
        value labels the y axis).

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    for model, g in layer.groupby("model"):
        per = g.groupby("layer")["value"]
        m, se = per.mean(), per.sem()
        ax.errorbar(m.index, m.to_numpy(), yerr=se.to_numpy(), marker=".", label=str(model))
    ax.set_xlabel("layer")
    ax.set_ylabel(str(layer["measure"].iloc[0]) if "measure" in layer else "value")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig
