"""The command line: `hyperalign run` recognises a layer-wise pipeline, and `hyperalign demo`
runs it after the semantic-vs-acoustic pipeline into <out>/layerwise, linked from the main
report."""

from __future__ import annotations

from pathlib import Path

import yaml

from hyperalign import cli

TINY = {
    "analysis": "layerwise_encoding",
    "name": "lw_cli",
    "data": {"n_dyads": 2, "duration": 45.0, "n_channels": 8, "sfreq": 128.0, "random_state": 5},
    "simulation": {
        "layer_source": "simulated",
        "layer_hierarchy": [{"roi": "temporal", "layer": "layer_1", "lag": 0.25, "size": 2.0}],
        "model_coupling": None,
    },
    "features": {"text_model": {"name": "simulated", "layers": "all"}, "speech_model": None,
                 "controls": ["random"]},
    "encoding": {"lags": [0.0, 0.25, 0.5], "window": 0.2, "cv": 3, "inner_cv": 3},
    "hierarchy": {"order": ["temporal", "occipital"], "n_boot": 50, "n_permutations": 50},
    "coupling": {"enabled": False},
    "report": {"figures": False},
    "execution": {"n_jobs": 1},
}  # fmt: skip


def test_run_recognises_a_layerwise_pipeline(tmp_path, capsys):
    f = tmp_path / "lw.yaml"
    f.write_text(yaml.safe_dump(TINY))
    rc = cli.main(["--quiet", "run", str(f), "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "hyperalign run: 2 of 2 dyads analysed" in out
    assert "best simulated layer (comprehension): " in out and "temporal layer_" in out
    assert (tmp_path / "out" / "report.html").is_file()
    assert (tmp_path / "out" / "run.log").is_file()


def test_run_reports_a_bad_layerwise_key(tmp_path, capsys):
    f = tmp_path / "lw.yaml"
    f.write_text(yaml.safe_dump({**TINY, "encoding": {"lag": [0.1]}}))
    rc = cli.main(["run", str(f), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 2 and "encoding: unknown key 'lag'; did you mean 'lags'" in err


def test_demo_runs_layerwise_after_main(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(
        cli,
        "_run_with_console",
        lambda cmd, config, out, ov, args: calls.append((config, out, ov)) or 0,
    )
    assert cli.main(["demo", "--quick", "--out", str(tmp_path / "d")]) == 0
    (c1, o1, ov1), (c2, o2, ov2) = calls
    assert Path(c1).name == "semantic_vs_acoustic.yaml"
    assert ov1["report.links"] == [{"title": "Layer-wise encoding and model-based brain-to-brain "
                                    "coupling", "href": "layerwise/report.html"}]  # fmt: skip
    assert Path(c2).name == "layerwise_encoding.yaml" and Path(o2) == tmp_path / "d" / "layerwise"
    assert ov2["features.embedding_cache"] == str(tmp_path / "d" / "cache" / "embeddings")
    assert ov2["data.n_dyads"] == 4 and ov2["data.duration"] == 120.0  # the main run's dyads
    calls.clear()
    assert cli.main(["demo", "--no-layerwise", "--out", str(tmp_path / "e")]) == 0
    assert len(calls) == 1 and "report.links" not in calls[0][2]


def test_main_report_links_the_layerwise_report():
    from hyperalign.pipeline import load_config

    link = [{"title": "Layer-wise", "href": "layerwise/report.html"}]
    cfg = load_config(cli._bundled_pipeline("semantic_vs_acoustic.yaml"), {"report.links": link})
    assert cfg["report"]["links"] == link
