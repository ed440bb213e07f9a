"""Fitting internals of the layer sweep (:mod:`hyperalign.encoding.sweep`).

Everything here is shared across layers where it can be: the inner folds, the target checks
and the target-side score sums are made once per participant and role; with PCA, the axes
of each layer and outer fold are fitted once per dyad on the fold's training words of both
speakers and reused by both roles and both participants.
"""

from __future__ import annotations

import time

import numpy as np
import xarray as xr

from .result import EncodingResult

__all__ = ["fold_pca"]


def _fit_layer(X, Y2, folds, inner_abs, alphas, n_components, bk, clock, proj=None,
               cfg_search="inner_cv"):  # fmt: skip
    """Out-of-fold predictions and chosen penalties of one layer (nested CV).

    Calls the ridge engine directly (the checks of :func:`nested_ridge_cv` ran once for
    the targets and the folds, shared by every layer); the result equals
    :func:`nested_ridge_cv` with the same folds (tested). ``cfg_search='gcv'`` chooses the
    penalties by generalised cross-validation on each outer training pool instead of the
    inner folds.
    """
    from ._ridge_engine import Task, run_tasks
    from ._solvers_backend import pick_solver

    search = "gcv" if cfg_search == "gcv" else "cv"
    kw = {
        "fit_intercept": True,
        "score": "r",
        "n_batch": None,
        "keep_coef": False,
        "search": search,
    }
    pred = np.full(Y2.shape, np.nan)
    best = []
    if n_components is None:
        t0 = time.process_time()
        if search == "gcv":  # the outer training pools are decomposed
            n_min = min(len(tr) for tr, _ in folds)
        else:
            n_min = min(len(a) for inn in inner_abs for a, _ in inn)
        tasks = [Task(pool=tr, folds=inn, test=te) for (tr, te), inn in zip(folds, inner_abs)]
        res = run_tasks(bk, X, Y2, tasks, alphas, solver=pick_solver(n_min, X.shape[1]), **kw)
        for (_, te), r_ in zip(folds, res):
            pred[te] = r_.predictions
            best.append(r_.best_alphas)
        clock["solver"] += time.process_time() - t0
        return pred, np.stack(best)
    for f, ((tr, te), inn) in enumerate(zip(folds, inner_abs)):
        t0 = time.process_time()
        if proj is not None:  # axes fitted on the fold's training words of both speakers
            Z = (X - proj[f][0]) @ proj[f][1]
        else:  # fitted on the outer training words only
            Z = fold_pca(X, tr, min(int(n_components), len(tr) - 1, X.shape[1]))
        t1 = time.process_time()
        (r_,) = run_tasks(bk, Z, Y2, [Task(pool=tr, folds=inn, test=te)], alphas,
                          solver="svd", **kw)  # fmt: skip
        clock["pca"] += t1 - t0
        clock["solver"] += time.process_time() - t1
        pred[te] = r_.predictions
        best.append(r_.best_alphas)
    return pred, np.stack(best)


def fold_pca(X: np.ndarray, train: np.ndarray, k: int) -> np.ndarray:
    """All rows of ``X`` projected on the top ``k`` principal axes of the ``train`` rows.

    The axes come from the eigendecomposition of the training rows' Gram matrix (only the
    top ``k`` pairs are computed), so the cost is that of one ``n_train x n_train`` product;
    ridge predictions depend only on the subspace, so this equals
    :class:`~hyperalign.features.FoldPCA` for the sweep (same span, any orthonormal basis).

    Parameters
    ----------
    X : ndarray, shape (n_samples, n_features)
        The layer's features, every row.
    train : ndarray of int
        The rows the axes are fitted on (an outer fold's training words).
    k : int
        Number of components kept.

    Returns
    -------
    Z : ndarray, shape (n_samples, k)
        Every row centred on the training mean and projected on the training axes.

    See Also
    --------
    hyperalign.encoding.sweep_layers : Uses it with ``n_components=``.
    """
    mx, V = _pca_axes(X, train, k)
    return (X - mx) @ V


def _pca_axes(X: np.ndarray, train: np.ndarray, k: int):
    """Mean and top-``k`` principal axes ``(p, k)`` of the rows ``train`` of ``X``."""
    from scipy.linalg import eigh

    mx = X[train].mean(0)
    Xc = X[train] - mx
    n = Xc.shape[0]
    if n <= Xc.shape[1]:
        G = Xc @ Xc.T
        ev, U = eigh(G, subset_by_index=(n - k, n - 1))
        V = Xc.T @ (U / np.sqrt(np.maximum(ev, 1e-300)))  # (p, k) orthonormal axes
    else:
        ev, V = eigh(Xc.T @ Xc, subset_by_index=(Xc.shape[1] - k, Xc.shape[1] - 1))
    return mx, V


def _sweep_core(Xs, Y, times, all_times, span, cfg, clock, who, projs=None):
    """Every layer ``Xs`` against targets ``Y`` (n, n_targets, n_lags) on one set of folds."""
    from ._solver_checks import check_alphas
    from ._solvers_backend import Backend
    from .wordlevel import check_fold_sizes, purged_inner_cv, resolve_folds

    n, n_ch, n_lag = Y.shape
    Y2 = Y.reshape(n, n_ch * n_lag)
    folds, fobj = resolve_folds(cfg["cv"], times, all_times=all_times, span=span, purge=True)
    try:
        check_fold_sizes(folds, 1)
    except ValueError as err:
        raise ValueError(f"{who} is too short for the folds: {err}") from None
    inner = purged_inner_cv(times, int(cfg["inner_cv"]), span)
    inner_abs = [inner(tr) for tr, _ in folds]  # shared by every layer
    if not np.all(np.isfinite(Y2)):
        raise ValueError(f"{who}: the targets hold NaN or inf; drop those samples first")
    kw = cfg["solver_kw"]
    bk = Backend(kw["backend"], kw["device"], kw["dtype"])
    alphas = check_alphas(cfg["alphas"])
    scorer = _FoldScores(Y2, folds)  # target-side sums once, shared by every layer
    r, r2, fr, al = [], [], [], []
    if projs is not None and any(len(p) != len(folds) for p in projs):
        projs = None  # (never with clock folds: the same intervals hold for every word set)
    for i, X in enumerate(Xs):
        pred, best = _fit_layer(X, Y2, folds, inner_abs, alphas, cfg["n_components"], bk,
                                clock, None if projs is None else projs[i],
                                cfg.get("alpha_search", "inner_cv"))  # fmt: skip
        t0 = time.process_time()
        fold_r, rr, rr2 = scorer(pred)
        r.append(rr.reshape(n_ch, n_lag))
        r2.append(rr2.reshape(n_ch, n_lag))
        fr.append(fold_r.reshape(len(folds), n_ch, n_lag))
        al.append(best.reshape(len(folds), n_ch, n_lag))
        clock["scores"] += time.process_time() - t0
    return (r, r2, fr, al), folds, fobj


class _FoldScores:
    """Out-of-fold r per fold, and r / R² over every tested row.

    The target side (centred test targets and their sums of squares, per fold and overall)
    is computed once and shared by every layer; a layer then costs two passes over its
    predictions. Conventions of :func:`~hyperalign.encoding.correlation_score` and
    :func:`~hyperalign.encoding.wordlevel.column_scores` (zero-variance columns score 0).
    """

    def __init__(self, Y: np.ndarray, folds):
        self.folds = [np.asarray(te) for _, te in folds]
        self.fold_y = [self._ysums(Y[te]) for te in self.folds]
        self.rows = np.unique(np.concatenate(self.folds))
        self.all_y = self._ysums(Y[self.rows])

    @staticmethod
    def _ysums(Y):
        my = Y.mean(0)
        Yc = Y - my
        return Yc, my, np.einsum("ij,ij->j", Yc, Yc)

    @staticmethod
    def _r(Yc, my, syy, P):
        mp = P.mean(0)
        Pc = P - mp
        spp = np.einsum("ij,ij->j", Pc, Pc)
        syp = np.einsum("ij,ij->j", Yc, Pc)
        den = np.sqrt(syy * spp)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.where(den > 0, syp / den, 0.0)
        return r, mp, spp, syp

    def __call__(self, pred: np.ndarray):
        fold_r = np.stack([self._r(*fy, pred[te])[0]
                           for fy, te in zip(self.fold_y, self.folds)])  # fmt: skip
        Yc, my, syy = self.all_y
        r, mp, spp, syp = self._r(Yc, my, syy, pred[self.rows])
        sse = syy - 2 * syp + spp + len(self.rows) * (my - mp) ** 2  # sum (y - p)^2
        with np.errstate(invalid="ignore", divide="ignore"):
            r2 = np.where(syy > 0, 1.0 - sse / syy, 0.0)
        return fold_r, r, r2


def _shared_pca(dyad, lays, wl, cfg, clock):
    """PCA axes per layer and outer fold, fitted on the fold's training words of the whole
    conversation (both speakers; test blocks and purge gaps left out), shared by both roles
    and both participants. ``None`` when the folds are not on the clock (index folds)."""
    from .splitters import Folds
    from .wordlevel import resolve_folds

    cv = cfg["cv"]
    on_clock = (isinstance(cv, int) and cv is not True) or (
        isinstance(cv, Folds) and cv.scheme in ("blocks", "turns")
    )
    if cfg["n_components"] is None or not on_clock:
        return None  # index, group or shuffled folds: axes fitted per role in _fit_layer
    t0 = time.process_time()
    on = dyad.transcript.words["onset"].to_numpy(float)
    folds, _ = resolve_folds(cv, on, all_times=on, span=wl.span, purge=True)
    projs = {}
    for lay in lays:
        ok = np.isfinite(lay.data).all(axis=1)
        axes = []
        for tr, _ in folds:
            tr = tr[ok[tr]]
            axes.append(_pca_axes(lay.data, tr, min(int(cfg["n_components"]), len(tr) - 1,
                                                    lay.data.shape[1])))  # fmt: skip
        projs[lay.label] = axes
    clock["pca"] += time.process_time() - t0
    return projs


def _targets(dyad, participant, role, wl, picks, rois, clock):
    from .wordlevel import prepare_word_data

    t0 = time.process_time()
    n = len(dyad.transcript.words)
    d = prepare_word_data(dyad, np.zeros((n, 1)), participant=participant, role=role,
                          lags=wl, picks=picks, verbose=False)  # fmt: skip
    Y, chans = d["Y"], d["channels"]
    if rois is not None:
        idx = {c: i for i, c in enumerate(chans)}
        bad = {k: [c for c in v if c not in idx] for k, v in rois.items()}
        bad = {k: v for k, v in bad.items() if v or not rois[k]}
        if bad:
            raise ValueError(
                f"rois names channels that are not among the fitted channels: {bad}; the "
                f"channels are {chans}"
            )
        Y = np.stack([Y[:, [idx[c] for c in v]].mean(1) for v in rois.values()], axis=1)
        chans = list(rois)
    d["Y"], d["channels"] = Y, chans
    clock["targets"] += time.process_time() - t0
    return d


def _prepare(dyad, layers, participant, role, wl, cfg, clock) -> dict:
    """Targets of one participant and role, with the words no layer can use dropped."""
    d = _targets(dyad, participant, role, wl, cfg["picks"], cfg["rois"], clock)
    rows = d["row_index"]
    bad = np.zeros(rows.size, bool)
    for lay in layers:
        bad |= ~np.isfinite(lay.data[rows]).all(axis=1)
    if bad.any():
        d["exclusions"].add("sweep", "word", f"{int(bad.sum())} words",
                            "no vector in some layer (NaN)", int(bad.sum()))  # fmt: skip
    d["rows"], d["Y"] = rows[~bad], d["Y"][~bad]
    return d


def sweep_fits(dyad, layers, keys, wl, cfg, clock, projs=None) -> dict:
    """Every layer for every ``(participant, role)`` of ``keys``: ``{key: EncodingResult}``.

    Fits whose words are the same (a speaker's production and the partner's comprehension
    of the same words, with the same words left after exclusions) share one fit: their
    targets are stacked, so every fold decomposition of a layer is made once for both
    brains. Targets are independent columns, so this changes no number.
    """
    preps = {k: _prepare(dyad, layers, *k, wl, cfg, clock) for k in keys}
    groups: dict = {}
    for k, d in preps.items():
        sig = (d["rows"].tobytes(), np.asarray(d["all_onsets"]).tobytes(), d["Y"].shape[2])
        groups.setdefault(sig, []).append(k)
    did = getattr(dyad, "dyad_id", "")
    pj = None if projs is None else [projs[lay.label] for lay in layers]
    out = {}
    for members in groups.values():
        d0 = preps[members[0]]
        rows = d0["rows"]
        times = dyad.transcript.words["onset"].to_numpy(float)[rows]
        who = f"dyad {did!r} (" + "; ".join(f"{p}, {r}" for p, r in members) + ")"
        Y = np.concatenate([preps[k]["Y"] for k in members], axis=1)
        Xs = [lay.data[rows] for lay in layers]
        arrays, folds, fobj = _sweep_core(Xs, Y, times, d0["all_onsets"], wl.span, cfg, clock,
                                          who, pj)  # fmt: skip
        edges = np.cumsum([0] + [preps[k]["Y"].shape[1] for k in members])
        for j, k in enumerate(members):
            part = tuple([a[..., edges[j] : edges[j + 1], :] for a in arr] for arr in arrays)
            d = preps[k]
            out[k] = _dataset(d, layers, folds, fobj, part, *k, dyad, d["exclusions"], cfg)
    return out


def _dataset(d, layers, folds, fobj, arrays, participant, role, dyad, excl, cfg):
    r, r2, fr, al = (np.stack(a) for a in arrays)
    coords = {
        "layer": [lay.label for lay in layers],
        "target": d["channels"],
        "lag": d["lags"].lags,
        "fold": np.arange(len(folds)),
        "model": ("layer", [lay.model for lay in layers]),
        "modality": ("layer", [lay.modality for lay in layers]),
        "layer_name": ("layer", [lay.layer_name for lay in layers]),
        "layer_index": ("layer", np.array([lay.layer_index for lay in layers])),
        "depth": ("layer", np.array([lay.depth for lay in layers])),
    }
    ds = xr.Dataset(
        {
            "r": (("layer", "target", "lag"), r),
            "r2": (("layer", "target", "lag"), r2),
            "fold_r": (("layer", "fold", "target", "lag"), fr),
            "alpha": (("layer", "fold", "target", "lag"), al),
            "n_test": (("fold",), np.array([len(te) for _, te in folds])),
        },
        coords=coords,
    )
    ds.attrs.update({
        "estimator": "word_sweep", "role": role, "participant": participant,
        "dyad_id": getattr(dyad, "dyad_id", ""), **d["lags"].to_dict(),
        "alphas": np.asarray(cfg["alphas"]).tolist(), "inner_cv": int(cfg["inner_cv"]),
        "cv": fobj.to_dict() if fobj is not None else "index folds",
        "n_words": int(sum(len(te) for _, te in folds)),
        "n_components": -1 if cfg["n_components"] is None else int(cfg["n_components"]),
        "pca": "none" if cfg["n_components"] is None else
        "PCA fitted on each outer fold's training words",
        "rois": "" if cfg["rois"] is None else {k: list(v) for k, v in cfg["rois"].items()},
        "exclusions": excl.rows, "dtype": cfg["solver_kw"]["dtype"],
        "alpha_search": cfg.get("alpha_search", "inner_cv"),
    })  # fmt: skip
    return EncodingResult(ds)
