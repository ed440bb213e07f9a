"""Planted word-level data for the model-based coupling tests (linear in word vectors)."""

import numpy as np

LAGS = np.round(np.arange(-5, 6) * 0.1, 3)  # 11 lags, 100 ms steps


def planted_b2b(
    n_words=400,
    *,
    effect="semantic",
    size=0.6,
    speaker_lag=-0.2,
    listener_lag=0.3,
    n_rois=2,
    n_types=80,
    d=6,
    seed=0,
):
    """Words of a two-person conversation, each brain responding at one lag to the word's
    semantic vector (``effect='semantic'``), its acoustic value (``'acoustic'``) or nothing
    (``'none'``). The speaker responds in ROI 0 at ``speaker_lag``, the listener in ROI 1 at
    ``listener_lag`` (a bump over neighbouring lags); features are ``[semantic, acoustic]``.
    """
    rng = np.random.default_rng(seed)
    sem = rng.standard_normal((n_types, d))
    ac = rng.standard_normal(n_types)
    types = rng.integers(0, n_types, n_words)
    times = np.cumsum(rng.uniform(0.3, 0.5, n_words))
    turn = np.repeat(np.arange(n_words), rng.integers(3, 9, n_words))[:n_words]
    speakers = np.where(turn % 2 == 0, "A", "B")
    X = np.column_stack([sem[types], ac[types]])
    drive = {"semantic": sem[types] @ rng.standard_normal(d) / np.sqrt(d),
             "acoustic": ac[types], "none": np.zeros(n_words)}[effect]  # fmt: skip

    def brain(lag, roi):
        Y = rng.standard_normal((n_words, n_rois, LAGS.size))
        bump = np.exp(-0.5 * ((LAGS - lag) / 0.07) ** 2)
        Y[:, roi, :] += size * drive[:, None] * bump[None]
        return Y

    Ys, Yl = brain(speaker_lag, 0), brain(listener_lag, 1)
    return {"X": X, "Y_speaker": Ys, "Y_listener": Yl, "times": times,
            "speakers": speakers, "turns": turn, "acoustic": ac[types][:, None]}  # fmt: skip
