"""One tidy predictor table per dyad: one row per utterance, every predictor, its provenance.

Columns (see ``docs/design.md``, Features):

- identity: ``dyad, utterance_id, speaker, listener, onset, offset, duration, n_words,
  turn, text, backchannel, overlap, prev_utterance_id``;
- semantic alignment with the partner's previous turn: ``sem_align``, ``sem_align_k{k}``
  (sentence-transformers model ``semantic_model``);
- per hidden layer (``layers=``): ``sem_align_<layer>``, ``sem_align_k{k}_<layer>`` with
  ``<layer>`` = ``embeddings`` or ``layer_<i>``, and for causal models ``surprisal_mean``,
  ``surprisal_sum`` and ``entropy_mean`` (bits, over the utterance's words);
- control alignments (``controls=``): ``sem_align_static``, ``sem_align_random``,
  ``sem_align_shuffled``;
- acoustic features of the speaker's own microphone: ``ac_*`` (``ac_env_mean``,
  ``ac_f0_mean``, ``ac_intensity_db``, ``ac_rate_wps`` …);
- acoustic similarity with the previous turn: ``acsim_*`` and the composite ``acsim``;
- ``provenance``: a JSON string (the same in every row) also in ``df.attrs['provenance']``:
  model names and paths, layers, every parameter, package versions, and counts of
  utterances left without a value.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd

from ..utils import _validate_type, fill_doc, logger, verbose
from ..utils._validation import keyword_only_after
from .semantic import DEFAULT_SENTENCE_MODEL, resolve_model
from .semantic_alignment import _listener, compute_semantic_alignment

__all__ = ["compute_predictors"]

BASE_COLUMNS = [
    "dyad", "utterance_id", "speaker", "listener", "onset", "offset", "duration", "n_words",
    "turn", "text", "backchannel", "overlap", "prev_utterance_id",
]  # fmt: skip
_ID_COLUMNS = {
    "utterance_id", "speaker", "listener", "onset", "offset", "duration", "n_words", "turn",
    "text", "backchannel", "overlap", "dyad", "word_index", "word",
}  # fmt: skip


def _check_audio(dyad, tol: float = 0.05) -> None:
    """Every speaking participant has audio that covers their utterances."""
    utt = dyad.transcript.utterances
    problems = []
    for pid, grp in utt.groupby("speaker", sort=False):
        try:
            part = dyad[pid]
        except KeyError:
            problems.append(
                f"transcript speaker {pid!r} is not a participant (ids {dyad.ids}); rename the "
                "speakers to participant ids"
            )
            continue
        if part.audio is None:
            problems.append(
                f"participant {pid!r} speaks in the transcript but has no audio; attach the "
                "microphone (Participant(audio=, audio_sfreq=)) or pass acoustic=False"
            )
            continue
        dur = len(part.audio) / part.audio_sfreq
        end = float(grp["offset"].max())
        if end > dur + tol:
            first = grp.loc[grp["offset"] > dur + tol, "utterance_id"].iloc[0]
            problems.append(
                f"participant {pid!r}: the transcript runs to {end:.3f} s (first utterance "
                f"past the audio: {first}) but the audio lasts {dur:.3f} s; check the "
                "audio/transcript clock alignment or crop the transcript"
            )
    if problems:
        raise ValueError(
            f"dyad {dyad.dyad_id!r}: audio and transcript do not match:\n  - "
            + "\n  - ".join(problems)
        )


def _acoustic_columns(dyad, acoustic_kws, similarity_kws, previous, prov):
    from .acoustic import compute_acoustic_features

    _check_audio(dyad)
    ac = compute_acoustic_features(dyad, level="utterance", **(acoustic_kws or {}))
    if "utterance_id" not in ac.columns:
        raise ValueError("compute_acoustic_features returned no utterance_id column")
    keep = [c for c in ac.columns if c not in _ID_COLUMNS]
    ren = {c: c if c.startswith("ac_") else f"ac_{c}" for c in keep}
    ac_tab = ac[["utterance_id", *keep]].rename(columns=ren)
    prov["acoustic"] = {
        "function": "hyperalign.features.acoustic.compute_acoustic_features",
        "params": {k: v for k, v in (acoustic_kws or {}).items()},
        "report": ac.attrs.get("report"),
    }
    from .prosody_alignment import compute_acoustic_similarity

    sim = compute_acoustic_similarity(
        ac, dyad.transcript.utterances, previous, **(similarity_kws or {})
    )
    if "utterance_id" not in sim.columns:
        raise ValueError("compute_acoustic_similarity returned no utterance_id column")
    skip = {"prev_utterance_id", "previous_id"}
    cols = [c for c in sim.columns if c not in _ID_COLUMNS and c not in skip]
    ren = {c: c if c.startswith("acsim") else f"acsim_{c}" for c in cols}
    sim_tab = sim[["utterance_id", *cols]].rename(columns=ren)
    prov["acoustic_similarity"] = {
        "function": f"{compute_acoustic_similarity.__module__}.compute_acoustic_similarity",
        "params": dict(similarity_kws or {}),
        "report": sim.attrs.get("report"),
    }
    return ac_tab, sim_tab


def _base_table(dyad):
    """Check the dyad and start the table from its utterances: (table, transcript, utt)."""
    from ..dyad import Dyad

    _validate_type(dyad, Dyad, "dyad", "a Dyad")
    if dyad.transcript is None:
        raise ValueError(
            f"dyad {dyad.dyad_id!r} has no transcript; attach one with dyad.set_transcript"
        )
    tr = dyad.transcript
    utt = tr.utterances
    if not len(utt):
        raise ValueError(f"dyad {dyad.dyad_id!r}: the transcript has no utterances")
    tab = utt.copy()
    tab.insert(0, "dyad", dyad.dyad_id)
    tab["listener"] = [_listener(dyad, s) for s in tab["speaker"]]
    tab["duration"] = tab["offset"] - tab["onset"]
    return tab, tr, utt


def _semantic_columns(tab, dyad, semantic_model, *, k, batch_size, device, cache, prov):
    """``prev_utterance_id``, ``sem_align`` and ``sem_align_k{k}`` (in place)."""
    sa = compute_semantic_alignment(
        dyad.transcript,
        model=semantic_model,
        k=k,
        batch_size=batch_size,
        device=device,
        cache=cache,
        exclusions=dyad.exclusions,
    )
    tab["prev_utterance_id"] = sa["prev_utterance_id"].to_numpy()
    tab["sem_align"] = sa["sem_align"].to_numpy()
    tab[f"sem_align_k{k}"] = sa[f"sem_align_k{k}"].to_numpy()
    prov["semantic"] = {
        **sa.attrs["provenance"],
        "model_path": resolve_model(semantic_model)["path"],
        "report": sa.attrs["report"],
    }


def _layer_columns(
    tab, tr, utt, lm, *, layers, k, context_words, batch_size, device, cache, layer_kws, prov
):
    """Layer-wise ``sem_align_<layer>`` columns and, for causal models, surprisal (in place)."""
    from .llm import compute_layer_embeddings

    le = compute_layer_embeddings(
        tr,
        model=lm,
        layers=layers,
        context_words=context_words,
        batch_size=batch_size,
        device=device,
        cache=cache,
        **(layer_kws or {}),
    )
    for name in le.layer_names:
        la = compute_semantic_alignment(tr, embeddings=le, layer=name, k=k)
        tab[f"sem_align_{name}"] = la["sem_align"].to_numpy()
        tab[f"sem_align_k{k}_{name}"] = la[f"sem_align_k{k}"].to_numpy()
    if le.surprisal is not None:
        _surprisal_columns(tab, le, utt)
    prov["layers"] = {"model": str(lm), "layer_names": le.layer_names, **le.params}


def _surprisal_columns(tab, le, utt) -> None:
    """``surprisal_mean``, ``surprisal_sum`` and ``entropy_mean`` per utterance (in place)."""
    w = le.words
    pos = pd.Series(np.arange(len(utt)), index=utt["utterance_id"].to_numpy())
    ui = pos.loc[w["utterance_id"].to_numpy()].to_numpy()
    s = le.surprisal
    ok = np.isfinite(s)
    ssum = np.bincount(ui[ok], s[ok], minlength=len(utt))
    scnt = np.bincount(ui[ok], minlength=len(utt))
    e = le.entropy
    eok = np.isfinite(e)
    esum = np.bincount(ui[eok], e[eok], minlength=len(utt))
    ecnt = np.bincount(ui[eok], minlength=len(utt))
    with np.errstate(invalid="ignore", divide="ignore"):
        tab["surprisal_mean"] = np.where(scnt > 0, ssum / scnt, np.nan)
        tab["surprisal_sum"] = np.where(scnt > 0, ssum, np.nan)
        tab["entropy_mean"] = np.where(ecnt > 0, esum / ecnt, np.nan)


def _check_controls(controls) -> None:
    bad = [c for c in controls if c not in ("static", "random", "shuffled")]
    if bad or isinstance(controls, str):
        raise ValueError(
            f"controls must be a sequence of 'static', 'random', 'shuffled'; got {controls!r}"
        )


def _control_columns(tab, tr, lm, controls, *, k, device, random_state, prov) -> None:
    """``sem_align_<control>`` columns of the static, random and shuffled controls (in place)."""
    from .llm import (
        compute_static_embeddings,
        random_word_embeddings,
        shuffle_word_embeddings,
    )

    static = None
    if "static" in controls or "shuffled" in controls:
        # cache= of compute_static_embeddings is the *model* copy's folder: None = the
        # machine's (shared with the layer model: loaded once per process, dequantised
        # once per machine), not this call's feature cache
        static = compute_static_embeddings(tr, lm, device=device, cache=None)
    ctrl = {
        "static": static,
        "random": random_word_embeddings(tr, dim=384, random_state=random_state)
        if "random" in controls
        else None,
        "shuffled": shuffle_word_embeddings(static, random_state=random_state)
        if "shuffled" in controls
        else None,
    }
    for name in controls:
        ca = compute_semantic_alignment(tr, embeddings=ctrl[name], k=k)
        tab[f"sem_align_{name}"] = ca["sem_align"].to_numpy()
    prov["controls"] = {
        "names": list(controls),
        "model": str(lm),
        "random_state": repr(random_state),
        "random_dim": 384,
    }


def _assemble(tab, prov, dyad) -> pd.DataFrame:
    """Sort, order the columns, count missing values and attach the provenance."""
    tab = tab.sort_values("utterance_id", kind="stable").reset_index(drop=True)
    first = [c for c in BASE_COLUMNS if c in tab.columns]
    tab = tab[first + [c for c in tab.columns if c not in first]]
    value_cols = [c for c in tab.columns if c.startswith(("sem_", "ac_", "acsim", "surpr"))]
    prov["n_missing"] = {c: int(tab[c].isna().sum()) for c in value_cols}
    text = json.dumps(prov, default=str, sort_keys=True)
    tab = tab.copy()  # consolidate the many per-layer columns into one block
    tab["provenance"] = text
    tab.attrs["provenance"] = json.loads(text)
    logger.info(
        "compute_predictors: dyad %s, %d utterances, %d predictor columns",
        dyad.dyad_id,
        len(tab),
        len(value_cols),
    )
    return tab


@keyword_only_after(2)
@fill_doc
@verbose
def compute_predictors(
    dyad,
    semantic_model: str | os.PathLike = DEFAULT_SENTENCE_MODEL,
    *,
    layers=None,
    acoustic: bool = True,
    cache=None,
    k: int = 3,
    layer_model: str | os.PathLike | None = None,
    controls: tuple[str, ...] | list[str] = (),
    random_state=0,
    context_words: int = 32,
    batch_size: int = 64,
    device: str | None = None,
    acoustic_kws: dict | None = None,
    similarity_kws: dict | None = None,
    layer_kws: dict | None = None,
    verbose=None,
) -> pd.DataFrame:
    """Build the predictor table of one dyad (one row per utterance).

    Parameters
    ----------
    dyad : Dyad
        With a transcript (speakers = participant ids) and, for ``acoustic=True``, audio.
    semantic_model : str | path-like
        Sentence-transformers model for ``sem_align`` / ``sem_align_k{k}``.
    layers : None | ``'all'`` | int | list of int
        Hidden layers of ``layer_model`` for layer-wise alignment columns (``None``: none).
    acoustic : bool
        Add ``ac_*`` (``compute_acoustic_features(dyad, level='utterance')``) and
        ``acsim_*`` (``compute_acoustic_similarity``, with the same previous-turn mapping
        as ``sem_align``) columns.
    cache : None | False | path | FeatureCache
        Disk cache for the embeddings.
    k : int
        Window of partner utterances for ``sem_align_k{k}``.
    layer_model : str | path-like | None
        ``transformers`` model for ``layers`` (default: ``semantic_model``).
    controls : sequence of ``'static'`` | ``'random'`` | ``'shuffled'``
        Control alignments (columns ``sem_align_<control>``): utterances as the mean of
        their words' static input embeddings of ``layer_model`` (``'static'``), of seeded
        random vectors per word type (``'random'``, a lexical-repetition control), or of
        the static vectors with the word → vector assignment permuted within the
        transcript (``'shuffled'``).
    random_state : int | Generator | None
        Seed of the random and shuffled controls.
    context_words : int
        Words of preceding context for the layer embeddings.
    batch_size : int
        Batch size of the embedding models.
    %(device)s
    acoustic_kws : dict | None
        Extra arguments for ``compute_acoustic_features``.
    similarity_kws : dict | None
        Extra arguments for ``compute_acoustic_similarity``.
    layer_kws : dict | None
        Extra arguments for :func:`~hyperalign.features.compute_layer_embeddings`
        (e.g. ``stride=16`` to share one forward pass between 16 words).
    %(verbose)s

    Returns
    -------
    df : pandas.DataFrame
        Sorted by ``utterance_id``; ``df.attrs['provenance']`` (dict) and the
        ``provenance`` column (JSON) describe every predictor.

    See Also
    --------
    hyperalign.features.compute_semantic_alignment : The ``sem_align`` columns.
    hyperalign.features.compute_layer_embeddings : The layer-wise columns.
    hyperalign.features.compute_acoustic_features : The ``ac_*`` columns.

    Examples
    --------
    Semantic alignment with the shipped MiniLM model (offline; no audio, so no acoustic
    columns):

    >>> from hyperalign import compute_predictors, simulate_conversation
    >>> dyad, _ = simulate_conversation(duration=30, n_channels=4, audio=False, random_state=0)
    >>> df = compute_predictors(dyad, acoustic=False, cache=False)
    >>> df[["utterance_id", "sem_align"]].round(2).head(3)
       utterance_id  sem_align
    0             0        NaN
    1             1       0.24
    2             2       0.01
    """
    from .. import __version__

    tab, tr, utt = _base_table(dyad)
    prov: dict = {"dyad": dyad.dyad_id, "hyperalign": __version__}
    # ---- semantic alignment (sentence embeddings)
    _semantic_columns(
        tab,
        dyad,
        semantic_model,
        k=k,
        batch_size=batch_size,
        device=device,
        cache=cache,
        prov=prov,
    )
    # ---- layer-wise alignment and surprisal
    if layers is not None:
        lm = semantic_model if layer_model is None else layer_model
        _layer_columns(
            tab,
            tr,
            utt,
            lm,
            layers=layers,
            k=k,
            context_words=context_words,
            batch_size=batch_size,
            device=device,
            cache=cache,
            layer_kws=layer_kws,
            prov=prov,
        )
    # ---- control embeddings
    _check_controls(controls)
    if controls:
        lm = semantic_model if layer_model is None else layer_model
        _control_columns(
            tab, tr, lm, controls, k=k, device=device, random_state=random_state, prov=prov
        )
    # ---- acoustics
    if acoustic:
        prev_map = pd.Series(
            tab["prev_utterance_id"].astype("Float64").fillna(-1).astype(int).to_numpy(),
            index=tab["utterance_id"].to_numpy(),
        )
        ac_tab, sim_tab = _acoustic_columns(dyad, acoustic_kws, similarity_kws, prev_map, prov)
        tab = tab.merge(ac_tab, on="utterance_id", how="left", validate="one_to_one")
        if sim_tab is not None:
            tab = tab.merge(sim_tab, on="utterance_id", how="left", validate="one_to_one")
    else:
        prov["acoustic"] = "not computed (acoustic=False)"
    return _assemble(tab, prov, dyad)
