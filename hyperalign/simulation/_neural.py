"""The simulated recordings and microphones: background, planted effects, audio."""

from __future__ import annotations

import numpy as np

from ..dyad import Participant, make_participant_raw
from . import _signals as sig
from ._truth import word_vector

#: physical unit of one background standard deviation per channel type
UNITS = {"eeg": 20e-6, "mag": 2e-13, "seeg": 50e-6}
HIGH_GAMMA = (70.0, 150.0)


def _resolve_channels(name, spec, roi_key, ch_names, pos, taken) -> list[str]:
    if spec is not None:
        spec = [spec] if isinstance(spec, str) else list(spec)
        bad = [c for c in spec if c not in ch_names]
        if bad or not spec:
            raise ValueError(
                f"{name}: channel(s) {bad or spec} are not among the simulated channels {ch_names}"
            )
        return spec
    n = len(ch_names)
    if pos is None:  # MEG-like / iEEG-like: fixed index blocks
        k = max(1, n // 5)
        start = {"coupling": 0, "entrainment": k, "word": 2 * k}[roi_key]
        idx = [i % n for i in range(start, start + k)]
        return [ch_names[i] for i in idx]
    roi = [c for c in sig.EEG_ROIS[roi_key] if c in ch_names]
    if roi:
        return roi
    # fall back to the free channel nearest to the ROI's centroid
    mont = sig.standard_montage().get_positions()["ch_pos"]
    centroid = np.mean([mont[c] for c in sig.EEG_ROIS[roi_key] if c in mont], axis=0)
    order = np.argsort(np.linalg.norm(pos - centroid, axis=1))
    free = [ch_names[i] for i in order if ch_names[i] not in taken]
    return [free[0] if free else ch_names[order[0]]]


def _channel_layout(c):
    """Channel names, positions (EEG) and the channels of each planted effect."""
    if c.ch_type == "eeg":
        names = sig.eeg_channel_names(c.n_channels)
        mpos = sig.standard_montage().get_positions()["ch_pos"]
        pos = np.array([mpos[ch] for ch in names])
    else:
        prefix = {"mag": "MAG", "seeg": "SEEG"}[c.ch_type]
        names = [f"{prefix}{i + 1:03d}" for i in range(c.n_channels)]
        pos = None
    taken: set[str] = set()
    chans = {}
    for key, spec in (
        ("coupling", c.coupling_channels),
        ("entrainment", c.entrainment_channels),
        ("word", c.word_channels),
    ):
        chans[key] = _resolve_channels(f"{key}_channels", spec, key, names, pos, taken)
        taken.update(chans[key])
    return names, pos, chans


def _speech_drive(c, tw, ut, ids):
    """Band-passed, lagged envelope of all speech (and its high-gamma modulator)."""
    n_times, sfreq = c.n_times, c.sfreq
    # speech envelopes at the neural rate (linear amplitude re 65 dB)
    uamp = {k: 10 ** ((db - 65.0) / 20.0) for k, db in zip(ut["utterance_id"], ut["intensity_db"])}
    tw_amp = tw["utterance_id"].map(uamp).to_numpy()
    env = []
    for pid in ids:
        m = (tw["speaker"] == pid).to_numpy()
        env.append(
            sig.syllable_envelope(
                n_times,
                sfreq,
                zip(
                    tw["onset"].to_numpy()[m],
                    tw["offset"].to_numpy()[m],
                    tw["n_syllables"].to_numpy()[m],
                    tw_amp[m],
                ),
            )
        )
    heard = env[0] + env[1]
    ent = sig.fft_bandpass(heard, sfreq, c.entrainment_band)
    ent = sig.shift(ent / (ent.std() or 1.0), int(round(c.entrainment_lag * sfreq)))
    hg_am = sig.shift(
        sig.fft_bandpass(heard, sfreq, (0.1, min(8.0, sfreq / 2 - 1))),
        int(round(c.entrainment_lag * sfreq)),
    )
    hg_am = np.maximum(hg_am, 0) / (hg_am.std() or 1.0)
    return ent, hg_am


def _background(rng, c, pos, cen):
    """Spatially mixed 1/f (or real) background, alpha rhythm and sensor noise (SD units)."""
    n_channels, n_times, sfreq = c.n_channels, c.n_times, c.sfreq
    if c.background == "spkit":
        bg = sig.spkit_background(rng, n_channels, n_times, sfreq)
    else:
        bg = sig.fft_noise(rng, n_channels, n_times, sfreq, lambda f: 1.0 / (f**2 + 1.0) ** 0.75)
    if pos is not None:
        d2 = ((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1)
        mix = np.exp(-d2 / (2 * 0.03**2))
        apat = np.exp(-((pos - cen) ** 2).sum(-1) / (2 * 0.06**2))
    else:
        ii = np.arange(n_channels)
        mix = np.exp(-((ii[:, None] - ii[None, :]) ** 2) / (2 * 1.5**2))
        apat = np.exp(-((ii - 0.8 * n_channels) ** 2) / (2 * (0.15 * n_channels) ** 2))
    mix /= np.linalg.norm(mix, axis=1, keepdims=True)
    x = mix @ bg
    fa = rng.uniform(9.0, 11.0)
    alpha = sig.band_noise(rng, 1, n_times, sfreq, (fa - 1.0, fa + 1.0))[0]
    slow = sig.fft_noise(rng, 1, n_times, sfreq, lambda f: (f < 0.3).astype(float))[0]
    alpha *= np.exp(0.5 * slow)
    x = x / x.std(axis=1, keepdims=True) + c.alpha_amplitude * apat[:, None] * alpha
    x /= x.std(axis=1, keepdims=True)
    x += c.sensor_noise * rng.standard_normal(x.shape)
    return x


def _shared_component(c, pid, turn_rows, shared, lag_n):
    """The shared component: own turns unlagged, the partner's turns lagged."""
    own = turn_rows["speaker"].to_numpy() == pid
    on, off = turn_rows["onset"].to_numpy(), turn_rows["offset"].to_numpy()
    amp = turn_rows["coupling_amplitude"].to_numpy()
    g_spk = sig.tukey_gain(c.n_times, c.sfreq, on[own], off[own], amp[own])
    g_lst = sig.tukey_gain(c.n_times, c.sfreq, on[~own], off[~own], amp[~own])
    return g_spk * shared + sig.shift(g_lst * shared, lag_n)


def _word_response(rng, c, x, ri, pid, tw, word_vecs):
    """Word-locked responses, linear in the word vectors; returns the weights ``W``."""
    from scipy.signal import fftconvolve

    n_times, sfreq = c.n_times, c.sfreq
    W = rng.standard_normal((len(ri), c.word_dim))
    if c.word_response:
        kern_t = np.arange(-int(0.25 * sfreq), int(0.25 * sfreq) + 1) / sfreq
        kernel = np.exp(-0.5 * (kern_t / 0.05) ** 2)
        gains = c.word_response * (1.0 + word_vecs @ W.T)  # (n_words, n_roi)
        word_spk = tw["speaker"].to_numpy()
        lat = np.where(word_spk == pid, c.word_latency[0], c.word_latency[1])
        idx = np.round((tw["onset"].to_numpy() + lat) * sfreq).astype(int)
        ok = (idx >= 0) & (idx < n_times)
        imp = np.zeros((len(ri), n_times))
        for j in range(len(ri)):
            imp[j] = np.bincount(idx[ok], weights=gains[ok, j], minlength=n_times)
        resp = fftconvolve(imp, kernel[None, :], mode="same", axes=1)
        if c.ch_type == "seeg":
            resp = resp * sig.band_noise(rng, len(ri), n_times, sfreq, HIGH_GAMMA)
        x[ri] += resp
    return W


def _neural_signals(rng, c, ids, tw, ut, names, pos, chans, lag, planted):
    """Both participants' recordings: background plus every planted effect."""
    roi_idx = {k: np.array([names.index(ch) for ch in v]) for k, v in chans.items()}
    ent, hg_am = _speech_drive(c, tw, ut, ids)
    shared = sig.band_noise(rng, 1, c.n_times, c.sfreq, c.coupling_band)[0]
    lag_n = int(round(lag * c.sfreq))
    turn_rows = ut[ut["kind"] == "turn"]
    word_vecs = np.stack([word_vector(w, c.word_dim) for w in tw["word"]])
    cen = None if pos is None else sig.standard_montage().get_positions()["ch_pos"]["Oz"]
    participants = []
    word_weights = {}
    for pi, pid in enumerate(ids):
        x = _background(rng, c, pos, cen)
        # (a) acoustic entrainment
        ri = roi_idx["entrainment"]
        if c.acoustic_entrainment:
            if c.ch_type == "seeg":
                car = sig.band_noise(rng, len(ri), c.n_times, c.sfreq, HIGH_GAMMA)
                x[ri] += c.acoustic_entrainment * car * hg_am
            else:
                x[ri] += c.acoustic_entrainment * ent
        # (b) shared component
        x[roi_idx["coupling"]] += _shared_component(c, pid, turn_rows, shared, lag_n)
        # (d) word-locked responses
        word_weights[pid] = _word_response(rng, c, x, roi_idx["word"], pid, tw, word_vecs)
        if planted is not None:
            x += planted.signal(pid)
        raw = make_participant_raw(
            x * UNITS[c.ch_type],
            c.sfreq,
            names,
            c.ch_type,
            montage=sig.standard_montage() if c.ch_type == "eeg" else None,
        )
        role = ["A", "B"][pi]
        participants.append(Participant(pid, raw, role=role, info={"simulated": True}))
    return participants, word_weights


def _add_audio(rng, c, participants, ut, tw, ids) -> None:
    """Each participant's microphone: own speech, the partner's bleed and noise."""
    n_audio = int(round(c.duration * c.audio_sfreq))
    by_utt = {
        uid: list(zip(g["onset"], g["offset"], g["n_syllables"]))
        for uid, g in tw.groupby("utterance_id")
    }
    clean = []
    for pid in ids:
        rows = ut[ut["speaker"] == pid]
        f0 = rows["f0_mean"].to_numpy()
        clean.append(
            sig.harmonic_speech(
                rng,
                n_audio,
                c.audio_sfreq,
                zip(
                    rows["onset"],
                    rows["offset"],
                    f0,
                    rows["intensity_db"],
                    rows["utterance_id"],
                ),
                by_utt,
            )
        )
    noise_rms = 2e-5 * 10 ** (c.audio_noise_db / 20.0)
    for pi, p in enumerate(participants):
        y = clean[pi] + c.bleed * clean[1 - pi]
        y += noise_rms * rng.standard_normal(n_audio)
        p.audio = y.astype(np.float32)
        p.audio_sfreq = float(c.audio_sfreq)
