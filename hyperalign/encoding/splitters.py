"""Cross-validation folds for encoding models, defined on the clock so they can be shared.

Folds are held as **test intervals in seconds** (:class:`Folds`), not as row indices, so one
set of folds applies to any table of samples that carries times: the production and the
comprehension words of one participant, the two brains of a dyad (model-based coupling needs
the held-out words to match exactly), every layer of a language model. Training rows within
``gap`` seconds of a test interval are purged, so that no training sample shares neural data
with a test sample through the lag window.

Shuffled word-level folds are refused unless forced with ``allow_shuffled="<reason>"``:
neighbouring words share slow neural activity, so shuffled folds inflate held-out scores
(a trivial autocorrelation baseline then beats language models).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..utils import _validate_type, check_random_state, fill_doc, logger
from ..utils._validation import renamed_params, warn_renamed

__all__ = [
    "Folds",
    "LeakageError",
    "make_folds",
    "make_group_folds",
    "shuffled_folds",
    "check_leakage",
    "as_index_folds",
]


class LeakageError(ValueError):
    """A split in which test samples share neural data with training samples."""


@dataclass
class Folds:
    """Test intervals on the clock (seconds) with a purge gap; applies to any timed samples.

    Parameters
    ----------
    intervals : list of (float, float)
        Test interval of each fold, ``[start, stop)`` in seconds.
    gap : float
        Training samples closer than ``gap`` seconds to a test interval are dropped from
        training (the purge; use the span of the lag window).
    scheme : str
        How the folds were made (``'blocks'``, ``'turns'``, ``'groups'``, ``'shuffled'``);
        called ``kind`` before, a deprecated alias (also of the attribute).
    groups : list | None
        For group folds: the test group labels of each fold (then intervals are unused).
    reason : str | None
        For shuffled folds: why the user forced them.
    assignment : ndarray of int | None
        For shuffled folds: the fold of each sample (then intervals are unused).
    """

    intervals: list[tuple[float, float]]
    gap: float = 0.0
    scheme: str = "blocks"
    groups: list | None = None
    reason: str | None = None
    assignment: np.ndarray | None = field(default=None, repr=False)

    @property
    def kind(self) -> str:
        """Deprecated alias of :attr:`scheme` (removed in the next release)."""
        warn_renamed("Folds", "kind", "scheme")
        return self.scheme

    @property
    def n_splits(self) -> int:
        """Number of folds."""
        if self.groups is not None:
            return len(self.groups)
        if self.assignment is not None:
            return int(self.assignment.max()) + 1
        return len(self.intervals)

    def get_n_splits(self, *args, **kwargs) -> int:  # scikit-learn protocol
        """Number of folds (scikit-learn protocol).

        Parameters
        ----------
        *args, **kwargs
            Ignored (scikit-learn passes ``X``, ``y``, ``groups``).

        Returns
        -------
        n_splits : int
            Number of folds.
        """
        return self.n_splits

    def test_masks(self, times, groups=None) -> np.ndarray:
        """Boolean (n_folds, n_samples): which samples each fold tests.

        Parameters
        ----------
        times : array-like of float
            Time of each sample (s), e.g. word onsets.
        groups : array-like | None
            Group label per sample (required for group folds).

        Returns
        -------
        masks : ndarray of bool, shape (n_folds, n_samples)
            ``masks[k, i]`` is True when sample ``i`` is in fold ``k``'s test set.
        """
        t = np.asarray(times, dtype=float)
        if self.groups is not None:
            if groups is None:
                raise ValueError("these folds split by group; pass groups= (one label per sample)")
            g = np.asarray(groups)
            return np.stack([np.isin(g, np.atleast_1d(gr)) for gr in self.groups])
        if self.assignment is not None:
            if len(self.assignment) != len(t):
                raise ValueError(
                    f"shuffled folds were drawn for {len(self.assignment)} samples; got "
                    f"{len(t)} (draw them again for this table)"
                )
            return np.stack([self.assignment == k for k in range(self.n_splits)])
        return np.stack([(t >= a) & (t < b) for a, b in self.intervals])

    def split(self, times, groups=None) -> list[tuple[np.ndarray, np.ndarray]]:
        """Row indices ``(train, test)`` of each fold for samples at ``times``.

        Training rows within ``gap`` s of the fold's test interval are purged.

        Parameters
        ----------
        times : array-like of float
            Time of each sample (s).
        groups : array-like | None
            Group label per sample (group folds only).

        Returns
        -------
        folds : list of (ndarray, ndarray)
            ``(train, test)`` row indices of each fold, purged training rows removed.
        """
        t = np.asarray(times, dtype=float)
        masks = self.test_masks(t, groups)
        out = []
        for k, test in enumerate(masks):
            train = ~test
            if self.gap > 0 and self.groups is None and self.assignment is None:
                a, b = self.intervals[k]
                train &= (t < a - self.gap) | (t >= b + self.gap)
            out.append((np.flatnonzero(train), np.flatnonzero(test)))
        return out

    def to_data_frame(self) -> pd.DataFrame:
        """One row per fold: ``fold, start, stop, gap, scheme`` (and ``groups``).

        Returns
        -------
        df : pandas.DataFrame
            One row per fold.
        """
        rows = []
        for k in range(self.n_splits):
            a, b = self.intervals[k] if self.intervals else (np.nan, np.nan)
            row = {"fold": k, "start": a, "stop": b, "gap": self.gap, "scheme": self.scheme}
            if self.groups is not None:
                row["groups"] = str(self.groups[k])
            rows.append(row)
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        """JSON-able description (stored in results' attrs).

        Returns
        -------
        spec : dict
            ``scheme``, ``gap``, ``intervals``, ``groups`` and ``reason``.
        """
        return {
            "scheme": self.scheme,
            "gap": float(self.gap),
            "intervals": [[float(a), float(b)] for a, b in self.intervals],
            "groups": None if self.groups is None else [str(g) for g in self.groups],
            "reason": self.reason,
        }


Folds.__init__ = renamed_params(kind="scheme")(Folds.__init__)  # Folds(kind=...) one release


def _check_n_splits(n_splits, n_samples: int, what: str = "samples", name: str = "n_splits"):
    """``n_splits`` as an int >= 2 with at least 2 samples per test block (else an error
    naming ``name``, its value and the fix); shared by every fold maker of the package."""
    _validate_type(n_splits, "int-like", name)
    if n_splits < 2:
        raise ValueError(f"{name} must be >= 2 folds; got {n_splits}")
    if n_samples < 2 * n_splits:
        raise ValueError(
            f"too few {what} for the folds: {name}={n_splits} contiguous folds need at least "
            f"{2 * n_splits} {what} (2 per test block); got {n_samples}. Use fewer folds or "
            "a longer recording"
        )
    return int(n_splits)


def make_folds(
    times,
    n_splits: int = 5,
    *,
    gap: float = 0.0,
    boundaries=None,
    duration: float | None = None,
) -> Folds:
    """Contiguous test blocks on the clock with equal numbers of samples, purged by ``gap``.

    Parameters
    ----------
    times : array-like of float
        Times of the samples that define the folds (s), e.g. the onsets of every word of
        the conversation (both speakers, so that both brains share the folds).
    n_splits : int
        Number of folds.
    gap : float
        Purge (s): training samples within ``gap`` of a test block are dropped. Use the
        span of the lag window (``lags.max() - lags.min() + window``) for lagged models.
    boundaries : array-like of float | None
        Allowed block edges (s), e.g. turn onsets (``transcript.utterances.onset``): each edge
        snaps to the nearest one, so no turn is cut between training and test
        ("turn blocks").
    duration : float | None
        End of the recording (s); the last block ends there (default: after the last sample).

    Returns
    -------
    folds : Folds
        Contiguous test blocks on the clock.

    See Also
    --------
    make_group_folds, shuffled_folds, check_leakage
    """
    t = np.sort(np.asarray(times, dtype=float))
    if not np.all(np.isfinite(t)):
        raise ValueError("times must be finite; got NaN or inf (drop those samples first)")
    n_splits = _check_n_splits(n_splits, t.size)
    if gap < 0 or not np.isfinite(gap):
        raise ValueError(f"gap must be finite and >= 0 (seconds); got {gap!r}")
    q = np.quantile(t, np.linspace(0, 1, n_splits + 1)[1:-1])
    # edges halfway between neighbouring samples
    idx = np.searchsorted(t, q)
    idx = np.clip(idx, 1, t.size - 1)
    edges = 0.5 * (t[idx - 1] + t[idx])
    scheme = "blocks"
    if boundaries is not None:
        bnd = np.unique(np.asarray(boundaries, dtype=float))
        if bnd.size == 0:
            raise ValueError("boundaries is empty; pass turn onsets or None")
        edges = bnd[np.abs(bnd[None, :] - edges[:, None]).argmin(axis=1)]
        scheme = "turns"
    edges = np.unique(edges)
    if edges.size != n_splits - 1:
        raise ValueError(
            f"could not place {n_splits} distinct blocks (only {edges.size + 1}); use fewer "
            "folds or more boundaries"
        )
    end = float(duration) if duration is not None else float(t[-1]) + 1.0
    lo = np.r_[min(0.0, t[0]) - 1.0, edges]
    hi = np.r_[edges, max(end, t[-1] + 1e-9)]
    folds = Folds([(float(a), float(b)) for a, b in zip(lo, hi)], float(gap), scheme)
    counts = folds.test_masks(t).sum(axis=1)
    if counts.min() == 0:
        raise ValueError(
            f"a fold has no samples (counts {counts.tolist()}); use fewer folds or "
            "boundaries closer together"
        )
    logger.debug("make_folds: %d %s, samples per fold %s", n_splits, scheme, counts.tolist())
    return folds


def make_group_folds(groups, n_splits: int | None = None) -> Folds:
    """Folds that hold out whole groups: conversations (dyads) or runs.

    Parameters
    ----------
    groups : array-like
        Group label of each sample (e.g. dyad id or run number).
    n_splits : int | None
        Number of folds; ``None`` leaves one group out per fold. Otherwise groups are
        dealt to folds in order of first appearance (as scikit-learn's ``GroupKFold`` does
        by size).

    Returns
    -------
    folds : Folds
        One test group (or set of groups) per fold.
    """
    g = np.asarray(groups)
    labels = list(pd.unique(g))
    if len(labels) < 2:
        raise ValueError(f"groups must have >= 2 distinct labels to hold one out; got {labels}")
    if n_splits is None:
        fold_groups = [[lab] for lab in labels]
    else:
        _validate_type(n_splits, "int-like", "n_splits")
        if not 2 <= n_splits <= len(labels):
            raise ValueError(
                f"n_splits must be between 2 and the number of groups ({len(labels)}); "
                f"got {n_splits}"
            )
        from sklearn.model_selection import GroupKFold

        fold_groups = []
        for _, te in GroupKFold(n_splits=n_splits).split(np.zeros(len(g)), groups=g):
            fold_groups.append(list(pd.unique(g[te])))
    return Folds([], 0.0, "groups", groups=fold_groups)


@fill_doc
def shuffled_folds(
    n_samples: int,
    n_splits: int = 5,
    *,
    allow_shuffled: str | None = None,
    random_state=None,
) -> Folds:
    """Folds of randomly assigned samples: refused unless forced with a reason.

    Parameters
    ----------
    n_samples : int
        Number of samples (words).
    n_splits : int
        Number of folds.
    allow_shuffled : str | None
        Why shuffled folds are acceptable here (recorded in the results). ``None`` or an
        empty string raises: shuffled folds let autocorrelation inflate held-out scores.
    %(random_state)s

    Returns
    -------
    folds : Folds
        Randomly assigned folds, with ``reason`` recorded.
    """
    if not allow_shuffled or not isinstance(allow_shuffled, str) or not allow_shuffled.strip():
        raise ValueError(
            "shuffled word-level folds are refused: neighbouring words share slow neural "
            "activity, so shuffled folds inflate held-out scores through autocorrelation. "
            "Use make_folds(times, n_splits, gap=...) (contiguous blocks), or force them with "
            "allow_shuffled='<why this is safe here>'; got "
            f"allow_shuffled={allow_shuffled!r}"
        )
    n_splits = _check_n_splits(n_splits, int(n_samples))
    rng = check_random_state(random_state)
    assign = np.arange(int(n_samples)) % n_splits
    rng.shuffle(assign)
    logger.warning("shuffled folds forced: %s", allow_shuffled)
    return Folds([], 0.0, "shuffled", reason=allow_shuffled, assignment=assign)


def as_index_folds(cv, times, groups=None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Turn ``cv`` (Folds, int, scikit-learn splitter or (train, test) pairs) into index pairs.

    An int makes contiguous blocks (:func:`make_folds`) on ``times`` without purge.

    Parameters
    ----------
    cv : Folds | int | scikit-learn splitter | iterable of (train, test)
        The folds.
    times : array-like of float
        Time of each sample (s).
    groups : array-like | None
        Group label per sample (for group folds and group splitters).

    Returns
    -------
    folds : list of (ndarray, ndarray)
        ``(train, test)`` row indices of each fold.
    """
    t = np.asarray(times, dtype=float)
    if isinstance(cv, Folds):
        return cv.split(t, groups)
    if isinstance(cv, int | np.integer) and not isinstance(cv, bool):
        return make_folds(t, int(cv)).split(t)
    if hasattr(cv, "split"):
        return [
            (np.asarray(a), np.asarray(b))
            for a, b in cv.split(np.zeros((len(t), 1)), groups=groups)
        ]
    if isinstance(cv, Iterable):
        out = [(np.asarray(a, dtype=int), np.asarray(b, dtype=int)) for a, b in cv]
        if not out:
            raise ValueError("cv is an empty list of folds")
        return out
    raise TypeError(
        f"cv must be a Folds, an int, a scikit-learn splitter or (train, test) pairs; got "
        f"{type(cv).__name__}"
    )


def check_leakage(
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    times,
    window: float,
    *,
    groups=None,
) -> None:
    """Raise :class:`LeakageError` if a test sample has a training sample within ``window`` s.

    For lagged word-level models the neural data of a word spans its whole lag window, so a
    training word closer than the window's span to a test word shares neural samples with it.

    Parameters
    ----------
    folds : list of (train, test) index arrays
        The split to check.
    times : array-like of float
        Time of each sample (s).
    window : float
        Span of the lag window (s): ``max(lags) - min(lags) + window length``.
    groups : array-like | None
        Group (conversation/run) of each sample: samples in different groups never leak.
    """
    t = np.asarray(times, dtype=float)
    g = None if groups is None else np.asarray(groups)
    for k, (train, test) in enumerate(folds):
        train = np.asarray(train, dtype=int)
        test = np.asarray(test, dtype=int)
        if np.intersect1d(train, test).size:
            raise LeakageError(f"fold {k}: the same samples are in training and test")
        if window <= 0 or train.size == 0 or test.size == 0:
            continue
        n_leak = 0
        for lab in [None] if g is None else np.unique(g[test]):
            tr = train if lab is None else train[g[train] == lab]
            te = test if lab is None else test[g[test] == lab]
            if tr.size == 0:
                continue
            tt = np.sort(t[tr])
            pos = np.searchsorted(tt, t[te])
            left = np.abs(t[te] - tt[np.clip(pos - 1, 0, tt.size - 1)])
            right = np.abs(tt[np.clip(pos, 0, tt.size - 1)] - t[te])
            n_leak += int((np.minimum(left, right) < window).sum())
        if n_leak:
            raise LeakageError(
                f"cv leaks: in fold {k}, {n_leak} test samples lie within the lag window "
                f"({window:.3g} s) of training samples, so they share neural data. Use "
                f"cv=make_folds(times, n_splits, gap={window:.3g}) (contiguous blocks purged by "
                "the window span) or set purge=True"
            )
