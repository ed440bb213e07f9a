"""Group maps of model-based coupling over dyads, the transfer latency, and the map figure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from ..utils import _validate_type, check_option, check_random_state, fill_doc
from ..utils._validation import renamed_params
from ._b2b_result import B2BCoupling

__all__ = [
    "b2b_group_test",
    "transfer_latency",
    "TransferLatency",
    "plot_b2b_map",
    "plot_b2b_layers",
]


def _maps(results, map_type, direction, roi_speaker=None, roi_listener=None, layer=None):
    for i, r in enumerate(results):
        _validate_type(r, B2BCoupling, f"results[{i}]", "a B2BCoupling")
    out = []
    for r in results:
        da = r.dataset["r"].sel(map_type=map_type, direction=direction)
        if roi_speaker is not None:
            da = da.sel(roi_speaker=np.atleast_1d(roi_speaker).tolist())
        if roi_listener is not None:
            da = da.sel(roi_listener=np.atleast_1d(roi_listener).tolist())
        if layer is not None:
            da = _one_layer(da, layer, "layer")
        out.append(da)
    shape = out[0].shape
    for i, a in enumerate(out[1:], 1):
        if a.shape != shape:
            raise ValueError(
                f"results[{i}] has a map of shape {a.shape} but results[0] {shape}; fit every "
                "dyad with the same rois=, layers and lags"
            )
    return out


def _one_layer(da, layer, name: str):
    """The map of one layer of a layer sweep (error naming the layers when absent)."""
    if "layer" not in da.dims:
        if layer is None:
            return da
        raise ValueError(f"{name}={layer!r} was given but the maps have no layer dim")
    labels = [str(v) for v in da["layer"].values]
    if layer is None or str(layer) not in labels:
        raise ValueError(
            f"{name}: the maps have a layer dim; give {name}= one of {labels} (got {layer!r})"
        )
    return da.sel(layer=str(layer))


@renamed_params(kind="map_type")
@fill_doc
def b2b_group_test(
    results: Sequence[B2BCoupling],
    *,
    map_type: str = "raw",
    direction: str = "sym",
    method: str = "sign_flip",
    n_permutations: int = 5000,
    weights: str | None = "n_words",
    ci: float = 0.95,
    random_state=None,
) -> xr.Dataset:
    """Group coupling map over dyads, weighted by word count, with its inference.

    Parameters
    ----------
    results : list of B2BCoupling
        One per dyad (same ROIs and lags).
    map_type : 'raw' | 'residual' | 'direct'
        Which map (called ``kind`` before; that name is a deprecated alias).
    direction : 's2l' | 'l2s' | 'sym'
        Which direction.
    method : 'sign_flip' | 'bootstrap'
        Sign-flip randomisation over dyads (max-statistic over ROI pairs and both lag axes
        gives ``p_fwer``) or a bootstrap over dyads (percentile CI).
    n_permutations : int
        Sign flips or bootstrap draws. With a ``layer`` dim (maps from
        :func:`~hyperalign.encoding.sweep_b2b`) the max-statistic runs over layers too, so
        ``p_fwer`` controls the family-wise error over every layer's map.
    weights : 'n_words' | None
        Weight each dyad by its number of held-out words, or equally.
    ci : float
        CI coverage (bootstrap).
    %(random_state)s

    Returns
    -------
    stats : xarray.Dataset
        ``mean``, ``p``, ``p_fwer`` (sign flip) or ``ci_low``, ``ci_high``, ``p``
        (bootstrap), over ``roi_speaker, roi_listener, speaker_lag, listener_lag`` (and
        ``layer`` with its coordinates, for layer sweeps).

    See Also
    --------
    hyperalign.encoding.group_test : The same for encoding scores.
    """
    from .significance import group_test

    check_option("map_type", map_type, ("raw", "residual", "direct"))
    check_option("direction", direction, ("s2l", "l2s", "sym"))
    maps = _maps(results, map_type, direction)

    class _View:  # what group_test reads: get_scores and attrs
        def __init__(self, da, n):
            self.da, self.attrs = da, {"n_words": n}

        def get_scores(self, metric):
            return self.da

    views = [_View(m, r.attrs.get("n_words", 1)) for m, r in zip(maps, results)]
    ds = group_test(views, method=method, n_permutations=n_permutations, weights=weights,
                    ci=ci, random_state=random_state)  # fmt: skip
    if "layer" in maps[0].dims:  # keep the layer coordinates (model, modality, depth, ...)
        extra = {c: maps[0][c] for c in maps[0].coords if maps[0][c].dims == ("layer",)}
        ds = ds.assign_coords({c: v for c, v in extra.items() if c != "layer"})
    ds.attrs.update({"map_type": map_type, "direction": direction})
    return ds


@dataclass
class TransferLatency:
    """Speaker-to-listener transfer latency: listener peak lag minus speaker peak lag.

    Parameters
    ----------
    latency : float
        Listener peak lag minus speaker peak lag (s) of the word-weighted group map.
    ci_low, ci_high : float
        Percentile bootstrap interval of the latency over dyads (s).
    speaker_lag, listener_lag : float
        The group map's peak lags (s).
    per_dyad : pandas.DataFrame
        One row per dyad: ``dyad, n_words, speaker_lag, listener_lag, latency``.
    ci : float
        Coverage of the interval.
    """

    latency: float
    ci_low: float
    ci_high: float
    speaker_lag: float
    listener_lag: float
    per_dyad: pd.DataFrame
    ci: float

    def to_data_frame(self) -> pd.DataFrame:
        """One row: ``latency, ci_low, ci_high, speaker_lag, listener_lag, ci``.

        Returns
        -------
        df : pandas.DataFrame
            The latency, its interval and the peak lags.
        """
        return pd.DataFrame([{k: getattr(self, k) for k in
                              ("latency", "ci_low", "ci_high", "speaker_lag", "listener_lag",
                               "ci")}])  # fmt: skip


def _peak(m: np.ndarray, lgs, lgl) -> tuple[float, float]:
    i, j = np.unravel_index(int(np.nanargmax(m)), m.shape)
    return float(lgs[i]), float(lgl[j])


@renamed_params(kind="map_type")
@fill_doc
def transfer_latency(
    results: Sequence[B2BCoupling],
    *,
    map_type: str = "raw",
    direction: str = "sym",
    roi_speaker=None,
    roi_listener=None,
    layer=None,
    n_boot: int = 2000,
    ci: float = 0.95,
    random_state=None,
) -> TransferLatency:
    """Offset between the speaker's and the listener's peak lags, with a CI over dyads.

    The word-weighted group map (ROI pairs averaged) peaks at a speaker lag and a listener
    lag; the latency is their difference (listener minus speaker, s). Dyads are resampled
    with replacement and the peak found again in each draw (percentile CI).

    Parameters
    ----------
    results : list of B2BCoupling
        One per dyad.
    map_type : 'raw' | 'residual' | 'direct'
        Which map (called ``kind`` before; that name is a deprecated alias).
    direction : 's2l' | 'l2s' | 'sym'
        Which direction.
    roi_speaker, roi_listener : str | list of str | None
        ROIs averaged (default: all).
    layer : str | None
        The layer, for maps with a ``layer`` dim (required there).
    n_boot : int
        Bootstrap draws.
    ci : float
        Coverage.
    %(random_state)s

    Returns
    -------
    latency : TransferLatency
        The latency, its bootstrap interval and the per-dyad peaks.

    See Also
    --------
    b2b_group_test : The group map and its inference.
    """
    maps = _maps(results, map_type, direction, roi_speaker, roi_listener)
    maps = [_one_layer(m, layer, "layer") for m in maps]
    M = np.stack([m.mean(("roi_speaker", "roi_listener")).values for m in maps])
    w = np.array([float(r.attrs.get("n_words", 1)) for r in results])
    lgs, lgl = maps[0]["speaker_lag"].values, maps[0]["listener_lag"].values
    ls, ll = _peak(np.einsum("d,dij->ij", w / w.sum(), M), lgs, lgl)
    rng = check_random_state(random_state)
    boots = np.empty(int(n_boot))
    for b in range(int(n_boot)):
        idx = rng.integers(0, len(M), len(M))
        a, c = _peak(np.einsum("d,dij->ij", w[idx] / w[idx].sum(), M[idx]), lgs, lgl)
        boots[b] = c - a
    lo, hi = np.quantile(boots, [(1 - ci) / 2, 1 - (1 - ci) / 2])
    per = pd.DataFrame(
        [
            {"dyad": r.attrs.get("dyad_id", i), "n_words": w[i],
             **dict(zip(("speaker_lag", "listener_lag"), _peak(M[i], lgs, lgl)))}
            for i, r in enumerate(results)
        ]
    )  # fmt: skip
    per["latency"] = per["listener_lag"] - per["speaker_lag"]
    return TransferLatency(ll - ls, float(lo), float(hi), ls, ll, per, float(ci))


def _map_type(group: xr.Dataset) -> str:
    """The map type of a group map (``kind`` in group maps of earlier versions)."""
    return str(group.attrs.get("map_type", group.attrs.get("kind", "")))


def _edges(lags: np.ndarray) -> tuple[float, float]:
    """Image edges half a step beyond the first and last lag (pixels centred on lags)."""
    h = 0.5 * float(np.diff(lags).mean()) if lags.size > 1 else 0.5
    return float(lags[0]) - h, float(lags[-1]) + h


@renamed_params(kinds="map_types")
def plot_b2b_map(
    coupling: B2BCoupling | xr.Dataset,
    *,
    map_types: Sequence[str] | None = None,
    direction: str = "sym",
    roi_speaker: str | None = None,
    roi_listener: str | None = None,
    layer: str | None = None,
    alpha_level: float = 0.05,
    axes=None,
):
    """Lag-by-lag coupling maps (speaker lag x listener lag), one panel per map type.

    Cells where the family-wise p-value (``p_fwer``) is at most ``alpha_level`` are outlined
    by a contour.

    Parameters
    ----------
    coupling : B2BCoupling | xarray.Dataset
        A dyad's maps, or a group map from :func:`b2b_group_test` (its ``mean`` and
        ``p_fwer`` or ``p``; ``map_types`` then ignored).
    map_types : list of str | None
        Panels (default: every map type present; called ``kinds`` before, a deprecated
        alias).
    direction : str
        Which direction.
    roi_speaker, roi_listener : str | None
        One ROI pair (default: the mean over pairs; contours then where any pair is
        significant).
    layer : str | None
        The layer, for maps with a ``layer`` dim (required there).
    alpha_level : float
        Contour level.
    axes : array of Axes | None
        One per panel.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure (speaker lag on the y axis, listener lag on the x axis).

    See Also
    --------
    b2b_group_test : The group map drawn when a Dataset is given.
    """
    import matplotlib.pyplot as plt

    if isinstance(coupling, B2BCoupling):
        ds = coupling.dataset.sel(direction=direction)
        types = list(ds["map_type"].values) if map_types is None else list(map_types)
        pf = ds["p_fwer"] if "p_fwer" in ds else None
        panels = [(k, ds["r"].sel(map_type=k), None if pf is None else pf.sel(map_type=k))
                  for k in types]  # fmt: skip
    else:
        pv = "p_fwer" if "p_fwer" in coupling else ("p" if "p" in coupling else None)
        title = f"group {_map_type(coupling)}"
        panels = [(title, coupling["mean"], coupling[pv] if pv else None)]
    if axes is None:
        fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.2),
                                 layout="constrained", squeeze=False)  # fmt: skip
        axes = axes[0]
    fig = np.atleast_1d(axes)[0].figure
    for ax, (title, r, p) in zip(np.atleast_1d(axes), panels):
        sel = {}
        if roi_speaker is not None:
            sel["roi_speaker"] = roi_speaker
        if roi_listener is not None:
            sel["roi_listener"] = roi_listener
        r = _one_layer(r.sel(**sel), layer, "layer")
        red = [d for d in ("roi_speaker", "roi_listener") if d in r.dims]
        m = r.mean(red) if red else r
        lim = float(np.nanmax(np.abs(m.values))) or 1.0
        ext = [*_edges(m["listener_lag"].values), *_edges(m["speaker_lag"].values)]
        im = ax.imshow(m.values, origin="lower", aspect="auto", cmap="RdBu_r", vmin=-lim,
                       vmax=lim, extent=ext)  # fmt: skip
        if p is not None:
            p = _one_layer(p.sel(**sel), layer, "layer")
            sig = (p <= alpha_level).any(red) if red else p <= alpha_level
            if sig.values.any():
                ax.contour(m["listener_lag"], m["speaker_lag"], sig.values.astype(float),
                           levels=[0.5], colors="k", linewidths=1)  # fmt: skip
        ax.axvline(0, color="k", lw=0.5)
        ax.axhline(0, color="k", lw=0.5)
        title = str(title) if layer is None else f"{title} | {layer}"
        ax.set(title=title, xlabel="listener lag (s)", ylabel="speaker lag (s)")
        fig.colorbar(im, ax=ax, shrink=0.8, label="r")
    return fig


@renamed_params(kind="map_type")
def plot_b2b_layers(
    coupling: B2BCoupling | xr.Dataset,
    *,
    map_type: str = "raw",
    direction: str = "sym",
    roi_speaker: str | None = None,
    roi_listener: str | None = None,
    ax=None,
):
    """Coupling through each layer: the peak of each layer's lag-by-lag map against depth.

    One line per model (x: relative depth 0-1; y: the largest ``r`` over both lag axes,
    ROI pairs averaged first), so a lab sees through which depth of which model the two
    brains are most coupled.

    Parameters
    ----------
    coupling : B2BCoupling | xarray.Dataset
        Maps with a ``layer`` dim (:func:`~hyperalign.encoding.sweep_b2b`), or their group
        map from :func:`b2b_group_test` (its ``mean``).
    map_type : 'raw' | 'residual' | 'direct'
        Which map (ignored for a group map; called ``kind`` before, a deprecated alias).
    direction : 's2l' | 'l2s' | 'sym'
        Which direction (ignored for a group map).
    roi_speaker, roi_listener : str | None
        One ROI pair (default: the mean over pairs).
    ax : matplotlib.axes.Axes | None
        Where to draw (``None``: a new figure).

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure.

    See Also
    --------
    plot_b2b_map : The lag-by-lag map of one layer.
    """
    import matplotlib.pyplot as plt

    if isinstance(coupling, B2BCoupling):
        check_option("map_type", map_type, list(coupling.dataset["map_type"].values))
        check_option("direction", direction, list(coupling.dataset["direction"].values))
        r = coupling.dataset["r"].sel(map_type=map_type, direction=direction)
        label = f"{map_type}, {direction}"
    else:
        r, label = coupling["mean"], f"group {_map_type(coupling)}"
    if "layer" not in r.dims:
        raise ValueError(
            "coupling has no layer dim; plot_b2b_layers needs maps from sweep_b2b (use "
            "plot_b2b_map for one layer)"
        )
    sel = {k: v for k, v in (("roi_speaker", roi_speaker), ("roi_listener", roi_listener))
           if v is not None}  # fmt: skip
    r = r.sel(**sel)
    red = [d for d in ("roi_speaker", "roi_listener") if d in r.dims]
    peak = (r.mean(red) if red else r).max(("speaker_lag", "listener_lag"))
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3.2), layout="constrained")
    models = list(dict.fromkeys(str(m) for m in peak["model"].values))
    for k, m in enumerate(models):
        i = np.flatnonzero(peak["model"].values == m)
        mod = str(peak["modality"].values[i[0]])
        ax.plot(peak["depth"].values[i], peak.values[i], "o-", color=f"C{k}",
                label=f"{m} ({mod})")  # fmt: skip
    ax.set(xlabel="relative layer depth", ylabel="peak r over lag pairs", title=label)
    ax.legend(fontsize="small")
    return ax.figure
