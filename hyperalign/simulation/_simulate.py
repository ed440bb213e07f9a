"""simulate_conversation / simulate_study: dyads with planted, known effects."""

from __future__ import annotations

import hashlib
import time
from types import SimpleNamespace

import numpy as np
import pandas as pd

from ..dyad import Dyad
from ..transcript import Transcript
from ..utils import (
    check_option,
    check_positive,
    check_random_state,
    fill_doc,
    logger,
    verbose,
)
from ._config import DEFAULTS, ConversationConfig, fill_parameters, merge_config
from ._dialogue import _zscore, make_dialogue
from ._neural import HIGH_GAMMA, _add_audio, _channel_layout, _neural_signals
from ._truth import GroundTruth, StudyTruth, _token_vector, word_vector

__all__ = [
    "ConversationConfig",
    "DEFAULTS",
    "GroundTruth",
    "StudyTruth",
    "simulate_conversation",
    "simulate_study",
    "word_vector",
    "_token_vector",
]


def _check_band(name: str, band, sfreq: float) -> tuple[float, float]:
    try:
        lo, hi = (float(b) for b in band)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a (fmin, fmax) pair in Hz; got {band!r}") from None
    if not 0 < lo < hi < sfreq / 2:
        raise ValueError(
            f"{name} must satisfy 0 < fmin < fmax < sfreq/2 = {sfreq / 2:g} Hz; got {band!r} "
            "(raise sfreq or lower the band)"
        )
    return lo, hi


@fill_doc
@verbose
@fill_parameters
def simulate_conversation(
    duration: float = 300.0,
    sfreq: float | None = None,
    n_channels: int = 32,
    ch_type: str = "eeg",
    *,
    audio: bool = True,
    audio_sfreq: float = 16000,
    semantic_coupling: float = DEFAULTS["semantic_coupling"],
    acoustic_coupling: float = DEFAULTS["acoustic_coupling"],
    coupling_base: float = DEFAULTS["coupling_base"],
    coupling_band: tuple[float, float] | None = None,
    coupling_lag: float | tuple[float, float] = (0.1, 0.2),
    coupling_channels: list[str] | None = None,
    acoustic_entrainment: float = DEFAULTS["acoustic_entrainment"],
    entrainment_band: tuple[float, float] = (1.0, 8.0),
    entrainment_lag: float = 0.1,
    entrainment_channels: list[str] | None = None,
    confound: float = DEFAULTS["confound"],
    word_response: float = DEFAULTS["word_response"],
    word_latency: tuple[float, float] = (-0.2, 0.3),
    word_channels: list[str] | None = None,
    word_dim: int = 16,
    null: bool = False,
    dyad_heterogeneity: float = 0.0,
    topic_stay: float = 0.65,
    overlap_prob: float = 0.15,
    backchannel_prob: float = 0.35,
    wpm: tuple[float, float] = (155.0, 170.0),
    speaker_f0_spread: float = 0.7,
    prosody_step: float = 1.0,
    background: str = "1/f",
    alpha_amplitude: float = 0.8,
    sensor_noise: float = 0.1,
    bleed: float = 0.05,
    audio_noise_db: float = 30.0,
    layer_hierarchy=None,
    model_coupling=None,
    layer_features=None,
    rois: dict | None = None,
    layer_response: float = 0.5,
    config: ConversationConfig | None = None,
    random_state=None,
    dyad_id: str = "sim-01",
    verbose=None,
) -> tuple[Dyad, GroundTruth]:
    """Simulate one dyadic conversation with planted, known effects.

    See the :mod:`hyperalign.simulation` module docstring for the generative model.
    Effect sizes are in units of the background's per-channel standard deviation.

    Parameters
    ----------
    %(conversation_parameters)s
    config : ConversationConfig | None
        The parameters above as one object (:class:`ConversationConfig`); a keyword passed
        with a value other than its default overrides the config's value.
    random_state : None | int | numpy.random.Generator
        Seed; a given seed gives identical output.
    dyad_id : str
        Dyad id; participants are ``f"{dyad_id}-P1"`` (role ``'A'``) and ``"-P2"`` (``'B'``).
    %(verbose)s

    Returns
    -------
    dyad : Dyad
        Two participants (raw, audio), the transcript (speakers are participant ids) and
        ``meta['simulation']`` (the parameters).
    truth : GroundTruth
        Every planted utterance, word and effect.

    See Also
    --------
    simulate_study : Several independent dyads with the same planted effects.
    hyperalign.datasets.load_demo : The embedded default dataset.
    hyperalign.report.compute_recovery : Compare estimates with the planted truth.

    Examples
    --------
    A short, small conversation (real studies use minutes and 32 or more channels):

    >>> from hyperalign import simulate_conversation
    >>> dyad, truth = simulate_conversation(
    ...     duration=30, n_channels=4, audio=False, random_state=0
    ... )
    >>> dyad  # doctest: +ELLIPSIS
    <Dyad 'sim-01' | 30.0 s at 256 Hz | sim-01-P1_S1 (A): 4 ch eeg; ...>
    >>> truth.effects["effect"].tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['acoustic_entrainment', 'coupling_base', 'semantic_coupling', 'acoustic_coupling',
     'confound', 'word_response_speaker', 'word_response_listener']
    """
    t0 = time.perf_counter()
    args = dict(locals())
    args.pop("t0")
    config = args.pop("config")
    if config is not None:
        args = merge_config(config, args)
    c = _validated(args)
    rng = check_random_state(random_state)
    # the planted layers draw from their own generator, seeded by this one's state
    layer_seed = hashlib.sha256(repr(rng.bit_generator.state).encode()).hexdigest()

    # ---------------------------------------------------------------- dialogue
    dlg = make_dialogue(
        rng,
        float(c.duration),
        {
            "speaker_f0_spread": c.speaker_f0_spread,
            "topic_stay": c.topic_stay,
            "confound": c.confound,
            "prosody_step": c.prosody_step,
            "overlap_prob": c.overlap_prob,
            "backchannel_prob": c.backchannel_prob,
            "wpm": c.wpm,
        },
    )
    turns, bcs, words = dlg["turns"], dlg["backchannels"], dlg["words"]
    ids = [f"{dyad_id}-P1", f"{dyad_id}-P2"]
    base_d, sc_d, lag = _dyad_effects(rng, c, turns)
    tr, key_to_uid = _make_transcript(words, bcs, ids, c.duration)
    ut = _utterance_truth(turns, bcs, key_to_uid, ids, tr)

    # ---------------------------------------------------------------- neural signals
    names, pos, chans = _channel_layout(c)
    planted = None
    if c.layer_hierarchy is not None or c.model_coupling is not None:
        planted = _plant_layers(
            c.layer_hierarchy, c.model_coupling, c.layer_features, c.rois, tr, turns, ids, names,
            c.ch_type, c.sfreq, int(round(c.duration * c.sfreq)), layer_seed, c.layer_response,
            c.word_latency,
        )  # fmt: skip
    participants, word_weights = _neural_signals(
        rng, c, ids, tr.words, ut, names, pos, chans, lag, planted
    )
    if c.audio:
        _add_audio(rng, c, participants, ut, tr.words, ids)

    # ---------------------------------------------------------------- truth
    effects = _effects_table(c, ut, chans, base_d, sc_d, lag, dyad_id, planted)
    meta = {
        "simulation": {
            k: (list(v) if isinstance(v, tuple) else v)
            for k, v in _stored_params(args).items()
            if k != "verbose"
        },
        "simulated": True,
        "lag": lag,
        "wpm_target": dlg["wpm"],
    }
    dyad = Dyad(participants, tr, dyad_id=dyad_id, meta=meta)
    truth = GroundTruth(
        dyad_id=dyad_id,
        utterances=ut,
        words=tr.words.copy(),
        effects=effects,
        params=meta["simulation"],
        lag=lag,
        channels=chans,
        word_weights=word_weights,
        layers=None if planted is None else planted.truth(),
    )
    logger.info(
        "simulated %s: %d turns, %d backchannels, %.1f s in %.2f s",
        dyad_id,
        len(turns),
        len(bcs),
        c.duration,
        time.perf_counter() - t0,
    )
    return dyad, truth


def _stored_params(args: dict) -> dict:
    """The parameters kept in ``dyad.meta['simulation']`` (new knobs only when used)."""
    out = dict(args)
    rs = out["random_state"]
    out["random_state"] = rs if isinstance(rs, int | type(None)) else "Generator"
    for k in ("layer_hierarchy", "model_coupling", "layer_features", "rois"):
        if out[k] is None:
            del out[k]  # off: the parameters stored are those of earlier versions
    if "layer_features" in out:
        out["layer_features"] = type(args["layer_features"]).__name__
    if args["layer_hierarchy"] is None and args["model_coupling"] is None:
        out.pop("layer_response")
    return out


def _validated(args: dict) -> SimpleNamespace:
    """Check the arguments; return them (with sfreq and the bands resolved) as attributes."""
    c = SimpleNamespace(**args)
    check_option("ch_type", c.ch_type, ("eeg", "mag", "seeg"))
    check_option("background", c.background, ("1/f", "spkit"))
    check_positive("duration", c.duration)
    if c.duration < 10:
        raise ValueError(f"duration must be >= 10 s (a few turns); got {c.duration!r}")
    if c.sfreq is None:
        c.sfreq = 512.0 if c.ch_type == "seeg" else 256.0
    check_positive("sfreq", c.sfreq)
    check_positive("audio_sfreq", c.audio_sfreq)
    if int(c.n_channels) != c.n_channels or c.n_channels < 1:
        raise ValueError(f"n_channels must be a positive integer; got {c.n_channels!r}")
    c.n_channels = int(c.n_channels)
    for name in (
        "acoustic_coupling",
        "coupling_base",
        "acoustic_entrainment",
        "word_response",
        "alpha_amplitude",
        "sensor_noise",
        "bleed",
        "dyad_heterogeneity",
    ):
        check_positive(name, args[name], strict=False)
    if not -1 < c.confound < 1:
        raise ValueError(f"confound must be a correlation in (-1, 1); got {c.confound!r}")
    for name in ("topic_stay", "overlap_prob", "backchannel_prob"):
        if not 0 <= args[name] <= 1:
            raise ValueError(f"{name} must be a probability in [0, 1]; got {args[name]!r}")
    if c.coupling_band is None:
        c.coupling_band = HIGH_GAMMA if c.ch_type == "seeg" else (4.0, 8.0)
    c.coupling_band = _check_band("coupling_band", c.coupling_band, c.sfreq)
    c.entrainment_band = _check_band("entrainment_band", c.entrainment_band, c.sfreq)
    if c.ch_type == "seeg":
        _check_band("sfreq for the 70-150 Hz response (seeg)", HIGH_GAMMA, c.sfreq)
    if c.null:
        c.semantic_coupling = 0.0
    c.n_times = int(round(c.duration * c.sfreq))
    return c


def _dyad_effects(rng, c, turns: pd.DataFrame) -> tuple[float, float, float]:
    """Dyad-level sizes and lag; the turns' coupling amplitudes (added to ``turns``)."""
    het = float(c.dyad_heterogeneity)
    base_d = c.coupling_base * float(np.exp(rng.normal(0, het))) if het else c.coupling_base
    sc_d = c.semantic_coupling * (1 + float(rng.normal(0, het))) if het else c.semantic_coupling
    if np.ndim(c.coupling_lag):
        lag = float(rng.uniform(*c.coupling_lag))
    else:
        lag = float(c.coupling_lag)
    sem_z = np.nan_to_num(_zscore(turns["semantic_alignment"].to_numpy()))
    ac_z = np.nan_to_num(_zscore(turns["acoustic_similarity"].to_numpy()))
    amp = np.maximum(base_d + sc_d * sem_z + c.acoustic_coupling * ac_z, 0.0)
    turns["sem_z"], turns["acsim_z"], turns["coupling_amplitude"] = sem_z, ac_z, amp
    turns.loc[turns.index[0], ["sem_z", "acsim_z"]] = np.nan
    return base_d, sc_d, lag


def _make_transcript(words, bcs, ids, duration):
    """The transcript of the planted turns and backchannels; sim key -> utterance id."""
    wt = words.assign(sim_key="t" + words["sim_utt"].astype(str))
    bw = bcs.assign(word=bcs["text"], sim_key="b" + pd.Series(range(len(bcs)), dtype=str))
    allw = pd.concat(
        [
            wt[["onset", "offset", "word", "speaker", "sim_key", "n_syllables"]],
            bw[["onset", "offset", "word", "speaker", "sim_key"]].assign(n_syllables=1),
        ],
        ignore_index=True,
    )
    allw["speaker"] = np.asarray(ids)[allw["speaker"].to_numpy(int)]
    allw["confidence"] = 1.0
    allw = allw.sort_values("onset", kind="mergesort").reset_index(drop=True)
    tr = Transcript(allw, speakers=ids, duration=float(duration))
    tw = tr.words
    pairs = tw.groupby("utterance_id")["sim_key"].agg(lambda s: set(s))
    bad = pairs[pairs.map(len) != 1]
    key_to_uid = tw.groupby("sim_key")["utterance_id"].agg(lambda s: set(s))
    bad2 = key_to_uid[key_to_uid.map(len) != 1]
    if len(bad) or len(bad2):  # pragma: no cover - guarded by construction
        raise RuntimeError(
            f"simulated utterances were not reproduced by the transcript segmentation "
            f"({len(bad)} merged, {len(bad2)} split); please report this seed"
        )
    key_to_uid = key_to_uid.map(lambda s: next(iter(s)))

    return tr, key_to_uid


def _utterance_truth(turns, bcs, key_to_uid, ids, tr) -> pd.DataFrame:
    """One row per utterance of the transcript with everything planted in it."""
    roles = ["A", "B"]
    tt = turns.assign(
        key="t" + pd.Series(range(len(turns)), index=turns.index, dtype=str),
        kind="turn",
        prev_key=["", *("t" + pd.Series(range(len(turns) - 1), dtype=str))],
    )
    bb = bcs.assign(
        key="b" + pd.Series(range(len(bcs)), dtype=str),
        kind="backchannel",
        topic="backchannel",
        topic_switch=False,
        sentence_id="",
        semantic_alignment=np.nan,
        acoustic_similarity=np.nan,
        sem_z=np.nan,
        acsim_z=np.nan,
        coupling_amplitude=0.0,
        prev_key="",
    )
    cols = [
        "key", "kind", "speaker", "topic", "topic_switch", "sentence_id", "text", "onset",
        "offset", "n_words", "semantic_alignment", "acoustic_similarity", "f0_mean",
        "intensity_db", "rate_wps", "sem_z", "acsim_z", "coupling_amplitude", "prev_key",
    ]  # fmt: skip
    ut = pd.concat([tt[cols], bb[cols]], ignore_index=True)
    spk_idx = ut["speaker"].to_numpy(int)
    ut["utterance_id"] = ut["key"].map(key_to_uid).astype(int)
    ut["previous_utterance_id"] = ut["prev_key"].map(key_to_uid).astype("Float64").astype("Int64")
    ut["speaker"] = np.asarray(ids)[spk_idx]
    ut["listener"] = np.asarray(ids)[1 - spk_idx]
    ut["speaker_role"] = np.asarray(roles)[spk_idx]
    ut["backchannel"] = ut["kind"] == "backchannel"
    tu = tr.utterances.set_index("utterance_id")
    ut["transcript_backchannel"] = tu.loc[ut["utterance_id"], "backchannel"].to_numpy()
    ut = ut.sort_values("utterance_id").reset_index(drop=True)
    n_mis = int((ut["backchannel"] != ut["transcript_backchannel"]).sum())
    if n_mis:
        logger.info("%d planted backchannel flags differ from the transcript's", n_mis)
    ut = ut[
        [
            "utterance_id", "speaker", "listener", "speaker_role", "kind", "backchannel",
            "transcript_backchannel", "topic", "topic_switch", "sentence_id", "text",
            "onset", "offset", "n_words", "semantic_alignment", "acoustic_similarity",
            "f0_mean", "intensity_db", "rate_wps", "sem_z", "acsim_z",
            "coupling_amplitude", "previous_utterance_id",
        ]
    ]  # fmt: skip

    return ut


def _effects_table(c, ut, chans, base_d, sc_d, lag, dyad_id, planted) -> pd.DataFrame:
    """One row per planted effect (see :class:`GroundTruth`)."""
    realized = float(
        pd.Series(ut["semantic_alignment"]).corr(pd.Series(ut["acoustic_similarity"]))
    )
    eff = [
        ("acoustic_entrainment", c.acoustic_entrainment, c.entrainment_band,
         chans["entrainment"], c.entrainment_lag, "speaker+listener",
         "brain tracks the envelope of all speech heard or produced"
         + (" (70-150 Hz amplitude)" if c.ch_type == "seeg" else "")),
        ("coupling_base", base_d, c.coupling_band, chans["coupling"], lag, "listener lags",
         "shared band-limited component during every turn"),
        ("semantic_coupling", sc_d, c.coupling_band, chans["coupling"], lag, "listener lags",
         "slope of the shared amplitude on z(semantic_alignment)"),
        ("acoustic_coupling", c.acoustic_coupling, c.coupling_band, chans["coupling"], lag,
         "listener lags", "slope of the shared amplitude on z(acoustic_similarity)"),
        ("confound", c.confound, (np.nan, np.nan), [], np.nan, "turn",
         f"target corr(acoustic_similarity, semantic_alignment); realized {realized:.3f}"),
        ("word_response_speaker", c.word_response, (np.nan, np.nan), chans["word"],
         c.word_latency[0], "speaker", "word-locked response, linear in word_vector"),
        ("word_response_listener", c.word_response, (np.nan, np.nan), chans["word"],
         c.word_latency[1], "listener", "word-locked response, linear in word_vector"),
    ]  # fmt: skip
    effects = pd.DataFrame(
        [
            {
                "dyad": dyad_id,
                "effect": e[0],
                "size": float(e[1]),
                "fmin": e[2][0],
                "fmax": e[2][1],
                "band": tuple(e[2]),
                "channels": list(e[3]),
                "lag_s": float(e[4]),
                "role": e[5],
                "description": e[6],
            }
            for e in eff
        ]
    )
    if planted is not None:
        effects = pd.concat([effects, planted.effects(dyad_id)], ignore_index=True)
    effects.attrs["confound_realized"] = realized
    return effects


def _plant_layers(hierarchy, coupling, source, rois, tr, turns, ids, names, ch_type, sfreq,
                  n_times, seed, size, word_latency):  # fmt: skip
    """Build the planted layer responses (see :mod:`hyperalign.simulation._layers`)."""
    from ._layers import PlantedLayers, default_rois

    tw = tr.words
    key = tw["sim_key"].astype(str)
    turn_no = pd.to_numeric(key.str[1:], errors="coerce").to_numpy()
    is_turn = key.str.startswith("t").to_numpy()
    sent = np.full(len(tw), -1, int)
    sent[is_turn] = turns["sentence_index"].to_numpy()[turn_no[is_turn].astype(int)]
    if rois is None:
        rois = default_rois(names, ch_type)
    else:
        bad = {r: [c for c in chs if c not in names] for r, chs in dict(rois).items()}
        bad = {r: b for r, b in bad.items() if b}
        if bad:
            raise ValueError(f"rois: channels {bad} are not among the simulated channels {names}")
    check_positive("layer_response", size, strict=False)
    defaults = {
        "size": float(size),
        "lag_speaker": word_latency[0],
        "lag_listener": word_latency[1],
    }
    return PlantedLayers(
        hierarchy=hierarchy, coupling=coupling, source=source, transcript=tr,
        sentence_index=sent, ids=ids, ch_names=names, rois=rois, sfreq=sfreq, n_times=n_times,
        seed=seed, defaults=defaults,
    )  # fmt: skip


@fill_doc
@verbose
def simulate_study(
    n_dyads: int = 8,
    duration: float = 300.0,
    *,
    random_state=None,
    dyad_prefix: str = "sim",
    n_jobs: int | None = 1,
    block_size: int = 1,
    verbose=None,
    **kwargs,
) -> tuple[list[Dyad], StudyTruth]:
    """Simulate ``n_dyads`` independent conversations with the same planted effects.

    Parameters
    ----------
    n_dyads : int
        Number of dyads.
    duration : float
        Length of each conversation (s).
    random_state : None | int | numpy.random.Generator
        Seed of the study; dyad ``i`` gets an independent child seed.
    dyad_prefix : str
        Dyad ids are ``f"{dyad_prefix}-{i:02d}"`` (from 1).
    %(n_jobs)s
        Blocks of dyads are simulated in parallel; inside a Dask session
        (:func:`hyperalign.pipeline.dask.dask_session`) they run on the cluster. The dyads
        are the same whatever ``n_jobs``, ``block_size`` and the workers: each dyad's seed is
        drawn from ``random_state`` before any block starts.
    block_size : int
        Dyads per block (the unit of work sent to a worker).
    %(verbose)s
    **kwargs
        Passed to :func:`simulate_conversation` (effect sizes, ``null``, ``audio``…).

    Returns
    -------
    dyads : list of Dyad
        The simulated conversations, ids ``f"{dyad_prefix}-01"`` onwards.
    truth : StudyTruth
        The planted truth of every dyad.

    See Also
    --------
    simulate_conversation : One dyad, and the meaning of every effect parameter.
    hyperalign.report.compute_recovery : Compare estimates with the planted truth.

    Examples
    --------
    >>> from hyperalign import simulate_study
    >>> dyads, truth = simulate_study(
    ...     n_dyads=2, duration=20, n_channels=4, audio=False, random_state=0
    ... )
    >>> [d.dyad_id for d in dyads]
    ['sim-01', 'sim-02']
    >>> truth
    <StudyTruth | 2 dyads>
    """
    from ..utils import check_n_jobs
    from ..utils._parallel import map_blocks

    if int(n_dyads) != n_dyads or n_dyads < 1:
        raise ValueError(f"n_dyads must be a positive integer; got {n_dyads!r}")
    if "dyad_id" in kwargs:
        raise TypeError("simulate_study sets dyad ids itself; use dyad_prefix= instead")
    n_jobs = check_n_jobs(n_jobs)
    rng = check_random_state(random_state)
    # every dyad's seed first: a block's dyads do not depend on the blocks or the workers
    seeds = rng.integers(0, 2**63 - 1, size=int(n_dyads))
    logger.info("simulating %d dyads", int(n_dyads))
    blocks = map_blocks(
        _simulate_block, int(n_dyads), block_size=block_size, random_state=0, n_jobs=n_jobs,
        block_kwargs=lambda b: {"seeds": [int(x) for x in seeds[b]]}, duration=duration,
        dyad_prefix=dyad_prefix, kwargs=kwargs,
    )  # fmt: skip
    dyads = [d for blk in blocks for d, _ in blk]
    truths = [t for blk in blocks for _, t in blk]
    params = {"n_dyads": int(n_dyads), "duration": duration, **kwargs}
    params["random_state"] = random_state if isinstance(random_state, int) else None
    return dyads, StudyTruth(truths, params)


def _simulate_block(block, rng, *, seeds, duration, dyad_prefix, kwargs) -> list:
    """Dyads ``block`` of a study, from their own seeds (``rng`` is not used)."""
    return [
        simulate_conversation(
            duration, random_state=seed, dyad_id=f"{dyad_prefix}-{i + 1:02d}", **kwargs
        )
        for i, seed in zip(range(block.start, block.stop), seeds)
    ]
