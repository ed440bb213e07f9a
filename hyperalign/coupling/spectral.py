"""Band filtering and analytic signals for the synchrony engine.

Two filters give the complex analytic signal of every band:

``filter_method='hypyp'``
    The HyPyP-compatible path (default, used for equivalence): for each band, a zero-phase FIR
    band-pass by :func:`mne.filter.filter_data` with MNE's defaults (``filter_length='auto'``,
    ``l_trans_bandwidth='auto'``, ``h_trans_bandwidth='auto'``, hamming window, firwin design,
    ``pad='reflect_limited'``), then :func:`scipy.signal.hilbert`. This is what
    ``hypyp.analyses.compute_freq_bands`` does. MNE filters row by row with overlap-add FFTs;
    here MNE's overlap-add runs on all rows of a band at once with batched FFTs (the same
    operations, so the same values; settings outside MNE's default FIR method call MNE itself).
``filter_method='fft'``
    A fast analytic band-pass in the frequency domain: one real FFT per signal, multiplication
    by one spectral mask per band (gain 1 in ``[fmin, fmax]``, raised-cosine transitions down to
    0 at ``fmin - l_trans`` and ``fmax + h_trans`` with MNE's automatic transition widths unless
    ``filter_kwargs`` gives ``l_trans_bandwidth`` / ``h_trans_bandwidth``,
    negative frequencies zeroed and positive ones doubled), then one inverse FFT per band, which
    gives the analytic signal directly (no separate Hilbert transform). The filter acts
    circularly on each epoch (no padding): values differ from the FIR path near the epoch edges.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..utils import check_option, fill_doc, logger, verbose
from ..utils._validation import renamed_params
from ._bandspec import DEFAULT_BANDS, FILTERS, check_bands

__all__ = ["DEFAULT_BANDS", "analytic_signal", "check_bands", "fir_length"]


def _auto_trans(fmin: float, fmax: float, sfreq: float) -> tuple[float, float]:
    """MNE's automatic transition bandwidths (``l_trans_bandwidth='auto'`` etc.)."""
    l_trans = min(max(0.25 * fmin, 2.0), fmin)
    h_trans = min(max(0.25 * fmax, 2.0), sfreq / 2.0 - fmax)
    return l_trans, h_trans


def fir_length(sfreq: float, fmin: float, fmax: float, **filter_kwargs) -> int:
    """Number of taps of the FIR band-pass that :func:`mne.filter.filter_data` would build.

    Parameters
    ----------
    sfreq, fmin, fmax : float
        Sampling frequency and band edges in Hz.
    **filter_kwargs
        Passed to :func:`mne.filter.create_filter` (e.g. ``filter_length``).

    Returns
    -------
    n_taps : int
        The filter length in samples.
    """
    import mne

    kw = {k: v for k, v in filter_kwargs.items() if k not in ("n_jobs", "pad", "copy")}
    h = mne.filter.create_filter(None, sfreq, fmin, fmax, verbose=False, **kw)
    return int(np.size(h))


def _check_lengths(n_times, sfreq, bands, filt, min_cycles, filter_kwargs, on_short):
    problems = []
    dur = n_times / sfreq
    for name, (lo, hi) in bands.items():
        if min_cycles and dur * lo < min_cycles:
            problems.append(
                f"band {name!r} ({lo:g}-{hi:g} Hz): an epoch of {n_times} samples "
                f"({dur:.3g} s) holds {dur * lo:.3g} cycles of fmin={lo:g} Hz, fewer than "
                f"min_cycles={min_cycles:g}; use epochs of at least {min_cycles / lo:.3g} s, "
                "a higher fmin, or lower min_cycles"
            )
        if filt == "hypyp":
            n_taps = fir_length(sfreq, lo, hi, **filter_kwargs)
            if n_taps > n_times:
                problems.append(
                    f"band {name!r} ({lo:g}-{hi:g} Hz): the FIR filter has {n_taps} taps but "
                    f"epochs have only {n_times} samples; use longer epochs, "
                    "filter_method='fft', a shorter filter_length in filter_kwargs, or "
                    "on_short='warn' to filter "
                    "anyway like HyPyP does (edge distortion likely)"
                )
    if problems:
        msg = "epochs too short for the requested bands:\n  " + "\n  ".join(problems)
        if on_short == "raise":
            raise ValueError(msg)
        logger.warning(msg)


# MNE filter_data arguments the batched FIR path reproduces (anything else: MNE itself)
_FIR_DESIGN_KW = {
    "filter_length",
    "l_trans_bandwidth",
    "h_trans_bandwidth",
    "fir_window",
    "fir_design",
}
_ROWS_PER_BLOCK = 4096


def _mne_bands_analytic(x, sfreq, bands, filter_kwargs, workers, out) -> None:
    """``out[b] = hilbert(mne.filter.filter_data(x, sfreq, lo_b, hi_b, **filter_kwargs))``.

    ``x`` is 2-D (rows, n_times). With MNE's default FIR method (zero phase, any ``pad``), the
    filter MNE designs (:func:`mne.filter.create_filter`) is applied by MNE's own overlap-add
    algorithm (same padding, FFT length, segments and order of additions), but to all rows at
    once with batched FFTs where MNE loops over rows: the values are MNE's. Other settings
    (IIR, ``phase``, ``picks``) call MNE itself.
    """
    import mne
    from scipy.signal import hilbert

    kw = dict(filter_kwargs)
    pad = kw.get("pad", "reflect_limited")
    design = {k: v for k, v in kw.items() if k in _FIR_DESIGN_KW}
    other = set(kw) - _FIR_DESIGN_KW - {"method", "pad", "n_jobs", "copy"}
    n_rows, n_t = x.shape
    if kw.get("method", "fir") != "fir" or other:
        for b, (lo, hi) in enumerate(bands.values()):
            with warnings.catch_warnings():
                # too-long filters were already checked and reported by _check_lengths
                warnings.filterwarnings("ignore", message="filter_length .* longer than")
                filt = mne.filter.filter_data(x, sfreq, l_freq=lo, h_freq=hi, **kw, verbose=False)
            out[b] = hilbert(filt, axis=-1)
        return
    filters = []
    for lo, hi in bands.values():
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="filter_length .* longer than")
            h = mne.filter.create_filter(x[:1], sfreq, lo, hi, **design, verbose=False)
        filters.append(np.atleast_1d(h))

    def run(r0, r1):  # rows r0:r1 in every band (pocketfft releases the GIL)
        blk = x[r0:r1]
        padded: dict = {}
        for b, h in enumerate(filters):
            filt = _overlap_add_rows(blk, h, pad, 1, padded)
            out[b, r0:r1] = _hilbert_rows(filt, 1)

    # row blocks over a thread pool: batched pocketfft gains little from its own workers
    n_blocks = max(workers, -(-n_rows // _ROWS_PER_BLOCK))
    edges = np.linspace(0, n_rows, min(n_blocks, n_rows) + 1).round().astype(int)
    blocks = list(zip(edges[:-1].tolist(), edges[1:].tolist()))
    if workers <= 1 or len(blocks) <= 1:
        for r0, r1 in blocks:
            run(r0, r1)
        return
    from ..utils import thread_pool as _thread_pool

    for f in [_thread_pool(workers).submit(run, r0, r1) for r0, r1 in blocks]:
        f.result()


def _hilbert_rows(x, workers: int) -> np.ndarray:
    """:func:`scipy.signal.hilbert` along the last axis (its operations, so its values), with
    ``workers`` FFT threads."""
    import scipy.fft as sfft

    n = x.shape[-1]
    xf = sfft.fft(x, n, axis=-1, workers=workers)
    if n % 2 == 0:
        xf[..., 1 : n // 2] *= 2.0
        xf[..., n // 2 + 1 : n] = 0.0
    else:
        xf[..., 1 : (n + 1) // 2] *= 2.0
        xf[..., (n + 1) // 2 : n] = 0.0
    return sfft.ifft(xf, axis=-1, workers=workers, overwrite_x=True)


def _mne_n_fft(n_h: int, n_x: int) -> int:
    """FFT length of ``mne.filter._overlap_add_filter`` (its cost model, verbatim)."""
    from mne.filter import next_fast_len  # 5-smooth lengths (not scipy's 7/11-smooth)

    min_fft = 2 * n_h - 1
    if n_x < min_fft:
        return next_fast_len(min_fft)
    n = 2 ** np.arange(np.ceil(np.log2(min_fft)), np.ceil(np.log2(n_x)) + 1, dtype=int)
    cost = np.ceil(n_x / (n - n_h + 1).astype(np.float64)) * n * (np.log2(n) + 1)
    cost += 4e-5 * n * n_x
    return int(n[np.argmin(cost)])


def _overlap_add_rows(x, h, pad, workers, padded: dict) -> np.ndarray:
    """Zero-phase FIR filtering of every row of ``x`` at once, operation for operation as
    ``mne.filter._overlap_add_filter`` does row by row (same padding, FFT length, segments
    and order of additions), so the values are MNE's."""
    import scipy.fft as sfft

    n_rows, n_t = x.shape
    n_h = h.size
    if n_h == 1:  # pragma: no cover - degenerate design
        return x * h
    n_edge = max(min(n_h, n_t) - 1, 0)
    if n_edge not in padded:  # bands whose filters have the same length share the padding
        padded[n_edge] = _smart_pad(x, n_edge, pad)
    x_ext = padded[n_edge]
    n_x = x_ext.shape[1]
    n_fft = _mne_n_fft(n_h, n_x)
    h_fft = sfft.rfft(h, n=n_fft)
    n_seg = n_fft - n_h + 1
    shift = (n_h - 1) // 2 + n_edge
    # MNE accumulates every segment's product into a zero array the length of the padded
    # signal and keeps its first n_t samples: here only those samples are accumulated (same
    # additions in the same order), segments that do not reach them are skipped, and segment
    # spectra are shared by bands whose filters have the same length
    x_filtered = np.zeros((n_rows, n_t))
    for start in range(0, n_x, n_seg):
        start_filt = max(0, start - shift)
        stop_filt = min(start - shift + n_fft, n_x, n_t)
        if stop_filt <= start_filt:
            continue
        key = ("segment", n_edge, n_fft, start)
        if key not in padded:  # rfft zero-pads the segment to n_fft, as MNE does
            seg = x_ext[:, start : min(start + n_seg, n_x)]
            padded[key] = sfft.rfft(seg, n_fft, axis=-1, workers=workers)
        prod = sfft.irfft(padded[key] * h_fft, n_fft, axis=-1, workers=workers, overwrite_x=True)
        start_prod = max(0, shift - start)
        x_filtered[:, start_filt:stop_filt] += prod[
            :, start_prod : start_prod + stop_filt - start_filt
        ]
    return x_filtered


def _smart_pad(x, n_pad: int, pad: str) -> np.ndarray:
    """Pad the last axis like MNE's FIR filtering (``mne.filter._smart_pad``)."""
    if n_pad == 0:
        return x
    n_t = x.shape[-1]
    if pad == "reflect_limited":
        # odd reflection about the edge samples, limited to the signal, zeros beyond
        zpad = np.zeros(x.shape[:-1] + (max(n_pad - n_t + 1, 0),), dtype=x.dtype)
        return np.concatenate(
            [
                zpad,
                2 * x[..., :1] - x[..., n_pad:0:-1],
                x,
                2 * x[..., -1:] - x[..., -2 : -n_pad - 2 : -1],
                zpad,
            ],
            axis=-1,
        )
    kwargs = {"reflect_type": "odd"} if pad == "reflect" else {}
    return np.pad(x, [(0, 0)] * (x.ndim - 1) + [(n_pad, n_pad)], pad, **kwargs)


def _fft_masks(
    n_times: int, sfreq: float, bands: dict, dtype, filter_kwargs: dict | None = None
) -> np.ndarray:
    """Analytic band-pass gains on the rfft grid, shape (n_bands, n_times // 2 + 1)."""
    from .bands import fft_gain, fft_transitions

    freqs = np.fft.rfftfreq(n_times, 1.0 / sfreq)
    masks = np.zeros((len(bands), freqs.size), dtype=dtype)
    for b, (lo, hi) in enumerate(bands.values()):
        g = fft_gain(freqs, lo, hi, *fft_transitions(lo, hi, sfreq, filter_kwargs))
        # analytic signal: double positive frequencies; DC and Nyquist keep weight 1
        w = 2.0 * g
        w[0] = g[0]
        if n_times % 2 == 0:
            w[-1] = g[-1]
        masks[b] = w
    return masks


@renamed_params(filter="filter_method")
@fill_doc
@verbose
def analytic_signal(
    data,
    sfreq: float,
    bands=None,
    *,
    filter_method: str = "hypyp",
    filter_kwargs: dict | None = None,
    dtype: str = "float64",
    min_cycles: float = 3.0,
    on_short: str = "raise",
    n_threads: int | None = None,
    verbose=None,
) -> np.ndarray:
    """Band-pass every signal in every band and return its complex analytic signal.

    Parameters
    ----------
    data : array, shape (..., n_times)
        Real signals; any leading shape, e.g. HyPyP's ``(2, n_epochs, n_channels, n_times)``.
    sfreq : float
        Sampling frequency in Hz.
    bands : dict | list of (fmin, fmax) | None
        Frequency bands; ``None`` for :data:`DEFAULT_BANDS`.
    filter_method : 'hypyp' | 'fft'
        ``'hypyp'``: MNE FIR band-pass + Hilbert, identical to
        ``hypyp.analyses.compute_freq_bands``. ``'fft'``: one FFT per signal, one spectral mask per
        band, one inverse FFT per band (see the module docstring). Called ``filter`` before;
        that name is a deprecated alias (it shadows the builtin).
    filter_kwargs : dict | None
        Extra arguments for :func:`mne.filter.filter_data` (``filter_method='hypyp'``), e.g.
        ``{'filter_length': '1s', 'l_trans_bandwidth': 1}``, as HyPyP's ``**filter_options``;
        ``filter_method='fft'`` takes ``l_trans_bandwidth`` / ``h_trans_bandwidth`` only. Bands
        whose filters overlap are reported once
        (:func:`~hyperalign.coupling.bands.check_band_overlap`).
    dtype : 'float64' | 'float32'
        Precision of the output (complex128 or complex64).
    min_cycles : float
        Minimum number of cycles of each band's ``fmin`` an epoch must hold (0 disables).
    on_short : 'raise' | 'warn'
        What to do when epochs are too short for a band (fewer than ``min_cycles`` cycles, or,
        with ``filter_method='hypyp'``, shorter than the FIR filter).
    n_threads : int | None
        FFT worker threads (``None``: every core this process may use).
    %(verbose)s

    Returns
    -------
    z : ndarray of complex, shape (..., n_bands, n_times)
        Analytic signals, bands in the order of ``bands``.
    """
    from ..utils import check_threads as _check_threads

    n_threads = _check_threads(n_threads)
    z = _analytic_bands(
        data,
        sfreq,
        bands,
        filter_method=filter_method,
        filter_kwargs=filter_kwargs,
        dtype=dtype,
        min_cycles=min_cycles,
        on_short=on_short,
        n_threads=n_threads,
    )
    return np.moveaxis(z, 0, -2)


def _analytic_bands(
    data, sfreq, bands, *, filter_method, filter_kwargs, dtype, min_cycles, on_short,
    n_threads=None,
) -> np.ndarray:  # fmt: skip
    """Analytic signals band-major: (n_bands, ..., n_times), each band contiguous."""
    check_option("filter_method", filter_method, FILTERS)
    check_option("dtype", dtype, ("float64", "float32"))
    check_option("on_short", on_short, ("raise", "warn"))
    filter_kwargs = dict(filter_kwargs or {})
    if filter_kwargs and filter_method != "hypyp":
        from .bands import FFT_KWARGS

        if set(filter_kwargs) - set(FFT_KWARGS):
            raise ValueError(
                f"filter_kwargs apply to filter_method='hypyp' only (filter_method='fft' takes "
                f"only {list(FFT_KWARGS)}); got filter_method={filter_method!r} with "
                f"filter_kwargs={sorted(filter_kwargs)}"
            )
    data = np.asarray(data)
    if data.ndim < 1 or data.shape[-1] < 2:
        raise ValueError(f"data must have shape (..., n_times>=2); got {data.shape}")
    if not np.isrealobj(data):
        raise TypeError("data must be real-valued signals; got a complex array")
    sfreq = float(sfreq)
    if not np.isfinite(sfreq) or sfreq <= 0:
        raise ValueError(f"sfreq must be finite and > 0; got {sfreq!r}")
    bands = check_bands(bands, sfreq)
    n_times = data.shape[-1]
    if min_cycles is not None:  # None: already checked by the caller (later chunks)
        from .bands import _check_overlap_once

        _check_overlap_once(bands, sfreq, filter_method, filter_kwargs)
        _check_lengths(n_times, sfreq, bands, filter_method, min_cycles, filter_kwargs, on_short)
    ctype = np.complex128 if dtype == "float64" else np.complex64
    lead = data.shape[:-1]
    flat = data.reshape(-1, n_times)
    out = np.empty((len(bands), flat.shape[0], n_times), dtype=ctype)
    logger.info(
        "analytic_signal: %d signals x %d samples, %d band(s), filter_method=%r",
        flat.shape[0],
        n_times,
        len(bands),
        filter_method,
    )
    if filter_method == "hypyp":
        x = np.ascontiguousarray(flat, dtype=np.float64)
        workers = int(n_threads) if n_threads else 1
        _mne_bands_analytic(x, sfreq, bands, filter_kwargs, workers, out)
    else:
        import scipy.fft as sfft

        rdtype = np.float64 if dtype == "float64" else np.float32
        x = np.ascontiguousarray(flat, dtype=rdtype)
        workers = int(n_threads) if n_threads else 1
        spec = sfft.rfft(x, axis=-1, workers=workers)
        masks = _fft_masks(n_times, sfreq, bands, rdtype, filter_kwargs)
        for b in range(len(bands)):
            nz = np.flatnonzero(masks[b])
            k0, k1 = (int(nz[0]), int(nz[-1]) + 1) if nz.size else (0, 0)
            buf = out[b]
            buf[:, :k0] = 0
            buf[:, k1:] = 0
            np.multiply(spec[:, k0:k1], masks[b, k0:k1], out=buf[:, k0:k1])
            res = sfft.ifft(buf, axis=-1, workers=workers, overwrite_x=True)
            if not np.shares_memory(res, buf):
                buf[...] = res
    return out.reshape(len(bands), *lead, n_times)
