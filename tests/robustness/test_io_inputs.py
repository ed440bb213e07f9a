"""Readers and containers given messy input (issue 10, items 5 and 11 and the errors a user
cannot act on): the manifest, participant ids, bad channels, zero-channel participants."""

from __future__ import annotations

import io

import mne
import numpy as np
import pytest

import hyperalign as ha
from hyperalign.align.epochs import make_utterance_epochs
from hyperalign.io import (
    read_bids_dyads,
    read_dyad,
    read_manifest,
    read_raw,
    split_hyperscanning_raw,
    validate_dataset,
    write_audio,
)

SF = 100.0
N = 2000  # 20 s


def _raw(names=("Fz", "Cz", "Pz"), seed=0):
    rng = np.random.default_rng(seed)
    return ha.make_participant_raw(rng.standard_normal((len(names), N)) * 1e-6, SF, names)


def _folder(tmp_path, header, rows, *, sep="\t", transcript=None):
    for k in (1, 2):
        _raw(seed=k).save(tmp_path / f"s{k}_raw.fif", overwrite=True, verbose=False)
    lines = [sep.join(header)] + [sep.join(r) for r in rows]
    (tmp_path / "dyads.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if transcript is not None:
        (tmp_path / "t.tsv").write_text(transcript, encoding="utf-8")
    return tmp_path


HEAD = ["dyad_id", "participant_1", "participant_2", "neural_1", "neural_2"]
ROW = ["d1", "A", "B", "s1_raw.fif", "s2_raw.fif"]


# ------------------------------------------------------------------ dyads.tsv
@pytest.mark.parametrize("sep, name", [(",", "comma"), (";", "semicolon")])
def test_manifest_with_wrong_separator(tmp_path, sep, name):
    root = _folder(tmp_path, HEAD, [ROW], sep=sep)
    with pytest.raises(ValueError, match=rf"looks {name}-separated .*dyads\.tsv must be "
                       r"tab-separated"):  # fmt: skip
        read_bids_dyads(root)
    probs = validate_dataset(root)
    assert len(probs) == 1 and f"{name}-separated" in probs[0].message


def test_manifest_empty_participant_cell(tmp_path):
    root = _folder(tmp_path, HEAD, [["d1", "A", "", "s1_raw.fif", "s2_raw.fif"]])
    msg = r"row 0 \(dyad 'd1'\) has no participant_2 \(empty or n/a cell\).*fill in the cell"
    with pytest.raises(ValueError, match=msg):
        read_bids_dyads(root, on_error="raise")
    dyads, rep = read_bids_dyads(root)
    assert dyads == [] and "has no participant_2" in rep["error"].iloc[0]
    assert "[None]" not in rep["error"].iloc[0]


def test_manifest_duplicate_dyad_ids(tmp_path):
    root = _folder(tmp_path, HEAD, [ROW, ["d2", "A", "B", "s1_raw.fif", "s2_raw.fif"], ROW])
    with pytest.raises(ValueError, match=r"dyad_id\(s\) \['d1'\] appear in more than one row "
                       r"\(data rows \{'d1': \[0, 2\]\}"):  # fmt: skip
        read_manifest(root)


def test_task_filter_matching_nothing(tmp_path):
    root = _folder(tmp_path, HEAD + ["task"], [ROW + ["chat"]])
    with pytest.raises(ValueError, match=r"task='Chat' matches no dyad .* the tasks there are "
                       r"\['chat'\]; pass one of them"):  # fmt: skip
        read_bids_dyads(root, task="Chat")
    assert len(read_bids_dyads(root, task="chat")[0]) == 1


def test_dyad_ids_filter_unknown(tmp_path):
    root = _folder(tmp_path, HEAD, [ROW])
    with pytest.raises(ValueError, match=r"dyad_ids \['d9'\] are not in .*its dyad_ids are "
                       r"\['d1'\]"):  # fmt: skip
        read_bids_dyads(root, dyad_ids=["d9"])


def test_manifest_not_utf8(tmp_path):
    root = _folder(tmp_path, HEAD + ["role_1"], [])
    (root / "dyads.tsv").write_bytes(
        "\t".join(HEAD + ["role_1"]).encode()
        + b"\n"
        + "\t".join(ROW + ["m\xe8re"]).encode("cp1252")
    )
    msg = r"byte \d+ \(line 2, b'\\xe8'\) is not valid utf-8 .*; save dyads\.tsv as UTF-8"
    with pytest.raises(ValueError, match=msg):
        read_manifest(root)


def test_manifest_saved_as_excel_unicode_text(tmp_path):
    # Excel's "Unicode Text" is tab-separated UTF-16 with a byte-order mark
    root = _folder(tmp_path, HEAD, [])
    text = "\t".join(HEAD) + "\r\n" + "\t".join(["d1", "01", "02", "s1_raw.fif", "s2_raw.fif"])
    (root / "dyads.tsv").write_bytes(text.encode("utf-16"))
    man = read_manifest(root)
    assert list(man["participant_1"]) == ["01"] and list(man.columns) == HEAD


def test_numeric_looking_ids_stay_strings(tmp_path):
    words = "onset\toffset\tword\tspeaker\n1.0\t1.4\thello\t01\n2.0\t2.4\tyes\t02\n"
    row = ["007", "01", "02", "s1_raw.fif", "s2_raw.fif", "t.tsv"]
    root = _folder(tmp_path, HEAD + ["transcript"], [row], transcript=words)
    man = read_manifest(root)
    assert man.loc[0, "dyad_id"] == "007" and man.loc[0, "participant_1"] == "01"
    dyads, rep = read_bids_dyads(root)
    assert rep.empty, rep.to_dict()
    d = dyads[0]
    assert d.dyad_id == "007" and d.ids == ["01", "02"]
    assert list(d.transcript.words["speaker"]) == ["01", "02"]
    assert validate_dataset(root) == []


def test_validate_flags_stereo_audio_for_one_participant(tmp_path):
    root = _folder(tmp_path, HEAD + ["audio_1", "audio_2"], [ROW + ["a1.wav", "a2.wav"]])
    x = 0.1 * np.random.default_rng(0).standard_normal(16000 * 2)
    write_audio(root / "a1.wav", np.stack([x, x]), 16000)
    write_audio(root / "a2.wav", x, 16000)
    probs = validate_dataset(root)
    hit = [p for p in probs if p.field == "audio_1"]
    assert len(hit) == 1 and "audio_1 of 'A' is 2-channel audio" in hit[0].message
    assert hit[0].got == "2 channels"
    out = io.StringIO()
    assert ha.io.validate_main(root, stream=out) == 1


# ------------------------------------------------------------------ channels
def test_participant_with_zero_channels(tmp_path):
    empty = mne.io.RawArray(np.zeros((0, N)), mne.create_info([], SF), verbose=False)
    with pytest.raises(ValueError, match=r"participant 'A' has no usable channels: the "
                       r"recording has 0 channels"):  # fmt: skip
        ha.Participant("A", empty)
    with pytest.raises(ValueError, match=r"participant 'S2' has no usable channels"):
        read_dyad([_raw(), empty])


def test_participant_with_all_channels_bad():
    r = _raw()
    r.info["bads"] = list(r.ch_names)
    with pytest.raises(ValueError, match=r"participant 'B' has no usable channels: all 3 "
                       r"channels are marked bad"):  # fmt: skip
        ha.Participant("B", r)


def test_bads_kept_through_readers(tmp_path):
    r = _raw()
    r.info["bads"] = ["Cz"]
    r.save(tmp_path / "r_raw.fif", verbose=False)
    assert read_raw(tmp_path / "r_raw.fif").info["bads"] == ["Cz"]
    d = read_dyad([tmp_path / "r_raw.fif", _raw(seed=2)])
    assert d["S1"].raw.info["bads"] == ["Cz"]
    hyper = d.merged_raw()
    assert hyper.info["bads"] == ["Cz_S1"]  # the HyPyP bridge keeps the mark
    hyper.info["bads"] = ["Cz_S1", "Pz_S2"]
    a, b = split_hyperscanning_raw(hyper)
    assert a.info["bads"] == ["Cz"] and b.info["bads"] == ["Pz"]


def test_split_hyperscanning_with_one_side_all_bad():
    d = read_dyad([_raw(), _raw(seed=2)])
    hyper = d.merged_raw()
    hyper.info["bads"] = ["Fz_S2", "Cz_S2", "Pz_S2"]
    with pytest.raises(ValueError, match=r"participant 'S2' has no usable channels: all 3"):
        read_dyad(hyper)


def _dyad_with_words():
    words = ha.Transcript.from_data_frame(
        __import__("pandas").DataFrame(
            {"onset": [2.0, 5.0, 9.0], "offset": [3.0, 6.0, 10.0],
             "speaker": ["A", "B", "A"], "text": ["hi there", "yes", "ok then"]}
        ), kind="utterances",
    )  # fmt: skip
    return ha.Dyad([ha.Participant("A", _raw()), ha.Participant("B", _raw(seed=2))], words)


def test_epochs_leave_bad_channels_out_and_count_them():
    d = _dyad_with_words()
    d["A"].raw.info["bads"] = ["Cz"]
    ep = make_utterance_epochs(d, "A", -0.2, 0.5)
    assert ep.ch_names == ["Fz", "Pz"]
    ex = d.exclusions.to_data_frame()
    row = ex[ex["kind"] == "channel"]
    assert list(row["n"]) == [1] and "A: Cz" in row["item"].iloc[0]
    assert "marked bad in info['bads']" in row["reason"].iloc[0]
    kept = make_utterance_epochs(d, "A", -0.2, 0.5, picks=["Fz", "Cz"])  # explicit: kept
    assert kept.ch_names == ["Fz", "Cz"]


def test_epochs_when_every_channel_became_bad():
    d = _dyad_with_words()
    d["B"].raw.info["bads"] = ["Fz", "Cz", "Pz"]
    with pytest.raises(ValueError, match=r"participant 'B' of dyad 'dyad' has no usable channels "
                       r"for epochs: all 3 channels are marked bad"):  # fmt: skip
        make_utterance_epochs(d, "B")


def test_audio_mapping_with_unknown_key():
    with pytest.raises(ValueError, match=r"audio has keys \['C'\] that are not participant ids "
                       r"\['A', 'B'\]; key the mapping by participant id"):  # fmt: skip
        read_dyad([_raw(), _raw(seed=2)], audio={"C": (np.zeros(10), 16000.0)},
                  participant_ids=["A", "B"])  # fmt: skip


# ------------------------------------------------------------------ fMRI ROI tables
def test_roi_table_without_header_keeps_the_first_volume(tmp_path):
    from hyperalign.io import read_fmri_roi

    data = np.random.default_rng(0).standard_normal((20, 3))
    f = tmp_path / "rois.txt"
    np.savetxt(f, data, fmt="%.6f")  # AFNI/FSL style: spaces, no header
    raw = read_fmri_roi(f, tr=2.0, standardize=False)
    assert raw.n_times == 20 and raw.ch_names == ["roi000", "roi001", "roi002"]
    np.testing.assert_allclose(raw.get_data()[:, 0], data[0], atol=1e-6)
    g = tmp_path / "rois.tsv"
    np.savetxt(g, data, fmt="%.6f", delimiter="\t")
    assert read_fmri_roi(g, tr=2.0).n_times == 20


def test_constant_roi_is_reported(tmp_path, caplog):
    from hyperalign.io import read_fmri_roi

    data = np.random.default_rng(0).standard_normal((20, 2))
    data[:, 1] = 3.0
    f = tmp_path / "rois.tsv"
    pd_ = __import__("pandas")
    pd_.DataFrame(data, columns=["V1", "A1"]).to_csv(f, sep="\t", index=False)
    with caplog.at_level("WARNING", logger="hyperalign"):
        read_fmri_roi(f, tr=2.0)
    assert "1 ROI(s) are constant over all volumes (no signal): ['A1']" in caplog.text


# ------------------------------------------------------------------ lengths and ids
def test_recordings_of_different_length_are_reported(caplog):
    a = _raw()
    b = ha.make_participant_raw(np.zeros((3, N + 500)) + 1e-6, SF, ["Fz", "Cz", "Pz"])
    with caplog.at_level("WARNING", logger="hyperalign"):
        d = read_dyad([a, b], participant_ids=["A", "B"])
    assert "the recording of 'B' is 5.000 s longer than that of 'A'" in caplog.text
    ex = d.exclusions.to_data_frame()
    row = ex[ex["kind"] == "recording"]
    assert len(row) == 1 and row["item"].iloc[0] == "B: last 5.000 s (500 samples)"
    assert d.duration == N / SF


def test_speaker_labels_that_lost_their_leading_zeros():
    words = ha.Transcript(__import__("pandas").DataFrame(
        {"onset": [1.0, 2.0], "offset": [1.5, 2.5], "word": ["hi", "yes"], "speaker": ["1", "2"]}
    ))  # fmt: skip
    with pytest.raises(
        ha.transcript.TranscriptError,
        match=r"speaker\(s\) \['1', '2'\] .*match no "
        r"participant .*equal the ids as numbers \('1' vs '01', '2' vs '02'\)",
    ):
        read_dyad([_raw(), _raw(seed=2)], transcript=words, participant_ids=["01", "02"])


def test_nan_in_an_audio_file_names_the_file(tmp_path):
    import soundfile as sf

    x = 0.1 * np.random.default_rng(0).standard_normal(16000)
    x[100] = np.nan
    sf.write(tmp_path / "a.wav", x, 16000, subtype="FLOAT")
    msg = r"a\.wav \(audio of 'S1'\) holds 1 non-finite sample\(s\) \(NaN/inf\), the first at "
    with pytest.raises(ValueError, match=msg + "index 100"):
        read_dyad([_raw(), _raw(seed=2)], audio=[tmp_path / "a.wav", None])


# ------------------------------------------------------------------ shared audio, speakers
def test_shared_audio_with_more_channels_than_participants(tmp_path):
    x = 0.1 * np.random.default_rng(0).standard_normal((4, 16000))
    write_audio(tmp_path / "room.wav", x, 16000)
    with pytest.raises(ValueError, match=r"room\.wav: 4-channel audio for 2 participants: which "
                       r"channel is whose microphone\? pass audio_channels="):  # fmt: skip
        read_dyad([_raw(), _raw(seed=2)], audio=tmp_path / "room.wav")
    with pytest.raises(ValueError, match=r"audio_channels=\{'S1': 2\} gives no channel for "
                       r"participant\(s\) \['S2'\]"):  # fmt: skip
        read_dyad([_raw(), _raw(seed=2)], audio=tmp_path / "room.wav", audio_channels={"S1": 2})
    d = read_dyad([_raw(), _raw(seed=2)], audio=tmp_path / "room.wav",
                  audio_channels={"S1": 2, "S2": 3})  # fmt: skip
    np.testing.assert_allclose(d["S2"].audio, x[3], atol=1e-7)


def test_speakers_mapping_that_merges_two_labels(tmp_path):
    f = tmp_path / "t.tsv"
    f.write_text("onset\toffset\tword\tspeaker\n1\t1.5\thi\tSPEAKER_00\n2\t2.5\tyo\tSPEAKER_01\n")
    msg = r"speakers maps the labels \['SPEAKER_00', 'SPEAKER_01'\] to one participant 'A'"
    with pytest.raises(ValueError, match=msg):
        ha.io.read_transcript(f, speakers={"SPEAKER_00": "A", "SPEAKER_01": "A"})


def test_bads_kept_through_a_bids_round_trip(tmp_path):
    from hyperalign.io import write_bids_dyads

    d = read_dyad([_raw(), _raw(seed=2)], participant_ids=["A", "B"], dyad_id="d1")
    d["B"].raw.info["bads"] = ["Pz"]
    write_bids_dyads([d], tmp_path / "bids", task="chat")
    back, rep = read_bids_dyads(tmp_path / "bids")
    assert rep.empty and back[0]["B"].raw.info["bads"] == ["Pz"]
    assert back[0]["A"].raw.info["bads"] == []


def test_reading_stereo_audio_for_one_participant(tmp_path):
    root = _folder(tmp_path, HEAD + ["audio_1"], [ROW + ["a1.wav"]])
    x = 0.1 * np.random.default_rng(0).standard_normal(16000 * 2)
    write_audio(root / "a1.wav", np.stack([x, x]), 16000)
    with pytest.raises(ValueError, match=r"a1\.wav: 2-channel audio for participant 'A'; pass "
                       r"audio_channels=\{'A': <channel index>\}"):  # fmt: skip
        read_bids_dyads(root, on_error="raise")


def test_nan_channels_marked_bad_or_named(caplog):
    a = _raw()
    a._data[1] = np.nan  # a dead channel: no finite sample
    a._data[2, 10:20] = np.nan  # a dropout
    with caplog.at_level("WARNING", logger="hyperalign"):
        d = read_dyad([a, _raw(seed=2)], participant_ids=["A", "B"])
    assert d["A"].raw.info["bads"] == ["Cz"] and a.info["bads"] == []  # input untouched
    ex = d.exclusions.to_data_frame()
    row = ex[ex["kind"] == "channel"]
    assert list(row["item"]) == ["A: Cz"] and "no finite sample" in row["reason"].iloc[0]
    assert "1 channel(s) hold NaN/inf samples: Pz (10 samples)" in caplog.text
    b = _raw(seed=3)
    b._data[:] = np.nan
    with pytest.raises(ValueError, match=r"participant 'B' has no usable channels: all 3"):
        read_dyad([_raw(), b], participant_ids=["A", "B"])


def test_validate_reports_silent_audio_and_truncated_recordings(tmp_path):
    import warnings

    root = _folder(tmp_path, ["dyad_id", "participant_1", "participant_2", "neural_1",
                              "neural_2", "audio_1", "audio_2"],
                   [["d1", "A", "B", "s1.edf", "s2_raw.fif", "a1.wav", "a2.wav"]])  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mne.export.export_raw(root / "s1.edf", _raw(), overwrite=True, verbose=False)
    b = (root / "s1.edf").read_bytes()
    (root / "s1.edf").write_bytes(b[: len(b) // 2])
    write_audio(root / "a1.wav", np.zeros(16000), 16000)
    write_audio(root / "a2.wav", 0.1 * np.random.default_rng(0).standard_normal(16000), 16000)
    probs = validate_dataset(root)
    text = " | ".join(str(p) for p in probs)
    assert any(p.file == "a1.wav" and "the audio is silent" in p.message for p in probs), text
    assert not any(p.file == "a2.wav" for p in probs), text
    assert any(p.file == "s1.edf" and "the recording is truncated" in p.message for p in probs)


def test_dyad_ids_as_one_string_is_one_id(tmp_path):
    # a string used to be searched as a substring: dyad_ids="d10" selected "d1"
    root = _folder(tmp_path, HEAD, [ROW])
    assert [d.dyad_id for d in read_bids_dyads(root, dyad_ids="d1")[0]] == ["d1"]
    with pytest.raises(ValueError, match=r"dyad_ids \['d10'\] are not in"):
        read_bids_dyads(root, dyad_ids="d10")
