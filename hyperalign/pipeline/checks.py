"""Consistency checks of a pipeline config, run before anything is computed.

:func:`check_config` needs the config only (run by :func:`~hyperalign.pipeline.load_config`);
:func:`check_study` also needs the dyads (sampling rates, channel names, how many were read)
and runs right after the data are read, before the first feature is computed. Each returns
every problem it finds, so a user fixes them all in one go.
"""

from __future__ import annotations

import math
import re
from typing import Any

#: Fewest dyads a random intercept per dyad can be estimated from (as in hyperalign.stats).
MIN_DYADS = 3

_ID_NUMERIC = {"duration", "n_words", "turn", "onset", "offset", "overlap", "backchannel"}
_SYNC_COLUMNS = {"sync", "sync_z", "sync_pct"}
_GROUPS = {"dyad", "speaker", "listener", "speaker_uid", "listener_uid"}
_BY = {"metric", "band", "lag", "roi", "roi_in", "roi_out", "speaker", "listener"}
_CONTROLS = {"static", "random", "shuffled"}
_LAYER_COL = re.compile(r"^sem_align_(k\d+_)?(embeddings|layer_\d+)$")


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _check_bands(bands: Any, nyquist: float | None) -> list[str]:
    out = []
    if not isinstance(bands, dict):
        return out
    if not bands:
        out.append("coupling.bands: empty; give at least one band, e.g. {theta: [4, 8]}")
    for name, fr in bands.items():
        if not (isinstance(fr, list | tuple) and len(fr) == 2 and all(map(_is_num, fr))):
            continue  # the schema reports the shape
        lo, hi = float(fr[0]), float(fr[1])
        where = f"coupling.bands.{name}: [{lo:g}, {hi:g}]"
        if lo <= 0:
            out.append(f"{where}: fmin must be > 0 Hz; got {lo:g}")
        if lo >= hi:
            out.append(f"{where}: fmin must be below fmax; give [fmin, fmax] with fmin < fmax")
        if nyquist is not None and hi >= nyquist:
            out.append(
                f"{where}: fmax must be below the Nyquist frequency {nyquist:g} Hz (half the "
                "sampling rate); lower fmax or resample less"
            )
    return out


def _term_problem(col: str, f: dict, c: dict) -> str | None:
    """Why the predictor table will not have ``col`` under these settings (or None)."""
    if col in _ID_NUMERIC or col in ("sem_align",) or re.fullmatch(r"sem_align_k\d+", col):
        return None
    if col in _SYNC_COLUMNS or col in ("short",):
        return None
    m = re.fullmatch(r"sem_align_(static|random|shuffled)", col)
    if m:
        if m.group(1) in (f.get("controls") or []):
            return None
        return f"needs features.controls to include {m.group(1)!r}"
    if col == "acsim_speech":
        return None if f.get("speech_embeddings") else "needs features.speech_embeddings: true"
    if col.startswith(("ac_", "acsim")):
        return None if f.get("acoustic") else "needs features.acoustic: true"
    if _LAYER_COL.match(col) or col in ("surprisal_mean", "surprisal_sum", "entropy_mean"):
        ok = (f.get("layers") or {}).get("model")
        return None if ok else "needs features.layers.model (a language model)"
    return "is not a column of the predictor table"


def _check_stats(cfg: dict) -> list[str]:
    import difflib

    s, f, c = cfg.get("stats") or {}, cfg.get("features") or {}, cfg.get("coupling") or {}
    out = []
    sync = s.get("sync")
    if isinstance(sync, str):
        if sync not in _SYNC_COLUMNS:
            out.append(f"stats.sync: {sync!r} is not a synchrony column; use one of "
                       f"{sorted(_SYNC_COLUMNS)}")  # fmt: skip
        elif sync != "sync" and not c.get("surrogates"):
            out.append(
                f"stats.sync: {sync!r} needs surrogates (coupling.surrogates: {{method: "
                "circular_shift, n: 20}}); or use stats.sync: sync"
            )
    metric, metrics = s.get("metric"), c.get("metrics")
    if isinstance(metric, str) and isinstance(metrics, list):
        from ..coupling.metrics import resolve_metric

        try:
            canon = [resolve_metric(m) for m in metrics if isinstance(m, str)]
        except (TypeError, ValueError) as err:
            out.append(f"coupling.metrics: {err}")
            canon = None
        if canon is not None:
            try:
                if resolve_metric(metric) not in canon:
                    out.append(f"stats.metric: {metric!r} is not computed; add it to "
                               f"coupling.metrics {metrics} or pick one of them")  # fmt: skip
            except ValueError as err:
                out.append(f"stats.metric: {err}")
    for key in ("semantic", "acoustic", "covariates"):
        cols = s.get(key)
        if not isinstance(cols, list):
            continue
        if key == "semantic" and not cols:
            out.append("stats.semantic: empty; name at least one semantic column (sem_align)")
        for col in cols:
            why = _term_problem(str(col), f, c)
            if why:
                known = ["sem_align", "sem_align_k3", "acsim", "ac_f0_mean", "duration"]
                near = difflib.get_close_matches(str(col), known, n=1)
                hint = f" (did you mean {near[0]!r}?)" if near and near[0] != col else ""
                out.append(f"stats.{key}: {col!r} {why}{hint}")
    groups = s.get("groups")
    if isinstance(groups, str) and groups not in _GROUPS:
        near = difflib.get_close_matches(groups, sorted(_GROUPS), n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        out.append(f"stats.groups: {groups!r} is not a column of the analysis table{hint} "
                   f"(allowed: {sorted(_GROUPS)})")  # fmt: skip
    for b in s.get("by") or []:
        if isinstance(b, str) and b not in _BY:
            out.append(f"stats.by: {b!r} is not a column of the synchrony table "
                       f"(allowed: {sorted(_BY)})")  # fmt: skip
    n_perm = s.get("n_permutations")
    if s.get("correction") == "maxstat" and isinstance(n_perm, int) and n_perm < 1:
        out.append(
            f"stats.n_permutations: {n_perm}, but correction 'maxstat' needs permutations; "
            "give a positive integer (e.g. 1000) or another correction (fdr, holm)"
        )
    return out


def _check_coupling(cfg: dict) -> list[str]:
    c, d = cfg.get("coupling") or {}, cfg.get("data") or {}
    out = []
    nyq = None
    if d.get("source", "demo") == "demo" and _is_num(d.get("sfreq")) and d["sfreq"] > 0:
        nyq = float(d["sfreq"]) / 2
    out += _check_bands(c.get("bands"), nyq)
    for lag in c.get("lags") or []:
        if isinstance(lag, int | float) and not _is_num(lag):
            out.append(f"coupling.lags: {lag!r} is not finite; give lags in seconds")
    rois = c.get("rois")
    if isinstance(rois, str) and rois != "auto":
        out.append(f"coupling.rois: {rois!r}; give 'auto', null (every channel) or a mapping "
                   "{name: [channels]}")  # fmt: skip
    if isinstance(rois, dict):
        for name, chans in rois.items():
            if not (isinstance(chans, list) and chans and all(isinstance(x, str) for x in chans)):
                out.append(f"coupling.rois.{name}: {chans!r}; give a non-empty list of "
                           "channel names")  # fmt: skip
    win = c.get("window")
    if win is not None and _is_num(win) and win <= 0:
        out.append(f"coupling.window: {win!r}; give a positive number of seconds")
    s = c.get("surrogates") or {}
    if s.get("method") == "pseudo_dyads" and d.get("source", "demo") == "demo":
        if isinstance(d.get("n_dyads"), int) and d["n_dyads"] < 2:
            out.append("coupling.surrogates.method 'pseudo_dyads' needs at least 2 dyads")
    return out


def _check_data_exec(cfg: dict) -> list[str]:
    d, e = cfg.get("data") or {}, cfg.get("execution") or {}
    out = []
    if d.get("source", "demo") == "demo":
        n = d.get("n_dyads")
        if isinstance(n, int) and not isinstance(n, bool) and n < MIN_DYADS:
            out.append(
                f"data.n_dyads: {n}; the mixed model (a random intercept per dyad) needs at "
                f"least {MIN_DYADS} dyads (6 or more recommended)"
            )
    elif d.get("source") == "bids":
        from pathlib import Path

        root = d.get("root")
        if not root:
            out.append("data.root: empty, but data.source is 'bids'; give the BIDS root folder")
        elif not Path(root).is_dir():
            out.append(f"data.root: {root!r} is not a folder; give the BIDS root (the folder "
                       "with dyads.tsv)")  # fmt: skip
    n_jobs = e.get("n_jobs")
    if n_jobs == 0 and not isinstance(n_jobs, bool):
        out.append("execution.n_jobs: 0; give 1 (serial), a number of workers, or -1 (all "
                   "cores)")  # fmt: skip
    if e.get("executor") == "dask":
        import importlib.util

        if importlib.util.find_spec("distributed") is None:
            out.append("execution.executor: 'dask' needs dask.distributed (pip install "
                       "'dask[distributed]'), or use executor: joblib")  # fmt: skip
    return out


def check_config(cfg: dict, *, skip: set[str] | frozenset = frozenset()) -> list[str]:
    """Every inconsistency of ``cfg`` that can be known before reading any data.

    Parameters
    ----------
    cfg : dict
        A pipeline config, possibly with schema errors (checks that trip over a value of the
        wrong type are then skipped: the schema error names it).
    skip : set of str
        Top-level sections that failed the schema.

    Returns
    -------
    problems : list of str
        One line per problem: key, value, what is wrong and the fix.
    """
    out: list[str] = []
    for fn in (_check_data_exec, _check_coupling, _check_stats):
        try:
            out += fn(cfg)
        except Exception:  # a value of the wrong type, already reported by the schema
            if not skip:
                raise
    return out


def check_study(cfg: dict, dyads: list, n_listed: int) -> list[str]:
    """Problems that need the dyads: Nyquist of every recording, channel names of the ROIs,
    number of dyads left for the mixed model, duplicate dyad ids.

    Parameters
    ----------
    cfg : dict
        The validated config.
    dyads : list of Dyad
        The dyads that were read.
    n_listed : int
        Dyads listed (read or not).

    Returns
    -------
    problems : list of str
    """
    out: list[str] = []
    c = cfg["coupling"]
    if dyads:
        sf = min(float(dy.sfreq) for dy in dyads)
        slow = [dy.dyad_id for dy in dyads if float(dy.sfreq) == sf]
        for p in _check_bands(c["bands"], sf / 2):
            out.append(f"{p} (dyad(s) {slow} sampled at {sf:g} Hz)" if "Nyquist" in p else p)
    ids = [str(dy.dyad_id) for dy in dyads]
    dups = sorted({i for i in ids if ids.count(i) > 1})
    if dups:
        out.append(f"dyad_id: {dups} appear more than once; give every dyad a unique dyad_id "
                   "in dyads.tsv")  # fmt: skip
    if len(dyads) < MIN_DYADS:
        out.append(
            f"{len(dyads)} of {n_listed} listed dyads could be read; the mixed model needs at "
            f"least {MIN_DYADS} (see exclusions.csv and bids_read_report.csv for the others)"
        )
    rois = c.get("rois")
    if isinstance(rois, dict):
        wanted = {ch for chans in rois.values() for ch in chans}
        missing: dict[tuple, list[str]] = {}
        example: list[str] = []
        for dy in dyads:
            for p in dy.participants:
                names = {n.rsplit("_S", 1)[0] for n in p.raw.ch_names} | set(p.raw.ch_names)
                miss = tuple(sorted(wanted - names))
                if miss:
                    missing.setdefault(miss, []).append(f"{dy.dyad_id}/{p.id}")
                    example = example or list(p.raw.ch_names[:6])
        for miss, where in missing.items():
            more = f", ... ({len(where)} in all)" if len(where) > 3 else ""
            out.append(
                f"coupling.rois: channel(s) {list(miss)} not in the recordings of "
                f"{', '.join(where[:3])}{more}; use their channel names (e.g. {example})"
            )
    elif rois == "auto" and dyads:
        from .rois import auto_rois

        for dy in dyads:
            if not auto_rois(dy.participants[0].raw.ch_names):
                out.append(
                    f"coupling.rois: 'auto' found no 10-20 channel names in dyad "
                    f"{dy.dyad_id!r} ({dy.participants[0].raw.ch_names[:4]}...); give rois: "
                    "null (every channel) or a mapping {name: [channels]}"
                )
                break
    return out
