"""Clock alignment: microphone audio to the amplifier, and amplifier to amplifier.

Conventions
-----------
A :class:`LagResult` says that an event at time ``t`` on the *audio* clock appears at
``t + lag_s`` on the *reference* clock (the amplifier channel that recorded the audio or a
stimulus envelope). A :class:`ClockModel` maps times of clock ``b`` onto clock ``a``::

    t_a = offset + (1 + drift_ppm * 1e-6) * t_b

so ``offset`` is where time zero of clock ``b`` falls on clock ``a`` and ``drift_ppm`` is how
much faster clock ``a`` runs than clock ``b`` (parts per million).

The functions here are array-level (:func:`find_audio_lag`, :func:`align_by_triggers`,
:func:`estimate_drift`, :func:`estimate_drift_from_signals`) or act on MNE/Dyad objects
(:func:`apply_clock`, :func:`sync_dyad`). Every estimate reports its quality (correlation,
peak-to-sidelobe ratio, residuals) and untrustworthy ones raise :class:`ClockError`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from fractions import Fraction

import numpy as np

from ..utils import check_option, check_positive, logger, verbose_context


class ClockError(ValueError):
    """A clock alignment could not be trusted (too much drift, large residuals, no match)."""


# ---------------------------------------------------------------------- containers
@dataclass
class LagResult:
    """Lag between an audio signal and a reference channel.

    Attributes
    ----------
    lag_s : float
        An event at audio time ``t`` is at reference time ``t + lag_s``.
    confidence : float
        Peak-to-sidelobe ratio of the envelope cross-correlation (peak height above the
        mean of the correlation away from the peak, in standard deviations of it).
    corr : float
        Pearson correlation of the two envelopes at the peak lag (over their overlap).
    env_sfreq : float
        Rate (Hz) at which the envelopes were compared.
    n_overlap_s : float
        Duration of the overlap of the two envelopes at the peak lag.
    reliable : bool
        ``confidence >= min_confidence`` and ``corr >= min_corr``.
    """

    lag_s: float
    confidence: float
    corr: float
    env_sfreq: float
    n_overlap_s: float
    reliable: bool = True

    def to_dict(self) -> dict:
        return {
            k: (float(v) if isinstance(v, np.floating) else v) for k, v in asdict(self).items()
        }


@dataclass
class ClockModel:
    """Linear map from clock ``b`` to clock ``a``: ``t_a = offset + (1 + drift_ppm*1e-6) t_b``.

    Attributes
    ----------
    offset : float
        Time (s, clock ``a``) of time zero of clock ``b``.
    drift_ppm : float
        Rate difference in parts per million (positive: clock ``a`` runs faster).
    residual_rms_s, max_residual_s : float
        Root-mean-square and largest absolute residual (s) of the points used in the fit.
    n_used, n_rejected : int
        Points (trigger pairs or windowed lags) used in, and rejected from, the fit
        (unmatched triggers and outliers count as rejected).
    method : str
        ``'triggers'``, ``'signal'``, ``'lag'`` (one lag, no drift), ``'identity'`` or
        ``'composed'``.
    """

    offset: float
    drift_ppm: float
    residual_rms_s: float = 0.0
    max_residual_s: float = 0.0
    n_used: int = 0
    n_rejected: int = 0
    method: str = "triggers"
    details: dict = field(default_factory=dict, repr=False)

    @property
    def scale(self) -> float:
        return 1.0 + self.drift_ppm * 1e-6

    def to_a(self, t_b):
        """Map times on clock ``b`` to clock ``a``."""
        return self.offset + self.scale * np.asarray(t_b, float)

    def to_b(self, t_a):
        """Map times on clock ``a`` to clock ``b``."""
        return (np.asarray(t_a, float) - self.offset) / self.scale

    def inverse(self) -> ClockModel:
        """The model mapping clock ``a`` onto clock ``b``."""
        s = 1.0 / self.scale
        return ClockModel(
            -self.offset * s, (s - 1.0) * 1e6, self.residual_rms_s, self.max_residual_s,
            self.n_used, self.n_rejected, self.method,
        )  # fmt: skip

    def compose(self, inner: ClockModel) -> ClockModel:
        """``self ∘ inner``: maps ``inner``'s clock b to ``self``'s clock a."""
        scale = self.scale * inner.scale
        return ClockModel(
            offset=self.offset + self.scale * inner.offset,
            drift_ppm=(scale - 1.0) * 1e6,
            residual_rms_s=float(np.hypot(self.residual_rms_s, inner.residual_rms_s)),
            max_residual_s=self.max_residual_s + inner.max_residual_s,
            n_used=min(self.n_used, inner.n_used),
            n_rejected=self.n_rejected + inner.n_rejected,
            method="composed",
        )

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("details")
        return {k: (float(v) if isinstance(v, np.floating) else v) for k, v in d.items()}


@dataclass
class TriggerMatch:
    """Pairs of matched triggers of two recordings.

    Attributes
    ----------
    idx_a, idx_b : numpy.ndarray of int
        Indices of matched triggers in ``times_a`` and ``times_b``.
    offset : float
        Coarse offset ``t_a - t_b`` (s) found by the matching.
    n_unmatched_a, n_unmatched_b : int
        Triggers of each sequence that found no partner (missing in the other recording).
    """

    idx_a: np.ndarray
    idx_b: np.ndarray
    offset: float
    n_unmatched_a: int
    n_unmatched_b: int


# ---------------------------------------------------------------------- envelopes
def _check_signal(name: str, x) -> np.ndarray:
    x = np.asarray(x, float)
    if x.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one channel); got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains {int((~np.isfinite(x)).sum())} non-finite sample(s)")
    return x


def _resample(x: np.ndarray, sfreq: float, target: float) -> tuple[np.ndarray, float]:
    """Resample with a polyphase filter; returns the signal and its exact new rate."""
    from scipy.signal import resample_poly

    ratio = Fraction(target / sfreq).limit_denominator(2000)
    if ratio == 1:
        return x, sfreq
    if ratio.numerator == 0:
        raise ValueError(f"cannot resample {sfreq} Hz to {target} Hz")
    y = resample_poly(x, ratio.numerator, ratio.denominator)
    return y, sfreq * ratio.numerator / ratio.denominator


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
    env_sfreq : float
        The exact rate obtained (a rational approximation of the one asked).
    """
    from scipy.signal import butter, sosfiltfilt

    x = np.abs(_check_signal("signal", x))
    env, fs = _resample(x, float(sfreq), float(env_sfreq))
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
    verbose : bool | str | int | None
        Log level for this call.

    Returns
    -------
    LagResult
        ``lag_s`` such that an event at audio time ``t`` is at reference time ``t + lag_s``.
    """
    with verbose_context(verbose):
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


# ---------------------------------------------------------------------- robust line fit
def _robust_line(
    x: np.ndarray, y: np.ndarray, *, k: float = 5.0, floor: float = 1e-4, n_iter: int = 10
) -> tuple[float, float, np.ndarray]:
    """Fit ``y = a + b x`` rejecting points beyond ``k`` robust SDs (at least ``floor``)."""
    keep = np.ones(len(x), bool)
    a = b = 0.0
    for _ in range(n_iter):
        if keep.sum() < 2:
            break
        xm = x[keep].mean()
        b, a0 = np.polyfit(x[keep] - xm, y[keep], 1)
        a = a0 - b * xm
        res = y - (a + b * x)
        mad = 1.4826 * np.median(np.abs(res[keep] - np.median(res[keep])))
        new = np.abs(res) <= max(k * mad, floor)
        if np.array_equal(new, keep):
            break
        keep = new
    return float(a), float(b), keep


def _finish_model(
    x, y, keep, a, b, *, n_extra_rejected, method, max_drift_ppm, max_residual, what
) -> ClockModel:
    res = y[keep] - (a + b * x[keep])
    model = ClockModel(
        offset=a,
        drift_ppm=(b - 1.0) * 1e6,
        residual_rms_s=float(np.sqrt(np.mean(res**2))) if len(res) else float("nan"),
        max_residual_s=float(np.max(np.abs(res))) if len(res) else float("nan"),
        n_used=int(keep.sum()),
        n_rejected=int((~keep).sum()) + int(n_extra_rejected),
        method=method,
    )
    if abs(model.drift_ppm) > max_drift_ppm:
        raise ClockError(
            f"estimated drift {model.drift_ppm:.1f} ppm exceeds max_drift_ppm={max_drift_ppm:g} "
            f"({what}); amplifier clocks drift by tens of ppm, so this is most likely a wrong "
            "match: check the trigger/audio channels and their sampling rates, or raise "
            "max_drift_ppm if the drift is real"
        )
    n_out = int((~keep).sum())
    if n_out > max(2, 0.2 * len(keep)):
        raise ClockError(
            f"{n_out} of {len(keep)} points ({what}) are outliers to the linear clock fit; "
            "the clocks are not related linearly (a clock reset or dropped samples?): split "
            "the recording at the reset and align each part"
        )
    if model.residual_rms_s > max_residual:
        raise ClockError(
            f"clock fit residual {model.residual_rms_s * 1e3:.2f} ms RMS exceeds "
            f"max_residual={max_residual * 1e3:.2f} ms ({what}); the clocks are not related "
            "linearly (a clock reset or a dropped stretch of samples?): split the recording "
            "at the reset, or raise max_residual"
        )
    logger.info(
        "clock model (%s): offset %.6f s, drift %.2f ppm, residual %.3f ms RMS, %d used, "
        "%d rejected", method, model.offset, model.drift_ppm, model.residual_rms_s * 1e3,
        model.n_used, model.n_rejected,
    )  # fmt: skip
    return model


# ---------------------------------------------------------------------- triggers
def _check_times(name: str, t) -> np.ndarray:
    t = np.asarray(t, float).ravel()
    if len(t) < 2:
        raise ValueError(f"{name} needs at least 2 trigger times; got {len(t)}")
    if not np.all(np.isfinite(t)):
        raise ValueError(f"{name} contains non-finite trigger times")
    back = np.nonzero(np.diff(t) < 0)[0]
    if len(back):
        i = int(back[0])
        raise ClockError(
            f"{name} must increase, but goes back in time at index {i + 1} ({t[i]:.6f} -> "
            f"{t[i + 1]:.6f} s, {len(back)} time(s) in all): a clock reset? Split the "
            "recording at the reset and align each part, or sort the times if they are events"
        )
    return t


def _match_nearest(
    ta_pred: np.ndarray, ta: np.ndarray, tol: float
) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one nearest matches of predicted times to ``ta`` within ``tol``."""
    j = np.searchsorted(ta, ta_pred)
    j0 = np.clip(j - 1, 0, len(ta) - 1)
    j1 = np.clip(j, 0, len(ta) - 1)
    d0 = np.abs(ta[j0] - ta_pred)
    d1 = np.abs(ta[j1] - ta_pred)
    jj = np.where(d1 < d0, j1, j0)
    dd = np.minimum(d0, d1)
    ib = np.nonzero(dd <= tol)[0]
    ia = jj[ib]
    # one-to-one: keep the closest b for each a
    order = np.lexsort((dd[ib], ia))
    ia, ib = ia[order], ib[order]
    first = np.concatenate([[True], ia[1:] != ia[:-1]]) if len(ia) else np.zeros(0, bool)
    ia, ib = ia[first], ib[first]
    srt = np.argsort(ib)
    return ia[srt], ib[srt]


def _coarse_clock(
    ta: np.ndarray, tb: np.ndarray, tol: float, max_drift_ppm: float, max_pairs: int = 2_000_000
) -> tuple[float, float]:
    """Offset and slope with the most trigger pairs within ``tol``: a grid search over drift.

    For each drift on a grid fine enough that the drift moves no trigger by more than
    ``tol`` between grid steps, the differences ``t_a - (1 + d) t_b`` of all pairs are
    binned (bins ``2 tol`` wide, two staggered binnings) and the fullest bin is found.
    """
    tb0 = tb[0]
    span = max(tb[-1] - tb0, 1e-9)
    step = tol / span
    n_grid = int(np.ceil(max_drift_ppm * 1e-6 / step))
    if n_grid > 2000:  # keep the search bounded; the refinement recovers the rest
        n_grid = 2000
    drifts = np.linspace(-max_drift_ppm, max_drift_ppm, 2 * n_grid + 1) * 1e-6
    sel_b = np.arange(len(tb))
    if len(ta) * len(tb) > max_pairs:
        sel_b = np.unique(np.linspace(0, len(tb) - 1, max(2, max_pairs // len(ta))).astype(int))
    tbs = tb[sel_b] - tb0
    best = (-1, 0.0, 0.0)
    w = 2 * tol
    for d in drifts:
        diffs = (ta[:, None] - (1 + d) * tbs[None, :]).ravel()
        lo = diffs.min()
        for shift in (0.0, tol):
            q = np.floor((diffs - lo + shift) / w).astype(np.int64)
            cnt = np.bincount(q)
            k = int(np.argmax(cnt))
            if cnt[k] > best[0]:
                centre = lo - shift + (k + 0.5) * w
                inb = np.abs(diffs - centre) <= tol
                best = (int(cnt[k]), float(np.median(diffs[inb])), float(d))
    _, off0, d = best
    # t_a = off0 + (1+d)(t_b - tb0)  ->  t_a = (off0 - (1+d) tb0) + (1+d) t_b
    return off0 - (1 + d) * tb0, 1.0 + d


def align_by_triggers(
    times_a,
    times_b,
    *,
    tolerance: float = 0.01,
    max_drift_ppm: float = 1000.0,
    min_matches: int = 3,
    verbose=None,
) -> TriggerMatch:
    """Match two sequences of shared trigger times recorded on two clocks.

    Triggers may be missing from either sequence. A grid search over drift (up to
    ``max_drift_ppm``) finds the offset and drift that put the most trigger pairs within
    ``tolerance``; matches are then refined by iterated one-to-one nearest-neighbour
    matching under a robustly fitted linear clock model. Strictly periodic triggers are
    ambiguous by whole periods (the alignment with the most matches wins).

    Parameters
    ----------
    times_a, times_b : array of float
        Trigger times (s) on each recording's own clock, increasing.
    tolerance : float
        Largest distance (s) between a trigger and its predicted partner to count as a match.
    max_drift_ppm : float
        Largest drift searched (ppm).
    min_matches : int
        Fewer matches raise :class:`ClockError`.
    verbose : bool | str | int | None
        Log level for this call.

    Returns
    -------
    TriggerMatch
    """
    with verbose_context(verbose):
        ta = _check_times("times_a", times_a)
        tb = _check_times("times_b", times_b)
        check_positive("tolerance", tolerance)
        offset, slope = _coarse_clock(ta, tb, tolerance, max_drift_ppm)
        # iterate: match under the current model, refit a line, re-match with tolerance
        a, b = offset, slope
        win = 2 * tolerance
        ia = ib = np.zeros(0, int)
        for _ in range(20):
            ia_new, ib_new = _match_nearest(a + b * tb, ta, win)
            if len(ia_new) >= 2:
                a_new, b_new, _ = _robust_line(tb[ib_new], ta[ia_new], floor=tolerance)
            else:
                a_new, b_new = a, b
            done = np.array_equal(ia_new, ia) and np.array_equal(ib_new, ib) and win == tolerance
            ia, ib, a, b = ia_new, ib_new, a_new, b_new
            win = max(tolerance, win / 4)
            if done:
                break
        if len(ia) < min_matches:
            raise ClockError(
                f"only {len(ia)} trigger(s) matched within tolerance={tolerance} s (need "
                f"{min_matches}); check that both sequences hold the same events (same "
                "trigger codes) and are in seconds, or raise tolerance"
            )
        res = TriggerMatch(ia, ib, offset, len(ta) - len(ia), len(tb) - len(ib))
        if res.n_unmatched_a or res.n_unmatched_b:
            logger.info(
                "align_by_triggers: %d matched; %d trigger(s) of a and %d of b unmatched",
                len(ia), res.n_unmatched_a, res.n_unmatched_b,
            )  # fmt: skip
        return res


def estimate_drift(
    times_a,
    times_b,
    *,
    tolerance: float = 0.01,
    max_drift_ppm: float = 1000.0,
    max_residual: float = 0.005,
    min_matches: int = 3,
    min_match_fraction: float = 0.5,
    verbose=None,
) -> ClockModel:
    """Offset and linear drift between two clocks from shared triggers.

    Parameters
    ----------
    times_a, times_b : array of float
        Trigger times (s) of the same events on clock ``a`` (reference) and ``b``; missing
        triggers on either side are allowed (see :func:`align_by_triggers`).
    tolerance : float
        Matching tolerance (s).
    max_drift_ppm : float
        A fitted drift beyond this raises :class:`ClockError` (default 1000 ppm).
    max_residual : float
        A residual RMS beyond this (s) raises :class:`ClockError`.
    min_matches : int
        Least number of matched triggers.
    min_match_fraction : float
        Least fraction of the shorter sequence that must match; fewer raise
        :class:`ClockError` (a clock reset, jittered time stamps or different trigger sets).
    verbose : bool | str | int | None
        Log level for this call.

    Returns
    -------
    ClockModel
        ``t_a = offset + (1 + drift_ppm*1e-6) t_b``; unmatched triggers and outliers are
        counted in ``n_rejected``; the matched indices are in ``details``.
    """
    with verbose_context(verbose):
        m = align_by_triggers(
            times_a, times_b, tolerance=tolerance, max_drift_ppm=max_drift_ppm,
            min_matches=min_matches,
        )  # fmt: skip
        n_short = min(len(m.idx_a) + m.n_unmatched_a, len(m.idx_b) + m.n_unmatched_b)
        if len(m.idx_a) < min_match_fraction * n_short:
            raise ClockError(
                f"only {len(m.idx_a)} of {n_short} triggers matched within tolerance="
                f"{tolerance} s (min_match_fraction={min_match_fraction}): the clocks drift "
                f"more than max_drift_ppm={max_drift_ppm:g} (a wrong nominal sampling rate? "
                "raise max_drift_ppm to measure it), the time stamps are jittered (dejitter "
                "them, or raise tolerance), a clock reset splits the recording (align each "
                "part), or the two sequences hold different events"
            )
        ta = np.asarray(times_a, float)[m.idx_a]
        tb = np.asarray(times_b, float)[m.idx_b]
        a, b, keep = _robust_line(tb, ta, floor=max(1e-4, tolerance / 10))
        model = _finish_model(
            tb, ta, keep, a, b, n_extra_rejected=max(m.n_unmatched_a, m.n_unmatched_b),
            method="triggers", max_drift_ppm=max_drift_ppm, max_residual=max_residual,
            what=f"{len(ta)} matched triggers",
        )  # fmt: skip
        model.details = {
            "idx_a": m.idx_a[keep], "idx_b": m.idx_b[keep],
            "n_unmatched_a": m.n_unmatched_a, "n_unmatched_b": m.n_unmatched_b,
            "n_outliers": int((~keep).sum()),
        }  # fmt: skip
        return model


def estimate_drift_from_signals(
    sig,
    sfreq: float,
    ref,
    ref_sfreq: float,
    *,
    window: float = 20.0,
    step: float | None = None,
    max_lag: float | None = None,
    local_search: float = 1.0,
    env_sfreq: float | None = None,
    lowpass: float | None = 30.0,
    min_confidence: float = 6.0,
    max_drift_ppm: float = 1000.0,
    max_residual: float = 0.005,
    verbose=None,
) -> ClockModel:
    """Offset and drift of ``sig``'s clock relative to ``ref``'s from windowed envelope lags.

    A global lag (:func:`find_audio_lag`) locates ``sig`` in ``ref``; then the lag is
    re-estimated in windows of ``window`` s (searching ``±local_search`` s around the global
    lag, widened by what ``max_drift_ppm`` allows away from the middle) and a robust line is
    fitted through (window centre, ``centre + lag``). Windows whose peak-to-sidelobe ratio is
    below ``min_confidence`` (e.g. silence) are rejected and counted.

    Parameters
    ----------
    sig : array, shape (n,)
        Signal on clock ``b`` (e.g. microphone audio, or the other amplifier's audio channel).
    sfreq : float
        Its rate (Hz).
    ref : array, shape (n_ref,)
        Signal recorded on clock ``a`` (the reference amplifier).
    ref_sfreq : float
        Its rate (Hz).
    window, step : float
        Window length and step (s); ``step`` defaults to ``window / 2``.
    max_lag : float | None
        Passed to the global :func:`find_audio_lag`.
    local_search : float
        Half-width (s) of the lag search in each window around the global lag.
    env_sfreq, lowpass : float | None
        Envelope rate and smoothing (see :func:`find_audio_lag`).
    min_confidence : float
        Least peak-to-sidelobe ratio for a window to be used.
    max_drift_ppm, max_residual : float
        Trust limits (see :func:`estimate_drift`).
    verbose : bool | str | int | None
        Log level for this call.

    Returns
    -------
    ClockModel
        ``t_ref = offset + (1 + drift_ppm*1e-6) t_sig``. With fewer than 3 usable windows the
        drift is set to 0 and ``method='lag'`` (one lag only).
    """
    with verbose_context(verbose):
        check_positive("window", window)
        step = window / 2 if step is None else step
        check_positive("step", step)
        glob = find_audio_lag(
            sig, sfreq, ref, ref_sfreq, max_lag=max_lag, env_sfreq=env_sfreq, lowpass=lowpass,
            min_confidence=min_confidence, min_corr=0.0, verbose=verbose,
        )  # fmt: skip
        # drift smears the global correlation peak (low corr); its sharpness is what counts
        if not (np.isfinite(glob.confidence) and glob.confidence >= min_confidence):
            raise ClockError(
                f"the global lag between the signals is unreliable (peak-to-sidelobe "
                f"{glob.confidence:.1f} < min_confidence={min_confidence}); check that ref "
                "recorded the same sound, or pass max_lag to narrow the search"
            )
        fs = glob.env_sfreq
        es, _ = envelope(sig, sfreq, fs, lowpass=lowpass)
        er, _ = envelope(ref, ref_sfreq, fs, lowpass=lowpass)
        nwin = int(round(window * fs))
        nstep = max(1, int(round(step * fs)))
        starts = np.arange(0, max(len(es) - nwin, 0) + 1, nstep)
        xs, ys, n_bad = [], [], 0
        mid = len(es) / 2
        for s0 in starts:
            xw = es[s0 : s0 + nwin]
            # the global lag holds near the middle; drift moves the lag away from it
            hw = local_search + max_drift_ppm * 1e-6 * abs(s0 + nwin / 2 - mid) / fs
            r0 = int(np.floor(s0 + (glob.lag_s - hw) * fs))
            r1 = int(np.ceil(s0 + nwin + (glob.lag_s + hw) * fs))
            r0c, r1c = max(r0, 0), min(r1, len(er))
            if r1c - r0c < nwin // 2:
                n_bad += 1
                continue
            yw = er[r0c:r1c]
            if xw.std() == 0 or yw.std() == 0:
                n_bad += 1
                continue
            try:
                # lag of yw relative to xw, in the slices' own index frames
                base = (r0c - s0) / fs
                lag, corr, psr, _ = _xcorr_lag(
                    xw, yw, fs, lag_min=glob.lag_s - hw - base,
                    lag_max=glob.lag_s + hw - base, min_overlap=0.75 * window,
                    exclude=0.25,
                )  # fmt: skip
            except ClockError:
                n_bad += 1
                continue
            if not (np.isfinite(psr) and psr >= min_confidence):
                n_bad += 1
                continue
            centre = (s0 + nwin / 2) / fs
            xs.append(centre)
            ys.append(centre + lag + base)
        xs, ys = np.asarray(xs), np.asarray(ys)
        if len(xs) < 3:
            logger.warning(
                "estimate_drift_from_signals: only %d usable window(s) of %d; using one "
                "global lag (%.4f s) and no drift", len(xs), len(starts), glob.lag_s,
            )  # fmt: skip
            return ClockModel(
                glob.lag_s, 0.0, float("nan"), float("nan"), 1, n_bad, "lag",
                details={"global": glob.to_dict()},
            )  # fmt: skip
        a, b, keep = _robust_line(xs, ys, floor=0.5 / fs)
        model = _finish_model(
            xs, ys, keep, a, b, n_extra_rejected=n_bad, method="signal",
            max_drift_ppm=max_drift_ppm, max_residual=max_residual,
            what=f"{len(xs)} windowed lags",
        )  # fmt: skip
        model.details = {"global": glob.to_dict(), "window_centres": xs, "window_lags": ys - xs}
        return model


# ---------------------------------------------------------------------- applying
def _resample_onto(data: np.ndarray, sfreq_b: float, t_b: np.ndarray, kind: str):
    """Values of ``data`` (n_ch, n) sampled at ``t_b`` (s); outside the record: NaN."""
    pos = t_b * sfreq_b
    n = data.shape[-1]
    inside = (pos >= 0) & (pos <= n - 1)
    out = np.full((data.shape[0], len(t_b)), np.nan)
    if not inside.any():
        return out, inside
    if kind == "linear":
        i0 = np.clip(np.floor(pos[inside]).astype(int), 0, n - 2)
        fr = pos[inside] - i0
        out[:, inside] = data[:, i0] * (1 - fr) + data[:, i0 + 1] * fr
    else:
        from scipy.interpolate import CubicSpline

        cs = CubicSpline(np.arange(n), data, axis=1)
        out[:, inside] = cs(pos[inside])
    return out, inside


def apply_clock(inst, model: ClockModel, *, pid: str | None = None, kind: str = "cubic",
                n_times: int | None = None, verbose=None):  # fmt: skip
    """Resample a recording on clock ``b`` onto clock ``a`` using ``model``.

    Parameters
    ----------
    inst : mne.io.BaseRaw | Dyad
        A Raw recorded on clock ``b``, or a Dyad whose participant ``pid`` (default: the
        second) is on clock ``b`` while the other defines clock ``a``.
    model : ClockModel
        ``t_a = offset + (1 + drift_ppm*1e-6) t_b``.
    pid : str | None
        Participant to move (Dyad input only).
    kind : ``'cubic'`` | ``'linear'``
        Interpolation between samples.
    n_times : int | None
        Number of output samples (Raw input; default keeps the length). For a Dyad the
        output has as many samples as the reference participant's raw.
    verbose : bool | str | int | None
        Log level for this call.

    Returns
    -------
    mne.io.BaseRaw | Dyad
        A new Raw (samples ``k / sfreq`` on clock ``a``); samples clock ``b`` did not record
        are set to 0 and covered by a ``'BAD_no_data'`` annotation. For a Dyad, a copy with
        the participant's raw replaced and the clock report in ``meta['clock']``; samples
        without data are counted in ``exclusions``.
    """
    import mne

    from ..dyad import Dyad

    check_option("kind", kind, ("cubic", "linear"))
    with verbose_context(verbose):
        if isinstance(inst, Dyad):
            dyad = inst.copy()
            pid = dyad.ids[1] if pid is None else pid
            p = dyad[pid]
            ref = dyad.other(pid)
            new, n_missing = _apply_raw(p.raw, model, kind, ref.raw.n_times, ref.sfreq)
            p.raw = new
            if n_missing:
                dyad.exclusions.add(
                    "apply_clock", "sample", f"{pid} outside its recording on the reference "
                    "clock", "no data on clock b (annotated BAD_no_data)", n_missing,
                )  # fmt: skip
            dyad.meta.setdefault("clock", {})[f"{pid}->{ref.id}"] = model.to_dict()
            return dyad
        if not isinstance(inst, mne.io.BaseRaw):
            raise TypeError(f"inst must be an mne.io.Raw or a Dyad; got {type(inst).__name__}")
        new, _ = _apply_raw(inst, model, kind, n_times or inst.n_times, inst.info["sfreq"])
        return new


def _apply_raw(raw, model: ClockModel, kind: str, n_times: int, sfreq_a: float):
    import mne

    sf_b = raw.info["sfreq"]
    if abs(sfreq_a - sf_b) > 1e-9 * sf_b:
        raise ValueError(
            f"the recordings have different sampling rates (reference {sfreq_a} Hz, moved "
            f"{sf_b} Hz); resample one first (raw.resample) so both share one nominal rate"
        )
    t_a = np.arange(n_times) / sfreq_a
    t_b = model.to_b(t_a)
    data, inside = _resample_onto(raw.get_data(), sf_b, t_b, kind)
    data[:, ~inside] = 0.0
    info = raw.info.copy()
    new = mne.io.RawArray(data, info, verbose=False)
    ann = []
    if raw.annotations is not None and len(raw.annotations):
        a = raw.annotations
        on_a = model.to_a(a.onset - raw.first_time)
        ann.append(mne.Annotations(on_a, a.duration * model.scale, a.description))
    n_missing = int((~inside).sum())
    if n_missing:
        # contiguous runs of missing samples
        d = np.diff(np.concatenate([[0], (~inside).astype(int), [0]]))
        s, e = np.nonzero(d == 1)[0], np.nonzero(d == -1)[0]
        ann.append(mne.Annotations(s / sfreq_a, (e - s) / sfreq_a, ["BAD_no_data"] * len(s)))
    if ann:
        allann = ann[0]
        for x in ann[1:]:
            allann = allann + x
        new.set_annotations(allann)
    return new, n_missing


def _transform_transcript(tr, model: ClockModel):
    from ..transcript import Transcript

    w = tr.words
    w["onset"] = model.to_a(w["onset"].to_numpy())
    w["offset"] = model.to_a(w["offset"].to_numpy())
    if tr.segmentation == "pause":
        w = w.drop(columns=["utterance_id"])
    return Transcript(
        w, speakers=tr.speakers, pause_threshold=tr.pause_threshold,
        segmentation=tr.segmentation, on_overlap="clip", source=tr.source,
    )  # fmt: skip


def _transform_audio(audio: np.ndarray, sfreq: float, model: ClockModel, n_out: int | None):
    """Audio from clock b onto clock a (linear interpolation; zeros where unrecorded)."""
    if n_out is None:
        n_out = int(np.floor((model.to_a(len(audio) / sfreq)) * sfreq))
        n_out = max(n_out, 0)
    t_b = model.to_b(np.arange(n_out) / sfreq)
    pos = t_b * sfreq
    if model.drift_ppm == 0 and np.allclose(pos - np.round(pos), 0, atol=1e-6):
        idx = np.round(pos).astype(int)
        ok = (idx >= 0) & (idx < len(audio))
        out = np.zeros(n_out, audio.dtype)
        out[ok] = audio[idx[ok]]
        return out
    out = np.interp(pos, np.arange(len(audio)), audio, left=0.0, right=0.0)
    return out.astype(audio.dtype, copy=False)


def sync_dyad(
    dyad,
    method: str = "triggers",
    *,
    triggers: dict | None = None,
    stim_channel: str | None = None,
    audio_channel: str | dict | None = None,
    tolerance: float = 0.01,
    max_drift_ppm: float = 1000.0,
    max_residual: float = 0.005,
    window: float = 20.0,
    max_lag: float | None = None,
    kind: str = "cubic",
    verbose=None,
):
    """Put both recordings, the microphone audio and the transcript on one clock.

    The first participant's amplifier defines the dyad clock.

    Parameters
    ----------
    dyad : Dyad
        Participants' raws on their own amplifier clocks.
    method : ``'triggers'`` | ``'audio'`` | ``'channel'``
        ``'triggers'``: shared trigger times (``triggers={pid: times_s}`` on each raw's own
        clock, or ``stim_channel`` read with :func:`mne.find_events`) give the clock model
        of participant 2 relative to participant 1; microphone audio and transcript are
        assumed to be on participant 1's clock already. ``'audio'``: each raw has a channel
        ``audio_channel`` (a name, or ``{pid: name}``) that recorded that participant's
        microphone; the microphones share one recorder clock. Windowed envelope lags give
        mic→amplifier models for both; participant 2's raw and the audio and transcript
        are then moved onto participant 1's amplifier clock. ``'channel'``: both raws
        recorded one shared sound (e.g. a mix of both microphones, or a stimulus) in
        ``audio_channel``; windowed envelope lags between the two give participant 2's
        clock model; audio and transcript are assumed to be on participant 1's clock.
    tolerance, max_drift_ppm, max_residual : float
        Trigger matching tolerance and trust limits (see :func:`estimate_drift`).
    window : float
        Window (s) of the windowed lags (``method='audio'``).
    max_lag : float | None
        Largest global audio lag searched (s).
    kind : ``'cubic'`` | ``'linear'``
        Interpolation of the resampled raw.
    verbose : bool | str | int | None
        Log level for this call.

    Returns
    -------
    Dyad
        A synchronized copy; ``meta['clock']`` holds the reports (models as dicts).
    """
    from ..dyad import Dyad

    check_option("method", method, ("triggers", "audio", "channel"))
    if not isinstance(dyad, Dyad):
        raise TypeError(f"dyad must be a Dyad; got {type(dyad).__name__}")
    with verbose_context(verbose):
        p1, p2 = dyad.participants
        if abs(p1.sfreq - p2.sfreq) > 1e-9 * p1.sfreq:
            raise ValueError(
                f"dyad {dyad.dyad_id!r}: sampling rates differ ({p1.id}: {p1.sfreq} Hz, "
                f"{p2.id}: {p2.sfreq} Hz); resample one recording to the other's rate first"
            )
        report: dict = {"method": method, "reference": p1.id}
        if method == "triggers":
            times = _trigger_times(dyad, triggers, stim_channel)
            model = estimate_drift(
                times[p1.id], times[p2.id], tolerance=tolerance, max_drift_ppm=max_drift_ppm,
                max_residual=max_residual,
            )  # fmt: skip
            out = dyad.copy()
            new, n_missing = _apply_raw(p2.raw, model, kind, p1.raw.n_times, p1.sfreq)
            out[p2.id].raw = new
            report[f"{p2.id}->{p1.id}"] = model.to_dict()
        elif method == "channel":
            chans = _channel_names(dyad, audio_channel)
            sig = {p.id: p.raw.get_data(picks=[chans[p.id]])[0] for p in dyad.participants}
            model = estimate_drift_from_signals(
                sig[p2.id], p2.sfreq, sig[p1.id], p1.sfreq, window=window, max_lag=max_lag,
                max_drift_ppm=max_drift_ppm, max_residual=max_residual,
            )  # fmt: skip
            out = dyad.copy()
            new, n_missing = _apply_raw(p2.raw, model, kind, p1.raw.n_times, p1.sfreq)
            out[p2.id].raw = new
            report[f"{p2.id}->{p1.id}"] = model.to_dict()
        else:
            if audio_channel is None:
                raise ValueError(
                    "method='audio' needs audio_channel= the name of the channel in each raw "
                    "that recorded the microphone (or {pid: name})"
                )
            chans = _channel_names(dyad, audio_channel)
            models = {}
            for p in dyad.participants:
                if p.audio is None:
                    raise ValueError(
                        f"method='audio': participant {p.id!r} has no microphone audio; "
                        "attach it (Participant(audio=..., audio_sfreq=...)) or use "
                        "method='triggers'"
                    )
                ref = p.raw.get_data(picks=[chans[p.id]])[0]
                try:
                    models[p.id] = estimate_drift_from_signals(
                        p.audio, p.audio_sfreq, ref, p.sfreq, window=window, max_lag=max_lag,
                        max_drift_ppm=max_drift_ppm, max_residual=max_residual,
                    )  # fmt: skip
                except ClockError as err:  # name whose microphone / channel it is
                    raise ClockError(
                        f"dyad {dyad.dyad_id!r}, participant {p.id!r} (microphone vs channel "
                        f"{chans[p.id]!r}): {err}"
                    ) from None
                report[f"mic->{p.id}"] = models[p.id].to_dict()
            # raw2 clock -> raw1 clock: t1 = M1(M2^-1(t2))
            model = models[p1.id].compose(models[p2.id].inverse())
            report[f"{p2.id}->{p1.id}"] = model.to_dict()
            out = dyad.copy()
            new, n_missing = _apply_raw(p2.raw, model, kind, p1.raw.n_times, p1.sfreq)
            out[p2.id].raw = new
            m1 = models[p1.id]
            for p in out.participants:
                p.audio = _transform_audio(p.audio, p.audio_sfreq, m1, None)
            if out.transcript is not None:
                tr = _transform_transcript(out.transcript, m1)
                out.transcript = None
                n0 = tr.n_words
                dur = out.duration
                if tr.n_words and (tr.end > dur or tr.words["onset"].min() < 0):
                    tr = tr.crop(0, dur)
                    out.exclusions.add(
                        "sync_dyad", "word", f"outside [0, {dur:.3f}] s after clock alignment",
                        "outside the recording on the reference clock", n0 - tr.n_words,
                    )  # fmt: skip
                out.set_transcript(tr)
        if n_missing:
            out.exclusions.add(
                "sync_dyad", "sample", f"{p2.id} not recorded on {p1.id}'s clock",
                "no data (annotated BAD_no_data)", n_missing,
            )  # fmt: skip
        out.meta["clock"] = report
        return out


def _channel_names(dyad, audio_channel) -> dict:
    if audio_channel is None:
        raise ValueError(
            "this method needs audio_channel= the name of the channel in each raw that "
            "recorded the sound (or {pid: name})"
        )
    chans = (
        audio_channel
        if isinstance(audio_channel, dict)
        else {p.id: audio_channel for p in dyad.participants}
    )
    for p in dyad.participants:
        ch = chans.get(p.id)
        if ch not in p.raw.ch_names:
            raise ValueError(
                f"audio_channel {ch!r} not in the raw of {p.id!r}; its channels include "
                f"{p.raw.ch_names[:10]}"
            )
    return chans


def _trigger_times(dyad, triggers, stim_channel) -> dict:
    if triggers is not None:
        missing = [pid for pid in dyad.ids if pid not in triggers]
        if missing:
            raise ValueError(
                f"triggers must have one array of times per participant; missing {missing} "
                f"(keys given: {list(triggers)})"
            )
        return {pid: np.asarray(triggers[pid], float) for pid in dyad.ids}
    if stim_channel is None:
        raise ValueError(
            "method='triggers' needs triggers={pid: times_s} or stim_channel= the name of the "
            "trigger channel in both raws"
        )
    import mne

    out = {}
    for p in dyad.participants:
        if stim_channel not in p.raw.ch_names:
            raise ValueError(f"stim_channel {stim_channel!r} not in the raw of {p.id!r}")
        ev = mne.find_events(p.raw, stim_channel=stim_channel, verbose=False)
        out[p.id] = (ev[:, 0] - p.raw.first_samp) / p.sfreq
    return out
