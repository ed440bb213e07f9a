"""hyperalign: hyperscanning of conversation.

Time-align two brains with the transcribed conversation, turn utterances and words into
semantic and acoustic predictors, measure inter-brain synchrony and test whether semantic
alignment explains it beyond acoustics.

The top-level namespace is kept small and light: ``import hyperalign`` does not import
torch, transformers or statsmodels; those load inside the functions that need them.
"""

from .dyad import Dyad, Participant, make_participant_raw
from .transcript import Transcript, TranscriptError
from .utils import set_log_level

__version__ = "0.1.0.dev0"

__all__ = [
    "Dyad",
    "Participant",
    "Transcript",
    "TranscriptError",
    "make_participant_raw",
    "set_log_level",
    "__version__",
]
