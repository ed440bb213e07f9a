"""Control embeddings for layer sweeps: static, random and shuffled word vectors.

Each returns a :class:`~hyperalign.features.LayerEmbeddings` with the same word table as the
contextual run, so controls go through the same encoding sweep as the model's layers.
"""

from __future__ import annotations

import os
import re

import numpy as np

from ..utils import _validate_type, check_random_state, fill_doc, verbose
from .contextual import _token_ranges, _word_table
from .layers import _POOLS, LayerEmbeddings
from .models import DEFAULT_LAYER_MODEL, load_language_model

__all__ = ["compute_static_embeddings", "random_word_embeddings", "shuffle_word_embeddings"]

_PUNCT = re.compile(r"^[^\w'-]+|[^\w'-]+$")


@fill_doc
@verbose
def compute_static_embeddings(
    transcript,
    model: str | os.PathLike = DEFAULT_LAYER_MODEL,
    *,
    pool: str = "mean",
    device: str | None = None,
    causal: bool | None = None,
    cache=None,
    verbose=None,
) -> LayerEmbeddings:
    """Static (context-free) control: the model's input-embedding rows of each word.

    The transcript's words are tokenized as running text (so sub-word splits match the
    contextual run) and the input-embedding rows of each word's sub-tokens are pooled.

    Parameters
    ----------
    transcript : Transcript | pandas.DataFrame
        The conversation (a DataFrame needs a ``word`` column).
    model : str | path-like
        As in :func:`compute_layer_embeddings`.
    pool : ``'mean'`` | ``'first'`` | ``'last'``
        How sub-word tokens make a word.
    %(device)s
    causal : bool | None
        Force the model kind; ``None`` reads the config.
    cache : None | False | path
        Where a GGUF model's dequantised copy lives (see :func:`load_language_model`).
    %(verbose)s

    Returns
    -------
    embeddings : LayerEmbeddings
        One layer named ``'static'``.

    See Also
    --------
    compute_layer_embeddings, random_word_embeddings, shuffle_word_embeddings
    """
    if pool not in _POOLS:
        raise ValueError(f"pool must be one of {list(_POOLS)}; got {pool!r}")
    wt = _word_table(transcript)
    words = wt["word"].astype(str).str.strip().tolist()
    tok, mdl, info = load_language_model(model, device=device, causal=causal, cache=cache)
    spans, text = [], ""
    for w in words:
        start = len(text) + (1 if text else 0)
        text += (" " if text else "") + w
        spans.append((start, len(text)))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "sequence longer than the model's maximum": no model
        enc = tok(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    offs = np.asarray(enc["offset_mapping"], int).reshape(-1, 2)
    ids = np.asarray(enc["input_ids"], int)
    rng = _token_ranges(offs, np.asarray(spans).reshape(-1, 2))
    weight = mdl.get_input_embeddings().weight.detach().float().cpu().numpy()
    out = np.full((len(words), 1, weight.shape[1]), np.nan, np.float32)
    n_tok = np.zeros(len(words), int)
    for k, (t0, t1) in enumerate(rng):
        if t0 < 0:
            continue
        n_tok[k] = t1 - t0
        sel = ids[t0:t1] if pool == "mean" else ids[[t0 if pool == "first" else t1 - 1]]
        out[k, 0] = weight[sel].mean(0)
    wt["n_tokens"] = n_tok
    params = {
        "control": "static",
        "model": info["name"],
        "model_path": info["path"],
        "pool": pool,
        "n_words_without_tokens": int((n_tok == 0).sum()),
    }
    return LayerEmbeddings(wt, out, ["static"], None, None, info["name"], params)


def _word_type(w: str) -> str:
    return _PUNCT.sub("", str(w)).lower()


@fill_doc
def random_word_embeddings(
    transcript, dim: int = 384, random_state=0, *, n_layers: int = 1
) -> LayerEmbeddings:
    """Random control: one seeded standard-normal vector per word type.

    Word types are the words lower-cased with edge punctuation stripped; each type gets the
    same vector everywhere it occurs (and in every layer). Vectors are drawn in sorted type
    order, so the same vocabulary and seed give the same vectors.

    Parameters
    ----------
    transcript : Transcript | pandas.DataFrame
        The conversation (a DataFrame needs a ``word`` column).
    dim : int
        Dimension of the vectors.
    %(random_state)s
    n_layers : int
        Copies of the vectors along the layer axis (``'random'`` or ``'random_<i>'``).

    Returns
    -------
    embeddings : LayerEmbeddings
        ``data`` (n_words, n_layers, dim).

    See Also
    --------
    compute_static_embeddings, shuffle_word_embeddings
    """
    if int(dim) < 1 or int(n_layers) < 1:
        raise ValueError(f"dim and n_layers must be >= 1; got dim={dim!r}, n_layers={n_layers!r}")
    wt = _word_table(transcript)
    types = wt["word"].map(_word_type)
    vocab, inv = np.unique(types.to_numpy(dtype=str), return_inverse=True)
    rng = check_random_state(random_state)
    vecs = rng.standard_normal((len(vocab), int(dim))).astype(np.float32)
    data = np.repeat(vecs[inv][:, None, :], int(n_layers), axis=1)
    names = ["random"] if n_layers == 1 else [f"random_{i}" for i in range(n_layers)]
    params = {"control": "random", "dim": int(dim), "random_state": repr(random_state)}
    return LayerEmbeddings(wt, data, names, None, None, "random", params)


@fill_doc
def shuffle_word_embeddings(embeddings: LayerEmbeddings, random_state=0) -> LayerEmbeddings:
    """Shuffled control: permute the word → vector assignment within the transcript.

    The same seeded permutation is applied to every layer, so each word receives the
    (whole, all-layer) vector of another word of the same transcript; the word table,
    surprisal and entropy stay in place.

    Parameters
    ----------
    embeddings : LayerEmbeddings
        The vectors to shuffle.
    %(random_state)s

    Returns
    -------
    shuffled : LayerEmbeddings
        Same shape and word table, ``params['control'] = 'shuffled'``.

    See Also
    --------
    compute_static_embeddings, random_word_embeddings
    """
    _validate_type(embeddings, LayerEmbeddings, "embeddings", "a LayerEmbeddings")
    perm = check_random_state(random_state).permutation(embeddings.n_words)
    params = dict(embeddings.params)
    params.update(control="shuffled", random_state=repr(random_state))
    return LayerEmbeddings(
        embeddings.words.copy(),
        embeddings.data[perm],
        list(embeddings.layer_names),
        None if embeddings.surprisal is None else embeddings.surprisal.copy(),
        None if embeddings.entropy is None else embeddings.entropy.copy(),
        embeddings.model,
        params,
    )
