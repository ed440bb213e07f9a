"""Continuous temporal response functions (forward encoding and backward decoding).

Ridge on a delayed design whose delays never cross a run/trial boundary
(:mod:`~hyperalign.encoding.delays`), computed from Gram matrices of contiguous blocks of
rows: every fold's training Gram is the total minus its test block, one eigendecomposition
per fold scores every penalty, and test scores come from the test block's Gram in the
eigenbasis (never from full predictions).

Conventions, so that coefficients equal the references at the same penalty and delays:

- ``intercept='inputs'`` centres features and targets on their means before delaying
  (MNE's ``TimeDelayingRidge(fit_intercept=True)``: equal to ``ReceptiveField`` with that
  estimator at ``alpha``);
- ``intercept='design'`` fits an unpenalised bias column on the zero-filled delayed design
  (mTRFpy's ``TRF``; mTRF's ``regularization=lam`` with ``K`` trials at ``fs`` equals
  ``alpha = K * lam * fs`` here, and its ``weights`` are ``fs`` times these coefficients).
  It is exact inside cross-validation (centring on each training set), so it is the default.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..utils import check_option, fill_doc, logger, verbose
from .delays import delay_samples, lagged_stats, split_segments
from .result import EncodingResult

__all__ = ["fit_trf", "word_impulses", "DEFAULT_TRF_ALPHAS"]

DEFAULT_TRF_ALPHAS = np.logspace(-2, 6, 9)
_KEYS = ("G", "XY", "S", "ysum", "yy", "n")


def _add(a: dict, b: dict, sign: float = 1.0) -> dict:
    return {k: a[k] + sign * b[k] for k in _KEYS}


def _range_stats(X, Y, delays, segs, a: int, b: int) -> dict:
    """Stats of rows [a, b) of the whole delayed design (summed over the segments it spans)."""
    tot = None
    for s0, s1 in segs:
        lo, hi = max(a, s0), min(b, s1)
        if hi <= lo:
            continue
        st = lagged_stats(X[s0:s1], Y[s0:s1], delays, lo - s0, hi - s0)
        tot = st if tot is None else _add(tot, st)
    return tot


def _centred(st: dict, intercept: str):
    n = st["n"]
    if intercept == "design":
        xb, yb = st["S"] / n, st["ysum"] / n
        return st["G"] - n * np.outer(xb, xb), st["XY"] - n * np.outer(xb, yb), xb, yb
    return st["G"], st["XY"], np.zeros_like(st["S"]), np.zeros_like(st["ysum"])


def _fold_scores(train: dict, test: dict, alphas, intercept: str):
    """r and R² of every penalty on one test block: (n_alphas, C) each."""
    Gc, XYc, xb, yb = _centred(train, intercept)
    lam, V = _eigh(Gc)
    lam = np.clip(lam, 0, None)
    Bv = V.T @ XYc
    nt, ys, yy = test["n"], test["ysum"], test["yy"]
    # rotate the test Gram into the eigenbasis only when that is cheaper than one product
    # per penalty in the original basis (2 n^3 vs n_alphas * n^2 * C)
    rotate = len(alphas) * Bv.shape[1] > 2 * Gc.shape[0]
    if rotate:
        Gt, XYt, St, xbv = V.T @ test["G"] @ V, V.T @ test["XY"], V.T @ test["S"], V.T @ xb
    r = np.empty((len(alphas), Bv.shape[1]))
    r2 = np.empty_like(r)
    for i, al in enumerate(alphas):
        Z = Bv / (lam + al)[:, None]
        if rotate:
            b0 = yb - xbv @ Z
            sp = St @ Z + nt * b0
            spy = (Z * XYt).sum(0) + b0 * ys
            spp = (Z * (Gt @ Z)).sum(0) + 2 * b0 * (St @ Z) + nt * b0**2
        else:
            W = V @ Z
            b0 = yb - xb @ W
            sw = test["S"] @ W
            sp = sw + nt * b0
            spy = (W * test["XY"]).sum(0) + b0 * ys
            spp = (W * (test["G"] @ W)).sum(0) + 2 * b0 * sw + nt * b0**2
        cov = spy - sp * ys / nt
        vp, vy = spp - sp**2 / nt, yy - ys**2 / nt
        with np.errstate(invalid="ignore", divide="ignore"):
            r[i] = np.where((vp > 0) & (vy > 0), cov / np.sqrt(vp * vy), 0.0)
            r2[i] = np.where(vy > 0, 1 - (yy - 2 * spy + spp) / vy, 0.0)
    return r, r2


def _eigh(G):
    from scipy import linalg

    return linalg.eigh(G, driver="evd", check_finite=False)


def _solve(st: dict, alpha_per_target: np.ndarray, intercept: str):
    """Coefficients at each target's penalty: a Cholesky solve per distinct penalty when
    there are at most two (cheaper than one eigendecomposition), else one eigh."""
    from scipy import linalg

    Gc, XYc, xb, yb = _centred(st, intercept)
    uniq = np.unique(alpha_per_target)
    if uniq.size <= 2:
        W = np.empty_like(XYc)
        eye = np.eye(Gc.shape[0])
        for al in uniq:
            m = alpha_per_target == al
            W[:, m] = linalg.solve(Gc + al * eye, XYc[:, m], assume_a="pos", check_finite=False)
    else:
        lam, V = _eigh(Gc)
        W = V @ ((V.T @ XYc) / (np.clip(lam, 0, None)[:, None] + alpha_per_target[None, :]))
    return W, yb - xb @ W, Gc


def _as_arrays(X, Y, segments):
    names = None
    if hasattr(Y, "get_data") and hasattr(Y, "info"):  # an mne Raw
        raw = Y
        names = list(raw.ch_names)
        bnd = [
            int(round((o - raw.first_time) * raw.info["sfreq"]))
            for o, d in zip(raw.annotations.onset, raw.annotations.description)
            if str(d).lower().startswith(("bad boundary", "edge boundary"))
        ]
        Y = raw.get_data().T
        segments = bnd if segments is None and bnd else segments
    if isinstance(X, list | tuple) and not np.isscalar(X[0]):  # trials (mTRF style)
        lens = np.cumsum([len(x) for x in X])[:-1]
        X, Y = np.concatenate(X), np.concatenate(Y)
        segments = lens if segments is None else segments
    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    X = X[:, None] if X.ndim == 1 else X
    Y = Y[:, None] if Y.ndim == 1 else Y
    if X.ndim != 2 or Y.ndim != 2 or len(X) != len(Y):
        raise ValueError(
            f"X and Y must be (n_times, n_features) and (n_times, n_targets) with the same "
            f"n_times; got {X.shape} and {Y.shape}"
        )
    for name, arr in (("X", X), ("Y", Y)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} has NaN or inf samples; interpolate or cut them first")
    return X, Y, segments, names


@fill_doc
@verbose
def fit_trf(
    X,
    Y,
    sfreq: float,
    tmin: float,
    tmax: float,
    *,
    alphas=None,
    cv: int | None = 5,
    nested: bool = True,
    direction: str = "forward",
    intercept: str = "design",
    segments=None,
    feature_names=None,
    target_names=None,
    patterns: bool = False,
    n_jobs: int | None = None,
    verbose=None,
) -> EncodingResult:
    """Temporal response function by ridge, penalty chosen per target by cross-validation.

    Parameters
    ----------
    X : ndarray (n_times, n_features) | list of ndarray
        Time-series features (envelope, log-mel bands, pitch, surprisal impulses, word
        onsets) at ``sfreq``; a list gives trials (delays never cross them).
    Y : ndarray (n_times, n_targets) | list of ndarray | mne.io.Raw
        Neural data at ``sfreq`` (a Raw's boundary annotations become segments).
    sfreq : float
        Sampling rate (Hz).
    tmin, tmax : float
        Delays (s) of the forward model: the response at ``t`` depends on the features at
        ``t - tmax .. t - tmin``. For ``direction='backward'`` give the same forward window;
        the decoder uses the neural data at ``t + tmin .. t + tmax``.
    alphas : array-like of float | None
        Penalty grid (default ``logspace(-2, 6, 9)``); one value and ``cv=None`` fits once.
    cv : int | list of (int, int) | None
        Contiguous blocks (an int), the ``(start, stop)`` sample ranges of the test blocks
        (the other samples train; e.g. ``[(int(0.8 * n), n)]`` for one split), or ``None``
        to skip cross-validation (one penalty required).
    nested : bool
        Choose each fold's penalty by an inner leave-one-block-out search on the other
        blocks (``r`` is then unbiased); ``False`` scores every penalty on the outer folds
        and reports the best (the usual search; optimistic).
    direction : 'forward' | 'backward'
        Encoding (features -> brain) or decoding (brain -> features).
    intercept : 'design' | 'inputs'
        Bias handling (see the module notes): mTRF's bias column or MNE's input centring.
    segments : array-like of int | None
        Samples where runs/trials start; no delay crosses them.
    feature_names, target_names : list of str | None
        Labels.
    patterns : bool
        Haufe patterns of a backward model (``cov(X_delayed) @ coef @ pinv(cov(y))``, as
        MNE's ``ReceptiveField(patterns=True)``).
    n_jobs : int | None
        BLAS threads, joblib's meaning (``None``: one thread - on a shared machine one
        thread per process is often faster than oversubscribed cores).
    %(verbose)s

    Returns
    -------
    result : EncodingResult
        ``r``/``r2`` (target), ``cv_r`` (penalty x target), ``fold_r`` and ``alpha`` (fold x
        target) when cross-validated; ``coef`` (feature x lag x target) refitted on all
        samples at each target's penalty (the median over folds when nested),
        ``intercept`` and ``patterns``.

    See Also
    --------
    fit_word_encoding : Word-level lagged encoding on a Dyad.
    hyperalign.encoding.ridge_cv : The solver.

    Examples
    --------
    A response 50 ms after the feature, half as large 10 ms later:

    >>> import numpy as np
    >>> from hyperalign.encoding import fit_trf
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((2000, 1))
    >>> y = np.convolve(x[:, 0], [0, 0, 0, 0, 0, 1.0, 0.5])[:2000, None]
    >>> y += 0.5 * rng.standard_normal(y.shape)
    >>> res = fit_trf(x, y, 100.0, 0.0, 0.1)
    >>> res.get_scores("r").values.round(2)
    array([0.91])
    >>> np.abs(res.dataset["coef"].values[0, :, 0]).round(1)  # lags 0 to 100 ms
    array([0. , 0. , 0. , 0. , 0. , 1. , 0.5, 0. , 0. , 0. , 0. ])
    """
    check_option("direction", direction, ("forward", "backward"))
    check_option("intercept", intercept, ("design", "inputs"))
    from ._solvers_backend import blas_threads

    with blas_threads(n_jobs):
        return _fit_trf(X, Y, sfreq, tmin, tmax, alphas, cv, nested, direction, intercept,
                        segments, feature_names, target_names, patterns)  # fmt: skip


def _fit_trf(X, Y, sfreq, tmin, tmax, alphas, cv, nested, direction, intercept, segments,
             feature_names, target_names, patterns) -> EncodingResult:  # fmt: skip
    X, Y, segments, raw_names = _as_arrays(X, Y, segments)
    if direction == "backward":
        X, Y = Y, X
        tmin, tmax = -tmax, -tmin
        feature_names, target_names = target_names or raw_names, feature_names
    else:
        target_names = target_names or raw_names
    delays = delay_samples(tmin, tmax, sfreq)
    n, F = X.shape
    if delays.size >= n // 2:
        raise ValueError(
            f"tmin/tmax span {delays.size} samples but there are only {n}; use shorter lags"
        )
    alphas = DEFAULT_TRF_ALPHAS if alphas is None else np.atleast_1d(np.asarray(alphas, float))
    if intercept == "inputs":
        X = X - X.mean(0)
        Y = Y - Y.mean(0)
    segs = split_segments(n, segments)
    data, coords = {}, {}
    if cv is not None:
        best, fold_stuff, total = _cross_validate(X, Y, delays, segs, alphas, cv, nested,
                                                  intercept)  # fmt: skip
        data.update(fold_stuff)
        coords["fold"] = np.arange(fold_stuff["fold_r"][1].shape[0])
        coords["penalty"] = alphas
    else:
        if alphas.size != 1:
            raise ValueError(f"cv=None fits one penalty; got {alphas.size} alphas")
        best = np.full(Y.shape[1], alphas[0])
        data["r"] = (("target",), np.full(Y.shape[1], np.nan))
        total = _range_stats(X, Y, delays, segs, 0, n)
    W, b0, Gc = _solve(total, best, intercept)
    L = delays.size
    data["coef"] = (("feature", "lag", "target"), W.reshape(F, L, -1))
    data["intercept"] = (("target",), b0)
    data["best_alpha"] = (("target",), best)
    if patterns:
        yc = Y - Y.mean(0)
        cy = np.atleast_2d(np.cov(yc.T))
        A = (Gc / (n - 1)) @ W @ np.linalg.pinv(cy)
        data["patterns"] = (("feature", "lag", "target"), A.reshape(F, L, -1))
    fn = [f"x{i}" for i in range(F)] if feature_names is None else list(feature_names)
    tn = [f"y{i}" for i in range(Y.shape[1])] if target_names is None else list(target_names)
    coords.update({"feature": fn, "lag": delays / float(sfreq), "target": tn})
    ds = xr.Dataset(data, coords=coords)
    ds.attrs.update({
        "estimator": "trf", "direction": direction, "sfreq": float(sfreq), "tmin": float(tmin),
        "tmax": float(tmax), "intercept": intercept, "nested": bool(nested),
        "cv": "none" if cv is None else str(cv if np.ndim(cv) == 0 else np.asarray(cv).tolist()),
        "alphas": alphas.tolist(), "n_times": int(n), "n_segments": len(segs),
    })  # fmt: skip
    return EncodingResult(ds)


def _test_ranges(cv, n: int, span: int) -> list[tuple[int, int]]:
    if isinstance(cv, int | np.integer) and not isinstance(cv, bool):
        k = int(cv)
        if k < 2 or n // k <= 2 * span:
            raise ValueError(
                f"cv must be >= 2 blocks each longer than twice the delay span ({span} "
                f"samples); got cv={k} for {n} samples (use fewer folds)"
            )
        edges = np.linspace(0, n, k + 1).round().astype(int)
        return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]
    try:
        rng = sorted((int(a), int(b)) for a, b in cv)
    except (TypeError, ValueError):
        raise TypeError(
            f"cv must be an int (contiguous blocks), None, or (start, stop) sample ranges of "
            f"the test blocks; got {cv!r}"
        ) from None
    for (a, b), nxt in zip(rng, rng[1:] + [(n, n)]):
        if not 0 <= a < b <= nxt[0] <= n:
            raise ValueError(f"cv test ranges must be disjoint, within [0, {n}]; got {rng}")
    return rng


def _cross_validate(X, Y, delays, segs, alphas, cv, nested: bool, intercept: str):
    n = X.shape[0]
    ranges = _test_ranges(cv, n, delays.size)
    k = len(ranges)
    if nested and k < 3:
        raise ValueError(f"nested=True needs >= 3 test blocks; got {k} (or pass nested=False)")
    blocks = [_range_stats(X, Y, delays, segs, a, b) for a, b in ranges]
    covered = sum(b - a for a, b in ranges) == n
    total = blocks[0]
    for bl in blocks[1:]:
        total = _add(total, bl)
    if not covered:
        total = _range_stats(X, Y, delays, segs, 0, n)
    C = Y.shape[1]
    r_all = np.empty((k, len(alphas), C))
    r2_all = np.empty_like(r_all)
    fold_r, fold_r2, fold_alpha = np.empty((k, C)), np.empty((k, C)), np.empty((k, C))
    for i in range(k):
        train = _add(total, blocks[i], -1.0)
        r_all[i], r2_all[i] = _fold_scores(train, blocks[i], alphas, intercept)
        if nested:
            inner = np.mean(
                [_fold_scores(_add(train, blocks[j], -1.0), blocks[j], alphas, intercept)[0]
                 for j in range(k) if j != i], axis=0,
            )  # fmt: skip
            pick = inner.argmax(0)
            fold_alpha[i] = alphas[pick]
            fold_r[i] = r_all[i][pick, np.arange(C)]
            fold_r2[i] = r2_all[i][pick, np.arange(C)]
        logger.info("fit_trf: fold %d/%d", i + 1, k)
    cv_r = r_all.mean(0)
    if not nested:
        pick = cv_r.argmax(0)
        fold_alpha[:] = alphas[pick]
        fold_r = r_all[:, pick, np.arange(C)]
        fold_r2 = r2_all[:, pick, np.arange(C)]
    best = np.median(fold_alpha, axis=0) if nested else fold_alpha[0]
    best = alphas[np.abs(np.log(alphas)[:, None] - np.log(best)[None]).argmin(0)]
    out = {
        "r": (("target",), fold_r.mean(0)),
        "r2": (("target",), fold_r2.mean(0)),
        "fold_r": (("fold", "target"), fold_r),
        "alpha": (("fold", "target"), fold_alpha),
        "cv_r": (("penalty", "target"), cv_r),
        "cv_r2": (("penalty", "target"), r2_all.mean(0)),
    }
    return best, out, total


def word_impulses(
    dyad,
    values=None,
    *,
    participant: str,
    role: str = "comprehension",
) -> np.ndarray:
    """Impulses at word onsets on the participant's neural clock (TRF features).

    Parameters
    ----------
    dyad : hyperalign.Dyad
        The conversation.
    values : ndarray (n_words, d) | None
        Height of each word's impulse (e.g. surprisal, one row per transcript word); ``None``
        gives unit impulses (word onsets).
    participant : str
        Whose clock (sampling rate and length) is used.
    role : 'production' | 'comprehension' | 'all'
        The participant's own words, the partner's, or every word.

    Returns
    -------
    X : ndarray, shape (n_times, d)
        Impulses at word onsets on the neural clock.
    """
    check_option("role", role, ("production", "comprehension", "all"))
    words = dyad.transcript.words
    raw = dyad[participant].raw
    sf, n = float(raw.info["sfreq"]), raw.n_times
    v = np.ones((len(words), 1)) if values is None else np.asarray(values, dtype=float)
    v = v[:, None] if v.ndim == 1 else v
    if v.shape[0] != len(words):
        raise ValueError(
            f"values has {v.shape[0]} rows but the transcript has {len(words)} words; pass one "
            "row per word of dyad.transcript.words"
        )
    spk = words["speaker"].astype(str).to_numpy()
    keep = np.ones(len(words), bool)
    if role == "production":
        keep = spk == participant
    elif role == "comprehension":
        keep = spk != participant
    idx = np.round(words["onset"].to_numpy(float) * sf).astype(int)
    keep &= (idx >= 0) & (idx < n) & np.isfinite(v).all(1)
    X = np.zeros((n, v.shape[1]))
    np.add.at(X, idx[keep], v[keep])
    return X
