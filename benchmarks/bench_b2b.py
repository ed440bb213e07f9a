"""Model-based brain-to-brain coupling on a demo-sized dyad: time per stage and recovery.

Problem: one simulated dyad, 5 minutes at 256 Hz, 32 EEG channels per brain in 5 ROIs,
a planted model-based coupling (frontal -> parietal, speaker lag -0.2 s, listener lag
+0.3 s, on layer_3 of the simulator's planted model), the Zada lag grid (129 lags,
-4..4 s, 250 ms windows) for both brains, 5 shared folds, 17 penalties, the raw, residual
(word rate as nuisance) and direct maps in the three directions, and 19 circular nulls
(each refitted: the listener models of ``l2s`` ride along as extra targets).

Run: ``python benchmarks/bench_b2b.py`` (about a minute on 2 cores); output saved to
``benchmarks/results/bench_b2b.txt``.
"""

from __future__ import annotations

import io
import time
from contextlib import redirect_stdout
from pathlib import Path

QUIET = {"word_response": 0.0, "acoustic_entrainment": 0.0, "coupling_base": 0.0,
         "semantic_coupling": 0.0, "acoustic_coupling": 0.0, "audio": False}  # fmt: skip
ROW = {"speaker_roi": "frontal", "listener_roi": "parietal", "layer": "layer_3",
       "speaker_lag": -0.2, "listener_lag": 0.3, "size": 1.0}  # fmt: skip


def main() -> None:
    from hyperalign.encoding import fit_b2b_coupling
    from hyperalign.simulation import simulate_conversation

    t0 = time.perf_counter()
    d, t = simulate_conversation(duration=300, n_channels=32, random_state=3,
                                 model_coupling=ROW, **QUIET)  # fmt: skip
    t_sim = time.perf_counter() - t0
    X, rois = t.layers["spaces"]["layer_3"], t.layers["rois"]
    print(f"dyad: {len(d.transcript.words)} words, 32 channels -> {len(rois)} ROIs, "
          f"features {X.shape[1]}; simulated in {t_sim:.1f} s")  # fmt: skip
    for n_perm in (0, 19):
        c0, w0 = time.process_time(), time.perf_counter()
        res = fit_b2b_coupling(d, X, lags="zada2024", rois=rois, nuisance="word_rate",
                               n_permutations=n_perm, random_state=0)  # fmt: skip
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        print(f"n_permutations={n_perm:2d}: wall {wall:6.1f} s, CPU {cpu:6.1f} s, "
              f"maps {dict(res.dataset.sizes)}")  # fmt: skip
    for kind in ("raw", "residual", "direct"):
        pk = res.peak(kind, "sym", roi_speaker="frontal", roi_listener="parietal")
        pf = float(res.dataset["p_fwer"].sel(kind=kind, direction="sym", roi_speaker="frontal",
                   roi_listener="parietal", speaker_lag=pk["speaker_lag"],
                   listener_lag=pk["listener_lag"]))  # fmt: skip
        print(f"{kind:8s} sym peak: speaker lag {pk['speaker_lag']:+.4f} s, listener lag "
              f"{pk['listener_lag']:+.4f} s, r {pk['r']:.3f}, p_fwer {pf:.3f} "
              "(planted -0.2 / +0.3)")  # fmt: skip


if __name__ == "__main__":
    buf = io.StringIO()
    with redirect_stdout(buf):
        main()
    out = buf.getvalue()
    print(out, end="")
    path = Path(__file__).parent / "results" / "bench_b2b.txt"
    path.write_text(out)
