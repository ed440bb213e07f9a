"""ROI averages of channel-pair synchrony (used by the dyad engine and the summaries)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def _strip(name: str) -> str:
    for suf in ("_S1", "_S2"):
        if name.endswith(suf):
            return name[: -len(suf)]
    return name


def _roi_weights(nodes: list[str], rois: Mapping, axis: str) -> np.ndarray:
    """(n_rois, n_nodes) averaging weights; channel names match with or without _S1/_S2."""
    base = [_strip(n) for n in nodes]
    w = np.zeros((len(rois), len(nodes)))
    for r, (name, chans) in enumerate(rois.items()):
        if isinstance(chans, str):
            chans = [chans]
        chans = list(chans)
        if not chans:
            raise ValueError(f"ROI {name!r} lists no channels")
        missing = [c for c in chans if c not in nodes and c not in base]
        if missing:
            raise ValueError(
                f"ROI {name!r}: channel(s) {missing} are not among the {axis} channels "
                f"{nodes[:8]}{'...' if len(nodes) > 8 else ''}; fix the ROI definition"
            )
        for c in chans:
            hit = [i for i, (n, b) in enumerate(zip(nodes, base)) if c in (n, b)]
            w[r, hit] = 1.0
        w[r] /= w[r].sum()
    return w


def roi_average(coupling, rois: Mapping):
    """Average channel pairs into ROI pairs.

    Parameters
    ----------
    coupling : Coupling | xarray.DataArray
        Synchrony with ``node_in`` / ``node_out`` channel dims.
    rois : dict
        ``{name: [channel, ...]}``; a channel name matches with or without ``_S1``/``_S2``.
        The same ROIs are used for both participants.

    Returns
    -------
    coupling : Coupling | xarray.DataArray (same type as the input)
        ``node_in`` and ``node_out`` are ROI names; each value is the mean over the channel
        pairs of the ROI pair (NaN if any pair is NaN).
    """
    from .results import Coupling

    is_c = isinstance(coupling, Coupling)
    da = _roi_average(coupling.xarray if is_c else coupling, rois)
    return Coupling(da) if is_c else da


def _roi_average(da, rois: Mapping):
    import xarray as xr

    if not isinstance(rois, Mapping) or not rois:
        raise TypeError(f"rois must be a non-empty dict {{name: [channels]}}; got {rois!r}")
    w_in = _roi_weights([str(v) for v in da["node_in"].values], rois, "node_in")
    w_out = _roi_weights([str(v) for v in da["node_out"].values], rois, "node_out")
    vals = np.einsum("...ij,ri,sj->...rs", da.values, w_in, w_out)
    coords = {k: v for k, v in da.coords.items() if "node_in" not in v.dims and
              "node_out" not in v.dims}  # fmt: skip
    coords["node_in"] = list(rois)
    coords["node_out"] = list(rois)
    out = xr.DataArray(vals, dims=da.dims, coords=coords, attrs=dict(da.attrs))
    out.attrs["rois"] = {k: list([v] if isinstance(v, str) else v) for k, v in rois.items()}
    return out


def _reduce_nodes(values: np.ndarray, nodes_in, nodes_out, rois):
    """values (..., Cin, Cout) -> (..., R) and ROI labels (roi, roi_in, roi_out)."""
    if rois is None:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            v = values.mean(axis=(-2, -1))[..., None]
        return v, ["all"], ["all"], ["all"]
    if isinstance(rois, str):
        if rois != "pairs":
            raise ValueError(f"rois must be None, 'pairs' or a dict; got {rois!r}")
        r_in = np.repeat(nodes_in, len(nodes_out)).tolist()
        r_out = np.tile(nodes_out, len(nodes_in)).tolist()
        v = values.reshape(values.shape[:-2] + (-1,))
        return v, [f"{a}-{b}" for a, b in zip(r_in, r_out)], r_in, r_out
    w_in = _roi_weights(list(nodes_in), rois, "node_in")
    w_out = _roi_weights(list(nodes_out), rois, "node_out")
    v = np.einsum("...ij,ri,sj->...rs", values, w_in, w_out)
    names = list(rois)
    r_in = np.repeat(names, len(names)).tolist()
    r_out = np.tile(names, len(names)).tolist()
    return v.reshape(v.shape[:-2] + (-1,)), [f"{a}-{b}" for a, b in zip(r_in, r_out)], r_in, r_out
