"""fMRI ROI series into RawArray; audio round trips and errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hyperalign.io import read_audio, read_dyad, read_fmri_roi, write_audio


def test_fmri_array_table_npy(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 3))
    raw = read_fmri_roi(x, tr=2.0, roi_names=["STG", "IFG", "TPJ"])
    assert raw.info["sfreq"] == 0.5 and raw.ch_names == ["STG", "IFG", "TPJ"]
    assert set(raw.get_channel_types()) == {"misc"}
    np.testing.assert_array_equal(raw.get_data(), x.T)
    np.testing.assert_allclose(raw.times[:3], [0.0, 2.0, 4.0])
    pd.DataFrame(x, columns=["a", "b", "c"]).to_csv(tmp_path / "roi.tsv", sep="\t", index=False)
    r2 = read_fmri_roi(tmp_path / "roi.tsv", tr=2.0)
    assert r2.ch_names == ["a", "b", "c"]
    np.testing.assert_allclose(r2.get_data(), x.T)
    np.save(tmp_path / "roi.npy", x)
    r3 = read_fmri_roi(tmp_path / "roi.npy", tr=2.0, ch_type="bio", standardize=True)
    np.testing.assert_allclose(r3.get_data().mean(1), 0, atol=1e-12)
    # two participants' ROI series make a slow-signal dyad
    d = read_dyad([raw, read_fmri_roi(x[:, ::-1], tr=2.0)], participant_ids=["A", "B"])
    assert d.sfreq == 0.5 and d.duration == pytest.approx(100.0)


def test_fmri_errors(tmp_path):
    x = np.zeros((10, 2))
    with pytest.raises(ValueError, match=r"tr \(repetition time, s\) is required"):
        read_fmri_roi(x)
    with pytest.raises(ValueError, match="roi_names has 3 names but array has 2 ROIs"):
        read_fmri_roi(x, tr=1.0, roi_names=["a", "b", "c"])
    x[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"1 NaN/inf value\(s\) in ROI column\(s\) \[1\]"):
        read_fmri_roi(x, tr=1.0)
    with pytest.raises(ValueError, match="tr must be finite and > 0"):
        read_fmri_roi(np.zeros((10, 2)), tr=0)
    (tmp_path / "r.csv").write_text("a,b\n1,x\n2,y\n")
    with pytest.raises(ValueError, match=r"r.csv: column\(s\) \['b'\] are not numeric"):
        read_fmri_roi(tmp_path / "r.csv", tr=1.0)
    with pytest.raises(FileNotFoundError, match="fMRI data not found"):
        read_fmri_roi(tmp_path / "none.nii.gz", tr=1.0)


def test_fmri_nifti_atlas_and_mask(tmp_path):
    nib = pytest.importorskip("nibabel")
    pytest.importorskip("nilearn")
    rng = np.random.default_rng(1)
    vol = rng.standard_normal((4, 4, 3, 12)).astype("float32")
    img = nib.Nifti1Image(vol, np.eye(4))
    img.header.set_zooms((2.0, 2.0, 2.0, 1.5))
    nib.save(img, tmp_path / "bold.nii.gz")
    atlas = np.zeros((4, 4, 3), "int16")
    atlas[:2] = 1
    atlas[2:] = 2
    atlas[0, 0, 0] = 0
    raw = read_fmri_roi(tmp_path / "bold.nii.gz", masker=nib.Nifti1Image(atlas, np.eye(4)))
    assert raw.info["sfreq"] == pytest.approx(1 / 1.5)  # TR from the header
    assert raw.ch_names == ["label1", "label2"]
    np.testing.assert_allclose(raw.get_data()[1], vol[atlas == 2].mean(0), atol=1e-5)
    mask = nib.Nifti1Image((atlas == 1).astype("uint8"), np.eye(4))
    vox = read_fmri_roi(img, tr=1.5, masker=mask)
    assert len(vox.ch_names) == int((atlas == 1).sum())
    with pytest.raises(ValueError, match="masker is required"):
        read_fmri_roi(img, tr=1.5)


@pytest.mark.parametrize("suffix, atol", [(".wav", 0.0), (".flac", 2**-22)])
def test_audio_round_trip(tmp_path, suffix, atol):
    rng = np.random.default_rng(0)
    x = rng.uniform(-0.9, 0.9, (2, 4000)).astype("float32").astype(float)
    p = write_audio(tmp_path / f"a{suffix}", x, 16000)
    y, sf = read_audio(p)
    assert sf == 16000 and y.shape == (2, 4000)
    np.testing.assert_allclose(y, x, atol=atol)
    y1, _ = read_audio(p, channel=1)
    np.testing.assert_allclose(y1, x[1], atol=atol)
    write_audio(tmp_path / f"m{suffix}", x[0], 16000)
    assert read_audio(tmp_path / f"m{suffix}")[0].ndim == 1


def test_audio_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="audio file not found"):
        read_audio(tmp_path / "x.wav")
    (tmp_path / "e.wav").write_bytes(b"")
    with pytest.raises(ValueError, match=r"e.wav: the audio file is empty"):
        read_audio(tmp_path / "e.wav")
    (tmp_path / "c.wav").write_bytes(b"RIFF....WAVEfmt garbage")
    with pytest.raises(ValueError, match=r"c.wav: cannot read the audio"):
        read_audio(tmp_path / "c.wav")
    p = write_audio(tmp_path / "s.wav", np.zeros(100), 8000)
    with pytest.raises(ValueError, match=r"channel must be an int in \[0, 0\]"):
        read_audio(p, channel=1)
    with pytest.raises(ValueError, match="would clip"):
        write_audio(tmp_path / "x.flac", np.full(10, 2.0), 8000)
    with pytest.raises(ValueError, match="whole number of Hz"):
        write_audio(tmp_path / "x.wav", np.zeros(10), 8000.5)
    with pytest.raises(ValueError, match="NaN"):
        write_audio(tmp_path / "x.wav", np.full(10, np.nan), 8000)
    assert not list(tmp_path.glob(".*part*"))  # failed writes leave nothing behind
