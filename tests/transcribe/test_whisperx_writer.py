"""One whisperx writer: transcribe's JSON output is io's, with the same structure."""

from __future__ import annotations

import json

import pandas as pd

import hyperalign as ha
from hyperalign.io import read_whisperx_json, write_whisperx_json
from hyperalign.transcribe import to_whisperx_dict, write_transcript_json


def _transcript():
    words = pd.DataFrame(
        {
            "onset": [0.1, 0.5, 2.0, 2.4],
            "offset": [0.4, 0.9, 2.3, 2.8],
            "word": ["hello", "there", "hi", "you"],
            "speaker": ["A", "A", "B", "B"],
            "confidence": [0.9, float("nan"), 0.8, 0.7],
        }
    )
    return ha.Transcript(words)


def test_transcribe_writes_through_the_io_writer(tmp_path):
    tr = _transcript()
    a = write_transcript_json(tr, tmp_path / "a.json")
    b = write_whisperx_json(tr, tmp_path / "b.json")
    assert a.read_text(encoding="utf-8") == b.read_text(encoding="utf-8")
    back = read_whisperx_json(a)
    pd.testing.assert_frame_equal(
        back.words[["onset", "offset", "word", "speaker"]],
        tr.words[["onset", "offset", "word", "speaker"]],
    )
    doc = to_whisperx_dict(tr)
    assert doc["language"] == "en"  # transcribe's default, as before
    assert "score" not in doc["segments"][0]["words"][1]  # unknown confidence: no score
    assert json.loads(b.read_text(encoding="utf-8")) == to_whisperx_dict(tr, None)
    write_whisperx_json(tr, tmp_path / "c.json", language="de")
    assert json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))["language"] == "de"
