"""Clock alignment and epochs given bad input: a silent microphone or a flat amplifier
channel is named, trigger times that cannot be a clock are refused, and epochs that do not
fit are counted or refused with the reason."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hyperalign as ha
from hyperalign.align import ClockError, align_by_triggers, align_clocks
from hyperalign.align.epochs import make_utterance_epochs, make_word_epochs

AUDIO_SF = 8000.0
SF = 500.0
DUR = 60.0


def _dyad(silent: str | None = None, flat: str | None = None):
    rng = np.random.default_rng(3)
    parts = []
    for pid in ("A", "B"):
        env = np.abs(rng.standard_normal(int(DUR * 100))) ** 2
        env = np.interp(np.arange(int(DUR * AUDIO_SF)) / AUDIO_SF, np.arange(len(env)) / 100,
                        env)  # fmt: skip
        audio = rng.standard_normal(len(env)) * env * 0.05
        ref = np.interp(np.arange(int(DUR * SF)) / SF, np.arange(len(env)) / AUDIO_SF, env)
        if pid == silent:
            audio = np.zeros_like(audio)
        if pid == flat:
            ref = np.zeros_like(ref)
        data = np.vstack([rng.standard_normal((2, len(ref))) * 1e-6, ref[None]])
        raw = ha.make_participant_raw(data, SF, ["Fz", "Cz", "AUDIO"], ["eeg", "eeg", "misc"])
        parts.append(ha.Participant(pid, raw, audio=audio, audio_sfreq=AUDIO_SF))
    return ha.Dyad(parts, dyad_id="clk")


def test_sync_dyad_audio_with_a_silent_mic_names_it():
    with pytest.raises(ClockError, match=r"dyad 'clk', participant 'B' \(microphone vs channel "
                       r"'AUDIO'\): the microphone audio is silent"):  # fmt: skip
        align_clocks(_dyad(silent="B"), "audio", audio_channel="AUDIO")


def test_sync_dyad_audio_with_a_flat_channel_names_it():
    with pytest.raises(ClockError, match=r"participant 'A' \(microphone vs channel 'AUDIO'\): "
                       r"the reference channel is flat"):  # fmt: skip
        align_clocks(_dyad(flat="A"), "audio", audio_channel="AUDIO")


@pytest.mark.parametrize(
    "ta, match",
    [([1.0, np.nan, 3.0, 4.0], "times_a contains non-finite trigger times"),
     ([1.0], "times_a needs at least 2 trigger times; got 1"),
     ([1.0, 5.0, 3.0, 7.0], r"times_a must increase, but goes back in time at index 2 .*a clock "
                            r"reset\?")],
)  # fmt: skip
def test_trigger_times_that_cannot_be_a_clock(ta, match):
    with pytest.raises(ValueError, match=match):
        align_by_triggers(ta, [1.0, 2.0, 3.0, 4.0])


def _words_dyad():
    utt = pd.DataFrame({"onset": [0.05, 3.0, 6.0, 9.5], "offset": [1.0, 4.0, 7.0, 9.9],
                        "speaker": ["A", "B", "A", "B"],
                        "text": ["hi there", "yes", "ok then", "bye"]})  # fmt: skip
    raws = [ha.make_participant_raw(np.random.default_rng(k).standard_normal((2, 1000)), 100.0)
            for k in range(2)]  # fmt: skip
    return ha.Dyad([ha.Participant("A", raws[0]), ha.Participant("B", raws[1])],
                   ha.Transcript.from_data_frame(utt, kind="utterances"))  # fmt: skip


def test_epochs_past_the_recording_edges_are_counted():
    d = _words_dyad()
    ep = make_utterance_epochs(d, "A", -0.5, 1.0, role="both")
    ex = d.exclusions.to_data_frame()
    row = ex[ex["reason"] == "epoch does not fit in the recording"]
    # the first utterance starts 0.05 s in (no 0.5 s before it), the last ends past 10 s
    assert int(row["n"].sum()) == 2 and len(ep) == 2


def test_epochs_with_tmax_before_tmin():
    with pytest.raises(ValueError, match=r"tmax must be > tmin; got tmin=0.5, tmax=0.1"):
        make_word_epochs(_words_dyad(), "A", 0.5, 0.1)


def test_epochs_when_no_epoch_fits():
    with pytest.raises(ValueError, match=r"no utterance epochs left for 'A' .*edge exclusions: 2"):
        make_utterance_epochs(_words_dyad(), "A", -5.0, 5.0, role="speaker")
