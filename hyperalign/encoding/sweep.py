"""Layer sweeps: the encoding score of every layer of one or several models, lag by lag.

:func:`sweep_layers` fits the word-level lagged encoding model (see
:mod:`hyperalign.encoding.wordlevel`) of every layer of every model given (text-model layers,
speech-model layers, control feature spaces) for every channel or ROI, every lag, both roles
(production: the participant's own words; comprehension: the partner's) and every
participant of every dyad. What makes layers comparable, and the sweep fast:

- **one set of folds** per dyad, made on the clock over every word of the conversation
  (:func:`~hyperalign.encoding.make_word_folds`): every layer, both roles and both brains
  hold out exactly the same words, and the same inner (penalty-search) blocks;
- **one set of words**: a word without a vector in any layer (NaN) is dropped from every
  layer, counted in the exclusions;
- **the target side once**: the word-window means (every channel and lag), their reshaping
  and the ROI averages are computed once per participant and role and shared by all layers;
- optional **PCA inside the folds** (``n_components``): each layer is reduced to a set
  number of components by a PCA fitted on the outer training words only
  (:func:`fold_pca`, the span of :class:`~hyperalign.features.FoldPCA`), so test words
  never shape the components; the
  ridge then runs in the primal form on ``n_components`` columns, which is what makes a
  31-layer sweep cheap, but PCA changes which layer wins for a deep planted effect;
- **one fit for two brains**: a speaker's production and the partner's comprehension use
  the same words and folds, so their targets are stacked and every fold decomposition of a
  layer is made once for both (no number changes);
- **the penalty search** (``alpha_search``). ``'inner_cv'`` (the default, exact nested
  cross-validation: the best mean inner-fold correlation per target, every penalty's
  prediction norms from one product per fold) or ``'gcv'`` (generalised cross-validation
  per target on each outer fold's training words, from the one eigendecomposition the
  outer refit needs anyway; ``k * T`` per penalty, no inner folds).

Which search, and what ``'gcv'`` changes. The full demo sweep (issue 13: 8 dyads x 5 min,
32 channels x 129 lags, both roles and both brains, SmolLM2's 31 hidden states of 576
dimensions, float32, CPU time on a loaded 2-core machine, ``benchmarks/bench_sweep.py``)
costs about 13 min on 2 cores with ``'inner_cv'`` (18 min before issue 13's speed-up; the
per-penalty prediction norms of the inner folds, three quarters of the time, are the floor
of the exact search) and about 1.7 min with ``'gcv'`` (2.9 min in float64). Validated on
the simulator's planted hierarchy (temporal ROI -> layer 1, frontal -> layer 5 of 7; 20
studies at ``layer_response=1``, 129 lags), ``'gcv'`` recovers the planted layer as often as
the exact search (temporal 20/20 and frontal 17/20 within one layer, against 20/20 and
16/20), its best layers agree with the exact search's within one layer in 18/20 studies,
and its peak ``r`` (the max over layers, ROIs and lags) is the exact one's to +0.007 +-
0.020 (mean +- SD). On 30 null studies (``layer_response=0``) the peak ``r`` has the same
distribution (0.232 +- 0.037 against 0.238 +- 0.029; it exceeds 0.25 in 23 % and 0.30 in
7 % of studies with either search), so max-statistic thresholds keep their rate. On wide,
layer-correlated features (12 layers x 576 dimensions, so the kernel form the real sweep
uses; temporal -> layer 2, frontal -> layer 10; 10 studies, a weak effect) ``'gcv'`` keeps
the deep layer (frontal within one layer in 7/10 studies, the exact search 6/10; temporal
6/10 and 5/10), unlike PCA. What it
changes: at cells without signal it chooses large penalties, and the pooled out-of-fold
``r`` of near-constant predictions is pulled negative by the fold-to-fold training means,
so the mean ``r`` over all cells is about -0.055 instead of -0.010 (cell-wise ``|dr|`` 0.066
on average; the cells' 95th percentile under the null is 0.071 instead of 0.097, so
cell-wise thresholds taken from the exact search are conservative for it). The pipeline
(``layerwise_encoding``) calls :func:`sweep_layers` with its default, the exact
``'inner_cv'``: its demo sweeps 5 ROIs x 33 lags, which the exact search does in seconds
per layer; a 31-layer, 32-channel, 129-lag sweep on 2 cores needs ``'gcv'`` to stay under 5
minutes.

Results: a :class:`LayerSweep`, one :class:`~hyperalign.encoding.EncodingResult` per dyad,
participant and role with a ``layer`` dim whose coordinates carry ``model``, ``modality``
(``'text'``, ``'speech'``, ``'control'``), ``layer_name``, ``layer_index`` and ``depth``
(0 for a model's first layer, 1 for its last), so text and speech layers sit side by side in
one table (:meth:`LayerSweep.to_data_frame`) and one figure.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ..utils import ExclusionLog, check_n_jobs, check_option, fill_doc, logger, verbose
from ._sweep_fit import _dataset, _shared_pca, _sweep_core, fold_pca, sweep_fits
from ._sweep_result import LayerSweep, SweepLayer, _roi_mean  # noqa: F401 - public here
from .result import EncodingResult

__all__ = ["sweep_layers", "sweep_arrays", "fold_pca", "LayerSweep", "SweepLayer"]

_ROLES = ("production", "comprehension")
_SEARCHES = ("inner_cv", "gcv")


# --------------------------------------------------------------------------- inputs
def _modality(emb) -> str:
    params = getattr(emb, "params", {}) or {}
    if params.get("control"):
        return "control"
    if "speech" in str(params.get("kind", "")) or any(
        str(n).startswith("encoder") for n in emb.layer_names
    ):
        return "speech"
    return "text"


def _select(names: list[str], layers, model: str) -> list[int]:
    if layers is None:
        return list(range(len(names)))
    out = []
    for lay in [layers] if isinstance(layers, int | str) else list(layers):
        if isinstance(lay, str):
            if lay not in names:
                raise ValueError(
                    f"layers: {lay!r} is not a layer of {model!r}; its layers are {names}"
                )
            out.append(names.index(lay))
        else:
            li = int(lay)
            if not -len(names) <= li < len(names):
                raise ValueError(
                    f"layers: layer {li} was asked but {model!r} has only {len(names)} layers "
                    f"(indices 0..{len(names) - 1}); ask for fewer layers or another model"
                )
            out.append(li % len(names))
    return out


def _layers_of(features, words: pd.DataFrame, layers, dyad_id: str) -> list[SweepLayer]:
    """Normalise one dyad's features to a list of :class:`SweepLayer` (words validated)."""
    from ..features.layers import LayerEmbeddings
    from .wordlevel import _check_words_match, _space_array

    if not isinstance(features, dict):
        features = {getattr(features, "model", "") or "features": features}
    out = []
    for name, obj in features.items():
        if isinstance(obj, LayerEmbeddings):
            _check_words_match(obj.words, words, f"features[{name!r}] of dyad {dyad_id!r}")
            sel = _layers_for(layers, name, obj.layer_names)
            n_l = obj.n_layers
            mod = _modality(obj)
            for i in sel:
                depth = i / (n_l - 1) if n_l > 1 else 0.0
                out.append(SweepLayer(f"{name}:{obj.layer_names[i]}", str(name), mod,
                                      obj.layer_names[i], i, depth,
                                      np.asarray(obj.data[:, i], np.float64)))  # fmt: skip
        else:
            arr, _ = _space_array(obj, words, f"features[{name!r}] of dyad {dyad_id!r}", None)
            out.append(SweepLayer(str(name), str(name), "control", str(name), 0, 0.0, arr))
    labels = [s.label for s in out]
    if len(set(labels)) != len(labels):
        raise ValueError(f"features: layer labels repeat ({labels}); give unique model names")
    return out


def _layers_for(layers, name, names):
    if isinstance(layers, dict):
        return _select(names, layers.get(name), name)
    return _select(names, layers, name)


def _per_dyad(obj, n: int, what: str) -> list:
    if isinstance(obj, list | tuple):
        if len(obj) != n:
            raise ValueError(f"{what}: {len(obj)} entries for {n} dyads; give one per dyad")
        return list(obj)
    if n != 1:
        raise ValueError(f"{what}: give a list with one entry per dyad ({n} dyads)")
    return [obj]


@fill_doc
@verbose
def sweep_layers(
    dyads,
    features,
    *,
    layers=None,
    participants: Sequence[str] | None = None,
    roles: Sequence[str] = _ROLES,
    lags="zada2024",
    window: float | None = None,
    cv=5,
    inner_cv: int = 5,
    alphas=None,
    n_components: int | None = None,
    alpha_search: str = "inner_cv",
    picks=None,
    rois: dict | None = None,
    noise_ceiling=None,
    self_baseline: bool = False,
    backend: str = "numpy",
    device: str | None = None,
    dtype: str = "float64",
    n_jobs: int | None = None,
    verbose=None,
) -> LayerSweep:
    """Encoding score of every layer of one or several models, per target, lag and role.

    Parameters
    ----------
    dyads : Dyad | list of Dyad
        The conversations.
    features : LayerEmbeddings | dict | list of those
        Per dyad (a list with one entry per dyad when several): a
        :class:`~hyperalign.features.LayerEmbeddings` (text model, speech model or a control
        from :func:`~hyperalign.features.random_word_embeddings` and friends), or a dict
        ``{model name: LayerEmbeddings | DataFrame | array}`` to sweep several models and
        controls side by side (arrays and DataFrames, one row per transcript word, are
        single control spaces: acoustic or phonetic baselines). Words are validated against
        each dyad's transcript.
    layers : None | int | str | list | dict
        Layers to sweep (``None``: all), by index or name, for every model or per model
        (``{model: [...]}``). Asking for a layer a model does not have is an error.
    participants : list of str | None
        Participants whose brains are modelled (``None``: both of each dyad).
    roles : list of str
        ``'production'`` and/or ``'comprehension'``.
    lags : 'zada2024' | 'goldstein2022' | array-like of float
        Lag grid (:func:`~hyperalign.encoding.resolve_lags`).
    window : float | None
        Averaging window (s); ``None`` takes the preset's.
    cv : int | Folds
        Outer folds, shared by every layer, role and participant of a dyad (an int makes
        contiguous blocks over every word of the conversation, purged by the lag span).
    inner_cv : int
        Inner blocks for the penalty search (on the outer training words only).
    alphas : array-like of float | None
        Penalty grid (default ``logspace(-1, 7, 17)``).
    n_components : int | None
        Reduce each layer to this many principal components, fitted on each outer fold's
        training words only (``None``: the full layer).
    alpha_search : 'inner_cv' | 'gcv'
        How each target's penalty is chosen inside each outer fold. ``'inner_cv'`` (the
        default, exact nested cross-validation): the best mean correlation over the
        ``inner_cv`` purged inner blocks. ``'gcv'``: generalised cross-validation on the
        outer training words (Golub et al. 1979), computed in the eigenbasis of the one
        decomposition per outer fold, about 6-8 times cheaper for wide layers; it selects
        on squared error rather than correlation and ignores the purge gaps inside the
        training words. Outer folds, predictions and scores are computed the same way in
        both; see the module docstring for the validation and timings.
    %(picks)s
    rois : dict of str to list of str | None
        Average channels into named ROIs before fitting (the targets become the ROIs).
    noise_ceiling : xarray.DataArray | ndarray | None
        Ceiling on ``r`` per target and lag (e.g. from
        :func:`~hyperalign.encoding.controls.noise_ceiling`): adds ``r_norm = r / ceiling``.
        ``None``: ``attrs['noise_ceiling']`` says that none was available.
    self_baseline : bool
        Also score the target's own past (:func:`~hyperalign.encoding.self_predictability`,
        on the same folds) as ``r_self`` (target x lag), next to the layers.
    %(backend)s
    %(device)s
    dtype : 'float64' | 'float32'
        Precision of the solver.
    n_jobs : int | None
        Dyads swept in parallel by this many worker processes (joblib's meaning: ``None``
        or ``1`` serial, ``-1`` every core), each with one BLAS thread.
    %(verbose)s

    Returns
    -------
    sweep : LayerSweep
        One :class:`~hyperalign.encoding.EncodingResult` per dyad, participant and role, with
        dims ``layer, target, lag`` (``r``, ``r2``; ``fold_r`` and ``alpha`` per fold) and
        per-layer coordinates ``model, modality, layer_name, layer_index, depth``;
        ``timings`` (seconds per stage).

    See Also
    --------
    hyperalign.encoding.fit_word_encoding, hyperalign.encoding.hierarchy.best_layer,
    hyperalign.encoding.hierarchy.hierarchy_test

    Examples
    --------
    The simulator's layer-like features, with the temporal ROI of each listener responding
    to ``layer_2``:

    >>> from hyperalign.features import LayerEmbeddings
    >>> from hyperalign.simulation import simulate_conversation
    >>> dyad, truth = simulate_conversation(duration=60, n_channels=8, audio=False,
    ...                                     layer_hierarchy={"temporal": "layer_2"},
    ...                                     random_state=0)
    >>> emb = LayerEmbeddings.from_truth(truth)
    >>> sweep = sweep_layers(dyad, emb, roles=["comprehension"], lags=[0.2, 0.4],
    ...                      window=0.1, cv=3, rois=truth.layers["rois"], verbose=False)
    >>> sweep
    <LayerSweep | 1 dyad(s) | 2 fits | 7 layers of 1 model(s)>
    >>> sweep.to_data_frame().columns[:6].tolist()
    ['dyad', 'participant', 'role', 'layer', 'target', 'lag']
    """
    from ._wordfit import DEFAULT_ALPHAS
    from .wordlevel import WordLags, resolve_lags

    for r in roles:
        check_option("roles", r, _ROLES)
    dyads = list(dyads) if isinstance(dyads, list | tuple) else [dyads]
    feats = _per_dyad(features, len(dyads), "features")
    ids = [getattr(d, "dyad_id", "") for d in dyads]
    if len(set(ids)) != len(ids):
        raise ValueError(f"dyads: dyad ids repeat ({ids}); give each dyad its own dyad_id")
    wl = lags if isinstance(lags, WordLags) else resolve_lags(lags, window)
    if n_components is not None and int(n_components) < 1:
        raise ValueError(f"n_components must be None or an int >= 1; got {n_components!r}")
    cfg = {
        "picks": picks, "rois": rois, "cv": cv, "inner_cv": inner_cv,
        "alphas": DEFAULT_ALPHAS if alphas is None else np.asarray(alphas, float),
        "n_components": n_components, "noise_ceiling": noise_ceiling,
        "alpha_search": check_option("alpha_search", alpha_search, _SEARCHES),
        "self_baseline": bool(self_baseline),
        "solver_kw": {"backend": backend, "device": device, "dtype": dtype},
    }  # fmt: skip
    clock = dict.fromkeys(("targets", "features", "pca", "solver", "scores"), 0.0)
    args = (layers, participants, roles, wl, cfg)
    n_workers = min(check_n_jobs(n_jobs), len(dyads))
    if n_workers > 1:
        from joblib import Parallel, delayed

        outs = Parallel(n_jobs=n_workers)(
            delayed(_dyad_job)(dyad, feat, *args) for dyad, feat in zip(dyads, feats)
        )
    else:
        outs = [_dyad_job(dyad, feat, *args) for dyad, feat in zip(dyads, feats)]
    results = {}
    for res, clk in outs:
        results.update(res)
        for k, v in clk.items():
            clock[k] += v
    logger.info("sweep_layers: %s", {k: round(v, 2) for k, v in clock.items()})
    return LayerSweep(results, clock)


def _dyad_job(dyad, feat, layers, participants, roles, wl, cfg):
    """One dyad with one BLAS thread (a worker of the parallel sweep): (results, clock)."""
    from ._solvers_backend import blas_threads

    clock = dict.fromkeys(("targets", "features", "pca", "solver", "scores"), 0.0)
    results: dict = {}
    with blas_threads(1):
        _sweep_dyad(dyad, feat, layers, participants, roles, wl, cfg, clock, results)
    return results, clock


def _sweep_dyad(dyad, feat, layers, participants, roles, wl, cfg, clock, results) -> None:
    did = getattr(dyad, "dyad_id", "")
    t0 = time.process_time()
    lays = _layers_of(feat, dyad.transcript.words.reset_index(drop=True), layers, did)
    clock["features"] += time.process_time() - t0
    projs = _shared_pca(dyad, lays, wl, cfg, clock)
    keys = [(pid, role) for pid in (dyad.ids if participants is None else
                                    _pids(dyad, participants)) for role in roles]  # fmt: skip
    fits = sweep_fits(dyad, lays, keys, wl, cfg, clock, projs)
    for pid, role in keys:
        res = fits[(pid, role)]
        if cfg["self_baseline"]:
            from .controls import self_predictability

            rs = self_predictability(dyad, participant=pid, role=role, lags=wl.lags,
                                     window=wl.window, cv=cfg["cv"], picks=cfg["picks"],
                                     rois=cfg["rois"])  # fmt: skip
            res.dataset["r_self"] = rs.assign_coords(lag=res.dataset["lag"].values)
        results[(did, pid, role)] = _with_ceiling(res, cfg["noise_ceiling"])


def _pids(dyad, participants) -> list[str]:
    out = [p for p in participants if p in dyad.ids]
    if not out:
        raise ValueError(
            f"participants: none of {list(participants)} is in dyad "
            f"{getattr(dyad, 'dyad_id', '')!r} (participants {dyad.ids})"
        )
    return out


def _with_ceiling(res: EncodingResult, ceiling) -> EncodingResult:
    ds = res.dataset
    if ceiling is None:
        ds.attrs["noise_ceiling"] = (
            "none: no repetitions or second listener were given, so scores are not normalised"
        )
        return res
    c = ceiling if isinstance(ceiling, xr.DataArray) else xr.DataArray(
        np.asarray(ceiling, float), dims=("target", "lag"),
        coords={"target": ds["target"], "lag": ds["lag"]})  # fmt: skip
    c = c.where(c > 0)
    ds["noise_ceiling"] = c
    ds["r_norm"] = ds["r"] / c
    ds.attrs["noise_ceiling"] = str(getattr(ceiling, "attrs", {}).get("method", "given"))
    return res


def sweep_arrays(
    layers: dict,
    Y,
    times,
    *,
    span: float = 0.0,
    cv=5,
    inner_cv: int = 5,
    alphas=None,
    n_components: int | None = None,
    alpha_search: str = "inner_cv",
    target_names: Sequence[str] | None = None,
    lags=None,
    dtype: str = "float64",
    n_jobs: int | None = None,
) -> EncodingResult:
    """The layer sweep on arrays: every layer against the same targets on the same folds.

    Parameters
    ----------
    layers : dict of str to ndarray
        Layer label -> features ``(n_samples, d)``, in depth order.
    Y : ndarray, shape (n_samples, n_targets) or (n_samples, n_targets, n_lags)
        Targets (word-level: one row per word).
    times : array-like of float
        Sample times (s); folds are contiguous blocks on this clock.
    span : float
        Purge gap (s) between training and test blocks (the lag window's span).
    cv, inner_cv, alphas, n_components, alpha_search
        As in :func:`sweep_layers`.
    target_names : list of str | None
        Names of the targets (default ``'t0'``, ...).
    lags : array-like of float | None
        Lags (s) of the third axis of ``Y`` (default ``[0.0]`` for 2-D targets).
    dtype : 'float64' | 'float32'
        Precision.
    n_jobs : int | None
        BLAS threads (``None``: one).

    Returns
    -------
    result : EncodingResult
        ``r``, ``r2`` (layer x target x lag), ``fold_r``, ``alpha``; ``depth`` coordinate
        ``0..1`` in the order of ``layers``.

    See Also
    --------
    sweep_layers
    """
    from ._solvers_backend import blas_threads
    from ._wordfit import DEFAULT_ALPHAS

    Y = np.asarray(Y, float)
    Y = Y[:, :, None] if Y.ndim == 2 else Y
    times = np.asarray(times, float)
    names = (
        list(target_names) if target_names is not None else [f"t{i}" for i in range(Y.shape[1])]
    )
    lag = np.zeros(1) if lags is None else np.asarray(lags, float)
    cfg = {
        "cv": cv, "inner_cv": inner_cv, "n_components": n_components,
        "alpha_search": check_option("alpha_search", alpha_search, _SEARCHES),
        "alphas": DEFAULT_ALPHAS if alphas is None else np.asarray(alphas, float),
        "solver_kw": {"dtype": dtype, "backend": "numpy", "device": None},
        "rois": None,
    }  # fmt: skip
    clock = dict.fromkeys(("targets", "features", "pca", "solver", "scores"), 0.0)
    Xs = [np.asarray(v, float) for v in layers.values()]
    with blas_threads(n_jobs):
        arrays, folds, fobj = _sweep_core(Xs, Y, times, times, float(span), cfg, clock, "Y")
    k = len(layers)
    lays = [SweepLayer(str(nm), "arrays", "given", str(nm), i, i / (k - 1) if k > 1 else 0.0,
                       Xs[i]) for i, nm in enumerate(layers)]  # fmt: skip
    from .wordlevel import WordLags

    d = {"channels": names, "lags": WordLags(lag, 1.0)}
    return _dataset(d, lays, folds, fobj, arrays, "", "", None, ExclusionLog(), cfg)
