"""The window engine of :func:`~hyperalign.coupling.compute_dyad_sync` and the surrogates.

Windows of similar length are gathered from the continuous analytic signals (zero padded to a
common length, each metric then using each window's own samples), split over ``n_jobs``
threads, and sent to the all-pairs kernels; flat (zero-variance) channel windows are NaN.

Phase-only metrics (PLV) take a shorter path with the same numbers: the unit phasors
``z / |z|`` are computed once per continuous signal (an elementwise operation, so a window of
them equals the unit phasors of the window), instead of once per window, lag and surrogate.
Windows are copied from a strided view of the signal extended circularly, so a circularly
shifted surrogate of participant 2 is an offset into the same array, not a rolled copy.
"""

from __future__ import annotations

import numpy as np

from ..utils import logger, single_thread_blas
from ..utils._parallel import run_in_parts
from ._kernels import METRICS, _Pair
from .backend import get_backend
from .metrics import pairs_into

_CHUNK_ELEMENTS = 1 << 22  # complex samples gathered per kernel call (64 MiB)
#: metrics computed from the unit phasors alone (the shorter path above)
_UNIT_METRICS = frozenset({"plv"})


def _kernel_chunk(out, prep, spk, lis, sel, ti, li_idx, li, n_valid, finite: bool) -> int:
    """Gather windows ``sel`` (speaker samples ``ti``, listener ``li_idx``, both (e, L) and
    valid for the first ``n_valid[e]`` columns; zero padding after) and fill ``out``.

    The windows are split over the thread pool; each thread gathers its own windows and runs
    the kernels on them (gathering, NumPy, BLAS and the compiled loops release the GIL).
    ``finite=False``: the signals hold NaN (a stranger's shorter recording in a pseudo-dyad);
    windows touching them are left NaN and counted. Returns that count.
    """
    n_b, n_c, n_t = spk.shape
    length = ti.shape[1]
    ops = get_backend(prep.backend)
    n_m = len(prep.metrics)

    def part(r0: int, r1: int) -> int:
        s_sel, nv = sel[r0:r1], n_valid[r0:r1]
        a = np.take(spk, np.minimum(ti[r0:r1], n_t - 1), axis=2)  # (B, C, e, L)
        b = np.take(lis, np.clip(li_idx[r0:r1], 0, n_t - 1), axis=2)
        pad = np.arange(length)[None, :] >= nv[:, None]  # (e, L)
        if pad.any():
            np.copyto(a, 0, where=pad)
            np.copyto(b, 0, where=pad)
        n_bad = 0
        if not finite:
            fin = np.isfinite(a).all(axis=(0, 1, 3)) & np.isfinite(b).all(axis=(0, 1, 3))
            n_bad = int((~fin).sum())
            if n_bad:
                a, b, s_sel, nv = a[:, :, fin], b[:, :, fin], s_sel[fin], nv[fin]
                if s_sel.size == 0:
                    return n_bad
        a = np.moveaxis(a, 2, 0).reshape(-1, n_c, length)  # (e*B, C, L)
        b = np.moveaxis(b, 2, 0).reshape(-1, n_c, length)
        nvb = None if (nv == length).all() else np.repeat(nv, n_b)
        dest = np.empty((n_m, a.shape[0], n_c, n_c), dtype=out.dtype)
        pairs_into(ops, ops.asarray(a), ops.asarray(b), prep.metrics, dest, n_valid=nvb)
        for mi in range(n_m):  # windows of different parts are disjoint
            out[mi, s_sel, :, li] = dest[mi].reshape(s_sel.size, n_b, n_c, n_c)
        return n_bad

    n_jobs = prep.extra.get("n_jobs", 1)
    n_parts = min(n_jobs, sel.size) if ops.name == "numpy" else 1
    return sum(run_in_parts(part, sel.size, n_parts))


def _unit_path(prep, *signals) -> bool:
    """Whether the unit-phasor path applies: NumPy backend, phase-only metrics, finite data."""
    return (
        get_backend(prep.backend).name == "numpy"
        and set(prep.metrics) <= _UNIT_METRICS
        and all(bool(np.isfinite(z).all()) for z in signals)
    )


def _unit_extended(prep, z: np.ndarray) -> np.ndarray:
    """Unit phasors of continuous signals ``z`` (B, C, T), extended circularly at the end by
    the longest window plus the largest lag (windows are then contiguous slices)."""
    ops = get_backend(prep.backend).serial()
    extra = int(prep.lengths.max()) + int(np.abs(prep.lag_n).max()) + 1
    return np.pad(ops.unit(z), [(0, 0), (0, 0), (0, extra)], mode="wrap")


def _windows_of(ext: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
    """``ext[..., s:s + length]`` for every start ``s``: a new (e, B, C, length) array."""
    from numpy.lib.stride_tricks import sliding_window_view

    view = sliding_window_view(ext, length, axis=-1)  # (B, C, T_ext - length + 1, length)
    return np.moveaxis(view, 2, 0)[starts]


def _unit_chunk(out, prep, spk, lis, sel, s0, l0, length, li, n_valid) -> int:
    """:func:`_kernel_chunk` for unit phasors: ``spk`` and ``lis`` are the extended unit
    phasors of the speaker and the conjugated ones of the listener, ``s0`` / ``l0`` the first
    sample of each window in them."""
    n_b, n_c = spk.shape[0], spk.shape[1]
    ops = get_backend(prep.backend)

    def part(r0: int, r1: int) -> int:
        s_sel, nv = sel[r0:r1], n_valid[r0:r1]
        a = _windows_of(spk, s0[r0:r1], length)  # (e, B, C, L)
        b = _windows_of(lis, l0[r0:r1], length)
        pad = np.arange(length)[None, :] >= nv[:, None]  # (e, L)
        if pad.any():
            np.copyto(a, 0, where=pad[:, None, None, :])
            np.copyto(b, 0, where=pad[:, None, None, :])
        a = a.reshape(-1, n_c, length)  # (e*B, C, L), as _kernel_chunk orders them
        b = b.reshape(-1, n_c, length)  # conjugated already: b = conj(v)
        nvb = None if (nv == length).all() else np.repeat(nv, n_b)
        pair = _Pair(ops.serial(), a, b, nvb)
        pair._memo["u"] = a  # already unit phasors; the product plv reads, made as there:
        pair._memo["cross_unit"] = pair.ops.matmul(a, pair.ops.mT(b))  # u @ conj(v).T
        with np.errstate(divide="ignore", invalid="ignore"):
            for mi, name in enumerate(prep.metrics):
                val = ops.to_numpy(METRICS[name].func(pair))
                out[mi, s_sel, :, li] = val.reshape(s_sel.size, n_b, n_c, n_c)
        return 0

    n_jobs = prep.extra.get("n_jobs", 1)
    return sum(run_in_parts(part, sel.size, min(n_jobs, sel.size)))


#: epochs whose lengths are within this ratio are zero-padded to a common length and computed
#: in one batch (every metric then uses each epoch's own samples: ``n_valid``)
_BUCKET_RATIO = 1.25


def _length_buckets(lengths: np.ndarray, ratio: float = _BUCKET_RATIO) -> list[np.ndarray]:
    """Epoch indices grouped so that the longest of a group is at most ``ratio`` x its
    shortest (sorted by length; at most ``1 - 1/ratio`` of a batch is padding)."""
    order = np.argsort(lengths, kind="stable")
    groups, start = [], 0
    for i in range(1, len(order) + 1):
        if i == len(order) or lengths[order[i]] > ratio * lengths[order[start]]:
            groups.append(np.sort(order[start:i]))
            start = i
    return groups


def _fill_windows(out, prep, z1, z2, shift: int = 0, unit=None) -> int:
    """Loop over length groups, lags and orientations; returns the number of NaN windows.

    Windows of similar length are batched with zero padding (``_length_buckets``); the
    kernels use each window's own samples, so values equal a window-by-window computation.
    ``unit``: the extended unit phasors of the unit-phasor path, ``((u1, conj(u1)), (u2,
    conj(u2)))``; participant 2 is then read circularly shifted by ``shift`` samples (as
    ``np.roll(z2, shift)``).
    """
    n_t = z1.shape[-1]
    n_b, n_c = z1.shape[0], z1.shape[1]
    n_out = 0
    finite = unit is not None or bool(np.isfinite(z1).all() and np.isfinite(z2).all())
    for eps in _length_buckets(prep.lengths):
        lens = prep.lengths[eps]
        length = int(lens.max())
        t_idx = prep.starts[eps, None] + np.arange(length)[None]  # (e, L), padded
        last = prep.starts[eps] + lens - 1  # last valid speaker sample
        for li, k in enumerate(prep.lag_n):
            for swap in (False, True):
                m = prep.swap[eps] == swap
                sel = eps[m]
                if sel.size == 0:
                    continue
                ti = t_idx[m]
                # speaker at t, listener at t + k
                li_idx = ti + k
                ok = (li_idx[:, 0] >= 0) & (last[m] + k < n_t)
                n_out += int((~ok).sum())
                if not ok.any():
                    continue
                sel, ti, li_idx, nv = sel[ok], ti[ok], li_idx[ok], lens[m][ok]
                step = max(1, _CHUNK_ELEMENTS // (n_b * n_c * length))
                if unit is not None:  # participant 2 (speaker if swap) read shifted
                    (u_spk, _), (_, c_lis) = (unit[1], unit[0]) if swap else unit
                    spk, lis = u_spk, c_lis
                    s0 = (ti[:, 0] - (shift if swap else 0)) % n_t
                    l0 = (li_idx[:, 0] - (0 if swap else shift)) % n_t
                    for c0 in range(0, sel.size, step):
                        cs = slice(c0, c0 + step)
                        _unit_chunk(out, prep, spk, lis, sel[cs], s0[cs], l0[cs], length, li,
                                    nv[cs])  # fmt: skip
                    continue
                spk, lis = (z2, z1) if swap else (z1, z2)
                for c0 in range(0, sel.size, step):
                    cs = slice(c0, c0 + step)
                    n_out += _kernel_chunk(
                        out, prep, spk, lis, sel[cs], ti[cs], li_idx[cs], li, nv[cs], finite
                    )
    return n_out


def _prepared_units(prep):
    """The extended unit phasors of both participants (made once per prepared dyad)."""
    if "unit_ext" not in prep.extra:
        prep.extra["unit_ext"] = _unit_pair(prep, _unit_extended(prep, prep.z[0]))
    if "unit_ext_2" not in prep.extra:
        prep.extra["unit_ext_2"] = _unit_pair(prep, _unit_extended(prep, prep.z[1]))
    return prep.extra["unit_ext"], prep.extra["unit_ext_2"]


def _unit_pair(prep, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(u, conj(u))``: a participant's phasors as speaker and as listener."""
    return u, np.conj(u)


def _sync_from_prepared(prep, z2_override: np.ndarray | None = None, shift: int | None = None):
    """Compute the Coupling of prepared windows (optionally with participant 2 replaced by
    ``z2_override``, or circularly shifted by ``shift`` samples as ``np.roll(z2, shift)``)."""
    from .results import Coupling

    z1 = prep.z[0]
    z2 = prep.z[1] if z2_override is None else z2_override
    n_b, n_c, n_t = z1.shape
    n_ep = len(prep.starts)
    out = np.full(
        (len(prep.metrics), n_ep, n_b, len(prep.lag_n), n_c, n_c), np.nan, dtype=np.float64
    )
    unit = None
    if n_ep and _unit_path(prep, z1) and (z2_override is None or _unit_path(prep, z2)):
        unit = _prepared_units(prep)
        if z2_override is not None:
            unit = (unit[0], _unit_pair(prep, _unit_extended(prep, z2)))
    elif shift is not None:  # the general path needs the shifted copy
        z2 = np.roll(z2, int(shift), axis=-1)
    n_out = 0
    # one BLAS thread for the many small per-window products (10-20x faster than threads
    # on a loaded machine)
    with single_thread_blas(prep.backend == "numpy"):
        n_out = _fill_windows(out, prep, z1, z2, int(shift or 0), unit)
    surrogate = z2_override is not None or shift is not None
    flat_info = _mask_flat_windows(out, prep) if not surrogate else {}
    if n_out:
        logger.warning(
            "compute_dyad_sync: %d epoch x lag combination(s) have a listener window outside "
            "the recording and are NaN",
            n_out,
        )
    md = prep.windows.copy()
    coupling = Coupling.from_array(
        out,
        metrics=prep.metrics,
        bands=prep.bands,
        lags=prep.lags,
        node_in=prep.extra["node_in"],
        node_out=prep.extra["node_out"],
        attrs=dict(prep.attrs, n_lag_out=int(n_out), **flat_info),
        epochs_metadata=md,
    )
    fmin = np.array([lo for lo, _ in prep.bands.values()])
    n_cyc = md["duration"].to_numpy()[:, None] * fmin[None]
    da = coupling.xarray.assign_coords(n_cycles=(("epochs", "freqs"), n_cyc))
    return Coupling(_apply_rois(da, prep.rois))


def _mask_flat_windows(out, prep) -> dict:
    """NaN for every pair with a channel flat in its (lagged) window; attrs reporting them."""
    chg = prep.extra.get("changes")
    if chg is None:
        return {}
    n_t = chg.shape[-1]
    starts, lengths = prep.starts, prep.lengths
    spk = prep.swap.astype(int)  # participant index of node_in (the speaker) per epoch
    lis = 1 - spk

    def flat(part, first):  # (E, C) for windows [first, first + length) of participant part
        last = first + lengths - 1
        ok = (first >= 0) & (last < n_t)
        a = chg[part, :, np.clip(first, 0, n_t - 1)]  # (E, C)
        b = chg[part, :, np.clip(last, 0, n_t - 1)]
        return (a == b) & ok[:, None]

    f_in = flat(spk, starts)
    n_flat, per = 0, {}
    for li, k in enumerate(prep.lag_n):
        f_out = flat(lis, starts + int(k))
        bad = f_in[:, :, None] | f_out[:, None, :]  # (E, C_in, C_out)
        if bad.any():
            np.copyto(out[:, :, :, li], np.nan, where=bad[None, :, None])
        if li == 0:
            for e, c in zip(*np.nonzero(f_in)):
                _note(per, prep, spk[e], c, e)
        for e, c in zip(*np.nonzero(f_out)):
            _note(per, prep, lis[e], c, e)
    report = {str(p): {c: len(v) for c, v in d.items()} for p, d in per.items()}
    n_flat = int(sum(n for d in report.values() for n in d.values()))
    log = prep.extra.get("exclusions")
    for pid, chans in report.items():
        for ch, n in chans.items():
            row = {
                "stage": "compute_dyad_sync",
                "kind": "channel-epoch",
                "item": f"{pid}: {ch}",
                "reason": "flat (zero variance): NaN for every metric and pair",
                "n": n,
            }
            if log is not None and row not in log.rows:
                log.add(row["stage"], row["kind"], row["item"], row["reason"], n)
    if n_flat:
        logger.warning(
            "compute_dyad_sync: dyad %r: %d flat (epoch, channel) window(s) (all samples equal, "
            "zero variance): every metric is NaN for the pairs involving them; {participant: "
            "{channel: n_epochs}} = %s",
            prep.attrs.get("dyad_id"),
            n_flat,
            report,
        )
    return {"n_flat": n_flat, "flat_channels": report}


def _note(per: dict, prep, part: int, c: int, e: int) -> None:
    name = prep.extra.get("part_ch_names", [prep.ch_names] * 2)[part][c]
    per.setdefault(str(prep.dyad_ids[part]), {}).setdefault(name, set()).add(int(e))


def _apply_rois(da, rois):
    if rois is None:
        return da
    from ._rois import _roi_average

    return _roi_average(da, rois)
