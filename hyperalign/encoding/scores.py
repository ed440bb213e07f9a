"""Scores of encoding models: Pearson r, R², split R² per feature space, variance partition.

The conventions follow himalaya (``himalaya.scoring``) so that numbers match it: a column
with zero variance scores 0 (not NaN), R² is ``1 - SSE / SST`` around the mean of the true
values, and the split R² uses the product measure, whose parts sum to the joint R².
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from ._solver_checks import warn

__all__ = ["correlation_score", "r2_score", "r2_score_split", "variance_partition"]


def _pair(y_true, y_pred, name="y_pred"):
    yt = np.asarray(y_true, dtype=float)
    yp = np.asarray(y_pred, dtype=float)
    if yt.ndim == 1:
        yt = yt[:, None]
    if yp.ndim == 1:
        yp = yp[:, None]
    if yt.ndim != 2 or yt.shape != yp.shape:
        raise ValueError(
            f"y_true and {name} must have the same shape (n_samples, n_targets); got "
            f"{yt.shape} and {yp.shape}"
        )
    valid = np.isfinite(yt) & np.isfinite(yp)
    return yt, yp, valid


def correlation_score(y_true, y_pred) -> np.ndarray:
    """Pearson correlation per column; rows with NaN (in either array) are left out.

    Parameters
    ----------
    y_true : array-like, shape (n_samples, n_targets)
        Observed values.
    y_pred : array-like, shape (n_samples, n_targets)
        Predictions (for example out-of-fold predictions, NaN where a row was in no fold).

    Returns
    -------
    r : ndarray, shape (n_targets,)
        Correlation per column; 0 when either column is constant (himalaya's convention),
        NaN when fewer than 2 rows are valid.

    See Also
    --------
    r2_score : Coefficient of determination per column.
    """
    yt, yp, valid = _pair(y_true, y_pred)
    n = valid.sum(0)
    yt = np.where(valid, yt, 0.0)
    yp = np.where(valid, yp, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mt = yt.sum(0) / n
        mp = yp.sum(0) / n
        ct = np.where(valid, yt - mt, 0.0)
        cp = np.where(valid, yp - mp, 0.0)
        den = np.sqrt((ct**2).sum(0) * (cp**2).sum(0))
        r = np.where(den > 0, (ct * cp).sum(0) / np.where(den > 0, den, 1.0), 0.0)
    return np.where(n >= 2, r, np.nan)


def r2_score(y_true, y_pred) -> np.ndarray:
    """Coefficient of determination ``1 - SSE / SST`` per column, NaN rows left out.

    Parameters
    ----------
    y_true : array-like, shape (n_samples, n_targets)
        Observed values.
    y_pred : array-like, shape (n_samples, n_targets)
        Predictions.

    Returns
    -------
    r2 : ndarray, shape (n_targets,)
        R² per column (can be negative); 0 when ``y_true`` is constant (himalaya's
        convention), NaN when fewer than 2 rows are valid.

    See Also
    --------
    correlation_score : Pearson r per column.
    r2_score_split : R² split into per-space parts.
    """
    yt, yp, valid = _pair(y_true, y_pred)
    n = valid.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mt = np.where(valid, yt, 0.0).sum(0) / n
        sse = np.where(valid, (yt - yp) ** 2, 0.0).sum(0)
        sst = np.where(valid, (yt - mt) ** 2, 0.0).sum(0)
        r2 = np.where(sst > 0, 1.0 - sse / np.where(sst > 0, sst, 1.0), 0.0)
    return np.where(n >= 2, r2, np.nan)


def r2_score_split(y_true, y_preds) -> np.ndarray:
    """R² split over feature spaces by the product measure (himalaya's ``r2_score_split``).

    With ``Yhat = sum_i Yhat_i``, space ``i`` gets
    ``R2_i = sum_n (2 y Yhat_i - Yhat_i * Yhat) / sum_n y**2``, so the parts sum to the
    joint ``R2 = 1 - ||y - Yhat||**2 / ||y||**2``. As in himalaya, ``y_true`` must be
    zero-mean over samples (centre it, and use the per-space predictions of centred
    features, e.g. ``NestedBandedFit.split_predictions_`` against ``Y`` minus its
    training mean); a warning is given otherwise.

    Parameters
    ----------
    y_true : array-like, shape (n_samples, n_targets)
        Observed values, zero-mean per column.
    y_preds : array-like, shape (n_spaces, n_samples, n_targets)
        Per-space predictions. Rows with NaN in ``y_true`` or any space are left out.

    Returns
    -------
    r2 : ndarray, shape (n_spaces, n_targets)
        Per-space R²; its sum over spaces is the joint R².

    See Also
    --------
    variance_partition : Unique and shared variance from joint and reduced models.
    """
    yt = np.asarray(y_true, dtype=float)
    yp = np.asarray(y_preds, dtype=float)
    if yt.ndim == 1:
        yt = yt[:, None]
    if yp.ndim == 2:
        yp = yp[None]
    if yp.ndim != 3 or yp.shape[1:] != yt.shape:
        raise ValueError(
            "y_preds must have shape (n_spaces, n_samples, n_targets) matching y_true "
            f"{yt.shape}; got {yp.shape}"
        )
    valid = np.isfinite(yt) & np.isfinite(yp).all(0)
    yt = np.where(valid, yt, 0.0)
    yp = np.where(valid[None], yp, 0.0)
    n = valid.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = yt.sum(0) / n
        scale = np.sqrt((yt**2).sum(0) / np.maximum(n, 1))
    if np.any(np.abs(mean) > 1e-6 * np.maximum(scale, 1e-12)):
        warn(
            "r2_score_split: y_true is not zero-mean over samples; the product measure "
            "assumes it is. Centre y_true (and use predictions of centred features)"
        )
    sst = (yt**2).sum(0)
    total = yp.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        parts = ((2 * yt[None] * yp - yp * total[None]).sum(1)) / sst[None]
    return np.where(sst[None] > 0, parts, 0.0)


def _key(k, spaces=None):
    if isinstance(k, str):
        return frozenset([k])
    return frozenset(str(s) for s in k)


def variance_partition(r2_joint, r2_reduced: dict, *, spaces=None) -> pd.DataFrame:
    """Set-theoretic variance partition: unique and shared variance of feature spaces.

    Every model's R² is read as the measure of the union of its spaces' explained
    variance. The part explained by exactly the spaces ``T`` (and by none of the others)
    is ``sum_{U subset of T} (-1)**(|U|+1) R2(U + others)`` (inclusion-exclusion, with
    ``R2(empty) = 0``). With two spaces A and B this is ``unique_A = R2_AB - R2_B``,
    ``unique_B = R2_AB - R2_A`` and ``shared = R2_A + R2_B - R2_AB``. Parts that need a
    model that was not given are left out; negative parts (common with noisy scores) are
    reported as they are, never clipped.

    Parameters
    ----------
    r2_joint : array-like, shape (n_targets,)
        R² of the joint model with every space.
    r2_reduced : dict
        R² (``(n_targets,)``) of each reduced model, keyed by the spaces it contains: a
        space name or a tuple of names, e.g. ``{'semantic': r2_s, 'acoustic': r2_a}``.
    spaces : list of str | None
        All space names (default: every name appearing in the keys of ``r2_reduced``).

    Returns
    -------
    df : pandas.DataFrame
        Long table with columns ``target``, ``component`` (``'unique:A'`` or
        ``'shared:A+B'``), ``spaces`` (tuple) and ``r2``.

    See Also
    --------
    r2_score_split : Product-measure split of the joint R².
    """
    joint = np.atleast_1d(np.asarray(r2_joint, dtype=float))
    if not isinstance(r2_reduced, dict) or not r2_reduced:
        raise TypeError(
            "r2_reduced must be a non-empty dict {space or tuple of spaces: R2 array}; got "
            f"{type(r2_reduced).__name__}"
        )
    models = {}
    for k, v in r2_reduced.items():
        v = np.atleast_1d(np.asarray(v, dtype=float))
        if v.shape != joint.shape:
            raise ValueError(
                f"r2_reduced[{k!r}] has shape {v.shape}; expected {joint.shape} like r2_joint"
            )
        models[_key(k)] = v
    everything = frozenset(spaces) if spaces is not None else frozenset().union(*models)
    if any(not m <= everything for m in models):
        raise ValueError(f"r2_reduced names spaces outside spaces={sorted(everything)}")
    models[everything] = joint
    models[frozenset()] = np.zeros_like(joint)
    names = sorted(everything)
    rows = []
    for size in range(1, len(names) + 1):
        for T in combinations(names, size):
            T = frozenset(T)
            rest = everything - T
            terms = [
                (U, frozenset(U) | rest)
                for r in range(len(T) + 1)
                for U in combinations(sorted(T), r)
            ]
            if any(m not in models for _, m in terms):
                continue
            value = sum((-1) ** (len(U) + 1) * models[m] for U, m in terms)
            label = ("unique:" if size == 1 else "shared:") + "+".join(sorted(T))
            for t, val in enumerate(value):
                rows.append(
                    {"target": t, "component": label, "spaces": tuple(sorted(T)), "r2": val}
                )
    if not rows:
        raise ValueError(
            "variance_partition: no component can be computed from the given models; give "
            "at least the models that leave out one space each"
        )
    return pd.DataFrame(rows)
