"""Throughput of the acoustic features: seconds of audio processed per second.

Usage::

    .venv/bin/python benchmarks/bench_acoustic.py [--duration 120] [--repeat 3]
        [--sfreq 16000] [--no-whisper] [--out results.csv]

The audio is synthetic speech-like sound (harmonic syllables on a gliding F0, about half
of the time voiced, the rest low noise). Each row times one feature on one microphone
channel (the median of ``--repeat`` runs after one warm-up):

* ``base``: intensity (Praat-like), envelope, silence and syllable nuclei (always computed);
* ``intensity`` / ``envelope_hilbert`` / ``envelope_rms``: the building blocks alone;
* ``logmel+mfcc``: the extra cost of the short-time spectrum, 80 log-mel bands, MFCCs;
* ``f0_praat_channel`` vs ``f0_praat_speech``: Praat F0 over the whole channel vs over the
  speech segments only (the default, ``f0_scope='speech'``);
* ``f0_pyin_speech``: librosa pYIN on the speech segments (first 20 s only: it is slow);
* ``features_utterance``: ``compute_acoustic_features`` end to end (both microphones);
* ``timeseries``: ``compute_acoustic_timeseries`` (own, 4 features, 256 Hz);
* ``whisper_encoder``: ``compute_speech_embeddings`` (tiny.en int8, CPU), per utterance.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import pandas as pd

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def make_speechlike(duration: float, sr: float, seed: int = 0):
    """Two microphones of alternating 'utterances' and their word table."""
    rng = np.random.default_rng(seed)
    n = int(duration * sr)
    t = np.arange(n) / sr
    mics = [1e-3 * rng.standard_normal(n), 1e-3 * rng.standard_normal(n)]
    rows = []
    t0, who = 0.5, 0
    while t0 < duration - 4:
        d = rng.uniform(1.5, 3.5)
        m = (t >= t0) & (t < t0 + d)
        f0 = (110 if who == 0 else 190) * 2 ** ((rng.normal(0, 1) - 2 * (t[m] - t0) / d) / 12)
        ph = 2 * np.pi * np.cumsum(f0) / sr
        src = sum(np.sin(k * ph) / k for k in range(1, 10))
        syl = 0.1 + 0.9 * np.sin(np.pi * (t[m] - t0) * 4.5) ** 2
        mics[who][m] += 0.1 * src * syl
        n_w = max(1, int(d * 2.7))
        edges = t0 + d * np.arange(n_w + 1) / n_w
        for k in range(n_w):
            rows.append((edges[k], edges[k + 1] - 0.01, f"w{k}", "AB"[who]))
        t0 += d + rng.uniform(0.3, 1.2)
        who = 1 - who
    words = pd.DataFrame(rows, columns=["onset", "offset", "word", "speaker"])
    return mics, words


def _time(fn, repeat: int) -> float:
    fn()  # warm-up (imports, first-call overhead)
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def main(argv=None) -> pd.DataFrame:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=float, default=120.0)
    p.add_argument("--sfreq", type=float, default=16000.0)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--no-whisper", action="store_true")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)

    import hyperalign as ha
    from hyperalign.features import acoustic as A
    from hyperalign.utils import atomic_write

    sr, dur = args.sfreq, args.duration
    mics, words = make_speechlike(dur, sr)
    x = mics[0]
    rng = np.random.default_rng(1)
    raws = [ha.make_participant_raw(rng.standard_normal((2, int(dur * 256))), 256.0) for _ in "AB"]
    parts = [ha.Participant(s, r, audio=m, audio_sfreq=sr) for s, r, m in zip("AB", raws, mics)]
    dyad = ha.Dyad(parts, ha.Transcript(words, speakers=["A", "B"]), dyad_id="bench")
    utt = dyad.transcript.utterances
    regions = A._speech_regions(utt[utt["speaker"] == "A"])
    speech_s = float((regions[:, 1] - regions[:, 0]).sum())
    hop = sr / 100.0
    n_frames = int(np.floor(len(x) / hop)) + 1
    centres = np.minimum(np.rint(np.arange(n_frames) * hop).astype(int), len(x) - 1)
    from scipy.signal import hilbert
    from scipy.signal.windows import kaiser

    kw = kaiser(int(round(6.4 / 75 * sr)) | 1, 20.0)
    kw /= kw.sum()

    def env_hilbert():
        e = np.abs(hilbert(x))
        A._lowpass(A._resample(e, sr, 100.0), 30.0, 100.0)

    cases = {
        "base": (lambda: A._channel_features(x, sr, need=()), dur),
        "intensity": (lambda: A._windowed_at(x * x, centres, hop, kw), dur),
        "envelope_hilbert": (env_hilbert, dur),
        "envelope_rms": (lambda: np.sqrt(A._windowed_at(x * x, centres, hop, kw)), dur),
        "logmel+mfcc": (lambda: A._channel_features(x, sr, need=("logmel",)), dur),
        "f0_praat_channel": (
            lambda: A._f0_track(
                x, sr, n_frames, 100.0, method="praat", fmin=75, fmax=500, regions=None
            ),
            dur,
        ),  # fmt: skip
        "f0_praat_speech": (
            lambda: A._f0_track(
                x, sr, n_frames, 100.0, method="praat", fmin=75, fmax=500, regions=regions
            ),
            dur,
        ),  # fmt: skip
        "features_utterance": (lambda: A.compute_acoustic_features(dyad), 2 * dur),
        "timeseries": (lambda: A.compute_acoustic_timeseries(dyad, "A"), dur),
    }
    short = regions[regions[:, 1] <= 20.0]
    cases["f0_pyin_speech"] = (
        lambda: A._f0_track(x, sr, n_frames, 100.0, method="pyin", fmin=75, fmax=500,
                            regions=short), min(dur, 20.0))  # fmt: skip
    if not args.no_whisper:
        from hyperalign.features.speech import compute_speech_embeddings, load_speech_model

        load_speech_model()
        cases["whisper_encoder"] = (lambda: compute_speech_embeddings(dyad), 2 * dur)
    rows = []
    for name, (fn, audio_s) in cases.items():
        reps = 1 if name in ("whisper_encoder", "f0_pyin_speech") else args.repeat
        sec = _time(fn, reps)
        rows.append(
            {
                "feature": name,
                "audio_s": audio_s,
                "seconds": round(sec, 4),
                "audio_s_per_s": round(audio_s / sec, 1),
            }
        )
    df = pd.DataFrame(rows)
    df.attrs["speech_fraction"] = speech_s / dur
    header = (
        f"# acoustic throughput: {dur:g} s per channel at {sr:g} Hz, speech "
        f"{100 * speech_s / dur:.0f} % of mic A, {os.cpu_count()} CPU(s)\n"
    )
    text = header + df.to_markdown(index=False) if _has_tabulate() else header + df.to_string()
    print(text)
    if args.out:
        with atomic_write(args.out) as fh:
            df.to_csv(fh, index=False)
    return df


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
