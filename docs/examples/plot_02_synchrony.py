"""
Inter-brain synchrony per utterance
===================================

:func:`hyperalign.coupling.compute_dyad_sync` cuts both recordings into utterance windows and
computes inter-brain synchrony (here PLV and circular correlation) per band, channel pair and
speaker-to-listener lag. The result is a labelled :class:`hyperalign.coupling.Coupling`.
"""

# %%
import matplotlib.pyplot as plt

from hyperalign.coupling import compute_dyad_sync, plot_lag_profile
from hyperalign.simulation import simulate_conversation

dyad, truth = simulate_conversation(duration=60, n_channels=8, sfreq=128, random_state=1)
coupling = compute_dyad_sync(
    dyad, metrics=("plv",), bands={"theta": (4, 8)}, lags=(0.0, 0.1, 0.2), min_duration=1.0
)
coupling

# %%
# Tidy output: one row per utterance, band, lag and channel pair.
coupling.to_data_frame().head()

# %%
# The lag profile averages over utterances and channel pairs, with a 95 % interval.
fig, ax = plt.subplots(figsize=(5, 3))
plot_lag_profile(coupling, ax=ax)
plt.tight_layout()
