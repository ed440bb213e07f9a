"""Acoustic predictors from each speaker's own microphone.

Per utterance, per word, or as time series at the neural sampling rate:

* **envelope**: broadband amplitude envelope (Hilbert magnitude, or frame RMS), low-passed
  (``env_lowpass``, default 30 Hz), optionally log-compressed;
* **log-mel**: ``n_mels`` (default 80) log-mel band energies (dB) on a 10 ms frame grid;
* **F0**: fundamental frequency (Hz) from Praat's autocorrelation method through
  parselmouth (default) or librosa's pYIN, unvoiced frames NaN;
* **intensity**: Praat-like intensity in dB (mean square of the DC-free signal under a
  Kaiser-20 window of physical length ``6.4 / pitch_floor``, re 2e-5 Pa, i.e. the audio is
  taken to be in pascal; differences in dB are independent of that calibration);
* **speech rate**: words/s from the transcript and syllables/s from peaks of the
  10 Hz-smoothed envelope (syllable nuclei, as in de Jong & Wempe, 2009);
* **pauses**: silent runs (intensity more than ``silence_db`` below the channel's
  99th-percentile intensity, Praat's "silence threshold") of at least ``min_pause`` seconds
  strictly inside the utterance;
* **spectral shape**: spectral centroid (Hz), spectral slope (dB/octave, 100 Hz-5 kHz) and
  MFCCs 1-13 (c0, the energy term, is left out) of the non-silent frames.

Every feature is computed once per microphone on one frame grid (hop ``1 / frame_rate``;
frame ``k`` is centred at ``k / frame_rate`` s on the dyad clock) and aggregated over word
or utterance spans with cumulative sums (vectorized).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import pandas as pd

from ..dyad import SILENCE_DBFS
from ..utils import check_option, check_positive, logger, verbose

P_REF = 2e-5  # Pa, reference pressure of dB SPL
MIN_AUDIO_SFREQ = 8000.0
TIMESERIES_FEATURES = ("envelope", "logmel", "f0", "intensity")
N_MFCC = 13

__all__ = [
    "compute_acoustic_features",
    "compute_acoustic_timeseries",
    "AcousticError",
    "TIMESERIES_FEATURES",
    "check_audio_levels",
]


class AcousticError(ValueError):
    """Audio and transcript do not fit together (missing audio, wrong rate, empty spans)."""


# ---------------------------------------------------------------------- audio checks
def _as_float_audio(audio: np.ndarray, pid: str) -> np.ndarray:
    """Float samples, integer PCM scaled by its dtype (one convention: ``audio_as_float``)."""
    from ..dyad import audio_as_float

    try:
        return audio_as_float(audio, f"audio of participant {pid!r}")
    except (TypeError, ValueError) as err:
        raise AcousticError(str(err)) from None


def _get_audio(dyad, pid: str) -> tuple[np.ndarray, float]:
    """Return ``(audio, audio_sfreq)`` of ``pid`` after checking it against the dyad."""
    p = dyad[pid]
    if p.audio is None:
        raise AcousticError(
            f"participant {pid!r} of dyad {dyad.dyad_id!r} has no audio; pass the speaker's "
            "own microphone as Participant(audio=<1-D array>, audio_sfreq=<Hz>)"
        )
    sr = float(p.audio_sfreq)
    if sr < MIN_AUDIO_SFREQ:
        raise AcousticError(
            f"audio_sfreq of participant {pid!r} is {sr:g} Hz; acoustic features need at "
            f">= {MIN_AUDIO_SFREQ:g} Hz (F0 up to 500 Hz, 80 mel bands up to 4 kHz). Check "
            "that audio_sfreq is the microphone rate (e.g. 16000 or 44100)"
        )
    dur_audio = len(p.audio) / sr
    dur_neural = dyad.duration
    if dur_audio > 1.5 * dur_neural + 1.0:
        raise AcousticError(
            f"audio of participant {pid!r} lasts {dur_audio:.2f} s at audio_sfreq={sr:g} Hz, "
            f"far longer than the neural recordings ({dur_neural:.2f} s): audio_sfreq is "
            f"probably wrong (at {len(p.audio) / dur_neural:.0f} Hz it would last "
            f"{dur_neural:.2f} s); pass the true microphone rate or crop the audio"
        )
    if dyad.transcript is not None and dyad.transcript.n_words:
        w = dyad.transcript.words
        w = w[w["speaker"] == pid]
        if len(w) and w["offset"].max() > dur_audio + 1e-6:
            n_past = int((w["offset"] > dur_audio + 1e-6).sum())
            raise AcousticError(
                f"audio of participant {pid!r} lasts {dur_audio:.3f} s (at audio_sfreq="
                f"{sr:g} Hz) but the transcript has {n_past} word(s) of {pid!r} ending after "
                f"it (last offset {w['offset'].max():.3f} s): the audio is shorter than the "
                "transcript; give the full audio, check audio_sfreq, or crop the transcript"
            )
    return _as_float_audio(p.audio, pid), sr


def check_audio_levels(dyad, *, max_diff_db: float = 30.0, participants=None) -> dict[str, float]:
    """Warn about a silent microphone, or two microphones far apart in level.

    The level of a microphone is the 95th percentile of its 50-ms frame RMS (dB re full
    scale, :func:`hyperalign.dyad.audio_level_db`). A microphone below
    :data:`~hyperalign.dyad.SILENCE_DBFS` is silent; two microphones whose levels differ by
    more than ``max_diff_db`` point to a gain or scaling error (e.g. integer samples stored
    as floats). Each case gives a :class:`RuntimeWarning` naming the participant.

    Parameters
    ----------
    dyad : Dyad
        Participants with ``audio``.
    max_diff_db : float
        Largest level difference (dB) between the two microphones that passes silently.
    participants : sequence of str | None
        Warn about a silent microphone only for these ids (e.g. those who speak); default
        every participant with audio.

    Returns
    -------
    dict
        ``{participant id: level in dB}`` for the participants with audio.

    See Also
    --------
    compute_acoustic_features : calls this for the participants who speak.
    hyperalign.dyad.audio_level_db
    """
    import warnings

    from ..dyad import SILENCE_DBFS, audio_as_float, audio_level_db

    levels = {}
    for p in dyad.participants:
        if p.audio is None:
            continue
        try:
            x = audio_as_float(p.audio, f"audio of participant {p.id!r}")
        except (TypeError, ValueError):
            continue  # unusable samples: the feature step names them
        levels[p.id] = audio_level_db(x, p.audio_sfreq)
    for pid, lev in levels.items():
        if participants is not None and pid not in participants:
            continue
        if not lev > SILENCE_DBFS:
            msg = (
                f"dyad {dyad.dyad_id!r}: the microphone of participant {pid!r} is silent (level "
                f"{lev:.1f} dB re full scale, below {SILENCE_DBFS:g} dB): its utterances get NaN "
                "acoustic features and similarity (counted in dyad.exclusions); check the "
                "microphone or the audio channel"
            )
            logger.warning(msg)
            warnings.warn(msg, RuntimeWarning, stacklevel=3)
    live = {k: v for k, v in levels.items() if v > SILENCE_DBFS}
    if len(live) == 2:
        (a, la), (b, lb) = sorted(live.items(), key=lambda kv: kv[1])
        if lb - la > max_diff_db:
            msg = (
                f"dyad {dyad.dyad_id!r}: the microphone of participant {b!r} is {lb - la:.1f} dB "
                f"louder than that of {a!r} ({lb:.1f} vs {la:.1f} dB re full scale; more than "
                f"max_level_diff_db={max_diff_db:g}): check the gain and the scaling of both "
                "(integer samples stored as floats read 90 dB too loud)"
            )
            logger.warning(msg)
            warnings.warn(msg, RuntimeWarning, stacklevel=3)
    return levels


# ---------------------------------------------------------------------- frame features
@dataclass
class _Channel:
    """Frame-wise features of one microphone (frame k centred at k / frame_rate)."""

    frame_rate: float
    n_frames: int
    envelope: np.ndarray  # (n_frames,) low-passed envelope (linear, audio units)
    env_syll: np.ndarray  # (n_frames,) 10 Hz-smoothed envelope for syllable nuclei
    ms: np.ndarray  # (n_frames,) Praat-like mean square (Pa^2)
    intensity: np.ndarray  # (n_frames,) dB re P_REF
    logmel: np.ndarray  # (n_mels, n_frames) dB
    power: np.ndarray | None  # (n_freqs, n_frames) power spectrum
    freqs: np.ndarray
    mfcc: np.ndarray  # (N_MFCC, n_frames) coefficients 1..13
    f0: np.ndarray  # (n_frames,) Hz, NaN unvoiced / not analysed
    silent: np.ndarray  # (n_frames,) bool
    dead: np.ndarray  # (n_frames,) bool: below SILENCE_DBFS (no signal at all)
    syll_peak: np.ndarray  # (n_frames,) bool, syllable nuclei
    info: dict = field(default_factory=dict)


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


def mel_filterbank(sr: float, n_fft: int, n_mels: int = 80, fmin: float = 0.0, fmax=None):
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
    """Anti-aliased polyphase resampling (``scipy.signal.resample_poly``)."""
    from scipy.signal import resample_poly

    if np.isclose(fs_in, fs_out):
        return sig
    frac = Fraction(fs_out / fs_in).limit_denominator(1000)
    return resample_poly(sig, frac.numerator, frac.denominator, axis=axis, padtype="line")


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


def _speech_regions(utt: pd.DataFrame, pad: float = 0.1) -> np.ndarray:
    """Merged ``[onset - pad, offset + pad]`` spans of utterances (s), shape (n, 2)."""
    if not len(utt):
        return np.zeros((0, 2))
    spans = np.c_[utt["onset"].to_numpy(float) - pad, utt["offset"].to_numpy(float) + pad]
    spans = spans[np.argsort(spans[:, 0])]
    out = [list(spans[0])]
    for a, b in spans[1:]:
        if a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return np.clip(np.array(out), 0, None)


def _channel_features(
    x: np.ndarray,
    sr: float,
    *,
    frame_rate: float = 100.0,
    n_mels: int = 80,
    f0_method: str = "praat",
    f0_min: float = 75.0,
    f0_max: float = 500.0,
    f0_regions: np.ndarray | None = None,
    envelope: str = "hilbert",
    env_lowpass: float = 30.0,
    silence_db: float = 25.0,
    syllable_prominence_db: float = 2.0,
    need: tuple[str, ...] = ("envelope", "logmel", "f0", "intensity", "spectral"),
) -> _Channel:
    """Compute every frame-wise feature of one microphone signal ``x`` (float, 1-D)."""
    from scipy.fft import dct, rfft, rfftfreq
    from scipy.signal import find_peaks
    from scipy.signal.windows import kaiser

    x = x - x.mean()
    hop = sr / frame_rate
    n_frames = int(np.floor(len(x) / hop)) + 1
    info = {"frame_rate": frame_rate, "audio_sfreq": sr, "n_frames": n_frames}
    centres = np.minimum(np.rint(np.arange(n_frames) * hop).astype(int), len(x) - 1)

    # Praat-like intensity: x^2 under a Kaiser-20 window of physical length 6.4 / pitch floor
    n_kw = int(round(6.4 / f0_min * sr)) | 1
    kw = kaiser(n_kw, 20.0)
    kw /= kw.sum()
    x2 = x * x
    ms = np.maximum(_windowed_at(x2, centres, hop, kw), 1e-20)
    intensity = 10 * np.log10(ms / P_REF**2)
    # silence/pauses from a short (25 ms) window so that pause edges are not smeared
    n_sw = int(round(0.025 * sr)) | 1
    sw = kaiser(n_sw, 20.0)
    sw /= sw.sum()
    short_db = 10 * np.log10(np.maximum(_windowed_at(x2, centres, hop, sw), 1e-20))
    ref = np.percentile(short_db, 99) if n_frames else 0.0
    # a frame below the absolute floor holds no signal at all (a dead or muted microphone):
    # silent whatever the channel's own reference level is
    dead = short_db < SILENCE_DBFS
    silent = (short_db < ref - silence_db) | dead

    # envelope
    if envelope == "hilbert":
        from scipy.fft import next_fast_len
        from scipy.signal import hilbert

        n_fft = next_fast_len(len(x))
        env_full = np.abs(hilbert(x, N=n_fft)[: len(x)])
        env = _resample(env_full, sr, frame_rate)
    else:
        env = np.sqrt(ms)
    if len(env) >= n_frames:
        env = env[:n_frames]
    else:
        env = np.pad(env, (0, n_frames - len(env)), mode="edge")
    env = np.maximum(_lowpass(env, env_lowpass, frame_rate), 0.0)
    env_syll = np.maximum(_lowpass(env, 10.0, frame_rate), 1e-12)

    # syllable nuclei: envelope peaks, prominence >= 2 dB, >= 0.1 s apart, not in silence
    env_db = 20 * np.log10(env_syll)
    peaks, _ = find_peaks(
        env_db, prominence=syllable_prominence_db, distance=max(1, int(0.1 * frame_rate))
    )
    syll_peak = np.zeros(n_frames, bool)
    syll_peak[peaks[~silent[peaks]]] = True

    # short-time power spectrum (25 ms Hann window, FFT zero padded to a power of 2)
    logmel = np.zeros((n_mels, 0))
    mfcc = np.zeros((N_MFCC, 0))
    power = None
    freqs = np.zeros(0)
    if "logmel" in need or "spectral" in need:
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

    f0 = np.full(n_frames, np.nan)
    if "f0" in need:
        f0 = _f0_track(
            x, sr, n_frames, frame_rate, method=f0_method, fmin=f0_min, fmax=f0_max,
            regions=f0_regions,
        )  # fmt: skip
    return _Channel(
        frame_rate=frame_rate,
        n_frames=n_frames,
        envelope=env,
        env_syll=env_syll,
        ms=ms,
        intensity=intensity,
        logmel=logmel,
        power=power,
        freqs=freqs,
        mfcc=mfcc,
        f0=f0,
        silent=silent,
        dead=dead,
        syll_peak=syll_peak,
        info=info,
    )


# ---------------------------------------------------------------------- span aggregation
def _span_index(onset: np.ndarray, offset: np.ndarray, ch: _Channel) -> tuple[np.ndarray, ...]:
    """Frame index ranges ``[i0, i1)`` of frames centred inside ``[onset, offset)``."""
    i0 = np.clip(np.ceil(onset * ch.frame_rate - 1e-9).astype(int), 0, ch.n_frames)
    i1 = np.clip(np.ceil(offset * ch.frame_rate - 1e-9).astype(int), 0, ch.n_frames)
    return i0, np.maximum(i1, i0)


def _span_sum(values: np.ndarray, i0: np.ndarray, i1: np.ndarray) -> np.ndarray:
    """Sum of ``values[..., i0:i1]`` for every span, via a cumulative sum (last axis)."""
    cs = np.concatenate([np.zeros(values.shape[:-1] + (1,)), np.cumsum(values, -1)], -1)
    return cs[..., i1] - cs[..., i0]


def _nan_mean_sd(values, i0, i1):
    ok = np.isfinite(values)
    v = np.where(ok, values, 0.0)
    n = _span_sum(ok.astype(float), i0, i1)
    s = _span_sum(v, i0, i1)
    s2 = _span_sum(v * v, i0, i1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s / n
        var = (s2 - n * mean**2) / (n - 1)
    sd = np.sqrt(np.maximum(var, 0.0))
    mean[n == 0] = np.nan
    sd[n < 2] = np.nan
    return mean, sd, n


def _pauses(ch: _Channel, i0: np.ndarray, i1: np.ndarray, min_pause: float):
    """Count and mean length (s) of silent runs >= min_pause strictly inside each span."""
    s = ch.silent.astype(np.int8)
    d = np.diff(np.r_[0, s, 0])
    starts, ends = np.nonzero(d == 1)[0], np.nonzero(d == -1)[0]
    min_n = int(np.ceil(min_pause * ch.frame_rate - 1e-9))
    n_p = np.zeros(len(i0), int)
    mean_p = np.zeros(len(i0))
    lo = np.searchsorted(ends, i0, side="right")
    hi = np.searchsorted(starts, i1, side="left")
    for k in range(len(i0)):
        if hi[k] <= lo[k]:
            continue
        a, b = starts[lo[k] : hi[k]], ends[lo[k] : hi[k]]
        inner = (a > i0[k]) & (b < i1[k]) & (b - a >= min_n)
        if inner.any():
            n_p[k] = int(inner.sum())
            mean_p[k] = float((b - a)[inner].mean() / ch.frame_rate)
    return n_p, mean_p


def _aggregate(ch: _Channel, onset: np.ndarray, offset: np.ndarray, min_pause: float) -> dict:
    i0, i1 = _span_index(onset, offset, ch)
    n = (i1 - i0).astype(float)
    dur = offset - onset
    out: dict[str, np.ndarray] = {}
    out["n_frames"] = (i1 - i0).astype(int)
    with np.errstate(invalid="ignore", divide="ignore"):
        m, sd, _ = _nan_mean_sd(ch.envelope, i0, i1)
        out["env_mean"], out["env_sd"] = m, sd
        f0m, f0sd, nv = _nan_mean_sd(ch.f0, i0, i1)
        st = 12 * np.log2(ch.f0 / 100.0)
        stm, stsd, _ = _nan_mean_sd(st, i0, i1)
        out["f0_mean"], out["f0_sd"] = f0m, f0sd
        out["f0_mean_st"] = stm  # mean of frame semitones = 12 log2(geometric mean / 100)
        out["f0_sd_st"] = stsd
        out["voiced_prop"] = nv / n
        out["intensity_db"] = 10 * np.log10(_span_sum(ch.ms, i0, i1) / n / P_REF**2)
        nsyl = _span_sum(ch.syll_peak.astype(float), i0, i1)
        out["n_syllables"] = nsyl.astype(int)
        out["rate_sps"] = nsyl / dur
        npau, mpau = _pauses(ch, i0, i1, min_pause)
        out["n_pauses"], out["pause_mean"] = npau, mpau
        out["silence_prop"] = _span_sum(ch.silent.astype(float), i0, i1) / n
        out["mic_silent"] = (n > 0) & (_span_sum(ch.dead.astype(float), i0, i1) >= n)
        if ch.power is not None:
            voiced = (~ch.silent).astype(float)
            nv_s = _span_sum(voiced, i0, i1)
            # long-term average spectrum over the span's non-silent frames
            ltas = _span_sum(ch.power * voiced, i0, i1) / nv_s
            f = ch.freqs[:, None]
            out["spectral_centroid"] = (f * ltas).sum(0) / ltas.sum(0)
            band = (ch.freqs >= 100) & (ch.freqs <= min(5000.0, ch.freqs[-1]))
            lx = np.log2(ch.freqs[band])
            ly = 10 * np.log10(np.maximum(ltas[band], 1e-30))
            lxc = lx - lx.mean()
            out["spectral_slope"] = (lxc[:, None] * (ly - ly.mean(0))).sum(0) / (lxc**2).sum()
            mf = _span_sum(ch.mfcc * voiced, i0, i1) / nv_s
            for j in range(mf.shape[0]):
                out[f"mfcc{j + 1}"] = mf[j]
            bad = nv_s == 0
            for key in ["spectral_centroid", "spectral_slope"] + [
                f"mfcc{j + 1}" for j in range(mf.shape[0])
            ]:
                out[key] = np.where(bad, np.nan, out[key])
    return out


# ---------------------------------------------------------------------- public API
@verbose
def compute_acoustic_features(
    dyad,
    level: str = "utterance",
    *,
    f0_method: str = "praat",
    f0_min: float = 75.0,
    f0_max: float = 500.0,
    f0_scope: str = "speech",
    envelope: str = "hilbert",
    env_lowpass: float = 30.0,
    log_envelope: bool = False,
    n_mels: int = 80,
    frame_rate: float = 100.0,
    silence_db: float = 25.0,
    min_pause: float = 0.15,
    min_duration: float = 0.025,
    on_empty: str = "raise",
    sfreq: float | None = None,
    max_level_diff_db: float = 30.0,
    verbose: bool | str | int | None = None,
) -> pd.DataFrame:
    """Acoustic features of every utterance (or word) from the speaker's own microphone.

    Parameters
    ----------
    dyad : Dyad
        With a transcript and ``Participant.audio`` for every participant who speaks.
    level : ``'utterance'`` | ``'word'`` | ``'timeseries'``
        One row per utterance, per word, or (``'timeseries'``) one row per neural sample and
        participant with the own-microphone envelope, F0 and intensity at the neural rate
        (columns ``time, participant, envelope, f0, intensity``; see
        :func:`compute_acoustic_timeseries`).
    f0_method : ``'praat'`` | ``'pyin'``
        Praat's autocorrelation pitch (parselmouth, default) or librosa's pYIN (slower).
    f0_min, f0_max : float
        Pitch floor and ceiling (Hz). ``f0_min`` also sets the intensity window.
    f0_scope : ``'speech'`` | ``'channel'``
        Track F0 only over the speaker's utterances (padded by 0.1 s, default, faster
        when speech is sparse) or over the whole microphone channel.
    envelope : ``'hilbert'`` | ``'rms'``
        Hilbert magnitude of the audio (anti-aliased down to the frame rate) or frame RMS
        (the square root of the Praat-like mean square).
    env_lowpass : float
        Low-pass cut-off of the envelope (Hz, 4th-order zero-phase Butterworth).
    log_envelope : bool
        If True, ``env_mean``/``env_sd`` are of ``20 log10(envelope)`` (dB re 1 audio unit).
    n_mels : int
        Number of mel bands of the log-mel spectrogram (used for MFCCs).
    frame_rate : float
        Frame rate of the analysis grid (Hz); hop = ``1 / frame_rate``.
    silence_db : float
        Frames whose intensity is more than this many dB below the channel's 99th
        percentile are silent (Praat's silence threshold, -25 dB).
    min_pause : float
        Shortest silent run (s) counted as a pause.
    min_duration : float
        Shortest span (s) that can be analysed (one 25 ms frame); shorter spans are empty.
    on_empty : ``'raise'`` | ``'nan'``
        What to do with empty spans (shorter than ``min_duration`` or with no frame): raise
        an :class:`AcousticError` listing them, or give NaN features and record them in
        ``dyad.exclusions``.
    sfreq : float | None
        Only for ``level='timeseries'``: output rate (default: the neural rate).
    max_level_diff_db : float
        Warn (naming the microphone) when the two microphones' speech levels differ by more
        than this (dB): a gain or scaling error (see :func:`check_audio_levels`).
    verbose : bool | str | int | None
        Log level for this call.

    Returns
    -------
    pandas.DataFrame
        Utterance level: ``utterance_id, speaker, onset, offset, duration, n_words,
        env_mean, env_sd, f0_mean`` (Hz, arithmetic mean of voiced frames), ``f0_sd`` (Hz),
        ``f0_mean_st`` (semitones re 100 Hz: the mean of the frames' ``12 log2(f0 / 100)``,
        i.e. of the geometric-mean F0), ``f0_sd_st``, ``voiced_prop``,
        ``intensity_db`` (energy mean of the Praat-like intensity, dB re 2e-5),
        ``n_syllables, rate_wps, rate_sps, n_pauses, pause_mean`` (s, 0 without pauses),
        ``silence_prop, spectral_centroid`` (Hz), ``spectral_slope`` (dB/octave),
        ``mfcc1 .. mfcc13``. Word level adds ``word_index`` (row of
        ``transcript.words``) and ``word``. ``df.attrs['report']`` holds the counts of
        unvoiced (F0 NaN; ``'unvoiced'`` lists their ids) and empty spans and the
        parameters.

    Notes
    -----
    Utterances with no voiced frame keep their row with F0 NaN; they are counted in the
    report and logged, never dropped.

    A span whose every frame is below :data:`hyperalign.dyad.SILENCE_DBFS` (-100 dB re
    full scale: a dead, muted or unplugged microphone) is measured as silence:
    ``mic_silent`` True, ``silence_prop`` 1 and every other feature NaN (so its acoustic
    similarity is NaN too); such spans are counted in ``dyad.exclusions`` and in
    ``attrs['report']['n_mic_silent']``. Frames below that floor are always silent, whatever
    the channel's own reference level.
    """
    check_option("level", level, ("utterance", "word", "timeseries"))
    check_option("f0_method", f0_method, ("praat", "pyin"))
    check_option("f0_scope", f0_scope, ("speech", "channel"))
    check_option("envelope", envelope, ("hilbert", "rms"))
    check_option("on_empty", on_empty, ("raise", "nan"))
    for name, val in [("f0_min", f0_min), ("f0_max", f0_max), ("env_lowpass", env_lowpass),
                      ("frame_rate", frame_rate), ("min_pause", min_pause)]:  # fmt: skip
        check_positive(name, val)
    if f0_max <= f0_min:
        raise ValueError(f"f0_max must exceed f0_min; got f0_min={f0_min}, f0_max={f0_max}")
    if level == "timeseries":
        frames = []
        for pid in dyad.ids:
            if dyad[pid].audio is None:
                logger.warning("acoustic timeseries: participant %r has no audio", pid)
                continue
            raw = compute_acoustic_timeseries(
                dyad, pid, features=("envelope", "f0", "intensity"), sfreq=sfreq,
                source="own", f0_method=f0_method, f0_min=f0_min, f0_max=f0_max,
                envelope=envelope, env_lowpass=env_lowpass, frame_rate=frame_rate,
            )  # fmt: skip
            df = pd.DataFrame(raw.get_data().T, columns=["envelope", "f0", "intensity"])
            df.insert(0, "participant", pid)
            df.insert(0, "time", raw.times)
            frames.append(df)
        if not frames:
            raise AcousticError(f"dyad {dyad.dyad_id!r}: no participant has audio")
        return pd.concat(frames, ignore_index=True)

    if dyad.transcript is None:
        raise AcousticError(
            f"dyad {dyad.dyad_id!r} has no transcript; attach one (dyad.set_transcript) "
            "to compute per-utterance or per-word acoustic features"
        )
    tr = dyad.transcript
    if level == "utterance":
        spans = tr.utterances
    else:
        spans = tr.words
        spans.insert(0, "word_index", np.arange(len(spans)))
    if not len(spans):
        raise AcousticError(f"dyad {dyad.dyad_id!r}: the transcript has no {level}s")
    spans["duration"] = spans["offset"] - spans["onset"]
    empty = spans["duration"].to_numpy() < min_duration
    if empty.any() and on_empty == "raise":
        key = "utterance_id" if level == "utterance" else "word_index"
        bad = spans.loc[empty, [key, "speaker", "onset", "offset"]]
        listing = "; ".join(
            f"{key} {r[0]} ({r[1]}, {r[2]:.3f}-{r[3]:.3f} s)"
            for r in bad.head(10).itertuples(index=False)
        )
        raise AcousticError(
            f"{int(empty.sum())} empty {level}(s) (shorter than min_duration={min_duration} "
            f"s, no audio frame to analyse): {listing}"
            f"{' ...' if len(bad) > 10 else ''}; fix their times or pass on_empty='nan'"
        )
    rows = []
    n_unvoiced = n_silent = 0
    unvoiced_ids: list[int] = []
    speaking = set(spans["speaker"].astype(str))
    check_audio_levels(dyad, max_diff_db=max_level_diff_db, participants=speaking)
    for pid in dyad.ids:
        mine = spans[spans["speaker"] == pid]
        if not len(mine):
            continue
        x, sr = _get_audio(dyad, pid)
        utt = tr.utterances
        utt = utt[utt["speaker"] == pid]
        regions = _speech_regions(utt) if f0_scope == "speech" else None
        logger.info("acoustic features of %r: %.1f s of audio at %g Hz", pid, len(x) / sr, sr)
        ch = _channel_features(
            x, sr, frame_rate=frame_rate, n_mels=n_mels, f0_method=f0_method, f0_min=f0_min,
            f0_max=f0_max, f0_regions=regions, envelope=envelope, env_lowpass=env_lowpass,
            silence_db=silence_db, need=("envelope", "f0", "intensity", "spectral"),
        )  # fmt: skip
        if log_envelope:
            ch.envelope = 20 * np.log10(np.maximum(ch.envelope, 1e-12))
        on = mine["onset"].to_numpy(float)
        off = mine["offset"].to_numpy(float)
        feats = _aggregate(ch, on, off, min_pause)
        df = mine.reset_index(drop=True).copy()
        for k, v in feats.items():
            df[k] = v
        if level == "utterance":
            df["rate_wps"] = df["n_words"] / df["duration"]
        else:
            df["rate_wps"] = 1.0 / df["duration"]
        emp = (df["duration"].to_numpy() < min_duration) | (df["n_frames"].to_numpy() == 0)
        feat_cols = [c for c in feats if c not in ("n_frames", "mic_silent")] + ["rate_wps"]
        df.loc[emp, feat_cols] = np.nan
        dead = df["mic_silent"].to_numpy(bool) & ~emp
        if dead.any():  # measured as silence: no level, pitch, rate or spectrum
            df.loc[dead, [c for c in feat_cols if c != "silence_prop"]] = np.nan
            df.loc[dead, "silence_prop"] = 1.0
            dyad.exclusions.add(
                "acoustic", level, f"{pid}: {int(dead.sum())} span(s) of a silent microphone",
                f"no signal above {SILENCE_DBFS:g} dB re full scale: acoustic features and "
                "acoustic similarity NaN", int(dead.sum()),
            )  # fmt: skip
            n_silent += int(dead.sum())
        if emp.any():
            dyad.exclusions.add(
                "acoustic", level, f"{pid}: {int(emp.sum())} empty span(s)",
                f"shorter than min_duration={min_duration} s: features NaN", int(emp.sum()),
            )  # fmt: skip
        unv = (~emp) & (~dead) & df["f0_mean"].isna().to_numpy()
        n_unvoiced += int(unv.sum())
        key = "utterance_id" if level == "utterance" else "word_index"
        unvoiced_ids.extend(df.loc[unv, key].astype(int).tolist())
        rows.append(df)
    out = pd.concat(rows, ignore_index=True)
    sort_key = "utterance_id" if level == "utterance" else "word_index"
    out = out.sort_values(sort_key, kind="mergesort").reset_index(drop=True)
    n_empty = int(empty.sum())
    if n_unvoiced:
        logger.warning(
            "acoustic features: %d %s(s) without a voiced frame (f0_mean NaN, kept)",
            n_unvoiced, level,
        )  # fmt: skip
    keep = [
        c for c in ("word_index", "utterance_id", "speaker", "word", "onset", "offset",
                    "duration", "n_words", "turn", "overlap", "backchannel") if c in out
    ]  # fmt: skip
    feat = [
        "env_mean", "env_sd", "f0_mean", "f0_sd", "f0_mean_st", "f0_sd_st", "voiced_prop",
        "intensity_db", "n_syllables", "rate_wps", "rate_sps", "n_pauses", "pause_mean",
        "silence_prop", "spectral_centroid", "spectral_slope",
    ]  # fmt: skip
    feat += [f"mfcc{j + 1}" for j in range(N_MFCC)] + ["mic_silent"]
    out = out[keep + [c for c in feat if c in out]]
    out.attrs["report"] = {
        "level": level,
        "n_rows": len(out),
        "n_unvoiced": n_unvoiced,
        "unvoiced": sorted(unvoiced_ids),
        "n_empty": n_empty,
        "n_mic_silent": n_silent,
        "f0_method": f0_method,
        "f0_range_hz": (f0_min, f0_max),
        "envelope": envelope,
        "env_lowpass_hz": env_lowpass,
        "frame_rate_hz": frame_rate,
        "silence_db": silence_db,
        "min_pause_s": min_pause,
    }
    return out


@verbose
def compute_acoustic_timeseries(
    dyad,
    pid: str,
    features: tuple[str, ...] | list[str] = TIMESERIES_FEATURES,
    *,
    sfreq: float | None = None,
    source: str = "own",
    output: str = "raw",
    f0_method: str = "praat",
    f0_min: float = 75.0,
    f0_max: float = 500.0,
    f0_fill: str = "zero",
    envelope: str = "hilbert",
    env_lowpass: float = 30.0,
    log_envelope: bool = False,
    n_mels: int = 80,
    frame_rate: float = 100.0,
    verbose: bool | str | int | None = None,
):
    """Acoustic feature time series on the neural clock, for encoding models.

    Parameters
    ----------
    dyad : Dyad
        The conversation; microphones in ``Participant.audio``.
    pid : str
        The participant whose brain the series will predict.
    features : sequence of {'envelope', 'logmel', 'f0', 'intensity'}
        ``'envelope'`` (1 channel, audio units, or dB with ``log_envelope``), ``'logmel'``
        (``n_mels`` channels, dB), ``'f0'`` (Hz), ``'intensity'`` (dB re 2e-5).
    sfreq : float | None
        Output rate (Hz); default the neural rate of ``pid``. Features are computed on a
        ``frame_rate`` grid and resampled with an anti-aliasing polyphase filter
        (``scipy.signal.resample_poly``), then cut or zero-padded to the neural length.
    source : ``'own'`` | ``'heard'`` | ``'both'``
        The participant's own microphone, the partner's (what ``pid`` hears), or both.
    output : ``'raw'`` | ``'xarray'``
        An :class:`mne.io.RawArray` (channel type ``misc``, names ``own_envelope``,
        ``heard_logmel_00``...) or an :class:`xarray.DataArray` with dims
        ``('feature', 'time')``.
    f0_method, f0_min, f0_max : see :func:`compute_acoustic_features`.
    f0_fill : ``'zero'`` | ``'interp'``
        Value of unvoiced frames before resampling: 0 Hz, or linear interpolation between
        voiced frames (NaN cannot pass the anti-aliasing filter).
    envelope, env_lowpass, log_envelope, n_mels, frame_rate : see
        :func:`compute_acoustic_features`.
    verbose : bool | str | int | None
        Log level for this call.

    Returns
    -------
    mne.io.RawArray | xarray.DataArray
    """
    check_option("source", source, ("own", "heard", "both"))
    check_option("output", output, ("raw", "xarray"))
    check_option("f0_fill", f0_fill, ("zero", "interp"))
    check_option("envelope", envelope, ("hilbert", "rms"))
    features = [features] if isinstance(features, str) else list(features)
    if not features:
        raise ValueError(f"features must name at least one of {list(TIMESERIES_FEATURES)}")
    for f in features:
        check_option("features", f, TIMESERIES_FEATURES)
    part = dyad[pid]
    sf_out = part.sfreq if sfreq is None else float(check_positive("sfreq", sfreq))
    n_out = int(round(part.duration * sf_out))
    mics = {"own": [("own", pid)], "heard": [("heard", dyad.other(pid).id)]}
    mics["both"] = mics["own"] + mics["heard"]
    chans, names = [], []
    for label, mic in mics[source]:
        x, sr = _get_audio(dyad, mic)
        need = tuple(f for f in features if f != "intensity") + ("intensity",)
        ch = _channel_features(
            x, sr, frame_rate=frame_rate, n_mels=n_mels, f0_method=f0_method,
            f0_min=f0_min, f0_max=f0_max, f0_regions=None, envelope=envelope,
            env_lowpass=env_lowpass, need=need,
        )  # fmt: skip
        if ch.n_frames and ch.dead.all():
            import warnings

            msg = (
                f"dyad {dyad.dyad_id!r}: the microphone of participant {mic!r} is silent "
                f"(every frame below {SILENCE_DBFS:g} dB re full scale): its {label} "
                "time series carry no signal (envelope 0, intensity at the numerical "
                "floor); check the microphone or leave these predictors out"
            )
            logger.warning(msg)
            warnings.warn(msg, RuntimeWarning, stacklevel=2)
        for f in features:
            if f == "envelope":
                v = ch.envelope[None]
                if log_envelope:
                    v = 20 * np.log10(np.maximum(v, 1e-12))
                nm = [f"{label}_envelope"]
            elif f == "intensity":
                v, nm = ch.intensity[None], [f"{label}_intensity"]
            elif f == "f0":
                f0 = ch.f0.copy()
                ok = np.isfinite(f0)
                if f0_fill == "interp" and ok.sum() >= 2:
                    f0 = np.interp(np.arange(len(f0)), np.nonzero(ok)[0], f0[ok])
                else:
                    f0[~ok] = 0.0
                v, nm = f0[None], [f"{label}_f0"]
            else:
                v = ch.logmel
                nm = [f"{label}_logmel_{i:02d}" for i in range(v.shape[0])]
            v = _resample(v, frame_rate, sf_out, axis=-1)
            if v.shape[1] >= n_out:
                v = v[:, :n_out]
            else:
                n_pad = n_out - v.shape[1]
                logger.info(
                    "acoustic timeseries: audio of %r ends %.3f s before the neural "
                    "recording; %d sample(s) padded with the last value", mic,
                    n_pad / sf_out, n_pad,
                )  # fmt: skip
                v = np.pad(v, ((0, 0), (0, n_pad)), mode="edge")
            chans.append(v)
            names.extend(nm)
    data = np.concatenate(chans, 0)
    if output == "xarray":
        import xarray as xr

        return xr.DataArray(
            data,
            dims=("feature", "time"),
            coords={"feature": names, "time": np.arange(n_out) / sf_out},
            attrs={"sfreq": sf_out, "participant": pid, "source": source},
            name="acoustic",
        )
    import mne

    info = mne.create_info(names, sf_out, "misc")
    raw = mne.io.RawArray(data, info, verbose=False)
    return raw
