"""whisperx JSON: word-level transcripts with speaker labels and per-word scores."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ...transcript import Transcript, TranscriptError, _spread_edges
from ...utils import atomic_write, check_option, fill_doc, logger, verbose
from ._common import _check_transcript, _interpolate_missing, _make_transcript, _read_text


@fill_doc
@verbose
def read_whisperx_json(
    path: str | os.PathLike,
    *,
    speakers: Mapping[str, str] | Sequence[str] | None = None,
    default_speaker: str | None = None,
    duration: float | None = None,
    pause_threshold: float = 0.5,
    segmentation: str = "pause",
    on_overlap: str = "raise",
    encoding: str | None = None,
    verbose=None,
) -> Transcript:
    """Read a whisperx result JSON (``segments`` with ``words``) into a transcript.

    Parameters
    ----------
    path : path-like
        A whisperx JSON: ``{"segments": [{"start", "end", "text", "speaker"?, "words":
        [{"word", "start", "end", "score", "speaker"?}]}], "word_segments": [...]}``.
    speakers : mapping | sequence of str | None
        A mapping renames speaker labels (``{'SPEAKER_00': 'A'}``); a sequence lists the
        allowed participant ids (other labels are an error).
    default_speaker : str | None
        Speaker of words whose word and segment carry no ``speaker`` (a transcript without
        diarization). ``None`` makes unlabeled words an error.
    duration : float | None
        Recording length (s); words past it are an error.
    pause_threshold : float
        Pause (s) that starts a new utterance (``segmentation='pause'``).
    segmentation : ``'pause'`` | ``'segment'``
        ``'segment'`` keeps whisperx's segments as utterances (a segment whose words have
        several speakers is split by speaker).
    on_overlap : ``'raise'`` | ``'clip'``
        See :class:`hyperalign.Transcript`.
    encoding : str | None
        Text encoding of the file; ``None``: UTF-8 (a BOM is removed) or UTF-16 with a BOM.
        Undecodable bytes are an error naming their offset (no silent fallback).
    %(verbose)s

    Returns
    -------
    transcript : Transcript
        Words without start/end are interpolated (``timing='interpolated'``, listed in
        ``transcript.fixes``); a segment without ``words`` is spread over its span
        (``timing='segment'``).

    See Also
    --------
    write_whisperx_json : The matching writer.
    read_transcript : Any format, chosen from the suffix.
    """
    check_option("segmentation", segmentation, ("pause", "segment"))
    path = Path(path)
    text = _read_text(path, encoding)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(
            f"{path}: not valid JSON ({err.msg} at line {err.lineno}, column {err.colno}); "
            "expected a whisperx result with a 'segments' list"
        ) from None
    if isinstance(doc, list):  # a bare list of segments
        doc = {"segments": doc}
    if not isinstance(doc, dict) or not isinstance(doc.get("segments"), list):
        got = list(doc) if isinstance(doc, dict) else type(doc).__name__
        raise ValueError(
            f"{path}: expected a whisperx JSON object with a 'segments' list; got {got}"
        )
    rows: list[dict] = []
    fixes: list[str] = []
    problems: list[str] = []
    for si, seg in enumerate(doc["segments"]):
        _segment_rows(si, seg, default_speaker, rows, fixes, problems)
    df = pd.DataFrame(
        rows, columns=["onset", "offset", "word", "speaker", "confidence", "segment", "timing"]
    )
    unlabeled = df.index[df["speaker"].isna()].tolist()
    if unlabeled:
        problems.append(
            f"{len(unlabeled)} word(s) have no speaker (first rows {unlabeled[:5]}); the "
            "file has no diarization: pass default_speaker='<participant id>' or "
            "diarize first"
        )
    if problems:
        raise TranscriptError(problems, str(path))
    n_interp = int((df["timing"] != "aligned").sum())
    if n_interp:
        logger.warning(
            "%s: %d word(s) had no times and were interpolated (see transcript.fixes)",
            path.name,
            n_interp,
        )
    df["speaker"] = df["speaker"].astype(str)
    seg_kw = None
    if segmentation == "segment":
        df["utterance_id"] = pd.factorize(df["segment"].astype(str) + "\x00" + df["speaker"])[0]
        seg_kw = "given"
    return _make_transcript(
        df,
        kind="words",
        path=path,
        speakers=speakers,
        duration=duration,
        pause_threshold=pause_threshold,
        on_overlap=on_overlap,
        fixes=fixes,
        segmentation=seg_kw,
    )


def _segment_rows(si: int, seg, default_speaker, rows: list, fixes: list, problems: list):
    """Append the word rows of whisperx segment ``si`` (and its fixes and problems)."""
    if not isinstance(seg, dict):
        problems.append(f"segment {si}: expected an object, got {type(seg).__name__}")
        return
    s_on = _num(seg.get("start"))
    s_off = _num(seg.get("end"))
    s_spk = seg.get("speaker", default_speaker)
    words = seg.get("words")
    if not words:
        toks = str(seg.get("text", "")).split()
        if not toks:
            fixes.append(f"segment {si}: empty (no text, no words); nothing to read")
            return
        if not (np.isfinite(s_on) and np.isfinite(s_off)):
            problems.append(
                f"segment {si} (start/end): a segment without 'words' needs start and "
                f"end times to place its text; got start={seg.get('start')!r}, "
                f"end={seg.get('end')!r}"
            )
            return
        edges = _spread_edges(toks, s_on, s_off)
        for k, t in enumerate(toks):
            rows.append(_wx_row(t, edges[k], edges[k + 1], np.nan, s_spk, si, "segment"))
        fixes.append(
            f"segment {si}: no word times; {len(toks)} word(s) spread over "
            f"[{s_on:.3f}, {s_off:.3f}] s in proportion to their length"
        )
        return
    on = np.array([_num(w.get("start")) for w in words], float)
    off = np.array([_num(w.get("end")) for w in words], float)
    lo = s_on if np.isfinite(s_on) else np.nanmin(on, initial=np.nan)
    hi = s_off if np.isfinite(s_off) else np.nanmax(off, initial=np.nan)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        problems.append(
            f"segment {si} (start/end): no word of this segment has a time and the "
            "segment has no start/end; cannot place its words"
        )
        return
    interp = _interpolate_missing(on, off, lo, hi)
    for k, w in enumerate(words):
        spk = w.get("speaker", s_spk)
        rows.append(
            _wx_row(
                w.get("word", ""),
                on[k],
                off[k],
                _num(w.get("score")),
                spk,
                si,
                "interpolated" if interp[k] else "aligned",
            )
        )
        if interp[k]:
            fixes.append(
                f"segment {si}, word {k} ({str(w.get('word', '')).strip()!r}): no "
                f"start/end in the file; interpolated to [{on[k]:.3f}, {off[k]:.3f}] s"
            )


def _num(x) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return np.nan
    return v if math.isfinite(v) else np.nan


def _wx_row(word, on, off, score, speaker, seg, timing) -> dict:
    return {
        "onset": float(on),
        "offset": float(off),
        "word": str(word).strip(),
        "speaker": speaker,
        "confidence": score,
        "segment": seg,
        "timing": timing,
    }


def to_whisperx_dict(transcript: Transcript, language: str | None = None) -> dict:
    """The whisperx JSON structure of ``transcript`` (one segment per utterance).

    Parameters
    ----------
    transcript : Transcript
        The words to write.
    language : str | None
        Language code stored under ``'language'`` (as whisperx does); ``None`` leaves it out.

    Returns
    -------
    doc : dict
        ``{'segments': [...], 'word_segments': [...]}`` (and ``'language'``). Words whose
        confidence is unknown get no ``score`` key, like whisperx.

    See Also
    --------
    write_whisperx_json : Write it to a file.
    read_whisperx_json : The matching reader.
    """
    _check_transcript(transcript)
    segments = []
    word_segments = []
    for _, g in transcript.words.groupby("utterance_id", sort=True):
        wl = []
        for r in g.itertuples(index=False):
            w = {"word": r.word, "start": float(r.onset), "end": float(r.offset)}
            if np.isfinite(r.confidence):
                w["score"] = float(r.confidence)
            w["speaker"] = r.speaker
            wl.append(w)
        word_segments.extend(wl)
        segments.append(
            {
                "start": float(g["onset"].min()),
                "end": float(g["offset"].max()),
                "text": " " + " ".join(g["word"]),
                "speaker": str(g["speaker"].iloc[0]),
                "words": wl,
            }
        )
    doc = {"segments": segments, "word_segments": word_segments}
    if language:
        doc["language"] = language
    return doc


@fill_doc
@verbose
def write_whisperx_json(
    transcript: Transcript,
    path: str | os.PathLike,
    *,
    indent: int | None = 2,
    language: str | None = None,
    verbose=None,
) -> Path:
    """Write ``transcript`` as whisperx JSON (one segment per utterance).

    Words whose confidence is unknown get no ``score`` key, like whisperx. Times are written
    at full float precision so that :func:`read_whisperx_json` gives back the same table.

    Parameters
    ----------
    transcript : Transcript
        The words to write.
    path : path-like
        The ``.json`` file (written atomically).
    indent : int | None
        JSON indentation (``None``: one line).
    language : str | None
        Language code stored under ``'language'``; ``None`` leaves it out.
    %(verbose)s

    Returns
    -------
    path : pathlib.Path
        The written file.

    See Also
    --------
    read_whisperx_json : The matching reader.
    to_whisperx_dict : The structure written.
    """
    _check_transcript(transcript)
    path = Path(path)
    doc = to_whisperx_dict(transcript, language)
    with atomic_write(path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=indent, ensure_ascii=False)
    logger.info(
        "wrote %d segments, %d words to %s", len(doc["segments"]), transcript.n_words, path
    )
    return path
