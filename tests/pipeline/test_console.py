"""The run console: progress per stage, warnings counted once, run.log, quiet/verbose."""

from __future__ import annotations

import io
import logging
import warnings

import pytest

from hyperalign.pipeline.console import (
    RunConsole,
    WarningDigest,
    format_seconds,
    mark,
    run_summary,
    stage,
    track,
)
from hyperalign.utils import ExclusionLog, logger


@pytest.fixture
def sink():
    """A stream handler on the package logger, as the default one (what a user would see)."""
    buf = io.StringIO()
    h = logging.StreamHandler(buf)
    logger.addHandler(h)
    old = logger.level
    logger.setLevel(logging.WARNING)
    yield buf
    logger.removeHandler(h)
    logger.setLevel(old)


class _Dyad:
    def __init__(self, i):
        self.dyad_id = f"d{i:02d}"


def _step(args):
    dyad, n_short = args
    log = ExclusionLog()
    log.add("coupling", "epoch", dyad.dyad_id, f"{n_short} of 95 utterances shorter than 2 s")
    log.add("features.alignment", "utterance", 0, "no previous turn")
    return n_short


def test_digest_groups_and_ranges():
    d = WarningDigest()
    for i, n in enumerate([18, 25, 21]):
        d.add(f"coupling: short epochs flagged: {n} of 95 utterances", item=f"d{i}")
    d.add("coupling: short epochs flagged: 20 of 95 utterances", item="d0")
    d.add("another thing", item=None)
    lines = d.lines(n_items=8)
    assert len(d) == 5 and len(lines) == 2
    assert lines[0] == (
        "coupling: short epochs flagged: 18-25 of 95 utterances  [4 times, in 3 of 8 dyads]"
    )
    assert lines[1] == "another thing"


def test_digest_keeps_names_with_digits():
    d = WarningDigest()
    d.add("channel Fp1 flat in sub-01", item="a")
    d.add("channel Fp1 flat in sub-02", item="b")
    # digits inside names are not numbers: two kinds, each shown as written
    assert len(d.groups) == 2


def test_console_collects_and_writes_log(tmp_path, sink):
    err = io.StringIO()
    with RunConsole(tmp_path, mode="normal", stream=err) as con:
        mark("data")
        items = [(_Dyad(i), 18 + i) for i in range(8)]
        mark("synchrony", len(items))
        out = [track(_step, lambda a: a[0].dyad_id)(a) for a in items]
        mark("stats")
    assert out == list(range(18, 26))
    assert sink.getvalue() == ""  # nothing printed as it came
    text = err.getvalue()
    assert "synchrony    8/8 dyads" in text and "done" in text
    assert "warnings: 16 in 2 kind(s) (all in run.log):" in text
    assert "excluded 1 epoch(s) (<dyad>)" in text  # the dyad named once
    assert "18-25 of 95 utterances shorter than 2 s" in text
    assert "[8 times, in 8 of 8 dyads]" in text
    log = (tmp_path / "run.log").read_text()
    assert log.count("WARNING coupling: excluded 1 epoch(s)") == 8  # the full list
    assert "# warnings, grouped" in log and "# stages: data" in log
    assert set(con.stages) == {"data", "synchrony", "stats"}
    assert all(v["wall_s"] >= 0 and v["cpu_s"] >= 0 for v in con.stages.values())


def test_console_restores_logging(tmp_path, sink):
    handlers = list(logger.handlers)
    show = warnings.showwarning
    with RunConsole(tmp_path, stream=io.StringIO()):
        pass
    assert logger.handlers == handlers and warnings.showwarning is show
    logger.warning("after the run")
    assert "after the run" in sink.getvalue()


# the console shows the run's Python warnings in its digest (the behaviour tested here), so
# under the suite's filterwarnings = error they must be shown, not raised
@pytest.mark.filterwarnings("default::UserWarning")
def test_python_warnings_without_source_lines(tmp_path, sink):
    err = io.StringIO()
    with RunConsole(tmp_path, stream=err):
        for _ in range(3):
            warnings.warn("singular fit: random-intercept variance 0", UserWarning, stacklevel=1)
    text = err.getvalue()
    assert "  - UserWarning: singular fit: random-intercept variance 0" in text
    assert "warnings.warn(" not in text and ".py:" not in text
    assert "warning raised at" in (tmp_path / "run.log").read_text()  # where: in the log


def test_quiet_prints_nothing_but_errors(tmp_path, sink):
    err = io.StringIO()
    with RunConsole(tmp_path, mode="quiet", stream=err):
        mark("features", 2)
        track(_step, lambda a: a[0].dyad_id)((_Dyad(1), 3))
        logger.error("something broke")
    assert err.getvalue() == ""
    assert sink.getvalue() == "something broke\n"  # errors still reach the terminal


def test_verbose_prints_everything(tmp_path, sink):
    err = io.StringIO()
    with RunConsole(tmp_path, mode="verbose", stream=err):
        track(_step, lambda a: a[0].dyad_id)((_Dyad(1), 3))
    assert sink.getvalue().count("excluded") == 2
    assert "warnings:" not in err.getvalue()  # nothing collected away, no digest


def test_hooks_without_console_do_nothing():
    with stage("features", 3):
        mark("stats")
        assert track(lambda a: a + 1)(1) == 2


def test_failed_stage_and_bad_mode(tmp_path):
    err = io.StringIO()
    with pytest.raises(RuntimeError, match="boom"):
        with RunConsole(tmp_path, stream=err) as con:
            with stage("coupling", 4):
                raise RuntimeError("boom")
    assert "coupling" in con.stages and "done" not in err.getvalue()
    assert (tmp_path / "run.log").exists()
    with pytest.raises(ValueError, match="mode"):
        RunConsole(tmp_path, mode="loud")


def test_format_seconds():
    assert format_seconds(3.25) == "3.2 s"
    assert format_seconds(42.4) == "42 s"
    assert format_seconds(185) == "3 min 05 s"


def test_run_summary_lines(tmp_path):
    import pandas as pd

    class _Stats:
        params = {"alpha": 0.05}
        table = pd.DataFrame(
            {"band": ["theta", "alpha"], "roi": ["frontal"] * 2, "lag": [0.1, 0.1],
             "p_corrected": [0.001, 0.4]}
        )  # fmt: skip

    class _Res:
        out = tmp_path
        report = tmp_path / "report.html"
        n_dyads_analysed, n_dyads_listed = 8, 8
        stats = _Stats()
        recovery = None
        timings = {"data": 1.0, "total": 2.0}

    with RunConsole(tmp_path, stream=io.StringIO()) as con:
        mark("data")
    lines = run_summary(_Res(), con)
    assert lines[0] == "hyperalign demo: 8 of 8 dyads analysed"
    assert "in 1 of 2 cells (corrected p < 0.05): theta frontal 0.1" in lines[1]
    assert any(ln.strip().startswith("time:") and "data" in ln for ln in lines)
    assert any("run.log" in ln and "exclusions.csv" in ln for ln in lines)


def test_digest_groups_cells_and_names():
    d = WarningDigest()
    for band in ("theta", "alpha"):
        for lag in (0.0, 0.1):
            d.add(f"excluded 3 row(s) ({{'band': '{band}', 'lag': {lag}}}): missing values")
    for col in ("acsim", "acsim_f0", "sem_align", "x"):
        d.add(f"72 row(s) with NaN '{col}'")
    d.add("column 'a' is constant")
    d.add("column 'b' is constant")
    assert d.lines() == [
        "72 row(s) with NaN 'acsim', 'acsim_f0', … (4 different)  [4 times]",
        "excluded 3 row(s) ({… 4 different}): missing values  [4 times]",
        "column 'a', 'b' is constant  [2 times]",
    ]


def test_digest_one_of_several_dyads():
    d = WarningDigest()
    d.add("band 'theta': 1 epoch(s) hold fewer than 1 cycle", item="d1")
    assert d.lines(4) == ["band 'theta': 1 epoch(s) hold fewer than 1 cycle  [in 1 of 4 dyads]"]
    assert d.lines() == ["band 'theta': 1 epoch(s) hold fewer than 1 cycle  [in 1 dyad]"]


def _warn_in_worker(x):
    from hyperalign.utils import logger

    logger.warning("worker warning for %s", x)
    return x * 2


def test_worker_warnings_are_relayed_to_the_console():
    """A joblib worker has no console: track() keeps its warnings and unrelay() logs them in
    the parent, so the console counts them once per kind (not printed by each worker)."""
    from joblib import Parallel, delayed

    from hyperalign.pipeline.console import track, unrelay

    f = track(_warn_in_worker, lambda x: f"d{x}")
    assert f(3) == 6  # in this process: the plain value
    outs = Parallel(n_jobs=2)(delayed(f)(x) for x in (1, 2))
    assert [type(o).__name__ for o in outs] == ["_Relayed", "_Relayed"]
    assert outs[0].records[0][1] == "worker warning for 1"
    seen = []

    import logging

    from hyperalign.utils import logger

    class _H(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    h = _H(logging.WARNING)
    logger.addHandler(h)
    try:
        assert unrelay(outs, ["d1", "d2"]) == [2, 4]
    finally:
        logger.removeHandler(h)
    assert seen == ["worker warning for 1", "worker warning for 2"]
