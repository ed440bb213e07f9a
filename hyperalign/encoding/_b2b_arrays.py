"""Array core of model-based brain-to-brain coupling: :func:`b2b_arrays` (one dyad's maps
from word-level arrays, with refitted nulls and max-statistic p-values)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..utils import check_option, check_random_state, fill_doc, logger, verbose
from ._b2b_maps import (
    MAP_TYPES,
    group_folds,
    null_listeners,
    oof_predictions,
    residualize,
    zscore_rows,
)
from ._b2b_result import B2BCoupling
from ._wordfit import DEFAULT_ALPHAS
from .wordlevel import check_fold_sizes, resolve_folds

__all__ = ["b2b_arrays"]


def _check_arrays(X, Ys, Yl, times, speakers, nuisance):
    X = np.asarray(X, dtype=np.float64)
    X = X[:, None] if X.ndim == 1 else X
    Ys, Yl = np.asarray(Ys, dtype=np.float64), np.asarray(Yl, dtype=np.float64)
    n = X.shape[0]
    for name, a in (("Y_speaker", Ys), ("Y_listener", Yl)):
        if a.ndim != 3 or a.shape[0] != n:
            raise ValueError(
                f"{name} must be (n_words, n_rois, n_lags) with n_words = {n} (the rows of "
                f"X); got shape {a.shape}. Window the recordings at the same words as X"
            )
    t = np.asarray(times, dtype=float)
    if t.shape != (n,):
        raise ValueError(f"times must give one onset per word ({n}); got shape {t.shape}")
    spk = np.zeros(n, int) if speakers is None else np.asarray(speakers)
    if spk.shape != (n,):
        raise ValueError(f"speakers must label each word ({n}); got shape {spk.shape}")
    N = None
    if nuisance is not None:
        N = np.asarray(nuisance, dtype=np.float64)
        N = N[:, None] if N.ndim == 1 else N
        if N.shape[0] != n:
            raise ValueError(f"nuisance must have one row per word ({n}); got {N.shape}")
    return X, Ys, Yl, t, spk, N


class _Maps:
    """Computes the maps of one dyad for any listener table (observed or null)."""

    def __init__(self, X, Ys2, shapes, gfolds, rows, times, N, cfg):
        self.X, self.Ys2, self.shapes, self.gfolds = X, Ys2, shapes, gfolds
        self.rows, self.times, self.N, self.cfg = rows, times, N, cfg
        fit = self._fit
        self.zs = zscore_rows(Ys2, rows)
        self.zps = zscore_rows(fit(Ys2), rows) if cfg["s2l"] else None

    def _fit(self, Y2, N=None):
        c = self.cfg
        return oof_predictions(self.X, Y2, self.gfolds, self.times, c["inner"], c["gap"],
                               c["alphas"], N=N, **c["kw"])  # fmt: skip

    def _corr(self, za, B):
        zb = zscore_rows(B, self.rows)
        (cs, ls), (cl, ll) = self.shapes
        return ((za.T @ zb) / len(za)).reshape(cs, ls, cl, ll).transpose(0, 2, 1, 3)

    def maps(self, Yl2) -> dict:
        """{(map_type, direction): (Cs, Cl, Ls, Ll)} for a listener table (n, Cl*Ll)."""
        return self.maps_batch([Yl2])[0]

    def maps_batch(self, tables: list) -> list[dict]:
        """Maps of several listener tables; the listener models of ``l2s`` are refitted for
        all of them in one solver call (the tables ride along as extra targets)."""
        c, T = self.cfg, tables[0].shape[1]
        outs = [{} for _ in tables]
        map_types = ["raw"] + (["residual"] if self.N is not None else [])
        for kind in map_types:
            if c["l2s"]:
                P = self._fit(np.concatenate(tables, 1), None if kind == "raw" else self.N)
            for b, (Yl2, out) in enumerate(zip(tables, outs)):
                if c["s2l"]:
                    ref = Yl2 if kind == "raw" else residualize(Yl2, self.N, self.gfolds)
                    out[kind, "s2l"] = self._corr(self.zps, ref)
                if c["l2s"]:
                    out[kind, "l2s"] = self._corr(self.zs, P[:, b * T : (b + 1) * T])
                if c["s2l"] and c["l2s"]:
                    out[kind, "sym"] = 0.5 * (out[kind, "s2l"] + out[kind, "l2s"])
        for Yl2, out in zip(tables, outs):
            direct = self._corr(self.zs, Yl2)
            for d in c["directions"]:
                out["direct", d] = direct
        return outs


def _batched(engine, gen, batch: int):
    """Null map dicts from a generator of listener tables, ``batch`` tables per refit."""
    buf = []
    for y in gen:
        buf.append(y)
        if len(buf) == batch:
            yield from engine.maps_batch(buf)
            buf = []
    if buf:
        yield from engine.maps_batch(buf)


def _significance(obs, nulls, tail, alpha):
    """p and p_fwer per map from an iterator of null map dicts (counts, no storage)."""
    stat = {k: (np.abs(v) if tail == "two-sided" else v) for k, v in obs.items()}
    ge = {k: np.zeros(v.shape) for k, v in stat.items()}
    mx = {k: [] for k in stat}
    n_perm = 0
    for nm in nulls:
        n_perm += 1
        for k, v in nm.items():
            s = np.abs(v) if tail == "two-sided" else v
            ge[k] += s >= stat[k]
            mx[k].append(np.nanmax(s))
    p, pf, thr = {}, {}, {}
    for k in stat:
        m = np.asarray(mx[k])
        p[k] = (1.0 + ge[k]) / (1.0 + n_perm)
        pf[k] = (1.0 + (m[:, None] >= stat[k].ravel()[None]).sum(0).reshape(stat[k].shape)) / (
            1.0 + n_perm
        )
        thr[k] = float(np.quantile(m, 1 - alpha))
    return p, pf, thr, n_perm


def _dataset(obs, p, pf, thr, names, lags, dirs, attrs) -> xr.Dataset:
    kinds = [k for k in MAP_TYPES if (k, dirs[0]) in obs]
    (rs, rl), (lgs, lgl) = names, lags
    shape = (len(kinds), len(dirs), len(rs), len(rl), len(lgs), len(lgl))

    def stack(d):
        return np.stack([np.stack([d[k, x] for x in dirs]) for k in kinds]).reshape(shape)

    dims = ("map_type", "direction", "roi_speaker", "roi_listener", "speaker_lag", "listener_lag")
    coords = {"map_type": kinds, "direction": list(dirs), "roi_speaker": list(rs),
              "roi_listener": list(rl), "speaker_lag": np.asarray(lgs, float),
              "listener_lag": np.asarray(lgl, float)}  # fmt: skip
    ds = xr.Dataset({"r": (dims, stack(obs))}, coords=coords)
    if p is not None:
        ds["p"] = (dims, stack(p))
        ds["p_fwer"] = (dims, stack(pf))
        t = np.array([[thr[k, x] for x in dirs] for k in kinds])
        ds["threshold"] = (("map_type", "direction"), t)
    ds.attrs.update(attrs)
    return ds


@fill_doc
@verbose
def b2b_arrays(
    X,
    Y_speaker,
    Y_listener,
    times,
    *,
    speaker_lags,
    listener_lags=None,
    speakers=None,
    roi_speaker=None,
    roi_listener=None,
    nuisance=None,
    cv=5,
    all_times=None,
    span: float = 0.0,
    inner_cv: int = 5,
    alphas=None,
    directions: str = "both",
    n_permutations: int = 0,
    null: str = "circular",
    turns=None,
    pseudo_listeners=None,
    tail: str = "two-sided",
    alpha: float = 0.05,
    random_state=None,
    dyad_id: str = "",
    n_jobs: int | None = None,
    verbose=None,
) -> B2BCoupling:
    """Model-based brain-to-brain coupling maps from word-level arrays of one dyad.

    Row ``i`` is word ``i`` (in time order): ``X[i]`` its features, ``Y_speaker[i]`` the
    window means of the brain of the participant who said it, ``Y_listener[i]`` those of the
    partner, at each lag.

    Parameters
    ----------
    X : array-like, shape (n_words, n_features)
        Word features (a language-model layer).
    Y_speaker, Y_listener : array-like, shape (n_words, n_rois, n_lags)
        Speaker's and listener's activity per word, ROI (or channel) and lag.
    times : array-like of float, shape (n_words,)
        Word onsets (s); folds are made on them.
    speaker_lags : array-like of float
        Lags (s) of ``Y_speaker``.
    listener_lags : array-like of float | None
        Lags (s) of ``Y_listener`` (default: ``speaker_lags``).
    speakers : array-like, shape (n_words,) | None
        Who said each word: one production (and comprehension) model per speaker, fitted on
        that speaker's words only (default: one speaker).
    roi_speaker, roi_listener : list of str | None
        ROI or channel names of the two brains.
    nuisance : array-like, shape (n_words, k) | None
        Acoustic and other nuisance features; adds the ``residual`` map.
    cv : int | Folds | iterable of (train, test)
        Outer folds, shared by both brains (an int: contiguous blocks over ``all_times``,
        purged by ``span``).
    all_times : array-like | None
        Onsets of every word of the conversation (integer folds are made on them).
    span : float
        Purge gap (s): the span of the lag windows.
    inner_cv : int
        Inner folds for the penalty search (purged blocks of the training words).
    alphas : array-like | None
        Penalty grid (default ``DEFAULT_ALPHAS``).
    directions : 'both' | 's2l' | 'l2s'
        ``'both'`` computes ``s2l``, ``l2s`` and their average ``sym``.
    n_permutations : int
        Null maps (0: none).
    null : 'circular' | 'phase' | 'shuffle_turns' | 'pseudo'
        Null listeners: each speaker's word sequence circularly shifted, phase-randomised,
        shuffled within turns (``turns`` needed), or ``pseudo_listeners``.
    turns : array-like | None
        Turn (utterance) label of each word, for ``null='shuffle_turns'``.
    pseudo_listeners : list of array-like | None
        For ``null='pseudo'``: listener tables like ``Y_listener`` from other conversations
        (windows at these words' times).
    tail : 'two-sided' | 'greater'
        Test ``|r|`` or ``r``.
    alpha : float
        Level of the reported max-statistic ``threshold``.
    %(random_state)s
    dyad_id : str
        Label stored in the result.
    n_jobs : int | None
        BLAS threads of the solvers.
    %(verbose)s

    Returns
    -------
    coupling : B2BCoupling
        Maps over ``map_type``, ``direction``, ``roi_speaker``, ``roi_listener``,
        ``speaker_lag``, ``listener_lag``.

    See Also
    --------
    fit_b2b_coupling : The same from a Dyad and word features.
    b2b_group_test : Group maps over dyads.
    """
    check_option("directions", directions, ("both", "s2l", "l2s"))
    check_option("null", null, ("circular", "phase", "shuffle_turns", "pseudo"))
    check_option("tail", tail, ("two-sided", "greater"))
    if null == "shuffle_turns" and n_permutations and turns is None:
        raise ValueError("null='shuffle_turns' needs turns= (a turn label per word)")
    if null == "pseudo" and not pseudo_listeners:
        raise ValueError(
            "null='pseudo' needs pseudo_listeners= (listener tables from other "
            "conversations at these words' times); fit_b2b_coupling makes them"
        )
    X, Ys, Yl, t, spk, N = _check_arrays(X, Y_speaker, Y_listener, times, speakers, nuisance)
    n = X.shape[0]
    lgs = np.atleast_1d(np.asarray(speaker_lags, float))
    lgl = lgs if listener_lags is None else np.atleast_1d(np.asarray(listener_lags, float))
    if Ys.shape[2] != lgs.size or Yl.shape[2] != lgl.size:
        raise ValueError(
            f"speaker_lags/listener_lags have {lgs.size}/{lgl.size} lags but the arrays have "
            f"{Ys.shape[2]}/{Yl.shape[2]}; pass the lag grids the windows were taken at"
        )
    rs = [f"s{i}" for i in range(Ys.shape[1])] if roi_speaker is None else list(roi_speaker)
    rl = [f"l{i}" for i in range(Yl.shape[1])] if roi_listener is None else list(roi_listener)
    if len(rs) != Ys.shape[1] or len(rl) != Yl.shape[1]:
        raise ValueError(
            f"roi_speaker/roi_listener name {len(rs)}/{len(rl)} ROIs but the arrays have "
            f"{Ys.shape[1]}/{Yl.shape[1]}"
        )
    folds, fobj = resolve_folds(cv, t, all_times=t if all_times is None else all_times,
                                span=span)  # fmt: skip
    check_fold_sizes(folds, X.shape[1])
    gf = group_folds(folds, spk, list(dict.fromkeys(spk.tolist())))
    rows = np.unique(np.concatenate([te for _, te in folds]))
    dirs = ["s2l", "l2s", "sym"] if directions == "both" else [directions]
    cfg = {"s2l": directions != "l2s", "l2s": directions != "s2l", "directions": dirs,
           "inner": int(inner_cv), "gap": float(span),
           "alphas": DEFAULT_ALPHAS if alphas is None else np.asarray(alphas, float),
           "kw": {"edge_warning": None, "n_jobs": n_jobs}}  # fmt: skip
    shapes = (Ys.shape[1:], Yl.shape[1:])
    n_maps = (len(dirs) + 1) * (2 if N is None else 3)
    cells = Ys.shape[1] * Ys.shape[2] * Yl.shape[1] * Yl.shape[2]
    if cells * n_maps > 60_000_000:
        raise ValueError(
            f"the maps would hold {cells * n_maps:,} values ({Ys.shape[1]} x {Yl.shape[1]} "
            f"ROI/channel pairs x {Ys.shape[2]} x {Yl.shape[2]} lags x {n_maps} maps, about "
            f"{cells * n_maps * 16 / 1e9:.1f} GB with nulls); give rois= (channel groups), "
            "fewer picks or a coarser lag grid"
        )
    engine = _Maps(X, Ys.reshape(n, -1), shapes, gf, rows, t, N, cfg)
    Yl2 = Yl.reshape(n, -1)
    obs = engine.maps(Yl2)
    p = pf = thr = None
    n_perm = 0
    if n_permutations or null == "pseudo":
        rng = check_random_state(random_state)
        pseudo = None
        if null == "pseudo":
            pseudo = [np.asarray(a, float).reshape(n, -1) for a in pseudo_listeners]
        trn = None if turns is None else np.asarray(turns)
        gen = null_listeners(Yl2, null, n_permutations, spk, trn, rng, pseudo)
        batch = max(1, 50_000 // max(Yl2.shape[1], 1))  # listener targets per refit
        p, pf, thr, n_perm = _significance(obs, _batched(engine, gen, batch), tail, alpha)
    attrs = {"dyad_id": dyad_id, "n_words": int(rows.size), "n_features": int(X.shape[1]),
             "null": null if n_perm else "none", "n_permutations": int(n_perm),
             "tail": tail, "alpha": float(alpha), "span": float(span),
             "n_folds": len(folds), "fold_scheme": getattr(fobj, "scheme", "indices"),
             "fold_intervals": [[float(a), float(b)] for a, b in getattr(fobj, "intervals",
                                                                          None) or []],
             "speakers": [str(s) for s in dict.fromkeys(spk.tolist())],
             "alphas": [float(a) for a in cfg["alphas"]], "inner_cv": int(inner_cv)}  # fmt: skip
    logger.info("b2b %s: %d words, maps %s", dyad_id, rows.size, sorted({k for k, _ in obs}))
    return B2BCoupling(_dataset(obs, p, pf, thr, (rs, rl), (lgs, lgl), dirs, attrs))
