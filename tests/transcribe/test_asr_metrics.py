"""Word error rate and onset errors (no model needed)."""

from __future__ import annotations

import pandas as pd
import pytest

from hyperalign.transcribe import normalize_word, onset_errors, word_error_rate


def test_word_error_rate():
    assert word_error_rate("the cat sat", "The cat, sat.") == 0
    assert word_error_rate("a b c d", "a x c d e") == pytest.approx(0.5)
    assert word_error_rate("the cat sat", "cat sat on the") == pytest.approx(1.0)
    assert word_error_rate(["one", "two"], pd.DataFrame({"word": ["one"]})) == 0.5
    with pytest.raises(ValueError, match="reference has no words"):
        word_error_rate("", "x")
    assert normalize_word("Don't!") == "don't"


def test_onset_errors_pairs_identical_words():
    ref = pd.DataFrame({"word": ["a", "b", "c"], "onset": [0.0, 1.0, 2.0]})
    hyp = pd.DataFrame({"word": ["A", "x", "c", "d"], "onset": [0.05, 1.0, 1.9, 3.0]})
    e = onset_errors(ref, hyp)
    assert list(e["word"]) == ["a", "c"]
    assert e["error"].tolist() == pytest.approx([0.05, -0.1])
    with pytest.raises(ValueError, match="'word' and 'onset'"):
        onset_errors(ref, hyp.drop(columns="onset"))
