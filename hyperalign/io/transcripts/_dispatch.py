"""Dispatch on the transcript format: :func:`read_transcript`, :func:`write_transcript`."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from ...transcript import Transcript
from ...utils import check_option, fill_doc
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


@fill_doc
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
        A whisperx ``.json``, Praat ``.TextGrid`` or a ``.tsv``/``.csv`` table.
    format : ``'auto'`` | ``'whisperx'`` | ``'textgrid'`` | ``'tsv'``
        ``'auto'`` decides from the suffix.
    %(transcript_speakers)s
    kind : ``'auto'`` | ``'words'`` | ``'utterances'``
        Word rows or utterance rows (TextGrid and TSV; whisperx always has words).
    %(transcript_duration)s
    %(pause_threshold)s
    %(on_overlap)s
    %(encoding)s
    %(verbose)s
    **kwargs
        Passed to the format's reader (e.g. ``default_speaker`` for whisperx, ``tiers`` for
        TextGrid, ``sep``/``columns`` for TSV).

    Returns
    -------
    transcript : Transcript
        Words and utterances, speaker labels being participant ids.

    See Also
    --------
    write_transcript : The matching writer.
    read_whisperx_json, read_textgrid, read_transcript_tsv : The readers of each format.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import pandas as pd
    >>> import hyperalign as ha
    >>> from hyperalign.io import read_transcript, write_transcript
    >>> words = pd.DataFrame({"onset": [0.1, 0.5, 2.0], "offset": [0.4, 0.9, 2.3],
    ...                       "word": ["hello", "there", "hi"], "speaker": ["A", "A", "B"]})
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> path = write_transcript(ha.Transcript(words), folder / "talk.TextGrid")
    >>> tr = read_transcript(path, speakers=["A", "B"])
    >>> tr.words[["word", "speaker"]].values.tolist()
    [['hello', 'A'], ['there', 'A'], ['hi', 'B']]
    >>> tr.n_utterances
    2
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
    """Write ``transcript`` in the format given by ``format`` or the suffix of ``path``.

    Parameters
    ----------
    transcript : Transcript
        The transcript to write.
    path : path-like
        The file; ``.json`` (whisperx), ``.TextGrid`` or ``.tsv``/``.csv``.
    format : ``'auto'`` | ``'whisperx'`` | ``'textgrid'`` | ``'tsv'``
        ``'auto'`` decides from the suffix.
    **kwargs
        Passed to the format's writer.

    Returns
    -------
    path : pathlib.Path
        The written file.

    See Also
    --------
    read_transcript : The matching reader.
    """
    path = Path(path)
    fmt = _detect_format(path) if format == "auto" else format
    check_option("format", fmt, TRANSCRIPT_FORMATS)
    if fmt == "whisperx":
        return write_whisperx_json(transcript, path, **kwargs)
    if fmt == "textgrid":
        return write_textgrid(transcript, path, **kwargs)
    return write_transcript_tsv(transcript, path, **kwargs)
