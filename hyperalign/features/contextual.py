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

import os

import numpy as np
import pandas as pd

from ..utils import _validate_type, fill_doc, logger, progress, verbose
from .cache import cache_key, get_cache
from .layers import _POOLS, LayerEmbeddings
from .models import DEFAULT_LAYER_MODEL, load_language_model
from .semantic import resolve_model

__all__ = ["compute_layer_embeddings"]


def _word_table(transcript) -> pd.DataFrame:
    from ..transcript import Transcript

    _validate_type(
        transcript, (Transcript, pd.DataFrame), "transcript", "a Transcript or a word DataFrame"
    )
    if isinstance(transcript, Transcript):
        w = transcript.words
    else:
        if "word" not in transcript.columns:
            raise ValueError(
                f"transcript: a DataFrame needs a 'word' column; it has {list(transcript.columns)}"
            )
        w = transcript.reset_index(drop=True).copy()
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
@fill_doc
@verbose
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
    model_cache=None,
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
    tag_format : str
        Format of the speaker tags.
    batch_size : int
        Windows per forward pass.
    %(device)s
    causal : bool | None
        Force causal (surprisal) or masked handling; ``None`` reads the config.
    cache : None | False | path | FeatureCache
        Disk cache of the result (keyed by model, words, speakers, every parameter).
    model_cache : None | False | path
        Where a GGUF model's dequantised copy lives (see
        :func:`~hyperalign.features.load_language_model`): ``None`` the machine's cache
        folder, whatever ``cache`` is.
    n_threads : int | None
        CPU threads for torch during this call (``None``: torch's setting).
    %(verbose)s

    Returns
    -------
    embeddings : LayerEmbeddings
        ``data`` is (n_words, n_layers, dim) float32; ``surprisal`` / ``entropy`` (bits)
        for causal models.

    See Also
    --------
    load_language_model, compute_static_embeddings, compute_speech_layer_embeddings

    Examples
    --------
    The shipped MiniLM model (offline); its 6 layers plus the input embeddings:

    >>> import pandas as pd
    >>> from hyperalign.features import compute_layer_embeddings
    >>> words = pd.DataFrame({"word": ["so", "how", "was", "it"]})
    >>> le = compute_layer_embeddings(words, "all-MiniLM-L6-v2", cache=False)
    >>> le.data.shape
    (4, 7, 384)
    >>> le.layer_names[:2]
    ['embeddings', 'layer_1']
    """
    if pool not in _POOLS:
        raise ValueError(f"pool must be one of {list(_POOLS)}; got {pool!r}")
    if int(context_words) < 0:
        raise ValueError(f"context_words must be >= 0; got {context_words!r}")
    if int(stride) < 1 or int(batch_size) < 1:
        raise ValueError(
            f"stride and batch_size must be >= 1; got stride={stride!r}, batch_size={batch_size!r}"
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
    tok, mdl, info = load_language_model(model, device=device, causal=causal, cache=model_cache)
    layer_idx = _resolve_layers(layers, info["n_hidden_states"])
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
    names = [_layer_name(i) for i in layer_idx]
    key = None
    if store is not None:
        key = cache_key(
            kind="layer_embeddings",
            words=words,
            speakers=speakers if speaker_tags else None,
            **params,
        )
        hit = store.load(key, namespace="layers")
        if hit is not None:
            logger.info("compute_layer_embeddings: %d words loaded from cache", len(words))
            wt["n_tokens"] = hit["n_tokens"]
            params.update(
                n_truncated_windows=int(hit["n_truncated"]),
                n_words_without_tokens=int((hit["n_tokens"] == 0).sum()),
            )
            sur, ent = (hit["surprisal"], hit["entropy"]) if is_causal else (None, None)
            return LayerEmbeddings(wt, hit["data"], names, sur, ent, spec["name"], params)
    from ..backend import torch_threads

    with torch_threads(n_threads):
        seqs, n_trunc = _prepare_sequences(
            tok, mdl, is_causal, words, speakers, context_words, stride, speaker_tags, tag_format
        )
        data, surprisal, entropy, n_tokens = _run_model(
            tok, mdl, info, seqs, len(words), layer_idx, pool, batch_size
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
        arrays = {"data": data, "surprisal": surprisal, "entropy": entropy}
        arrays.update(n_tokens=n_tokens, n_truncated=np.array(n_trunc))
        store.save(key, arrays, namespace="layers", meta=params)
    sur, ent = (surprisal, entropy) if is_causal else (None, None)
    return LayerEmbeddings(wt, data, names, sur, ent, spec["name"], params)


def _max_length(tok, mdl) -> int:
    cfg = mdl.config.get_text_config()
    cands = [getattr(cfg, "max_position_embeddings", None), getattr(tok, "model_max_length", None)]
    cands = [int(c) for c in cands if c is not None and 0 < int(c) < 1_000_000]
    return min(cands) if cands else 2048


def _prepare_sequences(
    tok, mdl, is_causal, words, speakers, context_words, stride, speaker_tags, tag_format
):
    """Token ids of every window, the token range of each target word, and its word index."""
    if not words:
        return [], 0
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
    return seqs, n_trunc


def _pool_weights(rng, tw, L, pool):
    """(n_targets, L) pooling weights of the target words of one sequence and their indices."""
    ok = rng[:, 0] >= 0
    t0s, t1s, wis = rng[ok, 0], rng[ok, 1], np.asarray(tw)[ok]
    W = np.zeros((len(wis), L), np.float32)
    for k, (t0, t1) in enumerate(zip(t0s, t1s, strict=True)):
        if pool == "mean":
            W[k, t0:t1] = 1.0 / (t1 - t0)
        elif pool == "first":
            W[k, t0] = 1.0
        else:
            W[k, t1 - 1] = 1.0
    return W, t0s, t1s, wis


def _run_model(tok, mdl, info, seqs, n, layer_idx, pool, batch_size):
    """Pooled hidden states, surprisal, entropy and token counts of ``n`` words."""
    import torch

    is_causal = info["causal"]
    dev = info["device"]
    dim = int(mdl.config.get_text_config().hidden_size)
    data = np.full((n, len(layer_idx), dim), np.nan, np.float32)
    surprisal = np.full(n, np.nan, np.float64)
    entropy = np.full(n, np.nan, np.float64)
    n_tokens = np.zeros(n, int)
    if n == 0:
        return data, surprisal, entropy, n_tokens
    pad_id = tok.pad_token_id
    if pad_id is None:
        pad_id = tok.eos_token_id if tok.eos_token_id is not None else 0
    order = np.argsort([len(s[0]) for s in seqs], kind="stable")
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    base = mdl.base_model if is_causal else mdl
    head = mdl.get_output_embeddings() if is_causal else None
    nll_parts = []  # (word index, is first token, nll, entropy) per predicted token
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
            pos = []  # (row, position predicting the token, token id, word, is first)
            for r, i in enumerate(bidx):
                W, t0s, t1s, wis = _pool_weights(seqs[i][1], seqs[i][2], L, pool)
                if not len(wis):
                    continue
                n_tokens[wis] = t1s - t0s
                Wt = torch.as_tensor(W, dtype=hs[0].dtype, device=hs[0].device)
                seq_hs = torch.stack([hs[li][r] for li in layer_idx])  # (n_layers, L, dim)
                pooled = torch.matmul(Wt.unsqueeze(0), seq_hs)  # (n_layers, n_targets, dim)
                data[wis] = pooled.permute(1, 0, 2).float().cpu().numpy()
                if is_causal:
                    for t0, t1, wi in zip(t0s, t1s, wis, strict=True):
                        pos.extend(
                            (r, t - 1, int(seqs[i][0][t]), int(wi), t == t0)
                            for t in range(max(t0, 1), t1)
                        )
            if is_causal and pos:
                nll_parts.append(_token_nll(hs[-1], head, pos, dev))
    if nll_parts:
        _word_surprisal(np.concatenate(nll_parts), n, n_tokens, surprisal, entropy)
    return data, surprisal, entropy, n_tokens


def _token_nll(h_last, head, pos, dev) -> np.ndarray:
    """Rows ``(word, is_first, nll bits, entropy bits)`` of every predicted token."""
    import torch

    p = np.asarray(pos, dtype=np.int64)
    pb, pt, nxt = (torch.as_tensor(p[:, k]) for k in range(3))
    nll = np.empty(len(p))
    ent = np.empty(len(p))
    for c0 in range(0, len(p), 256):  # bounded memory: 256 x vocabulary
        sl = slice(c0, c0 + 256)
        h = h_last[pb[sl].to(dev), pt[sl].to(dev)]
        logp = torch.log_softmax(head(h).double(), dim=-1)
        nll[sl] = (-logp[torch.arange(len(h)), nxt[sl].to(dev)]).cpu().numpy()
        ent[sl] = (-(logp.exp() * logp).sum(-1)).cpu().numpy()
    return np.column_stack([p[:, 3], p[:, 4], nll / np.log(2.0), ent / np.log(2.0)])


def _word_surprisal(rows, n, n_tokens, surprisal, entropy) -> None:
    """A word's surprisal is the sum over its sub-tokens, all of which were predicted."""
    pw = rows[:, 0].astype(int)
    pf = rows[:, 1].astype(bool)
    s_sum = np.bincount(pw, rows[:, 2], minlength=n)
    cnt = np.bincount(pw, minlength=n)
    done = np.unique(pw)
    full = cnt[done] == n_tokens[done]
    surprisal[done] = np.where(full, s_sum[done], np.nan)
    entropy[pw[pf]] = rows[pf, 3]
