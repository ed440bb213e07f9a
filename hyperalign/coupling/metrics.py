"""Synchrony metrics: one registry, HyPyP's names and values, computed as matrix products.

Every metric takes the analytic signals of one band, ``x`` (n_epochs, C1, n_times) for S1 and
``y`` (n_epochs, C2, n_times) for S2, and returns (n_epochs, C1, C2). All channel pairs of all
epochs are computed at once as batched matrix products (BLAS), never as a loop over pairs.

Definitions (``<.>`` = sum over the samples of an epoch, ``T`` = number of samples,
``u = x / |x|`` the unit phasor):

=================  =========================================================================
``plv``            ``|<u_i conj(v_k)>| / T`` (Lachaux 1999).
``ccorr``          ``|<s_i s_k>| / sqrt(<s_i^2> <s_k^2>)``, ``s = sin(phase - circular mean)``
                   (HyPyP returns the absolute value; ``ccorr_signed`` keeps the sign).
``accorr``         adjusted circular correlation (Zimmermann 2024), HyPyP's definition:
                   ``(|<u_i conj v_k>| - |<u_i v_k>|)``
                   ``/ (2 sqrt(<sin^2(a_i - m)> <sin^2(a_k - n)>))``
                   with per-pair centering ``m = (md + ms) / 2``, ``n = (ms - md) / 2``,
                   ``md = arg<u_i conj v_k>``, ``ms = arg<u_i v_k>``; the sums of ``sin^2``
                   are computed in closed form (``sin^2 a = (1 - cos 2a) / 2``).
``coh``            ``|<x_i conj y_k>| / sqrt(<|x_i|^2> <|y_k|^2>)``: HyPyP's code returns this
                   *unsquared* magnitude although its docstring shows a square;
                   ``coh_squared`` (alias ``msc``) is the textbook magnitude-squared coherence.
``imcoh``          ``|Im<x_i conj y_k>| / sqrt(<|x_i|^2> <|y_k|^2>)`` (HyPyP returns the
                   absolute value; ``imcoh_signed`` keeps Nolte's sign). Alias ``imaginary_coh``.
``pli``            ``|<sign(Im(x_i conj y_k))>| / T`` (Stam 2007).
``wpli``           ``|<Im(x_i conj y_k)>| / <|Im(x_i conj y_k)>|`` (Vinck 2011), 0/0 -> 0 as in
                   HyPyP. The numerator is a matrix product; the denominator is summed per sample
                   in bounded blocks (or a compiled loop), never HyPyP's 5-D array.
``envelope_corr``  Pearson correlation of the amplitude envelopes ``|x|`` (alias ``envcorr``).
``pow_corr``       Pearson correlation of the instantaneous powers ``|x|^2`` (alias ``powcorr``).
=================  =========================================================================

Lags: :func:`compute_sync` shifts S2 relative to S1 within each epoch and computes on the
overlapping samples. **Positive lag = S2 lags S1**: at lag ``L`` seconds (``l = round(L * sfreq)``
samples), S1 sample ``t`` is paired with S2 sample ``t + l``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..utils import (
    available_cores,  # noqa: F401 - re-exported for old imports
    blas_limits,
    check_option,
    check_threads,
    fill_doc,
    logger,
    single_thread_blas,
    thread_pool,
    verbose,
)
from ..utils._parallel import run_in_parts
from ..utils._validation import renamed_params
from ._channels import flat_mask, nan_flat_pairs
from ._sync_inputs import (  # noqa: F401 - importable from here as before
    _auto_chunk,
    _channel_names,
    _check_chunk_size,
    _check_data,
    _lag_samples,
)
from .backend import get_backend
from .spectral import _analytic_bands, check_bands

__all__ = [
    "METRICS",
    "MetricInfo",
    "resolve_metric",
    "sync_from_analytic",
    "compute_sync",
    "compute_sync_epochs",
]


from ._kernels import (  # noqa: F401 - the registry, re-exported
    _ALIASES,
    METRICS,
    MetricInfo,
    _Pair,
    _resolve_metrics,
    resolve_metric,
)


@fill_doc
def sync_from_analytic(
    z1,
    z2,
    metric: str,
    *,
    backend: str = "numpy",
    device=None,
    use_numba: bool | None = None,
    n_valid=None,
) -> np.ndarray:
    """Compute one metric for one band from analytic signals, all pairs and epochs at once.

    Parameters
    ----------
    z1 : complex array, shape (n_epochs, C1, n_times) or (C1, n_times)
        Analytic signals of S1 (e.g. a slice of :func:`analytic_signal`).
    z2 : complex array, shape (n_epochs, C2, n_times) or (C2, n_times)
        Analytic signals of S2 (same epochs and samples).
    metric : str
        A name (or alias) from :data:`METRICS`.
    backend : 'numpy' | 'torch'
        Array library; results come back as NumPy.
    %(device)s
    use_numba : bool | None
        Use the compiled numba loop for pli/wpli when available (NumPy backend).
    n_valid : array of int, shape (n_epochs,) | None
        Ragged epochs: epoch ``e`` holds ``n_valid[e]`` samples and ``z1``/``z2`` are zero
        beyond them (padding). Every metric is then computed on each epoch's own samples, as
        if the epochs had been passed one by one (``None``: all samples are valid).

    Returns
    -------
    con : ndarray, shape (n_epochs, C1, C2) (or (C1, C2) for 2-D inputs)
        NaN for every pair involving a flat channel (all samples of the epoch equal, e.g.
        all zero), for every metric.

    See Also
    --------
    compute_sync, analytic_signal, METRICS
    """
    name = resolve_metric(metric)
    z1, z2 = np.asarray(z1), np.asarray(z2)
    squeeze = z1.ndim == 2
    if squeeze:
        z1, z2 = z1[None], z2[None]
    if z1.ndim != 3 or z2.ndim != 3:
        raise ValueError(
            "z1 and z2 must be shaped (n_epochs, n_channels, n_times); got "
            f"{z1.shape} and {z2.shape}"
        )
    if z1.shape[0] != z2.shape[0] or z1.shape[-1] != z2.shape[-1]:
        raise ValueError(
            "z1 and z2 must have the same number of epochs and samples; got "
            f"{z1.shape} and {z2.shape}"
        )
    if not (np.iscomplexobj(z1) and np.iscomplexobj(z2)):
        raise TypeError("z1 and z2 must be complex analytic signals (see analytic_signal)")
    if n_valid is not None:
        n_valid = np.asarray(n_valid)
        if (
            n_valid.shape != (z1.shape[0],)
            or not np.issubdtype(n_valid.dtype, np.integer)
            or (n_valid < 1).any()
            or (n_valid > z1.shape[-1]).any()
        ):
            raise ValueError(
                f"n_valid must hold one integer per epoch in [1, {z1.shape[-1]}] (samples); "
                f"got shape {n_valid.shape} and values in [{n_valid.min()}, {n_valid.max()}]"
            )
    ops = get_backend(backend, device, use_numba=use_numba)
    x = ops.asarray(z1)
    y = x if z1 is z2 else ops.asarray(z2)
    # one BLAS thread: these per-epoch products are small, and a multi-threaded BLAS is many
    # times slower than one thread on a loaded machine; flat channels: NaN below
    with single_thread_blas(ops.name == "numpy"), np.errstate(divide="ignore", invalid="ignore"):
        out = np.array(ops.to_numpy(METRICS[name].func(_Pair(ops, x, y, n_valid))))
    fx = flat_mask(z1, n_valid)
    fy = fx if z1 is z2 else flat_mask(z2, n_valid)
    n_flat = nan_flat_pairs(out[None], fx, fy)
    if n_flat:
        logger.warning(
            "sync_from_analytic: %d flat (epoch, channel) row(s) (all samples equal): %s is "
            "NaN for every pair involving them",
            n_flat,
            name,
        )
    return out[0] if squeeze else out


# ------------------------------------------------------------------------------------------
# compute_sync
# ------------------------------------------------------------------------------------------
def _shift(z1, z2, lag: int):
    """Overlapping segments for lag ``lag`` samples (positive: S2 lags S1)."""
    if lag == 0:
        return z1, z2
    if lag > 0:
        return z1[..., :-lag], z2[..., lag:]
    return z1[..., -lag:], z2[..., :lag]


@renamed_params(filter="filter_method")
@fill_doc
@verbose
def compute_sync(
    data,
    sfreq: float,
    bands=None,
    metrics=("plv",),
    *,
    lags=(0.0,),
    mode: str = "inter",
    filter_method: str = "hypyp",
    filter_kwargs: dict | None = None,
    backend: str = "numpy",
    device=None,
    dtype: str = "float64",
    chunk_size: int | None = None,
    min_cycles: float = 3.0,
    on_short: str = "raise",
    use_numba: bool | None = None,
    n_threads: int | None = None,
    epochs_metadata=None,
    ch_names=None,
    dyad_id: str | None = None,
    participant_ids: Sequence[str] = ("S1", "S2"),
    verbose=None,
):
    """Inter-brain synchrony per epoch, band, channel pair and lag.

    Parameters
    ----------
    data : array, shape (2, n_epochs, n_channels, n_times) | pair of arrays
        The two participants' epochs, as HyPyP expects (S1 first).
    sfreq : float
        Sampling frequency in Hz.
    bands : dict | list of (fmin, fmax) | None
        Frequency bands ``{'alpha': (8, 13), ...}``; ``None`` for :data:`DEFAULT_BANDS`.
    metrics : str | sequence of str
        Names from :data:`METRICS` (aliases accepted).
    lags : sequence of float
        Lags of S2 relative to S1 in seconds; positive = S2 lags S1 (S1 sample ``t`` paired with
        S2 sample ``t + lag``), computed on the overlapping samples of each epoch.
    mode : 'inter' | 'all'
        ``'inter'``: S1 x S2 pairs (node_in = S1 channels, node_out = S2 channels). ``'all'``:
        the full 2C x 2C matrix like HyPyP (S1 channels then S2 channels; intra-brain blocks at
        a lag use the same overlapping samples, unshifted).
    filter_method : 'hypyp' | 'fft'
        Band-pass + analytic signal (see :func:`analytic_signal`). Called ``filter`` before;
        that name is a deprecated alias (it shadows the builtin).
    filter_kwargs : dict | None
        Extra :func:`mne.filter.filter_data` arguments (``filter_method='hypyp'``).
    backend : 'numpy' | 'torch'
        Array library for the metric kernels; results come back as NumPy.
    %(device)s
    dtype : 'float64' | 'float32'
        Computation and output precision.
    chunk_size : int | None
        Epochs filtered and computed at once (bounds memory); ``None`` picks a size that keeps
        the analytic signals of a chunk near 256 MiB.
    min_cycles : float
        Minimum cycles of each band's fmin per epoch (0 disables the check).
    on_short : 'raise' | 'warn'
        Epochs too short for a band: raise (default) or log a warning and go on (HyPyP's
        behaviour).
    use_numba : bool | None
        NumPy backend: compiled loop for pli/wpli when numba is importable.
    n_threads : int | None
        Threads for the call (NumPy backend): the epochs of each band are split into
        ``n_threads`` parts computed side by side, each with a single-threaded BLAS and
        compiled loops, and the FFTs use as many workers. ``None``: every core this process
        may use. Splitting epochs scales better than a multi-threaded BLAS, which gains
        little on these small per-epoch products and collapses when the cores are shared.
        ``n_threads=1`` runs everything on the calling thread.
    epochs_metadata : pandas.DataFrame | None
        One row per epoch; its columns become coordinates of the ``epochs`` dimension
        (e.g. ``utterance_id``, ``onset``).
    ch_names : list of str | pair of lists | None
        Channel names (one list for both participants, or one per participant). Default
        ``ch1..chN``; S1/S2 names get the ``_S1``/``_S2`` suffixes when both are the same.
    dyad_id : str | None
        Stored in the attributes.
    participant_ids : pair of str
        Stored in the attributes.
    %(verbose)s

    Returns
    -------
    coupling : Coupling
        Values with dims ``(metric, epochs, freqs, lags, node_in, node_out)``. Flat channels
        (zero variance within an epoch, e.g. all zeros) give NaN for every pair involving
        them in that epoch, for every metric (pli and wpli included); ``attrs['n_flat']``
        counts the flat (epoch, channel) rows and ``attrs['flat_channels']`` gives
        ``{participant: {channel: n_epochs}}``.

    See Also
    --------
    compute_sync_epochs, compute_dyad_sync, sync_from_analytic, Coupling

    Examples
    --------
    Two participants, 4 epochs of 3 channels and 2 s at 256 Hz (HyPyP's layout):

    >>> import numpy as np
    >>> from hyperalign.coupling import compute_sync
    >>> data = np.random.default_rng(0).standard_normal((2, 4, 3, 512))
    >>> con = compute_sync(data, 256.0, {"alpha": (8, 13)}, ["plv", "ccorr"], n_threads=1)
    >>> con.get_data().shape  # metric, epochs, freqs, lags, node_in, node_out
    (2, 4, 1, 1, 3, 3)
    >>> con.node_in
    ['ch1_S1', 'ch2_S1', 'ch3_S1']
    >>> bool(((con.get_data() >= 0) & (con.get_data() <= 1)).all())
    True
    """
    from .results import Coupling

    check_option("mode", mode, ("inter", "all"))
    check_option("dtype", dtype, ("float64", "float32"))
    check_option("filter_method", filter_method, ("hypyp", "fft"))
    names = _resolve_metrics(metrics)
    data = _check_data(data)
    sfreq = float(sfreq)
    if not np.isfinite(sfreq) or sfreq <= 0:
        raise ValueError(f"sfreq must be finite and > 0; got {sfreq!r}")
    bands = check_bands(bands, sfreq)
    _, n_ep, n_ch, n_t = data.shape
    lag_s, lag_n = _lag_samples(lags, sfreq, n_t)
    ops = get_backend(backend, device, use_numba=use_numba)
    ch1, ch2 = _channel_names(ch_names, n_ch)
    node_in, node_out = (ch1, ch2) if mode == "inter" else (ch1 + ch2, ch1 + ch2)
    if epochs_metadata is not None and len(epochs_metadata) != n_ep:
        raise ValueError(
            f"epochs_metadata has {len(epochs_metadata)} rows but data has {n_ep} epochs"
        )
    chunk_size = _check_chunk_size(chunk_size, data.shape, len(bands), dtype)
    rdtype = np.float64 if dtype == "float64" else np.float32
    shape = (len(names), n_ep, len(bands), len(lag_n), len(node_in), len(node_out))
    out = np.empty(shape, dtype=rdtype)
    logger.info(
        "compute_sync: %d epochs x %d channels x %d samples, bands=%s, metrics=%s, "
        "lags=%s s, mode=%s, backend=%s, chunks of %d epochs",
        n_ep, n_ch, n_t, list(bands), names, lag_s.tolist(), mode, ops.name, chunk_size,
    )  # fmt: skip
    flat = np.stack([flat_mask(data[0]), flat_mask(data[1])])  # (2, E, C)
    _sync_chunks(
        data, out, ops, names, sfreq, bands, lag_n, mode=mode, filter_method=filter_method,
        filter_kwargs=filter_kwargs, dtype=dtype, chunk_size=chunk_size, min_cycles=min_cycles,
        on_short=on_short, n_threads=_check_threads(n_threads),
    )  # fmt: skip
    attrs = {
        **_mask_flat(out, flat, mode, (ch1, ch2), participant_ids),
        **_sync_attrs(sfreq, mode, filter_method, filter_kwargs, ops.name, dtype, dyad_id,
                      participant_ids, n_t, lag_n),
    }  # fmt: skip
    return Coupling.from_array(
        out,
        metrics=names,
        bands=bands,
        lags=lag_s,
        node_in=node_in,
        node_out=node_out,
        attrs=attrs,
        epochs_metadata=epochs_metadata,
    )


def _sync_chunks(
    data, out, ops, names, sfreq, bands, lag_n, *, mode, filter_method, filter_kwargs, dtype,
    chunk_size, min_cycles, on_short, n_threads,
) -> None:  # fmt: skip
    """The execution plan of :func:`compute_sync`: filter a chunk of epochs (all bands), then
    the kernels per band and lag into ``out`` (M, E, B, L, N_in, N_out)."""
    n_ep = data.shape[1]
    limits = _blas_limits(1)  # epochs are split over threads, one BLAS thread each
    try:
        for e0 in range(0, n_ep, chunk_size):
            sl = slice(e0, min(n_ep, e0 + chunk_size))
            z = _analytic_bands(
                np.swapaxes(data[:, sl], 0, 1),  # (e, 2, C, T): S1 and S2 rows adjacent
                sfreq,
                bands,
                filter_method=filter_method,
                filter_kwargs=filter_kwargs,
                dtype=dtype,
                min_cycles=min_cycles if e0 == 0 else None,  # check the first chunk only
                on_short=on_short,
                n_threads=n_threads,
            )  # (B, e, 2, C, T), contiguous per band
            for b in range(len(bands)):
                zb = ops.asarray(z[b])
                for li, lag in enumerate(lag_n):
                    band_sync(ops, zb, names, out[:, sl, b, li], lag=int(lag), mode=mode,
                              n_threads=n_threads)  # fmt: skip
            del z
    finally:
        if limits is not None:
            limits.restore_original_limits()


def _sync_attrs(
    sfreq,
    mode,
    filter_method,
    filter_kwargs,
    backend,
    dtype,
    dyad_id,
    participant_ids,
    n_t,
    lag_n,
) -> dict:
    """The attributes :func:`compute_sync` stores with its result."""
    return {
        "sfreq": sfreq,
        "mode": mode,
        "filter": filter_method,
        "filter_kwargs": dict(filter_kwargs or {}),
        "backend": backend,
        "dtype": dtype,
        "dyad_id": "" if dyad_id is None else str(dyad_id),
        "participant_ids": [str(p) for p in participant_ids],
        "n_times": int(n_t),
        "lag_samples": [int(v) for v in lag_n],
        "lag_convention": "positive lag = S2 lags S1 (S1 sample t paired with S2 t + lag)",
        "units": "unitless",
    }


def _mask_flat(out, flat, mode, ch, participant_ids) -> dict:
    """NaN for every pair with a flat channel (per epoch) in ``out`` (M, E, B, L, N_in, N_out);
    returns the attrs that report them (``n_flat``, ``flat_channels``)."""
    if not flat.any():
        return {"n_flat": 0, "flat_channels": {}}
    fi, fo = (flat[0], flat[1]) if mode == "inter" else (np.concatenate(flat, 1),) * 2
    bad = fi[:, :, None] | fo[:, None, :]  # (E, N_in, N_out)
    np.copyto(out, np.nan, where=bad[None, :, None, None])
    report = {
        str(pid): {ch[p][c]: int(flat[p][:, c].sum()) for c in np.flatnonzero(flat[p].any(0))}
        for p, pid in enumerate(participant_ids)
        if flat[p].any()
    }
    n_flat = int(flat.sum())
    logger.warning(
        "compute_sync: %d flat (epoch, channel) row(s) (all samples equal, zero variance): "
        "every metric is NaN for the pairs involving them; {participant: {channel: n_epochs}} "
        "= %s",
        n_flat,
        report,
    )
    return {"n_flat": n_flat, "flat_channels": report}


def band_sync(ops, zb, names, dest, *, lag: int = 0, mode: str = "inter", n_threads: int = 1):
    """Metrics of one band and lag into ``dest``: the kernel stage of :func:`compute_sync`.

    Parameters
    ----------
    ops : NumpyOps | TorchOps
        Backend (:func:`~hyperalign.coupling.backend.get_backend`).
    zb : complex array, shape (n_epochs, 2, n_channels, n_times)
        Analytic signals of one band, S1 and S2 rows adjacent (the layout the filter stage of
        :func:`compute_sync` writes; ``mode='all'`` at lag 0 then needs no copy).
    names : list of str
        Canonical metric names.
    dest : ndarray, shape (n_metrics, n_epochs, n_in, n_out)
        Output (a view is fine).
    lag : int
        Lag in samples (positive: S2 lags S1).
    mode : 'inter' | 'all'
        S1 x S2 block or the full 2C x 2C matrix.
    n_threads : int
        NumPy backend: epochs are split into this many contiguous parts computed on a thread
        pool (NumPy, BLAS and the compiled loops release the GIL), each with one BLAS thread.
    """
    n_ep, _, n_ch, n_t = zb.shape
    if mode == "all" and lag == 0:
        x = zb.reshape(n_ep, 2 * n_ch, n_t)  # a view when zb is contiguous
        y = x
    else:
        x, y = _shift(zb[:, 0], zb[:, 1], lag)
        if mode == "all":
            x = ops.cat([x, y], -2)
            y = x

    return pairs_into(ops, x, y, names, dest, n_threads=n_threads)


def pairs_into(ops, x, y, names, dest, *, n_threads: int = 1, n_valid=None):
    """Metrics ``names`` of analytic signals ``x`` (E, C1, T) and ``y`` (E, C2, T) into
    ``dest`` (n_metrics, E, C1, C2), epochs split over ``n_threads`` threads (NumPy backend:
    NumPy, BLAS and the compiled loops release the GIL; one BLAS thread each). ``n_valid``:
    ragged epochs (see :func:`sync_from_analytic`)."""
    n_ep = x.shape[0]

    def run(part_ops, a, b):
        xs = x[a:b]
        ys = xs if y is x else y[a:b]
        nv = None if n_valid is None else n_valid[a:b]
        pair = _Pair(part_ops, xs, ys, nv)
        # zero-power (flat) channels divide by zero; the callers set their pairs to NaN.
        # np.errstate is per thread: set here, in the thread that computes.
        with np.errstate(divide="ignore", invalid="ignore"):
            for mi, name in enumerate(names):
                dest[mi, a:b] = ops.to_numpy(METRICS[name].func(pair))

    n_parts = min(int(n_threads), n_ep) if ops.name == "numpy" else 1
    if n_parts <= 1:
        run(ops if n_threads > 1 or ops.name != "numpy" else ops.serial(), 0, n_ep)
        return dest
    serial = ops.serial()
    run_in_parts(lambda a, b: run(serial, a, b), n_ep, n_parts)
    return dest


# the pool and thread helpers live in hyperalign.utils (names kept for old imports)
_thread_pool = thread_pool
_check_threads = check_threads
_blas_limits = blas_limits


def compute_sync_epochs(epochs1, epochs2, bands=None, metrics=("plv",), *, picks=None, **kwargs):
    """:func:`compute_sync` on a pair of :class:`mne.Epochs` (matched epochs).

    Parameters
    ----------
    epochs1, epochs2 : mne.Epochs
        S1 and S2 epochs with the same number of epochs, channels and samples and the same
        sampling frequency. Metadata of ``epochs1`` (if any) becomes per-epoch coordinates
        unless ``epochs_metadata`` is given.
    bands : dict | list of (fmin, fmax) | None
        As :func:`compute_sync`.
    metrics : str | sequence of str
        As :func:`compute_sync`.
    picks : MNE picks | None
        Channels of both participants (``None``: all). As in MNE, channels in
        ``info['bads']`` are left out unless named in ``picks``; with the same channel names
        in both, a channel bad in either is left out of both. The channels left out are in
        ``attrs['excluded_channels']``; a participant left without channels is an error.
    **kwargs
        As :func:`compute_sync` (``sfreq`` and ``ch_names`` are taken from the epochs).

    Returns
    -------
    coupling : Coupling
        As :func:`compute_sync`; ``attrs['excluded_channels']`` lists the bad channels left
        out.
    """
    for name, ep in (("epochs1", epochs1), ("epochs2", epochs2)):
        if not hasattr(ep, "get_data") or not hasattr(ep, "info"):
            raise TypeError(f"{name} must be an mne.Epochs; got {type(ep).__name__}")
    if epochs1.info["sfreq"] != epochs2.info["sfreq"]:
        raise ValueError(
            f"epochs1 and epochs2 must share sfreq; got {epochs1.info['sfreq']} and "
            f"{epochs2.info['sfreq']} Hz (resample one of them)"
        )
    for bad in ("sfreq", "ch_names"):
        if bad in kwargs:
            raise TypeError(f"{bad} is taken from the epochs; do not pass it")
    from ._channels import pick_good_channels

    ids = kwargs.get("participant_ids", ("S1", "S2"))
    (i1, i2), (n1, n2), excluded = pick_good_channels(
        [epochs1.info, epochs2.info], picks, ids, where="compute_sync_epochs"
    )
    d1 = epochs1.get_data(picks=i1, copy=True)
    d2 = epochs2.get_data(picks=i2, copy=True)
    if kwargs.get("epochs_metadata") is None and epochs1.metadata is not None:
        kwargs["epochs_metadata"] = epochs1.metadata.reset_index(drop=True)
    con = compute_sync(
        [d1, d2], epochs1.info["sfreq"], bands, metrics, ch_names=[n1, n2], **kwargs
    )
    con.xarray.attrs["excluded_channels"] = excluded
    con.xarray.attrs["n_excluded_channels"] = int(sum(len(v) for v in excluded.values()))
    return con
