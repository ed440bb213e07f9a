"""Helpers of the pipeline and CLI robustness tests (test_pipeline_*.py, test_cli_*.py).

Kept out of conftest.py so that this branch adds no file another branch also creates.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "pipelines" / "semantic_vs_acoustic.yaml"

#: A small, fast study: 3 dyads x 30 s, 8 channels, no language-model layers, no speech
#: embeddings, no figures; still every step (features, synchrony with surrogates, stats, report).
SMALL = {
    "data.n_dyads": 3,
    "data.duration": 30.0,
    "data.n_channels": 8,
    "data.sfreq": 128.0,
    "data.bids_roundtrip": False,
    "features.layers": None,
    "features.speech_embeddings": False,
    "features.controls": [],
    "coupling.surrogates.n": 2,
    "coupling.lags": [0.0],
    "stats.n_permutations": 10,
    "report.figures": False,
}

#: SMALL (3 dyads; a test's copy of the 4-dyad BIDS demo) is below the 6 dyads the statistics
#: recommend for a random intercept per dyad, and they say so; the intercept's variance is then
#: estimated at 0 in most cells (singular fits, also a warning). Both warnings are tested in
#: tests/stats; these modules test caching, resuming and data errors, not the statistics, and
#: runs interrupted before the statistics emit nothing, so pytest.warns cannot wrap them.
SMALL_STUDY_WARNINGS = [
    pytest.mark.filterwarnings(r"ignore:only \d dyad groups:UserWarning"),
    pytest.mark.filterwarnings(r"ignore:singular fit in \d+ of \d+ cell:UserWarning"),
]

#: Output files whose bytes carry wall-clock times (compared without them).
TIMED = ("summary.json", "report.html", "manifest.json")


def small_overrides(**extra) -> dict:
    """:data:`SMALL` plus ``extra`` (``section__key=value`` -> ``section.key``)."""
    out = dict(SMALL)
    out.update({k.replace("__", "."): v for k, v in extra.items()})
    return out


def output_files(out: Path) -> dict[str, bytes]:
    """Every output file of a run (not the cache, the manifest or run.log), timings removed.

    ``run.log`` is the console's log of the last invocation (an interrupted one too): it holds
    wall-clock times and is not a result.
    """
    out = Path(out)
    files = {}
    for f in sorted(out.rglob("*")):
        rel = f.relative_to(out).as_posix()
        if (
            not f.is_file()
            or rel.startswith(("cache/", "previous/"))
            or rel
            in (
                "manifest.json",
                "run.log",
            )
        ):
            continue
        data = f.read_bytes()
        if rel == "summary.json":
            d = json.loads(data)
            d.pop("timings_s", None)
            data = json.dumps(d, sort_keys=True).encode()
        elif rel == "report.html":  # the "Run" section lists the step timings
            data = re.sub(
                rb"<h2( id='run')?>Run</h2>.*?(?=<p class='note'>Tables|</main>|</body>)",
                b"",
                data,
                flags=re.S,
            )
        files[rel] = data
    return files


def leftovers(out: Path) -> list[str]:
    """Temporary or stale things an interrupted run could leave."""
    out = Path(out)
    bad = [
        f.relative_to(out).as_posix()
        for f in out.rglob("*")
        if ".part" in f.name or f.name in (".staging", ".trash", ".hyperalign.lock")
    ]
    return sorted(bad)


class _ListHandler(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def hlog_messages():
    """Messages of the ``hyperalign`` logger during a test (it does not propagate); a test
    module makes it a fixture: ``hlog = pytest.fixture(hlog_messages)``."""
    logger = logging.getLogger("hyperalign")
    h = _ListHandler()
    logger.addHandler(h)
    try:
        yield h.messages
    finally:
        logger.removeHandler(h)
