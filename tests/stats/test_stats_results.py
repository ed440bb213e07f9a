"""Labelled result objects of the statistics functions (issue 11): attributes, repr,
``to_data_frame`` and the deprecated dict access."""

import numpy as np
import pandas as pd
import pytest

from hyperalign.stats import (
    cluster_bootstrap,
    commonality,
    fit_mixed,
    lrt,
    r2_nakagawa,
    sign_flip_test,
    simulate_analysis_table,
    variance_partition,
)


@pytest.fixture(scope="module")
def table():
    return simulate_analysis_table(n_dyads=6, n_utterances=30, random_state=0)


def test_sign_flip_result():
    res = sign_flip_test([0.2, 0.4, 0.1, 0.5, 0.3], statistic="mean", exact=True)
    assert res.n == 5 and res.exact and res.statistic == "mean"
    df = res.to_data_frame()
    assert list(df.columns) == ["stat", "p", "n", "n_dropped", "n_permutations", "exact",
                                "statistic", "alternative"]  # fmt: skip
    assert len(df) == 1 and df.p.iloc[0] == res.p
    assert repr(res).startswith("<SignFlipResult | mean=")


def test_deprecated_dict_access():
    res = sign_flip_test([0.2, 0.4, 0.1, 0.5], exact=True)
    with pytest.warns(DeprecationWarning, match=r"SignFlipResult\['p'\].*use the attribute \.p"):
        assert res["p"] == res.p
    with pytest.raises(KeyError, match=r"no field 'pval'; fields: \['stat', 'p'"):
        res["pval"]
    assert "p" in res and list(res.keys())[:2] == ["stat", "p"]
    with pytest.warns(DeprecationWarning, match=r"SignFlipResult\['\w+'\]: results are no longer"):
        assert dict(res)["n"] == 4


def test_bootstrap_result(table):
    res = cluster_bootstrap(table, lambda d: d["sync"].mean(), n_boot=30, ci="percentile",
                            random_state=0)  # fmt: skip
    df = res.to_data_frame()
    assert list(df.columns) == ["estimate", "ci_low", "ci_high", "se", "method", "n_boot",
                                "n_failed", "alpha"]  # fmt: skip
    assert res.boot.shape == (30,) and "95% percentile" in repr(res)


def test_bootstrap_result_vector(table):
    res = cluster_bootstrap(table, lambda d: np.array([d["sync"].mean(), d["acsim"].mean()]),
                            n_boot=20, ci="percentile", random_state=0)  # fmt: skip
    assert len(res.to_data_frame()) == 2 and res.boot.shape == (20, 2)


def test_lrt_r2_commonality_partition_results(table):
    # this table's dyad variance is estimated at 0 (6 dyads, random_state=0)
    with pytest.warns(UserWarning, match="singular fit for 'sync ~ "):
        f1 = fit_mixed(table, "sync ~ acsim + sem_align", reml=False, engine="fast")
        f0 = fit_mixed(table, "sync ~ acsim", reml=False, engine="fast")
        vp = variance_partition(table)
    t = lrt(f1, f0)
    assert t.df == 1 and repr(t).startswith("<LRTResult | chi2(1) = ")
    assert list(t.to_data_frame().columns) == ["lrt", "df", "p"]
    r2 = r2_nakagawa(f1.result)
    assert r2.R2m == pytest.approx(f1.r2.R2m) and "R2c=" in repr(r2)
    c = commonality(0.3, 0.2, 0.25)
    assert c.total == pytest.approx(0.3) and isinstance(c.to_data_frame(), pd.DataFrame)
    df = vp.to_data_frame()
    assert {"R2m_full", "unique_sem", "n_obs", "n_excluded_nonfinite"} <= set(df.columns)
    assert vp.unique_sem + vp.unique_ac + vp.shared == pytest.approx(vp.total)
