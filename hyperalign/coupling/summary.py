"""Per-utterance synchrony summaries: channel pairs averaged into ROI pairs, one tidy row each.

:func:`summarize_utterances` turns a :class:`~hyperalign.coupling.results.Coupling` from
:func:`~hyperalign.coupling.dyad_sync.compute_dyad_sync` into the table that the coupling models
(:mod:`hyperalign.stats`) join with the predictors on ``dyad, utterance_id``: one row per
utterance x metric x band x lag x ROI pair, with the raw synchrony and, when surrogates were
computed, its z-score and percentile in the surrogate distribution of the same ROI average.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..utils import logger, verbose_context

__all__ = ["summarize_utterances", "roi_average"]

SUMMARY_COLUMNS = [
    "dyad",
    "utterance_id",
    "speaker",
    "listener",
    "metric",
    "band",
    "lag",
    "roi",
    "roi_in",
    "roi_out",
    "sync",
    "sync_z",
    "sync_pct",
    "duration",
    "short",
]


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


def summarize_utterances(
    coupling,
    rois=None,
    surrogate=None,
    *,
    verbose=None,
) -> pd.DataFrame:
    """One row per utterance x metric x band x lag x ROI pair: the table for coupling models.

    Parameters
    ----------
    coupling : Coupling
        From :func:`~hyperalign.coupling.dyad_sync.compute_dyad_sync`.
    rois : None | dict | 'pairs'
        ``None``: the mean over all channel pairs (``roi='all'``); a dict
        ``{name: [channels]}``: every ordered ROI pair (``roi='<in>-<out>'``, speaker ROI first
        with ``speaker_first=True``); ``'pairs'``: every channel pair.
    surrogate : Coupling | None
        The null from :func:`~hyperalign.coupling.surrogates.compute_surrogate_sync` with the
        same settings. The surrogates are averaged into the same ROIs and ``sync_z`` /
        ``sync_pct`` are the observed ROI average's z-score and percentile (0-100) in that
        null; without it both are NaN.
    verbose : bool | str | int | None
        Log level.

    Returns
    -------
    table : DataFrame
        Columns ``dyad, utterance_id, speaker, listener, metric, band, lag, roi, roi_in,
        roi_out, sync, sync_z, sync_pct, duration, short`` plus ``onset, offset`` and
        ``n_surrogates``; ``df.attrs`` holds the coupling's attributes.
    """
    from .surrogates import _z_pct, null_values

    with verbose_context(verbose):
        da = coupling.xarray if hasattr(coupling, "xarray") else coupling
        md = coupling.epochs_metadata if hasattr(coupling, "epochs_metadata") else None
        if md is None:
            raise TypeError(f"coupling must be a Coupling; got {type(coupling).__name__}")
        n_ep = da.sizes["epochs"]
        nodes_in = [str(v) for v in da["node_in"].values]
        nodes_out = [str(v) for v in da["node_out"].values]
        v, roi, r_in, r_out = _reduce_nodes(da.values, nodes_in, nodes_out, rois)
        # v: (M, E, B, L, R)
        n_s = 0
        if surrogate is not None:
            s = null_values(surrogate, n_ep)  # (S, M, E, B, L, Cin, Cout)
            sda = surrogate.xarray if hasattr(surrogate, "xarray") else surrogate
            if [str(x) for x in sda["node_in"].values] != nodes_in or [
                str(x) for x in sda["node_out"].values
            ] != nodes_out:
                raise ValueError(
                    "surrogate has different channels (node_in/node_out) than coupling; compute "
                    "both with the same picks and rois"
                )
            if s.shape[1:] != da.shape:
                raise ValueError(
                    f"surrogate values per surrogate have shape {s.shape[1:]} but coupling has "
                    f"{da.shape}; compute both with the same metrics, bands, lags and epochs"
                )
            sv, *_ = _reduce_nodes(s, nodes_in, nodes_out, rois)
            z, pct, _p, _mu, _sd = _z_pct(v, sv)
            n_s = s.shape[0]
        else:
            z = np.full(v.shape, np.nan)
            pct = np.full(v.shape, np.nan)
        metrics = [str(m) for m in da["metric"].values]
        bands = [str(b) for b in da["freqs"].values]
        lags = da["lags"].values.astype(float)
        grid = np.indices(v.shape).reshape(v.ndim, -1)
        m_i, e_i, b_i, l_i, r_i = grid
        dyad = da.attrs.get("dyad_id", "")

        def col(name, default):
            if name in md.columns:
                return md[name].to_numpy()[e_i]
            return np.full(e_i.size, default, dtype=object)

        df = pd.DataFrame(
            {
                "dyad": np.full(e_i.size, dyad, dtype=object),
                "utterance_id": col("utterance_id", -1),
                "speaker": col("speaker", ""),
                "listener": col("listener", ""),
                "metric": np.asarray(metrics, dtype=object)[m_i],
                "band": np.asarray(bands, dtype=object)[b_i],
                "lag": lags[l_i],
                "roi": np.asarray(roi, dtype=object)[r_i],
                "roi_in": np.asarray(r_in, dtype=object)[r_i],
                "roi_out": np.asarray(r_out, dtype=object)[r_i],
                "sync": v.reshape(-1),
                "sync_z": z.reshape(-1),
                "sync_pct": pct.reshape(-1),
                "duration": col("duration", np.nan).astype(float),
                "short": col("short", False).astype(bool),
                "onset": col("onset", np.nan).astype(float),
                "offset": col("offset", np.nan).astype(float),
                "n_surrogates": n_s,
            }
        )
        if "window_id" in md.columns:
            df["window_id"] = md["window_id"].to_numpy()[e_i]
        n_nan = int(df["sync"].isna().sum())
        if n_nan:
            logger.warning(
                "summarize_utterances: %d of %d row(s) have NaN synchrony (listener window "
                "outside the recording); they are kept as NaN",
                n_nan,
                len(df),
            )
        df = df.sort_values(["utterance_id", "metric", "band", "lag", "roi"], kind="mergesort")
        df = df.reset_index(drop=True)
        df.attrs = {k: v for k, v in da.attrs.items()}
        df.attrs["rois"] = rois if isinstance(rois, str | type(None)) else dict(rois)
        return df
