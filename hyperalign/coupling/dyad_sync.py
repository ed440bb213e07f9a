"""Synchrony of one dyad per utterance (or turn, or fixed window), band, channel pair and lag.

:func:`compute_dyad_sync` is the dyad-level entry point of the synchrony engine
(:mod:`hyperalign.coupling.metrics`):

1. the two continuous recordings are band-passed and turned into analytic signals **once**
   (:func:`~hyperalign.coupling.spectral.analytic_signal` on the whole recording: no filter
   edge effects inside short utterance windows, and one filter pass whatever the number of
   utterances);
2. each epoch is a window ``[onset, offset)`` of the conversation's clock; the listener's window
   is shifted by each lag (taken from the continuous signal, so every lag uses the whole
   window);
3. windows of equal length (in samples) are stacked and sent, all bands at once, to the
   vectorized all-pairs kernels of :data:`~hyperalign.coupling.metrics.METRICS` (batched
   matrix products over every channel pair). Utterance windows rarely share a length, so this
   is in practice one kernel call per (utterance, lag, metric) computing every band and channel
   pair at once; this keeps the metric definitions identical to the HyPyP-equivalent engine
   (no re-implementation with padding or masks) and costs about a millisecond per call.

Orientation (``speaker_first=True``, the default): for every epoch ``node_in`` is the
*speaker*'s channel and ``node_out`` the *listener*'s, whichever participant speaks; a positive
lag ``L`` pairs the speaker at ``t`` with the listener at ``t + L`` ("listener after speaker").
Node names are then the plain channel names (the same montage for both). With
``speaker_first=False``, ``node_in`` is participant 1 (``_S1``) and a positive lag means
participant 2 follows participant 1, as in :func:`~hyperalign.coupling.metrics.compute_sync`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..utils import check_n_jobs, check_option, fill_doc, logger, verbose
from ..utils._validation import _validate_type, keyword_only_after, renamed_params
from ._channels import pick_good_channels, record_excluded_channels
from ._engine import (  # noqa: F401 - the engine, importable from here as before
    _apply_rois,
    _fill_windows,
    _kernel_chunk,
    _length_buckets,
    _mask_flat_windows,
    _sync_from_prepared,
)
from ._windows import (  # noqa: F401 - windows and prepared inputs, importable as before
    EPOCH_KINDS,
    _check_lags,
    _participant_analytic,
    _participant_data,
    _Prepared,
    make_windows,
)
from .metrics import _resolve_metrics, compute_sync
from .spectral import analytic_signal, check_bands

__all__ = ["compute_dyad_sync", "make_windows"]


def _pick_dyad_channels(dyad, picks, speaker_first: bool):
    """Both participants' channels, bad channels left out (counted in the dyad's log)."""
    (idx1, idx2), (ch1, ch2), excluded = pick_good_channels(
        [dyad[0].raw.info, dyad[1].raw.info], picks, dyad.ids, where=f"dyad {dyad.dyad_id!r}"
    )
    bads = {str(p.id): list(p.raw.info["bads"]) for p in dyad.participants}
    record_excluded_channels(dyad.exclusions, excluded, "compute_dyad_sync", bads)
    if len(ch1) != len(ch2):
        raise ValueError(
            f"dyad {dyad.dyad_id!r}: participants have mismatched channel counts after picks "
            f"({dyad[0].id!r}: {len(ch1)}, {dyad[1].id!r}: {len(ch2)}); pick the same channels "
            "for both (picks=[...])"
        )
    if speaker_first and ch1 != ch2:
        raise ValueError(
            f"dyad {dyad.dyad_id!r}: speaker_first=True needs the same channel names for both "
            f"participants (node_in is whoever speaks); they differ, e.g. {ch1[:3]} vs {ch2[:3]}. "
            "Rename channels or pass speaker_first=False"
        )
    return idx1, idx2, ch1, ch2, excluded


def _check_windows(dyad, win, sfreq, n_times, lags_, bands_, min_cycles, min_duration):
    """Window starts and lengths in samples; errors and warnings about too short windows."""
    starts = np.rint(win["onset"].to_numpy() * sfreq).astype(int)
    stops = np.rint(win["offset"].to_numpy() * sfreq).astype(int)
    lengths = np.minimum(stops, n_times) - starts
    bad = lengths < 2
    if bad.any():
        raise ValueError(
            f"dyad {dyad.dyad_id!r}: {int(bad.sum())} epoch(s) span fewer than 2 samples at "
            f"{sfreq:g} Hz (e.g. utterance_id {win.loc[bad, 'utterance_id'].iloc[0]} at "
            f"{win.loc[bad, 'onset'].iloc[0]:.3f} s); fix the transcript times"
        )
    dur = win["duration"].to_numpy()
    max_lag = np.abs(lags_).max()
    if max_lag > 0 and max_lag >= dur.max():
        raise ValueError(
            f"lags up to {max_lag:g} s are longer than every epoch (longest "
            f"{dur.max():.3g} s); use lags shorter than the epochs"
        )
    n_lag_short = int((dur <= max_lag).sum()) if max_lag > 0 else 0
    if n_lag_short:
        logger.warning(
            "compute_dyad_sync: %d of %d epoch(s) are shorter than the longest lag (%g s); their "
            "lagged listener window does not overlap the speaker's window",
            n_lag_short, len(dur), max_lag,
        )  # fmt: skip
    n_short = int(win["short"].sum())
    if n_short:
        logger.warning(
            "compute_dyad_sync: %d of %d epoch(s) are shorter than min_duration=%g s and flagged "
            "short=True (short windows inflate synchrony estimates)",
            n_short, len(win), float(min_duration),
        )  # fmt: skip
    for bname, (lo, _hi) in bands_.items():
        cyc = dur * lo
        if min_cycles and (cyc < min_cycles).all():
            raise ValueError(
                f"band {bname!r} (fmin {lo:g} Hz): every epoch is too short to hold "
                f"min_cycles={min_cycles:g} cycle(s) (longest {dur.max():.3g} s = {cyc.max():.3g} "
                f"cycles); drop the band, use longer epochs or lower min_cycles"
            )
        n_few = int((cyc < min_cycles).sum()) if min_cycles else 0
        if n_few:
            logger.warning(
                "compute_dyad_sync: band %r: %d epoch(s) hold fewer than %g cycle(s) of %g Hz "
                "(see the n_cycles coordinate)", bname, n_few, min_cycles, lo,
            )  # fmt: skip
    return starts, lengths, n_short, n_lag_short


def _continuous_signals(prep, dyad, idx, n_times, filter_kwargs, dtype) -> None:
    """Analytic signals of both recordings (once) and the flat-window counts, into ``prep``."""
    idx1, idx2 = idx
    x1, _ = _participant_data(dyad[0], idx1, n_times)
    x2, _ = _participant_data(dyad[1], idx2, n_times)
    z = analytic_signal(
        np.stack([x1, x2]),
        prep.sfreq,
        prep.bands,
        filter_method=prep.filter,
        filter_kwargs=filter_kwargs,
        min_cycles=0,
        dtype=dtype,
    )  # (2, C, B, T)
    prep.z = np.ascontiguousarray(np.swapaxes(z, 1, 2))
    # number of sample-to-sample changes up to each sample: a window is flat (zero variance)
    # where it is 0 over the window (a disconnected channel recorded as a constant)
    x = np.stack([x1, x2])
    changes = np.zeros(x.shape, dtype=np.int64)
    np.cumsum(np.diff(x, axis=-1) != 0, axis=-1, out=changes[..., 1:])
    prep.extra["changes"] = changes
    del x


def _prepare(
    dyad,
    metrics=("plv", "ccorr"),
    bands=None,
    epochs="utterances",
    window: float | None = None,
    lags=(0.0,),
    min_duration: float = 2.0,
    picks=None,
    rois=None,
    speaker_first: bool = True,
    backend: str = "numpy",
    filter_method: str = "hypyp",
    filter_kwargs: dict | None = None,
    min_cycles: float = 1.0,
    dtype: str = "float64",
) -> _Prepared:
    from ..dyad import Dyad

    names = _resolve_metrics(metrics)
    check_option("dtype", dtype, ("float64", "float32"))
    if min_duration is None or not np.isfinite(float(min_duration)) or float(min_duration) < 0:
        raise ValueError(f"min_duration must be a number of seconds >= 0; got {min_duration!r}")
    if isinstance(epochs, tuple | list) and len(epochs) == 2:
        sfreq = float(epochs[0].info["sfreq"])
        bands_ = check_bands(bands, sfreq)
        lags_, lag_n = _check_lags(lags, sfreq)
        prep = _Prepared("mne", sfreq, bands_, names, lags_, lag_n, speaker_first=speaker_first,
                         backend=backend, filter=filter_method,
                         filter_kwargs=dict(filter_kwargs or {}), min_cycles=min_cycles,
                         rois=rois)  # fmt: skip
        prep.extra["epochs"] = epochs
        prep.extra["dtype"] = dtype
        prep.dyad_ids = list(dyad.ids) if dyad is not None else ["S1", "S2"]
        return prep
    _validate_type(
        epochs, str, "epochs", "'utterances', 'turns', 'fixed' or a pair (mne.Epochs, mne.Epochs)"
    )
    check_option("epochs", epochs, EPOCH_KINDS)
    _validate_type(dyad, Dyad, "dyad", "a Dyad")
    if dyad.participants[0].sfreq != dyad.participants[1].sfreq:
        raise ValueError(
            f"dyad {dyad.dyad_id!r}: participants have different sampling rates "
            f"({dyad[0].sfreq} and {dyad[1].sfreq} Hz); resample one recording"
        )
    sfreq = dyad.sfreq
    bands_ = check_bands(bands, sfreq)
    lags_, lag_n = _check_lags(lags, sfreq)
    n_times = min(p.raw.n_times for p in dyad.participants)
    idx1, idx2, ch1, ch2, excluded = _pick_dyad_channels(dyad, picks, speaker_first)
    win = make_windows(dyad, epochs, window=window, min_duration=min_duration)
    starts, lengths, n_short, n_lag_short = _check_windows(
        dyad, win, sfreq, n_times, lags_, bands_, min_cycles, min_duration
    )
    prep = _Prepared("continuous", sfreq, bands_, names, lags_, lag_n, speaker_first=speaker_first,
                     backend=backend, filter=filter_method,
                     filter_kwargs=dict(filter_kwargs or {}), min_cycles=min_cycles,
                     rois=rois)  # fmt: skip
    prep.ch_names = ch1
    prep.extra["part_ch_names"] = [ch1, ch2]
    prep.extra["exclusions"] = dyad.exclusions
    prep.dyad_ids = list(dyad.ids)
    _continuous_signals(prep, dyad, (idx1, idx2), n_times, filter_kwargs, dtype)
    prep.windows = win
    prep.starts = starts
    prep.lengths = lengths
    prep.swap = (
        (win["speaker"] == dyad.ids[1]).to_numpy() if speaker_first else np.zeros(len(win), bool)
    )
    if speaker_first:
        node_in = node_out = ch1
        orient = "speaker_first"
    else:
        node_in, node_out = [f"{c}_S1" for c in ch1], [f"{c}_S2" for c in ch2]
        orient = "participants"
    prep.extra["node_in"], prep.extra["node_out"] = node_in, node_out
    prep.attrs = _continuous_attrs(
        dyad, prep, orient, epochs, dtype, min_duration, (n_short, n_lag_short), excluded,
        n_times,
    )  # fmt: skip
    return prep


def _continuous_attrs(
    dyad, prep, orient, epochs, dtype, min_duration, n_short_lag, excluded, n_times
) -> dict:
    """The attributes of a :func:`compute_dyad_sync` result on the continuous recordings."""
    sfreq, method, filter_kwargs, lag_n = prep.sfreq, prep.filter, prep.filter_kwargs, prep.lag_n
    backend, speaker_first = prep.backend, prep.speaker_first
    n_short, n_lag_short = n_short_lag
    return {
        "sfreq": sfreq,
        "mode": "inter",
        "filter": method,
        "filter_kwargs": dict(filter_kwargs or {}),
        "backend": backend,
        "dtype": dtype,
        "dyad_id": dyad.dyad_id,
        "participant_ids": list(dyad.ids),
        "n_times": int(n_times),
        "lag_samples": [int(v) for v in lag_n],
        "orientation": orient,
        "lag_convention": (
            "positive lag = listener after speaker (speaker sample t paired with listener "
            "sample t + lag); node_in = speaker, node_out = listener"
            if speaker_first
            else "positive lag = S2 lags S1 (S1 sample t paired with S2 t + lag)"
        ),
        "epochs_kind": epochs,
        "min_duration": float(min_duration),
        "n_short": n_short,
        "n_shorter_than_lag": n_lag_short,
        "units": "unitless",
        "excluded_channels": excluded,
        "n_excluded_channels": int(sum(len(v) for v in excluded.values())),
    }


def _sync_mne(prep: _Prepared, verbose=None):
    """Synchrony on a pair of mne.Epochs, oriented speaker -> listener when metadata allows."""
    from .results import Coupling

    ep1, ep2 = prep.extra["epochs"]
    for name, ep in (("epochs[0]", ep1), ("epochs[1]", ep2)):
        if not hasattr(ep, "get_data") or not hasattr(ep, "info"):
            raise TypeError(f"{name} must be an mne.Epochs; got {type(ep).__name__}")
    if len(ep1) != len(ep2):
        raise ValueError(
            f"the two participants' epochs must match one to one; got {len(ep1)} and {len(ep2)}"
        )
    if len(ep1.ch_names) != len(ep2.ch_names):
        raise ValueError(
            f"mismatched channel counts: participant 1 has {len(ep1.ch_names)} channels, "
            f"participant 2 has {len(ep2.ch_names)}; pick the same channels for both"
        )
    md = ep1.metadata.reset_index(drop=True).copy() if ep1.metadata is not None else None
    n_t = len(ep1.times)
    dur = n_t / prep.sfreq
    ids = prep.dyad_ids
    swap = np.zeros(len(ep1), bool)
    can_orient = md is not None and "speaker" in md.columns
    if prep.speaker_first and can_orient:
        swap = (md["speaker"].astype(str) == str(ids[1])).to_numpy()
    elif prep.speaker_first:
        logger.warning(
            "compute_dyad_sync: the epochs have no 'speaker' metadata; keeping participant 1 as "
            "node_in (no speaker -> listener orientation)"
        )
    lags = prep.lags
    all_lags = np.unique(np.concatenate([lags, -lags])) if swap.any() else lags
    con = compute_sync(
        [ep1.get_data(copy=True), ep2.get_data(copy=True)],
        prep.sfreq,
        prep.bands,
        prep.metrics,
        lags=all_lags,
        filter_method=prep.filter,
        filter_kwargs=prep.filter_kwargs or None,
        backend=prep.backend,
        dtype=prep.extra.get("dtype", "float64"),
        min_cycles=max(prep.min_cycles, 0),
        n_threads=prep.extra.get("n_jobs", 1),
        ch_names=[list(ep1.ch_names), list(ep2.ch_names)],
        verbose=verbose,
    )
    v = con.get_data()
    li = [int(np.nonzero(np.isclose(all_lags, lg))[0][0]) for lg in lags]
    out = v[:, :, :, li]
    if swap.any():
        neg = [int(np.nonzero(np.isclose(all_lags, -lg))[0][0]) for lg in lags]
        out = out.copy()
        out[:, swap] = np.swapaxes(v[:, swap][:, :, :, neg], -1, -2)
    md = _complete_metadata(md, len(ep1), ids, dur, prep.extra.get("min_duration", 2.0))
    same = list(ep1.ch_names) == list(ep2.ch_names)
    if prep.speaker_first and can_orient and same:
        node_in = node_out = list(ep1.ch_names)
        orient = "speaker_first"
    else:
        node_in, node_out = con.node_in, con.node_out
        orient = "participants"
        if prep.speaker_first and can_orient and not same:
            raise ValueError(
                "speaker_first=True needs the same channel names in both participants' epochs; "
                "rename channels or pass speaker_first=False"
            )
    attrs = dict(con.attrs)
    attrs.update(orientation=orient, participant_ids=[str(i) for i in ids], epochs_kind="mne",
                 lag_samples=[int(round(lg * prep.sfreq)) for lg in lags])  # fmt: skip
    if "dyad_id" in prep.extra:
        attrs["dyad_id"] = prep.extra["dyad_id"]
    res = Coupling.from_array(out, metrics=con.metrics, bands=con.bands, lags=lags,
                              node_in=node_in, node_out=node_out, attrs=attrs,
                              epochs_metadata=md)  # fmt: skip
    return Coupling(_apply_rois(res.xarray, prep.rois))


def _complete_metadata(md, n_epochs: int, ids, dur: float, min_duration: float):
    """The epochs' metadata with ``utterance_id, speaker, listener, duration, short``."""
    if md is None:
        md = pd.DataFrame(index=range(n_epochs))
    if "utterance_id" not in md.columns:
        md["utterance_id"] = np.arange(n_epochs)
    if "speaker" not in md.columns:
        md["speaker"] = ""
    if "listener" not in md.columns:
        md["listener"] = [
            "" if s == "" else (ids[1] if s == ids[0] else ids[0]) for s in md["speaker"]
        ]
    md["duration"] = dur
    md["short"] = dur < min_duration
    return md


# --------------------------------------------------------------------------- public
@renamed_params(filter="filter_method")
@keyword_only_after(4)
@fill_doc
@verbose
def compute_dyad_sync(
    dyad,
    metrics=("plv", "ccorr"),
    bands=None,
    epochs="utterances",
    *,
    window: float | None = None,
    lags=(0.0,),
    min_duration: float = 2.0,
    picks=None,
    rois=None,
    speaker_first: bool = True,
    backend: str = "numpy",
    filter_method: str = "hypyp",
    filter_kwargs: dict | None = None,
    strict_bands: bool = False,
    min_cycles: float = 1.0,
    dtype: str = "float64",
    n_jobs: int | None = None,
    verbose=None,
):
    """Inter-brain synchrony of a dyad per epoch, band, channel pair and lag.

    Parameters
    ----------
    dyad : hyperalign.Dyad | None
        The conversation: two participants' recordings and the transcript on one clock
        (``None`` allowed only with ``epochs`` given as ``mne.Epochs``).
    metrics : str | sequence of str
        Names from :data:`~hyperalign.coupling.metrics.METRICS` (``'plv'``, ``'ccorr'``,
        ``'coh'``, ``'imcoh'``, ``'wpli'``, ``'envelope_corr'``...).
    bands : dict | list of (fmin, fmax) | None
        Frequency bands; ``None`` for :data:`~hyperalign.coupling.spectral.DEFAULT_BANDS`.
    epochs : 'utterances' | 'turns' | 'fixed' | (mne.Epochs, mne.Epochs)
        One epoch per transcript utterance, per turn (consecutive utterances of one speaker),
        per fixed window of ``window`` seconds, or matched epochs of the two participants
        (their ``metadata`` become coordinates; a ``speaker`` column orients the pairs).
    window : float | None
        Fixed-window length in seconds (``epochs='fixed'``; default ``min_duration``).
    lags : sequence of float
        Lags (s) of the listener relative to the speaker (see the module docstring).
    min_duration : float
        Epochs shorter than this (s; 2 s by default) are flagged ``short=True`` (a warning
        gives their number): short windows inflate synchrony (bias of PLV with few samples).
    picks : str | list | None
        Channels (MNE picks) of both participants; ``None`` for all. As in MNE, channels in
        ``info['bads']`` are left out unless ``picks`` names them (by name or index); when
        both participants have the same channel names, a channel bad in either is left out of
        both (pairs stay matched). The channels left out are in
        ``attrs['excluded_channels']`` (``{participant: [names]}``) and the dyad's
        ``exclusions``; a participant left without channels is an error.
    rois : dict | None
        ``{name: [channels]}``: average the channel pairs within each ROI pair (node_in and
        node_out become ROI names).
    speaker_first : bool
        Orient every epoch speaker -> listener (node_in = speaker's channels). Needs the same
        channel names in both participants.
    backend : 'numpy' | 'torch'
        Array backend of the metric kernels.
    filter_method : 'hypyp' | 'fft'
        Band-pass used on the continuous recordings (see
        :func:`~hyperalign.coupling.spectral.analytic_signal`). Called ``filter`` before;
        that name is a deprecated alias (it shadows the builtin).
    filter_kwargs : dict | None
        Extra :func:`mne.filter.filter_data` arguments (``filter_method='hypyp'``); with
        ``filter_method='fft'`` only ``l_trans_bandwidth`` / ``h_trans_bandwidth`` (Hz or
        ``'auto'``).
    strict_bands : bool
        Bands whose filters overlap (pass-bands or transition regions; see
        :func:`~hyperalign.coupling.bands.check_band_overlap`) raise an error instead of a
        warning (logged once per settings).
    min_cycles : float
        Epochs holding fewer cycles of a band's fmin get a warning (the per-epoch and per-band
        number of cycles is the ``n_cycles`` coordinate); if *no* epoch reaches it the call
        raises. For ``mne.Epochs`` it is the engine's check (epochs are filtered one by one).
    dtype : 'float64' | 'float32'
        Precision of the analytic signals kept in memory for the whole recording: about
        ``2 participants x n_channels x n_bands x n_samples x 16`` bytes in float64 (e.g. 390 MB
        for 32 channels, 5 bands, 5 min at 256 Hz); 'float32' halves it.
    n_jobs : int | None
        Threads computing the windows, with joblib's meaning: ``None`` or ``1`` serial (the
        default), ``-1`` every core this process may use, ``-2`` all but one. Each thread
        runs a single-threaded BLAS.
    %(verbose)s

    Returns
    -------
    coupling : Coupling
        Dims ``(metric, epochs, freqs, lags, node_in, node_out)``; the ``epochs`` coordinate
        carries ``utterance_id, speaker, listener, onset, offset, duration, short`` and the
        transcript's columns; ``n_cycles`` is an (epochs, freqs) coordinate. Epoch x lag values
        whose listener window falls outside the recording are NaN (counted in a warning and
        in ``attrs['n_lag_out']``). A channel flat (zero variance) in an epoch's window gives
        NaN for every pair involving it, for every metric (``attrs['n_flat']``,
        ``attrs['flat_channels']``: ``{participant: {channel: n_epochs}}``).

    See Also
    --------
    compute_sync, compute_surrogate_sync, summarize_utterances, Coupling

    Examples
    --------
    %(example_dyad)s
    >>> from hyperalign.coupling import compute_dyad_sync
    >>> con = compute_dyad_sync(dyad, metrics=["plv"], bands={"alpha": (8, 12)},
    ...                         epochs="fixed", window=2.0)
    >>> con
    <Coupling | dyad d01 | 5 epochs x 2 x 2 pairs (inter) | metrics: plv | ...>
    >>> con.epochs_metadata[["speaker", "onset", "offset"]].head(2)
          speaker  onset  offset
    epoch
    0           A    0.0     2.0
    1           B    2.0     4.0
    """
    if strict_bands:  # before any filtering; the warning comes from analytic_signal
        _check_strict_bands(dyad, epochs, bands, filter_method, filter_kwargs)
    prep = _prepare(
        dyad, metrics=metrics, bands=bands, epochs=epochs, window=window, lags=lags,
        min_duration=min_duration, picks=picks, rois=rois, speaker_first=speaker_first,
        backend=backend, filter_method=filter_method, filter_kwargs=filter_kwargs,
        min_cycles=min_cycles,
        dtype=dtype,
    )  # fmt: skip
    prep.extra["n_jobs"] = check_n_jobs(n_jobs)
    if prep.source == "mne":
        return _dyad_sync_mne(dyad, prep, picks, min_duration, verbose)
    logger.info(
        "compute_dyad_sync: dyad %r, %d %s epoch(s), %d channel(s), bands %s, metrics %s, "
        "lags %s s",
        prep.attrs["dyad_id"], len(prep.starts), epochs, len(prep.ch_names),
        list(prep.bands), prep.metrics, prep.lags.tolist(),
    )  # fmt: skip
    return _sync_from_prepared(prep)


def _check_strict_bands(dyad, epochs, bands, filter_method, filter_kwargs) -> None:
    """``strict_bands=True``: overlapping band filters are an error (before any filtering)."""
    from .bands import check_band_overlap

    ep = epochs if isinstance(epochs, tuple | list) else None
    sf = ep[0].info["sfreq"] if ep else getattr(dyad, "sfreq", None)
    if sf is not None:
        check_band_overlap(
            bands, sf, method=filter_method, filter_kwargs=filter_kwargs, strict=True
        )


def _dyad_sync_mne(dyad, prep: _Prepared, picks, min_duration, verbose):
    """:func:`compute_dyad_sync` on a pair of mne.Epochs: bad channels left out (and counted
    in the dyad's exclusions), then :func:`_sync_mne`."""
    prep.extra["min_duration"] = float(min_duration)
    if dyad is not None:
        prep.extra["dyad_id"] = dyad.dyad_id
    ep1, ep2 = prep.extra["epochs"]
    (i1, i2), _, excluded = pick_good_channels(
        [ep1.info, ep2.info], picks, prep.dyad_ids, where="compute_dyad_sync"
    )
    if dyad is not None:
        bads = {str(i): list(e.info["bads"]) for i, e in zip(prep.dyad_ids, (ep1, ep2))}
        record_excluded_channels(dyad.exclusions, excluded, "compute_dyad_sync", bads)
    if picks is not None or excluded:
        prep.extra["epochs"] = (ep1.copy().pick(i1), ep2.copy().pick(i2))
    res = _sync_mne(prep, verbose=verbose)
    res.xarray.attrs["excluded_channels"] = excluded
    res.xarray.attrs["n_excluded_channels"] = sum(len(v) for v in excluded.values())
    return res
