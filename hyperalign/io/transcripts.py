"""Transcript readers and writers: whisperx JSON, Praat TextGrid and TSV/CSV tables.

Every reader returns a :class:`hyperalign.Transcript` whose speaker labels are participant
ids (rename with ``speakers={'SPEAKER_00': 'A', ...}``). Every writer has a matching reader
and a round trip gives back the same word table (onset, offset, word, speaker and, where the
format stores it, confidence).

Words that a forced aligner left without times (whisperx leaves some numerals unaligned) are
*not* dropped: their times are interpolated inside the gap between their timed neighbours,
the word table marks them ``timing='interpolated'`` and the transcript's ``fixes`` lists them.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..transcript import Transcript, TranscriptError
from ..utils import atomic_write, check_option, logger, verbose_context

__all__ = [
    "read_transcript",
    "read_whisperx_json",
    "write_whisperx_json",
    "read_textgrid",
    "write_textgrid",
    "read_transcript_tsv",
    "write_transcript_tsv",
    "write_transcript",
    "TRANSCRIPT_FORMATS",
]

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
        whisperx JSON: ``{"segments": [{"start", "end", "text", "speaker"?, "words":
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
    verbose : bool | str | int | None
        Log level for this call.

    Returns
    -------
    Transcript
        Words without start/end are interpolated (``timing='interpolated'``, listed in
        ``transcript.fixes``); a segment without ``words`` is spread over its span
        (``timing='segment'``).
    """
    check_option("segmentation", segmentation, ("pause", "segment"))
    path = Path(path)
    with verbose_context(verbose):
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
            if not isinstance(seg, dict):
                problems.append(f"segment {si}: expected an object, got {type(seg).__name__}")
                continue
            s_on = _num(seg.get("start"))
            s_off = _num(seg.get("end"))
            s_spk = seg.get("speaker", default_speaker)
            words = seg.get("words")
            if not words:
                toks = str(seg.get("text", "")).split()
                if not toks:
                    fixes.append(f"segment {si}: empty (no text, no words); nothing to read")
                    continue
                if not (np.isfinite(s_on) and np.isfinite(s_off)):
                    problems.append(
                        f"segment {si} (start/end): a segment without 'words' needs start and "
                        f"end times to place its text; got start={seg.get('start')!r}, "
                        f"end={seg.get('end')!r}"
                    )
                    continue
                w = np.array([len(t) + 1 for t in toks], float)
                edges = s_on + (s_off - s_on) * np.concatenate([[0], np.cumsum(w)]) / w.sum()
                for k, t in enumerate(toks):
                    rows.append(_wx_row(t, edges[k], edges[k + 1], np.nan, s_spk, si, "segment"))
                fixes.append(
                    f"segment {si}: no word times; {len(toks)} word(s) spread over "
                    f"[{s_on:.3f}, {s_off:.3f}] s in proportion to their length"
                )
                continue
            on = np.array([_num(w.get("start")) for w in words], float)
            off = np.array([_num(w.get("end")) for w in words], float)
            lo = s_on if np.isfinite(s_on) else np.nanmin(on, initial=np.nan)
            hi = s_off if np.isfinite(s_off) else np.nanmax(off, initial=np.nan)
            if not (np.isfinite(lo) and np.isfinite(hi)):
                problems.append(
                    f"segment {si} (start/end): no word of this segment has a time and the "
                    "segment has no start/end; cannot place its words"
                )
                continue
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
            df["utterance_id"] = pd.factorize(df["segment"].astype(str) + "\x00" + df["speaker"])[
                0
            ]
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


def write_whisperx_json(
    transcript: Transcript, path: str | os.PathLike, *, indent: int | None = 2, verbose=None
) -> Path:
    """Write ``transcript`` as whisperx JSON (one segment per utterance).

    Words whose confidence is unknown get no ``score`` key, like whisperx. Times are written
    at full float precision so that :func:`read_whisperx_json` gives back the same table.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    _check_transcript(transcript)
    path = Path(path)
    with verbose_context(verbose):
        words = transcript.words
        segments = []
        word_segments = []
        for _, g in words.groupby("utterance_id", sort=True):
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
        with atomic_write(path, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=indent, ensure_ascii=False)
        logger.info("wrote %d segments, %d words to %s", len(segments), len(words), path)
    return path


def _check_transcript(transcript) -> None:
    if not isinstance(transcript, Transcript):
        raise TypeError(f"transcript must be a Transcript; got {type(transcript).__name__}")


# ====================================================================== TextGrid
_TG_TOKEN = re.compile(
    r'"((?:[^"]|"")*)"'  # a string ("" escapes a quote)
    r"|\[\s*\d*\s*\]"  # an index like [3] or [] in the long format: skipped
    r"|<(exists|absent)>"  # a flag
    r"|([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"  # a number
    r"|!.*?$",  # a comment to the end of the line (short format)
    re.MULTILINE,
)


def _tg_tokens(text: str, path) -> list:
    toks: list = []
    for m in _TG_TOKEN.finditer(text):
        if m.group(1) is not None:
            toks.append(("s", m.group(1).replace('""', '"')))
        elif m.group(2) is not None:
            toks.append(("f", m.group(2)))
        elif m.group(3) is not None:
            toks.append(("n", float(m.group(3))))
    return toks


def _parse_textgrid(text: str, path) -> tuple[float, float, list[dict]]:
    """Parse the long or short Praat text format; returns xmin, xmax and the tiers."""
    toks = _tg_tokens(text, path)
    pos = 0

    def take(kind: str, what: str):
        nonlocal pos
        if pos >= len(toks):
            raise ValueError(
                f"{path}: TextGrid ends early while reading {what}; the file is truncated "
                "or not a Praat text TextGrid"
            )
        k, v = toks[pos]
        if k != kind:
            names = {"s": "a quoted string", "n": "a number", "f": "<exists>"}
            raise ValueError(
                f"{path}: malformed TextGrid at {what}: expected {names[kind]}, got {v!r}"
            )
        pos += 1
        return v

    if (
        len(toks) < 2
        or toks[0][0] != "s"
        or not str(toks[0][1]).startswith("ooTextFile")  # also Praat's old "ooTextFile short"
        or toks[1] != ("s", "TextGrid")
    ):
        head = text.strip().splitlines()[0][:60] if text.strip() else ""
        raise ValueError(
            f"{path}: not a Praat TextGrid (expected 'File type = \"ooTextFile\"' and "
            f"'Object class = \"TextGrid\"' at the top; got {head!r}); binary TextGrids are "
            "not supported: save as text from Praat"
        )
    pos = 2
    xmin = take("n", "xmin")
    xmax = take("n", "xmax")
    flag = take("f", "tiers? <exists>")
    tiers: list[dict] = []
    if flag != "exists":
        return xmin, xmax, tiers
    n_tiers = int(take("n", "size"))
    for t in range(n_tiers):
        cls = take("s", f"class of tier {t + 1}")
        name = take("s", f"name of tier {t + 1}")
        take("n", f"xmin of tier {name!r}")
        take("n", f"xmax of tier {name!r}")
        n = int(take("n", f"size of tier {name!r}"))
        items = []
        if cls == "IntervalTier":
            for i in range(n):
                a = take("n", f"xmin of interval {i + 1} of tier {name!r}")
                b = take("n", f"xmax of interval {i + 1} of tier {name!r}")
                lab = take("s", f"text of interval {i + 1} of tier {name!r}")
                items.append((a, b, lab))
        elif cls == "TextTier":
            for i in range(n):
                a = take("n", f"time of point {i + 1} of tier {name!r}")
                lab = take("s", f"mark of point {i + 1} of tier {name!r}")
                items.append((a, a, lab))
        else:
            raise ValueError(
                f"{path}: tier {t + 1} has unknown class {cls!r}; expected 'IntervalTier' or "
                "'TextTier'"
            )
        tiers.append({"class": cls, "name": name, "items": items})
    return xmin, xmax, tiers


def read_textgrid(
    path: str | os.PathLike,
    *,
    tiers: Mapping[str, str] | Sequence[str] | None = None,
    kind: str = "auto",
    speakers: Mapping[str, str] | Sequence[str] | None = None,
    duration: float | None = None,
    pause_threshold: float = 0.5,
    on_overlap: str = "raise",
    silence_labels: Sequence[str] = ("sil", "sp", "<sil>", "<eps>"),
    encoding: str | None = None,
    verbose=None,
) -> Transcript:
    """Read a Praat TextGrid (long or short text format, UTF-8 or UTF-16).

    One interval tier per speaker. Tier names like Montreal Forced Aligner's
    ``'<speaker> - words'`` give the speaker ``<speaker>`` (``' - phones'`` tiers are not
    used, and logged); any other interval tier name is the speaker label itself.

    Parameters
    ----------
    path : path-like
        The ``.TextGrid`` file.
    tiers : mapping | sequence of str | None
        Which tiers to read: a list of tier names, or a mapping ``{tier name: speaker}``.
        ``None``: the ``' - words'`` tiers if there are any, else every interval tier.
    kind : ``'auto'`` | ``'words'`` | ``'utterances'``
        Whether intervals hold single words or whole utterances; ``'auto'`` picks
        ``'utterances'`` when some interval holds more than one token.
    speakers, duration, pause_threshold, on_overlap, verbose
        See :func:`read_transcript`.
    silence_labels : sequence of str
        Interval labels that mark silence, like an empty interval (case-insensitive;
        aligners write ``sil``/``sp``/``<eps>``). Counted in the log, not read as words.
    encoding : str | None
        Text encoding; ``None``: UTF-8 or UTF-16 (with or without a BOM, as Praat writes).

    Returns
    -------
    Transcript
        Empty and silence intervals are not words and are skipped.
    """
    check_option("kind", kind, ("auto", "words", "utterances"))
    path = Path(path)
    with verbose_context(verbose):
        xmin, xmax, all_tiers = _parse_textgrid(_read_text(path, encoding), path)
        interval = [t for t in all_tiers if t["class"] == "IntervalTier"]
        for t in all_tiers:
            if t["class"] != "IntervalTier":
                logger.warning(
                    "%s: point tier %r (%d points) is not a speaker tier; not read",
                    path.name,
                    t["name"],
                    len(t["items"]),
                )
        names = [t["name"] for t in interval]
        if tiers is not None:
            mapping = dict(tiers) if isinstance(tiers, Mapping) else {str(n): None for n in tiers}
            unknown = [n for n in mapping if n not in names]
            if unknown:
                raise ValueError(
                    f"{path}: tiers={unknown} not found; the interval tiers are {names}"
                )
            chosen = [(t, mapping[t["name"]] or _tier_speaker(t["name"])) for t in interval
                      if t["name"] in mapping]  # fmt: skip
        else:
            word_tiers = [t for t in interval if re.search(r"\s-\swords$", t["name"])]
            pool = word_tiers or [
                t for t in interval if not re.search(r"\s-\s(phones|phonemes)$", t["name"])
            ]
            chosen = [(t, _tier_speaker(t["name"])) for t in pool]
            skipped = [t["name"] for t in interval if t not in pool]
            if skipped:
                logger.info("%s: tiers not used as speakers: %s", path.name, skipped)
        if not chosen:
            raise ValueError(
                f"{path}: no interval tier to read as a speaker (tiers: {names}); pass tiers="
            )
        rows = []
        silent = {str(x).strip().lower() for x in silence_labels} | {""}
        n_sil = 0
        for t, spk in chosen:
            for a, b, lab in t["items"]:
                lab = lab.strip()
                if lab.lower() in silent:
                    n_sil += bool(lab)
                    continue
                rows.append({"onset": a, "offset": b, "speaker": spk, "text": lab})
        if n_sil:
            logger.info("%s: %d interval(s) labelled as silence %s are not words",
                        path.name, n_sil, sorted(silent - {""}))  # fmt: skip
        df = pd.DataFrame(rows, columns=["onset", "offset", "speaker", "text"])
        if kind == "auto":
            kind = "utterances" if df["text"].str.contains(r"\s").any() else "words"
        if kind == "words":
            df = df.rename(columns={"text": "word"})
            df["confidence"] = np.nan
        logger.info("%s: %d %s from %d tier(s)", path.name, len(df), kind, len(chosen))
        return _make_transcript(
            df,
            kind=kind,
            path=path,
            speakers=speakers,
            duration=duration,
            pause_threshold=pause_threshold,
            on_overlap=on_overlap,
        )


def _tier_speaker(name: str) -> str:
    m = re.match(r"^(.*?)\s-\s(words|phones|phonemes|utterances)$", name)
    return m.group(1) if m else name


def _fmt(x: float) -> str:
    return repr(float(x)) if not float(x).is_integer() else str(int(x))


def write_textgrid(
    transcript: Transcript,
    path: str | os.PathLike,
    *,
    kind: str = "words",
    text_format: str = "long",
    tier_names: str = "mfa",
    xmax: float | None = None,
    encoding: str = "utf-8",
    verbose=None,
) -> Path:
    """Write ``transcript`` as a Praat TextGrid, one interval tier per speaker.

    Parameters
    ----------
    transcript : Transcript
        The transcript to write.
    path : path-like
        Output ``.TextGrid`` file.
    kind : ``'words'`` | ``'utterances'``
        One interval per word or per utterance.
    text_format : ``'long'`` | ``'short'``
        Praat's long (``xmin = ...``) or short text format.
    tier_names : ``'mfa'`` | ``'speaker'``
        ``'mfa'`` names tiers ``'<speaker> - words'`` like Montreal Forced Aligner;
        ``'speaker'`` uses the bare speaker label.
    xmax : float | None
        End of the TextGrid (s); default the transcript's duration or its last offset.
    encoding : str
        ``'utf-8'`` (default) or ``'utf-16'`` (what Praat writes for non-ASCII text).

    Returns
    -------
    pathlib.Path
    """
    _check_transcript(transcript)
    check_option("kind", kind, ("words", "utterances"))
    check_option("text_format", text_format, ("long", "short"))
    check_option("tier_names", tier_names, ("mfa", "speaker"))
    path = Path(path)
    table = transcript.words if kind == "words" else transcript.utterances
    label = "word" if kind == "words" else "text"
    end = transcript.end
    if xmax is None:
        xmax = max(end, transcript.duration or 0.0)
    if xmax < end:
        raise ValueError(f"xmax={xmax} is before the last word offset ({end:.3f} s)")
    if len(table) and table["onset"].min() < 0:
        raise ValueError("the transcript has negative onsets; shift it before writing a TextGrid")
    tiers = []
    for spk in transcript.speakers:
        g = table[table["speaker"] == spk].sort_values("onset", kind="mergesort")
        items = []
        t = 0.0
        for a, b, lab in zip(g["onset"], g["offset"], g[label]):
            a = max(float(a), t)  # a sub-millisecond overlap kept by Transcript is clipped
            if a > t:
                items.append((t, a, ""))
            items.append((a, float(b), str(lab)))
            t = float(b)
        if xmax > t or not items:
            items.append((t, float(xmax), ""))
        suffix = " - words" if kind == "words" else " - utterances"
        tiers.append((spk + suffix if tier_names == "mfa" else spk, items))

    def q(s: str) -> str:
        return '"' + s.replace('"', '""') + '"'

    lines = ['File type = "ooTextFile"', 'Object class = "TextGrid"', ""]
    if text_format == "long":
        lines += ["xmin = 0", f"xmax = {_fmt(xmax)}", "tiers? <exists>", f"size = {len(tiers)}"]
        lines.append("item []:")
        for k, (name, items) in enumerate(tiers, 1):
            lines += [
                f"    item [{k}]:",
                '        class = "IntervalTier"',
                f"        name = {q(name)}",
                "        xmin = 0",
                f"        xmax = {_fmt(xmax)}",
                f"        intervals: size = {len(items)}",
            ]
            for i, (a, b, lab) in enumerate(items, 1):
                lines += [
                    f"        intervals [{i}]:",
                    f"            xmin = {_fmt(a)}",
                    f"            xmax = {_fmt(b)}",
                    f"            text = {q(lab)}",
                ]
    else:
        lines += ["0", _fmt(xmax), "<exists>", str(len(tiers))]
        for name, items in tiers:
            lines += ['"IntervalTier"', q(name), "0", _fmt(xmax), str(len(items))]
            for a, b, lab in items:
                lines += [_fmt(a), _fmt(b), q(lab)]
    with verbose_context(verbose):
        with atomic_write(path, "w", encoding=encoding, newline="\n") as fh:
            fh.write("\n".join(lines) + "\n")
        logger.info("wrote %d tier(s) to %s", len(tiers), path)
    return path


# ====================================================================== TSV / CSV
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
    kind : ``'auto'`` | ``'words'`` | ``'utterances'``
        ``'auto'``: word rows when there is a ``word`` column, utterance rows when there is a
        ``text`` column.
    sep : str | None
        Column separator; default tab for ``.tsv``/``.txt``, comma for ``.csv``.
    columns : mapping | None
        Extra renames ``{name in file: standard name}``.
    encoding : str | None
        Text encoding; ``None``: strict UTF-8 (BOM removed) or UTF-16 with a BOM.

    Notes
    -----
    Every cell is read as a string first: speaker labels such as ``01`` stay ``'01'``;
    ``onset``/``offset``/``duration``/``confidence`` are then converted to numbers.
    """
    check_option("kind", kind, ("auto", "words", "utterances"))
    path = Path(path)
    with verbose_context(verbose):
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
    with verbose_context(verbose):
        with atomic_write(path, "w", encoding="utf-8", newline="") as fh:
            df.to_csv(fh, sep=sep, index=False, na_rep="n/a")
        logger.info("wrote %d %s rows to %s", len(df), kind, path)
    return path


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
