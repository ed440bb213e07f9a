"""Resampling onto one clock: a raw, a microphone or a transcript from clock ``b`` to ``a``."""

from __future__ import annotations

import numpy as np

from ..utils import _validate_type, check_option, fill_doc, verbose
from ..utils._validation import renamed_params
from ._clock_model import ClockModel


# ---------------------------------------------------------------------- applying
def _resample_onto(data: np.ndarray, sfreq_b: float, t_b: np.ndarray, kind: str):
    """Values of ``data`` (n_ch, n) sampled at ``t_b`` (s); outside the record: NaN."""
    pos = t_b * sfreq_b
    n = data.shape[-1]
    inside = (pos >= 0) & (pos <= n - 1)
    out = np.full((data.shape[0], len(t_b)), np.nan)
    if not inside.any():
        return out, inside
    if kind == "linear":
        i0 = np.clip(np.floor(pos[inside]).astype(int), 0, n - 2)
        fr = pos[inside] - i0
        out[:, inside] = data[:, i0] * (1 - fr) + data[:, i0 + 1] * fr
    else:
        from scipy.interpolate import CubicSpline

        cs = CubicSpline(np.arange(n), data, axis=1)
        out[:, inside] = cs(pos[inside])
    return out, inside


@renamed_params(kind="interpolation")
@fill_doc
@verbose
def apply_clock(
    inst,
    model: ClockModel,
    *,
    pid: str | None = None,
    interpolation: str = "cubic",
    n_times: int | None = None,
    verbose=None,
):
    """Resample a recording on clock ``b`` onto clock ``a`` using ``model``.

    Parameters
    ----------
    inst : mne.io.BaseRaw | Dyad
        A Raw recorded on clock ``b``, or a Dyad whose participant ``pid`` (default: the
        second) is on clock ``b`` while the other defines clock ``a``.
    model : ClockModel
        ``t_a = offset + (1 + drift_ppm*1e-6) t_b``.
    pid : str | None
        Participant to move (Dyad input only).
    interpolation : ``'cubic'`` | ``'linear'``
        Interpolation between samples (called ``kind`` before; that name is a deprecated
        alias).
    n_times : int | None
        Number of output samples (Raw input; default keeps the length). For a Dyad the
        output has as many samples as the reference participant's raw.
    %(verbose)s

    Returns
    -------
    inst : mne.io.BaseRaw | Dyad
        A new Raw (samples ``k / sfreq`` on clock ``a``); samples clock ``b`` did not record
        are set to 0 and covered by a ``'BAD_no_data'`` annotation. For a Dyad, a copy with
        the participant's raw replaced and the clock report in ``meta['clock']``; samples
        without data are counted in ``exclusions``.

    See Also
    --------
    estimate_drift : A clock model from shared triggers.
    align_clocks : Put a whole dyad (raws, microphones, transcript) on one clock.
    """
    import mne

    from ..dyad import Dyad

    check_option("interpolation", interpolation, ("cubic", "linear"))
    kind = interpolation
    if isinstance(inst, Dyad):
        dyad = inst.copy()
        pid = dyad.ids[1] if pid is None else pid
        p = dyad[pid]
        ref = dyad.other(pid)
        new, n_missing = _apply_raw(p.raw, model, kind, ref.raw.n_times, ref.sfreq)
        p.raw = new
        if n_missing:
            dyad.exclusions.add(
                "apply_clock", "sample", f"{pid} outside its recording on the reference "
                "clock", "no data on clock b (annotated BAD_no_data)", n_missing,
            )  # fmt: skip
        dyad.meta.setdefault("clock", {})[f"{pid}->{ref.id}"] = model.to_dict()
        return dyad
    _validate_type(inst, (mne.io.BaseRaw, Dyad), "inst", "an mne.io.Raw or a Dyad")
    new, _ = _apply_raw(inst, model, kind, n_times or inst.n_times, inst.info["sfreq"])
    return new


def _apply_raw(raw, model: ClockModel, kind: str, n_times: int, sfreq_a: float):
    import mne

    sf_b = raw.info["sfreq"]
    if abs(sfreq_a - sf_b) > 1e-9 * sf_b:
        raise ValueError(
            f"the recordings have different sampling rates (reference {sfreq_a} Hz, moved "
            f"{sf_b} Hz); resample one first (raw.resample) so both share one nominal rate"
        )
    t_a = np.arange(n_times) / sfreq_a
    t_b = model.to_b(t_a)
    data, inside = _resample_onto(raw.get_data(), sf_b, t_b, kind)
    data[:, ~inside] = 0.0
    info = raw.info.copy()
    new = mne.io.RawArray(data, info, verbose=False)
    ann = []
    if raw.annotations is not None and len(raw.annotations):
        a = raw.annotations
        on_a = model.to_a(a.onset - raw.first_time)
        ann.append(mne.Annotations(on_a, a.duration * model.scale, a.description))
    n_missing = int((~inside).sum())
    if n_missing:
        # contiguous runs of missing samples
        d = np.diff(np.concatenate([[0], (~inside).astype(int), [0]]))
        s, e = np.nonzero(d == 1)[0], np.nonzero(d == -1)[0]
        ann.append(mne.Annotations(s / sfreq_a, (e - s) / sfreq_a, ["BAD_no_data"] * len(s)))
    if ann:
        allann = ann[0]
        for x in ann[1:]:
            allann = allann + x
        new.set_annotations(allann)
    return new, n_missing


def _transform_transcript(tr, model: ClockModel):
    from ..transcript import Transcript

    w = tr.words
    w["onset"] = model.to_a(w["onset"].to_numpy())
    w["offset"] = model.to_a(w["offset"].to_numpy())
    if tr.segmentation == "pause":
        w = w.drop(columns=["utterance_id"])
    return Transcript(
        w, speakers=tr.speakers, pause_threshold=tr.pause_threshold,
        segmentation=tr.segmentation, on_overlap="clip", source=tr.source,
    )  # fmt: skip


def _transform_audio(audio: np.ndarray, sfreq: float, model: ClockModel, n_out: int | None):
    """Audio from clock b onto clock a (linear interpolation; zeros where unrecorded)."""
    if n_out is None:
        n_out = int(np.floor((model.to_a(len(audio) / sfreq)) * sfreq))
        n_out = max(n_out, 0)
    t_b = model.to_b(np.arange(n_out) / sfreq)
    pos = t_b * sfreq
    if model.drift_ppm == 0 and np.allclose(pos - np.round(pos), 0, atol=1e-6):
        idx = np.round(pos).astype(int)
        ok = (idx >= 0) & (idx < len(audio))
        out = np.zeros(n_out, audio.dtype)
        out[ok] = audio[idx[ok]]
        return out
    out = np.interp(pos, np.arange(len(audio)), audio, left=0.0, right=0.0)
    return out.astype(audio.dtype, copy=False)
