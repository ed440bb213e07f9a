"""Praat TextGrid (long and short text formats): one interval tier per speaker."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ...transcript import Transcript
from ...utils import atomic_write, check_option, fill_doc, logger, verbose
from ._common import _check_transcript, _make_transcript, _read_text

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


@fill_doc
@verbose
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
    %(transcript_speakers)s
    %(transcript_duration)s
    %(pause_threshold)s
    %(on_overlap)s
    silence_labels : sequence of str
        Interval labels that mark silence, like an empty interval (case-insensitive;
        aligners write ``sil``/``sp``/``<eps>``). Counted in the log, not read as words.
    encoding : str | None
        Text encoding; ``None``: UTF-8 or UTF-16 (with or without a BOM, as Praat writes).
    %(verbose)s

    Returns
    -------
    transcript : Transcript
        Empty and silence intervals are not words and are skipped.

    See Also
    --------
    write_textgrid : The matching writer.
    read_transcript : Any format, chosen from the suffix.
    """
    check_option("kind", kind, ("auto", "words", "utterances"))
    path = Path(path)
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
            raise ValueError(f"{path}: tiers={unknown} not found; the interval tiers are {names}")
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


@fill_doc
@verbose
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
    %(verbose)s

    Returns
    -------
    path : pathlib.Path
        The written file.

    See Also
    --------
    read_textgrid : The matching reader.
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
    with atomic_write(path, "w", encoding=encoding, newline="\n") as fh:
        fh.write("\n".join(lines) + "\n")
    logger.info("wrote %d tier(s) to %s", len(tiers), path)
    return path
