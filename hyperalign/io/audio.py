"""Audio files: one microphone per participant, or one multi-channel file (soundfile)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..dyad import audio_as_float
from ..utils import atomic_path, check_positive, fill_doc, logger, verbose

__all__ = ["read_audio", "write_audio", "AUDIO_SUFFIXES"]

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".aiff", ".aif")


@fill_doc
@verbose
def read_audio(
    path: str | os.PathLike, channel: int | None = None, *, verbose=None
) -> tuple[np.ndarray, float]:
    """Read a WAV/FLAC (any format libsndfile reads) file.

    Parameters
    ----------
    path : path-like
        The audio file.
    channel : int | None
        Channel to return (0-based) from a multi-channel file (a channel per participant).
        ``None`` returns a 1-D array for a mono file and ``(n_channels, n_samples)`` for a
        multi-channel one.
    %(verbose)s

    Returns
    -------
    samples : numpy.ndarray
        Float64 samples in [-1, 1] for PCM files.
    sfreq : float
        Sampling rate in Hz.
    """
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"audio file not found: {path}")
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: the audio file is empty (0 bytes); re-export the audio")
    try:
        data, sfreq = sf.read(str(path), dtype="float64", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise ValueError(
            f"{path}: cannot read the audio ({err}); expected a WAV/FLAC file readable by "
            "libsndfile (convert it with ffmpeg)"
        ) from None
    if data.shape[0] == 0:
        raise ValueError(f"{path}: the audio file holds no samples; re-export the audio")
    n_ch = data.shape[1]
    if channel is not None:
        if not isinstance(channel, int | np.integer) or not 0 <= channel < n_ch:
            raise ValueError(
                f"{path}: channel must be an int in [0, {n_ch - 1}] (the file has {n_ch} "
                f"channel(s)); got {channel!r}"
            )
        out = np.ascontiguousarray(data[:, int(channel)])
    elif n_ch == 1:
        out = data[:, 0].copy()
    else:
        out = np.ascontiguousarray(data.T)
    logger.info(
        "%s: %d channel(s), %.3f s at %g Hz", path.name, n_ch, data.shape[0] / sfreq, sfreq
    )
    return out, float(sfreq)


@fill_doc
@verbose
def write_audio(
    path: str | os.PathLike,
    samples: np.ndarray,
    sfreq: float,
    *,
    subtype: str | None = None,
    verbose=None,
) -> Path:
    """Write samples (1-D, or ``(n_channels, n_samples)``) to WAV/FLAC atomically.

    Parameters
    ----------
    path : path-like
        Output file; the suffix picks the container (``.wav``, ``.flac``…).
    samples : numpy.ndarray
        Samples, in [-1, 1] for integer (PCM) subtypes; integer arrays are scaled by their
        dtype first (int16 / 32768...), NaN/inf are refused.
    sfreq : float
        Sampling rate in Hz (must be an integer number of Hz: audio containers store ints).
    subtype : str | None
        The libsndfile subtype; default ``'FLOAT'`` for WAV (lossless round trip of float
        samples) and ``'PCM_24'`` for FLAC.
    %(verbose)s

    Returns
    -------
    path : pathlib.Path
        The written file.

    See Also
    --------
    read_audio : The matching reader.
    """
    import soundfile as sf

    check_positive("sfreq", sfreq)
    if float(sfreq) != int(sfreq):
        raise ValueError(f"sfreq must be a whole number of Hz for an audio file; got {sfreq}")
    path = Path(path)
    x = audio_as_float(samples, f"samples for {path}")  # integer PCM scaled by its dtype
    if x.ndim == 2:
        x = x.T
    elif x.ndim != 1:
        raise ValueError(f"samples must be 1-D or (n_channels, n_samples); got shape {x.shape}")
    if x.shape[0] == 0:
        raise ValueError(f"samples are empty; nothing to write to {path}")
    if not np.isfinite(x).all():
        raise ValueError(f"samples contain NaN or inf; cannot write {path}")
    fmt = path.suffix.lstrip(".").upper()
    if subtype is None:
        subtype = "PCM_24" if fmt == "FLAC" else "FLOAT"
    if subtype.startswith("PCM") and np.abs(x).max() > 1:
        raise ValueError(
            f"samples exceed [-1, 1] (max |x| = {np.abs(x).max():.3g}); they would clip in "
            f"subtype {subtype!r}: scale them or use subtype='FLOAT' (WAV)"
        )
    tmp, final = atomic_path(path)
    try:
        sf.write(str(tmp), x, int(sfreq), subtype=subtype, format=fmt or None)
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    logger.info("wrote %s (%s, %d samples at %g Hz)", final, subtype, x.shape[0], sfreq)
    return final


def audio_for(audio, ids, audio_channels):
    """Return {pid: (samples, sfreq)} from the many accepted forms of ``audio``."""
    if audio is None:
        return {}
    if isinstance(audio, str | os.PathLike):
        x, sf = read_audio(audio)
        if x.ndim == 1:
            raise ValueError(
                f"{audio}: one mono audio file for two participants; give one file per "
                "participant (audio=[a1, a2]) or a multi-channel file (a channel each)"
            )
        if audio_channels is None and x.shape[0] > len(ids):
            raise ValueError(
                f"{audio}: {x.shape[0]}-channel audio for {len(ids)} participants: which "
                f"channel is whose microphone? pass audio_channels={{{ids[0]!r}: <index>, "
                f"{ids[1]!r}: <index>}} (0-based)"
            )
        chans = audio_channels or {pid: k for k, pid in enumerate(ids)}
        missing = [pid for pid in ids if pid not in chans]
        if missing:
            raise ValueError(
                f"{audio}: audio_channels={dict(chans)!r} gives no channel for participant(s) "
                f"{missing}; give one 0-based channel index per participant id {list(ids)}"
            )
        out = {}
        for pid in ids:
            k = chans[pid]
            if not 0 <= k < x.shape[0]:
                raise ValueError(
                    f"{audio}: audio_channels[{pid!r}]={k} but the file has {x.shape[0]} channels"
                )
            out[pid] = (x[k], sf, f"{audio} channel {k}")
        return out
    if isinstance(audio, Mapping):
        items = audio
        unknown = [k for k in items if k not in ids]
        if unknown:
            raise ValueError(
                f"audio has keys {unknown} that are not participant ids {ids}; key the mapping "
                "by participant id ({id: file}) or pass participant_ids"
            )
    else:
        audio = list(audio)
        if len(audio) != 2:
            raise ValueError(f"audio must list 2 entries (one per participant); got {len(audio)}")
        items = dict(zip(ids, audio))
    out = {}
    for pid, a in items.items():
        if a is None:
            continue
        if isinstance(a, str | os.PathLike):
            ch = None if audio_channels is None else audio_channels.get(pid)
            x, sf = read_audio(a, channel=ch)
            src = str(a) if ch is None else f"{a} channel {ch}"
            x = audio_as_float(x, f"{src} (audio of {pid!r})")
            if x.ndim != 1:
                raise ValueError(
                    f"{a}: {x.shape[0]}-channel audio for participant {pid!r}; pass "
                    f"audio_channels={{{pid!r}: <channel index>}}"
                )
        elif isinstance(a, tuple) and len(a) == 2:
            if a[1] is None or not np.isfinite(float(a[1])) or float(a[1]) <= 0:
                raise ValueError(
                    f"audio for {pid!r}: missing or invalid sampling rate {a[1]!r}; give "
                    "(samples, sfreq) with sfreq in Hz"
                )
            x, sf = audio_as_float(a[0], f"audio for {pid!r}"), float(a[1])
            src = "the given array"
            if x.ndim != 1 or x.size == 0:
                raise ValueError(
                    f"audio for {pid!r} must be a non-empty 1-D array; got shape {x.shape}"
                )
        else:
            raise TypeError(
                f"audio for {pid!r} must be a path or a (samples, sfreq) tuple; got "
                f"{type(a).__name__}"
            )
        out[pid] = (x, sf, src)
    return out
