"""
Simulate a conversation, write it as BIDS and read it back
==========================================================

hyperalign ships a simulator that makes whole dyadic conversations (two EEG recordings, two
microphones and a word-level transcript) with planted, known effects. Here we simulate a short
dyad, look at what it contains, write it as a BIDS dataset paired by ``dyads.tsv`` and read it
back.
"""

# %%
import tempfile

from hyperalign.io import read_bids_dyads, validate_dataset, write_bids_dyads
from hyperalign.simulation import simulate_conversation

dyad, truth = simulate_conversation(duration=40, n_channels=8, sfreq=128, random_state=0)
print(dyad)

# %%
# The transcript holds one row per word and one per utterance; speaker labels are the
# participant ids.
dyad.transcript.utterances[["utterance_id", "speaker", "onset", "offset", "text"]].head()

# %%
# The ground truth lists every planted effect.
truth.effects

# %%
# Write the dyad as BIDS, validate the folder against ``data_specs/`` and read it back.
root = tempfile.mkdtemp()
write_bids_dyads([dyad], root)
print(validate_dataset(root) or "no problems found")
dyads, report = read_bids_dyads(root)
report
