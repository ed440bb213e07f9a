"""The null of the symmetric map ``sym``: each null draw averages the ``s2l`` and ``l2s`` maps
of the SAME null listener, and the family-wise p-value of ``sym`` comes from the maximum of
those averaged maps (not from separately permuted directions)."""

from __future__ import annotations

import numpy as np
import pytest

from hyperalign.encoding import _b2b_arrays as engine_mod
from hyperalign.encoding.b2b import b2b_arrays

from ._b2b_planted import LAGS, planted_b2b

KW = {"speaker_lags": LAGS, "cv": 5, "span": 1.2, "alphas": np.logspace(-1, 4, 6),
      "inner_cv": 3}  # fmt: skip


def _fit(d, **kw):
    return b2b_arrays(d["X"], d["Y_speaker"], d["Y_listener"], d["times"],
                      speakers=d["speakers"], **{**KW, **kw})  # fmt: skip


def test_sym_null_is_the_average_of_one_draw(monkeypatch):
    seen = {}
    orig_sig, orig_gen = engine_mod._significance, engine_mod.null_listeners

    def gen(*args, **kwargs):  # record the null listener tables as they are drawn
        for y in orig_gen(*args, **kwargs):
            seen.setdefault("tables", []).append(y.copy())
            yield y

    def sig(obs, nulls, tail, alpha):  # record the null maps the p-values are made from
        seen["nulls"] = list(nulls)
        return orig_sig(obs, iter(seen["nulls"]), tail, alpha)

    spy_maps = engine_mod._Maps.maps

    def maps(self, y):
        seen["engine"] = self
        return spy_maps(self, y)

    monkeypatch.setattr(engine_mod, "null_listeners", gen)
    monkeypatch.setattr(engine_mod, "_significance", sig)
    monkeypatch.setattr(engine_mod._Maps, "maps", maps)
    d = planted_b2b(n_words=200, effect="none", seed=7)
    res = _fit(d, nuisance=d["acoustic"], n_permutations=9, random_state=0)
    tables, nulls, eng = seen["tables"], seen["nulls"], seen["engine"]
    assert len(tables) == len(nulls) == 9
    for y, nm in zip(tables, nulls):
        # every map of a draw (both directions, every map type) comes from that one listener table
        one = spy_maps(eng, y)
        assert set(one) == set(nm)
        for k in nm:
            np.testing.assert_allclose(nm[k], one[k], atol=1e-10)
        for map_type in ("raw", "residual"):
            half = 0.5 * (nm[map_type, "s2l"] + nm[map_type, "l2s"])
            np.testing.assert_allclose(nm[map_type, "sym"], half)
    # p_fwer of sym: the observed |sym| against the maximum |sym| of each draw
    for map_type in ("raw", "residual"):
        mx = np.array([np.abs(nm[map_type, "sym"]).max() for nm in nulls])
        stat = np.abs(res.dataset["r"].sel(map_type=map_type, direction="sym").values).ravel()
        want = (1 + (mx[:, None] >= stat[None]).sum(0)) / 10
        got = res.dataset["p_fwer"].sel(map_type=map_type, direction="sym").values.ravel()
        np.testing.assert_allclose(got, want)


def _rates(n_studies: int, seed0: int) -> dict:
    hits = dict.fromkeys(("s2l", "l2s", "sym"), 0)
    for s in range(n_studies):
        res = _fit(planted_b2b(n_words=200, effect="none", seed=seed0 + s), n_permutations=19,
                   random_state=s)  # fmt: skip
        pf = res.dataset["p_fwer"].sel(map_type="raw")
        for k in hits:
            hits[k] += float(pf.sel(direction=k).min()) <= 0.05
    return hits


@pytest.mark.slow
def test_family_wise_rate_of_every_direction_over_400_studies():
    n = 400
    hits = _rates(n, 40_000)
    se = np.sqrt(0.05 * 0.95 / n)
    print(f"b2b circular null over {n} studies: {hits} (nominal 0.05, MC SE {se:.3f})")
    # nominal 1/20 = 0.05; fail above the one-sided 99.5% binomial bound (~0.078)
    assert max(hits.values()) <= 31
