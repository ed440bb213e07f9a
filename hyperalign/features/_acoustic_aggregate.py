"""Aggregation of frame features over word or utterance spans (cumulative sums)."""

from __future__ import annotations

import numpy as np

from ._acoustic_dsp import P_REF
from ._acoustic_frames import _Channel


# ---------------------------------------------------------------------- span aggregation
def _span_index(onset: np.ndarray, offset: np.ndarray, ch: _Channel) -> tuple[np.ndarray, ...]:
    """Frame index ranges ``[i0, i1)`` of frames centred inside ``[onset, offset)``."""
    i0 = np.clip(np.ceil(onset * ch.frame_rate - 1e-9).astype(int), 0, ch.n_frames)
    i1 = np.clip(np.ceil(offset * ch.frame_rate - 1e-9).astype(int), 0, ch.n_frames)
    return i0, np.maximum(i1, i0)


def _span_sum(values: np.ndarray, i0: np.ndarray, i1: np.ndarray) -> np.ndarray:
    """Sum of ``values[..., i0:i1]`` for every span, via a cumulative sum (last axis)."""
    cs = np.concatenate([np.zeros(values.shape[:-1] + (1,)), np.cumsum(values, -1)], -1)
    return cs[..., i1] - cs[..., i0]


def _nan_mean_sd(values, i0, i1):
    ok = np.isfinite(values)
    v = np.where(ok, values, 0.0)
    n = _span_sum(ok.astype(float), i0, i1)
    s = _span_sum(v, i0, i1)
    s2 = _span_sum(v * v, i0, i1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s / n
        var = (s2 - n * mean**2) / (n - 1)
    sd = np.sqrt(np.maximum(var, 0.0))
    mean[n == 0] = np.nan
    sd[n < 2] = np.nan
    return mean, sd, n


def _pauses(ch: _Channel, i0: np.ndarray, i1: np.ndarray, min_pause: float):
    """Count and mean length (s) of silent runs >= min_pause strictly inside each span."""
    s = ch.silent.astype(np.int8)
    d = np.diff(np.r_[0, s, 0])
    starts, ends = np.nonzero(d == 1)[0], np.nonzero(d == -1)[0]
    min_n = int(np.ceil(min_pause * ch.frame_rate - 1e-9))
    n_p = np.zeros(len(i0), int)
    mean_p = np.zeros(len(i0))
    lo = np.searchsorted(ends, i0, side="right")
    hi = np.searchsorted(starts, i1, side="left")
    for k in range(len(i0)):
        if hi[k] <= lo[k]:
            continue
        a, b = starts[lo[k] : hi[k]], ends[lo[k] : hi[k]]
        inner = (a > i0[k]) & (b < i1[k]) & (b - a >= min_n)
        if inner.any():
            n_p[k] = int(inner.sum())
            mean_p[k] = float((b - a)[inner].mean() / ch.frame_rate)
    return n_p, mean_p


def _aggregate(ch: _Channel, onset: np.ndarray, offset: np.ndarray, min_pause: float) -> dict:
    i0, i1 = _span_index(onset, offset, ch)
    n = (i1 - i0).astype(float)
    dur = offset - onset
    out: dict[str, np.ndarray] = {}
    out["n_frames"] = (i1 - i0).astype(int)
    with np.errstate(invalid="ignore", divide="ignore"):
        m, sd, _ = _nan_mean_sd(ch.envelope, i0, i1)
        out["env_mean"], out["env_sd"] = m, sd
        f0m, f0sd, nv = _nan_mean_sd(ch.f0, i0, i1)
        st = 12 * np.log2(ch.f0 / 100.0)
        stm, stsd, _ = _nan_mean_sd(st, i0, i1)
        out["f0_mean"], out["f0_sd"] = f0m, f0sd
        out["f0_mean_st"] = stm  # mean of frame semitones = 12 log2(geometric mean / 100)
        out["f0_sd_st"] = stsd
        out["voiced_prop"] = nv / n
        out["intensity_db"] = 10 * np.log10(_span_sum(ch.ms, i0, i1) / n / P_REF**2)
        nsyl = _span_sum(ch.syll_peak.astype(float), i0, i1)
        out["n_syllables"] = nsyl.astype(int)
        out["rate_sps"] = nsyl / dur
        npau, mpau = _pauses(ch, i0, i1, min_pause)
        out["n_pauses"], out["pause_mean"] = npau, mpau
        out["silence_prop"] = _span_sum(ch.silent.astype(float), i0, i1) / n
        out["mic_silent"] = (n > 0) & (_span_sum(ch.dead.astype(float), i0, i1) >= n)
        if ch.power is not None:
            voiced = (~ch.silent).astype(float)
            nv_s = _span_sum(voiced, i0, i1)
            # long-term average spectrum over the span's non-silent frames
            ltas = _span_sum(ch.power * voiced, i0, i1) / nv_s
            f = ch.freqs[:, None]
            out["spectral_centroid"] = (f * ltas).sum(0) / ltas.sum(0)
            band = (ch.freqs >= 100) & (ch.freqs <= min(5000.0, ch.freqs[-1]))
            lx = np.log2(ch.freqs[band])
            ly = 10 * np.log10(np.maximum(ltas[band], 1e-30))
            lxc = lx - lx.mean()
            out["spectral_slope"] = (lxc[:, None] * (ly - ly.mean(0))).sum(0) / (lxc**2).sum()
            mf = _span_sum(ch.mfcc * voiced, i0, i1) / nv_s
            for j in range(mf.shape[0]):
                out[f"mfcc{j + 1}"] = mf[j]
            bad = nv_s == 0
            for key in ["spectral_centroid", "spectral_slope"] + [
                f"mfcc{j + 1}" for j in range(mf.shape[0])
            ]:
                out[key] = np.where(bad, np.nan, out[key])
    return out
