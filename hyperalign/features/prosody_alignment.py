"""Acoustic and prosodic similarity between consecutive turns.

So that coupling models can hold acoustics fixed, every utterance ``u`` is compared with
its *previous turn* ``p(u)``: by default the most recent non-backchannel utterance of the
other speaker that started before ``u`` (:func:`previous_utterances`); the semantic side
can share one definition by passing the same ``previous`` mapping.

Components (higher = more similar, 0 = identical):

* ``acsim_f0 = -|st(u) - st(p)|`` with ``st = f0_mean_st`` (semitones re 100 Hz);
* ``acsim_intensity = -|I(u) - I(p)|`` with ``I = intensity_db`` (dB);
* ``acsim_rate = -|r(u) - r(p)|`` with ``r = rate_wps`` (words/s; ``rate='sps'`` uses
  syllables/s);
* ``acsim_spectral = cos(m(u), m(p))``, the cosine of the MFCC 1-13 mean vectors (spectral
  shape without the energy term c0).

Composite ``acsim``:

* ``composite='levels'`` (default): ``acsim = -mean_k |z_k(u) - z_k(p)|`` over
  ``k in components`` (default F0, intensity, rate), where ``z_k`` is feature ``k``
  (semitones, dB, words/s) z-scored over the dyad's non-backchannel utterances. Each term is
  ``acsim_k / sd_k``, so this is the mean of the components put in standard-deviation
  units; it is the definition the simulator plants (``hyperalign.simulation``), so the
  measured ``acsim`` tracks the planted acoustic similarity.
* ``composite='components'``: ``acsim = mean_k z(acsim_k)``, the mean of the z-scored
  components (may include ``'spectral'``).

The composite averages the components available for a row (e.g. F0 is NaN for an unvoiced
utterance); such rows are counted in ``df.attrs['report']['n_partial']``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..align.turns import previous_turns
from ..utils import check_option, fill_doc, logger, verbose

__all__ = ["compute_acoustic_similarity", "previous_utterances"]

_LEVELS = {"f0": "f0_mean_st", "intensity": "intensity_db"}


def previous_utterances(utterances: pd.DataFrame, *, skip_backchannels: bool = True) -> pd.Series:
    """The previous turn of every utterance.

    Parameters
    ----------
    utterances : pandas.DataFrame
        ``Transcript.utterances`` (``utterance_id, speaker, onset`` and ``backchannel``).
    skip_backchannels : bool
        If True (default), backchannels of the other speaker are not previous turns.

    Returns
    -------
    pandas.Series
        Indexed by ``utterance_id``: the ``utterance_id`` of the most recent
        (non-backchannel) utterance of the other speaker that started strictly before this
        one, or -1 when there is none.
    """
    missing = [c for c in ("utterance_id", "speaker", "onset") if c not in utterances.columns]
    if missing:
        raise ValueError(
            f"utterances lacks column(s) {missing}; pass Transcript.utterances "
            f"(it has {list(utterances.columns)})"
        )
    full = {"utterance_id", "speaker", "onset", "offset", "turn", "backchannel"}
    u = utterances
    if not (skip_backchannels and full <= set(utterances.columns)):
        u = utterances.sort_values(["onset", "utterance_id"], kind="mergesort")
    # the one previous-turn rule (hyperalign.align.turns.previous_turns)
    pos = previous_turns(u, 1, skip_backchannels=skip_backchannels)[:, 0]
    ids = u["utterance_id"].to_numpy()
    prev = np.where(pos >= 0, ids[np.maximum(pos, 0)], -1).astype(np.int64)
    return pd.Series(prev, index=pd.Index(ids, name="utterance_id"), name="previous_id")


def _zscore(x: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """z-score ``x`` with the mean/sd of the finite values of ``x[ref]`` (sd 0 -> zeros)."""
    x = np.asarray(x, float)
    pool = x[ref & np.isfinite(x)]
    if len(pool) < 2:
        return np.where(np.isfinite(x), 0.0, np.nan)
    sd = pool.std()
    return (x - pool.mean()) / sd if sd > 0 else np.where(np.isfinite(x), 0.0, np.nan)


@fill_doc
@verbose
def compute_acoustic_similarity(
    acoustic_table,
    utterances: pd.DataFrame | None = None,
    previous: Mapping | pd.Series | pd.DataFrame | None = None,
    *,
    rate: str = "wps",
    composite: str = "levels",
    components: Sequence[str] | None = None,
    acoustic_kws: dict | None = None,
    verbose: bool | str | int | None = None,
) -> pd.DataFrame:
    """Acoustic/prosodic similarity of each utterance with its previous turn.

    Parameters
    ----------
    acoustic_table : pandas.DataFrame | Dyad
        :func:`~hyperalign.features.acoustic.compute_acoustic_features` at utterance level
        (``utterance_id``, ``f0_mean_st`` or ``f0_mean``, ``intensity_db``, ``rate_wps`` /
        ``rate_sps``, ``mfcc*``), one dyad. A :class:`~hyperalign.Dyad` is accepted too:
        its utterance-level features are computed here (with ``acoustic_kws``) and
        ``utterances`` defaults to its transcript's; pass the table when you already have
        it, to avoid computing the features twice.
    utterances : pandas.DataFrame | None
        ``Transcript.utterances`` of the same dyad (``utterance_id, speaker, onset,
        backchannel``); required with a table.
    previous : mapping | pandas.Series | pandas.DataFrame | None
        ``utterance_id -> previous utterance_id`` (-1 or NaN for none), or the DataFrame of
        :func:`hyperalign.align.turns.previous_turn_utterance` (``utterance_id,
        prev_utterance_id``); default :func:`previous_utterances` (the same rule, from
        ``hyperalign.align.turns`` when available). Pass the semantic side's mapping to
        share one definition.
    rate : ``'wps'`` | ``'sps'``
        Speech rate in words/s (default, as planted by the simulator) or syllables/s.
    composite : ``'levels'`` | ``'components'``
        See the module notes: ``-mean |Δz|`` of the levels (default, the simulator's
        definition) or the mean of the z-scored components.
    components : sequence of {'f0', 'intensity', 'rate', 'spectral'} | None
        Components entering ``acsim``; default ``('f0', 'intensity', 'rate')`` for
        ``'levels'`` and all four for ``'components'``.
    acoustic_kws : dict | None
        Arguments of ``compute_acoustic_features`` when ``acoustic_table`` is a Dyad.
    %(verbose)s

    Returns
    -------
    pandas.DataFrame
        One row per utterance (order of ``utterances``): ``utterance_id, speaker,
        prev_utterance_id`` (nullable Int64, <NA> without a previous turn), ``acsim_f0,
        acsim_intensity, acsim_rate, acsim_spectral, acsim``.
        ``df.attrs['report']`` counts rows without a previous turn, without acoustic
        features, and with a partial composite.
    """
    check_option("rate", rate, ("wps", "sps"))
    check_option("composite", composite, ("levels", "components"))
    components = _check_components(components, composite)
    acoustic_table, utterances, previous = _resolve_inputs(
        acoustic_table, utterances, previous, acoustic_kws, verbose
    )
    rate_col = f"rate_{rate}"
    _check_acoustic_table(acoustic_table, utterances, rate_col)
    utt, ids, prev, n_unmapped = _previous_ids(utterances, previous)

    tab = acoustic_table.set_index("utterance_id")
    a = tab.reindex(ids)
    n_no_features = int((~np.isin(ids, tab.index.to_numpy())).sum())
    if n_no_features:
        logger.warning(
            "acoustic similarity: %d utterance(s) have no row in acoustic_table (NaN)",
            n_no_features,
        )
    levels = _levels(tab, a, rate_col)
    mf_cols = sorted(
        (c for c in tab.columns if c.startswith("mfcc") and c[4:].isdigit()),
        key=lambda c: int(c[4:]),
    )
    pos = {u: i for i, u in enumerate(ids)}
    has_prev = np.array([p in pos for p in prev])
    j = np.array([pos.get(p, 0) for p in prev], dtype=int)
    out = _component_columns(utt, ids, prev, a, levels, mf_cols, has_prev, j, components)
    n_ok = _composite_column(out, utt, levels, has_prev, j, composite, components)
    n_mic_silent = _silent_mics_nan(out, a, has_prev, j)
    n_partial = int(((n_ok > 0) & (n_ok < len(components))).sum())
    n_no_prev = int((~has_prev).sum())
    if n_partial:
        logger.info(
            "acoustic similarity: %d utterance(s) with a composite over fewer than %d "
            "components (missing F0/feature)", n_partial, len(components),
        )  # fmt: skip
    out.attrs["report"] = {
        "n_rows": len(out),
        "n_no_previous": n_no_prev,
        "n_no_features": n_no_features,
        "n_unmapped_previous": n_unmapped,
        "n_partial": n_partial,
        "n_mic_silent": n_mic_silent,
        "composite": composite,
        "components": list(components),
        "rate": rate_col,
        "spectral": "cosine of mean " + (f"{mf_cols[0]}..{mf_cols[-1]}" if mf_cols else "-"),
    }
    return out


def _check_components(components, composite: str) -> list:
    """The components entering ``acsim`` (default: all allowed for ``composite``)."""
    allowed = ("f0", "intensity", "rate") if composite == "levels" else (
        "f0", "intensity", "rate", "spectral")  # fmt: skip
    if components is None:
        components = allowed
    components = [components] if isinstance(components, str) else list(components)
    if not components:
        raise ValueError(f"components must name at least one of {list(allowed)}")
    for c in components:
        check_option(f"components (composite={composite!r})", c, allowed)
    return components


def _levels(tab, a, rate_col: str) -> dict:
    """F0 (semitones re 100 Hz), intensity (dB) and rate of each utterance (rows of ``a``)."""
    if "f0_mean_st" in tab.columns:
        st = a["f0_mean_st"].to_numpy(float)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            st = 12 * np.log2(a["f0_mean"].to_numpy(float) / 100.0)
    return {
        "f0": st,
        "intensity": a["intensity_db"].to_numpy(float),
        "rate": a[rate_col].to_numpy(float),
    }


def _prev_values(v, has_prev, j):
    """``v`` of each row's previous turn (NaN without one)."""
    out = np.full(v.shape, np.nan)
    out[has_prev] = v[j[has_prev]]
    return out


def _component_columns(utt, ids, prev, a, levels, mf_cols, has_prev, j, components):
    """The output table: ids, previous ids and the ``acsim_<component>`` columns."""
    out = pd.DataFrame({"utterance_id": ids})
    if "speaker" in utt.columns:
        out["speaker"] = utt["speaker"].to_numpy()
    prev_col = pd.array(np.where(has_prev, prev, 0), dtype="Int64")
    prev_col[~has_prev] = pd.NA
    out["prev_utterance_id"] = prev_col
    for k, v in levels.items():
        out[f"acsim_{k}"] = -np.abs(v - _prev_values(v, has_prev, j))
    if mf_cols:
        m = a[mf_cols].to_numpy(float)
        mp = np.full(m.shape, np.nan)
        mp[has_prev] = m[j[has_prev]]
        with np.errstate(invalid="ignore", divide="ignore"):
            cos = (m * mp).sum(1) / (np.linalg.norm(m, axis=1) * np.linalg.norm(mp, axis=1))
        out["acsim_spectral"] = cos
    else:
        out["acsim_spectral"] = np.nan
        if "spectral" in components:
            raise ValueError(
                "components include 'spectral' but acoustic_table has no mfcc1.. columns"
            )
    return out


def _composite_column(out, utt, levels, has_prev, j, composite, components) -> np.ndarray:
    """The composite ``acsim`` (in place); returns the number of components of each row."""
    turn = np.ones(len(out), bool)
    if "backchannel" in utt.columns:
        turn = ~utt["backchannel"].fillna(False).astype(bool).to_numpy()
    if composite == "levels":
        terms = []
        for k in components:
            z = _zscore(levels[k], turn)
            terms.append(-np.abs(z - _prev_values(z, has_prev, j)))
    else:
        terms = [_zscore(out[f"acsim_{k}"].to_numpy(float), turn) for k in components]
    terms = np.stack(terms)
    n_ok = np.isfinite(terms).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["acsim"] = np.where(n_ok > 0, np.nansum(terms, 0) / np.maximum(n_ok, 1), np.nan)
    return n_ok


def _resolve_inputs(acoustic_table, utterances, previous, acoustic_kws, verbose):
    """The acoustic table (computed from a Dyad when given one), utterances and previous."""
    from ..dyad import Dyad

    if isinstance(acoustic_table, Dyad):
        dyad = acoustic_table
        if dyad.transcript is None:
            raise ValueError(f"dyad {dyad.dyad_id!r} has no transcript; attach one first")
        from .acoustic import compute_acoustic_features

        kws = dict(acoustic_kws or {})
        kws.setdefault("verbose", verbose)
        acoustic_table = compute_acoustic_features(dyad, level="utterance", **kws)
        if utterances is None:
            utterances = dyad.transcript.utterances
    elif utterances is None:
        raise ValueError(
            "utterances is required with an acoustic table: pass dyad.transcript.utterances"
        )
    if isinstance(previous, pd.DataFrame):
        if not {"utterance_id", "prev_utterance_id"} <= set(previous.columns):
            raise ValueError(
                "previous as a DataFrame needs columns utterance_id and prev_utterance_id "
                f"(hyperalign.align.turns.previous_turn_utterance); got {list(previous.columns)}"
            )
        previous = pd.Series(
            previous["prev_utterance_id"].astype("Float64").fillna(-1).to_numpy(float),
            index=previous["utterance_id"].to_numpy(),
        )
    return acoustic_table, utterances, previous


def _check_acoustic_table(acoustic_table, utterances, rate_col: str) -> None:
    """Both tables keyed by utterance id; the acoustic table has the level columns."""
    for name, df in (("acoustic_table", acoustic_table), ("utterances", utterances)):
        if not isinstance(df, pd.DataFrame) or "utterance_id" not in df.columns:
            raise ValueError(f"{name} must be a DataFrame with an 'utterance_id' column")
    if acoustic_table["utterance_id"].duplicated().any():
        dup = acoustic_table.loc[acoustic_table["utterance_id"].duplicated(), "utterance_id"]
        raise ValueError(
            f"acoustic_table has duplicated utterance_id(s) {dup.head(5).tolist()}: pass the "
            "utterance-level table of one dyad (level='utterance')"
        )
    need = ["intensity_db", rate_col]
    lacks = [c for c in need if c not in acoustic_table.columns]
    if "f0_mean_st" not in acoustic_table.columns and "f0_mean" not in acoustic_table.columns:
        lacks.append("f0_mean_st (or f0_mean)")
    if lacks:
        raise ValueError(
            f"acoustic_table lacks column(s) {lacks}; compute it with "
            "compute_acoustic_features(dyad, level='utterance')"
        )


def _previous_ids(utterances, previous):
    """Utterances, their ids, the previous turn's id of each (-1: none) and the unmapped."""
    utt = utterances.reset_index(drop=True)
    ids = utt["utterance_id"].to_numpy()
    if previous is None:
        prev_map = previous_utterances(utt)
    else:
        prev_map = pd.Series(previous) if not isinstance(previous, pd.Series) else previous
    prev = pd.to_numeric(pd.Series(ids).map(prev_map), errors="coerce")
    n_unmapped = int(prev.isna().sum()) if previous is not None else 0
    if n_unmapped:
        logger.warning(
            "acoustic similarity: %d utterance(s) absent from `previous`: no previous turn",
            n_unmapped,
        )
    prev = prev.fillna(-1).astype(np.int64).to_numpy()
    return utt, ids, prev, n_unmapped


def _silent_mics_nan(out, a, has_prev, pos) -> int:
    """A silent microphone is measured as silence: NaN ``acsim`` on its turns and replies."""
    n_mic_silent = 0
    if "mic_silent" in a.columns:  # a silent microphone is measured as silence: NaN
        sil = a["mic_silent"].fillna(False).to_numpy(bool)
        sil_prev = np.zeros(len(out), bool)
        sil_prev[has_prev] = sil[pos[has_prev]]
        gone = (sil | sil_prev) & out["acsim"].notna().to_numpy()
        out.loc[gone, "acsim"] = np.nan
        n_mic_silent = int((sil | sil_prev).sum())
        if n_mic_silent:
            logger.warning(
                "acoustic similarity: %d utterance(s) NaN because their own or the previous "
                "turn's microphone is silent (mic_silent)", n_mic_silent,
            )  # fmt: skip
    return n_mic_silent
