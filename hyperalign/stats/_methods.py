"""A methods paragraph generated from the parameters actually used in an analysis.

In :mod:`hyperalign.stats` so that :meth:`SemanticTestResult.methods_text` needs nothing from
:mod:`hyperalign.report` (stats never imports report); :mod:`hyperalign.report.methods`
re-exports it.
"""

from __future__ import annotations

from collections.abc import Iterable


def _list(v: Iterable | str | None) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    items = [str(x) for x in v]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


_CORR = {
    "maxstat": "the permutation distribution of the maximum statistic across cells "
    "(family-wise error rate; Westfall & Young 1993)",
    "fdr": "the Benjamini–Hochberg false discovery rate procedure",
    "fdr_bh": "the Benjamini–Hochberg false discovery rate procedure",
    "fdr_by": "the Benjamini–Yekutieli false discovery rate procedure (valid under any "
    "dependence)",
    "holm": "Holm's step-down procedure (family-wise error rate)",
    "bonferroni": "the Bonferroni correction",
}

_METRICS = {
    "plv": "phase-locking value (PLV)",
    "ccorr": "circular correlation (CCorr)",
    "wpli": "weighted phase-lag index (wPLI)",
    "coh": "coherence",
    "imcoh": "imaginary coherence",
    "envcorr": "amplitude-envelope correlation",
    "pli": "phase-lag index (PLI)",
}


def methods_paragraph(params: dict) -> str:
    """Write the statistics part of a methods section from the parameters used.

    Parameters
    ----------
    params : dict
        Typically ``SemanticTestResult.params`` (keys ``sync, semantic, acoustic,
        covariates, groups, formula_null, formula_full, n_permutations, scheme, method,
        correction, alpha, n_dyads, n_cells``) merged with coupling parameters when known:
        ``metrics``/``metric``, ``bands`` (names or ``{name: (fmin, fmax)}``), ``lags``,
        ``rois``, ``surrogates`` (e.g. ``'circular shift'``), ``n_surrogates``.

    Returns
    -------
    str
        One paragraph; every number in it comes from ``params``.
    """
    p = dict(params)
    parts = _synchrony_sentences(p) + _model_sentences(p) + _test_sentences(p)
    if p.get("n_dyads"):
        parts.append(f"The analysis included {p['n_dyads']} dyads.")
    return " ".join(parts)


def _synchrony_sentences(p: dict) -> list[str]:
    """What synchrony was measured (metric, bands, lags, ROIs) and its surrogate correction."""
    parts = []
    metrics = p.get("metrics") or p.get("metric")
    if metrics:
        names = [metrics] if isinstance(metrics, str) else list(metrics)
        parts.append(
            "Inter-brain synchrony was measured per utterance with the "
            + _list(_METRICS.get(str(m).lower(), str(m)) for m in names)
        )
        bands = p.get("bands")
        if isinstance(bands, dict):
            parts[-1] += (
                " in the "
                + _list(f"{k} ({v[0]:g}–{v[1]:g} Hz)" for k, v in bands.items())
                + " band"
                + ("s" if len(bands) > 1 else "")
            )
        elif bands:
            parts[-1] += " in the " + _list(bands) + " band" + ("s" if len(bands) > 1 else "")
        lags = p.get("lags")
        if lags is not None and len(list(lags)) > 0:
            parts[-1] += f" at listener lags of {_list(f'{float(x):g}' for x in lags)} s"
        rois = p.get("rois")
        if rois:
            parts[-1] += f" for the region-of-interest pairs {_list(rois)}"
        parts[-1] += "."
    if p.get("surrogates") or p.get("n_surrogates"):
        n_s = p.get("n_surrogates")
        parts.append(
            "Synchrony was corrected against "
            + (f"{n_s} " if n_s else "")
            + f"{p.get('surrogates') or 'surrogate'} surrogates (z-scored)."
        )
    elif p.get("sync") == "sync_z":
        parts.append("Synchrony was z-scored against surrogate data.")
    return parts


def _model_sentences(p: dict) -> list[str]:
    """The two mixed models and the likelihood-ratio test between them."""
    groups = p.get("groups", "dyad")
    f0, f1 = p.get("formula_null"), p.get("formula_full")
    if not f1:
        return []
    return [
        f"For each cell ({_list(p.get('by') or ['all data'])}), we fitted linear "
        f"mixed-effects models with a random intercept per {groups} (statsmodels MixedLM): "
        f"the full model "
        f"`{f1}` and the acoustics-only model `{f0}`"
        + (
            f", with acoustic control term(s) {_list(p.get('acoustic'))}"
            if p.get("acoustic")
            else ", without acoustic control terms"
        )
        + (f" and covariates {_list(p.get('covariates'))}" if p.get("covariates") else "")
        + ".",
        "The contribution of semantic alignment "
        f"({_list(p.get('semantic', ['sem_align']))}) beyond acoustics was tested with a "
        "likelihood-ratio test of the two models, both fitted by maximum likelihood; the "
        f"semantic coefficient and its Wald {100 * (1 - p.get('alpha', 0.05)):g}% confidence "
        "interval are from the REML fit, and marginal and conditional R² follow Nakagawa & "
        "Schielzeth (2013) and Johnson (2014), with unique and shared variance from a "
        "commonality analysis of marginal R².",
    ]


def _test_sentences(p: dict) -> list[str]:
    """The permutation test and the correction across cells."""
    parts = []
    groups = p.get("groups", "dyad")
    n_perm = p.get("n_permutations", 0)
    if n_perm:
        scheme = {
            "within": f"shuffling semantic alignment across utterances within each {groups}",
            "circular": f"rotating each {groups}'s sequence of semantic alignment by a random "
            "offset, which keeps its serial correlation",
            "pseudo": f"replacing semantic alignment with that of another {groups} matched by "
            "utterance position (pseudo-dyads)",
        }[p.get("scheme", "within")]
        how = (
            "with the variance components of the acoustics-only model held fixed "
            "(GLS-whitened likelihood-ratio statistic)"
            if p.get("method", "batch") == "batch"
            else "refitting the full model by maximum likelihood for each permutation"
        )
        parts.append(
            f"A permutation test ({n_perm} permutations, {scheme}) recomputed the "
            f"likelihood-ratio statistic {how}; p-values are (1 + #null ≥ observed) / "
            f"(1 + {n_perm})."
        )
    corr = p.get("correction")
    if corr:
        parts.append(
            f"P-values were corrected across {p.get('n_cells', 'all')} cells with "
            f"{_CORR.get(corr, corr)} at α = {p.get('alpha', 0.05):g}."
        )
    elif p.get("n_cells", 1) > 1:
        parts.append("P-values are not corrected for multiple comparisons.")
    return parts
