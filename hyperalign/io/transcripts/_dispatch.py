"""Dispatch on the transcript format: :func:`read_transcript`, :func:`write_transcript`."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from ...transcript import Transcript
from ...utils import check_option
from ._common import _SUFFIX_FORMAT, TRANSCRIPT_FORMATS
from .table import read_transcript_tsv, write_transcript_tsv
from .textgrid import read_textgrid, write_textgrid
from .whisperx import read_whisperx_json, write_whisperx_json


# ====================================================================== dispatch
def _detect_format(path: Path) -> str:
    fmt = _SUFFIX_FORMAT.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"{path}: cannot tell the transcript format from the suffix {path.suffix!r}; "
            f"use .json (whisperx), .TextGrid, .tsv/.csv or pass format= one of "
            f"{list(TRANSCRIPT_FORMATS)}"
        )
    return fmt


def read_transcript(
    path: str | os.PathLike,
    format: str = "auto",
    speakers: Mapping[str, str] | Sequence[str] | None = None,
    *,
    kind: str = "auto",
    duration: float | None = None,
    pause_threshold: float = 0.5,
    on_overlap: str = "raise",
    encoding: str | None = None,
    verbose=None,
    **kwargs,
) -> Transcript:
    """Read a transcript in any supported format.

    Parameters
    ----------
    path : path-like
        whisperx ``.json``, Praat ``.TextGrid`` or a ``.tsv``/``.csv`` table.
    format : ``'auto'`` | ``'whisperx'`` | ``'textgrid'`` | ``'tsv'``
        ``'auto'`` decides from the suffix.
    speakers : mapping | sequence of str | None
        A mapping renames speaker labels to participant ids; a sequence lists the allowed
        ids (any other label is an error naming the row).
    kind : ``'auto'`` | ``'words'`` | ``'utterances'``
        Word rows or utterance rows (TextGrid and TSV; whisperx always has words).
    duration : float | None
        Recording length (s); words past it are an error.
    pause_threshold : float
        Pause (s) that starts a new utterance.
    on_overlap : ``'raise'`` | ``'clip'``
        Overlapping words of one speaker: error, or clip (logged in ``transcript.fixes``).
    encoding : str | None
        Text encoding of the file (a Python codec name, e.g. ``'cp1252'``). ``None``: strict
        UTF-8 (a BOM is removed) or UTF-16 with a BOM; a file that does not decode is an
        error naming the byte offset, never decoded silently as Latin-1.
    verbose : bool | str | int | None
        Log level for this call.
    **kwargs
        Passed to the format's reader (e.g. ``default_speaker`` for whisperx, ``tiers`` for
        TextGrid, ``sep``/``columns`` for TSV).

    Returns
    -------
    Transcript
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"transcript file not found: {path}" + (" (it is a folder)" if path.is_dir() else "")
        )
    fmt = _detect_format(path) if format == "auto" else format
    check_option("format", fmt, TRANSCRIPT_FORMATS)
    common = dict(
        speakers=speakers,
        duration=duration,
        pause_threshold=pause_threshold,
        on_overlap=on_overlap,
        encoding=encoding,
        verbose=verbose,
    )
    if fmt == "whisperx":
        if kind not in ("auto", "words"):
            raise ValueError("kind must be 'auto' or 'words' for whisperx JSON (word-level)")
        return read_whisperx_json(path, **common, **kwargs)
    if fmt == "textgrid":
        return read_textgrid(path, kind=kind, **common, **kwargs)
    return read_transcript_tsv(path, kind=kind, **common, **kwargs)


def write_transcript(
    transcript: Transcript, path: str | os.PathLike, format: str = "auto", **kwargs
) -> Path:
    """Write ``transcript`` in the format given by ``format`` or the suffix of ``path``."""
    path = Path(path)
    fmt = _detect_format(path) if format == "auto" else format
    check_option("format", fmt, TRANSCRIPT_FORMATS)
    if fmt == "whisperx":
        return write_whisperx_json(transcript, path, **kwargs)
    if fmt == "textgrid":
        return write_textgrid(transcript, path, **kwargs)
    return write_transcript_tsv(transcript, path, **kwargs)
