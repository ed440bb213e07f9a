"""Overlapping speech is not cross-talk; quiet bleed of the partner's voice is."""

import numpy as np
import pandas as pd

from hyperalign.transcribe.asr import detect_crosstalk


def _mic(rng, sfreq, spans, gains):
    x = rng.standard_normal(int(4 * sfreq)) * 1e-4
    for (a, b), g in zip(spans, gains):
        x[int(a * sfreq) : int(b * sfreq)] += g * rng.standard_normal(int((b - a) * sfreq))
    return x


def test_overlap_kept_bleed_removed():
    rng = np.random.default_rng(0)
    sf = 16000.0
    # A speaks 0-1 s (a loud word) and 2-2.5 s (a quieter word, 7 dB down) while B talks
    # over it at a normal level: overlapping speech, not cross-talk
    a = _mic(rng, sf, [(0, 1), (2, 2.5)], [1.0, 10 ** (-7 / 20)])
    b = _mic(rng, sf, [(2, 2.5), (3, 3.5)], [1.0, 1.0])
    # B's 3-3.5 s word bleeds into A's mic 20 dB down and A's ASR picks it up
    a[int(3 * sf) : int(3.5 * sf)] += 0.1 * b[int(3 * sf) : int(3.5 * sf)]
    words = {
        "A": pd.DataFrame(
            {"onset": [0.0, 2.0, 3.0], "offset": [1.0, 2.5, 3.5], "word": ["hello", "so", "right"]}
        ),  # fmt: skip
        "B": pd.DataFrame({"onset": [2.0, 3.0], "offset": [2.5, 3.5], "word": ["well", "okay"]}),
    }
    out = detect_crosstalk(words, {"A": a, "B": b}, sf)
    flagged = set(zip(out["speaker"], out["word"]))
    assert ("A", "right") in flagged  # quiet bleed of B's word
    assert ("A", "so") not in flagged  # A's own (quieter) word during overlap
    assert ("B", "well") not in flagged
