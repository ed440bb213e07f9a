"""Baselines and ceilings reported next to a layer sweep.

- :func:`acoustic_word_features` - an acoustic/phonetic baseline space (one row per
  transcript word) to pass to :func:`~hyperalign.encoding.sweep.sweep_layers` as a control.
- :func:`self_predictability` - how well the target's own past predicts it: for every channel
  and lag, the mean of the same channel in the ``n_past`` windows just before the target
  window (same width) predicts the window, by ridge fitted per target on the same folds as
  the sweep (a trivial autocorrelation baseline that language models should beat).
- :func:`noise_ceiling` - split-half ceiling from repetitions (or several listeners hearing
  the same speech) on the same words: the correlation between halves, Spearman-Brown
  corrected, and its square root as the ceiling on ``r``.

The static, random-per-type and shuffled word vectors are in :mod:`hyperalign.features`
(:func:`~hyperalign.features.compute_static_embeddings`,
:func:`~hyperalign.features.random_word_embeddings`,
:func:`~hyperalign.features.shuffle_word_embeddings`) and go through the sweep as models.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..utils import check_option, logger

__all__ = ["acoustic_word_features", "self_predictability", "noise_ceiling"]


def acoustic_word_features(dyad, *, max_nan: float = 0.1, **kwargs) -> pd.DataFrame:
    """Acoustic baseline space: per-word acoustic features, one row per transcript word.

    Columns with more than ``max_nan`` missing values (e.g. F0 of unvoiced words) are dropped
    and listed in ``df.attrs['dropped']``; remaining NaN words are excluded by the sweep (and
    counted there).

    Parameters
    ----------
    dyad : Dyad
        With audio.
    max_nan : float
        Largest share of NaN a column may have.
    **kwargs
        Passed to :func:`hyperalign.features.compute_acoustic_features`.

    Returns
    -------
    df : pandas.DataFrame
        ``word``, ``onset`` and numeric acoustic columns, in transcript order.
    """
    from ..features.acoustic import compute_acoustic_features

    df = compute_acoustic_features(dyad, level="word", **kwargs)
    words = dyad.transcript.words.reset_index(drop=True)
    df = df.set_index("word_index").reindex(np.arange(len(words)))
    num = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]
    skip = {"onset", "offset", "utterance_id", "duration"}
    keep = [c for c in num if c not in skip and df[c].isna().mean() <= max_nan]
    dropped = [c for c in num if c not in skip and c not in keep]
    out = pd.DataFrame({"word": words["word"].to_numpy(), "onset": words["onset"].to_numpy()})
    for c in keep:
        out[c] = df[c].to_numpy(float)
    out = out.loc[:, [c for c in out.columns if c in ("word", "onset") or out[c].std() > 0]]
    out.attrs["dropped"] = dropped
    if dropped:
        logger.info("acoustic_word_features: dropped %s (> %.0f%% NaN)", dropped, 100 * max_nan)
    return out


def _past_windows(data, sfreq, onsets, lags, window, n_past) -> np.ndarray:
    """(n_words, n_past, n_channels, n_lags): means of the windows before each target."""
    x = np.asarray(data, float)
    n_ch, n_t = x.shape
    nw = max(1, int(round(window * sfreq)))
    cs = np.zeros((n_t + 1, n_ch))
    np.cumsum(x.T, axis=0, out=cs[1:])
    centre = np.round((onsets[:, None] + lags[None, :]) * sfreq).astype(np.int64) - nw // 2
    out = np.empty((len(onsets), n_past, n_ch, len(lags)))
    for j in range(1, n_past + 1):
        st = np.clip(centre - j * nw, 0, n_t - nw)
        out[:, j - 1] = ((cs[st + nw] - cs[st]) / nw).transpose(0, 2, 1)
    return out


def self_predictability(
    dyad,
    *,
    participant: str,
    role: str = "comprehension",
    lags="zada2024",
    window: float | None = None,
    n_past: int = 4,
    cv=5,
    alphas=None,
    picks=None,
    rois: dict | None = None,
):
    """The target's own past as a baseline, scored on the same folds as the sweep.

    Parameters
    ----------
    dyad : Dyad
        The conversation.
    participant : str
        Whose brain.
    role : 'production' | 'comprehension'
        Which words.
    lags, window
        Lag grid (as in the sweep).
    n_past : int
        Past windows (of the same width) used as features.
    cv : int | Folds
        Outer folds (an int: the same contiguous blocks over every word as the sweep).
    alphas : array-like | None
        Penalty grid; the penalty is chosen per target on the training words (leave-one-
        block-out within the outer training words).
    picks : str | list | None
        Channels.
    rois : dict of str to list of str | None
        Average channels into named ROIs first (as the sweep's ``rois``).

    Returns
    -------
    r : xarray.DataArray
        Out-of-fold Pearson r, dims ``(target, lag)``, ``attrs['baseline'] = 'self'``.
    """
    from .wordlevel import column_scores, prepare_word_data, resolve_folds, resolve_lags

    wl = resolve_lags(lags, window)
    n = len(dyad.transcript.words)
    d = prepare_word_data(dyad, np.zeros((n, 1)), participant=participant, role=role, lags=wl,
                          picks=picks, verbose=False)  # fmt: skip
    raw = dyad[participant].raw
    data = raw.get_data(picks=d["channels"])
    Y, names = d["Y"], list(d["channels"])
    if rois is not None:
        idx = {c: i for i, c in enumerate(names)}
        missing = [c for v in rois.values() for c in v if c not in idx]
        if missing:
            raise ValueError(f"rois names channels that are not among {names}: {missing}")
        data = np.stack([data[[idx[c] for c in v]].mean(0) for v in rois.values()])
        Y = np.stack([Y[:, [idx[c] for c in v]].mean(1) for v in rois.values()], axis=1)
        names = list(rois)
    on = d["words"]["onset"].to_numpy(float)
    Xp = _past_windows(data, raw.info["sfreq"], on, wl.lags, wl.window, int(n_past))
    folds, _ = resolve_folds(cv, on, all_times=d["all_onsets"], span=wl.span)
    alphas = np.logspace(-2, 4, 7) if alphas is None else np.asarray(alphas, float)
    P = np.full(Y.shape, np.nan)
    for tr, te in folds:
        a = _choose_alpha(Xp[tr], Y[tr], alphas)
        P[te] = _ridge_per_target(Xp[tr], Y[tr], Xp[te], a)
    n_w, n_ch, n_lag = Y.shape
    r, _ = column_scores(Y.reshape(n_w, -1), P.reshape(n_w, -1))
    return xr.DataArray(r.reshape(n_ch, n_lag), dims=("target", "lag"),
                        coords={"target": names, "lag": wl.lags},
                        attrs={"baseline": "self", "n_past": int(n_past)})  # fmt: skip


def _ridge_per_target(Xtr, Ytr, Xte, alpha) -> np.ndarray:
    """Per (channel, lag) ridge with its own small design: X (n, k, ch, lag), Y (n, ch, lag)."""
    mx, my = Xtr.mean(0), Ytr.mean(0)
    sx = Xtr.std(0)
    sx = np.where(sx > 0, sx, 1.0)  # penalties in standardised units (signals in volts)
    Xc, Yc = (Xtr - mx) / sx, Ytr - my
    G = np.einsum("nicl,njcl->clij", Xc, Xc)
    b = np.einsum("nicl,ncl->cli", Xc, Yc)
    k = G.shape[-1]
    a = np.broadcast_to(np.asarray(alpha, float), G.shape[:2])
    W = np.linalg.solve(G + a[..., None, None] * np.eye(k), b[..., None])[..., 0]
    return np.einsum("nicl,cli->ncl", (Xte - mx) / sx, W) + my


def _choose_alpha(X, Y, alphas, n_blocks: int = 3) -> np.ndarray:
    """Penalty per target by contiguous-block CV on the training words (squared error)."""
    blocks = np.array_split(np.arange(len(Y)), n_blocks)
    err = np.zeros((len(alphas), *Y.shape[1:]))
    for te in blocks:
        tr = np.setdiff1d(np.arange(len(Y)), te)
        for i, a in enumerate(alphas):
            err[i] += ((_ridge_per_target(X[tr], Y[tr], X[te], a) - Y[te]) ** 2).sum(0)
    return alphas[np.argmin(err, axis=0)]


def noise_ceiling(repetitions, *, evaluated_on: str = "single", target_names=None, lags=None):
    """Split-half noise ceiling on ``r`` from repetitions of the same words.

    Parameters
    ----------
    repetitions : array-like, shape (n_reps, n_words, n_targets[, n_lags])
        The same words' targets in each repetition (or in each listener hearing the same
        speech); at least 2.
    evaluated_on : 'single' | 'mean'
        Whether the model is scored on one repetition or on the mean of all.
    target_names, lags
        Coordinates of the result.

    Returns
    -------
    ceiling : xarray.DataArray
        Dims ``(target, lag)``: ``sqrt(reliability)`` where the reliability is the
        correlation between the means of two halves, Spearman-Brown corrected to one
        repetition (``'single'``) or to all (``'mean'``); NaN where the reliability <= 0.
        ``attrs['method']`` says how.
    """
    check_option("evaluated_on", evaluated_on, ("single", "mean"))
    R = np.asarray(repetitions, float)
    if R.ndim == 3:
        R = R[..., None]
    if R.ndim != 4 or R.shape[0] < 2:
        raise ValueError(
            "repetitions must be (n_reps >= 2, n_words, n_targets[, n_lags]); got shape "
            f"{np.shape(repetitions)}; a conversation heard once has no noise ceiling"
        )
    m = R.shape[0]
    a, b = R[: m // 2].mean(0), R[m // 2 : m // 2 * 2].mean(0)
    ac, bc = a - a.mean(0), b - b.mean(0)
    r = (ac * bc).sum(0) / np.sqrt((ac**2).sum(0) * (bc**2).sum(0))
    h = m // 2  # repetitions per half
    k = (1.0 / h) if evaluated_on == "single" else (m / h)
    rel = k * r / (1 + (k - 1) * r)
    ceil = np.sqrt(np.where(rel > 0, rel, np.nan))
    names = [f"t{i}" for i in range(R.shape[2])] if target_names is None else list(target_names)
    lag = np.arange(R.shape[3]) if lags is None else np.asarray(lags, float)
    to = "one repetition" if evaluated_on == "single" else f"the mean of {m}"
    method = f"split-half over {m} repetitions, Spearman-Brown to {to}"
    return xr.DataArray(ceil, dims=("target", "lag"), coords={"target": names, "lag": lag},
                        attrs={"method": method})  # fmt: skip
