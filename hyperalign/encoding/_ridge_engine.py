"""The cross-validated ridge engine behind :func:`ridge_cv`, :func:`nested_ridge_cv` and the
banded search.

Work is organised per batch of targets (memory stays bounded whatever the number of
targets) and, inside a batch, per *task*: a pool of rows (all rows for ``ridge_cv``, the
outer training rows for each outer fold of the nested version) with its folds, an optional
refit at the chosen penalties and optional test rows to predict.

Training cross-products are never recomputed from the training rows: with ``S = X^T Y``
over a pool, the training block of a fold is ``S_train = S_pool - X_te^T Y_te`` (minus
rows in neither set, such as purge gaps), so a fold costs ``n_te * p * T`` instead of
``n_tr * p * T``; the same test product gives the test-side cross-products of the reduced
basis. Features and targets are centred once on their global means (ridge with intercept
is unchanged by it), which keeps these sums well conditioned in float32.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._solvers_backend import (
    Backend,
    Decomposition,
    FoldScorer,
    decompose,
    select_alphas,
)


def _rows(bk: Backend, idx: np.ndarray):
    """A slice when the rows are one contiguous run (a view, no copy), else an index array."""
    idx = np.asarray(idx)
    if idx.size and idx[-1] - idx[0] + 1 == idx.size and np.all(np.diff(idx) == 1):
        return slice(int(idx[0]), int(idx[-1]) + 1)
    return bk.index(idx)


def _centre_globally(bk, X, Y, fit_intercept):
    """Global means of ``X`` and ``Y`` (zeros without intercept) and ``X`` centred on the backend.

    Ridge with an intercept is unchanged by it; it keeps the subtracted sums well
    conditioned in float32.
    """
    xbar = X.mean(0) if fit_intercept else np.zeros(X.shape[1])
    ybar = Y.mean(0) if fit_intercept else np.zeros(Y.shape[1])
    return xbar, ybar, bk.asarray(X - xbar if fit_intercept else X)


@dataclass
class Task:
    """A pool of rows with its folds (absolute rows), and what to do after the search."""

    pool: np.ndarray
    folds: list
    test: np.ndarray | None = None
    fixed_alphas: np.ndarray | None = None  # skip the search, refit at these (n_targets,)


@dataclass
class _Geom:
    tr: object
    te: object
    gap: object | None
    n_tr: int
    n_te: int
    use_sub: bool
    mx: object
    sx_te: object
    Xte: object


def _geometry(bk, Xg, pool, train, test, fit_intercept) -> _Geom:
    """Rows of one fold: train, test, and the rows of ``pool`` in neither (purge gaps)."""
    gap = np.setdiff1d(pool, np.union1d(train, test), assume_unique=True)
    tr, te = _rows(bk, train), _rows(bk, test)
    Xte = Xg[te]
    return _Geom(
        tr=tr,
        te=te,
        gap=_rows(bk, gap) if gap.size else None,
        n_tr=len(train),
        n_te=len(test),
        use_sub=(len(test) + gap.size) < len(train),
        mx=Xg[tr].mean(0) if fit_intercept else bk.zeros((Xg.shape[1],)),
        sx_te=Xte.sum(0),
        Xte=Xte,
    )


def _fold_products(bk, g: _Geom, Xg, Yb, S_all, sy_all, fit_intercept):
    """Unscaled centred cross-products of one fold: ``(F_c, H, Yte, my)``."""
    Yte = Yb[g.te]
    sy_te = Yte.sum(0)
    XtY_te = g.Xte.T @ Yte
    if g.use_sub:
        F, sy = S_all - XtY_te, sy_all - sy_te
        if g.gap is not None:
            Yg = Yb[g.gap]
            F, sy = F - Xg[g.gap].T @ Yg, sy - Yg.sum(0)
    else:
        Ytr = Yb[g.tr]
        F, sy = Xg[g.tr].T @ Ytr, Ytr.sum(0)
    my = sy / g.n_tr if fit_intercept else sy * 0
    if fit_intercept:
        F = F - (g.n_tr * g.mx)[:, None] * my[None, :]
    H = XtY_te - g.sx_te[:, None] * (sy_te / g.n_te)[None, :]
    return F, H, Yte, my


@dataclass
class _Fold:
    g: _Geom
    dec: Decomposition
    scorer: FoldScorer
    use_sub: bool
    Xtr_c: object | None


@dataclass
class _Pool:
    idx: object
    out: object | None
    n: int
    n_out: int
    mx: object
    dec: Decomposition
    Xc: object | None
    Ate: object | None = None  # (Xte - mx) W of the task's test rows, made on first use


def _prep_fold(bk, X, pool, train, test, fit_intercept, solver) -> _Fold:
    g = _geometry(bk, X, pool, train, test, fit_intercept)
    Xtr_c = X[g.tr] - g.mx if fit_intercept else X[g.tr]
    dec = decompose(Xtr_c, bk, solver)
    use_sub = dec.U is None and g.use_sub
    return _Fold(
        g=g,
        dec=dec,
        scorer=FoldScorer(dec, g.Xte - g.mx, bk),
        use_sub=use_sub,
        Xtr_c=None if use_sub else Xtr_c,
    )


def _prep_pool(bk, X, pool, fit_intercept, solver) -> _Pool:
    out = np.setdiff1d(np.arange(X.shape[0]), pool, assume_unique=True)
    idx = _rows(bk, pool)
    Xp = X[idx]
    mx = Xp.mean(0) if fit_intercept else bk.zeros((X.shape[1],))
    Xc = Xp - mx if fit_intercept else Xp
    dec = decompose(Xc, bk, solver)
    return _Pool(
        idx=idx,
        out=_rows(bk, out) if out.size else None,
        n=len(pool),
        n_out=out.size,
        mx=mx,
        dec=dec,
        Xc=None if dec.U is None else Xc,
    )


def _fold_scores(bk, f: _Fold, X, Yb, S_pool, sy_pool, alphas, score, fit_intercept):
    dec, g = f.dec, f.g
    if f.use_sub:  # dec.U is None and g.use_sub: the cross-products by subtraction
        F, H, Yte, my = _fold_products(bk, g, X, Yb, S_pool, sy_pool, fit_intercept)
        B = dec.W.T @ F
        C = dec.W.T @ H
    else:
        Yte = Yb[g.te]
        sy_te = Yte.sum(0)
        Ytr = Yb[g.tr]
        my = Ytr.mean(0) if fit_intercept else Ytr.mean(0) * 0
        B = dec.project(Ytr - my if fit_intercept else Ytr, f.Xtr_c)
        C = f.scorer.Ac.T @ (Yte - sy_te / g.n_te)
    return f.scorer.score(B, C, Yte, my, alphas, score)


def _pool_sums(bk, p: _Pool, X, Yb, S_all, sy_all):
    if p.dec.U is not None:  # dual: no cross-products needed, only the target sums
        return None, (sy_all if p.out is None else Yb[p.idx].sum(0))
    if p.out is None:
        return S_all, sy_all
    if p.n_out < p.n and S_all is not None:
        Yo = Yb[p.out]
        return S_all - X[p.out].T @ Yo, sy_all - Yo.sum(0)
    Yp = Yb[p.idx]
    return X[p.idx].T @ Yp, Yp.sum(0)


def _pool_B(bk, p: _Pool, Yb, S_pool, sy_pool, fit_intercept):
    """Projected pool targets ``B`` (k x T) and the pool's target means ``my``."""
    dec = p.dec
    my = sy_pool / p.n if fit_intercept else sy_pool * 0
    if dec.U is None:
        F = S_pool - (p.n * p.mx)[:, None] * my[None, :] if fit_intercept else S_pool
        return dec.W.T @ F, my
    Yp = Yb[p.idx]
    return dec.U.T @ (Yp - my if fit_intercept else Yp), my


def gcv_scores(bk, p: _Pool, Yb, B, my, alphas, fit_intercept) -> np.ndarray:
    """Minus the generalised cross-validation error of every penalty, per target, relative
    to the target's pool variance: ``(n_alphas, T)`` NumPy float64 (higher is better).

    GCV (Golub, Heath & Wahba 1979) in the eigenbasis of the pool: with ``c = u^T y`` the
    targets on the left singular vectors, the residual sum of squares is
    ``||y_out||^2 + sum_l (alpha d_l c_l)^2`` and the degrees of freedom
    ``n0 + sum_l ev_l d_l`` (``d = 1 / (ev + alpha)``, ``n0 = 1`` with an intercept), so a
    penalty costs ``k * T``. Both are written without differences of large numbers (the
    denominator as ``n - n0 - k + sum_l alpha d_l``), which keeps the interpolating regime
    (``k = n - n0``) exact.
    """
    dec = p.dec
    Yp = Yb[p.idx]
    Yc = Yp - my if fit_intercept else Yp
    ysq = (Yc * Yc).sum(0)
    c2 = B * B if dec.U is not None else (B * B) / dec.ev[:, None]
    n0 = 1 if fit_intercept else 0
    a = bk.asarray(np.asarray(alphas, dtype=float))
    S = a[:, None] / (dec.ev[None, :] + a[:, None])  # alpha * d, (n_alphas, k)
    full = p.n - n0 - dec.k <= 0
    out = 0.0 * ysq if full else bk.where(ysq > c2.sum(0), ysq - c2.sum(0), 0.0)
    rss = out[None, :] + (S * S) @ c2
    den = (p.n - n0 - dec.k + S.sum(1)) / p.n  # 1 - df / n, (n_alphas,)
    gcv = bk.to_numpy(rss).astype(np.float64) / p.n / (bk.to_numpy(den)[:, None] ** 2)
    scale = bk.to_numpy(ysq).astype(np.float64) / p.n
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(scale > 0, -gcv / np.where(scale > 0, scale, 1.0), 0.0)


@dataclass
class TaskResult:
    """NumPy results of one task (filled batch by batch)."""

    mean_scores: np.ndarray | None
    best_alphas: np.ndarray
    best_idx: np.ndarray
    coef: np.ndarray | None
    intercept: np.ndarray | None
    predictions: np.ndarray | None


def batch_size(n_targets, n_rows, n_features, k, itemsize, budget=256 * 2**20) -> int:
    """Targets per batch so that the per-batch arrays stay within about ``budget`` bytes."""
    per_target = itemsize * (2 * n_rows + 3 * n_features + 8 * k + 16)
    return int(max(1, min(n_targets, budget // per_target)))


def _prep_bytes(tasks, n, p, itemsize) -> int:
    """Rough size of the cached fold decompositions of all tasks."""
    total = 0
    for t in tasks:
        for tr, te in [(t.pool, [])] + list(t.folds):
            k = min(len(tr), p)
            dual = len(tr) < p
            total += len(te) * (p + k) + p * k + k * k + (len(tr) * p if dual else 0)
    return total * itemsize


def run_tasks(
    bk: Backend,
    X,
    Y,
    tasks: list[Task],
    alphas: np.ndarray,
    *,
    fit_intercept: bool,
    score: str,
    solver: str,
    n_batch: int | None,
    keep_scores: bool = False,
    keep_coef: bool = True,
    prep_budget: int = 2**30,
    search: str = "cv",
) -> list[TaskResult]:
    """Run every task over batches of targets; ``X``/``Y`` are NumPy, results NumPy.

    The per-fold decompositions of all tasks are kept for all batches; when they would
    exceed ``prep_budget`` bytes (wide features, dual solver), tasks run one at a time.
    ``search='gcv'`` chooses each target's penalty by :func:`gcv_scores` on the task's pool
    instead of its folds (which are then not used).
    """
    n, p = X.shape
    if len(tasks) > 1 and _prep_bytes(tasks, n, p, bk.dtype.itemsize) > prep_budget:
        kw = dict(fit_intercept=fit_intercept, score=score, solver=solver, n_batch=n_batch,
                  search=search)  # fmt: skip
        return [
            run_tasks(bk, X, Y, [t], alphas, keep_scores=keep_scores, keep_coef=keep_coef, **kw)[0]
            for t in tasks
        ]
    n_targets = Y.shape[1]
    xbar, ybar, Xg = _centre_globally(bk, X, Y, fit_intercept)
    pools = [_prep_pool(bk, Xg, t.pool, fit_intercept, solver) for t in tasks]
    folds = [
        [_prep_fold(bk, Xg, t.pool, tr, te, fit_intercept, solver) for tr, te in t.folds]
        if t.fixed_alphas is None and search == "cv"
        else []
        for t in tasks
    ]
    k = max([pl.dec.k for pl in pools] + [f.dec.k for fs in folds for f in fs])
    batch = n_batch or batch_size(n_targets, n, p, k, bk.dtype.itemsize)
    need_all = any(pl.dec.U is None and (pl.out is None or pl.n_out < pl.n) for pl in pools)
    results = []
    for t in tasks:
        results.append(
            TaskResult(
                mean_scores=np.zeros((len(alphas), n_targets)) if keep_scores else None,
                best_alphas=np.zeros(n_targets),
                best_idx=np.zeros(n_targets, dtype=int),
                coef=np.zeros((p, n_targets)) if keep_coef else None,
                intercept=np.zeros(n_targets) if keep_coef else None,
                predictions=None if t.test is None else np.zeros((len(t.test), n_targets)),
            )
        )
    cf = {"fit_intercept": fit_intercept, "score": score, "search": search,
          "keep_scores": keep_scores, "keep_coef": keep_coef}  # fmt: skip
    for start in range(0, n_targets, batch):
        cols = slice(start, min(start + batch, n_targets))
        Yb = bk.asarray(Y[:, cols] - ybar[cols] if fit_intercept else Y[:, cols])
        S_all = Xg.T @ Yb if need_all else None
        sy_all = Yb.sum(0)
        for t, pl, fs, res in zip(tasks, pools, folds, results):
            _task_batch(bk, t, pl, fs, res, Xg, Yb, S_all, sy_all, cols, alphas, xbar, ybar, cf)
    return results


def _task_batch(bk, t, pl, fs, res, Xg, Yb, S_all, sy_all, cols, alphas, xbar, ybar, cf):
    """One task on one batch of targets: penalty search, then coefficients/predictions."""
    fit_intercept = cf["fit_intercept"]
    S_pool, sy_pool = _pool_sums(bk, pl, Xg, Yb, S_all, sy_all)
    base = None  # (B, my) of the pool, shared by the GCV search and the refit
    if t.fixed_alphas is not None:
        res.best_alphas[cols] = t.fixed_alphas[cols]
    else:
        if cf["search"] == "gcv":
            base = _pool_B(bk, pl, Yb, S_pool, sy_pool, fit_intercept)
            mean = gcv_scores(bk, pl, Yb, *base, alphas, fit_intercept)
        else:
            total = None
            for f in fs:
                s = _fold_scores(bk, f, Xg, Yb, S_pool, sy_pool, alphas, cf["score"],
                                 fit_intercept)  # fmt: skip
                total = s if total is None else total + s
            mean = bk.to_numpy(total).astype(np.float64) / len(fs)
        idx, _ = select_alphas(mean, alphas)
        if cf["keep_scores"]:
            res.mean_scores[:, cols] = mean
        res.best_idx[cols] = idx
        res.best_alphas[cols] = alphas[idx]
    if not cf["keep_coef"] and t.test is None:
        return
    a = bk.asarray(res.best_alphas[cols])
    B, my = base if base is not None else _pool_B(bk, pl, Yb, S_pool, sy_pool, fit_intercept)
    Bd = B / (pl.dec.ev[:, None] + a[None, :])
    if not cf["keep_coef"]:  # predictions only (the sweeps): never form the coefficients,
        # (Xte - mx) W (B / (ev + alpha_t)): n_te k T instead of (p + n_te) p T
        if pl.Ate is None:
            pl.Ate = (Xg[_rows(bk, t.test)] - pl.mx) @ pl.dec.W
        res.predictions[:, cols] = bk.to_numpy(pl.Ate @ Bd + my) + ybar[cols]
        return
    coef = pl.dec.W @ Bd
    icpt = my - pl.mx @ coef
    res.coef[:, cols] = bk.to_numpy(coef)
    res.intercept[cols] = bk.to_numpy(icpt) + ybar[cols] - xbar @ bk.to_numpy(coef)
    if t.test is not None:
        P = Xg[_rows(bk, t.test)] @ coef + icpt
        res.predictions[:, cols] = bk.to_numpy(P) + ybar[cols]


def scaled_search(
    bk: Backend,
    X,
    Y,
    folds,
    alphas,
    scales,
    update,
    *,
    fit_intercept: bool,
    score: str,
    n_batch: int | None,
    cache_budget: int = 2**29,
) -> None:
    """Penalty scores of ridge on ``X * s`` for many column scalings ``s`` (banded search).

    The cross-products of each fold are computed once per target batch on the unscaled
    features and rescaled per candidate (``(X s)^T Y = s * X^T Y``), so a candidate costs
    only its decompositions and the reduced-basis scoring. Primal (SVD) solver only.
    ``update(i, cols, mean_scores)`` receives the fold-averaged scores ``(n_alphas, T)`` of
    candidate ``i`` for the targets ``cols``, candidates in order within each batch.
    """
    n, p = X.shape
    n_targets = Y.shape[1]
    xbar, ybar, Xg = _centre_globally(bk, X, Y, fit_intercept)
    geoms = [_geometry(bk, Xg, np.arange(n), tr, te, fit_intercept) for tr, te in folds]
    per_target = bk.dtype.itemsize * (2 * n + p + len(folds) * 2 * p + 8 * p + 16)
    batch = n_batch or int(max(1, min(n_targets, 256 * 2**20 // per_target)))
    n_batches = -(-n_targets // batch)
    cache_bytes = len(scales) * sum(p * p + g.n_te * p + p * p for g in geoms) * 8
    cache = {} if n_batches > 1 and cache_bytes < cache_budget else None
    for start in range(0, n_targets, batch):
        cols = slice(start, min(start + batch, n_targets))
        Yb = bk.asarray(Y[:, cols] - ybar[cols] if fit_intercept else Y[:, cols])
        S_all = Xg.T @ Yb if any(g.use_sub for g in geoms) else None
        sy_all = Yb.sum(0)
        prods = [_fold_products(bk, g, Xg, Yb, S_all, sy_all, fit_intercept) for g in geoms]
        for ii, s in enumerate(scales):
            sb = bk.asarray(s)
            total = None
            for j, (g, (F, H, Yte, my)) in enumerate(zip(geoms, prods)):
                key = (ii, j)
                if cache is not None and key in cache:
                    dec, scorer = cache[key]
                else:
                    dec = decompose((Xg[g.tr] - g.mx) * sb, bk, "svd")
                    scorer = FoldScorer(dec, (g.Xte - g.mx) * sb, bk)
                    if cache is not None:
                        cache[key] = (dec, scorer)
                B = dec.W.T @ (sb[:, None] * F)
                C = dec.W.T @ (sb[:, None] * H)
                sc = scorer.score(B, C, Yte, my, alphas, score)
                total = sc if total is None else total + sc
            update(ii, cols, bk.to_numpy(total).astype(np.float64) / len(geoms))
