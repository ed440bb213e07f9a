"""Model-based brain-to-brain coupling over the layers of one or several models.

:func:`sweep_b2b` computes the lag-by-lag coupling maps of :func:`fit_b2b_coupling` for every
layer given, on one set of words (a word without a vector in any layer is dropped from every
layer), one set of folds and the same null draws for every layer, and stacks them along a
``layer`` dim whose coordinates carry ``model``, ``modality``, ``layer_name``,
``layer_index`` and ``depth`` (as :class:`~hyperalign.encoding.LayerSweep`), so a lab can see
through which depth of which model the two brains are coupled.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..utils import _validate_type, check_random_state, fill_doc, logger, verbose
from ._b2b_inputs import dyad_inputs, fit_inputs, with_meta
from ._b2b_result import B2BCoupling

__all__ = ["sweep_b2b"]


@fill_doc
@verbose
def sweep_b2b(
    dyad,
    features,
    *,
    layers=None,
    lags="zada2024",
    window: float | None = None,
    rois: dict | None = None,
    picks=None,
    nuisance=None,
    cv=5,
    pseudo_dyads=None,
    n_permutations: int = 0,
    null: str = "circular",
    random_state=None,
    verbose=None,
    **kwargs,
) -> B2BCoupling:
    """Model-based brain-to-brain coupling of one dyad through every layer of a model.

    For each layer, the coupling maps of :func:`~hyperalign.encoding.fit_b2b_coupling`
    (speaker-to-listener, listener-to-speaker, their average; raw, residual and direct);
    every layer uses the same words, the same shared folds and the same null draws, so the
    maps are comparable across layers. Family-wise p-values are per layer (max-statistic
    over ROI pairs and both lag axes of that layer's map).

    Parameters
    ----------
    %(dyad)s
    features : LayerEmbeddings | dict
        A :class:`~hyperalign.features.LayerEmbeddings` of the dyad's transcript (text or
        speech model), or ``{model name: LayerEmbeddings | DataFrame | array}`` to put
        several models and control spaces side by side (words validated against the
        transcript).
    layers : None | int | str | list | dict
        Layers (``None``: all), by index or name, for every model or per model
        (``{model: [...]}``); asking for a layer a model does not have is an error.
    lags : str | array-like
        Lag preset or grid (s) of both brains, see
        :func:`~hyperalign.encoding.resolve_lags`.
    window : float | None
        Averaging window (s); required with a custom grid.
    rois : dict of str to list of str | None
        ROIs (channels averaged), the same names in both brains; ``None``: every channel
        pair.
    %(picks)s
    nuisance : str | list | dict | ndarray | None
        Nuisance spaces; adds the ``residual`` map (see
        :func:`~hyperalign.encoding.fit_b2b_coupling`).
    cv : int | Folds
        Folds shared by every layer and both brains (an int:
        :func:`~hyperalign.encoding.make_word_folds` over every word of the dyad).
    pseudo_dyads : list of Dyad | None
        Other conversations, for ``null='pseudo'``.
    n_permutations : int
        Null maps per layer (the same draws for every layer).
    null : 'circular' | 'phase' | 'shuffle_turns' | 'pseudo'
        See :func:`~hyperalign.encoding.b2b_arrays`.
    %(random_state)s
    %(verbose)s
    **kwargs
        Passed to :func:`~hyperalign.encoding.b2b_arrays` (``directions``, ``inner_cv``,
        ``alphas``, ``tail``, ``alpha``, ``n_jobs``).

    Returns
    -------
    coupling : B2BCoupling
        Maps with a leading ``layer`` dim (coordinates ``model``, ``modality``,
        ``layer_name``, ``layer_index``, ``depth``); ``attrs['n_features']`` lists each
        layer's dimension and ``attrs['exclusions']`` the words dropped and why.

    See Also
    --------
    hyperalign.encoding.fit_b2b_coupling : One layer or feature space.
    hyperalign.encoding.sweep_layers : The encoding score of every layer.
    hyperalign.encoding.b2b_group_test : Group maps over dyads (a ``layer`` dim is kept).

    Examples
    --------
    >>> from hyperalign.features import LayerEmbeddings
    >>> from hyperalign.simulation import simulate_conversation
    >>> row = {"speaker_roi": "frontal", "listener_roi": "parietal", "layer": "layer_3",
    ...        "speaker_lag": 0.0, "listener_lag": 0.2, "size": 1.0}
    >>> dyad, truth = simulate_conversation(duration=60, n_channels=8, audio=False,
    ...                                     model_coupling=row, random_state=0)
    >>> emb = LayerEmbeddings.from_truth(truth)
    >>> res = sweep_b2b(dyad, emb, layers=[1, 3, 5], lags=[0.0, 0.2], window=0.1,
    ...                 rois=truth.layers["rois"], cv=3, directions="s2l", verbose=False)
    >>> res.dataset.sizes["layer"]
    3
    """
    from .sweep import _layers_of
    from .wordlevel import WordLags, resolve_lags

    if rois is not None:
        _validate_type(rois, dict, "rois")
    wl = lags if isinstance(lags, WordLags) else resolve_lags(lags, window)
    words = dyad.transcript.words.reset_index(drop=True)
    lays = _layers_of(features, words, layers, str(dyad.dyad_id))
    ok = np.ones(len(words), bool)
    for lay in lays:
        ok &= np.isfinite(lay.data).all(1)
    inp = dyad_inputs(dyad, ok, wl=wl, rois=rois, picks=picks, nuisance=nuisance, null=null,
                      pseudo_dyads=pseudo_dyads, cv=cv,
                      why_nan="no vector in some layer (NaN)")  # fmt: skip
    # one seed for every layer: the same circular shifts / phases / shuffles in each
    seed = int(check_random_state(random_state).integers(2**31 - 1))
    maps = []
    for lay in lays:
        logger.info("sweep_b2b %s: layer %s", dyad.dyad_id, lay.label)
        res = fit_inputs(lay.data[inp["idx"]], inp, wl, n_permutations=n_permutations,
                          null=null, random_state=seed, dyad_id=str(dyad.dyad_id),
                          verbose=False, **kwargs)  # fmt: skip
        maps.append(res.dataset)
    ds = xr.concat(maps, dim="layer", combine_attrs="override")
    ds = ds.assign_coords(
        layer=[lay.label for lay in lays],
        model=("layer", [lay.model for lay in lays]),
        modality=("layer", [lay.modality for lay in lays]),
        layer_name=("layer", [lay.layer_name for lay in lays]),
        layer_index=("layer", np.array([lay.layer_index for lay in lays])),
        depth=("layer", np.array([lay.depth for lay in lays], float)),
    )
    ds.attrs["n_features"] = [int(m.attrs["n_features"]) for m in maps]
    ds.attrs["alphas"] = maps[0].attrs["alphas"]
    return with_meta(B2BCoupling(ds), inp, wl, rois)
