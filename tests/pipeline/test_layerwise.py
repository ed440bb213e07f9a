"""The layer-wise encoding pipeline: config schema, a small end-to-end run that finds the
planted layers and lag pair, cached reruns and resume after an interruption."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from hyperalign.pipeline.config import ConfigError
from hyperalign.pipeline.layerwise import (
    is_layerwise_config,
    layerwise_summary,
    load_layerwise_config,
    run_layerwise_pipeline,
)
from hyperalign.pipeline.layerwise_config import LAYERWISE_CONFIG, LAYERWISE_SCHEMA

ROOT = Path(__file__).resolve().parents[2]
YAML = ROOT / "pipelines" / "layerwise_encoding.yaml"


@pytest.fixture(scope="module")
def small(planted_layerwise_config):
    """The planted config of these tests, figures off (tests/conftest.py); copy it before
    changing it."""
    cfg = planted_layerwise_config("lw_small", 200)
    cfg["report"] = {"figures": False}
    return cfg


# ----------------------------------------------------------------------------- config
def test_bundled_yaml_is_the_pipelines_file():
    assert LAYERWISE_CONFIG.read_text() == YAML.read_text()


def test_data_specs_schema_is_the_code_schema():
    import jsonschema

    spec = json.loads((ROOT / "data_specs" / "layerwise_pipeline.schema.json").read_text())
    assert spec == LAYERWISE_SCHEMA
    jsonschema.Draft202012Validator.check_schema(spec)
    assert (ROOT / "data_specs" / "layerwise_pipeline.md").is_file()


def test_shipped_yaml_loads_and_is_recognised(small):
    cfg = load_layerwise_config(YAML)
    assert cfg["features"]["text_model"]["name"] == "smollm2"
    assert cfg["features"]["speech_model"]["name"] == "whisper-tiny.en"
    assert cfg["coupling"]["enabled"] and cfg["execution"]["cache"]
    assert is_layerwise_config(YAML) and is_layerwise_config(small)
    assert not is_layerwise_config(ROOT / "pipelines" / "semantic_vs_acoustic.yaml")
    assert not is_layerwise_config(ROOT / "nowhere.yaml")


def test_full_analysis_is_one_line():
    """The YAML says what the full analysis uses; all 31 layers is one changed line."""
    text = YAML.read_text()
    assert "full: all" in text and "zada2024" in text
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("layers: [0, 4"))
    cfg = yaml.safe_load(text.replace(line, "    layers: all"))
    assert load_layerwise_config(cfg)["features"]["text_model"]["layers"] == "all"


@pytest.mark.parametrize(
    "user, match",
    [
        ({"encodng": {}}, r"unknown key 'encodng'; did you mean 'encoding'"),
        ({"encoding": {"lag": [0.1]}}, r"encoding: unknown key 'lag'; did you mean 'lags'"),
        ({"features": {"text_model": {"name": "smollm2", "layer": [1]}}},
         r"features.text_model: unknown key 'layer'"),
        ({"simulation": {"layer_hierarchy": [{"roi": "temporal", "layer": 1, "lag_s": 0.1}]}},
         r"unknown key 'lag_s'"),
        ({"encoding": {"cv": "five"}}, r"encoding.cv: got 'five' \(str\); give an integer"),
        ({"coupling": {"null_method": "shift"}}, r"coupling.null_method: got 'shift'; allowed"),
        ({"hierarchy": {"order": ["temporal", "cerebellum"]}},
         r"hierarchy.order: .* unknown or repeated ROIs \['cerebellum'\]"),
        ({"hierarchy": {"role": "production"}, "encoding": {"roles": ["comprehension"]}},
         r"hierarchy.role: 'production' is not among encoding.roles"),
        ({"coupling": {"layer": "layer_13"}}, r"coupling.layer: 'layer_13' is not among"),
        ({"encoding": {"noise_ceiling": "split_half"}}, r"split_half needs repeated stimuli"),
        ({"data": {"source": "bids", "root": "/x"}},
         r"'simulated' exists only for data.source: demo"),
        ({"encoding": {"lags": "zada2025"}}, r"encoding.lags: unknown preset 'zada2025'"),
        ({"encoding": {"lags": [0.1, 0.2], "window": None}}, r"encoding.window: null"),
        ({"features": {"text_model": {"name": "simulated"}},
          "simulation": {"layer_hierarchy": None, "model_coupling": None}},
         r"'simulated' needs planted layers"),
    ],
)  # fmt: skip
def test_config_errors_name_the_key(user, match, small):
    cfg = {**{k: v for k, v in small.items() if k in ("analysis", "name")}, **user}
    if "features" not in user and "source" in user.get("data", {}):
        cfg["features"] = {"text_model": {"name": "simulated"}}
    with pytest.raises(ConfigError, match=match):
        load_layerwise_config(cfg)


def test_every_problem_at_once_and_overrides():
    with pytest.raises(ConfigError, match=r"2 problems") as err:
        load_layerwise_config({"analysis": "layerwise_encoding", "name": "x",
                               "encoding": {"cv": 1, "inner_cv": "a"}})  # fmt: skip
    assert "encoding.cv" in str(err.value) and "encoding.inner_cv" in str(err.value)
    with pytest.raises(ConfigError, match=r"--set coupling.nul_method: unknown key"):
        load_layerwise_config(YAML, {"coupling.nul_method": "phase"})
    cfg = load_layerwise_config(YAML, {"coupling.n_permutations": "50", "encoding.cv": "4"})
    assert cfg["coupling"]["n_permutations"] == 50 and cfg["encoding"]["cv"] == 4


def test_user_mapping_replaces_default():
    """Settings are never merged silently into the defaults: a given list or mapping wins."""
    rows = [{"roi": "temporal", "layer": "layer_4"}]
    cfg = load_layerwise_config({"analysis": "layerwise_encoding", "name": "x",
                                 "simulation": {"layer_hierarchy": rows},
                                 "encoding": {"rois": {"left": ["T7"], "right": ["T8"]}},
                                 "hierarchy": {"order": ["left", "right"]}})  # fmt: skip
    assert cfg["simulation"]["layer_hierarchy"] == rows
    assert cfg["simulation"]["model_coupling"]  # other keys of the section: defaults
    assert cfg["encoding"]["rois"] == {"left": ["T7"], "right": ["T8"]}


# ----------------------------------------------------------------------------- runs
@pytest.fixture(scope="module")
def small_run(tmp_path_factory, small):
    out = tmp_path_factory.mktemp("lw") / "out"
    return run_layerwise_pipeline(small, out=out, verbose="error")


def test_small_run_outputs(small_run):
    res = small_run
    out = Path(res.out)
    for f in ("report.html", "methods.txt", "summary.json", "manifest.json"):
        assert (out / f).is_file(), f
    for t in ("sweep_scores", "best_layer", "hierarchy_test", "model_comparison",
              "coupling_maps", "coupling_group", "transfer_latency", "recovery", "exclusions",
              "planted_effects"):  # fmt: skip
        assert (out / "tables" / f"{t}.csv").is_file(), t
    sc = res.tables["sweep_scores"]
    assert set(sc["role"]) == {"production", "comprehension"}
    assert set(sc["model"]) == {"simulated", "static", "random", "shuffled"}
    assert sc["r_self"].notna().any()
    man = json.loads((out / "manifest.json").read_text())
    assert man["status"] == "complete" and man["cache"] == {"b2b:miss": 2, "sweep:miss": 2}
    html = (out / "report.html").read_text()
    assert html.index("class='answer'") < html.index("id='recovery'") < html.index("id='methods'")
    assert "Best simulated layer per ROI (comprehension)" in html
    methods = (out / "methods.txt").read_text()
    assert "2 dyads" in methods and "No noise ceiling" in methods and "Zada" in methods


def test_small_run_finds_the_planted_layers_and_lag_pair(small_run):
    rec = small_run.recovery
    t = rec.table
    layers = t[t["item"] == "best layer"]
    assert len(layers) == 2 and (layers["outcome"] == "hit").all(), t
    pair = t[t["item"] == "lag pair"]
    assert len(pair) == 1 and pair["outcome"].iloc[0] == "hit", t
    best = small_run.tables["best_layer"]
    tmp = best[(best["role"] == "comprehension") & (best["roi"] == "temporal")].iloc[0]
    assert str(tmp["best_layer"]).endswith("layer_1")
    lines = layerwise_summary(small_run)
    assert any("best simulated layer (comprehension)" in ln for ln in lines)


def test_cached_rerun_recomputes_nothing(small_run, monkeypatch, small):
    import hyperalign.pipeline._layerwise_steps as steps

    def boom(*a, **k):
        raise AssertionError("a cached rerun computed features")

    monkeypatch.setattr(steps, "dyad_features", boom)
    res = run_layerwise_pipeline(small, out=small_run.out, verbose="error")
    assert set(res.cache["status"]) == {"hit"} and len(res.cache) == 4
    pd.testing.assert_frame_equal(res.tables["best_layer"], small_run.tables["best_layer"])
    pd.testing.assert_frame_equal(res.tables["coupling_group"],
                                  small_run.tables["coupling_group"])  # fmt: skip


def test_changed_setting_recomputes_only_its_step(small_run, tmp_path, small):
    """A coupling setting changes the coupling entries only; the sweep is reused."""
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(small_run.out, out)
    cfg = json.loads(json.dumps(small))
    cfg["coupling"]["n_permutations"] = 4
    res = run_layerwise_pipeline(cfg, out=out, verbose="error")
    st = res.cache.set_index(["step", "dyad"])["status"]
    assert set(st.loc["sweep"]) == {"hit"} and set(st.loc["b2b"]) == {"miss"}
    assert (out / "previous").is_dir()  # the other config's outputs moved aside


def test_interrupted_run_resumes(tmp_path, monkeypatch, small):
    """Stopped after the first dyad: nothing half-written; the rerun reuses that dyad."""
    from hyperalign.pipeline import interrupt
    from hyperalign.pipeline.interrupt import RunInterrupted

    cfg = json.loads(json.dumps(small))
    cfg["coupling"]["enabled"] = False
    real = interrupt.checkpoint

    def stop(name):
        if name == "lw_sweep:demo-01":
            raise RunInterrupted()
        return real(name)

    import hyperalign.pipeline.layerwise as lw

    monkeypatch.setattr(lw, "checkpoint", stop)
    with pytest.raises(RunInterrupted) as err:
        run_layerwise_pipeline(cfg, out=tmp_path / "o", verbose="error")
    assert err.value.n_cached == 1 and err.value.n_total == 2
    assert not (tmp_path / "o" / "report.html").exists()
    assert not (tmp_path / "o" / ".staging").exists()
    monkeypatch.setattr(lw, "checkpoint", real)
    res = run_layerwise_pipeline(cfg, out=tmp_path / "o", verbose="error")
    st = res.cache.set_index("dyad")["status"]
    assert st["demo-01"] == "hit" and st["demo-02"] == "miss"


def test_bad_input_errors(tmp_path, small):
    cfg = json.loads(json.dumps(small))
    cfg["simulation"]["layer_hierarchy"] = [{"roi": "temporal", "layer": "layer_9"}]
    with pytest.raises(
        ValueError, match=r"simulation: .*unknown layer or feature space 'layer_9'"
    ):
        run_layerwise_pipeline(cfg, out=tmp_path / "a", verbose="error")
    cfg = json.loads(json.dumps(small))
    cfg["features"]["text_model"]["layers"] = [0, 9]
    cfg["coupling"]["enabled"] = False
    with pytest.raises(ValueError, match=r"layer 9 was asked but .* has 7 hidden states"):
        run_layerwise_pipeline(cfg, out=tmp_path / "b", verbose="error")


@pytest.mark.slow
def test_parallel_dyads_equal_serial(small_run, tmp_path, small):
    """execution.n_jobs=2 runs dyads in two worker processes; the tables are the serial ones."""
    cfg = json.loads(json.dumps(small))
    cfg["execution"] = {"n_jobs": 2, "cache": False}
    res = run_layerwise_pipeline(cfg, out=tmp_path / "par", verbose="error")
    pd.testing.assert_frame_equal(res.tables["sweep_scores"], small_run.tables["sweep_scores"])
    pd.testing.assert_frame_equal(res.tables["coupling_maps"], small_run.tables["coupling_maps"])


def test_parallel_simulation_is_load_demo():
    """The demo study simulated one dyad per worker equals load_demo's (seeds and ids)."""
    import numpy as np

    from hyperalign.datasets import load_demo
    from hyperalign.pipeline._layerwise_steps import _simulate_parallel

    d = {"n_dyads": 2, "duration": 20.0, "random_state": 7}
    kw = {"n_channels": 4, "sfreq": 64.0, "audio": False,
          "layer_hierarchy": [{"roi": "frontal", "layer": "layer_2"}]}  # fmt: skip
    a, ta = load_demo(2, 20.0, 7, verbose="error", **kw)
    b, tb = _simulate_parallel(d, kw, 2)
    for x, y in zip(a, b):
        assert x.dyad_id == y.dyad_id
        pd.testing.assert_frame_equal(x.transcript.words, y.transcript.words)
        for p, q in zip(x.participants, y.participants):
            np.testing.assert_array_equal(p.raw.get_data(), q.raw.get_data())
    pd.testing.assert_frame_equal(ta.effects.astype(str), tb.effects.astype(str))
