"""Command-line errors a user can act on: one line naming the problem, the value and the fix,
a non-zero exit status, no traceback (``--debug`` shows it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hyperalign.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ok_yaml(tmp_path) -> Path:
    f = tmp_path / "ok.yaml"
    f.write_text("name: x\n")
    return f


def _err(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


CASES = [
    # (argv after 'run <config>', expected exit status, fragments of the message)
    (["--set", "stats.alpha"], 2, ["--set 'stats.alpha': expected section.key=value"]),
    (["--set", "=3"], 2, ["expected section.key=value"]),
    (["--set", "stats.alpha=0.1", "--set", "stats.alpha=0.2"], 2, ["given twice"]),
    (["--set", "stats.n_permutaions=3"], 2, ["unknown key 'n_permutaions'", "did you mean"]),
    (["--set", "stats.n_permutations=1.5"], 2, ["stats.n_permutations: got 1.5", "integer"]),
    (["--set", "stats.n_permutations=true"], 2, ["stats.n_permutations: got True"]),
    (["--set", "coupling.bands={theta: [8, 4]}"], 2, ["fmin must be below fmax"]),
    (["--set", "coupling.bands=[4, 8"], 2, ["not a valid YAML value"]),
    (["--set", "data.n_dyads=1"], 2, ["data.n_dyads: 1", "at least 3"]),
    (["--set", "execution.n_jobs=0"], 2, ["execution.n_jobs: 0"]),
    (["--set", "data.source=bids"], 2, ["data.root: empty"]),
]


@pytest.mark.parametrize("argv, code, fragments", CASES)
def test_run_option_errors(ok_yaml, capsys, argv, code, fragments):
    assert main(["run", str(ok_yaml), *argv]) == code
    err = _err(capsys)
    assert err.startswith("hyperalign run: error: ")
    for frag in fragments:
        assert frag in err, (frag, err)


def test_missing_config_file(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.yaml")]) == 2
    err = _err(capsys)
    assert "pipeline config" in err and "nope.yaml' not found; give the path of a YAML" in err


def test_config_is_a_folder(tmp_path, capsys):
    assert main(["run", str(tmp_path)]) == 2
    assert "is a folder, not a file" in _err(capsys)


def test_yaml_syntax_error(tmp_path, capsys):
    f = tmp_path / "p.yaml"
    f.write_text("name: x\nstats:\n\tn_permutations: 10\n")
    assert main(["run", str(f)]) == 2
    err = _err(capsys)
    assert "YAML syntax error" in err and "line 3" in err and "a tab for indentation" in err


def test_out_under_a_file(ok_yaml, tmp_path, capsys):
    f = tmp_path / "file.txt"
    f.write_text("x")
    assert main(["run", str(ok_yaml), "--out", str(f / "out")]) == 2
    err = _err(capsys)
    assert "which is a file, not a folder; choose another output folder (--out)" in err


def test_out_not_writable(ok_yaml, tmp_path, capsys, monkeypatch):
    def denied(self, data):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "write_bytes", denied)
    assert main(["run", str(ok_yaml), "--out", str(tmp_path / "ro")]) == 2
    err = _err(capsys)
    assert "cannot write there (Permission denied); choose a writable output folder" in err


def test_out_folder_in_use(ok_yaml, tmp_path, capsys):
    out = tmp_path / "busy"
    out.mkdir()
    (out / ".hyperalign.lock").write_text(json.dumps({"pid": os.getpid(), "host": os.uname()[1]}))
    assert main(["run", str(ok_yaml), "--out", str(out), "--set", "data.n_dyads=3"]) == 2
    assert "another hyperalign run (pid" in _err(capsys)


def test_demo_accepts_and_checks_set(capsys):
    assert main(["demo", "--set", "stats.groups=dyda"]) == 2
    assert "stats.groups: 'dyda'" in _err(capsys)


def test_unexpected_error_is_one_line_and_debug_shows_the_traceback(ok_yaml, capsys, monkeypatch):
    import hyperalign.pipeline as hp

    def bug(*a, **k):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(hp, "run_pipeline", bug)
    assert main(["run", str(ok_yaml)]) == 1
    err = _err(capsys)
    assert "internal error: ZeroDivisionError: division by zero (rerun with --debug" in err
    with pytest.raises(ZeroDivisionError):
        main(["--debug", "run", str(ok_yaml)])


def test_interrupt_prints_one_line_with_the_exit_code(ok_yaml, capsys, monkeypatch):
    import signal

    import hyperalign.pipeline as hp
    from hyperalign.pipeline import RunInterrupted

    def stop(*a, **k):
        raise RunInterrupted(signal.SIGTERM, n_cached=2, n_total=5)

    monkeypatch.setattr(hp, "run_pipeline", stop)
    assert main(["run", str(ok_yaml)]) == 143
    assert _err(capsys).strip() == "interrupted; 2 of 5 dyads cached; rerun to resume"

    def ctrl_c(*a, **k):
        raise RunInterrupted(signal.SIGINT)

    monkeypatch.setattr(hp, "run_pipeline", ctrl_c)
    assert main(["run", str(ok_yaml)]) == 130


def test_console_errors_have_no_traceback(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("name: [x\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-m", "hyperalign.cli", "run", str(f)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert out.stderr.startswith("hyperalign run: error: unreadable pipeline config")


def test_debug_after_the_command_shows_the_traceback(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        main(["run", str(tmp_path / "nope.yaml"), "--debug"])
