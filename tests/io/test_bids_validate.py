"""BIDS round trip of two small dyads, and validate_dataset on a good and a broken dataset."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hyperalign as ha
from hyperalign.io import (
    SCHEMA_NAMES,
    load_schema,
    read_bids_dyads,
    read_manifest,
    validate_dataset,
    validate_main,
    write_bids_dyads,
)

SPECS = Path(__file__).resolve().parents[2] / "data_specs"


def _dyad(did: str, seed: int) -> ha.Dyad:
    rng = np.random.default_rng(seed)
    raws = [
        ha.make_participant_raw(rng.standard_normal((3, 2000)) * 1e-5, 200.0,
                                ch_names=["Fz", "Cz", "Pz"])
        for _ in range(2)
    ]  # fmt: skip
    raws[0].set_annotations(ha_annotations())
    w = pd.DataFrame(
        {"onset": [0.5, 1.0, 3.0, 3.4], "offset": [0.9, 1.4, 3.3, 3.9],
         "word": ["hi", "there", "yo", "friend"], "speaker": ["A", "A", "B", "B"],
         "confidence": [0.9, 0.8, 0.7, np.nan]}
    )  # fmt: skip
    parts = [
        ha.Participant(pid, r, role=role, audio=rng.uniform(-0.5, 0.5, 8000 * 10),
                       audio_sfreq=8000)
        for pid, r, role in zip("AB", raws, ["talker", "listener"])
    ]  # fmt: skip
    return ha.Dyad(parts, ha.Transcript(w, speakers=["A", "B"]), dyad_id=did)


def ha_annotations():
    import mne

    return mne.Annotations([1.0, 2.0], [0.5, 0.0], ["speech", "beep"])


@pytest.fixture(scope="module")
def bids_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("bids")
    dyads = [_dyad("d01", 1), _dyad("d02", 2)]
    write_bids_dyads(dyads, root, task="chat")
    return root, dyads


def test_bids_round_trip(bids_root):
    root, dyads = bids_root
    assert (root / "dataset_description.json").is_file() and (root / "dyads.tsv").is_file()
    back, report = read_bids_dyads(root, task="chat")
    assert report.empty and [d.dyad_id for d in back] == ["d01", "d02"]
    for d0, d1 in zip(dyads, back):
        assert d1.ids == d0.ids and [p.role for p in d1.participants] == ["talker", "listener"]
        for p0, p1 in zip(d0.participants, d1.participants):
            assert p1.raw.ch_names == p0.raw.ch_names and p1.sfreq == p0.sfreq
            a, b = p0.raw.get_data(), p1.raw.get_data()
            # BrainVision float32 in µV: relative error ~1e-7
            np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-12)
            np.testing.assert_allclose(p1.audio, p0.audio, rtol=0, atol=1e-7)  # float32 WAV
            assert p1.audio_sfreq == p0.audio_sfreq
        pd.testing.assert_frame_equal(
            d0.transcript.words[["onset", "offset", "word", "speaker", "confidence"]],
            d1.transcript.words[["onset", "offset", "word", "speaker", "confidence"]],
        )
        ann = d1["A"].raw.annotations
        assert list(ann.description) == ["speech", "beep"]
        np.testing.assert_allclose(ann.onset, [1.0, 2.0])
    with pytest.raises(ValueError, match=r"task='other' matches no dyad .*are \['chat'\]"):
        read_bids_dyads(root, task="other")
    assert [d.dyad_id for d in read_bids_dyads(root, dyad_ids=["d02"])[0]] == ["d02"]
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_bids_dyads(dyads, root, task="chat")
    assert validate_dataset(root) == []
    out = io.StringIO()
    assert validate_main(root, stream=out) == 0 and "valid" in out.getvalue()


def test_write_bids_errors(tmp_path):
    d = _dyad("d01", 1)
    with pytest.raises(ValueError, match="task must be letters and digits"):
        write_bids_dyads([d], tmp_path, task="my task")
    with pytest.raises(ValueError, match="dyad ids must be unique"):
        write_bids_dyads([d, d], tmp_path)
    raw = ha.make_participant_raw(np.zeros((2, 100)), 10.0, ch_types="misc")
    f = ha.Dyad([ha.Participant("A", raw), ha.Participant("B", raw.copy())], dyad_id="f")
    with pytest.raises(ValueError, match="no single BIDS datatype"):
        write_bids_dyads([f], tmp_path / "x")


def test_validate_broken_dataset_lists_every_problem(bids_root, tmp_path):
    src, _ = bids_root
    root = tmp_path / "broken"
    shutil.copytree(src, root)
    man = read_manifest(root)
    man = man.fillna("n/a")
    man.loc[0, "participant_2"] = "A"  # same id twice
    man.loc[1, "audio_2"] = "sub-d02B/beh/missing.wav"  # missing file
    man.loc[1, "dyad_id"] = "d01"  # duplicate dyad id
    man.to_csv(root / "dyads.tsv", sep="\t", index=False)
    # a transcript with a bad onset, an unknown speaker and a word past the recording
    t = root / man.loc[1, "transcript"]
    w = pd.read_csv(t, sep="\t", dtype=str)
    w.loc[0, "onset"] = "soon"
    w.loc[1, "speaker"] = "Z"
    w.to_csv(t, sep="\t", index=False)
    # an empty audio file
    (root / man.loc[0, "audio_1"]).write_bytes(b"")
    probs = validate_dataset(root)
    text = "\n".join(map(str, probs))
    assert len(probs) >= 5, text
    assert any(p.field == "participant_2" and "share one id" in p.message for p in probs)
    assert any(p.field == "dyad_id" and "repeats row 0" in p.message for p in probs)
    assert any(p.field == "audio_2" and "not found" in p.message for p in probs)
    assert any(p.file.endswith("_audio.wav") and "empty" in p.message for p in probs)
    assert any(p.row == 0 and p.field == "onset" and "'soon'" in p.got for p in probs)
    # the unknown speaker of the same file is listed in the same pass
    assert any(p.row == 1 and p.field == "speaker" and "'Z'" in p.message for p in probs)
    out = io.StringIO()
    assert validate_main(root, stream=out) == 1
    assert f"{len(probs)} problem(s) found" in out.getvalue()
    # fix the onset: now the unknown speaker is found too
    w.loc[0, "onset"] = "0.5"
    w.loc[3, "offset"] = "12.0"
    w.to_csv(t, sep="\t", index=False)
    probs = validate_dataset(root)
    assert any(p.field == "speaker" and "'Z'" in p.message for p in probs)
    assert any(p.field == "offset" and "past the end of the recordings" in p.message
               for p in probs)  # fmt: skip
    # reading: a repeated dyad_id is refused, naming it and its rows
    with pytest.raises(ValueError, match=r"dyad_id\(s\) \['d01'\] appear in more than one row"):
        read_bids_dyads(root)
    man.loc[1, "dyad_id"] = "d02"
    man.to_csv(root / "dyads.tsv", sep="\t", index=False)
    # reading: the broken dyads are reported, not silently dropped
    dyads, report = read_bids_dyads(root)
    assert len(dyads) + len(report) == 2 and len(report) >= 1
    assert set(report.columns) == {"dyad_id", "row", "stage", "file", "error"}


def test_validate_plain_folder_and_missing(tmp_path):
    assert "does not exist" in validate_dataset(tmp_path / "nowhere")[0].message
    probs = validate_dataset(tmp_path)
    assert len(probs) == 1 and "dyads.tsv" in probs[0].message
    (tmp_path / "dyads.tsv").write_text("dyad_id\tparticipant_1\nd1\tA\n")
    probs = validate_dataset(tmp_path)
    msgs = " | ".join(p.message for p in probs)
    assert "missing participant_2" in msgs and "neural_1 and neural_2 or neural" in msgs


def test_schemas_shipped_identical_to_data_specs():
    for name in SCHEMA_NAMES:
        spec = json.loads((SPECS / f"{name}.schema.json").read_text())
        assert spec == load_schema(name), name
        assert (SPECS / f"{name}.md").is_file()
    import jsonschema

    for name in SCHEMA_NAMES:
        jsonschema.Draft202012Validator.check_schema(load_schema(name))


def test_plain_folder_dataset(tmp_path):
    """A non-BIDS folder: one hyperscanning FIF, one pair of EDFs, whisperx and TextGrid."""
    import mne

    from hyperalign.io import write_textgrid, write_whisperx_json

    d = _dyad("x", 3)
    hyper = d.merged_raw()
    hyper.save(tmp_path / "hyper_raw.fif", verbose=False)
    for k, p in enumerate(d.participants, 1):
        mne.export.export_raw(tmp_path / f"p{k}.edf", p.raw, verbose=False)
    write_whisperx_json(d.transcript, tmp_path / "t.json")
    write_textgrid(d.transcript, tmp_path / "t.TextGrid")
    (tmp_path / "dyads.tsv").write_text(
        "dyad_id\tparticipant_1\tparticipant_2\tneural\tneural_1\tneural_2\ttranscript\n"
        "h1\tA\tB\thyper_raw.fif\tn/a\tn/a\tt.json\n"
        "e1\tA\tB\tn/a\tp1.edf\tp2.edf\tt.TextGrid\n"
    )
    assert validate_dataset(tmp_path) == []
    dyads, report = read_bids_dyads(tmp_path)
    assert report.empty and [x.dyad_id for x in dyads] == ["h1", "e1"]
    np.testing.assert_allclose(dyads[0]["B"].raw.get_data(), d["B"].raw.get_data(), rtol=1e-6)
    np.testing.assert_allclose(dyads[1]["A"].raw.get_data(), d["A"].raw.get_data(), atol=1e-8)
    for x in dyads:
        pd.testing.assert_frame_equal(
            x.transcript.words[["onset", "offset", "word", "speaker"]],
            d.transcript.words[["onset", "offset", "word", "speaker"]],
        )
    # a second pair at another sampling rate: validate flags the dyad
    r = d["B"].raw.copy().resample(100.0, verbose=False)
    mne.export.export_raw(tmp_path / "p2_100.edf", r, verbose=False)
    (tmp_path / "dyads.tsv").write_text(
        "dyad_id\tparticipant_1\tparticipant_2\tneural_1\tneural_2\ttranscript\n"
        "e2\tA\tB\tp1.edf\tp2_100.edf\tt.TextGrid\n"
        "e3\tA\tB\tp1.edf\tgone.edf\tt.tsv\n"
    )
    d["A"].raw.save(tmp_path / "single_raw.fif", verbose=False)
    with open(tmp_path / "dyads.tsv", "a") as fh:
        fh.write("h2\tA\tB\tn/a\tn/a\tt.TextGrid\n")  # its neural file is added below
    man = read_manifest(tmp_path)
    man["neural"] = [None, None, "single_raw.fif"]
    man.fillna("n/a").to_csv(tmp_path / "dyads.tsv", sep="\t", index=False)
    probs = validate_dataset(tmp_path)
    msgs = [str(p) for p in probs]
    assert any("sampling rates differ" in m and "100 Hz" in m for m in msgs), msgs
    assert any("no channel of the hyperscanning recording ends in '_S1'" in m for m in msgs)
    assert any("neural_2 file not found: gone.edf" in m for m in msgs)
    assert any("transcript file not found: t.tsv" in m for m in msgs)
    _, report = read_bids_dyads(tmp_path)
    assert report["dyad_id"].tolist() == ["e2", "e3", "h2"]
    assert "sampling rates differ" in report["error"].iloc[0]
    assert report["file"].iloc[1] == "gone.edf"
    with pytest.raises(ValueError, match="sampling rates differ"):
        read_bids_dyads(tmp_path, on_error="raise")


def test_bids_edf_and_pcm_audio(tmp_path):
    d = _dyad("e01", 4)
    write_bids_dyads([d], tmp_path, task="chat", format="EDF", audio_subtype="PCM_16")
    man = read_manifest(tmp_path)
    assert man.loc[0, "neural_1"].endswith("_eeg.edf")
    (back,), report = read_bids_dyads(tmp_path)
    assert report.empty
    a, b = d["A"].raw.get_data(), back["A"].raw.get_data()
    step = (a.max() - a.min()) / 2**16  # EDF: 16-bit samples over the physical range
    np.testing.assert_allclose(b, a, atol=2 * step)
    np.testing.assert_allclose(back["B"].audio, d["B"].audio, atol=2**-15)


def test_bids_reads_from_threads_keep_mne_bids_quiet(bids_root):
    """Reads from several threads at once (Dask workers with threads): mne-bids' note about a
    recording without events.tsv stays filtered in every thread (no warning, no error under
    ``-W error``); its filters and MNE's log level are process-wide, so the reads take a lock."""
    from concurrent.futures import ThreadPoolExecutor

    root, _ = bids_root

    def read(k):
        return [d.dyad_id for d in read_bids_dyads(root, task="chat", verbose="error")[0]]

    with ThreadPoolExecutor(4) as ex:
        got = list(ex.map(read, range(8)))
    assert got == [["d01", "d02"]] * 8
