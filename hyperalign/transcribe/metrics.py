"""Transcription quality: word error rate and word-onset error against a reference."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

_STRIP = re.compile(r"[^\w']+")


def normalize_word(word: str) -> str:
    """Lower-case ``word`` and drop punctuation (apostrophes kept).

    Parameters
    ----------
    word : str
        One word.

    Returns
    -------
    word : str
        The normalized word (may be empty).
    """
    return _STRIP.sub("", str(word).lower())


def _tokens(x) -> list[str]:
    if isinstance(x, str):
        x = x.split()
    elif isinstance(x, pd.DataFrame):
        x = x["word"].tolist()
    elif hasattr(x, "words") and isinstance(x.words, pd.DataFrame):
        x = x.words["word"].tolist()
    return [t for t in (normalize_word(w) for w in x) if t]


def _edit_path(ref: list[str], hyp: list[str]) -> tuple[int, list[tuple[int, int]]]:
    """Levenshtein distance and the (ref_index, hyp_index) pairs of matched equal words."""
    n, m = len(ref), len(hyp)
    d = np.zeros((n + 1, m + 1), int)
    d[:, 0] = np.arange(n + 1)
    d[0, :] = np.arange(m + 1)
    hyp_a = np.asarray(hyp, object)
    jj = np.arange(m + 1)
    for i in range(1, n + 1):
        cand = np.empty(m + 1, int)
        cand[0] = i
        cand[1:] = np.minimum(d[i - 1, :-1] + (hyp_a != ref[i - 1]), d[i - 1, 1:] + 1)
        # insertions: d[i, j] = min_k<=j (cand[k] + j - k)
        d[i] = jj + np.minimum.accumulate(cand - jj)
    pairs = []
    i, j = n, m
    while i > 0 and j > 0:
        if ref[i - 1] == hyp[j - 1] and d[i, j] == d[i - 1, j - 1]:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif d[i, j] == d[i - 1, j - 1] + 1:
            i, j = i - 1, j - 1
        elif d[i, j] == d[i - 1, j] + 1:
            i -= 1
        else:
            j -= 1
    return int(d[n, m]), pairs[::-1]


def word_error_rate(reference, hypothesis) -> float:
    """Word error rate (substitutions + deletions + insertions) / reference words.

    Parameters
    ----------
    reference, hypothesis : str | sequence of str | DataFrame (``word`` column) | Transcript
        Words are lower-cased and stripped of punctuation before comparison.

    Returns
    -------
    wer : float
        The edit distance over the number of reference words (can exceed 1).

    See Also
    --------
    onset_errors : Timing errors of the words both share.
    """
    ref, hyp = _tokens(reference), _tokens(hypothesis)
    if not ref:
        raise ValueError("reference has no words; the word error rate is undefined")
    dist, _ = _edit_path(ref, hyp)
    return dist / len(ref)


def onset_errors(reference: pd.DataFrame, hypothesis: pd.DataFrame) -> pd.DataFrame:
    """Onset errors (hypothesis minus reference, s) of the words both tables share.

    Words are paired along the minimum-edit alignment of the two word sequences (only
    identical normalized words are paired).

    Parameters
    ----------
    reference, hypothesis : pandas.DataFrame
        Word tables with ``word`` and ``onset`` columns (e.g. ``Transcript.words``).

    Returns
    -------
    pandas.DataFrame
        ``ref_index, hyp_index, word, ref_onset, hyp_onset, error`` per paired word.
    """
    for name, t in (("reference", reference), ("hypothesis", hypothesis)):
        if not {"word", "onset"} <= set(t.columns):
            raise ValueError(f"{name} needs 'word' and 'onset' columns; has {list(t.columns)}")
    rw = [normalize_word(w) for w in reference["word"]]
    hw = [normalize_word(w) for w in hypothesis["word"]]
    _, pairs = _edit_path(rw, hw)
    if not pairs:
        return pd.DataFrame(
            columns=["ref_index", "hyp_index", "word", "ref_onset", "hyp_onset", "error"]
        )
    ri, hi = map(np.asarray, zip(*pairs))
    ro = reference["onset"].to_numpy(float)[ri]
    ho = hypothesis["onset"].to_numpy(float)[hi]
    return pd.DataFrame(
        {
            "ref_index": ri,
            "hyp_index": hi,
            "word": np.asarray(rw, object)[ri],
            "ref_onset": ro,
            "hyp_onset": ho,
            "error": ho - ro,
        }
    )
