"""Planted layer hierarchy and model-based speaker-listener coupling (word-level, linear).

What is planted
---------------
Feature spaces
    A mapping ``name -> (n_words, d)`` of word vectors, one row per word of the simulated
    transcript (``dyad.transcript.words``, in order). By default
    (``layer_features=None``) the layer-like features of :func:`derived_layer_features`;
    otherwise what the user passes: a ``LayerEmbeddings`` (its layers by name), an array
    ``(n_words, n_layers, d)`` (layers ``'layer_0'`` ...), a dict of ``(n_words, d)``
    arrays (named feature spaces), or a callable that receives the simulated
    :class:`~hyperalign.Transcript` and returns one of these (e.g.
    ``lambda tr: compute_layer_embeddings(tr, 'SmolLM2-135M')``). Before planting, each
    space is z-scored per dimension over the dyad's words (NaN rows count as zero).
Layer responses (``layer_hierarchy`` rows: ``roi, layer, role, lag, size, null``)
    Every channel ``c`` of the ROI gets, for every word ``w`` it responds to (``role``:
    ``'listener'`` the partner's words, ``'speaker'`` its own, ``'both'``), a Gaussian bump
    (SD 50 ms) peaking at ``onset_w + lag`` of height ``size * u_c . z_w``, with ``z_w`` the
    word's z-scored vector in feature space ``layer`` and ``u_c`` a random unit vector per
    participant, row and channel (in ``GroundTruth.layers['weights']``). The response is
    linear in the layer vector, so a word-level encoding model of that layer at that lag
    recovers it. ``null=True`` keeps the same response power but draws ``z`` from a random
    permutation of the words (no relation to the word actually said).
Model-based coupling (``model_coupling`` rows: ``speaker_roi, listener_roi, layer,
speaker_lag, listener_lag, size, null``)
    For every word ``w``, a shared scalar ``g_w = v . z_w`` (``v`` a random unit vector of
    the row) appears in the **speaker's** ``speaker_roi`` channels at
    ``onset_w + speaker_lag`` and in the **listener's** ``listener_roi`` channels at
    ``onset_w + listener_lag``, each channel with its own positive gain in [0.5, 1.5]
    (times ``size``). The speaker's production model then predicts the listener's activity
    at the planted lag pair. ``null=True``: the listener's scalar uses an independent unit
    vector ``v'`` (both brains still encode the layer, but not the same projection).

All draws come from a generator seeded from the simulation's own generator *state* (no draw
is taken from it), so a dyad simulated with these knobs has the same transcript, background,
audio and other effects as without them.
"""

from __future__ import annotations

import hashlib
import json
import re

import numpy as np
import pandas as pd

__all__ = ["derived_layer_features", "default_rois", "PlantedLayers"]

ROI_ORDER = ("frontal", "central", "temporal", "parietal", "occipital")
_ROI_PATTERNS = {
    "frontal": r"^(Fp|AF|F)(\d|z)",
    "central": r"^(FC|C)(\d|z)",
    "temporal": r"^(T|FT|TP)(\d|z)",
    "parietal": r"^(CP|P)(\d|z)",
    "occipital": r"^(PO|O|I)(\d|z)",
}
DEFAULT_N_LAYERS = 7
DEFAULT_DIM = 64


def default_rois(ch_names: list[str], ch_type: str = "eeg") -> dict[str, list[str]]:
    """Named ROIs of the simulated channels.

    Parameters
    ----------
    ch_names : list of str
        The channel names.
    ch_type : str
        ``'eeg'``: by 10-20 name (``frontal`` Fp/AF/F, ``central`` FC/C, ``temporal``
        T/FT/TP, ``parietal`` CP/P, ``occipital`` PO/O); otherwise five consecutive blocks
        of channels with the same names.

    Returns
    -------
    rois : dict of str to list of str
        ROI name -> channels (ROIs without a channel are left out).
    """
    out: dict[str, list[str]] = {}
    if ch_type == "eeg":
        for roi, pat in _ROI_PATTERNS.items():
            chans = [c for c in ch_names if re.match(pat, c)]
            if chans:
                out[roi] = chans
        return out
    blocks = np.array_split(np.arange(len(ch_names)), len(ROI_ORDER))
    return {r: [ch_names[i] for i in b] for r, b in zip(ROI_ORDER, blocks) if len(b)}


def _seeded(*key) -> np.random.Generator:
    h = hashlib.sha256(json.dumps([str(k) for k in key]).encode()).digest()
    return np.random.default_rng(int.from_bytes(h[:8], "little"))


def derived_layer_features(
    words: pd.DataFrame,
    sentence_index: np.ndarray,
    *,
    n_layers: int = DEFAULT_N_LAYERS,
    dim: int = DEFAULT_DIM,
) -> tuple[np.ndarray, list[str]]:
    """Deterministic layer-like word features with context mixing that grows with depth.

    For layer ``k`` of ``K = n_layers - 1`` (depth ``a = k / K``) and word ``w`` (in
    conversation order, both talkers)::

        h_k(w) = sqrt(1 - a) * c_k(w) + 0.8 * sqrt(a) * P e(w) + 0.35 * eps_k(w)

    ``c_k(w)`` is the mean of the static word vectors (``word_vector(word, dim) * sqrt(dim)``,
    one per word type) of ``w`` and the ``2**k - 1`` words before it (layer 0: the word
    alone, as an input-embedding layer); ``e(w)`` the shipped MiniLM embedding of the
    sentence the word belongs to (zero for backchannels), ``P`` a fixed random ``(dim, 384)``
    projection with unit-variance outputs; ``eps_k(w)`` standard-normal noise seeded by
    ``(k, w)``. Shallow layers carry the word and its neighbours, deep ones the meaning of
    the utterance; adjacent layers correlate.

    Parameters
    ----------
    words : pandas.DataFrame
        The transcript's word table (``word`` column), in order.
    sentence_index : numpy.ndarray of int, shape (n_words,)
        Row of :func:`~hyperalign.simulation.load_corpus_embeddings` of each word's
        sentence; ``-1`` for words outside the corpus (backchannels).
    n_layers : int
        Number of layers (``'embeddings'``, ``'layer_1'``, ...).
    dim : int
        Dimension of each layer.

    Returns
    -------
    data : numpy.ndarray, shape (n_words, n_layers, dim)
        The features (float32).
    layer_names : list of str
        ``['embeddings', 'layer_1', ...]``.
    """
    from ._truth import word_vector
    from .corpus import load_corpus_embeddings

    n = len(words)
    if int(n_layers) < 2 or int(dim) < 2:
        raise ValueError(f"n_layers and dim must be >= 2; got {n_layers!r}, {dim!r}")
    n_layers, dim = int(n_layers), int(dim)
    static = np.stack([word_vector(w, dim) for w in words["word"]]) * np.sqrt(dim)
    emb = load_corpus_embeddings().astype(np.float64)
    proj = _seeded("sim-layer-projection", dim).standard_normal((dim, emb.shape[1]))
    sem = np.zeros((n, dim))
    si = np.asarray(sentence_index, int)
    ok = si >= 0
    pe = emb[si[ok]] @ proj.T
    sem[ok] = pe / (pe.std() or 1.0)
    csum = np.vstack([np.zeros((1, dim)), np.cumsum(static, axis=0)])
    idx = np.arange(n)
    out = np.empty((n, n_layers, dim), np.float32)
    K = n_layers - 1
    for k in range(n_layers):
        m = 2**k  # the word and the 2**k - 1 words before it
        lo = np.maximum(idx + 1 - m, 0)
        ctx = (csum[idx + 1] - csum[lo]) / (idx + 1 - lo)[:, None]
        ctx /= ctx.std() or 1.0
        a = k / K
        eps = _seeded("sim-layer-noise", k, n, dim).standard_normal((n, dim))
        out[:, k] = np.sqrt(1 - a) * ctx + 0.8 * np.sqrt(a) * sem + 0.35 * eps
    return out, ["embeddings"] + [f"layer_{k}" for k in range(1, n_layers)]


def _as_spaces(obj, n_words: int, words: pd.DataFrame) -> tuple[dict, str]:
    """Normalise a user source to ``{name: (n_words, d)}`` and a model name."""
    from ..transcript import _normalize_token

    if hasattr(obj, "data") and hasattr(obj, "layer_names") and hasattr(obj, "words"):
        wt = obj.words
        if len(wt) != n_words:
            raise ValueError(
                f"layer_features has {len(wt)} words but the simulated transcript has "
                f"{n_words}; compute it from this dyad's transcript (pass a callable: "
                "layer_features=lambda tr: compute_layer_embeddings(tr, ...))"
            )
        if "word" in wt.columns:
            a = [_normalize_token(str(w)) for w in wt["word"]]
            b = [_normalize_token(str(w)) for w in words["word"]]
            bad = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
            if bad:
                raise ValueError(
                    f"layer_features does not match the simulated transcript: {len(bad)} "
                    f"words differ (first at row {bad[0]}: {wt['word'].iloc[bad[0]]!r} vs "
                    f"{words['word'].iloc[bad[0]]!r}); compute it from this dyad's transcript"
                )
        data = np.asarray(obj.data, float)
        spaces = {str(nm): data[:, i] for i, nm in enumerate(obj.layer_names)}
        return spaces, str(getattr(obj, "model", "") or "given")
    if isinstance(obj, dict):
        spaces = {}
        for nm, arr in obj.items():
            a = np.asarray(arr, float)
            a = a[:, None] if a.ndim == 1 else a
            if a.ndim != 2 or a.shape[0] != n_words:
                raise ValueError(
                    f"layer_features[{nm!r}] must be (n_words={n_words}, d); got shape {a.shape}"
                )
            spaces[str(nm)] = a
        return spaces, "given"
    arr = np.asarray(obj, float)
    if arr.ndim != 3 or arr.shape[0] != n_words:
        raise ValueError(
            "layer_features must be a LayerEmbeddings, an array (n_words, n_layers, d), a "
            f"dict of (n_words, d) arrays or a callable of the transcript; got shape "
            f"{arr.shape} for {n_words} words"
        )
    return {f"layer_{i}": arr[:, i] for i in range(arr.shape[1])}, "given"


def _zscore(a: np.ndarray) -> np.ndarray:
    a = np.nan_to_num(np.asarray(a, float))
    sd = a.std(axis=0)
    return (a - a.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def _rows(spec, kind: str) -> list[dict]:
    if spec is None:
        return []
    if isinstance(spec, dict) and kind == "hierarchy" and "roi" not in spec:
        return [{"roi": r, "layer": lay} for r, lay in spec.items()]
    rows = [spec] if isinstance(spec, dict) else list(spec)
    if not all(isinstance(r, dict) for r in rows):
        raise TypeError(
            f"{'layer_hierarchy' if kind == 'hierarchy' else 'model_coupling'} must be a dict "
            f"or a list of dicts; got {spec!r}"
        )
    return [dict(r) for r in rows]


_H_KEYS = {"roi", "layer", "role", "lag", "size", "null"}
_C_KEYS = {"speaker_roi", "listener_roi", "layer", "speaker_lag", "listener_lag", "size", "null"}
_ROLES = ("listener", "speaker", "both")


class PlantedLayers:
    """The planted layer responses and model-based coupling of one simulated dyad.

    Built by :func:`~hyperalign.simulation.simulate_conversation` when ``layer_hierarchy``
    or ``model_coupling`` is given (see the module notes for what is planted).
    """

    def __init__(self, *, hierarchy, coupling, source, transcript, sentence_index, ids,
                 ch_names, rois, sfreq, n_times, seed, defaults):  # fmt: skip
        words = transcript.words
        self.words = words
        self.ids = list(ids)
        self.sfreq, self.n_times = float(sfreq), int(n_times)
        self.ch_names = list(ch_names)
        self.rois = dict(rois)
        if source is None:
            data, names = derived_layer_features(words, sentence_index)
            self.spaces = {nm: data[:, i].astype(float) for i, nm in enumerate(names)}
            self.model, self.source = "simulated-layers", "derived"
        else:
            if callable(source) and not hasattr(source, "layer_names"):
                source = source(transcript)
            self.spaces, self.model = _as_spaces(source, len(words), words)
            self.source = "given"
        self.names = list(self.spaces)
        self.z = {nm: _zscore(a) for nm, a in self.spaces.items()}
        self.h_rows = [self._check_h(r, defaults) for r in _rows(hierarchy, "hierarchy")]
        self.c_rows = [self._check_c(r, defaults) for r in _rows(coupling, "coupling")]
        gen = _seeded("planted-layers", seed)
        n = len(words)
        self.weights: dict = {}
        for i, r in enumerate(self.h_rows):
            d = self.z[r["layer"]].shape[1]
            r["perm"] = gen.permutation(n) if r["null"] else None
            for pid in self.ids:
                u = gen.standard_normal((len(self.rois[r["roi"]]), d))
                self.weights[("layer_response", i, pid)] = u / np.linalg.norm(u, axis=1)[:, None]
        for i, r in enumerate(self.c_rows):
            d = self.z[r["layer"]].shape[1]
            v = gen.standard_normal((2, d))
            v /= np.linalg.norm(v, axis=1)[:, None]
            r["v_speaker"], r["v_listener"] = v[0], (v[1] if r["null"] else v[0])
            for pid in self.ids:
                self.weights[("model_coupling_speaker", i, pid)] = gen.uniform(
                    0.5, 1.5, len(self.rois[r["speaker_roi"]])
                )
                self.weights[("model_coupling_listener", i, pid)] = gen.uniform(
                    0.5, 1.5, len(self.rois[r["listener_roi"]])
                )

    # ------------------------------------------------------------------ checks
    def _roi(self, name, roi) -> str:
        if roi not in self.rois:
            raise ValueError(
                f"{name}: unknown ROI {roi!r}; the simulated ROIs are {sorted(self.rois)} "
                "(pass rois={name: [channels]} to define others)"
            )
        return roi

    def _layer(self, name, layer) -> str:
        if isinstance(layer, int | np.integer) and not isinstance(layer, bool):
            if not -len(self.names) <= int(layer) < len(self.names):
                raise ValueError(
                    f"{name}: layer index {layer} is out of range for {len(self.names)} layers "
                    f"{self.names}"
                )
            return self.names[int(layer)]
        if layer not in self.spaces:
            raise ValueError(
                f"{name}: unknown layer or feature space {layer!r}; available: {self.names}"
            )
        return str(layer)

    def _check_h(self, r, defaults) -> dict:
        extra = set(r) - _H_KEYS
        if extra or "roi" not in r or "layer" not in r:
            raise ValueError(
                f"layer_hierarchy rows need 'roi' and 'layer' (optional {sorted(_H_KEYS)}); "
                f"got {r!r}"
            )
        role = r.get("role", "listener")
        if role not in _ROLES:
            raise ValueError(f"layer_hierarchy: role must be one of {list(_ROLES)}; got {role!r}")
        lag = r.get(
            "lag", defaults["lag_listener"] if role != "speaker" else defaults["lag_speaker"]
        )
        return {
            "roi": self._roi("layer_hierarchy", r["roi"]),
            "layer": self._layer("layer_hierarchy", r["layer"]),
            "role": role,
            "lag": float(lag),
            "size": float(r.get("size", defaults["size"])),
            "null": bool(r.get("null", False)),
        }

    def _check_c(self, r, defaults) -> dict:
        extra = set(r) - _C_KEYS
        if extra or not {"speaker_roi", "listener_roi", "layer"} <= set(r):
            raise ValueError(
                "model_coupling rows need 'speaker_roi', 'listener_roi' and 'layer' (optional "
                f"{sorted(_C_KEYS)}); got {r!r}"
            )
        return {
            "speaker_roi": self._roi("model_coupling", r["speaker_roi"]),
            "listener_roi": self._roi("model_coupling", r["listener_roi"]),
            "layer": self._layer("model_coupling", r["layer"]),
            "speaker_lag": float(r.get("speaker_lag", defaults["lag_speaker"])),
            "listener_lag": float(r.get("listener_lag", defaults["lag_listener"])),
            "size": float(r.get("size", defaults["size"])),
            "null": bool(r.get("null", False)),
        }

    # ------------------------------------------------------------------ signals
    def _impulses(self, imp, chans, amps, onsets, lag) -> None:
        """Add ``amps`` (n_chans, n_words) at ``onsets + lag`` to the rows ``chans``."""
        idx = np.round((onsets + lag) * self.sfreq).astype(int)
        ok = (idx >= 0) & (idx < self.n_times)
        for j, c in enumerate(chans):
            imp[c] += np.bincount(idx[ok], weights=amps[j, ok], minlength=self.n_times)

    def signal(self, pid: str) -> np.ndarray:
        """Planted activity ``(n_channels, n_times)`` of participant ``pid`` (SD units)."""
        from scipy.signal import fftconvolve

        spk = self.words["speaker"].to_numpy()
        on = self.words["onset"].to_numpy(float)
        own, other = spk == pid, spk != pid
        imp = np.zeros((len(self.ch_names), self.n_times))
        ci = {c: i for i, c in enumerate(self.ch_names)}
        for i, r in enumerate(self.h_rows):
            z = self.z[r["layer"]] if r["perm"] is None else self.z[r["layer"]][r["perm"]]
            sel = {"listener": other, "speaker": own, "both": own | other}[r["role"]]
            u = self.weights[("layer_response", i, pid)]
            amps = r["size"] * (u @ z[sel].T)
            self._impulses(imp, [ci[c] for c in self.rois[r["roi"]]], amps, on[sel], r["lag"])
        for i, r in enumerate(self.c_rows):
            z = self.z[r["layer"]]
            a_s = self.weights[("model_coupling_speaker", i, pid)]
            a_l = self.weights[("model_coupling_listener", i, pid)]
            g_s = z[own] @ r["v_speaker"]
            g_l = z[other] @ r["v_listener"]
            chans = [ci[c] for c in self.rois[r["speaker_roi"]]]
            self._impulses(imp, chans, r["size"] * np.outer(a_s, g_s), on[own], r["speaker_lag"])
            chans = [ci[c] for c in self.rois[r["listener_roi"]]]
            self._impulses(
                imp, chans, r["size"] * np.outer(a_l, g_l), on[other], r["listener_lag"]
            )
        used = np.flatnonzero(np.abs(imp).sum(axis=1) > 0)
        out = np.zeros_like(imp)
        if len(used):
            kt = np.arange(-int(0.25 * self.sfreq), int(0.25 * self.sfreq) + 1) / self.sfreq
            kernel = np.exp(-0.5 * (kt / 0.05) ** 2)
            out[used] = fftconvolve(imp[used], kernel[None, :], mode="same", axes=1)
        return out

    # ------------------------------------------------------------------ truth
    def effects(self, dyad_id: str) -> pd.DataFrame:
        """One row per planted layer response and model-based coupling."""
        rows = []
        for r in self.h_rows:
            rows.append({
                "dyad": dyad_id, "effect": "layer_response", "size": r["size"],
                "fmin": np.nan, "fmax": np.nan, "band": (np.nan, np.nan),
                "channels": list(self.rois[r["roi"]]), "lag_s": r["lag"], "role": r["role"],
                "description": (
                    f"ROI {r['roi']} responds to {r['layer']} of {self.model} (linear per word"
                    + (", words permuted: null)" if r["null"] else ")")
                ),
                "roi": r["roi"], "layer": r["layer"], "model": self.model,
                "layer_index": self.names.index(r["layer"]), "speaker_lag_s": np.nan,
                "listener_lag_s": np.nan, "listener_channels": [], "null": r["null"],
            })  # fmt: skip
        for r in self.c_rows:
            rows.append({
                "dyad": dyad_id, "effect": "model_coupling", "size": r["size"],
                "fmin": np.nan, "fmax": np.nan, "band": (np.nan, np.nan),
                "channels": list(self.rois[r["speaker_roi"]]),
                "lag_s": r["listener_lag"] - r["speaker_lag"], "role": "speaker->listener",
                "description": (
                    f"speaker {r['speaker_roi']} at {r['speaker_lag']:+.3f} s and listener "
                    f"{r['listener_roi']} at {r['listener_lag']:+.3f} s share {r['layer']} of "
                    f"{self.model}" + (" (null: independent projections)" if r["null"] else "")
                ),
                "roi": f"{r['speaker_roi']}->{r['listener_roi']}", "layer": r["layer"],
                "model": self.model, "layer_index": self.names.index(r["layer"]),
                "speaker_lag_s": r["speaker_lag"], "listener_lag_s": r["listener_lag"],
                "listener_channels": list(self.rois[r["listener_roi"]]), "null": r["null"],
            })  # fmt: skip
        return pd.DataFrame(rows)

    def truth(self) -> dict:
        """What :attr:`GroundTruth.layers` holds (see its docstring)."""
        dims = {a.shape[1] for a in self.spaces.values()}
        stacked = None
        if len(dims) == 1:
            stacked = np.stack([self.spaces[n] for n in self.names], axis=1).astype(np.float32)
        return {
            "model": self.model,
            "source": self.source,
            "layer_names": list(self.names),
            "layer_data": stacked,
            "spaces": {n: a.astype(np.float32) for n, a in self.spaces.items()},
            "rois": {k: list(v) for k, v in self.rois.items()},
            "weights": dict(self.weights),
            "coupling_vectors": [(r["v_speaker"], r["v_listener"]) for r in self.c_rows],
        }
