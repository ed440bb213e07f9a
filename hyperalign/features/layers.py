"""The per-word, per-layer embeddings container shared by text and speech models.

:class:`LayerEmbeddings` holds one vector per word (or utterance) and per layer of a model,
with the word table it belongs to. Text models
(:func:`~hyperalign.features.compute_layer_embeddings`), speech models
(:func:`~hyperalign.features.compute_speech_layer_embeddings`) and the controls all return
it, so the encoding sweep treats every layer alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["LayerEmbeddings"]

_POOLS = ("mean", "first", "last")


def _group_sums(groups: np.ndarray, data: np.ndarray, n_groups: int) -> np.ndarray:
    """Float64 sums of the rows of ``data`` per group: ``np.add.at(sums, groups, data)``.

    The same additions in the same order (each group's rows in order of appearance, from 0),
    so the same bits, with one vectorised step per position within a group instead of one
    unbuffered step per row.
    """
    sums = np.zeros((n_groups, *data.shape[1:]), np.float64)
    if not len(groups):
        return sums
    order = np.argsort(groups, kind="stable")
    g_sorted = groups[order]
    first = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
    run = np.repeat(first, np.diff(np.r_[first, len(g_sorted)]))
    pos = np.empty(len(groups), np.int64)
    pos[order] = np.arange(len(groups)) - run  # rank of each row within its group
    for p in range(int(pos.max()) + 1):
        rows = np.flatnonzero(pos == p)  # at most one row per group
        sums[groups[rows]] += data[rows]
    return sums


@dataclass
class LayerEmbeddings:
    """Per-word (or per-utterance), per-layer embeddings of one transcript.

    Parameters
    ----------
    words : pandas.DataFrame
        One row per word (``word_index``, ``word``, ``speaker``, ``onset``, ``offset``,
        ``utterance_id`` when known, ``n_tokens`` for text models, ``n_frames`` for speech
        models), in the order of ``data``. At ``level='utterance'`` one row per utterance
        (``utterance_id``, ``speaker``, ``onset``, ``offset``, ...).
    data : numpy.ndarray, shape (n_words, n_layers, dim)
        The vectors (stored as float32); rows without a vector are NaN.
    layer_names : list of str
        One name per layer (``'embeddings'``, ``'layer_1'``, ... for text models;
        ``'encoder_0'`` ... for speech models).
    surprisal : numpy.ndarray, shape (n_words,) | None
        In bits; ``None`` for masked models, speech models and controls.
    entropy : numpy.ndarray, shape (n_words,) | None
        In bits; as ``surprisal``.
    model : str
        The model name as given.
    params : dict
        Provenance: model path, layer indices, context, pooling, counts.
    level : ``'word'`` | ``'utterance'``
        What one row of ``data`` is.

    See Also
    --------
    hyperalign.features.compute_layer_embeddings
    hyperalign.features.compute_speech_layer_embeddings
    """

    words: pd.DataFrame
    data: np.ndarray
    layer_names: list[str]
    surprisal: np.ndarray | None = None
    entropy: np.ndarray | None = None
    model: str = ""
    params: dict = field(default_factory=dict)
    level: str = "word"

    def __post_init__(self):
        if self.level not in ("word", "utterance"):
            raise ValueError(f"level must be 'word' or 'utterance'; got {self.level!r}")
        self.data = np.asarray(self.data, dtype=np.float32)
        if self.data.ndim != 3:
            raise ValueError(f"data must be (n_words, n_layers, dim); got shape {self.data.shape}")
        if len(self.words) != self.data.shape[0]:
            raise ValueError(
                f"words has {len(self.words)} rows but data has {self.data.shape[0]} words"
            )
        if len(self.layer_names) != self.data.shape[1]:
            raise ValueError(
                f"{len(self.layer_names)} layer names for {self.data.shape[1]} layers in data"
            )

    @property
    def n_words(self) -> int:
        """Number of rows (words, or utterances at ``level='utterance'``)."""
        return self.data.shape[0]

    @property
    def n_layers(self) -> int:
        """Number of layers."""
        return self.data.shape[1]

    @property
    def dim(self) -> int:
        """Dimension of one vector."""
        return self.data.shape[2]

    def __repr__(self) -> str:
        extra = ", surprisal" if self.surprisal is not None else ""
        return (
            f"<LayerEmbeddings | {self.model} | {self.n_words} {self.level}s × "
            f"{self.n_layers} layers "
            f"× {self.dim}{extra}>"
        )

    @classmethod
    def from_truth(cls, truth) -> LayerEmbeddings:
        """The layer features planted in a simulated dyad, as a :class:`LayerEmbeddings`.

        Parameters
        ----------
        truth : hyperalign.simulation.GroundTruth
            From ``simulate_conversation(..., layer_hierarchy=... or model_coupling=...)``.

        Returns
        -------
        embeddings : LayerEmbeddings
            One row per word of the dyad's transcript, the planted layers (before z-scoring).
        """
        lay = getattr(truth, "layers", None)
        if not lay or lay.get("layer_data") is None:
            raise ValueError(
                "truth: no planted layers of one dimension (simulate with layer_hierarchy= or "
                "model_coupling=, with layers of equal dimension)"
            )
        keep = [
            c for c in ("word", "speaker", "onset", "offset", "utterance_id") if c in truth.words
        ]
        words = truth.words[keep].reset_index(drop=True)
        words.insert(0, "word_index", range(len(words)))
        params = {"source": lay["source"], "simulated": True}
        return cls(words, lay["layer_data"], list(lay["layer_names"]), model=lay["model"],
                   params=params)  # fmt: skip

    def _layer_index(self, layer) -> int:
        if isinstance(layer, str):
            if layer not in self.layer_names:
                raise ValueError(f"layer must be one of {self.layer_names}; got {layer!r}")
            return self.layer_names.index(layer)
        li = int(layer)
        if not -self.n_layers <= li < self.n_layers:
            raise ValueError(
                f"layer must be an index in [-{self.n_layers}, {self.n_layers}) or one of "
                f"{self.layer_names}; got {layer!r}"
            )
        return li % self.n_layers

    def get_layer(self, layer: int | str) -> np.ndarray:
        """Return the (n_words, dim) array of one layer (by position or name).

        Parameters
        ----------
        layer : int | str
            Position in :attr:`layer_names` (negative counts from the end) or a layer name.

        Returns
        -------
        data : ndarray, shape (n_words, dim)
            The layer's word vectors.
        """
        return self.data[:, self._layer_index(layer)]

    @property
    def utterance_ids(self) -> np.ndarray:
        """Sorted utterance ids present in :attr:`words` (the rows of utterance arrays)."""
        if "utterance_id" not in self.words.columns:
            raise ValueError(
                "these embeddings have no utterance_id column (they were built from bare words)"
            )
        return np.unique(self.words["utterance_id"].to_numpy())

    def utterance_embeddings(self, pool: str = "mean", layer: int | str | None = None):
        """Pool words to utterances.

        Parameters
        ----------
        pool : ``'mean'`` | ``'first'`` | ``'last'``
            Average the words of each utterance, or take its first / last word.
        layer : int | str | None
            One layer (then the result is (n_utterances, dim)) or all (``None``).

        Returns
        -------
        embeddings : numpy.ndarray, shape (n_utterances, n_layers, dim) or (n_utterances, dim)
            Row ``r`` is utterance :attr:`utterance_ids` ``[r]``. Words without a vector
            (NaN) are left out of the mean; an utterance with none gets NaN.
        """
        if pool not in _POOLS:
            raise ValueError(f"pool must be one of {list(_POOLS)}; got {pool!r}")
        uid = self.words["utterance_id"].to_numpy() if len(self.words) else np.zeros(0, int)
        ids = self.utterance_ids
        inv = np.searchsorted(ids, uid)
        data = self.data if layer is None else self.data[:, [self._layer_index(layer)]]
        out = np.full((len(ids), *data.shape[1:]), np.nan, np.float32)
        if pool == "mean":
            ok = ~np.isnan(data).any(axis=(1, 2))
            sums = _group_sums(inv[ok], data[ok], len(ids))
            counts = np.bincount(inv[ok], minlength=len(ids)).astype(float)
            with np.errstate(invalid="ignore", divide="ignore"):
                out = (sums / counts[:, None, None]).astype(np.float32)
        else:
            order = np.arange(len(uid))
            if pool == "first":
                _, pos = np.unique(inv, return_index=True)
            else:
                _, pos = np.unique(inv[::-1], return_index=True)
                pos = order[::-1][pos]
            out[np.unique(inv)] = data[pos]
        return out[:, 0] if layer is not None else out

    def to_xarray(self):
        """Return an ``xarray.DataArray`` with dims ``(word, layer, feature)``.

        Word coordinates carry the word table (and surprisal / entropy when present);
        ``attrs`` carry the model and parameters.

        Returns
        -------
        da : xarray.DataArray
            The embeddings, dims ``(word, layer, feature)``.
        """
        import json

        import xarray as xr

        coords = {"word": np.arange(self.n_words), "layer": list(self.layer_names)}
        for col in self.words.columns:
            vals = self.words[col].to_numpy()
            if vals.dtype == object:
                vals = vals.astype(str)
            coords[f"word_{col}" if col != "word" else "word_text"] = ("word", vals)
        if self.surprisal is not None:
            coords["surprisal"] = ("word", self.surprisal)
        if self.entropy is not None:
            coords["entropy"] = ("word", self.entropy)
        return xr.DataArray(
            self.data,
            dims=("word", "layer", "feature"),
            coords=coords,
            name="embedding",
            attrs={"model": self.model, "params": json.dumps(self.params, default=str)},
        )
