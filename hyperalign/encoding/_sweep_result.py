"""The result containers of a layer sweep: :class:`SweepLayer` and :class:`LayerSweep`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from .result import EncodingResult

__all__ = ["LayerSweep", "SweepLayer"]


@dataclass
class SweepLayer:
    """One layer (or control feature space) of a sweep, for one dyad.

    Parameters
    ----------
    label : str
        Unique label in the sweep (``'<model>:<layer name>'``, or the control's name).
    model : str
        The model (or control) the layer belongs to.
    modality : 'text' | 'speech' | 'control' | str
        Kind of model.
    layer_name : str
        The layer's name in its model.
    layer_index : int
        Its index in its model.
    depth : float
        Relative depth, 0 for the model's first layer and 1 for its last.
    data : ndarray, shape (n_words, dim)
        Its vectors, one row per transcript word.
    """

    label: str
    model: str
    modality: str
    layer_name: str
    layer_index: int
    depth: float
    data: np.ndarray = field(repr=False)  # (n_words, dim), rows = transcript words


@dataclass
class LayerSweep:
    """The results of :func:`sweep_layers`: one EncodingResult per dyad, participant, role.

    Parameters
    ----------
    results : dict
        ``(dyad_id, participant, role) -> EncodingResult`` with dims ``layer``, ``target``,
        ``lag`` (and ``fold``).
    timings : dict
        CPU seconds (this process) spent in each stage (``targets``, ``features``, ``pca``,
        ``solver``, ``scores``) over the whole sweep.
    """

    results: dict
    timings: dict = field(default_factory=dict)

    @property
    def layers(self) -> pd.DataFrame:
        """The layers swept: label, model, modality, layer_name, layer_index, depth."""
        ds = next(iter(self.results.values())).dataset
        cols = ["model", "modality", "layer_name", "layer_index", "depth"]
        df = pd.DataFrame({c: ds[c].values for c in cols})
        df.insert(0, "layer", [str(v) for v in ds["layer"].values])
        return df

    @property
    def dyads(self) -> list[str]:
        """Dyad ids, in sweep order."""
        return list(dict.fromkeys(k[0] for k in self.results))

    def get(self, dyad: str, participant: str, role: str) -> EncodingResult:
        """The result of one dyad, participant and role.

        Parameters
        ----------
        dyad : str
            Dyad id.
        participant : str
            Participant id (the modelled brain).
        role : 'production' | 'comprehension'
            The role.

        Returns
        -------
        result : EncodingResult
            Dims ``layer, target, lag`` (and ``fold``).
        """
        key = (dyad, participant, role)
        if key not in self.results:
            raise KeyError(f"no result for {key}; available: {list(self.results)}")
        return self.results[key]

    def to_data_frame(self, variables: Sequence[str] | None = None) -> pd.DataFrame:
        """Tidy table: one row per dyad, participant, role, layer, target and lag.

        Parameters
        ----------
        variables : list of str | None
            Score variables (default: ``r``, ``r2`` and, when present, ``r_norm`` and
            ``r_self``).

        Returns
        -------
        df : pandas.DataFrame
            Columns ``dyad, participant, role, layer, model, modality, layer_name,
            layer_index, depth, target, lag`` and one per score variable.
        """
        if variables is None:
            ds0 = next(iter(self.results.values())).dataset
            variables = [v for v in ("r", "r2", "r_norm", "r_self") if v in ds0.data_vars]
        frames = [res.to_data_frame(variables) for res in self.results.values()]
        out = pd.concat(frames, ignore_index=True)
        meta = self.layers
        out["layer"] = out["layer"].astype(str)
        return out.merge(meta, on="layer", how="left")

    def scores(self, metric: str = "r", *, rois: dict | None = None) -> xr.DataArray:
        """Scores stacked over dyads, participants and roles.

        Parameters
        ----------
        metric : str
            Score variable (``'r'``, ``'r2'``, ``'r_norm'``).
        rois : dict of str to list of str | None
            Average targets into named ROIs (``None``: keep the targets).

        Returns
        -------
        scores : xarray.DataArray
            Dims ``(dyad, participant, role, layer, target, lag)``; ``participant`` is the
            position in the dyad (``0``, ``1``) so that dyads stack; missing cells are NaN.
        """
        keys = list(self.results)
        dyads = self.dyads
        roles = list(dict.fromkeys(k[2] for k in keys))
        per: dict = {}
        for d, p, _ in keys:
            lst = per.setdefault(d, [])
            if p not in lst:
                lst.append(p)
        n_p = max(len(v) for v in per.values())
        first = self.results[keys[0]].get_scores(metric)
        if rois is not None:
            first = _roi_mean(first, rois)
        arr = np.full((len(dyads), n_p, len(roles), *first.shape), np.nan)
        for (d, p, r), res in self.results.items():
            da = res.get_scores(metric)
            if rois is not None:
                da = _roi_mean(da, rois)
            da = da.transpose(*first.dims)
            arr[dyads.index(d), per[d].index(p), roles.index(r)] = da.values
        coords = {k: first.coords[k] for k in first.dims}
        coords.update({"dyad": dyads, "participant": np.arange(n_p), "role": roles})
        for c in ("model", "modality", "depth", "layer_index", "layer_name"):
            if c in first.coords:
                coords[c] = ("layer", first.coords[c].values)
        return xr.DataArray(arr, dims=("dyad", "participant", "role", *first.dims),
                            coords=coords, name=metric)  # fmt: skip

    def __repr__(self) -> str:
        lay = self.layers
        return (
            f"<LayerSweep | {len(self.dyads)} dyad(s) | {len(self.results)} fits | "
            f"{len(lay)} layers of {lay['model'].nunique()} model(s)>"
        )


def _roi_mean(da: xr.DataArray, rois: dict) -> xr.DataArray:
    """Average ``target`` into named ROIs (error naming unknown channels)."""
    targets = [str(t) for t in da["target"].values]
    parts = []
    for name, chans in rois.items():
        missing = [c for c in chans if c not in targets]
        if missing or not chans:
            raise ValueError(
                f"rois[{name!r}] names channels not among the targets: {missing[:5]} (targets "
                f"{targets[:8]}...); give channels that were fitted"
            )
        parts.append(da.sel(target=list(chans)).mean("target"))
    return xr.concat(parts, dim="target").assign_coords(target=list(rois))
