"""Renamed modules and functions keep their old import paths for one release."""

from __future__ import annotations


def test_alignment_module_is_semantic_alignment():
    import hyperalign.features as hf
    from hyperalign.features import alignment, semantic_alignment

    for name in ("compute_semantic_alignment", "compute_alignment", "previous_turns"):
        assert getattr(alignment, name) is getattr(semantic_alignment, name)
        assert getattr(hf, name) is getattr(semantic_alignment, name)


def test_old_io_and_align_paths_still_import():
    from hyperalign.align import align_clocks, sync
    from hyperalign.io import read_transcript, transcripts

    assert sync.align_clocks is align_clocks
    assert transcripts.read_transcript is read_transcript
    from hyperalign.io.transcripts import _read_text, read_whisperx_json  # noqa: F401
