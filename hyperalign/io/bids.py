"""Datasets of many dyads: a BIDS dataset (or a plain folder) with the manifest ``dyads.tsv``.

Layout written by :func:`write_bids_dyads` (read back by :func:`read_bids_dyads`)::

    root/
      dataset_description.json, participants.tsv, .bidsignore     (BIDS)
      dyads.tsv, dyads.json                                        (the manifest)
      sub-<label>/eeg/sub-<label>_task-<task>_eeg.vhdr ...        (mne-bids)
      sub-<label>/beh/sub-<label>_task-<task>_audio.wav            (microphone)
      transcripts/dyad-<id>_task-<task>_transcript.tsv             (word table)

``dyads.tsv`` (see ``data_specs/dyads.md``) names, per dyad, the participant ids (the
transcript's speaker labels), roles and the files, relative to the root. A plain folder
holding ``dyads.tsv`` and the files it names reads the same way, without mne-bids.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..dyad import Dyad
from ..utils import (
    _validate_type,
    atomic_write,
    check_option,
    fill_doc,
    logger,
    progress,
    verbose,
)
from ._truncation import log_truncation as _log_truncation
from .audio import write_audio
from .neural import _MNE_QUIET_LOCK, read_dyad
from .transcripts import write_transcript_tsv

__all__ = ["read_manifest", "read_bids_dyads", "write_bids_dyads", "MANIFEST_NAME"]

MANIFEST_NAME = "dyads.tsv"
_FILE_COLUMNS = ("neural_1", "neural_2", "neural", "audio_1", "audio_2", "audio", "transcript")
_NA = ("", "n/a", "N/A", "NA", "nan")
_DATATYPES = {"eeg": "eeg", "mag": "meg", "grad": "meg", "seeg": "ieeg", "ecog": "ieeg"}


def read_manifest(path: str | os.PathLike, *, unique: bool = True) -> pd.DataFrame:
    """Read ``dyads.tsv`` (a folder holding it, or the file) as a DataFrame of strings.

    Empty cells and ``n/a`` become ``None``. The frame's ``attrs['root']`` is the folder.
    Every cell stays a string (participant ids such as ``01`` are kept as written). A file
    that is not tab-separated is an error that says so; with ``unique`` (default) repeated
    ``dyad_id`` values are an error naming them and their rows.

    Parameters
    ----------
    path : path-like
        The dataset folder or the ``dyads.tsv`` file.
    unique : bool
        If True (default), repeated ``dyad_id`` values are an error.

    Returns
    -------
    manifest : pandas.DataFrame
        One row per dyad, every cell a string or ``None``.

    See Also
    --------
    read_bids_dyads : Reads the dyads it lists.
    """
    path = Path(path)
    file = path / MANIFEST_NAME if path.is_dir() else path
    if not file.is_file():
        raise FileNotFoundError(
            f"no dyad manifest at {file}; a dataset needs a {MANIFEST_NAME} listing dyad_id, "
            "participant_1, participant_2, neural_1, neural_2[, audio_1, audio_2, transcript] "
            "(see data_specs/dyads.md)"
        )
    if not file.read_bytes().strip():
        raise ValueError(
            f"{file}: the manifest is empty; it needs a header row and one row per dyad"
        )
    import io as _io

    from .transcripts import _read_text

    try:
        text = _read_text(file)  # UTF-8 (BOM removed) or UTF-16 with a BOM (Excel "Unicode")
    except ValueError as err:
        raise ValueError(
            f"{err}".split("; the file is in another encoding")[0]
            + f"; save {MANIFEST_NAME} as UTF-8 (or UTF-16 with a byte-order mark)"
        ) from None
    header = text.split("\n", 1)[0]
    if "\t" not in header and ("," in header or ";" in header):
        sep = "," if header.count(",") >= header.count(";") else ";"
        raise ValueError(
            f"{file}: the manifest looks {'comma' if sep == ',' else 'semicolon'}-separated "
            f"(header {header.strip()!r}); {MANIFEST_NAME} must be tab-separated: save it as "
            "TSV (tabs between columns)"
        )
    try:
        df = pd.read_csv(_io.StringIO(text), sep="\t", dtype=str, keep_default_na=False)
    except pd.errors.ParserError as err:
        raise ValueError(
            f"{file}: cannot parse the manifest as a tab-separated table ({err}); every row "
            "needs as many tab-separated cells as the header"
        ) from None
    df.columns = [c.strip() for c in df.columns]
    df = df.apply(lambda c: c.str.strip()).astype(object)
    df = df.where(~df.isin(_NA), None)
    df.attrs["root"] = str(file.parent)
    df.attrs["file"] = str(file)
    if unique and "dyad_id" in df.columns:
        ids = df["dyad_id"]
        dup = sorted(set(ids[ids.notna() & ids.duplicated(keep=False)]))
        if dup:
            rows = {d: [int(i) for i in np.flatnonzero((ids == d).to_numpy())] for d in dup}
            raise ValueError(
                f"{file}: dyad_id(s) {dup} appear in more than one row (data rows "
                f"{rows}, counted from 0); every dyad needs its own dyad_id: rename or remove "
                "the duplicate rows"
            )
    return df


def _cell(row: pd.Series, key: str) -> str | None:
    v = row.get(key)
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)


def _is_bids(root: Path) -> bool:
    return (root / "dataset_description.json").is_file()


def _read_neural(root: Path, rel: str, fnirs: str, bids: bool, on_truncated: str, found: list):
    """Read one recording; a truncation read with on_truncated='warn' is appended to found."""
    from .neural import _read_raw

    path = root / rel
    if bids and re.search(r"(^|/)sub-[^/]+/", rel) and path.is_file():
        import mne_bids

        from ._truncation import check_truncation

        trunc = check_truncation(path)
        if trunc is not None:
            if on_truncated == "raise":
                raise ValueError(trunc.message(path))
            logger.warning("%s (on_truncated='warn')", trunc.message(path).split("; ")[0])

        bp = mne_bids.get_bids_path_from_fname(path)
        bp.update(root=root)
        with _MNE_QUIET_LOCK, warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Did not find any events.tsv")
            # "error": MNE also logs its (filtered) warnings on stdout at the warning level
            raw = mne_bids.read_raw_bids(bp, verbose="error")
        raw.load_data(verbose=False)
        from .neural import _convert_fnirs

        raw = _convert_fnirs(raw, fnirs, path)
    else:
        raw, trunc = _read_raw(path, fnirs=fnirs, on_truncated=on_truncated)
    if trunc is not None:
        found.append((path, trunc, raw))
    return raw


@fill_doc
@verbose
def read_bids_dyads(
    root: str | os.PathLike,
    task: str | None = None,
    *,
    dyad_ids: Sequence[str] | None = None,
    fnirs: str = "raw",
    on_error: str = "report",
    verbose=None,
    **kwargs,
) -> tuple[list[Dyad], pd.DataFrame]:
    """Read every dyad listed in ``root/dyads.tsv``.

    Parameters
    ----------
    root : path-like
        A BIDS root (neural files read with :func:`mne_bids.read_raw_bids`) or a plain
        folder with ``dyads.tsv``.
    task : str | None
        Keep dyads of this task (the manifest's ``task`` column, else the ``task-`` entity
        of their file names).
    dyad_ids : sequence of str | None
        Keep only these dyads.
    fnirs : ``'raw'`` | ``'od'`` | ``'hbo'``
        The conversion of fNIRS intensity data (see :func:`hyperalign.io.read_raw`).
    on_error : ``'report'`` | ``'raise'``
        A dyad that cannot be read: a report row (and the others are read), or an error.
    %(verbose)s
    **kwargs
        Passed to :func:`hyperalign.io.read_dyad` (``sfreq``, ``on_outside``…).

    Returns
    -------
    dyads : list of Dyad
        In manifest order.
    report : pandas.DataFrame
        One row per dyad not read: ``dyad_id, row, stage, file, error``.

    See Also
    --------
    write_bids_dyads : Writes a dataset this reads.
    read_dyad : One dyad.
    validate_dataset : Check a dataset folder against the specification.

    Examples
    --------
    >>> import pathlib, tempfile
    %(example_dyad)s
    >>> from hyperalign.io import read_bids_dyads, write_bids_dyads
    >>> root = pathlib.Path(tempfile.mkdtemp()) / "bids"
    >>> _ = write_bids_dyads([dyad], root)
    >>> dyads, report = read_bids_dyads(root)
    >>> [d.dyad_id for d in dyads], dyads[0].transcript.n_words, len(report)
    (['d01'], 3, 0)
    """
    check_option("on_error", on_error, ("report", "raise"))
    on_trunc = kwargs.get("on_truncated", "raise")
    check_option("on_truncated", on_trunc, ("raise", "warn"))
    root = Path(root)
    man = read_manifest(root)
    root = Path(man.attrs["root"])
    bids = _is_bids(root)
    missing = [c for c in ("dyad_id", "participant_1", "participant_2") if c not in man]
    if missing:
        raise ValueError(
            f"{man.attrs['file']}: the manifest lacks column(s) {missing}; it has "
            f"{list(man.columns)}"
        )
    rows = _select_rows(man, task, dyad_ids)
    n_filtered = len(man) - len(rows)
    dyads: list[Dyad] = []
    report: list[dict] = []
    for i, row in progress(rows, desc="dyads"):
        did = _cell(row, "dyad_id") or f"row{i}"
        files = [_cell(row, k) for k in ("neural_1", "neural_2", "neural")]
        stage, file = "neural", None  # the stage reached when an error is raised
        try:
            ids = [_cell(row, "participant_1"), _cell(row, "participant_2")]
            empty = [f"participant_{k + 1}" for k, v in enumerate(ids) if not v]
            if empty:
                raise ValueError(
                    f"{man.attrs['file']}: row {i} (dyad {did!r}) has no {' or '.join(empty)} "
                    "(empty or n/a cell); every dyad needs both participant ids (the "
                    "transcript's speaker labels): fill in the cell"
                )
            roles = [_cell(row, "role_1") or "", _cell(row, "role_2") or ""]
            found: list = []
            if files[0] and files[1]:
                file = f"{files[0]}, {files[1]}"
                srcs = [_read_neural(root, f, fnirs, bids, on_trunc, found) for f in files[:2]]
            elif files[2]:
                file = files[2]
                srcs = _read_neural(root, files[2], fnirs, bids, on_trunc, found)
            else:
                raise ValueError("no neural_1/neural_2 (or neural) file named in the row")
            stage = "dyad"  # audio, transcript and their consistency, in read_dyad
            audio = None
            a1, a2, a = (_cell(row, k) for k in ("audio_1", "audio_2", "audio"))
            if a1 or a2:
                file = f"{a1}, {a2}"
                audio = [root / a1 if a1 else None, root / a2 if a2 else None]
                audio = {pid: p for pid, p in zip(ids, audio) if p is not None}
            elif a:
                file = a
                audio = root / a
            tr = _cell(row, "transcript")
            if tr:
                file = tr
            dyad = read_dyad(
                srcs,
                audio=audio,
                transcript=root / tr if tr else None,
                participant_ids=ids,
                roles=roles,
                dyad_id=did,
                fnirs="raw",  # already converted
                **kwargs,
            )
            for path, trunc, raw in found:
                _log_truncation(dyad.exclusions, path, trunc, raw)
            dyad.meta["manifest_row"] = {k: _cell(row, k) for k in man.columns}
            dyad.meta["root"] = str(root)
            dyads.append(dyad)
        except Exception as err:
            if on_error == "raise":
                raise
            msg = f"{type(err).__name__}: {err}"
            cells = [_cell(row, k) for k in _FILE_COLUMNS]
            named = [c for c in cells if c and c in str(err)]
            file = named[0] if named else ", ".join(c for c in cells if c)
            report.append(
                {"dyad_id": did, "row": int(i), "stage": stage, "file": file, "error": msg}
            )
            logger.warning("dyad %s (row %d) not read: %s", did, i, msg)
    rep = pd.DataFrame(report, columns=["dyad_id", "row", "stage", "file", "error"])
    logger.info(
        "read %d dyad(s) from %s; %d not read (see the report); %d not selected "
        "(task=%r, dyad_ids=%r)",
        len(dyads), root, len(rep), n_filtered, task, dyad_ids,
    )  # fmt: skip
    return dyads, rep


def _row_task(row: pd.Series) -> str | None:
    rtask = _cell(row, "task")
    if rtask is None:
        files = [_cell(row, k) for k in ("neural_1", "neural_2", "neural")]
        rtask = next(
            (m.group(1) for f in files if f for m in [re.search(r"task-([^_/]+)", f)] if m),
            None,
        )
    return rtask


def _select_rows(man: pd.DataFrame, task, dyad_ids) -> list[tuple[int, pd.Series]]:
    """Manifest rows selected by ``task`` and ``dyad_ids``; a filter matching nothing is an
    error naming what exists."""
    rows = list(man.iterrows())
    if dyad_ids is not None:
        if isinstance(dyad_ids, str):
            dyad_ids = [dyad_ids]
        dyad_ids = [str(d) for d in dyad_ids]
        have = [_cell(r, "dyad_id") or f"row{i}" for i, r in rows]
        unknown = [d for d in dyad_ids if d not in have]
        if unknown:
            raise ValueError(
                f"dyad_ids {unknown} are not in {man.attrs['file']}; its dyad_ids are "
                f"{have[:20]}{' ...' if len(have) > 20 else ''}"
            )
        rows = [(i, r) for (i, r), h in zip(rows, have) if h in dyad_ids]
    if task is not None:
        tasks = [_row_task(r) for _, r in rows]
        kept = [(i, r) for (i, r), t in zip(rows, tasks) if t == str(task)]
        if not kept:
            known = sorted({t for t in tasks if t is not None})
            n_none = sum(t is None for t in tasks)
            raise ValueError(
                f"task={task!r} matches no dyad in {man.attrs['file']}; the tasks there are "
                f"{known}"
                + (f" ({n_none} row(s) without a task)" if n_none else "")
                + "; pass one of them, or task=None for every dyad"
            )
        rows = kept
    return rows


def _label(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", str(s))


@fill_doc
@verbose
def write_bids_dyads(
    dyads: Sequence[Dyad],
    root: str | os.PathLike,
    *,
    task: str = "conversation",
    format: str = "auto",
    overwrite: bool = False,
    audio_subtype: str = "FLOAT",
    verbose=None,
) -> Path:
    """Write dyads as a BIDS dataset plus ``dyads.tsv`` (read back by :func:`read_bids_dyads`).

    Parameters
    ----------
    dyads : sequence of Dyad
        The dyads; participants' recordings must be EEG, MEG or iEEG.
    root : path-like
        The BIDS root (created).
    task : str
        BIDS task label (letters and digits).
    format : ``'auto'`` | ``'BrainVision'`` | ``'EDF'`` | ``'FIF'``
        File format of the recordings; ``'auto'``: BrainVision for EEG/iEEG, FIF for MEG.
    overwrite : bool
        Replace existing files.
    audio_subtype : str
        WAV sample format: ``'FLOAT'`` (32-bit float, the default: a round trip within
        float32 precision), ``'DOUBLE'`` (exact) or ``'PCM_16'`` (half the size of FLOAT;
        samples must lie in [-1, 1]).
    %(verbose)s

    Returns
    -------
    pathlib.Path
        The written ``dyads.tsv``. Subject labels are ``<dyad_id><participant id>`` with
        non-alphanumerics removed; the manifest keeps the participant ids.
    """
    import mne_bids

    check_option("format", format, ("auto", "BrainVision", "EDF", "FIF"))
    if not re.fullmatch(r"[A-Za-z0-9]+", task):
        raise ValueError(f"task must be letters and digits only (a BIDS label); got {task!r}")
    root = Path(root)
    dyads = list(dyads)
    if not dyads:
        raise TypeError("dyads must be a non-empty sequence of Dyad; got an empty one")
    for k, d in enumerate(dyads):
        _validate_type(d, Dyad, f"dyads[{k}]", "a Dyad")
    man = root / MANIFEST_NAME
    if man.exists() and not overwrite:
        raise FileExistsError(f"{man} exists; pass overwrite=True to replace the dataset")
    ids = [d.dyad_id for d in dyads]
    if len(set(ids)) != len(ids):
        raise ValueError(f"dyad ids must be unique; got {ids}")
    labels: dict[str, tuple] = {}
    rows = []
    for d in progress(dyads, desc="write dyads"):
        row = {"dyad_id": d.dyad_id, "task": task}
        for k, p in enumerate(d.participants, 1):
            lab = _label(f"{d.dyad_id}{p.id}")
            if not lab or lab in labels:
                raise ValueError(
                    f"subject label {lab!r} of {d.dyad_id}/{p.id} is empty or already used "
                    f"by {labels.get(lab)}; use ids that differ in letters or digits"
                )
            labels[lab] = (d.dyad_id, p.id)
            types = set(p.raw.get_channel_types())
            dts = {_DATATYPES.get(t) for t in types} - {None}
            if len(dts) != 1:
                raise ValueError(
                    f"dyad {d.dyad_id!r}, participant {p.id!r}: channel types {sorted(types)} "
                    "have no single BIDS datatype (EEG, MEG or iEEG); for fNIRS/fMRI use a "
                    "plain folder with dyads.tsv"
                )
            dt = dts.pop()
            fmt = format if format != "auto" else ("FIF" if dt == "meg" else "BrainVision")
            bp = mne_bids.BIDSPath(subject=lab, task=task, datatype=dt, root=root)
            raw = p.raw.copy()
            if raw.info["line_freq"] is None:
                raw.info["line_freq"] = 50.0
            with _MNE_QUIET_LOCK, warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="No events found or provided")
                warnings.filterwarnings("ignore", message="Converting data files to")
                mne_bids.write_raw_bids(
                    raw,
                    bp,
                    format=fmt,
                    allow_preload=True,
                    overwrite=overwrite,
                    verbose="error",  # MNE logs its filtered warnings at the warning level
                )
            written = bp.copy().update(
                suffix=dt,
                extension={"BrainVision": ".vhdr", "EDF": ".edf", "FIF": ".fif"}[fmt],
            )
            row[f"participant_{k}"] = p.id
            row[f"role_{k}"] = p.role or "n/a"
            row[f"neural_{k}"] = written.fpath.relative_to(root).as_posix()
            if p.audio is not None:
                rel = f"sub-{lab}/beh/sub-{lab}_task-{task}_audio.wav"
                write_audio(root / rel, p.audio, p.audio_sfreq, subtype=audio_subtype)
                row[f"audio_{k}"] = rel
            else:
                row[f"audio_{k}"] = "n/a"
        if d.transcript is not None:
            rel = f"transcripts/dyad-{_label(d.dyad_id)}_task-{task}_transcript.tsv"
            write_transcript_tsv(d.transcript, root / rel)
            row["transcript"] = rel
        else:
            row["transcript"] = "n/a"
        rows.append(row)
    cols = ["dyad_id", "participant_1", "participant_2", "role_1", "role_2", "neural_1",
            "neural_2", "audio_1", "audio_2", "transcript", "task"]  # fmt: skip
    df = pd.DataFrame(rows)[cols]
    with atomic_write(man, "w", encoding="utf-8", newline="") as fh:
        df.to_csv(fh, sep="\t", index=False)
    with atomic_write(root / "dyads.json", "w", encoding="utf-8") as fh:
        json.dump(_MANIFEST_SIDECAR, fh, indent=2)
    ignore = root / ".bidsignore"
    lines = ignore.read_text().splitlines() if ignore.exists() else []
    for pat in ("dyads.tsv", "dyads.json", "transcripts/", "*_audio.wav"):
        if pat not in lines:
            lines.append(pat)
    with atomic_write(ignore, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    logger.info("wrote %d dyad(s) to %s", len(dyads), root)
    return man


_MANIFEST_SIDECAR = {
    "dyad_id": {"Description": "Identifier of the dyad (one conversation)."},
    "participant_1": {"Description": "Id of participant 1 (speaker label in the transcript)."},
    "participant_2": {"Description": "Id of participant 2 (speaker label in the transcript)."},
    "role_1": {"Description": "Role of participant 1."},
    "role_2": {"Description": "Role of participant 2."},
    "neural_1": {"Description": "Neural recording of participant 1, relative to the root."},
    "neural_2": {"Description": "Neural recording of participant 2, relative to the root."},
    "audio_1": {"Description": "Microphone of participant 1 (WAV), on the dyad clock."},
    "audio_2": {"Description": "Microphone of participant 2 (WAV), on the dyad clock."},
    "transcript": {"Description": "Word table (TSV), times in s on the dyad clock."},
    "task": {"Description": "BIDS task label."},
}
