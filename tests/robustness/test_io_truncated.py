"""Truncated recordings (issue 10, item 10): a file cut short is an error naming the file,
the header's duration and the readable duration, or, with ``on_truncated='warn'``, a
reported truncation; never silently a shorter recording."""

from __future__ import annotations

import shutil
import warnings

import mne
import numpy as np
import pytest

from hyperalign.io import check_truncation, read_dyad, read_raw

SFREQ = 256.0
DUR = 30


def _raw(n_ch=4, seed=0):
    rng = np.random.default_rng(seed)
    info = mne.create_info([f"C{i}" for i in range(n_ch)], SFREQ, "eeg")
    return mne.io.RawArray(rng.standard_normal((n_ch, int(SFREQ * DUR))) * 1e-5, info, verbose=0)


def _export(path, fmt, raw=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mne.export.export_raw(path, raw if raw is not None else _raw(), fmt=fmt, overwrite=True,
                              verbose=False)  # fmt: skip
    return path


def _cut(path, n_bytes=None, frac=0.5):
    b = path.read_bytes()
    path.write_bytes(b[: n_bytes if n_bytes is not None else int(len(b) * frac)])


@pytest.mark.parametrize("ext, fmt", [(".edf", "edf"), (".bdf", "bdf")])
def test_edf_bdf_cut_in_half_is_an_error(tmp_path, ext, fmt):
    f = _export(tmp_path / f"rec{ext}", fmt)
    assert read_raw(f).times[-1] > DUR - 1  # the complete file reads whole
    _cut(f)
    with pytest.raises(ValueError, match=r"rec\.[eb]df: the recording is truncated: its header "
                       r"describes 30\.000 s but the file holds only 14\.000 s") as e:  # fmt: skip
        read_raw(f)
    assert "on_truncated='warn'" in str(e.value)


def test_edf_truncation_warn_reads_and_reports(tmp_path):
    f1 = _export(tmp_path / "a.edf", "edf")
    f2 = _export(tmp_path / "b.edf", "edf", _raw(seed=1))
    _cut(f2)
    msg = r"b\.edf: the recording is truncated: its header describes 30\.000 s .* 14\.000 s "
    with pytest.warns(RuntimeWarning, match=msg + r".*; reading the readable part"):
        raw = read_raw(f2, on_truncated="warn")
    assert abs(raw.n_times / SFREQ - 14.0) < 1e-9
    assert "truncated: header 30.0 s" in raw.info["description"]
    with pytest.warns(RuntimeWarning, match="truncated"):
        dyad = read_dyad([f1, f2], on_truncated="warn")
    ex = dyad.exclusions.to_data_frame()
    row = ex[ex["reason"].str.startswith("truncated file")]
    assert len(row) == 1 and "b.edf" in row["item"].iloc[0]
    # and the 16 s of a.edf past the end of b.edf are reported as outside the dyad
    assert ex["reason"].str.startswith("recording longer than the partner's").sum() == 1
    assert "truncated file: 30.000 s in the header, 14.000 s read" in row["reason"].iloc[0]
    with pytest.raises(ValueError, match=r"b\.edf: the recording is truncated"):
        read_dyad([f1, f2])
    with pytest.raises(ValueError, match="on_truncated"):
        read_raw(f2, on_truncated="ignore")


def test_edf_unknown_record_count_is_not_truncation(tmp_path):
    # n_records = -1 ("unknown", recording not closed) is read by size, as the EDF spec allows
    f = _export(tmp_path / "open.edf", "edf")
    b = bytearray(f.read_bytes())
    b[236:244] = b"-1      "
    f.write_bytes(bytes(b))
    assert check_truncation(f) is None


def _bv(tmp_path):
    f = _export(tmp_path / "rec.vhdr", "brainvision")
    return f, tmp_path / "rec.eeg", tmp_path / "rec.vmrk"


def test_brainvision_datapoints_vs_eeg_size(tmp_path):
    vhdr, eeg, _ = _bv(tmp_path)
    text = vhdr.read_text(encoding="utf-8")
    vhdr.write_text(text.replace("NumberOfChannels=4", f"NumberOfChannels=4\nDataPoints="
                                 f"{int(SFREQ * DUR)}"), encoding="utf-8")  # fmt: skip
    assert check_truncation(vhdr) is None
    _cut(eeg)  # half: a whole number of samples, only DataPoints can tell
    msg = r"rec\.vhdr: the recording is truncated \(data file rec\.eeg\): its header "
    with pytest.raises(ValueError, match=msg + r"describes 30\.000 s but the file holds only "
                       r"15\.000 s \(DataPoints=7680"):  # fmt: skip
        read_raw(vhdr)


def test_brainvision_cut_inside_a_sample(tmp_path):
    vhdr, eeg, _ = _bv(tmp_path)
    _cut(eeg, n_bytes=16 * 1000 + 7)  # 4 channels x float32 = 16 bytes per sample
    msg = r"rec\.vhdr: the recording is truncated \(data file rec\.eeg\): .*holds only "
    with pytest.raises(ValueError, match=msg + r"3\.906 s .*not a whole number of samples"):
        read_raw(vhdr)


def test_brainvision_marker_past_the_data(tmp_path):
    vhdr, eeg, vmrk = _bv(tmp_path)
    with open(vmrk, "a", encoding="utf-8") as fh:
        fh.write("Mk2=Stimulus,S  1,7000,1,0\n")
    _cut(eeg, n_bytes=16 * 2560)  # 10 s of whole samples
    with pytest.raises(ValueError, match=r"holds only 10\.000 s \(the marker file has a marker "
                       r"at sample 7000"):  # fmt: skip
        read_raw(vhdr)


def test_eeglab_fdt_cut_short(tmp_path):
    from pymatreader import read_mat
    from scipy.io import savemat

    f = _export(tmp_path / "inline.set", "eeglab")
    eeg = read_mat(str(f))
    eeg = eeg.get("EEG", eeg)
    data = np.asarray(eeg["data"], np.float32)
    (tmp_path / "rec.fdt").write_bytes(np.asfortranarray(data).tobytes(order="F"))
    eeg["data"] = "rec.fdt"
    savemat(tmp_path / "rec.set", {k: v for k, v in eeg.items() if not k.startswith("__")},
            appendmat=False)  # fmt: skip
    assert check_truncation(tmp_path / "rec.set") is None
    _cut(tmp_path / "rec.fdt", n_bytes=4 * 4 * int(SFREQ * 12))
    msg = r"rec\.set: the recording is truncated \(data file rec\.fdt\): its header "
    with pytest.raises(ValueError, match=msg + r"describes 30\.000 s but the file holds only 12"):
        read_raw(tmp_path / "rec.set")


def test_fif_cut_short_says_truncated(tmp_path):
    f = tmp_path / "rec_raw.fif"
    _raw().save(f, verbose=False)
    _cut(f, frac=0.6)
    with pytest.raises(ValueError, match=r"rec_raw\.fif: the recording is corrupt or unreadable"
                       r".*most likely truncated"):  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            read_raw(f)


def test_bids_reader_refuses_truncated(tmp_path):
    from hyperalign.io import read_bids_dyads

    for k in (1, 2):
        _export(tmp_path / f"s{k}.edf", "edf", _raw(seed=k))
    (tmp_path / "dyads.tsv").write_text(
        "dyad_id\tparticipant_1\tparticipant_2\tneural_1\tneural_2\nd1\tA\tB\ts1.edf\ts2.edf\n"
    )
    _cut(tmp_path / "s2.edf")
    with pytest.raises(ValueError, match=r"s2\.edf: the recording is truncated"):
        read_bids_dyads(tmp_path, on_error="raise")
    with pytest.warns(RuntimeWarning, match="truncated"):
        dyads, rep = read_bids_dyads(tmp_path, on_truncated="warn")
    assert len(dyads) == 1 and dyads[0].exclusions.total("recording") == 2  # + the tail
    shutil.rmtree(tmp_path)


def test_edf_with_extra_records_is_an_error(tmp_path):
    # MNE infers the record count from the file size: trailing bytes would be read as data
    f = _export(tmp_path / "long.edf", "edf")
    b = f.read_bytes()
    header = 256 * (int(b[252:256]) + 1)  # the fixed header + 256 bytes per signal
    rec = (len(b) - header) // DUR
    f.write_bytes(b + b[header : header + 10 * rec])
    msg = r"long\.edf: the file size disagrees with its header: its header describes 30\.000 s "
    with pytest.raises(ValueError, match=msg + r"but the file holds 40\.000 s of data"):
        read_raw(f)
    with pytest.warns(RuntimeWarning, match="file size disagrees"):
        assert abs(read_raw(f, on_truncated="warn").n_times / SFREQ - 40.0) < 1e-9
