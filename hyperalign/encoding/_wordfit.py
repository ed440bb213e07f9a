"""``fit_word_encoding``: the word-level lagged encoding model of one participant and role."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..utils import check_option, fill_doc, logger, verbose
from .result import EncodingResult, concat_results
from .significance import split_r2
from .wordlevel import (
    WordLags,
    check_fold_sizes,
    column_scores,
    nuisance_spaces,
    prepare_word_data,
    purged_inner_cv,
    resolve_folds,
    resolve_lags,
)

__all__ = ["fit_word_encoding", "fit_word_arrays", "DEFAULT_ALPHAS", "fit_spaces"]

DEFAULT_ALPHAS = np.logspace(-1, 7, 17)


def fit_spaces(spaces: dict, Y2: np.ndarray, folds, inner, alphas, **kw) -> dict:
    """Nested CV of one space (ridge) or several (banded ridge); out-of-fold predictions."""
    names = list(spaces)
    if len(names) == 1:
        from .ridge import nested_ridge_cv

        fit = nested_ridge_cv(
            spaces[names[0]], Y2, alphas=alphas, outer_cv=folds, inner_cv=inner, **kw
        )
        return {
            "pred": fit.predictions_,
            "fold_r": fit.fold_scores_,
            "alpha": fit.best_alphas_[:, None, :],
            "coefs": fit.coefs_,
            "split": None,
        }
    from .banded import nested_banded_ridge_cv

    kw = {k: v for k, v in kw.items() if k not in ("return_coefs", "edge_warning")}
    fit = nested_banded_ridge_cv(
        [spaces[n] for n in names],
        Y2,
        alphas=alphas,
        outer_cv=folds,
        inner_cv=inner,
        space_names=names,
        random_state=0,
        **kw,
    )
    split = getattr(fit, "split_predictions_", None)
    alpha = np.asarray(getattr(fit, "space_alphas_", getattr(fit, "best_alphas_", None)))
    return {
        "pred": fit.predictions_,
        "fold_r": fit.fold_scores_,
        "alpha": alpha,
        "coefs": getattr(fit, "coefs_", None),
        "split": split,
    }


def fit_spaces_regressed(spaces, Y2, folds, times, n_inner, gap, alphas, N, **kw) -> dict:
    """Nested CV with the nuisance ``N`` regressed out of targets and features inside each
    fold (OLS fitted on the fold's training rows; Frisch-Waugh: the nuisance acts as
    unpenalised regressors). Returns the solver outputs and ``Yref``, the residualised
    targets the out-of-fold predictions are scored against."""
    A = np.column_stack([np.ones(len(N)), N])
    pred = np.full(Y2.shape, np.nan)
    yref = np.full(Y2.shape, np.nan)
    fold_r, alpha, split, coefs = [], [], [], []
    for tr, te in folds:
        pinv = np.linalg.pinv(A[tr])
        Yr = Y2 - A @ (pinv @ Y2[tr])
        sp = {k: v - A @ (pinv @ v[tr]) for k, v in spaces.items()}
        rows = np.concatenate([tr, te])
        loc = [(np.arange(len(tr)), np.arange(len(tr), len(rows)))]
        inner = purged_inner_cv(times[rows], n_inner, gap)
        out = fit_spaces({k: v[rows] for k, v in sp.items()}, Yr[rows], loc, inner, alphas, **kw)
        pred[te] = out["pred"][len(tr) :]
        yref[te] = Yr[te]
        fold_r.append(out["fold_r"][0])
        alpha.append(out["alpha"][0])
        if out["split"] is not None:
            split.append((te, out["split"][:, len(tr) :]))
        if out["coefs"] is not None:
            coefs.append(out["coefs"][0])
    sp_all = None
    if split:
        sp_all = np.full((split[0][1].shape[0], *Y2.shape), np.nan)
        for te, s_ in split:
            sp_all[:, te] = s_
    return {
        "pred": pred,
        "fold_r": np.stack(fold_r),
        "alpha": np.stack(alpha),
        "coefs": np.stack(coefs) if coefs else None,
        "split": sp_all,
        "Yref": yref,
    }


def fit_word_arrays(
    spaces: dict,
    Y2: np.ndarray,
    times: np.ndarray,
    *,
    all_times=None,
    span: float = 0.0,
    cv=5,
    inner_cv: int = 5,
    alphas=None,
    purge: bool = True,
    n_permutations: int = 0,
    null: str = "circular",
    random_state=None,
    groups=None,
    regress=None,
    **solver_kw,
) -> dict:
    """The word-level pipeline on arrays: folds, nested (banded) ridge, scores, nulls.

    Parameters
    ----------
    spaces : dict of str to ndarray, shape (n, d)
        Feature spaces (one is plain ridge, several banded ridge).
    Y2 : ndarray, shape (n, n_targets)
        Targets (e.g. channel x lag flattened).
    times : ndarray, shape (n,)
        Time of each sample (s).
    all_times : ndarray | None
        Times that define integer folds (every word of the conversation, so that roles and
        brains share them); default ``times``.
    span : float
        Lag window span (s): the purge gap, and the leakage check of given folds.
    cv : int | Folds | iterable of (train, test)
        Outer folds (see :func:`fit_word_encoding`).
    inner_cv : int
        Inner (penalty search) blocks within each outer training set.
    alphas : array-like of float | None
        Penalty grid (default ``logspace(-1, 7, 17)``).
    purge : bool
        Purge integer folds and inner blocks by ``span``.
    n_permutations : int
        Nulls refitted through the same nested CV (0: none).
    null : 'circular' | 'phase'
        How the null targets are made.
    random_state : None | int | numpy.random.Generator
        Seed of the nulls.
    groups : array-like | None
        Run or conversation of each sample: samples in different groups never leak.
    regress : ndarray, shape (n, k) | None
        Nuisance regressed out of features and targets inside each fold.
    **solver_kw
        Passed to the solvers (``backend``, ``return_coefs``, ``edge_warning``, ...).

    Returns
    -------
    res : dict
        ``out`` (solver outputs), ``r``, ``r2``, ``folds``, ``folds_obj`` and, with
        ``n_permutations``, ``p``, ``p_fwer``, ``p_fdr``, ``r_null``.

    See Also
    --------
    fit_word_encoding : The same on a Dyad, with a labelled result.
    """
    alphas = DEFAULT_ALPHAS if alphas is None else np.asarray(alphas, dtype=float)
    solver_kw.setdefault("edge_warning", None)
    all_times = times if all_times is None else all_times
    folds, fobj = resolve_folds(
        cv, times, all_times=all_times, span=span, purge=purge, groups=groups
    )
    check_fold_sizes(folds, sum(v.shape[1] for v in spaces.values()))
    gap = span if purge else 0.0
    inner = purged_inner_cv(times, int(inner_cv), gap)

    def pipeline(Y, kw):
        if regress is None:
            out = fit_spaces(spaces, Y, folds, inner, alphas, **kw)
            out["Yref"] = Y
            return out
        return fit_spaces_regressed(spaces, Y, folds, times, int(inner_cv), gap, alphas,
                                    np.asarray(regress, float), **kw)  # fmt: skip

    out = pipeline(Y2, solver_kw)
    r, r2 = column_scores(out["Yref"], out["pred"])
    res = {"out": out, "r": r, "r2": r2, "folds": folds, "folds_obj": fobj}
    if n_permutations:
        from .significance import null_scores, pvalues

        kw = {**solver_kw, "edge_warning": None, "return_coefs": False}

        def refit(Yn):
            o = pipeline(Yn, kw)
            return o["pred"], o["Yref"]

        rn = null_scores(
            refit, Y2, n_permutations=int(n_permutations), method=null, random_state=random_state
        )
        res.update(pvalues(r, rn))
        res["r_null"] = rn
    return res


@fill_doc
@verbose
def fit_word_encoding(
    dyad,
    features,
    *,
    participant: str,
    role: str = "production",
    lags="zada2024",
    window: float | None = None,
    cv=5,
    inner_cv: int = 5,
    alphas=None,
    picks=None,
    layer=None,
    nuisance=None,
    nuisance_mode: str = "band",
    purge: bool = True,
    return_coefs: bool = False,
    edge_warning: float | None = None,
    n_permutations: int = 0,
    null: str = "circular",
    random_state=None,
    backend: str = "numpy",
    device: str | None = None,
    dtype: str = "float64",
    n_jobs: int | None = None,
    verbose=None,
) -> EncodingResult:
    """Word-level lagged encoding: word features predict the brain at every lag, out of fold.

    For every channel and lag, the signal averaged in a ``window`` centred on word onset +
    lag is predicted from the word's features by ridge regression (banded ridge for several
    spaces), the penalty chosen per target by an inner search on the training words only.

    Parameters
    ----------
    %(dyad)s
    features : DataFrame | ndarray | LayerEmbeddings | dict of those
        One row per word of ``dyad.transcript.words`` (validated: count, text, onsets). A
        dict gives several spaces, fitted by banded ridge.
    participant : str
        Participant whose brain is modelled.
    role : 'production' | 'comprehension' | 'joint'
        Own words, the partner's words, or both with role-split ``prod_*``/``comp_*`` spaces.
    lags : 'zada2024' | 'goldstein2022' | array-like of float
        Lag grid (see :func:`resolve_lags`).
    window : float | None
        Averaging window (s); ``None`` takes the preset's.
    cv : int | Folds | iterable of (train, test)
        Outer folds. An int makes contiguous blocks over every word of the conversation
        (so both roles and both brains share them), purged by the lag window's span. Index
        folds are checked for leakage through the lag window.
    inner_cv : int
        Inner (penalty search) blocks within each outer training set, purged likewise.
    alphas : array-like of float | None
        Penalty grid (default ``logspace(-1, 7, 17)``).
    %(picks)s
    layer : int | str | 'all' | None
        Layer of a LayerEmbeddings; ``'all'`` sweeps every layer with one set of folds and
        returns a result with a ``layer`` dim.
    nuisance : list of str | dict | None
        Nuisance spaces: ``'word_rate'``, ``'speaking'``, ``'listening'`` or arrays (one row
        per transcript word).
    nuisance_mode : 'band' | 'regress'
        Fit the nuisance as extra bands (banded ridge; its split score is reported), or
        regress it out of targets and features inside each fold (OLS on the training
        words; scores are then of the residualised targets).
    purge : bool
        Purge integer-``cv`` folds by the lag window span.
    return_coefs : bool
        Store the fold-averaged coefficients (``coef``: feature x target x lag).
    edge_warning : float | None
        Warn when more than this share of targets chose an edge of the penalty grid. Off by
        default here: targets without signal (most channel x lag cells) pick arbitrary
        penalties, so the share over all targets says little.
    n_permutations : int
        Nulls refitted through the same nested CV (0: none). Adds ``p`` (per target and lag),
        ``p_fwer`` (max-statistic over channels and lags) and ``p_fdr`` (Benjamini-Hochberg).
    null : 'circular' | 'phase'
        How the null targets are made (:func:`~hyperalign.encoding.null_targets`).
    %(random_state)s
    %(backend)s
    %(device)s
    dtype : 'float64' | 'float32'
        Precision.
    %(n_jobs)s
        Passed to the solvers as BLAS threads (``None``: one).
    %(verbose)s

    Returns
    -------
    result : EncodingResult
        ``r``, ``r2`` (target x lag), ``fold_r``, ``alpha`` (fold x [space x] target x lag),
        ``n_test`` (fold), ``split_r2`` for banded models; attrs hold every parameter, the
        folds and the exclusions.

    See Also
    --------
    hyperalign.encoding.make_folds, hyperalign.encoding.null_scores
    fit_trf : Continuous temporal response functions.

    Examples
    --------
    A simulated dyad whose speaker responds at Pz 200 ms before each word onset, linearly in
    the word's vector (:func:`hyperalign.simulation.word_vector`):

    >>> import numpy as np
    >>> from hyperalign import simulate_conversation
    >>> from hyperalign.encoding import fit_word_encoding
    >>> from hyperalign.simulation import word_vector
    >>> dyad, truth = simulate_conversation(
    ...     duration=120, n_channels=8, audio=False, word_response=3.0, random_state=0
    ... )
    >>> X = np.stack([word_vector(w) for w in dyad.transcript.words["word"]])
    >>> res = fit_word_encoding(
    ...     dyad, X, participant="sim-01-P1", role="production",
    ...     lags=np.array([-0.2, 0.0, 0.2]), window=0.1, cv=3, inner_cv=3,
    ... )
    >>> res.get_scores("r").sel(target="Pz").values.round(2)
    array([ 0.92, -0.09, -0.11])
    >>> res.peak_lag(target="Pz")
    -0.2
    """
    check_option("nuisance_mode", nuisance_mode, ("band", "regress"))
    wl = lags if isinstance(lags, WordLags) else resolve_lags(lags, window)
    from ..features.llm import LayerEmbeddings

    if isinstance(layer, str) and layer == "all":
        if not isinstance(features, LayerEmbeddings):
            raise ValueError("layer='all' needs features to be a LayerEmbeddings")
        kw = {
            k: v
            for k, v in locals().items()
            if k not in ("features", "layer", "kw", "wl", "LayerEmbeddings", "dyad")
        }
        kw["lags"] = wl
        res = [
            fit_word_encoding(dyad, features, layer=name, **kw) for name in features.layer_names
        ]
        return concat_results(res, "layer", features.layer_names)
    d = prepare_word_data(
        dyad, features, participant=participant, role=role, lags=wl, picks=picks, layer=layer
    )
    Y, spaces, words = d["Y"], d["spaces"], d["words"]
    n, n_ch, n_lag = Y.shape
    Y2 = Y.reshape(n, n_ch * n_lag)
    nuis = {k: v[d["row_index"]] for k, v in nuisance_spaces(nuisance, dyad, participant).items()}
    regress = None
    if nuis and nuisance_mode == "regress":
        regress = np.column_stack(list(nuis.values()))
        nuis = {}
    spaces = {**spaces, **nuis}
    from .wordlevel import _check_design

    _check_design(spaces, np.arange(n))
    times = words["onset"].to_numpy(float)
    alphas = DEFAULT_ALPHAS if alphas is None else np.asarray(alphas, dtype=float)
    fa = fit_word_arrays(
        spaces, Y2, times, all_times=d["all_onsets"], span=wl.span, cv=cv, inner_cv=inner_cv,
        alphas=alphas, purge=purge, n_permutations=n_permutations, null=null,
        random_state=random_state, return_coefs=return_coefs, edge_warning=edge_warning,
        backend=backend, device=device, dtype=dtype, n_jobs=n_jobs, regress=regress,
    )  # fmt: skip
    folds, fobj = fa["folds"], fa["folds_obj"]
    ds = _word_dataset(d, fa["out"], fa["r"], fa["r2"], folds, list(spaces), fa["out"]["Yref"])
    for k in ("p", "p_fwer", "p_fdr"):
        if k in fa:
            ds[k] = (("target", "lag"), fa[k].reshape(n_ch, n_lag))
    if "r_null" in fa:
        ds["r_null_max"] = (("permutation",), fa["r_null"].max(axis=1))
    ds.attrs.update(
        {
            "estimator": "word",
            "role": role,
            "participant": participant,
            "dyad_id": getattr(dyad, "dyad_id", ""),
            "sfreq": float(dyad[participant].raw.info["sfreq"]),
            **wl.to_dict(),
            "alphas": alphas.tolist(),
            "inner_cv": int(inner_cv),
            "cv": fobj.to_dict() if fobj is not None else "index folds",
            "n_words": int(n),
            "spaces": list(spaces),
            "nuisance_mode": nuisance_mode,
            "exclusions": d["exclusions"].rows,
            "backend": backend,
            "dtype": dtype,
            "layer": "" if layer is None else str(layer),
            "features_model": getattr(features, "model", ""),
            "n_permutations": int(n_permutations),
            "null": null,
        }
    )
    logger.info("fit_word_encoding %s %s: max r %.3f", participant, role, float(np.max(fa["r"])))
    return EncodingResult(ds)


def _word_dataset(d, out, r, r2, folds, space_names, Y2) -> xr.Dataset:
    n_ch, n_lag = len(d["channels"]), d["lags"].lags.size
    shp = (n_ch, n_lag)
    coords = {"target": d["channels"], "lag": d["lags"].lags, "fold": np.arange(len(folds))}
    fr = np.asarray(out["fold_r"]).reshape(len(folds), *shp)
    data = {
        "r": (("target", "lag"), r.reshape(shp)),
        "r2": (("target", "lag"), r2.reshape(shp)),
        "fold_r": (("fold", "target", "lag"), fr),
        "n_test": (("fold",), np.array([len(te) for _, te in folds])),
    }
    alpha = np.asarray(out["alpha"])
    if alpha.ndim == 3 and alpha.shape[1] == 1:
        data["alpha"] = (("fold", "target", "lag"), alpha[:, 0].reshape(len(folds), *shp))
    elif alpha.ndim == 3:
        coords["space"] = space_names
        data["alpha"] = (
            ("fold", "space", "target", "lag"),
            alpha.reshape(len(folds), alpha.shape[1], *shp),
        )
    if out["split"] is not None:
        coords["space"] = space_names
        data["split_r2"] = (
            ("space", "target", "lag"),
            split_r2(Y2, out["split"], folds).reshape(len(space_names), *shp),
        )
    if out["coefs"] is not None:
        c = np.nanmean(np.asarray(out["coefs"]), axis=0)
        data["coef"] = (("feature", "target", "lag"), c.reshape(c.shape[0], *shp))
        coords["feature"] = np.arange(c.shape[0])
    return xr.Dataset(data, coords=coords)
