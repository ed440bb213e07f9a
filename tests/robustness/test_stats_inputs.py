"""Bad inputs to the statistics: each gives a correct result with a counted exclusion, or a
clear error naming the problem, the value received and the fix (issue 10, items 2 and 11)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from hyperalign.stats import (
    AnalysisTableError,
    build_analysis_table,
    cluster_bootstrap,
    correct_pvalues,
    dyad_slopes,
    fit_mixed,
    lrt,
    permutation_pvalues,
    sign_flip_test,
    simulate_analysis_table,
    test_semantic_beyond_acoustics,
    variance_partition,
)
from hyperalign.stats.permutation import PermutationPlan


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return simulate_analysis_table(n_dyads=6, n_utterances=30, semantic_effect=0.6, random_state=0)


def _run(t, **kw):
    kw = {"n_permutations": 20, "random_state": 0, "partition": False, **kw}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return test_semantic_beyond_acoustics(t, **kw)


@pytest.fixture(scope="module")
def clean(table):
    return _run(table)


# --------------------------------------------------------------- item 2: non-finite values
@pytest.mark.parametrize("column", ["sync", "sem_align", "acsim"])
@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_one_inf_is_excluded_and_counted(table, clean, column, value):
    t = table.copy()
    t.loc[5, column] = value
    res = _run(t)
    row = res.table.iloc[0]
    assert np.isfinite(row.beta_sem) and row.p_lrt < 1e-3
    assert row.p_lrt == pytest.approx(clean.table.iloc[0].p_lrt, rel=0.5)
    assert row.n_excluded_nonfinite == 1 and row.n_excluded_nan == 0 and row.n_excluded == 1
    assert row.n_obs == clean.table.iloc[0].n_obs - 1
    log = res.exclusions.to_data_frame()
    assert (log["reason"].str.contains("non-finite")).any()
    assert log.loc[log["reason"].str.contains("non-finite"), "n"].sum() == 1


def test_nan_and_inf_counted_separately(table):
    t = table.copy()
    t.loc[3, "sync"] = np.nan
    t.loc[4, "sem_align"] = np.inf
    t.loc[6, "acsim"] = np.nan
    row = _run(t).table.iloc[0]
    assert (row.n_excluded_nan, row.n_excluded_nonfinite, row.n_excluded) == (2, 1, 3)


def test_analysis_table_reports_inf(table):
    sync = table[["dyad", "utterance_id", "band", "roi", "lag", "metric", "sync"]].copy()
    pred = table.drop(columns=["band", "roi", "lag", "metric", "sync"]).drop_duplicates(
        ["dyad", "utterance_id"]
    )
    sync.loc[2, "sync"] = np.inf
    out = build_analysis_table(sync, pred)
    assert out.attrs["report"]["nonfinite_counts"] == {"sync": 1}


def test_fit_mixed_excludes_inf(table):
    t = table.copy()
    t.loc[0, "acsim"] = np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # singular fit on this small table
        res = fit_mixed(t, "sync ~ acsim + sem_align", engine="fast")
    assert res.n_excluded == 1 and res.n_obs == len(t) - 1
    assert np.isfinite(res.params).all()


def test_variance_partition_counts_inf(table):
    t = table.copy()
    t.loc[1, "sem_align"] = -np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        vp = variance_partition(t)
    assert vp.n_excluded_nonfinite == 1 and np.isfinite(vp.unique_sem)


def test_all_nan_column_is_named(table):
    t = table.assign(sem_align=np.nan)
    with pytest.raises(AnalysisTableError, match=r"column 'sem_align' holds no finite value.*"
                       r"all 180 row\(s\) are NaN"):  # fmt: skip
        _run(t)


def test_all_inf_column_is_named(table):
    t = table.assign(acsim=np.inf)
    with pytest.raises(AnalysisTableError, match=r"column 'acsim' holds no finite value"):
        _run(t)


# --------------------------------------------------------------- item 11: arguments
def test_semantic_accepts_a_string(table, clean):
    res = _run(table, semantic="sem_align", acoustic="acsim")
    assert res.table.iloc[0].beta_sem == pytest.approx(clean.table.iloc[0].beta_sem)
    assert res.params["semantic"] == ["sem_align"]


@pytest.mark.parametrize("bad", [1.5, True, "100", 100.0, None])
def test_n_permutations_integers_only(table, bad):
    with pytest.raises(TypeError, match=r"n_permutations must be an int; got .*pass a whole"):
        _run(table, n_permutations=bad)


def test_n_permutations_negative(table):
    with pytest.raises(ValueError, match=r"n_permutations must be an integer >= 0; got -5"):
        _run(table, n_permutations=-5)


def test_n_permutations_numpy_int_accepted(table):
    assert _run(table, n_permutations=np.int64(10)).params["n_permutations"] == 10


@pytest.mark.filterwarnings("ignore:singular fit")
def test_positional_arguments_deprecated(table, clean):
    with pytest.warns(DeprecationWarning, match=r"passing \['acoustic'\] positionally"):
        res = test_semantic_beyond_acoustics(
            table, "sync", ["sem_align"], ["acsim"], n_permutations=20, random_state=0,
            partition=False,
        )  # fmt: skip
    assert res.table.iloc[0].beta_sem == pytest.approx(clean.table.iloc[0].beta_sem)


def test_fit_mixed_positional_deprecated(table):
    with pytest.warns(DeprecationWarning, match=r"\['re_formula'\] positionally"):
        fit_mixed(table, "sync ~ acsim", "dyad", None, engine="fast")


def test_semantic_not_a_list(table):
    with pytest.raises(TypeError, match=r"semantic must be a column name or a list"):
        _run(table, semantic=3)


def test_alpha_out_of_range(table):
    with pytest.raises(ValueError, match=r"alpha must lie strictly between 0 and 1.*got 5"):
        _run(table, alpha=5)


def test_table_not_a_dataframe():
    with pytest.raises(
        TypeError, match=r"table must be a pandas DataFrame.*got \{'sync': \[1, 2\]\} \(dict\)"
    ):
        test_semantic_beyond_acoustics({"sync": [1, 2]})


# --------------------------------------------------------------- errors a user can act on
def test_collinear_predictors_named(table):
    t = table.assign(acsim2=2 * table["acsim"] + 1)
    with pytest.raises(AnalysisTableError, match=r"predictors \['acsim', 'acsim2'\] are "
                       r"collinear in cell .*Drop one of"):  # fmt: skip
        _run(t, acoustic=["acsim", "acsim2"])


def test_collinear_fit_mixed_both_engines(table):
    t = table.assign(a2=table["acsim"] * 3)
    for engine in ("fast", "statsmodels"):
        with pytest.raises(AnalysisTableError, match=r"predictors \['acsim', 'a2'\] are collin"):
            fit_mixed(t, "sync ~ acsim + a2", engine=engine)


def test_collinear_categorical_is_not_a_linalg_error(table):
    t = table.assign(grp=np.where(table["dyad"] < "d03", "a", "b"), g2=None)
    t["g2"] = t["grp"]
    with pytest.raises(AnalysisTableError, match=r"cannot be fitted|collinear"):
        fit_mixed(t, "sync ~ C(grp) + C(g2)", engine="fast")


def test_text_predictor_named(table):
    t = table.assign(acsim=table["acsim"].astype(str))
    with pytest.raises(AnalysisTableError, match=r"column\(s\) \['acsim'\] are not numeric.*"
                       r"pd.to_numeric.*C\(col\)"):  # fmt: skip
        _run(t)


def test_text_response_named(table):
    t = table.assign(sync=table["sync"].astype(str))
    with pytest.raises(AnalysisTableError, match=r"\['sync'\] are not numeric"):
        fit_mixed(t, "sync ~ acsim", engine="fast")


def test_constant_predictor_named(table):
    with pytest.raises(AnalysisTableError, match=r"predictor 'c' is constant \(1.0\) over the "
                       r"180 row\(s\).*drop it from the model"):  # fmt: skip
        _run(table.assign(c=1.0), acoustic=["acsim", "c"])


def test_constant_response_named(table):
    with pytest.raises(AnalysisTableError, match=r"response 'sync' is constant"):
        _run(table.assign(sync=0.5))


def test_misspelled_groups(table):
    with pytest.raises(AnalysisTableError, match=r"groups='dyda' is not a column.*"
                       r"did you mean 'dyad'\?"):  # fmt: skip
        _run(table, groups="dyda")


def test_misspelled_groups_fit_mixed(table):
    with pytest.raises(AnalysisTableError, match=r"groups='dyda'.*did you mean 'dyad'"):
        fit_mixed(table, "sync ~ acsim", groups="dyda")


def test_misspelled_sync(table):
    with pytest.raises(AnalysisTableError, match=r"sync='snyc' is not a column.*'sync'"):
        _run(table, sync="snyc")


def test_misspelled_predictor(table):
    with pytest.raises(AnalysisTableError, match=r"refers to column 'acsm'"):
        _run(table, acoustic=["acsm"])


def test_misspelled_by_column(table):
    with pytest.raises(AnalysisTableError, match=r"names 'bnad'.*did you mean 'band'.*merged"):
        _run(table, by=("bnad", "lag"))


def test_by_as_string(table):
    assert list(_run(table, by="band").table["band"]) == ["theta"]


def test_too_few_dyads(table):
    few = table[table["dyad"].isin(["d00", "d01"])]
    with pytest.raises(AnalysisTableError, match=r"too few dyad groups.*: 2.*at least 3.*Add "
                       r"dyads"):  # fmt: skip
        _run(few)


def test_maxstat_without_permutations(table):
    with pytest.raises(ValueError, match=r"maxstat' needs n_permutations > 0.*correction='holm'"):
        _run(table, n_permutations=0)


# --------------------------------------------------------------- other entry points
def test_correction_nan_stays_nan_inf_refused():
    out = correct_pvalues([0.01, np.nan, 0.04], "holm")
    assert np.isnan(out[1]) and out[0] == pytest.approx(0.02)
    with pytest.raises(ValueError, match=r"1 infinite value\(s\) at index \[1\]"):
        correct_pvalues([0.01, np.inf, 0.04], "fdr_bh")


def test_permutation_pvalues_ignore_nan_permutations():
    null = np.array([0.5, np.nan, 2.0, np.nan, 0.1])
    # 1 of 3 valid permutations exceeds 1.0: (1 + 1) / (1 + 3)
    assert permutation_pvalues(1.0, null)[0] == pytest.approx(0.5)


def test_sign_flip_nonfinite_dropped_and_counted():
    res = sign_flip_test([0.3, 0.5, np.inf, 0.4, np.nan, 0.2, 0.6], n_permutations=200)
    assert res.n == 5 and res.n_dropped == 2


@pytest.mark.parametrize("bad", [1.5, "100", True])
def test_sign_flip_n_permutations_type(bad):
    with pytest.raises(TypeError, match=r"n_permutations must be an int"):
        sign_flip_test([0.1, 0.2, 0.3], n_permutations=bad)


def test_sign_flip_text_effects():
    with pytest.raises(TypeError, match=r"effects must be numbers"):
        sign_flip_test(["a", "b", "c"])


def test_dyad_slopes_inf_rows_counted(table):
    t = table.copy()
    t.loc[0, "sem_align"] = np.inf
    with pytest.warns(UserWarning, match=r"1 row\(s\) with NaN or infinite values"):
        s = dyad_slopes(t)
    assert s.attrs["n_excluded_rows"] == 1 and np.isfinite(s).all()


def test_cluster_bootstrap_failed_resamples_counted(table):
    calls = {"n": 0}

    def stat(df):
        calls["n"] += 1
        return np.nan if calls["n"] % 4 == 0 else float(df["sync"].mean())

    with pytest.warns(UserWarning, match=r"NaN or infinite in \d+ of 20 resample"):
        out = cluster_bootstrap(table, stat, n_boot=20, ci="percentile", random_state=0)
    assert out.n_failed >= 1 and np.isfinite(out.ci_low)


def test_cluster_bootstrap_bad_args(table):
    with pytest.raises(AnalysisTableError, match=r"groups='dyda'.*did you mean 'dyad'"):
        cluster_bootstrap(table, lambda d: 0.0, groups="dyda")
    with pytest.raises(TypeError, match=r"n_boot must be an int; got 10.5"):
        cluster_bootstrap(table, lambda d: 0.0, n_boot=10.5)
    with pytest.raises(TypeError, match=r"statistic must be a callable"):
        cluster_bootstrap(table, "mean")


def test_lrt_needs_model_results():
    with pytest.raises(
        TypeError, match=r"lrt: full must be a MixedModelResult.*got \{'llf': 1.0\} \(dict\)"
    ):
        lrt({"llf": 1.0}, {"llf": 0.0})


def test_permutation_plan_n_permutations_type(table):
    units = table[["dyad", "utterance_id"]].drop_duplicates()
    with pytest.raises(TypeError, match=r"n_permutations must be an int; got 2.5"):
        PermutationPlan(units, "dyad", 2.5, "within")


# --------------------------------------------------------------- joins and duplicates
def _split(table):
    sync = table[["dyad", "utterance_id", "band", "roi", "lag", "metric", "sync"]].copy()
    pred = table.drop(columns=["band", "roi", "lag", "metric", "sync"]).drop_duplicates(
        ["dyad", "utterance_id"]
    )
    return sync, pred


def test_duplicated_sync_rows_refused(table):
    sync, pred = _split(table)
    with pytest.raises(AnalysisTableError, match=r"sync_table has 10 rows with duplicated keys"
                       r".*pseudo-replication"):  # fmt: skip
        build_analysis_table(pd.concat([sync, sync.iloc[:5]]), pred)


def test_duplicated_table_rows_refused(table):
    with pytest.raises(AnalysisTableError, match=r"the table has 6 rows with duplicated keys "
                       r"\['dyad', 'utterance_id', 'band', 'roi', 'lag'\]"):  # fmt: skip
        _run(pd.concat([table, table.iloc[:3]]))


def test_key_dtype_mismatch_named(table):
    sync, pred = _split(table)
    pred["utterance_id"] = pred["utterance_id"].astype(str)
    with pytest.raises(AnalysisTableError, match=r"key 'utterance_id' has dtype int64 in "
                       r"sync_table and .* in predictors.*astype\('int64'\)"):  # fmt: skip
        build_analysis_table(sync, pred)


def test_text_sync_refused_at_join(table):
    sync, pred = _split(table)
    sync["sync"] = sync["sync"].astype(str)
    with pytest.raises(AnalysisTableError, match=r"sync_table\['sync'\] is not numeric"):
        build_analysis_table(sync, pred)


def test_join_inputs_must_be_frames(table):
    sync, pred = _split(table)
    with pytest.raises(TypeError, match=r"sync_table must be a pandas DataFrame; got .* \(dict\)"):
        build_analysis_table(sync.to_dict(), pred)


def test_missing_group_rows_counted(table):
    t = table.copy()
    t["dyad"] = t["dyad"].astype(object)
    t.loc[0:3, "dyad"] = None
    row = _run(t).table.iloc[0]
    assert row.n_excluded_nan == 4 and row.n_obs == len(t) - 4
