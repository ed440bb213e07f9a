"""Continuous TRF: hyperalign's penalty search vs MNE's ReceptiveField (one fit per penalty).

Problem: 64 channels, 10 minutes at 128 Hz (76,800 samples), 16 features (e.g. log-mel
bands), delays -0.1..0.4 s (65 lags -> 1,040 columns), 5 penalties.

- MNE: for each penalty, ``ReceptiveField(tmin, tmax, sfreq, estimator=alpha)`` fitted on
  the first 80 % and scored on the last 20 % (5 fits, 5 scores).
- hyperalign: ``fit_trf(..., alphas=5 penalties, cv=5, nested=False)``: every penalty
  scored on 5 contiguous folds (25 fold scores), then a refit on all samples (more work
  than MNE's single split).

Also printed: the held-out r of the last block at each penalty from both (MNE scores only
its valid samples and centres on the training means, so they differ slightly).

Run: ``python benchmarks/bench_trf.py`` (a few minutes on 2 cores); output saved to
``benchmarks/results/bench_trf.txt``.
"""

from __future__ import annotations

import io
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np

SFREQ, MINUTES, N_CH, N_FEAT = 128.0, 10, 64, 16
TMIN, TMAX = -0.1, 0.4
ALPHAS = np.logspace(0, 4, 5)


def simulate(rng):
    n = int(MINUTES * 60 * SFREQ)
    X = rng.standard_normal((n, N_FEAT))
    X = np.apply_along_axis(lambda v: np.convolve(v, np.ones(4) / 4, "same"), 0, X)
    delays = np.arange(int(round(TMIN * SFREQ)), int(round(TMAX * SFREQ)) + 1)
    kern = np.exp(-0.5 * ((delays / SFREQ - 0.1) / 0.05) ** 2)
    mix = rng.standard_normal((N_FEAT, N_CH)) / np.sqrt(N_FEAT)
    drive = np.stack([np.convolve(X[:, f], kern)[:n] for f in range(N_FEAT)], axis=1)
    Y = drive @ mix + 2.0 * rng.standard_normal((n, N_CH))
    return X, Y


def run_mne(X, Y):
    import mne
    from mne.decoding import ReceptiveField

    mne.set_log_level("ERROR")
    cut = int(0.8 * len(X))
    scores = []
    t0 = time.perf_counter()
    for al in ALPHAS:
        rf = ReceptiveField(TMIN, TMAX, SFREQ, estimator=float(al), fit_intercept=True)
        rf.fit(X[:cut], Y[:cut])
        scores.append(rf.score(X[cut:], Y[cut:]))
    return time.perf_counter() - t0, np.array(scores)


def run_ours(X, Y):
    from hyperalign.encoding import fit_trf

    t0 = time.perf_counter()
    res = fit_trf(X, Y, SFREQ, TMIN, TMAX, alphas=ALPHAS, cv=5, nested=False,
                  intercept="inputs")  # fmt: skip
    return time.perf_counter() - t0, res


def main() -> str:
    rng = np.random.default_rng(0)
    X, Y = simulate(rng)
    buf = io.StringIO()
    with redirect_stdout(buf):
        print(f"TRF penalty search: {N_CH} channels x {MINUTES} min at {SFREQ:g} Hz, "
              f"{N_FEAT} features, delays {TMIN}..{TMAX} s, {len(ALPHAS)} penalties")  # fmt: skip
        t_ours, res = run_ours(X, Y)
        t_mne, mne_scores = run_mne(X, Y)
        print(f"{'':28s}{'time (s)':>10s}{'ratio':>8s}")
        print(f"{'MNE ReceptiveField x5':28s}{t_mne:10.2f}{1.0:8.1f}")
        print(f"{'hyperalign fit_trf (5-fold)':28s}{t_ours:10.2f}{t_mne / t_ours:8.1f}")
        # the last fold (the last 20 %) at each penalty: r averaged over channels
        # (MNE's score is R^2 by default; compare both on r via cv_r of fold 5 below)
        print("held-out R^2 (MNE, last 20 %, mean over channels) per penalty:",
              np.round(mne_scores.mean(1), 4).tolist())  # fmt: skip
        print("hyperalign cv r (mean over folds and channels) per penalty:",
              np.round(res.dataset['cv_r'].mean('target').values, 4).tolist())  # fmt: skip
    return buf.getvalue()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    out = main()
    print(out, end="")
    dest = Path(__file__).resolve().parent / "results" / "bench_trf.txt"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(out)
