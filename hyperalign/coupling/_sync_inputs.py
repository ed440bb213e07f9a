"""Input checks of :func:`~hyperalign.coupling.metrics.compute_sync`: data, lags, chunks, names."""

from __future__ import annotations

import numpy as np


def _check_data(data) -> np.ndarray:
    if isinstance(data, list | tuple) and len(data) == 2:
        a, b = (np.asarray(d) for d in data)
        if a.ndim != 3 or b.ndim != 3:
            raise ValueError(
                "data must be shaped (2, n_epochs, n_channels, n_times); participant arrays "
                f"have shapes {a.shape} and {b.shape}"
            )
        if a.shape[0] != b.shape[0]:
            raise ValueError(
                f"participants must have the same number of epochs; S1 has {a.shape[0]}, "
                f"S2 has {b.shape[0]}"
            )
        if a.shape[1] != b.shape[1]:
            raise ValueError(
                f"participants must have the same number of channels; S1 has {a.shape[1]}, "
                f"S2 has {b.shape[1]} (pick the same channels for both)"
            )
        if a.shape[2] != b.shape[2]:
            raise ValueError(
                f"participants must have epochs of the same length; S1 has {a.shape[2]} "
                f"samples, S2 has {b.shape[2]}"
            )
        data = np.stack([a, b])
    data = np.asarray(data)
    if data.ndim != 4 or data.shape[0] != 2:
        raise ValueError(
            "data must be shaped (2, n_epochs, n_channels, n_times) like HyPyP; got shape "
            f"{data.shape}"
        )
    if np.iscomplexobj(data) or not np.issubdtype(data.dtype, np.number):
        raise TypeError(f"data must be real numbers; got dtype {data.dtype}")
    if data.shape[1] < 1 or data.shape[2] < 1:
        raise ValueError(f"data needs at least one epoch and one channel; got {data.shape}")
    bad = ~np.isfinite(data)
    if bad.any():
        p, e, c = np.argwhere(bad.any(axis=-1))[0]
        n_bad = int(bad.any(axis=-1).sum())
        raise ValueError(
            f"data contains NaN or infinite values: participant S{p + 1}, epoch {e}, channel "
            f"{c} (and {n_bad - 1} other epoch/channel rows); interpolate or drop them first"
        )
    return data


def _lag_samples(lags, sfreq, n_times) -> tuple[np.ndarray, np.ndarray]:
    lags = np.atleast_1d(np.asarray(lags, dtype=float))
    if lags.ndim != 1 or lags.size == 0 or not np.all(np.isfinite(lags)):
        raise ValueError(f"lags must be a non-empty list of finite seconds; got {lags!r}")
    if len(np.unique(lags)) != lags.size:
        raise ValueError(f"lags must be unique; got {lags.tolist()}")
    samples = np.rint(lags * sfreq).astype(int)
    too_long = np.abs(samples) >= n_times - 1
    if too_long.any():
        raise ValueError(
            f"lags {lags[too_long].tolist()} s are as long as the epochs ({n_times} samples = "
            f"{n_times / sfreq:g} s); lags must be shorter than the epoch (use longer epochs "
            "or shorter lags)"
        )
    return lags, samples


def _auto_chunk(n_epochs, n_ch, n_bands, n_times, itemsize) -> int:
    per_epoch = 2 * n_ch * n_bands * n_times * itemsize * 2  # analytic + filter temporaries
    return int(max(1, min(n_epochs, (256 * 2**20) // max(per_epoch, 1))))


def _check_chunk_size(chunk_size, shape, n_bands: int, dtype: str) -> int:
    """Epochs per chunk: given (>= 1), or about 256 MiB of analytic signals (``None``)."""
    if chunk_size is None:
        ctype = np.complex128 if dtype == "float64" else np.complex64
        _, n_ep, n_ch, n_t = shape
        return _auto_chunk(n_ep, n_ch, n_bands, n_t, np.dtype(ctype).itemsize)
    if int(chunk_size) < 1:
        raise ValueError(f"chunk_size must be a positive integer or None; got {chunk_size!r}")
    return int(chunk_size)


def _channel_names(ch_names, n_ch, n_ch2: int | None = None) -> tuple[list[str], list[str]]:
    """S1 and S2 channel names (``ch1..chN`` by default), ``_S1``/``_S2`` when they clash."""
    n_ch2 = n_ch if n_ch2 is None else n_ch2
    if ch_names is None:
        return [f"ch{i + 1}_S1" for i in range(n_ch)], [f"ch{i + 1}_S2" for i in range(n_ch2)]
    if (
        isinstance(ch_names, list | tuple)
        and len(ch_names) == 2
        and all(isinstance(c, list | tuple | np.ndarray) for c in ch_names)
    ):
        c1, c2 = [str(c) for c in ch_names[0]], [str(c) for c in ch_names[1]]
    else:
        c1 = c2 = [str(c) for c in ch_names]
    if len(c1) != n_ch or len(c2) != n_ch2:
        want = f"{n_ch}" if n_ch == n_ch2 else f"{n_ch} and {n_ch2}"
        raise ValueError(
            f"ch_names must list {want} channels per participant; got {len(c1)} and {len(c2)}"
        )
    if set(c1) & set(c2):
        c1, c2 = [f"{c}_S1" for c in c1], [f"{c}_S2" for c in c2]
    return c1, c2
