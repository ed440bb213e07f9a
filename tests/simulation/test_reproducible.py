"""A fixed seed gives the same dialogue, transcript, data and truth as before the refactor.

The hashes were computed on main before ``make_dialogue`` was split into helpers and before
``simulate_conversation`` took a config object; the refactors are bit-identical. Floats are
rounded (to 1e-9 of their unit in tables, 1e-12 V in the EEG, 1e-9 in the audio) before
hashing, so that the test survives a BLAS that rounds its last bit differently.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from hyperalign.simulation import simulate_conversation
from hyperalign.simulation._dialogue import make_dialogue

#: computed on main at 95b9aff (before the refactors), with the functions below
DIALOGUE = {
    "turns": "2ed826aa96087e6c",
    "backchannels": "5869ae607ee1bb16",
    "words": "7c678b199505ace2",
    "baselines": "48d5b8fa139f1696",
    "wpm": "168.12989819070106",
}
CONVERSATION = {
    "words": "9e0d34683d6e3a06",
    "utterances": "087e6fce861a10ab",
    "truth_utt": "5bfe41697b9aeb47",
    "truth_eff": "08fe3f10b9a043a3",
    "raw_sim-01-P1": "45617799abec64f2",
    "audio_sim-01-P1": "205461cde490706d",
    "raw_sim-01-P2": "2d921194dfcd5b9e",
    "audio_sim-01-P2": "c164cb0444aea03b",
    "meta": "1e1e31758600da71",
}
DIALOGUE_PARAMS = {
    "speaker_f0_spread": 0.7,
    "topic_stay": 0.65,
    "confound": 0.5,
    "prosody_step": 1.0,
    "overlap_prob": 0.15,
    "backchannel_prob": 0.35,
    "wpm": (155.0, 170.0),
}


def _hash_df(df: pd.DataFrame) -> str:
    df = df.copy()
    for c in df.columns:
        if df[c].dtype.kind == "f":
            df[c] = np.round(df[c].to_numpy(float), 9)
    raw = pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes()
    return hashlib.sha256(raw).hexdigest()[:16]


def _hash_array(x, scale: float) -> str:
    x = np.round(np.asarray(x, float) / scale, 6)
    return hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest()[:16]


def _conversation_hashes(dyad, truth) -> dict:
    eff = truth.effects
    out = {
        "words": _hash_df(dyad.transcript.words),
        "utterances": _hash_df(dyad.transcript.utterances),
        "truth_utt": _hash_df(truth.utterances),
        "truth_eff": _hash_df(eff.astype({c: str for c in eff.columns if eff[c].dtype == object})),
    }
    for pid in dyad.ids:
        out[f"raw_{pid}"] = _hash_array(dyad[pid].raw.get_data(), 1e-6)
        out[f"audio_{pid}"] = _hash_array(dyad[pid].audio, 1e-3)
    meta = json.dumps(dyad.meta["simulation"], sort_keys=True, default=str)
    out["meta"] = hashlib.sha256(meta.encode()).hexdigest()[:16]
    return out


def test_make_dialogue_is_unchanged():
    d = make_dialogue(np.random.default_rng(3), 120.0, DIALOGUE_PARAMS)
    got = {k: _hash_df(d[k]) for k in ("turns", "backchannels", "words")}
    got["baselines"] = _hash_array(d["baselines"], 1)
    got["wpm"] = repr(d["wpm"])
    assert got == DIALOGUE


@pytest.fixture(scope="module")
def conversation():
    return simulate_conversation(
        duration=20, n_channels=4, audio_sfreq=4000, random_state=11, verbose="error"
    )


def test_simulate_conversation_is_unchanged(conversation):
    assert _conversation_hashes(*conversation) == CONVERSATION


def test_config_gives_the_same_conversation(conversation):
    import inspect

    from hyperalign.simulation import ConversationConfig

    cfg = ConversationConfig(duration=20, n_channels=4, audio_sfreq=4000)
    dyad, truth = simulate_conversation(config=cfg, random_state=11, verbose="error")
    assert _conversation_hashes(dyad, truth) == CONVERSATION
    assert dyad.meta == conversation[0].meta
    # the config's defaults are the function's
    sig = inspect.signature(simulate_conversation).parameters
    for name, value in ConversationConfig().to_dict().items():
        assert sig[name].default == value, name
    assert set(sig) - set(ConversationConfig().to_dict()) == {
        "config",
        "random_state",
        "dyad_id",
        "verbose",
    }


def test_config_keywords_override_and_errors():
    from hyperalign.simulation import ConversationConfig

    cfg = ConversationConfig(duration=12, n_channels=2, audio=False, semantic_coupling=0.3)
    dyad, _ = simulate_conversation(config=cfg, n_channels=3, random_state=0, verbose="error")
    sim = dyad.meta["simulation"]
    assert (sim["duration"], sim["n_channels"], sim["semantic_coupling"]) == (12, 3, 0.3)
    assert cfg.replace(null=True).null and not cfg.null
    with pytest.raises(TypeError, match=r"unknown parameter\(s\) \['seed'\]"):
        cfg.replace(seed=1)
    with pytest.raises(TypeError, match="config must be"):
        simulate_conversation(config={"duration": 20})
    # one documentation for both
    for obj in (ConversationConfig, simulate_conversation):
        assert "semantic_coupling : float\n" in obj.__doc__
        assert "%(" not in obj.__doc__
