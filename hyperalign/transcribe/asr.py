"""Speech recognition with word timestamps, one microphone per participant.

Each participant's own microphone is transcribed separately, so the microphone gives the
speaker label. A close microphone also picks up the partner (cross-talk): a word recognized
on microphone A that is also recognized on microphone B at the same time, where B is
louder during that word, was said by B and is dropped from A (or flagged), and reported.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..io.transcripts.whisperx import to_whisperx_dict as _to_whisperx_dict
from ..io.transcripts.whisperx import write_whisperx_json
from ..transcript import Transcript
from ..utils import check_option, fill_doc, logger, verbose
from ._models import WHISPER_SFREQ, load_whisper, to_whisper_audio
from .forced import refine_onsets_by_energy
from .metrics import normalize_word

BACKENDS = ("faster-whisper", "whisperx")


@dataclass
class TranscriptionReport:
    """What :func:`transcribe_dyad` did.

    Parameters
    ----------
    n_words : dict
        Words recognized per speaker (before cross-talk removal).
    crosstalk : pandas.DataFrame
        One row per cross-talk word: ``speaker`` (the microphone it was found on),
        ``source`` (the partner who said it), ``word, onset, offset, rms_db_own,
        rms_db_partner, action`` (``'dropped'`` or ``'flagged'``).
    model, backend, language : str
        The Whisper model, the engine and the spoken language used.
    params : dict
        The decoding and cross-talk options (``vad_filter``, ``beam_size``, ...).

    See Also
    --------
    transcribe_dyad : Returns it with ``return_report=True``.
    """

    n_words: dict
    crosstalk: pd.DataFrame
    model: str
    backend: str
    language: str
    params: dict = field(default_factory=dict)


def _asr_faster_whisper(wm, x16: np.ndarray, language, vad_filter, beam_size, **kw) -> list:
    segments, _info = wm.transcribe(
        x16, language=language, word_timestamps=True, vad_filter=vad_filter,
        beam_size=beam_size, condition_on_previous_text=False, **kw,
    )  # fmt: skip
    rows = []
    for si, s in enumerate(segments):
        for w in s.words or []:
            rows.append({"onset": float(w.start), "offset": float(w.end),
                         "word": w.word.strip(), "confidence": float(w.probability),
                         "segment": si})  # fmt: skip
    return rows


def _asr_whisperx(model, x16, language, device, compute_type, batch_size=8) -> list:
    try:
        import whisperx
    except ImportError:
        raise ImportError(
            "backend='whisperx' needs the whisperx package (pip install whisperx; it pins its "
            "own torch version), or use backend='faster-whisper' (the same engine, default)"
        ) from None
    m = whisperx.load_model(str(model), device, compute_type=compute_type, language=language)
    res = m.transcribe(x16, batch_size=batch_size, language=language)
    am, meta = whisperx.load_align_model(language_code=language, device=device)
    res = whisperx.align(res["segments"], am, meta, x16, device, return_char_alignments=False)
    rows = []
    for si, s in enumerate(res["segments"]):
        for w in s.get("words", []):
            if "start" not in w or "end" not in w:
                continue
            rows.append({"onset": float(w["start"]), "offset": float(w["end"]),
                         "word": str(w["word"]).strip(),
                         "confidence": float(w.get("score", np.nan)),
                         "segment": si})  # fmt: skip
    return rows


def _rms_db(x: np.ndarray, on: np.ndarray, off: np.ndarray, sf: float) -> np.ndarray:
    c = np.concatenate([[0.0], np.cumsum(x.astype(float) ** 2)])
    i0 = np.clip(np.round(on * sf).astype(int), 0, len(x))
    i1 = np.clip(np.round(off * sf).astype(int), 0, len(x))
    i1 = np.maximum(i1, i0 + 1)
    i1 = np.minimum(i1, len(x))
    n = np.maximum(i1 - i0, 1)
    return 10 * np.log10((c[i1] - c[i0]) / n + 1e-20)


def _speech_level_db(x: np.ndarray, sf: float) -> float:
    """Typical speech level of a microphone: 95th percentile of 25 ms frame power (dB)."""
    n = max(1, int(0.025 * sf))
    m = len(x) // n
    if m < 1:
        return 0.0
    p = (x[: m * n].astype(float).reshape(m, n) ** 2).mean(1)
    return float(10 * np.log10(np.percentile(p, 95) + 1e-20))


def detect_crosstalk(
    words: dict[str, pd.DataFrame],
    audio: dict[str, np.ndarray],
    sfreq: float,
    *,
    window: float = 0.25,
    margin_db: float = 0.0,
    level_db: float = 6.0,
    quiet_db: float = 10.0,
) -> pd.DataFrame:
    """Find words recognized on a microphone that the partner said.

    Levels are compared after normalizing each microphone by its own typical speech level
    (95th percentile of 25 ms frame power), so different gains do not matter. A word ``w``
    on microphone ``A`` is cross-talk when, during ``w``, the partner's microphone ``B`` is

    - louder (by more than ``margin_db``) and ``B`` recognized the same normalized word with
      an onset within ``window`` s, or
    - louder by at least ``level_db`` whatever ``B`` recognized, while ``A`` itself is at
      least ``quiet_db`` below its own typical speech level (a close microphone is typically
      10-20 dB louder for its own speaker than for the partner; the second condition keeps
      genuinely overlapping speech, where both microphones carry their own talker at a
      normal level, from being taken for cross-talk).

    Parameters
    ----------
    words : dict
        ``{speaker: word table}`` (``onset, offset, word``) from each microphone.
    audio : dict
        ``{speaker: samples}`` at ``sfreq``, on one clock.
    sfreq : float
        Audio rate (Hz).
    window : float
        Largest onset difference (s) of the two recognitions.
    margin_db, level_db : float
        Level differences (dB) of the two rules.
    quiet_db : float
        How far (dB) below its own typical speech level microphone ``A`` must be for the
        level rule.

    Returns
    -------
    pandas.DataFrame
        ``speaker, index`` (row in ``words[speaker]``), ``source, word, onset, offset,
        rms_db_own, rms_db_partner`` (normalized levels), ``rule`` (``'match'`` or
        ``'level'``).
    """
    cols = ["speaker", "index", "source", "word", "onset", "offset", "rms_db_own",
            "rms_db_partner", "rule"]  # fmt: skip
    spk = list(words)
    if len(spk) != 2:
        return pd.DataFrame(columns=cols)
    ref = {s: _speech_level_db(audio[s], sfreq) for s in spk}
    rows = []
    for a, b in ((spk[0], spk[1]), (spk[1], spk[0])):
        wa, wb = words[a], words[b]
        if not len(wa):
            continue
        oa = wa["onset"].to_numpy(float)
        fa = wa["offset"].to_numpy(float)
        own = _rms_db(audio[a], oa, fa, sfreq) - ref[a]
        other = _rms_db(audio[b], oa, fa, sfreq) - ref[b]
        match = np.zeros(len(wa), bool)
        if len(wb):
            na = np.array([normalize_word(w) for w in wa["word"]], object)
            nb = np.array([normalize_word(w) for w in wb["word"]], object)
            ob = wb["onset"].to_numpy(float)
            match = (
                (na[:, None] == nb[None, :]) & (np.abs(oa[:, None] - ob[None, :]) <= window)
            ).any(1)
        by_match = match & (other > own + margin_db)
        by_level = (other >= own + level_db) & (own <= -quiet_db)
        for i in np.nonzero(by_match | by_level)[0]:
            rows.append({"speaker": a, "index": int(wa.index[i]), "source": b,
                         "word": wa["word"].iloc[i], "onset": oa[i], "offset": fa[i],
                         "rms_db_own": float(own[i]), "rms_db_partner": float(other[i]),
                         "rule": "match" if by_match[i] else "level"})  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def _inputs(dyad_or_audio, audio_sfreq, speakers) -> tuple[dict, float | None, object]:
    """Normalize the input to ``({speaker: (audio, sfreq)}, dyad or None)``."""
    from ..dyad import Dyad

    if isinstance(dyad_or_audio, Dyad):
        d = dyad_or_audio
        if speakers is not None:
            raise ValueError(
                "speakers= is not used with a Dyad (participant ids label the microphones); "
                "rename participants instead"
            )
        missing = [p.id for p in d.participants if p.audio is None]
        if missing:
            raise ValueError(
                f"dyad {d.dyad_id!r}: participant(s) {missing} have no microphone audio; "
                "attach it (Participant(audio=..., audio_sfreq=...))"
            )
        return {p.id: (p.audio, p.audio_sfreq) for p in d.participants}, d
    if isinstance(dyad_or_audio, dict):
        out = {}
        for k, v in dyad_or_audio.items():
            if isinstance(v, tuple):
                out[str(k)] = (v[0], float(v[1]))
            else:
                if audio_sfreq is None:
                    raise ValueError("audio_sfreq is required with arrays of audio samples")
                out[str(k)] = (v, float(audio_sfreq))
        if speakers is not None:
            raise ValueError("speakers= is not used with a {speaker: audio} dict (keys label it)")
        return out, None
    if isinstance(dyad_or_audio, np.ndarray) and dyad_or_audio.ndim == 1:
        dyad_or_audio = [dyad_or_audio]
    if isinstance(dyad_or_audio, Sequence | np.ndarray):
        arrs = list(dyad_or_audio)
        if audio_sfreq is None:
            raise ValueError("audio_sfreq is required with arrays of audio samples")
        if speakers is None:
            speakers = [f"S{i + 1}" for i in range(len(arrs))]
        if len(speakers) != len(arrs):
            raise ValueError(
                f"speakers has {len(speakers)} label(s) for {len(arrs)} microphone(s); give "
                "one label per microphone"
            )
        return {str(s): (a, float(audio_sfreq)) for s, a in zip(speakers, arrs)}, None
    raise TypeError(
        "dyad_or_audio must be a Dyad, a {speaker: audio} dict, a list of 1-D arrays or one "
        f"1-D array; got {type(dyad_or_audio).__name__}"
    )


def _silent_mics(x16: dict, on_silent: str, dyad) -> set:
    """Microphones below SILENCE_DBFS: an error naming them, or (warn) skipped and counted."""
    import warnings

    from ..dyad import SILENCE_DBFS, audio_level_db

    levels = {s: audio_level_db(x, WHISPER_SFREQ) for s, x in x16.items()}
    silent = {s for s, lev in levels.items() if not lev > SILENCE_DBFS}
    if not silent:
        return silent
    desc = ", ".join(f"{s!r} ({levels[s]:.1f} dB re full scale)" for s in sorted(silent))
    msg = (
        f"the audio of {desc} is silent (below {SILENCE_DBFS:g} dB): there is no speech to "
        "transcribe; check the microphone (muted, unplugged, wrong channel or file)"
    )
    if on_silent == "raise" or len(silent) == len(x16):
        raise ValueError(msg + ("; pass on_silent='warn' to transcribe the other microphone"
                                if len(silent) < len(x16) else ""))  # fmt: skip
    logger.warning("transcribe: %s; no words for it (on_silent='warn')", msg)
    warnings.warn(msg, RuntimeWarning, stacklevel=3)
    if dyad is not None:
        for s in sorted(silent):
            dyad.exclusions.add("transcribe", "participant", f"{s}: silent microphone",
                                "no signal: not transcribed (on_silent='warn')", 1)  # fmt: skip
    return silent


@fill_doc
@verbose
def transcribe_dyad(
    dyad_or_audio,
    model="tiny.en",
    *,
    backend: str = "faster-whisper",
    language: str = "en",
    audio_sfreq: float | None = None,
    speakers: Sequence[str] | None = None,
    vad_filter: bool = True,
    beam_size: int = 5,
    crosstalk: str = "drop",
    crosstalk_window: float = 0.25,
    refine: str | None = "energy",
    device: str = "cpu",
    compute_type: str = "int8",
    pause_threshold: float = 0.5,
    on_silent: str = "raise",
    return_report: bool = False,
    verbose=None,
):
    """Transcribe each participant's microphone with word timestamps.

    Parameters
    ----------
    dyad_or_audio : Dyad | dict | list of arrays | array
        A :class:`~hyperalign.Dyad` (each participant's ``audio``; speakers are the ids), a
        ``{speaker: audio or (audio, sfreq)}`` dict, a list of microphones with
        ``speakers``, or one microphone.
    model : str | path-like | WhisperModel
        Whisper model name (``'tiny.en'``, ``'base'``…) or CTranslate2 folder.
    backend : ``'faster-whisper'`` | ``'whisperx'``
        The engine: faster-whisper (default; whisperx's engine) or whisperx when installed (its
        phoneme-level aligner refines word times).
    language : str
        Spoken language.
    audio_sfreq : float | None
        Rate of array inputs (Hz).
    speakers : sequence of str | None
        Labels of list inputs.
    vad_filter : bool
        Whether faster-whisper runs the Silero voice-activity filter first (default on).
    beam_size : int
        The beam width of faster-whisper's decoding.
    crosstalk : ``'drop'`` | ``'flag'`` | ``'keep'``
        What to do with cross-talk words (see :func:`detect_crosstalk`); dropped words are
        reported in the report and, for a Dyad input, in ``dyad.exclusions``. ``'flag'``
        keeps them with ``crosstalk=True`` in the word table.
    crosstalk_window : float
        Onset tolerance (s) of the cross-talk test.
    refine : ``'energy'`` | None
        Snap word onsets to acoustic onsets on the speaker's own microphone with
        :func:`~hyperalign.transcribe.refine_onsets_by_energy` (column ``onset_refined``).
    device, compute_type : str
        The faster-whisper model options (``'cpu'``/``'cuda'``; ``'int8'``, ``'float16'``).
    pause_threshold : float
        Passed to the :class:`~hyperalign.Transcript`.
    on_silent : ``'raise'`` | ``'warn'``
        A silent microphone (level below :data:`hyperalign.dyad.SILENCE_DBFS`): an error
        naming it (default), or a warning and no words for it (for a Dyad input, counted in
        ``dyad.exclusions``). Whatever this is, a run that recognizes no word at all is an
        error, never an empty transcript.
    return_report : bool
        Also return a :class:`TranscriptionReport`.
    %(verbose)s

    Returns
    -------
    Transcript | (Transcript, TranscriptionReport)
        Words with ``onset, offset, word, speaker, confidence`` (Whisper's word
        probability), ``timing='asr'`` and ``crosstalk``.
    """
    check_option("backend", backend, BACKENDS)
    check_option("crosstalk", crosstalk, ("drop", "flag", "keep"))
    check_option("refine", refine, ("energy", None))
    check_option("on_silent", on_silent, ("raise", "warn"))
    mics, dyad = _inputs(dyad_or_audio, audio_sfreq, speakers)
    x16 = {s: to_whisper_audio(a, sf, f"audio of {s!r}") for s, (a, sf) in mics.items()}
    silent = _silent_mics(x16, on_silent, dyad)
    per: dict[str, pd.DataFrame] = {}
    if backend == "faster-whisper" and len(silent) < len(x16):
        wm = load_whisper(model, device=device, compute_type=compute_type)
    for s, x in x16.items():
        if s in silent:
            per[s] = pd.DataFrame(columns=["onset", "offset", "word", "confidence", "segment",
                                           "speaker"])  # fmt: skip
            if refine == "energy":
                per[s]["onset_refined"] = pd.Series(dtype=float)
            continue
        if backend == "faster-whisper":
            rows = _asr_faster_whisper(wm, x, language, vad_filter, beam_size)
        else:
            rows = _asr_whisperx(model, x, language, device, compute_type)
        df = pd.DataFrame(rows, columns=["onset", "offset", "word", "confidence", "segment"])
        df = df[df["word"].str.strip() != ""].reset_index(drop=True)
        df["speaker"] = s
        if refine == "energy":
            df = refine_onsets_by_energy(df, x, WHISPER_SFREQ)
        per[s] = df
        logger.info("transcribe: %s: %d words", s, len(df))
    n_words = {s: len(d) for s, d in per.items()}
    if not sum(n_words.values()):
        from ..dyad import audio_level_db

        levels = ", ".join(
            f"{s}: {audio_level_db(x, WHISPER_SFREQ):.1f} dB" for s, x in x16.items()
        )
        raise ValueError(
            f"transcribe: no word was recognized on any microphone ({levels} re full "
            f"scale; model {model!r}, language {language!r}): the audio holds no speech "
            "the model can hear; check the files, the language= and the model, or turn "
            "vad_filter off for very quiet speech"
        )
    ct = detect_crosstalk(per, x16, WHISPER_SFREQ, window=crosstalk_window)
    ct["action"] = {"drop": "dropped", "flag": "flagged", "keep": "kept"}[crosstalk]
    for s, df in per.items():
        hit = np.zeros(len(df), bool)
        idx = ct.loc[ct["speaker"] == s, "index"].to_numpy(int)
        hit[idx] = True
        df["crosstalk"] = hit
        if crosstalk == "drop":
            per[s] = df[~hit]
    if len(ct):
        logger.warning(
            "transcribe: %d cross-talk word(s) (%s)", len(ct),
            ", ".join(f"{s}: {n}" for s, n in ct.groupby("speaker").size().items()),
        )  # fmt: skip
        if dyad is not None and crosstalk == "drop":
            for s, n in ct.groupby("speaker").size().items():
                dyad.exclusions.add(
                    "transcribe", "word", f"{s}: partner speech on {s}'s microphone",
                    "cross-talk (louder on the partner's microphone)", int(n),
                )  # fmt: skip
    words = pd.concat(list(per.values()), ignore_index=True)
    words["timing"] = "asr"
    words = words.drop(columns=["segment"])
    words["confidence"] = words["confidence"].clip(0, 1)
    cols = ["onset", "offset", "word", "speaker", "confidence", "timing", "crosstalk"]
    if refine == "energy":
        cols.append("onset_refined")
    tr = Transcript(
        words[cols],
        speakers=list(mics), pause_threshold=pause_threshold, on_overlap="clip",
        source=f"asr:{backend}",
    )  # fmt: skip
    if not return_report:
        return tr
    rep = TranscriptionReport(
        n_words=n_words, crosstalk=ct, model=str(model), backend=backend, language=language,
        params={"vad_filter": vad_filter, "beam_size": beam_size, "crosstalk": crosstalk,
                "crosstalk_window": crosstalk_window, "refine": refine},
    )  # fmt: skip
    return tr, rep


def to_whisperx_dict(transcript: Transcript, language: str | None = "en") -> dict:
    """The whisperx JSON structure of ``transcript`` (one segment per utterance).

    Parameters
    ----------
    transcript : Transcript
        The words.
    language : str | None
        Language code stored under ``'language'``; ``None`` leaves it out.

    Returns
    -------
    doc : dict
        As :func:`hyperalign.io.transcripts.to_whisperx_dict` (this only sets a default
        language).

    See Also
    --------
    hyperalign.io.write_whisperx_json : The one whisperx writer.
    """
    return _to_whisperx_dict(transcript, language)


def write_transcript_json(transcript: Transcript, path, *, language: str | None = None) -> Path:
    """Write whisperx JSON (the one writer, :func:`hyperalign.io.write_whisperx_json`).

    Parameters
    ----------
    transcript : Transcript
        The words to write.
    path : path-like
        The ``.json`` file.
    language : str | None
        Language code stored under ``'language'``; ``None`` leaves it out.

    Returns
    -------
    path : pathlib.Path
        The written file.

    See Also
    --------
    hyperalign.io.write_whisperx_json : The writer this calls.
    """
    return Path(write_whisperx_json(transcript, path, language=language))


@fill_doc
@verbose
def transcribe_main(
    audio_paths: Sequence[str | os.PathLike],
    out_path: str | os.PathLike,
    *,
    model="tiny.en",
    speakers: Sequence[str] | None = None,
    backend: str = "faster-whisper",
    language: str = "en",
    crosstalk: str = "drop",
    verbose=None,
) -> int:
    """Entry point of ``hyperalign transcribe``: one audio file per participant → whisperx JSON.

    Parameters
    ----------
    audio_paths : sequence of path-like
        One WAV/FLAC per microphone (all on one clock).
    out_path : path-like
        The JSON file to write (atomically).
    model : str | path-like
        As in :func:`transcribe_dyad`.
    speakers : sequence of str | None
        Labels of the microphones (default: the file stems).
    backend, language, crosstalk : str
        As in :func:`transcribe_dyad`.
    %(verbose)s

    Returns
    -------
    int
        0 on success, 2 for bad input (the reason is logged as an error).
    """
    from ..io import read_audio

    try:
        paths = [Path(p) for p in audio_paths]
        if not paths:
            raise ValueError("give at least one audio file")
        labels = list(speakers) if speakers is not None else [p.stem for p in paths]
        if len(labels) != len(paths):
            raise ValueError(
                f"--speakers has {len(labels)} label(s) for {len(paths)} audio file(s)"
            )
        if len(set(labels)) != len(labels):
            raise ValueError(f"speaker labels must be unique; got {labels}")
        mics = {}
        for lab, p in zip(labels, paths):
            x, sf = read_audio(p)
            if x.ndim != 1:
                raise ValueError(f"{p}: {x.shape[0]} channels; give one mono file per microphone")
            mics[lab] = (x, sf)
        tr, rep = transcribe_dyad(
            mics, model=model, backend=backend, language=language, crosstalk=crosstalk,
            return_report=True,
        )  # fmt: skip
    except (FileNotFoundError, ValueError, ImportError) as err:
        logger.error("transcribe: %s", err)
        return 2
    out = write_transcript_json(tr, out_path)
    logger.info(
        "transcribe: wrote %d words (%s) to %s; %d cross-talk word(s) %s",
        tr.n_words, ", ".join(f"{k}: {v}" for k, v in rep.n_words.items()), out,
        len(rep.crosstalk), crosstalk,
    )  # fmt: skip
    return 0
