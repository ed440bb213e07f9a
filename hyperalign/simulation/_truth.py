"""The ground truth of simulated dyads and the deterministic word vectors."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["GroundTruth", "StudyTruth", "word_vector"]


@dataclass
class GroundTruth:
    """Everything planted in one simulated dyad.

    Parameters
    ----------
    dyad_id : str
        The dyad's id.
    utterances : pandas.DataFrame
        One row per ``utterance_id`` of the dyad transcript: ``utterance_id, speaker,
        listener, speaker_role, kind ('turn'|'backchannel'), backchannel,
        transcript_backchannel, topic, topic_switch, sentence_id, text, onset, offset,
        n_words, semantic_alignment`` (cosine of the MiniLM embeddings of this turn and the
        previous turn; NaN for the first turn and for backchannels),
        ``acoustic_similarity`` (``-mean_k |z_k(u) - z_k(u-1)|`` over F0 in semitones,
        intensity in dB and rate in words/s, each z-scored over the dyad's turns),
        ``f0_mean`` (Hz, geometric mean of the contour), ``intensity_db`` (dB re 2e-5 of the
        audio RMS over the utterance), ``rate_wps`` (words / (offset - onset)),
        ``sem_z``, ``acsim_z`` and ``coupling_amplitude``
        (``max(0, base + semantic_coupling * sem_z + acoustic_coupling * acsim_z)``).
    words : pandas.DataFrame
        The transcript's word table with ``utterance_id`` and ``n_syllables`` (the word
        response latencies are in ``effects``; word vectors come from :func:`word_vector`).
    effects : pandas.DataFrame
        One row per planted effect: ``dyad, effect, size, fmin, fmax, band, channels, lag_s,
        role, description``.
    params : dict
        The arguments of :func:`simulate_conversation`.
    lag : float
        Listener lag of the shared component (s).
    channels : dict
        Channel names of each planted effect (``'coupling'``, ``'entrainment'``, ``'word'``).
    word_weights : dict
        Participant id -> ``(n_word_channels, word_dim)`` matrix ``W`` of the word response.
    layers : dict | None
        When ``layer_hierarchy`` or ``model_coupling`` was given: ``model``, ``source``
        (``'derived'`` | ``'given'``), ``layer_names``, ``layer_data`` (``(n_words,
        n_layers, d)`` float32 in the order of :attr:`words`, or ``None`` when the spaces
        differ in dimension), ``spaces`` (name -> ``(n_words, d)``), ``rois``, ``weights``
        (``(kind, row, participant)`` -> unit projections ``(n_roi_channels, d)`` or channel
        gains) and ``coupling_vectors``. ``None`` otherwise.
    """

    dyad_id: str
    utterances: pd.DataFrame
    words: pd.DataFrame
    effects: pd.DataFrame
    params: dict
    lag: float
    channels: dict
    word_weights: dict = field(default_factory=dict)
    layers: dict | None = None

    def __repr__(self) -> str:
        n_t = int((self.utterances["kind"] == "turn").sum())
        return (
            f"<GroundTruth {self.dyad_id!r} | {len(self.utterances)} utterances ({n_t} turns), "
            f"{len(self.effects)} planted effects, lag {self.lag:.3f} s>"
        )


@dataclass
class StudyTruth:
    """Ground truth of a simulated study: one :class:`GroundTruth` per dyad.

    Parameters
    ----------
    truths : list of GroundTruth
        One entry per dyad, in the order of the study.
    params : dict
        The arguments of :func:`simulate_study`.
    """

    truths: list[GroundTruth]
    params: dict

    @property
    def utterances(self) -> pd.DataFrame:
        """All dyads' utterance truth, with a leading ``dyad`` column."""
        return pd.concat(
            [t.utterances.assign(dyad=t.dyad_id) for t in self.truths], ignore_index=True
        )[["dyad", *self.truths[0].utterances.columns]]

    @property
    def effects(self) -> pd.DataFrame:
        """All dyads' planted effects."""
        return pd.concat([t.effects for t in self.truths], ignore_index=True)

    def __getitem__(self, key: int | str) -> GroundTruth:
        if isinstance(key, int | np.integer):
            return self.truths[int(key)]
        for t in self.truths:
            if t.dyad_id == key:
                return t
        raise KeyError(f"no dyad {key!r}; dyads are {[t.dyad_id for t in self.truths]}")

    def __len__(self) -> int:
        return len(self.truths)

    def __repr__(self) -> str:
        return f"<StudyTruth | {len(self.truths)} dyads>"


def word_vector(word: str, dim: int = 16) -> np.ndarray:
    """Deterministic random vector of a word type (hash-seeded, ``N(0, 1/dim)`` entries).

    The token is lower-cased and stripped of punctuation, so ``'Pasta,'`` and ``'pasta'``
    share a vector. Used by the planted word-locked response (linear in this vector).

    Parameters
    ----------
    word : str
        The word token.
    dim : int
        Length of the vector.

    Returns
    -------
    vec : ndarray, shape (dim,)
        The word type's vector (a copy; the same on every call and machine).
    """
    from ..transcript import _normalize_token

    return _token_vector(_normalize_token(word), int(dim)).copy()


@functools.lru_cache(maxsize=20000)
def _token_vector(tok: str, dim: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.md5(tok.encode("utf-8")).digest()[:8], "little")
    return np.random.default_rng(seed).standard_normal(dim) / np.sqrt(dim)
