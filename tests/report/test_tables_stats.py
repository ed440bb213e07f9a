import warnings

import numpy as np
import pandas as pd
import pytest

from hyperalign.report.tables import latex_escape, model_table, to_csv, to_latex, to_markdown
from hyperalign.stats import fit_mixed, simulate_analysis_table, test_semantic_beyond_acoustics


@pytest.fixture(scope="module")
def table():
    return simulate_analysis_table(n_dyads=6, n_utterances=40, bands=("theta", "alpha"),
                                   semantic_effect=0.3, random_state=0)  # fmt: skip


def test_model_table_fitted_model(table):
    res = fit_mixed(table[table.band == "theta"], "sync ~ acsim + sem_align")
    mt = model_table(res)
    assert list(mt.columns) == ["term", "estimate", "se", "z", "p", "ci_low", "ci_high"]
    assert list(mt.term) == ["Intercept", "acsim", "sem_align"]
    np.testing.assert_allclose(mt.estimate, res.params.to_numpy())
    assert "REML" in mt.attrs["note"]


def test_model_table_semantic_result(table):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = test_semantic_beyond_acoustics(table, n_permutations=50, random_state=0,
                                           keep_models=True)  # fmt: skip
        r2 = test_semantic_beyond_acoustics(table, n_permutations=50, random_state=0)
    mt = model_table(r)
    assert len(mt) == 2 * 3 and {"band", "term", "lrt", "p_corrected", "dR2m"} <= set(mt)
    assert list(mt.columns[:3]) == ["band", "roi", "lag"]
    mt2 = model_table(r2)
    assert len(mt2) == 2 and (mt2.term == "sem_align").all()
    sem = mt[mt.term == "sem_align"].reset_index(drop=True)
    np.testing.assert_allclose(sem.estimate, mt2.estimate, rtol=1e-3)
    with pytest.raises(TypeError, match="MixedModelResult or SemanticTestResult"):
        model_table(pd.DataFrame())


def test_markdown_latex_csv(tmp_path):
    df = pd.DataFrame({"term": ["a_b", "c&d"], "est": [0.12345, 1e-6], "n": [3, 4],
                       "ok": [True, False]})  # fmt: skip
    md = to_markdown(df, digits=2)
    assert md.splitlines()[0] == "| term | est | n | ok |"
    assert md.splitlines()[1] == "| :--- | ---: | ---: | :--- |"
    assert "| a_b | 0.12 | 3 | yes |" in md and "1.0e-06" in md
    tex = to_latex(df, digits=2, caption="My table", label="tab:t")
    assert "a\\_b & 0.12 & 3 & yes \\\\" in tex and "c\\&d" in tex
    assert tex.startswith("\\begin{table}") and "\\caption{My table}" in tex
    assert to_latex(df).startswith("\\begin{tabular}{lrrl}")
    assert latex_escape("50%_$") == "50\\%\\_\\$"
    to_csv(df, tmp_path / "sub" / "t.csv")
    back = pd.read_csv(tmp_path / "sub" / "t.csv")
    assert list(back.columns) == list(df.columns) and len(back) == 2
