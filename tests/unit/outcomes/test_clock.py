"""The stream's clock: the slowest partition, never going back."""

from __future__ import annotations

from fraudguard.outcomes.clock import StreamClock


def test_the_clock_waits_for_every_partition_then_follows_the_slowest():
    clock = StreamClock([0, 1, 2])
    for partition, ts in ((0, 100), (1, 50)):
        clock.observe(partition, ts)
    assert clock.now is None  # partition 2 has given nothing and is not at its end
    clock.set_idle(2, True)
    assert clock.now == 50
    clock.observe(1, 400)
    assert clock.now == 100
    clock.observe(0, 300)
    assert clock.now == 300


def test_a_partition_that_caught_up_still_holds_the_clock_which_never_goes_back():
    """In a catch-up, one partition read to its end a moment before the others must not let
    the clock run ahead of the decisions still to come on it."""
    clock = StreamClock([0, 1])
    clock.observe(0, 10)
    clock.observe(1, 90)
    clock.set_idle(0, True)
    assert clock.now == 10
    clock.observe(0, 95)
    assert clock.now == 90
    clock.observe(0, 20)  # out of order on its partition: the clock stays
    assert clock.now == 90


def test_a_saved_clock_goes_on_where_it_stood():
    clock = StreamClock([0, 1], {0: 5, 1: 7}, now=5)
    again = StreamClock.from_dict([0, 1], clock.to_dict())
    again.observe(0, 9)
    assert again.now == 7
