"""Clock alignment of a whole dyad: both amplifiers, the microphones and the transcript.

:func:`align_clocks` (formerly ``sync_dyad``) puts a :class:`~hyperalign.Dyad` on one clock.
This is clock *synchronisation*; inter-brain *synchrony* is :mod:`hyperalign.coupling`.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..utils import _validate_type, check_option, fill_doc, verbose
from ._apply_clock import _apply_raw, _transform_audio, _transform_transcript
from ._clock_model import ClockError
from ._drift import estimate_drift, estimate_drift_from_signals


@fill_doc
@verbose
def align_clocks(
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
    interpolation: str = "cubic",
    verbose=None,
):
    """Put both recordings, the microphone audio and the transcript on one clock.

    The first participant's amplifier defines the dyad clock. This is clock
    synchronisation (formerly ``sync_dyad``), not inter-brain synchrony.

    Parameters
    ----------
    %(dyad)s
        Its participants' raws are on their own amplifier clocks.
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
    triggers : dict of str to array-like of float | None
        Trigger times (s) of the same events per participant, each on its own raw's clock
        (``method='triggers'``).
    stim_channel : str | None
        Name of the trigger channel in both raws, read with :func:`mne.find_events` when
        ``triggers`` is not given.
    audio_channel : str | dict of str to str | None
        The channel that recorded the sound (``method='audio'`` or ``'channel'``).
    tolerance : float
        Trigger matching tolerance (s; see :func:`estimate_drift`).
    max_drift_ppm : float
        Largest drift trusted (ppm).
    max_residual : float
        Largest residual RMS (s) of the clock fit trusted.
    window : float
        Window (s) of the windowed lags (``method='audio'`` or ``'channel'``).
    max_lag : float | None
        Largest global audio lag searched (s).
    interpolation : ``'cubic'`` | ``'linear'``
        Interpolation of the resampled raw.
    %(verbose)s

    Returns
    -------
    dyad : Dyad
        A synchronized copy; ``meta['clock']`` holds the reports (models as dicts).

    See Also
    --------
    estimate_drift : The clock model from shared triggers.
    estimate_drift_from_signals : The clock model from one sound recorded on both clocks.
    apply_clock : Move one recording with a known clock model.

    Examples
    --------
    Participant B's amplifier started 0.25 s late and runs 50 ppm slow; 30 shared triggers
    recover its clock:

    >>> import numpy as np
    >>> import hyperalign as ha
    >>> from hyperalign.align import align_clocks
    >>> rng = np.random.default_rng(0)
    >>> raws = [ha.make_participant_raw(rng.standard_normal((1, 6000)), 100.0)
    ...         for _ in range(2)]
    >>> dyad = ha.Dyad([ha.Participant("A", raws[0]), ha.Participant("B", raws[1])])
    >>> t_a = np.sort(rng.uniform(1, 59, 30))
    >>> t_b = (t_a - 0.25) / (1 + 50e-6)
    >>> out = align_clocks(dyad, "triggers", triggers={"A": t_a, "B": t_b})
    >>> model = out.meta["clock"]["B->A"]
    >>> print(f"{model['offset']:.3f} s, {model['drift_ppm']:.0f} ppm")
    0.250 s, 50 ppm
    """
    from ..dyad import Dyad

    check_option("method", method, ("triggers", "audio", "channel"))
    check_option("interpolation", interpolation, ("cubic", "linear"))
    _validate_type(dyad, Dyad, "dyad", "a Dyad")
    p1, p2 = dyad.participants
    if abs(p1.sfreq - p2.sfreq) > 1e-9 * p1.sfreq:
        raise ValueError(
            f"dyad {dyad.dyad_id!r}: sampling rates differ ({p1.id}: {p1.sfreq} Hz, "
            f"{p2.id}: {p2.sfreq} Hz); resample one recording to the other's rate first"
        )
    limits = dict(max_drift_ppm=max_drift_ppm, max_residual=max_residual)
    report: dict = {"method": method, "reference": p1.id}
    if method == "triggers":
        times = _trigger_times(dyad, triggers, stim_channel)
        model = estimate_drift(times[p1.id], times[p2.id], tolerance=tolerance, **limits)
    elif method == "channel":
        chans = _channel_names(dyad, audio_channel)
        sig = {p.id: p.raw.get_data(picks=[chans[p.id]])[0] for p in dyad.participants}
        model = estimate_drift_from_signals(
            sig[p2.id], p2.sfreq, sig[p1.id], p1.sfreq, window=window, max_lag=max_lag, **limits
        )
    else:
        mic_models = _mic_models(dyad, audio_channel, window=window, max_lag=max_lag, **limits)
        for pid, m in mic_models.items():
            report[f"mic->{pid}"] = m.to_dict()
        # raw2 clock -> raw1 clock: t1 = M1(M2^-1(t2))
        model = mic_models[p1.id].compose(mic_models[p2.id].inverse())
    report[f"{p2.id}->{p1.id}"] = model.to_dict()
    out = dyad.copy()
    new, n_missing = _apply_raw(p2.raw, model, interpolation, p1.raw.n_times, p1.sfreq)
    out[p2.id].raw = new
    if method == "audio":
        _move_audio_and_transcript(out, mic_models[p1.id])
    if n_missing:
        out.exclusions.add(
            "sync_dyad", "sample", f"{p2.id} not recorded on {p1.id}'s clock",
            "no data (annotated BAD_no_data)", n_missing,
        )  # fmt: skip
    out.meta["clock"] = report
    return out


def sync_dyad(dyad, method: str = "triggers", *, kind: str = "cubic", **kwargs):
    """Put a dyad on one clock (deprecated alias of :func:`align_clocks`).

    .. deprecated::
        ``sync_dyad`` is renamed :func:`align_clocks` (clock synchronisation, not
        inter-brain synchrony) and its ``kind`` is ``interpolation``; the alias goes in the
        next release.

    Parameters
    ----------
    dyad : Dyad
        See :func:`align_clocks`.
    method : str
        See :func:`align_clocks`.
    kind : ``'cubic'`` | ``'linear'``
        The ``interpolation`` of :func:`align_clocks`.
    **kwargs : dict
        The other keyword arguments of :func:`align_clocks`.

    Returns
    -------
    dyad : Dyad
        As :func:`align_clocks`.

    See Also
    --------
    align_clocks : The new name.
    """
    warnings.warn(
        "sync_dyad is deprecated and will be removed in the next release; use "
        "hyperalign.align.align_clocks (its kind= is now interpolation=)",
        FutureWarning,
        stacklevel=2,
    )
    return align_clocks(dyad, method, interpolation=kind, **kwargs)


def _mic_models(dyad, audio_channel, *, window, max_lag, max_drift_ppm, max_residual) -> dict:
    """Microphone-clock -> amplifier-clock model of each participant (``method='audio'``)."""
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
    return models


def _move_audio_and_transcript(out, m1) -> None:
    """Microphones and transcript from the recorder clock onto participant 1's clock."""
    for p in out.participants:
        p.audio = _transform_audio(p.audio, p.audio_sfreq, m1, None)
    if out.transcript is None:
        return
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
