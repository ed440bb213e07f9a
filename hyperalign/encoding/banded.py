"""Banded ridge: one penalty per feature space, found by random search over the simplex.

The model is ``min ||sum_i X_i b_i - Y||^2 + sum_i alpha_i ||b_i||^2`` with one penalty
``alpha_i`` per feature space and target. As in himalaya (``GroupRidgeCV`` /
``BandedRidgeCV``, ``solve_group_ridge_random_search``), it is searched as
``alpha_i = alpha / gamma_i`` with ``gamma`` sampled on the simplex (Dirichlet) and
``alpha`` from a grid: each candidate ``gamma`` is a plain ridge on the features
``sqrt(gamma_i) X_i``, whose penalties are all scored from one decomposition per fold in the
reduced basis (:mod:`hyperalign.encoding._solvers_backend`). The per-space penalties are
reported as ``space_alphas_``.
"""

from __future__ import annotations

import numpy as np

from ..utils import _validate_type, check_option, check_random_state, fill_doc, logger, verbose
from ._banded_result import BandedRidgeFit, NestedBandedFit
from ._ridge_engine import Task, run_tasks, scaled_search
from ._solver_checks import check_features, check_matrix, inner_folds, make_folds
from ._solvers_backend import blas_threads, pick_solver, select_alphas
from .ridge import _np_score, _prepare_y

__all__ = [
    "BandedRidgeFit",
    "NestedBandedFit",
    "banded_ridge_cv",
    "nested_banded_ridge_cv",
    "dirichlet_candidates",
]


def dirichlet_candidates(
    n_iter: int, n_spaces: int, *, concentration=(0.1, 1.0), random_state=None
):
    """Simplex weights as himalaya draws them: cycles through concentrations, first uniform.

    Parameters
    ----------
    n_iter : int
        Number of candidates.
    n_spaces : int
        Number of feature spaces.
    concentration : float | sequence of float
        Dirichlet concentration(s); ``np.inf`` gives equal weights.
    %(random_state)s

    Returns
    -------
    gammas : ndarray, shape (n_iter, n_spaces)
        Rows on the simplex; the first is ``1 / n_spaces`` everywhere.

    See Also
    --------
    banded_ridge_cv : Uses these candidates when ``n_iter`` is an int.
    """
    rng = check_random_state(random_state)
    conc = np.atleast_1d(np.asarray(concentration, dtype=float))
    per = int(np.ceil(n_iter / conc.size))
    parts = []
    for c in conc:
        if np.isinf(c):
            parts.append(np.full((per, n_spaces), 1.0 / n_spaces))
        else:
            parts.append(rng.dirichlet([c] * n_spaces, per))
    g = np.concatenate(parts)
    # interleave the concentrations as himalaya does (sample i uses concentration i % n)
    g = g.reshape(conc.size, per, n_spaces).transpose(1, 0, 2).reshape(-1, n_spaces)[:n_iter]
    g[0] = 1.0 / n_spaces
    return g


dirichlet_candidates = fill_doc(dirichlet_candidates)


def _check_spaces(Xs, space_names):
    if not isinstance(Xs, list | tuple) or len(Xs) < 1:
        raise TypeError(
            "Xs must be a list of feature arrays, one (n_samples, n_features_i) array per "
            f"feature space; got {type(Xs).__name__}"
        )
    if space_names is None:
        space_names = [f"space{i}" for i in range(len(Xs))]
    space_names = [str(s) for s in space_names]
    if len(space_names) != len(Xs) or len(set(space_names)) != len(Xs):
        raise ValueError(
            f"space_names must give {len(Xs)} distinct names, one per array of Xs; "
            f"got {space_names}"
        )
    Xs = [check_matrix(X, f"Xs[{n!r}]") for X, n in zip(Xs, space_names)]
    n = Xs[0].shape[0]
    for X, name in zip(Xs, space_names):
        if X.shape[0] != n:
            raise ValueError(
                f"Xs[{name!r}] has {X.shape[0]} rows but Xs[{space_names[0]!r}] has {n}; all "
                "spaces must describe the same samples"
            )
        check_features(X, f"Xs[{name!r}]")
    return Xs, space_names


def _candidates(n_iter, n_spaces, concentration, random_state):
    if isinstance(n_iter, int | np.integer) and not isinstance(n_iter, bool):
        if n_iter < 1:
            raise ValueError(f"n_iter must be >= 1; got {n_iter}")
        return dirichlet_candidates(
            int(n_iter), n_spaces, concentration=concentration, random_state=random_state
        )
    g = np.asarray(n_iter, dtype=float)
    if g.ndim != 2 or g.shape[1] != n_spaces or np.any(g < 0) or not np.all(np.isfinite(g)):
        raise ValueError(
            f"n_iter must be an int or an array (n_candidates, {n_spaces}) of non-negative "
            f"simplex weights; got shape {g.shape}"
        )
    if np.any(g.sum(1) <= 0):
        raise ValueError("n_iter: every candidate row needs at least one weight > 0")
    return g


def _scale(slices, g) -> np.ndarray:
    return np.concatenate([np.full(s.stop - s.start, np.sqrt(gi)) for s, gi in zip(slices, g)])


def _search(bk, Xcat, Y, slices, gammas, alphas, folds, *, fit_intercept, score, n_batch):
    """Random search; returns (best_gamma_idx, best_alpha, best_scores, candidate_scores)."""
    n_targets = Y.shape[1]
    solver = pick_solver(min(len(tr) for tr, _ in folds), Xcat.shape[1])
    cur = np.full(n_targets, -np.inf)
    best_g = np.zeros(n_targets, dtype=int)
    best_a = np.ones(n_targets)
    cand = np.zeros((len(gammas), n_targets))

    def update(ii, cols, mean):
        idx, _ = select_alphas(mean, alphas)
        c = mean[idx, np.arange(mean.shape[1])]
        cand[ii, cols] = c
        tilted = c + np.log(alphas[idx]) * 1e-10  # himalaya's comparison
        mask = tilted > cur[cols] + bk.eps
        where = np.arange(n_targets)[cols][mask]
        cur[where] = tilted[mask]
        best_g[where] = ii
        best_a[where] = alphas[idx[mask]]

    if solver == "svd":
        scales = [_scale(slices, g) for g in gammas]
        kw = dict(fit_intercept=fit_intercept, score=score, n_batch=n_batch)
        scaled_search(bk, Xcat, Y, folds, alphas, scales, update, **kw)
    else:  # dual: one ridge search per candidate
        task = Task(pool=np.arange(Xcat.shape[0]), folds=folds)
        for ii, g in enumerate(gammas):
            (res,) = run_tasks(
                bk,
                Xcat * _scale(slices, g),
                Y,
                [task],
                alphas,
                fit_intercept=fit_intercept,
                score=score,
                solver=solver,
                n_batch=n_batch,
                keep_scores=True,
                keep_coef=False,
            )
            update(ii, slice(0, n_targets), res.mean_scores)
    best_scores = cand[best_g, np.arange(n_targets)]
    return best_g, best_a, best_scores, cand


def _banded_refit(bk, Xcat, Y, slices, gammas, best_g, best_a, *, fit_intercept, n_batch):
    n_targets = Y.shape[1]
    coef = np.zeros((Xcat.shape[1], n_targets))
    icpt = np.zeros(n_targets)
    solver = pick_solver(*Xcat.shape)
    for ii in np.unique(best_g):
        cols = np.flatnonzero(best_g == ii)
        scale = _scale(slices, gammas[ii])
        task = Task(pool=np.arange(Xcat.shape[0]), folds=[], fixed_alphas=best_a[cols])
        (res,) = run_tasks(
            bk,
            Xcat * scale,
            Y[:, cols],
            [task],
            best_a[cols],
            fit_intercept=fit_intercept,
            score="r",
            solver=solver,
            n_batch=n_batch,
        )
        coef[:, cols] = res.coef * scale[:, None]
        icpt[cols] = res.intercept
    return coef, icpt


def _fit_banded(bk, Xs, Y, folds, alphas, gammas, names, *, fit_intercept, score, n_batch):
    sizes = [X.shape[1] for X in Xs]
    edges = np.concatenate([[0], np.cumsum(sizes)])
    slices = [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]
    Xcat = np.concatenate(Xs, axis=1)
    kw = dict(fit_intercept=fit_intercept, n_batch=n_batch)
    best_g, best_a, best_s, cand = _search(
        bk, Xcat, Y, slices, gammas, alphas, folds, score=score, **kw
    )
    coef, icpt = _banded_refit(bk, Xcat, Y, slices, gammas, best_g, best_a, **kw)
    bg = gammas[best_g].T  # (n_spaces, n_targets)
    with np.errstate(divide="ignore"):
        space_alphas = best_a[None, :] / bg
    xm = [X.mean(0) if fit_intercept else np.zeros(X.shape[1]) for X in Xs]
    return BandedRidgeFit(
        space_names=list(names),
        space_alphas_=space_alphas,
        best_alphas_=best_a,
        best_gammas_=bg,
        cv_scores_=best_s,
        candidate_scores_=cand,
        candidates=gammas,
        coef_=[coef[s] for s in slices],
        intercept_=icpt,
        x_means_=xm,
        y_offset_=Y.mean(0) if fit_intercept else np.zeros(Y.shape[1]),
        score=score,
    )


@fill_doc
@verbose
def banded_ridge_cv(
    Xs,
    Y,
    *,
    alphas,
    cv,
    n_iter=20,
    space_names=None,
    method: str = "random_search",
    concentration=(0.1, 1.0),
    fit_intercept: bool = True,
    backend: str = "numpy",
    device: str | None = None,
    dtype: str = "float64",
    score: str = "r",
    n_targets_batch: int | None = None,
    random_state=None,
    n_jobs: int | None = None,
    verbose=None,
) -> BandedRidgeFit:
    """Banded ridge regression: one penalty per feature space, chosen by cross-validation.

    Parameters
    ----------
    Xs : list of array-like, shape (n_samples, n_features_i)
        One feature array per space (semantic, acoustic, nuisance, ...).
    Y : array-like, shape (n_samples, n_targets)
        Targets.
    alphas : array-like of float
        Grid of the overall penalty ``alpha`` (finite, > 0); the penalty of space ``i`` is
        ``alpha / gamma_i``.
    cv : int | scikit-learn splitter | iterable of (train, test)
        Folds for the search (an int is contiguous blocks).
    n_iter : int | array-like, shape (n_candidates, n_spaces)
        Number of simplex candidates ``gamma`` (Dirichlet samples, the first one uniform),
        or the candidates themselves.
    space_names : list of str | None
        Names of the spaces (default ``space0``, ``space1``, ...).
    method : 'random_search'
        Search method (himalaya's random search over the simplex).
    concentration : float | sequence of float
        Dirichlet concentration(s) cycled through when ``n_iter`` is an int.
    fit_intercept : bool
        Centre features and targets on the training rows.
    %(backend)s
    %(device)s
    dtype : 'float64' | 'float32'
        Precision.
    score : 'r' | 'r2' | 'neg_mse'
        Score of the search.
    n_targets_batch : int | None
        Targets per batch (``None``: automatic).
    %(random_state)s
    n_jobs : int | None
        Threads for the linear algebra (BLAS, and torch on the CPU), with joblib's meaning:
        ``None`` or ``1`` one thread, ``-1`` every core.
    %(verbose)s

    Returns
    -------
    fit : BandedRidgeFit
        Per-space penalties, scores, coefficients per space.

    See Also
    --------
    nested_banded_ridge_cv : Out-of-fold predictions, split per space.
    hyperalign.encoding.ridge.ridge_cv : One penalty for all features.
    """
    check_option("method", method, ["random_search"])
    Xs, names = _check_spaces(Xs, space_names)
    Xcat = np.concatenate(Xs, axis=1)
    Y, alphas, bk = _prepare_y(Y, Xcat.shape[0], alphas, score, backend, device, dtype)
    _validate_type(n_iter, ("int-like", np.ndarray, list, tuple), "n_iter")
    gammas = _candidates(n_iter, len(Xs), concentration, random_state)
    folds = make_folds(cv, Xcat.shape[0], Xcat)
    logger.info(
        "banded_ridge_cv: %d spaces %s, %d candidates x %d penalties, %d folds",
        len(Xs),
        [X.shape[1] for X in Xs],
        len(gammas),
        len(alphas),
        len(folds),
    )
    with blas_threads(n_jobs, bk):
        return _fit_banded(
            bk,
            Xs,
            Y,
            folds,
            alphas,
            gammas,
            names,
            fit_intercept=fit_intercept,
            score=score,
            n_batch=n_targets_batch,
        )


@fill_doc
@verbose
def nested_banded_ridge_cv(
    Xs,
    Y,
    *,
    alphas,
    outer_cv,
    inner_cv,
    n_iter=20,
    space_names=None,
    method: str = "random_search",
    concentration=(0.1, 1.0),
    fit_intercept: bool = True,
    backend: str = "numpy",
    device: str | None = None,
    dtype: str = "float64",
    score: str = "r",
    n_targets_batch: int | None = None,
    random_state=None,
    n_jobs: int | None = None,
    verbose=None,
) -> NestedBandedFit:
    """Nested cross-validated banded ridge: out-of-fold joint and per-space predictions.

    For every outer fold, :func:`banded_ridge_cv` searches the per-space penalties on the
    outer training rows only, then predicts the outer test rows (jointly and per space).

    Parameters
    ----------
    Xs : list of array-like, shape (n_samples, n_features_i)
        One feature array per space.
    Y : array-like, shape (n_samples, n_targets)
        Targets.
    alphas : array-like of float
        Grid of the overall penalty.
    outer_cv : int | scikit-learn splitter | iterable of (train, test)
        Outer folds over all rows.
    inner_cv : int | scikit-learn splitter | iterable of (train, test) | callable
        Inner folds over each outer training subset (see :func:`nested_ridge_cv`).
    n_iter : int | array-like, shape (n_candidates, n_spaces)
        Simplex candidates (the same candidates in every outer fold).
    space_names : list of str | None
        Names of the spaces.
    method : 'random_search'
        Search method.
    concentration : float | sequence of float
        Dirichlet concentration(s).
    fit_intercept : bool
        Centre features and targets on the training rows.
    %(backend)s
    %(device)s
    dtype : 'float64' | 'float32'
        Precision.
    score : 'r' | 'r2' | 'neg_mse'
        Score of the search and of the outer folds.
    n_targets_batch : int | None
        Targets per batch.
    %(random_state)s
    n_jobs : int | None
        Threads for the linear algebra (BLAS, and torch on the CPU), with joblib's meaning:
        ``None`` or ``1`` one thread, ``-1`` every core.
    %(verbose)s

    Returns
    -------
    fit : NestedBandedFit
        Out-of-fold joint and per-space predictions, fold scores, penalties per fold.

    See Also
    --------
    banded_ridge_cv : One level of cross-validation.
    """
    check_option("method", method, ["random_search"])
    Xs, names = _check_spaces(Xs, space_names)
    Xcat = np.concatenate(Xs, axis=1)
    Y, alphas, bk = _prepare_y(Y, Xcat.shape[0], alphas, score, backend, device, dtype)
    gammas = _candidates(n_iter, len(Xs), concentration, random_state)
    outer = make_folds(outer_cv, Xcat.shape[0], Xcat, "outer_cv")
    n, n_targets = Y.shape
    preds = np.full((n, n_targets), np.nan)
    split = np.full((len(Xs), n, n_targets), np.nan)
    scores = np.zeros((len(outer), n_targets))
    space_alphas = np.zeros((len(outer), len(Xs), n_targets))
    for i, (train, test) in enumerate(outer):
        inner = inner_folds(inner_cv, train, Xcat[train])
        with blas_threads(n_jobs, bk):
            fit = _fit_banded(
                bk,
                [X[train] for X in Xs],
                Y[train],
                inner,
                alphas,
                gammas,
                names,
                fit_intercept=fit_intercept,
                score=score,
                n_batch=n_targets_batch,
            )
        Xte = [X[test] for X in Xs]
        preds[test] = fit.predict(Xte)
        split[:, test] = fit.predict_split(Xte)
        scores[i] = _np_score(Y[test], preds[test], score)
        space_alphas[i] = fit.space_alphas_
        logger.info("nested_banded_ridge_cv: outer fold %d/%d done", i + 1, len(outer))
    return NestedBandedFit(
        predictions_=preds,
        split_predictions_=split,
        fold_scores_=scores,
        space_alphas_=space_alphas,
        folds_=outer,
        space_names=names,
        score=score,
    )
