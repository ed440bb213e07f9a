"""Default regions of interest: 10-20 channel names grouped by scalp region."""

from __future__ import annotations

from ..utils import logger

#: 10-20 name prefixes of the default regions of interest ("rois: auto").
AUTO_ROIS = {
    "frontal": ("Fp", "AF", "F"),
    "central": ("FC", "C"),
    "temporal": ("FT", "T", "TP"),
    "parietal": ("CP", "P", "PO", "O"),
}


def auto_rois(ch_names: list[str]) -> dict[str, list[str]]:
    """Group 10-20 channel names into frontal / central / temporal / parietal-occipital ROIs.

    The longest matching prefix wins (``FC3`` is central, ``F3`` frontal, ``TP7`` temporal);
    channels that match no prefix are left out of every ROI (and listed in the log).

    Parameters
    ----------
    ch_names : list of str
        Channel names (10-20 names; midline ``z`` suffixes are recognised).

    Returns
    -------
    rois : dict of str to list of str
        ``{roi: channel names}`` in the order given, without empty ROIs.
    """
    out: dict[str, list[str]] = {k: [] for k in AUTO_ROIS}
    pref = sorted(
        ((p, roi) for roi, ps in AUTO_ROIS.items() for p in ps), key=lambda x: -len(x[0])
    )
    unmatched = []
    for ch in ch_names:
        letters = "".join(c for c in ch if c.isalpha())
        for p, roi in pref:
            if letters.upper().startswith(p.upper()) and (
                len(letters) == len(p) or letters[len(p)].lower() == "z"
            ):
                out[roi].append(ch)
                break
        else:
            unmatched.append(ch)
    if unmatched:
        logger.info("auto ROIs: %d channel(s) in no ROI: %s", len(unmatched), unmatched)
    return {k: v for k, v in out.items() if v}
