"""Audio lag: where a microphone recording sits on an amplifier's clock (envelope xcorr)."""

from __future__ import annotations

import numpy as np

from ..utils import check_positive, fill_doc, logger, verbose
from ..utils._signal import resample_poly_to
from ._clock_model import ClockError, LagResult


# ---------------------------------------------------------------------- envelopes
def _check_signal(name: str, x) -> np.ndarray:
    x = np.asarray(x, float)
    if x.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one channel); got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains {int((~np.isfinite(x)).sum())} non-finite sample(s)")
    return x


def envelope(
    x, sfreq: float, env_sfreq: float, *, lowpass: float | None = 30.0
) -> tuple[np.ndarray, float]:
    """Amplitude envelope of ``x`` at ``env_sfreq``: rectify, resample, zero-phase low-pass.

    Parameters
    ----------
    x : array, shape (n_times,)
        Audio or reference samples (an envelope passes through unchanged apart from the
        smoothing).
    sfreq, env_sfreq : float
        Rate of ``x`` and of the returned envelope (Hz).
    lowpass : float | None
        Cut-off (Hz) of a zero-phase Butterworth smoother (no phase shift, so no lag bias).

    Returns
    -------
    env : numpy.ndarray
        The envelope, shape ``(n_env,)``.
    env_sfreq : float
        The exact rate obtained (a rational approximation of the one asked).
    """
    from scipy.signal import butter, sosfiltfilt

    x = np.abs(_check_signal("signal", x))
    env, fs = resample_poly_to(x, sfreq, env_sfreq, max_denominator=2000)
    if lowpass is not None and lowpass < 0.45 * fs and len(env) > 30:
        sos = butter(4, lowpass, fs=fs, output="sos")
        env = sosfiltfilt(sos, env)
    return env, fs


def _parabolic(y_m: float, y_0: float, y_p: float) -> float:
    den = y_m - 2.0 * y_0 + y_p
    if den >= 0 or not np.isfinite(den):
        return 0.0
    return float(np.clip(0.5 * (y_m - y_p) / den, -0.5, 0.5))


def _xcorr_lag(
    x: np.ndarray,
    y: np.ndarray,
    fs: float,
    *,
    lag_min: float,
    lag_max: float,
    min_overlap: float,
    exclude: float,
) -> tuple[float, float, float, float]:
    """Lag ``d`` (s) maximizing the correlation of ``y[n]`` with ``x[n - d*fs]``.

    Correlations are normalized by the energy of both signals over their overlap at each lag
    (Pearson-like). Returns ``(lag_s, corr, psr, overlap_s)``.
    """
    from scipy.signal import correlate, correlation_lags

    x = x - x.mean()
    y = y - y.mean()
    c = correlate(y, x, mode="full", method="fft")
    lags = correlation_lags(len(y), len(x), mode="full")
    # energy of each signal over the overlap at lag k: y[n], n in [max(0,k), min(ny, nx+k))
    cy = np.concatenate([[0.0], np.cumsum(y * y)])
    cx = np.concatenate([[0.0], np.cumsum(x * x)])
    ny, nx = len(y), len(x)
    y0 = np.clip(lags, 0, ny)
    y1 = np.clip(nx + lags, 0, ny)
    x0 = np.clip(-lags, 0, nx)
    x1 = np.clip(ny - lags, 0, nx)
    n_ov = np.maximum(y1 - y0, 0)
    ey = cy[y1] - cy[y0]
    ex = cx[x1] - cx[x0]
    with np.errstate(invalid="ignore", divide="ignore"):
        r = c / np.sqrt(ey * ex)
    ok = (
        (n_ov >= max(min_overlap * fs, 3))
        & (lags >= np.floor(lag_min * fs))
        & (lags <= np.ceil(lag_max * fs))
        & np.isfinite(r)
        & (ey > 0)
        & (ex > 0)
    )
    if not ok.any():
        raise ClockError(
            f"no lag in [{lag_min:.3f}, {lag_max:.3f}] s leaves at least {min_overlap:.1f} s of "
            "overlap between the two signals; widen max_lag or check that both recordings "
            "cover the same event"
        )
    rr = np.where(ok, r, -np.inf)
    k = int(np.argmax(rr))
    frac = 0.0
    if 0 < k < len(rr) - 1 and np.isfinite(rr[k - 1]) and np.isfinite(rr[k + 1]):
        frac = _parabolic(rr[k - 1], rr[k], rr[k + 1])
    lag = (lags[k] + frac) / fs
    side = ok & (np.abs(lags - lags[k]) > exclude * fs)
    if side.sum() >= 10:
        sv = r[side]
        psr = float((r[k] - sv.mean()) / (sv.std() + 1e-12))
    else:
        psr = float("nan")
    return float(lag), float(r[k]), psr, float(n_ov[k] / fs)


def _check_not_silent(audio: np.ndarray, audio_sfreq: float, ref: np.ndarray) -> None:
    """A silent microphone or a flat reference has no envelope to align: say so."""
    from ..dyad import SILENCE_DBFS, audio_level_db

    level = audio_level_db(audio, audio_sfreq)
    if not level > SILENCE_DBFS:
        peak = float(np.abs(audio).max()) if audio.size else 0.0
        raise ClockError(
            f"the microphone audio is silent ({len(audio)} samples, peak |x| = {peak:.3g}, "
            f"level {level:.1f} dB re full scale, below {SILENCE_DBFS:g} dB): no lag can be "
            "found from it; check the microphone (muted, unplugged, wrong channel: "
            "audio_channels=) or align this dyad from triggers"
        )
    if ref.size and np.ptp(ref) == 0:
        raise ClockError(
            f"the reference channel is flat (every sample = {ref[0]:.3g}): no lag can be "
            "found from it; pick the amplifier channel that recorded the audio (audio_channel=)"
        )


@fill_doc
@verbose
def find_audio_lag(
    audio,
    audio_sfreq: float,
    ref,
    ref_sfreq: float,
    *,
    max_lag: float | None = None,
    env_sfreq: float | None = None,
    lowpass: float | None = 30.0,
    min_overlap: float | None = None,
    min_confidence: float = 6.0,
    min_corr: float = 0.2,
    verbose=None,
) -> LagResult:
    """Lag of microphone ``audio`` relative to a reference channel recorded by the amplifier.

    The envelopes of both signals are computed at a common rate, cross-correlated by FFT
    (normalized over the overlap at each lag) and the peak is refined below one sample by
    parabolic interpolation.

    Parameters
    ----------
    audio : array, shape (n_audio,)
        Microphone samples (sample 0 at audio time 0).
    audio_sfreq : float
        Audio sampling rate (Hz).
    ref : array, shape (n_ref,)
        The amplifier's audio/stimulus channel (raw audio or an envelope).
    ref_sfreq : float
        Its sampling rate (Hz), usually the neural rate.
    max_lag : float | None
        Largest absolute lag searched (s). ``None`` searches every lag that leaves
        ``min_overlap`` of overlap.
    env_sfreq : float | None
        Envelope rate; default ``min(ref_sfreq, 1000)``.
    lowpass : float | None
        Envelope smoothing cut-off (Hz, zero-phase).
    min_overlap : float | None
        Least overlap (s) a lag must leave; default half the shorter signal.
    min_confidence, min_corr : float
        Below either, the result is flagged unreliable and a warning is logged.
    %(verbose)s

    Returns
    -------
    LagResult
        ``lag_s`` such that an event at audio time ``t`` is at reference time ``t + lag_s``.

    See Also
    --------
    estimate_drift_from_signals : Lags in windows, giving offset and drift.
    align_clocks : Put a whole dyad on one clock.
    """
    check_positive("audio_sfreq", audio_sfreq)
    check_positive("ref_sfreq", ref_sfreq)
    check_positive("max_lag", max_lag, allow_none=True)
    audio = _check_signal("audio", audio)
    ref = _check_signal("ref", ref)
    _check_not_silent(audio, audio_sfreq, ref)
    if env_sfreq is None:
        env_sfreq = min(float(ref_sfreq), 1000.0)
    ea, fs = envelope(audio, audio_sfreq, env_sfreq, lowpass=lowpass)
    er, fs_r = envelope(ref, ref_sfreq, fs, lowpass=lowpass)
    if abs(fs_r - fs) > 1e-9 * fs:
        raise ValueError(
            f"could not bring audio ({audio_sfreq} Hz) and ref ({ref_sfreq} Hz) to one "
            f"envelope rate (got {fs} and {fs_r} Hz); pass env_sfreq= a rate both divide"
        )
    dur_a, dur_r = len(ea) / fs, len(er) / fs
    if min_overlap is None:
        min_overlap = 0.5 * min(dur_a, dur_r)
    lag_max = max_lag if max_lag is not None else dur_r
    lag_min = -max_lag if max_lag is not None else -dur_a
    lag, corr, psr, ov = _xcorr_lag(
        ea, er, fs, lag_min=lag_min, lag_max=lag_max, min_overlap=min_overlap, exclude=0.5
    )
    reliable = bool(np.isfinite(psr) and psr >= min_confidence and corr >= min_corr)
    res = LagResult(lag, psr, corr, fs, ov, reliable)
    if not reliable:
        logger.warning(
            "find_audio_lag: low confidence (peak-to-sidelobe %.1f, needs >= %.1f; corr "
            "%.2f, needs >= %.2f): lag %.4f s may be wrong; check that ref recorded this "
            "audio, or widen/narrow max_lag",
            psr, min_confidence, corr, min_corr, lag,
        )  # fmt: skip
    else:
        logger.info("find_audio_lag: lag %.4f s (psr %.1f, r %.2f)", lag, psr, corr)
    return res
