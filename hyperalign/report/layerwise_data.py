"""Data helpers of the layer-wise report: lag grids from the config and a layer sweep rebuilt
from its tidy table (what the hierarchy summaries of :mod:`hyperalign.encoding` read)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["lag_grid", "TableSweep"]


def lag_grid(grid, window):
    """The ``(lags, window)`` arguments of the encoding functions from a config lag grid.

    Parameters
    ----------
    grid : str | list of float | dict
        A preset name (``'zada2024'``, ``'goldstein2022'``), a list of lags (s), or
        ``{start, stop, step}`` (both ends included when on the grid).
    window : float | None
        The averaging window (s); ``None`` takes the preset's.

    Returns
    -------
    lags : str | numpy.ndarray
        The preset name or the lags (s).
    window : float | None
        ``window`` unchanged.
    """
    if isinstance(grid, str):
        return grid, window
    if isinstance(grid, dict):
        n = int(np.floor((grid["stop"] - grid["start"]) / grid["step"] + 1e-9)) + 1
        return np.round(grid["start"] + grid["step"] * np.arange(n), 10), window
    return np.asarray(grid, float), window


class TableSweep:
    """A layer sweep rebuilt from its tidy table: what the hierarchy summaries read.

    :func:`hyperalign.encoding.best_layer`, :func:`~hyperalign.encoding.hierarchy_test`,
    :func:`~hyperalign.encoding.depth_lag_correlation` and
    :func:`~hyperalign.encoding.hierarchy.plot_layer_profiles` need ``scores(metric)``: the
    scores stacked ``(dyad, participant, role, layer, target, lag)`` with the layer
    coordinates; the cached per-dyad tables hold exactly that.

    Parameters
    ----------
    table : pandas.DataFrame
        The pipeline's ``sweep_scores``: ``dyad, participant_index, role, layer, model,
        modality, layer_name, layer_index, depth, roi, lag`` and the score columns.
    """

    def __init__(self, table: pd.DataFrame):
        self.table = table

    def scores(self, metric: str = "r"):
        import xarray as xr

        t = self.table
        layers = list(dict.fromkeys(t["layer"]))
        meta = t.drop_duplicates("layer").set_index("layer").loc[layers]
        idx = ["dyad", "participant_index", "role", "layer", "roi", "lag"]
        s = t.set_index(idx)[metric]
        da = xr.DataArray.from_series(s).rename(participant_index="participant", roi="target")
        da = da.reindex(layer=layers, dyad=list(dict.fromkeys(t["dyad"])),
                        target=list(dict.fromkeys(t["roi"])))  # fmt: skip
        for c in ("model", "modality", "layer_name", "layer_index", "depth"):
            da = da.assign_coords({c: ("layer", meta[c].to_numpy())})
        return da.transpose("dyad", "participant", "role", "layer", "target", "lag")
