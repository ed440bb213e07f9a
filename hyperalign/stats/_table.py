"""The utterance-level analysis table: synchrony joined with the predictors.

``build_analysis_table`` joins synchrony (``summarize_utterances``) with the predictors
(``compute_predictors``) into one tidy table, counting every row it cannot join and every
missing or infinite value; ``check_n_groups`` refuses too few dyads for a random intercept.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..utils import (
    ExclusionLog,
    _validate_type,
    fill_doc,
    logger,
    verbose,
)
from ._checks import AnalysisTableError, refuse_duplicates

KEYS = ("dyad", "utterance_id")
CELL_COLUMNS = ("metric", "band", "lag", "roi")
#: Bookkeeping columns of the synchrony table (``summarize_utterances``), never predictors: a
#: constant one (the same number of surrogates for every utterance) is not worth a warning.
SYNC_BOOKKEEPING = ("n_surrogates", "short")
MIN_DYADS_ERROR = 3
MIN_DYADS_WARN = 6


def _require_columns(df: pd.DataFrame, cols, name: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise AnalysisTableError(
            f"{name} is missing column(s) {missing}; it has {list(df.columns)}. "
            f"Pass the output of the function named in docs/design.md or rename the columns."
        )


def check_n_groups(
    n_groups: int, groups: str = "dyad", *, where: str = "", warn: bool = True, stacklevel: int = 3
) -> None:
    """Raise below 3 groups and warn below 6 (random-effect variance is then poorly estimated).

    ``warn=False``: raise only (the caller already warned, e.g. once for the whole table).
    ``stacklevel`` is that of the warning, counted from this function.
    """
    tag = f" ({where})" if where else ""
    if n_groups < MIN_DYADS_ERROR:
        raise AnalysisTableError(
            f"too few {groups} groups{tag}: {n_groups}; a random intercept per {groups} needs at "
            f"least {MIN_DYADS_ERROR} (>= {MIN_DYADS_WARN} recommended). Add dyads or fit a "
            f"fixed-effects model."
        )
    if warn and n_groups < MIN_DYADS_WARN:
        warnings.warn(
            f"only {n_groups} {groups} groups{tag}: the random-intercept variance and the "
            f"permutation null are poorly estimated with fewer than {MIN_DYADS_WARN}.",
            UserWarning,
            stacklevel=stacklevel,
        )


def _check_join_inputs(sync: pd.DataFrame, pred: pd.DataFrame, on: list[str]) -> None:
    """Refuse what would join wrongly: text synchrony, mismatched key dtypes."""
    if not pd.api.types.is_numeric_dtype(sync["sync"]):
        raise AnalysisTableError(
            f"sync_table['sync'] is not numeric (dtype {sync['sync'].dtype}, e.g. "
            f"{sync['sync'].dropna().iloc[0] if sync['sync'].notna().any() else None!r}); "
            "convert it with pd.to_numeric"
        )
    for k in on:
        if k == "dyad":
            continue  # dyad ids are compared as strings
        a, b = sync[k], pred[k]
        if pd.api.types.is_numeric_dtype(a) != pd.api.types.is_numeric_dtype(b):
            raise AnalysisTableError(
                f"key {k!r} has dtype {a.dtype} in sync_table and {b.dtype} in predictors; "
                f"they would never match. Convert one, e.g. "
                f"predictors[{k!r}] = predictors[{k!r}].astype({str(a.dtype)!r})"
            )


def _check_duplicates(merged: pd.DataFrame, on: list[str]) -> None:
    """Joined synchrony rows must be unique per utterance and cell (no pseudo-replication)."""
    cell = on + [c for c in (*CELL_COLUMNS, "roi_in", "roi_out", "window_id") if c in merged]
    refuse_duplicates(
        merged, cell, "sync_table",
        "one utterance would count several times in the same cell (pseudo-replication). Drop "
        "the duplicates (sync_table.drop_duplicates(...)) or concatenate each dyad once.",
    )  # fmt: skip


@fill_doc
@verbose
def build_analysis_table(
    sync_table: pd.DataFrame,
    predictors: pd.DataFrame,
    *,
    on: tuple[str, ...] = KEYS,
    how: str = "inner",
    verbose=None,
) -> pd.DataFrame:
    """Join utterance-level synchrony with the utterance predictors into one tidy table.

    Parameters
    ----------
    sync_table : DataFrame
        From ``hyperalign.coupling.summarize_utterances``: one row per utterance × metric ×
        band × lag × ROI with at least ``dyad, utterance_id, sync`` (``sync_z`` when
        surrogates ran).
    predictors : DataFrame
        From ``hyperalign.features.compute_predictors``: one row per utterance with ``dyad,
        utterance_id`` and ``speaker, listener, sem_align*, ac_*, acsim*, duration, n_words``.
    on : tuple of str
        Join keys.
    how : {'inner'}
        Only synchrony rows with a predictor row are kept; the others are counted, logged and
        listed in ``table.attrs['exclusions']``.
    %(verbose)s

    Returns
    -------
    table : DataFrame
        One row per utterance × cell, sorted by ``dyad, utterance_id`` and the cell columns.
        ``table.attrs['exclusions']`` is an :class:`~hyperalign.utils.ExclusionLog`
        and ``table.attrs['report']`` a dict with the counts of excluded / NaN rows, constant
        predictors and dyads. Unique listener and speaker ids (``dyad:participant``) are added
        as ``listener_uid`` and ``speaker_uid`` for variance components.

    Raises
    ------
    AnalysisTableError
        Missing key columns, duplicated predictor or synchrony rows, key columns of different
        dtypes, non-numeric synchrony, an empty join or fewer than 3 dyads.

    See Also
    --------
    hyperalign.coupling.summarize_utterances, hyperalign.features.compute_predictors
    test_semantic_beyond_acoustics, fit_mixed

    Examples
    --------
    Synchrony in two bands of 6 dyads × 40 utterances, joined with the predictors; the first
    utterance has no predictor row, so its two synchrony rows are left out and counted:

    >>> from hyperalign.stats import build_analysis_table, simulate_analysis_table
    >>> sim = simulate_analysis_table(6, 40, bands=("theta", "alpha"), random_state=0)
    >>> sync = sim[["dyad", "utterance_id", "metric", "band", "roi", "lag", "sync"]]
    >>> predictors = sim[sim["band"] == "theta"][
    ...     ["dyad", "utterance_id", "speaker", "listener", "sem_align", "acsim", "duration"]
    ... ]
    >>> table = build_analysis_table(sync, predictors.iloc[1:], verbose="error")
    >>> len(sync), len(table), table["dyad"].nunique()
    (480, 478, 6)
    >>> log = table.attrs["exclusions"]
    >>> log.total("row"), log.rows[0]["reason"]
    (2, 'synchrony rows of 1 utterance(s) without a predictor row')
    >>> list(table.columns)  # doctest: +NORMALIZE_WHITESPACE
    ['dyad', 'utterance_id', 'metric', 'band', 'roi', 'lag', 'sync', 'speaker', 'listener',
     'sem_align', 'acsim', 'duration', 'listener_uid', 'speaker_uid']
    """
    on = _check_table_inputs(sync_table, predictors, on, how)
    log = ExclusionLog()
    report: dict = {}
    merged = _join(sync_table, predictors, on, log, report)
    _report_values(merged, on, report)
    n_dyads = merged["dyad"].nunique()
    report["n_dyads"] = int(n_dyads)
    report["n_rows"] = len(merged)
    check_n_groups(n_dyads, "dyad", where="analysis table", stacklevel=4)
    for role in ("listener", "speaker"):
        if role in merged.columns:
            merged[f"{role}_uid"] = merged["dyad"] + ":" + merged[role].astype(str)
    sort_cols = on + [c for c in CELL_COLUMNS if c in merged.columns]
    merged = merged.sort_values(sort_cols, kind="mergesort").reset_index(drop=True)
    merged.attrs["exclusions"] = log
    merged.attrs["report"] = report
    logger.info(
        "analysis table: %d rows, %d dyads, %d excluded synchrony rows",
        len(merged),
        n_dyads,
        report["n_rows_without_predictors"],
    )
    return merged


def _check_table_inputs(sync_table, predictors, on, how) -> list[str]:
    """Types, key and ``sync`` columns, key dtypes; returns the join keys as a list."""
    if how != "inner":
        raise ValueError(f"how must be 'inner'; got {how!r}")
    on = list(on)
    for name, df in (("sync_table", sync_table), ("predictors", predictors)):
        _validate_type(df, pd.DataFrame, name, "a pandas DataFrame")
    _require_columns(sync_table, on + ["sync"], "sync_table")
    _require_columns(predictors, on, "predictors")
    _check_join_inputs(sync_table, predictors, on)
    return on


def _join(
    sync_table: pd.DataFrame, predictors: pd.DataFrame, on: list[str], log, report: dict
) -> pd.DataFrame:
    """Synchrony rows with their predictor row; rows that cannot be joined counted in ``log``."""
    pred = predictors.copy()
    sync = sync_table.copy()
    for df in (pred, sync):
        df["dyad"] = df["dyad"].astype(str)
    refuse_duplicates(pred, on, "predictors", "it must hold one row per utterance.")
    overlap = [c for c in pred.columns if c in sync.columns and c not in on]
    if overlap:
        logger.info("build_analysis_table: columns %s taken from sync_table", overlap)
        pred = pred.drop(columns=overlap)
    merged = sync.merge(pred, on=on, how="left", indicator=True)
    no_pred = merged["_merge"] == "left_only"
    if no_pred.any():
        missing_keys = merged.loc[no_pred, on].drop_duplicates()
        n_utt = len(missing_keys)
        log.add(
            "build_analysis_table",
            "row",
            ", ".join(f"{r.dyad}/{r.utterance_id}" for r in missing_keys.head(5).itertuples())
            + (" …" if n_utt > 5 else ""),
            f"synchrony rows of {n_utt} utterance(s) without a predictor row",
            int(no_pred.sum()),
        )
    report["n_rows_without_predictors"] = int(no_pred.sum())
    merged = merged.loc[~no_pred].drop(columns="_merge")
    _check_duplicates(merged, on)
    key_sync = sync[on].drop_duplicates()
    key_pred = pred[on].drop_duplicates()
    not_synced = key_pred.merge(key_sync, on=on, how="left", indicator=True)
    n_ns = int((not_synced["_merge"] == "left_only").sum())
    report["n_utterances_without_sync"] = n_ns
    if n_ns:
        log.add(
            "build_analysis_table",
            "utterance",
            "predictor rows",
            "utterances without synchrony (e.g. shorter than min_duration)",
            n_ns,
        )
    if merged.empty:
        raise AnalysisTableError(
            f"no synchrony row matched a predictor row on {on}; check that dyad ids and "
            "utterance ids are the same in both tables (e.g. dtype of utterance_id)."
        )
    return merged


def _report_values(merged: pd.DataFrame, on: list[str], report: dict) -> None:
    """Count (and log) NaN, infinite, empty and constant numeric columns into ``report``."""
    num = [c for c in merged.columns if c not in on and pd.api.types.is_numeric_dtype(merged[c])]
    n_nan = {c: int(merged[c].isna().sum()) for c in num if merged[c].isna().any()}
    report["nan_counts"] = n_nan
    empty = [c for c, n in n_nan.items() if n == len(merged)]
    report["empty_columns"] = empty
    if empty:
        logger.info("build_analysis_table: columns %s hold no values (e.g. no surrogates)", empty)
    n_inf = {
        c: int(np.isinf(merged[c].to_numpy(dtype=float, na_value=np.nan)).sum())
        for c in num
        if not pd.api.types.is_bool_dtype(merged[c])
    }
    n_inf = {c: n for c, n in n_inf.items() if n}
    report["nonfinite_counts"] = n_inf
    for c, n in n_inf.items():
        logger.warning(
            "build_analysis_table: %d row(s) with infinite %r; they are excluded from "
            "models that use %r (counted per cell in n_excluded_nonfinite)",
            n,
            c,
            c,
        )
    for c, n in n_nan.items():
        if c in empty:
            continue
        logger.warning(
            "build_analysis_table: %d row(s) with NaN %r; they are excluded from models "
            "that use %r (counted per cell in n_excluded)",
            n,
            c,
            c,
        )
    const = [c for c in num if merged[c].nunique(dropna=True) <= 1]
    report["constant_columns"] = const
    # cell keys, bookkeeping, flags (a constant True/False such as 'ac_mic_silent') and columns
    # without any value (reported above) are not predictors; a model that uses one of them
    # still refuses it as constant
    quiet = {*CELL_COLUMNS, *SYNC_BOOKKEEPING, *empty}
    for c in const:
        if c not in quiet and not pd.api.types.is_bool_dtype(merged[c]):
            warnings.warn(
                f"column {c!r} is constant in the analysis table; it cannot be a predictor.",
                UserWarning,
                stacklevel=4,  # the caller of build_analysis_table (through @verbose)
            )
