"""fNIRS hyperscanning study (hyperalign.coupling.fnirs_study) against HyPyP 0.6's fNIRS API.

HyPyP's default wavelet coherence (``ComplexMorletWavelet().wtc``) and its dyad workflow
(``hypyp.fnirs.Dyad.compute_wtcs`` -> coherence data frame) on simulated signals and on the
real parent-child fNIRS pair in ../shared/data (cropped to keep the test in seconds). Measured
agreement: <= 3e-15 on coherence maps, bins and time series; every data-frame column equal.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict

import numpy as np
import pandas as pd
import pytest

from hyperalign.coupling.fnirs_study import (
    COHERENCE_COLUMNS,
    FnirsDyad,
    FnirsStudy,
    plot_coherence_matrix,
    plot_coherence_time_series,
    plot_wtc,
    read_fnirs_haemo,
    wavelet_coherence_hypyp,
)
from hyperalign.utils import ExclusionLog


def _signals(n=600, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 7.8125
    common = np.sin(2 * np.pi * t / 8.0)
    return common + 0.8 * rng.standard_normal(n), np.roll(common, 3) + 0.8 * rng.standard_normal(n)


def test_wtc_matches_hypyp():
    wav = pytest.importorskip("hypyp.wavelet")
    y1, y2 = _signals()
    n = y1.size
    x = np.linspace(0, n / 7.8125, n)
    ref = wav.ComplexMorletWavelet(disable_caching=True).wtc(
        wav.PairSignals(x, y1, y2), period_cuts=[5, 10], bin_seconds=20
    )
    got = wavelet_coherence_hypyp(y1, y2, x[1] - x[0])
    np.testing.assert_allclose(got.wtc, ref.W, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.periods, ref.periods, rtol=1e-13)
    np.testing.assert_allclose(got.coi, ref.coi, rtol=1e-13)
    bins = got.bins(period_cuts=[5, 10], bin_seconds=20)
    assert len(bins) == len(ref.coherence_bins)
    for ours, theirs in zip(bins, ref.coherence_bins):
        assert ours[2:] == theirs[2:]
        np.testing.assert_allclose(ours[:2], theirs[:2], rtol=1e-12, atol=1e-14)
    ts_ref = ref.get_as_time_series()
    ts = got.time_series(period_cuts=[5, 10])
    np.testing.assert_array_equal(np.ma.getmaskarray(ts), np.ma.getmaskarray(ts_ref))
    np.testing.assert_allclose(ts.filled(0), ts_ref.filled(0), atol=1e-12)


def test_wtc_properties_and_errors():
    y1, y2 = _signals()
    w = wavelet_coherence_hypyp(y1, y2, 1 / 7.8125)
    assert w.wtc.shape == (40, y1.size) and np.all(np.diff(w.periods) > 0)
    assert np.nanmin(w.wtc) >= 0 and np.nanmax(w.wtc) <= 1 + 1e-12
    same = wavelet_coherence_hypyp(y1, y1, 1 / 7.8125)
    np.testing.assert_allclose(same.wtc, 1.0, atol=1e-12)
    # the planted 8 s common component: coherence higher near 8 s than near 2.5 s
    inside = ~w.mask
    near8, near2 = np.argmin(abs(w.periods - 8)), np.argmin(abs(w.periods - 2.5))
    assert w.wtc[near8][inside[near8]].mean() > w.wtc[near2][inside[near2]].mean()
    with pytest.raises(ValueError, match="same length"):
        wavelet_coherence_hypyp(y1, y2[:-1], 0.1)
    with pytest.raises(ValueError, match="finite"):
        wavelet_coherence_hypyp(np.r_[np.nan, y1[1:]], y2, 0.1)
    with pytest.raises(ValueError, match="dj must be smaller than 1"):
        wavelet_coherence_hypyp(y1, y2, 0.1, dj=2)


@pytest.fixture(scope="module")
def haemo(shared_data):
    log = ExclusionLog()
    folder = shared_data / "fnirs-parent-child"
    parent = read_fnirs_haemo(folder / "parent", exclusions=log)
    child = read_fnirs_haemo(folder / "child", exclusions=log)
    return parent.crop(0, 80), child.crop(0, 80), log


def test_read_fnirs_haemo_counts_exclusions(haemo):
    parent, child, log = haemo
    assert set(parent.get_channel_types()) == {"hbo", "hbr"}
    assert parent.info["sfreq"] == child.info["sfreq"] == 7.8125
    # channels with a scalp coupling index < 0.1 are dropped and counted, never silently
    assert log.total("channel") == (40 - len(parent.ch_names)) + (40 - len(child.ch_names))


@pytest.fixture(scope="module")
def study_and_hypyp(haemo):
    fnirs = pytest.importorskip("hypyp.fnirs")
    from hypyp.fnirs.channel_roi import ChannelROI
    from hypyp.fnirs.preprocessor.implementations.mne_preprocessor_as_is import (
        MnePreprocessorAsIs,
    )

    parent, child, _ = haemo
    chs = [c for c in parent.ch_names if c.endswith("hbo") and c in child.ch_names][:3]
    rois = {"front": chs[:2], "back": chs[2:]}
    study = FnirsStudy([FnirsDyad(parent, child, "pc", ("parent", "child"), rois=rois)])
    study.compute_wtcs(picks=chs, period_cuts=[5, 10], bug_compat=True)
    roi = ChannelROI(OrderedDict(rois))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r1 = fnirs.Recording(subject_label="parent", channel_roi=roi).load_raw(
            parent, preprocessor=MnePreprocessorAsIs()
        )
        r2 = fnirs.Recording(subject_label="child", channel_roi=roi).load_raw(
            child, preprocessor=MnePreprocessorAsIs()
        )
        ref = fnirs.Dyad(r1, r2, label="pc").compute_wtcs(
            ch_match=chs, period_cuts=[5, 10], with_intra=True
        )
    return study, ref.df, chs


def test_study_data_frame_matches_hypyp(study_and_hypyp):
    study, ref, chs = study_and_hypyp
    df = study.to_data_frame()
    assert list(df.columns) == COHERENCE_COLUMNS == list(ref.columns)
    assert len(df) == len(ref) == 3 * (3 * 3) * 3  # (inter + 2 intra) x 9 pairs x 3 bins
    key = ["is_intra_of", "channel1", "channel2", "bin"]
    m = ref.merge(df, on=key, suffixes=("_ref", "_ours"), validate="one_to_one")
    assert len(m) == len(df)
    np.testing.assert_allclose(m["coherence_ours"], m["coherence_ref"], rtol=1e-12, atol=1e-14)
    for col in set(COHERENCE_COLUMNS) - set(key) - {"coherence"}:
        a, b = m[col + "_ours"], m[col + "_ref"]
        assert (a.astype(str) == b.astype(str)).all(), col


def test_matrices_time_series_and_plots(study_and_hypyp):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    study, _, chs = study_and_hypyp
    inter = study.coherence_matrix("inter")
    assert inter.shape == (3, 3) and list(inter.index) == chs
    intra = study.coherence_matrix("intra1")
    np.testing.assert_allclose(intra.to_numpy(), intra.to_numpy().T, atol=1e-12)
    np.testing.assert_allclose(np.diag(intra.to_numpy()), 1.0, atol=1e-9)
    by_roi = study.coherence_matrix("intra2", by="roi")
    assert list(by_roi.index) == ["front", "back"]
    times, series = study.time_series(chs[0], chs[1])
    assert series.shape == (3, times.size) and np.ma.isMaskedArray(series)
    with pytest.raises(KeyError, match="no coherence map"):
        study.time_series("nope", chs[1])
    with pytest.raises(ValueError, match="pairs"):
        study.coherence_matrix("intra3")
    figs = [
        plot_coherence_matrix(inter, title="inter"),
        plot_coherence_time_series(times, series, labels=["2-5 s", "5-10 s", "10-20 s"]),
        plot_wtc(study.wtcs[0]),
    ]
    assert all(f.axes for f in figs)
    plt.close("all")


def _raw(data, sfreq=5.0, names=("a hbo", "b hbo")):
    import mne

    info = mne.create_info(list(names), sfreq, "hbo")
    return mne.io.RawArray(np.asarray(data, float), info, verbose=False)


def test_nan_sections_and_errors():
    rng = np.random.default_rng(0)
    x1, x2 = rng.standard_normal((2, 300)), rng.standard_normal((2, 300))
    x1[0, 140:150] = np.nan
    study = FnirsStudy([FnirsDyad(_raw(x1), _raw(x2), "d")])
    with pytest.raises(RuntimeError, match="compute_wtcs"):
        study.to_data_frame()
    df = study.compute_wtcs(with_intra=False).to_data_frame()
    # channel 'a hbo' of S1 is split in two sections around the NaN run, the other is whole
    assert df.groupby("channel1")["section"].nunique().to_dict() == {"a hbo": 2, "b hbo": 1}
    assert not df["is_intra"].any()
    bad = FnirsStudy([FnirsDyad(_raw(x2), _raw(x2, sfreq=10.0), "d")])
    with pytest.raises(ValueError, match="must share the sampling rate"):
        bad.compute_wtcs()
    with pytest.raises(ValueError, match="absent from the recording"):
        FnirsStudy([FnirsDyad(_raw(x2), _raw(x2), "d")]).compute_wtcs(picks=["zz"])
    with pytest.raises(ValueError, match="matches no channel type"):
        FnirsStudy([FnirsDyad(_raw(x2), _raw(x2), "d")]).compute_wtcs(picks="hbr")
    assert isinstance(study.to_data_frame(), pd.DataFrame)


def test_pseudo_dyads_and_save(tmp_path):
    rng = np.random.default_rng(1)
    common = np.sin(2 * np.pi * np.arange(400) / 5.0 / 6.0)
    dyads = []
    for k in range(2):
        shared = np.roll(common, 7 * k)
        d1 = shared + 0.5 * rng.standard_normal((2, 400))
        d2 = shared + 0.5 * rng.standard_normal((2, 400))
        dyads.append(FnirsDyad(_raw(d1), _raw(d2), f"d{k}", ("p", "c")))
    study = FnirsStudy(dyads).compute_wtcs(with_intra=False, with_pseudo=True)
    df = study.to_data_frame()
    assert sorted(df.loc[df.is_pseudo, "dyad"].unique()) == [
        "shuffle s1:d0-s2:d1",
        "shuffle s1:d1-s2:d0",
    ]
    assert len(df) == 4 * 4  # 2 real + 2 pseudo dyads x 4 pairs x 1 bin
    real = study.coherence_matrix("inter").to_numpy()
    null = study.coherence_matrix("inter", pseudo=True).to_numpy()
    assert real.shape == null.shape == (2, 2)
    with pytest.raises(ValueError, match="no rows for pairs='intra1'"):
        study.coherence_matrix("intra1")
    out = study.save(tmp_path / "coh.csv")
    back = pd.read_csv(out)
    assert list(back.columns) == COHERENCE_COLUMNS and len(back) == len(df)
    np.testing.assert_allclose(back["coherence"], df["coherence"], rtol=1e-12)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        study.save(out)
    with pytest.raises(ValueError, match="file suffix"):
        study.save(tmp_path / "coh.xlsx")


def test_tasks_are_epochs_of_the_recording():
    from hyperalign.coupling.fnirs_wavelet import wavelet_coherence_hypyp as wtc

    rng = np.random.default_rng(2)
    x1, x2 = rng.standard_normal((2, 500)), rng.standard_normal((2, 500))
    tasks = {"talk": [(0.0, 40.0), (40.0, 90.0)], "rest": (90.0, 100.0)}
    study = FnirsStudy([FnirsDyad(_raw(x1), _raw(x2), "d", tasks=tasks)])
    df = study.compute_wtcs(with_intra=False).to_data_frame()
    assert df.groupby(["task", "epoch"]).size().to_dict() == {
        ("rest", 0): 4,
        ("talk", 0): 4,
        ("talk", 1): 4,
    }
    row = df.query("task == 'talk' and epoch == 1 and channel1 == 'a hbo' and channel2 == 'b hbo'")
    direct = wtc(x1[0, 200:450], x2[1, 200:450], 1 / 5.0).bins()[0][0]
    assert row["coherence"].item() == pytest.approx(direct, rel=1e-12)
    t, series = study.time_series("a hbo", "b hbo", task="talk", epoch=1)
    assert t.size == 250 and series.shape == (1, 250)
    bad = FnirsStudy([FnirsDyad(_raw(x1), _raw(x2), "d", tasks={"x": (50.0, 200.0)})])
    with pytest.raises(ValueError, match="outside the recording"):
        bad.compute_wtcs()
