"""Containers everything else passes around: :class:`Participant` and :class:`Dyad`.

A :class:`Dyad` is one conversation: two participants, each with an :class:`mne.io.Raw` of
any channel type MNE supports and optional microphone audio, plus one :class:`Transcript`,
all on one shared time base (seconds from the dyad's time zero; sample ``k`` of a raw is at
``k / sfreq``). Channel names keep the participant's own names; :meth:`Dyad.to_hypyp` and
:meth:`Dyad.merged_raw` add HyPyP's ``_S1`` / ``_S2`` suffixes.
"""

from __future__ import annotations

import copy as _copy
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .transcript import Transcript
from .utils import ExclusionLog, _validate_type, logger

SUFFIXES = ("_S1", "_S2")


#: integer PCM conventions (soundfile / scipy.io.wavfile): value / scale, after the offset
_PCM = {
    np.dtype(np.int8): (0.0, 2.0**7),
    np.dtype(np.int16): (0.0, 2.0**15),
    np.dtype(np.int32): (0.0, 2.0**31),
    np.dtype(np.uint8): (128.0, 2.0**7),  # 8-bit WAV is unsigned, centred on 128
}


def audio_as_float(audio, what: str = "audio") -> np.ndarray:
    """Return microphone samples as float64, integer PCM scaled to [-1, 1) by its dtype.

    ``int8``/``int16``/``int32`` are divided by ``2**(bits - 1)`` and ``uint8`` is centred on
    128 and divided by 128 (the soundfile / ``scipy.io.wavfile`` conventions). Other integer
    types, booleans, complex numbers and non-finite samples are refused with an error naming
    ``what``; float samples whose peak is far above full scale and that hold only whole
    numbers (integer PCM cast to float without scaling) give a warning.

    Parameters
    ----------
    audio : array-like
        Samples (any shape).
    what : str
        How errors and warnings name the samples (e.g. ``"audio of participant 'A'"``).

    Returns
    -------
    numpy.ndarray
        Float64 samples.

    See Also
    --------
    Participant, hyperalign.io.read_audio
    """
    a = np.asarray(audio)
    if a.dtype == bool or a.dtype.kind not in "iuf":
        raise TypeError(
            f"{what} has dtype {a.dtype}; give float samples (in [-1, 1] or pascal) or integer "
            f"PCM ({', '.join(str(d) for d in _PCM)}), e.g. from soundfile.read"
        )
    if a.dtype.kind in "iu":
        if a.dtype not in _PCM:
            raise TypeError(
                f"{what} has integer dtype {a.dtype}, which has no PCM scaling convention; "
                f"give int16/int32/uint8 PCM or float samples (x / full_scale)"
            )
        off, scale = _PCM[a.dtype]
        return (a.astype(np.float64) - off) / scale
    a = a.astype(np.float64, copy=False)
    bad = ~np.isfinite(a)
    if bad.any():
        first = np.unravel_index(int(np.flatnonzero(bad.ravel())[0]), a.shape)
        raise ValueError(
            f"{what} holds {int(bad.sum())} non-finite sample(s) (NaN/inf), the first at index "
            f"{first if a.ndim > 1 else first[0]}; replace them (e.g. np.nan_to_num(x)) or crop "
            "the audio"
        )
    if a.size:
        peak = float(np.abs(a).max())
        if peak > 2.0 and np.array_equal(a[: 1 << 16], np.round(a[: 1 << 16])):
            warnings.warn(
                f"{what} peaks at {peak:.6g}, far above full scale (1.0), and holds whole "
                "numbers only: it looks like integer PCM cast to float without scaling; pass "
                "the integer array itself, or divide by 32768 (16-bit) / 2**31 (32-bit)",
                RuntimeWarning,
                stacklevel=3,
            )
    return a


#: a microphone whose loudest 50-ms frames stay below this level (dB re full scale 1.0) is
#: silent: nothing but digital silence or a disconnected input (a live microphone's noise
#: floor is 20-60 dB above it)
SILENCE_DBFS = -100.0


def audio_level_db(x: np.ndarray, sfreq: float, *, q: float = 95.0) -> float:
    """Level of microphone samples: the ``q``-th percentile of 50-ms frame RMS, in dB re 1.0.

    ``-inf`` for digital silence. Used to tell a silent microphone (below
    :data:`SILENCE_DBFS`) and to compare the levels of a dyad's two microphones.

    Parameters
    ----------
    x : numpy.ndarray
        Float samples (1-D).
    sfreq : float
        Their rate (Hz).
    q : float
        Percentile of the frame RMS (95: the speech level, not the pauses).

    Returns
    -------
    float
        Level in dB re 1.0 (full scale).

    See Also
    --------
    hyperalign.features.acoustic.check_audio_levels
    """
    x = np.asarray(x, float)
    n = max(int(round(0.05 * sfreq)), 1)
    m = len(x) // n
    if m == 0:
        rms = np.sqrt(np.mean(x**2)) if len(x) else 0.0
        frames = np.array([rms])
    else:
        fr = x[: m * n].reshape(m, n)
        frames = np.sqrt(np.mean((fr - fr.mean(1, keepdims=True)) ** 2, axis=1))
    lev = float(np.percentile(frames, q))
    with np.errstate(divide="ignore"):
        return float(20 * np.log10(lev)) if lev > 0 else float("-inf")


def _check_channels(raw, pid: str) -> None:
    """A participant needs at least one channel that is not marked bad."""
    names = list(raw.ch_names)
    if not names:
        raise ValueError(
            f"participant {pid!r} has no usable channels: the recording has 0 channels; give "
            "a recording with the participant's channels (check picks / the channel split)"
        )
    bads = [c for c in raw.info["bads"] if c in names]
    if len(bads) == len(names):
        raise ValueError(
            f"participant {pid!r} has no usable channels: all {len(names)} channels are marked "
            f"bad (info['bads'] = {bads[:10]}{' ...' if len(bads) > 10 else ''}); unmark the "
            "channels that are usable (raw.info['bads'] = [...]) or leave the participant out"
        )
    if bads:
        logger.info("participant %s: %d of %d channel(s) marked bad", pid, len(bads), len(names))


@dataclass
class Participant:
    """One participant of a dyad.

    Parameters
    ----------
    id : str
        Participant id, also the speaker label in the transcript.
    raw : mne.io.BaseRaw
        The neural recording (EEG, MEG, iEEG, fNIRS, fMRI ROI series as ``misc``…).
    role : str
        Free label, e.g. ``'speaker'``, ``'parent'``, ``'child'``, ``'A'``.
    audio : numpy.ndarray | None
        Microphone samples, 1-D, on the dyad clock (sample 0 at t = 0). Integer PCM is
        scaled by its dtype (see :func:`audio_as_float`); NaN/inf samples are refused.
    audio_sfreq : float | None
        Audio sampling rate in Hz (required with ``audio``).
    info : dict
        Free per-participant metadata (e.g. the BIDS subject and source files).

    See Also
    --------
    Dyad : Two participants on one clock.
    """

    id: str
    raw: object
    role: str = ""
    audio: np.ndarray | None = None
    audio_sfreq: float | None = None
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        import mne

        self.id = str(self.id)
        _validate_type(
            self.raw,
            mne.io.BaseRaw,
            f"Participant {self.id!r}: raw",
            "an mne.io.Raw (wrap arrays with mne.io.RawArray)",
        )
        _check_channels(self.raw, self.id)
        if self.audio is not None:
            audio = audio_as_float(self.audio, f"audio of participant {self.id!r}")
            if audio.ndim != 1:
                raise ValueError(
                    f"Participant {self.id!r}: audio must be 1-D (one microphone); got shape "
                    f"{audio.shape}"
                )
            if audio.size == 0:
                raise ValueError(
                    f"Participant {self.id!r}: audio holds no samples; give the microphone "
                    "samples or audio=None"
                )
            if (
                self.audio_sfreq is None
                or not np.isfinite(self.audio_sfreq)
                or self.audio_sfreq <= 0
            ):
                raise ValueError(
                    f"Participant {self.id!r}: audio given without a valid audio_sfreq "
                    f"(got {self.audio_sfreq!r}); pass the microphone sampling rate in Hz"
                )
            self.audio = audio
            self.audio_sfreq = float(self.audio_sfreq)

    @property
    def sfreq(self) -> float:
        return float(self.raw.info["sfreq"])

    @property
    def duration(self) -> float:
        return self.raw.n_times / self.sfreq

    @property
    def audio_duration(self) -> float | None:
        return None if self.audio is None else len(self.audio) / self.audio_sfreq

    def copy(self) -> Participant:
        return Participant(
            id=self.id,
            raw=self.raw.copy(),
            role=self.role,
            audio=None if self.audio is None else self.audio.copy(),
            audio_sfreq=self.audio_sfreq,
            info=_copy.deepcopy(self.info),
        )


class Dyad:
    """One conversation between two participants on one clock.

    Parameters
    ----------
    participants : sequence of Participant
        Exactly two; the first gets HyPyP's ``_S1`` suffix, the second ``_S2``.
    transcript : Transcript | None
        Speaker labels must be participant ids.
    dyad_id : str
        Identifier of the dyad.
    meta : dict | None
        Free metadata (task, site, clock-alignment reports…).
    exclusions : ExclusionLog | None
        The log that counts what later steps leave out (a new, empty one if ``None``).
    check_sfreq : bool
        If True (default) both recordings must share one sampling rate.

    See Also
    --------
    Participant : One participant.
    hyperalign.io.read_dyad : Read a dyad from files.
    """

    def __init__(
        self,
        participants: Sequence[Participant],
        transcript: Transcript | None = None,
        *,
        dyad_id: str = "dyad",
        meta: dict | None = None,
        exclusions: ExclusionLog | None = None,
        check_sfreq: bool = True,
    ):
        participants = list(participants)
        if len(participants) != 2:
            raise ValueError(f"a Dyad needs exactly 2 participants; got {len(participants)}")
        if participants[0].id == participants[1].id:
            raise ValueError(f"the two participants share one id {participants[0].id!r}")
        if check_sfreq and participants[0].sfreq != participants[1].sfreq:
            raise ValueError(
                f"dyad {dyad_id!r}: sampling rates differ ({participants[0].id}: "
                f"{participants[0].sfreq} Hz, {participants[1].id}: {participants[1].sfreq} Hz); "
                "resample one recording (raw.resample) or pass check_sfreq=False"
            )
        self.participants = participants
        self.dyad_id = str(dyad_id)
        self.meta = dict(meta or {})
        self.exclusions = exclusions if exclusions is not None else ExclusionLog()
        self.transcript = None
        if transcript is not None:
            self.set_transcript(transcript)

    # ------------------------------------------------------------------ access
    @property
    def ids(self) -> list[str]:
        return [p.id for p in self.participants]

    @property
    def sfreq(self) -> float:
        return self.participants[0].sfreq

    @property
    def duration(self) -> float:
        """Length of the shorter recording (s): the span where both brains are recorded."""
        return min(p.duration for p in self.participants)

    @property
    def raws(self) -> list:
        return [p.raw for p in self.participants]

    def __getitem__(self, key: int | str) -> Participant:
        if isinstance(key, int | np.integer):
            return self.participants[int(key)]
        for p in self.participants:
            if p.id == key:
                return p
        raise KeyError(f"no participant {key!r} in dyad {self.dyad_id!r}; ids are {self.ids}")

    def other(self, pid: str) -> Participant:
        """The conversational partner of participant ``pid``.

        Parameters
        ----------
        pid : str
            A participant id.

        Returns
        -------
        partner : Participant
            The other participant.
        """
        a, b = self.participants
        if pid == a.id:
            return b
        if pid == b.id:
            return a
        raise KeyError(f"no participant {pid!r} in dyad {self.dyad_id!r}; ids are {self.ids}")

    def suffix(self, pid: str) -> str:
        """HyPyP suffix (``'_S1'`` or ``'_S2'``) of participant ``pid``.

        Parameters
        ----------
        pid : str
            A participant id.

        Returns
        -------
        suffix : str
            ``'_S1'`` for the first participant, ``'_S2'`` for the second.
        """
        return SUFFIXES[self.ids.index(self[pid].id)]

    def __repr__(self) -> str:
        parts = []
        for p, suf in zip(self.participants, SUFFIXES):
            types = sorted(set(p.raw.get_channel_types()))
            au = f", audio {p.audio_duration:.1f} s" if p.audio is not None else ""
            parts.append(
                f"{p.id}{suf} ({p.role or 'no role'}): "
                f"{len(p.raw.ch_names)} ch {'/'.join(types)}{au}"
            )
        tr = repr(self.transcript) if self.transcript is not None else "no transcript"
        ex = f", {self.exclusions.total()} excluded" if len(self.exclusions) else ""
        return (
            f"<Dyad {self.dyad_id!r} | {self.duration:.1f} s at {self.sfreq:g} Hz | "
            f"{'; '.join(parts)} | {tr}{ex}>"
        )

    # ------------------------------------------------------------------ editing
    def set_transcript(self, transcript: Transcript, *, check_duration: bool = True) -> None:
        """Attach ``transcript`` after checking speakers (and times, if ``check_duration``).

        Parameters
        ----------
        transcript : Transcript
            Its speaker labels must be the participant ids.
        check_duration : bool
            If True (default), words past the end of the recordings are an error.
        """
        _validate_type(transcript, Transcript, "transcript", "a Transcript")
        transcript.validate(duration=self.duration if check_duration else None, speakers=self.ids)
        for p in self.participants:
            if p.audio is not None and transcript.n_words:
                spoken = transcript.words.query("speaker == @p.id")
                if len(spoken) and spoken["offset"].max() > p.audio_duration + 1e-6:
                    raise ValueError(
                        f"dyad {self.dyad_id!r}: the audio of {p.id!r} lasts "
                        f"{p.audio_duration:.3f} s but the transcript has words of {p.id!r} up "
                        f"to {spoken['offset'].max():.3f} s; give the full audio or crop the "
                        "transcript"
                    )
        self.transcript = transcript

    def copy(self) -> Dyad:
        return Dyad(
            [p.copy() for p in self.participants],
            None if self.transcript is None else self.transcript.copy(),
            dyad_id=self.dyad_id,
            meta=_copy.deepcopy(self.meta),
            exclusions=self.exclusions.copy(),
            check_sfreq=False,
        )

    def crop(self, tmin: float = 0.0, tmax: float | None = None) -> Dyad:
        """Crop recordings, audio and transcript to ``[tmin, tmax]`` (in place; returns self).

        Times are re-zeroed at ``tmin``. Words not wholly inside the window are removed and
        counted in :attr:`exclusions`.

        Parameters
        ----------
        tmin : float
            Start of the window (s).
        tmax : float | None
            End of the window (s); ``None`` is the end of the shorter recording.

        Returns
        -------
        dyad : Dyad
            The same dyad, cropped.
        """
        if tmax is None:
            tmax = self.duration
        if not 0 <= tmin < tmax <= self.duration + 1e-9:
            raise ValueError(
                f"crop window [{tmin}, {tmax}] must satisfy 0 <= tmin < tmax <= duration "
                f"({self.duration:.3f} s)"
            )
        for p in self.participants:
            last = (p.raw.n_times - 1) / p.sfreq
            p.raw.crop(tmin, min(tmax, last), include_tmax=False)
            # MNE keeps first_samp; our clock is raw.times, which restarts at 0 after crop
            if p.audio is not None:
                a0 = int(round(tmin * p.audio_sfreq))
                a1 = int(round(tmax * p.audio_sfreq))
                p.audio = p.audio[a0:a1].copy()
        if self.transcript is not None:
            n0 = self.transcript.n_words
            self.transcript = self.transcript.crop(tmin, tmax)
            n_out = n0 - self.transcript.n_words
            if n_out:
                self.exclusions.add(
                    "crop", "word", f"outside [{tmin}, {tmax}] s", "cropped out", n_out
                )
        return self

    # ------------------------------------------------------------------ HyPyP bridge
    def merged_raw(self):
        """One :class:`mne.io.Raw` with both participants' channels, suffixed ``_S1``/``_S2``.

        Channels marked bad keep their mark (suffixed) in ``info['bads']``.

        Returns
        -------
        raw : mne.io.RawArray
            Both recordings, cut to the shorter one.
        """
        import mne

        raws = []
        n = min(p.raw.n_times for p in self.participants)
        for p, suf in zip(self.participants, SUFFIXES):
            r = p.raw.copy().crop(0, (n - 1) / p.sfreq)
            r.rename_channels({ch: f"{ch}{suf}" for ch in r.ch_names})
            raws.append(r)
        info = mne.create_info(
            raws[0].ch_names + raws[1].ch_names,
            self.sfreq,
            raws[0].get_channel_types() + raws[1].get_channel_types(),
        )
        data = np.concatenate([r.get_data() for r in raws])
        merged = mne.io.RawArray(data, info, verbose=False)
        merged.info["bads"] = [c for r in raws for c in r.info["bads"]]  # bads stay bad
        return merged

    def to_hypyp(self, epochs_s1, epochs_s2=None):
        """Return data shaped like HyPyP's ``(2, n_epochs, n_channels, n_times)`` array.

        Parameters
        ----------
        epochs_s1, epochs_s2 : mne.Epochs
            Matched epochs of participant 1 and 2 (or a list of two).

        Returns
        -------
        data : numpy.ndarray, shape (2, n_epochs, n_channels, n_times)
            The two participants' epochs stacked.
        """
        if epochs_s2 is None:
            epochs_s1, epochs_s2 = epochs_s1
        a, b = epochs_s1.get_data(), epochs_s2.get_data()
        if a.shape != b.shape:
            raise ValueError(
                f"epochs of the two participants differ in shape: {a.shape} vs {b.shape}"
            )
        return np.stack([a, b])

    def summary(self) -> pd.DataFrame:
        """One row per participant: id, role, suffix, channels, types, sfreq, duration, words.

        Returns
        -------
        table : pandas.DataFrame
            Columns ``dyad, participant, role, suffix, n_channels, ch_types, sfreq,
            duration_s, audio_s, n_words``.
        """
        rows = []
        for p, suf in zip(self.participants, SUFFIXES):
            nw = 0
            if self.transcript is not None:
                nw = int((self.transcript.words["speaker"] == p.id).sum())
            rows.append(
                {
                    "dyad": self.dyad_id,
                    "participant": p.id,
                    "role": p.role,
                    "suffix": suf,
                    "n_channels": len(p.raw.ch_names),
                    "ch_types": "/".join(sorted(set(p.raw.get_channel_types()))),
                    "sfreq": p.sfreq,
                    "duration_s": p.duration,
                    "audio_s": p.audio_duration,
                    "n_words": nw,
                }
            )
        return pd.DataFrame(rows)


def make_participant_raw(
    data: np.ndarray, sfreq: float, ch_names=None, ch_types="eeg", montage=None
):
    """Wrap a ``(n_channels, n_times)`` array (volts for EEG) in an ``mne.io.RawArray``.

    Parameters
    ----------
    data : numpy.ndarray, shape (n_channels, n_times)
        The samples (SI units: volts for EEG).
    sfreq : float
        Sampling rate (Hz).
    ch_names : list of str | None
        Channel names; default ``ch00, ch01, ...``.
    ch_types : str | list of str
        Channel type(s), as in :func:`mne.create_info`.
    montage : str | mne.channels.DigMontage | None
        Sensor positions set with :meth:`mne.io.Raw.set_montage` (missing ones ignored).

    Returns
    -------
    raw : mne.io.RawArray
        The recording.
    """
    import mne

    data = np.asarray(data, float)
    if data.ndim != 2:
        raise ValueError(f"data must be (n_channels, n_times); got shape {data.shape}")
    if ch_names is None:
        ch_names = [f"ch{i:02d}" for i in range(data.shape[0])]
    info = mne.create_info(list(ch_names), float(sfreq), ch_types)
    raw = mne.io.RawArray(data, info, verbose=False)
    if montage is not None:
        raw.set_montage(montage, on_missing="ignore", verbose=False)
    logger.debug("made raw %s", raw)
    return raw
