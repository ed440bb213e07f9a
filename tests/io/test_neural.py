"""Neural formats written by the tests, hyperscanning split, read_dyad and its errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hyperalign as ha
from hyperalign.io import read_dyad, read_raw, split_hyperscanning_raw, write_audio

SFREQ = 250.0
CH = ["Fz", "Cz", "Pz", "Oz"]


def _raw(seed=0, n=2500, sfreq=SFREQ, names=CH):
    rng = np.random.default_rng(seed)
    return ha.make_participant_raw(rng.standard_normal((len(names), n)) * 2e-5, sfreq,
                                   ch_names=names)  # fmt: skip


def _export(raw, path):
    import mne

    mne.export.export_raw(path, raw, overwrite=True, verbose=False)
    return path


@pytest.mark.parametrize(
    "suffix, atol",
    [
        ("_raw.fif", 0.0),
        (".edf", 2e-5 * 10 / 2**15),  # 16-bit over the physical range: ~2e-8 V steps
        (".vhdr", 1e-9),  # pybv float32
        (".set", 1e-10),  # eeglabio float32
    ],
)
def test_formats_round_trip(tmp_path, suffix, atol):
    raw = _raw()
    path = tmp_path / f"p1{suffix}"
    if suffix.endswith(".fif"):
        raw.save(path, verbose=False)
    else:
        _export(raw, path)
    back = read_raw(path)
    assert back.ch_names == CH and back.info["sfreq"] == SFREQ
    a, b = raw.get_data(), back.get_data()
    assert b.shape == a.shape
    np.testing.assert_allclose(b, a, atol=max(atol, 1e-12) * 3, rtol=1e-6)


def test_snirf_real_fnirs(shared_data, tmp_path, snirf_writer):
    """A SNIRF file (written with the snirf package from the real NIRx recording) reads back
    the same intensities, and converts to the same haemoglobin signals."""
    import mne

    folder = shared_data / "fnirs-parent-child" / "parent"
    nirx = mne.io.read_raw_nirx(folder, preload=True, verbose=False)
    path = snirf_writer(nirx, tmp_path / "parent.snirf")
    back = read_raw(path)
    assert back.ch_names == nirx.ch_names and back.info["sfreq"] == nirx.info["sfreq"]
    np.testing.assert_allclose(back.get_data(), nirx.get_data(), rtol=1e-7)
    np.testing.assert_allclose(
        read_raw(path, fnirs="hbo").get_data(), read_raw(folder, fnirs="hbo").get_data(),
        rtol=1e-6, atol=1e-12,
    )  # fmt: skip


def test_split_hyperscanning_suffixes_and_mapping(tmp_path):
    names = [f"{c}_S1" for c in CH] + [f"{c}_S2" for c in CH] + ["STI"]
    raw = _raw(names=names)
    r1, r2 = split_hyperscanning_raw(raw)
    assert r1.ch_names == CH and r2.ch_names == CH
    np.testing.assert_array_equal(r2.get_data(), raw.get_data()[4:8])
    r1, r2 = split_hyperscanning_raw(raw, shared="both")
    assert r1.ch_names[-1] == "STI" and r2.ch_names[-1] == "STI"
    m = {"left": ["Fz_S1", "Cz_S1"], "right": ["Fz_S2"]}
    r1, r2 = split_hyperscanning_raw(raw, m)
    assert r1.ch_names == ["Fz_S1", "Cz_S1"] and r2.ch_names == ["Fz_S2"]
    with pytest.raises(ValueError, match="no channel name ends with '_P1'"):
        split_hyperscanning_raw(raw, ("_P1", "_P2"))
    with pytest.raises(ValueError, match=r"names channel\(s\) \['nope'\]"):
        split_hyperscanning_raw(raw, {"a": ["nope"], "b": ["Fz_S2"]})
    with pytest.raises(ValueError, match="given to both"):
        split_hyperscanning_raw(raw, {"a": ["Fz_S1"], "b": ["Fz_S1"]})
    # one hyperscanning file -> read_dyad; the unassigned channel is counted
    path = tmp_path / "hyper_raw.fif"
    raw.save(path, verbose=False)
    d = read_dyad(path, participant_ids=["A", "B"])
    assert d["A"].raw.ch_names == CH
    assert d.exclusions.total("channel") == 1


@pytest.fixture
def files(tmp_path):
    """Two FIF recordings (10 s), two WAVs (10 s at 8 kHz) and a TSV transcript."""
    p = []
    for k in range(2):
        f = tmp_path / f"p{k}_raw.fif"
        _raw(seed=k).save(f, verbose=False)
        p.append(f)
    rng = np.random.default_rng(5)
    a = [write_audio(tmp_path / f"a{k}.wav", rng.uniform(-0.5, 0.5, 80000), 8000) for k in (0, 1)]
    t = tmp_path / "t.tsv"
    pd.DataFrame(
        {"onset": [0.5, 1.0, 4.0], "offset": [0.9, 1.5, 4.5], "speaker": ["A", "A", "B"],
         "word": ["hello", "there", "hi"]}
    ).to_csv(t, sep="\t", index=False)  # fmt: skip
    return p, a, t


def test_read_dyad_files(files, tmp_path):
    p, a, t = files
    d = read_dyad(p, audio=a, transcript=t, participant_ids=["A", "B"], roles=["x", "y"],
                  dyad_id="d1")  # fmt: skip
    assert d.ids == ["A", "B"] and d.sfreq == SFREQ and d["A"].audio_sfreq == 8000
    assert d.transcript.n_words == 3 and d["B"].role == "y"
    # one stereo file, a channel per participant
    import soundfile as sf

    x = np.stack([sf.read(str(f))[0] for f in a])
    write_audio(tmp_path / "stereo.flac", x, 8000)
    d2 = read_dyad(p, audio=tmp_path / "stereo.flac", participant_ids=["A", "B"],
                   audio_channels={"A": 1, "B": 0})  # fmt: skip
    np.testing.assert_allclose(d2["A"].audio, x[1], atol=2**-22)
    # speakers renamed to participant ids
    d3 = read_dyad(p, transcript=t, participant_ids=["P1", "P2"], speakers={"A": "P1", "B": "P2"})
    assert set(d3.transcript.words["speaker"]) == {"P1", "P2"}


def test_read_dyad_bad_inputs(files, tmp_path):
    p, a, t = files
    ids = dict(participant_ids=["A", "B"])
    # mismatched sampling rates: error naming both files and the fix; or resample
    f3 = tmp_path / "p3_raw.fif"
    _raw(seed=3, n=5000, sfreq=500.0).save(f3, verbose=False)
    with pytest.raises(ValueError, match=r"(?s)sampling rates differ.*p3_raw.fif.*sfreq=<Hz>"):
        read_dyad([p[0], f3], **ids)
    d = read_dyad([p[0], f3], sfreq=SFREQ, **ids)
    assert d["B"].sfreq == SFREQ and d.meta["resampled"][0]["from_hz"] == 500.0
    # speakers that match no participant
    with pytest.raises(ha.TranscriptError, match=r"speaker\(s\) \['B'\].*match no participant"):
        read_dyad(p, transcript=t, participant_ids=["A", "C"])
    # transcript past the recordings: error, or dropped and counted
    long = tmp_path / "long.tsv"
    pd.DataFrame({"onset": [1.0, 9.5], "offset": [1.5, 10.5], "speaker": ["A", "B"],
                  "word": ["a", "b"]}).to_csv(long, sep="\t", index=False)  # fmt: skip
    with pytest.raises(ha.TranscriptError, match=r"run past the end.*row 1.*on_outside='drop'"):
        read_dyad(p, transcript=long, **ids)
    d = read_dyad(p, transcript=long, on_outside="drop", **ids)
    assert d.transcript.n_words == 1 and d.exclusions.total("word") == 1
    # audio shorter than the transcript
    short = write_audio(tmp_path / "short.wav", np.zeros(8000 * 4), 8000)
    with pytest.raises(ValueError, match=r"t.tsv: row 2: a word of 'B' ends at 4.500 s.*4.000 s"):
        read_dyad(p, audio=[a[0], short], transcript=t, **ids)
    # missing, empty and corrupt files
    with pytest.raises(FileNotFoundError, match="nope.fif"):
        read_dyad([p[0], tmp_path / "nope.fif"], **ids)
    empty = tmp_path / "empty_raw.fif"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty_raw.fif: the file is empty"):
        read_dyad([p[0], empty], **ids)
    bad = tmp_path / "bad.edf"
    bad.write_bytes(b"0       garbage" * 20)
    with pytest.raises(ValueError, match=r"bad.edf: the recording is corrupt or unreadable"):
        read_dyad([p[0], bad], **ids)
    (tmp_path / "bad.wav").write_bytes(b"RIFF1234WAVEjunk")
    with pytest.raises(ValueError, match=r"bad.wav: cannot read the audio"):
        read_dyad(p, audio=[a[0], tmp_path / "bad.wav"], **ids)
    with pytest.raises(ValueError, match="participant_ids must be 2 different ids"):
        read_dyad(p, participant_ids=["A", "A"])
    with pytest.raises(ValueError, match="one mono audio file for two participants"):
        read_dyad(p, audio=a[0], **ids)


def test_read_dyad_real_fnirs_pair(shared_data):
    folder = shared_data / "fnirs-parent-child"
    d = read_dyad([folder / "parent", folder / "child"], participant_ids=["parent", "child"],
                  roles=["parent", "child"], fnirs="hbo", dyad_id="pc01")  # fmt: skip
    assert d.sfreq == pytest.approx(7.8125)
    assert 390 < d.duration < 400
    for p in d.participants:
        assert set(p.raw.get_channel_types()) == {"hbo", "hbr"} and len(p.raw.ch_names) == 40
        x = p.raw.get_data()
        assert np.isfinite(x).all() and np.abs(x).max() < 1e-3  # molar changes, not intensity
    od = read_dyad([folder / "parent", folder / "child"], fnirs="od")
    assert set(od["S1"].raw.get_channel_types()) == {"fnirs_od"}
    raw = read_dyad([folder / "parent", folder / "child"])
    assert set(raw["S2"].raw.get_channel_types()) == {"fnirs_cw_amplitude"}
    with pytest.raises(ValueError, match="fnirs='od' needs fNIRS"):
        read_dyad([_raw(0), _raw(1)], fnirs="od")


def test_snirf_cut_short_says_truncated(shared_data, tmp_path, snirf_writer):
    import mne

    nirx = mne.io.read_raw_nirx(shared_data / "fnirs-parent-child" / "parent", verbose=False)
    path = snirf_writer(nirx.crop(0, 30).load_data(), tmp_path / "p.snirf")
    path.write_bytes(path.read_bytes()[: int(path.stat().st_size * 0.6)])
    with pytest.raises(ValueError, match=r"p\.snirf: the recording is corrupt or unreadable "
                       r"\(.*\) \(the file, \d+ bytes, is most likely truncated"):  # fmt: skip
        read_raw(path)
