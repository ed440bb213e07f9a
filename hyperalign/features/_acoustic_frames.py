"""Frame features of one microphone (every feature on one frame grid) and the audio checks."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..dyad import SILENCE_DBFS
from ..utils import logger
from ._acoustic_dsp import (
    N_MFCC,
    P_REF,
    _f0_track,
    _lowpass,
    _power_spectrum,
    _resample,
    _windowed_at,
)

MIN_AUDIO_SFREQ = 8000.0


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
    compute_acoustic_features : Calls this for the participants who speak.
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

    logmel = np.zeros((n_mels, 0))
    mfcc = np.zeros((N_MFCC, 0))
    power = None
    freqs = np.zeros(0)
    if "logmel" in need or "spectral" in need:
        power, freqs, logmel, mfcc = _power_spectrum(x, sr, hop, n_frames, n_mels)

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
