"""Fixtures shared by the coupling tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hyperalign as ha


def _words(n_utt: int, duration: float, ids, rng) -> pd.DataFrame:
    """Alternating utterances of 2.5-5 s with 0.6-1 s gaps, 4 words each."""
    rows, t, k = [], 0.5, 0
    while k < n_utt:
        d = rng.uniform(2.5, 5.0)
        if t + d > duration - 0.5:
            break
        edges = np.linspace(t, t + d, 5)
        for w in range(4):
            rows.append(
                {"onset": edges[w], "offset": edges[w + 1] - 0.05, "word": f"w{k}_{w}",
                 "speaker": ids[k % 2], "confidence": 1.0}
            )  # fmt: skip
        t += d + rng.uniform(0.6, 1.0)
        k += 1
    return pd.DataFrame(rows)


def make_planted_dyad(
    *,
    duration: float = 90.0,
    sfreq: float = 100.0,
    n_channels: int = 6,
    coupled=(0, 1, 2),
    lag: float = 0.2,
    amp: float = 1.0,
    freq=(5.0, 7.0),
    seed: int = 0,
    dyad_id: str = "planted",
    ids=("A", "B"),
):
    """Small dyad with a shared narrow-band source in ``coupled`` channels, listener lagged."""
    from scipy.signal import butter, sosfiltfilt

    rng = np.random.default_rng(seed)
    n = int(duration * sfreq)
    x = rng.standard_normal((2, n_channels, n))
    sos = butter(4, freq, btype="bandpass", fs=sfreq, output="sos")
    s = sosfiltfilt(sos, rng.standard_normal(n + 200))
    s /= s.std()
    k = int(round(lag * sfreq))
    words = _words(1000, duration, ids, rng)
    tr = ha.Transcript(words, speakers=list(ids))
    for _, u in tr.utterances.iterrows():
        a, b = int(u["onset"] * sfreq), int(u["offset"] * sfreq)
        spk = 0 if u["speaker"] == ids[0] else 1
        seg = s[100 + a : 100 + b]
        lagged = s[100 + a - k : 100 + b - k]
        x[spk, list(coupled), a:b] += amp * seg
        x[1 - spk, list(coupled), a:b] += amp * lagged
    names = [f"ch{i}" for i in range(n_channels)]
    raws = [ha.make_participant_raw(x[p] * 1e-6, sfreq, names) for p in range(2)]
    parts = [ha.Participant(ids[p], raws[p]) for p in range(2)]
    return ha.Dyad(parts, tr, dyad_id=dyad_id)


@pytest.fixture(scope="session", name="make_planted_dyad")
def make_planted_dyad_fixture():
    """The :func:`make_planted_dyad` factory (a dyad with a planted theta coupling)."""
    return make_planted_dyad
