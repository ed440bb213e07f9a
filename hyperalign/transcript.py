"""The transcript of one conversation: a word table and the utterance table derived from it.

Times are in seconds on the dyad's shared clock. The word table has one row per word
(``onset``, ``offset``, ``word``, ``speaker``, ``confidence``); the utterance table has one
row per utterance (``utterance_id``, ``speaker``, ``onset``, ``offset``, ``text``,
``n_words``, ``turn``, ``overlap``, ``backchannel``).

Utterances are built from words: a speaker's run of words is broken into a new utterance
at a pause longer than ``pause_threshold`` or when another speaker talks in the gap
(a speaker change). Overlapping speech and backchannels are flagged, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from .utils import _validate_type, logger

WORD_COLUMNS = ["onset", "offset", "word", "speaker", "confidence"]
UTTERANCE_COLUMNS = [
    "utterance_id",
    "speaker",
    "onset",
    "offset",
    "text",
    "n_words",
    "turn",
    "overlap",
    "backchannel",
]

#: Tokens that, alone, make a backchannel (listener feedback that does not take the floor).
BACKCHANNEL_TOKENS = frozenset(
    {
        "yeah", "yes", "yep", "mhm", "mm", "mmhm", "mm-hmm", "uh-huh", "uhhuh", "hmm", "hm",
        "right", "ok", "okay", "sure", "wow", "oh", "ah", "aha", "really", "true", "exactly",
        "cool", "nice", "totally", "i", "see", "uh", "um",
    }
)  # fmt: skip

_PUNCT = re.compile(r"^[^\w'-]+|[^\w'-]+$")


class TranscriptError(ValueError):
    """A transcript failed validation; ``problems`` lists every problem found.

    Parameters
    ----------
    problems : sequence of str
        One line per problem (row, field, expected, received).
    source : str | None
        The file or object the transcript came from, named in the message.
    """

    def __init__(self, problems: Sequence[str], source: str | None = None):
        self.problems = list(problems)
        self.source = source
        where = f" in {source}" if source else ""
        head = f"{len(self.problems)} problem(s) found{where}:\n"
        super().__init__(head + "\n".join(f"  - {p}" for p in self.problems))


def _normalize_token(word: str) -> str:
    return _PUNCT.sub("", str(word)).lower()


class Transcript:
    """Words and utterances of one conversation.

    Parameters
    ----------
    words : pandas.DataFrame
        One row per word with columns ``onset``, ``offset`` (s), ``word``, ``speaker`` and
        optionally ``confidence`` (0-1) and ``utterance_id`` (used when
        ``segmentation='given'``). Extra columns are kept.
    speakers : sequence of str | None
        The allowed speaker labels (the participant ids). ``None`` accepts any label.
    duration : float | None
        Length of the recording (s); words past it are an error.
    pause_threshold : float
        A pause (s) longer than this between two words of one speaker starts a new utterance.
    segmentation : ``'pause'`` | ``'given'``
        ``'pause'`` builds utterances from pauses and speaker changes; ``'given'`` keeps the
        grouping in the ``utterance_id`` column.
    on_overlap : ``'raise'`` | ``'clip'``
        What to do when two words of the same speaker overlap in time: raise, or clip the
        earlier word's offset to the later word's onset (each clip is recorded in
        :attr:`fixes`).
    source : str | None
        Where the table came from (a file name), used in error messages.
    """

    def __init__(
        self,
        words: pd.DataFrame,
        *,
        speakers: Sequence[str] | None = None,
        duration: float | None = None,
        pause_threshold: float = 0.5,
        segmentation: str = "pause",
        on_overlap: str = "raise",
        source: str | None = None,
    ):
        _validate_type(words, pd.DataFrame, "words", "a pandas DataFrame")
        if segmentation not in ("pause", "given"):
            raise ValueError(f"segmentation must be 'pause' or 'given'; got {segmentation!r}")
        if on_overlap not in ("raise", "clip"):
            raise ValueError(f"on_overlap must be 'raise' or 'clip'; got {on_overlap!r}")
        if pause_threshold <= 0:
            raise ValueError(f"pause_threshold must be > 0 s; got {pause_threshold!r}")
        self.source = source
        self.pause_threshold = float(pause_threshold)
        self.segmentation = segmentation
        self.fixes: list[str] = []
        words = words.copy()
        if "confidence" not in words.columns:
            words["confidence"] = np.nan
        problems = _check_words(words, speakers=speakers, duration=duration)
        if problems:
            raise TranscriptError(problems, source)
        words["onset"] = words["onset"].astype(float)
        words["offset"] = words["offset"].astype(float)
        words["confidence"] = words["confidence"].astype(float)
        words["word"] = words["word"].astype(str)
        words["speaker"] = words["speaker"].astype(str)
        # stable sort by onset keeps file order for simultaneous words
        words = words.sort_values("onset", kind="mergesort").reset_index(drop=True)
        over = _same_speaker_overlaps(words)
        if len(over):
            if on_overlap == "raise":
                probs = [
                    f"row {i} (onset): word {words.at[i, 'word']!r} of speaker "
                    f"{words.at[i, 'speaker']!r} starts at {words.at[i, 'onset']:.3f} s, "
                    f"before the previous word of that speaker ends "
                    f"({words.at[j, 'offset']:.3f} s); fix the times or pass on_overlap='clip'"
                    for j, i in over
                ]
                raise TranscriptError(probs, source)
            for j, i in over:
                words.at[j, "offset"] = words.at[i, "onset"]
                self.fixes.append(
                    f"clipped offset of word {j} ({words.at[j, 'word']!r}) to the onset of "
                    f"the next word of speaker {words.at[j, 'speaker']!r}"
                )
            logger.warning("Transcript: clipped %d overlapping same-speaker words", len(over))
        self.speakers = (
            list(speakers) if speakers is not None else list(dict.fromkeys(words["speaker"]))
        )
        self.duration = None if duration is None else float(duration)
        if segmentation == "given":
            if "utterance_id" not in words.columns:
                raise ValueError(
                    "segmentation='given' needs an 'utterance_id' column in the word table; "
                    "use segmentation='pause' to build utterances from pauses"
                )
            groups = pd.factorize(words["utterance_id"])[0]
        else:
            groups = _segment(words, self.pause_threshold)
        words["utterance_id"] = groups
        self._words = words
        self._utterances = _build_utterances(words)
        # renumber so that utterance ids follow onset order
        order = {old: new for new, old in enumerate(self._utterances["utterance_id"])}
        self._words["utterance_id"] = self._words["utterance_id"].map(order).astype(int)
        self._utterances["utterance_id"] = np.arange(len(self._utterances))

    # ------------------------------------------------------------------ properties
    @property
    def words(self) -> pd.DataFrame:
        """The word table (a copy), sorted by onset, with its ``utterance_id``."""
        return self._words.copy()

    @property
    def utterances(self) -> pd.DataFrame:
        """The utterance table (a copy), sorted by onset."""
        return self._utterances.copy()

    @property
    def n_words(self) -> int:
        return len(self._words)

    @property
    def n_utterances(self) -> int:
        return len(self._utterances)

    @property
    def end(self) -> float:
        """Offset of the last word (s), 0 for an empty transcript."""
        return float(self._words["offset"].max()) if len(self._words) else 0.0

    def __len__(self) -> int:
        return len(self._words)

    def __repr__(self) -> str:
        spk = ", ".join(self.speakers)
        return (
            f"<Transcript | {self.n_words} words, {self.n_utterances} utterances, "
            f"{self._utterances['turn'].nunique() if self.n_utterances else 0} turns, "
            f"speakers: {spk}, {self.end:.1f} s>"
        )

    # ------------------------------------------------------------------ conversion
    def to_data_frame(self, kind: str = "words") -> pd.DataFrame:
        """Return the ``'words'`` or ``'utterances'`` table as a tidy DataFrame.

        Parameters
        ----------
        kind : ``'words'`` | ``'utterances'``
            Which table.

        Returns
        -------
        table : pandas.DataFrame
            A copy of the table.
        """
        if kind == "words":
            return self.words
        if kind == "utterances":
            return self.utterances
        raise ValueError(f"kind must be 'words' or 'utterances'; got {kind!r}")

    @classmethod
    def from_data_frame(cls, df: pd.DataFrame, kind: str = "words", **kwargs) -> Transcript:
        """Build a transcript from a word table or from an utterance table.

        With ``kind='utterances'`` (columns ``onset``, ``offset``, ``speaker``, ``text``) the
        words are spread over each utterance in proportion to their length (their times are
        then approximate: the word table gets ``timing='interpolated'``), and the given
        utterance grouping is kept.
        """
        if kind == "words":
            return cls(df, **kwargs)
        if kind != "utterances":
            raise ValueError(f"kind must be 'words' or 'utterances'; got {kind!r}")
        missing = [c for c in ("onset", "offset", "speaker", "text") if c not in df.columns]
        if missing:
            raise TranscriptError(
                [f"utterance table lacks column(s) {missing}; it has {list(df.columns)}"],
                kwargs.get("source"),
            )
        rows = []
        problems = []
        for i, r in enumerate(df.itertuples(index=False)):
            toks = str(r.text).split() if not pd.isna(r.text) else []
            if not toks:
                problems.append(f"row {i} (text): utterance is empty")
                continue
            on, off = float(r.onset), float(r.offset)
            if not (np.isfinite(on) and np.isfinite(off)) or off < on:
                problems.append(f"row {i} (onset/offset): need finite onset <= offset")
                continue
            edges = _spread_edges(toks, on, off)
            for k, t in enumerate(toks):
                rows.append(
                    {
                        "onset": edges[k],
                        "offset": edges[k + 1],
                        "word": t,
                        "speaker": r.speaker,
                        "confidence": np.nan,
                        "utterance_id": i,
                        "timing": "interpolated",
                    }
                )
        if problems:
            raise TranscriptError(problems, kwargs.get("source"))
        kwargs.setdefault("segmentation", "given")
        words = pd.DataFrame(rows, columns=[*WORD_COLUMNS, "utterance_id", "timing"])
        return cls(words, **kwargs)

    # ------------------------------------------------------------------ editing
    def copy(self) -> Transcript:
        new = Transcript.__new__(Transcript)
        new.__dict__.update(self.__dict__)
        new._words = self._words.copy()
        new._utterances = self._utterances.copy()
        new.speakers = list(self.speakers)
        new.fixes = list(self.fixes)
        return new

    def _rebuild(self, words: pd.DataFrame, duration: float | None, speakers=None) -> Transcript:
        return Transcript(
            words.drop(columns=["utterance_id"]) if self.segmentation == "pause" else words,
            speakers=self.speakers if speakers is None else speakers,
            duration=duration,
            pause_threshold=self.pause_threshold,
            segmentation=self.segmentation,
            on_overlap="clip",
            source=self.source,
        )

    def shift(self, delta: float) -> Transcript:
        """Return a transcript with every time shifted by ``delta`` seconds.

        Parameters
        ----------
        delta : float
            Shift (s); positive moves every word later.

        Returns
        -------
        transcript : Transcript
            A new transcript (this one is unchanged).
        """
        w = self._words.copy()
        w["onset"] += delta
        w["offset"] += delta
        return self._rebuild(w, None if self.duration is None else self.duration + delta)

    def crop(self, tmin: float = 0.0, tmax: float | None = None) -> Transcript:
        """Keep words wholly inside ``[tmin, tmax]`` and re-zero times at ``tmin``.

        Parameters
        ----------
        tmin : float
            Start of the window (s).
        tmax : float | None
            End of the window (s); ``None`` keeps every word after ``tmin``.

        Returns
        -------
        transcript : Transcript
            A new transcript (this one is unchanged).
        """
        w = self._words
        keep = w["onset"] >= tmin
        if tmax is not None:
            keep &= w["offset"] <= tmax
        n_out = int((~keep).sum())
        if n_out:
            logger.info("Transcript.crop: %d word(s) fall outside [%s, %s]", n_out, tmin, tmax)
        w = w[keep].copy()
        w["onset"] -= tmin
        w["offset"] -= tmin
        dur = None if tmax is None else tmax - tmin
        return self._rebuild(w.reset_index(drop=True), dur)

    def rename_speakers(self, mapping: dict[str, str]) -> Transcript:
        """Return a transcript with speaker labels renamed by ``mapping``.

        Parameters
        ----------
        mapping : dict of str to str
            ``{old label: new label}``; labels not in it are kept.

        Returns
        -------
        transcript : Transcript
            A new transcript (this one is unchanged).
        """
        w = self._words.copy()
        w["speaker"] = w["speaker"].map(lambda s: mapping.get(s, s))
        return self._rebuild(w, self.duration, [mapping.get(s, s) for s in self.speakers])

    def validate(
        self, *, duration: float | None = None, speakers: Iterable[str] | None = None
    ) -> None:
        """Check the words against a recording ``duration`` and a set of ``speakers``.

        Parameters
        ----------
        duration : float | None
            Recording length (s); words past it are problems.
        speakers : iterable of str | None
            The allowed speaker labels (participant ids).

        Raises
        ------
        TranscriptError
            Listing every problem (row, field, expected, received).
        """
        problems = _check_words(
            self._words, speakers=list(speakers) if speakers else None, duration=duration
        )
        if problems:
            raise TranscriptError(problems, self.source)


# ---------------------------------------------------------------------- helpers
def _spread_edges(tokens: Sequence[str], onset: float, offset: float) -> np.ndarray:
    """Word boundaries spreading ``tokens`` over ``[onset, offset]`` by their length (+1)."""
    w = np.array([len(t) + 1 for t in tokens], float)
    return onset + (offset - onset) * np.concatenate([[0], np.cumsum(w)]) / w.sum()


def _comma_hint(value) -> str:
    """A time written with a decimal comma (``'1,5'``) is a locale problem: say so."""
    import re

    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+,\d+\s*", value):
        return " (a decimal comma: write times with a decimal point, e.g. '1.5')"
    return ""


def _check_words(words: pd.DataFrame, *, speakers=None, duration=None) -> list[str]:
    problems: list[str] = []
    missing = [c for c in ("onset", "offset", "word", "speaker") if c not in words.columns]
    if missing:
        return [
            f"word table lacks required column(s) {missing}; it has {list(words.columns)} "
            "(expected onset, offset, word, speaker[, confidence])"
        ]
    on = pd.to_numeric(words["onset"], errors="coerce").to_numpy(float)
    off = pd.to_numeric(words["offset"], errors="coerce").to_numpy(float)
    spk = words["speaker"].to_numpy()
    wd = words["word"].to_numpy()
    conf = pd.to_numeric(words["confidence"], errors="coerce").to_numpy(float)
    allowed = set(map(str, speakers)) if speakers is not None else None
    last_on: dict[str, float] = {}
    for i in range(len(words)):
        if not np.isfinite(on[i]):
            got = words["onset"].iloc[i]
            problems.append(
                f"row {i} (onset): expected a finite time in s, got {got!r}{_comma_hint(got)}"
            )
        if not np.isfinite(off[i]):
            got = words["offset"].iloc[i]
            problems.append(
                f"row {i} (offset): expected a finite time in s, got {got!r}{_comma_hint(got)}"
            )
        if np.isfinite(on[i]) and np.isfinite(off[i]) and off[i] < on[i]:
            problems.append(
                f"row {i} (offset): negative duration, offset {off[i]:.3f} s < onset {on[i]:.3f} s"
            )
        if pd.isna(spk[i]) or str(spk[i]) == "":
            problems.append(f"row {i} (speaker): missing speaker label")
        elif allowed is not None and str(spk[i]) not in allowed:
            problems.append(
                f"row {i} (speaker): unknown speaker {spk[i]!r}; expected one of "
                f"{sorted(allowed)} (rename speakers to participant ids)"
            )
        if pd.isna(wd[i]) or str(wd[i]).strip() == "":
            problems.append(f"row {i} (word): empty word")
        if np.isfinite(conf[i]) and not 0 <= conf[i] <= 1:
            problems.append(f"row {i} (confidence): expected 0-1, got {conf[i]}")
        if duration is not None:
            if np.isfinite(on[i]) and on[i] < 0:
                problems.append(
                    f"row {i} (onset): {on[i]:.3f} s is before the recording start (0 s)"
                )
            if np.isfinite(off[i]) and off[i] > duration + 1e-9:
                problems.append(
                    f"row {i} (offset): {off[i]:.3f} s is past the end of the recording "
                    f"({duration:.3f} s); crop the transcript or check the clock alignment"
                )
        s = str(spk[i])
        if np.isfinite(on[i]):
            if s in last_on and on[i] < last_on[s] - 1e-9:
                problems.append(
                    f"row {i} (onset): onsets of speaker {s!r} are not monotonic "
                    f"({on[i]:.3f} s after {last_on[s]:.3f} s); sort the rows by onset"
                )
            last_on[s] = max(on[i], last_on.get(s, -np.inf))
    return problems


def _same_speaker_overlaps(words: pd.DataFrame, tol: float = 1e-3) -> list[tuple[int, int]]:
    out = []
    for _, idx in words.groupby("speaker", sort=False).indices.items():
        on = words["onset"].to_numpy()[idx]
        off = words["offset"].to_numpy()[idx]
        bad = np.nonzero(on[1:] < off[:-1] - tol)[0]
        out.extend((int(idx[b]), int(idx[b + 1])) for b in bad)
    return out


def _segment(words: pd.DataFrame, pause: float) -> np.ndarray:
    """Utterance labels: break at a long pause or when another speaker talks in the gap."""
    n = len(words)
    labels = np.empty(n, int)
    on = words["onset"].to_numpy()
    off = words["offset"].to_numpy()
    spk = words["speaker"].to_numpy()
    current: dict[str, int] = {}
    last_off: dict[str, float] = {}
    last_idx: dict[str, int] = {}
    next_label = 0
    for i in range(n):
        s = spk[i]
        new = s not in current or on[i] - last_off[s] > pause
        if not new:
            # another speaker started a word inside this speaker's gap: a speaker change
            j0 = last_idx[s] + 1
            if j0 < i:
                between = (spk[j0:i] != s) & (on[j0:i] >= last_off[s])
                new = bool(between.any())
        if new:
            current[s] = next_label
            next_label += 1
        labels[i] = current[s]
        last_off[s] = max(off[i], last_off.get(s, -np.inf)) if not new else off[i]
        last_idx[s] = i
    return labels


def _build_utterances(words: pd.DataFrame) -> pd.DataFrame:
    if not len(words):
        return pd.DataFrame(columns=UTTERANCE_COLUMNS)
    g = words.groupby("utterance_id", sort=False)
    utt = pd.DataFrame(
        {
            "utterance_id": list(g.groups.keys()),
            "speaker": g["speaker"].first().to_numpy(),
            "onset": g["onset"].min().to_numpy(),
            "offset": g["offset"].max().to_numpy(),
            "text": g["word"].agg(" ".join).to_numpy(),
            "n_words": g.size().to_numpy(),
        }
    )
    if (g["speaker"].nunique() > 1).any():
        raise TranscriptError(["an utterance_id groups words of more than one speaker"])
    utt = utt.sort_values("onset", kind="mergesort").reset_index(drop=True)
    on = utt["onset"].to_numpy()
    off = utt["offset"].to_numpy()
    spk = utt["speaker"].to_numpy()
    n = len(utt)
    overlap = np.zeros(n, bool)
    contained = np.zeros(n, bool)
    for i in range(n):
        other = spk != spk[i]
        ov = other & (on < off[i]) & (off > on[i])
        overlap[i] = ov.any()
        contained[i] = (other & (on <= on[i]) & (off >= off[i])).any()
    lexical = np.array(
        [
            all(_normalize_token(t) in BACKCHANNEL_TOKENS for t in txt.split())
            for txt in utt["text"]
        ]
    )
    short = utt["n_words"].to_numpy() <= 3
    backchannel = short & (contained | (lexical & overlap) | (lexical & (utt["n_words"] <= 2)))
    # turns: the floor changes hands at a non-backchannel utterance of a new speaker
    turn = np.zeros(n, int)
    t, holder = -1, None
    for i in range(n):
        if not backchannel[i] and spk[i] != holder:
            t += 1
            holder = spk[i]
        turn[i] = max(t, 0)
    utt["turn"] = turn
    utt["overlap"] = overlap
    utt["backchannel"] = backchannel
    return utt[UTTERANCE_COLUMNS]
