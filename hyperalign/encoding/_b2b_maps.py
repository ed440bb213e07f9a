"""Array core of model-based brain-to-brain coupling: out-of-fold model predictions and the
lag-by-lag correlation maps (raw, residual, direct), with their nulls."""

from __future__ import annotations

import numpy as np

from ..utils import check_random_state
from .wordlevel import purged_inner_cv

__all__ = ["DIRECTIONS", "MAP_TYPES", "NULLS", "corr_map", "oof_predictions", "residualize"]

DIRECTIONS = ("s2l", "l2s", "sym")
MAP_TYPES = ("raw", "residual", "direct")
NULLS = ("circular", "phase", "shuffle_turns", "pseudo")


def zscore_rows(A: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Columns z-scored over ``rows`` (zero-variance columns -> 0)."""
    a = A[rows]
    a = a - a.mean(0)
    sd = np.sqrt((a**2).mean(0))
    return np.divide(a, sd, out=np.zeros_like(a), where=sd > 0)


def corr_map(A: np.ndarray, B: np.ndarray, rows: np.ndarray, shape_a, shape_b) -> np.ndarray:
    """Pearson r between every column of ``A`` and of ``B`` over ``rows``.

    ``A`` is (n, Ca*La), ``B`` (n, Cb*Lb) (channel-major); returns (Ca, Cb, La, Lb).
    """
    za, zb = zscore_rows(A, rows), zscore_rows(B, rows)
    m = (za.T @ zb) / len(za)
    ca, la = shape_a
    cb, lb = shape_b
    return m.reshape(ca, la, cb, lb).transpose(0, 2, 1, 3)


def group_folds(folds, groups: np.ndarray, labels, cv_name: str = "cv") -> dict:
    """Folds restricted to the rows of each group (speaker), as rows relative to the group.

    A group with fewer than 3 test or 5 training words in a fold -> error naming the fix.
    """
    out = {}
    for g in labels:
        rows = np.flatnonzero(groups == g)
        pos = np.full(len(groups), -1)
        pos[rows] = np.arange(rows.size)
        fg = []
        for k, (tr, te) in enumerate(folds):
            trg, teg = pos[tr[groups[tr] == g]], pos[te[groups[te] == g]]
            if teg.size < 3 or trg.size < 5:
                raise ValueError(
                    f"{cv_name}: fold {k} holds out {teg.size} words of speaker {g!r} (and "
                    f"trains on {trg.size}); every speaker needs >= 3 held-out and >= 5 "
                    "training words in every fold, so that the listener has held-out words "
                    "to be compared with. Use fewer folds, by='blocks' folds, or a longer "
                    "recording"
                )
            fg.append((trg, teg))
        out[g] = (rows, fg)
    return out


def oof_predictions(X, Y2, gfolds, times, n_inner, gap, alphas, N=None, **kw) -> np.ndarray:
    """Out-of-fold predictions of ``Y2`` (n, T) from ``X``, one model per group (speaker).

    With ``N`` (n, k), the nuisance is regressed out of targets and features inside each
    fold (Frisch-Waugh; the predictions are then of the residualised targets).
    """
    from ._wordfit import fit_spaces, fit_spaces_regressed

    P = np.full(Y2.shape, np.nan)
    if N is not None:  # features that are nuisance columns vanish once it is regressed out
        A = np.column_stack([np.ones(len(N)), N])
        res = X - A @ (np.linalg.pinv(A) @ X)
        X = X[:, np.linalg.norm(res, axis=0) > 1e-8 * np.linalg.norm(X, axis=0)]
        if X.shape[1] == 0:
            raise ValueError(
                "every feature column is a combination of the nuisance columns, so nothing "
                "is left once the nuisance is regressed out; give features that differ from "
                "nuisance"
            )
    for rows, fg in gfolds.values():
        t = times[rows]
        if N is None:
            inner = purged_inner_cv(t, n_inner, gap)
            out = fit_spaces({"x": X[rows]}, Y2[rows], fg, inner, alphas, **kw)
        else:
            out = fit_spaces_regressed(
                {"x": X[rows]}, Y2[rows], fg, t, n_inner, gap, alphas, N[rows], **kw
            )
        P[rows] = out["pred"]
    return P


def residualize(Y2: np.ndarray, N: np.ndarray, gfolds) -> np.ndarray:
    """Held-out residuals of ``Y2`` after the nuisance ``N`` (OLS with intercept fitted on
    each fold's training rows of the same group, applied to its test rows)."""
    R = np.full(Y2.shape, np.nan)
    A = np.column_stack([np.ones(len(N)), N])
    for rows, fg in gfolds.values():
        a, y = A[rows], Y2[rows]
        for tr, te in fg:
            beta = np.linalg.pinv(a[tr]) @ y[tr]
            R[rows[te]] = y[te] - a[te] @ beta
    return R


def null_listeners(Yl2, method, n_perm, groups, turns, rng, pseudo=None):
    """Null listener tables (n, T) per permutation: the rows of each speaker's words circularly
    shifted, phase-randomised or shuffled within turns; or the given pseudo-listeners."""
    from .significance import null_targets

    if method == "pseudo":
        yield from pseudo
        return
    rng = check_random_state(rng)
    labels = np.unique(groups)
    for _ in range(int(n_perm)):
        out = np.empty_like(Yl2)
        for g in labels:
            rows = np.flatnonzero(groups == g)
            if method == "shuffle_turns":
                perm = rows.copy()
                for t in np.unique(turns[rows]):
                    sel = np.flatnonzero(turns[rows] == t)
                    perm[sel] = rows[sel][rng.permutation(sel.size)]
                out[rows] = Yl2[perm]
            else:
                (out[rows],) = null_targets(Yl2[rows], 1, method=method, random_state=rng)
        yield out
