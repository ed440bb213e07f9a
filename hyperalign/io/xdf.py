"""Lab Streaming Layer XDF recordings holding several participants' streams and markers.

Streams are loaded with :func:`pyxdf.load_xdf` (clock offsets applied, clock resets handled,
timestamps dejittered), then every participant's stream is linearly interpolated onto one
common grid (``t0 + k / sfreq`` where ``t0`` is the latest stream start), so that sample
``k`` of every participant's raw is at the same instant. Gaps in a stream (no samples for
longer than ``max_gap`` sample periods) are interpolated across and marked with
``BAD_xdf_gap`` annotations, which MNE's epoching rejects by default. Marker streams become
:class:`mne.Annotations`. Everything done is in the returned report.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..dyad import Dyad, audio_as_float
from ..utils import check_option, check_positive, fill_doc, logger, verbose
from ._xdf_streams import _describe, _find, _interp, _load, _stream_to_raw

__all__ = ["read_xdf_dyad", "read_xdf_raws", "list_xdf_streams"]


@fill_doc
@verbose
def list_xdf_streams(path: str | os.PathLike, *, verbose=None) -> pd.DataFrame:
    """One row per stream of an XDF file: id, name, type, channels, rates, sample count.

    Parameters
    ----------
    path : path-like
        The ``.xdf`` file.
    %(verbose)s

    Returns
    -------
    streams : pandas.DataFrame
        One row per stream, to choose the ``streams=`` of :func:`read_xdf_dyad`.

    See Also
    --------
    read_xdf_dyad, read_xdf_raws
    """
    return pd.DataFrame([_describe(s) for s in _load(Path(path))])


@fill_doc
@verbose
def read_xdf_raws(
    path: str | os.PathLike,
    streams: Mapping[str, int | str | tuple],
    *,
    sfreq: float | None = None,
    markers: Sequence[int | str] | str | None = "auto",
    scale: str | float = "auto",
    max_gap: float = 5.0,
    audio: Mapping[str, int | str | tuple] | None = None,
    on_truncated: str = "raise",
    verbose=None,
):
    """Read participant streams of an XDF file onto one common time grid.

    Parameters
    ----------
    path : path-like
        The ``.xdf`` file.
    streams : mapping
        ``{participant id: stream}`` where a stream is its name, its id (int), ``'type:EEG'``
        or a ``(stream, [channel names or indices])`` tuple to take some channels of a stream
        (one amplifier recording both participants).
    sfreq : float | None
        Rate of the common grid; default the highest nominal rate of the chosen streams.
    markers : ``'auto'`` | sequence | None
        Marker streams to turn into annotations: ``'auto'`` takes every irregular string
        stream, or give names/ids; ``None`` reads none.
    scale : ``'auto'`` | float
        Multiplier to SI units; ``'auto'`` reads the channel units (microvolts -> 1e-6) and
        assumes microvolts for EEG streams without units (the LSL convention).
    max_gap : float
        A step between timestamps longer than ``max_gap`` sample periods is a gap: it is
        interpolated across and annotated ``BAD_xdf_gap``.
    audio : mapping | None
        ``{participant id: audio stream | (stream, channel index)}``: microphone streams,
        interpolated onto their own nominal rate from the same ``t0`` (audio sample 0 at
        t = 0; a later start is padded with zeros, counted in
        ``report.attrs['audio']``).
    on_truncated : ``'raise'`` | ``'warn'``
        A chosen stream whose footer is missing (the file ends before the recorder closed
        it: a truncated copy or a crashed recording) or counts more samples than the file
        holds: an error naming the stream and both counts (default), or a warning, the
        samples that are there, and ``report.attrs['truncated']``.
    %(verbose)s

    Returns
    -------
    raws : dict
        ``{participant id: mne.io.RawArray}`` on one grid (sample ``k`` at ``k / sfreq``
        seconds after ``t0``).
    report : pandas.DataFrame
        One row per participant stream: stream id, name, nominal and effective rates, sample
        count, first/last timestamps, clock segments, gaps, seconds trimmed at each end, grid
        rate and length. ``report.attrs`` holds ``t0`` (LSL time of sample 0), the markers
        read and the markers excluded (outside the common span).
    """
    import mne

    path = Path(path)
    if not isinstance(streams, Mapping) or len(streams) < 1:
        raise ValueError(
            f"streams must be a mapping {{participant id: stream name or id}}; got {streams!r}"
        )
    check_positive("max_gap", max_gap)
    loaded = _load(path)
    chosen = _choose_streams(path, loaded, streams)
    truncated = _check_footers(path, chosen, on_truncated)
    sfreq, t0, t1 = _common_span(path, chosen, sfreq, streams)
    n = int(np.floor((t1 - t0) * sfreq + 1e-9)) + 1
    grid = t0 + np.arange(n) / sfreq
    raws, rows = {}, []
    for pid, (s, d, picks) in chosen.items():
        raws[pid], row = _stream_to_raw(
            path, pid, s, d, picks, grid=grid, sfreq=sfreq, span=(t0, t1), max_gap=max_gap,
            scale=scale,
        )  # fmt: skip
        rows.append(row)
    report = pd.DataFrame(rows)
    report.attrs["t0"] = t0
    report.attrs["truncated"] = truncated
    report.attrs["audio"] = _audio_streams(path, loaded, audio, t0)
    ann_on, ann_desc, excluded = _markers(path, loaded, markers, t0, t1)
    if ann_on:
        ann = mne.Annotations(ann_on, [0.0] * len(ann_on), ann_desc)
        for raw in raws.values():
            raw.set_annotations(raw.annotations + ann)
    report.attrs["n_markers"] = len(ann_on)
    report.attrs["markers_excluded"] = excluded
    if excluded:
        logger.warning(
            "%s: %d marker(s) fall outside the common span of the streams and are not "
            "annotations (see report.attrs['markers_excluded'])",
            path.name,
            len(excluded),
        )
    return raws, report


def _choose_streams(path: Path, loaded, streams) -> dict:
    """``{pid: (stream, description, channel picks)}`` of the participants' streams."""
    chosen = {}
    for pid, key in streams.items():
        picks = None
        if isinstance(key, tuple):
            key, picks = key
        s = _find(loaded, key, path)
        d = _describe(s)
        if d["n_samples"] < 2:
            raise ValueError(
                f"{path}: stream {key!r} (for {pid!r}) has {d['n_samples']} sample(s); "
                "it cannot be a participant's signal"
            )
        if d["channel_format"] == "string":
            raise ValueError(
                f"{path}: stream {key!r} (for {pid!r}) holds strings (a marker stream); "
                "pass it in markers="
            )
        chosen[str(pid)] = (s, d, picks)
    return chosen


def _common_span(path: Path, chosen: dict, sfreq, streams) -> tuple[float, float, float]:
    """The grid rate and the span ``[t0, t1]`` (LSL clock) that every chosen stream covers."""
    rates = [d["nominal_srate"] for _, d, _ in chosen.values()]
    if sfreq is None:
        if max(rates) <= 0:
            raise ValueError(
                f"{path}: the chosen streams are irregular (nominal rate 0); pass sfreq="
            )
        sfreq = max(rates)
    check_positive("sfreq", sfreq)
    sfreq = float(sfreq)
    t0 = max(float(s["time_stamps"][0]) for s, _, _ in chosen.values())
    t1 = min(float(s["time_stamps"][-1]) for s, _, _ in chosen.values())
    if t1 <= t0:
        raise ValueError(
            f"{path}: the streams {list(streams.values())} do not overlap in time (latest "
            f"start {t0:.3f} s, earliest end {t1:.3f} s on the LSL clock)"
        )
    return sfreq, t0, t1


def _audio_streams(path: Path, loaded, audio, t0: float) -> dict:
    """Microphone streams on their own nominal rate from ``t0`` (``report.attrs['audio']``)."""
    out = {}
    for pid, key in (audio or {}).items():
        ch = 0
        if isinstance(key, tuple):
            key, ch = key
        s_a = _find(loaded, key, path)
        d_a = _describe(s_a)
        if d_a["nominal_srate"] <= 0 or d_a["channel_format"] == "string":
            raise ValueError(
                f"{path}: audio stream {key!r} (for {pid!r}) needs a regular numeric "
                f"stream; it has nominal rate {d_a['nominal_srate']} and format "
                f"{d_a['channel_format']!r}"
            )
        if not 0 <= int(ch) < d_a["n_channels"]:
            raise ValueError(
                f"{path}: audio channel {ch} of stream {key!r} does not exist (it has "
                f"{d_a['n_channels']} channel(s))"
            )
        ts_a = np.asarray(s_a["time_stamps"], float)
        # integer PCM streams (LSL int16/int32 audio) are scaled by their dtype
        x_a = audio_as_float(
            np.asarray(s_a["time_series"])[:, [int(ch)]],
            f"{path}: audio stream {key!r} (for {pid!r})",
        )
        sr = d_a["nominal_srate"]
        n_a = int(np.floor((ts_a[-1] - t0) * sr + 1e-9)) + 1
        if n_a < 1:
            raise ValueError(f"{path}: audio stream {key!r} ends before the common start")
        g = t0 + np.arange(n_a) / sr
        y = _interp(ts_a, x_a, g)[:, 0]
        pad = g < ts_a[0]
        y[pad] = 0.0
        out[pid] = {
            "stream": d_a["name"],
            "channel": int(ch),
            "sfreq": sr,
            "n_samples": n_a,
            "padded_start_s": float(pad.sum() / sr),
            "trimmed_start_s": float(max(t0 - ts_a[0], 0.0)),
            "samples": y,
        }
        if pad.any():
            logger.warning(
                "%s: audio stream %r starts %.3f s after the common start; padded with zeros",
                path.name,
                d_a["name"],
                pad.sum() / sr,
            )
    return out


def _markers(path: Path, loaded, markers, t0: float, t1: float):
    """Marker onsets (s from ``t0``), labels, and the markers outside ``[t0, t1]``."""
    ann_on, ann_desc, excluded = [], [], []
    if markers is not None:
        if markers == "auto":
            mstreams = [
                s
                for s in loaded
                if _describe(s)["channel_format"] == "string"
                and _describe(s)["nominal_srate"] == 0
            ]
        else:
            mstreams = [_find(loaded, m, path) for m in markers]
        for s in mstreams:
            name = _describe(s)["name"]
            for t, v in zip(s["time_stamps"], s["time_series"]):
                lab = str(v[0] if isinstance(v, list | np.ndarray) and len(v) else v)
                if t0 <= t <= t1:
                    ann_on.append(float(t) - t0)
                    ann_desc.append(lab)
                else:
                    excluded.append({"stream": name, "timestamp": float(t), "marker": lab})
    return ann_on, ann_desc, excluded


def _check_footers(path: Path, chosen: dict, on_truncated: str) -> list[dict]:
    """Streams whose footer is missing or counts more samples than were read."""
    import warnings

    check_option("on_truncated", on_truncated, ("raise", "warn"))
    out = []
    for pid, (s, d, _) in chosen.items():
        n = len(s["time_stamps"])
        footer = (s.get("footer") or {}).get("info") or {}
        count = footer.get("sample_count")
        count = int(count[0] if isinstance(count, list) else count) if count else None
        if footer and (count is None or count <= n):
            continue
        why = (
            f"its footer counts {count} samples but the file holds {n}"
            if footer
            else f"it has no footer (the file ends before the recorder closed it; {n} samples "
            "read)"
        )
        out.append({"participant": pid, "stream": d["name"], "samples_read": n,
                    "samples_in_footer": count, "reason": why})  # fmt: skip
        msg = f"{path}: stream {d['name']!r} (for {pid!r}) is truncated: {why}"
        if on_truncated == "raise":
            raise ValueError(
                f"{msg}; copy the complete file again, or pass on_truncated='warn' to read the "
                "samples that are there (the truncation is then reported)"
            )
        logger.warning("%s (on_truncated='warn')", msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=4)
    return out


@verbose
def read_xdf_dyad(
    path: str | os.PathLike,
    streams: Mapping[str, int | str | tuple],
    *,
    transcript=None,
    roles: Sequence[str] | None = None,
    dyad_id: str = "dyad",
    sfreq: float | None = None,
    markers: Sequence[int | str] | str | None = "auto",
    scale: str | float = "auto",
    max_gap: float = 5.0,
    audio: Mapping[str, int | str | tuple] | None = None,
    on_truncated: str = "raise",
    verbose=None,
    **kwargs,
) -> Dyad:
    """Read a two-participant XDF recording into a :class:`~hyperalign.Dyad`.

    Parameters
    ----------
    path : path-like
        The ``.xdf`` file.
    streams : mapping
        ``{participant id: stream name | id | (stream, channels)}``, exactly two entries
        (see :func:`read_xdf_raws`).
    transcript : path | Transcript | None
        Transcript on the same clock (0 = the common start, ``report.attrs['t0']``).
    roles : sequence of str | None
        Role of each participant.
    dyad_id : str
        Identifier of the dyad.
    sfreq, markers, scale, max_gap, audio, on_truncated, verbose
        See :func:`read_xdf_raws`; a truncation read with ``on_truncated='warn'`` is
        counted in ``dyad.exclusions`` (kind ``'recording'``).
    **kwargs
        Passed to :func:`hyperalign.io.read_dyad` (``speakers``, ``audio``, ``on_outside``…).

    Returns
    -------
    Dyad
        ``dyad.meta['xdf']`` holds the stream report (a DataFrame), ``dyad.meta['xdf_t0']``
        the LSL time of sample 0; markers outside the common span are in
        ``dyad.exclusions``.
    """
    from .neural import read_dyad

    if not isinstance(streams, Mapping) or len(streams) != 2:
        raise ValueError(f"streams must map exactly 2 participant ids to streams; got {streams!r}")
    raws, report = read_xdf_raws(
        path, streams, sfreq=sfreq, markers=markers, scale=scale, max_gap=max_gap,
        audio=audio, on_truncated=on_truncated,
    )  # fmt: skip
    ids = list(raws)
    auds = report.attrs.pop("audio")
    if auds:
        unknown = [k for k in auds if k not in ids]
        if unknown:
            raise ValueError(f"audio names {unknown}, which are not in streams {ids}")
        kwargs["audio"] = {k: (v.pop("samples"), v["sfreq"]) for k, v in auds.items()}
        report.attrs["audio"] = auds
    ex = report.attrs["markers_excluded"]
    dyad = read_dyad(
        [raws[i] for i in ids],
        transcript=transcript,
        participant_ids=ids,
        roles=roles,
        dyad_id=dyad_id,
        meta={"xdf": report, "xdf_t0": report.attrs["t0"], "xdf_file": str(path)},
        **kwargs,
    )
    if ex:
        dyad.exclusions.add("io", "marker", str(path), "outside the common span", len(ex))
    for t in report.attrs.get("truncated", []):
        dyad.exclusions.add(
            "io", "recording", f"{path} stream {t['stream']!r}",
            f"truncated XDF stream: {t['reason']} (on_truncated='warn')", 1,
        )  # fmt: skip
    for p in dyad.participants:
        p.info["source"] = f"{path} stream {streams[p.id]!r}"
    return dyad
