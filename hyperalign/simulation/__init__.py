"""Simulated dyadic conversations with planted, known effects (the embedded default data).

Generative model
----------------
**Dialogue.** Two talkers (``f"{dyad_id}-P1"``, role ``'A'``; ``"-P2"``, role ``'B'``)
alternate turns. Each turn is one sentence of the shipped corpus
(:func:`~hyperalign.simulation.corpus.load_corpus`: 336 spoken-style utterances over 12
topics). Topics follow a Markov chain (stay with probability ``topic_stay``, else switch to
another topic at random), so consecutive turns range from on-topic replies to topic switches.
The true ``semantic_alignment`` of a turn is the cosine between the shipped all-MiniLM-L6-v2
embeddings of this turn and the previous one (by the other talker) - what the analysis
measures with MiniLM. Words get syllable-proportional durations with short gaps (pauses
< 0.5 s inside a turn); turns follow after gamma-distributed gaps or start inside the
previous turn's last word (``overlap_prob``); the listener sometimes produces a one-word
backchannel inside a turn (``backchannel_prob``). The time axis is scaled so that the
conversation runs at 155-170 words per minute. The :class:`~hyperalign.Transcript` (pause
threshold 0.5 s) reproduces every planted utterance; ground-truth rows are keyed by its
``utterance_id``.

**Prosody and the confound.** Each talker has baselines of F0 (semitones re 100 Hz),
intensity (dB) and rate (words/s). A turn's prosody moves from the previous turn's by a step
``prosody_step * exp(-0.45 a) * (1.5 st, 2 dB, 0.3 wps)`` (signs pulled towards the talker's
baseline) with ``a = confound * z(semantic_alignment) + sqrt(1 - confound**2) * e``: the more
aligned a turn, the closer its prosody to the previous turn's. ``acoustic_similarity =
-mean_k |z_k(u) - z_k(u-1)|`` over (F0 st, intensity dB, rate), each z-scored over the
dyad's turns; its correlation with semantic alignment is about ``confound``.

**Audio** (16 kHz, one microphone each). A harmonic complex on a declining F0 contour
(+1.5 to -1.5 st around the turn's ``f0_mean``), with a syllabic envelope (one sin² bump per
syllable, ~4-5 Hz), scaled so that the RMS over the utterance equals
``2e-5 * 10 ** (intensity_db / 20)``; plus ``bleed`` times the partner's speech and white
noise at ``audio_noise_db``. Silence (noise only) when not speaking.

**Neural signals** per participant, in units of the background SD then scaled to volts
(EEG, ~20 µV), tesla (``'mag'``, ~200 fT) or volts (``'seeg'``): spatially mixed 1/f
background (or tiled real EEG from ``spkit``), a posterior alpha rhythm and white sensor
noise, plus the planted effects:

(a) *acoustic entrainment*: the envelope of all speech heard or produced, band-passed in
    ``entrainment_band`` (1-8 Hz), lagged by ``entrainment_lag`` (0.1 s), z-scored, times
    ``acoustic_entrainment``, added to temporal/central channels (``'seeg'``: modulates
    70-150 Hz activity).
(b) *shared component*: band-limited noise in ``coupling_band`` (theta 4-8 Hz), common to
    both brains, Tukey-tapered over each turn with amplitude
    ``amp_u = max(0, coupling_base + semantic_coupling * z(sem_align_u)
    + acoustic_coupling * z(acsim_u))``; it appears in the speaker's frontal-central
    channels during the turn and in the listener's, delayed by the dyad's ``lag``
    (0.1-0.2 s).
(c) *confound*: see prosody; ``null=True`` sets ``semantic_coupling = 0`` and keeps the
    confound and the acoustic coupling, so a model without acoustic similarity finds a
    spurious semantic effect and a model with it does not.
(d) *word-locked responses*: a Gaussian bump (SD 50 ms) per word, peaking at -0.2 s from
    word onset in the speaker and +0.3 s in the listener, with per-channel gain
    ``word_response * (1 + W @ word_vector(word))`` on centro-parietal channels.
(e) *layer hierarchy and model-based coupling* (off unless ``layer_hierarchy`` or
    ``model_coupling`` is given): named ROIs respond, word by word, linearly to a named
    layer of a model or a named feature space (``size * u_c . z_w`` at ``onset + lag``), and
    a shared projection of a layer appears in the speaker's ROI at a speaker lag and in the
    listener's ROI at a listener lag. The layer vectors are derived deterministically
    (:func:`derived_layer_features`) or passed in (``layer_features``: a
    ``LayerEmbeddings``, arrays, or a callable of the transcript). Rows are in
    ``truth.effects`` (``effect`` ``'layer_response'`` / ``'model_coupling'``, ``roi``,
    ``layer``, ``lag_s``, ``speaker_lag_s``, ``listener_lag_s``, ``size``, ``null``), the
    features and weights in ``truth.layers`` (see :mod:`hyperalign.simulation._layers`).
    These effects draw from their own generator: the rest of the dyad is unchanged.

All the parameters of the model can be held in one :class:`ConversationConfig`
(``simulate_conversation(config=...)``; keywords still work and override it).

Default sizes (background SD units): ``coupling_base=0.5``, ``semantic_coupling=0.08``,
``acoustic_coupling=0.1``, ``confound=0.5``, ``acoustic_entrainment=0.4``,
``word_response=0.6``. Measured on 5 simulated studies of 8 dyads x 300 s (8 EEG channels,
128 Hz; about 550 turns >= 2 s per study): per-turn theta PLV in the planted channels
(mean over the 4 x 4 speaker-listener pairs), regressed on semantic alignment + acoustic
similarity + log duration with dyad fixed effects, gives t = 2.1-5.1 (mean 3.9) for
semantic alignment at zero lag and t = 12-14 at the planted lag; under ``null=True`` the
naive model (no acoustic similarity) gives t = 1.3-3.5 at zero lag (6.6-8.5 at the planted
lag) and the controlled model t = -0.1-1.3 (-1.3-0.3). The realized correlation between
acoustic similarity and semantic alignment is 0.45-0.52 for ``confound=0.5``. With the
project's own pipeline (:func:`hyperalign.coupling.compute_dyad_sync`, HyPyP filter, theta,
zero lag, ROI = the planted channels, OLS with dyad fixed effects, acoustic similarity and
log duration): PLV t = 7.6 and CCorr t = 6.6 for one study at the defaults, t = 2.9-3.2
(PLV) and 1.8-2.5 (CCorr) for three studies at ``semantic_coupling=0.05``; under
``null=True`` the controlled t = -1.1 to 1.6 over five studies (naive t = 5-6).
``semantic_coupling`` scales these t values about linearly.
"""

from ..utils._lazy import attach_stub as _attach_stub

__getattr__, __dir__, __all__ = _attach_stub(__name__, __file__)
