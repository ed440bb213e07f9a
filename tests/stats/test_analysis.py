import warnings

import numpy as np
import pytest
import statsmodels.formula.api as smf

from hyperalign.stats import (
    AnalysisTableError,
    simulate_analysis_table,
    test_semantic_beyond_acoustics,
)
from hyperalign.stats.correction import correct_pvalues


@pytest.fixture(scope="module")
def table():
    return simulate_analysis_table(
        n_dyads=8, n_utterances=50, semantic_effect=0.4, bands=("theta", "alpha"),
        rois=("front", "back"), effect_cells=[("theta", "front", 0.0)], random_state=11,
    )  # fmt: skip


@pytest.fixture(scope="module")
def result(table):
    return test_semantic_beyond_acoustics(
        table, acoustic=["acsim", "ac_f0_mean"], covariates=["duration"],
        n_permutations=200, random_state=0, keep_models=True,
    )  # fmt: skip


def test_result_table_columns(result):
    cols = {"band", "roi", "lag", "lrt", "df", "p_lrt", "p_perm", "p_corrected", "beta_sem",
            "se", "ci_low", "ci_high", "R2m_null", "R2c_null", "R2m_full", "R2c_full", "dR2m",
            "unique_sem", "unique_ac", "shared", "n_obs", "n_dyads", "n_excluded"}  # fmt: skip
    assert cols <= set(result.table.columns)
    assert len(result.table) == 4
    eff = result.table.query("band == 'theta' and roi == 'front'").iloc[0]
    assert eff.p_corrected < 0.05 and eff.ci_low > 0
    assert (result.table.p_corrected >= result.table.p_perm - 1e-12).all()


def test_against_statsmodels_directly(table, result):
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    sub = table.query("band == 'theta' and roi == 'front'")
    full = "sync ~ duration + acsim + ac_f0_mean + sem_align"
    # the reference fits: statsmodels' default optimizer may stop early here and say so with a
    # ConvergenceWarning (hyperalign's own fit then falls back to Powell, see below)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m1 = smf.mixedlm(full, sub, groups="dyad").fit(reml=False)
        m0 = smf.mixedlm("sync ~ duration + acsim + ac_f0_mean", sub, groups="dyad").fit(
            reml=False
        )
        r1 = smf.mixedlm(full, sub, groups="dyad").fit(reml=True)
    row = result.table.query("band == 'theta' and roi == 'front'").iloc[0]
    # statsmodels' default optimizer may stop early on some fits (it warns); ours then
    # falls back to Powell, so agreement is to optimizer tolerance
    np.testing.assert_allclose(row.lrt, 2 * (m1.llf - m0.llf), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(row.beta_sem, r1.fe_params["sem_align"], rtol=1e-3)
    np.testing.assert_allclose(row.ci_low, r1.conf_int().loc["sem_align", 0], rtol=1e-3)
    assert row.unique_sem == pytest.approx(row.dR2m)
    total = row.unique_sem + row.unique_ac + row.shared
    assert total == pytest.approx(row.R2m_full - _r2_cov(sub), rel=1e-6)


def _r2_cov(sub):
    from hyperalign.stats import fit_mixed

    return fit_mixed(sub, "sync ~ duration").r2.R2m


def test_corrections(table, result):
    kw = dict(n_permutations=200, random_state=0, partition=False)
    fdr = test_semantic_beyond_acoustics(table, correction="fdr", **kw)
    holm = test_semantic_beyond_acoustics(table, correction="holm", **kw)
    none = test_semantic_beyond_acoustics(table, correction=None, n_permutations=0)
    np.testing.assert_allclose(fdr.table.p_corrected, correct_pvalues(fdr.table.p_perm, "fdr_bh"))
    np.testing.assert_allclose(holm.table.p_corrected, correct_pvalues(holm.table.p_perm, "holm"))
    np.testing.assert_allclose(none.table.p_corrected, none.table.p_lrt)
    assert np.isnan(none.table.p_perm).all()


def test_outputs(result, tmp_path):
    result.to_csv(tmp_path / "r.csv")
    assert (tmp_path / "r.csv").read_text().startswith("band,roi,lag")
    md = result.to_markdown()
    assert md.count("\n") == 2 + 4 and "| beta_sem |" in md
    tex = result.to_latex(caption="Semantic beyond acoustics", label="tab:sem")
    assert "\\toprule" in tex and "beta\\_sem" in tex and "\\label{tab:sem}" in tex
    text = result.methods_text(metrics=["plv"], bands={"theta": (4, 8), "alpha": (8, 13)})
    assert (
        "200 permutations" in text and "sync ~ duration + acsim + ac_f0_mean + sem_align" in text
    )
    assert "maximum statistic" in text and "theta (4–8 Hz)" in text
    assert "4 cell" in repr(result)


def test_errors(table):
    with pytest.raises(AnalysisTableError, match="term 'nope' refers to column 'nope'"):
        test_semantic_beyond_acoustics(table, acoustic=["nope"], n_permutations=0)
    with pytest.raises(AnalysisTableError, match="sync='zz' is not a column"):
        test_semantic_beyond_acoustics(table, sync="zz")
    two = table.assign(metric=np.where(table.utterance_id % 2, "plv", "ccorr"))
    with pytest.raises(AnalysisTableError, match="add 'metric' to by="):
        test_semantic_beyond_acoustics(two, n_permutations=0)
    with pytest.raises(ValueError, match="correction must be one of"):
        test_semantic_beyond_acoustics(table, correction="bh")
    with pytest.raises(ValueError, match="needs n_permutations > 0"):
        test_semantic_beyond_acoustics(table, n_permutations=0)
    few = table[table.dyad.isin(["d00", "d01"])]
    with pytest.raises(AnalysisTableError, match="too few dyad groups"):
        test_semantic_beyond_acoustics(few, n_permutations=0, correction=None)


def test_missing_values_counted(table):
    t = table.copy()
    t.loc[t.index[:5], "sem_align"] = np.nan  # first rows: theta? (any cell)
    r = test_semantic_beyond_acoustics(t, n_permutations=0, correction=None, partition=False)
    assert r.table.n_excluded.sum() == 5
    assert r.exclusions.total() == 5


def test_naive_model_without_acoustics(table):
    r = test_semantic_beyond_acoustics(table, acoustic=[], n_permutations=0, correction=None)
    assert r.params["formula_null"] == "sync ~ 1"


def test_parallel_cells_identical(table):
    kw = dict(n_permutations=50, random_state=0, partition=False)
    a = test_semantic_beyond_acoustics(table, n_jobs=1, **kw)
    b = test_semantic_beyond_acoustics(table, n_jobs=2, **kw)
    cols = ["lrt", "p_perm", "p_corrected", "beta_sem"]
    np.testing.assert_allclose(a.table[cols].to_numpy(float), b.table[cols].to_numpy(float))


def test_missing_cells_warn(table):
    t = table[~((table.band == "alpha") & (table.roi == "back") & (table.dyad == "d07"))]
    with pytest.warns(UserWarning, match=r"missing cells: 1 cell\(s\) hold fewer than the 8"):
        test_semantic_beyond_acoustics(t, n_permutations=0, correction=None, partition=False)


def test_notes_deterministic():
    """The notes of a cell come from its fits: the same in repeated and concurrent runs."""
    from concurrent.futures import ThreadPoolExecutor

    t = simulate_analysis_table(n_dyads=6, n_utterances=40, dyad_sd=0.0, bands=("theta", "alpha"),
                                random_state=3)  # fmt: skip
    kw = dict(acoustic=["acsim"], by=["band"], n_permutations=0, correction=None, partition=False)
    with pytest.warns(UserWarning, match=r"singular fit in \d of 2 cell"):
        a = test_semantic_beyond_acoustics(t, **kw)
    assert a.table["singular"].any()
    notes = a.table["notes"].tolist()
    assert all(n.startswith("singular fit for 'sync ~ acsim") for n, s in
               zip(notes, a.table["singular"]) if s)  # fmt: skip
    with pytest.warns(UserWarning, match="singular fit in"):  # shown before: notes unchanged
        assert test_semantic_beyond_acoustics(t, **kw).table["notes"].tolist() == notes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the summary warning, from 4 threads
        with ThreadPoolExecutor(4) as ex:
            runs = list(ex.map(lambda _: test_semantic_beyond_acoustics(t, **kw), range(4)))
    assert all(r.table["notes"].tolist() == notes for r in runs)
