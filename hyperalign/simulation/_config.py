"""The parameters of :func:`~hyperalign.simulation.simulate_conversation` as one object.

:class:`ConversationConfig` holds every parameter of the generative model (all of
``simulate_conversation``'s parameters but ``random_state``, ``dyad_id`` and ``verbose``,
which name one draw rather than a model). The parameters are documented once, here
(:data:`PARAMETERS_DOC`), for both the function and the class.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..utils import _validate_type

__all__ = ["ConversationConfig", "DEFAULTS"]

#: default effect sizes, in units of the background's per-channel standard deviation
DEFAULTS = {
    "coupling_base": 0.5,
    "semantic_coupling": 0.08,
    "acoustic_coupling": 0.1,
    "acoustic_entrainment": 0.4,
    "word_response": 0.6,
    "confound": 0.5,
}

#: the numpydoc entries of the model's parameters (``simulate_conversation`` and
#: ``ConversationConfig`` both show them, through :func:`fill_parameters`)
PARAMETERS_DOC = """\
duration : float
    Length of the recordings (s).
sfreq : float | None
    Neural sampling rate (Hz); ``None`` gives 256 (512 for ``ch_type='seeg'``).
n_channels : int
    Channels per participant.
ch_type : ``'eeg'`` | ``'mag'`` | ``'seeg'``
    EEG over the ``standard_1020`` montage (volts, ~20 µV per channel), MEG-like
    magnetometers (tesla, ~200 fT) or high-gamma iEEG-like contacts (volts; the effects
    modulate 70–150 Hz activity).
audio : bool
    Synthesize microphone audio (prosody is planted and in the ground truth either way).
audio_sfreq : float
    Audio sampling rate (Hz).
semantic_coupling : float
    Slope of the shared component's amplitude on the z-scored semantic alignment.
acoustic_coupling : float
    Slope of that amplitude on the z-scored acoustic similarity with the previous turn.
coupling_base : float
    Amplitude of the shared component at average alignment.
coupling_band : (float, float) | None
    Band of the shared component (default theta 4–8 Hz; 70–150 Hz for ``'seeg'``).
coupling_lag : float | (float, float)
    Listener lag (s), or a range to draw it from once per dyad.
coupling_channels : list of str | None
    Channels of the shared component (default frontal-central EEG sites; an index block
    for ``'mag'``/``'seeg'``).
acoustic_entrainment : float
    Size of the envelope-tracking response (filtered in ``entrainment_band``, lagged by
    ``entrainment_lag`` s) to the speech each participant hears or produces.
entrainment_band : (float, float)
    Band (Hz) of the envelope that the brain tracks.
entrainment_lag : float
    Lag (s) of the envelope-tracking response.
entrainment_channels : list of str | None
    Channels of the envelope-tracking response (default temporal/central EEG sites; an
    index block for ``'mag'``/``'seeg'``).
confound : float
    Target correlation between a turn's acoustic similarity with the previous turn and
    its semantic alignment (realized value reported in ``effects``).
word_response : float
    Peak size of the word-locked response (linear in :func:`word_vector`), at
    ``word_latency[0]`` s from word onset in the speaker and ``word_latency[1]`` s in the
    listener.
word_latency : (float, float)
    Peak latency (s from word onset) of the word response in the speaker and in the
    listener.
word_channels : list of str | None
    Channels of the word-locked response (default centro-parietal EEG sites; an index
    block for ``'mag'``/``'seeg'``).
word_dim : int
    Dimension of the word vectors.
null : bool
    Set ``semantic_coupling`` to 0 (the confound and acoustic coupling stay).
dyad_heterogeneity : float
    SD of the dyad's random deviations of ``coupling_base`` (log scale) and of
    ``semantic_coupling`` (relative).
topic_stay : float
    Probability that the next turn stays on the current topic.
overlap_prob, backchannel_prob : float
    Probability that a turn starts inside the previous turn's last word, and that a
    turn of >= 6 words receives a one-word backchannel of the listener.
wpm : (float, float)
    Range of the conversation's speech rate (words per minute across both talkers).
speaker_f0_spread : float
    SD (semitones) of the two speakers' F0 baselines around the dyad's.
prosody_step : float
    Typical prosodic change between turns (in units of 1.5 st, 2 dB, 0.3 words/s).
background : ``'1/f'`` | ``'spkit'``
    Neural background: spatially mixed 1/f noise, or tiled segments of real EEG from
    ``spkit``; an alpha rhythm and white sensor noise are added to both.
alpha_amplitude, sensor_noise : float
    Alpha rhythm and white noise sizes relative to the background.
bleed : float
    Amplitude of the partner's speech in each microphone (cross-talk).
audio_noise_db : float
    Microphone noise level (dB re 2e-5).
layer_hierarchy : dict | list of dict | None
    Word-level responses linear in a layer's vectors (see
    :mod:`hyperalign.simulation._layers`): ``{roi: layer}`` or rows ``{'roi', 'layer',
    'role' ('listener' | 'speaker' | 'both'), 'lag' (s from word onset; default
    ``word_latency`` of the role), 'size' (default ``layer_response``), 'null'}``.
    Planted rows are in ``truth.effects`` (``effect='layer_response'``, ``roi``,
    ``layer``, ``lag_s``, ``size``) and the features in ``truth.layers``.
model_coupling : dict | list of dict | None
    Model-based speaker -> listener coupling: rows ``{'speaker_roi', 'listener_roi',
    'layer', 'speaker_lag' (default ``word_latency[0]``), 'listener_lag' (default
    ``word_latency[1]``), 'size', 'null'}`` (``effect='model_coupling'`` in
    ``truth.effects``).
layer_features : None | LayerEmbeddings | array | dict | callable
    Source of the planted layer vectors: ``None`` derives deterministic layer-like
    features (7 layers x 64 dims, growing context mixing; see
    :func:`~hyperalign.simulation.derived_layer_features`); a ``LayerEmbeddings`` of
    this transcript, an array ``(n_words, n_layers, d)``, a dict of named
    ``(n_words, d)`` feature spaces, or a callable of the simulated transcript
    returning one of these.
rois : dict of str to list of str | None
    Named ROIs for ``layer_hierarchy`` and ``model_coupling``; ``None`` uses
    :func:`~hyperalign.simulation.default_rois` (frontal, central, temporal, parietal,
    occipital).
layer_response : float
    Default ``size`` of the planted layer responses and coupling (background SD units)."""

_PLACEHOLDER = "%(conversation_parameters)s"


def fill_parameters(obj):
    """Replace the docstring line ``%(conversation_parameters)s`` by :data:`PARAMETERS_DOC`.

    Parameters
    ----------
    obj : callable
        A function or class whose ``__doc__`` has the placeholder on a line of its own.

    Returns
    -------
    obj : callable
        The same object, its ``__doc__`` filled (indented like the placeholder).
    """
    out = []
    for ln in (obj.__doc__ or "").splitlines():
        if ln.strip() == _PLACEHOLDER:
            indent = ln[: len(ln) - len(ln.lstrip())]
            out.extend(indent + x if x else x for x in PARAMETERS_DOC.splitlines())
        else:
            out.append(ln)
    obj.__doc__ = "\n".join(out)
    return obj


@fill_parameters
@dataclass(frozen=True)
class ConversationConfig:
    """The generative model of a simulated conversation: every parameter in one object.

    ``simulate_conversation(config=cfg)`` simulates with these values; a keyword passed
    to :func:`~hyperalign.simulation.simulate_conversation` alongside ``config`` with a
    value other than its default overrides the config's value. The seed (``random_state``)
    and the dyad's id are not part of the model: pass them to the function. Make variants
    with :meth:`replace`; :meth:`to_dict` gives the keywords.

    Parameters
    ----------
    %(conversation_parameters)s

    See Also
    --------
    hyperalign.simulation.simulate_conversation : Simulate one dyad from a config.
    hyperalign.simulation.simulate_study : Several dyads (keywords pass to the function).

    Examples
    --------
    >>> from hyperalign.simulation import ConversationConfig, simulate_conversation
    >>> small = ConversationConfig(duration=20, n_channels=4, audio=False)
    >>> strong = small.replace(semantic_coupling=0.3)
    >>> dyad, truth = simulate_conversation(config=strong, random_state=0)
    >>> dyad.meta["simulation"]["semantic_coupling"], len(dyad.merged_raw().ch_names)
    (0.3, 8)
    """

    duration: float = 300.0
    sfreq: float | None = None
    n_channels: int = 32
    ch_type: str = "eeg"
    audio: bool = True
    audio_sfreq: float = 16000
    semantic_coupling: float = DEFAULTS["semantic_coupling"]
    acoustic_coupling: float = DEFAULTS["acoustic_coupling"]
    coupling_base: float = DEFAULTS["coupling_base"]
    coupling_band: tuple[float, float] | None = None
    coupling_lag: float | tuple[float, float] = (0.1, 0.2)
    coupling_channels: list[str] | None = None
    acoustic_entrainment: float = DEFAULTS["acoustic_entrainment"]
    entrainment_band: tuple[float, float] = (1.0, 8.0)
    entrainment_lag: float = 0.1
    entrainment_channels: list[str] | None = None
    confound: float = DEFAULTS["confound"]
    word_response: float = DEFAULTS["word_response"]
    word_latency: tuple[float, float] = (-0.2, 0.3)
    word_channels: list[str] | None = None
    word_dim: int = 16
    null: bool = False
    dyad_heterogeneity: float = 0.0
    topic_stay: float = 0.65
    overlap_prob: float = 0.15
    backchannel_prob: float = 0.35
    wpm: tuple[float, float] = (155.0, 170.0)
    speaker_f0_spread: float = 0.7
    prosody_step: float = 1.0
    background: str = "1/f"
    alpha_amplitude: float = 0.8
    sensor_noise: float = 0.1
    bleed: float = 0.05
    audio_noise_db: float = 30.0
    layer_hierarchy: Any = None
    model_coupling: Any = None
    layer_features: Any = None
    rois: dict | None = None
    layer_response: float = 0.5

    def replace(self, **changes) -> ConversationConfig:
        """A copy with some parameters changed.

        Parameters
        ----------
        **changes
            New values, by parameter name.

        Returns
        -------
        config : ConversationConfig
            The new configuration (this one is unchanged).
        """
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise TypeError(
                f"ConversationConfig.replace got unknown parameter(s) {unknown}; the parameters "
                "are those of simulate_conversation but random_state, dyad_id and verbose"
            )
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The parameters as keywords of ``simulate_conversation``.

        Returns
        -------
        params : dict
            ``{name: value}`` for every parameter (a shallow copy).
        """
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def _is_default(value, default) -> bool:
    if value is default:
        return True
    if type(value) is not type(default) or not isinstance(value, int | float | str | tuple):
        return False
    return bool(value == default)


def merge_config(config, args: dict) -> dict:
    """``simulate_conversation``'s arguments with ``config``'s values where a keyword was
    left at its default (a keyword with another value overrides the config)."""
    _validate_type(config, ConversationConfig, "config", "ConversationConfig or None")
    out = dict(args)
    for f in dataclasses.fields(ConversationConfig):
        if _is_default(args[f.name], f.default):
            out[f.name] = getattr(config, f.name)
    return out
