"""XDF: written files with clock offsets and a clock reset, and the real recording."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from hyperalign.io import list_xdf_streams, read_xdf_dyad, read_xdf_raws

SRATE = 100.0
MIC_RATE = 500.0
FREQ = 1.3  # Hz, a slow sine of *recorder* time: identical in both streams once aligned


def _eeg_stream(sid, name, rec_start, n, clock, rng, labels):
    """Samples at recorder times rec_start + k / SRATE, stamped on the stream's own clock.

    ``clock(t_rec) -> (stream time, offset value)``.
    """
    t_rec = rec_start + np.arange(n) / SRATE
    stamps = np.array([clock(t)[0] for t in t_rec]) + rng.normal(0, 2e-4, n)  # jitter
    sig = np.sin(2 * np.pi * FREQ * t_rec)
    samples = np.column_stack([sig * (k + 1) for k in range(len(labels))])  # microvolts
    offsets = [clock(t) for t in np.arange(rec_start - 2, rec_start + n / SRATE + 2)]
    return {
        "id": sid, "name": name, "type": "EEG", "srate": SRATE, "format": "float32",
        "labels": labels, "unit": "microvolts", "time_stamps": stamps,
        "samples": samples, "clock_offsets": offsets,
    }  # fmt: skip


def _p1_clock(t):  # stream clock runs 1000 s behind the recorder
    return t - 1000.0, 1000.0


def _p2_clock(t):  # a clock reset at recorder time 40 s (the sender rebooted its clock)
    return (t + 2000.0, -2000.0) if t < 40.0 else (t - 39.0, 39.0)


@pytest.fixture
def xdf_file(tmp_path, xdf_writer):
    rng = np.random.default_rng(0)
    s1 = _eeg_stream(1, "amp-A", 10.0, 6000, _p1_clock, rng, ["Fz", "Cz"])
    s2 = _eeg_stream(2, "amp-B", 12.5, 5500, _p2_clock, rng, ["Fz", "Cz"])
    ev_rec = np.array([5.0, 20.0, 45.0, 60.0, 200.0])  # 5 s and 200 s lie outside both streams
    marks = {
        "id": 3, "name": "events", "type": "Markers", "srate": 0, "format": "string",
        "labels": ["marker"], "time_stamps": ev_rec - 300.0,
        "samples": [f"ev{k}" for k in range(len(ev_rec))],
        "clock_offsets": [(t - 300.0, 300.0) for t in np.arange(0.0, 210.0, 1.0)],
    }  # fmt: skip
    mics = []
    for sid, name, start, clk in ((4, "mic-A", 11.0, _p1_clock), (5, "mic-B", 14.0, _p2_clock)):
        t_rec = start + np.arange(int(20 * MIC_RATE)) / MIC_RATE
        mics.append({
            "id": sid, "name": name, "type": "Audio", "srate": MIC_RATE, "format": "float32",
            "labels": ["mic"], "unit": "", "samples": np.sin(2 * np.pi * 7 * t_rec)[:, None],
            "time_stamps": np.array([clk(t)[0] for t in t_rec]) + rng.normal(0, 2e-4, len(t_rec)),
            "clock_offsets": [clk(t) for t in np.arange(start - 2, start + 22)],
        })  # fmt: skip
    return xdf_writer(tmp_path / "dyad.xdf", [s1, s2, marks, *mics])


def test_xdf_dyad_aligned_across_clock_offsets_and_reset(xdf_file):
    assert list_xdf_streams(xdf_file)["name"].tolist() == [
        "amp-A",
        "amp-B",
        "events",
        "mic-A",
        "mic-B",
    ]
    d = read_xdf_dyad(xdf_file, {"A": "amp-A", "B": 2}, roles=["x", "y"], dyad_id="x1")
    rep = d.meta["xdf"]
    t0 = d.meta["xdf_t0"]
    assert t0 == pytest.approx(12.5, abs=2e-3)  # the later start, on the recorder clock
    assert rep.set_index("participant").loc["B", "n_clock_segments"] == 2
    assert (rep["n_gaps"] == 0).all() and (rep["max_step_samples"] < 1.5).all()
    a, b = d["A"].raw.get_data(), d["B"].raw.get_data()
    assert a.shape == b.shape and d.sfreq == SRATE
    t = t0 + d["A"].raw.times
    expected = np.sin(2 * np.pi * FREQ * t) * 1e-6  # microvolts -> volts
    # aligned to well under one sample (1 sample of a 1.3 Hz sine is 0.08 of the amplitude)
    np.testing.assert_allclose(a[0], expected, atol=3e-9)
    np.testing.assert_allclose(b[0], expected, atol=3e-9)
    np.testing.assert_allclose(b[1], 2 * expected, atol=6e-9)
    ann = d["A"].raw.annotations
    assert list(ann.description) == ["ev1", "ev2", "ev3"]
    np.testing.assert_allclose(ann.onset, np.array([20.0, 45.0, 60.0]) - t0, atol=2e-3)
    assert d.exclusions.total("marker") == 2  # 5 s and 200 s: counted, not silently dropped


def test_xdf_audio_streams_and_downsampling(xdf_file):
    d = read_xdf_dyad(xdf_file, {"A": "amp-A", "B": "amp-B"}, audio={"A": "mic-A", "B": 5})
    t0 = d.meta["xdf_t0"]
    aud = d.meta["xdf"].attrs["audio"]
    assert d["A"].audio_sfreq == MIC_RATE
    k = np.arange(len(d["A"].audio))
    np.testing.assert_allclose(d["A"].audio, np.sin(2 * np.pi * 7 * (t0 + k / MIC_RATE)),
                               atol=5e-3)  # fmt: skip
    assert aud["A"]["trimmed_start_s"] == pytest.approx(1.5, abs=0.01)
    assert aud["B"]["padded_start_s"] == pytest.approx(1.5, abs=0.01)
    n_pad = int(round(1.5 * MIC_RATE))
    assert np.all(d["B"].audio[: n_pad - 2] == 0)
    kb = np.arange(n_pad + 2, len(d["B"].audio))
    np.testing.assert_allclose(d["B"].audio[kb], np.sin(2 * np.pi * 7 * (t0 + kb / MIC_RATE)),
                               atol=5e-3)  # fmt: skip
    # a lower common rate: low-passed before interpolation, the slow sine intact
    raws, rep = read_xdf_raws(xdf_file, {"A": "amp-A", "B": "amp-B"}, sfreq=25.0)
    assert (rep["anti_alias_lowpass_hz"] == 10.0).all()
    a = raws["A"].get_data()[0]
    t = rep.attrs["t0"] + raws["A"].times
    mid = slice(50, -50)  # away from the filter's edges
    np.testing.assert_allclose(a[mid], 1e-6 * np.sin(2 * np.pi * FREQ * t[mid]), atol=2e-8)
    with pytest.raises(ValueError, match="audio channel 3 of stream 'mic-A' does not exist"):
        read_xdf_raws(xdf_file, {"A": "amp-A"}, audio={"A": ("mic-A", 3)})


def test_xdf_errors(xdf_file, tmp_path):
    with pytest.raises(ValueError, match="no stream 'nope'; the streams are"):
        read_xdf_dyad(xdf_file, {"A": "nope", "B": 2})
    with pytest.raises(ValueError, match="holds strings"):
        read_xdf_dyad(xdf_file, {"A": "events", "B": 2})
    with pytest.raises(ValueError, match="exactly 2"):
        read_xdf_dyad(xdf_file, {"A": 1})
    bad = tmp_path / "bad.xdf"
    bad.write_bytes(b"hello")
    with pytest.raises(ValueError, match="not an XDF file"):
        read_xdf_raws(bad, {"A": 1})
    bad.write_bytes(xdf_file.read_bytes()[:300])
    with pytest.raises(ValueError, match=r"bad.xdf"):
        read_xdf_raws(bad, {"A": 1})
    bad.write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        read_xdf_raws(bad, {"A": 1})


def test_real_xdf_with_clock_resets(shared_data):
    import pyxdf

    path = shared_data / "xdf" / "data_with_clock_resets.xdf"
    raws, rep = read_xdf_raws(path, {"A": ("BioSemi", [0, 1, 2, 3]), "B": ("BioSemi", [4, 5])})
    row = rep.iloc[0]
    assert row["n_clock_segments"] == 2
    # within the recorded segments, no step longer than a few samples...
    assert row["max_step_samples"] < 3
    # ...and the one gap (the stream sent nothing for ~274 s) is annotated, not hidden
    assert row["n_gaps"] == 1 and 250 < row["gap_s"] < 300
    ann = raws["A"].annotations
    assert (ann.description == "BAD_xdf_gap").sum() == 1
    assert raws["A"].n_times == raws["B"].n_times == row["grid_n_times"]
    assert rep.attrs["n_markers"] > 100
    # the timestamps we used are monotonic; without reset handling they are not
    logging.getLogger("pyxdf.pyxdf").setLevel(logging.ERROR)
    s, _ = pyxdf.load_xdf(str(path), synchronize_clocks=True, handle_clock_resets=False)
    eeg = [x for x in s if x["info"]["name"][0] == "BioSemi"][0]
    assert np.diff(eeg["time_stamps"]).min() < 0
    s, _ = pyxdf.load_xdf(
        str(path), synchronize_clocks=True, handle_clock_resets=True, dejitter_timestamps=True
    )
    eeg = [x for x in s if x["info"]["name"][0] == "BioSemi"][0]
    assert np.diff(eeg["time_stamps"]).min() > 0


def test_xdf_cut_before_the_footers_is_truncated(xdf_file, tmp_path):
    """A copy cut short loses the stream footers: an error, or with 'warn' a report."""
    bad = tmp_path / "cut.xdf"
    bad.write_bytes(xdf_file.read_bytes()[: int(xdf_file.stat().st_size * 0.6)])
    with pytest.raises(ValueError, match=r"cut\.xdf: stream 'amp-A' \(for 'A'\) is truncated: it "
                       r"has no footer .*on_truncated='warn'"):  # fmt: skip
        read_xdf_raws(bad, {"A": 1, "B": 2})
    with pytest.warns(RuntimeWarning, match="is truncated"):
        dyad = read_xdf_dyad(bad, {"A": 1, "B": 2}, on_truncated="warn")
    assert dyad.exclusions.total("recording") == 2
    assert len(dyad.meta["xdf"].attrs["truncated"]) == 2


def test_xdf_footer_counting_more_samples(tmp_path, xdf_writer):
    rng = np.random.default_rng(0)
    streams = [_eeg_stream(k, f"amp-{k}", 10.0, 300, _p1_clock, rng, ["Fz"]) for k in (1, 2)]
    f = xdf_writer(tmp_path / "x.xdf", streams)
    data = f.read_bytes().replace(b"<sample_count>300</sample_count>",
                                  b"<sample_count>900</sample_count>", 1)  # fmt: skip
    f.write_bytes(data)
    with pytest.raises(ValueError, match=r"stream 'amp-1' \(for 'A'\) is truncated: its footer "
                       r"counts 900 samples but the file holds 300"):  # fmt: skip
        read_xdf_raws(f, {"A": 1, "B": 2})


def test_xdf_unknown_channel_pick(xdf_file):
    with pytest.raises(ValueError, match=r"stream 'amp-A' \(for 'A'\) has no channel\(s\) "
                       r"\['Oz'\]; its 2 channels are \['Fz', 'Cz'\]"):  # fmt: skip
        read_xdf_raws(xdf_file, {"A": (1, ["Oz"]), "B": 2})


def test_xdf_int16_audio_stream_is_scaled(tmp_path, xdf_writer):
    rng = np.random.default_rng(0)
    streams = [_eeg_stream(k, f"amp-{k}", 10.0, 1000, _p1_clock, rng, ["Fz"]) for k in (1, 2)]
    t = 10.0 + np.arange(int(9 * MIC_RATE)) / MIC_RATE
    pcm = np.round(np.sin(2 * np.pi * 7 * t) * 16384).astype(np.int16)
    streams.append({
        "id": 3, "name": "mic", "type": "Audio", "srate": MIC_RATE, "format": "int16",
        "labels": ["mic"], "unit": "", "samples": pcm[:, None], "time_stamps": t - 1000.0,
        "clock_offsets": [(x - 1000.0, 1000.0) for x in np.arange(8.0, 22.0)],
    })  # fmt: skip
    f = xdf_writer(tmp_path / "pcm.xdf", streams)
    raws, rep = read_xdf_raws(f, {"A": 1, "B": 2}, audio={"A": 3})
    y = rep.attrs["audio"]["A"]["samples"]
    assert 0.45 < np.abs(y).max() <= 0.5 + 1e-6  # 16384 / 32768, not 16384
