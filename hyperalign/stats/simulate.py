"""A table-level generator of analysis tables with known semantic / acoustic effects.

For unit tests, benchmarks and fast validation of the statistics without simulating EEG.
The full-pipeline validation uses :func:`hyperalign.simulation.simulate_study`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..utils import check_random_state, fill_doc


@fill_doc
def simulate_analysis_table(
    n_dyads: int = 8,
    n_utterances: int = 300,
    *,
    semantic_effect: float = 0.1,
    acoustic_effect: float = 0.3,
    confound: float = 0.6,
    dyad_sd: float = 0.3,
    listener_sd: float = 0.0,
    noise_sd: float = 1.0,
    bands: tuple[str, ...] = ("theta",),
    rois: tuple[str, ...] = ("all",),
    lags: tuple[float, ...] = (0.0,),
    effect_cells: tuple | None = None,
    random_state=None,
) -> pd.DataFrame:
    """Simulate an analysis table (``build_analysis_table`` layout).

    ``sem_align ~ N(0, 1)``; ``acsim = confound * sem_align + sqrt(1 - confound²) * N(0, 1)``;
    in the effect cells
    ``sync = semantic_effect * sem_align + acoustic_effect * acsim + u_dyad + e``;
    elsewhere only the acoustic effect and noise.

    Parameters
    ----------
    n_dyads : int
        Number of dyads.
    n_utterances : int
        Utterances per dyad.
    semantic_effect, acoustic_effect : float
        Slopes (in SD of the noise).
    confound : float in [-1, 1]
        Correlation between semantic alignment and acoustic similarity.
    dyad_sd, listener_sd, noise_sd : float
        Random-intercept SD per dyad, per listener within dyad, residual SD.
    bands, rois, lags : tuples
        Cells (every cell gets its own noise).
    effect_cells : tuple | None
        ``(band, roi, lag)`` cells with the semantic effect; ``None`` = all cells.
    %(random_state)s

    Returns
    -------
    table : pandas.DataFrame
        Columns ``dyad, utterance_id, speaker, listener, listener_uid, band, roi, lag,
        metric, sync, sem_align, acsim, ac_f0_mean, duration, n_words``.

    See Also
    --------
    test_semantic_beyond_acoustics, hyperalign.simulation.simulate_study
    """
    if not -1 <= confound <= 1:
        raise ValueError(f"confound must be in [-1, 1]; got {confound}")
    rng = check_random_state(random_state)
    n = n_dyads * n_utterances
    dyad = np.repeat([f"d{i:02d}" for i in range(n_dyads)], n_utterances)
    utt = np.tile(np.arange(n_utterances), n_dyads)
    speaker = np.where(utt % 2 == 0, "A", "B")
    listener = np.where(utt % 2 == 0, "B", "A")
    sem = rng.standard_normal(n)
    acsim = confound * sem + np.sqrt(1 - confound**2) * rng.standard_normal(n)
    base = pd.DataFrame(
        {
            "dyad": dyad,
            "utterance_id": utt,
            "speaker": speaker,
            "listener": listener,
            "sem_align": sem,
            "acsim": acsim,
            "ac_f0_mean": rng.standard_normal(n),
            "duration": rng.uniform(2, 6, n),
            "n_words": rng.integers(4, 20, n),
        }
    )
    base["listener_uid"] = base["dyad"] + ":" + base["listener"]
    frames = []
    for b in bands:
        for r in rois:
            for lag in lags:
                u = np.repeat(rng.normal(0, dyad_sd, n_dyads), n_utterances)
                lu = (
                    rng.normal(0, listener_sd, (n_dyads, 2))
                    if listener_sd
                    else np.zeros((n_dyads, 2))
                )
                lis = lu[
                    np.repeat(np.arange(n_dyads), n_utterances), (listener == "B").astype(int)
                ]
                eff = effect_cells is None or (b, r, lag) in [tuple(c) for c in effect_cells]
                y = (
                    acoustic_effect * acsim
                    + (semantic_effect * sem if eff else 0.0)
                    + u
                    + lis
                    + rng.normal(0, noise_sd, n)
                )
                frames.append(base.assign(band=b, roi=r, lag=lag, metric="plv", sync=y))
    return pd.concat(frames, ignore_index=True)
