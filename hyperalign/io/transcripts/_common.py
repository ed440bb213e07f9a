"""Shared by the transcript readers: formats, decoding, speaker mapping, the Transcript."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ...transcript import Transcript, TranscriptError
from ...utils import _validate_type

TRANSCRIPT_FORMATS = ("whisperx", "textgrid", "tsv")
_SUFFIX_FORMAT = {
    ".json": "whisperx",
    ".textgrid": "textgrid",
    ".tsv": "tsv",
    ".csv": "tsv",
    ".txt": "tsv",
}

# column aliases accepted in TSV/CSV tables
_ALIASES = {
    "start": "onset",
    "begin": "onset",
    "tmin": "onset",
    "end": "offset",
    "stop": "offset",
    "tmax": "offset",
    "token": "word",
    "label": "word",
    "speaker_id": "speaker",
    "participant": "speaker",
    "participant_id": "speaker",
    "score": "confidence",
    "utterance": "text",
    "transcript": "text",
}


# ====================================================================== helpers
_UTF8 = ("utf-8", "utf8", "utf_8", "utf-8-sig", "utf8-sig", "utf_8_sig")


def _read_text(path: Path, encoding: str | None = None) -> str:
    """Read a text file strictly: UTF-8 (BOM removed) or UTF-16 with a BOM by default.

    ``encoding`` (any Python codec name) decodes the file with that codec instead. Bytes
    that do not decode are an error naming their offset and line: never a silent fallback.
    """
    import codecs

    raw = path.read_bytes()
    if not raw.strip():
        raise ValueError(f"{path}: the file is empty; give a transcript with at least a header")
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ValueError(
                f"encoding={encoding!r} is not a known text encoding (for {path}); use a Python "
                "codec name such as 'utf-8', 'utf-16', 'cp1252' or 'latin-1'"
            ) from None
        if encoding.lower().replace("_", "-") in _UTF8:
            encoding = "utf-8-sig"  # a BOM is not part of the text
    elif raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"
    elif raw[:3] == b"\xef\xbb\xbf":
        encoding = "utf-8-sig"
    elif b"\x00" in raw[:200]:  # UTF-16 without a byte-order mark (Praat writes it)
        encoding = "utf-16-le" if raw[1:2] == b"\x00" else "utf-16-be"
    else:
        encoding = "utf-8"
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        bad = raw[err.start : err.end]
        raise ValueError(
            f"{path}: byte {err.start} (line {line}, {bad!r}) is not valid {encoding} "
            f"({err.reason}); the file is in another encoding: pass encoding='cp1252' (Windows), "
            "'latin-1' or the encoding it was saved in (encoding=), or re-save it as UTF-8"
        ) from None


def _apply_speakers(words: pd.DataFrame, speakers, path) -> tuple[pd.DataFrame, list | None]:
    """Rename labels with a mapping, or return the allowed list for validation."""
    if speakers is None:
        return words, None
    if isinstance(speakers, Mapping):
        present = set(words["speaker"].dropna().astype(str))
        targets: dict = {}
        for lab in sorted(present):
            targets.setdefault(str(speakers.get(lab, lab)), []).append(lab)
        merged = {t: labs for t, labs in targets.items() if len(labs) > 1}
        if merged:
            t, labs = next(iter(merged.items()))
            raise ValueError(
                f"{path}: speakers maps the labels {labs} to one participant {t!r}: their "
                "words would be merged into one speaker; map each label to its own participant "
                "(check the diarization labels)"
            )
        words = words.copy()
        words["speaker"] = words["speaker"].map(lambda s: speakers.get(s, s))
        return words, None
    if isinstance(speakers, str):
        raise TypeError(
            f"speakers must be a mapping {{label: participant_id}} or a list of participant ids; "
            f"got the string {speakers!r} (for {path})"
        )
    return words, [str(s) for s in speakers]


def _make_transcript(
    words: pd.DataFrame,
    *,
    kind: str,
    path,
    speakers,
    duration,
    pause_threshold,
    on_overlap,
    fixes: Sequence[str] = (),
    segmentation: str | None = None,
) -> Transcript:
    if not len(words):
        raise ValueError(
            f"{path}: the transcript holds no {kind} (an empty table, or no segments/intervals "
            "with text); check that it is the right file, or leave the transcript out"
        )
    on = pd.to_numeric(words["onset"], errors="coerce") if "onset" in words else None
    if on is not None and (on < 0).any():
        rows = np.flatnonzero((on < 0).to_numpy())
        raise TranscriptError(
            [
                f"row {int(i)} (onset): {on.iloc[i]:.3f} s is before time 0 of the recording; "
                "times must be in s from the start of the recording (shift or crop the "
                "transcript)"
                for i in rows[:10]
            ]
            + ([f"... and {len(rows) - 10} more row(s) with a negative onset"]
               if len(rows) > 10 else []),
            str(path),
        )  # fmt: skip
    words, allowed = _apply_speakers(words, speakers, path)
    kwargs = dict(
        speakers=allowed,
        duration=duration,
        pause_threshold=pause_threshold,
        on_overlap=on_overlap,
        source=str(path),
    )
    if segmentation is not None:
        kwargs["segmentation"] = segmentation
    if kind == "utterances":
        if allowed is not None:  # name the file's utterance rows, not the derived word rows
            bad = [
                f"row {i} (speaker): unknown speaker {s!r}; expected one of {sorted(allowed)} "
                "(rename speakers to participant ids)"
                for i, s in enumerate(words["speaker"])
                if str(s) not in allowed
            ]
            if bad:
                raise TranscriptError(bad, str(path))
        tr = Transcript.from_data_frame(words, kind="utterances", **kwargs)
    else:
        tr = Transcript(words, **kwargs)
    tr.fixes.extend(fixes)
    return tr


def _interpolate_missing(on: np.ndarray, off: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Fill NaN onsets/offsets in place by spreading runs of untimed words over their gap.

    Returns the boolean mask of interpolated words.
    """
    n = len(on)
    missing = ~(np.isfinite(on) & np.isfinite(off))
    i = 0
    while i < n:
        if not missing[i]:
            i += 1
            continue
        j = i
        while j < n and missing[j]:
            j += 1
        start = off[i - 1] if i > 0 else lo
        stop = on[j] if j < n else hi
        if not np.isfinite(start):
            start = lo
        if not np.isfinite(stop) or stop < start:
            stop = start
        edges = np.linspace(start, stop, j - i + 1)
        on[i:j] = edges[:-1]
        off[i:j] = edges[1:]
        i = j
    return missing


# ====================================================================== whisperx


def _check_transcript(transcript) -> None:
    _validate_type(transcript, Transcript, "transcript", "a Transcript")
