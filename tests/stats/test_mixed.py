import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from hyperalign.stats import (
    AnalysisTableError,
    build_analysis_table,
    fit_mixed,
    lrt,
    r2_nakagawa,
    simulate_analysis_table,
)


@pytest.fixture(scope="module")
def table():
    return simulate_analysis_table(n_dyads=8, n_utterances=60, semantic_effect=0.3, random_state=3)


def _sync_and_predictors(n_dyads=6, n_utt=10, seed=0):
    rng = np.random.default_rng(seed)
    pred = pd.DataFrame(
        {
            "dyad": np.repeat([f"d{i}" for i in range(n_dyads)], n_utt),
            "utterance_id": np.tile(np.arange(n_utt), n_dyads),
            "speaker": "A",
            "listener": "B",
            "sem_align": rng.standard_normal(n_dyads * n_utt),
            "acsim": rng.standard_normal(n_dyads * n_utt),
            "duration": rng.uniform(1, 3, n_dyads * n_utt),
        }
    )
    sync = pd.concat(
        [pred[["dyad", "utterance_id"]].assign(metric="plv", band=b, lag=0.0, roi="all",
                                               sync=rng.random(len(pred)))
         for b in ("theta", "alpha")], ignore_index=True)  # fmt: skip
    return sync, pred


def test_build_analysis_table_join_and_report():
    sync, pred = _sync_and_predictors()
    pred.loc[3, "sem_align"] = np.nan
    extra = sync.iloc[:2].assign(utterance_id=999)  # synchrony without predictors
    pred_short = pred[pred.utterance_id != 9]  # sync rows of utterance 9 lose their predictors
    tab = build_analysis_table(pd.concat([sync, extra]), pred_short)
    rep = tab.attrs["report"]
    assert rep["n_rows_without_predictors"] == 2 + 6 * 2
    assert rep["nan_counts"]["sem_align"] == 2  # one utterance x 2 bands
    assert tab.attrs["exclusions"].total() == 14
    assert len(tab) == 2 * 6 * 9
    assert {"listener_uid", "band", "sync", "sem_align"} <= set(tab.columns)


def test_build_analysis_table_errors():
    sync, pred = _sync_and_predictors()
    with pytest.raises(AnalysisTableError, match="duplicated keys"):
        build_analysis_table(sync, pd.concat([pred, pred.iloc[:1]]))
    with pytest.raises(AnalysisTableError, match="missing column"):
        build_analysis_table(sync.drop(columns="sync"), pred)
    with pytest.raises(AnalysisTableError, match="no synchrony row matched"):
        build_analysis_table(sync, pred.assign(dyad="x" + pred.dyad))
    s2, p2 = _sync_and_predictors(n_dyads=2)
    with pytest.raises(AnalysisTableError, match="too few dyad groups"):
        build_analysis_table(s2, p2)
    s4, p4 = _sync_and_predictors(n_dyads=4)
    with pytest.warns(UserWarning, match="only 4 dyad groups"):
        build_analysis_table(s4, p4)
    with pytest.warns(UserWarning, match="'acsim' is constant"):
        build_analysis_table(sync, pred.assign(acsim=1.0))


def test_bookkeeping_columns_do_not_warn():
    """Constant synchrony bookkeeping, flags and empty columns are reported, not warned about."""
    sync, pred = _sync_and_predictors()
    sync = sync.assign(n_surrogates=20, short=False, sync_z=np.nan)
    tab = build_analysis_table(sync, pred.assign(ac_mic_silent=False))  # -W error: no warning
    rep = tab.attrs["report"]
    assert {"n_surrogates", "short", "sync_z", "ac_mic_silent"} <= set(rep["constant_columns"])
    assert rep["empty_columns"] == ["sync_z"]
    with pytest.warns(UserWarning, match="column 'duration' is constant"):
        build_analysis_table(sync, pred.assign(duration=2.0))


def test_fit_mixed_matches_statsmodels(table):
    sub = table[table.band == "theta"]
    ours = fit_mixed(sub, "sync ~ acsim + sem_align", groups="dyad", reml=True)
    ref = smf.mixedlm("sync ~ acsim + sem_align", sub, groups="dyad").fit(reml=True)
    np.testing.assert_allclose(ours.params, ref.fe_params, rtol=1e-6)
    np.testing.assert_allclose(ours.bse, ref.bse_fe, rtol=1e-5)
    np.testing.assert_allclose(ours.llf, ref.llf, rtol=1e-8)
    ct = ours.coef_table()
    np.testing.assert_allclose(ct["ci_low"], ref.conf_int().loc[ref.fe_params.index, 0])


def test_lrt_equals_statsmodels_ml(table):
    sub = table[table.band == "theta"]
    f1 = fit_mixed(sub, "sync ~ acsim + sem_align", reml=False)
    f0 = fit_mixed(sub, "sync ~ acsim", reml=False)
    m1 = smf.mixedlm("sync ~ acsim + sem_align", sub, groups="dyad").fit(reml=False)
    m0 = smf.mixedlm("sync ~ acsim", sub, groups="dyad").fit(reml=False)
    out = lrt(f1, f0)
    np.testing.assert_allclose(out.lrt, 2 * (m1.llf - m0.llf), rtol=1e-6)
    assert out.df == 1
    with pytest.raises(ValueError, match="reml=False"):
        lrt(fit_mixed(sub, "sync ~ acsim + sem_align"), f0)


def test_r2_random_intercept_by_hand(table):
    sub = table[table.band == "theta"]
    res = fit_mixed(sub, "sync ~ acsim + sem_align")
    r = res.result
    vf = np.var(r.model.exog @ r.fe_params.to_numpy())
    tau2, s2 = float(r.cov_re.iloc[0, 0]), float(r.scale)
    np.testing.assert_allclose(res.r2.R2m, vf / (vf + tau2 + s2))
    np.testing.assert_allclose(res.r2.R2c, (vf + tau2) / (vf + tau2 + s2))
    assert 0 < res.r2.R2m < res.r2.R2c < 1


def test_variance_components_listener():
    t = simulate_analysis_table(n_dyads=8, n_utterances=40, listener_sd=0.5, random_state=1)
    res = fit_mixed(t, "sync ~ acsim + sem_align", vc_formula={"listener": "0 + C(listener_uid)"})
    assert res.result.vcomp.size == 1 and res.result.vcomp[0] > 0
    r2 = r2_nakagawa(res.result)
    assert r2.var_vc > 0 and r2.R2c > r2.R2m


def test_random_slopes_johnson(table):
    # the simulated data have no random slope: its variance is estimated at ~0 (singular fit)
    with pytest.warns(UserWarning, match=r"singular fit .*\(variances \[0\.\d+, 1e-07\]"):
        res = fit_mixed(
            table[table.band == "theta"], "sync ~ acsim + sem_align", re_formula="1 + sem_align"
        )
    r = res.result
    Z = r.model.exog_re
    expected = np.mean(np.sum((Z @ r.cov_re.to_numpy()) * Z, axis=1))
    np.testing.assert_allclose(res.r2.var_random, expected)


def test_singular_fit_warns():
    t = simulate_analysis_table(n_dyads=6, n_utterances=40, dyad_sd=0.0, random_state=5)
    with pytest.warns(UserWarning, match="singular fit"):
        res = fit_mixed(t, "sync ~ acsim + sem_align")
    assert res.singular


def test_model_errors(table):
    with pytest.raises(AnalysisTableError, match="predictor 'c' is constant"):
        fit_mixed(table.assign(c=1.0), "sync ~ acsim + c")
    with pytest.raises(AnalysisTableError, match=r"model column\(s\) \['nope'\]"):
        fit_mixed(table, "sync ~ nope")
    few = table[table.dyad.isin(["d00", "d01"])]
    with pytest.raises(AnalysisTableError, match="too few dyad groups: 2"):
        fit_mixed(few, "sync ~ acsim")
    five = table[table.dyad.isin(["d00", "d01", "d02", "d03", "d04"])]
    with pytest.warns(UserWarning, match="only 5 dyad groups"):
        fit_mixed(five[five.band == "theta"], "sync ~ acsim")


def test_nan_rows_counted(table):
    t = table[table.band == "theta"].copy()
    t.iloc[:7, t.columns.get_loc("sem_align")] = np.nan
    res = fit_mixed(t, "sync ~ acsim + sem_align")
    assert res.n_excluded == 7 and res.n_obs == len(t) - 7


@pytest.mark.parametrize("reml", [False, True])
def test_fast_engine_matches_statsmodels(table, reml):
    sub = table[table.band == "theta"]
    fast = fit_mixed(sub, "sync ~ acsim + sem_align", reml=reml, engine="fast")
    ref = smf.mixedlm("sync ~ acsim + sem_align", sub, groups="dyad").fit(
        reml=reml, method="powell"
    )
    np.testing.assert_allclose(fast.llf, ref.llf, rtol=1e-8)
    np.testing.assert_allclose(fast.params, ref.fe_params, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(fast.bse, ref.bse_fe, rtol=2e-3)  # GLS vs observed information
    np.testing.assert_allclose(fast.result.scale, ref.scale, rtol=1e-5)
    np.testing.assert_allclose(fast.result.cov_re.iloc[0, 0], ref.cov_re.iloc[0, 0], rtol=1e-3)
    np.testing.assert_allclose(fast.r2.R2c, r2_nakagawa(ref).R2c, rtol=1e-4)
    # formula terms that need parsing go through statsmodels' design builder
    f2 = fit_mixed(sub, "sync ~ acsim + I(sem_align * 2)", reml=reml, engine="fast")
    np.testing.assert_allclose(2 * f2.params.iloc[2], fast.params["sem_align"], rtol=1e-4)
    with pytest.raises(ValueError, match="engine='fast' fits a random intercept only"):
        fit_mixed(sub, "sync ~ acsim", engine="fast", re_formula="1 + acsim")
