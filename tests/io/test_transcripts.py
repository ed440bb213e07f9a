"""Transcript readers/writers: whisperx JSON, TextGrid (long/short, UTF-16), TSV/CSV."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import hyperalign as ha
from hyperalign.io import (
    read_textgrid,
    read_transcript,
    read_whisperx_json,
    write_textgrid,
    write_transcript,
    write_transcript_tsv,
    write_whisperx_json,
)

S0, S1 = "SPEAKER_00", "SPEAKER_01"
WORD_COLS = ["onset", "offset", "word", "speaker", "utterance_id"]
UTT_COLS = ["utterance_id", "speaker", "onset", "offset", "text", "n_words", "turn"]


@pytest.fixture
def tr(small_words):
    w = small_words.copy()
    w.loc[8, "word"] = 'qu"oted'  # a quote must survive every format
    w.loc[7, "word"] = "größe"  # non-ASCII
    w["confidence"] = np.linspace(0.5, 0.95, len(w))
    return ha.Transcript(w, speakers=["A", "B"])


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("t.json", {}),
        ("t.TextGrid", {}),
        ("t.TextGrid", {"text_format": "short"}),
        ("t.TextGrid", {"text_format": "short", "encoding": "utf-16"}),
        ("t.TextGrid", {"tier_names": "speaker", "encoding": "utf-16"}),
        ("t.tsv", {}),
        ("t.csv", {}),
    ],
)
def test_word_round_trip(tr, tmp_path, name, kwargs):
    path = write_transcript(tr, tmp_path / name, **kwargs)
    back = read_transcript(path)
    pd.testing.assert_frame_equal(tr.words[WORD_COLS], back.words[WORD_COLS])
    pd.testing.assert_frame_equal(tr.utterances[UTT_COLS], back.utterances[UTT_COLS])
    if not name.endswith("TextGrid"):  # TextGrid has no confidence
        np.testing.assert_allclose(tr.words["confidence"], back.words["confidence"])


@pytest.mark.parametrize("name", ["u.tsv", "u.csv", "u.TextGrid"])
def test_utterance_round_trip(tr, tmp_path, name):
    path = write_transcript(tr, tmp_path / name, kind="utterances")
    back = read_transcript(path)
    assert (back.words["timing"] == "interpolated").all()
    pd.testing.assert_frame_equal(tr.utterances[UTT_COLS], back.utterances[UTT_COLS])


def _whisperx_doc():
    return {
        "segments": [
            {
                "start": 0.5,
                "end": 2.9,
                "text": " I was born in 1984 really",
                "speaker": "SPEAKER_00",
                "words": [
                    {"word": "I", "start": 0.5, "end": 0.6, "score": 0.9, "speaker": S0},
                    {"word": "was", "start": 0.7, "end": 0.9, "score": 0.8, "speaker": S0},
                    {"word": "born", "start": 1.0, "end": 1.3, "score": 0.7, "speaker": S0},
                    {"word": "in", "start": 1.35, "end": 1.5, "score": 0.9, "speaker": S0},
                    {"word": "1984"},  # whisperx leaves numerals unaligned
                    {"word": "really", "start": 2.5, "end": 2.9, "score": 0.6},
                ],
            },
            {
                "start": 3.2,
                "end": 4.0,
                "text": " yes indeed",
                "speaker": "SPEAKER_01",
                "words": [
                    {"word": "yes", "start": 3.2, "end": 3.5, "score": 0.9, "speaker": S1},
                    {"word": "indeed", "start": 3.6, "end": 4.0, "score": 0.9, "speaker": S1},
                ],
            },
        ],
        "word_segments": [],
    }  # fmt: skip


def test_whisperx_unaligned_words_interpolated(tmp_path):
    p = tmp_path / "wx.json"
    p.write_text(json.dumps(_whisperx_doc()))
    t = read_whisperx_json(p, speakers={"SPEAKER_00": "A", "SPEAKER_01": "B"})
    w = t.words
    assert len(w) == 8  # nothing dropped
    row = w[w["word"] == "1984"].iloc[0]
    assert row["timing"] == "interpolated"
    assert row["onset"] == pytest.approx(1.5) and row["offset"] == pytest.approx(2.5)
    assert np.isnan(row["confidence"])
    assert any("1984" in f for f in t.fixes)
    assert set(w["speaker"]) == {"A", "B"}
    # speaker falls back from word to segment
    assert w.loc[w["word"] == "really", "speaker"].item() == "A"
    # and the file written back reads back the same
    out = write_whisperx_json(t, tmp_path / "back.json")
    doc = json.loads(out.read_text())
    assert {"segments", "word_segments"} <= set(doc)
    assert set(doc["segments"][0]) >= {"start", "end", "text", "speaker", "words"}
    back = read_transcript(out)
    pd.testing.assert_frame_equal(t.words[WORD_COLS], back.words[WORD_COLS])


def test_whisperx_segment_segmentation_and_no_words(tmp_path):
    doc = _whisperx_doc()
    doc["segments"].append({"start": 5.0, "end": 6.0, "text": " okay then", "speaker": S1})
    p = tmp_path / "wx.json"
    p.write_text(json.dumps(doc))
    t = read_whisperx_json(p, segmentation="segment")
    assert t.n_utterances == 3
    assert (t.words["timing"] == "segment").sum() == 2


def test_whisperx_errors(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text("{not json")
    with pytest.raises(ValueError, match=r"bad.json: not valid JSON"):
        read_transcript(p)
    p.write_text(json.dumps({"text": "hello"}))
    with pytest.raises(ValueError, match="'segments' list"):
        read_transcript(p)
    doc = _whisperx_doc()
    for s in doc["segments"]:
        s.pop("speaker")
        for w in s["words"]:
            w.pop("speaker", None)
    p.write_text(json.dumps(doc))
    with pytest.raises(ha.TranscriptError, match="default_speaker"):
        read_transcript(p)
    t = read_transcript(p, default_speaker="A")
    assert set(t.words["speaker"]) == {"A"}
    p.write_text("")
    with pytest.raises(ValueError, match="empty"):
        read_transcript(p)


LONG_TG = """File type = "ooTextFile"
Object class = "TextGrid"

xmin = 0
xmax = 3.5
tiers? <exists>
size = 3
item []:
    item [1]:
        class = "IntervalTier"
        name = "anna - words"
        xmin = 0
        xmax = 3.5
        intervals: size = 3
        intervals [1]:
            xmin = 0
            xmax = 0.5
            text = ""
        intervals [2]:
            xmin = 0.5
            xmax = 1.0
            text = "hello"
        intervals [3]:
            xmin = 1.0
            xmax = 3.5
            text = "sil"
    item [2]:
        class = "IntervalTier"
        name = "anna - phones"
        xmin = 0
        xmax = 3.5
        intervals: size = 1
        intervals [1]:
            xmin = 0
            xmax = 3.5
            text = "HH"
    item [3]:
        class = "IntervalTier"
        name = "ben - words"
        xmin = 0
        xmax = 3.5
        intervals: size = 2
        intervals [1]:
            xmin = 0
            xmax = 2
            text = ""
        intervals [2]:
            xmin = 2
            xmax = 3.5
            text = "say ""hi"" [2] now"
"""

SHORT_TG = """File type = "ooTextFile"
Object class = "TextGrid"

0
3.5
<exists>
2
"IntervalTier"
"anna"
0
3.5
2
0
1
"hello there"
1
3.5
""
"TextTier"
"events"
0
3.5
1
1.5
"click"
"""


def test_textgrid_long_mfa(tmp_path):
    p = tmp_path / "mfa.TextGrid"
    p.write_text(LONG_TG, encoding="utf-16")  # Praat writes UTF-16 with a BOM
    t = read_transcript(p)
    u = t.utterances  # an interval with several tokens: utterance rows (auto)
    assert u["speaker"].tolist() == ["anna", "ben"]  # the phones tier is not a speaker
    assert u["text"].tolist() == ["hello", 'say "hi" [2] now']
    assert u["onset"].tolist() == [0.5, 2.0] and u["offset"].tolist() == [1.0, 3.5]


def test_textgrid_short_utterances_and_point_tier(tmp_path):
    p = tmp_path / "short.TextGrid"
    p.write_text(SHORT_TG)
    t = read_textgrid(p)
    assert t.n_utterances == 1 and t.n_words == 2
    assert t.utterances["text"].item() == "hello there"
    t2 = read_textgrid(p, tiers={"anna": "A"}, kind="words")
    assert t2.words["word"].item() == "hello there" and t2.speakers == ["A"]


def test_textgrid_errors(tmp_path):
    p = tmp_path / "x.TextGrid"
    p.write_text("hello")
    with pytest.raises(ValueError, match="not a Praat TextGrid"):
        read_transcript(p)
    p.write_text(SHORT_TG[:120])
    with pytest.raises(ValueError, match="truncated"):
        read_transcript(p)
    p.write_text(SHORT_TG)
    with pytest.raises(ValueError, match=r"tiers=\['nobody'\] not found"):
        read_textgrid(p, tiers=["nobody"])


def test_tsv_aliases_duration_and_errors(tmp_path):
    p = tmp_path / "w.csv"
    p.write_text("start,duration,speaker,token\n0.0,0.5,A,hi\n0.6,0.2,B,yo\n")
    t = read_transcript(p)
    assert t.words["offset"].tolist() == [0.5, pytest.approx(0.8)]
    p.write_text("start,end,who,token\n0,1,A,hi\n")
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['speaker'\]"):
        read_transcript(p)
    t = read_transcript(p, columns={"who": "speaker"})
    assert t.words["speaker"].item() == "A"
    p.write_text("onset,offset,speaker,word\n0,1,A,hi\nx,2,A,there\n")
    with pytest.raises(ha.TranscriptError, match=r"row 1 \(onset\)"):
        read_transcript(p)
    # every speaker problem is listed, with its row
    p.write_text("onset,offset,speaker,word\n0,1,A,hi\n1,2,Z,x\n2,3,Q,y\n")
    with pytest.raises(ha.TranscriptError, match=r"(?s)row 1 \(speaker\).*row 2 \(speaker\)"):
        read_transcript(p, speakers=["A", "B"])
    with pytest.raises(ha.TranscriptError, match=r"past the end of the recording"):
        read_transcript(p, duration=2.5)
    with pytest.raises(FileNotFoundError, match="not found"):
        read_transcript(tmp_path / "nope.tsv")
    (tmp_path / "w.doc").write_text("x")
    with pytest.raises(ValueError, match="cannot tell the transcript format"):
        read_transcript(tmp_path / "w.doc")


def test_write_errors(tr, tmp_path):
    with pytest.raises(TypeError, match="must be a Transcript"):
        write_whisperx_json(tr.words, tmp_path / "x.json")
    with pytest.raises(ValueError, match="text_format"):
        write_textgrid(tr, tmp_path / "x.TextGrid", text_format="binary")
    with pytest.raises(ValueError, match="xmax"):
        write_textgrid(tr, tmp_path / "x.TextGrid", xmax=1.0)
    p = write_transcript_tsv(tr, tmp_path / "u.tsv", kind="utterances")
    assert "text" in pd.read_csv(p, sep="\t").columns


def test_textgrid_utf16_without_bom_and_old_short_header(tmp_path):
    p = tmp_path / "nobom.TextGrid"
    p.write_bytes(SHORT_TG.replace('"ooTextFile"', '"ooTextFile short"').encode("utf-16-le"))
    t = read_textgrid(p)
    assert t.utterances["text"].tolist() == ["hello there"]


def test_utterance_interpolation_and_speaker_list(tmp_path):
    p = tmp_path / "u.csv"
    p.write_text("onset,offset,speaker,text\n0,1,A,ab cd\n2,3,B,hi\n")
    t = read_transcript(p, speakers=["A", "B"])
    w = t.words
    assert w["word"].tolist() == ["ab", "cd", "hi"] and (w["timing"] == "interpolated").all()
    assert w["onset"].tolist() == [0.0, 0.5, 2.0] and w["offset"].tolist() == [0.5, 1.0, 3.0]
    with pytest.raises(ha.TranscriptError, match=r"row 1 \(speaker\): unknown speaker 'B'"):
        read_transcript(p, speakers=["A"])


@pytest.mark.parametrize("text_format", ["long", "short"])
def test_textgrid_cross_check_with_praat(tr, tmp_path, text_format):
    """Praat itself (through parselmouth) reads our TextGrids, and we read what Praat writes
    (UTF-16 big-endian with a BOM when the text is not ASCII)."""
    parselmouth = pytest.importorskip("parselmouth")
    from parselmouth.praat import call

    path = write_textgrid(tr, tmp_path / "ours.TextGrid", text_format=text_format)
    tg = parselmouth.read(str(path))
    assert call(tg, "Get number of tiers") == 2
    w = tr.words[tr.words["speaker"] == "A"]
    labels = [call(tg, "Get label of interval", 1, i)
              for i in range(1, call(tg, "Get number of intervals", 1) + 1)]  # fmt: skip
    assert [lab for lab in labels if lab] == w["word"].tolist()
    for cmd, name in (("Save as text file", "praat_long"), ("Save as short text file", "ps")):
        out = tmp_path / f"{name}.TextGrid"
        call(tg, cmd, str(out))
        assert out.read_bytes()[:2] == b"\xfe\xff"  # Praat chose UTF-16 for 'größe'
        back = read_textgrid(out)
        pd.testing.assert_frame_equal(back.words[WORD_COLS], tr.words[WORD_COLS])
