"""The scale benchmark's own arithmetic (the benchmark itself runs with ``make bench``)."""

from __future__ import annotations

from bench.scale import peak_step


def test_the_peak_is_in_the_first_step_that_reached_it():
    """Peak resident memory only rises: the step that reached it is the first whose
    running maximum is the last one, not a later step that merely kept it."""
    peaks = {"load": 100, "validate": 500, "link": 900, "households": 900, "outputs": 900}
    assert peak_step(peaks) == "link"
    assert peak_step({"load": 700, "validate": 700}) == "load"
