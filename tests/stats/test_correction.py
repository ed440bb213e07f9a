import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from hyperalign.stats import correct_pvalues, maxstat_pvalues, permutation_pvalues

P = np.array([0.01, 0.04, 0.03, 0.005, 0.20])


def test_bh_hand_computed():
    # sorted: .005 .01 .03 .04 .2 ; p*m/rank: .025 .025 .05 .05 .2 -> step-up min from the top
    expected = np.array([0.025, 0.05, 0.05, 0.025, 0.20])
    np.testing.assert_allclose(correct_pvalues(P, "fdr_bh"), expected)
    np.testing.assert_allclose(correct_pvalues(P, "fdr"), expected)


@pytest.mark.parametrize(
    "ours, theirs",
    [("fdr_bh", "fdr_bh"), ("fdr_by", "fdr_by"), ("holm", "holm"), ("bonferroni", "bonferroni")],
)
def test_matches_statsmodels(ours, theirs):
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 0.2, 37)
    np.testing.assert_allclose(correct_pvalues(p, ours), multipletests(p, method=theirs)[1])


def test_holm_and_bonferroni_by_hand():
    # Holm: sorted .005*5=.025, .01*4=.04, .03*3=.09, .04*2=.08->.09 (monotone), .2*1=.2
    np.testing.assert_allclose(correct_pvalues(P, "holm"), [0.04, 0.09, 0.09, 0.025, 0.2])
    np.testing.assert_allclose(correct_pvalues(P, "bonferroni"), [0.05, 0.2, 0.15, 0.025, 1.0])


def test_nan_kept_and_not_counted():
    out = correct_pvalues([0.01, np.nan, 0.02], "bonferroni")
    np.testing.assert_allclose(out, [0.02, np.nan, 0.04])


def test_bad_input_messages():
    with pytest.raises(ValueError, match="method must be one of"):
        correct_pvalues(P, "bh")
    with pytest.raises(ValueError, match=r"pvals must lie in \[0, 1\]"):
        correct_pvalues([0.5, 1.5])


def test_maxstat_tiny_example():
    obs = np.array([3.0, 1.0])
    null = np.array([[1.0, 2.0], [4.0, 0.5], [0.2, 0.1], [2.5, 3.5]])
    # max per permutation: 2, 4, .2, 3.5 ; >=3: 2 ; >=1: 3
    np.testing.assert_allclose(maxstat_pvalues(obs, null), [(1 + 2) / 5, (1 + 3) / 5])
    # uncorrected: cell0 null >=3: 1 ; cell1 null >=1: 2 (2.0, 3.5)
    np.testing.assert_allclose(permutation_pvalues(obs, null), [2 / 5, 3 / 5])
    assert np.all(maxstat_pvalues(obs, null) >= permutation_pvalues(obs, null))


def test_maxstat_shape_error():
    with pytest.raises(ValueError, match="null must have shape"):
        maxstat_pvalues([1.0, 2.0], np.zeros((5, 3)))
