"""Triggers and drift: offset and linear drift between two clocks from shared events.

:func:`align_by_triggers` and :func:`estimate_drift` use trigger times recorded on both
clocks; :func:`estimate_drift_from_signals` uses windowed envelope lags of one sound recorded
on both.
"""

from __future__ import annotations

import numpy as np

from ..utils import check_positive, fill_doc, logger, verbose
from ._audio_lag import _xcorr_lag, envelope, find_audio_lag
from ._clock_model import ClockError, ClockModel, TriggerMatch, _finish_model, _robust_line


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


@fill_doc
@verbose
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
    %(verbose)s

    Returns
    -------
    match : TriggerMatch
        Indices of the matched triggers in each sequence and the unmatched counts.

    See Also
    --------
    estimate_drift : The clock model fitted through the matches.
    """
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


@fill_doc
@verbose
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
    %(verbose)s

    Returns
    -------
    ClockModel
        ``t_a = offset + (1 + drift_ppm*1e-6) t_b``; unmatched triggers and outliers are
        counted in ``n_rejected``; the matched indices are in ``details``.

    See Also
    --------
    align_by_triggers : The matching step.
    apply_clock : Move a recording with the model.
    align_clocks : Put a whole dyad on one clock.
    """
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


@fill_doc
@verbose
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
    %(verbose)s

    Returns
    -------
    ClockModel
        ``t_ref = offset + (1 + drift_ppm*1e-6) t_sig``. With fewer than 3 usable windows the
        drift is set to 0 and ``method='lag'`` (one lag only).

    See Also
    --------
    find_audio_lag : One global lag.
    estimate_drift : The clock model from shared triggers.
    """
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
