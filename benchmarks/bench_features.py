"""Embedding throughput: words per second for sentence and layer-wise embeddings.

Usage::

    python benchmarks/bench_features.py [--n-words 600] [--context-words 32] [--stride 1]
        [--device cpu|cuda] [--threads N] [--models minilm-sentences minilm-layers smollm2-layers]
        [--out results.json]

Text comes from the simulator's shipped corpus (``hyperalign.simulation.corpus``), as a
two-speaker conversation. Model loading is timed separately and excluded from the rate;
the disk cache is off, so every word is computed. Acoustic timings live in
``benchmarks/bench_acoustic.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import pandas as pd


def _conversation(n_words: int):
    import hyperalign as ha
    from hyperalign.simulation.corpus import load_corpus

    corpus = load_corpus()
    rows, t, total, i = [], 0.0, 0, 0
    while total < n_words:
        text = corpus["text"].iloc[i % len(corpus)]
        dur = 0.35 * len(text.split())
        rows.append({"onset": t, "offset": t + dur, "speaker": "AB"[i % 2], "text": text})
        t += dur + 0.5
        total += len(text.split())
        i += 1
    return ha.Transcript.from_data_frame(pd.DataFrame(rows), kind="utterances")


def _bench(name: str, tr, args) -> dict:
    from hyperalign.features import (
        compute_layer_embeddings,
        embed_utterances,
        load_language_model,
    )
    from hyperalign.features.semantic import load_sentence_model

    n_words = tr.n_words
    t0 = time.perf_counter()
    if name == "minilm-sentences":
        load_sentence_model("all-MiniLM-L6-v2", device=args.device)
        t_load = time.perf_counter() - t0
        texts = tr.utterances["text"].tolist()
        embed_utterances(texts[:4], device=args.device, cache=False)  # warm-up
        t1 = time.perf_counter()
        embed_utterances(texts, device=args.device, cache=False)
    else:
        model = "all-MiniLM-L6-v2" if name == "minilm-layers" else "SmolLM2-135M"
        load_language_model(model, device=args.device)
        t_load = time.perf_counter() - t0
        kw = {
            "context_words": args.context_words,
            "stride": args.stride,
            "batch_size": args.batch_size,
            "device": args.device,
            "cache": False,
        }
        compute_layer_embeddings(tr.words.iloc[:8], model, **kw)  # warm-up
        t1 = time.perf_counter()
        compute_layer_embeddings(tr, model, **kw)
    dt = time.perf_counter() - t1
    return {
        "benchmark": name,
        "n_words": n_words,
        "seconds": round(dt, 3),
        "words_per_s": round(n_words / dt, 1),
        "load_s": round(t_load, 2),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-words", type=int, default=600)
    p.add_argument("--context-words", type=int, default=32)
    p.add_argument("--stride", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--device", default=None)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument(
        "--models",
        nargs="+",
        default=["minilm-sentences", "minilm-layers", "smollm2-layers"],
        choices=["minilm-sentences", "minilm-layers", "smollm2-layers"],
    )
    p.add_argument("--out", default=None, help="write the results as JSON here")
    args = p.parse_args(argv)
    import torch

    from hyperalign.backend import get_device

    args.device = get_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    tr = _conversation(args.n_words)
    results = [_bench(m, tr, args) for m in args.models]
    meta = {
        "device": args.device,
        "gpu": torch.cuda.get_device_name(0) if args.device.startswith("cuda") else None,
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "context_words": args.context_words,
        "stride": args.stride,
        "batch_size": args.batch_size,
    }
    table = pd.DataFrame(results)
    sys.stdout.write(json.dumps(meta) + "\n" + table.to_string(index=False) + "\n")
    if args.out:
        from hyperalign.utils import atomic_write

        with atomic_write(args.out) as fh:
            json.dump({"meta": meta, "results": results}, fh, indent=2)
    assert np.all(table["words_per_s"] > 0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
