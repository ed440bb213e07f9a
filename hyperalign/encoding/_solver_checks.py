"""Input checks shared by the ridge and banded ridge solvers (errors name the fix)."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from ..utils import _validate_type, check_option, logger
from ._solvers_backend import SCORES
from .splitters import _check_n_splits


def warn(msg: str) -> None:
    """Log and raise a ``UserWarning`` (visible in logs and to ``pytest.warns``)."""
    logger.warning(msg)
    warnings.warn(msg, UserWarning, stacklevel=3)


def _first(idx, n=5) -> str:
    idx = list(np.asarray(idx).ravel()[:n])
    return ", ".join(str(int(i)) for i in idx)


def check_matrix(a, name: str, *, n_rows: int | None = None) -> np.ndarray:
    """A finite 2-D float array; NaN/inf refused with the rows and columns named."""
    if hasattr(a, "detach"):  # torch tensor
        a = a.detach().cpu().numpy()
    a = np.asarray(a)
    if a.ndim == 1 and name.startswith("Y"):
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array (n_samples, n_columns); got shape {a.shape}. "
            "Reshape it (a single column: a[:, None])"
        )
    if not np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.complexfloating):
        raise TypeError(f"{name} must hold real numbers; got dtype {a.dtype}")
    if n_rows is not None and a.shape[0] != n_rows:
        raise ValueError(
            f"{name} has {a.shape[0]} rows but X has {n_rows}; every row is one sample "
            "(word or time point), so X and Y need the same rows in the same order"
        )
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {a.shape}); it needs rows and columns")
    # in column blocks: a full boolean mask of 100,000 targets would cost gigabytes
    bad_rows = np.zeros(a.shape[0], dtype=bool)
    bad_cols = np.zeros(a.shape[1], dtype=bool)
    for start in range(0, a.shape[1], 2048):
        bad = ~np.isfinite(a[:, start : start + 2048])
        bad_rows |= bad.any(1)
        bad_cols[start : start + 2048] = bad.any(0)
    if bad_rows.any():
        rows = np.flatnonzero(bad_rows)
        cols = np.flatnonzero(bad_cols)
        raise ValueError(
            f"{name} has NaN or inf in {rows.size} row(s) (first: {_first(rows)}) and "
            f"{cols.size} column(s) (first: {_first(cols)}). The solvers never impute: drop "
            "these rows before fitting (and count them, e.g. in an ExclusionLog), or fill "
            "the values deliberately"
        )
    return a


def check_features(X: np.ndarray, name: str = "X") -> None:
    """Warn about constant and duplicated feature columns, naming them."""
    const = np.flatnonzero(np.ptp(X, axis=0) == 0)
    if const.size:
        warn(
            f"{name} has {const.size} constant column(s) (first: {_first(const)}); they carry "
            "no information (with fit_intercept=True their coefficients are 0). Drop them"
        )
    if X.shape[1] > 1 and X.shape[1] <= 20000:
        _, first, counts = np.unique(X, axis=1, return_index=True, return_counts=True)
        dup = np.sort(first[counts > 1])
        if dup.size:
            warn(
                f"{name} has duplicated columns (first of each duplicate group: "
                f"{_first(dup)}); duplicates share the penalty and their weights are split "
                "between them. Drop the copies"
            )


def check_alphas(alphas, name: str = "alphas") -> np.ndarray:
    a = np.atleast_1d(np.asarray(alphas, dtype=float))
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D grid of penalties; got {alphas!r}")
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise ValueError(
            f"{name} must be finite and > 0; got {a.tolist()}. Use a log-spaced grid such "
            "as np.logspace(-2, 6, 20)"
        )
    if np.unique(a).size != a.size:
        raise ValueError(f"{name} has repeated values {a.tolist()}; give each penalty once")
    return a


def check_score(score: str) -> str:
    return check_option("score", score, SCORES)


def contiguous_folds(n: int, k: int, name: str = "cv"):
    """Contiguous KFold (scikit-learn's unshuffled ``KFold``)."""
    sizes = np.full(k, n // k, dtype=int)
    sizes[: n % k] += 1
    stops = np.cumsum(sizes)
    starts = stops - sizes
    idx = np.arange(n)
    return [(np.concatenate([idx[:a], idx[b:]]), idx[a:b]) for a, b in zip(starts, stops)]


def check_folds(cv, n: int, X=None, name: str = "cv") -> list[tuple[np.ndarray, np.ndarray]]:
    """Folds over ``n`` rows as a checked list of ``(train, test)`` integer arrays.

    The solvers' fold normaliser: an int is contiguous KFold over the rows (scikit-learn's
    unshuffled ``KFold``; folds on the clock are :func:`~hyperalign.encoding.make_folds`,
    passed here as index pairs), a scikit-learn splitter is split on ``X``, an iterable is
    taken as ``(train, test)`` pairs; every fold is checked (integers, in range, no overlap).
    """
    if isinstance(cv, int | np.integer) and not isinstance(cv, bool):
        folds = contiguous_folds(n, _check_n_splits(cv, n, "samples", name), name)
    elif hasattr(cv, "split"):
        folds = list(cv.split(np.zeros((n, 1)) if X is None else X))
    elif isinstance(cv, Callable):
        raise TypeError(
            f"{name} must be an int, a scikit-learn splitter or an iterable of (train, test) "
            f"index pairs; a callable is allowed only for inner_cv. Got {cv!r}"
        )
    else:
        try:
            folds = list(cv)
        except TypeError:
            raise TypeError(
                f"{name} must be an int, a scikit-learn splitter or an iterable of "
                f"(train, test) index pairs; got {type(cv).__name__}"
            ) from None
    return [_check_fold(f, i, n, name) for i, f in enumerate(folds)] or _no_folds(name)


make_folds = check_folds  # the solvers' historical name (ridge.py, banded.py import it)


def _no_folds(name):
    raise ValueError(f"{name} produced no folds; give at least one (train, test) pair")


def _check_fold(fold, i: int, n: int, name: str):
    try:
        train, test = fold
    except (TypeError, ValueError):
        raise ValueError(f"{name}: fold {i} is not a (train, test) pair") from None
    train, test = (np.asarray(t) for t in (train, test))
    for part, arr in (("train", train), ("test", test)):
        if arr.dtype == bool:
            raise TypeError(f"{name}: fold {i} {part} is a boolean mask; pass integer indices")
        if arr.size == 0:
            raise ValueError(
                f"{name}: fold {i} has an empty {part} set; too few samples for the folds "
                f"({n} rows). Use fewer folds or more data"
            )
        if not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"{name}: fold {i} {part} indices must be integers; got {arr.dtype}")
        if arr.min() < 0 or arr.max() >= n:
            raise ValueError(
                f"{name}: fold {i} {part} indices must lie in [0, {n}); got range "
                f"[{arr.min()}, {arr.max()}]"
            )
    overlap = np.intersect1d(train, test)
    if overlap.size:
        raise ValueError(
            f"{name}: fold {i} has {overlap.size} row(s) in both train and test (first: "
            f"{_first(overlap)}); that leaks test data into the fit. Fix the splitter"
        )
    if train.size < 2:
        raise ValueError(f"{name}: fold {i} trains on {train.size} row; needs at least 2")
    return train.astype(np.int64), test.astype(np.int64)


def inner_folds(inner_cv, train: np.ndarray, X_train=None, name="inner_cv"):
    """Inner folds relative to the outer training rows ``train``.

    A callable receives the absolute training rows and returns folds of absolute rows (all
    inside ``train``); anything else is applied to the training subset as in :func:`check_folds`.
    """
    if callable(inner_cv) and not hasattr(inner_cv, "split"):
        folds = list(inner_cv(train))
        pos = {int(r): j for j, r in enumerate(train)}
        rel = []
        for i, (tr, te) in enumerate(folds):
            try:
                rel.append(
                    (np.array([pos[int(r)] for r in tr]), np.array([pos[int(r)] for r in te]))
                )
            except KeyError as err:
                raise ValueError(
                    f"{name}: fold {i} uses row {err.args[0]}, which is not in the outer "
                    "training rows; the callable must return absolute rows inside train_idx"
                ) from None
        return [_check_fold(f, i, train.size, name) for i, f in enumerate(rel)]
    return check_folds(inner_cv, train.size, X_train, name)


def edge_share(best_idx: np.ndarray, n_alphas: int, edge_warning: float | None) -> None:
    """Warn when more than ``edge_warning`` of the targets chose the smallest/largest penalty."""
    if edge_warning is None or n_alphas < 2 or best_idx.size == 0:
        return
    lo = float(np.mean(best_idx == 0))
    hi = float(np.mean(best_idx == n_alphas - 1))
    for share, which, fix in ((lo, "smallest", "lower"), (hi, "largest", "higher")):
        if share > edge_warning:
            warn(
                f"{share:.0%} of targets chose the {which} penalty of the grid (more than "
                f"edge_warning={edge_warning:.0%}); the best penalty may lie outside the grid. "
                f"Extend alphas to {fix} values"
            )


def check_edge_warning(edge_warning):
    if edge_warning is not None:
        _validate_type(edge_warning, "numeric", "edge_warning")
        if not 0 <= edge_warning <= 1:
            raise ValueError(f"edge_warning must be in [0, 1] or None; got {edge_warning}")
    return edge_warning


def check_rois(rois: dict, available, *, what: str, tail: str = "", fix: str) -> dict:
    """``rois`` (name -> channel or list of channels) whose members are all ``available``.

    An empty ROI or a member not available is an error naming the ROI, the members missing
    (``what`` says what they are, ``tail`` why) and ``fix``. Returns the ROIs with every
    value a list.
    """
    out = {}
    for name, members in rois.items():
        members = [members] if isinstance(members, str) else list(members)
        missing = [c for c in members if c not in available]
        if missing or not members:
            raise ValueError(f"rois[{name!r}] names {what} {missing[:5]}{tail}; {fix}")
        out[name] = members
    return out
