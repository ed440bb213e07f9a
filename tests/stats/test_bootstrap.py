import numpy as np
import pytest

from hyperalign.stats import (
    cluster_bootstrap,
    commonality,
    dyad_slopes,
    sign_flip_test,
    simulate_analysis_table,
    variance_partition,
)


def test_sign_flip_exact_by_hand():
    x = np.array([1.0, 2.0, 3.0])
    out = sign_flip_test(x, statistic="mean", exact=True)
    # 8 sign patterns; |mean| >= 2 only for all + and all -  -> p = 2/8
    assert out.exact and out.n_permutations == 8
    assert out.p == pytest.approx(2 / 8)
    g = sign_flip_test(x, statistic="mean", alternative="greater", exact=True)
    assert g.p == pytest.approx(1 / 8)


def test_sign_flip_random_and_nan():
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(1, 1, 25), np.nan]
    out = sign_flip_test(x, n_permutations=2000, random_state=0)
    assert not out.exact and out.n_dropped == 1 and out.p < 0.01
    null = [sign_flip_test(rng.normal(0, 1, 8), random_state=i).p for i in range(200)]
    assert np.mean(np.array(null) <= 0.05) < 0.05 + 3 * np.sqrt(0.05 * 0.95 / 200)


def test_dyad_slopes_match_ols():
    t = simulate_analysis_table(n_dyads=6, n_utterances=50, semantic_effect=0.5, random_state=0)
    s = dyad_slopes(t, controls=["acsim"])
    sub = t[t.dyad == "d00"]
    X = np.column_stack([np.ones(len(sub)), sub.acsim, sub.sem_align])
    b = np.linalg.lstsq(X, sub.sync, rcond=None)[0]
    assert s["d00"] == pytest.approx(b[-1])
    assert sign_flip_test(s.to_numpy()).p <= 0.05


def test_cluster_bootstrap_mean():
    t = simulate_analysis_table(n_dyads=10, n_utterances=20, random_state=1)

    def stat(df):
        return df.groupby("dyad").sync.mean().mean()

    for ci in ("percentile", "bca"):
        out = cluster_bootstrap(t, stat, n_boot=150, ci=ci, random_state=0)
        assert out.ci_low < out.estimate < out.ci_high
        means = t.groupby("dyad").sync.mean()
        assert out.se == pytest.approx(means.std(ddof=1) / np.sqrt(10), rel=0.3)
    with pytest.raises(ValueError, match="needs >= 3 dyad groups"):
        cluster_bootstrap(t[t.dyad.isin(["d00", "d01"])], stat, n_boot=10)


def test_commonality_sums():
    c = commonality(0.3, 0.2, 0.25, 0.05)
    assert c.unique_sem == pytest.approx(0.05) and c.unique_ac == pytest.approx(0.1)
    assert c.unique_sem + c.unique_ac + c.shared == pytest.approx(0.25)


def test_variance_partition_confounded():
    t = simulate_analysis_table(
        n_dyads=8,
        n_utterances=60,
        semantic_effect=0.0,
        acoustic_effect=0.6,
        confound=0.7,
        random_state=2,
    )
    vp = variance_partition(t)
    assert vp.shared > 0.05 and abs(vp.unique_sem) < 0.03 and vp.unique_ac > 0.05
