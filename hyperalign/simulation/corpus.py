"""The conversational corpus shipped with the simulator and its MiniLM sentence embeddings.

``data/corpus.tsv`` holds natural spoken-style utterances written for hyperalign
(``sentence_id``, ``topic``, ``text``; at least 300 sentences over at least 10 topics),
``data/backchannels.txt`` single-token listener backchannels, and
``data/corpus_minilm.npy`` the all-MiniLM-L6-v2 embedding of every sentence (unit norm,
made by ``scripts/make_corpus_embeddings.py``). Loading needs neither torch nor a network.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd

DATA_DIR = Path(__file__).resolve().parent / "data"
CORPUS_FILE = DATA_DIR / "corpus.tsv"
BACKCHANNEL_FILE = DATA_DIR / "backchannels.txt"
EMBEDDING_FILE = DATA_DIR / "corpus_minilm.npy"

__all__ = ["load_corpus", "load_corpus_embeddings", "load_backchannels", "corpus_similarity"]


@functools.lru_cache(maxsize=1)
def _read_corpus() -> pd.DataFrame:
    if not CORPUS_FILE.is_file():
        raise FileNotFoundError(
            f"the simulator corpus is missing: {CORPUS_FILE}; reinstall hyperalign"
        )
    df = pd.read_csv(CORPUS_FILE, sep="\t", dtype=str, keep_default_na=False)
    missing = {"sentence_id", "topic", "text"} - set(df.columns)
    if missing:
        raise ValueError(f"{CORPUS_FILE} lacks column(s) {sorted(missing)}")
    df["n_words"] = df["text"].str.split().str.len().astype(int)
    df["index"] = np.arange(len(df))
    return df


def load_corpus() -> pd.DataFrame:
    """Return the shipped conversational corpus.

    Returns
    -------
    corpus : pandas.DataFrame
        One row per sentence: ``sentence_id``, ``topic``, ``text``, ``n_words`` and
        ``index`` (the row of :func:`load_corpus_embeddings`).
    """
    return _read_corpus().copy()


@functools.lru_cache(maxsize=1)
def _read_embeddings() -> np.ndarray:
    if not EMBEDDING_FILE.is_file():
        raise FileNotFoundError(
            f"corpus embeddings are missing: {EMBEDDING_FILE}; run "
            "scripts/make_corpus_embeddings.py"
        )
    emb = np.load(EMBEDDING_FILE).astype(np.float32)
    n = len(_read_corpus())
    if emb.shape != (n, 384):
        raise ValueError(
            f"{EMBEDDING_FILE} has shape {emb.shape}, expected ({n}, 384) for the {n} corpus "
            "sentences; rerun scripts/make_corpus_embeddings.py"
        )
    emb.setflags(write=False)
    return emb


def load_corpus_embeddings() -> np.ndarray:
    """Return the all-MiniLM-L6-v2 embeddings of the corpus sentences.

    Returns
    -------
    embeddings : numpy.ndarray, shape (n_sentences, 384), float32
        Unit-norm sentence embeddings, row ``i`` for corpus row ``i``.
    """
    return _read_embeddings().copy()


@functools.lru_cache(maxsize=1)
def _similarity() -> np.ndarray:
    emb = _read_embeddings().astype(np.float64)
    emb = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    sim = emb @ emb.T
    sim.setflags(write=False)
    return sim


def corpus_similarity() -> np.ndarray:
    """Cosine similarity between every pair of corpus sentences, ``(n, n)`` float64.

    Returns
    -------
    sim : ndarray, shape (n_sentences, n_sentences)
        Cosine similarity of the sentences' MiniLM embeddings (a copy).
    """
    return _similarity().copy()


@functools.lru_cache(maxsize=1)
def _read_backchannels() -> tuple[str, ...]:
    toks = [
        ln.strip()
        for ln in BACKCHANNEL_FILE.read_text(encoding="utf-8").splitlines()
        if ln.strip() and not ln.lstrip().startswith("#")
    ]
    return tuple(toks)


def load_backchannels() -> list[str]:
    """Return the single-token listener backchannels (``'mhm'``, ``'yeah'``, …).

    Returns
    -------
    backchannels : list of str
        The backchannel tokens, in the order of the shipped list.
    """
    return list(_read_backchannels())
