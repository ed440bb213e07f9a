"""The encoding tutorial (docs/encoding.md) runs: its Python blocks in order, one namespace."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "encoding.md"


def test_tutorial_runs():
    import matplotlib

    matplotlib.use("Agg")
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 4
    ns: dict = {}
    for code in blocks:
        exec(compile(code, str(DOC), "exec"), ns)
    roi = ns["roi"]
    assert abs(ns["prod"].peak_lag(target=roi) + 0.2) <= 0.025 + 1e-9
    assert abs(ns["comp"].peak_lag(target=roi) - 0.3) <= 0.025 + 1e-9
    lag = float(ns["trf"].dataset["coef"].mean(("feature", "target")).idxmax("lag"))
    assert abs(lag - 0.3) <= 0.02
    import matplotlib.pyplot as plt

    plt.close("all")
