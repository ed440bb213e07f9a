"""The documentation site builds offline with warnings as errors (``make docs``)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_docs_build_warnings_as_errors(tmp_path):
    pytest.importorskip("sphinx", reason="sphinx is in the 'docs' extra that make test installs")
    pytest.importorskip("pydata_sphinx_theme", reason="the docs extra is not installed")
    # built in place (generated pages are git-ignored), output and doctrees in tmp_path
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "MPLBACKEND": "Agg"}
    html = tmp_path / "html"
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]
    cmd += ["-d", str(tmp_path / "doctrees"), str(ROOT / "docs"), str(html)]
    proc = subprocess.run(
        cmd,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-5000:]
    assert (html / "index.html").exists()
    assert (html / "auto_examples" / "index.html").exists()
    api = (html / "api").glob("*.html")
    assert len(list(api)) >= 8
