"""Clock alignment recovers planted lags and drifts to within one neural sample."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d

import hyperalign as ha
from hyperalign.align import (
    ClockError,
    ClockModel,
    align_by_triggers,
    align_clocks,
    apply_clock,
    estimate_drift,
    estimate_drift_from_signals,
    find_audio_lag,
)

AUDIO_SF = 8000.0
NEURAL_SF = 500.0


def _speech_like(rng, dur, sf=AUDIO_SF):
    """Noise carrier modulated by a syllable-rate envelope; returns (audio, envelope)."""
    env_fs = 100
    syl = np.abs(rng.standard_normal(int(dur * env_fs))) ** 2
    syl *= rng.random(len(syl)) > 0.3
    syl = gaussian_filter1d(syl, 3)
    t = np.arange(int(dur * sf)) / sf
    env = np.interp(t, np.arange(len(syl)) / env_fs, syl)
    return rng.standard_normal(len(t)) * env, env


def _amp_channel(rng, env, offset, drift_ppm, n_ref, noise=0.05):
    """Amplifier channel: mic envelope seen on a clock t_ref = offset + (1+d) t_mic."""
    t_ref = np.arange(n_ref) / NEURAL_SF
    t_mic = (t_ref - offset) / (1 + drift_ppm * 1e-6)
    sig = np.interp(t_mic, np.arange(len(env)) / AUDIO_SF, env, left=0, right=0)
    return sig + noise * env.std() * rng.standard_normal(n_ref)


def test_find_audio_lag_recovers_lag():
    rng = np.random.default_rng(1)
    audio, env = _speech_like(rng, 40)
    lag = 1.23456
    ref = _amp_channel(rng, env, lag, 0.0, int(43 * NEURAL_SF))
    res = find_audio_lag(audio, AUDIO_SF, ref, NEURAL_SF, max_lag=5)
    assert abs(res.lag_s - lag) < 1 / NEURAL_SF  # within one sample
    assert abs(res.lag_s - lag) < 0.2 / NEURAL_SF  # sub-sample refinement
    assert res.reliable and res.confidence > 10 and res.corr > 0.9
    # negative lag (audio recorder started first)
    ref2 = _amp_channel(rng, env, -0.7771, 0.0, int(38 * NEURAL_SF))
    res2 = find_audio_lag(audio, AUDIO_SF, ref2, NEURAL_SF)
    assert abs(res2.lag_s + 0.7771) < 1 / NEURAL_SF


def test_find_audio_lag_warns_on_unrelated(caplog):
    rng = np.random.default_rng(2)
    audio, _ = _speech_like(rng, 20)
    _, other = _speech_like(np.random.default_rng(99), 20)
    ref = other[:: int(AUDIO_SF / NEURAL_SF)]
    import logging

    with caplog.at_level(logging.WARNING, logger="hyperalign"):
        res = find_audio_lag(audio, AUDIO_SF, ref, NEURAL_SF, max_lag=2)
    assert not res.reliable
    assert "low confidence" in caplog.text


def test_drift_from_signals_recovers_offset_and_drift():
    rng = np.random.default_rng(3)
    audio, env = _speech_like(rng, 120)
    off, drift = 0.8123, 50.0
    ref = _amp_channel(rng, env, off, drift, int(122 * NEURAL_SF))
    m = estimate_drift_from_signals(audio, AUDIO_SF, ref, NEURAL_SF, window=10, max_lag=3)
    assert m.method == "signal"
    # the mapping is right to within one neural sample across the whole recording
    t = np.linspace(0, 120, 50)
    truth = off + (1 + drift * 1e-6) * t
    assert np.max(np.abs(m.to_a(t) - truth)) < 1 / NEURAL_SF
    assert abs(m.drift_ppm - drift) < 10
    assert m.residual_rms_s < 1e-3


def test_triggers_offset_and_drift_with_missing():
    rng = np.random.default_rng(4)
    off, drift = 3.21, 50.0
    ta_true = np.sort(rng.uniform(5, 1200, 120))
    tb = (ta_true - off) / (1 + drift * 1e-6) + rng.normal(0, 2e-4, len(ta_true))
    ta = np.delete(ta_true, [3, 10, 50])  # missing on a
    tb = np.delete(tb, [20, 90])  # missing on b
    match = align_by_triggers(ta, tb)
    assert match.n_unmatched_a == 2 and match.n_unmatched_b == 3
    assert len(match.idx_a) == 115
    m = estimate_drift(ta, tb)
    assert abs(m.offset - off) < 1 / NEURAL_SF
    assert abs(m.drift_ppm - drift) < 2
    assert m.n_used == 115 and m.n_rejected == 3
    # sample-exact mapping over the recording
    t = np.linspace(0, 1200, 20)
    assert np.max(np.abs(m.to_a(t) - (off + (1 + drift * 1e-6) * t))) < 1 / NEURAL_SF


def test_trigger_outlier_is_rejected():
    rng = np.random.default_rng(5)
    ta = np.sort(rng.uniform(0, 300, 40))
    tb = ta - 1.0
    tb[7] += 0.004  # a jittered trigger inside the tolerance
    m = estimate_drift(ta, tb, tolerance=0.01)
    assert m.details["n_outliers"] == 1 and m.n_rejected == 1
    assert abs(m.offset - 1.0) < 1e-6


def test_drift_too_large_raises():
    ta = np.arange(0, 600, 7.3)
    tb = ta / (1 + 5000e-6)  # 5000 ppm
    with pytest.raises(ClockError, match="max_drift_ppm"):
        estimate_drift(ta, tb, max_drift_ppm=1000, tolerance=0.05)
    # allowed a wider search, the same drift is measured exactly
    m = estimate_drift(ta, tb, max_drift_ppm=10000, tolerance=0.05)
    assert m.drift_ppm == pytest.approx(5000, abs=0.01) and m.n_rejected == 0


def test_residual_too_large_raises():
    ta = np.arange(0, 600, 7.3)
    tb = ta.copy()
    tb[len(tb) // 2 :] += 0.03  # a clock reset of 30 ms
    with pytest.raises(ClockError, match="max_residual|outliers"):
        estimate_drift(ta, tb, tolerance=0.05, max_residual=0.005)
    rng = np.random.default_rng(0)
    tb = ta + rng.normal(0, 0.004, len(ta))  # jittery triggers
    with pytest.raises(ClockError, match="max_residual"):
        estimate_drift(ta, tb, tolerance=0.05, max_residual=0.001)


def test_no_match_raises():
    with pytest.raises(ClockError, match="matched"):
        estimate_drift([1.0, 2.0, 3.5], [10.0, 30.0, 70.0], tolerance=0.001)


def test_clock_model_algebra():
    m = ClockModel(offset=1.5, drift_ppm=80.0)
    t = np.array([0.0, 10.0, 100.0])
    np.testing.assert_allclose(m.to_b(m.to_a(t)), t)
    np.testing.assert_allclose(m.inverse().to_a(m.to_a(t)), t, atol=1e-12)
    m2 = ClockModel(offset=-0.3, drift_ppm=-20.0)
    np.testing.assert_allclose(m.compose(m2).to_a(t), m.to_a(m2.to_a(t)))


def _dyad_with_clock(off, drift, dur=60.0):
    """Participant B's amplifier runs on clock b with t_a = off + (1+d) t_b."""
    n = int(dur * NEURAL_SF)

    def f(t):  # a shared slow signal seen by both amplifiers
        return np.sin(2 * np.pi * 1.3 * t) + 0.5 * np.sin(2 * np.pi * 3.7 * t + 1)

    k = np.arange(n) / NEURAL_SF
    raw_a = ha.make_participant_raw(f(k)[None] * 1e-6, NEURAL_SF)
    raw_b = ha.make_participant_raw(f(off + (1 + drift * 1e-6) * k)[None] * 1e-6, NEURAL_SF)
    return raw_a, raw_b


def test_apply_clock_and_sync_dyad_triggers():
    rng = np.random.default_rng(6)
    off, drift = 0.25, 50.0
    raw_a, raw_b = _dyad_with_clock(off, drift)
    ta = np.sort(rng.uniform(1, 59, 30))
    tb = (ta - off) / (1 + drift * 1e-6)
    dy = ha.Dyad([ha.Participant("A", raw_a), ha.Participant("B", raw_b)], dyad_id="clk")
    out = align_clocks(dy, "triggers", triggers={"A": ta, "B": tb})
    rep = out.meta["clock"]["B->A"]
    assert abs(rep["offset"] - off) < 1e-4 and abs(rep["drift_ppm"] - drift) < 1
    # after the correction, B's data equal A's on A's clock (where B recorded)
    a = out["A"].raw.get_data()[0]
    b = out["B"].raw.get_data()[0]
    ok = np.arange(len(a)) / NEURAL_SF > off + 0.01
    assert np.max(np.abs(a[ok] - b[ok])) < 1e-3 * np.abs(a).max()
    # samples B did not record are annotated and counted
    assert "BAD_no_data" in out["B"].raw.annotations.description
    assert out.exclusions.total("sample") == int(np.ceil(off * NEURAL_SF))
    # the input dyad is untouched
    assert dy["B"].raw.get_data()[0][0] == raw_b.get_data()[0][0]
    # apply_clock on a Raw gives the same
    b2 = apply_clock(raw_b, ClockModel(**{k: rep[k] for k in ("offset", "drift_ppm")}))
    np.testing.assert_allclose(b2.get_data()[0][ok], b[ok], atol=1e-12)


def test_sync_dyad_errors():
    rng = np.random.default_rng(7)
    raws = [ha.make_participant_raw(rng.standard_normal((1, 1000)), 100.0) for _ in range(2)]
    dy = ha.Dyad([ha.Participant("A", raws[0]), ha.Participant("B", raws[1])])
    with pytest.raises(ValueError, match="missing"):
        align_clocks(dy, "triggers", triggers={"A": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="stim_channel"):
        align_clocks(dy, "triggers")
    with pytest.raises(ValueError, match="method must be one of"):
        align_clocks(dy, "magic")
    with pytest.raises(ValueError, match="audio_channel"):
        align_clocks(dy, "audio")
    r3 = ha.make_participant_raw(rng.standard_normal((1, 500)), 50.0)
    dy2 = ha.Dyad([ha.Participant("A", raws[0]), ha.Participant("B", r3)], check_sfreq=False)
    with pytest.raises(ValueError, match="sampling rates differ"):
        align_clocks(dy2, "triggers", triggers={"A": [1.0], "B": [1.0]})


def test_sync_dyad_audio_moves_transcript_and_raw():
    """Mics on one recorder clock; each amplifier records its participant's mic envelope."""
    rng = np.random.default_rng(8)
    dur = 80.0
    audio_a, env_a = _speech_like(rng, dur)
    audio_b, env_b = _speech_like(rng, dur)
    m_a = (0.5, 30.0)  # mic -> amp A
    m_b = (1.1, -40.0)  # mic -> amp B
    n = int((dur + 2) * NEURAL_SF)
    ch_a = _amp_channel(rng, env_a, *m_a, n)
    ch_b = _amp_channel(rng, env_b, *m_b, n)
    mk = lambda ch: ha.make_participant_raw(  # noqa: E731
        np.vstack([rng.standard_normal((2, n)) * 1e-6, ch[None]]), NEURAL_SF,
        ch_names=["c1", "c2", "AUDIO"], ch_types=["eeg", "eeg", "misc"],
    )  # fmt: skip
    import pandas as pd

    words = pd.DataFrame(
        {"onset": [10.0, 10.5, 40.0], "offset": [10.4, 10.9, 40.3],
         "word": ["hello", "there", "yes"], "speaker": ["A", "A", "B"]}
    )  # fmt: skip
    dy = ha.Dyad(
        [ha.Participant("A", mk(ch_a), audio=audio_a, audio_sfreq=AUDIO_SF),
         ha.Participant("B", mk(ch_b), audio=audio_b, audio_sfreq=AUDIO_SF)],
        ha.Transcript(words, speakers=["A", "B"]),
    )  # fmt: skip
    out = align_clocks(dy, "audio", audio_channel="AUDIO", window=10)
    rep = out.meta["clock"]
    assert abs(rep["mic->A"]["offset"] - m_a[0]) < 1 / NEURAL_SF
    assert abs(rep["mic->B"]["drift_ppm"] - m_b[1]) < 10
    w = out.transcript.words
    expect = m_a[0] + (1 + m_a[1] * 1e-6) * words["onset"].to_numpy()
    assert np.max(np.abs(w["onset"].to_numpy() - expect)) < 1 / NEURAL_SF
    # B's amplifier channel now lines up with A's clock: B's mic envelope lag vs the
    # (moved) mic audio is ~0
    res = find_audio_lag(out["B"].audio, AUDIO_SF, out["B"].raw.get_data(picks="AUDIO")[0],
                         NEURAL_SF, max_lag=1)  # fmt: skip
    assert abs(res.lag_s) < 1 / NEURAL_SF


def test_real_xdf_clock_reset_and_wrong_nominal_rate(shared_data):
    """A real LSL recording: its EEG time stamps reset mid-recording, and the stream's
    nominal 100 Hz is wrong by ~7 %; both must be caught, and the true rate measured."""
    pyxdf = pytest.importorskip("pyxdf")
    streams, _ = pyxdf.load_xdf(
        str(shared_data / "xdf" / "data_with_clock_resets.xdf"),
        dejitter_timestamps=True, synchronize_clocks=False,
    )  # fmt: skip
    eeg = next(s for s in streams if s["info"]["type"] == ["EEG"])
    ts = np.asarray(eeg["time_stamps"])
    k = np.arange(len(ts)) / float(eeg["info"]["nominal_srate"][0])  # device clock
    sel = np.arange(0, len(ts), 40)
    with pytest.raises(ClockError, match="goes back in time"):
        estimate_drift(ts[sel], k[sel], tolerance=0.02)
    reset = int(np.nonzero(np.diff(ts) < 0)[0][0])
    rng = np.random.default_rng(0)
    pick = np.sort(rng.choice(reset, 150, replace=False))  # irregular "triggers" before it
    with pytest.raises(ClockError, match="max_drift_ppm"):
        estimate_drift(ts[pick], k[pick], tolerance=0.02)  # default limit 1000 ppm
    m = estimate_drift(ts[pick], k[pick], tolerance=0.02, max_drift_ppm=1e5)
    assert m.n_used == 150 and m.residual_rms_s < 1e-3
    slope = np.polyfit(k[:reset], ts[:reset], 1)[0]
    assert m.drift_ppm == pytest.approx((slope - 1) * 1e6, abs=1.0)
    assert m.drift_ppm > 5e4  # the stream runs at ~93 Hz, not the nominal 100 Hz


def test_find_audio_lag_with_raw_audio_channel():
    """The amplifier recorded the microphone itself (anti-aliased at 200 Hz, 500 Hz)."""
    from scipy.signal import butter, sosfiltfilt

    rng = np.random.default_rng(10)
    audio, _ = _speech_like(rng, 40)
    lag = 0.5432
    lp = sosfiltfilt(butter(8, 200, fs=AUDIO_SF, output="sos"), audio)
    shift = int(round(lag * AUDIO_SF))
    delayed = np.concatenate([np.zeros(shift), lp, np.zeros(int(AUDIO_SF))])
    ref = delayed[:: int(AUDIO_SF / NEURAL_SF)]
    ref = ref + 0.05 * lp.std() * rng.standard_normal(len(ref))
    res = find_audio_lag(audio, AUDIO_SF, ref, NEURAL_SF, max_lag=2)
    assert res.reliable
    assert abs(res.lag_s - lag) < 0.5 / NEURAL_SF


def test_sync_dyad_shared_channel():
    """Both amplifiers recorded one shared sound; B's clock is offset and drifts."""
    rng = np.random.default_rng(11)
    dur = 90.0
    _, env = _speech_like(rng, dur + 5)
    off, drift = 0.4321, 60.0
    n = int(dur * NEURAL_SF)
    ch_a = _amp_channel(rng, env, 0.0, 0.0, n)
    # amp A runs on the sound's clock; B's sample at t_b holds the sound at off + (1+d) t_b
    t_b = np.arange(n) / NEURAL_SF
    ch_b = np.interp(off + (1 + drift * 1e-6) * t_b, np.arange(len(env)) / AUDIO_SF, env)
    ch_b += 0.05 * env.std() * rng.standard_normal(n)
    mk = lambda ch: ha.make_participant_raw(  # noqa: E731
        np.vstack([rng.standard_normal((1, n)) * 1e-6, ch[None]]), NEURAL_SF,
        ch_names=["c1", "SND"], ch_types=["eeg", "misc"],
    )  # fmt: skip
    dy = ha.Dyad([ha.Participant("A", mk(ch_a)), ha.Participant("B", mk(ch_b))])
    out = align_clocks(dy, "channel", audio_channel="SND", window=10)
    rep = out.meta["clock"]["B->A"]
    t = np.linspace(0, dur, 30)
    model = ClockModel(rep["offset"], rep["drift_ppm"])
    # the same sound is at t_a = off + (1 + d) t_b: sample-exact over the recording
    assert np.max(np.abs(model.to_a(t) - (off + (1 + drift * 1e-6) * t))) < 1 / NEURAL_SF
    a = out["A"].raw.get_data(picks="SND")[0]
    b = out["B"].raw.get_data(picks="SND")[0]
    ok = slice(int(5 * NEURAL_SF), int((dur - 5) * NEURAL_SF))
    assert np.corrcoef(a[ok], b[ok])[0, 1] > 0.95
    with pytest.raises(ValueError, match="not in the raw"):
        align_clocks(dy, "channel", audio_channel="NOPE")


def test_sync_dyad_is_a_deprecated_alias_of_align_clocks():
    """The old names keep working for one release and name the new ones."""
    from hyperalign.align.sync import sync_dyad

    rng = np.random.default_rng(6)
    raw_a, raw_b = _dyad_with_clock(0.25, 50.0)
    ta = np.sort(rng.uniform(1, 59, 30))
    tb = (ta - 0.25) / (1 + 50e-6)
    dy = ha.Dyad([ha.Participant("A", raw_a), ha.Participant("B", raw_b)], dyad_id="clk")
    new = align_clocks(dy, "triggers", triggers={"A": ta, "B": tb}, interpolation="linear")
    with pytest.warns(FutureWarning, match="sync_dyad is deprecated.*align_clocks"):
        old = sync_dyad(dy, "triggers", triggers={"A": ta, "B": tb}, kind="linear")
    assert old.meta["clock"] == new.meta["clock"]
    np.testing.assert_array_equal(old["B"].raw.get_data(), new["B"].raw.get_data())
    model = ClockModel(0.25, 50.0)
    with pytest.warns(FutureWarning, match=r"apply_clock\(kind=\.\.\.\).*use interpolation="):
        b_old = apply_clock(raw_b, model, kind="linear")
    b_new = apply_clock(raw_b, model, interpolation="linear")
    np.testing.assert_array_equal(b_old.get_data(), b_new.get_data())
    with pytest.raises(TypeError, match="inst must be an mne.io.Raw or a Dyad; got 'x'"):
        apply_clock("x", model)
    with pytest.raises(TypeError, match="dyad must be a Dyad; got 'x'"):
        align_clocks("x")
