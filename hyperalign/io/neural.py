"""Neural recordings into a :class:`~hyperalign.Dyad`: one file per participant or one
hyperscanning file holding both participants' channels."""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..dyad import SUFFIXES, Dyad, Participant
from ..transcript import Transcript
from ..utils import ExclusionLog, _validate_type, check_option, fill_doc, logger, verbose
from ._dyad_transcript import _attach_transcript, _load_transcript
from ._truncation import log_truncation as _log_truncation
from .audio import audio_for as _audio_for

# MNE's and mne-bids' readers report through process-wide state (the warning filters of
# catch_warnings, MNE's log level): reads from several threads at once (Dask workers with
# threads) would undo each other's settings, letting an expected note through or, under
# ``-W error``, failing a read. The package's quiet MNE and mne-bids calls (reads and the
# BIDS writer) take this lock.
_MNE_QUIET_LOCK = threading.RLock()

__all__ = ["read_raw", "split_hyperscanning_raw", "read_dyad", "NEURAL_SUFFIXES"]

#: file suffixes :func:`read_raw` accepts (those of ``mne.io.read_raw``) plus NIRx folders
NEURAL_SUFFIXES = (
    ".fif",
    ".fif.gz",
    ".edf",
    ".bdf",
    ".gdf",
    ".vhdr",
    ".set",
    ".snirf",
    ".cnt",
    ".mff",
    ".nxe",
    ".xdf",
)


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".fif.gz" if name.endswith(".fif.gz") else path.suffix.lower()


@fill_doc
def read_raw(
    path: str | os.PathLike,
    *,
    fnirs: str = "raw",
    preload: bool = True,
    on_truncated: str = "raise",
    verbose=None,
):
    """Read one neural recording with MNE.

    Parameters
    ----------
    path : path-like
        Any file ``mne.io.read_raw`` reads (FIF, EDF/BDF, BrainVision ``.vhdr``, EEGLAB
        ``.set``, SNIRF…), or a NIRx folder (with a ``.hdr`` file).
    fnirs : ``'raw'`` | ``'od'`` | ``'hbo'``
        For fNIRS intensity data, keep it, convert to optical density, or to oxy/deoxy
        haemoglobin (optical density then modified Beer-Lambert law, ppf 6).
    preload : bool
        Load the data into memory.
    on_truncated : ``'raise'`` | ``'warn'``
        A file holding less data than its header describes (a copy cut short: EDF/BDF,
        BrainVision, EEGLAB ``.fdt``; see :func:`hyperalign.io.check_truncation`): an error
        naming the file, the header's duration and the readable duration (default), or a
        warning and the readable part (the truncation is recorded in
        ``raw.info['description']`` and, through :func:`read_dyad`, in ``dyad.exclusions``).
    %(verbose)s

    Returns
    -------
    mne.io.BaseRaw
        Channels marked bad in the file stay in ``raw.info['bads']``.
    """
    return _read_raw(path, fnirs, preload, on_truncated, verbose)[0]


@verbose
def _read_raw(path, fnirs="raw", preload=True, on_truncated="raise", verbose=None):
    """:func:`read_raw` returning ``(raw, Truncation | None)``."""
    import mne

    from ._truncation import check_truncation

    check_option("fnirs", fnirs, ("raw", "od", "hbo"))
    check_option("on_truncated", on_truncated, ("raise", "warn"))
    path = Path(path)
    trunc = None
    if not path.exists():
        raise FileNotFoundError(f"neural recording not found: {path}")
    if path.is_file():
        trunc = check_truncation(path)
        if trunc is not None:
            if on_truncated == "raise":
                raise ValueError(trunc.message(path))
            msg = trunc.message(path).split("; ")[0]
            logger.warning("%s; reading the readable part (on_truncated='warn')", msg)
            warnings.warn(
                f"{msg}; reading the readable part (on_truncated='warn')",
                RuntimeWarning,
                stacklevel=3,
            )
    try:
        if path.is_dir():
            if any(path.glob("*.hdr")):
                raw = mne.io.read_raw_nirx(path, preload=preload, verbose=False)
            else:
                raise ValueError(
                    f"{path}: a folder is read only as a NIRx recording (with a .hdr "
                    "file); give the recording file itself"
                )
        else:
            if path.stat().st_size == 0:
                raise ValueError(f"{path}: the file is empty (0 bytes)")
            if _suffix(path) == ".xdf":
                raise ValueError(
                    f"{path}: XDF files hold several streams; read them with "
                    "hyperalign.io.read_xdf_dyad(path, streams={...})"
                )
            with _MNE_QUIET_LOCK, warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Invalid measurement date")
                warnings.filterwarnings("ignore", message="This filename .* does not conform")
                if trunc is not None:  # already reported above
                    warnings.filterwarnings("ignore", message="Number of records from")
                raw = mne.io.read_raw(
                    path, preload=preload, verbose="error" if trunc is not None else False
                )
    except ValueError as err:
        if str(path) in str(err):
            raise
        raise ValueError(
            f"{path}: the recording is corrupt or unreadable by MNE ({err}){_hint(path)}; "
            f"supported: {', '.join(NEURAL_SUFFIXES)} files and NIRx folders"
        ) from None
    except Exception as err:  # corrupt files raise many kinds of error inside MNE
        raise ValueError(
            f"{path}: the recording is corrupt or unreadable ({type(err).__name__}: {err})"
            f"{_hint(path)}; check the file (re-export it from the acquisition software)"
        ) from None
    if trunc is not None:
        note = (
            f"truncated: header {trunc.header_s} s, read {raw.n_times / raw.info['sfreq']:.3f}"
            f" s ({trunc.detail})"
        )
        desc = raw.info["description"]
        raw.info["description"] = f"{desc}; {note}" if desc else note
    raw = _convert_fnirs(raw, fnirs, path)
    logger.info("read %s: %d channels, %.1f s at %g Hz", path.name, len(raw.ch_names),
                raw.times[-1] if raw.n_times else 0.0, raw.info["sfreq"])  # fmt: skip
    return raw, trunc


def _hint(path: Path) -> str:
    """Why a FIF/SNIRF file that MNE cannot open is most likely cut short."""
    if _suffix(path) in (".fif", ".fif.gz", ".snirf"):
        return (
            f" (the file, {path.stat().st_size} bytes, is most likely truncated: an incomplete "
            "copy or an interrupted recording; copy the complete file again)"
        )
    return ""


def _convert_fnirs(raw, fnirs: str, where):
    import mne

    if fnirs == "raw":
        return raw
    types = set(raw.get_channel_types())
    if "fnirs_cw_amplitude" in types:
        raw = mne.preprocessing.nirs.optical_density(raw.load_data(), verbose=False)
        types = set(raw.get_channel_types())
    if fnirs == "hbo" and "fnirs_od" in types:
        raw = mne.preprocessing.nirs.beer_lambert_law(raw, ppf=6.0)
    elif fnirs == "od" and "fnirs_od" not in types:
        raise ValueError(
            f"{where}: fnirs='od' needs fNIRS intensity or optical-density channels; the "
            f"recording has {sorted(types)}; pass fnirs='raw'"
        )
    if fnirs == "hbo" and not ({"hbo", "hbr"} & set(raw.get_channel_types())):
        raise ValueError(
            f"{where}: fnirs='hbo' needs fNIRS channels; the recording has {sorted(types)}; "
            "pass fnirs='raw'"
        )
    return raw


@fill_doc
@verbose
def split_hyperscanning_raw(
    raw,
    suffixes: Sequence[str] | Mapping[str, Sequence[str]] = SUFFIXES,
    *,
    shared: str = "drop",
    verbose=None,
):
    """Split one hyperscanning recording into the two participants' recordings.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        A recording holding both participants' channels.
    suffixes : (str, str) | mapping
        Channel-name suffixes of participant 1 and 2 (HyPyP's ``('_S1', '_S2')``; the
        suffix is removed from the names), or a mapping ``{key: [channel names]}`` with two
        keys in participant order (names kept as they are).
    shared : ``'drop'`` | ``'both'``
        Channels that belong to neither participant (triggers, audio): leave them out
        (logged, listed in ``raw1.info['description']``) or copy them into both.
    %(verbose)s

    Returns
    -------
    raw1, raw2 : mne.io.BaseRaw
        The two participants' recordings.

    See Also
    --------
    read_dyad : Reads a hyperscanning file through this.
    """
    import mne

    check_option("shared", shared, ("drop", "both"))
    _validate_type(raw, mne.io.BaseRaw, "raw", "an mne.io.Raw")
    names = list(raw.ch_names)
    if isinstance(suffixes, Mapping):
        if len(suffixes) != 2:
            raise ValueError(
                f"suffixes as a mapping needs exactly 2 participants; got {list(suffixes)}"
            )
        groups = [list(v) for v in suffixes.values()]
        for key, g in zip(suffixes, groups):
            bad = [c for c in g if c not in names]
            if bad:
                raise ValueError(
                    f"suffixes[{key!r}] names channel(s) {bad} that are not in the "
                    f"recording; its channels are {names}"
                )
            if not g:
                raise ValueError(f"suffixes[{key!r}] is empty: give its channel names")
        both = set(groups[0]) & set(groups[1])
        if both:
            raise ValueError(f"channels {sorted(both)} are given to both participants")
        renames = [{}, {}]
    else:
        if isinstance(suffixes, str) or len(suffixes) != 2 or suffixes[0] == suffixes[1]:
            raise ValueError(
                f"suffixes must be two different strings like ('_S1', '_S2') or a mapping; "
                f"got {suffixes!r}"
            )
        groups = [[c for c in names if c.endswith(s)] for s in suffixes]
        for s, g in zip(suffixes, groups):
            if not g:
                raise ValueError(
                    f"no channel name ends with {s!r}; channels are {names[:10]}"
                    f"{'…' if len(names) > 10 else ''}; pass suffixes=(…) or a mapping "
                    "{participant: [channel names]}"
                )
        renames = [{c: c[: -len(s)] for c in g} for s, g in zip(suffixes, groups)]
    rest = [c for c in names if c not in set(groups[0]) | set(groups[1])]
    out = []
    for g, ren in zip(groups, renames):
        picks = g + (rest if shared == "both" else [])
        r = raw.copy().pick(picks)
        r.reorder_channels(picks)
        if ren:
            r.rename_channels(ren)
        out.append(r)
    if rest:
        how = "copied into both" if shared == "both" else "left out (shared='drop')"
        logger.warning(
            "split_hyperscanning_raw: %d channel(s) belong to neither participant and are %s: %s",
            len(rest),
            how,
            rest,
        )
    for r in out:
        r.info["description"] = (
            f"split from a hyperscanning recording; unassigned channels {how}: {rest}"
            if rest
            else "split from a hyperscanning recording"
        )
    return out[0], out[1]


def _as_raw(src, fnirs, what, on_truncated="raise", exclusions=None):
    import mne

    if isinstance(src, mne.io.BaseRaw):
        return src if fnirs == "raw" else _convert_fnirs(src, fnirs, what)
    if isinstance(src, str | os.PathLike):
        raw, trunc = _read_raw(src, fnirs=fnirs, on_truncated=on_truncated)
        if trunc is not None and exclusions is not None:
            _log_truncation(exclusions, src, trunc, raw)
        return raw
    _validate_type(src, ("path-like", mne.io.BaseRaw), what, "a path or an mne.io.Raw")


@fill_doc
@verbose
def read_dyad(
    files_or_raws,
    audio=None,
    transcript: str | os.PathLike | Transcript | None = None,
    *,
    participant_ids: Sequence[str] | None = None,
    roles: Sequence[str] | None = None,
    dyad_id: str = "dyad",
    suffixes: Sequence[str] | Mapping[str, Sequence[str]] = SUFFIXES,
    shared: str = "drop",
    fnirs: str = "raw",
    sfreq: float | None = None,
    audio_channels: Mapping[str, int] | None = None,
    speakers: Mapping[str, str] | None = None,
    transcript_format: str = "auto",
    on_outside: str = "raise",
    on_truncated: str = "raise",
    meta: dict | None = None,
    verbose=None,
    **transcript_kwargs,
) -> Dyad:
    """Read one dyad: two recordings (or one hyperscanning recording), audio, transcript.

    Parameters
    ----------
    files_or_raws : path | Raw | sequence of 2 paths/Raws
        One file per participant (in participant order), or one hyperscanning file split
        with ``suffixes``. NIRx folders are accepted.
    audio : path | sequence of 2 | mapping | None
        One audio file per participant (path or ``(samples, sfreq)``), a mapping
        ``{participant id: ...}``, or one multi-channel file with a channel per participant
        (channel ``k`` for participant ``k`` unless ``audio_channels`` says otherwise).
    transcript : path | Transcript | None
        A transcript file (see :func:`read_transcript`) or a Transcript.
    participant_ids : sequence of str | None
        Ids (the transcript's speaker labels); default ``('S1', 'S2')``.
    roles : sequence of str | None
        Role of each participant (e.g. ``('parent', 'child')``).
    dyad_id : str
        Identifier of the dyad.
    suffixes : (str, str) | mapping
        How to split a single hyperscanning recording (see
        :func:`split_hyperscanning_raw`).
    shared : ``'drop'`` | ``'both'``
        Channels of a hyperscanning file that belong to neither participant.
    fnirs : ``'raw'`` | ``'od'`` | ``'hbo'``
        The conversion of fNIRS intensity data (see :func:`read_raw`).
    sfreq : float | None
        Resample both recordings to this rate (recorded in ``dyad.meta['resampled']``).
        ``None``: the two rates must match (an error names both otherwise).
    audio_channels : mapping | None
        ``{participant id: channel index}`` in multi-channel audio.
    speakers : mapping | None
        Renames transcript labels to participant ids (``{'SPEAKER_00': 'S1'}``).
    transcript_format : str
        Format of the transcript file (``'auto'`` from the suffix).
    on_outside : ``'raise'`` | ``'drop'``
        Words past the end of the recordings: an error, or removed and counted in
        ``dyad.exclusions``.
    on_truncated : ``'raise'`` | ``'warn'``
        A recording file cut short (see :func:`read_raw`): an error naming the file, the
        header's and the readable duration, or read with a warning and counted in
        ``dyad.exclusions`` (kind ``'recording'``).
    meta : dict | None
        Extra metadata for ``dyad.meta``.
    %(verbose)s
    **transcript_kwargs
        Passed to :func:`read_transcript` (``pause_threshold``, ``default_speaker``…).

    Returns
    -------
    dyad : Dyad
        ``dyad.meta['files']`` lists the sources; ``dyad.exclusions`` what was dropped.

    See Also
    --------
    read_bids_dyads : Every dyad of a dataset.
    read_raw : One recording.
    hyperalign.align.align_clocks : Put the dyad on one clock.

    Examples
    --------
    >>> import pathlib, tempfile
    %(example_dyad)s
    >>> from hyperalign.io import read_dyad
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> files = [folder / f"{pid}_raw.fif" for pid in dyad.ids]
    >>> for p, f in zip(dyad.participants, files):
    ...     _ = p.raw.save(f, verbose=False)
    >>> read_dyad(files, participant_ids=["A", "B"], dyad_id="d01").ids
    ['A', 'B']
    """
    import mne

    check_option("on_outside", on_outside, ("raise", "drop"))
    check_option("on_truncated", on_truncated, ("raise", "warn"))
    ids = [str(i) for i in (participant_ids or ("S1", "S2"))]
    if len(ids) != 2 or ids[0] == ids[1]:
        raise ValueError(f"participant_ids must be 2 different ids; got {participant_ids!r}")
    roles = list(roles) if roles is not None else ["", ""]
    if len(roles) != 2:
        raise ValueError(f"roles must list 2 roles; got {roles!r}")
    exclusions = ExclusionLog()
    info: dict = dict(meta or {})
    if isinstance(files_or_raws, str | os.PathLike | mne.io.BaseRaw):
        raw = _as_raw(files_or_raws, fnirs, "files_or_raws", on_truncated, exclusions)
        raws = list(split_hyperscanning_raw(raw, suffixes, shared=shared))
        sources = [str(files_or_raws)] * 2
        if shared == "drop":
            n_all = len(raw.ch_names)
            n_left = n_all - len(raws[0].ch_names) - len(raws[1].ch_names)
            if n_left:
                exclusions.add("io", "channel", "unassigned", "in neither participant",
                               n_left)  # fmt: skip
    else:
        srcs = list(files_or_raws)
        if len(srcs) != 2:
            raise ValueError(
                f"files_or_raws must be one hyperscanning file or 2 recordings; got {len(srcs)}"
            )
        raws = [
            _as_raw(s, fnirs, f"files_or_raws[{k}]", on_truncated, exclusions)
            for k, s in enumerate(srcs)
        ]
        sources = [
            str(s) if not isinstance(s, mne.io.BaseRaw) else f"<Raw {k}>"
            for k, s in enumerate(srcs)
        ]
    rates = [float(r.info["sfreq"]) for r in raws]
    if sfreq is not None:
        info["resampled"] = []
        for k, r in enumerate(raws):
            if rates[k] != float(sfreq):
                # a copy: never change a Raw the caller passed in
                raws[k] = r.copy().load_data().resample(float(sfreq), verbose=False)
                info["resampled"].append(
                    {"participant": ids[k], "from_hz": rates[k], "to_hz": float(sfreq)}
                )
                logger.info("resampled %s from %g to %g Hz", ids[k], rates[k], sfreq)
    elif rates[0] != rates[1]:
        raise ValueError(
            f"dyad {dyad_id!r}: sampling rates differ: {sources[0]} ({ids[0]}) is at "
            f"{rates[0]:g} Hz, {sources[1]} ({ids[1]}) at {rates[1]:g} Hz; pass sfreq=<Hz> "
            "to resample both"
        )
    n = [r.n_times for r in raws]
    if n[0] != n[1]:
        k = int(np.argmax(n))
        extra = n[k] - n[1 - k]
        sf = float(raws[k].info["sfreq"])
        msg = (
            f"dyad {dyad_id}: the recording of {ids[k]!r} is {extra / sf:.3f} s longer than "
            f"that of {ids[1 - k]!r} ({n[k]} vs {n[1 - k]} samples); the dyad spans the "
            "shorter one"
        )
        (logger.warning if extra / sf > 1.0 else logger.info)(msg)
        exclusions.add(
            "io", "recording", f"{ids[k]}: last {extra / sf:.3f} s ({extra} samples)",
            "recording longer than the partner's: outside the dyad's span", 1,
        )  # fmt: skip
    raws = [_mark_nonfinite(r, ids[k], exclusions) for k, r in enumerate(raws)]
    aud = _audio_for(audio, ids, audio_channels)
    parts = [
        Participant(
            ids[k],
            raws[k],
            role=str(roles[k]),
            audio=aud.get(ids[k], (None, None, None))[0],
            audio_sfreq=aud.get(ids[k], (None, None, None))[1],
            info={"source": sources[k], "audio_source": aud.get(ids[k], (None,) * 3)[2]},
        )
        for k in range(2)
    ]
    info["files"] = {ids[k]: sources[k] for k in range(2)}
    dyad = Dyad(parts, None, dyad_id=dyad_id, meta=info, exclusions=exclusions)
    if transcript is not None:
        tr = _load_transcript(transcript, transcript_format, speakers, transcript_kwargs)
        _attach_transcript(dyad, tr, on_outside)
    return dyad


def _mark_nonfinite(raw, pid: str, exclusions):
    """Channels with no finite sample are marked bad (counted); partly non-finite ones are
    named in a warning. A Raw the caller passed in is copied before it is changed."""
    if not raw.preload:
        return raw
    data = raw._data
    finite = np.isfinite(data)
    if finite.all():
        return raw
    n_bad = (~finite).sum(axis=1)
    dead = [raw.ch_names[i] for i in np.flatnonzero(n_bad == data.shape[1])]
    some = np.flatnonzero((n_bad > 0) & (n_bad < data.shape[1]))
    part = [(raw.ch_names[i], int(n_bad[i])) for i in some]
    if dead:
        raw = raw.copy()
        new = [c for c in dead if c not in raw.info["bads"]]
        raw.info["bads"] = list(raw.info["bads"]) + new
        if new:
            exclusions.add(
                "io", "channel", f"{pid}: {', '.join(new[:10])}{' ...' if len(new) > 10 else ''}",
                "no finite sample (all NaN/inf): marked bad", len(new),
            )  # fmt: skip
    if part:
        desc = ", ".join(f"{c} ({n} samples)" for c, n in part[:10])
        logger.warning(
            "participant %s: %d channel(s) hold NaN/inf samples: %s; mark them bad "
            "(raw.info['bads']) or annotate the spans BAD_ and reject them", pid, len(part), desc,
        )  # fmt: skip
    return raw
