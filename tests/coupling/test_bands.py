"""Band specificity: measured filter edges, overlap warnings, and planted theta stays in theta."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from hyperalign.coupling import bands as hb
from hyperalign.coupling.dyad_sync import compute_dyad_sync
from hyperalign.coupling.spectral import analytic_signal
from hyperalign.pipeline.config import load_config

ROOT = Path(__file__).resolve().parents[2]
ADJACENT = {"theta": (4.0, 8.0), "alpha": (8.0, 13.0)}


def _demo_coupling() -> dict:
    """The shipped pipeline's (and the demo's) band and filter settings."""
    return load_config(ROOT / "pipelines" / "semantic_vs_acoustic.yaml")["coupling"]


@pytest.mark.parametrize("method", ["fft", "hypyp"])
def test_band_edges_measured_from_the_design(method):
    e = hb.band_edges(ADJACENT, 256.0, method=method).set_index("band")
    # MNE's automatic widths: 2 Hz at 4 and 8 Hz, 3.25 Hz at 13 Hz; -6 dB half way
    assert e.loc["alpha", "cut_lo"] == pytest.approx(7.0, abs=0.05)
    assert e.loc["theta", "cut_hi"] == pytest.approx(9.0, abs=0.05)
    assert e.loc["alpha", "cut_hi"] == pytest.approx(13 + 3.25 / 2, abs=0.05)
    assert 6.0 < e.loc["alpha", "stop_lo"] < 6.3  # the transition reaches down to ~6 Hz
    assert 9.7 < e.loc["theta", "stop_hi"] < 10.0


@pytest.mark.parametrize("method", ["fft", "hypyp"])
def test_overlap_warns_naming_both_bands(method, caplog):
    with caplog.at_level(logging.WARNING, logger="hyperalign"):
        ov = hb.check_band_overlap(ADJACENT, 256.0, method=method)
    assert len(ov) == 1 and ov.loc[0, "band_a"] == "theta" and ov.loc[0, "band_b"] == "alpha"
    assert 3.5 < ov.loc[0, "overlap_hz"] < 4.0
    assert "'theta' (4-8 Hz" in caplog.text and "'alpha' (8-13 Hz" in caplog.text
    assert "overlap by 3." in caplog.text and "l_trans_bandwidth" in caplog.text


def test_overlap_strict_raises():
    with pytest.raises(ValueError, match=r"'theta'.*'alpha'.*overlap by 3\.\d+ Hz"):
        hb.check_band_overlap(ADJACENT, 256.0, method="fft", strict=True)
    with pytest.raises(TypeError, match="strict"):
        hb.check_band_overlap(ADJACENT, 256.0, strict="yes")


def test_demo_settings_keep_bands_apart(caplog):
    c = _demo_coupling()
    bands = {k: tuple(v) for k, v in c["bands"].items()}
    for method in ("fft", "hypyp"):
        with caplog.at_level(logging.WARNING, logger="hyperalign"):
            ov = hb.check_band_overlap(
                bands, 256.0, method=method, filter_kwargs=c["filter_kwargs"], strict=True
            )
        assert ov.empty
        leak = hb.band_leakage(
            bands, 256.0, source=(4.0, 8.0), method=method, filter_kwargs=c["filter_kwargs"]
        ).set_index("band")
        assert leak.loc["alpha", "power_fraction"] < 1e-4
        assert leak.loc["theta", "power_fraction"] > 0.99
    assert "band overlap" not in caplog.text
    before = hb.band_leakage(ADJACENT, 256.0, source=(4.0, 8.0), method="fft")
    assert before.set_index("band").loc["alpha", "power_fraction"] > 0.15


def test_fft_transition_widths_used_by_the_engine():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 256 * 20))
    kw = {"l_trans_bandwidth": 0.5, "h_trans_bandwidth": 0.5}
    z = analytic_signal(x, 256.0, {"alpha": (9.0, 13.0)}, filter_method="fft", filter_kwargs=kw)[
        0, 0
    ]
    spec = np.abs(np.fft.rfft(z.real))
    f = np.fft.rfftfreq(z.size, 1 / 256.0)
    assert spec[(f < 8.5) | (f > 13.5)].max() < 1e-8 * spec.max()
    with pytest.raises(
        ValueError, match=r"filter_method='fft' takes only.*got filter_method='fft'"
    ):
        analytic_signal(
            x, 256.0, {"a": (9.0, 13.0)}, filter_method="fft", filter_kwargs={"pad": "x"}
        )
    with pytest.raises(ValueError, match=r"l_trans_bandwidth'\] must be 'auto' or a width"):
        hb.fft_transitions(9.0, 13.0, 256.0, {"l_trans_bandwidth": -1})


def test_compute_dyad_sync_strict_bands():
    from hyperalign.simulation import simulate_conversation

    dy, _ = simulate_conversation(duration=30, n_channels=4, audio=False, random_state=0)
    with pytest.raises(ValueError, match="band overlap with filter='fft'"):
        compute_dyad_sync(
            dy, metrics="plv", bands=ADJACENT, filter_method="fft", strict_bands=True
        )


def _planted_excess(bands, filter_kwargs):
    """Mean speaker->listener PLV in the coupled channels at the planted lag, planted - none."""
    from hyperalign.simulation import simulate_conversation

    out = []
    for planted in (True, False):
        sizes = {} if planted else dict(coupling_base=0, semantic_coupling=0, acoustic_coupling=0)
        dy, truth = simulate_conversation(
            duration=60, n_channels=8, audio=False, random_state=1, **sizes
        )
        ch = truth.channels["coupling"]
        c = compute_dyad_sync(
            dy, metrics="plv", bands=bands, lags=(round(truth.lag, 3),), filter_method="fft",
            filter_kwargs=filter_kwargs, picks=ch,
        )  # fmt: skip
        v = c.xarray.sel(metric="plv").mean("epochs")
        out.append(np.mean([v.isel(node_in=i, node_out=i).values for i in range(len(ch))], 0))
    excess = (out[0] - out[1]).ravel()
    return dict(zip(bands, excess))


def test_planted_theta_found_in_theta_not_alpha_with_demo_settings():
    c = _demo_coupling()
    bands = {k: tuple(v) for k, v in c["bands"].items()}
    assert c["filter"] == "fft"
    ex = _planted_excess(bands, c["filter_kwargs"])
    assert ex["theta"] > 0.1  # planted 4-8 Hz coupling found (measured +0.21)
    assert abs(ex["alpha"]) < 0.03  # and not in alpha (measured +0.004)
    # the old settings (adjacent bands, automatic transitions) let it into alpha (+0.15)
    old = _planted_excess(ADJACENT, None)
    assert old["alpha"] > 0.08


def test_iir_design_measured_too():
    # a 4th-order Butterworth run forwards and backwards: -6 dB at the nominal edges, but
    # slow skirts, so the guard band that keeps the FIR/FFT bands apart is not enough
    bands = {"theta": (4.0, 8.0), "alpha": (9.0, 13.0)}
    e = hb.band_edges(bands, 256.0, method="hypyp", filter_kwargs={"method": "iir"})
    e = e.set_index("band")
    assert e.loc["theta", "cut_hi"] == pytest.approx(8.0, abs=0.02)
    assert e.loc["theta", "stop_hi"] > 10.0 and e.loc["alpha", "stop_lo"] < 8.0
    ov = hb.check_band_overlap(bands, 256.0, method="hypyp", filter_kwargs={"method": "iir"})
    assert len(ov) == 1
