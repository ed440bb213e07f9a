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

import numpy as np
import pandas as pd

from ..dyad import SILENCE_DBFS
from ..utils import check_option, check_positive, fill_doc, logger, verbose
from ._acoustic_aggregate import _aggregate
from ._acoustic_dsp import N_MFCC, P_REF, _resample, mel_filterbank
from ._acoustic_frames import (
    MIN_AUDIO_SFREQ,
    AcousticError,
    _channel_features,
    _get_audio,
    _speech_regions,
    check_audio_levels,
)

TIMESERIES_FEATURES = ("envelope", "logmel", "f0", "intensity")

__all__ = [
    "compute_acoustic_features",
    "compute_acoustic_timeseries",
    "AcousticError",
    "TIMESERIES_FEATURES",
    "check_audio_levels",
]
# re-exported for callers of the old single module (speech features, tests)
_REEXPORTED = (MIN_AUDIO_SFREQ, N_MFCC, P_REF, _get_audio, _resample, mel_filterbank)


# ---------------------------------------------------------------------- public API
@fill_doc
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
    %(f0_method)s
    %(f0_range)s
    f0_scope : ``'speech'`` | ``'channel'``
        Track F0 only over the speaker's utterances (padded by 0.1 s, default, faster
        when speech is sparse) or over the whole microphone channel.
    %(envelope_method)s
    %(env_lowpass)s
    log_envelope : bool
        If True, ``env_mean``/``env_sd`` are of ``20 log10(envelope)`` (dB re 1 audio unit).
    %(n_mels)s
    %(frame_rate)s
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
    %(verbose)s

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

    See Also
    --------
    compute_acoustic_timeseries : Acoustic time series at the neural rate.
    check_audio_levels : The microphone level checks run first.
    compute_acoustic_similarity : Similarity of each utterance with its previous turn.

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

    Examples
    --------
    Participant A hums at 150 Hz, B at 200 Hz; F0 per word:

    >>> import numpy as np
    >>> import pandas as pd
    >>> import hyperalign as ha
    >>> from hyperalign.features.acoustic import compute_acoustic_features
    >>> sr, rng = 16000, np.random.default_rng(0)
    >>> t = np.arange(4 * sr) / sr
    >>> def hum(f0, t0, t1):
    ...     return 0.1 * np.sin(2 * np.pi * f0 * t) * ((t > t0) & (t < t1))
    >>> mics = [hum(150, 1.0, 2.0), hum(200, 2.5, 3.0)]
    >>> raws = [ha.make_participant_raw(rng.standard_normal((2, 400)) * 1e-6, 100.0)
    ...         for _ in range(2)]
    >>> parts = [ha.Participant(pid, raw, audio=x + 1e-3 * rng.standard_normal(len(t)),
    ...                         audio_sfreq=sr) for pid, raw, x in zip("AB", raws, mics)]
    >>> words = pd.DataFrame({"onset": [1.0, 1.5, 2.5], "offset": [1.5, 2.0, 3.0],
    ...                       "word": ["ah", "oh", "eh"], "speaker": ["A", "A", "B"]})
    >>> df = compute_acoustic_features(ha.Dyad(parts, ha.Transcript(words)), "word")
    >>> df["f0_mean"].round().tolist()
    [150.0, 150.0, 200.0]
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
        return _timeseries_table(
            dyad, sfreq=sfreq, f0_method=f0_method, f0_min=f0_min, f0_max=f0_max,
            envelope=envelope, env_lowpass=env_lowpass, frame_rate=frame_rate,
        )  # fmt: skip
    spans, empty = _spans(dyad, level, min_duration=min_duration, on_empty=on_empty)
    tr = dyad.transcript
    rows = []
    counts = {"n_unvoiced": 0, "n_mic_silent": 0, "unvoiced": []}
    check_audio_levels(
        dyad, max_diff_db=max_level_diff_db, participants=set(spans["speaker"].astype(str))
    )
    for pid in dyad.ids:
        mine = spans[spans["speaker"] == pid]
        if not len(mine):
            continue
        x, sr = _get_audio(dyad, pid)
        utt = tr.utterances
        regions = _speech_regions(utt[utt["speaker"] == pid]) if f0_scope == "speech" else None
        logger.info("acoustic features of %r: %.1f s of audio at %g Hz", pid, len(x) / sr, sr)
        ch = _channel_features(
            x, sr, frame_rate=frame_rate, n_mels=n_mels, f0_method=f0_method, f0_min=f0_min,
            f0_max=f0_max, f0_regions=regions, envelope=envelope, env_lowpass=env_lowpass,
            silence_db=silence_db, need=("envelope", "f0", "intensity", "spectral"),
        )  # fmt: skip
        if log_envelope:
            ch.envelope = 20 * np.log10(np.maximum(ch.envelope, 1e-12))
        rows.append(_speaker_rows(dyad, pid, mine, ch, level, min_pause, min_duration, counts))
    if counts["n_unvoiced"]:
        logger.warning(
            "acoustic features: %d %s(s) without a voiced frame (f0_mean NaN, kept)",
            counts["n_unvoiced"], level,
        )  # fmt: skip
    out = _finish_table(rows, level)
    out.attrs["report"] = {
        "level": level,
        "n_rows": len(out),
        "n_unvoiced": counts["n_unvoiced"],
        "unvoiced": sorted(counts["unvoiced"]),
        "n_empty": int(empty.sum()),
        "n_mic_silent": counts["n_mic_silent"],
        "f0_method": f0_method,
        "f0_range_hz": (f0_min, f0_max),
        "envelope": envelope,
        "env_lowpass_hz": env_lowpass,
        "frame_rate_hz": frame_rate,
        "silence_db": silence_db,
        "min_pause_s": min_pause,
    }
    return out


def _timeseries_table(dyad, *, sfreq, **kwargs) -> pd.DataFrame:
    """``level='timeseries'``: own-microphone envelope, F0 and intensity per neural sample."""
    frames = []
    for pid in dyad.ids:
        if dyad[pid].audio is None:
            logger.warning("acoustic timeseries: participant %r has no audio", pid)
            continue
        raw = compute_acoustic_timeseries(
            dyad, pid, features=("envelope", "f0", "intensity"), sfreq=sfreq, source="own",
            **kwargs,
        )  # fmt: skip
        df = pd.DataFrame(raw.get_data().T, columns=["envelope", "f0", "intensity"])
        df.insert(0, "participant", pid)
        df.insert(0, "time", raw.times)
        frames.append(df)
    if not frames:
        raise AcousticError(f"dyad {dyad.dyad_id!r}: no participant has audio")
    return pd.concat(frames, ignore_index=True)


def _spans(dyad, level: str, *, min_duration: float, on_empty: str):
    """The utterance or word rows to measure, and which are empty (too short)."""
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
    return spans, empty


def _speaker_rows(dyad, pid, mine, ch, level, min_pause, min_duration, counts) -> pd.DataFrame:
    """Features of one speaker's spans; empty and silent-microphone spans NaN and counted."""
    feats = _aggregate(ch, mine["onset"].to_numpy(float), mine["offset"].to_numpy(float),
                       min_pause)  # fmt: skip
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
        counts["n_mic_silent"] += int(dead.sum())
    if emp.any():
        dyad.exclusions.add(
            "acoustic", level, f"{pid}: {int(emp.sum())} empty span(s)",
            f"shorter than min_duration={min_duration} s: features NaN", int(emp.sum()),
        )  # fmt: skip
    unv = (~emp) & (~dead) & df["f0_mean"].isna().to_numpy()
    counts["n_unvoiced"] += int(unv.sum())
    key = "utterance_id" if level == "utterance" else "word_index"
    counts["unvoiced"].extend(df.loc[unv, key].astype(int).tolist())
    return df


def _finish_table(rows: list, level: str) -> pd.DataFrame:
    """One table sorted by span, identification columns then features."""
    out = pd.concat(rows, ignore_index=True)
    sort_key = "utterance_id" if level == "utterance" else "word_index"
    out = out.sort_values(sort_key, kind="mergesort").reset_index(drop=True)
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
    return out[keep + [c for c in feat if c in out]]


@fill_doc
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
    %(f0_method)s
    %(f0_range)s
    f0_fill : ``'zero'`` | ``'interp'``
        Value of unvoiced frames before resampling: 0 Hz, or linear interpolation between
        voiced frames (NaN cannot pass the anti-aliasing filter).
    %(envelope_method)s
    %(env_lowpass)s
    log_envelope : bool
        If True, the envelope is ``20 log10(envelope)`` (dB re 1 audio unit).
    %(n_mels)s
    %(frame_rate)s
    %(verbose)s

    Returns
    -------
    series : mne.io.RawArray | xarray.DataArray
        One channel (row) per feature and microphone, ``n_times`` samples at ``sfreq``.

    See Also
    --------
    compute_acoustic_features : Features per utterance or word.
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
            v, nm = _feature_series(ch, f, label, log_envelope=log_envelope, f0_fill=f0_fill)
            chans.append(_to_length(_resample(v, frame_rate, sf_out, axis=-1), n_out, mic, sf_out))
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


def _feature_series(ch, f: str, label: str, *, log_envelope: bool, f0_fill: str):
    """One feature of a channel on its frame grid: ``(values (n_ch, n_frames), names)``."""
    if f == "envelope":
        v = ch.envelope[None]
        if log_envelope:
            v = 20 * np.log10(np.maximum(v, 1e-12))
        return v, [f"{label}_envelope"]
    if f == "intensity":
        return ch.intensity[None], [f"{label}_intensity"]
    if f == "f0":
        f0 = ch.f0.copy()
        ok = np.isfinite(f0)
        if f0_fill == "interp" and ok.sum() >= 2:
            f0 = np.interp(np.arange(len(f0)), np.nonzero(ok)[0], f0[ok])
        else:
            f0[~ok] = 0.0
        return f0[None], [f"{label}_f0"]
    v = ch.logmel
    return v, [f"{label}_logmel_{i:02d}" for i in range(v.shape[0])]


def _to_length(v: np.ndarray, n_out: int, mic: str, sf_out: float) -> np.ndarray:
    """Cut to the neural length, or pad with the last value (logged) when the audio ends first."""
    if v.shape[1] >= n_out:
        return v[:, :n_out]
    n_pad = n_out - v.shape[1]
    logger.info(
        "acoustic timeseries: audio of %r ends %.3f s before the neural "
        "recording; %d sample(s) padded with the last value", mic, n_pad / sf_out, n_pad,
    )  # fmt: skip
    return np.pad(v, ((0, 0), (0, n_pad)), mode="edge")
