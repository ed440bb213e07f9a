"""Pipeline config schema, overrides, step cache and executors."""

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from hyperalign.pipeline import (
    StepCache,
    auto_rois,
    config_hash,
    load_config,
    map_items,
)
from hyperalign.pipeline.config import DEFAULT_CONFIG

ROOT = Path(__file__).resolve().parents[2]


def test_bundled_config_matches_pipelines_folder():
    assert (
        DEFAULT_CONFIG.read_text()
        == (ROOT / "pipelines" / "semantic_vs_acoustic.yaml").read_text()
    )


def test_every_pipeline_yaml_validates():
    files = sorted((ROOT / "pipelines").glob("*.yaml"))
    assert files
    from hyperalign.pipeline.layerwise import is_layerwise_config, load_layerwise_config

    for f in files:  # each pipeline with its own loader (the file says which it is)
        (load_layerwise_config if is_layerwise_config(f) else load_config)(f)


def test_overrides_and_defaults(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text(
        yaml.safe_dump(
            {"name": "mine", "coupling": {"metrics": ["wpli"]}, "stats": {"metric": "wpli"}}
        )
    )
    cfg = load_config(f, {"stats.n_permutations": "50", "data.duration": 60})
    assert cfg["coupling"]["metrics"] == ["wpli"]
    assert cfg["coupling"]["bands"]["theta"] == [4.0, 8.0]  # default kept
    assert cfg["stats"]["n_permutations"] == 50
    assert cfg["data"]["duration"] == 60


def test_invalid_config_lists_every_problem(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text(
        yaml.safe_dump({"name": "x", "coupling": {"lags": [], "epochs": "words"}, "bogus": 1})
    )
    with pytest.raises(ValueError) as err:
        load_config(f)
    msg = str(err.value)
    assert "coupling.epochs" in msg and "coupling.lags" in msg and "bogus" in msg
    with pytest.raises(FileNotFoundError, match="not found"):
        load_config(tmp_path / "missing.yaml")


def test_step_cache_hits_misses_and_corruption(tmp_path):
    cache = StepCache(tmp_path)
    calls = []

    def compute():
        calls.append(1)
        return pd.DataFrame({"a": [1, 2]})

    a = cache.get_or_compute("features", "d1", "k1", compute)
    b = cache.get_or_compute("features", "d1", "k1", compute)
    assert len(calls) == 1 and cache.hits == 1
    pd.testing.assert_frame_equal(a, b)
    cache.get_or_compute("features", "d1", "k2", compute)  # new key -> recompute
    assert len(calls) == 2
    cache.get_or_compute("features", "d1", "k1", compute)  # both keys kept side by side
    assert len(calls) == 2
    entry, side = cache.paths("features", "d1", "k2")
    entry.write_bytes(b"garbage")  # corrupt entry
    c = cache.get_or_compute("features", "d1", "k2", compute)
    assert len(calls) == 3
    pd.testing.assert_frame_equal(a, c)
    key = json.loads(side.read_text())
    assert key["key"] == "k2" and len(key["sha256"]) == 64
    assert not list((tmp_path / "features").rglob("*.part*"))  # atomic: no leftovers


def test_config_hash_is_stable():
    assert config_hash({"b": 1, "a": 2}) == config_hash({"a": 2, "b": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})


def _square(x):
    return x * x


def test_map_items_joblib():
    assert map_items(_square, [1, 2, 3]) == [1, 4, 9]
    assert map_items(_square, [1, 2, 3], n_jobs=2) == [1, 4, 9]
    with pytest.raises(ValueError, match="executor must be"):
        map_items(_square, [1], executor="spark")


def test_map_items_dask_local_cluster():
    pytest.importorskip("dask.distributed")
    assert map_items(_square, [1, 2, 3], n_jobs=2, executor="dask") == [1, 4, 9]


def test_auto_rois():
    rois = auto_rois(["Fp1", "Fz", "FC1", "Cz", "T7", "TP9", "CP1", "Pz", "O1", "EOG"])
    assert rois["frontal"] == ["Fp1", "Fz"]
    assert rois["central"] == ["FC1", "Cz"]
    assert rois["temporal"] == ["T7", "TP9"]
    assert rois["parietal"] == ["CP1", "Pz", "O1"]


def test_data_specs_pipeline_schema_is_the_code_schema():
    from hyperalign.pipeline import SCHEMA

    assert json.loads((ROOT / "data_specs" / "pipeline.schema.json").read_text()) == SCHEMA


def test_step_cache_fmt_kind_alias(tmp_path):
    """``StepCache``'s storage format is ``fmt=`` (was ``kind=``, a deprecated alias)."""
    cache = StepCache(tmp_path)
    a = cache.run("s", "d1", "k", lambda: {"x": 1}, fmt="json")
    assert a.status == "miss" and cache.paths("s", "d1", "k", fmt="json")[0].suffix == ".json"
    with pytest.warns(FutureWarning, match=r"StepCache\.run\(kind=\.\.\.\).*use fmt="):
        b = cache.run("s", "d1", "k", lambda: {"x": 2}, kind="json")
    assert b.status == "hit" and b.value == {"x": 1}
    with pytest.warns(FutureWarning, match=r"StepCache\.has\(kind="):
        assert cache.has("s", "d1", "k", kind="json")
