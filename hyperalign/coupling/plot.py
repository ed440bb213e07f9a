"""Figures of inter-brain synchrony: coupling matrices, lag profiles and fNIRS coherence maps.

Every function returns a :class:`matplotlib.figure.Figure` (nothing is shown or saved); pass
``ax=`` to draw into an existing axes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..utils import logger

__all__ = [
    "plot_coupling_matrix",
    "plot_lag_profile",
    "plot_coherence_matrix",
    "plot_coherence_time_series",
    "plot_wtc",
]


def _da(coupling):
    if not hasattr(coupling, "xarray"):
        raise TypeError(f"coupling must be a Coupling; got {type(coupling).__name__}")
    return coupling.xarray


def _sel_label(da, dim: str, value, what: str):
    vals = list(da[dim].values)
    if dim == "lags":
        arr = np.asarray(vals, dtype=float)
        hit = np.nonzero(np.isclose(arr, float(value)))[0]
        if hit.size == 0:
            raise ValueError(f"lag={value!r} s was not computed; available lags: {arr.tolist()}")
        return int(hit[0])
    names = [str(v) for v in vals]
    if str(value) not in names:
        raise ValueError(f"{what}={value!r} was not computed; available: {names}")
    return names.index(str(value))


def _epoch_mask(da, epochs) -> np.ndarray:
    n = da.sizes["epochs"]
    if epochs is None:
        return np.ones(n, bool)
    if isinstance(epochs, str):
        if epochs not in ("long", "short"):
            raise ValueError(f"epochs must be None, 'long', 'short', or indices; got {epochs!r}")
        if "short" not in da.coords:
            raise ValueError("epochs='long'/'short' needs the 'short' coordinate")
        short = da["short"].values.astype(bool)
        return ~short if epochs == "long" else short
    m = np.zeros(n, bool)
    m[np.asarray(epochs, dtype=int)] = True
    return m


def _sensor_positions(info, names: Sequence[str]) -> np.ndarray:
    base = {}
    for ch in info["chs"]:
        base[ch["ch_name"]] = ch["loc"][:3]
    pos = []
    for n in names:
        key = n if n in base else n.rsplit("_S", 1)[0]
        if key not in base:
            raise ValueError(
                f"channel {n!r} is not in info (channels {list(base)[:6]}...); pass the info of "
                "the participants' recordings"
            )
        pos.append(base[key])
    pos = np.asarray(pos, float)
    if not np.isfinite(pos).all() or np.allclose(pos, 0):
        raise ValueError(
            "info has no sensor positions; set a montage first (raw.set_montage('standard_1020'))"
        )
    xy = pos[:, :2]
    xy = xy - xy.mean(0)
    scale = np.abs(xy).max()
    return xy / (scale if scale > 0 else 1.0)


def plot_coupling_matrix(
    coupling,
    metric: str | None = None,
    band: str | None = None,
    lag: float = 0.0,
    *,
    epochs=None,
    sensors: bool = False,
    info=None,
    top: int = 20,
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    ax=None,
    title: str | None = None,
):
    """Inter-brain coupling matrix (participant/speaker channels x partner/listener channels).

    Parameters
    ----------
    coupling : Coupling
        From :func:`~hyperalign.coupling.dyad_sync.compute_dyad_sync` or
        :func:`~hyperalign.coupling.metrics.compute_sync`.
    metric : str | None
        Metric to show (default: the first).
    band : str | None
        Band name (default: the first).
    lag : float
        Lag in seconds (must be one of the computed lags).
    epochs : None | 'long' | 'short' | sequence of int
        Epochs averaged (NaN-aware): all, those not flagged short, only short ones, or indices.
    sensors : bool
        Also draw the strongest ``top`` pairs as lines between the two participants' sensor
        layouts (needs ``info`` with a montage).
    info : mne.Info | None
        Sensor positions for ``sensors=True``.
    top : int
        Number of strongest pairs drawn on the sensor layout.
    cmap, vmin, vmax : str, float, float
        Color map and limits of the matrix.
    ax : matplotlib.axes.Axes | None
        Axes for the matrix (``sensors=False`` only).
    title : str | None
        Figure title.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure drawn on.
    """
    import matplotlib.pyplot as plt

    da = _da(coupling)
    metric = str(da["metric"].values[0]) if metric is None else metric
    band = str(da["freqs"].values[0]) if band is None else band
    mi = _sel_label(da, "metric", metric, "metric")
    bi = _sel_label(da, "freqs", band, "band")
    li = _sel_label(da, "lags", lag, "lag")
    mask = _epoch_mask(da, epochs)
    if not mask.any():
        raise ValueError("no epochs selected; check the epochs argument")
    vals = da.values[mi, mask, bi, li]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mat = np.nanmean(vals, axis=0)
    nodes_in = [str(v) for v in da["node_in"].values]
    nodes_out = [str(v) for v in da["node_out"].values]
    orient = da.attrs.get("orientation", "participants")
    lab_in, lab_out = ("speaker", "listener") if orient == "speaker_first" else (
        "participant 1", "participant 2")  # fmt: skip
    if sensors:
        if ax is not None:
            raise ValueError("ax cannot be used with sensors=True (the figure has two panels)")
        if info is None:
            raise ValueError("sensors=True needs info (an mne.Info with sensor positions)")
        fig, (ax_m, ax_s) = plt.subplots(1, 2, figsize=(11, 4.8))
    elif ax is None:
        fig, ax_m = plt.subplots(figsize=(5.5, 4.8))
    else:
        ax_m, fig = ax, ax.figure
    im = ax_m.imshow(mat, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto", origin="upper")
    ax_m.set_yticks(range(len(nodes_in)))
    ax_m.set_yticklabels(nodes_in, fontsize=7)
    ax_m.set_xticks(range(len(nodes_out)))
    ax_m.set_xticklabels(nodes_out, fontsize=7, rotation=90)
    ax_m.set_ylabel(f"{lab_in} channels")
    ax_m.set_xlabel(f"{lab_out} channels")
    fig.colorbar(im, ax=ax_m, label=metric)
    ax_m.set_title(f"{metric}, {band}, lag {float(lag):g} s ({int(mask.sum())} epochs)",
                   fontsize=9)  # fmt: skip
    if sensors:
        p_in = _sensor_positions(info, nodes_in)
        p_out = _sensor_positions(info, nodes_out) + np.array([2.6, 0.0])
        for p, c in ((p_in, "tab:blue"), (p_out, "tab:orange")):
            ax_s.scatter(p[:, 0], p[:, 1], s=18, color=c, zorder=3)
        for cx in (0.0, 2.6):
            ax_s.add_patch(plt.Circle((cx, 0), 1.15, fill=False, color="0.5"))
        flat = np.where(np.isfinite(mat), mat, -np.inf).ravel()
        k = int(min(top, np.isfinite(mat).sum()))
        if k:
            order = np.argsort(flat)[::-1][:k]
            lo, hi = flat[order[-1]], flat[order[0]]
            cm = plt.get_cmap(cmap)
            for o in order:
                i, j = np.unravel_index(o, mat.shape)
                w = 0.0 if hi == lo else (flat[o] - lo) / (hi - lo)
                ax_s.plot([p_in[i, 0], p_out[j, 0]], [p_in[i, 1], p_out[j, 1]],
                          color=cm(w), lw=0.8 + 2 * w, alpha=0.8)  # fmt: skip
        ax_s.set_aspect("equal")
        ax_s.axis("off")
        ax_s.set_title(f"top {k} pairs: {lab_in} (left) -> {lab_out} (right)", fontsize=9)
    if title:
        fig.suptitle(title)
    logger.debug("plot_coupling_matrix: %s %s lag %g", metric, band, lag)
    return fig


def plot_lag_profile(
    coupling,
    metric: str | None = None,
    *,
    bands: Sequence[str] | None = None,
    node_in: Sequence[str] | None = None,
    node_out: Sequence[str] | None = None,
    epochs=None,
    ci: float = 0.95,
    ax=None,
    title: str | None = None,
):
    """Synchrony as a function of lag, one line per band: mean +/- CI over epochs.

    Parameters
    ----------
    coupling : Coupling
        With several lags.
    metric : str | None
        Metric (default: the first).
    bands : sequence of str | None
        Bands to draw (default: all).
    node_in, node_out : sequence of str | None
        Channels (or ROIs) averaged on each side (default: all pairs).
    epochs : None | 'long' | 'short' | sequence of int
        Epochs used.
    ci : float
        Confidence level of the band around the mean (t distribution over epochs).
    ax : matplotlib.axes.Axes | None
        Axes to draw into.
    title : str | None
        Axes title.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure drawn on.
    """
    import matplotlib.pyplot as plt
    from scipy import stats

    da = _da(coupling)
    if not 0 < ci < 1:
        raise ValueError(f"ci must be between 0 and 1; got {ci!r}")
    metric = str(da["metric"].values[0]) if metric is None else metric
    mi = _sel_label(da, "metric", metric, "metric")
    all_bands = [str(b) for b in da["freqs"].values]
    bands = all_bands if bands is None else [str(b) for b in bands]
    bidx = [_sel_label(da, "freqs", b, "band") for b in bands]
    names_in = [str(v) for v in da["node_in"].values]
    names_out = [str(v) for v in da["node_out"].values]

    def _idx(sel, names, side):
        if sel is None:
            return np.arange(len(names))
        bad = [s for s in sel if s not in names]
        if bad:
            raise ValueError(f"{side} {bad} not in the coupling's {side}: {names[:8]}...")
        return np.array([names.index(s) for s in sel])

    ii, jj = _idx(node_in, names_in, "node_in"), _idx(node_out, names_out, "node_out")
    mask = _epoch_mask(da, epochs)
    lags = da["lags"].values.astype(float)
    order = np.argsort(lags)
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.5, 4))
    else:
        fig = ax.figure
    vals = da.values[mi][mask][..., ii, :][..., jj]  # (E, B, L, i, j)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        per_epoch = np.nanmean(vals, axis=(-1, -2))  # (E, B, L)
        for b, name in zip(bidx, bands):
            y = per_epoch[:, b][:, order]
            n = np.isfinite(y).sum(0)
            m = np.nanmean(y, 0)
            se = np.nanstd(y, 0, ddof=1) / np.sqrt(np.maximum(n, 1))
            t = stats.t.ppf(0.5 + ci / 2, np.maximum(n - 1, 1))
            line = ax.plot(lags[order], m, marker="o", label=name)[0]
            ax.fill_between(lags[order], m - t * se, m + t * se, color=line.get_color(),
                            alpha=0.2)  # fmt: skip
    orient = da.attrs.get("orientation", "participants")
    ax.set_xlabel(
        "lag of listener after speaker (s)" if orient == "speaker_first"
        else "lag of participant 2 after participant 1 (s)"
    )  # fmt: skip
    ax.set_ylabel(f"{metric} (mean, {int(round(ci * 100))}% CI over {int(mask.sum())} epochs)")
    ax.legend(title="band", fontsize=8)
    if title:
        ax.set_title(title)
    return fig


# ------------------------------------------------------------------------------------------
# fNIRS wavelet coherence (hyperalign.coupling.fnirs_study)
# ------------------------------------------------------------------------------------------
def plot_coherence_matrix(matrix, *, ax=None, vmin=0.0, vmax=1.0, title=None):
    """Heat map of a coherence matrix (:meth:`FnirsStudy.coherence_matrix`).

    Parameters
    ----------
    matrix : pandas.DataFrame
        Rows and columns labelled.
    ax : matplotlib Axes | None
        Where to draw (``None``: a new figure).
    vmin, vmax : float
        Colour limits.
    title : str | None
        Axes title.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure drawn on.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 5)) if ax is None else (ax.figure, ax)
    im = ax.imshow(matrix.to_numpy(dtype=float), vmin=vmin, vmax=vmax, cmap="viridis")
    ax.set_xticks(
        range(matrix.shape[1]), [str(c) for c in matrix.columns], rotation=90, fontsize=6
    )
    ax.set_yticks(range(matrix.shape[0]), [str(c) for c in matrix.index], fontsize=6)
    fig.colorbar(im, ax=ax, label="wavelet coherence")
    if title:
        ax.set_title(title)
    return fig


def plot_coherence_time_series(times, series, *, labels=None, ax=None):
    """Coherence over time per period bin (:meth:`FnirsStudy.time_series`).

    Parameters
    ----------
    times : array (n_times,)
        Seconds.
    series : array (n_bins, n_times)
        Coherence (masked values are not drawn).
    labels : list of str | None
        Legend entries.
    ax : matplotlib Axes | None
        Where to draw.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure drawn on.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3)) if ax is None else (ax.figure, ax)
    for i, row in enumerate(np.ma.atleast_2d(series)):
        ax.plot(times, row, label=None if labels is None else labels[i])
    ax.set(xlabel="time (s)", ylabel="wavelet coherence", ylim=(0, 1))
    if labels is not None:
        ax.legend(fontsize=7)
    return fig


def plot_wtc(wtc, *, ax=None):
    """Time x period map of one wavelet coherence with its cone of influence.

    Parameters
    ----------
    wtc : WaveletCoherence
        A coherence map.
    ax : matplotlib Axes | None
        Where to draw.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure drawn on.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3)) if ax is None else (ax.figure, ax)
    mesh = ax.pcolormesh(wtc.times, wtc.periods, wtc.wtc, vmin=0, vmax=1, shading="auto")
    ax.plot(wtc.times, np.minimum(wtc.coi, wtc.periods[-1]), "w--", lw=1)
    ax.set(yscale="log", xlabel="time (s)", ylabel="period (s)")
    fig.colorbar(mesh, ax=ax, label="coherence")
    return fig
