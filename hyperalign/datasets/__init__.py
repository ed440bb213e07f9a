"""Embedded datasets: :func:`load_demo`, simulated dyads with known planted effects.

Nothing is downloaded: the demo is generated from the corpus and embeddings shipped in
:mod:`hyperalign.simulation`.
"""

from __future__ import annotations

from ..utils import fill_doc

__all__ = ["load_demo"]


@fill_doc
def load_demo(
    n_dyads: int = 8,
    duration: float = 300.0,
    random_state: int | None = 42,
    *,
    verbose=None,
    **kwargs,
):
    """Load the embedded demo study: simulated EEG hyperscanning conversations.

    Parameters
    ----------
    n_dyads : int
        Number of dyads (default 8).
    duration : float
        Length of each conversation in seconds (default 300).
    random_state : int | None
        Seed (default 42: the same demo every time).
    %(verbose)s
    **kwargs
        Passed to :func:`hyperalign.simulation.simulate_conversation` (e.g. ``n_channels``,
        ``sfreq``, ``audio``, ``null``, effect sizes).

    Returns
    -------
    dyads : list of Dyad
        32-channel EEG at 256 Hz, 16 kHz microphone audio and word-level transcripts.
    truth : hyperalign.simulation.StudyTruth
        The planted utterance-level values and effects.

    See Also
    --------
    hyperalign.simulation.simulate_study : The simulator behind the demo.
    hyperalign.simulation.simulate_conversation : The effect parameters.

    Examples
    --------
    Two short dyads with few channels (the default is 8 dyads of 5 minutes, 32 channels):

    >>> from hyperalign import load_demo
    >>> dyads, truth = load_demo(n_dyads=2, duration=20, n_channels=4, audio=False)
    >>> [d.dyad_id for d in dyads]
    ['demo-01', 'demo-02']
    >>> len(truth)
    2
    """
    from ..simulation import simulate_study

    return simulate_study(
        n_dyads, duration, random_state=random_state, dyad_prefix="demo", verbose=verbose, **kwargs
    )
