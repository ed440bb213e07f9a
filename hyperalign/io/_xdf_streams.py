"""One XDF stream: the file loaded with pyxdf, streams described and found, and one
participant's stream interpolated onto the common grid as an :class:`mne.io.RawArray`.

The orchestration across streams (the participants' streams, their common span, footers,
audio and markers) and the public readers are in :mod:`hyperalign.io.xdf`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..utils import logger

_UNIT_SCALE = {
    "microvolts": 1e-6,
    "microvolt": 1e-6,
    "uv": 1e-6,
    "µv": 1e-6,
    "millivolts": 1e-3,
    "mv": 1e-3,
    "volts": 1.0,
    "v": 1.0,
}
_TYPE_MAP = {"eeg": "eeg", "meg": "mag", "ecg": "ecg", "emg": "emg", "eog": "eog"}


def _load(path: Path):
    import logging

    import pyxdf

    if not path.is_file():
        raise FileNotFoundError(f"XDF file not found: {path}")
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: the XDF file is empty (0 bytes)")
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic != b"XDF:":
        raise ValueError(f"{path}: not an XDF file (it does not start with 'XDF:')")
    pyxdf_log = logging.getLogger("pyxdf.pyxdf")
    old = pyxdf_log.level
    pyxdf_log.setLevel(logging.ERROR)  # pyxdf's own notes are summarized in our report
    try:
        streams, _ = pyxdf.load_xdf(
            str(path),
            synchronize_clocks=True,
            handle_clock_resets=True,
            dejitter_timestamps=True,
        )
    except Exception as err:
        raise ValueError(
            f"{path}: the XDF file is corrupt or truncated ({type(err).__name__}: {err})"
        ) from None
    finally:
        pyxdf_log.setLevel(old)
    return streams


def _get(info: dict, key: str, default=None):
    v = info.get(key, default)
    if isinstance(v, list):
        v = v[0] if v else default
    return v


def _describe(stream: dict) -> dict:
    info = stream["info"]
    return {
        "stream_id": int(info["stream_id"]),
        "name": str(_get(info, "name", "")),
        "type": str(_get(info, "type", "")),
        "n_channels": int(_get(info, "channel_count", 0)),
        "nominal_srate": float(_get(info, "nominal_srate", 0)),
        "channel_format": str(_get(info, "channel_format", "")),
        "n_samples": len(stream["time_stamps"]),
    }


def _find(streams, key, path) -> dict:
    hits = []
    for s in streams:
        d = _describe(s)
        if (isinstance(key, int | np.integer) and d["stream_id"] == int(key)) or (
            isinstance(key, str) and key in (d["name"], f"type:{d['type']}")
        ):
            hits.append(s)
    avail = "; ".join(
        f"id {d['stream_id']} name {d['name']!r} type {d['type']!r}"
        for d in map(_describe, streams)
    )
    if not hits:
        raise ValueError(f"{path}: no stream {key!r}; the streams are: {avail}")
    if len(hits) > 1:
        raise ValueError(
            f"{path}: {len(hits)} streams match {key!r}; give the stream id instead ({avail})"
        )
    return hits[0]


def _channels(stream: dict):
    info = stream["info"]
    n = int(_get(info, "channel_count", 0))
    labels, units, types = [], [], []
    try:
        chans = info["desc"][0]["channels"][0]["channel"]
    except (KeyError, IndexError, TypeError):
        chans = []
    for k in range(n):
        c = chans[k] if k < len(chans) and isinstance(chans[k], dict) else {}
        labels.append(str(_get(c, "label", None) or f"ch{k:02d}"))
        units.append(str(_get(c, "unit", "") or "").lower())
        types.append(str(_get(c, "type", "") or "").lower())
    return labels, units, types


def _gaps(ts: np.ndarray, srate: float, max_gap: float) -> list[tuple[float, float]]:
    if len(ts) < 2 or srate <= 0:
        return []
    d = np.diff(ts)
    idx = np.flatnonzero(d > max_gap / srate)
    return [(float(ts[i]), float(ts[i + 1])) for i in idx]


def _interp(ts: np.ndarray, x: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``x`` (n_samples, n_channels) at ``grid`` (vectorized)."""
    i = np.clip(np.searchsorted(ts, grid, side="right") - 1, 0, len(ts) - 2)
    dt = ts[i + 1] - ts[i]
    w = np.where(dt > 0, (grid - ts[i]) / np.where(dt > 0, dt, 1), 0.0)
    w = np.clip(w, 0.0, 1.0)[:, None]
    return x[i] * (1 - w) + x[i + 1] * w


def _stream_channels(path: Path, pid: str, s, d, picks):
    """Labels, units and the indices of the channels taken from one stream."""
    labels, units, ctypes = _channels(s)
    idx = list(range(len(labels)))
    if picks is not None:
        unknown = [p for p in picks if (p not in labels) if isinstance(p, str)]
        unknown += [p for p in picks if not isinstance(p, str)
                    and not 0 <= int(p) < len(labels)]  # fmt: skip
        if unknown:
            raise ValueError(
                f"{path}: stream {d['name']!r} (for {pid!r}) has no channel(s) {unknown}; "
                f"its {len(labels)} channels are {labels[:20]}"
                f"{' ...' if len(labels) > 20 else ''} (give names or 0-based indices)"
            )
        idx = [labels.index(p) if isinstance(p, str) else int(p) for p in picks]
    return labels, units, idx


def _stream_to_raw(path: Path, pid: str, s, d, picks, *, grid, sfreq, span, max_gap, scale):
    """One participant's stream interpolated onto the common grid, and its report row."""
    import mne

    t0, t1 = span
    n = len(grid)
    ts = np.asarray(s["time_stamps"], float)
    x = np.asarray(s["time_series"], float)
    labels, units, idx = _stream_channels(path, pid, s, d, picks)
    order = np.argsort(ts, kind="mergesort")
    if np.any(np.diff(ts) < 0):
        logger.warning("%s: stream %r timestamps not monotonic; sorted", path, d["name"])
    ts, x = ts[order], x[order][:, idx]
    dur = ts[-1] - ts[0]
    eff = (len(ts) - 1) / dur if dur > 0 else np.nan
    srate = d["nominal_srate"] if d["nominal_srate"] > 0 else eff
    gaps = _gaps(ts, srate, max_gap)
    steps = np.diff(ts)
    inside = steps <= max_gap / srate
    if gaps:  # effective rate and steps within the recorded segments
        eff = inside.sum() / steps[inside].sum() if inside.any() else np.nan
    anti_alias = None
    if np.isfinite(srate) and sfreq < 0.99 * srate and len(ts) > 30:
        # going down in rate: low-pass first, or interpolation aliases
        anti_alias = sfreq / 2.5
        x = mne.filter.filter_data(x.T.copy(), srate, None, anti_alias, verbose=False).T
    n_bad = int((~np.isfinite(x)).sum())
    if n_bad:
        logger.warning(
            "%s: stream %r holds %d non-finite sample value(s) (NaN/inf: dropped "
            "samples?); they stay NaN in the recording: mark those channels bad or "
            "crop the span", path.name, d["name"], n_bad,
        )  # fmt: skip
    data = _interp(ts, x, grid).T
    st = str(d["type"]).lower()
    ch_type = _TYPE_MAP.get(st, "misc")
    if scale == "auto":
        sc = np.array([_UNIT_SCALE.get(units[i], 1e-6 if ch_type == "eeg" else 1.0) for i in idx])
        if ch_type == "eeg" and not any(units[i] for i in idx):
            logger.info("%s: EEG stream %r has no units; assuming microvolts",
                        path.name, d["name"])  # fmt: skip
    else:
        sc = np.full(len(idx), float(scale))
    data = data * sc[:, None]
    names = [labels[i] for i in idx]
    if len(set(names)) != len(names):
        names = [f"{nm}-{k}" for k, nm in enumerate(names)]
    info = mne.create_info(names, sfreq, ch_type)
    raw = mne.io.RawArray(data, info, verbose=False)
    gap_on = [max(a, t0) - t0 for a, b in gaps if b > t0 and a < t1]
    gap_dur = [min(b, t1) - max(a, t0) for a, b in gaps if b > t0 and a < t1]
    if gap_on:
        raw.set_annotations(mne.Annotations(gap_on, gap_dur, ["BAD_xdf_gap"] * len(gap_on)))
    segs = s["info"].get("clock_segments") or []
    row = {
        "participant": pid,
        "stream_id": d["stream_id"],
        "stream": d["name"],
        "type": d["type"],
        "n_channels": len(idx),
        "nominal_srate": d["nominal_srate"],
        "effective_srate": float(eff),
        "n_samples": len(ts),
        "first_timestamp": float(ts[0]),
        "last_timestamp": float(ts[-1]),
        "n_clock_segments": max(len(segs), 1),
        "n_gaps": len(gaps),
        "gap_s": float(sum(b - a for a, b in gaps)),
        "max_step_samples": float(steps[inside].max() * srate) if inside.any() else np.nan,
        "trimmed_start_s": t0 - float(ts[0]),
        "trimmed_end_s": float(ts[-1]) - t1,
        "grid_sfreq": sfreq,
        "grid_n_times": n,
        "method": "linear interpolation onto the common grid",
        "anti_alias_lowpass_hz": anti_alias,
    }
    logger.info(
        "%s: stream %r -> %s: %d samples (nominal %g Hz, effective %.3f Hz) "
        "interpolated onto %d samples at %g Hz; %d gap(s), %d clock segment(s)",
        path.name, d["name"], pid, len(ts), d["nominal_srate"], eff, n, sfreq,
        len(gaps), max(len(segs), 1),
    )  # fmt: skip
    return raw, row
