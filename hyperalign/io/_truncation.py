"""Truncated recordings: compare what a file's header promises with what the file holds.

MNE reads an EDF/BDF file cut short as a shorter recording (it only warns that the header
and the file size disagree) and a BrainVision file cut short as a shorter recording without a
word. :func:`check_truncation` tells, before MNE reads the file, whether the data part is
shorter than its header says:

* EDF/BDF: ``n_records x sum(samples per record) x 2 (EDF) / 3 (BDF)`` bytes after the
  ``256 x (n_signals + 1)``-byte header (``n_records = -1``, "unknown" in the EDF spec, is not
  checked);
* BrainVision: ``DataPoints x NumberOfChannels x bytes per sample`` of the binary ``.eeg``
  when the header gives ``DataPoints``; otherwise a size that is not a whole number of
  samples, or a marker of the ``.vmrk`` past the last sample;
* EEGLAB with a separate ``.fdt``: ``nbchan x pnts x trials x 4`` bytes (float32).

FIF and SNIRF (HDF5) files that are cut short do not open in MNE at all; :func:`read_raw`
says that they are probably truncated.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Truncation", "check_truncation"]


@dataclass(frozen=True)
class Truncation:
    """A data file shorter (or, for EDF/BDF, longer) than its header says.

    Parameters
    ----------
    file : str
        The file whose size disagrees with the header (the data file for BrainVision/EEGLAB).
    header_s : float | None
        Duration the header describes (s), or None when it does not say.
    readable_s : float
        Duration of whole samples present in the file (s).
    detail : str
        What was compared (bytes expected and present).

    See Also
    --------
    check_truncation : Finds it.
    """

    file: str
    header_s: float | None
    readable_s: float
    detail: str

    def message(self, path) -> str:
        head = (
            f"its header describes {self.header_s:.3f} s"
            if self.header_s is not None
            else "its header describes more data"
        )
        data = Path(self.file)
        where = f" (data file {data.name})" if data != Path(path) else ""
        if self.header_s is not None and self.readable_s > self.header_s:
            return (
                f"{path}: the file size disagrees with its header{where}: {head} but the file "
                f"holds {self.readable_s:.3f} s of data ({self.detail}); MNE would read the "
                "extra bytes as samples: re-export the file, or pass on_truncated='warn' to "
                "read it as MNE does (reported)"
            )
        return (
            f"{path}: the recording is truncated{where}: {head} but the file holds only "
            f"{self.readable_s:.3f} s ({self.detail}); copy the complete file again or "
            f"re-export it, or pass on_truncated='warn' to read the {self.readable_s:.3f} s "
            "that are there (the truncation is then reported)"
        )


def _edf(path: Path) -> Truncation | None:
    with open(path, "rb") as fh:
        head = fh.read(256)
        if len(head) < 256:
            return Truncation(str(path), None, 0.0, f"{len(head)} bytes, less than the header")
        bdf = head[:1] == b"\xff"
        try:
            n_records = int(head[236:244].decode("ascii").strip())
            rec_dur = float(head[244:252].decode("ascii").strip())
            ns = int(head[252:256].decode("ascii").strip())
        except ValueError:
            return None  # MNE names the broken header field
        fh.seek(256 + ns * 216)
        raw_n = fh.read(ns * 8)
    if len(raw_n) < ns * 8:
        return Truncation(str(path), None, 0.0, "the file ends inside its header")
    try:
        n_samps = [int(raw_n[8 * k : 8 * k + 8].decode("ascii").strip()) for k in range(ns)]
    except ValueError:
        return None
    if n_records < 0 or ns <= 0 or sum(n_samps) <= 0:
        return None  # -1: "unknown" (recording not closed), read by size as MNE does
    bps = 3 if bdf else 2
    header_bytes = 256 * (ns + 1)
    rec_bytes = sum(n_samps) * bps
    have = path.stat().st_size - header_bytes
    need = n_records * rec_bytes
    if have >= need + rec_bytes:  # whole extra records: MNE reads them as data
        extra = have // rec_bytes
        return Truncation(
            str(path),
            n_records * rec_dur,
            extra * rec_dur,
            f"{n_records} data records of {rec_dur:g} s in the header, {have} data bytes = "
            f"{extra} records in the file",
        )
    if have >= need:
        return None
    whole = max(have, 0) // rec_bytes
    return Truncation(
        str(path),
        n_records * rec_dur,
        whole * rec_dur,
        f"{n_records} data records of {rec_dur:g} s expected, {max(have, 0)} of "
        f"{need} data bytes present ({whole} whole records)",
    )


def _ini(path: Path) -> dict[str, dict[str, str]]:
    sections: dict[str, dict[str, str]] = {}
    cur = sections.setdefault("", {})
    text = path.read_bytes().decode("utf-8", "replace")
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(";"):
            continue
        m = re.fullmatch(r"\[(.+)\]", line)
        if m:
            cur = sections.setdefault(m.group(1).strip().lower(), {})
        elif "=" in line:
            k, v = line.split("=", 1)
            cur[k.strip().lower()] = v.strip()
    return sections


_BV_BYTES = {"int_16": 2, "uint_16": 2, "int_32": 4, "ieee_float_32": 4}


def _brainvision(path: Path) -> Truncation | None:
    hdr = _ini(path)
    common = hdr.get("common infos", {})
    if common.get("dataformat", "BINARY").upper() != "BINARY":
        return None
    bps = _BV_BYTES.get(hdr.get("binary infos", {}).get("binaryformat", "").lower())
    try:
        nch = int(common["numberofchannels"])
        interval_us = float(common["samplinginterval"])
        data = path.parent / common["datafile"]
    except (KeyError, ValueError):
        return None
    if bps is None or nch <= 0 or not data.is_file():
        return None  # MNE names what is missing
    sfreq = 1e6 / interval_us
    size = data.stat().st_size
    frame = nch * bps
    readable = size // frame
    if "datapoints" in common:
        try:
            npts = int(common["datapoints"])
        except ValueError:
            return None
        if readable < npts:
            return Truncation(
                str(data),
                npts / sfreq,
                readable / sfreq,
                f"DataPoints={npts} x {nch} channels x {bps} bytes = {npts * frame} bytes "
                f"expected, {size} present",
            )
        return None
    if size % frame:
        return Truncation(
            str(data),
            None,
            readable / sfreq,
            f"{size} bytes is not a whole number of samples of {nch} channels x {bps} bytes: "
            "the file ends inside a sample",
        )
    mrk = common.get("markerfile")
    if mrk and (path.parent / mrk).is_file():
        last = 0
        for sec, items in _ini(path.parent / mrk).items():
            if sec != "marker infos":
                continue
            for v in items.values():
                parts = v.split(",")
                if len(parts) >= 3 and parts[2].strip().isdigit():
                    last = max(last, int(parts[2]))
        if last > readable:
            return Truncation(
                str(data),
                None,
                readable / sfreq,
                f"the marker file has a marker at sample {last} ({last / sfreq:.3f} s), past "
                f"the {readable} samples of the data file",
            )
    return None


def _eeglab(path: Path) -> Truncation | None:
    try:
        from pymatreader import read_mat

        mat = read_mat(str(path), ignore_fields=["chanlocs", "event", "urevent", "epoch"])
    except Exception:
        return None  # MNE reports unreadable files
    eeg = mat.get("EEG", mat)
    data = eeg.get("data")
    if not isinstance(data, str):
        return None  # data inside the .set: MNE checks its shape
    fdt = path.parent / data
    if not fdt.is_file():
        fdt = path.with_suffix(".fdt")
        if not fdt.is_file():
            return None
    try:
        nch, pnts = int(eeg["nbchan"]), int(eeg["pnts"])
        trials, sfreq = int(eeg.get("trials", 1) or 1), float(eeg["srate"])
    except (KeyError, TypeError, ValueError):
        return None
    need = nch * pnts * trials * 4
    size = fdt.stat().st_size
    if size >= need:
        return None
    readable = size // (nch * 4)
    return Truncation(
        str(fdt),
        pnts * trials / sfreq,
        readable / sfreq,
        f"{nch} channels x {pnts * trials} samples x 4 bytes = {need} bytes expected, "
        f"{size} present",
    )


def check_truncation(path: str | os.PathLike) -> Truncation | None:
    """Compare what a recording's header promises with what its data file holds.

    Parameters
    ----------
    path : path-like
        An EDF/BDF file, a BrainVision ``.vhdr`` or an EEGLAB ``.set`` (with its ``.fdt``).
        Other formats give ``None`` (FIF and SNIRF files cut short do not open in MNE).

    Returns
    -------
    Truncation | None
        What was found when the data are shorter than the header says (for EDF/BDF, also
        whole extra records); ``None`` when the file is complete or the format cannot tell
        (a BrainVision header without ``DataPoints`` whose data end on a whole sample and
        whose markers all lie inside the data).

    See Also
    --------
    hyperalign.io.read_raw : Reads with ``on_truncated='raise'`` (default) or ``'warn'``.
    """
    path = Path(path)
    suf = path.suffix.lower()
    if not path.is_file():
        return None
    if suf in (".edf", ".bdf"):
        return _edf(path)
    if suf in (".vhdr", ".ahdr"):
        return _brainvision(path)
    if suf == ".set":
        return _eeglab(path)
    return None


def log_truncation(exclusions, src, trunc, raw) -> None:
    """Count the recording time lost to a truncated file (kind 'recording', n = 1)."""
    read_s = raw.n_times / raw.info["sfreq"]
    head = f"{trunc.header_s:.3f} s in the header" if trunc.header_s is not None else "more"
    exclusions.add(
        "io", "recording", str(src),
        f"truncated file: {head}, {read_s:.3f} s read (on_truncated='warn')", 1,
    )  # fmt: skip
