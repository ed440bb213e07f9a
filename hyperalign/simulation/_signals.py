"""Signal generators: 1/f background, band-limited noise, speech envelopes and audio."""

from __future__ import annotations

import warnings

import numpy as np

EEG32 = [
    "Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "FC5", "FC1", "FC2", "FC6", "T7", "C3", "Cz",
    "C4", "T8", "TP9", "CP5", "CP1", "CP2", "CP6", "TP10", "P7", "P3", "Pz", "P4", "P8",
    "PO9", "O1", "Oz", "O2", "PO10",
]  # fmt: skip
#: order in which EEG channels are kept when fewer than 32 are asked for
EEG_PRIORITY = [
    "Fz", "Cz", "T7", "T8", "FC1", "FC2", "Pz", "Oz", "C3", "C4", "F3", "F4", "CP1", "CP2",
    "FC5", "FC6", "P3", "P4", "O1", "O2", "F7", "F8", "CP5", "CP6", "Fp1", "Fp2", "P7", "P8",
    "TP9", "TP10", "PO9", "PO10",
]  # fmt: skip
EEG_ROIS = {
    "coupling": ["Fz", "FC1", "FC2", "F3", "F4", "Cz", "AFz", "FCz", "F1", "F2"],
    "entrainment": ["T7", "T8", "C3", "C4", "FC5", "FC6", "CP5", "CP6", "TP9", "TP10"],
    "word": ["Pz", "CP1", "CP2", "P3", "P4", "CPz", "POz"],
}


def standard_montage():
    """MNE's 10-20 montage: ``colin27_1020`` (MNE >= 1.13), else ``standard_1020``.

    The two are the same positions under two names; the old name is deprecated in MNE 1.13
    (MNE then prints a deprecation note on stdout) and removed in 1.14.
    """
    import mne

    if "colin27_1020" in mne.channels.get_builtin_montages():
        return mne.channels.make_standard_montage("colin27_1020")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return mne.channels.make_standard_montage("standard_1020")


def eeg_channel_names(n_channels: int) -> list[str]:
    """``n_channels`` names of the 10-20 system (a 32-channel cap first)."""
    if n_channels <= 32:
        keep = set(EEG_PRIORITY[:n_channels])
        return [c for c in EEG32 if c in keep]
    extra = [
        c
        for c in standard_montage().ch_names
        if c not in EEG32 and c not in ("T3", "T4", "T5", "T6", "M1", "M2", "A1", "A2")
    ]
    if n_channels > 32 + len(extra):
        raise ValueError(
            f"n_channels must be <= {32 + len(extra)} for ch_type='eeg' (standard_1020 "
            f"positions); got {n_channels}"
        )
    return EEG32 + extra[: n_channels - 32]


def fft_noise(rng, n_series: int, n_times: int, sfreq: float, psd) -> np.ndarray:
    """Gaussian noise with power spectrum ``psd(freqs)`` (unit variance per series)."""
    freqs = np.fft.rfftfreq(n_times, 1.0 / sfreq)
    amp = np.sqrt(np.maximum(psd(freqs), 0.0))
    spec = rng.standard_normal((n_series, freqs.size)) + 1j * rng.standard_normal(
        (n_series, freqs.size)
    )
    x = np.fft.irfft(spec * amp, n=n_times, axis=-1)
    sd = x.std(axis=-1, keepdims=True)
    return x / np.where(sd > 0, sd, 1.0)


def band_noise(rng, n_series: int, n_times: int, sfreq: float, band) -> np.ndarray:
    """Unit-variance noise with a flat spectrum inside ``band`` (Hz), cosine edges."""
    lo, hi = band
    edge = max(0.15 * (hi - lo), 0.5)

    def psd(f):
        g = ((f >= lo) & (f <= hi)).astype(float)
        ramp_lo = (f > lo - edge) & (f < lo)
        ramp_hi = (f > hi) & (f < hi + edge)
        g[ramp_lo] = np.sin(0.5 * np.pi * (f[ramp_lo] - lo + edge) / edge) ** 2
        g[ramp_hi] = np.cos(0.5 * np.pi * (f[ramp_hi] - hi) / edge) ** 2
        return g

    return fft_noise(rng, n_series, n_times, sfreq, psd)


def fft_bandpass(x: np.ndarray, sfreq: float, band) -> np.ndarray:
    """Zero-phase band-pass by FFT masking with cosine edges (last axis)."""
    lo, hi = band
    n = x.shape[-1]
    f = np.fft.rfftfreq(n, 1.0 / sfreq)
    edge = max(0.15 * (hi - lo), 0.5)
    g = ((f >= lo) & (f <= hi)).astype(float)
    r1 = (f > lo - edge) & (f < lo)
    r2 = (f > hi) & (f < hi + edge)
    g[r1] = np.sin(0.5 * np.pi * (f[r1] - lo + edge) / edge) ** 2
    g[r2] = np.cos(0.5 * np.pi * (f[r2] - hi) / edge) ** 2
    return np.fft.irfft(np.fft.rfft(x, axis=-1) * g, n=n, axis=-1)


def shift(x: np.ndarray, n: int) -> np.ndarray:
    """Delay ``x`` by ``n >= 0`` samples along the last axis (zeros shifted in)."""
    if n <= 0:
        return x.copy()
    out = np.zeros_like(x)
    out[..., n:] = x[..., :-n]
    return out


def tukey_gain(n_times: int, sfreq: float, onsets, offsets, amps, alpha=0.3) -> np.ndarray:
    """Sum of Tukey-tapered boxcars (``amps``) over ``[onset, offset]`` windows."""
    g = np.zeros(n_times)
    for on, off, a in zip(onsets, offsets, amps):
        i0, i1 = int(np.ceil(on * sfreq)), min(int(np.floor(off * sfreq)) + 1, n_times)
        if i1 - i0 < 2 or a == 0:
            continue
        x = np.linspace(0.0, 1.0, i1 - i0)
        w = np.ones_like(x)
        e = alpha / 2
        m = x < e
        w[m] = 0.5 * (1 - np.cos(np.pi * x[m] / e))
        m = x > 1 - e
        w[m] = 0.5 * (1 - np.cos(np.pi * (1 - x[m]) / e))
        g[i0:i1] += a * w
    return g


def syllable_envelope(n_times: int, sfreq: float, words) -> np.ndarray:
    """Speech amplitude envelope: one sin² bump per syllable inside every word.

    ``words`` is an iterable of ``(onset, offset, n_syllables, amplitude)``.
    """
    env = np.zeros(n_times)
    for on, off, ns, a in words:
        i0, i1 = int(np.ceil(on * sfreq)), min(int(np.floor(off * sfreq)) + 1, n_times)
        if i1 <= i0:
            continue
        x = (np.arange(i0, i1) / sfreq - on) / (off - on) * ns
        env[i0:i1] += a * np.sin(np.pi * x) ** 2
    return env


def harmonic_speech(rng, n_audio: int, sfreq: float, utts, words_by_utt) -> np.ndarray:
    """Speech-like audio of one talker.

    ``utts``: rows ``(onset, offset, f0_mean, intensity_db, key)``; ``words_by_utt[key]``:
    rows ``(onset, offset, n_syllables)``. The source is a harmonic complex (1/k amplitudes)
    on a declining F0 contour (+1.5 to -1.5 semitones around ``f0_mean``, the utterance's
    geometric mean F0), shaped by the syllable envelope and scaled so that the RMS over
    ``[onset, offset]`` is ``2e-5 * 10 ** (intensity_db / 20)``.
    """
    y = np.zeros(n_audio)
    for on, off, f0, db, key in utts:
        i0, i1 = int(np.ceil(on * sfreq)), min(int(np.floor(off * sfreq)) + 1, n_audio)
        if i1 - i0 < 2:
            continue
        t = np.arange(i0, i1) / sfreq
        x = (t - on) / max(off - on, 1e-3)
        jitter = 0.15 * np.sin(2 * np.pi * rng.uniform(0.5, 1.5) * t + rng.uniform(0, 6.3))
        st = 1.5 - 3.0 * x + jitter
        f = f0 * 2.0 ** (st / 12.0)
        phase = 2 * np.pi * np.cumsum(f) / sfreq
        n_h = int(max(1, min(12, np.floor(0.45 * sfreq / f.max()))))
        src = np.zeros_like(t)
        for k in range(1, n_h + 1):
            src += np.sin(k * phase) / k
        env = np.zeros_like(t)
        for w_on, w_off, ns in words_by_utt[key]:
            m = (t >= w_on) & (t <= w_off)
            xx = (t[m] - w_on) / (w_off - w_on) * ns
            env[m] = 0.1 + 0.9 * np.sin(np.pi * xx) ** 2
        seg = src * env
        rms = np.sqrt(np.mean(seg**2))
        if rms > 0:
            y[i0:i1] += seg * (2e-5 * 10 ** (db / 20.0) / rms)
    return y


def spkit_background(rng, n_series: int, n_times: int, sfreq: float) -> np.ndarray:
    """Real EEG background: random 2-s segments of ``spkit``'s 14-channel sample, tiled.

    Segments are resampled to ``sfreq``, demeaned, cross-faded and each series is scaled to
    unit variance.
    """
    try:
        import spkit
    except ImportError as err:
        raise ImportError(
            "background='spkit' needs the spkit package (pip install spkit); or use "
            "background='1/f'"
        ) from err
    from ..utils._signal import resample_poly_to

    data, fs, _ = spkit.data.eeg_sample_14ch()
    data = np.asarray(data, float).T  # (14, n)
    data = fft_bandpass(data - data.mean(axis=1, keepdims=True), fs, (0.5, min(45.0, fs / 2 - 1)))
    data, _ = resample_poly_to(data, fs, sfreq, axis=1, max_denominator=1000)
    seg = int(round(2.0 * sfreq))
    fade = max(int(round(0.25 * sfreq)), 1)
    hop = seg - fade
    n_seg = int(np.ceil((n_times - fade) / hop)) + 1
    ramp = np.sin(0.5 * np.pi * np.arange(fade) / fade) ** 2
    win = np.ones(seg)
    win[:fade] = ramp
    win[-fade:] = ramp[::-1]
    out = np.zeros((n_series, n_seg * hop + fade))
    starts = rng.integers(0, data.shape[1] - seg, size=(n_series, n_seg))
    chans = rng.integers(0, data.shape[0], size=(n_series, n_seg))
    for j in range(n_seg):
        idx = starts[:, j, None] + np.arange(seg)
        piece = data[chans[:, j, None], idx]
        piece = piece - piece.mean(axis=1, keepdims=True)
        out[:, j * hop : j * hop + seg] += piece * win
    out = out[:, :n_times]
    return out / out.std(axis=1, keepdims=True)
