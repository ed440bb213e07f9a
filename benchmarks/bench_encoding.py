"""Benchmark: hyperalign's ridge and banded ridge solvers against himalaya, in one process.

Ridge: word-level encoding at the scale of the issue, 4,000 words x 50 features x 8,256
targets (64 channels x 129 lags), 10 contiguous outer x 5 inner folds, 20 penalties, nested
CV (penalty chosen per target inside each outer fold, out-of-fold predictions). hyperalign
runs on all 8,256 targets (best of ``--repeat``). himalaya's ``RidgeCV`` (same folds, grid
and correlation score) runs on two subsets of targets; its time is linear in the number of
targets (``a + b * T``: the per-fold resolution matrices plus one product per target
column), so the two timings give its time on 8,256 targets. hyperalign is also run on the
same subsets, and the out-of-fold predictions and scores are compared there.

Banded ridge: 3 feature spaces (32 + 16 + 4 features), 2,000 samples x 256 targets, 5 folds,
10 penalties, the same 10 simplex candidates for both, fitted on the first 80 % of rows;
held-out scores on the last 20 % compared.

Both libraries use one BLAS thread (``--threads``): the machine is shared, and one thread
per process is what both get there. Peak memory of the hyperalign ridge run: tracemalloc
(NumPy allocations) and the process VmHWM.

Run: ``.venv/bin/python benchmarks/bench_encoding.py [--subsets 96 192] [--repeat 2]``
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
import warnings

import numpy as np

N_WORDS, N_FEAT, N_CH, N_LAGS = 4000, 50, 64, 129
ALPHAS = np.logspace(-1, 6, 20)
N_JOBS = [1]


def _vmhwm_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _data(n_targets: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N_WORDS, N_FEAT))
    X = X + 0.5 * np.roll(X, 1, axis=0)  # some autocorrelation, like contextual embeddings
    W = rng.standard_normal((N_FEAT, n_targets)) * rng.uniform(0, 0.15, n_targets)
    Y = X @ W + rng.standard_normal((N_WORDS, n_targets))
    return X, Y


def _say(lines: list, line: str) -> None:
    lines.append(line)
    print(line, flush=True)


def _best_of(fn, repeat: int):
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _himalaya_nested(X, Y):
    from himalaya.ridge import RidgeCV
    from himalaya.scoring import correlation_score
    from sklearn.model_selection import KFold

    preds = np.zeros_like(Y)
    for train, test in KFold(10).split(X):
        model = RidgeCV(
            alphas=ALPHAS,
            cv=KFold(5),
            fit_intercept=True,
            solver_params={"score_func": correlation_score},
        )
        model.fit(X[train], Y[train])
        preds[test] = model.predict(X[test])
    return preds


def ridge_part(subsets=(96, 192), repeat: int = 2) -> list[str]:
    from hyperalign.encoding.ridge import nested_ridge_cv
    from hyperalign.encoding.scores import correlation_score

    n_targets = N_CH * N_LAGS
    X, Y = _data(n_targets)

    def ours(Ysub, dtype="float64"):
        return nested_ridge_cv(
            X,
            Ysub,
            alphas=ALPHAS,
            outer_cv=10,
            inner_cv=5,
            score="r",
            edge_warning=None,
            n_jobs=N_JOBS[0],
            dtype=dtype,
        )

    lines = []
    _say(
        lines,
        f"ridge: {N_WORDS} words x {N_FEAT} features x {n_targets} targets "
        f"({N_CH} ch x {N_LAGS} lags), 10 outer x 5 inner contiguous folds, {len(ALPHAS)} "
        "penalties, nested CV",
    )
    rows = []
    for T in subsets:
        t_h, p_h = _best_of(lambda T=T: _himalaya_nested(X, Y[:, :T]), 1)
        t_o, fit = _best_of(lambda T=T: ours(Y[:, :T]), repeat)
        dp = np.abs(fit.predictions_ - p_h).max() / np.abs(p_h).max()
        r_h = correlation_score(Y[:, :T], p_h)
        r_o = correlation_score(Y[:, :T], fit.predictions_)
        rows.append((T, t_h, t_o))
        _say(
            lines,
            f"  {T:5d} targets: himalaya {t_h:8.2f} s | hyperalign {t_o:6.2f} s | "
            f"ratio {t_h / t_o:6.1f}x | max rel diff of predictions {dp:.1e}, of "
            f"out-of-fold r {np.abs(r_h - r_o).max():.1e}",
        )
    (T1, h1, _), (T2, h2, _) = rows[0], rows[-1]
    b = (h2 - h1) / (T2 - T1)
    a = max(h1 - b * T1, 0.0)
    t_h_full = a + b * n_targets
    tracemalloc.start()
    t_o_full, fit = _best_of(lambda: ours(Y), repeat)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    _say(
        lines,
        f"  {n_targets:5d} targets: himalaya ~{t_h_full:7.0f} s (a + b*T from the subsets: "
        f"a = {a:.1f} s, b = {b * 1000:.1f} ms/target) | hyperalign {t_o_full:6.2f} s | "
        f"ratio ~{t_h_full / t_o_full:5.0f}x",
    )
    t32, fit32 = _best_of(lambda: ours(Y, dtype="float32"), repeat)
    r64 = correlation_score(Y, fit.predictions_)
    r32 = correlation_score(Y, fit32.predictions_)
    _say(
        lines,
        f"  hyperalign float32: {t32:6.2f} s (ratio ~{t_h_full / t32:5.0f}x), max |r32 - r64| "
        f"{np.abs(r32 - r64).max():.1e}",
    )
    data_mb = (X.nbytes + Y.nbytes + fit.predictions_.nbytes) / 2**20
    _say(
        lines,
        f"  peak memory of the hyperalign run: {peak / 2**20:.0f} MB traced (NumPy), of which "
        f"{data_mb:.0f} MB are X, Y and the predictions; process VmHWM {_vmhwm_mb():.0f} MB",
    )
    _say(lines, f"  mean out-of-fold r over targets: {np.mean(fit.fold_scores_):.4f}")
    return lines


def banded_part(repeat: int = 2) -> list[str]:
    from himalaya.ridge import solve_group_ridge_random_search
    from himalaya.scoring import correlation_score as h_corr
    from sklearn.model_selection import KFold

    from hyperalign.encoding.banded import banded_ridge_cv, dirichlet_candidates
    from hyperalign.encoding.scores import correlation_score

    rng = np.random.default_rng(1)
    n, T, sizes = 2000, 256, (32, 16, 4)
    Xs = [rng.standard_normal((n, s)) for s in sizes]
    Y = (
        Xs[0] @ rng.standard_normal((32, T)) * 0.1
        + Xs[1] @ rng.standard_normal((16, T)) * 0.05
        + rng.standard_normal((n, T))
    )
    alphas = np.logspace(-1, 5, 10)
    gammas = dirichlet_candidates(10, 3, random_state=0)
    cut = int(0.8 * n)
    train = [X[:cut] for X in Xs]
    test = [X[cut:] for X in Xs]

    def him():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, w, _, b = solve_group_ridge_random_search(
                train, Y[:cut], n_iter=gammas, alphas=alphas, fit_intercept=True,
                score_func=h_corr, cv=KFold(5), return_weights=True, progress_bar=False,
            )  # fmt: skip
        return np.concatenate(test, 1) @ w + b

    def ours():
        fit = banded_ridge_cv(train, Y[:cut], alphas=alphas, cv=5, n_iter=gammas, n_jobs=N_JOBS[0])
        return fit.predict(test)

    t_h, p_h = _best_of(him, 1)
    t_o, p_o = _best_of(ours, repeat)
    r_h = correlation_score(Y[cut:], p_h)
    r_o = correlation_score(Y[cut:], p_o)
    return [
        f"banded ridge: 3 spaces {sizes}, {n} samples x {T} targets, 5 folds, {len(alphas)} "
        f"penalties, {len(gammas)} simplex candidates",
        f"  himalaya random search {t_h:7.2f} s | hyperalign {t_o:6.2f} s | ratio "
        f"{t_h / t_o:5.1f}x",
        f"  held-out r (last 20 %): himalaya {r_h.mean():.6f} | hyperalign {r_o.mean():.6f} | "
        f"max |diff| {np.abs(r_h - r_o).max():.1e}",
    ]


def main(argv=None) -> list[str]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subsets", type=int, nargs=2, default=(96, 192))
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads for both libraries")
    ap.add_argument("--skip-ridge", action="store_true")
    ap.add_argument("--skip-banded", action="store_true")
    args = ap.parse_args(argv)
    from threadpoolctl import threadpool_limits

    lines = []
    N_JOBS[0] = args.threads
    with threadpool_limits(args.threads):
        import torch

        torch.set_num_threads(args.threads)
        if not args.skip_banded:
            lines += banded_part(args.repeat)
            print("\n".join(lines), flush=True)
        if not args.skip_ridge:
            lines += ridge_part(tuple(args.subsets), args.repeat)
    return lines


if __name__ == "__main__":
    main()
