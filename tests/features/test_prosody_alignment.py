"""Acoustic/prosodic similarity between consecutive turns."""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest

from hyperalign.features.prosody_alignment import (
    compute_acoustic_similarity,
    previous_utterances,
)


def _utts():
    # A, B, A(backchannel? no), B backchannel during A, A, B
    return pd.DataFrame(
        {
            "utterance_id": [0, 1, 2, 3, 4, 5],
            "speaker": ["A", "B", "A", "B", "A", "B"],
            "onset": [0.0, 2.0, 4.0, 4.5, 6.0, 8.0],
            "offset": [1.8, 3.8, 5.8, 4.8, 7.8, 9.8],
            "backchannel": [False, False, False, True, False, False],
        }
    )


def _table(rng=None):
    return pd.DataFrame(
        {
            "utterance_id": [0, 1, 2, 3, 4, 5],
            "f0_mean_st": [12.0, 10.0, 13.0, 9.0, 12.5, 11.0],
            "intensity_db": [70.0, 66.0, 71.0, 60.0, 69.0, 68.0],
            "rate_wps": [3.0, 2.5, 3.2, 1.0, 3.0, 2.0],
            "rate_sps": [4.0, 3.5, 4.2, 1.5, 4.0, 3.0],
            "mfcc1": [1.0, 1.0, 0.0, 1.0, 1.0, -1.0],
            "mfcc2": [0.0, 1.0, 1.0, 0.0, 0.0, 0.0],
        }
    )


def test_previous_skips_backchannels_and_same_speaker():
    prev = previous_utterances(_utts())
    # 3 is B's backchannel: its previous turn is A's utt 2; A's utt 4 skips backchannel 3
    assert prev.to_dict() == {0: -1, 1: 0, 2: 1, 3: 2, 4: 1, 5: 4}
    prev_all = previous_utterances(_utts(), skip_backchannels=False)
    assert prev_all[4] == 3


def test_previous_same_as_align_helper(small_dyad):
    turns = importlib.import_module("hyperalign.align.turns")
    utt = small_dyad.transcript.utterances
    ours = previous_utterances(utt)
    theirs = turns.previous_turn_utterance(utt)
    exp = theirs["prev_utterance_id"].astype("Float64").fillna(-1).astype(int).to_numpy()
    np.testing.assert_array_equal(ours.to_numpy(), exp)
    # the fallback (no 'turn' column) follows the same rule
    np.testing.assert_array_equal(previous_utterances(utt.drop(columns="turn")).to_numpy(), exp)
    # a previous_turn_utterance DataFrame is accepted as `previous`
    tab = pd.DataFrame(
        {
            "utterance_id": utt["utterance_id"],
            "f0_mean_st": np.arange(len(utt), dtype=float),
            "intensity_db": 60.0,
            "rate_wps": 3.0,
        }
    )
    a = compute_acoustic_similarity(tab, utt, previous=theirs)
    b = compute_acoustic_similarity(tab, utt)
    pd.testing.assert_frame_equal(a, b)


def test_components_formulas():
    df = compute_acoustic_similarity(_table(), _utts())
    assert list(df.columns) == [
        "utterance_id", "speaker", "prev_utterance_id", "acsim_f0", "acsim_intensity",
        "acsim_rate", "acsim_spectral", "acsim",
    ]  # fmt: skip
    r = df.set_index("utterance_id")
    assert np.isnan(r.loc[0, "acsim"]) and pd.isna(r.loc[0, "prev_utterance_id"])
    assert r.loc[2, "acsim_f0"] == pytest.approx(-3.0)  # |13 - 10|
    assert r.loc[2, "acsim_intensity"] == pytest.approx(-5.0)
    assert r.loc[2, "acsim_rate"] == pytest.approx(-0.7)
    assert r.loc[4, "acsim_f0"] == pytest.approx(-2.5)  # previous is 1, not backchannel 3
    assert r.loc[2, "acsim_spectral"] == pytest.approx(1 / np.sqrt(2))  # (0,1) vs (1,1)
    assert r.loc[5, "acsim_spectral"] == pytest.approx(-1.0)
    # composite 'levels': -mean_k |z_k(u) - z_k(p)|, z over non-backchannel utterances
    t = _table().set_index("utterance_id")
    turns = [0, 1, 2, 4, 5]
    z = {}
    for c in ["f0_mean_st", "intensity_db", "rate_wps"]:
        ref = t.loc[turns, c]
        z[c] = (t[c] - ref.mean()) / ref.std(ddof=0)
    exp = -np.mean([abs(z[c][2] - z[c][1]) for c in z])
    assert r.loc[2, "acsim"] == pytest.approx(exp)
    assert df.attrs["report"]["n_no_previous"] == 1


def test_composite_components_and_rate_option():
    df = compute_acoustic_similarity(
        _table(), _utts(), composite="components", rate="sps", components=["f0", "spectral"]
    )
    r = df.set_index("utterance_id")
    assert r.loc[2, "acsim_rate"] == pytest.approx(-0.7)
    bc = _utts()["backchannel"].to_numpy()

    def z(x):
        ref = x[np.isfinite(x) & ~bc]
        return (x - ref.mean()) / ref.std()

    zf, zs = z(df["acsim_f0"].to_numpy()), z(df["acsim_spectral"].to_numpy())
    ok = np.isfinite(zf)
    np.testing.assert_allclose(df["acsim"][ok], ((zf + zs) / 2)[ok])
    with pytest.raises(ValueError, match="components .composite='levels'. must be one of"):
        compute_acoustic_similarity(_table(), _utts(), components=["spectral"])


def test_explicit_previous_mapping_and_missing_rows():
    prev = {0: -1, 1: 0, 2: 0, 3: -1, 4: 2, 5: 4}
    tab = _table().drop(index=5)
    tab.loc[1, "f0_mean_st"] = np.nan  # unvoiced
    df = compute_acoustic_similarity(tab, _utts(), previous=prev)
    r = df.set_index("utterance_id")
    assert r.loc[2, "prev_utterance_id"] == 0 and r.loc[2, "acsim_f0"] == pytest.approx(-1.0)
    assert r.loc[4, "acsim_f0"] == pytest.approx(-0.5)
    assert np.isnan(r.loc[5, "acsim"])
    rep = df.attrs["report"]
    assert rep["n_no_features"] == 1 and rep["n_partial"] >= 1
    # composite of row 1 uses intensity and rate only (F0 missing)
    assert np.isfinite(r.loc[1, "acsim"])


def test_matches_simulator_definition():
    """Alternating turns without backchannels: equals the simulator's planted formula."""
    sim = importlib.import_module("hyperalign.simulation._dialogue")
    rng = np.random.default_rng(0)
    n = 40
    st, db, rate = rng.normal(12, 2, n), rng.normal(65, 3, n), rng.normal(3, 0.4, n)
    utts = pd.DataFrame(
        {
            "utterance_id": np.arange(n),
            "speaker": np.where(np.arange(n) % 2, "B", "A"),
            "onset": np.arange(n) * 3.0,
            "backchannel": False,
        }
    )
    tab = pd.DataFrame(
        {"utterance_id": np.arange(n), "f0_mean_st": st, "intensity_db": db, "rate_wps": rate}
    )
    df = compute_acoustic_similarity(tab, utts)
    planted = sim.acoustic_similarity(st, db, rate)
    np.testing.assert_allclose(df["acsim"].to_numpy(), planted, equal_nan=True)


def test_bad_inputs():
    with pytest.raises(ValueError, match="acoustic_table lacks column"):
        compute_acoustic_similarity(_table().drop(columns="intensity_db"), _utts())
    with pytest.raises(ValueError, match="duplicated utterance_id"):
        compute_acoustic_similarity(pd.concat([_table(), _table()]), _utts())
    with pytest.raises(ValueError, match="rate must be one of"):
        compute_acoustic_similarity(_table(), _utts(), rate="cps")


def _simulate():
    sim = importlib.import_module("hyperalign.simulation")
    fn = getattr(sim, "simulate_conversation", None)
    if fn is None:
        fn = importlib.import_module("hyperalign.simulation._simulate").simulate_conversation
    return fn


def test_measured_acsim_tracks_planted_on_simulated_dyad():
    """From synthesized audio: measured prosody and acsim track the simulator's truth."""
    simulate_conversation = _simulate()
    dyad, truth = simulate_conversation(duration=60.0, n_channels=2, random_state=3)
    sim = compute_acoustic_similarity(dyad)  # a Dyad: features computed inside
    assert len(sim) == dyad.transcript.n_utterances
    g = truth.utterances.set_index("utterance_id")
    m = sim.set_index("utterance_id").join(g[["acoustic_similarity"]])
    ok = m[["acsim", "acoustic_similarity"]].notna().all(axis=1)
    assert ok.sum() >= 10
    r = np.corrcoef(m.loc[ok, "acsim"], m.loc[ok, "acoustic_similarity"])[0, 1]
    assert r > 0.95, r
