"""Transcripts given messy input (issue 10, item 11 and siblings): encodings are decoded
strictly (an undecodable byte is an error naming its offset and ``encoding=``), speaker ids
stay strings, and empty, negative-time or ambiguous tables are refused with the row named."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import hyperalign as ha
from hyperalign.io import read_dyad, read_transcript, write_textgrid
from hyperalign.transcript import TranscriptError

WORDS = "onset\toffset\tword\tspeaker\n0.5\t0.9\tcaf\u00e9\tA\n1.2\t1.5\tna\u00efve\tB\n"


def _tr():
    df = pd.DataFrame({"onset": [0.5, 1.2], "offset": [0.9, 1.5], "word": ["café", "naïve"],
                       "speaker": ["A", "B"]})  # fmt: skip
    return ha.Transcript(df)


# ------------------------------------------------------------------ encodings
def test_cp1252_tsv_is_an_error_naming_the_byte(tmp_path):
    f = tmp_path / "t.tsv"
    f.write_bytes(WORDS.encode("cp1252"))
    # the header is 26 bytes, "0.5\t0.9\tcaf" 11 more: the é is byte 37 (0-based), line 2
    with pytest.raises(ValueError, match=r"t\.tsv: byte 37 \(line 2, b'\\xe9'\) is not valid "
                       r"utf-8 .*pass encoding='cp1252'.*\(encoding=\)"):  # fmt: skip
        read_transcript(f)


def test_encoding_option_decodes_the_file(tmp_path):
    f = tmp_path / "t.tsv"
    f.write_bytes(WORDS.encode("cp1252"))
    tr = read_transcript(f, encoding="cp1252")
    assert list(tr.words["word"]) == ["café", "naïve"]


def test_unknown_encoding_name(tmp_path):
    f = tmp_path / "t.tsv"
    f.write_text(WORDS, encoding="utf-8")
    with pytest.raises(ValueError, match=r"encoding='utf-9' is not a known text encoding"):
        read_transcript(f, encoding="utf-9")


@pytest.mark.parametrize("encoding", [None, "utf-8"])
def test_utf8_bom_is_not_part_of_the_header(tmp_path, encoding):
    f = tmp_path / "t.tsv"
    f.write_bytes(b"\xef\xbb\xbf" + WORDS.encode("utf-8"))
    tr = read_transcript(f, encoding=encoding)
    assert list(tr.words["word"]) == ["café", "naïve"] and tr.words["onset"].iloc[0] == 0.5


def test_whisperx_json_latin1_is_an_error(tmp_path):
    doc = {"segments": [{"start": 0.5, "end": 0.9, "text": " café", "speaker": "A",
                         "words": [{"word": "café", "start": 0.5, "end": 0.9}]}]}  # fmt: skip
    f = tmp_path / "t.json"
    f.write_bytes(json.dumps(doc, ensure_ascii=False).encode("latin-1"))
    with pytest.raises(ValueError, match=r"t\.json: byte \d+ \(line 1, b'\\xe9'\) is not valid"):
        read_transcript(f)
    assert read_transcript(f, encoding="latin-1").words["word"].iloc[0] == "café"


def test_textgrid_in_latin1_is_an_error_and_utf16_reads(tmp_path):
    f = write_textgrid(_tr(), tmp_path / "t.TextGrid", encoding="utf-16")
    assert list(read_transcript(f).words["word"]) == ["café", "naïve"]
    g = write_textgrid(_tr(), tmp_path / "l.TextGrid", encoding="latin-1")
    with pytest.raises(ValueError, match=r"l\.TextGrid: byte \d+ .* is not valid utf-8"):
        read_transcript(g)
    assert list(read_transcript(g, encoding="latin-1").words["word"]) == ["café", "naïve"]


# ------------------------------------------------------------------ ids and cells
@pytest.mark.parametrize("sep, suffix", [("\t", "tsv"), (",", "csv")])
def test_speaker_ids_stay_strings(tmp_path, sep, suffix):
    f = tmp_path / f"t.{suffix}"
    f.write_text(sep.join(["onset", "offset", "word", "speaker"]) + "\n"
                 + sep.join(["0.5", "0.9", "hi", "01"]) + "\n"
                 + sep.join(["1.2", "1.5", "007", "02"]) + "\n")  # fmt: skip
    tr = read_transcript(f)
    assert list(tr.words["speaker"]) == ["01", "02"] and tr.speakers == ["01", "02"]
    assert tr.words["word"].iloc[1] == "007"  # a word that looks like a number stays a word


def test_words_like_na_and_null_are_words(tmp_path):
    f = tmp_path / "t.tsv"
    f.write_text("onset\toffset\tword\tspeaker\n0.5\t0.9\tNA\tA\n1.2\t1.5\tnull\tA\n")
    assert list(read_transcript(f).words["word"]) == ["NA", "null"]


def test_non_numeric_confidence(tmp_path):
    f = tmp_path / "t.tsv"
    f.write_text("onset\toffset\tword\tspeaker\tconfidence\n0.5\t0.9\thi\tA\thigh\n")
    with pytest.raises(ValueError, match=r"row 0 \(confidence\): expected a number in 0-1, got "
                       r"'high'"):  # fmt: skip
        read_transcript(f)


def test_repeated_column_names(tmp_path):
    f = tmp_path / "t.tsv"
    f.write_text("onset\toffset\tword\tspeaker\tOnset\n0.5\t0.9\thi\tA\t3.0\n")
    with pytest.raises(ValueError, match=r"column name\(s\) \['onset'\] appear more than once"):
        read_transcript(f)


# ------------------------------------------------------------------ times and emptiness
@pytest.mark.parametrize(
    "text, suffix",
    [("onset\toffset\tword\tspeaker\n", "tsv"), ('{"segments": []}', "json")],
)
def test_empty_transcript_is_an_error(tmp_path, text, suffix):
    f = tmp_path / f"t.{suffix}"
    f.write_text(text)
    with pytest.raises(ValueError, match=rf"t\.{suffix}: the transcript holds no words"):
        read_transcript(f)


def test_negative_word_times(tmp_path):
    f = tmp_path / "t.tsv"
    f.write_text("onset\toffset\tword\tspeaker\n-0.5\t0.2\thi\tA\n1.0\t1.2\tyes\tB\n")
    with pytest.raises(TranscriptError, match=r"row 0 \(onset\): -0\.500 s is before time 0"):
        read_transcript(f)


def test_overlapping_words_of_one_speaker(tmp_path):
    f = tmp_path / "t.tsv"
    f.write_text("onset\toffset\tword\tspeaker\n1\t2\thi\tA\n1.5\t2.2\tyo\tA\n")
    with pytest.raises(TranscriptError, match=r"row 1 \(onset\): word 'yo' of speaker 'A' starts "
                       r"at 1\.500 s, before .*on_overlap='clip'"):  # fmt: skip
        read_transcript(f)
    assert read_transcript(f, on_overlap="clip").n_words == 2


def test_infinite_word_time(tmp_path):
    f = tmp_path / "t.tsv"
    f.write_text("onset\toffset\tword\tspeaker\n1\tinf\thi\tA\n")
    with pytest.raises(TranscriptError, match=r"row 0 \(offset\): expected a finite time in s, "
                       r"got 'inf'"):  # fmt: skip
        read_transcript(f)


def test_transcript_encoding_through_read_dyad(tmp_path):
    raws = [ha.make_participant_raw(np.zeros((1, 500)), 100.0) for _ in range(2)]
    f = tmp_path / "t.tsv"
    f.write_bytes(WORDS.encode("cp1252"))
    with pytest.raises(ValueError, match=r"byte 37 .*encoding="):
        read_dyad(raws, transcript=f, participant_ids=["A", "B"])
    d = read_dyad(raws, transcript=f, participant_ids=["A", "B"], encoding="cp1252")
    assert list(d.transcript.words["word"]) == ["café", "naïve"]


# ------------------------------------------------------------------ locale and units
@pytest.mark.parametrize(
    "name, text, match",
    [("t.csv", "onset;offset;word;speaker\n0,5;0,9;hi;A\n",
      r"looks semicolon-separated .*read with sep=','; pass sep=';'"),
     ("t.tsv", "onset,offset,word,speaker\n0.5,0.9,hi,A\n",
      r"looks comma-separated .*read with sep='\\t'; pass sep=','")],
)  # fmt: skip
def test_table_with_another_separator(tmp_path, name, text, match):
    f = tmp_path / name
    f.write_text(text)
    with pytest.raises(ValueError, match=match):
        read_transcript(f)


def test_decimal_comma_times(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("onset;offset;word;speaker\n0,5;0,9;hi;A\n")
    msg = r"row 0 \(onset\): expected a finite time in s, got '0,5' \(a decimal comma: write"
    with pytest.raises(TranscriptError, match=msg):
        read_transcript(f, sep=";")


def test_times_in_milliseconds(tmp_path):
    raws = [ha.make_participant_raw(np.zeros((1, 500)), 100.0) for _ in range(2)]  # 5 s
    f = tmp_path / "t.tsv"
    f.write_text("onset\toffset\tword\tspeaker\n500\t900\thi\tA\n1200\t1500\tyes\tB\n")
    with pytest.raises(TranscriptError, match=r"run past the end of the recordings .*the times "
                       r"look like milliseconds \(the last word ends at 1500, 1\.500 s if in "
                       r"ms\)"):  # fmt: skip
        read_dyad(raws, transcript=f, participant_ids=["A", "B"])
