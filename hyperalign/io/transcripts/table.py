"""TSV/CSV tables of words or utterances (columns onset, offset, word/text, speaker)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ...transcript import Transcript
from ...utils import atomic_write, check_option, fill_doc, logger, verbose
from ._common import _ALIASES, _check_transcript, _make_transcript, _read_text


# ====================================================================== TSV / CSV
@fill_doc
@verbose
def read_transcript_tsv(
    path: str | os.PathLike,
    *,
    kind: str = "auto",
    sep: str | None = None,
    columns: Mapping[str, str] | None = None,
    speakers: Mapping[str, str] | Sequence[str] | None = None,
    duration: float | None = None,
    pause_threshold: float = 0.5,
    on_overlap: str = "raise",
    encoding: str | None = None,
    verbose=None,
) -> Transcript:
    """Read a word table or an utterance table from TSV/CSV.

    Columns: ``onset``, ``offset`` *or* ``duration``, ``speaker`` and ``word`` (word rows) or
    ``text`` (utterance rows); optional ``confidence``. Common aliases (``start``/``end``,
    ``token``, ``score``…) are renamed; ``columns`` maps any other names.

    Parameters
    ----------
    path : path-like
        The ``.tsv``, ``.csv`` or ``.txt`` table.
    kind : ``'auto'`` | ``'words'`` | ``'utterances'``
        ``'auto'``: word rows when there is a ``word`` column, utterance rows when there is a
        ``text`` column.
    sep : str | None
        Column separator; default tab for ``.tsv``/``.txt``, comma for ``.csv``.
    columns : mapping | None
        Extra renames ``{name in file: standard name}``.
    %(transcript_speakers)s
    %(transcript_duration)s
    %(pause_threshold)s
    %(on_overlap)s
    %(encoding)s
    %(verbose)s

    Returns
    -------
    transcript : Transcript
        The words (utterance rows are spread into words, ``timing='interpolated'``).

    See Also
    --------
    write_transcript_tsv : The matching writer.
    read_transcript : Any format, chosen from the suffix.

    Notes
    -----
    Every cell is read as a string first: speaker labels such as ``01`` stay ``'01'``;
    ``onset``/``offset``/``duration``/``confidence`` are then converted to numbers.
    """
    check_option("kind", kind, ("auto", "words", "utterances"))
    path = Path(path)
    text = _read_text(path, encoding)
    if sep is None:
        sep = "," if path.suffix.lower() == ".csv" else "\t"
    import io as _io

    try:
        df = pd.read_csv(
            _io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_values=["", "n/a", "NaN"],
        )
    except pd.errors.ParserError as err:
        raise ValueError(f"{path}: cannot parse as a table (sep={sep!r}): {err}") from None
    first = next(iter(text.splitlines()), "")
    if sep not in first:
        other = max((",", ";", "\t"), key=first.count)
        if first.count(other):
            name = {",": "comma", ";": "semicolon", "\t": "tab"}
            raise ValueError(
                f"{path}: the table looks {name[other]}-separated (header {first!r}) but "
                f"was read with sep={sep!r}; pass sep={other!r} (or give the file the "
                f"{'.csv' if other == ',' else '.tsv'} suffix)"
            )
    header = first.split(sep)
    names = [h.strip().strip('"').lower() for h in header]
    dup = sorted({c for c in names if names.count(c) > 1})
    if dup:
        raise ValueError(
            f"{path}: column name(s) {dup} appear more than once in the header {names}; "
            "rename or remove the repeated columns (only one can be read)"
        )
    df.columns = [str(c).strip().lower() for c in df.columns]
    ren = {c: _ALIASES[c] for c in df.columns if c in _ALIASES and _ALIASES[c] not in df}
    if columns:
        ren.update({str(k).lower(): v for k, v in columns.items()})
    df = df.rename(columns=ren)
    if "confidence" in df.columns:
        conf = pd.to_numeric(df["confidence"], errors="coerce")
        bad = conf.isna() & df["confidence"].notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(
                f"{path}: row {i} (confidence): expected a number in 0-1, got "
                f"{df['confidence'].iloc[i]!r} ({int(bad.sum())} such row(s)); fix the "
                "values or drop the column"
            )
        df["confidence"] = conf
    if "offset" not in df.columns and "duration" in df.columns:
        df["offset"] = pd.to_numeric(df["onset"], errors="coerce") + pd.to_numeric(
            df["duration"], errors="coerce"
        )
    if kind == "auto":
        if "word" in df.columns:
            kind = "words"
        elif "text" in df.columns:
            kind = "utterances"
        else:
            raise ValueError(
                f"{path}: cannot tell word rows from utterance rows: no 'word' or 'text' "
                f"column (columns: {list(df.columns)}); add one or pass columns="
            )
    need = ["onset", "offset", "speaker", "word" if kind == "words" else "text"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise ValueError(
            f"{path}: the {kind} table lacks column(s) {missing} (columns: "
            f"{list(df.columns)}); expected onset, offset or duration, speaker, "
            f"{'word' if kind == 'words' else 'text'}"
        )
    df["speaker"] = df["speaker"].astype(str).where(df["speaker"].notna(), None)
    df = df.drop(columns=[c for c in ("duration", "utterance_id") if c in df.columns])
    logger.info("%s: %d %s rows", path.name, len(df), kind)
    return _make_transcript(
        df,
        kind=kind,
        path=path,
        speakers=speakers,
        duration=duration,
        pause_threshold=pause_threshold,
        on_overlap=on_overlap,
    )


@fill_doc
@verbose
def write_transcript_tsv(
    transcript: Transcript,
    path: str | os.PathLike,
    *,
    kind: str = "words",
    sep: str | None = None,
    verbose=None,
) -> Path:
    """Write the word table (or the utterance table) as TSV/CSV.

    Word rows: ``onset, duration, offset, word, speaker, confidence, utterance_id`` (+ any
    extra columns); utterance rows: the utterance table. Times at full float precision.

    Parameters
    ----------
    transcript : Transcript
        The transcript to write.
    path : path-like
        The ``.tsv`` or ``.csv`` file (written atomically).
    kind : ``'words'`` | ``'utterances'``
        Which table to write.
    sep : str | None
        Column separator; default tab, comma for ``.csv``.
    %(verbose)s

    Returns
    -------
    path : pathlib.Path
        The written file.

    See Also
    --------
    read_transcript_tsv : The matching reader.
    """
    _check_transcript(transcript)
    check_option("kind", kind, ("words", "utterances"))
    path = Path(path)
    if sep is None:
        sep = "," if path.suffix.lower() == ".csv" else "\t"
    if kind == "words":
        df = transcript.words
        df.insert(1, "duration", df["offset"] - df["onset"])
        first = ["onset", "duration", "offset", "word", "speaker", "confidence", "utterance_id"]
        df = df[first + [c for c in df.columns if c not in first]]
    else:
        df = transcript.utterances
        df.insert(3, "duration", df["offset"] - df["onset"])
    with atomic_write(path, "w", encoding="utf-8", newline="") as fh:
        df.to_csv(fh, sep=sep, index=False, na_rep="n/a")
    logger.info("wrote %d %s rows to %s", len(df), kind, path)
    return path
