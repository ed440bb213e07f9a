"""The result containers of banded ridge: :class:`BandedRidgeFit` and :class:`NestedBandedFit`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._solver_checks import check_matrix

__all__ = ["BandedRidgeFit", "NestedBandedFit"]


@dataclass
class BandedRidgeFit:
    """A banded ridge model: one penalty per feature space and target.

    Parameters
    ----------
    space_names : list of str
        Names of the feature spaces.
    space_alphas_ : ndarray, shape (n_spaces, n_targets)
        Chosen penalty of each space (``alpha / gamma_i``).
    best_alphas_ : ndarray, shape (n_targets,)
        Chosen overall penalty ``alpha`` (``1 / sum_i 1 / space_alphas_``).
    best_gammas_ : ndarray, shape (n_spaces, n_targets)
        Chosen simplex weights.
    cv_scores_ : ndarray, shape (n_targets,)
        Fold-averaged score at the chosen penalties.
    candidate_scores_ : ndarray, shape (n_candidates, n_targets)
        Fold-averaged score of each candidate at its best ``alpha``.
    candidates : ndarray, shape (n_candidates, n_spaces)
        The simplex weights tried.
    coef_ : list of ndarray, shape (n_features_i, n_targets)
        Coefficients per space, refitted on all rows.
    intercept_ : ndarray, shape (n_targets,)
        Intercepts.
    x_means_ : list of ndarray
        Feature means per space (zeros without intercept), used by :meth:`predict_split`.
    y_offset_ : ndarray, shape (n_targets,)
        ``predict(Xs) == predict_split(Xs).sum(0) + y_offset_``.
    score : str
        Score used for the search.
    """

    space_names: list
    space_alphas_: np.ndarray
    best_alphas_: np.ndarray
    best_gammas_: np.ndarray
    cv_scores_: np.ndarray
    candidate_scores_: np.ndarray
    candidates: np.ndarray
    coef_: list
    intercept_: np.ndarray
    x_means_: list = field(default_factory=list)
    y_offset_: np.ndarray | None = None
    score: str = "r"

    def _check_xs(self, Xs):
        if not isinstance(Xs, list | tuple) or len(Xs) != len(self.coef_):
            raise ValueError(
                f"Xs must be a list of {len(self.coef_)} feature arrays "
                f"({', '.join(self.space_names)}), in the order used to fit"
            )
        out = []
        for name, X, c in zip(self.space_names, Xs, self.coef_):
            X = check_matrix(X, f"Xs[{name!r}]")
            if X.shape[1] != c.shape[0]:
                raise ValueError(
                    f"Xs[{name!r}] has {X.shape[1]} features; the model was fitted on {c.shape[0]}"
                )
            out.append(X)
        return out

    def predict(self, Xs) -> np.ndarray:
        """Joint predictions ``(n_samples, n_targets)``.

        Parameters
        ----------
        Xs : list of ndarray, shape (n_samples, n_features_i)
            One feature matrix per space, in the order of ``space_names``.

        Returns
        -------
        y_pred : ndarray, shape (n_samples, n_targets)
            The sum of the spaces' contributions plus the intercept.
        """
        Xs = self._check_xs(Xs)
        return sum(X @ c for X, c in zip(Xs, self.coef_)) + self.intercept_

    def predict_split(self, Xs) -> np.ndarray:
        """Per-space predictions ``(n_spaces, n_samples, n_targets)`` of centred features.

        Space ``i`` contributes ``(X_i - x_means_[i]) @ coef_[i]``; the parts sum to
        :meth:`predict` minus ``y_offset_`` (the training mean of the targets).

        Parameters
        ----------
        Xs : list of ndarray, shape (n_samples, n_features_i)
            One feature matrix per space, in the order of ``space_names``.

        Returns
        -------
        y_split : ndarray, shape (n_spaces, n_samples, n_targets)
            Each space's contribution.
        """
        Xs = self._check_xs(Xs)
        return np.stack([(X - m) @ c for X, m, c in zip(Xs, self.x_means_, self.coef_)])

    def to_data_frame(self) -> pd.DataFrame:
        """One row per target and space: the space's penalty and the joint CV score.

        Returns
        -------
        df : pandas.DataFrame
            Long table, one row per target and space.
        """
        n_spaces, n_targets = self.space_alphas_.shape
        return pd.DataFrame(
            {
                "target": np.tile(np.arange(n_targets), n_spaces),
                "space": np.repeat(self.space_names, n_targets),
                "alpha": self.space_alphas_.ravel(),
                "cv_score": np.tile(self.cv_scores_, n_spaces),
                "score": self.score,
            }
        )


@dataclass
class NestedBandedFit:
    """Out-of-fold predictions of nested banded ridge.

    Parameters
    ----------
    predictions_ : ndarray, shape (n_samples, n_targets)
        Joint out-of-fold predictions (NaN on rows in no test fold).
    split_predictions_ : ndarray, shape (n_spaces, n_samples, n_targets)
        Per-space out-of-fold predictions (centred features; they sum to the joint
        prediction minus the training mean of the targets).
    fold_scores_ : ndarray, shape (n_folds, n_targets)
        Score of the joint prediction in each outer test fold.
    space_alphas_ : ndarray, shape (n_folds, n_spaces, n_targets)
        Per-space penalties chosen in each outer fold.
    folds_ : list of (ndarray, ndarray)
        Outer folds.
    space_names : list of str
        Names of the spaces.
    score : str
        The score.
    """

    predictions_: np.ndarray
    split_predictions_: np.ndarray
    fold_scores_: np.ndarray
    space_alphas_: np.ndarray
    folds_: list
    space_names: list
    score: str = "r"

    def to_data_frame(self) -> pd.DataFrame:
        """One row per outer fold and target: joint score and the per-space penalties.

        Returns
        -------
        df : pandas.DataFrame
            Long table, one row per outer fold and target.
        """
        n_folds, n_targets = self.fold_scores_.shape
        df = pd.DataFrame(
            {
                "fold": np.repeat(np.arange(n_folds), n_targets),
                "target": np.tile(np.arange(n_targets), n_folds),
                "score": self.fold_scores_.ravel(),
            }
        )
        for j, name in enumerate(self.space_names):
            df[f"alpha_{name}"] = self.space_alphas_[:, j, :].ravel()
        return df
