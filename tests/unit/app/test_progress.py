"""What the Train page reads off a job: time left and throughput, hand-computed."""

import pytest

from attention.app.progress import seconds_left, throughput


@pytest.mark.parametrize(
    "args, expected",
    [
        ((2, 5, 40, 100, 25.0, 20.0), 25.0),  # 2 epochs in 20 s: 10 s each, 50 s in all, 25 s gone
        ((0, 5, 30, 100, 15.0, 0.0), 35.0),  # no epoch yet: 30 of 100 steps in 15 s, so 50 s in all
        ((5, 5, 100, 100, 60.0, 60.0), 0.0),  # finished
        ((1, 4, 20, 80, 50.0, 10.0), 0.0),  # slower than the epochs said: never negative
        ((0, 5, 0, 100, 3.0, 0.0), None),  # nothing to go on
    ],
)
def test_seconds_left(args, expected):
    assert seconds_left(*args) == expected


def test_throughput_counts_the_steps_of_the_last_two_seconds():
    times = [0.0, 1.0, 2.0, 3.0, 3.5, 4.0]  # steps of 32 samples
    assert throughput(times, 32) == pytest.approx(32 * 3 / 2.0)  # 3 steps after t = 2.0, in 2 s
    assert throughput([1.0], 32) is None
