"""The layer-sweep and brain-to-brain sections of docs/encoding.md run and find what the
simulation planted (the whole page also runs in tests/encoding/test_docs_tutorial.py)."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "encoding.md"


def test_layer_sweep_and_b2b_sections_run():
    import matplotlib

    matplotlib.use("Agg")
    text = DOC.read_text()
    start = text.index("## 5. Layer sweeps")
    blocks = re.findall(r"```python\n(.*?)```", text[start:], flags=re.S)
    assert len(blocks) == 2
    ns: dict = {}
    exec("import numpy as np", ns)
    for code in blocks:
        exec(compile(code, str(DOC), "exec"), ns)
    best = ns["best"].set_index("roi")["best_layer"].str.split(":").str[-1]
    assert best["temporal"] == "model:layer_1".split(":")[-1]
    assert best["central"] in ("layer_2", "layer_3", "layer_4")
    assert best["frontal"] in ("layer_4", "layer_5", "layer_6")
    assert ns["test"].p_value < 0.05
    peak = ns["maps"][0].peak(map_type="raw", direction="s2l")
    lat = ns["lat"]
    assert abs(lat.speaker_lag + 0.2) <= 0.1 + 1e-9 and abs(lat.listener_lag - 0.3) <= 0.1 + 1e-9
    assert abs(lat.latency - 0.5) <= 0.2 + 1e-9, peak
    import matplotlib.pyplot as plt

    plt.close("all")
