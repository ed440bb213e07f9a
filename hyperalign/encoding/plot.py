"""Figures of encoding results: lag curves, topographic maps of the peak score, partitions."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .result import EncodingResult

__all__ = ["plot_lag_curves", "plot_score_topomap", "plot_partition"]


def _ax(ax, figsize=(6, 3.5)):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax.figure, ax


def plot_lag_curves(
    results: EncodingResult | Sequence[EncodingResult],
    *,
    targets: Sequence[str] | None = None,
    labels: Sequence[str] | None = None,
    metric: str = "r",
    alpha_level: float = 0.05,
    ax=None,
):
    """Score against lag, one curve per result (e.g. production vs comprehension).

    Parameters
    ----------
    results : EncodingResult | list of EncodingResult
        Word-level results (a ``lag`` dim on the score).
    targets : list of str | None
        Channels/ROIs averaged into each curve (default: all).
    labels : list of str | None
        Legend labels (default: each result's role).
    metric : str
        Score variable.
    alpha_level : float
        Lags whose family-wise p (``p_fwer``, when present) is below this for any of the
        targets are marked on the curve.
    ax : matplotlib Axes | None
        Where to draw.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure.
    """
    if isinstance(results, EncodingResult):
        results = [results]
    fig, ax = _ax(ax)
    for i, res in enumerate(results):
        da = res.get_scores(metric)
        if "lag" not in da.dims:
            raise ValueError(f"result {i} has no lag dim on {metric!r}; lag curves need one")
        sel = da if targets is None else da.sel(target=list(targets))
        curve = sel.mean("target")
        lab = labels[i] if labels is not None else str(res.attrs.get("role", i))
        (line,) = ax.plot(curve["lag"], curve, label=lab)
        lag_pk = float(curve["lag"][int(np.nanargmax(curve.values))])
        ax.axvline(lag_pk, color=line.get_color(), ls=":", lw=1)
        if "p_fwer" in res.dataset:
            p = res.dataset["p_fwer"]
            p = p if targets is None else p.sel(target=list(targets))
            sig = (p <= alpha_level).any("target").values
            ax.plot(curve["lag"].values[sig], curve.values[sig], "o", ms=3,
                    color=line.get_color())  # fmt: skip
    ax.axvline(0, color="k", lw=0.8)
    ax.axhline(0, color="k", lw=0.5)
    ax.set(xlabel="lag from word onset (s)", ylabel=f"encoding {metric}")
    ax.legend(frameon=False)
    return fig


def plot_score_topomap(
    result: EncodingResult,
    info,
    *,
    metric: str = "r",
    lag: float | str = "peak",
    ax=None,
    cmap: str = "Reds",
):
    """Topographic map of the score (``mne.viz.plot_topomap`` with the montage in ``info``).

    Parameters
    ----------
    result : EncodingResult
        A result whose targets are channels of ``info``.
    info : mne.Info
        Measurement info with a montage (e.g. ``dyad[pid].raw.info``).
    metric : str
        Score variable.
    lag : float | 'peak'
        One lag (s), or ``'peak'``: each channel's maximum over lags.
    ax : matplotlib Axes | None
        Where to draw.
    cmap : str
        Colormap.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure.
    """
    import mne

    da = result.get_scores(metric)
    if "lag" in da.dims:
        da = da.max("lag") if lag == "peak" else da.sel(lag=lag, method="nearest")
    names = [str(t) for t in da["target"].values]
    missing = [n for n in names if n not in info["ch_names"]]
    if missing:
        raise ValueError(f"targets {missing[:5]} are not channels of info; pass the raw's info")
    sub = mne.pick_info(info, [info["ch_names"].index(n) for n in names])
    fig, ax = _ax(ax, figsize=(3.5, 3.5))
    mne.viz.plot_topomap(da.values, sub, axes=ax, show=False, cmap=cmap)
    ax.set_title(f"{metric} ({'peak over lags' if lag == 'peak' else f'lag {lag} s'})")
    return fig


def plot_partition(result: EncodingResult, *, targets=None, lag: float | str = "peak", ax=None):
    """Per-space share of the joint R² (product measure), as bars.

    Parameters
    ----------
    result : EncodingResult
        A banded result with ``split_r2``.
    targets : list of str | None
        Averaged targets (default: all).
    lag : float | 'peak'
        For word-level results: one lag, or the lag of the peak joint ``r``.
    ax : matplotlib Axes | None
        Where to draw.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure.
    """
    ds = result.dataset
    if "split_r2" not in ds:
        raise ValueError("result has no split_r2: fit several feature spaces (banded ridge)")
    s = ds["split_r2"] if targets is None else ds["split_r2"].sel(target=list(targets))
    if "lag" in s.dims:
        if lag == "peak":
            r = ds["r"] if targets is None else ds["r"].sel(target=list(targets))
            lag = float(r.mean("target").idxmax("lag"))
        s = s.sel(lag=lag, method="nearest")
    vals = s.mean("target")
    fig, ax = _ax(ax, figsize=(4, 3))
    ax.bar([str(v) for v in vals["space"].values], vals.values, color="0.4")
    ax.axhline(0, color="k", lw=0.5)
    ax.set(ylabel="split R²", title="variance by feature space")
    ax.tick_params(axis="x", rotation=30)
    return fig
