"""The ``hyperalign`` command line."""

import subprocess
import sys

import pytest

from hyperalign.cli import build_parser, main


def test_info_runs(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "hyperalign" in out and "mne" in out


def test_console_script_help():
    out = subprocess.run(
        [sys.executable, "-m", "hyperalign.cli", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0
    for cmd in ("demo", "run", "validate", "transcribe", "info"):
        assert cmd in out.stdout


def test_missing_config_is_a_clear_error(tmp_path, capsys):
    code = main(["run", str(tmp_path / "nope.yaml")])
    assert code == 2
    assert "not found" in capsys.readouterr().err


def test_parser_requires_a_command():
    with pytest.raises(SystemExit):
        build_parser().parse_args([])
