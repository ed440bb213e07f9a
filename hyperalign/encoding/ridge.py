"""Ridge regression with a per-target penalty chosen by cross-validation, and nested CV.

Every penalty of the grid is scored from one decomposition per fold, in the reduced basis
of that decomposition (see :mod:`hyperalign.encoding._solvers_backend`). Scores, chosen
penalties and coefficients equal ``himalaya.ridge.RidgeCV`` with the same folds, grid and
score function (tests, float64).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..utils import fill_doc, logger, verbose
from ._ridge_engine import Task, run_tasks
from ._solver_checks import (
    check_alphas,
    check_edge_warning,
    check_features,
    check_matrix,
    check_score,
    edge_share,
    inner_folds,
    make_folds,
)
from ._solvers_backend import SOLVERS, Backend, blas_threads, pick_solver

__all__ = ["RidgeCVFit", "NestedRidgeFit", "ridge_cv", "nested_ridge_cv", "SOLVERS"]


@dataclass
class RidgeCVFit:
    """A ridge model whose penalty was chosen per target by cross-validation.

    Parameters
    ----------
    alphas : ndarray, shape (n_alphas,)
        The penalty grid.
    best_alphas_ : ndarray, shape (n_targets,)
        Chosen penalty per target.
    cv_scores_ : ndarray, shape (n_alphas, n_targets)
        Score of every penalty, averaged over the folds.
    coef_ : ndarray, shape (n_features, n_targets)
        Coefficients refitted on all rows at the chosen penalties.
    intercept_ : ndarray, shape (n_targets,)
        Intercepts (zeros when ``fit_intercept=False``).
    score : str
        The score used to choose (``'r'``, ``'r2'`` or ``'neg_mse'``).
    solver : str
        The decomposition used (``'svd'`` or ``'eigh_dual'``).
    n_folds : int
        Number of folds.
    """

    alphas: np.ndarray
    best_alphas_: np.ndarray
    cv_scores_: np.ndarray
    coef_: np.ndarray
    intercept_: np.ndarray
    score: str = "r"
    solver: str = "svd"
    n_folds: int = 0

    @property
    def best_scores_(self) -> np.ndarray:
        """Fold-averaged score at the chosen penalty, per target."""
        idx = np.searchsorted(np.sort(self.alphas), self.best_alphas_)
        order = np.argsort(self.alphas)
        return self.cv_scores_[order[idx], np.arange(self.cv_scores_.shape[1])]

    def predict(self, X) -> np.ndarray:
        """Predictions ``(n_samples, n_targets)`` for new rows of features.

        Parameters
        ----------
        X : ndarray, shape (n_samples, n_features)
            Features, in the columns the model was fitted on.

        Returns
        -------
        y_pred : ndarray, shape (n_samples, n_targets)
            ``X @ coef_ + intercept_``.
        """
        X = check_matrix(X, "X")
        if X.shape[1] != self.coef_.shape[0]:
            raise ValueError(
                f"X has {X.shape[1]} features but the model was fitted on "
                f"{self.coef_.shape[0]}; pass the same feature columns"
            )
        return X @ self.coef_ + self.intercept_

    def to_data_frame(self) -> pd.DataFrame:
        """One row per target: chosen penalty and its cross-validated score.

        Returns
        -------
        df : pandas.DataFrame
            One row per target.
        """
        return pd.DataFrame(
            {
                "target": np.arange(self.best_alphas_.size),
                "alpha": self.best_alphas_,
                "cv_score": self.best_scores_,
                "score": self.score,
            }
        )


@dataclass
class NestedRidgeFit:
    """Out-of-fold predictions and scores of nested cross-validated ridge.

    Parameters
    ----------
    predictions_ : ndarray, shape (n_samples, n_targets)
        Out-of-fold predictions (NaN on rows in no test fold).
    fold_scores_ : ndarray, shape (n_folds, n_targets)
        Score of each outer test fold (``score``: Pearson r, R² or negative MSE).
    best_alphas_ : ndarray, shape (n_folds, n_targets)
        Penalty chosen by the inner search in each outer fold.
    folds_ : list of (ndarray, ndarray)
        The outer ``(train, test)`` rows.
    coefs_ : ndarray, shape (n_folds, n_features, n_targets) | None
        Coefficients of each outer fold (``return_coefs=True``).
    intercepts_ : ndarray, shape (n_folds, n_targets) | None
        Intercepts of each outer fold (``return_coefs=True``).
    alphas : ndarray
        The penalty grid.
    score : str
        The score.
    """

    predictions_: np.ndarray
    fold_scores_: np.ndarray
    best_alphas_: np.ndarray
    folds_: list = field(default_factory=list)
    coefs_: np.ndarray | None = None
    intercepts_: np.ndarray | None = None
    alphas: np.ndarray | None = None
    score: str = "r"

    def to_data_frame(self) -> pd.DataFrame:
        """Long table: one row per outer fold and target with its score and penalty.

        Returns
        -------
        df : pandas.DataFrame
            One row per outer fold and target.
        """
        n_folds, n_targets = self.fold_scores_.shape
        return pd.DataFrame(
            {
                "fold": np.repeat(np.arange(n_folds), n_targets),
                "target": np.tile(np.arange(n_targets), n_folds),
                "score": self.fold_scores_.ravel(),
                "alpha": self.best_alphas_.ravel(),
                "n_test": np.repeat([len(te) for _, te in self.folds_], n_targets),
            }
        )


def _prepare_y(Y, n_rows, alphas, score, backend, device, dtype):
    """Checked targets, penalty grid and backend (shared with the banded solvers)."""
    Y = check_matrix(Y, "Y", n_rows=n_rows)
    alphas = check_alphas(alphas)
    check_score(score)
    bk = Backend(backend, device, dtype)
    const = np.flatnonzero(np.ptp(Y, axis=0) == 0)
    if const.size:
        logger.warning(
            "Y has %d constant target column(s) (first: %s); their scores are 0",
            const.size,
            const[:5].tolist(),
        )
    return Y, alphas, bk


def _prepare(X, Y, alphas, score, backend, device, dtype):
    X = check_matrix(X, "X")
    check_features(X, "X")
    Y, alphas, bk = _prepare_y(Y, X.shape[0], alphas, score, backend, device, dtype)
    return X, Y, alphas, bk


@fill_doc
@verbose
def ridge_cv(
    X,
    Y,
    *,
    alphas,
    cv,
    fit_intercept: bool = True,
    backend: str = "numpy",
    device: str | None = None,
    dtype: str = "float64",
    score: str = "r",
    n_targets_batch: int | None = None,
    edge_warning: float | None = 0.1,
    solver: str = "auto",
    n_jobs: int | None = None,
    verbose=None,
) -> RidgeCVFit:
    """Ridge regression with one penalty per target chosen by cross-validation.

    Each fold is decomposed once (SVD, or the eigendecomposition of the kernel when features
    outnumber training rows) and every penalty of the grid is scored from it. The penalty
    with the best fold-averaged score is chosen per target (ties go to the larger penalty,
    as in himalaya), then the model is refitted on all rows.

    Parameters
    ----------
    X : array-like, shape (n_samples, n_features)
        Features. NaN or inf is refused (rows and columns named); constant and duplicated
        columns are warned about.
    Y : array-like, shape (n_samples, n_targets)
        Targets (a 1-D array is one target).
    alphas : array-like of float
        Penalty grid, finite and > 0 (for example ``np.logspace(-2, 6, 20)``).
    cv : int | scikit-learn splitter | iterable of (train, test)
        An int is that many contiguous blocks (unshuffled ``KFold``); a splitter's
        ``split(X)`` or an iterable gives ``(train, test)`` row indices.
    fit_intercept : bool
        Centre features and targets on the training rows of every fold.
    %(backend)s
    %(device)s
    dtype : 'float64' | 'float32'
        Precision of the computation. float32 is about twice as fast; where the scores of
        neighbouring penalties differ by less than its precision (flat score curves) it may
        choose the neighbour (benchmark: 15% of choices, out-of-fold r changed by < 0.01).
    score : 'r' | 'r2' | 'neg_mse'
        Score that chooses the penalty: Pearson r, R² (``1 - SSE / SST`` on the test
        rows), or the negative mean squared error (himalaya's default, ``l2_neg_loss``).
    n_targets_batch : int | None
        Targets per batch (memory bound); ``None`` sizes batches to about 256 MB.
    edge_warning : float | None
        Warn when more than this share of targets chose the smallest or the largest
        penalty of the grid (``None``: never).
    solver : 'auto' | 'svd' | 'eigh_dual'
        Decomposition (``'auto'``: primal SVD when samples >= features, else dual).
    n_jobs : int | None
        Threads for the linear algebra (BLAS, and torch on the CPU), with joblib's meaning:
        ``None`` or ``1`` one thread (often the fastest on a shared machine), ``-1`` every
        core.
    %(verbose)s

    Returns
    -------
    fit : RidgeCVFit
        Chosen penalties, fold-averaged scores of every penalty, refitted coefficients.

    See Also
    --------
    nested_ridge_cv : Out-of-fold predictions with the penalty chosen inside each fold.
    hyperalign.encoding.banded.banded_ridge_cv : One penalty per feature space.

    Examples
    --------
    >>> import numpy as np
    >>> from hyperalign.encoding import ridge_cv
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 5))
    >>> Y = X @ rng.standard_normal((5, 3)) + 0.5 * rng.standard_normal((200, 3))
    >>> fit = ridge_cv(X, Y, alphas=np.logspace(-2, 4, 7), cv=5)
    >>> fit.best_alphas_
    array([10., 10., 10.])
    >>> fit.best_scores_.round(2)
    array([0.94, 0.94, 0.94])
    """
    X, Y, alphas, bk = _prepare(X, Y, alphas, score, backend, device, dtype)
    check_edge_warning(edge_warning)
    folds = make_folds(cv, X.shape[0], X)
    solver = pick_solver(min(len(tr) for tr, _ in folds), X.shape[1], solver)
    logger.info(
        "ridge_cv: %d rows x %d features -> %d targets, %d folds, %d penalties, solver=%s, %s",
        *X.shape,
        Y.shape[1],
        len(folds),
        len(alphas),
        solver,
        bk.name,
    )
    with blas_threads(n_jobs, bk):
        (res,) = run_tasks(
            bk,
            X,
            Y,
            [Task(pool=np.arange(X.shape[0]), folds=folds)],
            alphas,
            fit_intercept=fit_intercept,
            score=score,
            solver=solver,
            n_batch=n_targets_batch,
            keep_scores=True,
        )
    edge_share(res.best_idx, len(alphas), edge_warning)
    return RidgeCVFit(
        alphas=alphas,
        best_alphas_=res.best_alphas,
        cv_scores_=res.mean_scores,
        coef_=res.coef,
        intercept_=res.intercept,
        score=score,
        solver=solver,
        n_folds=len(folds),
    )


def _np_score(Yte: np.ndarray, P: np.ndarray, score: str) -> np.ndarray:
    """Score of predictions ``P`` against ``Yte`` per column (himalaya's conventions)."""
    from .scores import correlation_score, r2_score

    if score == "r":
        return correlation_score(Yte, P)
    if score == "r2":
        return r2_score(Yte, P)
    return -((Yte - P) ** 2).mean(0)


@fill_doc
@verbose
def nested_ridge_cv(
    X,
    Y,
    *,
    alphas,
    outer_cv,
    inner_cv,
    fit_intercept: bool = True,
    backend: str = "numpy",
    device: str | None = None,
    dtype: str = "float64",
    score: str = "r",
    return_coefs: bool = False,
    n_targets_batch: int | None = None,
    edge_warning: float | None = 0.1,
    solver: str = "auto",
    n_jobs: int | None = None,
    verbose=None,
) -> NestedRidgeFit:
    """Nested cross-validated ridge: out-of-fold predictions, penalties chosen inside folds.

    For every outer fold, :func:`ridge_cv` runs on the outer training rows only (the test
    rows are never seen by the penalty search), the model is refitted on those rows at the
    chosen penalties and predicts the outer test rows.

    Parameters
    ----------
    X : array-like, shape (n_samples, n_features)
        Features.
    Y : array-like, shape (n_samples, n_targets)
        Targets.
    alphas : array-like of float
        Penalty grid, finite and > 0.
    outer_cv : int | scikit-learn splitter | iterable of (train, test)
        Outer folds over all rows (an int is contiguous blocks).
    inner_cv : int | scikit-learn splitter | iterable of (train, test) | callable
        Inner folds over the training rows of each outer fold: an int, a splitter or an
        iterable give indices relative to the training subset; a callable receives the
        absolute training rows and returns ``(train, test)`` pairs of absolute rows.
    fit_intercept : bool
        Centre features and targets on the training rows.
    %(backend)s
    %(device)s
    dtype : 'float64' | 'float32'
        Precision of the computation.
    score : 'r' | 'r2' | 'neg_mse'
        Score for the inner choice and for the outer folds.
    return_coefs : bool
        Keep the coefficients of every outer fold.
    n_targets_batch : int | None
        Targets per batch (``None``: automatic).
    edge_warning : float | None
        Warn when more than this share of (fold, target) pairs chose an edge of the grid.
    solver : 'auto' | 'svd' | 'eigh_dual'
        Decomposition.
    n_jobs : int | None
        Threads for the linear algebra (BLAS, and torch on the CPU), with joblib's meaning:
        ``None`` or ``1`` one thread (often the fastest on a shared machine), ``-1`` every
        core.
    %(verbose)s

    Returns
    -------
    fit : NestedRidgeFit
        Out-of-fold predictions, fold scores and the penalties chosen in every fold.

    See Also
    --------
    ridge_cv : One level of cross-validation and a refit on all rows.
    """
    X, Y, alphas, bk = _prepare(X, Y, alphas, score, backend, device, dtype)
    check_edge_warning(edge_warning)
    outer = make_folds(outer_cv, X.shape[0], X, "outer_cv")
    tasks = []
    for train, test in outer:
        inner = inner_folds(inner_cv, train, X[train])
        abs_inner = [(train[tr], train[te]) for tr, te in inner]
        tasks.append(Task(pool=train, folds=abs_inner, test=test))
    solver = pick_solver(min(len(tr) for t in tasks for tr, _ in t.folds), X.shape[1], solver)
    logger.info(
        "nested_ridge_cv: %d rows x %d features -> %d targets, %d outer folds, solver=%s, %s",
        *X.shape,
        Y.shape[1],
        len(outer),
        solver,
        bk.name,
    )
    with blas_threads(n_jobs, bk):
        results = run_tasks(
            bk,
            X,
            Y,
            tasks,
            alphas,
            fit_intercept=fit_intercept,
            score=score,
            solver=solver,
            n_batch=n_targets_batch,
            keep_coef=return_coefs,
        )
    preds = np.full(Y.shape, np.nan)
    for (_, test), res in zip(outer, results):
        preds[test] = res.predictions
    fold_scores = np.stack(
        [_np_score(Y[test], res.predictions, score) for (_, test), res in zip(outer, results)]
    )
    edge_share(np.concatenate([r.best_idx for r in results]), len(alphas), edge_warning)
    uncovered = int(np.isnan(preds[:, 0]).sum())
    if uncovered:
        logger.info("nested_ridge_cv: %d row(s) are in no outer test fold (NaN)", uncovered)
    coefs = np.stack([r.coef for r in results]) if return_coefs else None
    icpts = np.stack([r.intercept for r in results]) if return_coefs else None
    best = np.stack([r.best_alphas for r in results])
    return NestedRidgeFit(
        predictions_=preds,
        fold_scores_=fold_scores,
        best_alphas_=best,
        folds_=outer,
        coefs_=coefs,
        intercepts_=icpts,
        alphas=alphas,
        score=score,
    )
