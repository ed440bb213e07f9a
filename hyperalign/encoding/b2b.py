"""Model-based brain-to-brain coupling (Zada et al. 2024, Neuron).

For every word of a conversation, the speaker's *production* model (fitted on the speaker's
brain, out of fold) predicts the speaker's activity at each speaker lag; those predictions,
for held-out words, are correlated with the listener's actual held-out activity at each
listener lag: a lag-by-lag map per ROI (or channel) pair, ``s2l``. The mirror map ``l2s``
correlates the listener's *comprehension* model predictions with the speaker's actual
activity; ``sym`` is their average. Both brains use one set of folds made on the clock over
every word of the dyad, so the held-out words match exactly. Correlations are taken over
all held-out words, pooled across folds (each word is held out once).

Kinds of map: ``raw``; ``residual`` (what acoustic and other nuisance spaces predict is
removed from the listener's activity out of fold: held-out residuals of an OLS fitted on
each fold's training words for ``s2l``, the nuisance regressed out of targets and features
inside each fold for the listener's model in ``l2s``), so the map
shows what language adds beyond acoustics; ``direct`` (model-free: speaker activity against
listener activity at the same words).

Nulls rebuild the maps from null listeners: circular shifts of the word sequence within the
conversation, phase randomisation, words shuffled within turns (each refitted through the
same pipeline), or pseudo-listeners from other conversations; the maximum over ROI pairs and
both lag axes gives family-wise p-values. Each null draw gives all three directions from one
null listener, so the null of ``sym`` is the average of the ``s2l`` and ``l2s`` maps of the
same draw.

Through the layers of a model: :func:`sweep_b2b` (same words, folds and null draws for every
layer; a ``layer`` dim with ``model``, ``modality`` and ``depth`` coordinates), drawn by
:func:`plot_b2b_layers`.

Modules: the array core in ``_b2b_arrays`` and ``_b2b_maps``, the dyad inputs (both brains
windowed at every word, pseudo-listeners from :mod:`hyperalign.align.pseudo`) in
``_b2b_inputs``, the layer sweep in ``_b2b_sweep``, the container in ``_b2b_result`` and the
group statistics and figures in ``_b2b_group``.
"""

from __future__ import annotations

import numpy as np

from ..utils import _validate_type, fill_doc, verbose
from ._b2b_arrays import _Maps, b2b_arrays  # noqa: F401 - _Maps: the engine, for tests
from ._b2b_group import (
    TransferLatency,
    b2b_group_test,
    plot_b2b_layers,
    plot_b2b_map,
    transfer_latency,
)
from ._b2b_inputs import dyad_inputs, fit_inputs, with_meta
from ._b2b_result import B2BCoupling, read_b2b
from ._b2b_sweep import sweep_b2b

__all__ = [
    "B2BCoupling",
    "TransferLatency",
    "b2b_arrays",
    "b2b_group_test",
    "fit_b2b_coupling",
    "plot_b2b_layers",
    "plot_b2b_map",
    "read_b2b",
    "sweep_b2b",
    "transfer_latency",
]


@fill_doc
@verbose
def fit_b2b_coupling(
    dyad,
    features,
    *,
    lags="zada2024",
    window: float | None = None,
    rois: dict | None = None,
    picks=None,
    layer=None,
    nuisance=None,
    cv=5,
    pseudo_dyads=None,
    n_permutations: int = 0,
    null: str = "circular",
    random_state=None,
    verbose=None,
    **kwargs,
) -> B2BCoupling:
    """Model-based brain-to-brain coupling of one dyad (Zada et al. 2024).

    Every word of the transcript is a sample: its speaker's brain and its listener's brain
    are windowed at each lag (the same grid for both); one production model per speaker and
    one comprehension model per listener are fitted out of fold on shared folds (made over
    every word of the dyad, so held-out words match exactly), and their predictions are
    correlated with the partner's held-out activity (:func:`b2b_arrays`).

    Parameters
    ----------
    %(dyad)s
    features : DataFrame | ndarray | LayerEmbeddings | dict of those
        One row per word of ``dyad.transcript.words`` (validated: count, words, onsets).
    lags : str | array-like
        Lag preset or grid (s), see :func:`resolve_lags`.
    window : float | None
        Averaging window (s); required with a custom grid.
    rois : dict of str to list of str | None
        ROIs (channels averaged), the same names in both brains; ``None``: every channel
        pair.
    %(picks)s
    layer : int | str | None
        Layer of a LayerEmbeddings.
    nuisance : str | list | dict | ndarray | None
        Nuisance spaces (``'word_rate'``, arrays or DataFrames with one row per word, e.g.
        acoustic word features); adds the ``residual`` map.
    cv : int | Folds
        Folds (an int: :func:`make_word_folds` over every word of the dyad).
    pseudo_dyads : list of Dyad | None
        Other conversations for ``null='pseudo'``: each gives a pseudo-listener (the
        participant in the listener's slot), windowed at this dyad's words; words past the
        shorter recording are dropped (matched on length).
    n_permutations : int
        Null maps (circular, phase, shuffle_turns).
    null : 'circular' | 'phase' | 'shuffle_turns' | 'pseudo'
        See :func:`b2b_arrays`.
    %(random_state)s
    %(verbose)s
    **kwargs
        Passed to :func:`b2b_arrays` (``directions``, ``inner_cv``, ``alphas``, ``tail``,
        ``alpha``, ``n_jobs``).

    Returns
    -------
    coupling : B2BCoupling
        With ``attrs['exclusions']``, words dropped and why.

    See Also
    --------
    b2b_arrays, b2b_group_test, transfer_latency, plot_b2b_map
    sweep_b2b : The same through every layer of a model (a ``layer`` dim).

    Examples
    --------
    A simulated coupling through ``layer_3`` (frontal speaker at 0 s, parietal listener at
    0.2 s):

    >>> from hyperalign.features import LayerEmbeddings
    >>> from hyperalign.simulation import simulate_conversation
    >>> row = {"speaker_roi": "frontal", "listener_roi": "parietal", "layer": "layer_3",
    ...        "speaker_lag": 0.0, "listener_lag": 0.2, "size": 1.0}
    >>> dyad, truth = simulate_conversation(duration=60, n_channels=8, audio=False,
    ...                                     model_coupling=row, random_state=0)
    >>> emb = LayerEmbeddings.from_truth(truth)
    >>> res = fit_b2b_coupling(dyad, emb, layer="layer_3", lags=[0.0, 0.2], window=0.1,
    ...                        rois=truth.layers["rois"], cv=3, directions="s2l",
    ...                        verbose=False)
    >>> pk = res.peak("raw", "s2l", roi_speaker="frontal", roi_listener="parietal")
    >>> pk["speaker_lag"], pk["listener_lag"]
    (0.0, 0.2)
    """
    from .wordlevel import WordLags, resolve_lags, word_features

    if rois is not None:
        _validate_type(rois, dict, "rois")
    wl = lags if isinstance(lags, WordLags) else resolve_lags(lags, window)
    words = dyad.transcript.words.reset_index(drop=True)
    X = np.column_stack(list(word_features(features, words, layer=layer).values()))
    inp = dyad_inputs(dyad, np.isfinite(X).all(1), wl=wl, rois=rois, picks=picks,
                      nuisance=nuisance, null=null, pseudo_dyads=pseudo_dyads, cv=cv,
                      why_nan="NaN features")  # fmt: skip
    res = fit_inputs(X[inp["idx"]], inp, wl, n_permutations=n_permutations, null=null,
                      random_state=random_state, dyad_id=str(dyad.dyad_id), **kwargs)  # fmt: skip
    return with_meta(res, inp, wl, rois)
