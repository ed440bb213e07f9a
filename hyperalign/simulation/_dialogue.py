"""Dialogue generation: topics, sentences, prosody (with the planted confound) and timing."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .corpus import corpus_similarity, load_backchannels, load_corpus

_VOWELS = re.compile(r"[aeiouy]+")
#: prosody step scales (F0 in semitones, intensity in dB, rate in words/s)
PROSODY_SCALE = np.array([1.5, 2.0, 0.3])
PROSODY_NAMES = ("f0_st", "intensity_db", "rate_wps")


def count_syllables(word: str) -> int:
    """Rough syllable count of an English word (vowel groups, silent final e).

    Parameters
    ----------
    word : str
        The word.

    Returns
    -------
    n : int
        Number of syllables, at least 1.
    """
    w = re.sub(r"[^a-z]", "", str(word).lower())
    n = len(_VOWELS.findall(w))
    if n > 1 and w.endswith("e") and not w.endswith(("le", "ee")):
        n -= 1
    return max(n, 1)


def _zscore(x: np.ndarray) -> np.ndarray:
    """z-score ignoring NaN; constant or empty input gives zeros (NaN stays NaN)."""
    x = np.asarray(x, float)
    ok = np.isfinite(x)
    out = np.full_like(x, np.nan)
    if ok.sum() < 2:
        out[ok] = 0.0
        return out
    sd = x[ok].std()
    out[ok] = (x[ok] - x[ok].mean()) / sd if sd > 0 else 0.0
    return out


def acoustic_similarity(f0_st: np.ndarray, intensity_db: np.ndarray, rate: np.ndarray):
    """Acoustic similarity of each turn with the previous turn (first turn: NaN).

    ``acsim_u = -mean_k |z_k(u) - z_k(u-1)|`` over k in (F0 in semitones, intensity in dB,
    speech rate in words/s), each z-scored across the dyad's turns.

    Parameters
    ----------
    f0_st : ndarray, shape (n_turns,)
        Mean F0 of each turn in semitones.
    intensity_db : ndarray, shape (n_turns,)
        Intensity of each turn in dB.
    rate : ndarray, shape (n_turns,)
        Speech rate of each turn in words per second.

    Returns
    -------
    acsim : ndarray, shape (n_turns,)
        Similarity of each turn with the previous one (NaN for the first).
    """
    z = np.stack([_zscore(f0_st), _zscore(intensity_db), _zscore(rate)])
    out = np.full(z.shape[1], np.nan)
    out[1:] = -np.abs(np.diff(z, axis=1)).mean(axis=0)
    return out


def make_dialogue(rng: np.random.Generator, duration: float, p: dict) -> dict:
    """Generate the planted dialogue.

    The stages draw from ``rng`` in this order (a fixed seed gives identical output):
    speakers' baselines, topics and sentences, prosody, timing of words and backchannels,
    the target speech rate, backchannel prosody.

    Parameters
    ----------
    rng : numpy.random.Generator
        The random generator.
    duration : float
        Length of the recording (s); turns that end later are dropped.
    p : dict
        ``speaker_f0_spread``, ``topic_stay``, ``confound``, ``prosody_step``,
        ``overlap_prob``, ``backchannel_prob`` and ``wpm`` (see ``simulate_conversation``).

    Returns
    -------
    dialogue : dict
        ``turns`` (DataFrame, one row per turn utterance in time order), ``backchannels``
        (DataFrame), ``words`` (DataFrame with the ``sim_utt`` index of its turn),
        ``baselines`` (the speakers' F0 st / dB / words-per-s baselines, shape (2, 3)) and
        ``wpm`` (the target words per minute).
    """
    corpus = load_corpus()
    base = _speaker_baselines(rng, p["speaker_f0_spread"])
    n_max = int(duration / 2.0) + 12  # enough turns for the duration
    topic_seq, sent = _topic_sequence(rng, corpus, n_max, p["topic_stay"])
    sem = np.full(n_max, np.nan)
    sem[1:] = corpus_similarity()[sent[1:], sent[:-1]]
    pros, spk = _prosody(rng, sem, base, p["confound"], p["prosody_step"])
    timing = _word_timing(rng, corpus["text"].to_numpy()[sent], pros[:, 2], spk, p)
    turns, bc, words = _tables(corpus, topic_seq, sent, sem, pros, spk, timing)
    target = rng.uniform(*p["wpm"])
    turns, bc, words = _stretch_to_rate(turns, bc, words, duration, target)
    turns["rate_wps"] = turns["n_words"] / (turns["offset"] - turns["onset"])
    turns["f0_mean"] = 100.0 * 2 ** (turns["f0_st"] / 12.0)
    turns["acoustic_similarity"] = acoustic_similarity(
        turns["f0_st"].to_numpy(), turns["intensity_db"].to_numpy(), turns["rate_wps"].to_numpy()
    )
    _backchannel_prosody(rng, bc, base)
    return {"turns": turns, "backchannels": bc, "words": words, "baselines": base, "wpm": target}


def _speaker_baselines(rng: np.random.Generator, f0_spread: float) -> np.ndarray:
    """Baselines (F0 st, intensity dB, rate words/s) of the two speakers, shape (2, 3).

    A same-sex-like dyad: the F0 baselines are within about ``f0_spread`` semitones.
    """
    f0_dyad = rng.choice([115.0, 205.0]) * np.exp(rng.normal(0, 0.08))
    base = np.empty((2, 3))
    base[:, 0] = 12 * np.log2(f0_dyad / 100.0) + rng.normal(0, f0_spread, 2)
    base[:, 1] = rng.normal(65.0, 1.5) + rng.normal(0, 1.0, 2)
    base[:, 2] = rng.normal(3.0, 0.12) + rng.normal(0, 0.1, 2)
    return base


def _topic_sequence(
    rng: np.random.Generator, corpus: pd.DataFrame, n_max: int, topic_stay: float
) -> tuple[np.ndarray, np.ndarray]:
    """Topics (a Markov chain) and corpus sentences (unused ones first) of ``n_max`` turns."""
    topics = np.array(sorted(corpus["topic"].unique()))
    by_topic = {t: corpus.index[corpus["topic"] == t].to_numpy() for t in topics}
    topic_seq = np.empty(n_max, dtype=object)
    sent = np.empty(n_max, int)
    used: set[int] = set()
    t = rng.choice(topics)
    for u in range(n_max):
        if u > 0 and rng.random() >= topic_stay:
            t = rng.choice(topics[topics != t])
        pool = [i for i in by_topic[t] if i not in used]
        if not pool:
            pool = list(by_topic[t])
        s = int(rng.choice(pool))
        used.add(s)
        topic_seq[u], sent[u] = t, s
    return topic_seq, sent


def _prosody(
    rng: np.random.Generator, sem: np.ndarray, base: np.ndarray, confound: float, step_size: float
) -> tuple[np.ndarray, np.ndarray]:
    """Each turn's prosody (F0 st, dB, words/s) and speaker, with the planted confound.

    The step from the previous turn's prosody shrinks with the turn's semantic alignment
    (correlation ``confound``); its sign is pulled towards the speaker's baseline.
    """
    n_max = len(sem)
    rho = float(np.clip(confound, -0.99, 0.99))
    zs = _zscore(sem)
    a = rho * np.nan_to_num(zs) + np.sqrt(1 - rho**2) * rng.standard_normal(n_max)
    step = step_size * np.exp(-0.45 * a)
    pros = np.empty((n_max, 3))
    spk = np.arange(n_max) % 2
    if rng.random() < 0.5:
        spk = 1 - spk
    lo = base[:, None, :] + np.array([-7.0, -9.0, -1.0])
    hi = base[:, None, :] + np.array([7.0, 9.0, 1.2])
    for u in range(n_max):
        s = spk[u]
        if u == 0:
            pros[u] = base[s] + rng.normal(0, 1, 3) * PROSODY_SCALE
            continue
        prev = pros[u - 1]
        toward = 1.0 / (1.0 + np.exp(-2.0 * (base[s] - prev) / PROSODY_SCALE))
        sign = np.where(rng.random(3) < toward, 1.0, -1.0)
        pros[u] = np.clip(prev + sign * step[u] * PROSODY_SCALE, lo[s, 0], hi[s, 0])
    pros[:, 2] = np.maximum(pros[:, 2], 1.8)
    return pros, spk


def _word_timing(
    rng: np.random.Generator, texts: np.ndarray, rate: np.ndarray, spk: np.ndarray, p: dict
) -> dict:
    """Times of every word of every turn, and the listener's backchannels.

    Returns ``words`` (rows ``(onset, offset, word, speaker, turn, n_syllables)``),
    ``turn_on``, ``turn_off`` and ``backchannels`` (dicts).
    """
    bcs = load_backchannels()
    n_max = len(texts)
    word_rows: list[tuple] = []
    turn_on = np.empty(n_max)
    turn_off = np.empty(n_max)
    bc_rows: list[dict] = []
    t_now = rng.uniform(0.3, 1.0)
    last_word = (0.0, 0.0)  # (onset, offset) of the previous turn's last word
    listener_free = np.zeros(2)  # time after which each participant may backchannel
    for u in range(n_max):
        toks = texts[u].split()
        n = len(toks)
        on, wd, syl = _turn_words(rng, toks, rate[u])
        if u > 0:
            if rng.random() < p["overlap_prob"]:
                lw_on, lw_off = last_word
                t_now = lw_on + rng.uniform(0.3, 0.85) * (lw_off - lw_on)
            else:
                t_now = turn_off[u - 1] + 0.05 + rng.gamma(2.0, 0.13)
        on = t_now + on
        off = on + wd
        turn_on[u], turn_off[u] = on[0], off[-1]
        for k in range(n):
            word_rows.append((on[k], off[k], toks[k], spk[u], u, int(syl[k])))
        last_word = (on[-1], off[-1])
        # a backchannel of the listener, starting inside a word of this turn
        lst = 1 - spk[u]
        if n >= 6 and rng.random() < p["backchannel_prob"]:
            k = int(rng.integers(1, n - 2))
            b_on = on[k] + rng.uniform(0.2, 0.6) * wd[k]
            b_off = b_on + rng.uniform(0.25, 0.45)
            # > 0.5 s after the listener's own last word (so the pause segmentation starts a
            # new utterance) and ending before the last word of the turn (so the listener's
            # next turn is not merged with the backchannel)
            if b_on > listener_free[lst] + 0.6 and b_off < on[-1] - 0.02:
                tok = str(rng.choice(bcs))
                bc_rows.append(
                    {"onset": b_on, "offset": b_off, "text": tok, "speaker": lst, "parent": u}
                )
        listener_free[spk[u]] = off[-1]
    return {"words": word_rows, "turn_on": turn_on, "turn_off": turn_off, "backchannels": bc_rows}


def _turn_words(
    rng: np.random.Generator, toks: list[str], rate: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Onsets (from the turn's start), durations and syllable counts of a turn's words.

    Word durations are syllable-proportional; gaps are short (a pause of 0.12-0.3 s for one
    gap in ten); the turn lasts ``len(toks) / rate`` seconds.
    """
    n = len(toks)
    dur = n / rate
    syl = np.array([count_syllables(w) for w in toks], float)
    gaps = rng.uniform(0.02, 0.08, n - 1)
    pause = rng.random(n - 1) < 0.1
    gaps[pause] = rng.uniform(0.12, 0.3, pause.sum())
    wtime = max(dur - gaps.sum(), 0.6 * dur)
    wd = wtime * (syl + 0.6) / (syl + 0.6).sum()
    on = np.concatenate([[0.0], np.cumsum(wd[:-1] + gaps)])
    return on, wd, syl


def _tables(corpus, topic_seq, sent, sem, pros, spk, timing) -> tuple:
    """The turn, backchannel and word tables of the generated dialogue (before stretching)."""
    texts = corpus["text"].to_numpy()
    words = pd.DataFrame(
        timing["words"], columns=["onset", "offset", "word", "speaker", "sim_utt", "n_syllables"]
    )
    turns = pd.DataFrame(
        {
            "speaker": spk,
            "sentence_index": sent,
            "sentence_id": corpus["sentence_id"].to_numpy()[sent],
            "topic": topic_seq.astype(str),
            "text": texts[sent],
            "n_words": corpus["n_words"].to_numpy()[sent],
            "onset": timing["turn_on"],
            "offset": timing["turn_off"],
            "semantic_alignment": sem,
            "f0_st": pros[:, 0],
            "intensity_db": pros[:, 1],
        }
    )
    turns["topic_switch"] = np.r_[False, turns["topic"].to_numpy()[1:] != topic_seq[:-1]]
    bc = pd.DataFrame(
        timing["backchannels"], columns=["onset", "offset", "text", "speaker", "parent"]
    )
    return turns, bc, words


def _stretch_to_rate(turns, bc, words, duration: float, target: float) -> tuple:
    """Scale the time axis so the kept turns run at ``target`` words per minute.

    Turns that end after ``duration - 0.1`` s are dropped (with their words and
    backchannels); the last kept turn is dropped too when stretching would push it past the
    end of the recording.
    """
    for _ in range(3):
        keep_t = turns["offset"].to_numpy() <= duration - 0.1
        keep_b = bc["parent"].isin(np.nonzero(keep_t)[0]).to_numpy()
        nw = turns.loc[keep_t, "n_words"].sum() + keep_b.sum()
        span = turns.loc[keep_t, "offset"].max() - turns.loc[keep_t, "onset"].min()
        if not np.isfinite(span) or span <= 0:
            break
        f = (60.0 * nw / span) / target
        for df in (turns, bc, words):
            df[["onset", "offset"]] *= f
    keep_t = turns["offset"].to_numpy() <= duration - 0.1
    if not keep_t.any():
        raise ValueError(
            f"duration={duration!r} s is too short for one conversational turn; use >= 10 s"
        )
    n_keep = int(np.nonzero(keep_t)[0].max()) + 1  # turns are in time order
    # final exact scaling on the kept turns
    while True:
        sel = turns.iloc[:n_keep]
        nw = sel["n_words"].sum() + int((bc["parent"] < n_keep).sum())
        span = sel["offset"].iloc[-1] - sel["onset"].iloc[0]
        f = (60.0 * nw / span) / target
        if f <= 1 or sel["offset"].iloc[-1] * f <= duration - 0.1 or n_keep == 1:
            for df in (turns, bc, words):
                df[["onset", "offset"]] *= f
            break
        n_keep -= 1
    turns = turns.iloc[:n_keep].copy()
    words = words[words["sim_utt"] < n_keep].reset_index(drop=True)
    bc = bc[bc["parent"] < n_keep].reset_index(drop=True)
    return turns, bc, words


def _backchannel_prosody(rng: np.random.Generator, bc: pd.DataFrame, base: np.ndarray) -> None:
    """Prosody columns of the backchannels (in place): the listener's baseline, softer."""
    bsp = bc["speaker"].to_numpy(int)
    bc["f0_st"] = base[bsp, 0] + rng.normal(0, 0.5, len(bc))
    bc["f0_mean"] = 100.0 * 2 ** (bc["f0_st"] / 12.0)
    bc["intensity_db"] = base[bsp, 1] - 4.0 + rng.normal(0, 1.0, len(bc))
    bc["rate_wps"] = 1.0 / (bc["offset"] - bc["onset"])
    bc["n_words"] = 1
