"""The silence watch of the sans-IO core: what is left of the heart-beat tolerance, and when."""

from __future__ import annotations

from stompio._protocol import SilenceWatch

T0 = 1000.0


def test_each_byte_heard_restarts_the_tolerance() -> None:
    watch = SilenceWatch(2.0, T0)
    assert watch.left(T0 + 0.5) == 1.5
    assert not watch.over(T0 + 1.75)
    watch.heard(T0 + 1.75)
    assert watch.left(T0 + 2.5) == 1.25
    assert not watch.over(T0 + 3.5)
    assert watch.over(T0 + 3.75)
    assert watch.left(T0 + 10) == 0.0


def test_without_a_tolerance_nothing_is_watched() -> None:
    watch = SilenceWatch(None, T0)
    assert watch.left(T0 + 1e6) is None
    assert not watch.over(T0 + 1e6)
