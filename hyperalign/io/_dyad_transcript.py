"""The transcript of a dyad being read: loaded, speakers checked, times checked."""

from __future__ import annotations

import os

import numpy as np

from ..dyad import Dyad
from ..transcript import Transcript, TranscriptError
from ..utils import _validate_type


def _load_transcript(transcript, fmt, speakers, kwargs) -> Transcript:
    from .transcripts import read_transcript

    if isinstance(transcript, Transcript):
        tr = transcript
        if speakers:
            tr = tr.rename_speakers(dict(speakers))
        return tr
    if isinstance(transcript, str | os.PathLike):
        return read_transcript(transcript, fmt, speakers=speakers, **kwargs)
    _validate_type(transcript, ("path-like", Transcript), "transcript", "a path or a Transcript")


def _attach_transcript(dyad: Dyad, tr: Transcript, on_outside: str) -> None:
    src = tr.source or "the transcript"
    labels = set(tr.words["speaker"])
    unknown = sorted(labels - set(dyad.ids))
    if unknown:
        counts = tr.words["speaker"].value_counts()
        rows = tr.words.index[tr.words["speaker"].isin(unknown)].tolist()
        hint = _numeric_id_hint(unknown, dyad.ids)
        raise TranscriptError(
            [
                f"speaker(s) {unknown} ({', '.join(f'{u}: {counts[u]} words' for u in unknown)}; "
                f"first rows {rows[:5]}) match no participant of dyad {dyad.dyad_id!r} "
                f"(ids {dyad.ids}){hint}; pass speakers={{{unknown[0]!r}: {dyad.ids[0]!r}, ...}} "
                "or fix participant_ids"
            ],
            src,
        )
    if tr.fixes:
        dyad.meta.setdefault("transcript_fixes", []).extend(tr.fixes)
    dur = dyad.duration
    if tr.n_words and tr.end > dur + 1e-9:
        past = tr.words["offset"] > dur + 1e-9
        if on_outside == "raise":
            first = int(np.flatnonzero(past.to_numpy())[0])
            ms = tr.end / 1000.0 <= dur + 1e-9 and tr.end > 10 * dur
            unit = (
                f"; the times look like milliseconds (the last word ends at {tr.end:g}, "
                f"{tr.end / 1000:.3f} s if in ms): convert them to seconds"
                if ms
                else ""
            )
            raise TranscriptError(
                [
                    f"{int(past.sum())} word(s) run past the end of the recordings "
                    f"({dur:.3f} s), the first at row {first} ({tr.words['word'].iloc[first]!r}, "
                    f"offset {tr.words['offset'].iloc[first]:.3f} s){unit}; check the clock "
                    "alignment, or pass on_outside='drop' to remove them (counted in "
                    "dyad.exclusions)"
                ],
                src,
            )
        n0 = tr.n_words
        tr = tr.crop(0.0, dur)
        dyad.exclusions.add(
            "io", "word", f"{src}: offset > {dur:.3f} s", "past the end of the recordings",
            n0 - tr.n_words,
        )  # fmt: skip
    for p in dyad.participants:
        if p.audio is not None and tr.n_words:
            spoken = tr.words[tr.words["speaker"] == p.id]
            if len(spoken) and spoken["offset"].max() > p.audio_duration + 1e-6:
                row = int(spoken["offset"].idxmax())
                raise ValueError(
                    f"{src}: row {row}: a word of {p.id!r} ends at "
                    f"{spoken['offset'].max():.3f} s but the audio of {p.id!r} "
                    f"({p.info.get('audio_source') or 'given audio'}) lasts only "
                    f"{p.audio_duration:.3f} s; give the full audio or crop the transcript"
                )
    dyad.set_transcript(tr)


def _numeric_id_hint(unknown, ids) -> str:
    """Say so when labels differ from the ids only as numbers ('1' vs '01', '1.0' vs '1')."""

    def num(x):
        try:
            return float(x)
        except (TypeError, ValueError):
            return None

    pairs = [(u, i) for u in unknown for i in ids if num(u) is not None and num(u) == num(i)]
    if not pairs:
        return ""
    shown = ", ".join(f"{u!r} vs {i!r}" for u, i in pairs[:4])
    return (
        f"; the labels equal the ids as numbers ({shown}): a spreadsheet or a numeric column "
        "changed them (leading zeros lost); keep ids as text in every file"
    )
