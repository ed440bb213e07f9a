"""A docstring dictionary and ``fill_doc``, as MNE-Python does it (``mne/utils/docs.py``).

Every parameter described in more than one place is written once here; a docstring names it
as ``%(name)s`` and :func:`fill_doc` substitutes the text, indented to match.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)

docdict: dict[str, str] = {}

docdict["verbose"] = """
verbose : bool | str | int | None
    Control verbosity of the logging output. If ``None``, use the package level (set with
    :func:`hyperalign.utils.set_log_level`). ``True`` is ``'INFO'``, ``False`` is
    ``'WARNING'``; a level name (``'DEBUG'``, ``'INFO'``, ...) or an int is used as is."""

docdict["random_state"] = """
random_state : None | int | numpy.random.Generator
    Seed or generator for the random numbers. ``None`` draws fresh entropy (results then
    differ between calls); an int makes them reproducible."""

docdict["n_jobs"] = """
n_jobs : int | None
    Number of jobs (threads or processes) to run in parallel, with joblib's meaning:
    ``None`` or ``1`` runs serially, ``-1`` uses every core the process may use, ``-2`` all
    but one."""

docdict["picks"] = """
picks : str | array-like of str | array-like of int | None
    Channels to include, as in MNE: channel names, indices, or channel types (``'eeg'``,
    ``'hbo'``, ...). ``None`` takes the data channels. Channels in ``info['bads']`` are
    excluded unless named explicitly."""

docdict["bands"] = """
bands : dict of str to tuple of float
    Frequency bands, ``{name: (fmin, fmax)}`` in Hz, with ``0 < fmin < fmax`` and ``fmax``
    below the Nyquist frequency."""

docdict["lags"] = """
lags : array-like of float
    Lags in seconds. A positive lag means the second signal follows the first."""

docdict["cache"] = """
cache : str | pathlib.Path | bool | None
    Folder for cached results. ``None`` uses ``$HYPERALIGN_CACHE`` or
    ``~/.cache/hyperalign``; ``False`` disables the cache. Entries are keyed on the content of
    the inputs and the parameters, so a changed input is never served stale."""

docdict["device"] = """
device : str | None
    Torch device (``'cpu'``, ``'cuda'``, ``'cuda:1'``, ...) for the torch backend; ``None``
    picks CUDA when available, else the CPU. Results always come back as NumPy arrays."""

docdict["backend"] = """
backend : 'numpy' | 'torch' | 'torch_cuda'
    Array backend for the computation, chosen per call (as in himalaya). Results come back as
    NumPy arrays whatever the backend."""

docdict["dyad"] = """
dyad : hyperalign.Dyad
    One conversation: two participants' recordings, their microphones and the transcript on
    one clock."""


# ---- pipeline: the per-dyad step cache (pipeline.cache.StepCache)
docdict["cache_step"] = """
step : str
    Step name (``'features'``, ``'sync'``, ...)."""

docdict["cache_item"] = """
item : str
    Item (dyad id); made file-name safe."""

docdict["cache_key"] = """
key : str
    Content key of the entry."""

docdict["cache_fmt"] = """
fmt : 'table' | 'coupling' | 'json' | 'pickle' | 'text'
    How the value is stored (parquet, netCDF, JSON, ``'pickle'`` for any picklable object,
    e.g. the dyads of the data step or a statistics result, read back only after its checksum
    matched, or ``'text'`` for a str, e.g. a table's CSV text). Called ``kind`` before; that
    name is a deprecated alias."""


# ---- readers, clocks, masks and epochs (io, align, transcribe)
docdict["speech_level"] = """
level : 'utterances' | 'words'
    Speech spans: whole utterances (pauses inside an utterance count as speaking) or
    individual words."""

docdict["fill_gaps"] = """
fill_gaps : float
    Merge spans of one speaker separated by less than this (s)."""

docdict["transcript_speakers"] = """
speakers : mapping | sequence of str | None
    A mapping renames speaker labels to participant ids (``{'SPEAKER_00': 'A'}``); a
    sequence lists the allowed ids (any other label is an error naming the row)."""

docdict["transcript_duration"] = """
duration : float | None
    Recording length (s); words past it are an error."""

docdict["pause_threshold"] = """
pause_threshold : float
    Pause (s) between two words of one speaker that starts a new utterance."""

docdict["on_overlap"] = """
on_overlap : 'raise' | 'clip'
    Overlapping words of one speaker: an error, or clipped (logged in
    ``transcript.fixes``)."""

docdict["encoding"] = """
encoding : str | None
    Text encoding of the file (a Python codec name, e.g. ``'cp1252'``). ``None``: strict
    UTF-8 (a BOM is removed) or UTF-16 with a BOM; a file that does not decode is an error
    naming the byte offset, never decoded silently as Latin-1."""

docdict["epochs_baseline"] = """
baseline : tuple | None
    Passed to :class:`mne.Epochs` (default: no baseline correction)."""

docdict["epochs_picks"] = """
picks : str | list | None
    Channels (MNE ``picks``). ``None``: every channel not marked bad (MNE's rule); the bad
    channels left out are counted in ``dyad.exclusions`` (kind ``'channel'``), and a
    participant whose channels are all bad is an error."""

docdict["reject_by_annotation"] = """
reject_by_annotation : bool
    Drop epochs overlapping ``BAD_*`` annotations (counted in ``dyad.exclusions``)."""

docdict["decim"] = """
decim : int
    Decimation factor."""

docdict["example_dyad"] = """
>>> import numpy as np
>>> import pandas as pd
>>> import hyperalign as ha
>>> rng = np.random.default_rng(0)
>>> words = pd.DataFrame({"onset": [1.0, 1.4, 3.0], "offset": [1.3, 1.8, 3.4],
...                       "word": ["hello", "there", "hi"], "speaker": ["A", "A", "B"]})
>>> raws = [ha.make_participant_raw(rng.standard_normal((2, 1000)) * 1e-6, 100.0)
...         for _ in range(2)]
>>> dyad = ha.Dyad([ha.Participant("A", raws[0]), ha.Participant("B", raws[1])],
...                ha.Transcript(words), dyad_id="d01")"""

# ---- acoustic features (features.acoustic)
docdict["f0_method"] = """
f0_method : 'praat' | 'pyin'
    Praat's autocorrelation pitch (parselmouth, default) or librosa's pYIN (slower)."""

docdict["f0_range"] = """
f0_min, f0_max : float
    Pitch floor and ceiling (Hz). ``f0_min`` also sets the intensity window."""

docdict["envelope_method"] = """
envelope : 'hilbert' | 'rms'
    Hilbert magnitude of the audio (anti-aliased down to the frame rate) or frame RMS
    (the square root of the Praat-like mean square)."""

docdict["env_lowpass"] = """
env_lowpass : float
    Low-pass cut-off of the envelope (Hz, 4th-order zero-phase Butterworth)."""

docdict["n_mels"] = """
n_mels : int
    Number of mel bands of the log-mel spectrogram (used for MFCCs)."""

docdict["frame_rate"] = """
frame_rate : float
    Frame rate of the analysis grid (Hz); hop = ``1 / frame_rate``."""


def _indent(text: str, indent: str) -> str:
    lines = text.strip("\n").splitlines()
    return "\n".join((indent + ln) if ln.strip() else "" for ln in lines)


def fill_doc(f: F) -> F:
    """Fill a docstring with entries of :data:`docdict` (``%(name)s``), matching indentation.

    Parameters
    ----------
    f : callable
        The function or class whose ``__doc__`` is filled in place.

    Returns
    -------
    f : callable
        The same object.
    """
    doc = f.__doc__
    if not doc:
        return f
    lines = doc.splitlines()
    out = []
    for ln in lines:
        stripped = ln.strip()
        if stripped.startswith("%(") and stripped.endswith(")s"):
            key = stripped[2:-2]
            if key not in docdict:
                raise KeyError(f"fill_doc: {f.__qualname__} uses unknown docdict entry {key!r}")
            indent = ln[: len(ln) - len(ln.lstrip())]
            out.append(_indent(docdict[key], indent))
        else:
            out.append(ln)
    f.__doc__ = "\n".join(out)
    return f
