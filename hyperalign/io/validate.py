"""Check a dataset folder against the formats in ``data_specs/``, listing every problem.

:func:`validate_dataset` reads ``dyads.tsv`` and every file it names, and returns one
:class:`Problem` per problem found (not only the first): manifest rows that break
``dyads.schema.json``, missing/empty/corrupt files, sampling rates that differ within a
dyad, transcript rows that break ``words.schema.json`` / ``utterances.schema.json``,
speakers that match no participant, words past the end of the recordings or of the audio.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd

from ..transcript import TranscriptError
from ..utils import fill_doc, logger, verbose
from .bids import MANIFEST_NAME, _is_bids, read_manifest

#: ``validate_main`` backs the ``hyperalign validate`` command: importable, not library API
__all__ = ["Problem", "validate_dataset", "load_schema", "SCHEMA_NAMES"]

SCHEMA_NAMES = ("dyads", "words", "utterances", "whisperx")
_SCHEMA_DIR = Path(__file__).parent / "schemas"


@dataclass(frozen=True)
class Problem:
    """One problem of a dataset.

    Parameters
    ----------
    file : str
        The file (relative to the dataset root when inside it).
    row : int | None
        0-based data row of a table (the header is not counted), or None.
    field : str | None
        Column or field name, or None.
    expected : str
        What the specification asks for.
    got : str
        What the file holds.
    message : str
        A sentence naming the problem and the fix.
    """

    file: str
    row: int | None
    field: str | None
    expected: str
    got: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.field:
            where += f", {self.field}"
        return f"{where}: {self.message} (expected {self.expected}; got {self.got})"

    def to_dict(self) -> dict:
        return asdict(self)


@cache
def load_schema(name: str) -> dict:
    """Return the JSON Schema ``name`` (one of :data:`SCHEMA_NAMES`) shipped with the package."""
    if name not in SCHEMA_NAMES:
        raise ValueError(f"name must be one of {list(SCHEMA_NAMES)}; got {name!r}")
    return json.loads((_SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))


def _validator(name: str):
    import jsonschema

    return jsonschema.Draft202012Validator(load_schema(name))


def _row_dict(row: pd.Series) -> dict:
    out = {}
    for k, v in row.items():
        if v is None or (isinstance(v, float) and np.isnan(v)):
            continue
        if isinstance(v, np.integer):
            v = int(v)
        elif isinstance(v, np.floating):
            v = float(v)
            if v.is_integer() and k == "utterance_id":
                v = int(v)
        out[str(k)] = v
    return out


def _schema_problems(validator, row: dict, file: str, i: int) -> list[Problem]:
    out = []
    for err in sorted(validator.iter_errors(row), key=lambda e: list(e.path)):
        field = str(err.path[0]) if err.path else None
        if err.validator == "required":
            m = re.search(r"'([^']+)' is a required property", err.message)
            field = m.group(1) if m else None
            out.append(Problem(file, i, field, "a value", "nothing", f"missing {field}"))
        elif err.validator == "anyOf" and not err.path:
            alts = [" and ".join(s.get("required", [])) for s in err.validator_value]
            out.append(
                Problem(
                    file, i, None, " or ".join(alts), "neither", f"give {' or '.join(alts)}"
                )  # fmt: skip
            )
        else:
            sch = err.schema
            exp = {k: sch[k] for k in ("type", "minimum", "maximum", "pattern", "minLength")
                   if k in sch}  # fmt: skip
            out.append(
                Problem(
                    file, i, field, json.dumps(exp), repr(err.instance), f"{field}: {err.message}"
                )  # fmt: skip
            )
    return out


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _numeric_table(path: Path) -> pd.DataFrame:
    sep = "," if path.suffix.lower() == ".csv" else "\t"
    import io as _io

    from .transcripts import _read_text

    text = _read_text(path)  # strict UTF-8: an undecodable byte is a problem, not Latin-1
    df = pd.read_csv(
        _io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=["", "n/a", "NaN"]
    )
    df.columns = [str(c).strip().lower() for c in df.columns]
    for c in ("onset", "offset", "duration", "confidence", "utterance_id"):
        if c in df:
            num = pd.to_numeric(df[c], errors="coerce")
            # keep unparseable strings so the schema names them
            df[c] = [n if not (np.isnan(n) and pd.notna(v)) else v for n, v in zip(num, df[c])]
    for c in ("word", "text", "speaker"):
        if c in df:
            df[c] = [str(v) if pd.notna(v) else None for v in df[c]]
    return df


def _table_checks(
    w: pd.DataFrame, rel: str, ids: list[str], durations: dict, audio_durs: dict
) -> list[Problem]:
    """Speakers vs participants and times vs recording/audio lengths, on a word/utt table."""
    probs: list[Problem] = []
    spk = w["speaker"].astype(object).where(w["speaker"].notna(), None)
    off = pd.to_numeric(w["offset"], errors="coerce") if "offset" in w else None
    if off is None and "duration" in w and "onset" in w:
        off = pd.to_numeric(w["onset"], errors="coerce") + pd.to_numeric(
            w["duration"], errors="coerce"
        )
    for lab in sorted({s for s in spk if s is not None} - set(ids)):
        rows = w.index[spk == lab].tolist()
        probs.append(
            Problem(
                rel,
                int(rows[0]),
                "speaker",
                f"one of {ids}",
                repr(lab),
                f"speaker {lab!r} ({len(rows)} rows: {rows[:5]}) matches no participant "
                "of the dyad; use participant ids as speaker labels",
            )  # fmt: skip
        )
    if off is None or not len(w):
        return probs
    if durations:
        dur = min(durations.values())
        past = w.index[off > dur + 1e-9].tolist()
        if past:
            probs.append(
                Problem(
                    rel,
                    int(past[0]),
                    "offset",
                    f"<= {dur:.3f} s (recording length)",
                    f"{off.loc[past[0]]:.3f} s",
                    f"{len(past)} row(s) run past the end of the recordings (rows "
                    f"{past[:5]}); check the clock alignment or crop the transcript",
                )  # fmt: skip
            )
    for pid, adur in audio_durs.items():
        mine = off[spk == pid]
        if len(mine) and mine.max() > adur + 1e-6:
            r = int(mine.idxmax())
            probs.append(
                Problem(
                    rel,
                    r,
                    "offset",
                    f"<= {adur:.3f} s (audio of {pid})",
                    f"{mine.max():.3f} s",
                    f"rows of {pid!r} run past the end of their audio; give the full "
                    "audio or crop the transcript",
                )  # fmt: skip
            )
    return probs


def _check_transcript(
    path: Path, root: Path, ids: list[str], durations: dict, audio_durs: dict
) -> list[Problem]:
    from .transcripts import read_transcript

    rel = _rel(path, root)
    probs: list[Problem] = []
    suffix = path.suffix.lower()
    if suffix in (".tsv", ".csv"):
        try:
            df = _numeric_table(path)
        except Exception as err:
            return [Problem(rel, None, None, "a TSV/CSV table", type(err).__name__,
                            f"cannot parse the table: {err}")]  # fmt: skip
        df = df.rename(columns={c: a for c, a in (("start", "onset"), ("end", "offset"))
                                if c in df and a not in df})  # fmt: skip
        kind = "words" if "word" in df else "utterances" if "text" in df else None
        if kind is None:
            return [Problem(rel, None, None, "a 'word' or a 'text' column",
                            str(list(df.columns)), "cannot tell word rows from utterance "
                            "rows")]  # fmt: skip
        v = _validator(kind)
        for i, row in df.iterrows():
            probs.extend(_schema_problems(v, _row_dict(row), rel, int(i)))
        if "speaker" in df:  # rows are file rows here
            probs.extend(_table_checks(df, rel, ids, durations, audio_durs))
        if probs:
            return probs
    elif suffix == ".json":
        try:
            from .transcripts import _read_text

            doc = json.loads(_read_text(path))
        except Exception as err:
            return [Problem(rel, None, None, "whisperx JSON", type(err).__name__,
                            f"not valid JSON: {err}")]  # fmt: skip
        for err in _validator("whisperx").iter_errors(doc):
            loc = "/".join(map(str, err.path))
            got = repr(err.instance)[:80]
            msg = f"{loc}: {err.message[:200]}"
            probs.append(Problem(rel, None, loc or None, "the whisperx layout", got, msg))
        if probs:
            return probs
    try:
        # structure only (order, overlaps, negative durations…): speakers and lengths below
        tr = read_transcript(path)
    except TranscriptError as err:
        for p in err.problems:
            m = re.match(r"row (\d+) \((\w+)\): (.*)", p)
            if m:
                probs.append(Problem(rel, int(m.group(1)), m.group(2), "see message", "",
                                     m.group(3)))  # fmt: skip
            else:
                probs.append(Problem(rel, None, None, "see message", "", p))
        return probs
    except Exception as err:
        return [Problem(rel, None, None, "a readable transcript", type(err).__name__, str(err))]
    if suffix not in (".tsv", ".csv"):  # TSV tables were checked row by row above
        probs.extend(_table_checks(tr.words, rel, ids, durations, audio_durs))
    return probs


def _silent_channels(f: Path, rel: str, key: str) -> list[Problem]:
    """A Problem per audio channel that is silent (a dead, muted or unplugged microphone)."""
    import soundfile as sf

    from ..dyad import SILENCE_DBFS, audio_level_db

    x, sr = sf.read(str(f), dtype="float32", always_2d=True)
    out = []
    for c in range(x.shape[1]):
        lev = audio_level_db(x[:, c], sr)
        if not lev > SILENCE_DBFS:
            where = f" channel {c}" if x.shape[1] > 1 else ""
            out.append(Problem(rel, None, key, f"a live microphone (> {SILENCE_DBFS:g} dB)",
                               f"{lev:.1f} dB", f"the audio{where} is silent: check the "
                               "microphone, the channel or the file"))  # fmt: skip
    return out


def _neural_info(path: Path) -> tuple[float, float, list[str]]:
    from .neural import read_raw

    raw = read_raw(path, preload=False)
    return float(raw.info["sfreq"]), raw.n_times / float(raw.info["sfreq"]), raw.ch_names


@fill_doc
@verbose
def validate_dataset(path: str | os.PathLike, *, verbose=None) -> list[Problem]:
    """Check a dataset folder (a BIDS root or a plain folder with ``dyads.tsv``).

    Parameters
    ----------
    path : path-like
        The dataset root (or its ``dyads.tsv``).
    %(verbose)s

    Returns
    -------
    list of Problem
        Every problem found, in file order; empty when the dataset is valid.
    """

    path = Path(path)
    if not path.exists():
        return [Problem(str(path), None, None, "a dataset folder", "nothing",
                        "the path does not exist")]  # fmt: skip
    root = path if path.is_dir() else path.parent
    try:
        man = read_manifest(path, unique=False)  # repeated ids: one problem per row below
    except (FileNotFoundError, ValueError) as err:
        return [Problem(_rel(root / MANIFEST_NAME, root), None, None,
                        "a dyads.tsv manifest", "missing or empty", str(err))]  # fmt: skip
    mfile = MANIFEST_NAME
    probs: list[Problem] = []
    if _is_bids(root):
        try:
            desc = json.loads((root / "dataset_description.json").read_text())
            for key in ("Name", "BIDSVersion"):
                if key not in desc:
                    probs.append(Problem("dataset_description.json", None, key, "a value",
                                         "nothing", f"BIDS requires {key}"))  # fmt: skip
        except json.JSONDecodeError as err:
            probs.append(Problem("dataset_description.json", None, None, "JSON",
                                 "invalid JSON", str(err)))  # fmt: skip
    v = _validator("dyads")
    seen: dict[str, int] = {}
    if len(man) == 0:
        probs.append(Problem(mfile, None, None, "one row per dyad", "no rows",
                             "the manifest lists no dyad"))  # fmt: skip
    for i, row in man.iterrows():
        i = int(i)
        rd = _row_dict(row)
        probs.extend(_schema_problems(v, rd, mfile, i))
        did = rd.get("dyad_id")
        if did is not None:
            if did in seen:
                probs.append(Problem(mfile, i, "dyad_id", "a unique id", repr(did),
                                     f"dyad_id {did!r} repeats row {seen[did]}"))  # fmt: skip
            seen.setdefault(did, i)
        ids = [rd.get("participant_1"), rd.get("participant_2")]
        if ids[0] is not None and ids[0] == ids[1]:
            probs.append(Problem(mfile, i, "participant_2", "an id different from "
                                 "participant_1", repr(ids[1]),
                                 "the two participants share one id"))  # fmt: skip
        durations, p_neural = _neural_problems(root, mfile, i, rd, ids)
        audio_durs, p_audio = _audio_problems(root, mfile, i, rd, ids)
        probs += p_neural + p_audio
        probs += _transcript_problems(root, mfile, i, rd, ids, durations, audio_durs)
    for p in probs:
        logger.info("problem: %s", p)
    logger.info("validated %s: %d problem(s)", root, len(probs))
    return probs


def _row_files(root: Path, mfile: str, i: int, rd: dict, keys, probs: list, *, folders=False):
    """Yield ``(key, k, rel, path)`` for each file a manifest row names that exists.

    A named file that does not exist (or, unless ``folders``, is not a file) is a
    ``'... file not found'`` problem appended to ``probs``; an unnamed one is skipped.
    """
    for key, k in keys:
        rel = rd.get(key)
        if rel is None:
            continue
        f = root / rel
        if not (f.exists() if folders else f.is_file()):
            probs.append(Problem(mfile, i, key, "an existing file", rel,
                                 f"{key} file not found: {rel}"))  # fmt: skip
            continue
        yield key, k, rel, f


def _neural_problems(root: Path, mfile: str, i: int, rd: dict, ids: list):
    """Problems of a manifest row's neural files, and the recordings' durations."""
    durations, rates = {}, {}
    probs: list[Problem] = []
    keys = [("neural_1", 0), ("neural_2", 1)] if rd.get("neural_1") or rd.get(
        "neural_2") else [("neural", None)]  # fmt: skip
    for _key, k, rel, f in _row_files(root, mfile, i, rd, keys, probs, folders=True):
        try:
            sfreq, dur, names = _neural_info(f)
        except Exception as err:
            probs.append(Problem(rel, None, None, "a recording MNE reads",
                                 "unreadable", f"{err}"))  # fmt: skip
            continue
        if k is None:  # one hyperscanning file: both suffixes must be there
            for suf in ("_S1", "_S2"):
                if not any(c.endswith(suf) for c in names):
                    probs.append(Problem(
                        rel, None, "channel names", f"some ending in {suf!r}",
                        f"{names[:4]}…" if len(names) > 4 else str(names),
                        f"no channel of the hyperscanning recording ends in {suf!r}; "
                        "rename the channels or give neural_1/neural_2"))  # fmt: skip
        pid = ids[k] if k is not None else f"both ({rel})"
        durations[pid], rates[pid] = dur, sfreq
    if len(set(rates.values())) > 1:
        desc = ", ".join(f"{p}: {r:g} Hz" for p, r in rates.items())
        probs.append(Problem(mfile, i, "neural_2", "one sampling rate per dyad", desc,
                             "the recordings' sampling rates differ; resample one or "
                             "read with read_dyad(..., sfreq=<Hz>)"))  # fmt: skip
    return durations, probs


def _audio_problems(root: Path, mfile: str, i: int, rd: dict, ids: list):
    """Problems of a manifest row's audio files, and the microphones' durations."""
    import soundfile as sf

    audio_durs = {}
    probs: list[Problem] = []
    keys = (("audio_1", 0), ("audio_2", 1), ("audio", None))
    for key, k, rel, f in _row_files(root, mfile, i, rd, keys, probs):
        try:
            if f.stat().st_size == 0:
                raise ValueError("the file is empty (0 bytes)")
            info = sf.info(str(f))
            if info.frames == 0:
                raise ValueError("the file holds no samples")
        except Exception as err:
            probs.append(Problem(rel, None, None, "a WAV/FLAC file", "unreadable",
                                 f"cannot read the audio: {err}"))  # fmt: skip
            continue
        adur = info.frames / info.samplerate
        probs.extend(_silent_channels(f, rel, key))
        if k is not None and info.channels > 1:
            who = ids[k] if ids[k] is not None else f"participant_{k + 1}"
            probs.append(Problem(rel, None, key, "1 channel (one microphone)",
                                 f"{info.channels} channels",
                                 f"{key} of {who!r} is {info.channels}-channel audio; "
                                 "give one mono file per participant, or name a shared "
                                 "multi-channel file in the 'audio' column (a channel "
                                 "per participant)"))  # fmt: skip
        if k is not None and ids[k] is not None:
            audio_durs[ids[k]] = adur
        elif k is None:
            if info.channels < 2:
                probs.append(Problem(rel, None, None, "one channel per participant",
                                     f"{info.channels} channel",
                                     "a shared audio file needs 2 channels"))  # fmt: skip
            audio_durs.update({pid: adur for pid in ids if pid})
    return audio_durs, probs


def _transcript_problems(root: Path, mfile, i, rd, ids, durations, audio_durs) -> list:
    """Problems of a manifest row's transcript (against the recordings' durations)."""
    probs: list[Problem] = []
    for _, _, rel, f in _row_files(root, mfile, i, rd, [("transcript", None)], probs):
        if f.stat().st_size == 0:
            probs.append(Problem(rel, None, None, "a transcript", "an empty file",
                                 "the transcript file is empty"))  # fmt: skip
        else:
            part_ids = [p for p in ids if p]
            probs.extend(_check_transcript(f, root, part_ids, durations, audio_durs))
    return probs


def validate_main(path: str | os.PathLike, *, stream: TextIO | None = None) -> int:
    """Validate ``path`` and write every problem to ``stream`` (stderr); return the exit code.

    This is what ``hyperalign validate PATH`` runs: 0 when the dataset is valid, 1 when a
    problem was found.

    Parameters
    ----------
    path : path-like
        The dataset folder.
    stream : file-like | None
        Where the problems are written (default ``sys.stderr``).

    Returns
    -------
    code : int
        0 when valid, 1 when a problem was found.

    See Also
    --------
    validate_dataset : The problems as objects.
    """
    stream = stream if stream is not None else sys.stderr
    probs = validate_dataset(path)
    if not probs:
        stream.write(f"{path}: valid (no problem found)\n")
        return 0
    stream.write(f"{path}: {len(probs)} problem(s) found\n")
    for p in probs:
        stream.write(f"  - {p}\n")
    return 1
