"""Per-utterance synchrony summaries: channel pairs averaged into ROI pairs, one tidy row each.

:func:`summarize_utterances` turns a :class:`~hyperalign.coupling.results.Coupling` from
:func:`~hyperalign.coupling.dyad_sync.compute_dyad_sync` into the table that the coupling models
(:mod:`hyperalign.stats`) join with the predictors on ``dyad, utterance_id``: one row per
utterance x metric x band x lag x ROI pair, with the raw synchrony and, when surrogates were
computed, its z-score and percentile in the surrogate distribution of the same ROI average.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..utils import fill_doc, logger, verbose
from ._rois import _reduce_nodes, _roi_average, _roi_weights, _strip, roi_average  # noqa: F401

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


@fill_doc
@verbose
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
    %(verbose)s

    Returns
    -------
    table : DataFrame
        Columns ``dyad, utterance_id, speaker, listener, metric, band, lag, roi, roi_in,
        roi_out, sync, sync_z, sync_pct, duration, short`` plus ``onset, offset`` and
        ``n_surrogates``; ``df.attrs`` holds the coupling's attributes.
    """
    da = coupling.xarray if hasattr(coupling, "xarray") else coupling
    md = coupling.epochs_metadata if hasattr(coupling, "epochs_metadata") else None
    if md is None:
        raise TypeError(f"coupling must be a Coupling; got {type(coupling).__name__}")
    nodes_in = [str(v) for v in da["node_in"].values]
    nodes_out = [str(v) for v in da["node_out"].values]
    v, roi, r_in, r_out = _reduce_nodes(da.values, nodes_in, nodes_out, rois)
    # v: (M, E, B, L, R)
    z, pct, n_s = _null_scores(v, da, surrogate, nodes_in, nodes_out, rois)
    df = _summary_frame(da, md, v, z, pct, (roi, r_in, r_out), n_s)
    n_nan = int(df["sync"].isna().sum())
    if n_nan:
        logger.warning(
            "summarize_utterances: %d of %d row(s) have NaN synchrony (a listener window "
            "outside the recording, attrs['n_lag_out'], or a flat channel in the ROI, "
            "attrs['n_flat']); they are kept as NaN and the statistics count them",
            n_nan,
            len(df),
        )
    df = df.sort_values(["utterance_id", "metric", "band", "lag", "roi"], kind="mergesort")
    df = df.reset_index(drop=True)
    df.attrs = {k: v for k, v in da.attrs.items()}
    df.attrs["rois"] = rois if isinstance(rois, str | type(None)) else dict(rois)
    return df


def _null_scores(v, da, surrogate, nodes_in, nodes_out, rois):
    """z-scores and percentiles of the ROI averages ``v`` in the surrogates' ROI averages
    (NaN without surrogates), and the number of surrogates."""
    from .surrogates import _z_pct, null_values

    if surrogate is None:
        return np.full(v.shape, np.nan), np.full(v.shape, np.nan), 0
    s = null_values(surrogate, da.sizes["epochs"])  # (S, M, E, B, L, Cin, Cout)
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
    return z, pct, s.shape[0]


def _summary_frame(da, md, v, z, pct, roi_labels, n_s) -> pd.DataFrame:
    """One row per value of ``v`` (M, E, B, L, R), with the epochs' metadata."""
    roi, r_in, r_out = roi_labels
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
    return df
