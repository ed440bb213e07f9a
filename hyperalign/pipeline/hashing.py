"""Content hashes of a dyad's inputs: the cache keys of every step are built from them.

Each input is hashed once per run where it is read: in the main process right after the data
are read (serial and joblib runs, the demo on Dask), or on the Dask worker that reads the dyad
(a BIDS study on Dask, :mod:`hyperalign.pipeline._dask_data`: the main process then reads no
recording). The functions are the same, so the keys are the same wherever they are computed.
A step's key combines the digests of the inputs it reads, its own config section and
hyperalign's version; a changed word, sample or microphone sample changes the keys of exactly
the steps that read it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

_ALGO = "sha256"


def _h() -> Any:
    return hashlib.new(_ALGO)


def hash_json(*parts: Any) -> str:
    """SHA-256 of JSON-serialisable ``parts`` (keys sorted; full hex digest)."""
    blob = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()


def hash_array(x: np.ndarray, h: Any | None = None) -> str:
    """SHA-256 of an array's dtype, shape and bytes (C order)."""
    own = h is None
    h = _h() if own else h
    x = np.asarray(x)
    h.update(f"{x.dtype.str}|{x.shape}|".encode())
    if x.dtype == object:
        h.update(json.dumps(x.tolist(), default=str).encode())
    else:
        h.update(memoryview(np.ascontiguousarray(x)).cast("B"))
    return h.hexdigest()


def hash_frame(df: pd.DataFrame) -> str:
    """SHA-256 of a DataFrame: column names, dtypes, index and every value."""
    h = _h()
    h.update(json.dumps([list(map(str, df.columns)), [str(t) for t in df.dtypes]]).encode())
    rows = pd.util.hash_pandas_object(df, index=True, categorize=False).to_numpy()
    h.update(memoryview(np.ascontiguousarray(rows)).cast("B"))
    return h.hexdigest()


def hash_raw(raw) -> str:
    """SHA-256 of an MNE Raw: samples, and the info and annotations the analysis reads."""
    h = _h()
    info = raw.info
    ess = {
        "ch_names": list(info["ch_names"]),
        "ch_types": raw.get_channel_types(),
        "sfreq": float(info["sfreq"]),
        "bads": list(info["bads"]),
        "highpass": float(info["highpass"]),
        "lowpass": float(info["lowpass"]),
        "first_samp": int(raw.first_samp),
        "annotations": [
            [float(a["onset"]), float(a["duration"]), str(a["description"])]
            for a in raw.annotations
        ],
    }
    h.update(json.dumps(ess, sort_keys=True).encode())
    data = raw._data if getattr(raw, "preload", False) else raw.get_data()
    hash_array(data, h)
    return h.hexdigest()


@dataclass
class DyadHashes:
    """Digests of one dyad's inputs (computed once per run by :func:`hash_dyad`)."""

    dyad_id: str
    ids: list[str]
    raws: list[str]
    audio: list[str | None]
    transcript: str
    timing: str = ""
    meta: dict = field(default_factory=dict)

    def for_step(self, step: str) -> dict:
        """The input digests a step reads: ``'features'`` (transcript, audio) or ``'sync'``
        (recordings and the transcript's timing: utterance times and speakers, not the words,
        which synchrony does not read)."""
        base = {"dyad_id": self.dyad_id, "ids": self.ids, **self.meta}
        if step == "features":
            return {**base, "transcript": self.transcript, "audio": self.audio}
        if step == "sync":
            return {**base, "timing": self.timing, "raws": self.raws}
        raise ValueError(f"step must be 'features' or 'sync'; got {step!r}")

    def all(self) -> str:
        """One digest of every input of the dyad."""
        return hash_json(
            self.dyad_id, self.ids, self.raws, self.audio, self.transcript, self.timing, self.meta
        )


def hash_dyad(dyad) -> DyadHashes:
    """Hash every input of ``dyad`` once: each participant's recording (samples, channel
    names and types, sampling rate, bads, filters, annotations), microphone (samples and rate)
    and the transcript's word and utterance tables (all of them, and their timing alone).

    Parameters
    ----------
    dyad : hyperalign.Dyad
        The conversation.

    Returns
    -------
    hashes : DyadHashes
        Hex digests per input.
    """
    raws, audio = [], []
    for p in dyad.participants:
        raws.append(hash_raw(p.raw))
        if p.audio is None:
            audio.append(None)
        else:
            h = _h()
            h.update(f"{float(p.audio_sfreq)!r}|".encode())
            audio.append(hash_array(p.audio, h))
    tr = dyad.transcript
    words, utts = tr.words, tr.utterances
    tr_hash = hash_json(hash_frame(words), hash_frame(utts))
    timing = hash_json(
        hash_frame(words.drop(columns=[c for c in ("word",) if c in words])),
        hash_frame(utts.drop(columns=[c for c in ("text",) if c in utts])),
    )
    meta = {
        "roles": [getattr(p, "role", "") for p in dyad.participants],
        "duration": float(dyad.duration),
    }
    return DyadHashes(
        dyad_id=str(dyad.dyad_id),
        ids=[str(i) for i in dyad.ids],
        raws=raws,
        audio=audio,
        transcript=tr_hash,
        timing=timing,
        meta=meta,
    )
