"""Speaker–listener semantic alignment between consecutive turns (formerly ``features.alignment``).

Semantic alignment (similarity of what the two speakers say) is not clock alignment
(:mod:`hyperalign.align`).

Definitions
-----------
Previous turn
    For utterance ``u`` by speaker ``s``, its *previous turn* is the most recent
    non-backchannel utterance by the other speaker that **started before** ``u``
    (:func:`hyperalign.align.turns.previous_turn_utterance`). For an utterance that takes
    the floor this is the last utterance of the partner's preceding turn; for a backchannel
    it is the partner utterance being backchannelled. Backchannels are never targets.
    An utterance whose partner has not spoken yet has no previous turn: its alignment is
    NaN, and it is counted (``df.attrs['report']``) and, when an exclusion log is given,
    recorded there.
``sem_align``
    Cosine similarity between the embedding of ``u`` and of its previous turn.
``sem_align_k{k}``
    Mean cosine similarity between ``u`` and each of the ``k`` most recent non-backchannel
    utterances by the other speaker that started before ``u`` (fewer when fewer exist;
    ``sem_align_k1 == sem_align``).

Embeddings are sentence-transformers utterance embeddings (``layer=None``), or the
word-pooled utterance embeddings of one hidden layer of a ``transformers`` model
(``layer=int``), or any array / :class:`~hyperalign.features.llm.LayerEmbeddings` passed in.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from ..align.turns import previous_turns
from ..utils import ExclusionLog, _validate_type, fill_doc, logger, verbose
from .semantic import DEFAULT_SENTENCE_MODEL, embed_utterances

__all__ = ["compute_semantic_alignment", "compute_alignment", "previous_turns"]

STAGE = "features.alignment"


def _transcript_of(obj):
    from ..dyad import Dyad
    from ..transcript import Transcript

    if isinstance(obj, Dyad):
        if obj.transcript is None:
            raise ValueError(
                f"dyad {obj.dyad_id!r} has no transcript; attach one with dyad.set_transcript"
            )
        return obj.transcript
    if isinstance(obj, Transcript):
        return obj
    _validate_type(obj, (Transcript, Dyad), "transcript", "a Transcript or a Dyad")


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 0, x / norm, np.nan)


def _utterance_embeddings(
    tr, embeddings, model, layer, *, context_words, pool, batch_size, device, cache
):
    from .llm import LayerEmbeddings, compute_layer_embeddings

    utt = tr.utterances
    n = len(utt)
    if embeddings is None:
        if layer is None:
            emb = embed_utterances(
                utt["text"].tolist(),
                model=model,
                batch_size=batch_size,
                device=device,
                cache=cache,
            )
            return emb, {"model": str(model), "layer": None, "kind": "sentence-transformers"}
        le = compute_layer_embeddings(
            tr,
            model=model,
            layers=[layer],
            context_words=context_words,
            batch_size=batch_size,
            device=device,
            cache=cache,
        )
        embeddings = le
    if isinstance(embeddings, LayerEmbeddings):
        if layer is None:
            if embeddings.n_layers != 1:
                raise ValueError(
                    f"embeddings has {embeddings.n_layers} layers {embeddings.layer_names}; "
                    "pass layer= to choose one"
                )
            layer_sel = 0
        else:
            layer_sel = layer if layer in embeddings.layer_names else None
            if layer_sel is None and isinstance(layer, int | np.integer):
                # an int names a hidden state (0 = embeddings), never a position
                name = "embeddings" if int(layer) == 0 else f"layer_{int(layer)}"
                layer_sel = name if name in embeddings.layer_names else None
            if layer_sel is None:
                raise ValueError(
                    f"layer {layer!r} is not in these embeddings; they hold "
                    f"{embeddings.layer_names} (pass one of these names or its hidden-state "
                    "number)"
                )
        ue = embeddings.utterance_embeddings(pool=pool, layer=layer_sel)
        ids = embeddings.utterance_ids
        full = np.full((n, ue.shape[1]), np.nan, np.float32)
        pos = pd.Series(np.arange(n), index=utt["utterance_id"].to_numpy())
        missing = np.setdiff1d(ids, utt["utterance_id"].to_numpy())
        if len(missing):
            raise ValueError(
                f"embeddings: utterance ids {missing[:10].tolist()} are not in the transcript; "
                "were the embeddings computed on another transcript?"
            )
        full[pos.loc[ids].to_numpy()] = ue
        prov = {
            "model": embeddings.model,
            "layer": embeddings.layer_names[embeddings._layer_index(layer_sel)],
            "kind": "layer-embeddings",
            "word_pool": pool,
            "params": embeddings.params,
        }
        return full, prov
    arr = np.asarray(embeddings, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] != n:
        raise ValueError(
            f"embeddings must be (n_utterances={n}, dim) in utterance_id order; got shape "
            f"{arr.shape}"
        )
    return arr, {"model": "user-supplied", "layer": layer, "kind": "array"}


@fill_doc
@verbose
def compute_semantic_alignment(
    transcript,
    embeddings=None,
    *,
    model: str | os.PathLike = DEFAULT_SENTENCE_MODEL,
    layer: int | str | None = None,
    k: int = 3,
    context_words: int = 32,
    pool: str = "mean",
    batch_size: int = 64,
    device: str | None = None,
    cache=None,
    exclusions: ExclusionLog | None = None,
    verbose=None,
) -> pd.DataFrame:
    """Semantic alignment of every utterance with the partner's previous turn(s).

    Parameters
    ----------
    transcript : Transcript | Dyad
        The conversation.
    embeddings : array (n_utterances, dim) | LayerEmbeddings | None
        Precomputed utterance embeddings (rows in ``utterance_id`` order) or word
        embeddings to pool; ``None`` computes them with ``model``.
    model : str | path-like
        Sentence-transformers model (``layer=None``) or ``transformers`` model (``layer``
        given).
    layer : int | str | None
        Hidden layer whose word vectors, mean-pooled over each utterance, embed it.
    k : int
        Window (number of partner utterances) for ``sem_align_k{k}``.
    context_words, pool, batch_size, device, cache
        Passed to the embedding functions (``pool``: how words make an utterance).
    exclusions : ExclusionLog | None
        Where utterances without a previous turn are recorded.
    %(verbose)s

    Returns
    -------
    pandas.DataFrame
        One row per utterance: ``utterance_id, speaker, prev_utterance_id`` (nullable),
        ``sem_align``, ``sem_align_k{k}``, ``n_prev_k`` (partner utterances in the window).
        ``df.attrs['provenance']`` names the model, layer and parameters;
        ``df.attrs['report']`` counts utterances without a previous turn.
    """
    if int(k) < 1:
        raise ValueError(f"k must be an int >= 1; got {k!r}")
    k = int(k)
    tr = _transcript_of(transcript)
    utt = tr.utterances
    n = len(utt)
    if n == 0:
        raise ValueError("transcript has no utterances; nothing to align")
    emb, prov = _utterance_embeddings(
        tr,
        embeddings,
        model,
        layer,
        context_words=context_words,
        pool=pool,
        batch_size=batch_size,
        device=device,
        cache=cache,
    )
    unit = _unit(emb)
    window = previous_turns(utt, k)  # the one previous-turn rule (hyperalign.align.turns)
    prev = window[:, 0]
    has = prev >= 0
    sem = np.full(n, np.nan)
    sem[has] = np.einsum("ij,ij->i", unit[has], unit[prev[has]])
    valid = window >= 0
    sims = np.full((n, k), np.nan)
    r, c = np.nonzero(valid)
    sims[r, c] = np.einsum("ij,ij->i", unit[r], unit[window[r, c]])
    n_prev = valid.sum(1)
    with np.errstate(invalid="ignore"):
        semk = np.where(n_prev > 0, np.nansum(sims, 1) / np.maximum(n_prev, 1), np.nan)
    ids = utt["utterance_id"].to_numpy()
    out = pd.DataFrame(
        {
            "utterance_id": ids,
            "speaker": utt["speaker"].to_numpy(),
            "prev_utterance_id": pd.array(np.where(has, ids[np.maximum(prev, 0)], 0), "Int64"),
            "sem_align": sem,
            f"sem_align_k{k}": semk,
            "n_prev_k": n_prev,
        }
    )
    out.loc[~has, "prev_utterance_id"] = pd.NA
    n_none = int((~has).sum())
    n_nan_emb = int((has & np.isnan(sem)).sum())
    if n_none:
        item = ",".join(map(str, ids[~has][:20]))
        reason = "no previous turn: the other speaker had not spoken yet (sem_align NaN)"
        if exclusions is not None:
            exclusions.add(STAGE, "utterance", item, reason, n_none)
        else:
            logger.info("compute_semantic_alignment: %d utterance(s) with %s", n_none, reason)
    if n_nan_emb:
        logger.warning(
            "compute_semantic_alignment: %d utterance(s) have no embedding (NaN)", n_nan_emb
        )
    out.attrs["provenance"] = {
        **{key: v for key, v in prov.items() if key != "params"},
        "k": k,
        "pool": pool,
        "context_words": context_words if prov["kind"] == "layer-embeddings" else None,
        "previous_turn": "most recent non-backchannel utterance by the other speaker "
        "that started before this one",
        **({"layer_params": prov["params"]} if "params" in prov else {}),
    }
    out.attrs["report"] = {
        "n_utterances": n,
        "n_no_previous_turn": n_none,
        "n_nan_embedding": n_nan_emb,
    }
    return out


def compute_alignment(dyad, **kwargs) -> pd.DataFrame:
    """Semantic alignment for a :class:`~hyperalign.Dyad` (exclusions go to its log).

    Parameters
    ----------
    dyad : Dyad
        With a transcript whose speakers are the participant ids.
    **kwargs
        Passed to :func:`compute_semantic_alignment`.

    Returns
    -------
    pandas.DataFrame
        :func:`compute_semantic_alignment`'s table with ``dyad`` and ``listener`` columns.
    """
    from ..dyad import Dyad

    _validate_type(dyad, Dyad, "dyad", "a Dyad")
    kwargs.setdefault("exclusions", dyad.exclusions)
    df = compute_semantic_alignment(dyad, **kwargs)
    attrs = dict(df.attrs)
    df.insert(0, "dyad", dyad.dyad_id)
    df.insert(3, "listener", [_listener(dyad, s) for s in df["speaker"]])
    df.attrs.update(attrs)
    return df


def _listener(dyad, speaker: str) -> str:
    try:
        return dyad.other(speaker).id
    except (KeyError, ValueError) as err:
        raise ValueError(
            f"transcript speaker {speaker!r} is not a participant of dyad {dyad.dyad_id!r} "
            f"(participants: {dyad.ids}); rename the speakers to participant ids"
        ) from err
