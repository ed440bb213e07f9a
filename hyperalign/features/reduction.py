"""Dimension reduction of embeddings fitted inside cross-validation folds only.

Reducing embeddings (e.g. 576-d hidden states to 20 principal components) with a PCA fitted
on *all* rows lets the rows used for evaluation shape the components: a leak. This module
offers only fold-wise reduction:

- :class:`FoldPCA`, a scikit-learn transformer to put first in a ``Pipeline``; the pipeline
  fits it on each training fold and only *transforms* the test fold.
- :func:`cross_validated_reduction`, a generator over the folds of ``cv`` that yields the
  training rows reduced by a PCA fitted on them and the test rows projected onto it.

There is deliberately no function that fits on every row and returns those same rows
reduced. Whoever needs that (a descriptive plot, not an evaluation) can call
``FoldPCA().fit(X).transform(X)`` explicitly.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted

__all__ = ["FoldPCA", "cross_validated_reduction"]


class FoldPCA(TransformerMixin, BaseEstimator):
    """PCA fitted on the rows given to :meth:`fit` (a training fold) only.

    Parameters
    ----------
    n_components : int | float
        Number of components (int), or the fraction of variance to keep (0 < float < 1).
    whiten : bool
        Scale the component scores to unit variance (on the training fold).
    standardize : bool
        Z-score every feature with the training fold's mean and SD before the PCA.

    Attributes
    ----------
    mean_ : ndarray, shape (n_features,)
    scale_ : ndarray, shape (n_features,)
    components_ : ndarray, shape (n_components, n_features)
    explained_variance_ : ndarray, shape (n_components,)
    explained_variance_ratio_ : ndarray, shape (n_components,)
    n_components_ : int
    n_features_in_ : int

    Notes
    -----
    Components come from the SVD of the centred training rows; each component's sign is
    fixed so that its largest-magnitude loading is positive (deterministic output).
    """

    def __init__(self, n_components: int | float = 10, whiten: bool = False, standardize=False):
        self.n_components = n_components
        self.whiten = whiten
        self.standardize = standardize

    def fit(self, X, y=None):
        """Fit the components on ``X`` (the training rows).

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features)
            The training rows.
        y : None
            Ignored (scikit-learn protocol).

        Returns
        -------
        self : FoldPCA
            The fitted estimator.
        """
        X = check_array(X, dtype=np.float64)
        n, p = X.shape
        if n < 2:
            raise ValueError(f"FoldPCA needs at least 2 training rows; got {n}")
        nc = self.n_components
        if isinstance(nc, float) and not isinstance(nc, bool) and 0 < nc < 1:
            pass
        elif isinstance(nc, int | np.integer) and not isinstance(nc, bool):
            if not 1 <= nc <= min(n, p):
                raise ValueError(
                    f"n_components must be in [1, min(n_train_rows, n_features) = {min(n, p)}] "
                    f"or a fraction in (0, 1); got {nc!r}"
                )
        else:
            raise ValueError(f"n_components must be an int >= 1 or a float in (0, 1); got {nc!r}")
        self.mean_ = X.mean(0)
        Xc = X - self.mean_
        if self.standardize:
            sd = Xc.std(0, ddof=1)
            self.scale_ = np.where(sd > 0, sd, 1.0)
        else:
            self.scale_ = np.ones(p)
        Xc = Xc / self.scale_
        U, S, Vt = np.linalg.svd(Xc, full_matrices=False)
        var = S**2 / (n - 1)
        ratio = var / var.sum() if var.sum() > 0 else np.zeros_like(var)
        if isinstance(nc, float):
            k = int(np.searchsorted(np.cumsum(ratio), nc) + 1)
            k = min(k, len(S))
        else:
            k = int(nc)
        signs = np.sign(Vt[np.arange(len(Vt)), np.abs(Vt).argmax(1)])
        signs[signs == 0] = 1
        Vt = Vt * signs[:, None]
        self.components_ = Vt[:k]
        self.explained_variance_ = var[:k]
        self.explained_variance_ratio_ = ratio[:k]
        self.n_components_ = k
        self.n_features_in_ = p
        return self

    def transform(self, X):
        """Project ``X`` on the components fitted on the training rows.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features)
            Rows to project (standardised with the training statistics when
            ``standardize=True``).

        Returns
        -------
        X_new : ndarray, shape (n_samples, n_components)
            The projected rows.
        """
        check_is_fitted(self, "components_")
        X = check_array(X, dtype=np.float64)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features; FoldPCA was fitted on {self.n_features_in_}"
            )
        Z = ((X - self.mean_) / self.scale_) @ self.components_.T
        if self.whiten:
            Z = Z / np.sqrt(np.where(self.explained_variance_ > 0, self.explained_variance_, 1))
        return Z

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "components_")
        return np.array([f"pc{i + 1}" for i in range(self.n_components_)], dtype=object)


def cross_validated_reduction(
    X,
    cv,
    n_components: int | float = 10,
    *,
    y=None,
    groups=None,
    whiten: bool = False,
    standardize: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Reduce ``X`` fold by fold, fitting the PCA on each training fold only.

    Parameters
    ----------
    X : array-like, shape (n_samples, n_features)
        E.g. one layer of word or utterance embeddings.
    cv : int | scikit-learn splitter | iterable of (train, test) index arrays
        An int means ``KFold(cv)`` (unshuffled); with ``groups`` use a group splitter
        (e.g. ``GroupKFold``) so that one dyad never spans train and test.
    n_components : int | float
        Passed to :class:`FoldPCA`.
    y : array-like | None
        Passed to ``cv.split``.
    groups : array-like | None
        Passed to ``cv.split`` (e.g. the dyad of each row).
    whiten : bool
        Passed to :class:`FoldPCA`.
    standardize : bool
        Passed to :class:`FoldPCA`.

    Yields
    ------
    train_idx, test_idx : ndarray of int
        Row indices of the fold's training and test sets.
    X_train_reduced : ndarray, shape (n_train, n_components)
    X_test_reduced : ndarray, shape (n_test, n_components)
        Test rows projected on components that never saw them.
    """
    from sklearn.model_selection import KFold

    X = check_array(X, dtype=np.float64)
    n = X.shape[0]
    if isinstance(cv, int | np.integer):
        if cv < 2:
            raise ValueError(f"cv must be >= 2 folds when an int; got {cv!r}")
        splits = KFold(int(cv)).split(X)
    elif hasattr(cv, "split"):
        splits = cv.split(X, y, groups)
    else:
        splits = iter(cv)
    for k, (train, test) in enumerate(splits):
        train = np.asarray(train, int)
        test = np.asarray(test, int)
        if np.intersect1d(train, test).size:
            raise ValueError(f"fold {k}: train and test share rows; the splitter is leaking")
        if train.size and (train.max() >= n or test.max(initial=-1) >= n):
            raise ValueError(f"fold {k}: indices beyond the {n} rows of X")
        pca = FoldPCA(n_components, whiten=whiten, standardize=standardize).fit(X[train])
        yield train, test, pca.transform(X[train]), pca.transform(X[test])
