"""DSP primitives of the acoustic features: mel filters, windows, filters, F0, spectra."""

from __future__ import annotations

import numpy as np

from ..utils._signal import resample_poly_to

P_REF = 2e-5  # Pa, reference pressure of dB SPL
N_MFCC = 13


def _frames(xp: np.ndarray, starts: np.ndarray, n_win: int) -> np.ndarray:
    """Frames ``(len(starts), n_win)`` of the padded signal ``xp`` (fancy indexing)."""
    return xp[starts[:, None] + np.arange(n_win)[None, :]]


def _hz_to_mel(f):
    """Slaney mel scale (linear below 1 kHz, logarithmic above), as librosa's default."""
    f = np.asarray(f, float)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(
        f >= min_log_hz,
        min_log_mel + np.log(np.maximum(f, min_log_hz) / min_log_hz) / logstep,
        f / f_sp,
    )


def _mel_to_hz(m):
    m = np.asarray(m, float)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


def mel_filterbank(sr: float, n_fft: int, n_mels: int = 80, *, fmin: float = 0.0, fmax=None):
    """Triangular Slaney-normalized mel filters ``(n_mels, n_fft // 2 + 1)``.

    Identical to ``librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin,
    fmax=fmax)`` (Slaney scale and area normalization), without importing librosa.
    """
    fmax = sr / 2 if fmax is None else fmax
    fft_f = np.linspace(0, sr / 2, n_fft // 2 + 1)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_f[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    w = np.maximum(0, np.minimum(lower, upper))
    return w * (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, None]


def _windowed_at(x2: np.ndarray, centres: np.ndarray, hop: float, w: np.ndarray) -> np.ndarray:
    """``sum_j w[j] x2[c + len(w)//2 - j]`` at each frame centre ``c`` (zero outside).

    With an integer hop the filter is evaluated at the centres only (polyphase
    ``upfirdn``); otherwise a full FFT convolution is sampled at the centres.
    """
    from scipy.signal import fftconvolve, upfirdn

    half = len(w) // 2
    if float(hop).is_integer():
        down = int(hop)
        q = -(-half // down)  # ceil(half / down)
        # front zero padding P = q * down - half aligns output q with the first centre
        y = upfirdn(w, np.pad(x2, (q * down - half, 0)), up=1, down=down)[q:]
        out = np.zeros(len(centres))
        n = min(len(y), len(centres))
        out[:n] = y[:n]
        return out
    return fftconvolve(x2, w, mode="same")[centres]


def _lowpass(sig: np.ndarray, cutoff: float, fs: float, axis: int = -1) -> np.ndarray:
    from scipy.signal import butter, sosfiltfilt

    if cutoff >= fs / 2:
        return sig
    sos = butter(4, cutoff / (fs / 2), output="sos")
    padlen = min(sig.shape[axis] - 1, 3 * 9)
    if padlen < 1:
        return sig
    return sosfiltfilt(sos, sig, axis=axis, padlen=padlen)


def _resample(sig: np.ndarray, fs_in: float, fs_out: float, axis: int = -1) -> np.ndarray:
    """Anti-aliased polyphase resampling (the package's one resampler, ``padtype='line'``)."""
    return resample_poly_to(sig, fs_in, fs_out, axis=axis, max_denominator=1000, padtype="line")[0]


def _f0_track(
    x: np.ndarray,
    sr: float,
    n_frames: int,
    frame_rate: float,
    *,
    method: str,
    fmin: float,
    fmax: float,
    regions: np.ndarray | None,
) -> np.ndarray:
    """F0 (Hz, NaN unvoiced) on the frame grid, over ``regions`` (s) or the whole channel."""
    f0 = np.full(n_frames, np.nan)
    if regions is None:
        regions = np.array([[0.0, len(x) / sr]])
    hop_s = 1.0 / frame_rate
    for t0, t1 in regions:
        a0, a1 = int(max(0, np.floor(t0 * sr))), int(min(len(x), np.ceil(t1 * sr)))
        seg = x[a0:a1]
        if len(seg) < int(3.0 / fmin * sr) + 1:
            continue  # too short for even one pitch period analysis window: stays NaN
        if method == "praat":
            import parselmouth

            snd = parselmouth.Sound(seg, sampling_frequency=sr, start_time=a0 / sr)
            pitch = snd.to_pitch_ac(time_step=hop_s, pitch_floor=fmin, pitch_ceiling=fmax)
            vals = pitch.selected_array["frequency"].astype(float)
            times = np.asarray(pitch.xs(), float)
            vals[vals <= 0] = np.nan
        else:
            import librosa

            frame_length = int(2 ** np.ceil(np.log2(2.5 / fmin * sr)))
            hop = int(round(sr / frame_rate))
            vals, _, _ = librosa.pyin(
                seg, fmin=fmin, fmax=fmax, sr=sr, frame_length=frame_length, hop_length=hop,
                center=True,
            )  # fmt: skip
            times = a0 / sr + np.arange(len(vals)) * hop / sr
        idx = np.rint(times * frame_rate).astype(int)
        ok = (idx >= 0) & (idx < n_frames)
        f0[idx[ok]] = vals[ok]
    return f0


def _power_spectrum(x: np.ndarray, sr: float, hop: float, n_frames: int, n_mels: int):
    """Short-time power (25 ms Hann window, FFT zero padded to a power of 2), log-mel, MFCCs.

    Returns ``(power (n_freqs, n_frames), freqs, logmel (n_mels, n_frames) dB re P_REF,
    mfcc (N_MFCC, n_frames))``; frame ``k`` is centred at sample ``round(k * hop)``.
    """
    from scipy.fft import dct, rfft, rfftfreq

    n_win = int(round(0.025 * sr))
    n_fft = int(2 ** np.ceil(np.log2(n_win)))
    win = np.hanning(n_win + 2)[1:-1]
    power = np.empty((n_fft // 2 + 1, n_frames))
    half = n_win // 2
    xp = np.pad(x, (half, n_win))
    # frame k centred at sample round(k * hop): no drift when hop is not an integer
    starts = np.rint(np.arange(n_frames) * hop).astype(int)
    step = 4096  # frames per block keeps memory bounded on long recordings
    for b0 in range(0, n_frames, step):
        fr = _frames(xp, starts[b0 : b0 + step], n_win)
        blk = (np.abs(rfft(fr * win, n=n_fft, axis=1)) ** 2).T / win.sum() ** 2
        power[:, b0 : b0 + step] = blk
    freqs = rfftfreq(n_fft, 1 / sr)
    fb = mel_filterbank(sr, n_fft, n_mels, fmax=min(8000.0, sr / 2))
    logmel = 10 * np.log10(np.maximum(fb @ power, 1e-20) / P_REF**2)
    mfcc = dct(logmel, type=2, axis=0, norm="ortho")[1 : N_MFCC + 1]
    return power, freqs, logmel, mfcc
