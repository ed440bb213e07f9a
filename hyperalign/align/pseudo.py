"""Pseudo-dyads: participants of different conversations paired, matched on duration.

The pairing used by every null that replaces a partner by a stranger: the pseudo-dyad
control of inter-brain synchrony (:func:`hyperalign.coupling.make_pseudo_dyads`) and the
pseudo-listeners of model-based coupling (:func:`hyperalign.encoding.fit_b2b_coupling` with
``null='pseudo'``). It lives below both so that neither reimplements it.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..utils import _validate_type, check_option, check_random_state, logger, verbose

__all__ = ["make_pseudo_dyads", "pseudo_dyad"]


def pseudo_dyad(host, donor, *, slot: int = 1):
    """One pseudo-dyad: ``host`` with its participant ``slot`` replaced by ``donor``'s.

    Both recordings are cropped to the shorter one (words past it are removed and counted
    in the pseudo-dyad's ``exclusions``); the stranger takes the replaced participant's id
    and role, so the host transcript's speaker labels still apply.

    Parameters
    ----------
    host, donor : Dyad
        The conversation kept and the one the stranger comes from (same sampling rate).
    slot : 0 | 1
        Which participant is replaced.

    Returns
    -------
    pseudo : Dyad
        ``dyad_id`` ``'pseudo:<host>+<donor>'``; ``meta['pseudo']`` says where the stranger
        came from.

    See Also
    --------
    make_pseudo_dyads : Every (or a random set of) ordered pair(s) of a list of dyads.
    """
    from ..dyad import Dyad

    check_option("slot", slot, (0, 1))
    if donor.sfreq != host.sfreq:
        raise ValueError(
            f"dyad {donor.dyad_id!r} is sampled at {donor.sfreq} Hz but dyad "
            f"{host.dyad_id!r} at {host.sfreq} Hz; resample them to one rate before making "
            "pseudo-dyads"
        )
    dur = min(host.duration, donor.duration)
    keep = host[1 - slot].copy()
    stranger = donor[slot].copy()
    replaced_id = host[slot].id
    stranger.info = dict(stranger.info)
    stranger.info["source"] = {"dyad": donor.dyad_id, "participant": stranger.id}
    stranger.id = replaced_id
    stranger.role = host[slot].role
    parts = [keep, stranger] if slot == 1 else [stranger, keep]
    pseudo = Dyad(
        parts,
        None,
        dyad_id=f"pseudo:{host.dyad_id}+{donor.dyad_id}",
        meta={
            **host.meta,
            "pseudo": {
                "host": host.dyad_id,
                "donor": donor.dyad_id,
                "slot": slot,
                "donor_participant": donor[slot].id,
                "duration": dur,
            },
        },
        exclusions=host.exclusions.copy(),
    )
    for p in pseudo.participants:
        last = (p.raw.n_times - 1) / p.sfreq
        if last > dur:
            p.raw.crop(0, dur, include_tmax=False)
        if p.audio is not None:
            p.audio = p.audio[: int(round(dur * p.audio_sfreq))]
    if host.transcript is not None:
        tr = host.transcript
        n0 = tr.n_words
        if tr.end > pseudo.duration:
            tr = tr.crop(0, pseudo.duration)
        if tr.n_words < n0:
            pseudo.exclusions.add(
                "make_pseudo_dyads",
                "word",
                f"{pseudo.dyad_id}: after {pseudo.duration:.2f} s",
                "beyond the shorter recording of the pseudo-dyad",
                n0 - tr.n_words,
            )
        pseudo.set_transcript(tr)
    return pseudo


@verbose
def make_pseudo_dyads(
    dyads: Sequence,
    n: int | None = None,
    *,
    slot: int = 1,
    random_state=None,
    verbose=None,
) -> list:
    """Pair participants of *different* conversations: the pseudo-dyad (surrogate) control.

    Pseudo-dyad ``(i, j)`` keeps participant ``1 - slot`` and the transcript of dyad ``i`` and
    replaces participant ``slot`` by the participant in the same slot of dyad ``j != i``
    (same role, e.g. both listeners of a task). The two recordings are matched on duration:
    both are cropped to the shorter one (words past it are removed and counted in the
    pseudo-dyad's ``exclusions``). The stranger takes the replaced participant's id so that the
    transcript's speaker labels still apply; where it came from is kept in
    ``participant.info['source']`` and ``pseudo.meta['pseudo']``.

    Parameters
    ----------
    dyads : sequence of Dyad
        At least two dyads with equal sampling rates and equal channel names in ``slot``.
    n : int | None
        Number of pseudo-dyads. ``None`` returns all ``n_dyads * (n_dyads - 1)`` ordered pairs;
        an int draws that many distinct pairs at random (without replacement; at most all).
    slot : 0 | 1
        Which participant is swapped in (default 1, the second).
    random_state : None | int | numpy.random.Generator
        Seed (for ``n`` not None).
    verbose : bool | str | int | None
        Log level.

    Returns
    -------
    pseudo : list of Dyad
        ``dyad_id`` is ``'pseudo:<id_i>+<id_j>'``.
    """
    from ..dyad import Dyad

    dyads = list(dyads)
    if len(dyads) < 2:
        raise ValueError(
            f"make_pseudo_dyads needs at least 2 dyads to pair strangers; got {len(dyads)}"
        )
    check_option("slot", slot, (0, 1))
    for k, d in enumerate(dyads):
        _validate_type(d, Dyad, f"dyads[{k}]", "a Dyad")
    sf = {d.sfreq for d in dyads}
    if len(sf) > 1:
        raise ValueError(
            f"dyads have different sampling rates {sorted(sf)} Hz; resample them to one rate "
            "before making pseudo-dyads"
        )
    ref = dyads[0][slot].raw.ch_names
    for d in dyads[1:]:
        if d[slot].raw.ch_names != ref:
            raise ValueError(
                f"participant {slot} of dyad {d.dyad_id!r} has channels "
                f"{d[slot].raw.ch_names[:5]}... ({len(d[slot].raw.ch_names)}) but dyad "
                f"{dyads[0].dyad_id!r} has {ref[:5]}... ({len(ref)}); pick the same channels "
                "in every dyad"
            )
    pairs = [(i, j) for i in range(len(dyads)) for j in range(len(dyads)) if i != j]
    if n is not None:
        n = int(n)
        if not 1 <= n <= len(pairs):
            raise ValueError(
                f"n must be between 1 and {len(pairs)} (all ordered pairs of {len(dyads)} "
                f"dyads); got {n}"
            )
        rng = check_random_state(random_state)
        pick = rng.choice(len(pairs), size=n, replace=False)
        pairs = [pairs[k] for k in sorted(pick)]
    out = [pseudo_dyad(dyads[i], dyads[j], slot=slot) for i, j in pairs]
    logger.info("make_pseudo_dyads: %d pseudo-dyads from %d dyads", len(out), len(dyads))
    return out
