"""Fixtures of tests/io: a minimal XDF writer (pyxdf has none), per the XDF 1.0 spec.

File: the magic ``XDF:`` then chunks ``[NumLengthBytes][Length][Tag uint16][Content]``;
tags: 1 FileHeader, 2 StreamHeader, 3 Samples, 4 ClockOffset, 6 StreamFooter.
"""

from __future__ import annotations

import struct
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np


def _varlen(n: int) -> bytes:
    if n < 256:
        return b"\x01" + struct.pack("<B", n)
    if n < 2**32:
        return b"\x04" + struct.pack("<I", n)
    return b"\x08" + struct.pack("<Q", n)


def _chunk(tag: int, content: bytes) -> bytes:
    return _varlen(len(content) + 2) + struct.pack("<H", tag) + content


def _header_xml(s: dict) -> bytes:
    chans = "".join(
        f"<channel><label>{escape(lab)}</label><unit>{escape(s.get('unit', ''))}</unit>"
        f"<type>{escape(s['type'])}</type></channel>"
        for lab in s["labels"]
    )
    xml = (
        '<?xml version="1.0"?><info>'
        f"<name>{escape(s['name'])}</name><type>{escape(s['type'])}</type>"
        f"<channel_count>{len(s['labels'])}</channel_count>"
        f"<nominal_srate>{s['srate']}</nominal_srate>"
        f"<channel_format>{s['format']}</channel_format>"
        f"<source_id>{escape(s['name'])}-src</source_id><version>1.1</version>"
        f"<created_at>0</created_at><uid>{s['id']}-uid</uid><session_id>default</session_id>"
        f"<hostname>test</hostname><desc><channels>{chans}</channels></desc></info>"
    )
    return xml.encode()


def write_xdf(path: str | Path, streams: list[dict]) -> Path:
    """Write ``streams`` to an XDF file.

    Each stream is a dict: ``id`` (int), ``name``, ``type``, ``srate`` (0 = irregular),
    ``format`` ('float32' | 'string'), ``labels`` (channel names), ``unit``, ``time_stamps``
    (stream clock, s), ``samples`` (n_samples x n_channels floats, or a list of strings),
    ``clock_offsets``: list of ``(collection_time, offset_value)`` (stream clock and
    recorder clock minus stream clock).
    """
    out = bytearray(b"XDF:")
    out += _chunk(1, b'<?xml version="1.0"?><info><version>1.0</version></info>')
    for s in streams:
        out += _chunk(2, struct.pack("<I", s["id"]) + _header_xml(s))
    # sample chunks (100 samples each) then clock offsets, as LabRecorder writes them
    for s in streams:
        ts = np.asarray(s["time_stamps"], float)
        for start in range(0, len(ts), 100):
            body = bytearray(struct.pack("<I", s["id"]))
            stop = min(start + 100, len(ts))
            body += _varlen(stop - start)
            for k in range(start, stop):
                body += b"\x08" + struct.pack("<d", ts[k])
                if s["format"] == "string":
                    val = str(s["samples"][k]).encode()
                    body += _varlen(len(val)) + val
                else:
                    dt = {"int16": "<i2", "int32": "<i4", "double64": "<f8"}.get(
                        s["format"], "<f4"
                    )
                    body += np.asarray(s["samples"][k], dtype=dt).tobytes()
            out += _chunk(3, bytes(body))
        for ct, ov in s.get("clock_offsets", []):
            out += _chunk(4, struct.pack("<I", s["id"]) + struct.pack("<dd", ct, ov))
    for s in streams:
        ts = np.asarray(s["time_stamps"], float)
        offs = "".join(
            f"<offset><time>{ct!r}</time><value>{ov!r}</value></offset>"
            for ct, ov in s.get("clock_offsets", [])
        )
        xml = (
            '<?xml version="1.0"?><info>'
            f"<first_timestamp>{ts[0]!r}</first_timestamp>"
            f"<last_timestamp>{ts[-1]!r}</last_timestamp>"
            f"<sample_count>{len(ts)}</sample_count>"
            f"<clock_offsets>{offs}</clock_offsets></info>"
        )
        out += _chunk(6, struct.pack("<I", s["id"]) + xml.encode())
    path = Path(path)
    path.write_bytes(bytes(out))
    return path


import pytest  # noqa: E402


@pytest.fixture
def xdf_writer():
    """The test XDF writer (:func:`write_xdf`)."""
    return write_xdf


def write_snirf(raw, path) -> Path:
    """Write a continuous-wave fNIRS raw (NIRx channel names ``S1_D1 760``) to SNIRF.

    Uses the ``snirf`` (pysnirf2) package; positions come from MNE's channel locations.
    """
    import re

    import snirf

    names = raw.ch_names
    pairs = [re.match(r"S(\d+)_D(\d+) (\d+)", n).groups() for n in names]
    srcs = sorted({int(s) for s, _, _ in pairs})
    dets = sorted({int(d) for _, d, _ in pairs})
    wls = sorted({int(w) for _, _, w in pairs})
    spos, dpos = np.zeros((len(srcs), 3)), np.zeros((len(dets), 3))
    for ch, (s, d, _) in zip(raw.info["chs"], pairs):
        spos[srcs.index(int(s))] = ch["loc"][3:6]
        dpos[dets.index(int(d))] = ch["loc"][6:9]
    f = snirf.Snirf(str(path), "w")
    f.nirs.appendGroup()
    nirs = f.nirs[0]
    md = nirs.metaDataTags
    md.SubjectID, md.MeasurementDate, md.MeasurementTime = "p", "2019-09-28", "16:32:27"
    md.LengthUnit, md.TimeUnit, md.FrequencyUnit = "m", "s", "Hz"
    nirs.data.appendGroup()
    nirs.data[0].dataTimeSeries = raw.get_data().T
    nirs.data[0].time = raw.times
    for s, d, w in pairs:
        nirs.data[0].measurementList.appendGroup()
        ml = nirs.data[0].measurementList[-1]
        ml.sourceIndex = srcs.index(int(s)) + 1
        ml.detectorIndex = dets.index(int(d)) + 1
        ml.wavelengthIndex = wls.index(int(w)) + 1
        ml.dataType, ml.dataTypeIndex = 1, 1
    nirs.probe.wavelengths = np.array(wls, float)
    nirs.probe.sourcePos3D, nirs.probe.detectorPos3D = spos, dpos
    nirs.probe.sourceLabels = np.array([f"S{s}" for s in srcs])
    nirs.probe.detectorLabels = np.array([f"D{d}" for d in dets])
    f.save()
    f.close()
    return Path(path)


@pytest.fixture
def snirf_writer():
    """:func:`write_snirf`, or a skip when the ``snirf`` package is not installed."""
    pytest.importorskip("snirf")
    return write_snirf
