"""Continuous TRF: hyperalign's penalty search vs MNE's ReceptiveField (one fit per penalty).

Problem: 64 channels, 10 minutes at 128 Hz (76,800 samples), 16 features (e.g. log-mel
bands), delays -0.1..0.4 s (65 lags -> 1,040 columns), 5 penalties.

- MNE: for each penalty, ``ReceptiveField(tmin, tmax, sfreq, estimator=alpha)`` fitted on
  the first 80 % and scored on the last 20 % (5 fits, 5 scores).
- hyperalign: ``fit_trf(..., alphas=5 penalties, cv=5, nested=False)``: every penalty
  scored on 5 contiguous folds (25 fold scores), then a refit on all samples (more work
  than MNE's single split).

MNE is timed with its default BLAS threads and with one; its numba JIT is compiled in a
warm-up outside the timings. Also printed: the held-out R^2 of the same split at each
penalty from both (MNE scores only its valid samples and centres on the training means, so
they differ slightly).

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


def run_mne(X, Y, n_threads=None):
    from mne.decoding import ReceptiveField

    if n_threads is not None:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(n_threads):
            return run_mne(X, Y)
    cut = int(0.8 * len(X))
    scores = []
    t0, c0 = time.perf_counter(), time.process_time()
    for al in ALPHAS:
        rf = ReceptiveField(TMIN, TMAX, SFREQ, estimator=float(al), fit_intercept=True)
        rf.fit(X[:cut], Y[:cut])
        scores.append(rf.score(X[cut:], Y[cut:]))
    return (time.perf_counter() - t0, time.process_time() - c0), np.array(scores)


def run_ours(X, Y, cv=5):
    from hyperalign.encoding import fit_trf

    t0, c0 = time.perf_counter(), time.process_time()
    res = fit_trf(X, Y, SFREQ, TMIN, TMAX, alphas=ALPHAS, cv=cv, nested=False,
                  intercept="inputs")  # fmt: skip
    return (time.perf_counter() - t0, time.process_time() - c0), res


def warm_up():
    """JIT compilation (MNE's numba edge correction) and imports, outside the timings."""
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((2000, 2)), rng.standard_normal((2000, 2))
    from mne.decoding import ReceptiveField

    from hyperalign.encoding import fit_trf

    ReceptiveField(TMIN, TMAX, SFREQ, estimator=1.0).fit(x, y).score(x, y)
    fit_trf(x, y, SFREQ, TMIN, TMAX, alphas=[1.0, 2.0], cv=3, nested=False)


def main() -> str:
    rng = np.random.default_rng(0)
    X, Y = simulate(rng)
    import mne

    mne.set_log_level("ERROR")
    buf = io.StringIO()
    with redirect_stdout(buf):
        print(f"TRF penalty search: {N_CH} channels x {MINUTES} min at {SFREQ:g} Hz, "
              f"{N_FEAT} features, delays {TMIN}..{TMAX} s, {len(ALPHAS)} penalties")  # fmt: skip
        warm_up()
        cut = int(0.8 * len(X))
        t_mne, mne_scores = run_mne(X, Y)
        t_mne1, _ = run_mne(X, Y, n_threads=1)
        t_one, one = run_ours(X, Y, cv=[(cut, len(X))])
        t_ours, res = run_ours(X, Y)
        print(f"{'':36s}{'wall (s)':>9s}{'ratio':>7s}{'cpu (s)':>9s}{'ratio':>7s}")
        for name, t in (("MNE ReceptiveField x5 (80/20)", t_mne),
                        ("MNE ReceptiveField x5, 1 BLAS thread", t_mne1),
                        ("hyperalign fit_trf, same split", t_one),
                        ("hyperalign fit_trf, 5-fold + refit", t_ours)):  # fmt: skip
            print(f"{name:36s}{t[0]:9.2f}{t_mne[0] / t[0]:7.1f}{t[1]:9.2f}{t_mne[1] / t[1]:7.1f}")
        best = min(t_mne[0], t_mne1[0])
        print(f"ratio to the faster MNE run: same split {best / t_one[0]:.1f}x, "
              f"5-fold + refit {best / t_ours[0]:.1f}x (wall)")  # fmt: skip
        print("hyperalign runs with one BLAS thread (n_jobs=None); MNE with the default")
        print("threads and with one (threadpoolctl); the machine is shared by other users.")
        print("held-out R^2 on the same split (MNE scores its valid samples only):")
        print("  MNE       ", np.round(mne_scores.mean(1), 4).tolist())
        print("  hyperalign", np.round(one.dataset["cv_r2"].mean("target").values, 4).tolist())
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
