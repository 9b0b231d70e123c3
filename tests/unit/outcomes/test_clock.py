"""The stream's clock: the slowest partition still being read, never going back."""

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


def test_all_partitions_at_their_end_give_the_newest_and_the_clock_never_goes_back():
    clock = StreamClock([0, 1])
    clock.observe(0, 10)
    clock.observe(1, 90)
    for partition in (0, 1):
        clock.set_idle(partition, True)
    assert clock.now == 90
    clock.set_idle(0, False)  # partition 0 has news, not yet taken in
    assert clock.now == 90
    clock.observe(0, 20)
    assert clock.now == 90


def test_a_saved_clock_goes_on_where_it_stood():
    clock = StreamClock([0, 1], {0: 5, 1: 7}, now=5)
    again = StreamClock.from_dict([0, 1], clock.to_dict())
    again.observe(0, 9)
    assert again.now == 7
